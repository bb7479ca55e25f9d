// The toolchain build's progress reporter (scripts/lib/progress.sh): a first build is ~40 minutes of mostly silent
// Go compilation, so each step must say every interval which step runs, how long it has run and how long it took
// in the measured cold build. A fake step that sleeps stands in for `go build`; the interval is shortened.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";

const lib = path.resolve(__dirname, "../../../scripts/lib/progress.sh");

function run(script: string, interval = "1"): { status: number | null; lines: string[]; ms: number } {
    const t0 = Date.now();
    const res = spawnSync("bash", ["-c", `set -euo pipefail; . "$LIB"; ${script}`], {
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LIB: lib, HC_PROGRESS_INTERVAL: interval },
        timeout: 30_000,
        // stdin not a socket: bash would take itself for an rshd child and read ~/.bashrc.
        stdio: ["ignore", "pipe", "pipe"],
    });
    return { status: res.status, lines: res.stderr.split("\n").filter(Boolean), ms: Date.now() - t0 };
}

const tick = /^\[toolchain\] fake-step: still building, (\d+)s elapsed (.*)$/;

describe("toolchain build progress (scripts/lib/progress.sh)", function () {
    it("reports the step, its elapsed time and its measured cold timing at every interval", function () {
        const { status, lines } = run("with_progress fake-step 600 sleep 4.5; echo '[toolchain] step returned' >&2; sleep 2.2");
        assert.equal(status, 0);
        const ticks = lines.filter((l) => tick.test(l));
        // 4.5 s of work at a 1 s interval: four reports, at least three on a loaded machine (each tick drifts).
        assert.ok(ticks.length >= 3 && ticks.length <= 5, lines.join("\n"));
        const elapsed = ticks.map((l) => Number(tick.exec(l)![1]));
        assert.deepEqual([...elapsed].sort((a, b) => a - b), elapsed, "elapsed times must not go backwards");
        assert.ok(elapsed[0] >= 1 && elapsed[elapsed.length - 1] <= 6, elapsed.join(","));
        for (const l of ticks) assert.match(l, /of about 10m00s measured for a cold build on 2 cores$/);
        // Nothing reports after the step ended (the reporter stopped with it).
        assert.equal(lines.indexOf("[toolchain] step returned"), lines.length - 1, lines.join("\n"));
    });

    it("says when a step runs past its measured timing, and when none was measured", function () {
        // Elapsed counts bash's whole wall-clock seconds, so a tick 1.0x s in may read 1s or 2s; and a loaded machine
        // delays each tick: the steps run long enough for two ticks either way.
        const over = run("with_progress fake-step 1 sleep 3.5");
        assert.ok(over.lines.some((l) => /^\[toolchain\] fake-step: still building, [2-9]s elapsed past the 1s measured/.test(l)), over.lines.join("\n"));
        const none = run("with_progress fake-step '' sleep 2.5");
        assert.ok(none.lines.some((l) => /^\[toolchain\] fake-step: still building, [1-3]s elapsed no measured timing for this step$/.test(l)), none.lines.join("\n"));
    });

    it("returns the step's own exit status", function () {
        const { status, lines } = run("rc=0; with_progress fake-step 5 bash -c 'sleep 1.5; exit 7' || rc=$?; echo \"rc=$rc\" >&2");
        assert.equal(status, 0);
        assert.ok(lines.includes("rc=7"), lines.join("\n"));
    });

    it("leaves no reporter behind when the script exits inside a step (a build that dies)", function () {
        // The interval is long: a reporter that outlived the script would hold stderr open for 20 s.
        const { status, lines, ms } = run("with_progress fake-step 5 eval 'sleep 1; exit 3'", "20");
        assert.equal(status, 3);
        assert.equal(lines.filter((l) => tick.test(l)).length, 0);
        assert.ok(ms < 10_000, `the script took ${ms} ms to release its output`);
    });

    it("formats durations as a user reads them", function () {
        const { lines } = run("for s in 0 59 60 475 2370; do fmt_duration $s >&2; echo >&2; done");
        assert.deepEqual(lines, ["0s", "59s", "1m00s", "7m55s", "39m30s"]);
    });
});
