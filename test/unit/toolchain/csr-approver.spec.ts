// hc-csr-approver's decisions, by its own Go tests (toolchain/go/csr-approver/main_test.go): a node's own
// request is approved; one filed by a user, outside system:nodes, under another node's name or group, asking for
// client auth or lacking server auth, unparsable or wrongly signed is denied; names the Node does not report wait.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as path from "node:path";

describe("toolchain: hc-csr-approver's decisions (go test)", function () {
    this.timeout(180_000);
    it("passes its table of requests, every case run", () => {
        const dir = path.resolve(__dirname, "../../../toolchain/go/csr-approver");
        const res = spawnSync("go", ["test", "-count=1", "-v", "-run", "TestJudge", "."], {
            cwd: dir, encoding: "utf8", env: { ...process.env, GOFLAGS: "-mod=mod", GOTOOLCHAIN: "local", CGO_ENABLED: "0" },
        });
        assert.equal(res.error, undefined, `go could not run: ${res.error}`);
        assert.equal(res.status, 0, `${res.stdout}${res.stderr}`);
        assert.match(res.stdout, /--- PASS: TestJudge/);
    });
});
