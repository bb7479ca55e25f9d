// The process provider's failure path: a start that never becomes healthy must leave no process behind,
// including one that ignores SIGTERM and anything it started, before the error reaches the engine.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as https from "node:https";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { processProvider, ProcessSpec } from "../../../platforms/local/process";
import { freePort, liveProcesses } from "./proc";

/** Live pids whose command line carries the token. */
function withToken(token: string): number[] {
    return liveProcesses((pid) => fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(token));
}

describe("local process provider: a failed start", function () {
    this.timeout(60_000);
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-proc-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("kills a process that ignores SIGTERM, and its child, before reporting the failure", async function () {
        const token = `hc-orphan-${randomBytes(4).toString("hex")}`;
        // bash ignores TERM and so does the sleep it starts (an ignored signal stays ignored across exec).
        const script = `trap '' TERM; sleep 3007 & sleep 3011; : ${token}`;
        const spec: ProcessSpec = {
            name: "stubborn", command: "/bin/bash", args: ["-c", script], logFile: path.join(dir, "stubborn.log"),
            health: { kind: "tcp", host: "127.0.0.1", port: await freePort() }, startTimeoutSeconds: 1, startAttempts: 2,
        };
        await assert.rejects(processProvider.create(spec), /did not become healthy after 2 attempt/);
        const survivors = withToken(token);
        // The bash leader carries the token; its sleeps are found through their process group.
        const group = fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e)).filter((e) => {
            try {
                const cmd = fs.readFileSync(`/proc/${e}/cmdline`, "utf8");
                return /sleep\u0000(3007|3011)/.test(cmd) && !/\) Z /.test(fs.readFileSync(`/proc/${e}/stat`, "utf8"));
            } catch { return false; }
        });
        try {
            assert.deepEqual(survivors, [], "the process outlived its failed start");
            assert.deepEqual(group, [], "a child of the process outlived its failed start");
        } finally {
            for (const p of [...survivors, ...group.map(Number)]) try { process.kill(p, "SIGKILL"); } catch { /* gone */ }
        }
    });
});

describe("local process provider: the directories it prepares", function () {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-procdir-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("refuses a symlink or another user's directory where its data directory goes, changing nothing", async function () {
        const victim = path.join(dir, "victim");
        fs.mkdirSync(victim, { mode: 0o755 });
        fs.chmodSync(victim, 0o755);
        const data = path.join(dir, "data");
        fs.symlinkSync(victim, data);
        fs.lchownSync(data, 65534, 65534);
        const spec: ProcessSpec = {
            name: "etcd", command: "/bin/true", args: [], logFile: path.join(dir, "log"), dirs: [{ path: data, mode: 0o700, owner: "root:root" }],
            health: { kind: "tcp", host: "127.0.0.1", port: 1 }, startTimeoutSeconds: 1,
        };
        await assert.rejects(processProvider.create(spec), /refusing to use it/);
        assert.equal(fs.statSync(victim).mode & 0o777, 0o755);
        fs.rmSync(data);
        fs.mkdirSync(data, { mode: 0o755 });
        fs.chownSync(data, 65534, 65534);
        await assert.rejects(processProvider.create(spec), /refusing to use it/);
        assert.equal(fs.statSync(data).uid, 65534);
    });
});

