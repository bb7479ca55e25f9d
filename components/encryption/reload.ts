// Whether every apiserver runs on the encryption file as it is now. With automatic reload an apiserver polls
// the file about once a minute; it reports the file it loaded as
// apiserver_encryption_config_controller_last_config_info{hash="sha256:<hex of the file's bytes>"} (present
// from its start, updated by each reload) and counts refused files in
// apiserver_encryption_config_controller_automatic_reloads_total{status="failure"}. A rotation stage moves on
// only once every apiserver reports the file's hash: a key one apiserver has not loaded yet cannot be read there.
import { createHash } from "node:crypto";

export function configHash(fileBytes: string | Buffer): string {
    return `sha256:${createHash("sha256").update(fileBytes).digest("hex")}`;
}

export interface ReloadMetrics {
    /** Hashes of the file the apiserver runs on (one apiserver reports one). */
    hashes: string[];
    successes: number;
    failures: number;
}

const LINE = /^(apiserver_encryption_config_controller_(?:last_config_info|automatic_reloads_total))\{([^}]*)\}\s+(\S+)/;

function labels(s: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const m of s.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) out[m[1]] = m[2];
    return out;
}

/** Reads the two metrics out of an apiserver's /metrics text. */
export function parseReloadMetrics(text: string): ReloadMetrics {
    const out: ReloadMetrics = { hashes: [], successes: 0, failures: 0 };
    for (const line of text.split("\n")) {
        const m = LINE.exec(line);
        if (!m) continue;
        const l = labels(m[2]);
        const v = Number(m[3]);
        if (m[1].endsWith("last_config_info")) {
            if (l.hash && v === 1) out.hashes.push(l.hash);
        } else if (l.status === "success") out.successes += v;
        else if (l.status === "failure") out.failures += v;
    }
    return out;
}

export interface ApiServerMetrics {
    /** Shown in messages, e.g. its URL. */
    name: string;
    metrics(): Promise<string>;
}

export interface WaitOptions {
    timeoutMs: number;
    pollMs?: number;
    sleep?: (ms: number) => Promise<void>;
    now?: () => number;
}

/**
 * Resolves once every apiserver reports `hash`, with the seconds it took. Fails naming the apiserver when one
 * refuses the file (its failure count rises) or has not loaded it by the timeout.
 */
export async function waitForConfig(apiservers: readonly ApiServerMetrics[], hash: string, o: WaitOptions): Promise<number> {
    if (apiservers.length === 0) throw new Error("no apiserver to wait for");
    const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const now = o.now ?? Date.now;
    const start = now();
    const firstFailures = new Map<string, number>();
    const pending = new Set(apiservers.map((a) => a.name));
    const last = new Map<string, string>();
    for (;;) {
        for (const a of apiservers) {
            if (!pending.has(a.name)) continue;
            let m: ReloadMetrics;
            try {
                m = parseReloadMetrics(await a.metrics());
            } catch (e) {
                last.set(a.name, `metrics unreadable: ${(e as Error).message}`);
                continue;
            }
            if (m.hashes.includes(hash)) {
                pending.delete(a.name);
                continue;
            }
            const before = firstFailures.get(a.name);
            if (before === undefined) firstFailures.set(a.name, m.failures);
            else if (m.failures > before) {
                throw new Error(`${a.name} refused the new encryption config (automatic reload failures ${before} -> ${m.failures}); it still runs on ${m.hashes[0] ?? "an unknown file"}: see its log`);
            }
            last.set(a.name, `runs on ${m.hashes[0] ?? "no reported file"}`);
        }
        if (pending.size === 0) return (now() - start) / 1000;
        if (now() - start > o.timeoutMs) {
            throw new Error(`not every apiserver loaded the encryption config ${hash} within ${Math.round(o.timeoutMs / 1000)} s: ${[...pending].map((n) => `${n} ${last.get(n) ?? ""}`.trim()).join("; ")}`);
        }
        await sleep(o.pollMs ?? 2000);
    }
}

/**
 * The KEK id a KMS v2 provider's last Status call returned, as its hash: the newest sample of
 * apiserver_envelope_encryption_key_id_hash_status_last_timestamp_seconds{provider_name} ("sha256:<hex of the id>").
 * The apiserver switches to a new data key when the id changes, so the newest id is the one new writes use.
 */
export function latestKmsKeyIdHash(text: string, providerName: string): string | undefined {
    let best: { hash: string; at: number } | undefined;
    for (const line of text.split("\n")) {
        const m = /^apiserver_envelope_encryption_key_id_hash_status_last_timestamp_seconds\{([^}]*)\}\s+(\S+)/.exec(line);
        if (!m) continue;
        const l = labels(m[1]);
        const at = Number(m[2]);
        if (l.provider_name === providerName && l.key_id_hash && (!best || at > best.at)) best = { hash: l.key_id_hash, at };
    }
    return best?.hash;
}

export function keyIdHash(keyId: string): string {
    return `sha256:${createHash("sha256").update(keyId).digest("hex")}`;
}

/** Resolves once every apiserver's KMS v2 provider `providerName` reports `keyId` as current, with the seconds it took. */
export async function waitForKmsKeyId(apiservers: readonly ApiServerMetrics[], providerName: string, keyId: string, o: WaitOptions): Promise<number> {
    const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const now = o.now ?? Date.now;
    const start = now();
    const want = keyIdHash(keyId);
    const pending = new Set(apiservers.map((a) => a.name));
    for (;;) {
        for (const a of apiservers) {
            if (!pending.has(a.name)) continue;
            const got = await a.metrics().then((t) => latestKmsKeyIdHash(t, providerName), () => undefined);
            if (got === want) pending.delete(a.name);
        }
        if (pending.size === 0) return (now() - start) / 1000;
        if (now() - start > o.timeoutMs) {
            throw new Error(`not every apiserver uses KMS key id ${keyId} of ${providerName} within ${Math.round(o.timeoutMs / 1000)} s: ${[...pending].join(", ")}`);
        }
        await sleep(o.pollMs ?? 2000);
    }
}
