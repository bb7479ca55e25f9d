// A local worker node, planned purely: where it lives (a network namespace joined to this machine by a veth
// pair, a mount namespace in which its own directories sit at the standard paths, a cgroup subtree), the files
// it gets and the processes it runs. The kubelet's settings come from the shared renderer, as on AWS; only the
// facts of this machine are added. cluster.ts delivers the plan (worker/deliver.ts).
import { createHash } from "node:crypto";
import * as path from "node:path";
import { ClusterKeys, ClusterSettings } from "../../../components/cluster";
import type { PlatformRegistry } from "../../../components/cluster-baseline";
import { configFile, fail, key, kubeadmLayout, toYaml } from "../../../components/common";
import { KUBELET_SYSCTLS, NETWORK_DEFAULTS, renderControlPlane } from "../../../components/control-plane";
import { BOOTSTRAP_KUBECONFIG_PATH, CLUSTER_CA_PATH, KUBELET_CONFIG_PATH } from "../../worker-join";
import type { HealthCheck } from "../process";
import type { NodeSandboxSpec } from "./sandbox";
import { kubeRouterHealth, NETWORK_POLICY_POSTURE } from "./network-policy";
import {
    CNI_PLUGINS, KUBE_PROXY_CONFIG_PATH, KUBE_PROXY_HEALTHZ, KUBE_PROXY_KUBECONFIG_PATH, KUBE_ROUTER_KUBECONFIG_PATH, kubeProxyConfiguration, kubeRouterArgv, renderCniConfig,
} from "../../node-network";
import { SERVING_APPROVER_POSTURE } from "../../serving-approver";

/** Where a worker's runtime finds its binaries and images (scripts/lib/toolchain-paths.sh). */
export interface NodeToolchain {
    bin: string;
    cniBin: string;
    images: string;
    /** The images' tag (the hash of their source, stamped by the toolchain). */
    imageTag: string;
}

export const NSENTER = "/usr/bin/nsenter";
/** kube-proxy's nftables mode runs the nft command (Debian's nftables package, which the toolchain installs). */
export const NFT = "/usr/sbin/nft";
export const CONTAINERD_SOCKET = "/run/containerd/containerd.sock";
export const KUBELET_KUBECONFIG_PATH = configFile(kubeadmLayout(), "kubelet");
/**
 * The kubelet's command line, one argument per line, in the node: what its supervisor starts it from, and so
 * what kube-bench's kubelet service file checks (4.1.1, 4.1.2) inspect, as the control plane's args files are.
 */
export const KUBELET_ARGS_PATH = "/etc/kubernetes/kubelet.args";
/** The node's kube-bench config: the stock one with the kubelet's service file pointed at its args file. */
export const KUBE_BENCH_NODE_CONFIG_PATH = "/etc/kubernetes/kube-bench-node.yaml";
/** The node's registry listens on its own loopback: neither this machine nor a Pod can reach it. */
export const REGISTRY_ADDRESS = "127.0.0.1:5000";
/** Images are named localhost/hardened-cluster/<name>:<tag>; containerd resolves "localhost" to the node's registry. */
export const IMAGE_HOST = "localhost";
export const NODE_IMAGES = ["pause", "echo", "coredns"] as const;

/** The workers' registry, for the admission allow-list: nothing but the toolchain's images is ever in it. */
export function nodeRegistries(plan: { workers: LocalWorkerPlan[] }, setting: string): PlatformRegistry[] {
    if (plan.workers.length === 0) return [];
    return [{ registry: IMAGE_HOST, setting, serves: `each worker's own read-only registry, holding only the toolchain-built ${NODE_IMAGES.join(", ")} images` }];
}

/** Directories of the node that are its own: a directory under the node's root, mounted at the standard path. */
export const NODE_DIRS = ["/etc/kubernetes", "/etc/containerd", "/etc/cni/net.d", "/var/lib/kubelet", "/var/lib/containerd", "/var/log/pods", "/var/log/containers", "/run/containerd"] as const;

