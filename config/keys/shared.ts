// Helpers the entries share: the object check every object key starts with.
import { fail } from "../../components/common";

export function objectValue(k: string, value: unknown): Record<string, unknown> {
    if (value === null || typeof value !== "object" || Array.isArray(value)) fail(k, value, "use an object (a YAML mapping)");
    return value as Record<string, unknown>;
}
