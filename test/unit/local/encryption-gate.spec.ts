// The rotation's guards on the local platform: a planned encryption file that drops a key etcd still uses is
// refused with the setting named, and so is one whose effect cannot be checked because etcd cannot be read;
// a key name the stack used and deleted is refused.
import { strict as assert } from "node:assert";
import { ConfigError } from "../../../components/common";
import type { EtcdKv } from "../../../components/encryption";
import { checkKekChanges, checkKeyChanges, droppedKeys } from "../../../platforms/local/encryption/gate";
import { encryptionConfigFile } from "../../../platforms/local/encryption/job";
import { planLocalStack } from "../../../platforms/local/plan";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const fileWith = (...names: string[]) => `apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - secretbox:
          keys:
${names.map((n) => `            - name: ${n}\n              secret: c2VjcmV0IGlzIHNlY3VyZQ==`).join("\n")}
      - identity: {}
`;
const plan = (stage: string, keys: string[]) => planLocalStack({
    stack: "gate", local: { layout: "user", stateDir: "/nonexistent/hc-gate" }, toolchainBin: "/toolchain/bin", isRoot: false,
    settings: { encryption: { stage: stage as never, keys: keys.map((name) => ({ name })) } }, keys: { encryption: "hardened-cluster:encryption" },
});
const under = (k: string, n: number): EtcdKv[] => Array.from({ length: n }, (_, i) => ({ key: b64(`/registry/secrets/ns/s${i}`), value: b64(`k8s:enc:secretbox:v1:${k}:\x01\x02`) }));

describe("local encryption gate: no key leaves the file while etcd uses it, no deleted key name comes back", () => {
    it("names the keys a planned file drops, not those it adds", () => {
        assert.deepEqual(droppedKeys(fileWith("k2", "k1"), [{ provider: "secretbox", name: "k2" }]), ["secretbox:k1"]);
        assert.deepEqual(droppedKeys(fileWith("k1"), [{ provider: "secretbox", name: "k1" }, { provider: "secretbox", name: "k2" }]), []);
        assert.deepEqual(droppedKeys(fileWith("k1"), [{ provider: "aescbc", name: "k1" }]), ["secretbox:k1"]);
    });

    it("refuses retire while etcd holds values under the key it drops, with the count, a sample and the setting", () => {
        const p = plan("retire", ["k1", "k2"]);
        let read = "";
        const err = (() => {
            try {
                checkKeyChanges(p, "hardened-cluster:encryption", { readHistory: () => undefined, readConfig: (f) => ((read = f), fileWith("k2", "k1")), values: () => [...under("k1", 3), ...under("k2", 5)] });
            } catch (e) {
                return e;
            }
            return undefined;
        })();
        assert.equal(read, encryptionConfigFile(p));
        assert.ok(err instanceof ConfigError);
        assert.equal(err.key, "hardened-cluster:encryption.stage");
        assert.match(err.message, /it drops secretbox:k1 from the encryption config while etcd still holds 3 values written with it \(e\.g\. \/registry\/secrets\/ns\/s0\)/);
    });

    it("lets retire through once no value uses the dropped key, and never reads etcd when nothing is dropped", () => {
        const p = plan("retire", ["k1", "k2"]);
        checkKeyChanges(p, "hardened-cluster:encryption", { readHistory: () => undefined, readConfig: () => fileWith("k2", "k1"), values: () => under("k2", 5) });
        let reads = 0;
        checkKeyChanges(plan("promote", ["k1", "k2"]), "hardened-cluster:encryption", { readHistory: () => undefined, readConfig: () => fileWith("k1", "k2"), values: () => (reads++, []) });
        checkKeyChanges(p, "hardened-cluster:encryption", { readHistory: () => undefined, readConfig: () => undefined, values: () => (reads++, []) });
        assert.equal(reads, 0);
    });

    it("refuses a steady that drops a key when etcd cannot be read, naming encryption.keys", () => {
        const p = plan("steady", ["k3"]);
        assert.throws(() => checkKeyChanges(p, "hardened-cluster:encryption", {
            readHistory: () => undefined,
            readConfig: () => fileWith("k2"),
            values: () => { throw new Error("etcdctl get --prefix /registry failed: context deadline exceeded"); },
        }), (e: ConfigError) => e.key === "hardened-cluster:encryption.keys" && /etcd cannot be read to check that no value still needs it \(etcdctl get --prefix \/registry failed: context deadline exceeded\)/.test(e.message));
    });

    it("refuses a key name the stack used and deleted, and lets a rollback re-add the retired key whose material it kept", () => {
        const history = { used: ["secretbox:k1", "secretbox:k2"], keys: ["secretbox:k2"] };
        const deps = { readHistory: () => history, readConfig: () => fileWith("k2"), values: () => [] };
        assert.throws(() => checkKeyChanges(plan("add", ["k2", "k1"]), "hardened-cluster:encryption", deps),
            (e: ConfigError) => e.key === "hardened-cluster:encryption.keys[1].name" && /this stack used secretbox:k1 before and has deleted its material/.test(e.message));
        checkKeyChanges(plan("add", ["k2", "k3"]), "hardened-cluster:encryption", deps);
        // retire keeps k1 in the settings (and its RandomBytes): going back to promote puts it back in the file.
        const kept = { readHistory: () => ({ used: ["secretbox:k1", "secretbox:k2"], keys: ["secretbox:k1", "secretbox:k2"] }), readConfig: () => fileWith("k2"), values: () => [] };
        checkKeyChanges(plan("promote", ["k1", "k2"]), "hardened-cluster:encryption", kept);
    });

    it("refuses dropping a KEK id of the local KMS plugin while etcd holds values it wrapped, naming local.kmsKeyIds", () => {
        const p = planLocalStack({
            stack: "gate", local: { layout: "user", stateDir: "/nonexistent/hc-gate", kmsKeyIds: ["kek2"] }, toolchainBin: "/toolchain/bin", isRoot: false,
            settings: { encryption: { keys: [{ name: "local-kms", provider: "kms" }] } }, keys: { local: "hardened-cluster:local" },
        });
        // EncryptedObject with keyID (field 2) "kek1", after the KMS v2 header.
        const wrapped = (id: string) => b64(`k8s:enc:kms:v2:local-kms:\x0a\x02ab\x12${String.fromCharCode(id.length)}${id}`);
        const keysOnDisk = JSON.stringify({ current: "kek2", keys: { kek1: "x", kek2: "y" } });
        const deps = (ids: string[]) => ({ readHistory: () => undefined, readConfig: (f: string) => (f === p.local.kms.keysFile ? keysOnDisk : undefined),
            values: () => ids.map((id, i) => ({ key: b64(`/registry/secrets/ns/s${i}`), value: wrapped(id) })) });
        assert.throws(() => checkKekChanges(p, "hardened-cluster:local", deps(["kek1", "kek2", "kek2"])),
            (e: ConfigError) => e.key === "hardened-cluster:local.kmsKeyIds" && /it drops KEK kek1 while etcd still holds 1 values wrapped with it \(e\.g\. \/registry\/secrets\/ns\/s0\)/.test(e.message));
        checkKekChanges(p, "hardened-cluster:local", deps(["kek2", "kek2"]));
    });
});
