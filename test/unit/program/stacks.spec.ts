// Every committed stack file through the real program (index.ts) on Pulumi's mock monitor, one child process
// per stack (run-stack.ts): the configuration is what the engine would hand over (Pulumi.yaml's defaults
// under the stack file's values, as PULUMI_CONFIG), and the program must register its platform, the
// baseline and one SecureNamespace per tenant without an error.
//
// Two things differ from a real run, both so that a mock run cannot touch this machine:
// - the local platform finds a FAKE toolchain (HC_TOOLCHAIN_DIR): empty executables and a minimal kube-bench
//   config, enough for LocalCluster's checks, which stay as strict as they are;
// - local stacks get layout "user" with a temporary stateDir. "auto" means "system" as root, and planning
//   the system layout reads /etc/kubernetes, /var/lib/etcd and /etc/etcd/pki (it refuses directories it did
//   not create), so the result would depend on the machine.
import { strict as assert } from "node:assert";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { engineConfig, fakeToolchain, ROOT, runInChild } from "./program-child";
import type { StackRun } from "./run-stack";

const PROJECT = "hardened-cluster";
const RUNNER = path.join(__dirname, "run-stack.ts");

const T = {
    local: "hardened-cluster:local:LocalCluster",
    aws: "hardened-cluster:aws:AwsCluster",
    baseline: "hardened-cluster:cluster-baseline:ClusterBaseline",
    namespace: "hardened-cluster:secure-namespace:SecureNamespace",
    nlb: "aws:lb/loadBalancer:LoadBalancer",
    launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
    localFile: "pulumi-nodejs:dynamic/hardened-cluster:LocalFile",
    localFileSet: "pulumi-nodejs:dynamic/hardened-cluster:LocalFileSet",
    localProcess: "pulumi-nodejs:dynamic/hardened-cluster:LocalProcess",
};

const obj = (config: Record<string, string>, k: string): any => JSON.parse(config[`${PROJECT}:${k}`] ?? "{}");

interface Stack {
    name: string;
    config: Record<string, string>;
    platform: string;
    tenants: string[];
}

function stacks(): Stack[] {
    const dir = path.join(ROOT, "stacks");
    return readdirSync(dir).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f)).sort().map((f) => {
        const config = engineConfig(path.join(dir, f));
        return {
            name: f.slice("Pulumi.".length, -".yaml".length),
            config,
            platform: config[`${PROJECT}:platform`],
            tenants: (obj(config, "baseline").tenants ?? []).map((t: { name: string }) => t.name),
        };
    });
}

function runStack(s: Stack, config: Record<string, string>, tmp: string): StackRun {
    return runInChild<StackRun>(`stack ${s.name}`, RUNNER, config, tmp, path.join(tmp, `${s.name}.json`), { HC_TEST_STACK: s.name });
}

