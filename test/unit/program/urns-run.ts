// Runs one program (the blueprint's index.ts or examples/baseline-existing-cluster) once, in this process, on
// Pulumi's mock monitor, and writes the URN of every resource it registered to a JSON file. One process per
// program: a program reads its configuration when the module loads and the runtime keeps global state.
//
//   HC_URNS_PROGRAM=blueprint|example HC_URNS_STACK=<stack> HC_TEST_RESULT=<file> PULUMI_CONFIG=<json> \
//     node -r ts-node/register urns-run.ts
//
// The mock monitor's own URN rule keeps only the parent's last type segment (`Parent$Child`), while the
// engine and the SDK's createUrn keep the parent's whole type chain (`Grandparent$Parent$Child`) and drop the
// root Stack. Resources nested two levels deep would get a URN no real stack has, so the rule is replaced
// here with the engine's before any resource is registered.
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { computedTlsAndRandom, resolveExport, settle } from "./mock-engine";

export interface UrnRun {
    urns: string[];
    /** The URNs a resource names as its aliases (its former URNs), by its URN. */
    aliases: Record<string, string[]>;
    errors: string[];
}

const ROOT = path.resolve(__dirname, "../../..");
const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

const programKind = process.env.HC_URNS_PROGRAM;
const stack = process.env.HC_URNS_STACK;
const resultFile = process.env.HC_TEST_RESULT;
if ((programKind !== "blueprint" && programKind !== "example") || !stack || !resultFile) {
    throw new Error("urns-run: set HC_URNS_PROGRAM (blueprint|example), HC_URNS_STACK and HC_TEST_RESULT");
}
const project = programKind === "blueprint" ? "hardened-cluster" : "baseline-existing-cluster";

const run: UrnRun = { urns: [], aliases: {}, errors: [] };
const describe = (e: unknown) => (e instanceof Error ? e.stack ?? `${e.name}: ${e.message}` : String(e));
process.on("unhandledRejection", (e) => run.errors.push(`unhandled rejection: ${describe(e)}`));
process.on("uncaughtException", (e) => run.errors.push(`uncaught exception: ${describe(e)}`));

function urnOf(parent: string, type: string, name: string, inStack = stack!, inProject = project): string {
    // The parent's type part is everything between the project and the name: `urn:pulumi:s::p::<types>::<name>`.
    const parentTypes = parent ? parent.split("::")[2] : "";
    const chain = parentTypes && parentTypes !== ROOT_STACK_TYPE ? `${parentTypes}$${type}` : type;
    return `urn:pulumi:${inStack}::${inProject}::${chain}::${name}`;
}

/** The fields of the engine's Alias message (alias.proto) this runner reads. */
interface AliasMessage {
    getUrn(): string;
    getSpec(): { getName(): string; getType(): string; getStack(): string; getProject(): string; getParenturn(): string; getNoparent(): boolean } | undefined;
}
interface RegisterRequest {
    getParent(): string;
    getType(): string;
    getName(): string;
    getAliasesList(): AliasMessage[];
}

const { MockMonitor } = require("@pulumi/pulumi/runtime/mocks") as {
    MockMonitor: { prototype: { newUrn(parent: string, type: string, name: string): string; registerResource(req: RegisterRequest, cb: unknown): Promise<void> } };
};
MockMonitor.prototype.newUrn = function (parent: string, type: string, name: string): string {
    const urn = urnOf(parent, type, name);
    run.urns.push(urn);
    return urn;
};
// The mock monitor ignores aliases; the engine resolves an alias spec's blanks from the resource itself.
const registerResource = MockMonitor.prototype.registerResource;
MockMonitor.prototype.registerResource = function (req: RegisterRequest, cb: unknown): Promise<void> {
    const former = req.getAliasesList().map((a) => {
        const spec = a.getSpec();
        if (!spec) return a.getUrn();
        const parent = spec.getNoparent() ? "" : spec.getParenturn() || req.getParent();
        return urnOf(parent, spec.getType() || req.getType(), spec.getName() || req.getName(), spec.getStack() || stack!, spec.getProject() || project);
    });
    if (former.length > 0) run.aliases[urnOf(req.getParent(), req.getType(), req.getName())] = former;
    return registerResource.call(this, req, cb);
};

// The library is imported by its package name in the example; here it is the repository's components/.
const Module = require("node:module") as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = (request: string, ...rest: unknown[]) =>
    resolveFilename(request === "hardened-cluster" ? path.join(ROOT, "components") : request, ...rest);

/** Outputs a provider would compute and the programs read; everything else is the echoed inputs. */
function computed(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> {
    // A StackReference is read, not created: the engine answers with the referenced stack's outputs.
    if (type === "pulumi:pulumi:StackReference") {
        const outputs = { kubeconfig: "apiVersion: v1\nkind: Config\n" };
        return { outputs, secretOutputNames: Object.keys(outputs) };
    }
    return computedTlsAndRandom(type, name, inputs);
}

async function main(): Promise<void> {
    await pulumi.runtime.setMocks({
        newResource: (a: pulumi.runtime.MockResourceArgs) => ({ id: `${a.name}-id`, state: { ...a.inputs, ...computed(a.type, a.name, a.inputs) } }),
        call: (a: pulumi.runtime.MockCallArgs) => a.inputs,
    }, project, stack, false);
    const entry = programKind === "blueprint" ? path.join(ROOT, "index.ts") : path.join(ROOT, "examples/baseline-existing-cluster/index.ts");
    let program: Record<string, unknown> | undefined;
    try {
        program = require(entry);
    } catch (e) {
        run.errors.push(`program: ${describe(e)}`);
    }
    await settle(() => run.urns.length);
    if (program) {
        for (const [name, value] of Object.entries(program)) {
            try {
                await resolveExport(value);
            } catch (e) {
                run.errors.push(`export ${name}: ${describe(e)}`);
            }
        }
        await settle(() => run.urns.length);
    }
}

main()
    .catch((e) => run.errors.push(`runner: ${describe(e)}`))
    .finally(() => {
        writeFileSync(resultFile, JSON.stringify(run));
        process.exit(0);
    });
