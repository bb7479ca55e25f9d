import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { E2E_PORTS } from "../../e2e/ports";

// Linux's default net.ipv4.ip_local_port_range (Documentation/networking/ip-sysctl.rst): source ports for
// client sockets and port-0 listeners come from here.
const EPHEMERAL_DEFAULT = { low: 32768, high: 60999 };
// The local platform's own defaults, which a developer's stack may be using.
const STACK_DEFAULTS = [6443, 2379, 2380, 10257, 10259];

function reserved(): Array<{ owner: string; port: number }> {
    return Object.entries(E2E_PORTS).flatMap(([owner, p]) => [
        p.apiServer, p.etcdClient, p.etcdPeer, p.controllerManager, p.controllerManager + 1, p.scheduler, p.scheduler + 1,
    ].map((port) => ({ owner, port })));
}

describe("e2e port table", function () {
    it("keeps every spec's ports below the ephemeral range, here and by Linux's default", function () {
        const all = reserved();
        assert.ok(all.length >= 7 * 10, `only ${all.length} ports reserved`);
        const [low, high] = fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
        for (const { owner, port } of all) {
            assert.ok(port > 1024 && port < EPHEMERAL_DEFAULT.low, `${owner}: ${port} is not in 1025-32767`);
            assert.ok(port < low || port > high, `${owner}: ${port} is inside this machine's ephemeral range ${low}-${high}`);
        }
    });

    it("gives no two specs, and no spec and the stack defaults, the same port", function () {
        const seen = new Map<number, string>();
        for (const d of STACK_DEFAULTS) seen.set(d, "stack defaults");
        const all = reserved();
        assert.ok(all.length > 0);
        for (const { owner, port } of all) {
            const before = seen.get(port);
            assert.equal(before, undefined, `${port} is used by ${before} and ${owner}`);
            seen.set(port, owner);
        }
    });

    it("is where every e2e spec and benchmark takes its control-plane ports from", function () {
        const dirs = [path.join(__dirname, "../../e2e"), path.join(__dirname, "../../../bench")];
        const files = dirs.flatMap((d) => fs.readdirSync(d).filter((f) => f.endsWith(".ts")).map((f) => path.join(d, f)));
        assert.ok(files.length > 10, `only ${files.length} files scanned`);
        const literal = /\b(apiServer|etcdClient|etcdPeer|controllerManager|scheduler)\s*:\s*\d+/;
        const offenders = files.filter((f) => !f.endsWith("ports.ts") && literal.test(fs.readFileSync(f, "utf8")));
        assert.deepEqual(offenders, []);
        const users = files.filter((f) => fs.readFileSync(f, "utf8").includes("E2E_PORTS."));
        assert.ok(users.length >= 10, `only ${users.length} files use E2E_PORTS`);
    });
});
