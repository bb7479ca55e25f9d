// In-cluster objects: NetworkPolicy egress, RBAC bindings and roles, token Secrets.
import { k8sDocs, honour, exceptionsOf, isObj, arr, resourceRule } from "./common";
import { METADATA_ADDRESSES, contains } from "./network";

export const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const RBAC = "kubernetes:rbac.authorization.k8s.io/v1:";
export const BINDING_TYPES = ["ClusterRoleBinding", "ClusterRoleBindingPatch", "RoleBinding", "RoleBindingPatch"].map((t) => RBAC + t);
export const ROLE_TYPES = ["ClusterRole", "ClusterRolePatch", "Role", "RolePatch"].map((t) => RBAC + t);

/** The metadata addresses one egress rule of a NetworkPolicy lets pods reach. */
function metadataReached(rule: Record<string, any>): string[] {
    const to = arr(rule.to);
    // No `to` (or an empty one) allows every destination.
    if (to.length === 0) return [...METADATA_ADDRESSES];
    const reached = new Set<string>();
    for (const peer of to) {
        const block = isObj(peer) ? peer.ipBlock : undefined;
        if (!isObj(block) || typeof block.cidr !== "string") continue;
        for (const a of METADATA_ADDRESSES) {
            if (contains(block.cidr, a) && !arr(block.except).some((e) => typeof e === "string" && contains(e, a))) reached.add(a);
        }
    }
    return [...reached];
}

export const networkPolicyMetadataEgress = resourceRule({
    name: "network-policy-no-metadata-egress",
    description: "No NetworkPolicy allows egress to a link-local or cloud metadata/credential address (169.254.169.254, fd00:ec2::254, ...), whether named or inside a wider CIDR without an except.",
    severity: "critical",
    framework: k8sDocs("security-checklist#network-security", "Restrict access to cloud metadata APIs from pods"),
    remediation: "Add the metadata addresses (169.254.0.0/16, fd00:ec2::254/128, 100.100.100.200/32) to the ipBlock's except list, or narrow the CIDR; an egress rule with no 'to' allows every destination.",
}, (args, report) => {
    if (args.type !== NETWORK_POLICY || !isObj(args.props.spec)) return;
    for (const [i, rule] of arr(args.props.spec.egress).entries()) {
        if (!isObj(rule)) continue;
        const reached = metadataReached(rule);
        if (reached.length > 0) report(`egress rule ${i} allows ${reached.join(", ")} (cloud metadata endpoints)`);
    }
});

/** A subject as the exceptions name it: Group:<name>, User:<name>, ServiceAccount:<namespace>/<name>. */
export function subjectId(s: Record<string, any>): string {
    return s.kind === "ServiceAccount" ? `ServiceAccount:${s.namespace ?? ""}/${s.name}` : `${s.kind}:${s.name}`;
}

/** kubeadm binds its admin credential's group to cluster-admin; the blueprint keeps that binding. */
export const DEFAULT_CLUSTER_ADMINS = ["Group:kubeadm:cluster-admins"];

export const rbacClusterAdmin = resourceRule({
    name: "rbac-no-undeclared-cluster-admin",
    description: "No (Cluster)RoleBinding grants cluster-admin to a subject outside the declared personas, and none names the system:masters group.",
    severity: "critical",
    framework: k8sDocs("rbac-good-practices#least-privilege", "Avoid providing cluster-admin; system:masters bypasses every authorization check"),
    remediation: "Bind a narrower role (hardened-cluster's personas); declare a break-glass group in this rule's exceptions (e.g. [\"Group:kubeadm:cluster-admins\"]). Never bind system:masters: its members skip RBAC and webhooks.",
    exceptions: { type: "array", items: { type: "string" } },
}, (args, report) => {
    if (!BINDING_TYPES.includes(args.type)) return;
    const subjects = arr(args.props.subjects).filter(isObj);
    for (const s of subjects) {
        if (s.kind === "Group" && s.name === "system:masters") report(`binds the group system:masters, which bypasses authorization`);
    }
    const ref = args.props.roleRef;
    if (!isObj(ref) || ref.kind !== "ClusterRole" || ref.name !== "cluster-admin") return;
    const declared: string[] = exceptionsOf(args, DEFAULT_CLUSTER_ADMINS);
    for (const s of subjects) {
        const id = subjectId(s);
        if (declared.includes(id)) honour("rbac-no-undeclared-cluster-admin", args.urn, `${id} is bound to cluster-admin (declared)`);
        else report(`binds cluster-admin to ${id}, which is not a declared persona`);
    }
});

const ESCALATING = ["escalate", "bind", "impersonate"];

export const rbacEscalation = resourceRule({
    name: "rbac-no-escalation-verbs",
    description: "No Role or ClusterRole grants escalate, bind or impersonate, or uses '*' in verbs, resources or apiGroups, unless it is a declared platform role.",
    severity: "high",
    framework: k8sDocs("rbac-good-practices#escalate-verb", "escalate, bind and impersonate, and wildcards, let a subject grant itself more than it holds"),
    remediation: "List verbs, resources and API groups explicitly and drop escalate/bind/impersonate; a role that needs them for the platform team goes in this rule's exceptions by name.",
    exceptions: { type: "array", items: { type: "string" } },
}, (args, report) => {
    if (!ROLE_TYPES.includes(args.type)) return;
    const name = args.props.metadata?.name;
    const found: string[] = [];
    for (const rule of arr(args.props.rules).filter(isObj)) {
        const verbs = arr(rule.verbs);
        for (const v of ESCALATING) if (verbs.includes(v)) found.push(`verb ${v}`);
        for (const f of ["verbs", "resources", "apiGroups"]) if (arr(rule[f]).includes("*")) found.push(`'*' in ${f}`);
    }
    if (found.length === 0) return;
    const platform: string[] = exceptionsOf(args, []);
    if (typeof name === "string" && platform.includes(name)) {
        honour("rbac-no-escalation-verbs", args.urn, `role ${name} holds ${found.join(", ")} (declared platform role)`);
        return;
    }
    report(`role ${name ?? args.name} grants ${[...new Set(found)].join(", ")}`);
});

export const noTokenSecret = resourceRule({
    name: "no-service-account-token-secret",
    description: "No Secret of type kubernetes.io/service-account-token: such tokens never expire and are not bound to a pod.",
    severity: "high",
    framework: k8sDocs("service-accounts-admin#manual-secret-management-for-serviceaccounts", "Prefer short-lived TokenRequest tokens over long-lived token Secrets"),
    remediation: "Remove the Secret; let pods get projected, expiring tokens (or use the TokenRequest API for a token outside a pod).",
}, (args, report) => {
    if (args.type !== "kubernetes:core/v1:Secret" && args.type !== "kubernetes:core/v1:SecretPatch") return;
    if (args.props.type === "kubernetes.io/service-account-token") report(`Secret ${args.props.metadata?.name ?? args.name} is a long-lived service account token`);
});
