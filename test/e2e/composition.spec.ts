// The components as a library, end to end: a bare local control plane (no baseline) stands in for "a cluster
// you already have", and examples/baseline-existing-cluster, a standalone project that knows the library only
// by its package name, is run against it by the real engine with nothing but the cluster's admin kubeconfig.
// The example's node_modules resolves "hardened-cluster" to this repository, so it loads what `npm run build`
// compiled into dist/ through package.json's "exports", exactly as an installed copy would.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as auto from "@pulumi/pulumi/automation";
import { Credential, fromKubeconfig, request, restrictedPod } from "./kube";
import { listening, processesOn } from "./processes";
import { bareClusterProgram, engineEnv, privateTmp, programStack, ProgramStack, repoRoot, toolchain } from "./harness";
import { E2E_PORTS } from "./ports";

const ports = E2E_PORTS.composition;
const BINARIES = ["pulumi-resource-pulumi-nodejs", "pulumi-resource-tls", "pulumi-resource-random", "pulumi-resource-kubernetes",
    "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"];
const exampleDir = path.join(repoRoot, "examples/baseline-existing-cluster");
const project = "baseline-existing-cluster";
const tenants = [
    { name: "team-a", roleBindings: { developer: [{ kind: "Group", name: "team-a-devs" }] } },
    { name: "team-b" },
];
const shared = "shared-services"; // the example's standalone SecureNamespace
const allNamespaces = [...tenants.map((t) => t.name), shared];
const personaRoles = ["platform-admin", "namespace-admin", "developer", "viewer", "auditor", "ci-deployer"].map((p) => `hardened:${p}`);


interface ExampleStack {
    stack: auto.Stack;
    workDir: string;
    destroyed: boolean;
    cleanup(): Promise<void>;
}

/** The example as a user would check it out: its own Pulumi.yaml, package.json and tsconfig, in a directory
 * outside the repository (so no relative path can reach the sources), with node_modules holding the repo's
 * installed packages plus hardened-cluster -> the repository root. */
async function exampleStack(config: auto.ConfigMap): Promise<ExampleStack> {
    const tc = toolchain(...BINARIES);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "hc-e2e-example-"));
    const workDir = path.join(root, "project");
    const home = path.join(root, "pulumi-home");
    const backend = path.join(root, "backend");
    fs.cpSync(exampleDir, workDir, { recursive: true, filter: (src) => path.basename(src) !== "node_modules" });
    for (const d of [home, backend]) fs.mkdirSync(d, { mode: 0o700 });
    const modules = path.join(workDir, "node_modules");
    fs.mkdirSync(modules);
    for (const entry of fs.readdirSync(path.join(repoRoot, "node_modules"))) {
        fs.symlinkSync(path.join(repoRoot, "node_modules", entry), path.join(modules, entry));
    }
    fs.symlinkSync(repoRoot, path.join(modules, "hardened-cluster"));

    const pulumiCommand = await auto.PulumiCommand.get({ root: tc.dir, skipVersionCheck: true });
    const ws = await auto.LocalWorkspace.create({
        workDir,
        pulumiHome: home,
        pulumiCommand,
        envVars: engineEnv(tc, { PULUMI_BACKEND_URL: `file://${backend}`, PULUMI_CONFIG_PASSPHRASE: randomBytes(16).toString("hex"), ...privateTmp(root) }),
    });
    const stackName = `e2e-example-${randomBytes(3).toString("hex")}`;
    const stack = await auto.Stack.create(stackName, ws);
    await stack.setAllConfig(config);
    const self: ExampleStack = {
        stack,
        workDir,
        destroyed: false,
        async cleanup() {
            try {
                if (!self.destroyed) await stack.destroy();
                await ws.removeStack(stackName);
            } finally {
                fs.rmSync(root, { recursive: true, force: true });
            }
        },
    };
    return self;
}

const pod = (name: string, image: string) => restrictedPod(name, image);
const ourProcesses = () => processesOn(Object.values(ports));

