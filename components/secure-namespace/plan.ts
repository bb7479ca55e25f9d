// Configuration of one namespace -> validated settings -> the plain Kubernetes objects that make it up.
import { fail, isDnsLabel, isPlainObject, key, knownKeys } from "../common";
import { builtInPersonas, type Persona } from "../rbac/personas";
import { PART_OF_LABELS } from "../rbac/names";
import { renderRoleBinding, type BindingObject } from "../rbac/render";
import { validateSubjects, type RbacSubject, type SubjectInput } from "../rbac/subjects";
import { personaForBinding } from "../rbac/validate";
import { validateLabels } from "./labels";
import { renderNetworkPolicies, validateNetwork, type EgressInput, type IngressFromInput, type NetworkPolicyObject, type NetworkSettings } from "./network";
import { DEFAULT_PSA_VERSION, podSecurityLabels, validatePodSecurity, validatePsaVersion, type PodSecurity, type PodSecurityInput } from "./pod-security";
import {
    renderLimitRange,
    renderResourceQuota,
    validateLimitRange,
    validateQuota,
    type LimitRangeInput,
    type LimitRangeObject,
    type ResourceQuotaObject,
} from "./quota";

export interface SecureNamespaceConfig {
    /** The namespace's name (a DNS label, not a built-in namespace, not starting "kube-"). */
    name: string;
    /** Extra namespace labels, e.g. for other namespaces' allowIngressFromNamespaces to select. */
    labels?: Record<string, string>;
    /** restricted in all three modes unless a named exception says otherwise. */
    podSecurity?: PodSecurityInput;
    /** Egress to CoreDNS on port 53. Default true. */
    allowDns?: boolean;
    /** Pods of this namespace may talk to each other. Default false. */
    allowSameNamespace?: boolean;
    allowIngressFromNamespaces?: IngressFromInput[];
    /** Egress to these CIDRs; the cloud metadata address is always excepted (see network.ts). */
    allowEgressTo?: EgressInput[];
    /** Overrides of the default quota, key by key. */
    resourceQuota?: Record<string, string>;
    limitRange?: LimitRangeInput;
    /** Subjects of each namespace persona in this namespace, e.g. { developer: [{ kind: "Group", name: "team-a" }] }. */
    roleBindings?: Record<string, SubjectInput[]>;
}

const SECURE_NAMESPACE_KEYS: readonly string[] = [
    "name", "labels", "podSecurity", "allowDns", "allowSameNamespace", "allowIngressFromNamespaces",
    "allowEgressTo", "resourceQuota", "limitRange", "roleBindings",
];

/** Namespaces every cluster has; they are labelled in place by the cluster baseline, never created here. */
const BUILT_IN_NAMESPACES: readonly string[] = ["default", "kube-system", "kube-public", "kube-node-lease"];

export interface NamespaceContext {
    /** Personas that may be bound here; defaults to the built-in ones. */
    personas?: readonly Persona[];
    /** PSA version used when the namespace does not set one; defaults to DEFAULT_PSA_VERSION. */
    podSecurityVersion?: string;
    /** Where podSecurityVersion was set, for errors and the posture; defaults to `<namespace key>.podSecurityVersion`. */
    podSecurityVersionKey?: string;
}

export interface PersonaBinding {
    persona: Persona;
    subjects: RbacSubject[];
}

export interface SecureNamespacePlan {
    /** The key this namespace's config was read from; the posture names settings below it. */
    configKey: string;
    /** The key the Pod Security version came from: the namespace's own podSecurity.version, or the inherited one. */
    podSecurityVersionKey: string;
    name: string;
    labels: Record<string, string>;
    podSecurity: PodSecurity;
    network: NetworkSettings;
    quota: Record<string, string>;
    limits: LimitRangeInput;
    roleBindings: PersonaBinding[];
}

export interface NamespaceObject {
    apiVersion: "v1";
    kind: "Namespace";
    metadata: { name: string; labels: Record<string, string>; annotations?: Record<string, string> };
}

export interface ServiceAccountObject {
    apiVersion: "v1";
    kind: "ServiceAccount";
    metadata: { name: string; namespace: string };
    automountServiceAccountToken: boolean;
}