/** What node-sandbox.sh makes for a worker: its namespaces, link, routes, cgroups and the kubelet's sysctls. */
export function nodeSandboxSpec(w: LocalWorkerPlan, apiPort: number): NodeSandboxSpec {
    return {
        netns: w.netns, root: w.root, vethHost: w.veth.host, vethNode: w.veth.node, hostIp: w.hostIp, nodeIp: w.nodeIp,
        podCidr: w.podCidr, clusterPodCidr: w.clusterPodCidr, linkPrefix: w.linkPrefix, serviceCidr: w.serviceCidr, cgroupRoot: w.cgroupRoot,
        apiPort, apiAddress: w.apiAddress, nodeDirs: [...NODE_DIRS], sysctls: KUBELET_SYSCTLS.map(([k, v]) => `${k}=${v}`),
    };
}

export type WorkerProcessName = "registry" | "containerd" | "kubelet" | "kube-proxy" | "kube-router";
export type WorkerContent = { text: string } | { bootstrapKubeconfig: true } | { kubeProxyKubeconfig: true } | { networkPolicyKubeconfig: true } | { clusterCa: true };


export interface WorkerFile {
    /** The path inside the node; on this machine it is under the node's root. */
    path: string;
    content: WorkerContent;
    mode: number;
    readers: WorkerProcessName[];
}

export interface WorkerProcess {
    name: WorkerProcessName;
    /** What runs inside the node, with its arguments; the platform starts it through nsenter (nodeArgv). */
    argv: string[];
    health: HealthCheck;
    after: WorkerProcessName[];
}

export interface LocalWorkerPlan {
    name: string;
    /** This machine's directory holding the node's own directories (NODE_DIRS) and its run files. */
    root: string;
    netns: string;
    /** The file the node's mount namespace is kept alive by (a bind mount of it). */
    mountNs: string;
    veth: { host: string; node: string };
    /** The address this machine has on the node's link (the API relay listens there), and the node's. */
    hostIp: string;
    nodeIp: string;
    /** The node's Pods' addresses: one /24 of the cluster's Pod CIDR per worker. */
    podCidr: string;
    /** The cluster's Pod CIDR, which the node reaches other nodes' Pods in through this machine. */
    clusterPodCidr: string;
    /** The start of the host-side link names of this stack's workers. */
    linkPrefix: string;
    /** The cluster's Service range: routed to this machine's end of the link, where kube-proxy's rules catch it first. */
    serviceCidr: string;
    cgroupRoot: string;
    /** The API server as the node reaches it: the relay on hostIp, same port. */
    server: string;
    /** The `kubernetes` Service's endpoint address: the first worker's relay, which every node's Pods may reach. */
    apiAddress: string;
    files: WorkerFile[];
    processes: WorkerProcess[];
    kubeletConfig: Record<string, unknown>;
}

/** A short, stable tag of the stack, for names the kernel limits (interfaces: 15 characters). */
export function stackTag(stack: string): string {
    return createHash("sha256").update(stack).digest("hex").slice(0, 6);
}

/**
 * The subnet of a stack's node links: 10.250.X.0/24 with X from the stack's name, so two stacks on one machine
 * rarely meet (the node sandbox refuses an address this machine already has). Worker i takes 10.250.X.(4i)/30.
 */
export function nodeLinkOctet(stack: string): number {
    return parseInt(stackTag(stack).slice(0, 2), 16);
}

/** Worker i's link: this machine's address on it and the node's. */
export function workerLink(stack: string, i: number): { hostIp: string; nodeIp: string } {
    const octet = nodeLinkOctet(stack);
    return { hostIp: `10.250.${octet}.${4 * i + 1}`, nodeIp: `10.250.${octet}.${4 * i + 2}` };
}

export interface WorkerPlanInput {
    stack: string;
    count: number;
    runDir: string;
    apiServerPort: number;
    settings: ClusterSettings;
    keys: ClusterKeys;
    toolchain: NodeToolchain;
}

