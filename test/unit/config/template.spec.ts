// Pulumi.yaml's `template:` block, what `pulumi new <repository>` prompts for: every key must be one the
// program reads, and the answers it offers by default (or names in its description) must load as a stack.
import { strict as assert } from "node:assert";
import { planStack } from "../../../platforms";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { SCHEMA_KEYS } from "../../../config";
import { ConfigError } from "../../../components/common";
import { allConfigOf, ROOT } from "./stack-files";

interface TemplateValue {
    description?: string;
    default?: unknown;
    secret?: boolean;
}

const project = parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
const template = project.template as { displayName?: string; description?: string; config?: Record<string, TemplateValue> } | undefined;
const entries = () => Object.entries(template?.config ?? {});
/** A new stack as `pulumi new` writes it: the template's values as plain strings in the stack's config. */
const newStack = (values: Record<string, string>) => planStack(allConfigOf({ config: values }), "dev", { isRoot: false }).config;

describe("config: the pulumi new template (Pulumi.yaml template:)", function () {
    it("is a template Pulumi recognizes: a display name, a description and config to prompt for", function () {
        assert.ok(template, "Pulumi.yaml has no template: block, so `pulumi new` treats the repository as a plain project");
        assert.equal(typeof template.displayName, "string");
        assert.equal(typeof template.description, "string");
        assert.ok(entries().length >= 2, `only ${entries().length} keys to prompt for`);
    });

    it("prompts only for keys the program reads, in the namespace it reads them from", function () {
        const keys = entries().map(([k]) => k);
        assert.ok(keys.length >= 2);
        for (const key of keys) {
            // The namespace is the program's (config/types.ts), not the new project's name, so it must be explicit.
            assert.match(key, /^hardened-cluster:/, `${key}: an unqualified key would land in the new project's namespace`);
            const name = key.slice("hardened-cluster:".length);
            assert.ok((SCHEMA_KEYS as string[]).includes(name), `${key} is not a key of config/schema.ts`);
        }
    });

    it("offers defaults that load as a new local stack, as Pulumi would write them (strings)", function () {
        const values: Record<string, string> = {};
        for (const [key, value] of entries()) {
            assert.equal(typeof value.description, "string", key);
            assert.equal(typeof value.default, "string", `${key}: pulumi new writes the default as a string`);
            assert.notEqual(value.secret, true, `${key}: nothing prompted here is a credential`);
            values[key] = value.default as string;
        }
        const config = newStack(values);
        assert.equal(config.platform, "local");
        assert.deepEqual(config.baseline?.tenants ?? [], []);
    });

    it("names an example tenant answer in the baseline prompt that loads as that tenant", function () {
        const description = template?.config?.["hardened-cluster:baseline"]?.description ?? "";
        const example = description.match(/(\{"tenants".*?\}\]\})/)?.[1];
        assert.ok(example, `no JSON example in: ${description}`);
        const config = newStack({ "hardened-cluster:platform": "local", "hardened-cluster:baseline": example });
        assert.deepEqual(config.baseline?.tenants?.map((t) => t.name), ["team-a"]);
    });

    it("refuses a bad answer at the prompt by the key the template asked for", function () {
        assert.throws(() => newStack({ "hardened-cluster:platform": "gcp" }),
            (e: unknown) => e instanceof ConfigError && e.key === "hardened-cluster:platform");
        assert.throws(() => newStack({ "hardened-cluster:baseline": "tenants: [team-a]" }),
            (e: unknown) => e instanceof ConfigError && e.key === "hardened-cluster:baseline");
    });
});
