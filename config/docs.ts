// Pulumi.yaml's `config:` block and the README's configuration reference, generated from the schema so that
// neither can drift from what the loader accepts. Pure: text in, text out; scripts/gen-config-docs.ts writes.
import { Document, isMap, isNode, isScalar, parseDocument, Scalar, YAMLMap } from "yaml";
import { toYaml } from "../components/common";
import { BLUEPRINT_SCHEMA } from "./schema";
import { ConfigEntry, NAMESPACE } from "./types";

export const DOCS_COMMAND = "npm run docs";
export const README_START = "<!-- config-reference:start -->";
export const README_END = "<!-- config-reference:end -->";

type Schema = Readonly<Record<string, ConfigEntry>>;

/**
 * The project config declarations. Pulumi treats a declared key without a default as required, so object and
 * array keys declare an empty default ({} / []), which the loader reads as "not set".
 */
export function projectConfig(schema: Schema = BLUEPRINT_SCHEMA): Record<string, Record<string, unknown>> {
    return Object.fromEntries(Object.entries(schema).map(([name, e]) => {
        const decl: Record<string, unknown> = { type: e.type };
        if (e.type === "array") decl.items = { type: e.items ?? "string" };
        if (e.type === "object") decl.default = {};
        else if (e.type === "array") decl.default = [];
        else if (e.defaultValue !== undefined) decl.default = e.defaultValue;
        else throw new Error(`config schema: ${name} is a scalar without defaultValue, which Pulumi would make required`);
        decl.description = e.description;
        return [name, decl];
    }));
}

/** Pulumi.yaml with its `config:` block regenerated and every other field, comment and order kept. */
export function updatePulumiYaml(text: string, schema: Schema = BLUEPRINT_SCHEMA): string {
    const { doc, index } = parseWithoutConfig(text);
    const keyNode = new Scalar("config");
    keyNode.commentBefore = ` Generated from config/ by \`${DOCS_COMMAND}\`; edit the schema, not this block.`;
    doc.contents.items.splice(index, 0, doc.createPair(keyNode, projectConfig(schema)));
    return doc.toString({ lineWidth: 0 });
}

/**
 * The project file without its `config:` pair, and where that pair was. A malformed config block (a hand-edited
 * description with an unquoted ": ", say) is tolerated, since it is about to be replaced; an error anywhere
 * else is not, because the rest of the file must come out exactly as it went in.
 */
function parseWithoutConfig(text: string): { doc: Document.Parsed & { contents: YAMLMap }; index: number } {
    let doc = parseDocument(text);
    if (!isMap(doc.contents)) throw new Error("Pulumi.yaml: expected a mapping at the top level");
    const index = doc.contents.items.findIndex((p) => isScalar(p.key) && p.key.value === "config");
    if (index < 0) {
        if (doc.errors.length > 0) throw doc.errors[0];
        return { doc: doc as Document.Parsed & { contents: YAMLMap }, index: doc.contents.items.length };
    }
    if (doc.errors.length > 0) {
        const pair = doc.contents.items[index];
        // From the comment lines right above the key to the end of its value.
        const keyStart = isScalar(pair.key) ? pair.key.range![0] : 0;
        const from = text.slice(0, keyStart).replace(/(^|\n)(#[^\n]*\n)*$/, "$1").length;
        const to = isNode(pair.value) ? pair.value.range![2] : keyStart;
        if (doc.errors.some((e) => e.pos[0] < from || e.pos[1] > to)) throw doc.errors[0];
        doc = parseDocument(text.slice(0, from) + text.slice(to));
        if (doc.errors.length > 0) throw doc.errors[0];
        if (!isMap(doc.contents)) throw new Error("Pulumi.yaml: expected a mapping at the top level");
    } else {
        doc.contents.items.splice(index, 1);
    }
    return { doc: doc as Document.Parsed & { contents: YAMLMap }, index };
}

/** README.md with the section between the markers regenerated, or appended at the end when it has none. */
export function updateReadme(text: string, schema: Schema = BLUEPRINT_SCHEMA): string {
    const section = `${README_START}\n${renderReference(schema)}${README_END}`;
    const start = text.indexOf(README_START);
    const end = text.indexOf(README_END);
    if (start < 0 && end < 0) return `${text.replace(/\n*$/, "")}\n\n${section}\n`;
    if (start < 0 || end < start) throw new Error(`README.md: ${README_START} and ${README_END} must both be present, in that order`);
    return text.slice(0, start) + section + text.slice(end + README_END.length);
}

const cell = (s: string) => s.replace(/\|/g, "\\|");

export function renderReference(schema: Schema = BLUEPRINT_SCHEMA): string {
    const platformsOf = (e: ConfigEntry) => e.platforms?.join(", ") ?? "all";
    const lines = [
        "## Configuration reference",
        "",
        `Generated from \`config/\` by \`${DOCS_COMMAND}\`; a unit test fails when this section or the \`config:\` block of`,
        "`Pulumi.yaml` is out of date. Every key is in the `hardened-cluster` namespace: in `stacks/Pulumi.<stack>.yaml`",
        "write `hardened-cluster:<key>:` under `config:`, objects as YAML mappings; from the command line use e.g.",
        "`npm run pulumi -- config set --path 'baseline.tenants[0].name' team-a -s <stack>`.",
        "",
        "The program checks every key before it creates anything (`loadBlueprintConfig` in `config/load.ts`): an unknown",
        "key, a key of the other platform or a bad value stops it with the full key, e.g.",
        "`hardened-cluster:baseline.tenants[1].podSecurity.exception`, the value and what is allowed.",
        "",
        "| key | type | platforms | default |",
        "|---|---|---|---|",
        ...Object.entries(schema).map(([name, e]) => `| \`${name}\` | ${e.type} | ${platformsOf(e)} | ${cell(e.default)} |`),
        "",
    ];
    for (const [name, e] of Object.entries(schema)) {
        lines.push(`### \`${NAMESPACE}:${name}\``, "", e.description, "", `Type ${e.type}; platforms: ${platformsOf(e)}. Default: ${e.default}.`, "");
        if (e.fields) {
            lines.push("| field | meaning |", "|---|---|", ...Object.entries(e.fields).map(([f, m]) => `| \`${f}\` | ${cell(m)} |`), "");
        }
        lines.push("```yaml", toYaml({ config: { [`${NAMESPACE}:${name}`]: e.example } }).trimEnd(), "```", "");
        for (const [platform, example] of Object.entries(e.exampleFor ?? {})) {
            lines.push(`On the ${platform} platform:`, "", "```yaml", toYaml({ config: { [`${NAMESPACE}:${name}`]: example } }).trimEnd(), "```", "");
        }
    }
    return lines.join("\n");
}
