// The npm library entry: components/index.ts compiles to the path package.json points at, exports each block
// as a namespace plus the main classes and functions, and has every name components/README.md imports.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "./stack-files";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const lib = require("../../../components");

const NAMESPACES = ["common", "pki", "encryption", "audit", "controlPlane", "rbac", "secureNamespace", "clusterBaseline", "cluster"];
const CLASSES = ["ClusterPki", "AdminBootstrap", "EncryptionAtRest", "RbacPersonas", "SecureNamespace", "ClusterBaseline", "ConfigError"];
const FUNCTIONS = [
    "renderControlPlane", "resolveControlPlane", "controlPlaneFileList", "renderAuditPolicy", "resolveAuditOptions", "auditApiServerFlags",
    "auditLogFiles", "renderEncryptionConfig", "resolveEncryption", "encryptionApiServerFlags", "resolvePkiOptions", "pkiFileSet",
    "renderKubeconfig", "planRbac", "planSecureNamespace", "renderSecureNamespace", "planClusterBaseline", "renderClusterBaseline",
    "kubeadmLayout", "stateDirLayout", "toYaml", "resolveCluster", "planCluster", "contentOf", "clusterPosture",
];

describe("config: component library entry", function () {
    it("is what package.json and tsconfig.build.json publish", function () {
        const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
        const build = JSON.parse(fs.readFileSync(path.join(ROOT, "tsconfig.build.json"), "utf8"));
        // rootDir "." keeps the source tree under outDir, so components/index.ts becomes dist/components/index.js.
        assert.equal(build.compilerOptions.rootDir, ".");
        assert.ok(build.include.includes("components/**/*.ts"));
        assert.equal(pkg.exports["."].default, "./dist/components/index.js");
        assert.equal(pkg.exports["."].types, "./dist/components/index.d.ts");
        assert.ok(fs.existsSync(path.join(ROOT, "components/index.ts")));
    });

    it("exports each block as a namespace", function () {
        for (const ns of NAMESPACES) assert.equal(typeof lib[ns], "object", ns);
        assert.equal(lib.pki.ClusterPki, lib.ClusterPki);
        assert.equal(lib.controlPlane.renderControlPlane, lib.renderControlPlane);
        assert.equal(lib.clusterBaseline.ClusterBaseline, lib.ClusterBaseline);
        assert.equal(lib.common.ConfigError, lib.ConfigError);
    });

    it("exports the main classes and functions at the top level", function () {
        for (const name of CLASSES) {
            assert.equal(typeof lib[name], "function", name);
            assert.match(Function.prototype.toString.call(lib[name]), /^class\b/, `${name} is not a class`);
        }
        for (const name of FUNCTIONS) assert.equal(typeof lib[name], "function", name);
    });

    it("works through the entry: a renderer returns its object and validation throws ConfigError", function () {
        assert.equal(lib.renderAuditPolicy({ preset: "strict" }).kind, "Policy");
        assert.throws(() => lib.resolveAuditOptions({ preset: "loud" }, "x:audit"), (e: unknown) => e instanceof lib.ConfigError && (e as { key: string }).key === "x:audit.preset");
    });

    it("has every name components/README.md imports from hardened-cluster", function () {
        const readme = fs.readFileSync(path.join(ROOT, "components/README.md"), "utf8");
        const names = [...readme.matchAll(/import \{([^}]+)\} from "hardened-cluster"/g)].flatMap((m) => m[1].split(",").map((s) => s.trim()));
        assert.ok(names.length >= 10);
        for (const name of names) assert.notEqual(lib[name], undefined, `components/README.md imports ${name}`);
    });
});
