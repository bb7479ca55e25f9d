// The admission half of "personas cannot escalate": what RBAC cannot say (a Secret's type, which labels of a
// namespace change, which ServiceAccount or Secret a pod uses, which NetworkPolicy is touched) is refused by
// two ValidatingAdmissionPolicies evaluated inside the apiserver (CEL, failurePolicy Fail, no webhook).
//   - the privilege guard, cluster-wide: token Secrets and namespace creation or PSA-label changes, except
//     by break-glass identities;
//   - the tenant guard, in tenant namespaces only: pods run as allow-listed ServiceAccounts and reference
//     allow-listed Secrets (whoever creates them: controllers create pods from already-checked templates),
//     and the blueprint's hardened-* NetworkPolicies change only by platform identities.
import { PART_OF_LABELS } from "../rbac/names";
import { celPodSpec, celString, celStringList, type ResourceRule, type ValidatingAdmissionPolicyBindingObject, type ValidatingAdmissionPolicyObject } from "./admission";

export const PRIVILEGE_GUARD_NAME = "hardened-privilege-guard";
export const TENANT_GUARD_NAME = "hardened-tenant-guard";
const TOKEN_SECRET_TYPE = "kubernetes.io/service-account-token";
const PSA_LABEL_PREFIX = "pod-security.kubernetes.io/";
/** NetworkPolicies the blueprint owns in tenant namespaces (NETWORK_POLICY_NAMES all start with it). */
const PROTECTED_POLICY_PREFIX = "hardened-";

/** Who the guards trust, as the apiserver names them: groups, and usernames (a ServiceAccount is
 * "system:serviceaccount:<ns>:<name>"). */
export interface Identities {
    groups: string[];
    users: string[];
}

export interface GuardSettings {
    /** cluster-admin holders: may create token Secrets and namespaces and change PSA labels. */
    breakGlass: Identities;
    /** breakGlass plus platform-admin: may change the hardened-* NetworkPolicies of tenants. */
    platform: Identities;
    /** Tenant namespaces the tenant guard binds to. */
    tenants: string[];
    /** "namespace/name" of every ServiceAccount a tenant pod may run as. */
    serviceAccounts: string[];
    /** "namespace/name" of every Secret a tenant pod may reference. */
    secrets: string[];
}

function celIsOneOf(who: Identities): string {
    return `request.userInfo.username in ${celStringList(who.users)} || request.userInfo.groups.exists(g, g in ${celStringList(who.groups)})`;
}

function meta(name: string) {
    return { name, labels: { ...PART_OF_LABELS } };
}

function psaPairs(obj: string): string {
    const labels = `${obj}.metadata.labels`;
    return `has(${labels}) ? ${labels}.filter(k, k.startsWith(${celString(PSA_LABEL_PREFIX)})).map(k, k + '=' + ${labels}[k]) : []`;
}

export function renderPrivilegeGuard(s: GuardSettings): ValidatingAdmissionPolicyObject {
    const rules: ResourceRule[] = [
        { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["secrets"] },
        { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["namespaces"] },
    ];
    return {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicy",
        metadata: meta(PRIVILEGE_GUARD_NAME),
        spec: {
            failurePolicy: "Fail",
            matchConstraints: { resourceRules: rules },
            variables: [
                { name: "breakGlass", expression: celIsOneOf(s.breakGlass) },
                // PSA labels as "key=value" strings, compared as sets (map iteration order is not defined).
                { name: "newPsa", expression: psaPairs("object") },
                { name: "oldPsa", expression: `oldObject == null ? [] : (${psaPairs("oldObject")})` },
            ],
            validations: [
                {
                    expression: `object.kind != 'Secret' || !has(object.type) || object.type != ${celString(TOKEN_SECRET_TYPE)} || variables.breakGlass`,
                    message: `Secrets of type ${TOKEN_SECRET_TYPE} are refused: they would hold a ServiceAccount's token; use the TokenRequest API (bound, expiring tokens)`,
                    reason: "Forbidden",
                },
                {
                    expression:
                        "object.kind != 'Namespace' || variables.breakGlass || (request.operation == 'UPDATE' && " +
                        "variables.newPsa.all(x, x in variables.oldPsa) && variables.oldPsa.all(x, x in variables.newPsa))",
                    message: `namespaces are created, and their ${PSA_LABEL_PREFIX}* labels changed, only by the platform's break-glass identities`,
                    reason: "Forbidden",
                },
            ],
        },
    };
}

/** The controller-manager identities (with --use-service-account-credentials) that empty a deleted namespace. */
const NAMESPACE_CLEANUP_USERS = ["system:serviceaccount:kube-system:namespace-controller"];

function ownerRefs(obj: string): string {
    return `(has(${obj}.metadata.ownerReferences) ? ${obj}.metadata.ownerReferences : [])`;
}

/** `ref` is a CEL expression naming a Secret in the request's namespace. */
function secretAllowed(ref: string): string {
    return `(request.namespace + '/' + ${ref}) in variables.allowedSecrets`;
}

