// Turns configured personas into checked Persona data before anything is created.
import { fail, isDnsLabel, isPlainObject, key, knownKeys, oneOf } from "../common";
import { ruleViolations } from "./invariants";
import { personaClusterRoleName } from "./names";
import { builtInPersonas, PERSONA_SCOPES, type Persona, type PersonaScope, type PolicyRule } from "./personas";

/** A user-defined persona. Break-glass is not offered: the one break-glass persona is cluster-admin. */
export interface PersonaInput {
    name: string;
    description?: string;
    /** Defaults to "standard". "admin" lifts the escalation limits (see invariants.ts) and is listed in the posture. */
    tier?: "admin" | "standard";
    scope: PersonaScope;
    rules: PolicyRule[];
}

const RULE_KEYS = ["apiGroups", "resources", "resourceNames", "nonResourceURLs", "verbs"];

function stringList(k: string, v: unknown, required: boolean): string[] | undefined {
    if (v === undefined && !required) return undefined;
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === "string")) {
        fail(k, v, "use a non-empty list of strings");
    }
    return [...v];
}

function validateRule(k: string, r: unknown): PolicyRule {
    if (!isPlainObject(r)) fail(k, r, "use a PolicyRule object { apiGroups, resources, verbs, ... }");
    const raw = r as Record<string, unknown>;
    knownKeys(k, raw, RULE_KEYS);
    const out: PolicyRule = { verbs: stringList(key(k, "verbs"), raw.verbs, true)! };
    for (const f of ["apiGroups", "resources", "resourceNames", "nonResourceURLs"] as const) {
        const list = stringList(key(k, f), raw[f], false);
        if (list) out[f] = list;
    }
    const hasResources = out.resources !== undefined;
    if (hasResources === (out.nonResourceURLs !== undefined)) {
        fail(k, r, "a rule names either resources (with apiGroups) or nonResourceURLs, exactly one of them");
    }
    if (hasResources && out.apiGroups === undefined) fail(key(k, "apiGroups"), undefined, 'resource rules need apiGroups ("" is the core group)');
    return out;
}

/** Checks one rule against the tier's invariants; throws naming the rule and the reason. */
function assertRuleAllowed(k: string, p: Pick<Persona, "name" | "tier" | "scope">, r: PolicyRule): void {
    const reasons = ruleViolations(p.tier, p.scope, r);
    if (reasons.length > 0) fail(k, r, `persona "${p.name}" (${p.tier}): ${reasons.join("; ")}`);
}

function validatePersonaInput(k: string, input: unknown, taken: ReadonlySet<string>): Persona {
    if (!isPlainObject(input)) fail(k, input, "use an object { name, scope, rules, tier?, description? }");
    const raw = input as Record<string, unknown>;
    knownKeys(k, raw, ["name", "description", "tier", "scope", "rules"]);
    const name = raw.name;
    if (typeof name !== "string" || !isDnsLabel(name)) fail(key(k, "name"), name, "use a DNS label (lower-case letters, digits, '-')");
    if (taken.has(name)) fail(key(k, "name"), name, "that persona already exists; choose another name");
    if (raw.description !== undefined && typeof raw.description !== "string") fail(key(k, "description"), raw.description, "use a string");
    const tier = raw.tier === undefined ? "standard" : oneOf(key(k, "tier"), raw.tier, ["admin", "standard"] as const);
    const scope = oneOf(key(k, "scope"), raw.scope, PERSONA_SCOPES);
    if (!Array.isArray(raw.rules) || raw.rules.length === 0) fail(key(k, "rules"), raw.rules, "use a non-empty list of PolicyRules");
    const rules = raw.rules.map((r, i) => validateRule(key(k, "rules", i), r));
    const persona: Persona = {
        name,
        description: (raw.description as string | undefined) ?? `Custom persona ${name}.`,
        tier,
        scope,
        clusterRole: personaClusterRoleName(name),
        renderRole: true,
        rules,
    };
    rules.forEach((r, i) => assertRuleAllowed(key(k, "rules", i), persona, r));
    return persona;
}

/** The built-in personas plus the configured ones, all checked. `k` is the key of the custom list. */
export function resolvePersonas(k: string, custom: unknown): Persona[] {
    const all = builtInPersonas();
    if (custom === undefined) return all;
    if (!Array.isArray(custom)) fail(k, custom, "use a list of personas");
    const taken = new Set(all.map((p) => p.name));
    for (const [i, c] of custom.entries()) {
        const p = validatePersonaInput(key(k, i), c, taken);
        taken.add(p.name);
        all.push(p);
    }
    return all;
}

/** Looks a persona up for a binding of the given scope; throws naming the binding key otherwise. */
export function personaForBinding(k: string, personas: readonly Persona[], name: string, scope: PersonaScope): Persona {
    const p = personas.find((x) => x.name === name);
    const ofScope = personas.filter((x) => x.scope === scope).map((x) => x.name);
    if (!p) fail(k, name, `no such persona; ${scope} personas: ${ofScope.join(", ")}`);
    if (p.scope !== scope) {
        fail(k, name, `"${name}" is a ${p.scope} persona and cannot be bound ${scope === "cluster" ? "cluster-wide" : "in a namespace"}; ${scope} personas: ${ofScope.join(", ")}`);
    }
    return p;
}
