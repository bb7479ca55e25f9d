// The local platform's facts and its stack plan: loopback addresses, this stack's ports, its nodes (one, or
// the ha topology's three), where their run files go. Every setting comes from the cluster plan
// (components/cluster); cluster.ts only delivers the bundle.
import * as fs from "node:fs";
import * as path from "node:path";
import { BackupOptions, resolveBackup } from "../../components/backup/options";
import { ClusterKeys, ClusterPlan, ClusterSettings, DEFAULT_CLUSTER_KEYS, NodeBundle, planCluster, PlatformFacts, PROCESSES, ProcessName, resolveCluster } from "../../components/cluster";
import { ConfigErrorList, fail, key } from "../../components/common";
import { ENCRYPTION_PROVIDERS } from "../../components/encryption";
import { checkKeptBackups } from "./backup/stored";
import { checkKekChanges, checkKeyChanges } from "./encryption/gate";
import { HA_SHUTDOWN_DELAY_SECONDS, LocalNode, LocalOptions, ResolvedLocal, resolveLocal, SINGLE_NODE } from "./options";
import { LocalWorkerPlan, NodeToolchain, planWorkers } from "./worker/plan";

export const LOCAL_NODE = SINGLE_NODE;
export const MARKER = ".hardened-cluster";
export type { ProcessName };

export interface LocalStackInput {
    stack: string;
    local?: LocalOptions;
    settings?: ClusterSettings;
    backup?: BackupOptions;
    /** Where etcd, kube-apiserver, kube-controller-manager and kube-scheduler are (the toolchain's bin directory). */
    toolchainBin: string;
    /** Full keys for error paths: the cluster's and "local". */
    keys?: Partial<ClusterKeys> & { local?: string; backup?: string };
    isRoot?: boolean;
    /**
     * Planning for a restore: etcd's data directory may have lost its marker with its data (a dead disk), and
     * the restore replaces what is there (keeping it aside), so a marker-less one is not refused; the restore
     * writes the marker back.
     */
    restoring?: boolean;
    /** Check the planned encryption keys against etcd and the files on disk (encryption/gate.ts). Default true. */
    liveChecks?: boolean;
}

/** A node's bundle with where the platform keeps its run files. */
export interface LocalNodePlan {
    node: LocalNode;
    bundle: NodeBundle;
    /** Each process's command line, one argument per line: what the supervisor starts it from. */
    argsFiles: Record<ProcessName, string>;
    logFiles: Record<ProcessName, string>;
    kubeBenchConfig: string;
}

export interface LocalStackPlan {
    stack: string;
    local: ResolvedLocal;
    cluster: ClusterPlan;
    /** The toolchain's bin directory the binaries come from. */
    toolchainBin: string;
    /** One per node, in the cluster plan's order (the single topology's only node first). */
    nodes: LocalNodePlan[];
    /** System layout: the root-owned copy of etcd's binary, which etcd's own user can reach. */
    installedEtcd?: string;
    /** Where backups go (default <run dir>/backup/bundles), how many are kept, and the schedule if any. */
    backup: { directory: string; retention: number; intervalMinutes?: number };
    /** The worker nodes (local.workers), none by default. */
    workers: LocalWorkerPlan[];
    /** Where the workers' runtime, CNI plugins and images come from. */
    nodeToolchain: NodeToolchain;
}

