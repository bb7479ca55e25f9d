// The supervisor behind every local process, run with throwaway children: it restarts a killed child, gives
// up loudly on one that keeps exiting, stops its child for good on SIGTERM, and takes the command line from
// an args file at every start.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { processProvider, ProcessSpec, ProcessState } from "../../../platforms/local/process";
import { freePort, liveProcesses } from "./proc";

/** The state a create returned (it always returns one). */
function outs(r: { outs?: ProcessState }): ProcessState {
    assert.ok(r.outs, "create returned no state");
    return r.outs;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, seconds: number, probe: () => T | undefined): Promise<T> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
        const v = probe();
        if (v !== undefined) return v;
        if (Date.now() > deadline) throw new Error(`timed out after ${seconds}s waiting for ${what}`);
        await sleep(100);
    }
}

/** Live (non-zombie) children of a pid. */
function childrenOf(ppid: number): number[] {
    return liveProcesses((_pid, rest) => Number(rest[1]) === ppid);
}

function cmdline(pid: number): string[] {
    try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, -1);
    } catch {
        return [];
    }
}

const running = (pid: number) => {
    try {
        return !/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
    } catch {
        return false;
    }
};

/** A TCP server as the child: node listening on a port given on its command line, so the health check has something real. */
const SERVER = "require('net').createServer().listen(Number(process.argv[1]), '127.0.0.1')";

