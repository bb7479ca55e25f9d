// Where the local platform may keep its state, and how it recognises its own directories: checked against
// the real filesystem, the way an attacker or a careless setting would present it.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ConfigError } from "../../../components/common";
import { resolveLocal } from "../../../platforms/local/options";
import { checkLayoutDirs, LocalStackInput, MARKER, planLocalStack, readMarker } from "../../../platforms/local/plan";

const planLocal = (input: Omit<LocalStackInput, "toolchainBin" | "isRoot">, isRoot: boolean) => planLocalStack({ ...input, toolchainBin: "/toolchain/bin", isRoot });

const NOBODY = 65534;
const refused = (run: () => unknown, keyPath: string, mentions: RegExp) =>
    assert.throws(run, (e: unknown) => e instanceof ConfigError && e.key === keyPath && mentions.test(e.message));

describe("local state directory", function () {
    let root: string;
    beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), "hc-state-"))));
    afterEach(() => fs.rmSync(root, { recursive: true, force: true }));
    const user = (stateDir: string) => () => resolveLocal({ layout: "user", stateDir }, "mine", "local", true);

    it("refuses / and a world-writable directory such as /tmp itself", function () {
        refused(user("/"), "local.stateDir", /cannot be \//);
        refused(user("/tmp"), "local.stateDir", /writable by group or others/);
        refused(user("/var/../tmp/"), "local.stateDir", /writable by group or others/);
    });

    it("normalises the path it was given", function () {
        const dir = path.join(root, "state");
        assert.equal(user(`${root}/./x/../state/`)().stateDir, dir);
        assert.equal(user(`${root}/./x/../state/`)().layout.pkiDir, path.join(dir, "pki"));
    });

    it("accepts a new directory below a sticky /tmp, but not one another user made there", function () {
        assert.equal(user(path.join(root, "new"))().stateDir, path.join(root, "new"));
        const theirs = path.join(root, "theirs");
        fs.mkdirSync(theirs, { mode: 0o700 });
        fs.chownSync(theirs, NOBODY, NOBODY);
        refused(user(theirs), "local.stateDir", /owned by uid 65534/);
        refused(user(path.join(theirs, "below")), "local.stateDir", /owned by uid 65534/);
    });

    it("refuses a group- or world-writable ancestor that is not sticky", function () {
        const open = path.join(root, "open");
        fs.mkdirSync(open);
        fs.chmodSync(open, 0o777);
        refused(user(path.join(open, "state")), "local.stateDir", /writable by group or others/);
        fs.chmodSync(open, 0o775);
        refused(user(path.join(open, "state")), "local.stateDir", /writable by group or others/);
    });

    it("refuses a symlink another user planted on the way, and follows one root made", function () {
        const sticky = path.join(root, "sticky");
        fs.mkdirSync(sticky);
        fs.chmodSync(sticky, 0o1777);
        fs.mkdirSync(path.join(root, "real"), { mode: 0o700 });
        fs.symlinkSync(path.join(root, "real"), path.join(sticky, "link"));
        fs.lchownSync(path.join(sticky, "link"), NOBODY, NOBODY);
        refused(user(path.join(sticky, "link", "state")), "local.stateDir", /symlink owned by uid 65534/);
        fs.lchownSync(path.join(sticky, "link"), 0, 0);
        assert.doesNotThrow(user(path.join(sticky, "link", "state")));
    });

    it("refuses a state directory holding another cluster or anything else", function () {
        refused(() => planLocal({ stack: "mine", local: { layout: "user", stateDir: "/etc" } }, true), "local.stateDir", /not created by hardened-cluster/);
        const dir = path.join(root, "s");
        fs.mkdirSync(dir, { mode: 0o700 });
        fs.writeFileSync(path.join(dir, "admin.conf"), "x");
        const plan = () => planLocal({ stack: "mine", local: { layout: "user", stateDir: dir } }, false);
        refused(plan, "local.stateDir", /not created by hardened-cluster/);
        fs.writeFileSync(path.join(dir, MARKER), "theirs");
        refused(plan, "local.stateDir", /belongs to another stack/);
        fs.writeFileSync(path.join(dir, MARKER), "mine");
        assert.doesNotThrow(plan);
    });

    it("takes a tree of empty directories, what a destroy leaves, as unclaimed", function () {
        const dir = path.join(root, "left");
        fs.mkdirSync(path.join(dir, "pki", "etcd"), { recursive: true, mode: 0o700 });
        assert.doesNotThrow(() => planLocal({ stack: "mine", local: { layout: "user", stateDir: dir } }, false));
        fs.writeFileSync(path.join(dir, "pki", "etcd", "ca.key"), "");
        refused(() => planLocal({ stack: "mine", local: { layout: "user", stateDir: dir } }, false), "local.stateDir", /not created/);
    });

    it("accepts this stack's default state directory from before markers existed", function () {
        const saved = process.env.XDG_STATE_HOME;
        process.env.XDG_STATE_HOME = root;
        try {
            const dir = path.join(root, "hardened-cluster", "mine");
            fs.mkdirSync(path.join(dir, "pki"), { recursive: true, mode: 0o700 });
            fs.writeFileSync(path.join(dir, "pki", "ca.crt"), "");
            assert.doesNotThrow(() => planLocal({ stack: "mine", local: { layout: "user" } }, false));
            // The same directory named explicitly by another stack is not its default.
            refused(() => planLocal({ stack: "other", local: { layout: "user", stateDir: dir } }, false), "local.stateDir", /not created/);
        } finally {
            if (saved === undefined) delete process.env.XDG_STATE_HOME;
            else process.env.XDG_STATE_HOME = saved;
        }
    });
});

