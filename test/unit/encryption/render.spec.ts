import { strict as assert } from "node:assert";
import { parse } from "yaml";
import { toYaml } from "../../../components/common";
import { EncryptionOptions, RotationStage, renderEncryptionConfig } from "../../../components/encryption";

// 32-byte keys with a recognisable fill, so a misplaced key shows up in a diff.
const material = (fill: number) => Buffer.alloc(32, fill).toString("base64");
const A = material(0xa1);
const B = material(0xb2);
const KEYS = [
    { name: "alpha", secret: A },
    { name: "bravo", secret: B },
];

describe("encryption: renderEncryptionConfig", () => {
    it("defaults to one secretbox key for secrets, in upstream's field names", () => {
        const cfg = renderEncryptionConfig(undefined, [{ name: "key1", secret: A }]);
        assert.deepEqual(cfg, {
            apiVersion: "apiserver.config.k8s.io/v1",
            kind: "EncryptionConfiguration",
            resources: [{ resources: ["secrets"], providers: [{ secretbox: { keys: [{ name: "key1", secret: A }] } }] }],
        });
    });

    it("round-trips through YAML unchanged", () => {
        const cfg = renderEncryptionConfig(
            { stage: "add", keys: [{ name: "alpha" }, { name: "bravo" }], resources: ["configmaps", "*.apps"], readUnencrypted: true },
            KEYS,
        );
        const text = toYaml(cfg);
        assert.deepEqual(parse(text), cfg);
        assert.match(text, /^kind: EncryptionConfiguration$/m);
    });

    describe("rotation stages", () => {
        // [stage, configured keys, names the file lists, writer first]
        const table: [RotationStage, string[], string[]][] = [
            ["steady", ["alpha"], ["alpha"]],
            ["add", ["alpha", "bravo"], ["alpha", "bravo"]],
            ["promote", ["alpha", "bravo"], ["bravo", "alpha"]],
            ["retire", ["alpha", "bravo"], ["bravo"]],
            // After retire, the new key becomes the single key of the next steady state.
            ["steady", ["bravo"], ["bravo"]],
        ];
        for (const [stage, names, expected] of table) {
            it(`${stage} [${names.join(", ")}] lists ${expected.join(", ")}`, () => {
                const cfg = renderEncryptionConfig({ stage, keys: names.map((name) => ({ name })) }, KEYS);
                assert.equal(cfg.resources[0].providers.length, 1);
                const p = cfg.resources[0].providers[0];
                assert.ok("secretbox" in p);
                assert.deepEqual(p.secretbox.keys.map((k) => k.name), expected);
                // Each name carries its own material, whatever its position.
                for (const k of p.secretbox.keys) assert.equal(k.secret, k.name === "alpha" ? A : B);
            });
        }

        it("keeps identity last in every stage when readUnencrypted is set", () => {
            for (const [stage, names] of table) {
                const providers = renderEncryptionConfig({ stage, keys: names.map((name) => ({ name })), readUnencrypted: true }, KEYS)
                    .resources[0].providers;
                assert.deepEqual(providers[providers.length - 1], { identity: {} }, stage);
                assert.ok(!("identity" in providers[0]), `${stage}: identity must never be first`);
            }
        });

        it("does not list identity unless asked", () => {
            const providers = renderEncryptionConfig(undefined, [{ name: "key1", secret: A }]).resources[0].providers;
            assert.ok(providers.every((p) => !("identity" in p)));
        });
    });

    describe("provider types", () => {
        for (const provider of ["aescbc", "aesgcm", "secretbox"] as const) {
            it(`${provider} renders its keys under the "${provider}" field`, () => {
                const cfg = renderEncryptionConfig({ provider, keys: [{ name: "alpha" }] }, KEYS);
                assert.deepEqual(cfg.resources[0].providers, [{ [provider]: { keys: [{ name: "alpha", secret: A }] } }]);
            });
        }

        it("renders a KMS v2 provider without key material", () => {
            const options: EncryptionOptions = {
                provider: "kms",
                keys: [{ name: "aws-kms", endpoint: "unix:///var/run/kmsplugin/socket.sock", timeout: "3s" }],
            };
            const cfg = renderEncryptionConfig(options, []);
            assert.deepEqual(cfg.resources[0].providers, [
                { kms: { apiVersion: "v2", name: "aws-kms", endpoint: "unix:///var/run/kmsplugin/socket.sock", timeout: "3s" } },
            ]);
        });

        it("omits timeout when none is set, leaving upstream's default", () => {
            const cfg = renderEncryptionConfig({ keys: [{ name: "k", provider: "kms", endpoint: "unix:///run/kms.sock" }] }, []);
            assert.deepEqual(cfg.resources[0].providers, [{ kms: { apiVersion: "v2", name: "k", endpoint: "unix:///run/kms.sock" } }]);
        });

        it("migrates from a local key to KMS by the same stages, in separate provider entries", () => {
            const keys = [{ name: "alpha" }, { name: "aws", provider: "kms" as const, endpoint: "unix:///run/kms.sock" }];
            const add = renderEncryptionConfig({ stage: "add", keys }, KEYS).resources[0].providers;
            assert.deepEqual(add.map((p) => Object.keys(p)[0]), ["secretbox", "kms"]);
            const promote = renderEncryptionConfig({ stage: "promote", keys }, KEYS).resources[0].providers;
            assert.deepEqual(promote.map((p) => Object.keys(p)[0]), ["kms", "secretbox"]);
            const retire = renderEncryptionConfig({ stage: "retire", keys }, []).resources[0].providers;
            assert.deepEqual(retire.map((p) => Object.keys(p)[0]), ["kms"]);
        });
    });

    describe("resources", () => {
        it("always encrypts secrets first and appends opt-in resources in order", () => {
            const cfg = renderEncryptionConfig({ resources: ["configmaps", "*.apps", "widgets.example.com"] }, [{ name: "key1", secret: A }]);
            assert.deepEqual(cfg.resources[0].resources, ["secrets", "configmaps", "*.apps", "widgets.example.com"]);
        });

        it("lets a core or global wildcard stand in for secrets, which upstream would reject as an overlap", () => {
            assert.deepEqual(renderEncryptionConfig({ resources: ["*.*"] }, [{ name: "key1", secret: A }]).resources[0].resources, ["*.*"]);
            assert.deepEqual(
                renderEncryptionConfig({ resources: ["*.", "*.apps"] }, [{ name: "key1", secret: A }]).resources[0].resources,
                ["*.", "*.apps"],
            );
        });
    });
});