export interface SecureNamespaceObjects {
    namespace: NamespaceObject;
    networkPolicies: NetworkPolicyObject[];
    resourceQuota: ResourceQuotaObject;
    limitRange: LimitRangeObject;
    /** Applied as a patch: the namespace controller creates `default` itself. */
    defaultServiceAccount: ServiceAccountObject;
    roleBindings: BindingObject<"RoleBinding">[];
}

export const PSA_EXCEPTION_ANNOTATION = "hardened-cluster/pod-security-exception";

function validateNamespaceName(k: string, v: unknown): string {
    if (typeof v !== "string" || !isDnsLabel(v)) fail(k, v, "use a DNS label: up to 63 lower-case letters, digits and '-'");
    if (BUILT_IN_NAMESPACES.includes(v) || v.startsWith("kube-")) {
        fail(k, v, `built-in namespaces (${BUILT_IN_NAMESPACES.join(", ")}) and names starting "kube-" are reserved`);
    }
    return v;
}

/** `k` is the key of this namespace's config, e.g. "hardened-cluster:baseline.tenants[2]". */
export function planSecureNamespace(k: string, config: unknown, ctx: NamespaceContext = {}): SecureNamespacePlan {
    if (!isPlainObject(config)) fail(k, config, "use an object { name, ... }");
    const raw = config as Record<string, unknown>;
    knownKeys(k, raw, SECURE_NAMESPACE_KEYS);
    const name = validateNamespaceName(key(k, "name"), raw.name);
    const inheritedKey = ctx.podSecurityVersionKey ?? key(k, "podSecurityVersion");
    const version = validatePsaVersion(inheritedKey, ctx.podSecurityVersion ?? DEFAULT_PSA_VERSION);
    const podSecurity = validatePodSecurity(key(k, "podSecurity"), raw.podSecurity, version);
    const extra = raw.labels === undefined ? {} : validateLabels(key(k, "labels"), raw.labels, { allowEmpty: true, reserved: true });
    const personas = ctx.personas ?? builtInPersonas();

    const rbKey = key(k, "roleBindings");
    const rbRaw = raw.roleBindings ?? {};
    if (!isPlainObject(rbRaw)) fail(rbKey, rbRaw, "use a map of persona name to subjects");
    const roleBindings = Object.entries(rbRaw)
        .map(([persona, subjects]) => ({
            persona: personaForBinding(key(rbKey, persona), personas, persona, "namespace"),
            subjects: validateSubjects(key(rbKey, persona), subjects, name),
        }))
        .filter((b) => b.subjects.length > 0);

    const ownVersion = isPlainObject(raw.podSecurity) && raw.podSecurity.version !== undefined;
    return {
        configKey: k,
        podSecurityVersionKey: ownVersion ? key(k, "podSecurity", "version") : inheritedKey,
        name,
        labels: { ...PART_OF_LABELS, ...extra, ...podSecurityLabels(podSecurity) },
        podSecurity,
        network: validateNetwork(k, raw),
        quota: validateQuota(key(k, "resourceQuota"), raw.resourceQuota),
        limits: validateLimitRange(key(k, "limitRange"), raw.limitRange),
        roleBindings,
    };
}

export function renderSecureNamespace(plan: SecureNamespacePlan): SecureNamespaceObjects {
    const ns = plan.name;
    const namespace: NamespaceObject = { apiVersion: "v1", kind: "Namespace", metadata: { name: ns, labels: { ...plan.labels } } };
    if (plan.podSecurity.exception) namespace.metadata.annotations = { [PSA_EXCEPTION_ANNOTATION]: plan.podSecurity.exception };
    return {
        namespace,
        networkPolicies: renderNetworkPolicies(ns, plan.network),
        resourceQuota: renderResourceQuota(ns, plan.quota),
        limitRange: renderLimitRange(ns, plan.limits),
        // Pods that need the API opt in with their own ServiceAccount; the default one mounts no token.
        defaultServiceAccount: { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: ns }, automountServiceAccountToken: false },
        roleBindings: plan.roleBindings.map((b) => renderRoleBinding(b.persona, ns, b.subjects)),
    };
}
