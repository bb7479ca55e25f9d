// ResourceQuota and LimitRange of a namespace. The quota caps what one tenant can take from the others; the
// LimitRange gives containers that state nothing a request and a limit, which the quota then requires.
import { fail, isPlainObject, key, knownKeys } from "../common";
import { PART_OF_LABELS } from "../rbac/names";

export const RESOURCE_QUOTA_NAME = "hardened-quota";
export const LIMIT_RANGE_NAME = "hardened-limits";

/** Defaults sized for a small team's namespace; override per key. */
export const DEFAULT_QUOTA: Readonly<Record<string, string>> = {
    "requests.cpu": "4",
    "requests.memory": "8Gi",
    "limits.cpu": "8",
    "limits.memory": "16Gi",
    pods: "50",
    persistentvolumeclaims: "10",
    "requests.storage": "100Gi",
};

export type ResourceList = Partial<Record<"cpu" | "memory" | "ephemeral-storage", string>>;
const RESOURCE_LIST_KEYS = ["cpu", "memory", "ephemeral-storage"];

export interface LimitRangeInput {
    /** Limits given to containers that set none. */
    default?: ResourceList;
    /** Requests given to containers that set none. */
    defaultRequest?: ResourceList;
    /** Largest limit a container may set. */
    max?: ResourceList;
}

const DEFAULT_LIMITS: Readonly<Required<Pick<LimitRangeInput, "default" | "defaultRequest">>> = {
    default: { cpu: "500m", memory: "512Mi" },
    defaultRequest: { cpu: "100m", memory: "128Mi" },
};

export interface ResourceQuotaObject {
    apiVersion: "v1";
    kind: "ResourceQuota";
    metadata: { name: string; namespace: string; labels: Record<string, string> };
    spec: { hard: Record<string, string> };
}

export interface LimitRangeObject {
    apiVersion: "v1";
    kind: "LimitRange";
    metadata: { name: string; namespace: string; labels: Record<string, string> };
    spec: { limits: ({ type: "Container" } & LimitRangeInput)[] };
}

// A Kubernetes quantity without sign: 4, 500m, 1.5, 8Gi, 1e3.
const QUANTITY = /^(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;
// Quota resource names: "pods", "requests.cpu", "count/deployments.apps", "requests.nvidia.com/gpu".
const QUOTA_RESOURCE = /^[a-z0-9]([-a-z0-9./]*[a-z0-9])?$/;

function quantity(k: string, v: unknown): string {
    if (typeof v !== "string" || !QUANTITY.test(v)) fail(k, v, 'use a Kubernetes quantity string, e.g. "500m", "2", "8Gi"');
    return v;
}

/** The configured keys override the defaults one by one; a quota cannot be switched off. */
export function validateQuota(k: string, v: unknown): Record<string, string> {
    if (v === undefined) return { ...DEFAULT_QUOTA };
    if (!isPlainObject(v)) fail(k, v, "use a map of quota resource to quantity");
    const out = { ...DEFAULT_QUOTA };
    for (const [name, q] of Object.entries(v as Record<string, unknown>)) {
        if (!QUOTA_RESOURCE.test(name)) fail(key(k, name), name, 'use a quota resource name, e.g. "requests.cpu", "pods", "count/secrets"');
        out[name] = quantity(key(k, name), q);
    }
    return out;
}

function resourceList(k: string, v: unknown): ResourceList | undefined {
    if (v === undefined) return undefined;
    if (!isPlainObject(v)) fail(k, v, "use { cpu?, memory?, ephemeral-storage? }");
    knownKeys(k, v, RESOURCE_LIST_KEYS);
    const out: Record<string, string> = {};
    for (const [name, q] of Object.entries(v as Record<string, unknown>)) out[name] = quantity(key(k, name), q);
    return out;
}

export function validateLimitRange(k: string, v: unknown): LimitRangeInput {
    if (v === undefined) return structuredClone(DEFAULT_LIMITS);
    if (!isPlainObject(v)) fail(k, v, "use { default?, defaultRequest?, max? }");
    knownKeys(k, v, ["default", "defaultRequest", "max"]);
    const raw = v as Record<string, unknown>;
    const out: LimitRangeInput = {
        default: { ...DEFAULT_LIMITS.default, ...resourceList(key(k, "default"), raw.default) },
        defaultRequest: { ...DEFAULT_LIMITS.defaultRequest, ...resourceList(key(k, "defaultRequest"), raw.defaultRequest) },
    };
    const max = resourceList(key(k, "max"), raw.max);
    if (max) out.max = max;
    return out;
}

export function renderResourceQuota(namespace: string, hard: Record<string, string>): ResourceQuotaObject {
    return {
        apiVersion: "v1",
        kind: "ResourceQuota",
        metadata: { name: RESOURCE_QUOTA_NAME, namespace, labels: { ...PART_OF_LABELS } },
        spec: { hard: { ...hard } },
    };
}

export function renderLimitRange(namespace: string, limits: LimitRangeInput): LimitRangeObject {
    return {
        apiVersion: "v1",
        kind: "LimitRange",
        metadata: { name: LIMIT_RANGE_NAME, namespace, labels: { ...PART_OF_LABELS } },
        spec: { limits: [{ type: "Container", ...structuredClone(limits) }] },
    };
}
