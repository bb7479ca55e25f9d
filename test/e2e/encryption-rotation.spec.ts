// Encryption key rotation on the local ha topology, under load: 5,000 Secrets move from k1 to k2 through the
// four stages, the rewrite inside `promote` is killed twice and resumed, `retire` is refused while etcd still
// holds values under k1, a deleted key's name is refused afterwards, and two writers and a reader see no error
// while no apiserver restarts. etcd is read
// here with etcdctl and the value prefixes counted by this file, not by the code under test.
import * as assert from "assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { LocalStackPlan, planLocalStack } from "../../platforms/local/plan";
import { e2eLocal, ProgramStack, programStack, toolchain } from "./harness";
import { Credential, fromKubeconfig, request } from "./kube";
import { allProcesses, processesOn, until } from "./processes";
import { countSecretValues } from "./etcd-read";
import { E2E_PORTS } from "./ports";

const ports = E2E_PORTS.encryptionRotation;
const system = process.getuid?.() === 0;
const BINARIES = ["pulumi-resource-pulumi-nodejs", "pulumi-resource-tls", "pulumi-resource-random", "pulumi-resource-kubernetes",
    "etcd", "etcdctl", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "haproxy"];
const SECRETS = 5000;
const NAMESPACES = 5;
const ENC_KEY = "hardened-cluster:encryption";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The load: two writers at 10 ops/s each and a reader at 10 Hz, every failure kept. */
class Load {
    ops = { write: 0, read: 0 };
    errors: string[] = [];
    private running = true;
    private loops: Promise<void>[];

    constructor(private admin: Credential) {
        this.loops = [this.writer(0), this.writer(1), this.reader()];
    }

    private async every(ms: number, fn: () => Promise<void>): Promise<void> {
        while (this.running) {
            const t0 = Date.now();
            await fn().catch((e) => this.errors.push(String(e)));
            await sleep(Math.max(0, ms - (Date.now() - t0)));
        }
    }