describe("local process provider: the https health check", function () {
    this.timeout(30_000);
    let dir: string;
    let server: https.Server;
    let port: number;
    /** A CA and a 127.0.0.1 serving pair it signed, made with openssl. */
    const ca = (n: string) => {
        const f = (x: string) => path.join(dir, `${n}-${x}`);
        const ssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "ignore" });
        ssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f("ca.key"), "-out", f("ca.crt"), "-subj", `/CN=${n}-ca`, "-days", "1");
        ssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f("srv.key"), "-out", f("srv.csr"), "-subj", "/CN=kube-scheduler");
        fs.writeFileSync(f("ext"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
        ssl("x509", "-req", "-in", f("srv.csr"), "-CA", f("ca.crt"), "-CAkey", f("ca.key"), "-CAcreateserial", "-out", f("srv.crt"), "-days", "1", "-extfile", f("ext"));
        return { ca: f("ca.crt"), cert: f("srv.crt"), key: f("srv.key") };
    };

    before(async function () {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-probe-"));
        const squatter = ca("squatter");
        server = https.createServer({ cert: fs.readFileSync(squatter.cert), key: fs.readFileSync(squatter.key) }, (_req, res) => res.end("ok"));
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        port = (server.address() as net.AddressInfo).port;
    });
    after(() => {
        server?.close();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("does not accept a server whose certificate the cluster CA did not issue", async function () {
        const cluster = ca("cluster");
        const outcome = await processProvider.probe({ kind: "https", url: `https://127.0.0.1:${port}/healthz`, caFile: cluster.ca });
        assert.notEqual(outcome, "ok");
        assert.match(outcome, /certificate/i);
    });

    it("accepts the same server when verified against the CA that issued it", async function () {
        const outcome = await processProvider.probe({ kind: "https", url: `https://127.0.0.1:${port}/healthz`, caFile: path.join(dir, "squatter-ca.crt") });
        assert.equal(outcome, "ok");
    });
});

describe("local process provider: a create the engine never recorded", function () {
    this.timeout(60_000);
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-proc-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    // A `pulumi up` killed while a create waited for health leaves its supervisor running with no state entry;
    // the next up creates the resource again, and must not leave the old one holding the port.
    it("stops the supervisor a lost create left running before it starts the new one, which then holds the port", async function () {
        const port = await freePort();
        const owner = path.join(dir, "owner");
        // Each instance writes its own pid to the file once it holds the port, and exits if it cannot bind.
        const script = `const s = require("node:net").createServer(); s.on("error", () => process.exit(1)); s.listen(${port}, "127.0.0.1", () => require("node:fs").writeFileSync(${JSON.stringify(owner)}, String(process.pid)));`;
        const spec: ProcessSpec = {
            name: "orphaned", command: process.execPath, args: ["-e", script], logFile: path.join(dir, "orphaned.log"),
            health: { kind: "tcp", host: "127.0.0.1", port }, startTimeoutSeconds: 20,
        };
        const lost = (await processProvider.create(spec)).outs!;
        const lostComponent = Number(fs.readFileSync(owner, "utf8"));
        assert.equal(fs.statSync(`${spec.logFile}.supervisor`).mode & 0o777, 0o600);
        const { id, outs } = await processProvider.create(spec);
        try {
            assert.equal(processProvider.alive(lost.pid, lost.startTicks), false, "the unrecorded supervisor still runs");
            assert.equal(fs.existsSync(`/proc/${lostComponent}`), false, "its component still runs");
            const holder = Number(fs.readFileSync(owner, "utf8"));
            assert.notEqual(holder, lostComponent);
            assert.ok(processProvider.groupMembers(outs!.pid, outs!.startTicks).includes(holder), "the port is not held by the new supervisor's component");
        } finally {
            await processProvider.delete(id, outs!);
        }
    });
});

describe("local process provider: stopping a component", function () {
    this.timeout(60_000);
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-proc-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    // kube-apiserver's signal handler exits at once (code 1) on a second SIGTERM, skipping its shutdown delay
    // and drain: a stop must deliver exactly one, or a balancer sees the server vanish instead of drain.
    it("delivers exactly one SIGTERM to the component and lets it finish its own graceful shutdown", async function () {
        const signals = path.join(dir, "signals");
        const port = await freePort();
        const script = [
            `const fs = require("node:fs");`,
            `require("node:net").createServer().listen(${port}, "127.0.0.1");`,
            `process.on("SIGTERM", () => { fs.appendFileSync(${JSON.stringify(signals)}, "TERM\\n"); setTimeout(() => { fs.appendFileSync(${JSON.stringify(signals)}, "done\\n"); process.exit(0); }, 1500); });`,
        ].join("\n");
        const spec: ProcessSpec = {
            name: "graceful", command: process.execPath, args: ["-e", script], logFile: path.join(dir, "graceful.log"),
            health: { kind: "tcp", host: "127.0.0.1", port }, startTimeoutSeconds: 20,
        };
        const { id, outs } = await processProvider.create(spec);
        assert.ok(outs);
        await processProvider.delete(id, outs);
        // "done" shows the component ran its 1.5 s shutdown to the end rather than being killed first.
        assert.deepEqual(fs.readFileSync(signals, "utf8").split("\n").filter(Boolean), ["TERM", "done"]);
        assert.equal(processProvider.alive(outs.pid, outs.startTicks), false);
    });
});

describe("local process provider: a component with no port (status-file health)", function () {
    this.timeout(30_000);
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-procstatus-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("is healthy once the status file is written after its start, not by a previous run's file", async function () {
        const status = path.join(dir, "status.json");
        // A stale file from an earlier run: a component that never writes must not pass on it.
        fs.writeFileSync(status, "{}");
        fs.utimesSync(status, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
        const spec = (script: string): ProcessSpec => ({
            name: "scheduled", command: "/bin/sh", args: ["-c", script], logFile: path.join(dir, "log"),
            health: { kind: "status-file", path: status }, startTimeoutSeconds: 2, stopTimeoutSeconds: 2,
        });
        await assert.rejects(processProvider.create(spec("exec sleep 300")), /not written since the start/);
        const made = await processProvider.create(spec(`sleep 0.5; echo '{}' > ${status}; exec sleep 300`));
        const outs = made.outs!;
        try {
            assert.ok(processProvider.alive(outs.pid, outs.startTicks));
        } finally {
            await processProvider.delete(made.id, outs);
        }
        assert.equal(processProvider.alive(outs.pid, outs.startTicks), false);
    });
});

describe("local process provider: a reload instead of a restart", function () {
    this.timeout(60_000);
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-procreload-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    // haproxy's master answers SIGUSR2 by forking a new worker; this stand-in does the same, so the provider's
    // wait for a new member of the process group is tested as the balancer meets it.
    it("sends SIGUSR2 through the supervisor when only reloadDigest changes, and waits for the new worker", async function () {
        const signals = path.join(dir, "signals");
        const port = await freePort();
        const script = [
            `const fs = require("node:fs");`,
            `require("node:net").createServer().listen(${port}, "127.0.0.1");`,
            `process.on("SIGUSR2", () => { fs.appendFileSync(${JSON.stringify(signals)}, "USR2 " + process.pid + "\\n"); require("node:child_process").spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" }); });`,
        ].join("\n");
        const spec: ProcessSpec = {
            name: "reloading", command: process.execPath, args: ["-e", script], logFile: path.join(dir, "reloading.log"),
            health: { kind: "tcp", host: "127.0.0.1", port }, startTimeoutSeconds: 20, stopTimeoutSeconds: 5, reloadDigest: "a",
        };
        const { id, outs } = await processProvider.create(spec);
        assert.ok(outs);
        try {
            const before = processProvider.groupMembers(outs.pid, outs.startTicks).sort();
            assert.equal(before.length, 2, "the supervisor and its component");
            const reload = await processProvider.diff(id, outs, { ...spec, reloadDigest: "b" });
            assert.deepEqual([reload.changes, reload.replaces], [true, []]);
            const restart = await processProvider.diff(id, outs, { ...spec, reloadDigest: "b", startTimeoutSeconds: 21 });
            assert.deepEqual(restart.replaces, ["startTimeoutSeconds"]);

            const updated = await processProvider.update(id, outs, { ...spec, reloadDigest: "b" });
            assert.equal(updated.outs!.pid, outs.pid);
            assert.equal(updated.outs!.reloadDigest, "b");
            const after = processProvider.groupMembers(outs.pid, outs.startTicks).sort();
            assert.equal(after.length, 3, "the forked worker joined the group");
            assert.deepEqual(after.filter((p) => before.includes(p)), before, "the supervisor or the component was restarted");
            const lines = fs.readFileSync(signals, "utf8").split("\n").filter(Boolean);
            assert.equal(lines.length, 1);
            assert.ok(before.includes(Number(lines[0].split(" ")[1])), lines[0]);
        } finally {
            await processProvider.delete(id, outs);
        }
        assert.equal(processProvider.alive(outs.pid, outs.startTicks), false);
    });
});

describe("local process provider: restarts in place under a shared lock", function () {
    this.timeout(90_000);
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-procroll-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    // etcd members: updated by the engine at the same time, they must still go down one after the other.
    it("restarts two members one at a time, the second only once the first is healthy again, with their supervisors kept", async function () {
        const events = path.join(dir, "events");
        const lock = path.join(dir, "restart.lock");
        // Below Linux's ephemeral range (32768-60999): a health check dialling a closed port in that range again
        // and again can be given that very port as its source and connect to itself, passing for a member.
        const ports: number[] = [];
        while (ports.length < 2) {
            const port = 20000 + Math.floor(Math.random() * 12000);
            if (ports.includes(port)) continue;
            const srv = net.createServer();
            const free = await new Promise<boolean>((r) => srv.once("error", () => r(false)).listen(port, "127.0.0.1", () => r(true)));
            if (free) {
                ports.push(port);
                await new Promise((r) => srv.close(r));
            }
        }
        const member = async (name: string): Promise<ProcessSpec> => {
            const port = ports[name === "a" ? 0 : 1];
            const script = [
                `const fs = require("node:fs");`,
                `fs.appendFileSync(${JSON.stringify(events)}, "start ${name}\\n");`,
                // Health passes only 300 ms after the start, as a member catching up with its quorum.
                `setTimeout(() => require("node:net").createServer().listen(${port}, "127.0.0.1", () => fs.appendFileSync(${JSON.stringify(events)}, "ready ${name}\\n")), 300);`,
                `process.on("SIGTERM", () => { fs.appendFileSync(${JSON.stringify(events)}, "stop ${name}\\n"); process.exit(0); });`,
            ].join("\n");
            return {
                name, command: process.execPath, args: ["-e", script], logFile: path.join(dir, `${name}.log`),
                health: { kind: "tcp", host: "127.0.0.1", port }, startTimeoutSeconds: 20, stopTimeoutSeconds: 5, restartLock: lock, inputsDigest: "1",
            };
        };
        const specs = [await member("a"), await member("b")];
        const made = await Promise.all(specs.map((s) => processProvider.create(s)));
        try {
            fs.writeFileSync(events, "");
            for (const [i, s] of specs.entries()) {
                const d = await processProvider.diff(made[i].id, made[i].outs!, { ...s, inputsDigest: "2" });
                assert.deepEqual([d.changes, d.replaces], [true, []]);
            }
            // A process from before the lock existed takes it on without a restart.
            const { restartLock: _unused, ...unlocked } = made[0].outs!;
            const adopt = await processProvider.diff(made[0].id, unlocked, specs[0]);
            assert.deepEqual([adopt.changes, adopt.replaces], [true, []]);
            const adopted = await processProvider.update(made[0].id, unlocked, specs[0]);
            assert.equal(adopted.outs!.restartLock, lock);
            assert.equal(fs.readFileSync(events, "utf8"), "", "taking on the lock restarted the component");

            const updated = await Promise.all(specs.map((s, i) => processProvider.update(made[i].id, made[i].outs!, { ...s, inputsDigest: "2" })));
            updated.forEach((u, i) => assert.equal(u.outs!.pid, made[i].outs!.pid, "the supervisor was replaced"));
            const lines = fs.readFileSync(events, "utf8").split("\n").filter(Boolean);
            assert.equal(lines.length, 6, lines.join("; "));
            const [first, second] = [lines[0].split(" ")[1], lines[3].split(" ")[1]];
            assert.notEqual(first, second);
            assert.deepEqual(lines, [`stop ${first}`, `start ${first}`, `ready ${first}`, `stop ${second}`, `start ${second}`, `ready ${second}`]);
            assert.equal(fs.existsSync(lock), false, "the lock was left behind");
        } finally {
            for (const m of made) await processProvider.delete(m.id, m.outs!);
        }
    });
});
