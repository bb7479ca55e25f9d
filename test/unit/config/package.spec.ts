// The npm package's declarations: which packages a consumer gets and at which ranges, what the repository pins
// for itself, and the manifest `npm run pack` publishes. test/e2e/package.spec.ts packs and installs it for real.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as semver from "semver";
import { libraryManifest, PackageJson, STAGE_DIR } from "../../../scripts/package/manifest";
import { ROOT } from "./stack-files";

const readJson = (file: string): PackageJson => JSON.parse(fs.readFileSync(path.join(ROOT, file), "utf8"));
const pkg = readJson("package.json");
const installed = (name: string) => readJson(`node_modules/${name}/package.json`);
const PEERS = ["@pulumi/pulumi", "@pulumi/kubernetes"];

/** Every TypeScript file under a directory of the repository. */
function sources(dir: string): string[] {
    return (fs.readdirSync(path.join(ROOT, dir), { recursive: true }) as string[])
        .filter((f) => f.endsWith(".ts"))
        .map((f) => path.join(dir, f));
}

/** The package names a source file imports (bare specifiers only; node: built-ins and relative paths left out). */
function bareImports(file: string): string[] {
    const text = fs.readFileSync(path.join(ROOT, file), "utf8");
    const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"|require\("([^"]+)"\)|import\("([^"]+)"\)/g)]
        .map((m) => m[1] ?? m[2] ?? m[3]);
    return specs
        .filter((s) => !s.startsWith(".") && !s.startsWith("node:"))
        .map((s) => (s.startsWith("@") ? s.split("/").slice(0, 2).join("/") : s.split("/")[0]));
}

describe("package: what a consumer installs", function () {
    it("takes @pulumi/pulumi and @pulumi/kubernetes as peers with ranges, so a newer Pulumi is shared, not nested", function () {
        for (const name of PEERS) {
            const range = pkg.peerDependencies?.[name];
            assert.ok(range, `${name} is not a peer dependency`);
            assert.equal(pkg.dependencies?.[name], undefined, `${name} is also a runtime dependency`);
            const pin = pkg.devDependencies?.[name];
            assert.ok(pin && semver.valid(pin), `${name}: the repository pins no exact version (${pin})`);
            assert.equal(installed(name).version, pin, `${name}: node_modules holds another version than the pin`);
            assert.ok(semver.satisfies(pin, range), `${name}: the pin ${pin} is outside the peer range ${range}`);
            // A consumer one minor ahead (a newer Pulumi) must satisfy the peer; the next major must not.
            assert.ok(semver.satisfies(semver.inc(pin, "minor")!, range), `${name}: ${range} refuses the next minor of ${pin}`);
            assert.ok(!semver.satisfies(semver.inc(pin, "major")!, range), `${name}: ${range} admits the next major`);
        }
    });

    it("does not make consumers install @pulumi/aws: only platforms/aws imports it, as a devDependency", function () {
        assert.equal(pkg.dependencies?.["@pulumi/aws"], undefined);
        assert.equal(pkg.peerDependencies?.["@pulumi/aws"], undefined);
        assert.ok(pkg.devDependencies?.["@pulumi/aws"], "the blueprint's AWS platform needs it installed in the repository");
        const components = sources("components");
        assert.ok(components.length >= 40, `only ${components.length} component sources found`);
        assert.deepEqual(components.filter((f) => bareImports(f).includes("@pulumi/aws")), []);
        assert.ok(sources("platforms/aws").some((f) => bareImports(f).includes("@pulumi/aws")), "platforms/aws no longer imports @pulumi/aws");
    });

    it("declares every package components/ imports as a dependency or a peer, never only as a devDependency", function () {
        const used = new Set(sources("components").flatMap(bareImports).filter((s) => s !== "hardened-cluster"));
        assert.ok(used.size >= 4, `only ${[...used].join(", ")}`);
        for (const name of used) {
            assert.ok(pkg.dependencies?.[name] ?? pkg.peerDependencies?.[name], `components/ imports ${name}, which a consumer would not get`);
        }
        // And nothing a consumer installs goes unused by the library.
        for (const name of [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})]) {
            assert.ok(used.has(name), `${name} is installed for consumers but no component imports it`);
        }
    });

    it("pins the provider SDKs the components create resources with to the versions the toolchain's plugins match", function () {
        // Each provider SDK version asks the engine for its own plugin version; a range would hand consumers
        // plugins this project never ran. The toolchain builds exactly these (scripts/lib/versions.sh).
        const versions = fs.readFileSync(path.join(ROOT, "scripts/lib/versions.sh"), "utf8");
        const plugins = { "@pulumi/tls": "PULUMI_TLS_VERSION", "@pulumi/random": "PULUMI_RANDOM_VERSION" };
        for (const [name, variable] of Object.entries(plugins)) {
            const v = pkg.dependencies?.[name];
            assert.ok(v && semver.valid(v), `${name}: ${v} is not an exact version`);
            assert.equal(installed(name).version, v, name);
            assert.match(versions, new RegExp(`^${variable}=${v.replace(/\./g, "\\.")}$`, "m"), `scripts/lib/versions.sh does not build the ${name} ${v} plugin`);
        }
    });

    it("keeps the lockfile's root entry in step with package.json (npm ci refuses a stale one)", function () {
        const lock = readJson("package-lock.json") as PackageJson & { packages: Record<string, PackageJson> };
        const root = lock.packages[""];
        for (const field of ["dependencies", "peerDependencies", "devDependencies"] as const) {
            assert.deepEqual(root[field] ?? {}, pkg[field] ?? {}, field);
        }
        for (const name of PEERS) assert.equal(lock.packages[`node_modules/${name}`].version, pkg.devDependencies?.[name], name);
    });

    it("builds by a script, because npm runs no prepack on `npm pack` under the repository's .npmrc", function () {
        this.timeout(60_000);
        // A package with a prepack hook, packed with this repository's npm settings, and again with scripts on.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-prepack-"));
        try {
            fs.copyFileSync(path.join(ROOT, ".npmrc"), path.join(dir, ".npmrc"));
            fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({
                name: "prepack-probe", version: "1.0.0", scripts: { prepack: "node -e \"require('fs').writeFileSync('built', '')\"" },
            }));
            const pack = (...args: string[]) => execFileSync("npm", ["pack", "--dry-run", ...args], { cwd: dir, stdio: "pipe" });
            pack();
            assert.equal(fs.existsSync(path.join(dir, "built")), false, "npm ran prepack despite ignore-scripts");
            pack("--ignore-scripts=false");
            assert.equal(fs.existsSync(path.join(dir, "built")), true, "the probe's prepack does not run even with scripts on");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("guards the blueprint checkout against being published in place of the staged library", function () {
        // npm always packs a package root's README: published from here, the package would carry the blueprint's.
        assert.equal(pkg.private, true);
        assert.match(String(pkg.scripts && (pkg.scripts as Record<string, string>).pack), /scripts\/package\/pack\.ts/);
    });
});

