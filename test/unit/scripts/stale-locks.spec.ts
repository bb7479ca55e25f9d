// scripts/lib/stale-locks.js, which scripts/pulumi runs before every command on a named stack: only a lock that
// this machine's user took with a pulumi process that no longer runs is removed.
import { strict as assert } from "node:assert";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { removeStaleLocks } = require("../../../scripts/lib/stale-locks.js") as { removeStaleLocks(url: string, stack: string): string[] };

describe("scripts/pulumi: locks left by a killed run", function () {
    let root: string;
    const me = { hostname: os.hostname(), username: os.userInfo().username };
    const lock = (dir: string, name: string, content: object) => {
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, name), JSON.stringify({ timestamp: "2026-12-03T08:44:50Z", ...content }));
        return path.join(dir, name);
    };
    beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), "hc-locks-"))));
    afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

    it("removes the locks of a pulumi that is gone and keeps a running one's, another machine's and another user's", async function () {
        // A pid that surely ran and exited.
        const dead = spawnSync("true").pid!;
        const live = spawn("bash", ["-c", "exec -a pulumi sleep 30"], { stdio: "ignore" });
        await new Promise((r) => setTimeout(r, 300));
        try {
            const project = path.join(root, ".pulumi", "locks", "organization", "hardened-cluster", "dev");
            const legacy = path.join(root, ".pulumi", "locks", "dev");
            const gone = [lock(project, "a.json", { ...me, pid: dead }), lock(legacy, "b.json", { ...me, pid: dead })];
            const kept = [
                lock(project, "running.json", { ...me, pid: live.pid }),
                lock(project, "elsewhere.json", { ...me, hostname: `${me.hostname}-other`, pid: dead }),
                lock(project, "someone.json", { ...me, username: `${me.username}-other`, pid: dead }),
                lock(path.join(root, ".pulumi", "locks", "organization", "hardened-cluster", "prod"), "other-stack.json", { ...me, pid: dead }),
            ];
            // A symlink is neither followed nor removed.
            const target = lock(path.join(root, "elsewhere"), "t.json", { ...me, pid: dead });
            fs.symlinkSync(target, path.join(project, "link.json"));
            kept.push(path.join(project, "link.json"), target);

            const lines = removeStaleLocks(`file://${root}?no_tmp_dir=true`, "dev");
            assert.equal(lines.length, 2);
            assert.match(lines[0], new RegExp(`removed the lock on stack dev that pulumi \\(pid ${dead}, 2026-12-03T08:44:50Z\\) left`));
            assert.deepEqual(gone.filter((f) => fs.existsSync(f)), []);
            assert.deepEqual(kept.filter((f) => !fs.existsSync(f)), []);
            // A fully qualified name reaches the same directory.
            lock(project, "c.json", { ...me, pid: dead });
            assert.equal(removeStaleLocks(`file://${root}`, "organization/hardened-cluster/dev").length, 1);
        } finally {
            live.kill("SIGKILL");
        }
    });
});