export function planWorkers(input: WorkerPlanInput): LocalWorkerPlan[] {
    if (input.count === 0) return [];
    const { settings, keys, toolchain } = input;
    const cp = settings.controlPlane ?? {};
    const tag = stackTag(input.stack);
    // The same renderer as the control plane and AWS workers, with a worker's view: kubeadm's paths.
    const render = renderControlPlane({
        ...cp,
        audit: settings.audit,
        network: { ...cp.network, advertiseAddress: "127.0.0.1", etcdMembers: [{ name: "etcd", ip: "127.0.0.1" }] },
    }, kubeadmLayout(), keys.controlPlane);
    const base = render.kubelet.config;
    if (base.serverTLSBootstrap !== true) {
        fail(key(keys.controlPlane, "kubelet", "servingCert"), NOT_BOOTSTRAP, "local workers get their serving certificate through serverTLSBootstrap; remove the setting or use \"bootstrap\"");
    }
    const endpoint = base.containerRuntimeEndpoint ?? `unix://${CONTAINERD_SOCKET}`;
    if (endpoint !== `unix://${CONTAINERD_SOCKET}`) {
        fail(key(keys.controlPlane, "kubelet", "containerRuntimeEndpoint"), endpoint, `local workers run containerd on unix://${CONTAINERD_SOCKET}; use it`);
    }
    // The renderer's default is systemd's driver (what a machine booted by systemd wants); a local worker's
    // cgroups are its own subtree of this machine's, which no systemd manages.
    const asked = cp.kubelet?.cgroupDriver;
    if (asked !== undefined && asked !== "cgroupfs") fail(key(keys.controlPlane, "kubelet", "cgroupDriver"), asked, "local workers have no systemd to manage their cgroups; use \"cgroupfs\" or leave it unset");
    const driver = "cgroupfs";
    // Validated by the renderer above; each worker takes the next /24 of it.
    const podCidr = cp.network?.podCidr ?? NETWORK_DEFAULTS.podCidr;
    const [podNet, podBits] = podCidr.split("/");
    const podBase = podNet.split(".").map(Number);
    if (podBase.length !== 4 || Number(podBits) > 24 - Math.ceil(Math.log2(input.count)) || podBase[2] + input.count > 256) {
        fail(key(keys.controlPlane, "network", "podCidr"), podCidr, `local workers take one /24 each: use an IPv4 range of at least ${input.count} /24s, such as 10.244.0.0/16`);
    }

    const serviceCidr = cp.network?.serviceCidr ?? NETWORK_DEFAULTS.serviceCidr;
    return Array.from({ length: input.count }, (_, i): LocalWorkerPlan => {
        const name = `worker-${i + 1}`;
        const root = path.join(input.runDir, "workers", name);
        const { hostIp, nodeIp } = workerLink(input.stack, i);
        const cgroupRoot = `/hardened-cluster-${tag}-${name}`;
        const kubeletConfig = {
            ...base,
            containerRuntimeEndpoint: `unix://${CONTAINERD_SOCKET}`,
            cgroupDriver: "cgroupfs",
            // The node's Pods live in their own cgroup subtree, so they never mix with this machine's.
            cgroupRoot,
            // This machine may run cgroup v1, which the kubelet refuses unless told it is expected.
            failCgroupV1: false,
        };
        const registry = `${toolchain.bin}/hc-registry`;
        const ns = { netns: `hc-${tag}-${name}`, mountNs: path.join(root, "mnt.ns") };
        // Health checks run on this machine: they enter the node's namespaces to probe what listens on its loopback.
        const probe = (url: string): HealthCheck => ({ kind: "command", argv: nodeArgv(ns, [registry, `-probe=${url}`]) });
        const ownPodCidr = `${podBase[0]}.${podBase[1]}.${podBase[2] + i}.0/24`;
        const files: WorkerFile[] = [
            { path: KUBELET_CONFIG_PATH, content: { text: toYaml(kubeletConfig) }, mode: 0o600, readers: ["kubelet"] },
            { path: BOOTSTRAP_KUBECONFIG_PATH, content: { bootstrapKubeconfig: true }, mode: 0o600, readers: ["kubelet"] },
            { path: CLUSTER_CA_PATH, content: { clusterCa: true }, mode: 0o644, readers: ["kubelet"] },
            { path: "/etc/containerd/config.toml", content: { text: renderContainerdConfig(toolchain, driver) }, mode: 0o600, readers: ["containerd"] },
            { path: `/etc/containerd/certs.d/${IMAGE_HOST}/hosts.toml`, content: { text: renderRegistryHosts() }, mode: 0o600, readers: ["containerd"] },
            { path: "/etc/cni/net.d/10-hardened-cluster.conflist", content: { text: renderCniConfig(ownPodCidr) }, mode: 0o600, readers: ["containerd"] },
            { path: KUBE_PROXY_KUBECONFIG_PATH, content: { kubeProxyKubeconfig: true }, mode: 0o600, readers: ["kube-proxy"] },
            { path: KUBE_PROXY_CONFIG_PATH, content: { text: toYaml(kubeProxyConfiguration({ clusterCidr: podCidr, node: name, hostConntrack: true })) }, mode: 0o600, readers: ["kube-proxy"] },
            { path: KUBE_ROUTER_KUBECONFIG_PATH, content: { networkPolicyKubeconfig: true }, mode: 0o600, readers: ["kube-router"] },
        ];
        const processes: WorkerProcess[] = [
            {
                name: "registry", argv: [registry, `-listen=${REGISTRY_ADDRESS}`, ...NODE_IMAGES.map((n) => path.join(toolchain.images, `${n}.tar`))],
                health: probe(`http://${REGISTRY_ADDRESS}/v2/`), after: [],
            },
            {
                name: "containerd", argv: [`${toolchain.bin}/containerd`, "--config=/etc/containerd/config.toml"],
                health: { kind: "unix", path: path.join(root, CONTAINERD_SOCKET) }, after: ["registry"],
            },
            {
                name: "kubelet",
                argv: [`${toolchain.bin}/kubelet`, `--config=${KUBELET_CONFIG_PATH}`, `--kubeconfig=${KUBELET_KUBECONFIG_PATH}`,
                    `--bootstrap-kubeconfig=${BOOTSTRAP_KUBECONFIG_PATH}`, `--node-ip=${nodeIp}`, `--hostname-override=${name}`],
                health: probe("http://127.0.0.1:10248/healthz"), after: ["containerd"],
            },
            {
                name: "kube-proxy", argv: [`${toolchain.bin}/kube-proxy`, `--config=${KUBE_PROXY_CONFIG_PATH}`],
                health: probe(`http://${KUBE_PROXY_HEALTHZ}/livez`), after: ["kubelet"],
            },
            // It reads its own Node object at start, which the kubelet registers; until then it exits and is restarted.
            { name: "kube-router", argv: kubeRouterArgv(toolchain.bin, serviceCidr, name), health: kubeRouterHealth(probe), after: ["kubelet"] },
        ];
        return {
            name, root, ...ns,
            veth: { host: `hc${tag}h${i + 1}`, node: `hc${tag}n${i + 1}` }, linkPrefix: `hc${tag}h`,
            hostIp, nodeIp, podCidr: ownPodCidr, clusterPodCidr: podCidr, serviceCidr, cgroupRoot, server: `https://${hostIp}:${input.apiServerPort}`, apiAddress: workerLink(input.stack, 0).hostIp, files, processes, kubeletConfig,
        };
    });
}

