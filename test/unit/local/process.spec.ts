// The process provider's failure path: a start that never becomes healthy must leave no process behind,
// including one that ignores SIGTERM and anything it started, before the error reaches the engine.
import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { processProvider } from "../../../platforms/local/process";

/** Pids whose command line carries the token. */
function withToken(token: string): number[] {
    const pids: number[] = [];
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
            if (/\) Z /.test(stat)) continue;
            if (fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(token)) pids.push(Number(entry));
        } catch { /* exited meanwhile */ }
    }
    return pids;
}

/** A loopback port nothing listens on. */
async function freePort(): Promise<number> {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise((r) => srv.close(r));
    return port;
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
        const spec = {
            name: "stubborn", command: "/bin/bash", args: ["-c", script], logFile: path.join(dir, "stubborn.log"),
            health: { kind: "tcp", host: "127.0.0.1", port: await freePort() }, startTimeoutSeconds: 1, startAttempts: 2,
        };
        await assert.rejects((processProvider as any).create(spec), /did not become healthy after 2 attempt/);
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
