// The bundles a stack has in its backup directory: listed for retention (a new backup prunes the oldest beyond
// it) and for the plan's check that every kept bundle's encryption keys are still configured.
import * as fs from "node:fs";
import * as path from "node:path";
import { BUNDLE_FILES, BUNDLE_FORMAT, encryptionRefs, Manifest, retainedKeyProblems, splitByRetention, StoredBundle } from "../../../components/backup";
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

/** How a bundle directory is named (its creation time), and what one holds before its manifest is written. */
const BUNDLE_NAME = /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z$/;
const UNFINISHED_PART = ".snapshot.db.part";

/**
 * Removes bundles a killed backup left unfinished: directories named like a bundle, holding no manifest and
 * nothing but a bundle's files, untouched for `olderThanMs`. The plain snapshot part in one is the cluster's
 * data unsealed. A backup under way is younger than that; anything else in `dir` is left alone.
 */
export function removeUnfinished(dir: string, now = Date.now(), olderThanMs = 3_600_000): string[] {
    const ours = new Set<string>([UNFINISHED_PART, ...BUNDLE_FILES]);
    const removed: string[] = [];
    let entries: fs.Dirent[];
    try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
        return removed;
    }
    for (const e of entries) {
        if (!e.isDirectory() || !BUNDLE_NAME.test(e.name)) continue;
        const bundle = path.join(dir, e.name);
        const inside = fs.readdirSync(bundle);
        if (inside.includes("manifest.json") || !inside.every((f) => ours.has(f))) continue;
        const newest = Math.max(fs.lstatSync(bundle).mtimeMs, ...inside.map((f) => fs.lstatSync(path.join(bundle, f)).mtimeMs));
        if (now - newest < olderThanMs) continue;
        fs.rmSync(bundle, { recursive: true, force: true });
        removed.push(bundle);
    }
    return removed;
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
