// scripts/test.sh, the lanes `npm test` runs its suites in: every item runs, a failing or dying item fails the
// run and is named, the summed line counts what each mocha counted, and the next run takes the longest first.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.join(__dirname, "../../..");

describe("scripts/test.sh: the test lanes", function () {
    this.timeout(120_000);
    let dir: string;
    let cache: string;
    const spec = (name: string, body: string) => {
        const file = path.join(dir, `${name}.spec.js`);
        fs.writeFileSync(file, body);
        return file;
    };
    const run = (items: string[], lanes: number) => {
        const res = spawnSync("bash", [path.join(ROOT, "scripts/test.sh")], {
            cwd: ROOT, encoding: "utf8", timeout: 110_000,
            env: { ...process.env, HC_TEST_ITEMS: items.join("\n"), HC_TEST_LANES: String(lanes), XDG_CACHE_HOME: cache, HC_TEST_COUNTS: "" },
        });
        return { status: res.status, out: res.stdout, lines: res.stdout.trim().split("\n") };
    };
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-lanes-"));
        cache = path.join(dir, "cache");
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("fails when one item fails or dies before mocha counts, names both, and adds up the counts", function () {
        const pass = spec("pass", `it("a", () => {}); it("b", () => {});`);
        const fail = spec("fail", `it("c", () => {}); it("d", () => { throw new Error("no"); });`);
        const dies = spec("dies", `process.exit(3);`);
        const r = run([pass, fail, dies], 2);
        assert.notEqual(r.status, 0, r.out);
        assert.equal(r.out.match(/^=== lane \d: /gm)?.length, 3, r.out);
        const failedLine = r.lines.find((l) => l.startsWith("test: failed: "));
        assert.ok(failedLine, r.out);
        assert.deepEqual(failedLine.slice("test: failed: ".length).trim().split(" ").sort(), [dies, fail].sort());
        // 3 passed (a, b, c); 2 failed: d, and the item that died without a count.
        assert.equal(r.lines.at(-1), "mocha: 3 passed, 2 failed, 0 skipped");
        const durations = fs.readFileSync(path.join(cache, "hardened-cluster/test-durations.tsv"), "utf8");
        assert.deepEqual(durations.trim().split("\n").map((l) => l.split("\t")[0]), [pass], "only a passing item's duration is kept");
    });

    it("passes when every item passes, taking the longest first by the last run's durations", function () {
        const a = spec("a", `it("a", () => {});`);
        const b = spec("b", `it("b", () => {});`);
        fs.mkdirSync(path.join(cache, "hardened-cluster"), { recursive: true });
        fs.writeFileSync(path.join(cache, "hardened-cluster/test-durations.tsv"), `${a}\t5\n${b}\t50\n`);
        const r = run([a, b], 1);
        assert.equal(r.status, 0, r.out);
        const order = [...r.out.matchAll(/^=== lane 1: (\S+) /gm)].map((m) => m[1]);
        assert.deepEqual(order, [b, a]);
        assert.equal(r.lines.at(-1), "mocha: 2 passed, 0 failed, 0 skipped");
        // An empty record (every item of a run failed) leaves the given order, every item still run.
        fs.writeFileSync(path.join(cache, "hardened-cluster/test-durations.tsv"), "");
        const again = run([a, b], 1);
        assert.deepEqual([...again.out.matchAll(/^=== lane 1: (\S+) /gm)].map((m) => m[1]), [a, b], again.out);
    });
});
