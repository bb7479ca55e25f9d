// The schema: one entry per key the program reads, each documented, each example valid, each field list
// equal to what its component accepts (so the docs cannot list a field the component refuses, or miss one).
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { resolveControlPlane } from "../../../components/control-plane";
import { ConfigError, kubeadmLayout } from "../../../components/common";
import { resolvePkiOptions } from "../../../components/pki/options";
import { DEFAULT_PSA_VERSION } from "../../../components/secure-namespace/pod-security";
import { BLUEPRINT_SCHEMA, ConfigEntry, loadBlueprintConfig, PINNED_KUBERNETES_VERSION, SCHEMA_KEYS } from "../../../config";
import { PLATFORM_PKI_FIELDS } from "../../../components/cluster";
import { planStack } from "../../../platforms";
import { ROOT } from "./stack-files";

const entries = Object.entries(BLUEPRINT_SCHEMA) as [string, ConfigEntry][];
const ctx = (name: string) => ({ key: `hardened-cluster:${name}`, stack: "test", isRoot: false });

/** The "known keys: a, b" list of the ConfigError `fn` throws for an unknown field. */
function knownKeysOf(fn: () => unknown): string[] {
    try {
        fn();
    } catch (e) {
        assert.ok(e instanceof ConfigError, String(e));
        const m = /known keys: (.*)$/.exec(e.allowed);
        assert.ok(m, `not a known-keys error: ${e.message}`);
        return m[1].split(", ").sort();
    }
    throw new Error("expected an unknown field to be refused");
}

describe("config: schema", function () {
    it("has exactly the keys the program reads", function () {
        assert.deepEqual([...SCHEMA_KEYS].sort(), ["audit", "aws", "backup", "baseline", "controlPlane", "encryption", "kubernetesVersion", "local", "pki", "platform"]);
    });

    it("covers every key index.ts reads through pulumi.Config", function () {
        const source = fs.readFileSync(path.join(ROOT, "index.ts"), "utf8");
        const read = [...source.matchAll(/config\.(?:get|require)\w*(?:<[^>]*>)?\("([^"]+)"/g)].map((m) => m[1]);
        for (const name of read) assert.ok((SCHEMA_KEYS as string[]).includes(name), `index.ts reads ${name}, which the schema does not declare`);
    });

    it("documents every key: description, described default, and a scalar default Pulumi.yaml can declare", function () {
        for (const [name, e] of entries) {
            assert.match(e.description, /^[A-Z].{20,}\.$/, `${name}: description`);
            assert.ok(e.description.split(/\.\s/).length <= 2, `${name}: description is more than two sentences`);
            assert.ok(e.default.length > 0, `${name}: default`);
            if (e.type !== "object" && e.type !== "array") assert.notEqual(e.defaultValue, undefined, `${name}: scalar without defaultValue`);
            if (e.type === "object") assert.ok(e.fields && Object.keys(e.fields).length > 0, `${name}: object without fields`);
        }
    });

    it("has an example for every key that its own validator accepts", function () {
        for (const [name, e] of entries) assert.deepEqual(e.validate(e.example, ctx(name)), e.example, name);
    });

    it("has examples that also load together on the platform each key belongs to", function () {
        const all = (platform: string) => Object.fromEntries(entries
            .filter(([, e]) => !e.platforms || e.platforms.includes(platform as "local"))
            .map(([name, e]) => {
                const example = e.exampleFor?.[platform as "local"] ?? e.example;
                return [`hardened-cluster:${name}`, typeof example === "string" ? example : JSON.stringify(example)];
            }));
        assert.equal(loadBlueprintConfig({ ...all("local"), "hardened-cluster:platform": "local" }, "test", { isRoot: false }).platform, "local");
        assert.equal(loadBlueprintConfig({ ...all("aws"), "hardened-cluster:platform": "aws" }, "test", { isRoot: false }).platform, "aws");
    });

    it("lists exactly the fields each object key's validator accepts", function () {
        for (const [name, e] of entries.filter(([, e]) => e.type === "object")) {
            // The whole stack's resolution, as the program runs it: some keys resolve only with the platform's facts.
            const platform = e.platforms?.[0] ?? "local";
            const accepted = knownKeysOf(() => planStack({ "hardened-cluster:platform": platform, [`hardened-cluster:${name}`]: JSON.stringify({ zzzUnknown: 1 }) }, "test", { isRoot: false }));
            assert.deepEqual(accepted, Object.keys(e.fields!).sort(), name);
        }
    });

    it("leaves out of pki only the fields the platform fills in", function () {
        const component = knownKeysOf(() => resolvePkiOptions({ zzzUnknown: 1 } as never, "pki"));
        assert.deepEqual(component, [...Object.keys(BLUEPRINT_SCHEMA.pki.fields!), ...Object.keys(PLATFORM_PKI_FIELDS)].sort());
    });

    it("leaves out of controlPlane only audit, which has its own key", function () {
        const component = knownKeysOf(() => resolveControlPlane({ zzzUnknown: 1 } as never, kubeadmLayout(), "controlPlane"));
        assert.deepEqual(component, [...Object.keys(BLUEPRINT_SCHEMA.controlPlane.fields!), "audit"].sort());
    });

    it("pins the Kubernetes version the toolchain builds, and the PSA version is its minor", function () {
        const versions = fs.readFileSync(path.join(ROOT, "scripts/lib/versions.sh"), "utf8");
        const built = /^KUBERNETES_VERSION=(\S+)$/m.exec(versions)?.[1];
        assert.equal(PINNED_KUBERNETES_VERSION, `v${built}`);
        assert.equal(DEFAULT_PSA_VERSION, PINNED_KUBERNETES_VERSION.split(".").slice(0, 2).join("."));
    });
});