describe("package: the published manifest", function () {
    const pulumiSdk = installed("@pulumi/pulumi");
    const manifest = libraryManifest(pkg, pulumiSdk);

    it("keeps only what a consumer needs: no scripts, no devDependencies, not private", function () {
        for (const field of ["scripts", "devDependencies", "private"]) assert.equal(manifest[field], undefined, field);
        // The repository's peers, plus the policy pack's SDK as an optional peer at the pinned version's range.
        assert.deepEqual(manifest.peerDependencies, { ...pkg.peerDependencies, "@pulumi/policy": `^${pkg.devDependencies?.["@pulumi/policy"]}` });
        assert.deepEqual(manifest.peerDependenciesMeta, { "@pulumi/policy": { optional: true } });
        assert.match(String(pkg.devDependencies?.["@pulumi/policy"]), /^\d+\.\d+\.\d+$/);
        assert.deepEqual(manifest.dependencies, pkg.dependencies);
        assert.equal(manifest.license, "Apache-2.0");
        assert.equal(manifest.name, "hardened-cluster");
        assert.equal(STAGE_DIR, "dist/package");
    });

    it("declares the Node.js floor its dependencies declare (@pulumi/pulumi: engines.node)", function () {
        const floor = manifest.engines?.node;
        assert.equal(floor, pulumiSdk.engines?.node);
        const declared = ["@pulumi/pulumi", "@pulumi/kubernetes", "@pulumi/tls", "@pulumi/random", "yaml"]
            .map((name) => [name, installed(name).engines?.node] as const)
            .filter(([, range]) => range !== undefined);
        assert.ok(declared.length >= 1);
        for (const [name, range] of declared) assert.ok(semver.subset(floor!, range!), `engines.node ${floor} admits Node versions ${name} (${range}) refuses`);
    });

    it("points main, types and exports at the staged tree, not at the repository's dist/", function () {
        assert.equal(manifest.main, "components/index.js");
        assert.equal(manifest.types, "components/index.d.ts");
        assert.deepEqual(manifest.exports, {
            ".": { types: "./components/index.d.ts", default: "./components/index.js" },
            "./package.json": "./package.json",
        });
        assert.deepEqual(manifest.files, ["components", "policy"]);
    });

    it("refuses to derive an engines floor when the SDK declares none", function () {
        assert.throws(() => libraryManifest(pkg, {}), /declares no engines\.node/);
    });
});

describe("package: LICENSE", function () {
    it("is the full Apache License 2.0 text, matching the license package.json declares", function () {
        assert.equal(pkg.license, "Apache-2.0");
        const text = fs.readFileSync(path.join(ROOT, "LICENSE"), "utf8");
        // SHA-256 of https://www.apache.org/licenses/LICENSE-2.0.txt, the text as the ASF publishes it.
        assert.equal(createHash("sha256").update(text).digest("hex"), "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30");
        const sections = ["Definitions", "Grant of Copyright License", "Grant of Patent License", "Redistribution",
            "Submission of Contributions", "Trademarks", "Disclaimer of Warranty", "Limitation of Liability",
            "Accepting Warranty or Additional Liability"];
        sections.forEach((title, i) => assert.match(text, new RegExp(`\\n\\s*${i + 1}\\. ${title}\\.`), title));
        assert.match(text, /END OF TERMS AND CONDITIONS/);
    });
});
