// (i) The encryption key rotation's rewrite on a stack that holds 5,000 Secrets (the backup figure's stack):
// add, then promote, whose rewrite moves every Secret to the new key. migrationRate is the objects written
// back per second, as the rollout measures it (goal: 50/s on 2 cores, ten times RKE2's documented ~5/s).
import type { ProgramStack } from "../test/e2e/harness";

export interface RotationFigures { rewritten: number; migrationRate: number; promoteUpMs: number; staleAfter: number }

export const MIGRATION_RATE_GOAL = 50;

export async function rotationFigures(ps: ProgramStack): Promise<RotationFigures> {
    const stage = (s: string, keys: string[]) => ps.stack.setConfig("hardened-cluster:encryption", { value: JSON.stringify({ stage: s, keys: keys.map((name) => ({ name })) }) });
    await stage("add", ["key1", "key2"]);
    await ps.stack.up();
    await stage("promote", ["key1", "key2"]);
    const t0 = Date.now();
    const up = await ps.stack.up();
    const enc = up.outputs.details.value.encryption as { rewritten: number; rewritePerSecond: number; staleValues: number };
    return { rewritten: enc.rewritten, migrationRate: Math.round(enc.rewritePerSecond), promoteUpMs: Date.now() - t0, staleAfter: enc.staleValues };
}
