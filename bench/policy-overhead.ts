// (g) What the policy pack adds to a `pulumi preview` of the local stack: the same stack previewed three times
// without and three times with `--policy-pack policy`, alternating, after one warm-up; medians compared.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { programStack, repoRoot, toolchain } from "../test/e2e/harness";

export interface PolicyOverhead { bareMs: number; packMs: number; ratio: number }

export async function policyOverhead(ports: Record<string, number>): Promise<PolicyOverhead> {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-bench-policy-"));
    const ps = await programStack({
        name: "bench-policy", blueprint: true,
        config: { "hardened-cluster:local": { value: JSON.stringify({ layout: "user", stateDir, ports }) } },
    });
    const run = (pack: boolean) => {
        const t0 = Date.now();
        const res = spawnSync(path.join(toolchain().bin, "pulumi"), ["preview", "--stack", ps.stackName, "--non-interactive",
            ...(pack ? ["--policy-pack", path.join(repoRoot, "policy")] : [])],
        { cwd: ps.workDir, env: { ...process.env, ...ps.env }, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
        if (res.status !== 0) throw new Error(`preview${pack ? " with the policy pack" : ""} failed: ${res.stdout.slice(-2000)}${res.stderr.slice(-1000)}`);
        return Date.now() - t0;
    };
    try {
        run(false);
        const bare: number[] = [];
        const pack: number[] = [];
        for (let i = 0; i < 3; i++) {
            bare.push(run(false));
            pack.push(run(true));
        }
        const median = (a: number[]) => [...a].sort((x, y) => x - y)[1];
        return { bareMs: median(bare), packMs: median(pack), ratio: (median(pack) - median(bare)) / median(bare) };
    } finally {
        await ps.cleanup();
        fs.rmSync(stateDir, { recursive: true, force: true });
    }
}
