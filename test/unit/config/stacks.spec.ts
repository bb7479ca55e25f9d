// Every stack file in stacks/ loads through the same validation the program runs, and the environment
// presets differ where real teams differ (and only in ways the validators accept).
import { strict as assert } from "node:assert";
import { planStack } from "../../../platforms";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { ConfigError } from "../../../components/common";
import { planClusterBaseline } from "../../../components/cluster-baseline/plan";
import { resolveAuditOptions } from "../../../components/audit/options";
import { BlueprintConfig } from "../../../config";
import { resolveAwsOptions } from "../../../platforms/aws/options";
import { allConfigOf, readStack, STACKS_DIR, stackFiles, stackName } from "./stack-files";

const EXPECTED_PLATFORM: Record<string, string> = { local: "local", dev: "aws", staging: "aws", prod: "aws" };

function load(stack: string): BlueprintConfig {
    return planStack(allConfigOf(readStack(`Pulumi.${stack}.yaml`)), stack, { isRoot: false }).config;
}

describe("config: stack files", function () {
    it("has the local, dev, staging and prod stacks", function () {
        assert.deepEqual(stackFiles().map(stackName).sort(), Object.keys(EXPECTED_PLATFORM).sort());
    });

    for (const file of stackFiles()) {
        const stack = stackName(file);
        it(`${file} validates, for the ${EXPECTED_PLATFORM[stack] ?? "(unlisted)"} platform`, function () {
            assert.ok(EXPECTED_PLATFORM[stack], `add ${stack}'s expected platform to EXPECTED_PLATFORM`);
            assert.equal(load(stack).platform, EXPECTED_PLATFORM[stack]);
        });

        it(`${file} holds configuration only: no secrets, no encryption salt`, function () {
            // The committed file: `npm start` runs `pulumi stack init local`, which adds this user's salt to the
            // working copy, and that line must never be committed (it belongs to one user's passphrase).
            const text = committed(`stacks/${file}`) ?? fs.readFileSync(path.join(STACKS_DIR, file), "utf8");
            assert.deepEqual(Object.keys(parse(text)), ["config"]);
            assert.doesNotMatch(text, /encryptionsalt|secure:/);
        });
    }

    it("puts aws:region in every AWS stack, equal to the cluster's region", function () {
        for (const stack of ["dev", "staging", "prod"]) {
            const c = readStack(`Pulumi.${stack}.yaml`).config!;
            assert.equal(c["aws:region"], load(stack).aws?.region, stack);
        }
    });

    it("keeps the local stack to the platform and one tenant, team-a", function () {
        const c = load("local");
        assert.deepEqual(Object.keys(c).sort(), ["baseline", "kubernetesVersion", "platform"]);
        assert.deepEqual(c.baseline?.tenants?.map((t) => t.name), ["team-a"]);
    });

    describe("environment presets", function () {
        const aws = (stack: string) => resolveAwsOptions(load(stack).aws, stack);
        const tenantPsa = (stack: string) => planClusterBaseline(stack, load(stack).baseline).tenants.map((t) => t.podSecurity);

        it("enforces PSA baseline in dev only as a named exception, still warning and auditing restricted", function () {
            const [dev] = tenantPsa("dev");
            assert.equal(dev.enforce, "baseline");
            assert.equal(dev.warn, "restricted");
            assert.equal(dev.audit, "restricted");
            assert.match(dev.exception ?? "", /\S/);
            for (const stack of ["staging", "prod"]) {
                for (const ps of tenantPsa(stack)) assert.deepEqual([ps.enforce, ps.warn, ps.audit, ps.exception], ["restricted", "restricted", "restricted", undefined], stack);
            }
        });

        it("audits with the standard preset in dev and staging, strict in prod", function () {
            const preset = (stack: string) => resolveAuditOptions(load(stack).audit).preset;
            assert.deepEqual(["dev", "staging", "prod"].map(preset), ["standard", "standard", "strict"]);
        });

        it("keeps logs longer and runs larger control-plane nodes from dev to prod", function () {
            const [dev, staging, prod] = ["dev", "staging", "prod"].map(aws);
            assert.ok(dev.logRetentionDays < staging.logRetentionDays && staging.logRetentionDays < prod.logRetentionDays);
            assert.notEqual(dev.controlPlane.instanceType, prod.controlPlane.instanceType);
            assert.notEqual(dev.workers.instanceType, prod.workers.instanceType);
        });

        it("exposes the endpoint publicly only in dev, to listed networks and never 0.0.0.0/0", function () {
            const [dev, staging, prod] = ["dev", "staging", "prod"].map(aws);
            assert.equal(dev.endpoint, "public");
            assert.ok(dev.apiAllowedCidrs.length > 0);
            assert.ok(dev.apiAllowedCidrs.every((c) => !c.endsWith("/0")));
            assert.equal(dev.allowWorldApiAccess, false);
            assert.deepEqual([staging.endpoint, prod.endpoint], ["private", "private"]);
        });

        it("runs one etcd member in dev as a named weakening, three in staging and prod", function () {
            const [dev, staging, prod] = ["dev", "staging", "prod"].map(aws);
            assert.deepEqual([dev.controlPlane.etcdMembers, dev.allowSingleEtcdMember], [1, true]);
            assert.deepEqual([staging, prod].map((r) => [r.controlPlane.etcdMembers, r.allowSingleEtcdMember]), [[3, false], [3, false]]);
        });

        it("would refuse dev's single etcd member in prod", function () {
            const prod = readStack("Pulumi.prod.yaml");
            const options = prod.config!["hardened-cluster:aws"] as Record<string, unknown>;
            const weakened = { config: { ...prod.config, "hardened-cluster:aws": { ...options, allowSingleEtcdMember: true, controlPlane: { etcdMembers: 1 } } } };
            assert.throws(() => planStack(allConfigOf(weakened), "prod", { isRoot: false }).config,
                (e: unknown) => e instanceof ConfigError && e.key === "hardened-cluster:aws.allowSingleEtcdMember");
        });
    });
});

/** A file as committed at HEAD, or undefined outside a git checkout. */
function committed(file: string): string | undefined {
    try {
        return execFileSync("git", ["show", `HEAD:${file}`], { cwd: path.join(__dirname, "../../.."), encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    } catch {
        return undefined;
    }
}