const NOT_BOOTSTRAP = "(a certificate file)";

/** The argv that runs `p` inside its node: nsenter joins the node's network and mount namespaces, then execs. */
export function nodeArgv(w: Pick<LocalWorkerPlan, "netns" | "mountNs">, argv: string[]): string[] {
    return [NSENTER, `--net=/run/netns/${w.netns}`, `--mount=${w.mountNs}`, "--", ...argv];
}

/** kube-bench's stock config with the node's kubelet "service file" being the file its command line is in. */
export function kubeBenchNodeConfig(stock: Record<string, unknown>): Record<string, unknown> {
    const node = { ...(stock.node as Record<string, unknown>) };
    node.kubelet = { ...(node.kubelet as Record<string, unknown>), svc: [KUBELET_ARGS_PATH], defaultsvc: KUBELET_ARGS_PATH };
    node.proxy = { ...(node.proxy as Record<string, unknown>), kubeconfig: [KUBE_PROXY_KUBECONFIG_PATH], defaultkubeconfig: KUBE_PROXY_KUBECONFIG_PATH, confs: [KUBE_PROXY_CONFIG_PATH], defaultconf: KUBE_PROXY_CONFIG_PATH };
    return { ...stock, node };
}

/** containerd's config (format version 3, containerd 2.x). */
export function renderContainerdConfig(toolchain: NodeToolchain, driver: "systemd" | "cgroupfs"): string {
    return [
        "# Written by hardened-cluster for a local worker node.",
        "version = 3",
        "root = \"/var/lib/containerd\"",
        "state = \"/run/containerd\"",
        "",
        "[grpc]",
        `  address = "${CONTAINERD_SOCKET}"`,
        "",
        "[plugins.'io.containerd.cri.v1.images'.pinned_images]",
        `  sandbox = "${IMAGE_HOST}/hardened-cluster/pause:${toolchain.imageTag}"`,
        "",
        "[plugins.'io.containerd.cri.v1.images'.registry]",
        "  config_path = \"/etc/containerd/certs.d\"",
        "",
        "[plugins.'io.containerd.cri.v1.runtime']",
        "  # This machine may withhold CAP_SYS_RESOURCE from root: without this every Pod sandbox fails to start.",
        "  restrict_oom_score_adj = true",
        "",
        "[plugins.'io.containerd.cri.v1.runtime'.cni]",
        `  bin_dirs = ["${toolchain.cniBin}"]`,
        "  conf_dir = \"/etc/cni/net.d\"",
        "",
        "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]",
        "  runtime_type = \"io.containerd.runc.v2\"",
        "",
        "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]",
        `  BinaryName = "${toolchain.bin}/runc"`,
        `  SystemdCgroup = ${driver === "systemd"}`,
        "",
    ].join("\n");
}