/** The local platform's facts about where and how the cluster runs. */
export function localFacts(local: ResolvedLocal, toolchainBin: string, localKey = "local"): PlatformFacts {
    const ip = local.address;
    const system = local.layoutKind === "system";
    const server = `https://${ip}:${local.ports.apiServer}`;
    const ha = local.topology === "ha";
    return {
        platform: "local",
        layout: local.layout,
        etcdOwnPkiDir: local.etcdServerPkiDir,
        members: local.nodes.map((n) => ({
            name: n.name, ip: n.ip,
            // Pods reach the API server at the relay on the first worker's link (single topology): that is the
            // `kubernetes` Service's endpoint. The ha topology keeps its loopback addresses (no endpoint).
            ...(!ha && local.workerHostIps.length > 0 ? { advertiseAddress: local.workerHostIps[0] } : {}),
            ...(ha ? {
                layout: n.layout, etcdOwnPkiDir: n.etcdServerPkiDir,
                network: { apiServerBindAddress: n.ip, controllerManagerPort: n.ports.controllerManager, schedulerPort: n.ports.scheduler },
            } : {}),
            ...(n.etcdOnly ? { etcdOnly: true } : {}),
        })),
        // Loopback only: this control plane has no nodes, and nothing off this machine should reach it. Each
        // apiserver binds its own node's address (ha: the balancer holds 127.0.0.1 and the same port).
        network: {
            ...(ha ? {} : { apiServerBindAddress: ip }), apiServerPort: local.ports.apiServer, etcdClientPort: local.ports.etcdClient,
            etcdPeerPort: local.ports.etcdPeer, controllerManagerPort: local.ports.controllerManager, schedulerPort: local.ports.scheduler,
        },
        endpoint: { ipAddresses: [ip, ...local.workerHostIps], dnsNames: [] },
        serverUrl: server,
        ...(ha ? { balancer: { shutdownDelaySeconds: HA_SHUTDOWN_DELAY_SECONDS } } : {}),
        ...(local.workers > 0 ? { nodeProxy: true, nodeNetworkPolicy: true, servingApprover: true } : {}),
        // etcd runs as its own user, who cannot reach the toolchain cache under root's home: the system layout
        // installs the binary root-owned next to the stack's other run files.
        binary: (p) => (system && p === "etcd" ? installedEtcdPath(local) : path.join(toolchainBin, p)),
        etcdUser: system ? local.etcdUser : undefined,
        operatorOnNode: true,
        // KMS v2 through the platform's own plugin (hc-kms-plugin, platforms/local/kms.ts).
        encryption: { providers: ENCRYPTION_PROVIDERS, kmsEndpoint: `unix://${local.kms.socket}`, why: "" },
        portsSetting: `${localKey}.ports`,
        refused: [{ key: "pki", path: ["endpoint"], reason: "the local platform serves the API on 127.0.0.1 only and names it itself; remove it (it is for the AWS platform)" }],
    };
}

/** The toolchain's node runtime beside its bin directory (scripts/lib/toolchain-paths.sh); the image tag is stamped there. */
export function nodeToolchainAt(bin: string): NodeToolchain {
    const dir = path.dirname(bin);
    const images = path.join(dir, "images");
    let imageTag = "";
    try {
        imageTag = fs.readFileSync(path.join(images, "pause.version"), "utf8").trim();
    } catch {
        // Not built yet: the cluster refuses to start a worker without its images (cluster.ts).
    }
    return { bin, cniBin: path.join(dir, "cni", "bin"), images, imageTag };
}

function installedEtcdPath(local: ResolvedLocal): string {
    return path.join(local.runDir, "bin", "etcd");
}

