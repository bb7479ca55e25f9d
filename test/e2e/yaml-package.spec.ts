// The components from another Pulumi language: a Pulumi YAML program in a temporary directory, knowing the
// components only through a `packages:` entry that points at components/package, creates a SecureNamespace on
// a bare local control plane through the pinned YAML language host. The engine starts the package as a
// Node.js plugin, reads its schema and constructs the component there; kubectl then sees what it made.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as auto from "@pulumi/pulumi/automation";
import { stringify } from "yaml";
import { bareClusterProgram, engineEnv, privateTmp, programStack, ProgramStack, repoRoot, toolchain } from "./harness";
import { listening, processesOn } from "./processes";
import { E2E_PORTS } from "./ports";

const ports = E2E_PORTS.yamlPackage;
const BINARIES = ["pulumi-language-yaml", "pulumi-resource-pulumi-nodejs", "pulumi-resource-tls", "pulumi-resource-random",
    "pulumi-resource-kubernetes", "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"];
const project = "hc-e2e-yaml";
const tenant = "yaml-tenant";


/** The YAML program as a user of another language writes it: the package by path, a Kubernetes provider
 * from the kubeconfig in its config, and the component with plain YAML values. */
function yamlProject(extra: Record<string, unknown> = {}, withCluster = true): string {
    const properties = { name: tenant, roleBindings: { developer: [{ kind: "Group", name: "yaml-devs" }] }, ...extra };
    return stringify({
        name: project,
        runtime: "yaml",
        packages: { "hardened-cluster": path.join(repoRoot, "components/package") },
        ...(withCluster ? { config: { kubeconfig: { type: "string", secret: true } } } : {}),
        resources: {
            ...(withCluster ? { cluster: { type: "pulumi:providers:kubernetes", properties: { kubeconfig: "${kubeconfig}" } } } : {}),
            tenant: { type: "hardened-cluster:SecureNamespace", properties, ...(withCluster ? { options: { providers: ["${cluster}"] } } : {}) },
        },
        outputs: { namespaceName: "${tenant.namespaceName}", weakenings: "${tenant.weakenings}" },
    });
}

/** A stack of a YAML project in its own temporary directory, backend and PULUMI_HOME. */
async function yamlStackIn(root: string, projectYaml: string, binaries: string[]): Promise<auto.Stack> {
    const tc = toolchain(...binaries);
    const workDir = path.join(root, "project");
    const home = path.join(root, "pulumi-home");
    const backend = path.join(root, "backend");
    for (const d of [workDir, home, backend]) fs.mkdirSync(d, { mode: 0o700 });
    fs.writeFileSync(path.join(workDir, "Pulumi.yaml"), projectYaml);
    const ws = await auto.LocalWorkspace.create({
        workDir,
        pulumiHome: home,
        pulumiCommand: await auto.PulumiCommand.get({ root: tc.dir, skipVersionCheck: true }),
        envVars: engineEnv(tc, { PULUMI_BACKEND_URL: `file://${backend}`, PULUMI_CONFIG_PASSPHRASE: randomBytes(16).toString("hex"), ...privateTmp(root) }),
    });
    return auto.Stack.create(`e2e-yaml-${randomBytes(3).toString("hex")}`, ws);
}

describe("component package: a Pulumi YAML program's bad input", function () {
    this.timeout(10 * 60_000);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "hc-e2e-yaml-bad-"));
    after(() => fs.rmSync(root, { recursive: true, force: true }));

    it("is refused with the key it wrote, before the component registers anything", async function () {
        // privileged without a named exception: the weakening would not show in the posture.
        const program = yamlProject({ podSecurity: { enforce: "privileged" } }, false);
        // The engine, the YAML and Node.js language hosts only: the refusal comes before any provider is needed.
        const stack = await yamlStackIn(root, program, ["pulumi-language-yaml"]);
        let out = "";
        await assert.rejects(stack.preview({ onOutput: (o) => (out += o) }), (e: Error) => {
            assert.match(e.message, /tenant\.podSecurity\.exception: \(missing\) is not allowed; enforce=privileged is below restricted/);
            return true;
        });
        assert.match(out, /hardened-cluster:index:SecureNamespace resource 'tenant' has a problem/);
        // Neither the wrapper nor the library's component was registered: the planner ran first.
        assert.doesNotMatch(out, /^\s*\+\s+hardened-cluster:/m);
    });
});

