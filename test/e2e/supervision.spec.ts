// Supervision of the local control plane, for real: the blueprint's own program brings up a stack with a
// tenant, then each component is killed with SIGKILL and must come back healthy with no `pulumi up`; a config
// change that restarts kube-apiserver must leave kube-controller-manager and kube-scheduler holding their
// leader-election Leases again (they exit when they lose them); and destroying the stack, whose namespaces
// need the controller manager's namespace controller to finish, must end and leave nothing running.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import type { HealthCheck } from "../../components/cluster";
import { planLocalStack, ProcessName } from "../../platforms/local/plan";
import { processProvider } from "../../platforms/local/process";
import { Credential, fromKubeconfig, request } from "./kube";
import { allProcesses, listening, Proc, timingLog, until } from "./processes";
import { e2eLocal, ProgramStack, programStack, toolchain } from "./harness";
import { E2E_PORTS } from "./ports";

const ports = E2E_PORTS.supervision;
const system = process.getuid?.() === 0;
const BINARIES = ["pulumi-resource-pulumi-nodejs", "pulumi-resource-tls", "pulumi-resource-random", "pulumi-resource-kubernetes",
    "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"];
const COMPONENTS: ProcessName[] = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** This stack's control-plane processes (their command lines carry its ports), by component. */
function components(): Partial<Record<ProcessName, Proc>> {
    const marks = Object.values(ports).flatMap((p) => [`:${p}`, `=${p}`]);
    const found: Partial<Record<ProcessName, Proc>> = {};
    for (const p of allProcesses()) {
        if (!(COMPONENTS as string[]).includes(p.name) || !marks.some((m) => p.args.some((a) => a.includes(m)))) continue;
        assert.equal(found[p.name as ProcessName], undefined, `two ${p.name} processes of this stack`);
        found[p.name as ProcessName] = p;
    }
    return found;
}

