// scripts/check-config.ts: `npm start` validates the stack's configuration before the engine runs, so a typo is
// printed once, as one line naming the key, with no stack trace, and nothing starts. Input is what
// `pulumi config --json --show-secrets` prints (captured from Pulumi 3.259 for stacks/Pulumi.local.yaml).
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../../..");

function check(config: Record<string, { value?: string; objectValue?: unknown; secret: boolean }>, input?: string) {
    const res = spawnSync(process.execPath, ["-r", "ts-node/register", "scripts/check-config.ts", "local"], {
        cwd: ROOT, encoding: "utf8", input: input ?? JSON.stringify(config),
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" }, timeout: 120_000,
    });
    return { status: res.status, stderr: res.stderr, stdout: res.stdout };
}

const obj = (v: unknown) => ({ value: JSON.stringify(v), objectValue: v, secret: false });
const tenant = { name: "team-a", allowSameNamespace: true, roleBindings: { developer: [{ kind: "Group", name: "team-a-devs" }] } };
const localStack = (tenants: unknown[]) => ({
    "hardened-cluster:audit": obj({}), "hardened-cluster:aws": obj({}), "hardened-cluster:controlPlane": obj({}),
    "hardened-cluster:encryption": obj({}), "hardened-cluster:local": obj({}), "hardened-cluster:pki": obj({}),
    "hardened-cluster:kubernetesVersion": { value: "v1.34.12", secret: false },
    "hardened-cluster:platform": { value: "local", secret: false },
    "hardened-cluster:baseline": obj({ tenants }),
});

describe("npm start's configuration check (scripts/check-config.ts)", function () {
    this.timeout(240_000);

    it("accepts the committed local stack's configuration silently", function () {
        const res = check(localStack([tenant]));
        assert.equal(res.status, 0, res.stderr);
        assert.equal(res.stderr + res.stdout, "");
    });

    it("prints a misspelt tenant key as one line naming the full key path, and exits 1", function () {
        const { allowSameNamespace: _, ...rest } = tenant;
        const res = check(localStack([{ ...rest, allowSameNamspace: true }]));
        assert.equal(res.status, 1);
        const lines = res.stderr.split("\n").filter(Boolean);
        assert.equal(lines.length, 1, res.stderr);
        assert.match(lines[0], /^error: hardened-cluster:baseline\.tenants\[0\]\.allowSameNamspace: \(value not shown\) is not allowed; known keys: .*allowSameNamespace/);
        assert.doesNotMatch(res.stderr, /^\s+at |ConfigError/m);
    });

    it("names an unknown top-level key without echoing its value, which may be a decrypted secret", function () {
        const res = check({ ...localStack([]), "hardened-cluster:encyption": { value: "s3cr3t-value", secret: true } });
        assert.equal(res.status, 1);
        assert.match(res.stderr, /^error: hardened-cluster:encyption: /);
        assert.doesNotMatch(res.stderr, /s3cr3t-value/);
        assert.equal(res.stderr.split("\n").filter(Boolean).length, 1, res.stderr);
    });

    it("leaves what it cannot read to the program rather than blocking the start", function () {
        const res = check({}, "not json");
        assert.equal(res.status, 0, res.stderr);
    });
});
