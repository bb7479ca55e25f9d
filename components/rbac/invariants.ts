// What a persona of each tier may never hold. Built-in and custom personas go through the same check, so the
// guarantees below hold for every ClusterRole this block renders, not just for the ones we wrote.
//
// The standard tier claims not to escalate. Its rules follow the Kubernetes RBAC good-practices list
// (kubernetes.io/docs/concepts/security/rbac-good-practices, "privilege escalation risks"): every permission
// named there that lets a holder act with more than it was given is refused, implicit routes included.
import { WRITE_VERBS } from "../common";
import type { PersonaScope, PersonaTier, PolicyRule } from "./personas";

/** Verbs that let a holder grant or assume permissions beyond its own. */
const ESCALATION_VERBS: readonly string[] = ["escalate", "bind", "impersonate"];

/** Subresources that open a shell or stream into a running container (any verb: exec and attach also
 * upgrade to websockets on GET). */
const CONTAINER_ENTRY_SUBRESOURCES: readonly string[] = ["pods/exec", "pods/attach"];

/** The only verb on Secrets a standard persona may hold: get/list/watch return the data outright, and
 * update/patch/delete/deletecollection return the stored object in their responses. */
const SECRET_VERBS_WITHOUT_READ: readonly string[] = ["create"];

const CHANGE_VERBS = ["create", "update", "patch"];

/** Kinds whose creation starts a pod: the pod may mount any Secret and run as any ServiceAccount of its
 * namespace, so creating one counts as reading those Secrets and acting as those ServiceAccounts. */
const WORKLOAD_RESOURCES: Readonly<Record<string, readonly string[]>> = {
    "": ["pods", "replicationcontrollers"],
    apps: ["deployments", "statefulsets", "daemonsets", "replicasets"],
    batch: ["jobs", "cronjobs"],
};

function hasWildcard(values: readonly string[] | undefined): boolean {
    return (values ?? []).some((v) => v.includes("*"));
}

function includesGroup(r: PolicyRule, group: string): boolean {
    return (r.apiGroups ?? []).includes(group);
}

function changes(r: PolicyRule, verbs = CHANGE_VERBS): string[] {
    return (r.verbs ?? []).filter((v) => verbs.includes(v));
}

function on(r: PolicyRule, group: string, resource: string): boolean {
    return includesGroup(r, group) && (r.resources ?? []).includes(resource);
}

/** The good-practices escalation routes that do not depend on the tier's other rules. */
function escalationRoutes(scope: PersonaScope, r: PolicyRule): string[] {
    const out: string[] = [];
    const verbs = r.verbs ?? [];
    const resources = r.resources ?? [];
    for (const v of verbs) {
        if (ESCALATION_VERBS.includes(v)) out.push(`verb "${v}" is reserved for admin personas`);
    }
    for (const res of resources.filter((x) => x.endsWith("/proxy"))) {
        out.push(`"${res}" reaches the kubelet or a workload directly, bypassing authorization and audit; reserved for admin personas`);
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
        } else if (scope === "cluster") {
            // In kube-system that is a service-account-token Secret for a controller that holds escalate.
            out.push(`"create" on "secrets" cluster-wide can mint a token Secret for any ServiceAccount, kube-system included; reserved for admin personas`);
        }
    }
    if (scope === "cluster") {
        for (const [group, list] of Object.entries(WORKLOAD_RESOURCES)) {
            for (const res of list.filter((x) => on(r, group, x))) {
                const v = changes(r);
                if (v.length > 0) {
                    out.push(`${JSON.stringify(v)} on "${res}" cluster-wide runs pods in any namespace (kube-system included), reading its Secrets and acting as its ServiceAccounts; reserved for admin personas`);
                }
            }
        }
    }
    const pv = changes(r);
    if (on(r, "", "persistentvolumes") && pv.length > 0) {
        out.push(`${JSON.stringify(pv)} on "persistentvolumes" can expose any host path to a pod; reserved for admin personas`);
    }
    const ns = changes(r);
    if (on(r, "", "namespaces") && ns.length > 0) {
        out.push(`${JSON.stringify(ns)} on "namespaces" can relabel a namespace's Pod Security level; reserved for admin personas`);
    }
    if (on(r, "certificates.k8s.io", "certificatesigningrequests") && verbs.includes("create")) {
        out.push(`"create" on "certificatesigningrequests" requests client certificates for any user or group; reserved for admin personas`);
    }
    const approval = changes(r, ["update", "patch"]);
    if (on(r, "certificates.k8s.io", "certificatesigningrequests/approval") && approval.length > 0) {
        out.push(`${JSON.stringify(approval)} on "certificatesigningrequests/approval" issues certificates; reserved for admin personas`);
    }
    if (on(r, "certificates.k8s.io", "signers") && (verbs.includes("approve") || verbs.includes("sign"))) {
        out.push(`"approve"/"sign" on "signers" issues certificates for any identity; reserved for admin personas`);
    }
    const adm = verbs.filter((v) => WRITE_VERBS.includes(v));
    if (includesGroup(r, "admissionregistration.k8s.io") && adm.length > 0) {
        out.push(`${JSON.stringify(adm)} on admission registration can switch off or rewrite every admission check; reserved for admin personas`);
    }
    return out;
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
    return [...out, ...escalationRoutes(scope, r)];
}

/** What holding workload create in a namespace implies, said once for descriptions and the posture: the
 * tenant guard (cluster-baseline) bounds it to the namespace's allow-listed ServiceAccounts and Secrets. */
export const WORKLOAD_IMPLICIT_ACCESS =
    "creating pods also reads the Secrets and acts as the ServiceAccounts a pod may use in that namespace; the tenant guard limits both to the namespace's allow-lists";