describe("supervised local control plane (real processes)", function () {
    this.timeout(30 * 60_000);
    let ps: ProgramStack;
    let plan: { health: Record<ProcessName, HealthCheck>; logFiles: Record<ProcessName, string> };
    let admin: Credential;
    let stateDir: string | undefined;
    const { timings, timed } = timingLog();

    /** Every component is running and passes the health check the provider itself uses. */
    const allHealthy = async (): Promise<Record<ProcessName, Proc> | undefined> => {
        const now = components();
        for (const c of COMPONENTS) {
            if (!now[c] || (await processProvider.probe(plan.health[c])) !== "ok") return undefined;
        }
        return now as Record<ProcessName, Proc>;
    };

    before(async function () {
        toolchain(...BINARIES);
        const e2e = e2eLocal("supervision", ports, system);
        stateDir = e2e.stateDir;
        const local = e2e.local;
        ps = await programStack({
            name: "supervision",
            blueprint: true,
            binaries: BINARIES,
            config: {
                "hardened-cluster:local": { value: JSON.stringify(local) },
                "hardened-cluster:baseline": { value: JSON.stringify({ tenants: [{ name: "team-a" }] }) },
            },
        });
        const planned = planLocalStack({ stack: ps.stackName, local: local as never, toolchainBin: toolchain().bin, isRoot: system });
        plan = {
            health: Object.fromEntries(planned.cluster.nodes[0].processes.map((p) => [p.name, p.health])) as Record<ProcessName, HealthCheck>,
            logFiles: planned.nodes[0].logFiles,
        };
        const res = await timed("first up", () => ps.stack.up({ onOutput: (o) => process.env.HC_E2E_VERBOSE && process.stdout.write(o) }));
        assert.equal(res.summary.result, "succeeded");
        admin = fromKubeconfig(res.outputs.kubeconfig.value);
    });
    after(async function () {
        console.log(`    timings:\n      ${timings.join("\n      ")}`);
        await ps?.cleanup();
        if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
    });

    it("brings each component back healthy after a kill -9, with no pulumi up", async function () {
        const start = await until("a healthy control plane", 60, allHealthy);
        const supervisors = Object.fromEntries(COMPONENTS.map((c) => [c, start[c].ppid]));
        let killed = 0;
        for (const c of COMPONENTS) {
            const before = await until("a healthy control plane", 120, allHealthy);
            process.kill(before[c].pid, "SIGKILL");
            killed++;
            const after = await timed(`${c} back healthy after kill -9`, () => until(`${c} to come back`, 120, async () => {
                const now = await allHealthy();
                return now && now[c].pid !== before[c].pid ? now : undefined;
            }));
            // The same supervisor restarted it: the resource was not recreated.
            assert.equal(after[c].ppid, supervisors[c], `${c} has a new parent`);
            assert.match(fs.readFileSync(plan.logFiles[c], "utf8"), new RegExp(`${c}: exited \\(signal SIGKILL\\)`));
        }
        assert.equal(killed, COMPONENTS.length);
        const ns = await request(admin, "GET", "/api/v1/namespaces/team-a");
        assert.equal(ns.status, 200, ns.body);
    });

    /** Both leader-election Leases, when both were renewed after `since` by a holder. */
    const leasesRenewedAfter = async (since: number) => {
        const out: Record<string, { holder: string; renewed: number }> = {};
        for (const lease of ["kube-controller-manager", "kube-scheduler"]) {
            const r = await request(admin, "GET", `/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/${lease}`).catch(() => undefined);
            if (r?.status !== 200) return undefined;
            const spec = r.json<{ spec: { holderIdentity?: string; renewTime?: string } }>().spec;
            const renewed = Date.parse(spec.renewTime ?? "");
            if (!spec.holderIdentity || !(renewed > since)) return undefined;
            out[lease] = { holder: spec.holderIdentity, renewed };
        }
        return out;
    };
    // kube-controller-manager logs "leaderelection lost", kube-scheduler "Leaderelection lost".
    const lostLines = (c: ProcessName) => (fs.readFileSync(plan.logFiles[c], "utf8").match(/leaderelection lost/gi) ?? []).length;

    it("restarts kube-controller-manager and kube-scheduler after they exit on losing their Leases", async function () {
        const t0 = Date.now();
        const before = await until("a healthy control plane", 120, allHealthy);
        // Both lead (and renew) before the freeze: only a leader has a Lease to lose.
        await until("both Leases to be held", 60, () => leasesRenewedAfter(t0));
        const lostBefore = { kcm: lostLines("kube-controller-manager"), sched: lostLines("kube-scheduler") };
        // A frozen API server answers nothing: past the renew deadline (10s upstream) both give up leadership
        // and exit, which is what a real API server outage does to them.
        process.kill(before["kube-apiserver"].pid, "SIGSTOP");
        try {
            await sleep(25_000);
        } finally {
            process.kill(before["kube-apiserver"].pid, "SIGCONT");
        }
        const resumed = Date.now();
        await timed("both Leases held again after a 25s API server freeze", () => until("both Leases to be held again", 60, () => leasesRenewedAfter(resumed)));
        const after = await until("a healthy control plane", 60, allHealthy);
        assert.equal(after["kube-apiserver"].pid, before["kube-apiserver"].pid, "kube-apiserver was restarted");
        for (const c of ["kube-controller-manager", "kube-scheduler"] as const) {
            const tail = fs.readFileSync(plan.logFiles[c], "utf8").split("\n").slice(-15).join("\n");
            assert.notEqual(after[c].pid, before[c].pid, `${c} did not exit; its log ends:\n${tail}`);
            assert.equal(after[c].ppid, before[c].ppid, `${c} was not restarted by its own supervisor`);
        }
        assert.ok(lostLines("kube-controller-manager") > lostBefore.kcm, "kube-controller-manager logged no lost leadership");
        assert.ok(lostLines("kube-scheduler") > lostBefore.sched, "kube-scheduler logged no lost leadership");
    });

    it("has kube-controller-manager and kube-scheduler hold their Leases again within 60s of a kube-apiserver restart", async function () {
        const before = await until("a healthy control plane", 120, allHealthy);
        // readUnencrypted rewrites the encryption config (which the API server reloads by itself); a retention
        // change is a flag, which restarts it.
        await ps.stack.setConfig("hardened-cluster:encryption", { value: JSON.stringify({ readUnencrypted: true }) });
        await ps.stack.setConfig("hardened-cluster:audit", { value: JSON.stringify({ maxAge: 31 }) });
        const res = await timed("up with the API server restart", () => ps.stack.up());
        assert.equal(res.summary.result, "succeeded");
        const upDone = Date.now();
        const restarted = components()["kube-apiserver"];
        assert.ok(restarted && restarted.pid !== before["kube-apiserver"].pid, "kube-apiserver was not restarted");
        assert.ok(restarted.args.includes("--audit-log-maxage=31"), restarted.args.join(" "));
        await timed("both Leases held again after the up", () => until("both Leases to be held again", 60, () => leasesRenewedAfter(upDone)));
        const after = components();
        timings.push(`changes of that up: ${JSON.stringify(res.summary.resourceChanges)}`);
        for (const c of ["kube-controller-manager", "kube-scheduler"] as const) {
            timings.push(`${c}: pid ${before[c].pid} -> ${after[c]?.pid}, supervisor ${before[c].ppid} -> ${after[c]?.ppid}, "leaderelection lost" lines in its log: ${lostLines(c)}`);
        }
        assert.equal((await until("a healthy control plane", 60, allHealthy))["kube-apiserver"].pid, restarted.pid);
    });

    it("destroys a stack with a tenant to the end, leaving no process and no listening port", async function () {
        const before = await until("a healthy control plane", 120, allHealthy);
        const supervisors = COMPONENTS.map((c) => before[c].ppid);
        assert.equal(new Set(supervisors).size, COMPONENTS.length);
        const res = await timed("destroy", () => ps.stack.destroy());
        assert.equal(res.summary.result, "succeeded");
        const pids = new Set(allProcesses().map((p) => p.pid));
        assert.deepEqual(Object.keys(components()), []);
        assert.deepEqual(supervisors.filter((s) => pids.has(s)), [], "a supervisor outlived the destroy");
        let checked = 0;
        for (const p of Object.values(ports)) {
            assert.equal(await listening(p), false, `port ${p} still listening`);
            checked++;
        }
        assert.equal(checked, 5);
    });
});
