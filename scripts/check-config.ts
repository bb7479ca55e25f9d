// `npm start`'s configuration check, before the engine runs: reads `pulumi config --json --show-secrets` on stdin
// and validates it exactly as the program does (planStack). A ConfigError is printed as one line and
// exits 1; the engine would print it twice (as it happens and again in its summary). Anything else this check
// cannot judge is left to the program, which validates the same keys again.
//
//   scripts/pulumi config --json --show-secrets -s local | node -r ts-node/register scripts/check-config.ts local
import { ConfigError } from "../components/common/errors";
import { planStack } from "../platforms";

interface Entry { value?: string; objectValue?: unknown; secret?: boolean }

function main(stack: string, text: string): number {
    let entries: Record<string, Entry>;
    try {
        entries = JSON.parse(text);
    } catch {
        return 0; // no readable config: the program reports what is wrong with it
    }
    // The program receives every value as a string, objects as JSON: the same form `value` has here.
    const all: Record<string, string> = {};
    for (const [k, e] of Object.entries(entries)) {
        if (typeof e.value === "string") all[k] = e.value;
        else if (e.objectValue !== undefined) all[k] = JSON.stringify(e.objectValue);
    }
    try {
        planStack(all, stack);
        return 0;
    } catch (e) {
        if (!(e instanceof ConfigError)) return 0;
        process.stderr.write(`error: ${e.message}\n`);
        return 1;
    }
}

const chunks: Buffer[] = [];
process.stdin.on("data", (c: Buffer) => chunks.push(c));
process.stdin.on("end", () => {
    process.exitCode = main(process.argv[2] ?? "local", Buffer.concat(chunks).toString("utf8"));
});
