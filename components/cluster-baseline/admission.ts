// The cluster's workload guard: one ValidatingAdmissionPolicy (CEL, evaluated inside the apiserver, so no
// webhook to run or to fail open) refusing images from registries off the allow-list and Services of type
// NodePort/LoadBalancer outside the namespaces allowed to have them.
import { fail, isDnsLabel, isPlainObject, key, knownKeys } from "../common";
import { PART_OF_LABELS } from "../rbac/names";
import { DOCKER_HUB, EXPLICIT_REGISTRY_PATTERN, validateRegistry } from "./registry";

export const WORKLOAD_POLICY_NAME = "hardened-workload-guard";
export const WORKLOAD_POLICY_BINDING_NAME = "hardened-workload-guard";

/** Where the Kubernetes project publishes its own images (CoreDNS, kube-proxy, pause). */
export const DEFAULT_ALLOWED_REGISTRIES: readonly string[] = ["registry.k8s.io"];

export interface AdmissionInput {
    /** Registries images may come from; defaults to DEFAULT_ALLOWED_REGISTRIES. See registry.ts for how an
     * image's registry is derived ("nginx" is from "docker.io"). */
    allowedRegistries?: string[];
    /** Namespaces where Services may be of type NodePort. Default none. */
    nodePortNamespaces?: string[];
    /** Namespaces where Services may be of type LoadBalancer. Default none. */
    loadBalancerNamespaces?: string[];
    /** Namespaces the policy does not apply to at all. Default none. */
    exemptNamespaces?: string[];
    /** Per tenant namespace, ServiceAccounts its pods may run as besides "default" (which mounts no token). */
    serviceAccounts?: Record<string, string[]>;
    /** Per tenant namespace, Secrets its pods may mount or read into env. Default none: whoever may create a
     * pod there reads every Secret listed here. */
    workloadSecrets?: Record<string, string[]>;
}

export type AdmissionSettings = Required<AdmissionInput>;

const OBJECT_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function namesByNamespace(k: string, v: unknown, what: string): Record<string, string[]> {
    if (v === undefined) return {};
    if (!isPlainObject(v)) fail(k, v, `use a map of tenant namespace to ${what} names`);
    const out: Record<string, string[]> = {};
    for (const [ns, names] of Object.entries(v as Record<string, unknown>)) {
        const nk = key(k, ns);
        if (!isDnsLabel(ns)) fail(nk, ns, "use a namespace name (a DNS label)");
        if (!Array.isArray(names)) fail(nk, names, `use a list of ${what} names`);
        out[ns] = names.map((n, i) => {
            if (typeof n !== "string" || !OBJECT_NAME.test(n)) fail(key(nk, i), n, `use a ${what} name (a DNS subdomain)`);
            return n;
        });
    }
    return out;
}

function namespaceList(k: string, v: unknown): string[] {
    if (v === undefined) return [];
    if (!Array.isArray(v)) fail(k, v, "use a list of namespace names");
    return v.map((ns, i) => {
        if (typeof ns !== "string" || !isDnsLabel(ns)) fail(key(k, i), ns, "use a namespace name (a DNS label)");
        return ns;
    });
}

export function validateAdmission(k: string, v: unknown): AdmissionSettings {
    if (v === undefined) v = {};
    if (!isPlainObject(v)) fail(k, v, "use an object { allowedRegistries?, nodePortNamespaces?, ... }");
    knownKeys(k, v, ["allowedRegistries", "nodePortNamespaces", "loadBalancerNamespaces", "exemptNamespaces", "serviceAccounts", "workloadSecrets"]);
    const raw = v as Record<string, unknown>;
    let registries = [...DEFAULT_ALLOWED_REGISTRIES];
    if (raw.allowedRegistries !== undefined) {
        const rk = key(k, "allowedRegistries");
        if (!Array.isArray(raw.allowedRegistries) || raw.allowedRegistries.length === 0) {
            fail(rk, raw.allowedRegistries, "use a non-empty list of registry hosts");
        }
        registries = raw.allowedRegistries.map((r, i) => validateRegistry(key(rk, i), r));
    }
    return {
        allowedRegistries: registries,
        nodePortNamespaces: namespaceList(key(k, "nodePortNamespaces"), raw.nodePortNamespaces),
        loadBalancerNamespaces: namespaceList(key(k, "loadBalancerNamespaces"), raw.loadBalancerNamespaces),
        exemptNamespaces: namespaceList(key(k, "exemptNamespaces"), raw.exemptNamespaces),
        serviceAccounts: namesByNamespace(key(k, "serviceAccounts"), raw.serviceAccounts, "ServiceAccount"),
        workloadSecrets: namesByNamespace(key(k, "workloadSecrets"), raw.workloadSecrets, "Secret"),
    };
}

