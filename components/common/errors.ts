// Validation shared by every component. Errors name the offending key as a path from the root the caller
// chooses (the program passes its config key, e.g. "hardened-cluster:pki"), so a message always says which
// setting to fix, what it was and what is allowed.
import { isPlainObject } from "./kubernetes";

export class ConfigError extends Error {
    constructor(
        readonly key: string,
        readonly value: unknown,
        readonly allowed: string,
    ) {
        super(`${key}: ${describe(value)} is not allowed; ${allowed}`);
        this.name = "ConfigError";
    }
}

/**
 * Stands in for a value an error must not repeat: what sits under a misspelt key, or a URL that may carry a
 * token, may well be a secret (stack config is decrypted by the time it is validated).
 */
export const NOT_SHOWN: unique symbol = Symbol("value not shown");

export function describe(value: unknown): string {
    if (value === undefined) return "(missing)";
    if (value === NOT_SHOWN) return "(value not shown)";
    if (typeof value === "string") return JSON.stringify(value);
    try {
        const s = JSON.stringify(value);
        return s.length > 120 ? `${s.slice(0, 117)}...` : s;
    } catch {
        return String(value);
    }
}

/** Several ConfigErrors shown together; `key` and `value` are the first one's, so one-error callers still work. */
export class ConfigErrors extends ConfigError {
    constructor(readonly errors: readonly ConfigError[]) {
        super(errors[0].key, errors[0].value, errors[0].allowed);
        this.message = `${errors.length} settings are not allowed:\n${errors.map((e) => `  ${e.message}`).join("\n")}`;
    }
}

/** Runs independent checks, keeping each ConfigError (other errors propagate), and throws them together. */
export class ConfigErrorList {
    private readonly found: ConfigError[] = [];
    attempt(check: () => unknown): void {
        try {
            check();
        } catch (e) {
            if (!(e instanceof ConfigError)) throw e;
            // A setting read by two renderers (the kubelet's, for control-plane nodes and local workers) is named once.
            for (const err of e instanceof ConfigErrors ? e.errors : [e]) {
                if (!this.found.some((f) => f.message === err.message)) this.found.push(err);
            }
        }
    }
    /** Whether an error was found for this key or a key below it. */
    has(k: string): boolean {
        return this.found.some((e) => e.key === k || e.key.startsWith(`${k}.`) || e.key.startsWith(`${k}[`));
    }
    throwIfAny(): void {
        if (this.found.length === 1) throw this.found[0];
        if (this.found.length > 1) throw new ConfigErrors(this.found);
    }
}

export function fail(key: string, value: unknown, allowed: string): never {
    throw new ConfigError(key, value, allowed);
}

/** Joins a key path: key("pki", "sans", 2) === "pki.sans[2]". */
export function key(root: string, ...parts: (string | number)[]): string {
    return parts.reduce<string>((acc, p) => (typeof p === "number" ? `${acc}[${p}]` : `${acc}.${p}`), root);
}

export function oneOf<T extends string>(k: string, value: unknown, allowed: readonly T[]): T {
    if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
        fail(k, value, `use one of: ${allowed.join(", ")}`);
    }
    return value as T;
}

/** A true/false setting: `dflt` when unset. */
export function optionalBool(k: string, value: unknown, dflt: boolean): boolean {
    if (value === undefined) return dflt;
    if (typeof value !== "boolean") fail(k, value, "use true or false");
    return value;
}

export function positiveInt(k: string, value: unknown, max = Number.MAX_SAFE_INTEGER): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max) {
        fail(k, value, `use a whole number from 1 to ${max}`);
    }
    return value;
}

export function port(k: string, value: unknown): number {
    return positiveInt(k, value, 65535);
}

/** An optional object key: absent is fine, anything but a mapping (null included) is named by its key. */
export function optionalObject<T extends object>(k: string, value: T | undefined): T | undefined {
    if (value === undefined) return undefined;
    if (!isPlainObject(value)) fail(k, value, "use an object (a YAML mapping) or leave the key out");
    return value;
}

/**
 * Rejects keys an options object does not know, so a typo never falls back to a default silently. The value
 * under a misspelt key is not repeated: it may be a secret meant for the key the user had in mind.
 */
export function knownKeys(k: string, obj: object | undefined, allowed: readonly string[]): void {
    if (optionalObject(k, obj) === undefined) return;
    for (const name of Object.keys(obj as object)) {
        if (!allowed.includes(name)) fail(key(k, name), NOT_SHOWN, `known keys: ${allowed.join(", ")}`);
    }
}
