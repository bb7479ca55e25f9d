import { strict as assert } from "node:assert";
import { encryptionApiServerFlags, encryptionPosture } from "../../../components/encryption";

describe("encryption: posture and flags", () => {
    it("reports the secure default with no weakenings", () => {
        assert.deepEqual(encryptionPosture(undefined), {
            writeProvider: "secretbox",
            writeKey: "key1",
            stage: "steady",
            keyNames: ["key1"],
            resources: ["secrets"],
            readUnencrypted: false,
            weakenings: [],
        });
    });

    it("lists readUnencrypted as a weakening", () => {
        const p = encryptionPosture({ readUnencrypted: true });
        assert.equal(p.readUnencrypted, true);
        assert.deepEqual(p.weakenings.map((w) => w.option), ["encryption.readUnencrypted"]);
        assert.match(p.weakenings[0].effect, /plaintext/);
    });

    it("lists the AES modes as weakenings, at the setting that chose them", () => {
        assert.deepEqual(encryptionPosture({ provider: "aescbc" }).weakenings.map((w) => w.option), ["encryption.provider"]);
        const mixed = encryptionPosture({ stage: "add", keys: [{ name: "a" }, { name: "b", provider: "aesgcm" }] }, "cfg");
        assert.deepEqual(mixed.weakenings.map((w) => w.option), ["cfg.keys[1].provider"]);
        assert.match(mixed.weakenings[0].effect, /aesgcm/);
    });

    it("reports the writing key and order of each stage", () => {
        const keys = [{ name: "a" }, { name: "b" }];
        assert.deepEqual(encryptionPosture({ stage: "add", keys }).keyNames, ["a", "b"]);
        const promote = encryptionPosture({ stage: "promote", keys });
        assert.equal(promote.writeKey, "b");
        assert.deepEqual(promote.keyNames, ["b", "a"]);
        assert.deepEqual(encryptionPosture({ stage: "retire", keys }).keyNames, ["b"]);
    });

    it("reports KMS as the writing provider without weakening", () => {
        const p = encryptionPosture({ provider: "kms", keys: [{ name: "aws", endpoint: "unix:///run/kms.sock" }] });
        assert.equal(p.writeProvider, "kms");
        assert.deepEqual(p.weakenings, []);
    });

    it("turns on the config file with automatic reload", () => {
        assert.deepEqual(encryptionApiServerFlags("/etc/kubernetes/encryption-config.yaml"), {
            "encryption-provider-config": "/etc/kubernetes/encryption-config.yaml",
            "encryption-provider-config-automatic-reload": "true",
        });
    });
});
