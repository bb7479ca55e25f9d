// The npm package end to end, as a consumer meets it: packed by `npm run pack` from a copy of the repository
// as a clone has it, installed from the tarball into a scratch project with only the peers, type-checked, and
// run by the real engine. The consumer program is examples/baseline-existing-cluster; it reaches the cluster
// through a StackReference to a second stack in the same file backend (a bare local control plane that exports
// its kubeconfig), the way a Pulumi program composes with the stack that built its cluster.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as auto from "@pulumi/pulumi/automation";
import { Credential, fromKubeconfig, request } from "./kube";
import { bareClusterProgram, engineEnv, privateKeyBlocks, programStack, ProgramStack, repoRoot, toolchain } from "./harness";
import { cleanCopy, diskBytes, installConsumer, installedCopies, npmRunPack, packDryRun, PackSize, tarFile, tarList } from "./package-consumer";
import { listening } from "./processes";
import { E2E_PORTS } from "./ports";

const ports = E2E_PORTS.package;
const BINARIES = ["pulumi-resource-pulumi-nodejs", "pulumi-resource-tls", "pulumi-resource-random", "pulumi-resource-kubernetes",
    "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"];
const repoPkg = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8"));
const PEERS = ["@pulumi/pulumi", "@pulumi/kubernetes"];
const pins = Object.fromEntries(PEERS.map((p) => [p, repoPkg.devDependencies[p] as string]));
// The shipped policy pack's SDK, an optional peer: this consumer runs the pack too.
const POLICY_SDK = { "@pulumi/policy": repoPkg.devDependencies["@pulumi/policy"] as string };
const devTools = { "typescript": repoPkg.devDependencies.typescript, "@types/node": repoPkg.devDependencies["@types/node"] };
const exampleDir = path.join(repoRoot, "examples/baseline-existing-cluster");
const project = "baseline-existing-cluster";
const tenants = [{ name: "team-a", roleBindings: { developer: [{ kind: "Group", name: "team-a-devs" }] } }];


