// A worker node's sandbox as a Pulumi resource (the work is node-sandbox.sh's): created before the node's files
// and processes, deleted after them, so `pulumi destroy` ends with nothing of the node left on this machine: no
// process, container, namespace, mount, cgroup, interface or firewall rule. Any change replaces it, so the node
// restarts from scratch. Serialized into the state like the other providers: helpers are methods, and the
// script's path is a string computed when this module loads.
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";

export interface NodeSandboxSpec {
    netns: string;
    root: string;
    vethHost: string;
    vethNode: string;
    hostIp: string;
    nodeIp: string;
    podCidr: string;
    /** The cluster's whole Pod range: every node's Pods, which this machine forwards between node links. */
    clusterPodCidr: string;
    /** The start of every host-side link name of this stack's nodes (forwarding goes only to those). */
    linkPrefix: string;
    serviceCidr: string;
    cgroupRoot: string;
    apiPort: number;
    apiAddress: string;
    nodeDirs: string[];
    /** key=value pairs the kubelet requires. */
    sysctls: string[];
}

interface SandboxProvider extends pulumi.dynamic.ResourceProvider<NodeSandboxSpec, NodeSandboxSpec> {
    script: string;
    run(verb: "up" | "down", spec: NodeSandboxSpec): void;
}

const sandboxProvider: SandboxProvider = {
    script: path.join(__dirname, "node-sandbox.sh"),

    async create(spec: NodeSandboxSpec) {
        sandboxProvider.run("up", spec);
        return { id: spec.netns, outs: spec };
    },

    async diff(_id: string, olds: NodeSandboxSpec, news: NodeSandboxSpec) {
        const changed = (Object.keys(news) as (keyof NodeSandboxSpec)[]).filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
        return { changes: changed.length > 0, replaces: changed, deleteBeforeReplace: true };
    },

    async delete(_id: string, state: NodeSandboxSpec) {
        sandboxProvider.run("down", state);
    },

    run(verb: "up" | "down", spec: NodeSandboxSpec) {
        const cp: typeof import("node:child_process") = require("node:child_process");
        const env = {
            PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
            HC_NETNS: spec.netns, HC_ROOT: spec.root, HC_VETH_HOST: spec.vethHost, HC_VETH_NODE: spec.vethNode,
            HC_HOST_IP: spec.hostIp, HC_NODE_IP: spec.nodeIp, HC_POD_CIDR: spec.podCidr, HC_CLUSTER_POD_CIDR: spec.clusterPodCidr, HC_LINK_PREFIX: spec.linkPrefix, HC_SERVICE_CIDR: spec.serviceCidr, HC_CGROUP_ROOT: spec.cgroupRoot,
            HC_API_PORT: String(spec.apiPort), HC_API_ADDRESS: spec.apiAddress, HC_NODE_DIRS: spec.nodeDirs.join(" "), HC_SYSCTLS: spec.sysctls.join(" "),
        };
        const res = cp.spawnSync("bash", [sandboxProvider.script, verb], { env, encoding: "utf8", timeout: 120_000 });
        if (res.status !== 0) throw new Error(`worker node ${spec.netns}: sandbox ${verb} failed: ${(res.stderr || String(res.error ?? "")).trim().slice(-2000)}`);
    },
};

export class NodeSandbox extends pulumi.dynamic.Resource {
    constructor(name: string, args: { [K in keyof NodeSandboxSpec]: pulumi.Input<NodeSandboxSpec[K]> }, opts?: pulumi.CustomResourceOptions) {
        super(sandboxProvider, name, args, opts, "hardened-cluster", "LocalNodeSandbox");
    }
}

export { sandboxProvider };