/** Resolves the local key and every cluster setting in one pass (all errors together), then plans the node. */
export function planLocalStack(input: LocalStackInput): LocalStackPlan {
    const keys = { ...DEFAULT_CLUSTER_KEYS, ...input.keys };
    const localKey = input.keys?.local ?? "local";
    const errors = new ConfigErrorList();
    let local: ResolvedLocal | undefined;
    errors.attempt(() => (local = resolveLocal(input.local, input.stack, localKey, input.isRoot)));
    if (local === undefined) {
        errors.throwIfAny();
        throw new Error("unreachable");
    }
    const l = local;
    let backup: LocalStackPlan["backup"] | undefined;
    errors.attempt(() => {
        const b = resolveBackup(input.backup, input.keys?.backup ?? "backup");
        backup = { directory: b.directory ?? path.join(l.runDir, "backup", "bundles"), retention: b.retention, ...(b.intervalMinutes ? { intervalMinutes: b.intervalMinutes } : {}) };
    });
    let cluster: ClusterPlan | undefined;
    errors.attempt(() => (cluster = planCluster(resolveCluster(input.settings ?? {}, localFacts(l, input.toolchainBin, localKey), keys))));
    errors.attempt(() => checkLayoutDirs(l, input.stack, localKey, input.restoring ? [l.layout.etcdDataDir] : []));
    const nodeToolchain = nodeToolchainAt(input.toolchainBin);
    let workers: LocalWorkerPlan[] = [];
    errors.attempt(() => (workers = planWorkers({
        stack: input.stack, count: l.workers, runDir: l.runDir, apiServerPort: l.ports.apiServer, settings: input.settings ?? {}, keys,
        toolchain: nodeToolchain,
    })));
    errors.attempt(() => cluster && refuseClusterCaRotationWithWorkers(cluster, l.workers, keys.pki, localKey));
    errors.attempt(() => cluster && backup && checkKeptBackups(backup, input.stack, cluster.resolved.encryptionResolved.keys, keys.encryption));
    errors.throwIfAny();
    const nodes = cluster!.nodes.map((bundle, i): LocalNodePlan => {
        const node = l.nodes[i];
        const at = (dir: string, suffix: string) => Object.fromEntries(PROCESSES.map((p) => [p, path.join(node.runDir, dir, `${p}${suffix}`)])) as Record<ProcessName, string>;
        return { node, bundle, argsFiles: at("args", ".args"), logFiles: at("logs", ".log"), kubeBenchConfig: path.join(node.runDir, "kube-bench", "config.yaml") };
    });
    const plan: LocalStackPlan = {
        stack: input.stack,
        local: l,
        cluster: cluster!,
        toolchainBin: input.toolchainBin,
        nodes,
        installedEtcd: l.layoutKind === "system" ? installedEtcdPath(l) : undefined,
        backup: backup!,
        workers,
        nodeToolchain,
    };
    // Needs the whole plan (the file's path, etcd's members), so it comes after every other check.
    if (!input.restoring && input.liveChecks !== false) {
        checkKeyChanges(plan, keys.encryption);
        checkKekChanges(plan, localKey);
    }
    return plan;
}

/**
 * A worker's kubelet keeps the client and serving certificates the controller manager signed when it joined, and
 * renews them only near their expiry: at the cluster CA's distrust-old the apiservers would stop trusting them,
 * and nothing on this platform makes the kubelet join again (the AWS platform's workers do, kubelet-rejoin.ts).
 * Refused before anything changes, rather than losing the workers in the middle of a rotation.
 */
function refuseClusterCaRotationWithWorkers(cluster: ClusterPlan, workers: number, pkiKey: string, localKey: string): void {
    const { phase } = cluster.resolved.pkiResolved.rotation.kubernetes;
    if (workers > 0 && phase !== "steady") {
        fail(key(pkiKey, "rotation", "kubernetes", "phase"), phase, `the cluster CA rotates only on a local stack without workers (${key(localKey, "workers")} is ${workers}): their kubelets keep certificates from the old CA past distrust-old; keep "steady", or set ${key(localKey, "workers")} to 0 first`);
    }
}

/** Whether the stack's encryption settings use the local KMS plugin (any configured key, a rotation's old one too). */
export function usesKms(plan: Pick<LocalStackPlan, "cluster">): boolean {
    return plan.cluster.resolved.encryptionResolved.keys.some((k) => k.provider === "kms");
}

/**
 * A file of the first control-plane node's bundle, by how its path ends (e.g. "/pki/ca.key"): the node that holds
 * the cluster CAs and the platform's client pairs in every topology.
 */
export function controlPlaneFile(plan: Pick<LocalStackPlan, "nodes">, suffix: string): string | undefined {
    return plan.nodes.find((n) => !n.node.etcdOnly)?.bundle.files.find((f) => f.path.endsWith(suffix))?.path;
}

