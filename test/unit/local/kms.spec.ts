// The local platform's KMS v2 plugin in the plan: where its socket and keys file go, which KEK id is current,
// that kms keys get the plugin's socket and may name no other, and that the plugin is only run when used.
import { strict as assert } from "node:assert";
import { ConfigError } from "../../../components/common";
import { kmsKeysFile, usesKms } from "../../../platforms/local/kms";
import { planLocalStack } from "../../../platforms/local/plan";
import { renderEncryptionConfig } from "../../../components/encryption";

const plan = (encryption: object, local: object = {}) => planLocalStack({
    stack: "kms", local: { layout: "user", stateDir: "/nonexistent/hc-kms", ...local } as never, toolchainBin: "/toolchain/bin", isRoot: false,
    settings: { encryption: encryption as never }, keys: { encryption: "hardened-cluster:encryption", local: "hardened-cluster:local" },
});
const failsAt = (fn: () => unknown, key: string, message?: RegExp) =>
    assert.throws(fn, (e: ConfigError) => (e.key === key || (e as { errors?: ConfigError[] }).errors?.some((x) => x.key === key) === true) && (!message || message.test(e.message)));

describe("local KMS v2 plugin: the plan", () => {
    it("gives a kms key the plugin's socket in the stack's run directory, and runs the plugin only then", () => {
        const p = plan({ keys: [{ name: "local-kms", provider: "kms" }] });
        assert.equal(p.local.kms.socket, "/nonexistent/hc-kms/run/kms/kms.sock");
        assert.equal(p.cluster.resolved.encryptionResolved.keys[0].endpoint, "unix:///nonexistent/hc-kms/run/kms/kms.sock");
        assert.equal(usesKms(p), true);
        assert.equal(usesKms(plan({ keys: [{ name: "k1" }] })), false);
        // The rendered file names the socket and KMS v2.
        const rendered = JSON.stringify(renderEncryptionConfig({ keys: [{ name: "local-kms", provider: "kms", endpoint: `unix://${p.local.kms.socket}` }] }, []));
        assert.match(rendered, /"apiVersion":"v2"/);
    });

    it("refuses a kms key pointing at another socket, naming its endpoint", () => {
        failsAt(() => plan({ keys: [{ name: "x", provider: "kms", endpoint: "unix:///var/run/other/kms.sock" }] }), "hardened-cluster:encryption.keys[0].endpoint", /runs its KMS v2 plugin on unix:\/\/\/nonexistent\/hc-kms\/run\/kms\/kms\.sock/);
    });

    it("defaults to one KEK id and refuses bad, repeated or too many ids", () => {
        assert.deepEqual(plan({}).local.kms.keyIds, ["kek1"]);
        assert.deepEqual(plan({}, { kmsKeyIds: ["kek1", "kek2"] }).local.kms.keyIds, ["kek1", "kek2"]);
        failsAt(() => plan({}, { kmsKeyIds: [] }), "hardened-cluster:local.kmsKeyIds");
        failsAt(() => plan({}, { kmsKeyIds: ["KEK"] }), "hardened-cluster:local.kmsKeyIds[0]", /RFC 1123/);
        failsAt(() => plan({}, { kmsKeyIds: ["a", "b", "a"] }), "hardened-cluster:local.kmsKeyIds[2]", /already listed at hardened-cluster:local\.kmsKeyIds\[0\]/);
        failsAt(() => plan({}, { kmsKeyIds: ["a", "b", "c", "d", "e", "f"] }), "hardened-cluster:local.kmsKeyIds");
    });

    it("writes the keys file with the last id current", () => {
        assert.deepEqual(JSON.parse(kmsKeysFile(["kek1", "kek2"], ["QUFB", "QkJC"])), { current: "kek2", keys: { kek1: "QUFB", kek2: "QkJC" } });
    });
});
