// Runs the real program (index.ts) once, in this process, on Pulumi's mock monitor, and writes what it
// registered to a JSON file. One process per stack: the program reads its configuration when the module
// loads and the runtime keeps global state, so a fresh process is the only reliable "fresh program".
//
//   HC_TEST_STACK=<stack> HC_TEST_RESULT=<file> PULUMI_CONFIG=<json> node -r ts-node/register run-stack.ts
//
// PULUMI_CONFIG is how the language host hands a stack's configuration to a program: "namespace:key" ->
// string, objects as JSON. The mocks give every resource an id and echo its inputs, plus the few computed
// outputs the program reads (PEMs, random values, the NLB's name). Dynamic resources (LocalFile,
// LocalProcess, AdminBootstrap, ApiServerReady) are registered like any other: the mock monitor answers
// RegisterResource itself and never loads their providers, so nothing is written or started.
import { writeFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { computedTlsAndRandom, resolveExport, settle } from "./mock-engine";
import { realTlsOutputs } from "./real-tls";

export interface StackRun {
    /** `state`: the inputs with what the provider computes (a generated bucket name, ARNs), as a stack policy sees them after an up. */
    resources: { type: string; name: string; provider?: string; inputs: Record<string, any>; state: Record<string, any> }[];
    outputs: Record<string, unknown>;
    errors: string[];
}

const PROJECT = "hardened-cluster";
const ACCOUNT = "123456789012";
const AMI = "ami-0123456789abcdef0";

const stack = process.env.HC_TEST_STACK;
const resultFile = process.env.HC_TEST_RESULT;
if (!stack || !resultFile) throw new Error("run-stack: set HC_TEST_STACK and HC_TEST_RESULT");

const run: StackRun = { resources: [], outputs: {}, errors: [] };
const describe = (e: unknown) => (e instanceof Error ? e.stack ?? `${e.name}: ${e.message}` : String(e));
process.on("unhandledRejection", (e) => run.errors.push(`unhandled rejection: ${describe(e)}`));
process.on("uncaughtException", (e) => run.errors.push(`uncaught exception: ${describe(e)}`));

/** Outputs the provider would compute and the program reads; everything else is the echoed inputs. */
function computed(type: string, name: string, inputs: Record<string, any>, region: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (type.startsWith("aws:")) {
        out.arn = `arn:aws:mock:${region}:${ACCOUNT}:${type.split(":").pop()}/${name}`;
        if (inputs.name === undefined) out.name = name;
    }
    switch (type) {
        case "aws:ec2/launchTemplate:LaunchTemplate": out.latestVersion = 1; break;
        case "aws:lb/loadBalancer:LoadBalancer": out.dnsName = `${name}.elb.${region}.amazonaws.com`; break;
        case "aws:kms/key:Key": out.keyId = `key-${name}`; break;
    }
    // HC_TEST_REAL_TLS=<dir>: real keys and certificates (openssl, scratch in <dir>), for drills that start processes.
    const realTls = process.env.HC_TEST_REAL_TLS ? realTlsOutputs(type, name, inputs, process.env.HC_TEST_REAL_TLS) : undefined;
    Object.assign(out, realTls ?? computedTlsAndRandom(type, name, inputs));
    return out;
}

/** Top-level file assets (an object's source) as { path }: the SDK holds the path in a promise, which JSON drops. */
async function withAssetPaths(inputs: Record<string, any>): Promise<Record<string, any>> {
    const out = { ...inputs };
    for (const [k, v] of Object.entries(inputs)) if (v instanceof pulumi.asset.FileAsset) out[k] = { path: await v.path };
    return out;
}

async function main(): Promise<void> {
    await pulumi.runtime.setMocks({
        async newResource(a: pulumi.runtime.MockResourceArgs) {
            const region = new pulumi.Config("aws").get("region") ?? "eu-west-1";
            const state = { ...a.inputs, ...computed(a.type, a.name, a.inputs, region) };
            run.resources.push({ type: a.type, name: a.name, provider: a.provider, inputs: await withAssetPaths(a.inputs), state });
            return { id: `${a.name}-id`, state };
        },
        call(a: pulumi.runtime.MockCallArgs) {
            const region = new pulumi.Config("aws").get("region") ?? "eu-west-1";
            switch (a.token) {
                case "aws:index/getCallerIdentity:getCallerIdentity":
                    return { accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/deployer`, userId: "AIDAEXAMPLE", id: ACCOUNT };
                case "aws:index/getPartition:getPartition":
                    return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
                case "aws:index/getAvailabilityZones:getAvailabilityZones":
                    return { names: ["a", "b", "c", "d", "e", "f"].map((z) => `${region}${z}`), id: region };
                case "aws:ssm/getParameter:getParameter":
                    return { name: a.inputs.name, value: AMI, id: a.inputs.name };
                // The workers running, as EC2 lists them: HC_TEST_RUNNING_WORKERS=<address>,... (none unless set).
                case "aws:ec2/getInstances:getInstances": {
                    const ips = (process.env.HC_TEST_RUNNING_WORKERS ?? "").split(",").filter(Boolean);
                    return { ids: ips.map((_, i) => `i-${i}`), privateIps: ips, publicIps: [], ipv6Addresses: [], id: region };
                }
                default:
                    return a.inputs;
            }
        },
    }, PROJECT, stack, false);

    let program: Record<string, unknown> | undefined;
    try {
        program = require("../../../index");
    } catch (e) {
        run.errors.push(`program: ${describe(e)}`);
    }
    await settle(() => run.resources.length);
    if (program) {
        for (const name of ["endpoint", "kubeconfig", "caCertPem", "userKubeconfigs", "posture", "details"]) {
            try {
                run.outputs[name] = await resolveExport(program[name]);
            } catch (e) {
                run.errors.push(`export ${name}: ${describe(e)}`);
            }
        }
        await settle(() => run.resources.length);
    }
}

main()
    .catch((e) => run.errors.push(`runner: ${describe(e)}`))
    .finally(() => {
        writeFileSync(resultFile, JSON.stringify(run));
        process.exit(0);
    });
