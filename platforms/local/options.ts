// Where the local platform puts things and which loopback ports it uses: everything else comes from the
// components. Two layouts: "system" uses kubeadm's paths (/etc/kubernetes, /var/lib/etcd) and runs etcd as a
// dedicated user, which the CIS file checks expect; "user" keeps everything in one state directory per stack
// for an unprivileged user. "auto" picks "system" when running as root.
import { execFileSync } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { fail, FileLayout, key, knownKeys, kubeadmLayout, oneOf, port, stateDirLayout } from "../../components/common";
import { fileProvider } from "./file";
import { workerLink } from "./worker/plan";

export const LAYOUTS = ["auto", "user", "system"] as const;
export const TOPOLOGIES = ["single", "ha"] as const;
export type Topology = (typeof TOPOLOGIES)[number];

export interface LocalPorts {
    apiServer: number;
    etcdClient: number;
    etcdPeer: number;
    controllerManager: number;
    scheduler: number;
}

export const DEFAULT_PORTS: LocalPorts = {
    apiServer: 6443,
    etcdClient: 2379,
    etcdPeer: 2380,
    controllerManager: 10257,
    scheduler: 10259,
};

export interface LocalOptions {
    layout?: (typeof LAYOUTS)[number];
    /** User layout: the state directory (default ~/.local/state/hardened-cluster/<stack>). */
    stateDir?: string;
    ports?: Partial<LocalPorts>;
    /** System layout: the user etcd runs as (created if missing; never root). */
    etcdUser?: string;
    /** Destroy also deletes etcd's data and the audit logs (default false: they survive a destroy). */
    purgeOnDestroy?: boolean;
    /**
     * "single" (default): one node runs everything on 127.0.0.1. "ha": two control-plane nodes and an
     * etcd-only member on 127.0.0.11-13 (three etcd members, two apiservers), behind a balancer on 127.0.0.1.
     */
    topology?: Topology;
    /**
     * The local KMS v2 plugin's key-encryption keys (used only by encryption keys with provider "kms"), oldest
     * first: the last one wraps new data keys, the others still unwrap. Appending a new id rotates the KEK
     * without a restart; the next up rewrites everything under it. Default ["kek1"].
     */
    kmsKeyIds?: string[];
    /**
     * Worker nodes (at most 4; single topology): a kubelet and kube-proxy with containerd and runc in network and mount
     * namespaces of their own on this machine, joining with a bootstrap token. Needs root. Default 1 where a node can
     * run (root, the system layout, the single topology), else 0 with a warning that names this key.
     */
    workers?: number;
}

/** One node of the local cluster: its address, its own files and its run files (arguments, logs). */
export interface LocalNode {
    name: string;
    ip: string;
    etcdOnly: boolean;
    layout: FileLayout;
    /** Directory of the files only etcd reads on this node. */
    etcdServerPkiDir: string;
    /** Per-node arguments, logs and kube-bench config. */
    runDir: string;
    /** Controller-manager and scheduler ports: they bind 127.0.0.1 (CIS 1.3.7, 1.4.2), so each node needs its own. */
    ports: { controllerManager: number; scheduler: number };
}
export interface ResolvedLocal {
    layoutKind: "user" | "system";
    layout: FileLayout;
    /** Per-stack working files that are not part of the kubeadm layout: logs, pid files, process args. */
    runDir: string;
    /** Directory of the files only etcd reads (root:etcd 0750 in the system layout). */
    etcdServerPkiDir: string;
    ports: LocalPorts;
    etcdUser?: string;
    address: string;
    /** User layout: the normalised state directory, and whether it is this stack's default one. */
    stateDir?: string;
    defaultStateDir?: boolean;
    purgeOnDestroy: boolean;
    topology: Topology;
    /** The nodes, control-plane nodes first; "single" has one, whose files are the layout above. */
    nodes: LocalNode[];
    /** "ha": where the balancer listens (the cluster endpoint). */
    balancer?: { address: string; port: number };
    /** The local KMS v2 plugin: its socket, its keys file and its KEK ids (current last). */
    kms: { socket: string; keysFile: string; keyIds: string[] };
    /** How many worker nodes run (worker/plan.ts plans them). */
    workers: number;
    /** Why the default gave no worker (no root, the user layout, the ha topology), naming the key; unset when the stack set it. */
    noWorkerWarning?: string;
    /** This machine's address on each worker's link: the API relay listens there, so the API certificate names it. */
    workerHostIps: string[];
}

