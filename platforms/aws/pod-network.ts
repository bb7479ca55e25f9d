// The Pods' network between AWS workers: flannel, VXLAN between the workers' addresses, each node's Pods on a
// bridge in the range the controller manager allocated to its Node (containerd writes that bridge's CNI
// configuration from containerd.ts's template). kube-router enforces NetworkPolicy on top (node-network.ts).
//
// Why flannel, and why this way:
//  - Of the overlays the Go module proxy serves, it is the one that neither runs a control plane of its own nor
//    opens an API port: kube-router's routing would bind GoBGP's unauthenticated gRPC API to the node's address.
//  - VXLAN, because a VPC carries UDP between the workers' security group (workers-in-all) and the kernel
//    module ships with every distribution kernel; VPC routes per node would need a controller with EC2 write
//    access.
//  - flanneld runs as a unit of the node with the kubelet's own credential (system:node:<name>, which the
//    kubelet rotates): NodeRestriction lets it patch only its own Node's status, where a credential of its own
//    would have to be shared by every worker and could rewrite any Node's VXLAN endpoint. Since Kubernetes 1.32
//    the Node authorizer lets a node read only its own Node object, and flannel must read all of them (the other
//    nodes' endpoints and ranges): podNetworkRbac grants exactly that read to the nodes' group.
import * as path from "node:path";
import { groupClusterRole, UserRole } from "../user-role";
import { AWS_BIN_DIR } from "./binaries";
import type { NodeFile } from "./node-software";
import { renderSysctlFile, SYSCTL_BIN } from "./sysctl";
import type { UnitSpec } from "./systemd";

export const FLANNEL_UNIT = "flanneld";
export const FLANNEL_NET_CONF_PATH = "/etc/kubernetes/flannel-net-conf.json";
/** Where flanneld writes the node's lease (its subnet and MTU); nothing here reads it, flannel's CNI plugin would. */
export const FLANNEL_SUBNET_FILE = "/run/flannel/subnet.env";
/** The VXLAN port flannel uses by default, which the Linux kernel also assigns to VXLAN (IANA's is 4789). */
export const FLANNEL_VXLAN_PORT = 8472;
export const FLANNEL_VNI = 1;
export const POD_NETWORK_SYSCTL_PATH = "/etc/sysctl.d/90-pod-network.conf";
export const POD_NETWORK_MODULES_PATH = "/etc/modules-load.d/pod-network.conf";
/** kmod's modprobe, at this path on Amazon Linux 2023 and Debian. */
export const MODPROBE_BIN = "/usr/sbin/modprobe";

/** Kernel settings a node's Pods need, with why; per network namespace, so each node sets its own. */
export const POD_NETWORK_SYSCTLS: readonly (readonly [string, string, string])[] = [
    ["net.ipv4.ip_forward", "1", "the node routes its Pods' packets: to other nodes through flannel.1, out through its own address"],
    ["net.bridge.bridge-nf-call-iptables", "1", "packets between two Pods of one bridge pass kube-proxy's and kube-router's rules (Services, NetworkPolicy)"],
];
/** The module behind net.bridge.*: loaded at every boot, and by the unit before it applies the settings. */
export const POD_NETWORK_MODULES = ["br_netfilter"] as const;

/** flannel's network configuration: the cluster's Pod range, VXLAN, IPv4 only. */
export function flannelNetConf(podCidr: string): Record<string, unknown> {
    return { Network: podCidr, EnableIPv4: true, EnableIPv6: false, Backend: { Type: "vxlan", VNI: FLANNEL_VNI, Port: FLANNEL_VXLAN_PORT } };
}

export function renderPodNetworkSysctls(): string {
    return renderSysctlFile("the Pod network's kernel settings.", POD_NETWORK_SYSCTLS);
}

export function renderPodNetworkModules(): string {
    return ["# Written by hardened-cluster: net.bridge.* settings need this module.", ...POD_NETWORK_MODULES, ""].join("\n");
}

/** The files flanneld's unit reads (public, root's, 0644): its network, and the kernel settings it applies first. */
export function podNetworkFiles(podCidr: string): NodeFile[] {
    return [
        { path: FLANNEL_NET_CONF_PATH, content: `${JSON.stringify(flannelNetConf(podCidr), null, 2)}\n`, mode: 0o644 },
        { path: POD_NETWORK_SYSCTL_PATH, content: renderPodNetworkSysctls(), mode: 0o644 },
        { path: POD_NETWORK_MODULES_PATH, content: renderPodNetworkModules(), mode: 0o644 },
    ];
}

/**
 * flanneld with the kube subnet manager: each node's lease is its Node's podCIDR. `--ip-masq` masquerades what
 * Pods send outside the Pod range and nothing between Pods, so a NetworkPolicy sees the sending Pod's address.
 * Its health endpoint stays off (no port opens); the node name is the host name, as the kubelet registers it.
 */
export function flannelUnit(kubeletKubeconfig: string, after: string[]): UnitSpec {
    return {
        name: FLANNEL_UNIT,
        description: "Pod network between nodes (flannel, VXLAN)",
        execStart: [
            path.join(AWS_BIN_DIR, "flanneld"),
            "--kube-subnet-mgr",
            `--kubeconfig-file=${kubeletKubeconfig}`,
            `--net-config-path=${FLANNEL_NET_CONF_PATH}`,
            `--subnet-file=${FLANNEL_SUBNET_FILE}`,
            "--ip-masq",
            "--healthz-port=0",
        ],
        environment: { NODE_NAME: "%H" },
        // The module may be built into the kernel, or modprobe missing: the settings that follow are the check.
        execStartPre: [
            ...POD_NETWORK_MODULES.map((m) => ({ argv: [MODPROBE_BIN, m], mayFail: true })),
            { argv: [SYSCTL_BIN, "-p", POD_NETWORK_SYSCTL_PATH] },
        ],
        after,
    };
}

/** The group every kubelet's client certificate names (kubelet TLS bootstrapping). */
export const NODES_GROUP = "system:nodes";

/**
 * Reading every Node, for flanneld acting as its node; nothing else. It adds nothing a thief of a worker would
 * lack: the enforcer's credential on every worker reads all Nodes already (node-network.ts).
 */
export function podNetworkRbac(): UserRole {
    return groupClusterRole("hardened-cluster:pod-network", NODES_GROUP, [{ apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch"] }]);
}
