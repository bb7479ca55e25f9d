// The bundles a stack has in its backup directory: listed for retention (a new backup prunes the oldest beyond
// it) and for the plan's check that every kept bundle's encryption keys are still configured.
import * as fs from "node:fs";
import * as path from "node:path";
import { BUNDLE_FORMAT, encryptionRefs, Manifest, retainedKeyProblems, splitByRetention, StoredBundle } from "../../../components/backup";
import { fail } from "../../../components/common";

/**
 * This stack's bundles directly inside `dir`: real directories (not symlinks) whose manifest.json is a bundle
 * manifest of `stack`. Anything else there is not ours to judge or prune, and is left alone.
 */
export function listBundles(dir: string, stack: string): StoredBundle[] {
    let entries: fs.Dirent[];
    try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
        throw e;
    }
    const out: StoredBundle[] = [];
    for (const e of entries) {
        if (!e.isDirectory()) continue;
        const bundle = path.join(dir, e.name);
        let manifest: Manifest;
        try {
            manifest = JSON.parse(fs.readFileSync(path.join(bundle, "manifest.json"), "utf8")) as Manifest;
        } catch {
            continue;
        }
        if (manifest?.format === BUNDLE_FORMAT && manifest.stack === stack && typeof manifest.createdAt === "string") out.push({ dir: bundle, manifest });
    }
    return out;
}

/** Removes this stack's bundles beyond the newest `retention`; returns the directories removed, oldest last. */
export function pruneBundles(dir: string, stack: string, retention: number): string[] {
    const { prune } = splitByRetention(listBundles(dir, stack), retention);
    for (const b of prune) fs.rmSync(b.dir, { recursive: true, force: true });
    return prune.map((b) => b.dir);
}

/**
 * Refuses a plan whose encryption config lacks a key that a kept bundle's values were written with: after that
 * `up` the apiserver could no longer decrypt them, so restoring that bundle would bring back unreadable data.
 */
export function checkKeptBackups(backup: { directory: string; retention: number }, stack: string, keys: readonly { provider: string; name: string }[], encryptionKey: string): void {
    const { keep } = splitByRetention(listBundles(backup.directory, stack), backup.retention);
    const problems = retainedKeyProblems(keep, encryptionRefs(keys));
    if (problems.length === 0) return;
    fail(`${encryptionKey}.keys`, keys.map((k) => k.name), `keep every key a kept backup needs until it ages out of the retention (${backup.retention} bundles: take newer backups with \`npm run backup\`, or remove the bundle): ${problems.join("; ")}`);
}
