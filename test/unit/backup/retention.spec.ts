// Backup settings, retention and the key check a plan makes against kept bundles. The "<provider>:<name>" form
// is what the apiserver writes into each encrypted value's prefix (Kubernetes docs, encryption at rest:
// "k8s:enc:secretbox:v1:<key name>:", KMS v2 "k8s:enc:kms:v2:<plugin name>:"), so it is checked against keyRefs.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
    BUNDLE_FORMAT, encryptionRefs, keyRefs, Manifest, resolveBackup, retainedKeyProblems, splitByRetention, StoredBundle,
} from "../../../components/backup";
import { takeBackup } from "../../../platforms/local/backup/backup";
import { listBundles, pruneBundles, removeUnfinished } from "../../../platforms/local/backup/stored";
import { planLocalStack } from "../../../platforms/local/plan";
import { refusal, rejects } from "../config-error";

const manifest = (stack: string, createdAt: string, encryptionKeys?: string[]): Manifest => ({
    format: BUNDLE_FORMAT, stack, createdAt, etcdVersion: "3.6.14", snapshotSha256: "0".repeat(64),
    files: { "snapshot.db.sealed": "a", "status.json.sealed": "b", "keys.json.sealed": "c", "cas.json.sealed": "d" },
    ...(encryptionKeys ? { encryptionKeys } : {}),
});
const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("backup settings (hardened-cluster:backup)", () => {
    it("defaults to 5 kept bundles and leaves the directory to the platform", () => {
        assert.deepEqual(resolveBackup(undefined, "hardened-cluster:backup"), { retention: 5 });
        assert.deepEqual(resolveBackup({ retention: 1, directory: "/var/backups/hc" }, "b"), { retention: 1, directory: "/var/backups/hc" });
        assert.deepEqual(resolveBackup({ intervalMinutes: 15 }, "b"), { retention: 5, intervalMinutes: 15 });
    });
    const bad: [string, object, string][] = [
        ["no bundle kept", { retention: 0 }, "hardened-cluster:backup.retention"],
        ["half a bundle", { retention: 2.5 }, "hardened-cluster:backup.retention"],
        ["past the bound", { retention: 1001 }, "hardened-cluster:backup.retention"],
        ["a relative directory", { directory: "backups" }, "hardened-cluster:backup.directory"],
        ["the root directory", { directory: "/" }, "hardened-cluster:backup.directory"],
        ["a directory with ..", { directory: "/var/../tmp/b" }, "hardened-cluster:backup.directory"],
        ["a misspelt key", { retension: 3 }, "hardened-cluster:backup.retension"],
        ["a schedule of 0 minutes", { intervalMinutes: 0 }, "hardened-cluster:backup.intervalMinutes"],
        ["a schedule in seconds", { intervalMinutes: 0.5 }, "hardened-cluster:backup.intervalMinutes"],
        ["a schedule past a day", { intervalMinutes: 1441 }, "hardened-cluster:backup.intervalMinutes"],
        ["a schedule as text", { intervalMinutes: "15m" }, "hardened-cluster:backup.intervalMinutes"],
    ];
    for (const [name, value, key] of bad) {
        it(`refuses ${name}, naming ${key}`, () => rejects(() => resolveBackup(value as never, "hardened-cluster:backup"), key));
    }
});

describe("backup retention and the keys kept bundles need", () => {
    it("keeps the newest bundles by their manifest's time", () => {
        const b = (dir: string, at: string): StoredBundle => ({ dir, manifest: manifest("s", at) });
        const { keep, prune } = splitByRetention([b("/b/2", "2026-01-02T00:00:00.000Z"), b("/b/3", "2026-01-03T00:00:00.000Z"), b("/b/1", "2026-01-01T00:00:00.000Z")], 2);
        assert.deepEqual(keep.map((x) => x.dir), ["/b/3", "/b/2"]);
        assert.deepEqual(prune.map((x) => x.dir), ["/b/1"]);
    });

    it("names keys the way the apiserver prefixes the values they encrypt", () => {
        const refs = keyRefs([
            { key: b64("/registry/secrets/a/x"), value: b64("k8s:enc:secretbox:v1:key1:\u0001\u0002") },
            { key: b64("/registry/secrets/a/y"), value: b64("k8s:enc:kms:v2:aws:\u0003") },
        ]);
        assert.deepEqual(encryptionRefs([{ provider: "kms", name: "aws" }, { provider: "secretbox", name: "key1" }]), Object.keys(refs).sort());
    });

    it("names each kept bundle that needs a key the config no longer has", () => {
        const keep = [
            { dir: "/b/new", manifest: manifest("s", "2026-01-02T00:00:00.000Z", ["secretbox:key2"]) },
            { dir: "/b/old", manifest: manifest("s", "2026-01-01T00:00:00.000Z", ["secretbox:key1", "secretbox:key2"]) },
            { dir: "/b/legacy", manifest: manifest("s", "2025-12-01T00:00:00.000Z") },
        ];
        const problems = retainedKeyProblems(keep, ["secretbox:key2"]);
        assert.equal(problems.length, 2);
        assert.match(problems[0], /backup \/b\/old .* needs secretbox:key1 /);
        assert.match(problems[1], /backup \/b\/legacy .* does not list the encryption keys/);
        assert.deepEqual(retainedKeyProblems(keep.slice(0, 2), ["secretbox:key1", "secretbox:key2"]), []);
    });
});