const KNOWN = ["layout", "stateDir", "ports", "etcdUser", "purgeOnDestroy", "topology", "kmsKeyIds", "workers"];
/** Each worker is a whole node on this machine (kubelet, containerd, kube-proxy, kube-router): a few suffice. */
export const WORKERS_MAX = 4;

/** The "ha" topology's nodes: two control-plane nodes and an etcd-only third member. */
export const HA_NODES = [
    { name: "control-plane-1", ip: "127.0.0.11", etcdOnly: false },
    { name: "control-plane-2", ip: "127.0.0.12", etcdOnly: false },
    { name: "etcd-3", ip: "127.0.0.13", etcdOnly: true },
] as const;
export const SINGLE_NODE = "control-plane";

/** How the ha balancer checks each apiserver's /readyz, and the timings of a restart that follow from it. */
export const HA_BALANCER_CHECK = { intervalMs: 500, fall: 2, rise: 2 } as const;
/** After SIGTERM an apiserver leaves the rotation within fall x interval plus one check's timeout (2 s); it keeps serving longer. */
export const HA_SHUTDOWN_DELAY_SECONDS = 5;
/** A ready apiserver is back in rotation within rise x interval; the next one restarts only after that and two more checks. */
export const HA_SETTLE_SECONDS = 3;

