// Support for the renewal and rotation tests: time moved on in the stack's state, not on the clock. ageLeaves
// moves certificates into their renewal window without waiting for it: the end of validity recorded in the
// stack's state is brought forward, which is all the tls provider's plan step reads when it decides whether
// a certificate is due (see tls-renewal.spec.ts for that step on certificates that are due for real). The
// files on disk keep their real dates; only the engine's view ages.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { ProgramStack, toolchain } from "./harness";

const LEAF_TYPE = "tls:index/locallySignedCert:LocallySignedCert";

/** Rewrites the stack's state through `edit` (plain export and import: secrets stay encrypted throughout). */
export function editState(ps: ProgramStack, edit: (resources: StateResource[]) => void): void {
    const bin = path.join(toolchain().bin, "pulumi");
    const run = (...args: string[]) => execFileSync(bin, [...args, "--stack", ps.stackName], { cwd: ps.workDir, env: { ...process.env, ...ps.env }, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    const state = JSON.parse(run("stack", "export"));
    edit(state.deployment.resources);
    const file = path.join(ps.root, "edited-state.json");
    fs.writeFileSync(file, JSON.stringify(state), { mode: 0o600 });
    try {
        run("stack", "import", "--file", file);
    } finally {
        fs.rmSync(file, { force: true });
    }
}

export interface StateResource { urn: string; type: string; outputs: Record<string, unknown> }

/** Ages the leaves whose resource names end in `-<row>` for each row; returns the URNs it aged. */
export function ageLeaves(ps: ProgramStack, rows: string[], endsAt: Date): string[] {
    const aged: string[] = [];
    editState(ps, (resources) => {
        for (const r of resources) {
            if (r.type !== LEAF_TYPE || !rows.some((row) => r.urn.endsWith(`-${row}`))) continue;
            r.outputs.validityEndTime = endsAt.toISOString();
            aged.push(r.urn);
        }
    });
    return aged;
}

/** An engine-event handler for `up` or `preview` that collects the URNs the run replaces (or plans to). */
export function replacements(): { onEvent: (e: EngineEvent) => void; urns: Set<string> } {
    const urns = new Set<string>();
    return {
        urns,
        onEvent: (e) => {
            const m = e.resourcePreEvent?.metadata;
            if (m && (m.op === "replace" || m.op === "create-replacement")) urns.add(m.urn);
        },
    };
}
