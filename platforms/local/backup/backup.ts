// The local platform's backup and restore: thin wiring around components/backup (what is checked) and supervised.ts
// (how a component is held down). Paths, flags and the client pair all come from the stack plan (target.ts).
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { LocalStackPlan } from "../plan";
import { fileProvider } from "../file";
import { pruneBundles, removeUnfinished } from "./stored";
import { BackupTarget, backupTarget, defaultKeyFile, etcdClient, registryValues } from "./target";
import {
    BUNDLE_FILES, BUNDLE_FORMAT, BundleFile, checkContents, checkManifest, configuredKeys, fingerprint, KeyRefs, keyRefs,
    Manifest, newBundleKey, seal, sha256, SnapshotStatus, unseal,
} from "../../../components/backup";

/** The bundle key, made (0600, in a 0700 directory) on first use when `create`. */
export function loadKey(file: string, create: boolean): Buffer {
    if (!fs.existsSync(file)) {
        if (!create) throw new Error(`the backup key ${file} is missing: bundles sealed with it cannot be restored without it`);
        fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
        fs.writeFileSync(file, newBundleKey().toString("base64") + "\n", { mode: 0o600, flag: "wx" });
    }
    const st = fs.statSync(file);
    if ((st.mode & 0o077) !== 0) throw new Error(`the backup key ${file} is readable by others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
    const key = Buffer.from(fs.readFileSync(file, "utf8").trim(), "base64");
    if (key.length !== 32) throw new Error(`the backup key ${file} does not hold 32 base64 bytes`);
    return key;
}

function run(bin: string, args: string[], maxBuffer = 64 * 1024 * 1024): string {
    try {
        return execFileSync(bin, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer });
    } catch (e) {
        const err = e as { stderr?: string; message: string };
        throw new Error(`${path.basename(bin)} ${args.slice(0, 2).join(" ")} failed: ${(err.stderr || err.message).trim().split("\n").slice(-3).join(" | ")}`);
    }
}

const tool = (plan: Pick<LocalStackPlan, "toolchainBin">, name: "etcdctl" | "etcdutl") => path.join(plan.toolchainBin, name);

/** The release etcdutl reports ("3.6.14"): the toolchain's pinned etcd. */
export function toolchainEtcdVersion(plan: Pick<LocalStackPlan, "toolchainBin">): string {
    const m = /etcdutl version:\s*(\S+)/.exec(run(tool(plan, "etcdutl"), ["version"]));
    if (!m) throw new Error("etcdutl version: no version in its output");
    return m[1];
}

export function snapshotStatus(plan: Pick<LocalStackPlan, "toolchainBin">, file: string): SnapshotStatus {
    return JSON.parse(run(tool(plan, "etcdutl"), ["snapshot", "status", file, "-w", "json"])) as SnapshotStatus;
}

function caFingerprints(t: BackupTarget): Record<string, string> {
    return Object.fromEntries(Object.entries(t.caFiles).map(([name, f]) => [name, fingerprint(fs.readFileSync(f, "utf8"))]));
}

function encryptionConfig(plan: LocalStackPlan): string {
    const cp = plan.nodes.find((n) => !n.node.etcdOnly)!;
    const f = cp.bundle.files.find((x) => x.kind === "encryption")?.path;
    if (!f) throw new Error("the stack plan has no encryption config file");
    return fs.readFileSync(f, "utf8");
}

export interface BackupResult {
    dir: string;
    manifest: Manifest;
    status: SnapshotStatus;
    refs: KeyRefs;
    cas: Record<string, string>;
    bytes: number;
    seconds: number;
    /** The member the snapshot was taken from. */
    member: string;
    /** Older bundles removed to keep hardened-cluster:backup.retention, and unfinished ones a killed backup left. */
    pruned: string[];
}

/**
 * Takes a snapshot of the running stack now and writes it as a sealed bundle (0700 directory, 0600 files), from
 * the stack plan or from the target the schedule was given.
 */
export function takeBackup(from: LocalStackPlan | BackupTarget, opts: { outDir?: string; keyFile?: string; now?: Date } = {}): BackupResult {
    const t0 = Date.now();
    const t = "nodes" in from ? backupTarget(from, opts.keyFile) : { ...from, ...(opts.keyFile ? { keyFile: opts.keyFile } : {}) };
    const key = loadKey(t.keyFile, true);
    const now = opts.now ?? new Date();
    const dir = opts.outDir ?? path.join(t.directory, now.toISOString().replace(/[:.]/g, "-"));
    // Sealed bundles, but still: nobody else may swap a symlink in on the way or prune them for us.
    try {
        fileProvider.trustedDir(path.dirname(dir), 0o700);
    } catch (e) {
        throw new Error(`hardened-cluster:backup.directory: ${(e as Error).message}`);
    }
    fs.mkdirSync(dir, { mode: 0o700 });
    // One healthy member: the first that answers its health check.
    const failures: string[] = [];
    const healthy = t.members.find((m) => {
        try {
            run(tool(t, "etcdctl"), [...etcdClient(t, m.clientUrl), "endpoint", "health"]);
            return true;
        } catch (e) {
            failures.push(`${m.clientUrl}: ${(e as Error).message}`);
            return false;
        }
    });
    if (!healthy) throw new Error(`no etcd member of the stack is healthy: nothing to back up (${failures.join("; ")})`);
    const plain = path.join(dir, ".snapshot.db.part");
    try {
        run(tool(t, "etcdctl"), [...etcdClient(t, healthy.clientUrl), "snapshot", "save", plain]);
        const status = snapshotStatus(t, plain);
        const etcdVersion = (JSON.parse(run(tool(t, "etcdctl"), [...etcdClient(t, healthy.clientUrl), "endpoint", "status", "-w", "json"]))[0]?.Status?.version as string) ?? "";
        const refs = keyRefs(registryValues(t, healthy.clientUrl));
        const cas = caFingerprints(t);
        const snapshot = fs.readFileSync(plain);
        const contents: Record<BundleFile, Buffer> = {
            "snapshot.db.sealed": snapshot,
            "status.json.sealed": Buffer.from(JSON.stringify(status)),
            "keys.json.sealed": Buffer.from(JSON.stringify(refs)),
            "cas.json.sealed": Buffer.from(JSON.stringify(cas)),
        };
        const files = {} as Record<BundleFile, string>;
        let bytes = 0;
        for (const f of BUNDLE_FILES) {
            const sealed = seal(key, contents[f], f);
            fs.writeFileSync(path.join(dir, f), sealed, { mode: 0o600 });
            files[f] = sha256(sealed);
            bytes += sealed.length;
        }
        const manifest: Manifest = {
            format: BUNDLE_FORMAT, stack: t.stack, createdAt: now.toISOString(), etcdVersion, files, snapshotSha256: sha256(snapshot),
            encryptionKeys: Object.keys(refs).sort(),
        };
        fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n", { mode: 0o600 });
        // Only a bundle written into the stack's backup directory counts towards its retention there.
        const pruned = path.dirname(dir) === t.directory ? [...pruneBundles(t.directory, t.stack, t.retention), ...removeUnfinished(t.directory)] : [];
        return { dir, manifest, status, refs, cas, bytes, seconds: (Date.now() - t0) / 1000, member: healthy.name, pruned };
    } finally {
        fs.rmSync(plain, { force: true });
    }
}

export interface Verified {
    manifest: Manifest;
    status: SnapshotStatus;
    refs: KeyRefs;
    /** The unsealed snapshot, in a 0700 scratch directory the caller removes. */
    snapshotFile: string;
    scratch: string;
}

/** Raised when the pre-flight refuses a bundle; nothing has been touched. */
export class RestoreRefused extends Error {
    constructor(readonly problems: string[]) {
        super(`restore refused, nothing was changed:\n  - ${problems.join("\n  - ")}`);
    }
}

/** The whole pre-flight: manifest hashes, etcd release, snapshot integrity, CAs and encryption keys. */
export function preflight(plan: LocalStackPlan, bundleDir: string, keyFile = defaultKeyFile(plan)): Verified {
    let manifest: Manifest;
    try {
        manifest = JSON.parse(fs.readFileSync(path.join(bundleDir, "manifest.json"), "utf8")) as Manifest;
    } catch (e) {
        throw new RestoreRefused([`${bundleDir}/manifest.json cannot be read: ${(e as Error).message}`]);
    }
    const stored: Partial<Record<BundleFile, Buffer>> = {};
    for (const f of BUNDLE_FILES) {
        try { stored[f] = fs.readFileSync(path.join(bundleDir, f)); } catch { /* reported as missing */ }
    }
    const storedHashes = Object.fromEntries(Object.entries(stored).map(([f, b]) => [f, sha256(b!)]));
    const etcdVersion = toolchainEtcdVersion(plan);
    const first = checkManifest({ manifest, storedHashes, stack: plan.stack, etcdVersion });
    if (first.length > 0) throw new RestoreRefused(first);
    const key = loadKey(keyFile, false);
    const open = (f: BundleFile) => unseal(key, stored[f]!, f);
    let snapshot: Buffer;
    let status: SnapshotStatus;
    let refs: KeyRefs;
    let cas: Record<string, string>;
    try {
        snapshot = open("snapshot.db.sealed");
        status = JSON.parse(open("status.json.sealed").toString("utf8"));
        refs = JSON.parse(open("keys.json.sealed").toString("utf8"));
        cas = JSON.parse(open("cas.json.sealed").toString("utf8"));
    } catch (e) {
        throw new RestoreRefused([(e as Error).message]);
    }
    if (sha256(snapshot) !== manifest.snapshotSha256) throw new RestoreRefused(["the unsealed snapshot's sha256 differs from the manifest's"]);
    const scratch = fs.mkdtempSync(path.join(plan.local.runDir, "restore-"));
    fs.chmodSync(scratch, 0o700);
    const snapshotFile = path.join(scratch, "snapshot.db");
    try {
        fs.writeFileSync(snapshotFile, snapshot, { mode: 0o600 });
        const problems = checkContents({ status, restoredStatus: snapshotStatus(plan, snapshotFile), refs, configured: configuredKeys(encryptionConfig(plan)), etcdVersion });
        const now = caFingerprints(backupTarget(plan));
        for (const [name, fp] of Object.entries(cas)) {
            if (now[name] !== fp) problems.push(`the ${name} CA differs from the one the backup was taken under (fingerprint ${now[name] ?? "(none)"}, bundle ${fp})`);
        }
        if (problems.length > 0) throw new RestoreRefused(problems);
    } catch (e) {
        fs.rmSync(scratch, { recursive: true, force: true });
        throw e;
    }
    return { manifest, status, refs, snapshotFile, scratch };
}

export { run as runTool };
export { defaultKeyFile };