describe("package: the packed library installed and run by a consumer (npm run pack, examples/baseline-existing-cluster)", function () {
    this.timeout(30 * 60_000);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "hc-e2e-package-"));
    const clone = path.join(root, "clone");
    const consumer = path.join(root, "consumer");
    let copied: string[] = [];
    let tarball: string;
    let files: string[];
    let dryRun: PackSize;
    let cluster: ProgramStack | undefined;
    let consumerStack: auto.Stack | undefined;
    let consumerDestroyed = false;
    let outputs: auto.OutputMap;
    let admin: Credential;

    before(function () {
        copied = cleanCopy(clone);
        fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(clone, "node_modules"));
        tarball = npmRunPack(clone, root);
        files = tarList(tarball);
        dryRun = packDryRun(path.join(clone, "dist/package"));

        fs.mkdirSync(consumer);
        for (const f of ["index.ts", "tsconfig.json", "Pulumi.yaml"]) fs.copyFileSync(path.join(exampleDir, f), path.join(consumer, f));
        // A TypeScript project as `pulumi new typescript` makes one: its own compiler and Node typings (the engine
        // compiles index.ts with the project's TypeScript), at the versions this repository uses.
        fs.writeFileSync(path.join(consumer, "package.json"), JSON.stringify({ name: project, private: true, main: "index.ts", devDependencies: devTools }));
        installConsumer(consumer, tarball, { ...pins, ...POLICY_SDK });
        const modules = path.join(consumer, "node_modules");
        const tools = ["typescript", "@types"].map((d) => diskBytes(path.join(modules, d))).reduce((a, b) => a + b, 0);
        console.log(`      packed: ${dryRun.size} B (${dryRun.entryCount} files, ${dryRun.unpackedSize} B unpacked); consumer node_modules: `
            + `${diskBytes(modules)} B, of which runtime (without typescript and @types) ${diskBytes(modules) - tools} B`);
    });
    after(() => fs.rmSync(root, { recursive: true, force: true }));

    it("packs from a clone without a prior build: the copy had no dist/ and the tarball holds the compiled library", function () {
        assert.ok(copied.length > 100 && copied.includes("package.json") && copied.includes("components/index.ts"));
        assert.ok(!copied.some((f) => f.startsWith("dist/")), "the copy already held build output");
        for (const f of ["package/package.json", "package/README.md", "package/LICENSE", "package/components/index.js", "package/components/index.d.ts"]) {
            assert.ok(files.includes(f), `${f} missing from ${path.basename(tarball)}`);
        }
        // Every component source ships compiled, with its declarations.
        const sources = copied.filter((f) => f.startsWith("components/") && f.endsWith(".ts") && !f.endsWith(".d.ts"));
        assert.ok(sources.length >= 40);
        for (const src of sources) {
            const base = `package/${src.replace(/\.ts$/, "")}`;
            assert.ok(files.includes(`${base}.js`) && files.includes(`${base}.d.ts`), `${src} not shipped as .js and .d.ts`);
        }
    });

    it("ships nothing a consumer does not need: no tests, no platforms, no TypeScript sources, no blueprint files", function () {
        const allowed = /^package\/(package\.json|README\.md|LICENSE|components\/[a-z-]+\/README\.md|components\/([a-z-]+\/)?[a-z-]+\.(js|js\.map|d\.ts)|policy\/(PulumiPolicy\.yaml|package\.json|README\.md|(rules\/)?[a-z-]+\.js))$/;
        assert.ok(files.length >= 100);
        assert.deepEqual(files.filter((f) => !allowed.test(f)), []);
        assert.ok(!files.some((f) => /\/(test|platforms|config|scripts|bench|examples|stacks)\//.test(f)));
        assert.ok(dryRun.size < 1024 * 1024, `packed size ${dryRun.size} B`);
    });

    it("ships the library guide as its README and the Apache-2.0 LICENSE, and a manifest with peers and no @pulumi/aws", function () {
        assert.equal(tarFile(tarball, "package/README.md"), fs.readFileSync(path.join(repoRoot, "components/README.md"), "utf8"));
        assert.equal(tarFile(tarball, "package/LICENSE"), fs.readFileSync(path.join(repoRoot, "LICENSE"), "utf8"));
        const manifest = JSON.parse(tarFile(tarball, "package/package.json"));
        assert.equal(manifest.license, "Apache-2.0");
        assert.equal(manifest.private, undefined);
        assert.deepEqual(Object.keys(manifest.peerDependencies).sort(), [...PEERS, ...Object.keys(POLICY_SDK)].sort());
        assert.deepEqual(manifest.peerDependenciesMeta, { "@pulumi/policy": { optional: true } });
        assert.equal(manifest.dependencies["@pulumi/aws"], undefined);
        assert.equal(manifest.scripts, undefined);
        assert.equal(manifest.devDependencies, undefined);
    });

    it("installs with only the peers: no @pulumi/aws anywhere, and one copy of each Pulumi SDK, shared with the library", function () {
        const modules = path.join(consumer, "node_modules");
        assert.ok(fs.existsSync(path.join(modules, "hardened-cluster/components/index.js")));
        assert.deepEqual(installedCopies(modules, "@pulumi/aws"), []);
        for (const peer of PEERS) {
            const copies = installedCopies(modules, peer);
            assert.deepEqual(copies, [path.join(modules, peer)], `${peer}: ${copies.join(", ")}`);
            assert.equal(JSON.parse(fs.readFileSync(path.join(copies[0], "package.json"), "utf8")).version, pins[peer]);
        }
        const consumerPkg = JSON.parse(fs.readFileSync(path.join(consumer, "package.json"), "utf8"));
        assert.deepEqual(Object.keys(consumerPkg.dependencies).sort(), ["@pulumi/kubernetes", "@pulumi/policy", "@pulumi/pulumi", "hardened-cluster"]);
        assert.deepEqual(consumerPkg.devDependencies, devTools);
    });

    it("type-checks the consumer program against the installed package, by \"types\" and by \"exports\"", function () {
        const tsc = path.join(consumer, "node_modules/.bin/tsc"); // the consumer's own
        for (const resolution of [[], ["--module", "node16", "--moduleResolution", "node16"]]) {
            try {
                execFileSync(tsc, ["--noEmit", "-p", "tsconfig.json", ...resolution], { cwd: consumer, encoding: "utf8" });
            } catch (e) {
                assert.fail(`tsc ${resolution.join(" ")}: ${(e as { stdout?: string }).stdout ?? e}`);
            }
        }
    });

    describe("run by the real engine against the cluster's stack, read through a StackReference", function () {
        before(async function () {
            const tc = toolchain(...BINARIES);
            const stateDir = path.join(root, "cluster-state");
            cluster = await programStack({ name: "pkg-cluster", program: bareClusterProgram(stateDir, ports), binaries: BINARIES });
            const up = await cluster.stack.up({ onOutput: (o) => process.env.HC_E2E_VERBOSE && process.stdout.write(o) });
            assert.equal(up.summary.result, "succeeded");
            admin = fromKubeconfig(up.outputs.kubeconfig.value);

            // The consumer's stack shares the cluster stack's backend and passphrase: a StackReference reads another
            // stack of the same backend, and decrypts its secret outputs with that stack's secrets provider.
            const ws = await auto.LocalWorkspace.create({
                workDir: consumer,
                pulumiHome: cluster.env.PULUMI_HOME,
                pulumiCommand: await auto.PulumiCommand.get({ root: tc.dir, skipVersionCheck: true }),
                envVars: engineEnv(tc, { PULUMI_BACKEND_URL: cluster.env.PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE: cluster.env.PULUMI_CONFIG_PASSPHRASE, TMPDIR: cluster.env.TMPDIR }),
            });
            consumerStack = await auto.Stack.create(`consumer-${cluster.stackName}`, ws);
            await consumerStack.setAllConfig({
                [`${project}:clusterStack`]: { value: `organization/hc-e2e-pkg-cluster/${cluster.stackName}` },
                [`${project}:tenants`]: { value: JSON.stringify(tenants) },
            });
            const res = await consumerStack.up({ onOutput: (o) => process.env.HC_E2E_VERBOSE && process.stdout.write(o) });
            assert.equal(res.summary.result, "succeeded");
            outputs = res.outputs;
        });
        after(async function () {
            try {
                if (consumerStack && !consumerDestroyed) await consumerStack.destroy();
                if (consumerStack) await consumerStack.workspace.removeStack(consumerStack.name);
            } finally {
                await cluster?.cleanup();
            }
        });

        it("reads the cluster's kubeconfig from the cluster stack, never from its own config, and keeps it secret in its state", async function () {
            const config = await consumerStack!.getAllConfig();
            assert.deepEqual(Object.keys(config).sort(), [`${project}:clusterStack`, `${project}:tenants`]);
            const state = await consumerStack!.exportStack();
            const refs = state.deployment.resources.filter((r: { type: string }) => r.type === "pulumi:pulumi:StackReference");
            assert.equal(refs.length, 1);
            assert.equal(refs[0].inputs.name, `organization/hc-e2e-pkg-cluster/${cluster!.stackName}`);
            // exportStack decrypts; the plain CLI export shows state as anyone holding it sees it.
            const plain = execFileSync(path.join(toolchain().bin, "pulumi"), ["stack", "export", "--stack", consumerStack!.name], {
                cwd: consumer, env: { ...process.env, ...cluster!.env }, encoding: "utf8", maxBuffer: 256 * 1024 * 1024,
            });
            assert.deepEqual(privateKeyBlocks(plain), []);
            assert.ok(!plain.includes(admin.caPem.split("\n")[1]), "the cluster CA reached the consumer's state in plaintext");
        });

        it("applies the baseline through the consumer's own provider: the tenant and the standalone namespace are restricted", async function () {
            assert.deepEqual(outputs.namespaces.value, ["team-a", "shared-services"]);
            assert.equal(outputs.posture.value.admission.policy, "hardened-workload-guard");
            for (const name of ["team-a", "shared-services"]) {
                const res = await request(admin, "GET", `/api/v1/namespaces/${name}`);
                assert.equal(res.status, 200, `${name}: ${res.body}`);
                assert.equal(res.json().metadata.labels["pod-security.kubernetes.io/enforce"], "restricted", name);
            }
        });

        it("passes the shipped policy pack, compiled (node_modules/hardened-cluster/policy), and the pack does judge it", async function () {
            const pack = path.join(consumer, "node_modules/hardened-cluster/policy");
            assert.ok(fs.existsSync(path.join(pack, "index.js")) && !fs.existsSync(path.join(pack, "index.ts")));
            let text = "";
            const res = await consumerStack!.preview({ policyPacks: [pack], onOutput: (o) => (text += o) });
            assert.ok((res.changeSummary.same ?? 0) > 0, text.slice(-2000));
            assert.match(text, /Policies:[\s\S]*hardened-cluster/, `the engine ran no policy pack:\n${text.slice(-2000)}`);
            assert.doesNotMatch(text, /mandatory/i, text.slice(-3000));
        });

        it("destroys what it made, then the cluster stack leaves no process or port behind", async function () {
            await consumerStack!.destroy();
            consumerDestroyed = true;
            assert.equal((await request(admin, "GET", "/api/v1/namespaces/team-a")).status, 404);
            await cluster!.stack.destroy();
            for (const p of Object.values(ports)) assert.equal(await listening(p), false, `port ${p} still listening`);
        });
    });
});
