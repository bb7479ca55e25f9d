// scripts/sandbox.sh runs as root and opens its lock files for writing and removes the directories listed
// beside them. Those must sit where no other user can plant anything: each case here prepares the lock
// directory the way another local user could and checks the sandbox refuses to start, touching nothing.
// (The earlier script used world-writable /run/lock and ran the command regardless.)
import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { repoRoot } from "./harness";

describe("scripts/sandbox.sh lock directory", function () {
    this.timeout(60_000);
    const attacker = `hc-attacker-${randomBytes(3).toString("hex")}`;
    let uid: number;
    let scratch: string;
    let target: string;
    const sandbox = (lockdir: string) => spawnSync("bash", [path.join(repoRoot, "scripts/sandbox.sh"), "true"], {
        encoding: "utf8",
        env: { PATH: process.env.PATH, HC_SANDBOX_LOCKDIR: lockdir },
    });
    const refusedUntouched = (lockdir: string) => {
        const res = sandbox(lockdir);
        assert.equal(res.status, 1, `the sandbox ran: ${res.stdout}${res.stderr}`);
        assert.match(res.stderr, /must be a directory owned by root, mode 0700/);
        assert.equal(fs.readFileSync(target, "utf8"), "root's\n", "a planted lock name truncated root's file");
    };

    before(function () {
        assert.equal(process.geteuid?.(), 0, "the sandbox's checks only apply to root: run this spec as root");
        execFileSync("useradd", ["--system", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin", attacker]);
        uid = Number(execFileSync("id", ["-u", attacker], { encoding: "utf8" }));
    });
    after(function () {
        spawnSync("userdel", [attacker]);
        spawnSync("groupdel", [attacker]);
    });
    beforeEach(function () {
        scratch = fs.mkdtempSync(path.join(os.tmpdir(), "hc-sandbox-lock-"));
        fs.chmodSync(scratch, 0o755);
        target = path.join(scratch, "precious");
        fs.writeFileSync(target, "root's\n");
    });
    afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

    it("refuses a lock directory another user created first, with a symlink at a lock name", function () {
        const lockdir = path.join(scratch, "locks");
        fs.mkdirSync(lockdir, { mode: 0o700 });
        fs.symlinkSync(target, path.join(lockdir, "mountpoints.lock"));
        fs.lchownSync(path.join(lockdir, "mountpoints.lock"), uid, uid);
        fs.chownSync(lockdir, uid, uid);
        refusedUntouched(lockdir);
    });

    it("refuses a root-owned lock directory others may write", function () {
        const lockdir = path.join(scratch, "locks");
        fs.mkdirSync(lockdir);
        fs.chmodSync(lockdir, 0o1777);
        refusedUntouched(lockdir);
    });

    it("refuses a symlink in place of the lock directory", function () {
        fs.mkdirSync(path.join(scratch, "real"), { mode: 0o700 });
        fs.symlinkSync(path.join(scratch, "real"), path.join(scratch, "locks"));
        refusedUntouched(path.join(scratch, "locks"));
    });

    it("refuses a lock directory inside a world-writable directory, where it could be swapped", function () {
        const open = path.join(scratch, "open");
        fs.mkdirSync(open);
        fs.chmodSync(open, 0o1777);
        fs.mkdirSync(path.join(open, "locks"), { mode: 0o700 });
        refusedUntouched(path.join(open, "locks"));
    });
});
