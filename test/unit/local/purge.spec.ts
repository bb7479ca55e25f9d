// local.purgeOnDestroy: destroy removes etcd's data and the audit logs only when asked, turning the option off
// is never a delete, and a directory another user owns is emptied as that user (root never walks it).
import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { purgeProvider } from "../../../platforms/local/purge";

const provider = purgeProvider as any;

describe("local purge on destroy", function () {
    let root: string;
    let data: string;
    let audit: string;
    beforeEach(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "hc-purge-"));
        data = path.join(root, "etcd");
        audit = path.join(root, "audit");
        for (const d of [data, audit]) {
            fs.mkdirSync(path.join(d, "member"), { recursive: true, mode: 0o700 });
            fs.writeFileSync(path.join(d, "member", "db"), "x");
        }
    });
    afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

    it("keeps both directories on destroy by default", async function () {
        const { outs } = await provider.create({ enabled: false, dirs: [data, audit] });
        await provider.delete("purge", outs);
        assert.ok(fs.existsSync(path.join(data, "member", "db")));
        assert.ok(fs.existsSync(path.join(audit, "member", "db")));
    });

    it("removes both when enabled", async function () {
        const { outs } = await provider.create({ enabled: true, dirs: [data, audit] });
        await provider.delete("purge", outs);
        assert.equal(fs.existsSync(data), false);
        assert.equal(fs.existsSync(audit), false);
    });

    it("turns the option off by an update, never a replacement (which would delete)", async function () {
        const d = await provider.diff("purge", { enabled: true, dirs: [data] }, { enabled: false, dirs: [data] });
        assert.equal(d.changes, true);
        assert.deepEqual(d.replaces, []);
    });

    it("empties another user's directory as that user, so its symlinks cannot steer root", async function () {
        const name = `hc-purge-${randomBytes(3).toString("hex")}`;
        execFileSync("useradd", ["--system", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin", name]);
        try {
            const uid = Number(execFileSync("id", ["-u", name], { encoding: "utf8" }));
            const gid = Number(execFileSync("id", ["-g", name], { encoding: "utf8" }));
            fs.chmodSync(root, 0o711);
            execFileSync("chown", ["-R", `${uid}:${gid}`, data]);
            // Root's file, reachable through a directory symlink the other user planted in its data directory.
            const precious = path.join(root, "precious");
            fs.mkdirSync(precious, { mode: 0o755 });
            fs.writeFileSync(path.join(precious, "keep"), "root's");
            const res = spawnSync("ln", ["-s", precious, path.join(data, "member", "link")], { uid, gid });
            assert.equal(res.status, 0);
            await provider.delete("purge", { enabled: true, dirs: [data] });
            assert.equal(fs.existsSync(data), false);
            assert.equal(fs.readFileSync(path.join(precious, "keep"), "utf8"), "root's");
        } finally {
            spawnSync("userdel", [name]);
            spawnSync("groupdel", [name]);
        }
    });
});
