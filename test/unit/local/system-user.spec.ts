// The etcd user belongs to the machine, a stack only holds it: destroying one of two stacks must leave the user
// the other's etcd runs as, the last holder removes a user a holder created, and a host's own user stays.
import { strict as assert } from "node:assert";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { userProvider } from "../../../platforms/local/user";

const provider = userProvider as any;
const exists = (name: string) => spawnSync("id", ["-u", name], { stdio: "ignore" }).status === 0;

describe("local system user: held by every stack that uses it", function () {
    this.timeout(60_000);
    let root: string;
    let holders: string;
    let name: string;
    before(function () {
        assert.equal(process.getuid?.(), 0, "these checks create system users: run them as root (npm test does)");
    });
    beforeEach(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "hc-user-"));
        holders = path.join(root, "system-users");
        name = `hc-u-${randomBytes(3).toString("hex")}`;
    });
    afterEach(() => {
        spawnSync("userdel", [name], { stdio: "ignore" });
        spawnSync("groupdel", [name], { stdio: "ignore" });
        fs.rmSync(root, { recursive: true, force: true });
    });

    it("keeps the user while a second stack holds it, and removes it with the last holder", async function () {
        const a = await provider.create({ name, holdersDir: holders });
        assert.equal(a.outs.createdHere, true);
        assert.ok(exists(name));
        const b = await provider.create({ name, holdersDir: holders });
        assert.equal(b.outs.createdHere, false);
        assert.notEqual(a.outs.holder, b.outs.holder);
        await provider.delete(name, a.outs);
        assert.ok(exists(name), "the second stack's etcd still runs as this user");
        await provider.delete(name, b.outs);
        assert.equal(exists(name), false, "the last holder removes the user a holder created");
        assert.equal(fs.existsSync(path.join(holders, name)), false);
    });

    it("removes the user when the stack that did not create it leaves last", async function () {
        const a = await provider.create({ name, holdersDir: holders });
        const b = await provider.create({ name, holdersDir: holders });
        await provider.delete(name, b.outs);
        assert.ok(exists(name));
        await provider.delete(name, a.outs);
        assert.equal(exists(name), false);
    });

    it("never removes a user the machine had before", async function () {
        execFileSync("useradd", ["--system", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin", name]);
        const a = await provider.create({ name, holdersDir: holders });
        assert.equal(a.outs.createdHere, false);
        await provider.delete(name, a.outs);
        assert.ok(exists(name));
    });

    it("lets state written before holder records hand the user to a newer holder instead of deleting it", async function () {
        const legacy = { name, createdHere: true };
        execFileSync("useradd", ["--system", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin", name]);
        const b = await provider.create({ name, holdersDir: holders });
        await provider.delete(name, { ...legacy, holdersDir: holders });
        assert.ok(exists(name), "a newer stack still holds it");
        await provider.delete(name, b.outs);
        assert.equal(exists(name), false, "the handed-over ownership removes it with the last holder");
    });

    it("serialises claims that run at once: one user, every claim recorded", async function () {
        const script = `const { userProvider } = require(${JSON.stringify(path.resolve(__dirname, "../../../platforms/local/user"))});
userProvider.create({ name: process.argv[1], holdersDir: process.argv[2] }).then((r) => console.log(JSON.stringify(r.outs)));`;
        const runs = Array.from({ length: 4 }, () => new Promise<any>((resolve, reject) => {
            const p = spawn(process.execPath, ["-r", "ts-node/register", "-e", script, name, holders], { stdio: ["ignore", "pipe", "inherit"] });
            let out = "";
            p.stdout.on("data", (d) => (out += d));
            p.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`claim exited ${code}`))));
        }));
        const outs = await Promise.all(runs);
        assert.equal(outs.length, 4);
        assert.equal(outs.filter((o) => o.createdHere).length, 1, "exactly one claim creates the user");
        assert.equal(fs.readdirSync(path.join(holders, name)).filter((f) => f.startsWith("holder-")).length, 4);
        for (const o of outs) await provider.delete(name, o);
        assert.equal(exists(name), false);
    });

    it("refuses a holders directory another user could write, naming it", async function () {
        fs.mkdirSync(holders, { mode: 0o700 });
        fs.chmodSync(holders, 0o777);
        await assert.rejects(provider.create({ name, holdersDir: holders }), (e: Error) => e.message.includes(holders) && /owned by root/.test(e.message));
        assert.equal(exists(name), false, "nothing is created before the check");
    });

    it("refuses a symlink in place of the holders directory", async function () {
        const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), "hc-user-elsewhere-"));
        try {
            fs.symlinkSync(elsewhere, holders);
            await assert.rejects(provider.create({ name, holdersDir: holders }), /owned by root/);
            assert.deepEqual(fs.readdirSync(elsewhere), []);
        } finally {
            fs.rmSync(elsewhere, { recursive: true, force: true });
        }
    });
});
