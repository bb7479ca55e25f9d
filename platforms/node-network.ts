// What a worker runs beside its kubelet so Services and NetworkPolicies work, on every platform: kube-proxy
// (nftables mode) and kube-router's firewall controller, each a process on the node with a client certificate
// of its own, so no Pod needs host networking or privileges for either.
//
// Of the NetworkPolicy enforcers the Go module proxy serves, kube-router is the one an ordinary kernel runs
// (iptables and ipset; no eBPF, no nft queue, no IPVS). Advisories against the pinned v2.1.0, and why they
// leave these nodes alone:
//  - GHSA-phqm-jgc3-qf8g (CVE-2026-32254, fixed in v2.8.0): the service proxy trusts Services' externalIPs and
//    loadBalancer IPs. Here the service proxy is off (kube-proxy serves Services).
//  - GHSA-v5mh-h5hx-7v92: the routing controller's GoBGP API listens on the node's address without
//    authentication. Here the routing controller is off, so GoBGP never starts.
// Both controllers are off on the command line below; the tests check that nothing listens on GoBGP's port.
// The Go standard library is this toolchain's own Go, not the one v2.1.0 shipped with.
import { UserRole, userClusterRole } from "./user-role";

/** kube-proxy's kubeconfig (its own client certificate, system:kube-proxy) and its configuration file. */
export const KUBE_PROXY_KUBECONFIG_PATH = "/etc/kubernetes/kube-proxy.conf";
export const KUBE_PROXY_CONFIG_PATH = "/etc/kubernetes/kube-proxy-config.yaml";
export const KUBE_PROXY_HEALTHZ = "127.0.0.1:10256";
/** kube-proxy's nftables table (knftables names it after the proxy). */
export const KUBE_PROXY_NFT_TABLE = "kube-proxy";

export const KUBE_ROUTER_KUBECONFIG_PATH = "/etc/kubernetes/kube-router.conf";
/** kube-router's health endpoint; it binds every address of the node (there is no flag for one). */
export const KUBE_ROUTER_HEALTH_PORT = 20244;
/** GoBGP's API port, which only the (disabled) routing controller opens. */
export const GOBGP_API_PORT = 50051;
/** The user the enforcer's client certificate names (pki.networkPolicyClient). */
export const NETWORK_POLICY_USER = "hardened-cluster:network-policy";

export interface KubeProxySettings {
    /** The cluster's Pod range: traffic from outside it to a Service is masqueraded. */
    clusterCidr: string;
    /** The node's name, when it is not the host name (a local worker shares this machine's). */
    node?: string;
    /**
     * Leave the conntrack table's size and timeouts alone: a local worker shares this machine's kernel, whose
     * table is not the node's to size. A node of its own lets kube-proxy size it (its defaults).
     */
    hostConntrack: boolean;
}

/**
 * kube-proxy in nftables mode: its rules live in a table of their own, so kube-router, which rewrites the
 * iptables filter table whole on every sync, can never drop them (in iptables mode the two raced, and a lost
 * KUBE-SERVICES chain left Services dead). Its metrics and health endpoints stay on the node's loopback
 * (CIS 4.3.1).
 */
export function kubeProxyConfiguration(s: KubeProxySettings): Record<string, unknown> {
    return {
        apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
        kind: "KubeProxyConfiguration",
        clientConnection: { kubeconfig: KUBE_PROXY_KUBECONFIG_PATH },
        mode: "nftables",
        clusterCIDR: s.clusterCidr,
        ...(s.node !== undefined ? { hostnameOverride: s.node } : {}),
        // NodePorts on the node's primary address only: not on its loopback or any other interface.
        nodePortAddresses: ["primary"],
        metricsBindAddress: "127.0.0.1:10249",
        healthzBindAddress: KUBE_PROXY_HEALTHZ,
        ...(s.hostConntrack ? { conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: "0s", tcpCloseWaitTimeout: "0s" } } : {}),
    };
}

/**
 * kube-router's command line: the firewall controller and nothing else. Services stay kube-proxy's, routes
 * the node's own; IPv6 is off. Without `node` it finds its Node by the host name, as the kubelet names it.
 */
export function kubeRouterArgv(bin: string, serviceCidr: string, node?: string): string[] {
    return [
        `${bin}/kube-router`,
        `--kubeconfig=${KUBE_ROUTER_KUBECONFIG_PATH}`,
        ...(node !== undefined ? [`--hostname-override=${node}`] : []),
        "--run-firewall=true",
        "--run-router=false",
        "--run-service-proxy=false",
        "--run-loadbalancer=false",
        "--enable-ipv4=true",
        "--enable-ipv6=false",
        `--service-cluster-ip-range=${serviceCidr}`,
        `--health-port=${KUBE_ROUTER_HEALTH_PORT}`,
        "--metrics-port=0",
    ];
}

/**
 * What the firewall controller reads, and nothing it could change: it watches Pods, Namespaces, Nodes,
 * Services, Endpoints and NetworkPolicies to build its rules. Granted to the enforcer's own user.
 */
export function networkPolicyRbac(): UserRole {
    const read = ["get", "list", "watch"];
    return userClusterRole("hardened-cluster:network-policy", NETWORK_POLICY_USER, [
        { apiGroups: [""], resources: ["pods", "namespaces", "nodes", "services", "endpoints"], verbs: read },
        { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: read },
        { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: read },
    ]);
}

export const NETWORK_POLICY_POSTURE = "kube-router (firewall controller only; its service proxy and BGP routing, which the advisories against the pinned version concern, are off): every node filters its Pods' traffic by the stored NetworkPolicies";

/**
 * The Pods' network on a node: a bridge, its Pods' gateway, with host-local handing out the node's own range.
 * `mtu` leaves room for an overlay's header when Pods of different nodes talk through one.
 */
export function renderCniConfig(podCidr: string, mtu?: number): string {
    return `${JSON.stringify({
        cniVersion: "1.0.0",
        name: "hardened-cluster",
        plugins: [
            {
                type: "bridge", bridge: "cni0", isGateway: true, ipMasq: false, hairpinMode: true, ...(mtu !== undefined ? { mtu } : {}),
                ipam: { type: "host-local", ranges: [[{ subnet: podCidr }]], routes: [{ dst: "0.0.0.0/0" }] },
            },
            { type: "portmap", capabilities: { portMappings: true } },
        ],
    }, null, 2)}\n`;
}

/** The CNI plugins that configuration calls. */
export const CNI_PLUGINS = ["bridge", "host-local", "loopback", "portmap"] as const;
