// `npm run pack`: a clean build of components/, staged with the library guide, LICENSE and a consumer
// package.json in dist/package, then packed there into dist/hardened-cluster-<version>.tgz. A script and not a
// prepack hook: .npmrc sets ignore-scripts (the Pulumi packages' install scripts would download plugins), and
// with it npm runs no prepack or prepare on `npm pack` either.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { libraryManifest, PackageJson, STAGE_DIR } from "./manifest";

const ROOT = path.resolve(__dirname, "../..");
const BUILD_DIR = path.join(ROOT, "dist/components"); // tsconfig.build.json: rootDir ".", outDir "dist"
const POLICY_BUILD_DIR = path.join(ROOT, "dist/policy");
const SHIPPED = /(\.js|\.js\.map|\.d\.ts)$/;

const readJson = (file: string): PackageJson => JSON.parse(fs.readFileSync(file, "utf8"));

/** Builds from scratch, so no output of a deleted source can ride along, and returns the staged directory. */
export function stageLibrary(): string {
    const stage = path.join(ROOT, STAGE_DIR);
    for (const dir of [BUILD_DIR, POLICY_BUILD_DIR, stage]) fs.rmSync(dir, { recursive: true, force: true });
    execFileSync(path.join(ROOT, "node_modules/.bin/tsc"), ["-p", "tsconfig.build.json"], { cwd: ROOT, stdio: "inherit" });
    execFileSync(path.join(ROOT, "node_modules/.bin/tsc"), ["-p", "policy/tsconfig.json", "--outDir", POLICY_BUILD_DIR], { cwd: ROOT, stdio: "inherit" });

    fs.cpSync(BUILD_DIR, path.join(stage, "components"), {
        recursive: true,
        filter: (src) => fs.statSync(src).isDirectory() || SHIPPED.test(src),
    });
    // The guide refers to the blocks' own READMEs by their repository paths, which the staged tree keeps.
    for (const block of fs.readdirSync(path.join(ROOT, "components"))) {
        const readme = path.join(ROOT, "components", block, "README.md");
        if (fs.existsSync(readme)) fs.copyFileSync(readme, path.join(stage, "components", block, "README.md"));
    }
    stagePolicyPack(path.join(stage, "policy"));
    fs.copyFileSync(path.join(ROOT, "components/README.md"), path.join(stage, "README.md"));
    fs.copyFileSync(path.join(ROOT, "LICENSE"), path.join(stage, "LICENSE"));

    const manifest = libraryManifest(readJson(path.join(ROOT, "package.json")), readJson(path.join(ROOT, "node_modules/@pulumi/pulumi/package.json")));
    fs.writeFileSync(path.join(stage, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    return stage;
}

/**
 * The policy pack, compiled: a consumer runs `pulumi preview --policy-pack node_modules/hardened-cluster/policy`
 * with no TypeScript toolchain. Its imports (@pulumi/policy, an optional peer of the library; yaml and
 * ipaddr.js, the library's own dependencies) resolve from the consumer's node_modules.
 */
function stagePolicyPack(dir: string): void {
    fs.cpSync(POLICY_BUILD_DIR, dir, { recursive: true, filter: (src) => fs.statSync(src).isDirectory() || /\.js$/.test(src) });
    fs.copyFileSync(path.join(ROOT, "policy/README.md"), path.join(dir, "README.md"));
    const description = /^description: .*$/m.exec(fs.readFileSync(path.join(ROOT, "policy/PulumiPolicy.yaml"), "utf8"))?.[0];
    if (!description) throw new Error("policy/PulumiPolicy.yaml has no description line");
    fs.writeFileSync(path.join(dir, "PulumiPolicy.yaml"), `runtime: nodejs\n${description}\n`);
    const own = readJson(path.join(ROOT, "policy/package.json"));
    fs.writeFileSync(path.join(dir, "package.json"), `${JSON.stringify({ name: own.name, version: own.version, private: true, license: own.license, main: "index.js" }, null, 2)}\n`);
}

/** Packs the staged directory; returns the tarball's path. */
export function packLibrary(destination = path.join(ROOT, "dist")): string {
    const stage = stageLibrary();
    const out = execFileSync("npm", ["pack", stage, "--pack-destination", destination, "--json"], { cwd: ROOT, encoding: "utf8" });
    const [{ filename }] = JSON.parse(out) as { filename: string }[];
    return path.join(destination, filename);
}

if (require.main === module) console.log(packLibrary(process.argv[2] ? path.resolve(process.argv[2]) : undefined));
