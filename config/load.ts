// Stack configuration as Pulumi hands it over (pulumi.runtime.allConfig(): "namespace:key" -> string, objects
// as JSON) -> a typed, fully validated BlueprintConfig, or a ConfigError naming the full key. Nothing here
// falls back quietly: an unknown key is an error with a suggestion, never a default in disguise.
import { ConfigErrorList, fail, NOT_SHOWN } from "../components/common";
import { BLUEPRINT_SCHEMA, SCHEMA_KEYS } from "./schema";
import { suggestKey } from "./suggest";
import { BlueprintConfig, BlueprintKey, ConfigEntry, NAMESPACE, Platform } from "./types";

export interface LoadOptions {
    /** Whether the program runs as root (the local layout "auto" depends on it). Default: asks the process. */
    isRoot?: boolean;
}

const PREFIX = `${NAMESPACE}:`;

/** The stack's keys, each validated; throws every problem found at once. */
export function loadBlueprintConfig(all: Readonly<Record<string, string>>, stack: string, options: LoadOptions = {}): BlueprintConfig {
    const errors = new ConfigErrorList();
    const config = readBlueprintConfig(all, stack, errors, options);
    errors.throwIfAny();
    return config;
}

/**
 * The stack's keys, each validated on its own: errors go to `errors` (so a caller can add the errors of later
 * checks and show them all together), and a key that failed is left out of the result.
 */
export function readBlueprintConfig(all: Readonly<Record<string, string>>, stack: string, errors: ConfigErrorList, options: LoadOptions = {}): BlueprintConfig {
    const isRoot = options.isRoot ?? (typeof process.getuid === "function" && process.getuid() === 0);
    const given: Partial<Record<BlueprintKey, unknown>> = {};
    for (const fullKey of Object.keys(all).sort()) {
        if (!fullKey.startsWith(PREFIX)) continue;
        const name = fullKey.slice(PREFIX.length);
        errors.attempt(() => {
            if (!isSchemaKey(name)) unknownKey(fullKey, name);
            const value = parseValue(fullKey, all[fullKey], BLUEPRINT_SCHEMA[name]);
            // Pulumi.yaml must declare a default for object keys (a key without one is required), so `{}` arrives
            // for every key a stack leaves out; it means "all defaults", exactly like an absent key.
            if (!isEmpty(value)) given[name] = value;
        });
    }

    const ctx = (name: BlueprintKey) => ({ key: PREFIX + name, stack, isRoot });
    let platform: Platform = BLUEPRINT_SCHEMA.platform.defaultValue as Platform;
    errors.attempt(() => (platform = BLUEPRINT_SCHEMA.platform.validate(given.platform ?? platform, ctx("platform"))));
    errors.attempt(() => checkPlatformKeys({ ...given, platform } as BlueprintConfig));

    const config: Record<string, unknown> = {};
    for (const name of SCHEMA_KEYS) {
        const entry = BLUEPRINT_SCHEMA[name] as ConfigEntry;
        const value = given[name] ?? entry.defaultValue;
        if (value !== undefined) errors.attempt(() => (config[name] = entry.validate(value, ctx(name))));
    }
    return config as unknown as BlueprintConfig;
}

/** A key read by one platform only must not be set for the other: it would be ignored without a word. */
export function checkPlatformKeys(c: Partial<BlueprintConfig> & Pick<BlueprintConfig, "platform">): void {
    for (const name of SCHEMA_KEYS) {
        const platforms = BLUEPRINT_SCHEMA[name].platforms;
        if (c[name] === undefined || platforms === undefined || platforms.includes(c.platform)) continue;
        fail(PREFIX + name, c[name], `only the ${platforms.join("/")} platform reads this and ${PREFIX}platform is "${c.platform}"; remove it or change the platform`);
    }
}

function isSchemaKey(name: string): name is BlueprintKey {
    return (SCHEMA_KEYS as string[]).includes(name);
}

function unknownKey(fullKey: string, name: string): never {
    const hint = suggestKey(name, BLUEPRINT_SCHEMA, NAMESPACE);
    // The value is not echoed: a misspelt key may well be a secret, decrypted by the time it gets here.
    return fail(fullKey, NOT_SHOWN, `${NAMESPACE} has no key "${name}"; ${hint ?? "check the spelling."} Known keys: ${SCHEMA_KEYS.join(", ")}`);
}

/** Turns Pulumi's string form back into the value the schema declares, checking its type on the way. */
export function parseValue(fullKey: string, text: string, entry: Pick<ConfigEntry, "type">): unknown {
    if (typeof text !== "string") fail(fullKey, text, "pass config values as Pulumi does, as strings (objects as JSON)");
    switch (entry.type) {
        case "string":
            return text;
        case "integer":
            if (!/^-?\d+$/.test(text.trim())) fail(fullKey, text, "use a whole number");
            return Number(text);
        case "boolean":
            if (text !== "true" && text !== "false") fail(fullKey, text, "use true or false");
            return text === "true";
        case "array":
        case "object": {
            let value: unknown;
            try {
                value = JSON.parse(text);
            } catch {
                fail(fullKey, text, `use a YAML ${entry.type === "array" ? "list" : "mapping"} under the key in the stack file (Pulumi passes it to the program as JSON)`);
            }
            const isArray = Array.isArray(value);
            const isObject = value !== null && typeof value === "object" && !isArray;
            if (entry.type === "array" ? !isArray : !isObject) {
                fail(fullKey, value, entry.type === "array" ? "use a list" : "use an object (a YAML mapping), e.g. { ... } with the fields listed in README.md");
            }
            return value;
        }
    }
}

function isEmpty(value: unknown): boolean {
    return typeof value === "object" && value !== null && Object.keys(value).length === 0;
}
