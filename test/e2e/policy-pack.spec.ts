// The policy pack through the real engine, offline: `pulumi preview --policy-pack policy` (the pinned CLI
// runs the pack through its Node.js language host, @pulumi/pulumi/cmd/run-policy-pack, resolving
// @pulumi/policy from the repository's node_modules) on a file backend. The blueprint's local stack and the
// example program pass with no mandatory violation; each mutated program fails its preview, naming exactly
// the rule it breaks. The AWS rules cannot be reached here (no AWS plugin): test/unit/policy covers them.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as auto from "@pulumi/pulumi/automation";
import { allConfigOf, readStack } from "../unit/config/stack-files";
import { engineEnv, privateTmp, programStack, ProgramStack, repoRoot, toolchain } from "./harness";
import { deferredProgram, MUTATIONS, programOf, UNREACHABLE_KUBECONFIG } from "./policy-programs";

const POLICY = path.join(repoRoot, "policy");
const PLUGINS = ["pulumi-resource-tls", "pulumi-resource-random", "pulumi-resource-kubernetes", "pulumi-resource-pulumi-nodejs"];

interface Verdict {
    failed: boolean;
    mandatory: string[];
    advisory: string[];
    text: string;
}

/** Previews with the pack (and an optional policy config) and sorts the reported rules by enforcement level. */
async function previewWithPack(stack: auto.Stack, policyConfig?: object): Promise<Verdict> {
    const opts: auto.PreviewOptions = { policyPacks: [POLICY], color: "never" };
    let cfgFile: string | undefined;
    if (policyConfig) {
        cfgFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "hc-policy-config-")), "config.json");
        fs.writeFileSync(cfgFile, JSON.stringify(policyConfig));
        opts.policyPackConfigs = [cfgFile];
    }
    try {
        const r = await stack.preview(opts).then((p) => ({ failed: false, text: `${p.stdout}\n${p.stderr}` }), (e: Error) => ({ failed: true, text: String(e.message) }));
        const rules = (level: string) => [...new Set([...r.text.matchAll(new RegExp(`\\[${level}\\]\\s+\\[severity: \\w+\\]\\s+(\\S+)`, "g"))].map((m) => m[1]))].sort();
        return { ...r, mandatory: rules("mandatory"), advisory: rules("advisory") };
    } finally {
        if (cfgFile) fs.rmSync(path.dirname(cfgFile), { recursive: true, force: true });
    }
}

const localConfig = (extra: Record<string, unknown> = {}): auto.ConfigMap => Object.fromEntries(
    Object.entries({ ...allConfigOf(readStack("Pulumi.local.yaml")), ...extra }).map(([k, v]) => [k, { value: typeof v === "string" ? v : JSON.stringify(v) }]));

