// `npm run bench`: what the blueprint costs on top of its floors, measured in one run on this machine.
//   (a) bare floor: the same etcd + kube-apiserver binaries with minimal flags, from start to /readyz
//   (b) the engine's floor: `pulumi up` of an empty program
//   (c) `pulumi up` of the local stack from nothing to a ready, hardened control plane
//   (d) a no-change `pulumi up` of it
//   (e) `pulumi preview` of the local stack with 20 and with 200 tenant namespaces, time and peak memory
//   (f) `pulumi up` of the local ha topology from nothing to ready, and its ratio to (c) (a figure, no goal)
//   (g) what the policy pack adds to a preview of the local stack (bench/policy-overhead.ts); goal <= 30 %
//   (h) etcd backup size and time, and restore time, of the local stack holding 5,000 Secrets (bench/backup.ts)
//   (i) the key rotation's rewrite of those Secrets (bench/rotation.ts); goal >= 50 objects/s
// Goals (not tests): (c) <= 1.6 x ((a) + (b)); (d) <= 1.5 x (b); (e) 200/20 time ratio <= 10, peak <= 1 GiB.
// Then bench/baseline-render.ts in a process of its own, and last exactly one line `bench-json: {...}`
// holding every figure (ms, MiB), the ratios, the goals and whether each is met, for a script to read.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import { programStack, toolchain } from "../test/e2e/harness";
import type { RenderFigures } from "./baseline-render";
import { backupFigures } from "./backup";
import { MIGRATION_RATE_GOAL } from "./rotation";
import { policyOverhead } from "./policy-overhead";
import { E2E_PORTS } from "../test/e2e/ports";

/** The goals, as the largest ratio (or MiB) that still meets them. */
const GOALS = { coldRatio: 1.6, noopRatio: 1.5, previewRatio: 10, previewPeakMiB: 1024, policyOverhead: 0.3 } as const;

const ports = E2E_PORTS.bench;

const seconds = (ms: number) => (ms / 1000).toFixed(2);
const timed = async <T>(f: () => Promise<T>): Promise<[number, T]> => {
    const t0 = Date.now();
    const r = await f();
    return [Date.now() - t0, r];
};

function readyz(url: string): Promise<boolean> {
    return new Promise((resolve) => {
        https.get(url, { rejectUnauthorized: false, timeout: 1000 }, (res) => {
            res.resume();
            resolve(res.statusCode === 200);
        }).on("error", () => resolve(false));
    });
}

