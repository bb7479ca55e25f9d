// The pure half of etcd backup and restore: what a bundle holds, how it is sealed, and every check the restore
// pre-flight makes. Nothing here touches a process or a data directory, so each rule is testable alone.
import { createCipheriv, createDecipheriv, createHash, randomBytes, X509Certificate } from "node:crypto";
import type { KeyRefs } from "../encryption/scan";

export { configuredKeys, keyRefs, KeyRefs } from "../encryption/scan";

export const BUNDLE_FORMAT = "hardened-cluster/etcd-backup/v1";
/** Files a bundle holds besides manifest.json, each sealed (AES-256-GCM). */
export const BUNDLE_FILES = ["snapshot.db.sealed", "status.json.sealed", "keys.json.sealed", "cas.json.sealed"] as const;
export type BundleFile = (typeof BUNDLE_FILES)[number];

/**
 * A bundle a node writes to S3 (the AWS platform): the same contents, stored plain inside a bucket whose only
 * accepted encryption is SSE-KMS by the cluster key, because a node has no place to keep a sealing key that the
 * cluster key does not already guard. Its manifest is uploaded last, so a bundle without one is unfinished.
 */
export const S3_BUNDLE_FORMAT = "hardened-cluster/etcd-backup-s3/v1";
export const S3_BUNDLE_FILES = ["snapshot.db", "status.json", "keys.json", "cas.json"] as const;

/** The CAs whose fingerprints a bundle records, by name, and the path suffix of each one's certificate. */
export const BUNDLE_CAS: readonly (readonly [string, string])[] = [["kubernetes", "/pki/ca.crt"], ["etcd", "/pki/etcd/ca.crt"], ["front-proxy", "/pki/front-proxy-ca.crt"]];

/** `etcdutl snapshot status -w json`. */
export interface SnapshotStatus {
    hash: number;
    revision: number;
    totalKey: number;
    totalSize: number;
    /** The storage version the snapshot was written with ("3.6.0"). */
    version?: string;
}

export interface Manifest {
    format: typeof BUNDLE_FORMAT;
    stack: string;
    createdAt: string;
    /** The etcd release that took the snapshot (etcdctl's server version). */
    etcdVersion: string;
    /** sha256 (hex) of each stored (sealed) file. */
    files: Record<BundleFile, string>;
    /** sha256 (hex) of the plaintext snapshot, checked again after unsealing. */
    snapshotSha256: string;
    /**
     * The encryption keys ("<provider>:<name>") the snapshot's values were written with, in clear: names are not
     * key material, and the stack checks them without the bundle key before it drops a key (retention.ts).
     */
    encryptionKeys?: string[];
}

export const sha256 = (b: Buffer | string): string => createHash("sha256").update(b).digest("hex");

// ---- sealing: AES-256-GCM, nonce || ciphertext || tag ----

const NONCE = 12;
const TAG = 16;

export function newBundleKey(): Buffer {
    return randomBytes(32);
}

export function seal(key: Buffer, plaintext: Buffer, label: string): Buffer {
    if (key.length !== 32) throw new Error("backup key: expected 32 bytes");
    const nonce = randomBytes(NONCE);
    const c = createCipheriv("aes-256-gcm", key, nonce);
    // The file name is bound as associated data: a sealed status cannot be passed off as the snapshot.
    c.setAAD(Buffer.from(label));
    return Buffer.concat([nonce, c.update(plaintext), c.final(), c.getAuthTag()]);
}

export function unseal(key: Buffer, sealed: Buffer, label: string): Buffer {
    if (key.length !== 32) throw new Error("backup key: expected 32 bytes");
    if (sealed.length < NONCE + TAG) throw new Error(`${label}: too short to be a sealed file`);
    const d = createDecipheriv("aes-256-gcm", key, sealed.subarray(0, NONCE));
    d.setAAD(Buffer.from(label));
    d.setAuthTag(sealed.subarray(sealed.length - TAG));
    try {
        return Buffer.concat([d.update(sealed.subarray(NONCE, sealed.length - TAG)), d.final()]);
    } catch {
        throw new Error(`${label}: does not decrypt with this key (wrong key, or the file was altered)`);
    }
}

// ---- what the snapshot needs ----

// ---- pre-flight ----

export interface PreflightInput {
    manifest: Manifest;
    /** sha256 of each stored file as it is on disk now (undefined: missing). */
    storedHashes: Partial<Record<BundleFile, string>>;
    /** The stack this restore targets. */
    stack: string;
    /** The etcd release the stack runs now (`etcdutl version`). */
    etcdVersion: string;
    /** Keys the stack's encryption config holds now. */
    configured: readonly string[];
}