describe("local backup directory: listing, pruning and the plan's check", () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-bundles-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
    const put = (name: string, m: Manifest | string) => {
        fs.mkdirSync(path.join(dir, name), { recursive: true });
        fs.writeFileSync(path.join(dir, name, "manifest.json"), typeof m === "string" ? m : JSON.stringify(m));
    };

    it("prunes only this stack's bundles beyond the retention, leaving everything else there alone", () => {
        for (let i = 1; i <= 4; i++) put(`b${i}`, manifest("mine", `2026-01-0${i}T00:00:00.000Z`, ["secretbox:key1"]));
        put("theirs", manifest("other", "2020-01-01T00:00:00.000Z"));
        put("notes", "not json");
        fs.mkdirSync(path.join(dir, "elsewhere"));
        fs.symlinkSync(path.join(dir, "b1"), path.join(dir, "link"));
        assert.equal(listBundles(dir, "mine").length, 4);
        const removed = pruneBundles(dir, "mine", 2);
        assert.deepEqual(removed, [path.join(dir, "b2"), path.join(dir, "b1")]);
        assert.deepEqual(fs.readdirSync(dir).sort(), ["b3", "b4", "elsewhere", "link", "notes", "theirs"]);
        assert.deepEqual(listBundles(path.join(dir, "missing"), "mine"), []);
    });

    it("removes bundles a killed backup left unfinished (its plain snapshot part) once an hour old, and nothing else", () => {
        const hourAgo = new Date(Date.now() - 3_601_000);
        const make = (name: string, files: string[], old: boolean) => {
            const d = path.join(dir, name);
            fs.mkdirSync(d);
            for (const f of files) fs.writeFileSync(path.join(d, f), "x");
            if (old) for (const p of [...files.map((f) => path.join(d, f)), d]) fs.utimesSync(p, hourAgo, hourAgo);
        };
        make("2026-01-01T00-00-00-000Z", [".snapshot.db.part"], true);
        make("2026-01-01T00-01-00-000Z", [".snapshot.db.part", "snapshot.db.sealed"], true);
        make("2026-01-01T00-02-00-000Z", [".snapshot.db.part"], false);
        make("2026-01-01T00-03-00-000Z", [".snapshot.db.part", "notes.txt"], true);
        make("unfinished", [".snapshot.db.part"], true);
        put("2026-01-01T00-04-00-000Z", manifest("mine", "2026-01-01T00:04:00.000Z"));
        fs.utimesSync(path.join(dir, "2026-01-01T00-04-00-000Z"), hourAgo, hourAgo);
        const removed = removeUnfinished(dir);
        assert.deepEqual(removed.sort(), [path.join(dir, "2026-01-01T00-00-00-000Z"), path.join(dir, "2026-01-01T00-01-00-000Z")]);
        // Under way (young), holding something else, not named like a bundle, or finished: left alone.
        assert.deepEqual(fs.readdirSync(dir).sort(), ["2026-01-01T00-02-00-000Z", "2026-01-01T00-03-00-000Z", "2026-01-01T00-04-00-000Z", "unfinished"]);
        assert.deepEqual(removeUnfinished(path.join(dir, "missing")), []);
    });

    it("refuses to write a bundle below a directory others can write, before any etcd is asked", () => {
        const open = path.join(dir, "open");
        fs.mkdirSync(open);
        fs.chmodSync(open, 0o777);
        const plan = planLocalStack({
            stack: "guarded", local: { layout: "user", stateDir: path.join(dir, "state") }, toolchainBin: "/nonexistent", isRoot: false,
            backup: { directory: path.join(open, "bundles") },
        });
        assert.throws(() => takeBackup(plan), /^Error: hardened-cluster:backup\.directory: .*open is writable by group or others/);
        assert.equal(fs.existsSync(path.join(open, "bundles")), false);
    });

    it("refuses a plan that drops a key a kept bundle needs, naming the key setting and the bundle", () => {
        put("old", manifest("guarded", "2026-01-01T00:00:00.000Z", ["secretbox:key1"]));
        const plan = (encryption: object, retention = 5) => planLocalStack({
            stack: "guarded", local: { layout: "user", stateDir: path.join(dir, "state") }, toolchainBin: "/toolchain/bin", isRoot: false,
            settings: { encryption }, backup: { directory: dir, retention }, keys: { encryption: "hardened-cluster:encryption", backup: "hardened-cluster:backup" },
        });
        const e = refusal(() => plan({ keys: [{ name: "key2" }] }));
        assert.equal(e.key, "hardened-cluster:encryption.keys");
        assert.match(e.message, new RegExp(`${path.join(dir, "old")}.*needs secretbox:key1`));
        // Still configured (a rotation in progress), or the bundle aged out behind a newer one: accepted.
        assert.equal(plan({ keys: [{ name: "key1" }, { name: "key2" }], stage: "add" }).backup.directory, dir);
        put("new", manifest("guarded", "2026-01-02T00:00:00.000Z", ["secretbox:key2"]));
        assert.equal(plan({ keys: [{ name: "key2" }] }, 1).backup.retention, 1);
        rejects(() => plan({ keys: [{ name: "key2" }] }, 2), "hardened-cluster:encryption.keys", /old/);
    });
});