describe("composition: the library's baseline on an existing cluster (examples/baseline-existing-cluster)", function () {
    this.timeout(20 * 60_000);
    let cluster: ProgramStack;
    let example: ExampleStack;
    let admin: Credential;
    let outputs: auto.OutputMap;
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-e2e-bare-state-"));

    before(async function () {
        toolchain(...BINARIES);
        // The example loads dist/, not the sources: a build that fails (or is stale) must fail here.
        execFileSync("npm", ["run", "build"], { cwd: repoRoot, stdio: "pipe" });

        cluster = await programStack({ name: "bare", program: bareClusterProgram(stateDir, ports), binaries: BINARIES });
        const bare = await cluster.stack.up({ onOutput: (o) => process.env.HC_E2E_VERBOSE && process.stdout.write(o) });
        assert.equal(bare.summary.result, "succeeded");
        assert.equal(bare.outputs.kubeconfig.secret, true);
        admin = fromKubeconfig(bare.outputs.kubeconfig.value);

        example = await exampleStack({
            [`${project}:kubeconfig`]: { value: bare.outputs.kubeconfig.value, secret: true },
            [`${project}:tenants`]: { value: JSON.stringify(tenants) },
        });
        const res = await example.stack.up({ onOutput: (o) => process.env.HC_E2E_VERBOSE && process.stdout.write(o) });
        assert.equal(res.summary.result, "succeeded");
        outputs = res.outputs;
    });
    after(async function () {
        // The example first: its destroy needs the cluster's API server.
        try {
            await example?.cleanup();
        } finally {
            await cluster?.cleanup();
            fs.rmSync(stateDir, { recursive: true, force: true });
        }
    });

    it("imports the library by its package name only", function () {
        const src = fs.readFileSync(path.join(exampleDir, "index.ts"), "utf8");
        assert.match(src, /from "hardened-cluster";/);
        assert.doesNotMatch(src, /(from|require\()\s*["']\.{1,2}\//);
        const pkg = JSON.parse(fs.readFileSync(path.join(exampleDir, "package.json"), "utf8"));
        const repoPkg = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8"));
        assert.equal(pkg.dependencies["hardened-cluster"], "file:../..");
        for (const dep of ["@pulumi/pulumi", "@pulumi/kubernetes"]) assert.equal(pkg.dependencies[dep], repoPkg.devDependencies[dep], dep);
    });

    it("type-checks against the package's published types, by \"types\" and by \"exports\"", function () {
        // The engine runs the example transpile-only, so only this proves dist/'s .d.ts files serve a consumer.
        const tsc = path.join(repoRoot, "node_modules/.bin/tsc");
        for (const resolution of [[], ["--module", "node16", "--moduleResolution", "node16"]]) {
            try {
                execFileSync(tsc, ["--noEmit", "-p", "tsconfig.json", ...resolution], { cwd: example.workDir, encoding: "utf8" });
            } catch (e) {
                assert.fail(`tsc ${resolution.join(" ")}: ${(e as { stdout?: string }).stdout ?? e}`);
            }
        }
    });

    it("exports the baseline posture and every namespace it created", function () {
        assert.deepEqual(outputs.namespaces.value, allNamespaces);
        const posture = outputs.posture.value;
        assert.equal(posture.podSecurityVersion, "v1.34");
        assert.equal(posture.admission.policy, "hardened-workload-guard");
        assert.deepEqual(posture.admission.allowedRegistries, ["registry.k8s.io"]);
        // kube-system's privileged exception is built in; the tenants and the defaults add none.
        assert.deepEqual(posture.weakenings, [{ option: project, effect: 'namespace kube-system: pod security enforce=privileged (exception "system-components")' }]);
        for (const t of tenants) {
            const ns = posture.namespaces.find((n: { name: string }) => n.name === t.name);
            assert.ok(ns, `no posture for ${t.name}`);
            assert.equal(ns.podSecurity.enforce, "restricted");
        }
        assert.deepEqual(posture.namespaces.find((n: { name: string }) => n.name === "team-a").roleBindings,
            { developer: [{ kind: "Group", name: "team-a-devs", apiGroup: "rbac.authorization.k8s.io" }] });
    });

    it("labels every tenant namespace and the standalone one restricted, pinned to v1.34", async function () {
        for (const name of allNamespaces) {
            const res = await request(admin, "GET", `/api/v1/namespaces/${name}`);
            assert.equal(res.status, 200, `${name}: ${res.body}`);
            const labels = res.json().metadata.labels;
            for (const mode of ["enforce", "audit", "warn"]) {
                assert.equal(labels[`pod-security.kubernetes.io/${mode}`], "restricted", `${name} ${mode}`);
                assert.equal(labels[`pod-security.kubernetes.io/${mode}-version`], "v1.34", `${name} ${mode}-version`);
            }
        }
    });

    it("fences each of them with default-deny and allows only DNS egress", async function () {
        for (const name of allNamespaces) {
            const items: any[] = (await request(admin, "GET", `/apis/networking.k8s.io/v1/namespaces/${name}/networkpolicies`)).json().items;
            assert.deepEqual(items.map((p) => p.metadata.name).sort(), ["hardened-allow-dns", "hardened-deny-all"], name);
            const deny = items.find((p) => p.metadata.name === "hardened-deny-all");
            assert.deepEqual(deny.spec.podSelector, {});
            assert.deepEqual([...deny.spec.policyTypes].sort(), ["Egress", "Ingress"]);
            assert.equal(deny.spec.ingress, undefined);
            assert.equal(deny.spec.egress, undefined);
            const dns = items.find((p) => p.metadata.name === "hardened-allow-dns");
            assert.deepEqual(dns.spec.policyTypes, ["Egress"]);
            assert.deepEqual(dns.spec.egress.map((r: any) => r.ports.map((p: any) => `${p.protocol}/${p.port}`)), [["UDP/53", "TCP/53"]]);
            assert.deepEqual(dns.spec.egress[0].to[0].podSelector.matchLabels, { "k8s-app": "kube-dns" });
        }
    });

    it("creates the persona ClusterRoles", async function () {
        for (const role of personaRoles) {
            const res = await request(admin, "GET", `/apis/rbac.authorization.k8s.io/v1/clusterroles/${encodeURIComponent(role)}`);
            assert.equal(res.status, 200, `${role}: ${res.body}`);
            assert.ok(res.json().rules.length > 0, `${role} has no rules`);
        }
    });

    it("binds personas in the tenant and in the standalone namespace to the baseline's roles", async function () {
        const binding = async (ns: string, persona: string) => {
            const res = await request(admin, "GET", `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings/${encodeURIComponent(`hardened:${persona}`)}`);
            assert.equal(res.status, 200, `${ns}/${persona}: ${res.body}`);
            return res.json();
        };
        const dev = await binding("team-a", "developer");
        assert.deepEqual(dev.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "hardened:developer" });
        assert.deepEqual(dev.subjects, [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "team-a-devs" }]);
        const nsAdmin = await binding(shared, "namespace-admin");
        assert.deepEqual(nsAdmin.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "hardened:namespace-admin" });
        assert.deepEqual(nsAdmin.subjects, [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "platform-team" }]);
    });

    it("admits a restricted Pod from registry.k8s.io (control for the next test)", async function () {
        const res = await request(admin, "POST", "/api/v1/namespaces/team-a/pods", pod("compliant", "registry.k8s.io/pause:3.10"));
        assert.equal(res.status, 201, res.body);
    });

    it("refuses a docker.io image by the hardened-workload-guard policy, in a tenant and in the standalone namespace", async function () {
        for (const ns of ["team-a", shared]) {
            const res = await request(admin, "POST", `/api/v1/namespaces/${ns}/pods`, pod("foreign", "docker.io/library/nginx:1.27"));
            assert.equal(res.status, 403, `${ns}: ${res.body}`);
            assert.match(res.json().message, /ValidatingAdmissionPolicy 'hardened-workload-guard'/, ns);
        }
    });

    it("destroying the example removes what it made and leaves the admin credential working", async function () {
        await example.stack.destroy();
        example.destroyed = true;
        for (const name of allNamespaces) {
            const res = await request(admin, "GET", `/api/v1/namespaces/${name}`);
            assert.equal(res.status, 404, `${name}: ${res.body}`);
        }
        const role = await request(admin, "GET", `/apis/rbac.authorization.k8s.io/v1/clusterroles/${encodeURIComponent(personaRoles[0])}`);
        assert.equal(role.status, 404, role.body);
        // The baseline patched kubeadm:cluster-admins with retainOnDelete; losing it would lock the admin out.
        const list = await request(admin, "GET", "/api/v1/namespaces");
        assert.equal(list.status, 200, list.body);
    });

    it("destroying the bare cluster stops every process and frees every port", async function () {
        await cluster.stack.destroy();
        assert.deepEqual(ourProcesses(), []);
        for (const p of Object.values(ports)) assert.equal(await listening(p), false, `port ${p} still listening`);
    });
});
