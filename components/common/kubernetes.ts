// Kubernetes names and value shapes more than one block relies on. One definition each, so the PKI that
// issues a credential and the RBAC that binds it, or two blocks that validate a Pod Security level, can
// never drift apart.

/** The group kubeadm binds to cluster-admin. The admin credential carries it instead of system:masters (which
 * no RBAC change can revoke), so without that binding the admin kubeconfig can do nothing. */
export const CLUSTER_ADMINS_GROUP = "kubeadm:cluster-admins";
/** The group every API server trusts without RBAC. */
export const SYSTEM_MASTERS_GROUP = "system:masters";

/** Pod Security Standards levels, loosest first. */
export const PSA_LEVELS = ["privileged", "baseline", "restricted"] as const;
export type PsaLevel = (typeof PSA_LEVELS)[number];
export const PSA_MODES = ["enforce", "audit", "warn"] as const;
export type PsaMode = (typeof PSA_MODES)[number];

/** The cluster's minor version. Namespace labels pin the policy to it so a control-plane upgrade that tightens
 * a level's checks never starts rejecting pods unannounced; "latest" must be asked for. */
export const DEFAULT_PSA_VERSION = "v1.34";

/** Every verb that changes stored objects (RBAC and audit policies name them the same way). */
export const WRITE_VERBS: readonly string[] = ["create", "update", "patch", "delete", "deletecollection"];

/** A mapping: an object that is neither null nor an array (YAML and JSON config parse to these). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A URL's host (an IPv6 address without its brackets) and port, as a socket dials them. */
export function urlHostPort(url: string): { host: string; port: number } {
    const u = new URL(url);
    return { host: u.hostname.replace(/^\[|\]$/g, ""), port: Number(u.port) };
}

/** The parsed URL when `value` is an https URL with a host, else undefined; callers add their own limits. */
export function parseHttpsUrl(value: unknown): URL | undefined {
    if (typeof value !== "string") return undefined;
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        return undefined;
    }
    return url.protocol === "https:" && url.hostname !== "" ? url : undefined;
}