describe("component package: a Pulumi YAML program creates a SecureNamespace", function () {
    this.timeout(20 * 60_000);
    let cluster: ProgramStack;
    let yamlStack: auto.Stack | undefined;
    let yamlDestroyed = false;
    let outputs: auto.OutputMap;
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "hc-e2e-yaml-"));
    const stateDir = path.join(root, "bare-state");
    const kubeconfigFile = path.join(root, "kubeconfig");
    const kubectl = (...args: string[]) =>
        execFileSync(path.join(toolchain().bin, "kubectl"), ["--kubeconfig", kubeconfigFile, ...args], { encoding: "utf8" });

    before(async function () {
        cluster = await programStack({ name: "yaml-bare", program: bareClusterProgram(stateDir, ports), binaries: BINARIES });
        const bare = await cluster.stack.up({ onOutput: (o) => process.env.HC_E2E_VERBOSE && process.stdout.write(o) });
        assert.equal(bare.summary.result, "succeeded");
        fs.writeFileSync(kubeconfigFile, bare.outputs.kubeconfig.value, { mode: 0o600 });

        yamlStack = await yamlStackIn(root, yamlProject(), BINARIES);
        await yamlStack.setConfig(`${project}:kubeconfig`, { value: bare.outputs.kubeconfig.value, secret: true });
        const res = await yamlStack.up({ onOutput: (o) => process.env.HC_E2E_VERBOSE && process.stdout.write(o) });
        assert.equal(res.summary.result, "succeeded");
        outputs = res.outputs;
    });
    after(async function () {
        try {
            if (yamlStack && !yamlDestroyed) await yamlStack.destroy();
        } finally {
            try {
                await cluster?.cleanup();
            } finally {
                fs.rmSync(root, { recursive: true, force: true });
            }
        }
    });

    it("runs the program with the pinned YAML language host", function () {
        const modules = execFileSync("go", ["version", "-m", path.join(toolchain().bin, "pulumi-language-yaml")], { encoding: "utf8" });
        assert.match(modules, /^\s*dep\s+github\.com\/pulumi\/pulumi-yaml\s+v1\.25\.0\s/m);
    });

    it("returns the component's outputs to the YAML program", function () {
        assert.equal(outputs.namespaceName.value, tenant);
        assert.deepEqual(outputs.weakenings.value, []);
    });

    it("creates the namespace, labelled restricted and pinned to v1.34 (kubectl)", function () {
        const labels = JSON.parse(kubectl("get", "namespace", tenant, "-o", "json")).metadata.labels;
        for (const mode of ["enforce", "audit", "warn"]) {
            assert.equal(labels[`pod-security.kubernetes.io/${mode}`], "restricted", mode);
            assert.equal(labels[`pod-security.kubernetes.io/${mode}-version`], "v1.34", mode);
        }
    });

    it("fences it with a default-deny policy for ingress and egress (kubectl)", function () {
        const items: any[] = JSON.parse(kubectl("get", "networkpolicies", "-n", tenant, "-o", "json")).items;
        assert.deepEqual(items.map((p) => p.metadata.name).sort(), ["hardened-allow-dns", "hardened-deny-all"]);
        const deny = items.find((p) => p.metadata.name === "hardened-deny-all");
        assert.deepEqual(deny.spec.podSelector, {});
        assert.deepEqual([...deny.spec.policyTypes].sort(), ["Egress", "Ingress"]);
        assert.equal(deny.spec.ingress, undefined);
        assert.equal(deny.spec.egress, undefined);
    });

    it("binds the developer persona to the group the YAML program named (kubectl)", function () {
        const rb = JSON.parse(kubectl("get", "rolebinding", "hardened:developer", "-n", tenant, "-o", "json"));
        assert.deepEqual(rb.subjects, [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "yaml-devs" }]);
    });

    it("destroying the YAML stack removes the namespace; destroying the cluster frees every port", async function () {
        await yamlStack!.destroy();
        yamlDestroyed = true;
        assert.throws(() => kubectl("get", "namespace", tenant), /NotFound/);
        await cluster.stack.destroy();
        assert.deepEqual(processesOn(Object.values(ports)), []);
        for (const p of Object.values(ports)) assert.equal(await listening(p), false, `port ${p} still listening`);
    });
});
