// The local platform's decisions, as a pure plan: which options the shared components get (loopback
// addresses, this stack's ports, one etcd member, one control-plane node), where each file goes, who may
// read it and which process must restart when it changes. The Pulumi wiring in cluster.ts only executes it.
import * as fs from "node:fs";
import * as path from "node:path";
import type { AuditLogOptions } from "../../components/audit";
import { auditLogFiles } from "../../components/audit";
import { componentServingFiles, fail, FileLayout, key, pkiFiles, pkiPair } from "../../components/common";
import type { ControlPlaneOptions, NetworkOptions, RenderedControlPlane } from "../../components/control-plane";
import { renderControlPlane } from "../../components/control-plane";
import type { PkiOptions } from "../../components/pki";
import { LocalOptions, ResolvedLocal, resolveLocal } from "./options";
import type { HealthCheck } from "./process";

export const LOCAL_NODE = "control-plane";
export const LOCAL_ETCD_MEMBER = "etcd-local";
export const MARKER = ".hardened-cluster";

export type ProcessName = "etcd" | "kube-apiserver" | "kube-controller-manager" | "kube-scheduler";
export const PROCESSES: readonly ProcessName[] = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"];

/** What the local platform lets a stack set about the shared components (the rest it decides itself). */
export type LocalPkiOptions = Omit<PkiOptions, "serviceCidr" | "controlPlaneNodes" | "etcdMembers" | "endpoint">;
export type LocalNetworkOptions = Pick<NetworkOptions, "serviceCidr" | "podCidr" | "clusterDomain" | "clusterName" | "serviceAccountIssuer">;
export type LocalControlPlaneOptions = Omit<ControlPlaneOptions, "network" | "audit"> & { network?: LocalNetworkOptions };

export interface LocalPlanInput {
    stack: string;
    local?: LocalOptions;
    pki?: LocalPkiOptions;
    audit?: AuditLogOptions;
    controlPlane?: LocalControlPlaneOptions;
    /** Roots of error keys, e.g. "hardened-cluster:local". */
    configKeys?: { local?: string; controlPlane?: string };
}

export interface LocalPlan {
    local: ResolvedLocal;
    server: string;
    pki: PkiOptions;
    controlPlane: RenderedControlPlane;
    /** The etcd member's flags, pointing at the files only etcd reads. */
    etcd: { flags: Record<string, string>; args: string[] };
    /** Layout of the files etcd itself reads (differs from `local.layout` in the system layout). */
    etcdLayout: FileLayout;
    /** Files each process reads: a change to one restarts that process. */
    argsFiles: Record<ProcessName, string>;
    logFiles: Record<ProcessName, string>;
    kubeBenchConfig: string;
    /** Each process's command line: the shared renderer's flags, plus the controller manager's and scheduler's serving pairs. */
    args: Record<ProcessName, string[]>;
    /** How each process's start is judged: always over TLS verified against the CA that issued its certificate. */
    health: Record<ProcessName, HealthCheck>;
    /** The controller manager's and scheduler's serving pairs, issued by the platform from the cluster CA. */
    serving: Record<"kube-controller-manager" | "kube-scheduler", { cert: string; key: string }>;
    /** System layout: root's files; etcd's data directory; files etcd reads but may not change (root:etcd). */
    owner?: { root: string; etcd: string; etcdReader: string };
}