/** "localhost" images come from the node's own registry, over plain HTTP on its loopback, pull only. */
export function renderRegistryHosts(): string {
    return [`server = "http://${REGISTRY_ADDRESS}"`, "", `[host."http://${REGISTRY_ADDRESS}"]`, "  capabilities = [\"pull\", \"resolve\"]", ""].join("\n");
}

/** Every file a worker needs from the toolchain and this machine; cluster.ts refuses to start without one. */
export function workerSources(plan: { workers: LocalWorkerPlan[]; nodeToolchain: NodeToolchain }): string[] {
    if (plan.workers.length === 0) return [];
    const t = plan.nodeToolchain;
    return [
        NSENTER, NFT,
        ...["containerd", "containerd-shim-runc-v2", "runc", "kubelet", "kube-proxy", "kube-router", "hc-registry", "haproxy"].map((b) => path.join(t.bin, b)),
        ...CNI_PLUGINS.map((b) => path.join(t.cniBin, b)),
        ...NODE_IMAGES.map((n) => path.join(t.images, `${n}.tar`)),
    ];
}

/** What the posture says of the workers. */
export function workerPosture(plan: { workers: LocalWorkerPlan[] }): Record<string, unknown> | undefined {
    if (plan.workers.length === 0) return undefined;
    return {
        nodes: plan.workers.map((w) => ({ name: w.name, address: w.nodeIp, podCidr: w.podCidr })),
        runtime: "containerd + runc (seccomp), images from the node's own read-only registry",
        networkPolicyEnforcement: NETWORK_POLICY_POSTURE,
        servingCertificates: SERVING_APPROVER_POSTURE,
        dns: "CoreDNS in kube-system (k8s-app: kube-dns), non-root, answering the cluster domain only",
        egress: "none beyond this machine: the node has no default route, and this machine accepts only the API relay's port from it and forwards nothing",
    };
}
