// The local ha topology, for real: three etcd members and two apiservers behind haproxy, brought up by the
// blueprint's own program. A probe loop reads through the balancer five times a second while members are
// killed and while a flag change restarts the apiservers; every member is scored by kube-bench; a destroy
// leaves nothing behind.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { IssuedInventoryRow } from "../../components/pki/cluster-pki";
import type { Inventory } from "../../components/pki/inventory";
import { LocalStackPlan, planLocalStack, ProcessName } from "../../platforms/local/plan";
import { e2eLocal, ProgramStack, programStack, toolchain } from "./harness";
import { ProbeLoop } from "./ha-probe";
import { Credential, fromKubeconfig, request } from "./kube";
import { runKubeBench, USER_LAYOUT_ROOT_ONLY } from "./kube-bench-run";
import { allProcesses, listening, Proc, timingLog, until } from "./processes";
import { E2E_PORTS } from "./ports";
import { ageLeaves, replacements } from "./renewal";

const ports = E2E_PORTS.ha;
const system = process.getuid?.() === 0;
const BINARIES = ["pulumi-resource-pulumi-nodejs", "pulumi-resource-tls", "pulumi-resource-random", "pulumi-resource-kubernetes",
    "etcd", "etcdctl", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-bench", "haproxy"];
const CP = ["control-plane-1", "control-plane-2"];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("local ha topology: three etcd members, two apiservers behind a balancer (real processes)", function () {
    this.timeout(30 * 60_000);
    let ps: ProgramStack;
    let plan: LocalStackPlan;
    let admin: Credential;
    let issued: IssuedInventoryRow[] = [];
    let stateDir: string | undefined;
    const { timings, timed } = timingLog();
    const nodeOf = (name: string) => plan.nodes.find((n) => n.node.name === name)!;

    /** `npm run <script> -- -s <stack> ...` in the project, as an operator runs it: exit code and output. */
    const npmRun = (script: string, ...args: string[]) => {
        try {
            return { code: 0, out: execFileSync("npm", ["run", "--silent", script, "--", "-s", ps.stackName, ...args], { cwd: ps.workDir, env: { ...process.env, ...ps.env }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }) };
        } catch (e) {
            const err = e as { status: number; stdout: string; stderr: string };
            return { code: err.status, out: `${err.stdout}${err.stderr}` };
        }
    };

    /** This stack's processes by "node/component": each names files in its own node's directory only. */
    const procs = (): Record<string, Proc> => {
        const out: Record<string, Proc> = {};
        for (const p of allProcesses()) {
            if (!/^(etcd|kube-apiserver|kube-controller-manager|kube-scheduler)$/.test(p.name)) continue;
            const n = plan.nodes.find((x) => p.args.some((a) => a.includes(x.node.runDir + "/")));
            if (!n) continue;
            const id = `${n.node.name}/${p.name}`;
            assert.equal(out[id], undefined, `two ${id} processes`);
            out[id] = p;
        }
        return out;
    };
    const direct = (node: string): Credential => ({ ...admin, server: `https://${nodeOf(node).node.ip}:${ports.apiServer}` });
    const ready = async (node: string) => (await request(direct(node), "GET", "/readyz").catch(() => undefined))?.status === 200;

    /** `etcdctl endpoint health --cluster` with the platform's health-check pair: healthy members by endpoint. */
    const etcdHealth = (): { endpoint: string; health: boolean }[] => {
        const files = nodeOf(CP[0]).bundle.files.map((f) => f.path);
        const pick = (suffix: string) => files.find((f) => f.endsWith(suffix))!;
        const out = execFileSync(path.join(toolchain().bin, "etcdctl"), [
            `--endpoints=https://${nodeOf(CP[0]).node.ip}:${ports.etcdClient}`, `--cacert=${pick("/etcd/ca.crt")}`,
            `--cert=${pick("/etcd/healthcheck-client.crt")}`, `--key=${pick("/etcd/healthcheck-client.key")}`,
            "endpoint", "health", "--cluster", "-w", "json",
        ], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        return JSON.parse(out);
    };
    const allUp = async () => {
        const p = procs();
        if (Object.keys(p).length !== 9) return undefined;
        try {
            if (etcdHealth().filter((m) => m.health).length !== 3) return undefined;
        } catch {
            return undefined;
        }
        for (const n of CP) if (!(await ready(n))) return undefined;
        return p;
    };

    before(async function () {
        toolchain(...BINARIES);
        const e2e = e2eLocal("ha", ports, system);
        stateDir = e2e.stateDir;
        const local = { ...e2e.local, topology: "ha" };
        ps = await programStack({
            name: "ha", blueprint: true, binaries: BINARIES,
            config: {
                "hardened-cluster:local": { value: JSON.stringify(local) },
                // At 1 client-go logs when it takes up a renewed client pair (the renewal test looks for it).
                "hardened-cluster:controlPlane": { value: JSON.stringify({ controllerManager: { extraArgs: { v: 1 } } }) },
            },
        });
        plan = planLocalStack({ stack: ps.stackName, local: local as never, toolchainBin: toolchain().bin, isRoot: system });
        const res = await timed("ha cold up", () => ps.stack.up({ onOutput: (o) => process.env.HC_E2E_VERBOSE && process.stdout.write(o) }));
        assert.equal(res.summary.result, "succeeded");
        admin = fromKubeconfig(res.outputs.kubeconfig.value);
        issued = res.outputs.details.value.certificates;
        assert.equal(admin.server, `https://127.0.0.1:${ports.apiServer}`, "clients are pointed at the balancer");
    });
    after(async function () {
        console.log(`    timings:\n      ${timings.join("\n      ")}`);
        await ps?.cleanup();
        if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
    });

    it("comes up with 3/3 etcd members healthy, both apiservers ready and one leader per controller", async function () {
        await until("every member healthy", 120, allUp);
        const health = etcdHealth();
        assert.deepEqual(health.map((m) => m.endpoint).sort(), plan.nodes.map((n) => `https://${n.node.ip}:${ports.etcdClient}`).sort());
        assert.ok(health.every((m) => m.health), JSON.stringify(health));
        for (const n of CP) assert.equal(await ready(n), true, n);
        // Leader election (--leader-elect=true): of the two of each controller, exactly one acquired the Lease.
        for (const c of ["kube-controller-manager", "kube-scheduler"] as ProcessName[]) {
            const leaders = CP.filter((n) => fs.readFileSync(nodeOf(n).logFiles[c], "utf8").includes(`successfully acquired lease kube-system/${c}`));
            assert.equal(leaders.length, 1, `${c}: leaders ${JSON.stringify(leaders)}`);
        }
    });

    it("npm run certs: lists every certificate and endpoint, and fails once an endpoint serves another certificate than its file", async function () {
        const certs = (...args: string[]) => npmRun("certs", ...args);
        const first = certs("--json");
        assert.equal(first.code, 0, first.out.slice(-3000));
        const inv = JSON.parse(first.out) as Inventory;
        // 2 apiservers, 3 etcd members (client and peer port each), 2 controller-managers, 2 schedulers.
        assert.equal(inv.endpoints.length, 12, JSON.stringify(inv.endpoints.map((e) => `${e.node} ${e.process}`)));
        for (const e of inv.endpoints) {
            assert.ok(e.served, `${e.node} ${e.process}: ${e.error}`);
            if (e.file) assert.equal(e.served.serial, e.fileSerial, `${e.node} ${e.process}`);
        }
        // Each serves from a file the blueprint issued (the controllers' too: CIS 1.3.x/1.4.x, no self-signed in memory).
        assert.equal(inv.endpoints.filter((e) => e.file).length, 12, "every endpoint serves from a file");
        // Issued by the blueprint's CAs, within their windows; every node's apiserver serving certificate listed.
        assert.ok(inv.certificates.length > 20, `${inv.certificates.length} certificates`);
        assert.deepEqual(inv.certificates.filter((c) => c.due), []);
        for (const n of CP) assert.ok(inv.certificates.some((c) => c.node === n && c.source.endsWith("/pki/apiserver.crt") && c.readers.includes("kube-apiserver")), n);
        // The stack output lists what was issued: every served certificate is one of its rows, same serial and expiry.
        assert.ok(issued.length >= 20 && issued.some((r) => r.name === "ca:kubernetes"), JSON.stringify(issued.map((r) => r.name)));
        assert.deepEqual(issued.filter((r) => r.error !== undefined), []);
        for (const e of inv.endpoints) {
            const row = issued.find((r) => r.serial === e.served!.serial);
            assert.ok(row, `${e.node} ${e.process}: serial ${e.served!.serial} not in the stack output`);
            assert.equal(row.notAfter, e.served!.notAfter);
        }

        // On disk, control-plane-2's apiserver certificate is replaced by control-plane-1's (its key does not match,
        // so the apiserver keeps serving its own): the inventory names the endpoint and exits 1.
        const file = (n: string) => nodeOf(n).bundle.files.find((f) => f.path.endsWith("/pki/apiserver.crt"))!.path;
        const original = fs.readFileSync(file(CP[1]));
        fs.writeFileSync(file(CP[1]), fs.readFileSync(file(CP[0])));
        try {
            const stale = certs();
            assert.equal(stale.code, 1, stale.out.slice(-3000));
            assert.match(stale.out, new RegExp(`control-plane-2 kube-apiserver at 127\\.0\\.0\\.12:${ports.apiServer} serves serial [0-9A-F]+ but ${file(CP[1]).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} holds`));
        } finally {
            fs.writeFileSync(file(CP[1]), original);
        }
        assert.equal(certs().code, 0);
    });

    it("npm run kubeconfig: a 10-minute admin credential named after the caller; refused outside 10m-24h and over an existing file", async function () {
        const out = path.join(ps.workDir, "alice.kubeconfig");
        const made = npmRun("kubeconfig", "--ttl", "10m", "--user", "alice", "--out", out);
        assert.equal(made.code, 0, made.out);
        assert.equal(fs.statSync(out).mode & 0o777, 0o600);
        const yaml = fs.readFileSync(out, "utf8");
        const cred = fromKubeconfig(yaml);
        assert.equal(cred.server, admin.server, "through the balancer, like the stack's admin kubeconfig");
        const certPem = Buffer.from(/client-certificate-data: (\S+)/.exec(yaml)![1], "base64").toString();
        const ttl = (Date.parse(new X509Certificate(certPem).validTo) - Date.now()) / 60_000;
        assert.ok(ttl > 8.5 && ttl <= 10, `valid for ${ttl.toFixed(1)} more minutes`);
        // The apiserver's own account of who this is (SelfSubjectReview), and an admin-only read.
        const who = await request(cred, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" });
        assert.equal(who.status, 201, who.body);
        assert.equal(who.json().status.userInfo.username, "alice");
        assert.ok(who.json().status.userInfo.groups.includes("kubeadm:cluster-admins"), JSON.stringify(who.json().status.userInfo));
        assert.equal((await request(cred, "GET", "/api/v1/namespaces/kube-system/secrets")).status, 200);
        // Never written over an existing file; never longer than a day or shorter than 10 minutes.
        const again = npmRun("kubeconfig", "--ttl", "10m", "--user", "alice", "--out", out);
        assert.equal(again.code, 1, again.out);
        assert.match(again.out, /EEXIST/);
        assert.equal(fs.readFileSync(out, "utf8"), yaml);
        for (const ttlArg of ["25h", "5m", "forever"]) {
            const refused = npmRun("kubeconfig", "--ttl", ttlArg);
            assert.equal(refused.code, 1, refused.out);
            assert.match(refused.out, new RegExp(`--ttl: "${ttlArg}" is not a duration from 10m to 24h`));
            assert.doesNotMatch(refused.out, /BEGIN|client-key-data/);
        }
    });

    it("serves every request through the balancer while an etcd member and an apiserver are killed -9", async function () {
        const before = (await until("every member healthy", 120, allUp))!;
        const loop = new ProbeLoop(admin, "/api/v1/namespaces/kube-system");
        try {
            await sleep(3000);
            await loop.between(() => process.kill(before["control-plane-2/etcd"].pid, "SIGKILL"));
            await sleep(5000);
            await loop.between(() => process.kill(before["control-plane-1/kube-apiserver"].pid, "SIGKILL"));
            const back = await timed("both killed members back healthy", () => until("both killed members back", 120, async () => {
                const p = await allUp();
                return p && p["control-plane-2/etcd"].pid !== before["control-plane-2/etcd"].pid && p["control-plane-1/kube-apiserver"].pid !== before["control-plane-1/kube-apiserver"].pid ? p : undefined;
            }));
            // The same supervisors restarted them: nothing was recreated.
            assert.equal(back["control-plane-2/etcd"].ppid, before["control-plane-2/etcd"].ppid);
            assert.equal(back["control-plane-1/kube-apiserver"].ppid, before["control-plane-1/kube-apiserver"].ppid);
            await sleep(3000);
        } finally {
            await loop.stop();
        }
        const slowest = Math.max(...loop.results.map((r) => r.ms));
        timings.push(`kill -9 drill: ${loop.results.length} probes, ${loop.failures().length} failed, slowest ${slowest} ms`);
        assert.ok(loop.results.length >= 40, `only ${loop.results.length} probes ran`);
        assert.deepEqual(loop.failures(), []);
        assert.equal(etcdHealth().filter((m) => m.health).length, 3, "quorum and all three members back");
    });

    it("rolls a flag change across the apiservers one at a time: every request through the balancer is served", async function () {
        const before = (await until("every member healthy", 120, allUp))!;
        const logOf = (n: string) => nodeOf(n).logFiles["kube-apiserver"];
        const logFrom = Object.fromEntries(CP.map((n) => [n, fs.statSync(logOf(n)).size]));
        const loop = new ProbeLoop(admin, "/api/v1/namespaces/kube-system", async () => Promise.all(CP.map(ready)));
        let res;
        try {
            await sleep(1000);
            // A retention change is an apiserver flag: it restarts every apiserver.
            await ps.stack.setConfig("hardened-cluster:audit", { value: JSON.stringify({ maxAge: 31 }) });
            res = await timed("ha up with a rolling apiserver restart", () => ps.stack.up());
            await sleep(2000);
        } finally {
            await loop.stop();
        }
        assert.equal(res.summary.result, "succeeded");
        const after = procs();
        for (const n of CP) {
            const id = `${n}/kube-apiserver`;
            assert.notEqual(after[id].pid, before[id].pid, `${id} was not restarted`);
            assert.ok(after[id].args.includes("--audit-log-maxage=31"), id);
        }
        const samples = loop.samples.map((s) => s.value as boolean[]);
        const down = (i: number) => samples.filter((s) => Array.isArray(s) && !s[i]).length;
        timings.push(`rolling restart: ${loop.results.length} probes, ${loop.failures().length} failed; samples with control-plane-1 not ready: ${down(0)}, control-plane-2: ${down(1)}, both: ${samples.filter((s) => Array.isArray(s) && !s[0] && !s[1]).length}`);
        assert.ok(loop.results.length >= 40, `only ${loop.results.length} probes ran`);
        // Each restart was seen (the loop sampled through it), and never both at once.
        assert.ok(down(0) > 0 && down(1) > 0, "a restart went unobserved");
        assert.deepEqual(samples.filter((s) => Array.isArray(s) && !s[0] && !s[1]), [], "both apiservers were down at once");
        // Each old apiserver ended its graceful shutdown by itself (kube-apiserver exits 0 after draining; a second
        // SIGTERM would make it exit 1 at once, and a hung drain would end in the supervisor's SIGKILL).
        for (const n of CP) {
            const stops = fs.readFileSync(logOf(n)).subarray(logFrom[n]).toString("utf8").split("\n").filter((l) => /supervisor: kube-apiserver: stopped /.test(l));
            assert.equal(stops.length, 1, `${n}: ${JSON.stringify(stops)}`);
            assert.match(stops[0], /stopped \(exit code 0\)$/, n);
        }
        // Every request through the balancer was served: a stopping apiserver drains (its /readyz fails first,
        // it serves on for --shutdown-delay-duration) and a starting one gets traffic only once /readyz passes.
        assert.deepEqual(loop.failures(), []);
    });

    it("renews on a plain `pulumi up`: leaves inside their window are re-issued on their keys, only their readers restart, every request is served", async function () {
        // front-proxy-client is read by the apiservers only, scheduler-serving by the schedulers only; the
        // controller-manager's client pair is named by path in its kubeconfig, which client-go reads again itself.
        const rows = ["front-proxy-client", "scheduler-serving", "controller-manager"];
        const kcmLog = (n: string) => nodeOf(n).logFiles["kube-controller-manager"];
        const kcmLogFrom = Object.fromEntries(CP.map((n) => [n, fs.statSync(kcmLog(n)).size]));
        const before = (await until("every member healthy", 120, allUp))!;
        const keyFiles = CP.flatMap((n) => nodeOf(n).bundle.files.filter((f) => /\/(front-proxy-client|kube-scheduler)\.key$/.test(f.path)).map((f) => f.path));
        assert.equal(keyFiles.length, 4, JSON.stringify(keyFiles));
        const keysBefore = keyFiles.map((f) => fs.readFileSync(f, "utf8"));
        const serials = (rowsOut: IssuedInventoryRow[]) => Object.fromEntries(rowsOut.map((r) => [r.name, r.serial]));
        const issuedBefore = serials(issued);

        // 10 minutes before their end, well inside the 720-hour default window.
        const aged = ageLeaves(ps, rows, new Date(Date.now() + 10 * 60_000));
        assert.equal(aged.length, 3, JSON.stringify(aged));
        // Replaced: the three leaves, and the processes that read two of them (a process is replaced to restart it).
        const name = (urn: string) => urn.split("::").pop()!;
        const expected = [...aged.map(name), ...CP.flatMap((n) => ["kube-apiserver", "kube-scheduler"].map((p) => `local-${n}-${p}`))].sort();
        const planned = replacements();
        const preview = await ps.stack.preview({ onEvent: planned.onEvent });
        assert.deepEqual([...planned.urns].map(name).sort(), expected);
        assert.equal(preview.changeSummary.replace, expected.length, JSON.stringify(preview.changeSummary));

        const loop = new ProbeLoop(admin, "/api/v1/namespaces/kube-system");
        const done = replacements();
        let res;
        try {
            res = await timed("renewal up", () => ps.stack.up({ onEvent: done.onEvent }));
            await sleep(2000);
        } finally {
            await loop.stop();
        }
        assert.equal(res.summary.result, "succeeded");
        assert.deepEqual([...done.urns].sort(), [...planned.urns].sort(), "the up replaced what its preview showed");
        timings.push(`renewal: ${loop.results.length} probes, ${loop.failures().length} failed`);
        assert.ok(loop.results.length >= 20, `only ${loop.results.length} probes ran`);
        assert.deepEqual(loop.failures(), []);

        // New serials for the aged rows and for no other; the same keys on disk.
        issued = res.outputs.details.value.certificates;
        const issuedAfter = serials(issued);
        assert.deepEqual(Object.keys(issuedAfter).sort(), Object.keys(issuedBefore).sort());
        const changed = Object.keys(issuedAfter).filter((n) => issuedAfter[n] !== issuedBefore[n]).sort();
        assert.deepEqual(changed, [...rows].sort());
        assert.deepEqual(keyFiles.map((f) => fs.readFileSync(f, "utf8")), keysBefore, "a renewal replaced a private key");

        // The readers restarted, nothing else did.
        const after = (await until("every member healthy", 120, allUp))!;
        assert.deepEqual(Object.keys(after).sort(), Object.keys(before).sort());
        const restarted = Object.keys(after).filter((id) => after[id].pid !== before[id].pid).sort();
        assert.deepEqual(restarted, CP.flatMap((n) => [`${n}/kube-apiserver`, `${n}/kube-scheduler`]).sort());
        // Each controller manager, still the same process, took up its renewed pair when the apiserver
        // restarts cut its connections and it dialled again.
        await until("both controller managers on their renewed pair", 120, async () =>
            CP.every((n) => fs.readFileSync(kcmLog(n)).subarray(kcmLogFrom[n]).toString("utf8").includes("Certificate rotation detected")) || undefined);

        // The inventory: nothing due, and every endpoint serves what its file holds (the schedulers the new serial).
        const inv = npmRun("certs", "--json");
        assert.equal(inv.code, 0, inv.out.slice(-3000));
        const report = JSON.parse(inv.out) as Inventory;
        assert.deepEqual(report.certificates.filter((c) => c.due), []);
        const schedulers = report.endpoints.filter((e) => e.process === "kube-scheduler");
        assert.equal(schedulers.length, 2);
        for (const e of schedulers) assert.equal(e.served?.serial, e.fileSerial, `${e.node}: ${e.error}`);
        for (const e of schedulers) assert.equal(e.served!.serial, issuedAfter["scheduler-serving"], e.node);
        // The controller manager's pair on each node holds the new serial, and is listed as reloaded, not restarted.
        const kcmPairs = report.certificates.filter((c) => c.source.endsWith("/pki/controller-manager-client.crt"));
        assert.deepEqual(kcmPairs.map((c) => c.node).sort(), [...CP].sort());
        for (const c of kcmPairs) assert.deepEqual([c.cert.serial, c.readers, c.onChange], [issuedAfter["controller-manager"], ["kube-controller-manager"], "reload"], c.node);
    });

    it("passes kube-bench on every member: master and etcd on each control-plane node, etcd on the etcd-only one", function () {
        let checked = 0;
        for (const n of plan.nodes) {
            const targets = n.node.etcdOnly ? "etcd" : "master,etcd";
            const report = runKubeBench(toolchain().bin, toolchain().kubeBenchCfg, n.kubeBenchConfig, { targets, ...(system ? { nodeRoot: n.node.runDir } : {}) });
            const scored = report.filter((c) => c.scored);
            const notApplicable: Readonly<Record<string, string>> = system ? {} : USER_LAYOUT_ROOT_ONLY;
            const failing = scored.filter((c) => c.status !== "PASS" && !(c.id in notApplicable));
            console.log(`      kube-bench ${n.node.name} (${targets}): ${scored.length} scored, ${scored.filter((c) => c.status === "PASS").length} PASS`);
            // CIS 1.12: 47 scored master checks and 6 scored etcd checks.
            assert.equal(scored.length, n.node.etcdOnly ? 6 : 53, n.node.name);
            assert.deepEqual(failing.map((c) => `${n.node.name} ${c.id} ${c.status}: ${c.text} ${c.reason ?? ""}`), []);
            checked++;
        }
        assert.equal(checked, 3);
    });

    it("destroys to the end: no process, no listening port, no etcd data directory", async function () {
        const res = await timed("ha destroy", () => ps.stack.destroy());
        assert.equal(res.summary.result, "succeeded");
        assert.deepEqual(Object.keys(procs()), []);
        assert.deepEqual(allProcesses().filter((p) => p.name === "haproxy" && p.args.some((a) => a.startsWith(plan.local.runDir))).map((p) => p.pid), []);
        const endpoints: [string, number][] = [["127.0.0.1", ports.apiServer]];
        for (const n of plan.nodes) {
            endpoints.push([n.node.ip, ports.etcdClient], [n.node.ip, ports.etcdPeer]);
            if (!n.node.etcdOnly) endpoints.push([n.node.ip, ports.apiServer], ["127.0.0.1", n.node.ports.controllerManager], ["127.0.0.1", n.node.ports.scheduler]);
        }
        assert.equal(endpoints.length, 13);
        for (const [host, port] of endpoints) assert.equal(await listening(port, host), false, `${host}:${port} still listening`);
        for (const n of plan.nodes) assert.equal(fs.existsSync(n.node.layout.etcdDataDir), false, `${n.node.layout.etcdDataDir} left behind`);
    });
});