export function planLocal(input: LocalPlanInput, isRoot?: boolean): LocalPlan {
    const localKey = input.configKeys?.local ?? "local";
    const local = resolveLocal(input.local, input.stack, localKey, isRoot);
    const network = input.controlPlane?.network ?? {};
    const ip = local.address;
    const cpKey = input.configKeys?.controlPlane ?? "controlPlane";
    const serving = {
        "kube-controller-manager": pkiPair(local.layout, componentServingFiles.controllerManager),
        "kube-scheduler": pkiPair(local.layout, componentServingFiles.scheduler),
    };
    const controlPlaneOptions: ControlPlaneOptions = {
        ...input.controlPlane,
        audit: input.audit,
        network: {
            ...network,
            advertiseAddress: ip,
            // Loopback only: this control plane has no nodes, and nothing off this machine should reach it.
            apiServerBindAddress: ip,
            apiServerPort: local.ports.apiServer,
            controllerManagerPort: local.ports.controllerManager,
            schedulerPort: local.ports.scheduler,
            etcdClientPort: local.ports.etcdClient,
            etcdPeerPort: local.ports.etcdPeer,
            etcdMembers: [{ name: LOCAL_ETCD_MEMBER, ip }],
        },
    };
    const controlPlane = renderControlPlane(controlPlaneOptions, local.layout, cpKey);
    // Their own serving pairs, so a health check can tell them from whatever else answers on the port. Added
    // after rendering: the shared flags stay byte-identical across platforms, this is the local platform's probe.
    noServingFlags(input.controlPlane?.controllerManager?.extraArgs, key(cpKey, "controllerManager", "extraArgs"));
    noServingFlags(input.controlPlane?.scheduler?.extraArgs, key(cpKey, "scheduler", "extraArgs"));
    const servingFlags = (pair: { cert: string; key: string }) => [`--tls-cert-file=${pair.cert}`, `--tls-private-key-file=${pair.key}`];
    const etcdLayout = { ...local.layout, etcdPkiDir: local.etcdServerPkiDir };
    const etcd = renderControlPlane(controlPlaneOptions, etcdLayout, cpKey).etcd[0];

    const server = `https://${ip}:${local.ports.apiServer}`;
    const pki: PkiOptions = {
        ...input.pki,
        serviceCidr: network.serviceCidr ?? "10.96.0.0/12",
        clusterDomain: network.clusterDomain ?? input.pki?.clusterDomain,
        endpoint: { ipAddresses: [ip] },
        controlPlaneNodes: [{ name: LOCAL_NODE, ipAddresses: [ip] }],
        etcdMembers: [{ name: LOCAL_ETCD_MEMBER, ipAddresses: [ip] }],
    };
    if (pki.clusterDomain === undefined) delete pki.clusterDomain;

    const at = (dir: string, suffix: string) =>
        Object.fromEntries(PROCESSES.map((p) => [p, path.join(local.runDir, dir, `${p}${suffix}`)])) as Record<ProcessName, string>;
    checkLayoutDirs(local, input.stack, localKey);
    return {
        local,
        server,
        pki,
        controlPlane,
        etcd: { flags: etcd.flags, args: etcd.args },
        etcdLayout,
        argsFiles: at("args", ".args"),
        logFiles: at("logs", ".log"),
        kubeBenchConfig: path.join(local.runDir, "kube-bench", "config.yaml"),
        args: {
            etcd: etcd.args,
            "kube-apiserver": controlPlane.apiServer.args,
            "kube-controller-manager": [...controlPlane.controllerManager.args, ...servingFlags(serving["kube-controller-manager"])],
            "kube-scheduler": [...controlPlane.scheduler.args, ...servingFlags(serving["kube-scheduler"])],
        },
        health: healthChecks(local, server),
        serving,
        owner: local.layoutKind === "system" ? { root: "root:root", etcd: `${local.etcdUser}:${local.etcdUser}`, etcdReader: `root:${local.etcdUser}` } : undefined,
    };
}

/** The platform sets the serving pair of these components itself; a flag the user set would fight it. */
function noServingFlags(extraArgs: Record<string, unknown> | undefined, argsKey: string): void {
    for (const flag of ["tls-cert-file", "tls-private-key-file", "cert-dir"]) {
        if (extraArgs?.[flag] !== undefined) {
            fail(key(argsKey, flag), extraArgs[flag], "the local platform issues this component's serving certificate from the cluster CA itself; remove the flag");
        }
    }
}

/**
 * Every health check verifies the server against the CA that issued its certificate (a process that is not
 * ours, squatting the port, fails it) and, where the endpoint needs one, presents a client certificate.
 */
export function healthChecks(local: ResolvedLocal, server: string): Record<ProcessName, HealthCheck> {
    const pki = (base: string, etcd = false) => pkiPair(local.layout, base, etcd);
    const ca = pki(pkiFiles.ca).cert;
    return {
        etcd: {
            kind: "https", url: `https://${local.address}:${local.ports.etcdClient}/health`, caFile: pki(pkiFiles.etcdCa, true).cert,
            certFile: pki(pkiFiles.etcdHealthcheckClient, true).cert, keyFile: pki(pkiFiles.etcdHealthcheckClient, true).key,
        },
        "kube-apiserver": {
            kind: "https", url: `${server}/readyz`, caFile: ca,
            certFile: pki(pkiFiles.apiserverKubeletClient).cert, keyFile: pki(pkiFiles.apiserverKubeletClient).key,
        },
        "kube-controller-manager": { kind: "https", url: `https://${local.address}:${local.ports.controllerManager}/healthz`, caFile: ca },
        "kube-scheduler": { kind: "https", url: `https://${local.address}:${local.ports.scheduler}/healthz`, caFile: ca },
    };
}

/** The audit policy and log paths in this plan's layout. */
export function auditFiles(plan: LocalPlan) {
    return auditLogFiles(plan.local.layout);
}

/** Directories a stack claims with its marker: kubeadm's in the system layout, the state directory otherwise. */
export function claimedDirs(local: ResolvedLocal): string[] {
    return local.layoutKind === "system" ? [local.layout.configDir, local.layout.etcdDataDir, local.etcdServerPkiDir] : [local.stateDir!];
}

/**
 * A stack takes over its directories, so it refuses any it did not create: a directory that exists, holds
 * files and carries no marker of this stack belongs to someone else (kubeadm, another cluster, a home
 * directory). The one exception is a user-layout stack's default state directory, which no other stack can
 * name and which stacks made before markers existed lack. A marker's content is never shown: anyone who could
 * write it could make it say anything.
 */
export function checkLayoutDirs(local: ResolvedLocal, stack: string, configKey: string, exists = fs.existsSync, read = readDir, marker = readMarker): void {
    const field = local.layoutKind === "system" ? "layout" : "stateDir";
    const value = local.layoutKind === "system" ? "system" : local.stateDir;
    for (const dir of claimedDirs(local)) {
        if (!exists(dir)) continue;
        const entries = read(dir);
        if (!populated(dir, entries, read)) continue;
        if (!entries.includes(MARKER)) {
            if (local.layoutKind === "user" && local.defaultStateDir) continue;
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
