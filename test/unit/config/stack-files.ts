// Stack files as the program sees them: Pulumi merges Pulumi.yaml's declared defaults with the stack's
// `config:` values and passes every value as a string, objects and lists as JSON.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

export const ROOT = path.join(__dirname, "../../..");
export const STACKS_DIR = path.join(ROOT, "stacks");

function asPulumiString(v: unknown): string {
    return typeof v === "object" && v !== null ? JSON.stringify(v) : String(v);
}

/** "hardened-cluster:<key>" -> default, from the project file's `config:` block. */
export function projectDefaults(): Record<string, string> {
    const project = parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
    const out: Record<string, string> = {};
    for (const [name, decl] of Object.entries<{ default?: unknown }>(project.config ?? {})) {
        if (decl.default !== undefined) out[`${project.name}:${name}`] = asPulumiString(decl.default);
    }
    return out;
}

export function stackFiles(): string[] {
    return fs.readdirSync(STACKS_DIR).filter((f) => /^Pulumi\..+\.yaml$/.test(f)).sort();
}

export function stackName(file: string): string {
    return file.replace(/^Pulumi\./, "").replace(/\.yaml$/, "");
}

/** The stack file's parsed YAML. */
export function readStack(file: string): { config?: Record<string, unknown>; [k: string]: unknown } {
    return parse(fs.readFileSync(path.join(STACKS_DIR, file), "utf8")) ?? {};
}

/** What pulumi.runtime.allConfig() returns for this stack. */
export function allConfigOf(stack: { config?: Record<string, unknown> }): Record<string, string> {
    const values = Object.fromEntries(Object.entries(stack.config ?? {}).map(([k, v]) => [k, asPulumiString(v)]));
    return { ...projectDefaults(), ...values };
}
