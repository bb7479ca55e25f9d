// Holding a supervised component down: the platform's own supervisor.js runs `sleep`; while held it must not
// restart it, and once released it must start it again (a new pid), as it does after any exit.
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { findSupervisor, hold, release } from "../../../platforms/local/backup/supervised";

const SUPERVISOR = path.resolve(__dirname, "../../../platforms/local/supervisor.js");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, probe: () => T | undefined, ms = 10_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
        const v = probe();
        if (v !== undefined) return v;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(50);
    }
}

describe("backup: holding a supervised component", function () {
    this.timeout(30_000);
    let dir: string;
    let supervisor: number | undefined;

    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-unit-supervised-"));
    });
    afterEach(() => {
        if (supervisor !== undefined) {
            try { process.kill(supervisor, "SIGCONT"); process.kill(supervisor, "SIGTERM"); } catch { /* gone */ }
        }
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("keeps the component down while held and lets the supervisor restart it once released", async () => {
        const log = path.join(dir, "sleep.log");
        const fd = fs.openSync(log, "a", 0o600);
        const child = spawn(process.execPath, [SUPERVISOR], { detached: true, stdio: ["pipe", fd, fd] });
        fs.closeSync(fd);
        child.stdin!.end(JSON.stringify({ name: "sleep", command: "/bin/sleep", args: ["300"], env: { PATH: "/usr/bin:/bin" }, stopTimeoutSeconds: 2 }));
        child.unref();
        supervisor = child.pid;
        const first = await waitFor("the first start", () => findSupervisor(log)?.children[0]);
        assert.equal(findSupervisor(log)!.supervisor, supervisor);
        assert.equal(findSupervisor(path.join(dir, "other.log")), undefined, "another log file names no supervisor");

        const held = await hold("sleep", log);
        assert.deepEqual(held.components, [first]);
        // Longer than the supervisor's first restart delay (1 s): nothing may start while it is held.
        await sleep(2500);
        assert.deepEqual(findSupervisor(log)!.children, []);

        release(held);
        const second = await waitFor("the restart", () => findSupervisor(log)?.children[0]);
        assert.notEqual(second, first);
        assert.match(fs.readFileSync(log, "utf8"), /exited \(signal SIGKILL\).*restarting/);
    });

    it("takes a child caught between fork and exec (same command line and stdout) for the component, not a second supervisor", async () => {
        // A stand-in named supervisor.js whose child runs the same script with the same stdout: what the real
        // supervisor's child looks like until it execs the component.
        const script = path.join(dir, "supervisor.js");
        fs.writeFileSync(script, `if (process.argv[2] === "child") setInterval(() => {}, 1000);
else { require("child_process").spawn(process.execPath, [__filename, "child"], { stdio: "inherit" }); setInterval(() => {}, 1000); }`);
        const log = path.join(dir, "fork.log");
        const fd = fs.openSync(log, "a", 0o600);
        const child = spawn(process.execPath, [script], { detached: true, stdio: ["ignore", fd, fd] });
        fs.closeSync(fd);
        child.unref();
        supervisor = child.pid;
        const found = await waitFor("the child", () => {
            const f = findSupervisor(log);
            return f && f.children.length === 1 ? f : undefined;
        });
        assert.equal(found.supervisor, supervisor);
        try { process.kill(found.children[0], "SIGKILL"); } catch { /* gone */ }
    });

    it("names the stack's recovery when no supervisor writes the log", async () => {
        await assert.rejects(hold("etcd", path.join(dir, "none.log")), /has no supervisor .*up --refresh/);
    });
});