describe("program: every stack file on the mocked engine", function () {
    this.timeout(300_000);
    const all = stacks();
    let tmp: string;
    before(() => {
        tmp = mkdtempSync(path.join(tmpdir(), "hc-stacks-"));
        fakeToolchain(path.join(tmp, "toolchain"));
    });
    after(() => rmSync(tmp, { recursive: true, force: true }));

    it("finds the committed stacks, local and AWS", () => {
        for (const s of all) assert.ok(["local", "aws"].includes(s.platform), `${s.name}: ${s.platform}`);
        assert.ok(all.some((s) => s.platform === "local") && all.some((s) => s.platform === "aws"), all.map((s) => s.name).join(", "));
    });

    for (const s of all) {
        describe(`stack ${s.name} (${s.platform})`, () => {
            let run: StackRun;
            let stateDir: string;
            const ofType = (t: string) => run.resources.filter((r) => r.type === t);
            before(() => {
                const config = { ...s.config };
                if (s.platform === "local") {
                    stateDir = path.join(tmp, "state", s.name);
                    config[`${PROJECT}:local`] = JSON.stringify({ ...obj(config, "local"), layout: "user", stateDir });
                }
                run = runStack(s, config, tmp);
            });

            it("runs without an error and resolves every export", () => {
                assert.deepEqual(run.errors, []);
                assert.deepEqual(Object.keys(run.outputs).sort(), ["caCertPem", "details", "endpoint", "kubeconfig", "posture", "userKubeconfigs"]);
                assert.match(String(run.outputs.kubeconfig), /^apiVersion: v1\n/m);
            });

            it(`registers the baseline and one SecureNamespace per tenant (${s.tenants.join(", ") || "none"}) through the platform's provider`, () => {
                assert.equal(ofType(T.baseline).length, 1);
                assert.deepEqual(ofType(T.namespace).map((r) => r.name).sort(), s.tenants.map((t) => `baseline-${t}`).sort());
                const k8s = run.resources.filter((r) => r.type.startsWith("kubernetes:"));
                assert.ok(k8s.length > 0);
                const providerName = s.platform === "local" ? "local-k8s" : "aws-k8s";
                for (const r of k8s) assert.match(r.provider ?? "", new RegExp(`::${providerName}::`), `${r.type} ${r.name}`);
            });

            if (s.platform === "local") {
                it("registers a LocalCluster whose files and processes exist only as registrations", () => {
                    assert.equal(ofType(T.local).length, 1);
                    assert.equal(ofType(T.aws).length, 0);
                    assert.ok(!run.resources.some((r) => r.type.startsWith("aws:")));
                    assert.equal(run.outputs.endpoint, "https://127.0.0.1:6443");
                    // Secret inputs arrive wrapped by the mock runtime; the paths are what matters here.
                    const plain = (v: any) => (v && typeof v === "object" && pulumi.runtime.specialSigKey in v ? v.value : v);
                    const sets = ofType(T.localFileSet);
                    const files = [...ofType(T.localFile), ...sets.flatMap((r) => plain(r.inputs.files).map((f: any) => ({ ...r, inputs: plain(f) })))];
                    const procs = ofType(T.localProcess);
                    // One set per group of files that restart the same processes, far fewer than the files.
                    assert.ok(sets.length >= 5 && sets.length < 12, `${sets.length} file sets`);
                    assert.ok(files.length > 30, `${files.length} files`);
                    assert.deepEqual(procs.map((p) => p.inputs.name).sort(), ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"]);
                    for (const p of procs) assert.equal(p.inputs.command, path.join(tmp, "toolchain", "bin", p.inputs.name));
                    for (const f of files) assert.ok(String(f.inputs.path).startsWith(`${stateDir}/`), f.inputs.path);
                    // The providers were serialized into the registrations but never run: nothing was written or started.
                    for (const r of [...ofType(T.localFile), ...sets, ...procs]) assert.equal(typeof r.inputs.__provider, "string");
                    assert.equal(existsSync(stateDir), false, `${stateDir} was created`);
                });
            } else {
                const aws = () => obj(s.config, "aws");
                it("registers an AwsCluster, its NLB and launch templates that require IMDSv2", () => {
                    assert.equal(ofType(T.aws).length, 1);
                    assert.equal(ofType(T.local).length, 0);
                    const nlbs = ofType(T.nlb);
                    assert.equal(nlbs.length, 1);
                    assert.equal(nlbs[0].inputs.internal, (aws().endpoint ?? "private") === "private");
                    const lts = ofType(T.launchTemplate);
                    // One per control-plane node and one for the workers.
                    assert.equal(lts.length, (aws().controlPlane?.etcdMembers ?? 3) + 1);
                    for (const lt of lts) {
                        assert.equal(lt.inputs.metadataOptions?.httpTokens, "required", lt.name);
                        assert.equal(lt.inputs.metadataOptions?.httpPutResponseHopLimit, 1, lt.name);
                    }
                    assert.equal(ofType("pulumi-nodejs:dynamic/hardened-cluster:AdminBootstrap").length, 1);
                    assert.match(String(run.outputs.endpoint), /^https:\/\/[^/]+:6443$/);
                });
            }
        });
    }
});
