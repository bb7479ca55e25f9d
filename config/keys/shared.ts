// Helpers the entries share: the object check every object key starts with, and an entry validated by the
// owning component's resolver.
import { fail } from "../../components/common";
import { EntryContext } from "../types";

export function objectValue(k: string, value: unknown): Record<string, unknown> {
    if (value === null || typeof value !== "object" || Array.isArray(value)) fail(k, value, "use an object (a YAML mapping)");
    return value as Record<string, unknown>;
}

/**
 * A validator for an object key its component resolves: the value must be an object, and `resolve` (called with
 * the full key, so its errors name it) must accept it. The value is returned as given; the platform resolves it
 * again with the stack's other settings.
 */
export function resolvedBy<T extends object>(resolve: (options: T | undefined, configKey: string) => unknown): (value: unknown, ctx: EntryContext) => T {
    return (value, ctx) => {
        const o = objectValue(ctx.key, value) as T;
        resolve(o, ctx.key);
        return o;
    };
}