describe("ownership markers", function () {
    let root: string;
    beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), "hc-marker-"))));
    afterEach(() => fs.rmSync(root, { recursive: true, force: true }));
    const local = () => ({ ...resolveLocal({ layout: "user", stateDir: path.join(root, "s") }, "mine", "local", false) });
    const populate = (marker: (f: string) => void) => {
        fs.mkdirSync(path.join(root, "s"), { mode: 0o700 });
        fs.writeFileSync(path.join(root, "s", "etcd"), "");
        marker(path.join(root, "s", MARKER));
    };

    it("does not follow a marker that is a symlink, even to a file naming this stack", function () {
        fs.writeFileSync(path.join(root, "elsewhere"), "mine");
        populate((f) => fs.symlinkSync(path.join(root, "elsewhere"), f));
        assert.equal(readMarker(path.join(root, "s", MARKER)), undefined);
        assert.throws(() => checkLayoutDirs(local(), "mine", "local"), /not a valid marker/);
    });

    it("refuses an oversized or malformed marker without printing it", function () {
        populate((f) => fs.writeFileSync(f, `mine${" ".repeat(300)}`));
        assert.equal(readMarker(path.join(root, "s", MARKER)), undefined);
        fs.writeFileSync(path.join(root, "s", MARKER), "\u001b[2J-----BEGIN PRIVATE KEY-----");
        assert.throws(() => checkLayoutDirs(local(), "mine", "local"), (e: Error) => /not a valid marker/.test(e.message) && !e.message.includes("PRIVATE"));
        fs.writeFileSync(path.join(root, "s", MARKER), "secret-looking-other-stack");
        assert.throws(() => checkLayoutDirs(local(), "mine", "local"), (e: Error) => /another stack/.test(e.message) && !e.message.includes("secret-looking"));
    });

    it("refuses a marker that is a FIFO instead of hanging on it", function () {
        populate(() => undefined);
        require("node:child_process").execFileSync("mkfifo", [path.join(root, "s", MARKER)]);
        assert.equal(readMarker(path.join(root, "s", MARKER)), undefined);
    });
});

describe("local options: etcd user and purge", function () {
    it("refuses root, or any user with uid 0, as the etcd user", function () {
        refused(() => resolveLocal({ layout: "system", etcdUser: "root" }, "s", "local", true), "local.etcdUser", /must not run as root/);
        const zero = fs.readFileSync("/etc/passwd", "utf8").split("\n").filter((l) => l.split(":")[2] === "0").map((l) => l.split(":")[0]);
        assert.ok(zero.length >= 1);
        for (const name of zero) refused(() => resolveLocal({ layout: "system", etcdUser: name }, "s", "local", true), "local.etcdUser", /root/);
    });

    it("keeps etcd data and audit logs on destroy unless purgeOnDestroy is true", function () {
        assert.equal(resolveLocal({ layout: "system" }, "s", "local", true).purgeOnDestroy, false);
        assert.equal(resolveLocal({ layout: "system", purgeOnDestroy: true }, "s", "local", true).purgeOnDestroy, true);
        refused(() => resolveLocal({ layout: "system", purgeOnDestroy: "yes" as never }, "s", "local", true), "local.purgeOnDestroy", /true or false/);
    });
});
