// The audit Policy (audit.k8s.io/v1) for each preset. The apiserver uses the FIRST rule that matches a
// request, so the order below is the security property: noise is dropped first, then every request that
// could carry key material is pinned to Metadata, and only then do broader rules ask for bodies.
import { WRITE_VERBS } from "../common";
import { AuditLogOptions, AuditPreset, resolveAuditOptions } from "./options";

export type AuditLevel = "None" | "Metadata" | "Request" | "RequestResponse";

export interface AuditGroupResources {
    /** "" is the core group. */
    group: string;
    /** Empty or absent: every resource and subresource of the group. */
    resources?: string[];
}

export interface AuditPolicyRule {
    level: AuditLevel;
    users?: string[];
    userGroups?: string[];
    verbs?: string[];
    resources?: AuditGroupResources[];
    namespaces?: string[];
    nonResourceURLs?: string[];
}

export interface AuditPolicy {
    apiVersion: "audit.k8s.io/v1";
    kind: "Policy";
    omitStages: string[];
    omitManagedFields: boolean;
    rules: AuditPolicyRule[];
}

/**
 * Requests whose bodies can hold secrets: Secret data, ConfigMaps (routinely misused for credentials),
 * service-account tokens minted through TokenRequest, and everything in authentication.k8s.io
 * (TokenReview carries a bearer token in its body). Logged at Metadata: who touched what, never the content.
 */
const METADATA_ONLY: AuditGroupResources[] = [
    { group: "", resources: ["secrets", "configmaps", "serviceaccounts/token"] },
    { group: "authentication.k8s.io" },
];

/** Resources whose writes change who can do what or what runs, for "strict"'s RequestResponse rule. */
const STRICT_WRITE_TARGETS: AuditGroupResources[] = [
    { group: "rbac.authorization.k8s.io" },
    // Admission webhooks see and can alter every request, a classic persistence point.
    { group: "admissionregistration.k8s.io" },
    {
        group: "",
        resources: [
            "pods", "pods/exec", "pods/attach", "pods/portforward", "pods/ephemeralcontainers", "pods/eviction",
            "replicationcontrollers", "replicationcontrollers/scale",
        ],
    },
    {
        group: "apps",
        resources: [
            "deployments", "deployments/scale", "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale",
            "daemonsets", "controllerrevisions",
        ],
    },
    { group: "batch", resources: ["jobs", "cronjobs"] },
];

const EVENTS: AuditGroupResources[] = [{ group: "", resources: ["events"] }, { group: "events.k8s.io", resources: ["events"] }];
/** The control plane's own identities (kube-controller-manager's controllers act as kube-system service accounts). */
export const SYSTEM_EVENT_USERS = ["system:kube-controller-manager", "system:kube-scheduler", "system:apiserver", "system:kube-proxy"] as const;
export const SYSTEM_EVENT_GROUPS = ["system:nodes", "system:serviceaccounts:kube-system"] as const;

// Dropped in every preset: high-volume traffic with no security signal. Each rule is as narrow as the
// noise it targets (named system users, exact resources), so the same verbs from anyone else are still logged.
const NOISE: AuditPolicyRule[] = [
    // Probes and version checks from load balancers, kubelets and monitoring.
    { level: "None", nonResourceURLs: ["/healthz*", "/livez*", "/readyz*", "/version"] },
    // kube-proxy holds long-running watches on every Service and EndpointSlice.
    {
        level: "None",
        users: ["system:kube-proxy"],
        verbs: ["watch"],
        resources: [
            { group: "", resources: ["endpoints", "services", "services/status"] },
            { group: "discovery.k8s.io", resources: ["endpointslices"] },
        ],
    },
    // Node heartbeats: every kubelet renews its Lease every few seconds.
    {
        level: "None",
        userGroups: ["system:nodes"],
        verbs: ["get", "update", "patch"],
        namespaces: ["kube-node-lease"],
        resources: [{ group: "coordination.k8s.io", resources: ["leases"] }],
    },
    // Leader election and apiserver identity leases of the control plane itself.
    {
        level: "None",
        users: ["system:kube-controller-manager", "system:kube-scheduler", "system:apiserver"],
        verbs: ["get", "update"],
        namespaces: ["kube-system"],
        resources: [{ group: "coordination.k8s.io", resources: ["leases"] }],
    },
    // Events from the cluster's own components far outnumber all other writes. Only theirs are dropped: a
    // person's (or a workload's) event writes can forge or bury the trail an investigator reads.
    { level: "None", users: [...SYSTEM_EVENT_USERS], resources: EVENTS },
    { level: "None", userGroups: [...SYSTEM_EVENT_GROUPS], resources: EVENTS },
];

const PRESET_RULES: Record<AuditPreset, AuditPolicyRule[]> = {
    minimal: [],
    standard: [{ level: "Request", verbs: [...WRITE_VERBS] }],
    strict: [
        // Any verb: kubectl's WebSocket exec, attach and port-forward arrive as "get", not "create".
        { level: "RequestResponse", resources: [{ group: "", resources: ["pods/exec", "pods/attach", "pods/portforward"] }] },
        { level: "RequestResponse", verbs: [...WRITE_VERBS], resources: STRICT_WRITE_TARGETS },
        { level: "Request", verbs: [...WRITE_VERBS] },
    ],
};

export function renderAuditPolicy(options: AuditLogOptions | undefined, configKey = "audit"): AuditPolicy {
    const { preset } = resolveAuditOptions(options, configKey);
    const rules: AuditPolicyRule[] = [
        ...NOISE,
        // Unconditional (any user, verb, namespace) so nothing below can see these bodies.
        { level: "Metadata", resources: METADATA_ONLY },
        ...PRESET_RULES[preset],
        // Everything else, reads included, is recorded without bodies: the apiserver's default would be None.
        { level: "Metadata" },
    ];
    return {
        apiVersion: "audit.k8s.io/v1",
        kind: "Policy",
        // The RequestReceived event duplicates ResponseComplete for every request.
        omitStages: ["RequestReceived"],
        // managedFields double the size of logged bodies and say nothing the event's user field does not.
        omitManagedFields: true,
        rules: rules.map(clone),
    };
}

/** Fresh objects per render, so a caller mutating the result cannot change the next policy. */
function clone(rule: AuditPolicyRule): AuditPolicyRule {
    return JSON.parse(JSON.stringify(rule)) as AuditPolicyRule;
}