/** Problems found before unsealing: empty when the bundle is intact and meant for this stack. */
export function checkManifest(i: Omit<PreflightInput, "configured">): string[] {
    const problems: string[] = [];
    if (i.manifest.format !== BUNDLE_FORMAT) problems.push(`manifest.json: format ${JSON.stringify(i.manifest.format)}, expected ${BUNDLE_FORMAT}`);
    for (const f of BUNDLE_FILES) {
        const want = i.manifest.files?.[f];
        const got = i.storedHashes[f];
        if (got === undefined) problems.push(`${f}: missing from the bundle`);
        else if (got !== want) problems.push(`${f}: sha256 ${got} does not match the manifest's ${want ?? "(none)"}`);
    }
    if (i.manifest.stack !== i.stack) problems.push(`the bundle was taken from stack ${JSON.stringify(i.manifest.stack)}, not ${JSON.stringify(i.stack)}`);
    if (!sameMinor(i.manifest.etcdVersion, i.etcdVersion)) {
        problems.push(`the snapshot was taken by etcd ${i.manifest.etcdVersion}; this stack runs ${i.etcdVersion} (restore with the same minor release)`);
    }
    return problems;
}

/** Problems found after unsealing: a snapshot that disagrees with its status, keys the stack no longer has. */
export function checkContents(i: { status: SnapshotStatus; restoredStatus: SnapshotStatus; refs: KeyRefs; configured: readonly string[]; etcdVersion: string }): string[] {
    const problems: string[] = [];
    if (i.restoredStatus.hash !== i.status.hash || i.restoredStatus.revision !== i.status.revision) {
        problems.push(`the snapshot's status (hash ${i.restoredStatus.hash}, revision ${i.restoredStatus.revision}) differs from the recorded one (hash ${i.status.hash}, revision ${i.status.revision})`);
    }
    if (i.status.version !== undefined && !notNewer(i.status.version, i.etcdVersion)) {
        problems.push(`the snapshot's storage version ${i.status.version} is newer than etcd ${i.etcdVersion}`);
    }
    const have = new Set(i.configured);
    for (const [ref, count] of Object.entries(i.refs).sort()) {
        if (!have.has(ref)) problems.push(`encryption key ${ref} (${count} value(s) in the snapshot) is not in the stack's encryption config: those values could never be read`);
    }
    return problems;
}

function minor(v: string): [number, number] | undefined {
    const m = /^v?(\d+)\.(\d+)/.exec(v.trim());
    return m ? [Number(m[1]), Number(m[2])] : undefined;
}

export function sameMinor(a: string, b: string): boolean {
    const x = minor(a);
    const y = minor(b);
    return x !== undefined && y !== undefined && x[0] === y[0] && x[1] === y[1];
}

function notNewer(storage: string, release: string): boolean {
    const s = minor(storage);
    const r = minor(release);
    return s !== undefined && r !== undefined && (s[0] < r[0] || (s[0] === r[0] && s[1] <= r[1]));
}

// ---- CA fingerprints and the restore command line ----

/** SHA-256 fingerprint of a PEM certificate (as openssl prints it: colon-separated upper-case hex). */
export function fingerprint(pem: string): string {
    return new X509Certificate(pem).fingerprint256;
}

/** `--flag=value` arguments as a map (the etcd argv the cluster plan writes). */
export function flags(argv: readonly string[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const a of argv) {
        const m = /^--([^=]+)=(.*)$/s.exec(a);
        if (m) out[m[1]] = m[2];
    }
    return out;
}

/** `etcdutl snapshot restore` arguments for one member, from that member's own etcd flags. */
export function restoreArgs(etcdArgv: readonly string[], snapshot: string, dataDir: string, bumpRevision = 1_000_000_000): string[] {
    const f = flags(etcdArgv);
    const need = ["name", "initial-cluster", "initial-cluster-token", "initial-advertise-peer-urls"];
    const missing = need.filter((n) => !f[n]);
    if (missing.length > 0) throw new Error(`etcd flags lack ${missing.map((m) => `--${m}`).join(", ")}`);
    return [
        "snapshot", "restore", snapshot,
        `--name=${f.name}`, `--initial-cluster=${f["initial-cluster"]}`, `--initial-cluster-token=${f["initial-cluster-token"]}`,
        `--initial-advertise-peer-urls=${f["initial-advertise-peer-urls"]}`, `--data-dir=${dataDir}`,
        // Past every revision a client may have seen, and compacted, so no watch resumes into restored history.
        `--bump-revision=${bumpRevision}`, "--mark-compacted",
    ];
}
