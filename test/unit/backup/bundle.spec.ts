// The pure rules of etcd backup bundles. Value prefixes follow the Kubernetes docs on encryption at rest
// ("k8s:enc:<provider>:v1:<key name>:" before the ciphertext); fingerprints are checked against openssl.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
    BUNDLE_FILES, BUNDLE_FORMAT, checkContents, checkManifest, configuredKeys, fingerprint, keyRefs, Manifest, newBundleKey,
    restoreArgs, sameMinor, seal, sha256, unseal,
} from "../../../components/backup/bundle";

const b64 = (s: string | Buffer) => Buffer.from(s).toString("base64");
const kv = (key: string, value: string | Buffer) => ({ key: b64(key), value: b64(value) });

describe("backup bundle: encryption key references in stored values", () => {
    it("counts each provider:name on /registry values and ignores clear or foreign values", () => {
        const cipher = Buffer.from([0x00, 0x3a, 0xff, 0x6b, 0x38, 0x73]); // binary, colons included
        const refs = keyRefs([
            kv("/registry/secrets/default/a", Buffer.concat([Buffer.from("k8s:enc:aescbc:v1:key1:"), cipher])),
            kv("/registry/secrets/default/b", Buffer.concat([Buffer.from("k8s:enc:aescbc:v1:key1:"), cipher])),
            kv("/registry/secrets/kube-system/c", Buffer.concat([Buffer.from("k8s:enc:secretbox:v1:key2:"), cipher])),
            kv("/registry/configmaps/default/d", Buffer.concat([Buffer.from("k8s\x00"), cipher])),
            kv("/registry/configmaps/default/e", '{"kind":"ConfigMap"}'),
            kv("/other/x", "k8s:enc:aescbc:v1:elsewhere:zz"),
        ]);
        assert.deepEqual(refs, { "aescbc:key1": 2, "secretbox:key2": 1 });
    });

    it("reads every key name of an EncryptionConfiguration, identity having none", () => {
        const yaml = `apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - aescbc:
          keys:
            - name: key1
              secret: c2VjcmV0IGlzIHNlY3VyZQ==
            - name: key0
              secret: dGhpcyBpcyBwYXNzd29yZA==
      - secretbox:
          keys:
            - name: key2
              secret: YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY=
      - identity: {}
`;
        assert.deepEqual(configuredKeys(yaml), ["aescbc:key0", "aescbc:key1", "secretbox:key2"]);
    });
});

describe("backup bundle: sealing (AES-256-GCM)", () => {
    const key = newBundleKey();
    const data = Buffer.from("snapshot bytes ".repeat(100));

    it("round-trips and never stores the plaintext", () => {
        const sealed = seal(key, data, "snapshot.db.sealed");
        assert.equal(sealed.includes(Buffer.from("snapshot bytes")), false);
        assert.deepEqual(unseal(key, sealed, "snapshot.db.sealed"), data);
        assert.notDeepEqual(seal(key, data, "snapshot.db.sealed"), sealed, "a fresh nonce per seal");
    });

    it("refuses a flipped byte, another key and another file's label", () => {
        const sealed = seal(key, data, "snapshot.db.sealed");
        let flips = 0;
        for (const at of [0, 20, sealed.length - 1]) {
            const bad = Buffer.from(sealed);
            bad[at] ^= 0x01;
            assert.throws(() => unseal(key, bad, "snapshot.db.sealed"), /does not decrypt/);
            flips++;
        }
        assert.equal(flips, 3);
        assert.throws(() => unseal(newBundleKey(), sealed, "snapshot.db.sealed"), /does not decrypt/);
        assert.throws(() => unseal(key, sealed, "status.json.sealed"), /does not decrypt/);
    });
});

