// Pulumi.yaml's config block and the README's configuration reference are generated from the schema; these
// specs fail when either is stale, and check the generator leaves everything else alone.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse, parseDocument } from "yaml";
import { DOCS_COMMAND, README_END, README_START, SCHEMA_KEYS, updatePulumiYaml, updateReadme } from "../../../config";
import { ROOT } from "./stack-files";

const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");
const stale = (what: string) => `${what} is out of date with config/; run \`${DOCS_COMMAND}\` (TS_NODE_TRANSPILE_ONLY=true npx ts-node scripts/gen-config-docs.ts)`;

const PROJECT = `name: demo
description: A demo.
runtime:
  name: nodejs
  options:
    typescript: true
# Kept: a comment on main.
main: index.ts
stackConfigDir: stacks
config:
  platform:
    type: string
    description: Broken: an unquoted colon makes this block invalid YAML
`;

describe("config: generated docs", function () {
    it("Pulumi.yaml's config block is up to date", function () {
        const text = read("Pulumi.yaml");
        assert.equal(updatePulumiYaml(text), text, stale("Pulumi.yaml's config: block"));
    });

    it("README.md's configuration reference is up to date", function () {
        const text = read("README.md");
        assert.ok(text.includes(README_START) && text.includes(README_END), stale("README.md (no configuration reference markers)"));
        assert.equal(updateReadme(text), text, stale("README.md's configuration reference"));
    });

    it("declares every key as Pulumi requires: a type, a description, and a default so no key becomes required", function () {
        const config = parse(read("Pulumi.yaml")).config as Record<string, Record<string, unknown>>;
        assert.deepEqual(Object.keys(config), SCHEMA_KEYS);
        for (const [name, decl] of Object.entries(config)) {
            assert.ok(["string", "integer", "boolean", "array", "object"].includes(decl.type as string), name);
            assert.equal(typeof decl.description, "string", name);
            assert.notEqual(decl.default, undefined, `${name}: without a default Pulumi makes the key required`);
            if (decl.type === "object") assert.deepEqual(decl.default, {}, name);
        }
    });

    it("rewrites only the config block, keeping the other fields and comments, and repairs a malformed block", function () {
        const out = updatePulumiYaml(PROJECT);
        const doc = parseDocument(out);
        assert.deepEqual(doc.errors, []);
        const { config, ...rest } = doc.toJSON();
        assert.deepEqual(rest, { name: "demo", description: "A demo.", runtime: { name: "nodejs", options: { typescript: true } }, main: "index.ts", stackConfigDir: "stacks" });
        assert.deepEqual(Object.keys(config), SCHEMA_KEYS);
        assert.ok(out.startsWith(PROJECT.slice(0, PROJECT.indexOf("config:"))), "text before config: changed");
        assert.equal(updatePulumiYaml(out), out, "not idempotent");
    });

    it("refuses to rewrite a project file that is malformed outside its config block", function () {
        assert.throws(() => updatePulumiYaml(PROJECT.replace("description: A demo.", "description: A: demo")));
    });

    it("appends the reference with its markers when README.md has none, and otherwise edits only between them", function () {
        const appended = updateReadme("# Title\n\nText.\n");
        assert.ok(appended.startsWith("# Title\n\nText.\n\n" + README_START));
        assert.ok(appended.endsWith(README_END + "\n"));
        const edited = updateReadme(`before\n${README_START}\nold\n${README_END}\nafter\n`);
        assert.ok(edited.startsWith(`before\n${README_START}\n## Configuration reference`));
        assert.ok(edited.endsWith(`${README_END}\nafter\n`));
        assert.ok(!edited.includes("\nold\n"));
    });

    it("documents every key and every field in the README section", function () {
        const text = read("README.md");
        const section = text.slice(text.indexOf(README_START), text.indexOf(README_END));
        for (const name of SCHEMA_KEYS) assert.ok(section.includes(`### \`hardened-cluster:${name}\``), name);
        assert.ok(section.includes("| `tenants` |"));
        assert.ok(section.includes("| `allowSingleEtcdMember` |"));
    });
});
