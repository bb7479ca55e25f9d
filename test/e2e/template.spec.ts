// `pulumi new <repository>`: the pinned CLI takes the checkout as a template, offline (no network is needed or
// used: the sandbox's private network namespace has only loopback), and the generated project is the blueprint
// under the new name, with the template block consumed.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { SCHEMA_KEYS } from "../../config";
import { engineEnv, toolchain } from "./harness";
import { cleanCopy } from "./package-consumer";

describe("template: pulumi new from a checkout of the repository", function () {
    this.timeout(5 * 60_000);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "hc-e2e-template-"));
    after(() => fs.rmSync(root, { recursive: true, force: true }));

    it("generates the project offline with --yes --generate-only, under the new name", function () {
        const tc = toolchain();
        const template = path.join(root, "template");
        const target = path.join(root, "my-cluster");
        // A clone's files only: `pulumi new` copies the whole template directory, node_modules included.
        const copied = cleanCopy(template);
        assert.ok(copied.includes("Pulumi.yaml") && !copied.some((f) => f.startsWith("node_modules/")));
        assert.ok(parse(fs.readFileSync(path.join(template, "Pulumi.yaml"), "utf8")).template, "the checkout has no template: block");
        for (const d of ["home", "backend"]) fs.mkdirSync(path.join(root, d));
        const env = engineEnv(tc, { PULUMI_HOME: path.join(root, "home"), PULUMI_BACKEND_URL: `file://${path.join(root, "backend")}` });
        const out = execFileSync(path.join(tc.bin, "pulumi"), ["new", template, "--yes", "--generate-only", "--dir", target, "--name", "my-cluster"], {
            cwd: root, env: { ...process.env, ...env }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"],
        });
        assert.match(out, /Created project 'my-cluster'/);

        const generated = parse(fs.readFileSync(path.join(target, "Pulumi.yaml"), "utf8"));
        assert.equal(generated.name, "my-cluster");
        assert.equal(generated.main, "index.ts");
        assert.equal(generated.stackConfigDir, "stacks");
        assert.equal(generated.template, undefined, "the template block is meant for pulumi new, not the generated project");
        for (const key of SCHEMA_KEYS) assert.ok(generated.config[key], `the generated project lost the declaration of ${key}`);
        for (const f of ["index.ts", "components/index.ts", "config/schema.ts", "platforms/local/cluster.ts", "package-lock.json"]) {
            assert.ok(fs.existsSync(path.join(target, f)), `${f} not generated`);
        }
        assert.ok(!fs.existsSync(path.join(target, "node_modules")), "--generate-only installed dependencies");
    });
});