describe("backup bundle: pre-flight", () => {
    const files = Object.fromEntries(BUNDLE_FILES.map((f) => [f, sha256(f)])) as Manifest["files"];
    const manifest: Manifest = { format: BUNDLE_FORMAT, stack: "local", createdAt: "2026-01-01T00:00:00Z", etcdVersion: "3.6.14", files, snapshotSha256: "00" };

    it("accepts an intact bundle for the same stack and minor release", () => {
        assert.deepEqual(checkManifest({ manifest, storedHashes: files, stack: "local", etcdVersion: "3.6.15" }), []);
    });

    it("names a changed file, a missing file, another stack and another minor release", () => {
        const stored: Partial<Manifest["files"]> = { ...files, "snapshot.db.sealed": sha256("changed") };
        delete stored["keys.json.sealed"];
        const problems = checkManifest({ manifest, storedHashes: stored, stack: "other", etcdVersion: "3.5.21" });
        assert.equal(problems.length, 4, problems.join("\n"));
        assert.match(problems[0], /^snapshot\.db\.sealed: sha256/);
        assert.match(problems[1], /^keys\.json\.sealed: missing/);
        assert.match(problems[2], /stack "local", not "other"/);
        assert.match(problems[3], /etcd 3\.6\.14; this stack runs 3\.5\.21/);
        assert.equal(sameMinor("v3.6.0", "3.6.14"), true);
        assert.equal(sameMinor("3.6.0", "3.7.0"), false);
    });

    it("refuses a snapshot needing a key the stack no longer has, naming it", () => {
        const status = { hash: 1, revision: 10, totalKey: 5, totalSize: 100, version: "3.6.0" };
        const ok = checkContents({ status, restoredStatus: status, refs: { "aescbc:key1": 3 }, configured: ["aescbc:key1", "aescbc:key2"], etcdVersion: "3.6.14" });
        assert.deepEqual(ok, []);
        const bad = checkContents({ status, restoredStatus: { ...status, hash: 2 }, refs: { "aescbc:key0": 3, "aescbc:key1": 1 }, configured: ["aescbc:key1"], etcdVersion: "3.6.14" });
        assert.equal(bad.length, 2, bad.join("\n"));
        assert.match(bad[0], /hash 2.*hash 1/);
        assert.match(bad[1], /aescbc:key0 \(3 value\(s\)/);
        const newer = checkContents({ status: { ...status, version: "3.7.0" }, restoredStatus: status, refs: {}, configured: [], etcdVersion: "3.6.14" });
        assert.match(newer.join("\n"), /storage version 3\.7\.0 is newer/);
    });
});

describe("backup bundle: restore command line and CA fingerprints", () => {
    it("builds etcdutl's restore from the member's own flags, with a bumped, compacted revision", () => {
        const argv = ["--name=m2", "--data-dir=/d", "--initial-cluster=m1=https://a:2380,m2=https://b:2380", "--initial-cluster-token=tok",
            "--initial-advertise-peer-urls=https://b:2380", "--initial-cluster-state=new"];
        assert.deepEqual(restoreArgs(argv, "/s/snap.db", "/d.new"), [
            "snapshot", "restore", "/s/snap.db", "--name=m2", "--initial-cluster=m1=https://a:2380,m2=https://b:2380",
            "--initial-cluster-token=tok", "--initial-advertise-peer-urls=https://b:2380", "--data-dir=/d.new",
            "--bump-revision=1000000000", "--mark-compacted",
        ]);
        assert.throws(() => restoreArgs(["--name=x"], "/s", "/d"), /--initial-cluster, --initial-cluster-token, --initial-advertise-peer-urls/);
    });

    it("fingerprints a CA as openssl does", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-unit-backup-"));
        try {
            execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=test-ca",
                "-days", "1", "-keyout", path.join(dir, "k.pem"), "-out", path.join(dir, "c.pem")], { stdio: "ignore" });
            const out = execFileSync("openssl", ["x509", "-in", path.join(dir, "c.pem"), "-noout", "-fingerprint", "-sha256"], { encoding: "utf8" });
            assert.equal(fingerprint(fs.readFileSync(path.join(dir, "c.pem"), "utf8")), out.trim().split("=")[1]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
