// What a backup needs to know about a local stack, and nothing more: plain paths and URLs, no secret. The
// schedule gets it as a JSON file (the `etcd-backup` process cannot plan the stack: it has no Pulumi config);
// `npm run backup` and the exported takeBackup derive it from the stack plan the same way.
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { BUNDLE_CAS, flags } from "../../../components/backup";
import type { EtcdKv } from "../../../components/encryption/scan";
import { controlPlaneFile, etcdHealthClient, LocalNodePlan, LocalStackPlan } from "../plan";

export interface BackupTarget {
    stack: string;
    /** The toolchain's bin directory: etcdctl and etcdutl. */
    toolchainBin: string;
    /** The bundle key; made (0600) on first use. */
    keyFile: string;
    directory: string;
    retention: number;
    /** Every etcd member, in the plan's order. */
    members: { name: string; clientUrl: string }[];
    /** etcdctl's identity: the platform's health-check client pair, which may read and snapshot but not write. */
    client: { caFile: string; certFile: string; keyFile: string };
    /** The CA certificates whose fingerprints a bundle records, by CA name. */
    caFiles: Record<string, string>;
}

/** Where the bundle key lives unless given: the stack's run directory. Without it no bundle can be restored. */
export function defaultKeyFile(plan: Pick<LocalStackPlan, "local">): string {
    return path.join(plan.local.runDir, "backup", "bundle.key");
}

/** The backup schedule's status file, beside the bundle key. */
export function scheduleStatusFile(plan: Pick<LocalStackPlan, "local">): string {
    return path.join(plan.local.runDir, "backup", "schedule.json");
}

/** An etcd member as its node bundle runs it: what a restore rewrites and whom a backup dials. */
export interface EtcdMember { node: LocalNodePlan; argv: string[]; dataDir: string; clientUrl: string; user?: string }

export function etcdMembers(plan: Pick<LocalStackPlan, "nodes">): EtcdMember[] {
    return plan.nodes.map((node) => {
        const p = node.bundle.processes.find((x) => x.name === "etcd");
        if (!p) throw new Error(`${node.node.name}: no etcd in its bundle`);
        const f = flags(p.argv);
        return { node, argv: p.argv, dataDir: f["data-dir"], clientUrl: f["advertise-client-urls"].split(",")[0], user: p.user };
    });
}

export function backupTarget(plan: LocalStackPlan, keyFile = defaultKeyFile(plan)): BackupTarget {
    const caFiles: Record<string, string> = {};
    for (const [name, suffix] of BUNDLE_CAS) {
        const f = controlPlaneFile(plan, suffix);
        if (f) caFiles[name] = f;
    }
    return {
        stack: plan.stack, toolchainBin: plan.toolchainBin, keyFile, directory: plan.backup.directory, retention: plan.backup.retention,
        members: etcdMembers(plan).map((m) => ({ name: m.node.node.name, clientUrl: m.clientUrl })), client: etcdHealthClient(plan), caFiles,
    };
}

/** What dialing etcd takes: etcdctl, the members, the client pair. */
export type EtcdAccess = Pick<BackupTarget, "toolchainBin" | "members" | "client">;

/** etcdctl's connection flags: against every member, or the one given. */
export function etcdClient(t: Pick<EtcdAccess, "members" | "client">, only?: string): string[] {
    const endpoints = only ? [only] : t.members.map((m) => m.clientUrl);
    return [`--endpoints=${endpoints.join(",")}`, `--cacert=${t.client.caFile}`, `--cert=${t.client.certFile}`, `--key=${t.client.keyFile}`, "--command-timeout=60s"];
}

/** Every value under /registry/ (keys and values base64), from the member given or any that answers. */
export function registryValues(t: EtcdAccess, only?: string): EtcdKv[] {
    let out: string;
    try {
        out = execFileSync(path.join(t.toolchainBin, "etcdctl"), [...etcdClient(t, only), "get", "--prefix", "/registry", "-w", "json"],
            { encoding: "utf8", maxBuffer: 1024 * 1024 * 1024, stdio: ["ignore", "pipe", "pipe"] });
    } catch (e) {
        const err = e as { stderr?: string; message: string };
        throw new Error(`etcdctl get --prefix /registry failed: ${(err.stderr || err.message).trim().split("\n").slice(-3).join(" | ")}`);
    }
    return (JSON.parse(out) as { kvs?: EtcdKv[] }).kvs ?? [];
}