export function renderTenantGuard(s: GuardSettings): ValidatingAdmissionPolicyObject {
    const write: ("CREATE" | "UPDATE")[] = ["CREATE", "UPDATE"];
    const rules: ResourceRule[] = [
        { apiGroups: [""], apiVersions: ["v1"], operations: write, resources: ["pods", "replicationcontrollers"] },
        { apiGroups: ["apps"], apiVersions: ["v1"], operations: write, resources: ["deployments", "statefulsets", "daemonsets", "replicasets"] },
        { apiGroups: ["batch"], apiVersions: ["v1"], operations: write, resources: ["jobs", "cronjobs"] },
        { apiGroups: ["networking.k8s.io"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE", "DELETE"], resources: ["networkpolicies"] },
    ];
    const notPod = "request.resource.resource == 'networkpolicies'";
    return {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicy",
        metadata: meta(TENANT_GUARD_NAME),
        spec: {
            failurePolicy: "Fail",
            matchConstraints: { resourceRules: rules },
            variables: [
                { name: "platform", expression: celIsOneOf(s.platform) },
                { name: "allowedServiceAccounts", expression: celStringList(s.serviceAccounts) },
                { name: "allowedSecrets", expression: celStringList(s.secrets) },
                { name: "podSpec", expression: celPodSpec("object") },
                {
                    name: "containers",
                    expression: ["containers", "initContainers", "ephemeralContainers"]
                        .map((f) => `(has(variables.podSpec.${f}) ? variables.podSpec.${f} : [])`)
                        .join(" + "),
                },
                { name: "volumes", expression: "has(variables.podSpec.volumes) ? variables.podSpec.volumes : []" },
                {
                    // serviceAccount is the deprecated alias; both are checked so neither spelling slips by.
                    name: "serviceAccounts",
                    expression:
                        "[has(variables.podSpec.serviceAccountName) ? variables.podSpec.serviceAccountName : 'default'] + " +
                        "(has(variables.podSpec.serviceAccount) ? [variables.podSpec.serviceAccount] : [])",
                },
            ],
            validations: [
                {
                    expression: `${notPod} || variables.serviceAccounts.all(n, (request.namespace + '/' + n) in variables.allowedServiceAccounts)`,
                    message: "pods in tenant namespaces run only as the namespace's allow-listed ServiceAccounts (baseline.admission.serviceAccounts)",
                    reason: "Forbidden",
                },
                {
                    expression:
                        `${notPod} || (` +
                        `variables.volumes.all(v, !has(v.secret) || ${secretAllowed("(has(v.secret.secretName) ? v.secret.secretName : '')")}) && ` +
                        `variables.volumes.all(v, !has(v.projected) || !has(v.projected.sources) || v.projected.sources.all(p, !has(p.secret) || ${secretAllowed("p.secret.name")})) && ` +
                        `variables.containers.all(c, !has(c.env) || c.env.all(e, !has(e.valueFrom) || !has(e.valueFrom.secretKeyRef) || ${secretAllowed("e.valueFrom.secretKeyRef.name")})) && ` +
                        `variables.containers.all(c, !has(c.envFrom) || c.envFrom.all(f, !has(f.secretRef) || ${secretAllowed("f.secretRef.name")})))`,
                    message: "pods in tenant namespaces reference only the namespace's allow-listed Secrets (baseline.admission.workloadSecrets): a mounted Secret is a read Secret",
                    reason: "Forbidden",
                },
                {
                    // Two writes stay open to everyone: an update that keeps spec and owner references (the garbage
                    // collector removing its foregroundDeletion finalizer is one; owner references stay closed, or
                    // a tenant could hand the policy to an object it deletes), and the deletion by the namespace
                    // controller of a namespace that only break-glass identities may delete.
                    expression:
                        `!(${notPod}) || !request.name.startsWith(${celString(PROTECTED_POLICY_PREFIX)}) || variables.platform || ` +
                        `(request.operation == 'UPDATE' && object.spec == oldObject.spec && ${ownerRefs("object")} == ${ownerRefs("oldObject")}) || ` +
                        `(request.operation == 'DELETE' && request.userInfo.username in ${celStringList(NAMESPACE_CLEANUP_USERS)})`,
                    message: `the ${PROTECTED_POLICY_PREFIX}* NetworkPolicies (default deny included) are changed or deleted only by platform identities`,
                    reason: "Forbidden",
                },
            ],
        },
    };
}

export type GuardBindingObject = ValidatingAdmissionPolicyBindingObject;

export function renderPrivilegeGuardBinding(): GuardBindingObject {
    return {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicyBinding",
        metadata: meta(PRIVILEGE_GUARD_NAME),
        spec: { policyName: PRIVILEGE_GUARD_NAME, validationActions: ["Deny"] },
    };
}

/** Bound to the tenants by name; with no tenants the selector matches nothing (In with an empty list is
 * invalid, so a name no namespace can have stands in: "_" is allowed in a label value, never in a namespace name). */
export function renderTenantGuardBinding(s: GuardSettings): GuardBindingObject {
    const values = s.tenants.length > 0 ? [...s.tenants] : ["no_tenants"];
    return {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicyBinding",
        metadata: meta(TENANT_GUARD_NAME),
        spec: {
            policyName: TENANT_GUARD_NAME,
            validationActions: ["Deny"],
            matchResources: { namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values }] } },
        },
    };
}
