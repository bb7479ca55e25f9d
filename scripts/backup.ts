// `npm run backup -- -s <stack> [--out <dir>] [--key <file>]`: a snapshot of the running local stack, now,
// as a sealed bundle. The stack's plan is read the way `npm start` checks it: `scripts/pulumi config --json`
// for the stack, resolved by planStack. The bundle key (default <run dir>/backup/bundle.key, made on first use)
// is needed for every restore: keep a copy of it away from this machine.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { takeBackup } from "../platforms/local/backup/backup";
import type { LocalStackPlan } from "../platforms/local/plan";
import { planStack } from "../platforms";

const root = path.resolve(__dirname, "..");

/** `-s <stack>` plus `--name value` options (`--name` alone for the `switches`) and the remaining positional arguments. */
export function parseArgs(argv: string[], switches: readonly string[] = []): { stack: string; opts: Record<string, string>; rest: string[] } {
    const opts: Record<string, string> = {};
    const rest: string[] = [];
    let stack = "";
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "-s" || a === "--stack") stack = argv[++i] ?? "";
        else if (switches.includes(a.slice(2))) opts[a.slice(2)] = "true";
        else if (a.startsWith("--")) opts[a.slice(2)] = argv[++i] ?? "";
        else rest.push(a);
    }
    if (!stack) throw new Error("give the stack: -s <stack>");
    return { stack, opts, rest };
}

/**
 * The local stack's plan, from its Pulumi config (secrets travel through a pipe, never argv). The config is read
 * in the project npm runs in (its Pulumi.yaml beside package.json), which is this checkout unless it was linked
 * into another project directory.
 */
export function stackPlan(stack: string, opts: { restoring?: boolean } = {}): LocalStackPlan {
    // scripts/pulumi runs in this checkout; --cwd points the CLI at the project whose stack files hold the config.
    const project = fs.existsSync(path.join(process.cwd(), "Pulumi.yaml")) ? process.cwd() : root;
    const text = execFileSync("bash", [path.join(root, "scripts/pulumi"), "--cwd", project, "config", "--json", "--show-secrets", "-s", stack],
        { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 * 1024 * 1024 });
    const all: Record<string, string> = {};
    for (const [k, e] of Object.entries(JSON.parse(text) as Record<string, { value?: string; objectValue?: unknown }>)) {
        if (typeof e.value === "string") all[k] = e.value;
        else if (e.objectValue !== undefined) all[k] = JSON.stringify(e.objectValue);
    }
    const bin = execFileSync("bash", [path.join(root, "scripts/toolchain.sh"), "--bin-dir"], { encoding: "utf8" }).trim();
    const plan = planStack(all, stack, { toolchainBin: () => bin, restoring: opts.restoring });
    if (plan.platform !== "local") {
        throw new Error(`stack ${stack} is on platform ${plan.platform}: these commands (backup, restore, the certificate inventory) are local-only so far; ` +
            "an AWS cluster's control-plane nodes back themselves up to the stack's bucket on a timer (platforms/aws/README.md, Backups)");
    }
    return plan.local;
}

function main(): void {
    const { stack, opts } = parseArgs(process.argv.slice(2));
    const r = takeBackup(stackPlan(stack), { outDir: opts.out, keyFile: opts.key });
    const refs = Object.entries(r.refs).map(([k, n]) => `${k} (${n})`).join(", ") || "none";
    process.stdout.write(`backup of ${stack} from ${r.member}: ${r.dir}\n  revision ${r.status.revision}, ${r.status.totalKey} keys, ` +
        `${r.bytes} bytes sealed in ${r.seconds.toFixed(1)}s; encryption keys referenced: ${refs}\n` +
        (r.pruned.length > 0 ? `  removed ${r.pruned.length} older bundle(s) beyond the retention: ${r.pruned.join(", ")}\n` : ""));
}

if (require.main === module) {
    try {
        main();
    } catch (e) {
        process.stderr.write(`backup: ${(e as Error).message}\n`);
        process.exitCode = 1;
    }
}
