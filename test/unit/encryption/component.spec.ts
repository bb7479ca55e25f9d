import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { ConfigError } from "../../../components/common";
import { EncryptionAtRest, EncryptionOptions } from "../../../components/encryption";

interface Created {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
}

const created: Created[] = [];
// Distinct material per resource name, so the test can tell which key ended up where.
const fakeBytes = (name: string) => Buffer.alloc(32, name.length * 7 + name.charCodeAt(name.length - 1)).toString("base64");

function value<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => o.apply(resolve));
}

async function build(name: string, options?: EncryptionOptions): Promise<{ c: EncryptionAtRest; yaml: string; secret: boolean }> {
    const c = new EncryptionAtRest(name, { options });
    return { c, yaml: await value(c.configYaml), secret: await pulumi.isSecret(c.configYaml) };
}

describe("encryption: EncryptionAtRest (mocked engine)", () => {
    before(() => {
        pulumi.runtime.setMocks(
            {
                newResource: (args) => {
                    created.push({ type: args.type, name: args.name, inputs: args.inputs });
                    const state = args.type === "random:index/randomBytes:RandomBytes" ? { ...args.inputs, base64: fakeBytes(args.name) } : args.inputs;
                    return { id: `${args.name}-id`, state };
                },
                call: (args) => args.inputs,
            },
            "hardened-cluster",
            "unit",
        );
    });
    beforeEach(() => created.splice(0));

    it("generates one 32-byte RandomBytes per key and exposes the file only as a secret", async () => {
        const { c, yaml, secret } = await build("etcd");
        assert.equal(secret, true);
        const bytes = created.filter((r) => r.type === "random:index/randomBytes:RandomBytes");
        assert.deepEqual(bytes.map((r) => [r.name, r.inputs.length]), [["etcd-key1", 32]]);
        const doc = parse(yaml);
        assert.equal(doc.kind, "EncryptionConfiguration");
        assert.deepEqual(doc.resources[0].providers, [{ secretbox: { keys: [{ name: "key1", secret: fakeBytes("etcd-key1") }] } }]);
        assert.deepEqual(await value(c.keyNames), ["key1"]);
        assert.equal(await pulumi.isSecret(c.keyNames), false);
        assert.equal(await value(c.stage), "steady");
    });

    it("registers as a hardened-cluster:encryption component", async () => {
        await build("typed");
        assert.ok(created.some((r) => r.type === "hardened-cluster:encryption:EncryptionAtRest" && r.name === "typed"));
    });

    it("renders the promote stage with the new key first, each key with its own material", async () => {
        const { c, yaml } = await build("rot", { stage: "promote", keys: [{ name: "old" }, { name: "new" }] });
        const keys = parse(yaml).resources[0].providers[0].secretbox.keys;
        assert.deepEqual(keys, [
            { name: "new", secret: fakeBytes("rot-new") },
            { name: "old", secret: fakeBytes("rot-old") },
        ]);
        assert.notEqual(fakeBytes("rot-new"), fakeBytes("rot-old"));
        assert.equal(await value(c.writeKey), "new");
    });

    it("keeps the retired key's RandomBytes for rollback while leaving it out of the file", async () => {
        const { yaml } = await build("ret", { stage: "retire", keys: [{ name: "old" }, { name: "new" }] });
        assert.deepEqual(created.filter((r) => r.type.startsWith("random:")).map((r) => r.name).sort(), ["ret-new", "ret-old"]);
        assert.deepEqual(parse(yaml).resources[0].providers[0].secretbox.keys.map((k: { name: string }) => k.name), ["new"]);
    });

    it("creates no key for a KMS provider", async () => {
        const { yaml, secret } = await build("kms", { provider: "kms", keys: [{ name: "aws", endpoint: "unix:///run/kms.sock" }] });
        assert.equal(created.filter((r) => r.type.startsWith("random:")).length, 0);
        assert.equal(secret, true);
        assert.equal(parse(yaml).resources[0].providers[0].kms.name, "aws");
    });

    it("rejects bad options before registering anything", async () => {
        assert.throws(() => new EncryptionAtRest("bad", { options: { stage: "promote" } }), ConfigError);
        assert.throws(() => new EncryptionAtRest("bad2", { options: { provider: "identity" as never }, configKey: "cfg" }), /cfg\.provider/);
        // Registration is asynchronous: give a wrongly registered component time to reach the mock.
        await new Promise((resolve) => setTimeout(resolve, 100));
        assert.equal(created.length, 0);
    });
});