/** (a) etcd + kube-apiserver with the fewest flags that boot, timed from the first spawn to /readyz. */
async function bareFloor(bin: string): Promise<number> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-bench-bare-"));
    const sa = path.join(dir, "sa.key");
    const saPub = path.join(dir, "sa.pub");
    spawnSync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", sa]);
    spawnSync("openssl", ["pkey", "-in", sa, "-pubout", "-out", saPub]);
    const t0 = Date.now();
    const etcd = spawn(path.join(bin, "etcd"), [`--data-dir=${dir}/etcd`, `--listen-client-urls=http://127.0.0.1:${ports.etcdClient}`,
        `--advertise-client-urls=http://127.0.0.1:${ports.etcdClient}`, `--listen-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${ports.etcdPeer}`, `--initial-cluster=default=http://127.0.0.1:${ports.etcdPeer}`], { stdio: "ignore" });
    const api = spawn(path.join(bin, "kube-apiserver"), [`--etcd-servers=http://127.0.0.1:${ports.etcdClient}`, `--secure-port=${ports.apiServer}`,
        "--bind-address=127.0.0.1", `--cert-dir=${dir}/certs`, "--service-account-issuer=https://kubernetes.default.svc",
        `--service-account-key-file=${saPub}`, `--service-account-signing-key-file=${sa}`, "--service-cluster-ip-range=10.96.0.0/12",
        // RBAC lets an anonymous probe read /readyz (system:public-info-viewer); AlwaysAllow would turn anonymous off.
        "--authorization-mode=RBAC", "--anonymous-auth=true"], { stdio: "ignore" });
    try {
        while (!(await readyz(`https://127.0.0.1:${ports.apiServer}/readyz`))) {
            if (Date.now() - t0 > 120_000) throw new Error("bare kube-apiserver not ready after 120 s");
            await new Promise((r) => setTimeout(r, 50));
        }
        return Date.now() - t0;
    } finally {
        api.kill("SIGKILL");
        etcd.kill("SIGKILL");
        await new Promise((r) => setTimeout(r, 500));
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

function tenants(n: number) {
    return { tenants: Array.from({ length: n }, (_, i) => ({ name: `tenant-${i}` })) };
}

/** (e) `pulumi preview` through the CLI, with the peak RSS of the process tree it waited for. */
async function preview(n: number): Promise<{ ms: number; peakMiB: number }> {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-bench-preview-"));
    const ps = await programStack({
        name: `bench-preview-${n}`, blueprint: true,
        config: {
            "hardened-cluster:local": { value: JSON.stringify({ layout: "user", stateDir, ports }) },
            "hardened-cluster:baseline": { value: JSON.stringify(tenants(n)) },
        },
    });
    try {
        const tc = toolchain();
        const env = { ...process.env, ...ps.env };
        const t0 = Date.now();
        const res = spawnSync("/usr/bin/time", ["-f", "%M", path.join(tc.bin, "pulumi"), "preview", "--stack", ps.stackName, "--non-interactive"],
            { cwd: ps.workDir, env, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
        const ms = Date.now() - t0;
        if (res.status !== 0) throw new Error(`preview with ${n} tenants failed: ${res.stdout.slice(-2000)}${res.stderr.slice(-2000)}`);
        const peakKiB = Number(res.stderr.trim().split("\n").pop());
        return { ms, peakMiB: Math.round(peakKiB / 1024) };
    } finally {
        await ps.cleanup();
        fs.rmSync(stateDir, { recursive: true, force: true });
    }
}

/** bench/baseline-render.ts with its defaults, in a fresh process; its own line is printed as it is. */
function baselineRender(): RenderFigures {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-bench-render-"));
    const result = path.join(dir, "render.json");
    try {
        const res = spawnSync(process.execPath, ["-r", "ts-node/register", path.join(__dirname, "baseline-render.ts")],
            { env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true", HC_BENCH_RESULT: result }, encoding: "utf8" });
        if (res.status !== 0 || !fs.existsSync(result)) throw new Error(`baseline-render failed (status ${res.status}): ${res.stdout}${res.stderr}`);
        process.stdout.write(res.stdout);
        return JSON.parse(fs.readFileSync(result, "utf8"));
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

const round = (x: number, digits = 0) => Number(x.toFixed(digits));

/** A blueprint stack of the local platform: its cold up, optionally a no-change up, then destroy. */
async function localUps(name: string, local: Record<string, unknown>, noop: boolean): Promise<{ coldMs: number; noopMs?: number; resources: number }> {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), `hc-${name}-`));
    const ps = await programStack({
        name, blueprint: true,
        config: { "hardened-cluster:local": { value: JSON.stringify({ layout: "user", stateDir, ports, ...local }) } },
    });
    try {
        const [coldMs, cold] = await timed(() => ps.stack.up());
        const resources = Object.values(cold.summary.resourceChanges ?? {}).reduce((n, k) => n + (k ?? 0), 0);
        const noopMs = noop ? (await timed(() => ps.stack.up()))[0] : undefined;
        return { coldMs, noopMs, resources };
    } finally {
        await ps.cleanup();
        fs.rmSync(stateDir, { recursive: true, force: true });
    }
}

async function main() {
    const tc = toolchain("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "pulumi-resource-tls",
        "pulumi-resource-random", "pulumi-resource-kubernetes", "pulumi-resource-pulumi-nodejs", "haproxy", "etcdctl", "etcdutl");
    const a = await bareFloor(tc.bin);

    const empty = await programStack({ name: "bench-empty", program: "export const nothing = true;\n" });
    const [b] = await timed(() => empty.stack.up());
    await empty.cleanup();

    const single = await localUps("bench-local", {}, true);
    const [c, d, localResources] = [single.coldMs, single.noopMs!, single.resources];
    // The ha topology: three etcd members, two apiservers and the balancer, from nothing to ready.
    const ha = await localUps("bench-ha", { topology: "ha" }, false);

    const policy = await policyOverhead(ports);
    const bk = await backupFigures(ports);
    const p20 = await preview(20);
    const p200 = await preview(200);

    const ratio = { coldRatio: c / (a + b), noopRatio: d / b, previewRatio: p200.ms / p20.ms };
    const previewPeakMiB = Math.max(p20.peakMiB, p200.peakMiB);
    const met = {
        coldRatio: ratio.coldRatio <= GOALS.coldRatio,
        noopRatio: ratio.noopRatio <= GOALS.noopRatio,
        previewRatio: ratio.previewRatio <= GOALS.previewRatio,
        previewPeakMiB: previewPeakMiB <= GOALS.previewPeakMiB,
        policyOverhead: policy.ratio <= GOALS.policyOverhead,
        migrationRate: bk.rotation.migrationRate >= MIGRATION_RATE_GOAL,
    };
    const verdict = (ok: boolean) => (ok ? "met" : "MISSED");

    const rows: [string, string][] = [
        ["(a) bare etcd + kube-apiserver to /readyz", `${seconds(a)} s`],
        ["(b) pulumi up, empty program", `${seconds(b)} s`],
        ["(c) pulumi up, local stack from nothing to ready", `${seconds(c)} s (${localResources} resources)`],
        ["(d) pulumi up, no change", `${seconds(d)} s`],
        ["(f) pulumi up, local ha topology from nothing to ready", `${seconds(ha.coldMs)} s (${ha.resources} resources)`],
        ["(f) / (c)", `${(ha.coldMs / c).toFixed(2)}`],
        ["(e) pulumi preview, 20 tenants", `${seconds(p20.ms)} s, peak ${p20.peakMiB} MiB`],
        ["(e) pulumi preview, 200 tenants", `${seconds(p200.ms)} s, peak ${p200.peakMiB} MiB`],
        ["(c) / ((a) + (b))", `${ratio.coldRatio.toFixed(2)} (goal <= ${GOALS.coldRatio}: ${verdict(met.coldRatio)})`],
        ["(d) / (b)", `${ratio.noopRatio.toFixed(2)} (goal <= ${GOALS.noopRatio}: ${verdict(met.noopRatio)})`],
        ["(e) time 200 / 20", `${ratio.previewRatio.toFixed(2)} (goal <= ${GOALS.previewRatio}: ${verdict(met.previewRatio)})`],
        ["(g) preview without / with the policy pack", `${seconds(policy.bareMs)} s / ${seconds(policy.packMs)} s`],
        ["(g) time the pack adds", `${(policy.ratio * 100).toFixed(0)} % (goal <= ${GOALS.policyOverhead * 100} %: ${verdict(met.policyOverhead)})`],
        ["(h) 5,000 Secrets: created / backup / restore", `${seconds(bk.createMs)} s / ${seconds(bk.backupMs)} s (${(bk.bundleBytes / 2 ** 20).toFixed(1)} MiB sealed, revision ${bk.revision}) / ${seconds(bk.restoreMs)} s`],
        ["(i) key rotation: Secrets rewritten / rate / promote up", `${bk.rotation.rewritten} / ${bk.rotation.migrationRate}/s (goal >= ${MIGRATION_RATE_GOAL}/s: ${verdict(met.migrationRate)}) / ${seconds(bk.rotation.promoteUpMs)} s`],
        ["(e) peak memory", `${previewPeakMiB} MiB (goal <= ${GOALS.previewPeakMiB}: ${verdict(met.previewPeakMiB)})`],
    ];
    console.log(`hardened-cluster bench on ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB`);
    for (const [k, v] of rows) console.log(`  ${k.padEnd(52)} ${v}`);

    const render = baselineRender();

    const json = {
        cores: os.cpus().length, memGiB: round(os.totalmem() / 2 ** 30, 1),
        bareFloorMs: a, emptyUpMs: b, coldUpMs: c, noopUpMs: d, localResources,
        policyBareMs: policy.bareMs, policyPackMs: policy.packMs, policyOverhead: round(policy.ratio, 3),
        backupSecrets: bk.secrets, backupCreateMs: bk.createMs, backupBytes: bk.bundleBytes, backupMs: bk.backupMs, restoreMs: bk.restoreMs,
        migrationRate: bk.rotation.migrationRate, migrationRewritten: bk.rotation.rewritten, promoteUpMs: bk.rotation.promoteUpMs, migrationStaleAfter: bk.rotation.staleAfter,
        haColdUpMs: ha.coldMs, haResources: ha.resources, haToSingleColdRatio: round(ha.coldMs / c, 3),
        preview20Ms: p20.ms, preview20PeakMiB: p20.peakMiB, preview200Ms: p200.ms, preview200PeakMiB: p200.peakMiB,
        coldRatio: round(ratio.coldRatio, 3), noopRatio: round(ratio.noopRatio, 3), previewRatio: round(ratio.previewRatio, 3), previewPeakMiB,
        renderTenants: render.tenants, renderObjects: render.objects, renderRuns: render.runs,
        renderMedianMs: round(render.medianMs, 2), renderMinMs: round(render.minMs, 2), renderMaxMs: round(render.maxMs, 2),
        goals: GOALS, met, allGoalsMet: Object.values(met).every(Boolean),
    };
    console.log(`bench-json: ${JSON.stringify(json)}`);
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
