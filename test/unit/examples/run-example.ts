// Runs examples/baseline-existing-cluster once, in this process, on Pulumi's mock monitor, and writes what it
// registered (and any error) to a JSON file. One process per run: the program reads its configuration when the
// module loads and the runtime keeps global state.
//
//   HC_EXAMPLE_CONFIG=<json> HC_CLUSTER_OUTPUTS=<json> HC_TEST_RESULT=<file> node -r ts-node/register run-example.ts
//
// The example imports the library by its package name; here that name resolves to the repository's components/
// (the e2e specs run it against the built and the packed package).
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";

const Module = require("node:module") as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
const ROOT = path.resolve(__dirname, "../../..");
const PROJECT = "baseline-existing-cluster";

export interface ExampleRun {
    resources: { type: string; name: string; provider?: string; inputs: Record<string, any> }[];
    errors: string[];
}

const resultFile = process.env.HC_TEST_RESULT;
if (!resultFile) throw new Error("run-example: set HC_TEST_RESULT");
const clusterOutputs = JSON.parse(process.env.HC_CLUSTER_OUTPUTS ?? "{}");
process.env.PULUMI_CONFIG = process.env.HC_EXAMPLE_CONFIG ?? "{}";

const run: ExampleRun = { resources: [], errors: [] };
const text = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));
const save = () => writeFileSync(resultFile, JSON.stringify(run));
// Saved on every error too: the runtime may end the process on a failed registration before the timer fires.
const failed = (e: unknown) => {
    run.errors.push(text(e));
    save();
};
process.on("unhandledRejection", failed);
process.on("uncaughtException", failed);

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = (request: string, ...rest: unknown[]) =>
    resolveFilename(request === "hardened-cluster" ? path.join(ROOT, "components") : request, ...rest);

pulumi.runtime.setMocks({
    newResource(args) {
        run.resources.push({ type: args.type, name: args.name, provider: args.provider, inputs: args.inputs });
        const state: Record<string, unknown> = { ...args.inputs };
        // A StackReference is read, not created: the engine answers with the referenced stack's outputs.
        if (args.type === "pulumi:pulumi:StackReference") Object.assign(state, { outputs: clusterOutputs, secretOutputNames: Object.keys(clusterOutputs) });
        return { id: `${args.name}-id`, state };
    },
    call: (args) => args.inputs,
}, PROJECT, "unit", false).then(async () => {
    try {
        const program = require(path.join(ROOT, "examples/baseline-existing-cluster/index.ts"));
        await new Promise<void>((ok) => pulumi.all([program.namespaces, program.posture]).apply(() => ok()));
    } catch (e) {
        failed(e);
    }
    // Registrations and applies still in flight settle before the record is written.
    setTimeout(save, 2000);
}, failed);