describe("policy pack with the real engine: the blueprint's local stack", function () {
    this.timeout(6 * 60_000);
    let ps: ProgramStack;
    before(async () => {
        ps = await programStack({ name: "policy-local", blueprint: true, config: localConfig(), binaries: PLUGINS });
    });
    after(async () => ps?.cleanup());

    it("previews with no mandatory violation, the control-plane flags decided (not deferred), and its one exception listed", async () => {
        const v = await previewWithPack(ps.stack);
        assert.equal(v.failed, false, v.text.slice(-4000));
        assert.deepEqual(v.mandatory, [], v.text.slice(-4000));
        assert.match(v.text, /Loading policy packs\.\.\.: done/);
        assert.doesNotMatch(v.text, /can't run policy 'cis-/, "a control-plane rule could not see the argv at preview");
        // Its Kubernetes provider's kubeconfig is an output of LocalCluster, unknown at preview: the engine then
        // plans no outputs for in-cluster objects, and the default-deny stack rule is deferred to `up`.
        assert.match(v.text, /can't run policy 'namespace-default-deny' from policy pack/);
        // kubeadm's admin group is bound to cluster-admin by the baseline: the default exception, reported.
        assert.match(v.text, /exception honoured by rbac-no-undeclared-cluster-admin: Group:kubeadm:cluster-admins/);
    });

    it("fails when the stack turns on the profiling weakening the components accept, naming the three CIS checks", async () => {
        await ps.stack.setConfig("hardened-cluster:controlPlane", { value: JSON.stringify({ weakenings: { profiling: true } }) });
        const v = await previewWithPack(ps.stack);
        assert.equal(v.failed, true);
        assert.deepEqual(v.mandatory, ["cis-1.2.15-kube-apiserver", "cis-1.3.2-kube-controller-manager", "cis-1.4.1-kube-scheduler"], v.text.slice(-4000));
    });
});

describe("policy pack with the real engine: examples/baseline-existing-cluster", function () {
    this.timeout(6 * 60_000);

    it("previews with no mandatory violation", async () => {
        const tc = toolchain(...PLUGINS);
        // The example loads the library from dist/, as an installed copy would.
        execFileSync("npm", ["run", "build"], { cwd: repoRoot, stdio: "pipe" });
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "hc-e2e-policy-example-"));
        try {
            const workDir = path.join(root, "project");
            fs.cpSync(path.join(repoRoot, "examples/baseline-existing-cluster"), workDir, { recursive: true, filter: (s) => path.basename(s) !== "node_modules" });
            const modules = path.join(workDir, "node_modules");
            fs.mkdirSync(modules);
            for (const e of fs.readdirSync(path.join(repoRoot, "node_modules"))) fs.symlinkSync(path.join(repoRoot, "node_modules", e), path.join(modules, e));
            fs.symlinkSync(repoRoot, path.join(modules, "hardened-cluster"));
            for (const d of ["home", "backend"]) fs.mkdirSync(path.join(root, d), { mode: 0o700 });
            const ws = await auto.LocalWorkspace.create({
                workDir, pulumiHome: path.join(root, "home"), pulumiCommand: await auto.PulumiCommand.get({ root: tc.dir, skipVersionCheck: true }),
                envVars: engineEnv(tc, { PULUMI_BACKEND_URL: `file://${path.join(root, "backend")}`, PULUMI_CONFIG_PASSPHRASE: randomBytes(16).toString("hex"), ...privateTmp(root) }),
            });
            const stack = await auto.Stack.create(`policy-example-${randomBytes(3).toString("hex")}`, ws);
            // A cluster that does not answer: a preview needs none, and the pack judges the planned objects.
            const kubeconfig = JSON.stringify(UNREACHABLE_KUBECONFIG);
            await stack.setAllConfig({
                "baseline-existing-cluster:kubeconfig": { value: kubeconfig, secret: true },
                "baseline-existing-cluster:tenants": { value: JSON.stringify([{ name: "team-a", roleBindings: { developer: [{ kind: "Group", name: "team-a-devs" }] } }, { name: "team-b" }]) },
            });
            const v = await previewWithPack(stack);
            assert.equal(v.failed, false, v.text.slice(-4000));
            assert.deepEqual(v.mandatory, []);
            assert.match(v.text, /Loading policy packs\.\.\.: done/);
            assert.match(v.text, /kubernetes:core\/v1:Namespace/);
            // The provider is configured, so it plans every object and the stack rules decide at preview.
            assert.doesNotMatch(v.text, /can't run policy/, v.text.slice(-4000));
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });
});

describe("policy pack with the real engine: mutated programs", function () {
    this.timeout(10 * 60_000);
    // Two stacks previewing side by side (one per core); each job writes its program into its stack's project.
    const stacks: ProgramStack[] = [];
    const verdicts = new Map<string, Verdict>();
    const jobs: { key: string; code?: string; config?: object }[] = [
        { key: "base" },
        ...MUTATIONS.map((m) => ({ key: m.name, code: m.code })),
        { key: "exception", code: mutation("a privileged namespace").code, config: { "namespace-pod-security": { exceptions: { legacy: "privileged" } } } },
        { key: "advisory", code: mutation("cluster-admin bound to a group").code, config: { "rbac-no-undeclared-cluster-admin": "advisory" } },
    ];
    before(async () => {
        for (const n of [1, 2]) stacks.push(await programStack({ name: `policy-mutations-${n}`, program: programOf(), binaries: PLUGINS }));
        const queue = [...jobs];
        await Promise.all(stacks.map(async (ps) => {
            for (let job = queue.shift(); job; job = queue.shift()) {
                fs.writeFileSync(path.join(ps.workDir, "index.ts"), programOf(job.code));
                verdicts.set(job.key, await previewWithPack(ps.stack, job.config));
            }
        }));
    });
    after(async () => {
        for (const ps of stacks) await ps.cleanup();
    });

    it("passes the compliant base program (the components' tenant, its default deny decided, and a 1-year leaf)", () => {
        const v = verdicts.get("base")!;
        assert.equal(v.failed, false, v.text.slice(-4000));
        assert.deepEqual(v.mandatory, []);
        assert.doesNotMatch(v.text, /can't run policy/, v.text.slice(-4000));
    });

    it(`has at least 12 mutated programs (${MUTATIONS.length} here, besides the local stack's profiling weakening)`, () => {
        assert.ok(MUTATIONS.length >= 12);
        assert.equal(verdicts.size, jobs.length);
    });

    for (const m of MUTATIONS) {
        it(`fails the preview of ${m.name}, naming ${m.rules.join(", ")}`, () => {
            const v = verdicts.get(m.name)!;
            assert.equal(v.failed, true, v.text.slice(-4000));
            assert.deepEqual(v.mandatory, m.rules, v.text.slice(-4000));
            if (m.says) assert.match(v.text, m.says);
        });
    }

    it("lets the policy config declare the privileged namespace an exception, and reports it", () => {
        const v = verdicts.get("exception")!;
        assert.equal(v.failed, false, v.text.slice(-4000));
        assert.deepEqual(v.mandatory, []);
        assert.match(v.text, /exception honoured by namespace-pod-security: namespace legacy enforces 'privileged'/);
    });

    it("defers a rule whose input is unknown at preview (advisory), then enforces it at up before anything is written", async () => {
        const ps = stacks[0];
        const file = path.join(ps.root, "encryption-config.yaml");
        fs.writeFileSync(path.join(ps.workDir, "index.ts"), deferredProgram(file));
        const v = await previewWithPack(ps.stack);
        assert.equal(v.failed, false, v.text.slice(-4000));
        assert.deepEqual(v.mandatory, []);
        assert.match(v.text, /can't run policy 'encryption-provider' from policy pack .* during preview/);
        const up = await ps.stack.up({ policyPacks: [POLICY], color: "never" }).then((r) => ({ failed: false, text: r.stdout }), (e: Error) => ({ failed: true, text: String(e.message) }));
        assert.equal(up.failed, true, up.text.slice(-4000));
        assert.match(up.text, /\[mandatory\]\s+\[severity: critical\]\s+encryption-provider/);
        assert.match(up.text, /the first provider is identity/);
        assert.equal(fs.existsSync(file), false, "the config was written although the rule refused it");
    });

    it("lets the policy config downgrade a rule to advisory", () => {
        const v = verdicts.get("advisory")!;
        assert.equal(v.failed, false, v.text.slice(-4000));
        assert.deepEqual(v.mandatory, []);
        assert.ok(v.advisory.includes("rbac-no-undeclared-cluster-admin"), v.advisory.join());
    });
});

function mutation(name: string) {
    const m = MUTATIONS.find((x) => x.name === name);
    if (!m) throw new Error(`no mutation ${name}`);
    return m;
}