export function resolveLocal(options: LocalOptions | undefined, stack: string, configKey = "local", isRoot = isRunningAsRoot()): ResolvedLocal {
    const o = options ?? {};
    knownKeys(configKey, o, KNOWN);
    const wanted = oneOf(key(configKey, "layout"), o.layout ?? "auto", LAYOUTS);
    const layoutKind = wanted === "auto" ? (isRoot ? "system" : "user") : wanted;
    if (layoutKind === "system" && !isRoot) {
        fail(key(configKey, "layout"), "system", "the system layout writes /etc/kubernetes and needs root; use \"user\" or \"auto\"");
    }
    if (layoutKind === "system" && o.stateDir !== undefined) {
        fail(key(configKey, "stateDir"), o.stateDir, "stateDir applies to the user layout only; remove it or set layout: user");
    }
    knownKeys(key(configKey, "ports"), o.ports, Object.keys(DEFAULT_PORTS));
    const ports = { ...DEFAULT_PORTS };
    for (const [name, value] of Object.entries(o.ports ?? {})) ports[name as keyof LocalPorts] = port(key(configKey, "ports", name), value);
    const seen = new Map<number, string>();
    for (const [name, value] of Object.entries(ports)) {
        const other = seen.get(value);
        if (other) fail(key(configKey, "ports", name), value, `each port must differ; ${other} uses it too`);
        seen.set(value, name);
    }
    if (o.stateDir !== undefined && (typeof o.stateDir !== "string" || !path.isAbsolute(o.stateDir) || /[\0-\x1f]/.test(o.stateDir))) {
        fail(key(configKey, "stateDir"), o.stateDir, "use an absolute path");
    }
    const etcdUser = o.etcdUser ?? "etcd";
    if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(etcdUser)) fail(key(configKey, "etcdUser"), etcdUser, "use a system user name such as etcd");
    if (etcdUser === "root" || uidOf(etcdUser) === 0) {
        fail(key(configKey, "etcdUser"), etcdUser, "etcd must not run as root (CIS 1.1.12 wants its own user); use a dedicated user such as etcd");
    }
    if (o.purgeOnDestroy !== undefined && typeof o.purgeOnDestroy !== "boolean") {
        fail(key(configKey, "purgeOnDestroy"), o.purgeOnDestroy, "use true or false");
    }
    const purgeOnDestroy = o.purgeOnDestroy ?? false;
    const topology = oneOf(key(configKey, "topology"), o.topology ?? "single", TOPOLOGIES);
    const kmsKeyIds = resolveKmsKeyIds(key(configKey, "kmsKeyIds"), o.kmsKeyIds);
    // A node needs root, kubeadm's paths and (for now) the single topology: where it cannot run, the default is a
    // control plane alone, said in a warning; asking for a worker there is an error.
    const noWorkerReason = layoutKind !== "system"
        ? "a worker node needs root (network and mount namespaces, cgroups, the kubelet's sysctls) and the system layout"
        : topology === "ha" ? "the ha topology runs no worker yet: its Pods could not reach the API servers (their loopback addresses), so the cluster's DNS could not start" : undefined;
    const workers = o.workers ?? (noWorkerReason === undefined ? 1 : 0);
    if (!Number.isInteger(workers) || workers < 0) fail(key(configKey, "workers"), workers, `use a whole number from 0 to ${WORKERS_MAX}`);
    if (workers > WORKERS_MAX) {
        fail(key(configKey, "workers"), workers, `at most ${WORKERS_MAX}: each worker is a whole node (kubelet, containerd, kube-proxy, kube-router) on this machine`);
    }
    if (workers > 0 && noWorkerReason !== undefined) {
        fail(key(configKey, "workers"), workers, `${noWorkerReason}; ${layoutKind !== "system" ? "run as root, or " : ""}set it to 0 for a control plane alone`);
    }
    const workerHostIps = Array.from({ length: workers }, (_, i) => workerLink(stack, i).hostIp);
    const base = {
        ports, address: "127.0.0.1", purgeOnDestroy, topology, workers, workerHostIps,
        ...(o.workers === undefined && noWorkerReason !== undefined
            ? { noWorkerWarning: `${key(configKey, "workers")}: no worker node, the control plane runs alone: ${noWorkerReason}. Set it to 0 to say so.` }
            : {}),
    };

    if (layoutKind === "system") {
        const runDir = path.join("/var/lib/hardened-cluster", stack);
        // CIS 1.1.19 wants everything under /etc/kubernetes/pki owned by root:root, and etcd runs as its own
        // user, so the files only etcd reads live apart: root owns them, etcd's group may read them.
        const etcdPki = (root: string) => path.join(root, "etc/etcd/pki");
        const nodes = localNodes(topology, ports, configKey, runDir, (root) => ({ layout: kubeadmLayout(root ?? "/"), etcdServerPkiDir: etcdPki(root ?? "/") }));
        return { ...base, layoutKind, layout: kubeadmLayout("/"), etcdUser, runDir, etcdServerPkiDir: etcdPki("/"), nodes, ...balancerOf(topology, ports), kms: kmsOf(runDir, kmsKeyIds) };
    }
    const defaultDir = path.join(process.env.XDG_STATE_HOME ?? path.join(os.homedir(), ".local/state"), "hardened-cluster", stack);
    // Normalised, so "/var/../tmp" is judged as the /tmp it is.
    const stateDir = path.resolve(o.stateDir ?? defaultDir);
    checkStateDir(stateDir, key(configKey, "stateDir"), o.stateDir === undefined);
    const layout = stateDirLayout(stateDir);
    const runDir = path.join(stateDir, "run");
    const nodes = localNodes(topology, ports, configKey, runDir, (root) => {
        const l = stateDirLayout(root ?? stateDir);
        return { layout: l, etcdServerPkiDir: l.etcdPkiDir };
    });
    return {
        ...base, layoutKind, layout, runDir, etcdServerPkiDir: layout.etcdPkiDir,
        stateDir, defaultStateDir: stateDir === path.resolve(defaultDir), nodes, ...balancerOf(topology, ports), kms: kmsOf(runDir, kmsKeyIds),
    };
}

