// What a persona of each tier may never hold. Built-in and custom personas go through the same check, so the
// guarantees below hold for every ClusterRole this block renders, not just for the ones we wrote.
import type { PersonaScope, PersonaTier, PolicyRule } from "./personas";

/** Verbs that let a holder grant or assume permissions beyond its own. */
export const ESCALATION_VERBS: readonly string[] = ["escalate", "bind", "impersonate"];

/** Subresources that open a shell or stream into a running container (any verb: exec and attach also
 * upgrade to websockets on GET). */
export const CONTAINER_ENTRY_SUBRESOURCES: readonly string[] = ["pods/exec", "pods/attach"];

/** The only verb on Secrets a standard persona may hold: get/list/watch return the data outright, and
 * update/patch/delete/deletecollection return the stored object in their responses. */
export const SECRET_VERBS_WITHOUT_READ: readonly string[] = ["create"];

const WRITE_VERBS = ["create", "update", "patch", "delete", "deletecollection"];

function hasWildcard(values: readonly string[] | undefined): boolean {
    return (values ?? []).some((v) => v.includes("*"));
}

function includesGroup(r: PolicyRule, group: string): boolean {
    return (r.apiGroups ?? []).includes(group);
}

/** Every reason this rule is not allowed for a persona of this tier and scope; empty when it is allowed. */
export function ruleViolations(tier: PersonaTier, scope: PersonaScope, r: PolicyRule): string[] {
    const out: string[] = [];
    const verbs = r.verbs ?? [];
    const resources = r.resources ?? [];
    if (scope === "namespace" && (r.nonResourceURLs ?? []).length > 0) {
        // A RoleBinding silently ignores nonResourceURLs; refuse rather than pretend they grant something.
        out.push("nonResourceURLs have no effect in a namespace persona (bound by RoleBindings)");
    }
    if (tier === "break-glass") return out;

    if (hasWildcard(verbs)) out.push(`wildcard verb in ${JSON.stringify(verbs)} is reserved for break-glass personas`);
    if (hasWildcard(resources)) out.push(`wildcard resource in ${JSON.stringify(resources)} is reserved for break-glass personas`);
    if (hasWildcard(r.apiGroups)) out.push(`wildcard apiGroup in ${JSON.stringify(r.apiGroups)} is reserved for break-glass personas`);
    if (hasWildcard(r.nonResourceURLs)) out.push(`wildcard nonResourceURL in ${JSON.stringify(r.nonResourceURLs)} is reserved for break-glass personas`);
    if (tier === "admin") return out;

    for (const v of verbs) {
        if (ESCALATION_VERBS.includes(v)) out.push(`verb "${v}" is reserved for admin personas`);
    }
    if (resources.includes("nodes/proxy")) {
        out.push(`"nodes/proxy" reaches the kubelet API, bypassing authorization and audit; reserved for admin personas`);
    }
    if (resources.includes("serviceaccounts/token") && verbs.includes("create")) {
        out.push(`"create" on "serviceaccounts/token" mints credentials for other identities; reserved for admin personas`);
    }
    for (const sub of CONTAINER_ENTRY_SUBRESOURCES) {
        if (resources.includes(sub)) out.push(`"${sub}" enters running containers; reserved for admin personas`);
    }
    if (resources.includes("pods/ephemeralcontainers") && verbs.some((v) => WRITE_VERBS.includes(v))) {
        out.push(`writing "pods/ephemeralcontainers" starts a shell in a pod; reserved for admin personas`);
    }
    if (resources.includes("secrets") && includesGroup(r, "")) {
        const reading = verbs.filter((v) => !SECRET_VERBS_WITHOUT_READ.includes(v));
        if (reading.length > 0) {
            out.push(`verbs ${JSON.stringify(reading)} on "secrets" expose Secret data; standard personas may only ${SECRET_VERBS_WITHOUT_READ.join(", ")}`);
        }
    }
    return out;
}