    private writer(w: number): Promise<void> {
        let n = 0;
        return this.every(100, async () => {
            const i = n++;
            // Alternate: a new Secret, and an update of one the rewrite is moving (a conflict for it to retry).
            const r = i % 2 === 0
                ? await request(this.admin, "POST", `/api/v1/namespaces/rot-${w}/secrets`, { metadata: { name: `w${w}-${i}` }, stringData: { n: String(i) } })
                : await this.overwrite(`rot-${w}`, `s-${w}-${(i * 7) % (SECRETS / NAMESPACES)}`, i);
            this.ops.write++;
            if (r.status !== 201 && r.status !== 200) this.errors.push(`writer ${w}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
        });
    }

    /** An unconditional update (no resourceVersion): never a conflict here, while the rewrite's update of the same Secret may meet one. */
    private overwrite(ns: string, name: string, i: number) {
        return request(this.admin, "PUT", `/api/v1/namespaces/${ns}/secrets/${name}`, { apiVersion: "v1", kind: "Secret", metadata: { name, namespace: ns }, stringData: { touched: String(i) } });
    }

    private reader(): Promise<void> {
        return this.every(100, async () => {
            const i = Math.floor(Math.random() * SECRETS);
            const r = await request(this.admin, "GET", `/api/v1/namespaces/rot-${i % NAMESPACES}/secrets/s-${i % NAMESPACES}-${Math.floor(i / NAMESPACES)}`);
            this.ops.read++;
            if (r.status !== 200) this.errors.push(`reader: HTTP ${r.status} ${r.body.slice(0, 200)}`);
        });
    }

    async stop(): Promise<void> {
        this.running = false;
        await Promise.all(this.loops);
    }
}

describe("encryption key rotation on the local ha topology: rewrite inside the rotation, gated on etcd (real processes)", function () {
    this.timeout(30 * 60_000);
    let ps: ProgramStack;
    let plan: LocalStackPlan;
    let admin: Credential;
    let stateDir: string | undefined;
    let local: Record<string, unknown>;

    /** Secret values in etcd by the key that wrote them ("secretbox:k1", or "clear"). */
    const secretsByKey = (): Record<string, number> => countSecretValues(plan, (v) => {
        const m = /^k8s:enc:secretbox:v1:([^:]+):/.exec(v.subarray(0, 64).toString("latin1"));
        return m ? `secretbox:${m[1]}` : "clear";
    });
    const setStage = (stage: string, keys: string[]) => ps.stack.setConfig(ENC_KEY, { value: JSON.stringify({ stage, keys: keys.map((name) => ({ name })) }) });
    const up = () => ps.stack.up({ onOutput: (o) => process.env.HC_E2E_VERBOSE && process.stdout.write(o) });
    const apiserverPids = () => processesOn([ports.apiServer]).filter((p) => p.name === "kube-apiserver").map((p) => p.pid).sort();
    const checkpointFile = () => path.join(plan.local.runDir, "encryption", "rewrite-checkpoint.json");
    /** An up of `promote` whose rewrite is killed with SIGKILL once it has passed `fraction` of the Secrets. */
    const killedPromote = async (fraction: number): Promise<{ processed: number; message: string }> => {
        const running = up();
        const failed = running.then(() => undefined, (e: Error) => e);
        const processed = await until(`the rewrite to pass ${fraction * 100}%`, 300, async () => {
            try {
                const c = JSON.parse(fs.readFileSync(checkpointFile(), "utf8"));
                return c.processed >= fraction * SECRETS ? (c.processed as number) : undefined;
            } catch {
                return undefined;
            }
        });
        const rollout = allProcesses().filter((p) => p.args.some((a) => a.endsWith("rollout.ts") || a.endsWith("rollout.js")) && p.args.some((a) => a.includes(plan.local.runDir)));
        assert.equal(rollout.length, 1, `expected one rollout process, found ${rollout.length}`);
        process.kill(rollout[0].pid, "SIGKILL");
        const err = await failed;
        assert.ok(err instanceof Error, "the up whose rewrite was killed succeeded");
        return { processed, message: err.message };
    };

    before(async function () {
        toolchain(...BINARIES);
        const e2e = e2eLocal("encryption-rotation", ports, system);
        stateDir = e2e.stateDir;
        local = { ...e2e.local, topology: "ha" };
        ps = await programStack({
            name: "encryption-rotation", blueprint: true, binaries: BINARIES,
            config: { "hardened-cluster:local": { value: JSON.stringify(local) }, [ENC_KEY]: { value: JSON.stringify({ keys: [{ name: "k1" }] }) } },
        });
        plan = planLocalStack({ stack: ps.stackName, local: local as never, toolchainBin: toolchain().bin, isRoot: system });
        const res = await up();
        assert.equal(res.summary.result, "succeeded");
        admin = fromKubeconfig(res.outputs.kubeconfig.value);
    });
    after(async function () {
        await ps?.cleanup();
        if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
    });

    it(`stores ${SECRETS} Secrets under k1`, async function () {
        for (let n = 0; n < NAMESPACES; n++) {
            const r = await request(admin, "POST", "/api/v1/namespaces", { metadata: { name: `rot-${n}` } });
            assert.equal(r.status, 201, r.body);
        }
        let next = 0;
        const t0 = Date.now();
        await Promise.all(Array.from({ length: 16 }, async () => {
            while (next < SECRETS) {
                const i = next++;
                const ns = i % NAMESPACES;
                const r = await request(admin, "POST", `/api/v1/namespaces/rot-${ns}/secrets`, { metadata: { name: `s-${ns}-${Math.floor(i / NAMESPACES)}` }, stringData: { v: `value-${i}` } });
                assert.equal(r.status, 201, r.body);
            }
        }));
        console.log(`    ${SECRETS} Secrets created in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        const counts = secretsByKey();
        assert.ok((counts["secretbox:k1"] ?? 0) >= SECRETS, JSON.stringify(counts));
        assert.equal(counts.clear, undefined, JSON.stringify(counts));
    });

    it("rotates k1 -> k2 under load: promote killed at ~30% and ~60% resumes, retire refused until etcd is clean, no failed request, no apiserver restart", async function () {
        const pids = apiserverPids();
        assert.equal(pids.length, 2, `expected two apiservers, found ${pids.length}`);
        const load = new Load(admin);
        const t0 = Date.now();
        try {
            await setStage("add", ["k1", "k2"]);
            const add = await up();
            assert.equal(add.outputs.details.value.encryption.staleValues, 0);

            await setStage("promote", ["k1", "k2"]);
            const first = await killedPromote(0.3);
            assert.match(first.message, /encryption rollout killed by SIGKILL/);
            const between = secretsByKey();
            console.log(`    promote killed after ${first.processed} objects: etcd secrets ${JSON.stringify(between)}`);
            assert.ok((between["secretbox:k1"] ?? 0) > 0 && (between["secretbox:k2"] ?? 0) > 0, JSON.stringify(between));

            // retire now would leave every Secret still under k1 unreadable: refused before anything changes.
            await setStage("retire", ["k1", "k2"]);
            const refused = await up().then(() => undefined, (e: Error) => e);
            assert.ok(refused instanceof Error, "retire went ahead while etcd still held values under k1");
            const m = /hardened-cluster:encryption\.stage: "retire" is not allowed; it drops secretbox:k1 from the encryption config while etcd still holds (\d+) values written with it \(e\.g\. \/registry\/secrets\//.exec(refused.message);
            assert.ok(m, refused.message);
            const stillK1 = secretsByKey()["secretbox:k1"] ?? 0;
            console.log(`    retire refused: ${m[1]} values under k1 (etcdctl here: ${stillK1} Secrets)`);
            assert.ok(Number(m[1]) >= stillK1 && stillK1 > 0);
            assert.ok(fs.readFileSync(path.join(plan.local.runDir, "encryption", "rollout-job.json"), "utf8").includes("secretbox:k2"));

            await setStage("promote", ["k1", "k2"]);
            const second = await killedPromote(0.6);
            assert.match(second.message, /encryption rollout killed by SIGKILL/);
            assert.ok(second.processed > first.processed, `${second.processed} <= ${first.processed}`);

            const done = await up();
            const enc = done.outputs.details.value.encryption;
            console.log(`    promote finished: resumed at ${enc.resumedAt}, ${enc.rewritten} objects written back at ${Number(enc.rewritePerSecond).toFixed(0)}/s; key refs ${JSON.stringify(enc.keyRefs)}`);
            assert.equal(enc.staleValues, 0);
            assert.ok(enc.resumedAt >= second.processed, `the last rewrite started at ${enc.resumedAt}, not from the checkpoint (${second.processed})`);
            assert.equal(enc.keyRefs["secretbox:k1"], undefined, JSON.stringify(enc.keyRefs));
            assert.ok(!fs.existsSync(checkpointFile()), "the checkpoint outlived a finished rewrite");
            const after = secretsByKey();
            assert.equal(after["secretbox:k1"], undefined, JSON.stringify(after));
            assert.ok(after["secretbox:k2"] >= SECRETS, JSON.stringify(after));

            await setStage("retire", ["k1", "k2"]);
            assert.equal((await up()).outputs.details.value.encryption.staleValues, 0);
            await setStage("steady", ["k2"]);
            assert.equal((await up()).outputs.details.value.encryption.staleValues, 0);
            // k1's material is gone with the final steady: a new key by that name would be taken for the old one.
            await setStage("add", ["k2", "k1"]);
            const reused = await ps.stack.preview().then(() => undefined, (e: Error) => e);
            assert.ok(reused instanceof Error, "a deleted key's name was accepted again");
            assert.match(reused.message, /hardened-cluster:encryption\.keys\[1\]\.name: "k1" is not allowed; this stack used secretbox:k1 before and has deleted its material/);
            await setStage("steady", ["k2"]);
        } finally {
            await load.stop();
        }
        console.log(`    full rotation ${((Date.now() - t0) / 1000).toFixed(0)} s; load: ${load.ops.write} writes, ${load.ops.read} reads, ${load.errors.length} errors`);
        assert.ok(load.ops.write > 100 && load.ops.read > 100, JSON.stringify(load.ops));
        assert.deepEqual(load.errors.slice(0, 5), []);
        assert.deepEqual(apiserverPids(), pids, "an apiserver restarted during the rotation");
        // Every Secret reads back, the rewritten ones and those written under load.
        const list = await request(admin, "GET", "/api/v1/secrets?limit=10000");
        assert.equal(list.status, 200, list.body);
        assert.ok(list.json().items.length >= SECRETS);
    });
});
