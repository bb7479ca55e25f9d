// The package.json consumers get. The repository's own package.json describes the blueprint checkout (scripts,
// the exact pins `npm ci` installs, @pulumi/aws for platforms/aws); the published one keeps only what a
// program that imports the components needs, with paths relative to the staged directory.

export interface PackageJson {
    name: string;
    version: string;
    description?: string;
    license?: string;
    engines?: Record<string, string>;
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
    [field: string]: unknown;
}

/** Where `npm run pack` stages the library: npm always packs the README at a package's root, so the library
 * needs a root of its own to ship its guide (components/README.md) instead of the blueprint's README. */
export const STAGE_DIR = "dist/package";

export function libraryManifest(repo: PackageJson, pulumiSdk: Pick<PackageJson, "engines">): PackageJson {
    if (!pulumiSdk.engines?.node) throw new Error("@pulumi/pulumi declares no engines.node: cannot derive the library's");
    return {
        name: repo.name,
        version: repo.version,
        description: "Reusable Pulumi components for a hardened Kubernetes control plane: PKI, encryption at rest, audit policy, CIS-hardened control-plane settings, RBAC personas and a locked-down in-cluster baseline",
        license: repo.license,
        keywords: ["pulumi", "kubernetes", "security", "cis-benchmark", "component"],
        main: "components/index.js",
        types: "components/index.d.ts",
        exports: {
            ".": { types: "./components/index.d.ts", default: "./components/index.js" },
            "./package.json": "./package.json",
        },
        files: ["components", "policy"],
        // The peer SDK's floor is the library's: it cannot run where @pulumi/pulumi does not.
        engines: { node: pulumiSdk.engines.node },
        dependencies: { ...repo.dependencies },
        // The policy pack's SDK: only a consumer that runs the pack needs it.
        peerDependencies: { ...repo.peerDependencies, "@pulumi/policy": `^${repo.devDependencies?.["@pulumi/policy"]}` },
        peerDependenciesMeta: { "@pulumi/policy": { optional: true } },
    };
}