/** A CEL string literal. Inputs are validated hosts and DNS labels, but quoting stays correct regardless. */
export function celString(s: string): string {
    return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

export function celStringList(values: readonly string[]): string {
    return `[${values.map(celString).join(", ")}]`;
}

/** The pod spec of any object the policy matches: a Pod's own, a controller's template, a CronJob's job's. */
export function celPodSpec(root = "object"): string {
    return (
        `${root}.kind == 'Pod' ? ${root}.spec : ` +
        `(${root}.kind == 'CronJob' ? ${root}.spec.jobTemplate.spec.template.spec : ${root}.spec.template.spec)`
    );
}

/** Images of all three container lists of a pod spec expression, as one list of strings. */
export function celImages(podSpec: string): string {
    return ["containers", "initContainers", "ephemeralContainers"]
        .map((f) => `(has(${podSpec}.${f}) ? ${podSpec}.${f}.map(c, c.image) : [])`)
        .join(" + ");
}

/** Registry of the image held in CEL variable `image`; the CEL twin of imageRegistry() in registry.ts. */
export function celRegistryOf(image: string): string {
    return `${image}.matches(${celString(EXPLICIT_REGISTRY_PATTERN)}) ? ${image}.split('/')[0] : ${celString(DOCKER_HUB)}`;
}

/** The CEL guard a Service of the given type must pass. */
function celServiceTypeAllowed(type: "NodePort" | "LoadBalancer", namespaces: readonly string[]): string {
    return (
        `object.kind != 'Service' || !has(object.spec.type) || object.spec.type != ${celString(type)} || ` +
        `namespaceObject.metadata.name in ${celStringList(namespaces)}`
    );
}

export interface ResourceRule {
    apiGroups: string[];
    apiVersions: string[];
    operations: ("CREATE" | "UPDATE" | "DELETE")[];
    resources: string[];
}

/** admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy, field names as upstream. */
export interface ValidatingAdmissionPolicyObject {
    apiVersion: "admissionregistration.k8s.io/v1";
    kind: "ValidatingAdmissionPolicy";
    metadata: { name: string; labels: Record<string, string> };
    spec: {
        failurePolicy: "Fail";
        matchConstraints: { resourceRules: ResourceRule[] };
        variables: { name: string; expression: string }[];
        validations: { expression: string; message: string; messageExpression?: string; reason: "Forbidden" }[];
    };
}

export interface ValidatingAdmissionPolicyBindingObject {
    apiVersion: "admissionregistration.k8s.io/v1";
    kind: "ValidatingAdmissionPolicyBinding";
    metadata: { name: string; labels: Record<string, string> };
    spec: {
        policyName: string;
        validationActions: "Deny"[];
        matchResources?: { namespaceSelector: { matchExpressions: { key: string; operator: "In" | "NotIn"; values: string[] }[] } };
    };
}

const WRITE_OPS: ("CREATE" | "UPDATE")[] = ["CREATE", "UPDATE"];

export function renderWorkloadPolicy(s: AdmissionSettings): ValidatingAdmissionPolicyObject {
    const allowed = s.allowedRegistries.join(", ");
    return {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicy",
        metadata: { name: WORKLOAD_POLICY_NAME, labels: { ...PART_OF_LABELS } },
        spec: {
            failurePolicy: "Fail",
            matchConstraints: {
                resourceRules: [
                    // Ephemeral containers arrive through their own subresource, not as a Pod update.
                    { apiGroups: [""], apiVersions: ["v1"], operations: WRITE_OPS, resources: ["pods", "pods/ephemeralcontainers", "replicationcontrollers", "services"] },
                    { apiGroups: ["apps"], apiVersions: ["v1"], operations: WRITE_OPS, resources: ["deployments", "statefulsets", "daemonsets", "replicasets"] },
                    { apiGroups: ["batch"], apiVersions: ["v1"], operations: WRITE_OPS, resources: ["jobs", "cronjobs"] },
                ],
            },
            // Variables are evaluated lazily, so a Service never touches the pod-spec ones.
            variables: [
                { name: "allowedRegistries", expression: celStringList(s.allowedRegistries) },
                { name: "podSpec", expression: celPodSpec("object") },
                { name: "images", expression: celImages("variables.podSpec") },
                { name: "registries", expression: `variables.images.map(i, ${celRegistryOf("i")})` },
            ],
            validations: [
                {
                    expression: "object.kind == 'Service' || variables.registries.all(r, r in variables.allowedRegistries)",
                    message: `every container image must come from an allowed registry (${allowed}); an image without a registry host is from ${DOCKER_HUB}`,
                    messageExpression:
                        "'images from registries outside the allow-list: ' + " +
                        "variables.registries.filter(r, !(r in variables.allowedRegistries)).join(', ') + " +
                        celString(`; allowed: ${allowed}; an image without a registry host is from ${DOCKER_HUB}`),
                    reason: "Forbidden",
                },
                {
                    expression: celServiceTypeAllowed("NodePort", s.nodePortNamespaces),
                    message: `Services of type NodePort are only allowed in: ${s.nodePortNamespaces.join(", ") || "(no namespace)"}`,
                    reason: "Forbidden",
                },
                {
                    expression: celServiceTypeAllowed("LoadBalancer", s.loadBalancerNamespaces),
                    message: `Services of type LoadBalancer are only allowed in: ${s.loadBalancerNamespaces.join(", ") || "(no namespace)"}`,
                    reason: "Forbidden",
                },
            ],
        },
    };
}

export function renderWorkloadPolicyBinding(s: AdmissionSettings): ValidatingAdmissionPolicyBindingObject {
    const spec: ValidatingAdmissionPolicyBindingObject["spec"] = { policyName: WORKLOAD_POLICY_NAME, validationActions: ["Deny"] };
    if (s.exemptNamespaces.length > 0) {
        spec.matchResources = {
            namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: [...s.exemptNamespaces] }] },
        };
    }
    return {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicyBinding",
        metadata: { name: WORKLOAD_POLICY_BINDING_NAME, labels: { ...PART_OF_LABELS } },
        spec,
    };
}
