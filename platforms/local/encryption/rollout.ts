// One encryption rollout on a local stack, run as its own process by the EncryptionRollout resource (and the
// same way by `npm run encryption`): waits until every apiserver runs on the file as it is now, scans etcd for
// values the file's first key did not write, rewrites every covered object when there are any, and scans
// again. It prints its result as one JSON line; a rewrite it could not finish leaves its checkpoint behind,
// and the next run resumes there.
import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import { CLUSTER_ADMINS_GROUP } from "../../../components/common";
import { ApiCall, ApiServerMetrics, configHash, configuredKeys, coveredResources, plainPrefixes, rewriteAll, RewriteCheckpoint, RewriteResult, scanStale, StaleScan, waitForConfig, waitForKmsKeyId } from "../../../components/encryption";
import { mintClientCert } from "../../../components/pki/ephemeral";
import { registryValues } from "../backup/target";
import type { KeyHistory, RolloutJob } from "./job";

const IDENTITY = "hardened-cluster:encryption-rollout";

export interface RolloutResult {
    writer: string;
    configHash: string;
    /** Seconds until every apiserver reported the file. */
    loadedAfterSeconds: number;
    before: Omit<StaleScan, "sample"> & { sample: string[] };
    rewrite?: Omit<RewriteResult, "checkpoint"> & { seconds: number; perSecond: number };
    after: Omit<StaleScan, "sample"> & { sample: string[] };
}

function api(job: RolloutJob, base: string): ApiCall {
    const ca = fs.readFileSync(job.caCertFile, "utf8");
    // Valid for the run only; never written anywhere.
    const cred = mintClientCert(ca, fs.readFileSync(job.caKeyFile, "utf8"), IDENTITY, [CLUSTER_ADMINS_GROUP], 120);
    const agent = new https.Agent({ keepAlive: true, maxSockets: 32, ca, cert: cred.certPem, key: cred.keyPem });
    return (method, p, body) => new Promise((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const req = https.request(new URL(p, base), { method, agent, headers: { Accept: "application/json", "Content-Type": "application/json" }, timeout: 60_000 }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (d: Buffer) => chunks.push(d));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        });
        req.on("timeout", () => req.destroy(new Error(`${method} ${p}: timed out`)));
        req.on("error", reject);
        if (payload) req.write(payload);
        req.end();
    });
}

function readCheckpoint(file: string): RewriteCheckpoint | undefined {
    try {
        return JSON.parse(fs.readFileSync(file, "utf8")) as RewriteCheckpoint;
    } catch {
        return undefined;
    }
}

/** Written whole or not at all (a killed run leaves the previous file). */
function saveJson(file: string, value: unknown): void {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.part`;
    fs.writeFileSync(tmp, JSON.stringify(value) + "\n", { mode: 0o600, flag: "wx" });
    fs.renameSync(tmp, file);
}

function recordHistory(job: RolloutJob, inFile: string[]): void {
    let before: KeyHistory = { used: [], keys: [] };
    try {
        before = JSON.parse(fs.readFileSync(job.historyFile, "utf8")) as KeyHistory;
    } catch {
        // First rollout of this stack.
    }
    const history: KeyHistory = { used: [...new Set([...(before.used ?? []), ...inFile, ...job.keys])].sort(), keys: [...job.keys].sort() };
    saveJson(job.historyFile, history);
}

function metricsOf(job: RolloutJob): ApiServerMetrics[] {
    return job.apiservers.map((origin) => {
        const call = api(job, origin);
        return {
            name: `kube-apiserver ${origin}`,
            metrics: async () => {
                const r = await call("GET", "/metrics");
                if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
                return r.text;
            },
        };
    });
}

export function scanEtcd(job: Pick<RolloutJob, "etcd" | "writer" | "resources" | "writerKeyId">): StaleScan {
    return scanStale(registryValues(job.etcd), job.writer, plainPrefixes(job.resources), job.writerKeyId);
}

export async function runRollout(job: RolloutJob, log: (line: string) => void = () => undefined): Promise<RolloutResult> {
    const hash = configHash(fs.readFileSync(job.configFile));
    // One client per apiserver (each mints its credential once) for both waits.
    const apiservers = metricsOf(job);
    const loadedAfterSeconds = await waitForConfig(apiservers, hash, { timeoutMs: job.reloadTimeoutSeconds * 1000 });
    log(`every apiserver (${job.apiservers.length}) runs on ${hash} (${loadedAfterSeconds.toFixed(1)} s)`);
    if (job.writerKeyId) {
        // The apiserver asks the plugin for its key id about once a minute and switches data keys when it changes.
        const provider = job.writer.slice("kms:".length);
        const s = await waitForKmsKeyId(apiservers, provider, job.writerKeyId, { timeoutMs: job.reloadTimeoutSeconds * 1000 });
        log(`every apiserver wraps new data keys with KEK ${job.writerKeyId} of ${provider} (${s.toFixed(1)} s)`);
    }
    const before = scanEtcd(job);
    log(`etcd: ${before.scanned} values, ${before.stale} not under ${job.writer} (${JSON.stringify(before.refs)})`);
    const checkpoint = readCheckpoint(job.checkpointFile);
    const pending = checkpoint?.writer === job.writer;
    let rewrite: RolloutResult["rewrite"];
    if (before.stale > 0 || pending) {
        const call = api(job, job.server);
        const resources = await coveredResources(call, job.resources);
        const t0 = Date.now();
        const r = await rewriteAll(call, {
            writer: job.writer, resources, checkpoint,
            save: (c) => {
                saveJson(job.checkpointFile, c);
                log(`rewrite: ${c.processed} objects (${c.done.length}/${resources.length} resources done)`);
            },
        });
        const seconds = (Date.now() - t0) / 1000;
        const { checkpoint: _done, ...counts } = r;
        rewrite = { ...counts, seconds, perSecond: seconds > 0 ? r.rewritten / seconds : r.rewritten };
        log(`rewrite: ${r.rewritten} written back in ${seconds.toFixed(1)} s (${rewrite.perSecond.toFixed(0)}/s), resumed at ${r.resumedAt}, ${r.conflicts} conflicts, ${r.gone} gone`);
    }
    const after = rewrite ? scanEtcd(job) : before;
    if (after.stale > 0) {
        throw new Error(`etcd still holds ${after.stale} values not written with ${job.writer} after the rewrite (e.g. ${after.sample.join(", ")}); run pulumi up again`);
    }
    fs.rmSync(job.checkpointFile, { force: true });
    recordHistory(job, configuredKeys(fs.readFileSync(job.configFile, "utf8")));
    return { writer: job.writer, configHash: hash, loadedAfterSeconds, before, ...(rewrite ? { rewrite } : {}), after };
}

if (require.main === module) {
    const job = JSON.parse(fs.readFileSync(process.argv[2], "utf8")) as RolloutJob;
    const stamp = () => new Date().toISOString();
    runRollout(job, (line) => process.stderr.write(`${stamp()} ${line}\n`)).then(
        (r) => process.stdout.write(JSON.stringify(r) + "\n"),
        (e) => {
            process.stderr.write(`${stamp()} error: ${(e as Error).message}\n`);
            process.exit(1);
        },
    );
}
