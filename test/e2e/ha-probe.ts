// A probe loop for the ha spec: a quorum read through the balancer five times a second, each on a fresh
// connection, with hooks run between two probes (so a kill lands when no probe of this loop is in flight:
// a request already on a connection that is killed under it is lost on any TCP balancer).
import * as https from "node:https";
import { authHeaders, Credential } from "./kube";

export interface ProbeResult { at: number; ok: boolean; ms: number; detail?: string }

export class ProbeLoop {
    readonly results: ProbeResult[] = [];
    private running = true;
    private hooks: (() => void)[] = [];
    private done: Promise<void>;
    /** Extra checks sampled with each probe (e.g. which apiservers are ready), by the probe's time. */
    readonly samples: { at: number; value: unknown }[] = [];

    constructor(private cred: Credential, private path: string, private sample?: () => Promise<unknown>, private periodMs = 200) {
        this.done = this.loop();
    }

    /** Runs `fn` right after the next probe completes. */
    between(fn: () => void): Promise<void> {
        return new Promise((resolve) => this.hooks.push(() => { fn(); resolve(); }));
    }

    async stop(): Promise<ProbeResult[]> {
        this.running = false;
        await this.done;
        return this.results;
    }

    failures(): ProbeResult[] {
        return this.results.filter((r) => !r.ok);
    }

    private async loop(): Promise<void> {
        while (this.running) {
            const t0 = Date.now();
            const [r, s] = await Promise.all([this.probe(), this.sample ? this.sample().catch((e) => String(e)) : Promise.resolve(undefined)]);
            this.results.push(r);
            if (this.sample) this.samples.push({ at: t0, value: s });
            for (const h of this.hooks.splice(0)) h();
            await new Promise((res) => setTimeout(res, Math.max(0, this.periodMs - (Date.now() - t0))));
        }
    }

    private probe(): Promise<ProbeResult> {
        const at = Date.now();
        const u = new URL(this.path, this.cred.server);
        return new Promise((resolve) => {
            const req = https.request({
                host: u.hostname, port: u.port, path: u.pathname, method: "GET", agent: false, timeout: 15_000,
                ca: this.cred.caPem, cert: this.cred.certPem, key: this.cred.keyPem, headers: authHeaders(this.cred),
            }, (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("end", () => resolve({ at, ok: res.statusCode === 200, ms: Date.now() - at, ...(res.statusCode === 200 ? {} : { detail: `${res.statusCode} ${Buffer.concat(chunks).toString().slice(0, 200)}` }) }));
                res.on("error", (e) => resolve({ at, ok: false, ms: Date.now() - at, detail: String(e) }));
            });
            req.on("timeout", () => req.destroy(new Error("timed out")));
            req.on("error", (e) => resolve({ at, ok: false, ms: Date.now() - at, detail: String(e) }));
            req.end();
        });
    }
}
