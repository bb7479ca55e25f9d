// What etcd's stored values say about encryption at rest: which key wrote each value, read from the prefix the
// apiserver puts in front of every value it encrypts. Pure: the platforms list the values (etcdctl, a snapshot)
// and the rotation, the backup retention and the restore pre-flight all read them through these functions.
import { parse } from "yaml";

/** Encryption key references in a set of values: "<provider>:<name>" -> number of values. */
export type KeyRefs = Record<string, number>;

const ENC_PREFIX = Buffer.from("k8s:enc:");

/** "<provider>:<name>" of a value the apiserver encrypted, or undefined for a value stored clear. */
function refOf(value: Buffer): string | undefined {
    if (!value.subarray(0, ENC_PREFIX.length).equals(ENC_PREFIX)) return undefined;
    // Only the header is text: `k8s:enc:<provider>:v1:<key name>:` (KMS v2: `k8s:enc:kms:v2:<plugin name>:`);
    // the ciphertext after the name's colon may hold anything.
    const m = /^k8s:enc:([a-z0-9]+):v[0-9]+:([^:]+):/.exec(value.subarray(0, 300).toString("latin1"));
    return m ? `${m[1]}:${m[2]}` : undefined;
}

function varint(b: Buffer, at: number): [number, number] {
    let v = 0;
    let mul = 1;
    for (let i = at; i < b.length && i < at + 10; i++) {
        v += (b[i] & 0x7f) * mul;
        if ((b[i] & 0x80) === 0) return [v, i + 1];
        mul *= 128;
    }
    throw new Error("truncated varint");
}

/**
 * The KEK id a KMS v2 value was wrapped under: the `keyID` (field 2) of the EncryptedObject protobuf after the
 * `k8s:enc:kms:v2:<plugin name>:` header (k8s.io/apiserver kmsv2 api.proto). Undefined for anything else.
 */
export function kmsKeyId(value: Buffer): string | undefined {
    const m = /^k8s:enc:kms:v2:[^:]+:/.exec(value.subarray(0, 300).toString("latin1"));
    if (!m) return undefined;
    const b = value.subarray(m[0].length);
    try {
        for (let at = 0; at < b.length;) {
            const [tag, next] = varint(b, at);
            const field = Math.floor(tag / 8);
            const wire = tag % 8;
            if (wire === 0) at = varint(b, next)[1];
            else if (wire === 2) {
                const [len, start] = varint(b, next);
                if (start + len > b.length) return undefined;
                if (field === 2) return b.subarray(start, start + len).toString("utf8");
                at = start + len;
            } else return undefined;
        }
    } catch {
        return undefined;
    }
    return undefined;
}

/** An etcd key-value as `etcdctl get -w json` prints it: both base64. */
export interface EtcdKv {
    key: string;
    value?: string;
}

/** Counts the encryption keys the values under /registry/ name. */
export function keyRefs(kvs: readonly EtcdKv[]): KeyRefs {
    const refs: KeyRefs = {};
    for (const kv of kvs) {
        if (!Buffer.from(kv.key, "base64").toString("latin1").startsWith("/registry/") || !kv.value) continue;
        const ref = refOf(Buffer.from(kv.value, "base64"));
        if (ref) refs[ref] = (refs[ref] ?? 0) + 1;
    }
    return refs;
}

/** "<provider>:<name>" of each key, as the apiserver writes it into a value's prefix (and keyRefs reads it back). */
export function encryptionRefs(keys: readonly { provider: string; name: string }[]): string[] {
    return [...new Set(keys.map((k) => `${k.provider}:${k.name}`))].sort();
}

/** "<provider>:<name>" of every key an EncryptionConfiguration holds (identity has none). */
export function configuredKeys(encryptionConfigYaml: string): string[] {
    const doc = parse(encryptionConfigYaml) as { resources?: { providers?: Record<string, { keys?: { name: string }[]; name?: string }>[] }[] };
    const out = new Set<string>();
    for (const r of doc?.resources ?? []) {
        for (const p of r.providers ?? []) {
            for (const [provider, body] of Object.entries(p)) {
                if (provider === "kms" && body?.name) out.add(`kms:${body.name}`);
                for (const k of body?.keys ?? []) out.add(`${provider}:${k.name}`);
            }
        }
    }
    return [...out].sort();
}

