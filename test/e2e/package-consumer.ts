// The package as a consumer gets it: a copy of the repository as a fresh clone has it (tracked files only, no
// dist/), packed by `npm run pack`, then installed from the tarball into a scratch project next to the peers.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { repoRoot } from "./harness";

/** The repository's files a clone would hold (tracked and not-ignored new files, as they are on disk now). */
export function cleanCopy(dest: string): string[] {
    const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: repoRoot, encoding: "utf8" })
        .split("\0")
        .filter((f) => f !== "" && f !== "node_modules" && !f.startsWith("node_modules/"));
    const copied: string[] = [];
    for (const file of listed) {
        const src = path.join(repoRoot, file);
        if (!fs.existsSync(src) || fs.lstatSync(src).isDirectory()) continue; // deleted in the work tree, or a submodule
        fs.mkdirSync(path.dirname(path.join(dest, file)), { recursive: true });
        fs.copyFileSync(src, path.join(dest, file));
        copied.push(file);
    }
    return copied;
}

/** `npm run pack` in a checkout; the tarball lands in `destination`. */
export function npmRunPack(checkout: string, destination: string): string {
    const out = execFileSync("npm", ["run", "--silent", "pack", "--", destination], { cwd: checkout, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const tarball = out.trim().split("\n").pop()!;
    if (!fs.existsSync(tarball)) throw new Error(`npm run pack printed no tarball path: ${out}`);
    return tarball;
}

export function tarList(tarball: string): string[] {
    return execFileSync("tar", ["tzf", tarball], { encoding: "utf8" }).split("\n").filter((l) => l !== "").sort();
}

export function tarFile(tarball: string, member: string): string {
    return execFileSync("tar", ["xzOf", tarball, member], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
}

export interface PackSize {
    size: number;
    unpackedSize: number;
    entryCount: number;
}

/** What `npm pack --dry-run --json` reports for a directory. */
export function packDryRun(dir: string): PackSize {
    const [r] = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json"], { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }));
    return { size: r.size, unpackedSize: r.unpackedSize, entryCount: r.entryCount };
}

/**
 * A consumer's `npm install` of the tarball and the peers at the versions this repository pins. Install scripts
 * stay off as in this repository (the Pulumi packages' would download plugins; the toolchain has them), and
 * --prefer-offline lets a warm npm cache serve a run without the registry.
 */
export function installConsumer(dir: string, tarball: string, peers: Record<string, string>): void {
    const specs = Object.entries(peers).map(([name, version]) => `${name}@${version}`);
    execFileSync("npm", ["install", "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund", tarball, ...specs],
        { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Every package path npm installed that has the given name, nested copies included. */
export function installedCopies(nodeModules: string, name: string): string[] {
    const found: string[] = [];
    const walk = (dir: string) => {
        if (!fs.existsSync(dir)) return;
        for (const entry of fs.readdirSync(dir)) {
            if (entry.startsWith(".")) continue;
            const scoped = entry.startsWith("@") ? fs.readdirSync(path.join(dir, entry)).map((e) => `${entry}/${e}`) : [entry];
            for (const pkgName of scoped) {
                const pkgDir = path.join(dir, pkgName);
                if (pkgName === name) found.push(pkgDir);
                walk(path.join(pkgDir, "node_modules"));
            }
        }
    };
    walk(nodeModules);
    return found;
}

/** Bytes on disk under a directory (du -sb, apparent size). */
export function diskBytes(dir: string): number {
    return Number(execFileSync("du", ["-sb", dir], { encoding: "utf8" }).split("\t")[0]);
}
