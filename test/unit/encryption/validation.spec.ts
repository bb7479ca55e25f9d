import { strict as assert } from "node:assert";
import { ConfigError } from "../../../components/common";
import { rejects } from "../config-error";
import { EncryptionOptions, renderEncryptionConfig, resolveEncryption } from "../../../components/encryption";

const GOOD = Buffer.alloc(32, 7).toString("base64");
const KMS = "unix:///var/run/kmsplugin/socket.sock";

describe("encryption: bad input names the setting", () => {
    // [what, options, key path, something the message must say]
    const cases: [string, unknown, string, RegExp?][] = [
        ["an unknown option", { readUnencryptd: true }, "encryption.readUnencryptd", /known keys/],
        ["identity as the provider", { provider: "identity" }, "encryption.provider", /readUnencrypted/],
        ["identity as a key's provider", { keys: [{ name: "a", provider: "identity" }] }, "encryption.keys[0].provider", /unencrypted/],
        ["an unknown provider", { provider: "aes256" }, "encryption.provider", /secretbox/],
        ["an unknown stage", { stage: "rotate" }, "encryption.stage", /promote/],
        ["promote without a new key", { stage: "promote", keys: [{ name: "a" }] }, "encryption.keys[1]", /new key/],
        ["add without a new key (default key list)", { stage: "add" }, "encryption.keys[1]", /new key/],
        ["steady with two keys", { keys: [{ name: "a" }, { name: "b" }] }, "encryption.keys[1]", /"b"/],
        ["three keys", { stage: "add", keys: [{ name: "a" }, { name: "b" }, { name: "c" }] }, "encryption.keys[2]"],
        ["a duplicated key name", { stage: "add", keys: [{ name: "a" }, { name: "a" }] }, "encryption.keys[1].name", /keys\[0\]/],
        ["a key name that is not a label", { keys: [{ name: "Key_1" }] }, "encryption.keys[0].name"],
        ["an empty key list", { keys: [] }, "encryption.keys"],
        ["an unknown key field", { keys: [{ name: "a", secret: GOOD }] }, "encryption.keys[0].secret"],
        ["a kms key without endpoint", { keys: [{ name: "a", provider: "kms" }] }, "encryption.keys[0].endpoint", /unix:\/\/\//],
        ["a kms endpoint over tcp", { keys: [{ name: "a", provider: "kms", endpoint: "tcp://10.0.0.1:80" }] }, "encryption.keys[0].endpoint"],
        ["a zero kms timeout", { keys: [{ name: "a", provider: "kms", endpoint: KMS, timeout: "0s" }] }, "encryption.keys[0].timeout"],
        ["an endpoint on a local key", { keys: [{ name: "a", endpoint: KMS }] }, "encryption.keys[0].endpoint", /only a kms key/],
        ["kms by default without listing keys", { provider: "kms" }, "encryption.keys[0].endpoint"],
        ["readUnencrypted as a string", { readUnencrypted: "yes" }, "encryption.readUnencrypted"],
        ["an empty resource name", { resources: ["configmaps", ""] }, "encryption.resources[1]"],
        ["secrets listed again", { resources: ["secrets"] }, "encryption.resources[0]", /always encrypted/],
        ["a duplicated resource", { resources: ["configmaps", "configmaps"] }, "encryption.resources[1]", /duplicates/],
        ["a bare star", { resources: ["*"] }, "encryption.resources[0]", /\*\.\*/],
        ["a resource across groups", { resources: ["deployments.*"] }, "encryption.resources[0]", /across groups/],
        ["an overlapping group wildcard", { resources: ["deployments.apps", "*.apps"] }, "encryption.resources[1]", /overlaps/],
        ["a core wildcard next to a core resource", { resources: ["configmaps", "*."] }, "encryption.resources[1]", /overlaps/],
        ["events.k8s.io events", { resources: ["events.events.k8s.io"] }, "encryption.resources[0]", /"events"/],
        ["a capitalised resource", { resources: ["ConfigMaps"] }, "encryption.resources[0]", /lower-case/],
        ["a resource without REST API", { resources: ["serviceipallocations"] }, "encryption.resources[0]"],
        ["options that are not an object", "secretbox", "encryption"],
        ["null as the options", null, "encryption"],
        ["null as a key", { keys: [null] }, "encryption.keys[0]"],
        ["a kms socket in /tmp", { keys: [{ name: "a", provider: "kms", endpoint: "unix:///tmp/kms.sock" }] }, "encryption.keys[0].endpoint", /every local user/],
        ["a kms socket below /dev/shm", { keys: [{ name: "a", provider: "kms", endpoint: "unix:///dev/shm/kms/plugin.sock" }] }, "encryption.keys[0].endpoint", /every local user/],
        ["a kms socket in /var/tmp", { keys: [{ name: "a", provider: "kms", endpoint: "unix:///var/tmp/kms.sock" }] }, "encryption.keys[0].endpoint", /every local user/],
        ["a kms socket path that climbs into /tmp", { keys: [{ name: "a", provider: "kms", endpoint: "unix:///var/run/../../tmp/kms.sock" }] }, "encryption.keys[0].endpoint", /normalized/],
        ["a kms socket path with a doubled slash", { keys: [{ name: "a", provider: "kms", endpoint: "unix:////tmp/kms.sock" }] }, "encryption.keys[0].endpoint"],
    ];

    for (const [what, options, path, mentions] of cases) {
        it(`rejects ${what}`, () => rejects(() => resolveEncryption(options as EncryptionOptions), path, mentions));
    }

    it("does not echo the value under a misspelt key, which may be key material", () => {
        assert.throws(() => resolveEncryption({ keys: [{ name: "a", secret: GOOD }] } as never), (e: unknown) => {
            assert.ok(e instanceof ConfigError);
            assert.equal(e.key, "encryption.keys[0].secret");
            assert.ok(!e.message.includes(GOOD), e.message);
            return true;
        });
    });

    it("accepts a kms socket in a root-owned directory", () => {
        assert.equal(resolveEncryption({ keys: [{ name: "a", provider: "kms", endpoint: KMS }] }).keys[0].endpoint, KMS);
        assert.equal(resolveEncryption({ keys: [{ name: "a", provider: "kms", endpoint: "unix:///run/tmp-kms/s.sock" }] }).keys[0].endpoint, "unix:///run/tmp-kms/s.sock");
    });

    it("roots key paths at the caller's configKey", () => {
        rejects(() => resolveEncryption({ stage: "promote" }, "hardened-cluster:encryption"), "hardened-cluster:encryption.keys[1]");
    });

    it("accepts the group wildcards upstream allows", () => {
        assert.deepEqual(resolveEncryption({ resources: ["*.apps", "widgets.example.com"] }).resources, ["secrets", "*.apps", "widgets.example.com"]);
    });

    describe("key material given to the renderer", () => {
        const bad: [string, string][] = [
            ["16 bytes", Buffer.alloc(16, 1).toString("base64")],
            ["33 bytes", Buffer.alloc(33, 1).toString("base64")],
            ["not base64", "this is not base64 at all, not even close!!"],
            ["unpadded base64", Buffer.alloc(32, 1).toString("base64").replace("=", "")],
        ];
        for (const [what, secret] of bad) {
            it(`rejects ${what} without echoing it`, () => {
                assert.throws(() => renderEncryptionConfig(undefined, [{ name: "key1", secret }]), (e: unknown) => {
                    assert.ok(e instanceof ConfigError);
                    assert.equal(e.key, "encryption.keys[0]");
                    assert.match(e.message, /exactly 32 bytes/);
                    assert.ok(!e.message.includes(secret), "the message must not contain the key");
                    return true;
                });
            });
        }

        it("rejects a missing key's material, naming the key", () => {
            rejects(() => renderEncryptionConfig({ stage: "add", keys: [{ name: "a" }, { name: "b" }] }, [{ name: "a", secret: GOOD }]),
                "encryption.keys[1]", /"b"/);
        });

        it("does not need the retired key's material", () => {
            const cfg = renderEncryptionConfig({ stage: "retire", keys: [{ name: "a" }, { name: "b" }] }, [{ name: "b", secret: GOOD }]);
            assert.equal(JSON.stringify(cfg).includes('"a"'), false);
        });
    });
});
