// The local backup schedule: its cadence and overdue rule, the job the platform hands its process, and a start
// that refuses an unusable bundle key before it reports itself healthy.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isOverdue, nextSlot, runSchedule } from "../../../platforms/local/backup/schedule";
import { scheduleArgv, scheduleJob } from "../../../platforms/local/backup/schedule-process";
import { planLocalStack } from "../../../platforms/local/plan";

const MIN = 60_000;

describe("backup schedule (hardened-cluster:backup.intervalMinutes)", () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-unit-schedule-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("keeps a fixed cadence from its start: a slow backup skips the slots it overran instead of drifting", () => {
        assert.equal(nextSlot(0, MIN, 0), MIN, "the first comes one interval after the start");
        assert.equal(nextSlot(0, MIN, MIN), 2 * MIN);
        assert.equal(nextSlot(0, MIN, MIN + 5_000), 2 * MIN, "a 5 s backup does not push the next one back");
        assert.equal(nextSlot(0, MIN, 3.5 * MIN), 4 * MIN, "slots missed while a backup overran are not made up");
    });

    it("is overdue once no backup landed for two intervals, counted from the start until the first one", () => {
        assert.equal(isOverdue(0, MIN, 2 * MIN), false);
        assert.equal(isOverdue(0, MIN, 2 * MIN + 1), true);
        assert.equal(isOverdue(0, MIN, 10 * MIN, 9 * MIN), false);
        assert.equal(isOverdue(0, MIN, 10 * MIN, 7 * MIN), true);
    });

    it("hands its process a job of plain paths, none secret, and none at all without a schedule", () => {
        const plan = (backup: object) => planLocalStack({
            stack: "sched", local: { layout: "user", stateDir: path.join(dir, "state"), topology: "ha" }, toolchainBin: "/toolchain/bin", isRoot: false, backup,
        });
        assert.equal(scheduleJob(plan({})), undefined);
        const job = scheduleJob(plan({ intervalMinutes: 15, retention: 7 }))!;
        assert.equal(job.intervalMinutes, 15);
        assert.equal(job.target.retention, 7);
        assert.deepEqual(job.target.members.map((m) => m.clientUrl), ["127.0.0.11", "127.0.0.12", "127.0.0.13"].map((ip) => `https://${ip}:2379`));
        assert.match(job.target.client.keyFile, /healthcheck-client\.key$/);
        assert.deepEqual(Object.keys(job.target.caFiles).sort(), ["etcd", "front-proxy", "kubernetes"]);
        // Paths only: no PEM block, no key material.
        assert.doesNotMatch(JSON.stringify(job), /BEGIN|PRIVATE/);
        assert.equal(path.dirname(job.statusFile), path.dirname(job.target.keyFile));
    });

    it("runs its source through ts-node's transpiler and a compiled copy as is", () => {
        const fromSource = scheduleArgv("/run/job.json", "/p/platforms/local/backup/schedule.ts");
        assert.equal(fromSource[0], "-r");
        assert.match(fromSource[1], /ts-node\/register\/transpile-only\.js$/);
        assert.ok(fs.existsSync(fromSource[1]));
        assert.deepEqual(fromSource.slice(2), ["/p/platforms/local/backup/schedule.ts", "/run/job.json"]);
        assert.deepEqual(scheduleArgv("/run/job.json", "/p/dist/schedule.js"), ["/p/dist/schedule.js", "/run/job.json"]);
        assert.ok(fs.existsSync(scheduleArgv("/j")[2]), "the default entry is the schedule module beside it");
    });

    it("refuses to start on a bundle key others can read, writing no status (so its start is not healthy)", async () => {
        const keyFile = path.join(dir, "bundle.key");
        fs.writeFileSync(keyFile, Buffer.alloc(32, 1).toString("base64") + "\n", { mode: 0o644 });
        fs.chmodSync(keyFile, 0o644);
        const statusFile = path.join(dir, "schedule.json");
        const jobFile = path.join(dir, "job.json");
        const target = { stack: "s", toolchainBin: "/none", keyFile, directory: path.join(dir, "b"), retention: 5, members: [], client: { caFile: "", certFile: "", keyFile: "" }, caFiles: {} };
        fs.writeFileSync(jobFile, JSON.stringify({ target, intervalMinutes: 1, statusFile }));
        await assert.rejects(runSchedule(jobFile), /readable by others \(mode 644\)/);
        assert.equal(fs.existsSync(statusFile), false);
        fs.writeFileSync(jobFile, JSON.stringify({ target, intervalMinutes: 0, statusFile }));
        await assert.rejects(runSchedule(jobFile), /intervalMinutes/);
    });
});
