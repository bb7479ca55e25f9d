// examples/baseline-existing-cluster on the mock engine: how it finds the cluster (a StackReference to the stack
// that built it, or a secret kubeconfig), and that naming the cluster twice or a stack without a kubeconfig is
// refused by the key the user set, without echoing the credential.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ExampleRun } from "./run-example";

const P = "baseline-existing-cluster";
const KUBECONFIG = "apiVersion: v1\nkind: Config\n# stand-in-admin-credential-7f3a\n";
const TENANTS = JSON.stringify([{ name: "team-a" }]);

function runExample(config: Record<string, string>, clusterOutputs: Record<string, unknown> = {}): ExampleRun {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-example-"));
    const result = path.join(dir, "run.json");
    try {
        execFileSync(process.execPath, ["-r", "ts-node/register", path.join(__dirname, "run-example.ts")], {
            env: {
                ...process.env, TS_NODE_TRANSPILE_ONLY: "true", HC_TEST_RESULT: result,
                HC_EXAMPLE_CONFIG: JSON.stringify(config), HC_CLUSTER_OUTPUTS: JSON.stringify(clusterOutputs),
            },
            stdio: "pipe",
        });
        return JSON.parse(fs.readFileSync(result, "utf8"));
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

// How Pulumi marks a secret value on the wire (sdk/nodejs/runtime/rpc.ts: specialSigKey, specialSecretSig).
const SECRET = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: KUBECONFIG };
const provider = (run: ExampleRun) => run.resources.find((r) => r.type === "pulumi:providers:kubernetes" && r.name === "existing-cluster");

describe("example baseline-existing-cluster: reaching the cluster", function () {
    this.timeout(120_000);

    it("reads the kubeconfig output of the stack named by clusterStack through a StackReference", function () {
        const run = runExample({ [`${P}:clusterStack`]: "organization/hardened-cluster/local", [`${P}:tenants`]: TENANTS }, { kubeconfig: KUBECONFIG });
        assert.deepEqual(run.errors, []);
        const refs = run.resources.filter((r) => r.type === "pulumi:pulumi:StackReference");
        assert.equal(refs.length, 1);
        assert.equal(refs[0].inputs.name, "organization/hardened-cluster/local");
        assert.deepEqual(provider(run)?.inputs.kubeconfig, SECRET, "the provider did not get the kubeconfig as a secret");
        assert.equal(run.resources.filter((r) => r.type === "hardened-cluster:cluster-baseline:ClusterBaseline").length, 1);
        // Everything the baseline puts in the cluster goes through the program's own provider.
        const k8s = run.resources.filter((r) => r.type.startsWith("kubernetes:"));
        assert.ok(k8s.length >= 10, `only ${k8s.length} Kubernetes objects`);
        for (const r of k8s) assert.match(r.provider ?? "", /::existing-cluster::/, `${r.type} ${r.name} bypasses the program's provider`);
    });

    it("takes a kubeconfig config value instead when no clusterStack is set, with no StackReference", function () {
        const run = runExample({ [`${P}:kubeconfig`]: KUBECONFIG, [`${P}:tenants`]: TENANTS });
        assert.deepEqual(run.errors, []);
        assert.equal(run.resources.filter((r) => r.type === "pulumi:pulumi:StackReference").length, 0);
        assert.deepEqual(provider(run)?.inputs.kubeconfig, SECRET, "the provider did not get the kubeconfig as a secret");
    });

    it("refuses both at once by the kubeconfig key, without echoing it, before registering the provider", function () {
        const run = runExample({ [`${P}:clusterStack`]: "organization/hardened-cluster/local", [`${P}:kubeconfig`]: KUBECONFIG, [`${P}:tenants`]: TENANTS });
        assert.equal(run.errors.length, 1, run.errors.join("\n"));
        assert.match(run.errors[0], new RegExp(`^ConfigError: ${P}:kubeconfig: `));
        assert.ok(!run.errors[0].includes("stand-in-admin-credential"), "the kubeconfig was echoed");
        assert.equal(provider(run), undefined);
    });

    it("refuses a referenced stack whose kubeconfig output is empty, by the clusterStack key", function () {
        const run = runExample({ [`${P}:clusterStack`]: "organization/other/dev", [`${P}:tenants`]: TENANTS }, { kubeconfig: "" });
        // The runtime prefixes the property it was serializing; the ConfigError and its key are kept.
        assert.ok(run.errors.length >= 1);
        assert.ok(run.errors.every((e) => e.startsWith("ConfigError: ") && e.includes(`${P}:clusterStack: "organization/other/dev" is not allowed`)), run.errors[0]);
    });
});