/** One plugin per stack, beside its other run files; the apiservers of every node dial the same socket. */
function kmsOf(runDir: string, keyIds: string[]): ResolvedLocal["kms"] {
    const dir = path.join(runDir, "kms");
    return { socket: path.join(dir, "kms.sock"), keysFile: path.join(dir, "keys.json"), keyIds };
}

function resolveKmsKeyIds(k: string, value: unknown): string[] {
    if (value === undefined) return ["kek1"];
    if (!Array.isArray(value) || value.length === 0 || value.length > 5) fail(k, value, "use a list of one to five key ids, oldest first, such as [\"kek1\", \"kek2\"]");
    value.forEach((id: unknown, i) => {
        if (typeof id !== "string" || !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(id)) fail(key(k, i), id, "use an RFC 1123 label such as kek2");
        const first = value.indexOf(id);
        if (first !== i) fail(key(k, i), id, `already listed at ${key(k, first)}; every key id is new material`);
    });
    return [...(value as string[])];
}

/**
 * The nodes of a topology. "single" keeps the layout's own paths (kubeadm's, or the state directory). "ha" puts
 * each node's files below <run directory>/nodes/<node>, laid out as on a machine of its own, so every node
 * reads only its own certificates and data, and kube-bench can be pointed at one node's files.
 */
function localNodes(topology: Topology, ports: LocalPorts, configKey: string, runDir: string, at: (root?: string) => { layout: FileLayout; etcdServerPkiDir: string }): LocalNode[] {
    if (topology === "single") {
        return [{ name: SINGLE_NODE, ip: "127.0.0.1", etcdOnly: false, ...at(), runDir, ports: { controllerManager: ports.controllerManager, scheduler: ports.scheduler } }];
    }
    const nodes = HA_NODES.map((n, i) => {
        const root = path.join(runDir, "nodes", n.name);
        return { ...n, ...at(root), runDir: root, ports: { controllerManager: ports.controllerManager + i, scheduler: ports.scheduler + i } };
    });
    // Each control-plane node binds its controller-manager and scheduler to 127.0.0.1 on the next port up.
    const used = new Map<number, string>();
    for (const [name, p] of Object.entries(ports)) if (name !== "controllerManager" && name !== "scheduler") used.set(p, name);
    for (const n of nodes.filter((x) => !x.etcdOnly)) {
        for (const [name, p] of Object.entries(n.ports)) {
            if (p > 65535) fail(key(configKey, "ports", name), p - 1, "the ha topology uses this port and the next one up; pick a lower port");
            const other = used.get(p);
            if (other) fail(key(configKey, "ports", name), (ports as unknown as Record<string, number>)[name], `the ha topology uses this port and the next one up (one per control-plane node); ${other} uses ${p}`);
            used.set(p, name);
        }
    }
    return nodes;
}

function balancerOf(topology: Topology, ports: LocalPorts): { balancer?: { address: string; port: number } } {
    return topology === "ha" ? { balancer: { address: "127.0.0.1", port: ports.apiServer } } : {};
}

/**
 * The state directory must be one only the running user (and root) can change, on a path only they can
 * change: the same rule the file provider applies to every write, checked here before anything is created.
 * A sticky world-writable ancestor such as /tmp is accepted, since only an entry's owner may rename it there;
 * a world-writable directory itself, such as /tmp, is refused, and so is "/".
 */
export function checkStateDir(stateDir: string, configKey: string, isDefault: boolean): void {
    const given = isDefault ? " (the default state directory)" : "";
    if (stateDir === "/") fail(configKey, stateDir, "the state directory cannot be /; use a directory of its own");
    try {
        fileProvider.trustedDir(stateDir, 0o700, undefined, false, false);
    } catch (e) {
        fail(configKey, stateDir, `${(e as Error).message}${given}; use a directory only you can write, on a path nobody else can change`);
    }
}

/** The uid of a user that exists, or undefined. */
function uidOf(user: string): number | undefined {
    try {
        return Number(execFileSync("id", ["-u", "--", user], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim());
    } catch {
        return undefined;
    }
}

export function isRunningAsRoot(): boolean {
    return typeof process.getuid === "function" && process.getuid() === 0;
}