describe("local process supervision", function () {
    this.timeout(120_000);
    let dir: string;
    let state: ProcessState | undefined;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-supervise-"));
        state = undefined;
    });
    afterEach(async () => {
        if (state) await processProvider.delete(`${state.name}:${state.pid}`, state);
        fs.rmSync(dir, { recursive: true, force: true });
    });

    const serverSpec = async (extra: Partial<ProcessSpec> = {}): Promise<ProcessSpec> => {
        const port = await freePort();
        return {
            name: "toy", command: process.execPath, args: ["-e", SERVER, String(port)], logFile: path.join(dir, "toy.log"),
            health: { kind: "tcp", host: "127.0.0.1", port }, startTimeoutSeconds: 20, stopTimeoutSeconds: 5, ...extra,
        };
    };

    const healthy = async (spec: ProcessSpec) => {
        const deadline = Date.now() + 10_000;
        let last = "";
        while (Date.now() < deadline) {
            last = await processProvider.probe(spec.health);
            if (last === "ok") return last;
            await sleep(100);
        }
        return last;
    };

    it("restarts a child killed with SIGKILL, under a new pid, without being asked", async function () {
        const created = await processProvider.create(await serverSpec());
        state = outs(created);
        const supervisor = state.pid;
        const first = await until("the first child", 10, () => childrenOf(supervisor)[0]);
        assert.equal(cmdline(first)[0], process.execPath, "the supervisor's child is not the component");
        process.kill(first, "SIGKILL");
        const second = await until("a restarted child", 15, () => childrenOf(supervisor).find((p) => p !== first));
        assert.notEqual(second, first);
        assert.equal(await healthy(state), "ok");
        assert.deepEqual(cmdline(second).slice(-1), [String((state.health as { port: number }).port)]);
        assert.equal((await processProvider.read(created.id, state)).id, created.id, "a supervised process reads as gone");
        assert.match(fs.readFileSync(state.logFile, "utf8"), /toy: exited \(signal SIGKILL\)/);
    });

    it("gives up after the bound of quick exits in a row, naming the component and the exit code, and then reads as gone", async function () {
        const port = await freePort();
        const spec: ProcessSpec = {
            name: "flappy", command: "/bin/sh", args: ["-c", "exit 7"], logFile: path.join(dir, "flappy.log"),
            health: { kind: "tcp", host: "127.0.0.1", port }, startTimeoutSeconds: 1,
            restart: { initialDelaySeconds: 0.2, maxDelaySeconds: 0.4, maxQuickFailures: 4 },
        };
        const supervisor = processProvider.spawn(spec);
        const ticks = processProvider.startTicks(supervisor);
        await until("the supervisor to give up", 20, () => (processProvider.alive(supervisor, ticks) ? undefined : true));
        const log = fs.readFileSync(spec.logFile, "utf8");
        const starts = log.split("\n").filter((l) => l.includes("flappy: started /bin/sh"));
        assert.equal(starts.length, 4, log);
        assert.match(log, /flappy: giving up: flappy exited 4 times in a row within 60s of starting; last exit code 7/);
        const state: ProcessState = { ...spec, pid: supervisor, startTicks: ticks, supervised: true };
        assert.deepEqual(await processProvider.read("flappy:1", state), { id: "" });
    });

    it("stops its child for good on SIGTERM, and does not restart it", async function () {
        const created = await processProvider.create(await serverSpec());
        const s = outs(created);
        const child = await until("the child", 10, () => childrenOf(s.pid)[0]);
        process.kill(s.pid, "SIGTERM");
        await until("the supervisor to exit", 15, () => (running(s.pid) ? undefined : true));
        await until("the child to exit", 5, () => (running(child) ? undefined : true));
        // Longer than the first restart delay: a restart would have happened by now.
        await sleep(2500);
        assert.notEqual(await processProvider.probe(s.health), "ok", "something listens on the port after the stop");
        assert.deepEqual(processProvider.groupMembers(s.pid, s.startTicks), [], "a member of the supervisor's group survived");
        const log = fs.readFileSync(s.logFile, "utf8");
        assert.match(log, /toy: SIGTERM received: stopping/);
        assert.equal(log.split("\n").filter((l) => l.includes("toy: started")).length, 1, log);
    });

    it("kills its child when it is itself killed with SIGKILL", async function () {
        const created = await processProvider.create(await serverSpec());
        state = outs(created);
        const child = await until("the child", 10, () => childrenOf(state!.pid)[0]);
        process.kill(state.pid, "SIGKILL");
        await until("the child to die with its supervisor", 10, () => (running(child) ? undefined : true));
        assert.deepEqual((await processProvider.read(created.id, state)), { id: "" });
    });

    it("reads the command line from the args file at every start, not from args", async function () {
        const base = await serverSpec();
        const argsFile = path.join(dir, "toy.args");
        const port = (base.health as { port: number }).port;
        fs.writeFileSync(argsFile, `-e\n${SERVER}\n${port}\n`, { mode: 0o600 });
        const created = await processProvider.create({ ...base, args: ["-e", "process.exit(3)"], argsFile });
        state = outs(created);
        // A child counts once it runs the component: between fork and exec it is still the supervisor's copy
        // (or setpriv, which execs the component in turn).
        const runsComponent = (p: number) => cmdline(p)[1] === "-e";
        const first = await until("the child", 10, () => childrenOf(state!.pid).find(runsComponent));
        assert.deepEqual(cmdline(first).slice(1), ["-e", SERVER, String(port)]);
        // A changed file is what the next start runs.
        fs.writeFileSync(argsFile, `-e\n${SERVER}\n${port}\n--marker\n`);
        process.kill(first, "SIGKILL");
        const second = await until("a restarted child", 15, () => childrenOf(state!.pid).find((p) => p !== first && runsComponent(p)));
        assert.deepEqual(cmdline(second).slice(1), ["-e", SERVER, String(port), "--marker"]);
    });

    it("refuses an args file others can write, and says so in the log", async function () {
        const base = await serverSpec({ startTimeoutSeconds: 5 });
        const argsFile = path.join(dir, "toy.args");
        fs.writeFileSync(argsFile, `-e\n${SERVER}\n`);
        fs.chmodSync(argsFile, 0o666);
        await assert.rejects(processProvider.create({ ...base, argsFile }), /writable by group or others \(mode 666\)/);
    });
});
