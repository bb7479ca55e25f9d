// Every committed stack through the real program on Pulumi's mock monitor (test/unit/program/run-stack.ts),
// then every rule of the pack over what it registered: no violation, nothing deferred (the mocks resolve
// every value). This is how the AWS stacks meet the AWS rules: no AWS plugin exists here, so the real-engine
// spec cannot reach them. The inputs judged are the registrations' inputs, as the engine's analyzer gets them.
import { strict as assert } from "node:assert";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { policies } from "../../../policy/policies";
import { processOf } from "../../../policy/rules/control-plane";
import { encryptionConfigs } from "../../../policy/rules/encryption";
import { configString, fakeToolchain, projectDefaults, ROOT, runInChild } from "../program/program-child";
import type { StackRun } from "../program/run-stack";
import { checkResource, checkStack } from "./policy-harness";

const PROJECT = "hardened-cluster";
const namespaced = (k: string) => (k.includes(":") ? k : `${PROJECT}:${k}`);

function stackConfig(file: string): Record<string, string> {
    const out = projectDefaults(namespaced);
    for (const [k, v] of Object.entries<unknown>(parse(readFileSync(path.join(ROOT, "stacks", file), "utf8")).config ?? {})) out[namespaced(k)] = configString(v);
    return out;
}

/** What the AWS rules must have seen in an AWS stack, so a pass is not a pass over nothing. */
const AWS_TYPES = ["aws:ec2/launchTemplate:LaunchTemplate", "aws:ec2/instance:Instance", "aws:kms/key:Key", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:ssm/parameter:Parameter", "aws:cloudwatch/logGroup:LogGroup"];

describe("policy pack: every committed stack on the mock engine", function () {
    this.timeout(300_000);
    let tmp: string;
    before(() => {
        tmp = mkdtempSync(path.join(tmpdir(), "hc-policy-stacks-"));
        fakeToolchain(path.join(tmp, "toolchain"));
    });
    after(() => rmSync(tmp, { recursive: true, force: true }));

    const files = readdirSync(path.join(ROOT, "stacks")).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f)).sort();
    it("finds the four committed stacks", () => assert.deepEqual(files, ["Pulumi.dev.yaml", "Pulumi.local.yaml", "Pulumi.prod.yaml", "Pulumi.staging.yaml"]));

    for (const file of files) {
        const name = file.slice("Pulumi.".length, -".yaml".length);
        it(`${name}: no rule finds a violation or has to defer`, async () => {
            const config = stackConfig(file);
            if (config[`${PROJECT}:platform`] === "local") {
                // The user layout in a scratch directory: planning the system layout would read this machine's kubeadm paths.
                config[`${PROJECT}:local`] = JSON.stringify({ ...JSON.parse(config[`${PROJECT}:local`] ?? "{}"), layout: "user", stateDir: path.join(tmp, "state", name) });
            }
            const run = runInChild<StackRun>(`stack ${name}`, path.join(ROOT, "test/unit/program/run-stack.ts"), config, tmp, path.join(tmp, `${name}.json`), { HC_TEST_STACK: name });
            assert.deepEqual(run.errors, []);
            // A tenant the stack lets enforce less than restricted (a named exception in the stack file) is
            // what its owner declares in the pack's config too; the pack then reports it as honoured.
            const tenants: { name: string; podSecurity?: { enforce?: string } }[] = JSON.parse(config[`${PROJECT}:baseline`] ?? "{}").tenants ?? [];
            const weaker = Object.fromEntries(tenants.filter((t) => t.podSecurity?.enforce && t.podSecurity.enforce !== "restricted").map((t) => [t.name, t.podSecurity!.enforce]));
            const policyConfig: Record<string, object> = { "namespace-pod-security": { exceptions: weaker } };
            const honoured: string[] = [];
            const found: string[] = [];
            let judged = 0;
            for (const p of policies) {
                if (typeof (p as any).validateResource === "function") {
                    for (const r of run.resources) {
                        const o = await checkResource(p.name, r.type, r.inputs, policyConfig[p.name]);
                        if (p.name === "namespace-pod-security") honoured.push(...o.honoured);
                        for (const v of o.violations) found.push(`${p.name} on ${r.type} ${r.name}: ${v}`);
                        if (o.deferred) found.push(`${p.name} deferred on ${r.type} ${r.name}`);
                        judged++;
                    }
                } else {
                    const o = await checkStack(p.name, run.resources.map((r) => ({ type: r.type, name: r.name, props: r.state })));
                    for (const v of o.violations) if (p.name !== "exceptions-honoured") found.push(`${p.name}: ${v}`);
                    if (o.deferred) found.push(`${p.name} deferred`);
                }
            }
            assert.deepEqual(found, []);
            assert.ok(judged > 0);
            assert.deepEqual(honoured.map((h) => /namespace (\S+)/.exec(h)![1]).sort(), Object.keys(weaker).sort());
            // The content rules saw what they judge: the encryption config written, and (local) the processes' argv.
            assert.ok(run.resources.some((r) => encryptionConfigs(r.inputs).length > 0), `${name}: no EncryptionConfiguration found in any input`);
            const types = new Set(run.resources.map((r) => r.type));
            if (config[`${PROJECT}:platform`] === "aws") {
                for (const t of AWS_TYPES) assert.ok(types.has(t), `${name} registered no ${t}`);
            } else {
                const procs = run.resources.map((r) => processOf(r.type, r.inputs)?.component).filter(Boolean).sort();
                assert.deepEqual(procs, ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"]);
            }
        });
    }
});
