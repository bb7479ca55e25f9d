// Helpers the entries share: the object check every object key starts with, and stand-ins for what a platform
// fills in itself when a component cannot be validated without it.
import { fail } from "../../components/common";

export function objectValue(k: string, value: unknown): Record<string, unknown> {
    if (value === null || typeof value !== "object" || Array.isArray(value)) fail(k, value, "use an object (a YAML mapping)");
    return value as Record<string, unknown>;
}

/**
 * Control-plane hosts as a platform would name them. A component validating settings before the platform has
 * placed any node needs hosts to exist, but only their count changes what is valid; the addresses are from
 * TEST-NET-1 (RFC 5737) so they can never be mistaken for real ones.
 */
export function standInHosts(count: number): { name: string; ip: string }[] {
    return Array.from({ length: count }, (_, i) => ({ name: `cp-${i}`, ip: `192.0.2.${10 + i}` }));
}
