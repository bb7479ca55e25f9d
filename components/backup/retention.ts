// Which of a stack's bundles are kept, and what the kept ones still need from the stack: an encryption key a
// kept bundle's values were written with must stay in the encryption config, or that bundle could be restored
// but never read. Pure: the platform lists the bundles and applies the result.
import type { Manifest } from "./bundle";

export { encryptionRefs } from "../encryption/scan";

export interface StoredBundle {
    dir: string;
    manifest: Manifest;
}

/** The stack's bundles newest first: the first `retention` are kept, the rest pruned. */
export function splitByRetention(bundles: readonly StoredBundle[], retention: number): { keep: StoredBundle[]; prune: StoredBundle[] } {
    const sorted = [...bundles].sort((a, b) => b.manifest.createdAt.localeCompare(a.manifest.createdAt) || b.dir.localeCompare(a.dir));
    return { keep: sorted.slice(0, retention), prune: sorted.slice(retention) };
}

/** One line per kept bundle that needs a key `configured` lacks, naming the bundle and the keys. */
export function retainedKeyProblems(keep: readonly StoredBundle[], configured: readonly string[]): string[] {
    const have = new Set(configured);
    const problems: string[] = [];
    for (const b of keep) {
        const needs = b.manifest.encryptionKeys;
        if (!Array.isArray(needs)) {
            problems.push(`backup ${b.dir} (taken ${b.manifest.createdAt}) does not list the encryption keys it needs: take a new backup, then remove it`);
            continue;
        }
        const missing = needs.filter((k) => !have.has(k));
        if (missing.length > 0) {
            problems.push(`backup ${b.dir} (taken ${b.manifest.createdAt}) needs ${missing.join(", ")} to be read after a restore`);
        }
    }
    return problems;
}
