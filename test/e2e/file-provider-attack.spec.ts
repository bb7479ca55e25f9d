// The symlink and temporary-file attack on the file provider, replayed for real: a throwaway system user plays
// the etcd user (who owned its key directory on earlier versions), plants symlinks where root is about to
// write, and the provider's create and update run as root. The file outside must stay untouched. A control
// replays the earlier write path (a predictable `<file>.tmp-<pid>`, writeFile, chmod, chown) against the same
// plant and shows it is fooled, so the setup is a real attack. Needs root: without it the test fails.
import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileProvider, FileSpec } from "../../platforms/local/file";

const provider = fileProvider as any;

describe("file provider under a local attacker", function () {
    this.timeout(60_000);
    const attacker = `hc-attacker-${randomBytes(3).toString("hex")}`;
    let uid: number;
    let gid: number;
    let scratch: string;
    let outside: string;
    const original = "root's own file\n";

    /** Runs a shell snippet as the attacker. */
    const asAttacker = (script: string) => {
        const res = spawnSync("sh", ["-c", script], { uid, gid, encoding: "utf8" });
        assert.equal(res.status, 0, `attacker step failed: ${res.stderr}`);
    };
    const untouched = () => {
        const st = fs.lstatSync(outside);
        assert.equal(fs.readFileSync(outside, "utf8"), original, "the file outside was overwritten");
        assert.equal(st.uid, 0, "the file outside was chowned");
        assert.equal(st.mode & 0o7777, 0o644, "the file outside was chmodded");
    };

    before(function () {
        assert.equal(process.geteuid?.(), 0, "this attack is only meaningful as root: run the spec as root");
        execFileSync("useradd", ["--system", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin", attacker]);
        uid = Number(execFileSync("id", ["-u", attacker], { encoding: "utf8" }));
        gid = Number(execFileSync("id", ["-g", attacker], { encoding: "utf8" }));
    });
    after(function () {
        spawnSync("userdel", [attacker]);
        spawnSync("groupdel", [attacker]);
    });
    beforeEach(function () {
        scratch = fs.mkdtempSync(path.join(os.tmpdir(), "hc-attack-"));
        fs.chmodSync(scratch, 0o711);
        outside = path.join(scratch, "outside");
        fs.writeFileSync(outside, original, { mode: 0o644 });
        fs.chmodSync(outside, 0o644);
    });
    afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

    /** A directory the attacker owns, as the etcd key directory was. */
    const attackerDir = () => {
        const dir = path.join(scratch, "etcd-pki");
        fs.mkdirSync(dir, { mode: 0o700 });
        fs.chownSync(dir, uid, gid);
        return dir;
    };
    const spec = (dir: string): FileSpec => ({ path: path.join(dir, "server.key"), content: "KEY MATERIAL\n", mode: 0o600, owner: `${attacker}:${attacker}` });

    it("control: the earlier write path follows a symlink planted at its temporary name", function () {
        const dir = attackerDir();
        const target = path.join(dir, "server.key");
        asAttacker(`ln -s ${outside} ${target}.tmp-${process.pid}`);
        // The earlier provider's steps, verbatim in effect.
        const tmp = `${target}.tmp-${process.pid}`;
        fs.writeFileSync(tmp, "KEY MATERIAL\n", { mode: 0o600 });
        fs.chmodSync(tmp, 0o600);
        execFileSync("chown", [`${attacker}:${attacker}`, tmp]);
        assert.equal(fs.readFileSync(outside, "utf8"), "KEY MATERIAL\n");
        assert.equal(fs.statSync(outside).uid, uid, "the attacker now owns root's file");
    });

    it("create refuses a directory another user owns, and the planted symlinks lead nowhere", async function () {
        const dir = attackerDir();
        const target = path.join(dir, "server.key");
        // Every name the earlier code would have used in this process, and the target itself.
        asAttacker(`ln -s ${outside} ${target}.tmp-${process.pid} && ln -s ${outside} ${target}`);
        await assert.rejects(provider.create(spec(dir)), /owned by uid \d+, not by uid 0; refusing/);
        untouched();
    });

    it("update refuses too, after the directory changed hands under an existing file", async function () {
        const dir = path.join(scratch, "etcd-pki");
        await provider.create({ ...spec(dir), dirOwner: `root:${attacker}`, dirMode: 0o750 });
        fs.chownSync(dir, uid, gid);
        asAttacker(`ln -s ${outside} ${dir}/server.key.tmp-${process.pid} && rm -f ${dir}/server.key && ln -s ${outside} ${dir}/server.key`);
        await assert.rejects(provider.update(spec(dir), spec(dir), { ...spec(dir), content: "NEW KEY\n" }), /refusing/);
        untouched();
    });

    it("leaves an identical file where it is without writing, even in a directory it may no longer write", async function () {
        const dir = path.join(scratch, "data");
        const marker = { path: path.join(dir, ".hardened-cluster"), content: "mine", mode: 0o600 };
        await provider.create(marker);
        fs.chownSync(dir, uid, gid);
        const before = fs.statSync(marker.path).ino;
        await provider.create(marker);
        assert.equal(fs.statSync(marker.path).ino, before);
        // A hard link the other user made to root's file is not "the same file": that create is refused.
        fs.rmSync(marker.path);
        asAttacker(`ln ${outside} ${marker.path} 2>/dev/null || true`);
        await assert.rejects(provider.create({ ...marker, content: original, mode: 0o644 }), /refusing/);
        untouched();
    });

    it("refuses a directory the attacker's group may write", async function () {
        const dir = path.join(scratch, "shared");
        fs.mkdirSync(dir, { mode: 0o770 });
        fs.chownSync(dir, 0, gid);
        fs.chmodSync(dir, 0o770);
        asAttacker(`ln -s ${outside} ${dir}/server.key.tmp-${process.pid}`);
        await assert.rejects(provider.create(spec(dir)), /writable by group or others/);
        untouched();
    });

    it("does not follow an attacker's symlink in a sticky world-writable directory", async function () {
        const sticky = path.join(scratch, "sticky");
        fs.mkdirSync(sticky);
        fs.chmodSync(sticky, 0o1777);
        const elsewhere = path.join(scratch, "elsewhere");
        fs.mkdirSync(elsewhere, { mode: 0o700 });
        // The attacker claims the state directory's name before root first creates it.
        asAttacker(`ln -s ${elsewhere} ${sticky}/state`);
        await assert.rejects(provider.create(spec(path.join(sticky, "state"))), /symlink owned by uid/);
        assert.deepEqual(fs.readdirSync(elsewhere), []);
        // And the sticky directory itself is never a place root writes into.
        await assert.rejects(provider.create({ ...spec(sticky), path: path.join(sticky, "f") }), /writable by group or others/);
        untouched();
    });

    it("does not follow a symlink where a file is read back on refresh", async function () {
        const dir = path.join(scratch, "own");
        await provider.create({ ...spec(dir), owner: undefined });
        fs.rmSync(path.join(dir, "server.key"));
        fs.symlinkSync(outside, path.join(dir, "server.key"));
        const res = await provider.read(path.join(dir, "server.key"), { ...spec(dir), sha256: "x" });
        assert.equal(res.props.sha256, "not-a-regular-file");
    });

    it("writes into a root-owned directory: mode and owner on the new file, a planted name replaced, no temp left", async function () {
        const dir = path.join(scratch, "etcd-pki");
        fs.mkdirSync(dir, { mode: 0o750 });
        fs.symlinkSync(outside, path.join(dir, "server.key"));
        await provider.create({ ...spec(dir), owner: `root:${attacker}`, mode: 0o640 });
        const st = fs.lstatSync(path.join(dir, "server.key"));
        assert.ok(st.isFile());
        assert.equal(st.mode & 0o7777, 0o640);
        assert.deepEqual([st.uid, st.gid], [0, gid]);
        assert.deepEqual(fs.readdirSync(dir), ["server.key"]);
        untouched();
    });
});