/** The platform's etcd health-check client pair (with etcd's CA): what the local tools dial etcd with. */
export function etcdHealthClient(plan: Pick<LocalStackPlan, "nodes">): { caFile: string; certFile: string; keyFile: string } {
    const [caFile, certFile, keyFile] = ["/pki/etcd/ca.crt", "/pki/etcd/healthcheck-client.crt", "/pki/etcd/healthcheck-client.key"].map((s) => controlPlaneFile(plan, s));
    if (!caFile || !certFile || !keyFile) throw new Error("the stack plan has no etcd health-check client pair");
    return { caFile, certFile, keyFile };
}

/** Directories a stack claims with its marker: kubeadm's in the system layout, the state directory otherwise. */
export function claimedDirs(local: ResolvedLocal): string[] {
    if (local.layoutKind === "user") return [local.stateDir!];
    return local.topology === "ha" ? [haNodesDir(local)] : [local.layout.configDir, local.layout.etcdDataDir, local.etcdServerPkiDir];
}

/** The system layout's ha nodes live below this directory (one subdirectory per node). */
export function haNodesDir(local: ResolvedLocal): string {
    return path.join(local.runDir, "nodes");
}

/**
 * A stack takes over its directories, so it refuses any it did not create: a directory that exists, holds
 * files and carries no marker of this stack belongs to someone else (kubeadm, another cluster, a home
 * directory). The one exception is a user-layout stack's default state directory, which no other stack can
 * name and which stacks made before markers existed lack. A marker's content is never shown: anyone who could
 * write it could make it say anything.
 */
export function checkLayoutDirs(local: ResolvedLocal, stack: string, configKey: string, markerMayBeLost: readonly string[] = [], exists = fs.existsSync, read = readDir, marker = readMarker): void {
    const field = local.layoutKind === "system" ? "layout" : "stateDir";
    const value = local.layoutKind === "system" ? "system" : local.stateDir;
    for (const dir of claimedDirs(local)) {
        if (!exists(dir)) continue;
        const entries = read(dir);
        if (!populated(dir, entries, read)) continue;
        if (!entries.includes(MARKER)) {
            if (local.layoutKind === "user" && local.defaultStateDir) continue;
            if (markerMayBeLost.includes(dir)) continue;
            fail(key(configKey, field), value, `${dir} exists and was not created by hardened-cluster (no ${MARKER} marker); move it away or choose another directory`);
        }
        const owner = marker(path.join(dir, MARKER));
        if (owner === undefined) fail(key(configKey, field), value, `${dir}/${MARKER} is not a valid marker (a small regular file naming a stack); remove the directory or fix the marker`);
        if (owner !== stack) fail(key(configKey, field), value, `${dir} belongs to another stack; destroy that stack first or choose another directory`);
    }
}

/** A stack name that may sit in a marker: Pulumi's stack name characters, nothing else. */
const STACK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * The stack a marker names, or undefined when it is not a marker: a symlink is not followed (O_NOFOLLOW),
 * anything but a regular file of at most 256 bytes holding one stack name is refused.
 */
export function readMarker(file: string): string | undefined {
    let fd: number;
    try {
        fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    } catch {
        return undefined;
    }
    try {
        const st = fs.fstatSync(fd);
        if (!st.isFile() || st.size > 256) return undefined;
        const buf = Buffer.alloc(257);
        const n = fs.readSync(fd, buf, 0, buf.length, 0);
        const text = buf.subarray(0, n).toString("utf8").trim();
        return n <= 256 && STACK_NAME.test(text) ? text : undefined;
    } finally {
        fs.closeSync(fd);
    }
}

/** Whether a directory holds anything but empty directories (what a destroy leaves behind). */
function populated(dir: string, entries: string[], read: (d: string) => string[], depth = 0): boolean {
    for (const e of entries) {
        const p = path.join(dir, e);
        let st: fs.Stats | undefined;
        try {
            st = fs.lstatSync(p);
        } catch {
            st = undefined;
        }
        if (!st?.isDirectory() || depth > 8 || populated(p, read(p), read, depth + 1)) return true;
    }
    return false;
}

function readDir(dir: string): string[] {
    try {
        return fs.readdirSync(dir);
    } catch {
        return [];
    }
}