/** etcd key prefixes of the covered resources whose storage path is fixed: where a value stored clear is stale. */
export function plainPrefixes(resources: readonly string[]): string[] {
    const out: string[] = [];
    for (const r of resources) {
        if (r === "*.*" || r === "*.") out.push("/registry/secrets/", "/registry/configmaps/");
        else if (r === "secrets" || r === "configmaps") out.push(`/registry/${r}/`);
    }
    return [...new Set(out)].sort();
}

export interface StaleScan {
    /** Values under /registry/ that were read. */
    scanned: number;
    /** Encrypted values by the key that wrote them. */
    refs: KeyRefs;
    /** Values encrypted with a key other than `writer`, plus clear values under `plainUnder`: what a rewrite must still reach. */
    stale: number;
    /** Up to three etcd keys of stale values, for messages. */
    sample: string[];
    /** KMS v2 values by the KEK id that wrapped their data key. */
    kmsKeyIds: Record<string, number>;
}

/**
 * Which values a rewrite has not reached yet: written with another key than `writer`, clear where covered, or
 * (a KMS v2 writer, given `writerKeyId`) wrapped under another KEK id than the plugin's current one.
 */
export function scanStale(kvs: readonly EtcdKv[], writer: string, plainUnder: readonly string[] = [], writerKeyId?: string): StaleScan {
    const refs: KeyRefs = {};
    const kmsKeyIds: Record<string, number> = {};
    let scanned = 0;
    let stale = 0;
    const sample: string[] = [];
    for (const kv of kvs) {
        const k = Buffer.from(kv.key, "base64").toString("latin1");
        if (!k.startsWith("/registry/") || !kv.value) continue;
        scanned++;
        const value = Buffer.from(kv.value, "base64");
        const ref = refOf(value);
        if (ref) refs[ref] = (refs[ref] ?? 0) + 1;
        const kek = ref?.startsWith("kms:") ? kmsKeyId(value) : undefined;
        if (kek !== undefined) kmsKeyIds[kek] = (kmsKeyIds[kek] ?? 0) + 1;
        const isStale = ref ? ref !== writer || (writerKeyId !== undefined && kek !== writerKeyId) : plainUnder.some((p) => k.startsWith(p));
        if (isStale) {
            stale++;
            if (sample.length < 3) sample.push(k);
        }
    }
    return { scanned, refs, stale, sample, kmsKeyIds };
}

/** Values under /registry/ that `match`, with up to three of their etcd keys. */
function countValues(kvs: readonly EtcdKv[], match: (value: Buffer) => boolean): { count: number; sample: string[] } {
    let count = 0;
    const sample: string[] = [];
    for (const kv of kvs) {
        const k = Buffer.from(kv.key, "base64").toString("latin1");
        if (!k.startsWith("/registry/") || !kv.value) continue;
        if (match(Buffer.from(kv.value, "base64"))) {
            count++;
            if (sample.length < 3) sample.push(k);
        }
    }
    return { count, sample };
}

/** Values that name one of `keys`: what dropping those keys from the file would leave unreadable. */
export function valuesUsing(kvs: readonly EtcdKv[], keys: readonly string[]): { count: number; sample: string[] } {
    return countValues(kvs, (v) => {
        const ref = refOf(v);
        return ref !== undefined && keys.includes(ref);
    });
}

/** KMS v2 values whose data key one of `kekIds` wrapped: what dropping those KEKs would leave unreadable. */
export function valuesWrappedWith(kvs: readonly EtcdKv[], kekIds: readonly string[]): { count: number; sample: string[] } {
    return countValues(kvs, (v) => {
        const id = kmsKeyId(v);
        return id !== undefined && kekIds.includes(id);
    });
}
