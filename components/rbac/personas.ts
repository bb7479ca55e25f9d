// The built-in personas, as data. Users add their own in the same shape; invariants.ts decides what any
// persona may hold, so a custom persona is held to exactly the rules these are.
import { WRITE_VERBS } from "../common";
import { BUILT_IN_CLUSTER_ADMIN_ROLE, personaClusterRoleName } from "./names";

/** An RBAC PolicyRule, field names as in rbac.authorization.k8s.io/v1. */
export interface PolicyRule {
    apiGroups?: string[];
    resources?: string[];
    resourceNames?: string[];
    nonResourceURLs?: string[];
    verbs: string[];
}

/**
 * How much a persona may be trusted with:
 * - "break-glass": anything, wildcards included (only the built-in cluster-admin persona);
 * - "admin": no wildcards, but may hold the escalation-capable permissions (escalate, bind, impersonate,
 *   exec into pods, proxy, minting tokens, reading Secrets, CSRs, PVs, namespace and admission writes);
 * - "standard": none of those (the RBAC good-practices list, see invariants.ts); this is the tier that
 *   claims not to escalate, platform-admin included.
 */
export type PersonaTier = "break-glass" | "admin" | "standard";

/** "cluster": bound once with a ClusterRoleBinding. "namespace": bound per namespace with RoleBindings. */
export type PersonaScope = "cluster" | "namespace";
export const PERSONA_SCOPES: readonly PersonaScope[] = ["cluster", "namespace"];

export interface Persona {
    name: string;
    description: string;
    tier: PersonaTier;
    scope: PersonaScope;
    /** The ClusterRole this persona is bound to. */
    clusterRole: string;
    /** Whether we render that ClusterRole (false: it is a built-in role that already exists). */
    renderRole: boolean;
    rules: PolicyRule[];
}

const READ = ["get", "list", "watch"];
const ALL = [...READ, ...WRITE_VERBS];

function rule(apiGroup: string, resources: string[], verbs: readonly string[]): PolicyRule {
    return { apiGroups: [apiGroup], resources: [...resources], verbs: [...verbs] };
}

// What a tenant works with, grouped by API group. Read access to these is what "viewer" means.
const TENANT_READABLE: Record<string, string[]> = {
    "": [
        "pods", "pods/log", "pods/status", "services", "services/status", "endpoints", "configmaps",
        "persistentvolumeclaims", "persistentvolumeclaims/status", "serviceaccounts", "events",
        "replicationcontrollers", "replicationcontrollers/scale", "replicationcontrollers/status",
        "limitranges", "resourcequotas", "resourcequotas/status", "podtemplates",
    ],
    apps: [
        "deployments", "deployments/scale", "deployments/status", "statefulsets", "statefulsets/scale",
        "statefulsets/status", "daemonsets", "daemonsets/status", "replicasets", "replicasets/scale",
        "replicasets/status", "controllerrevisions",
    ],
    batch: ["jobs", "jobs/status", "cronjobs", "cronjobs/status"],
    autoscaling: ["horizontalpodautoscalers", "horizontalpodautoscalers/status"],
    policy: ["poddisruptionbudgets", "poddisruptionbudgets/status"],
    "networking.k8s.io": ["ingresses", "ingresses/status", "networkpolicies"],
    "discovery.k8s.io": ["endpointslices"],
    "events.k8s.io": ["events"],
    "coordination.k8s.io": ["leases"],
};

// What a developer may change. Not here on purpose: NetworkPolicies (a developer could open the namespace),
// ServiceAccounts, quotas and limits (platform decisions), Secrets beyond create (see invariants.ts).
const DEVELOPER_WRITABLE: Record<string, string[]> = {
    "": ["pods", "services", "configmaps", "persistentvolumeclaims", "replicationcontrollers", "replicationcontrollers/scale"],
    apps: ["deployments", "deployments/scale", "statefulsets", "statefulsets/scale", "daemonsets", "replicasets", "replicasets/scale"],
    batch: ["jobs", "cronjobs"],
    autoscaling: ["horizontalpodautoscalers"],
    policy: ["poddisruptionbudgets"],
    "networking.k8s.io": ["ingresses"],
};

// A pipeline applies manifests and waits for rollouts; it never needs to run commands in or read pods' data.
const CI_WRITABLE: Record<string, string[]> = {
    "": ["services", "configmaps", "serviceaccounts", "persistentvolumeclaims"],
    apps: ["deployments", "deployments/scale", "statefulsets", "statefulsets/scale", "daemonsets"],
    batch: ["jobs", "cronjobs"],
    autoscaling: ["horizontalpodautoscalers"],
    policy: ["poddisruptionbudgets"],
    "networking.k8s.io": ["ingresses"],
};

// Cluster-scoped objects platform operators and auditors look at.
const CLUSTER_READABLE: Record<string, string[]> = {
    "": ["namespaces", "namespaces/status", "nodes", "nodes/status", "persistentvolumes", "componentstatuses"],
    "rbac.authorization.k8s.io": ["roles", "rolebindings", "clusterroles", "clusterrolebindings"],
    "storage.k8s.io": ["storageclasses", "volumeattachments", "csidrivers", "csinodes", "csistoragecapacities"],
    "apiextensions.k8s.io": ["customresourcedefinitions"],
    "admissionregistration.k8s.io": [
        "validatingadmissionpolicies", "validatingadmissionpolicybindings",
        "validatingwebhookconfigurations", "mutatingwebhookconfigurations",
    ],
    "scheduling.k8s.io": ["priorityclasses"],
    "node.k8s.io": ["runtimeclasses"],
    "networking.k8s.io": ["ingressclasses"],
    "certificates.k8s.io": ["certificatesigningrequests"],
    "flowcontrol.apiserver.k8s.io": ["flowschemas", "prioritylevelconfigurations"],
};

function rulesFor(groups: Record<string, string[]>, verbs: readonly string[]): PolicyRule[] {
    return Object.entries(groups).map(([group, resources]) => rule(group, resources, verbs));
}

function viewerRules(): PolicyRule[] {
    return rulesFor(TENANT_READABLE, READ);
}

function developerRules(): PolicyRule[] {
    return [
        ...viewerRules(),
        ...rulesFor(DEVELOPER_WRITABLE, WRITE_VERBS),
        // Create only: every other verb on a Secret returns its stored data.
        rule("", ["secrets"], ["create"]),
    ];
}

function namespaceAdminRules(): PolicyRule[] {
    return [
        ...developerRules(),
        rule("", ["secrets", "serviceaccounts"], ALL),
        rule("networking.k8s.io", ["networkpolicies"], ALL),
        rule("rbac.authorization.k8s.io", ["roles", "rolebindings"], ALL),
        rule("", ["pods/exec", "pods/attach", "pods/portforward"], ["get", "create"]),
        rule("", ["pods/ephemeralcontainers"], ["get", "update", "patch"]),
        rule("", ["pods/eviction"], ["create"]),
    ];
}

// Cluster-wide, platform-admin holds nothing from the good-practices escalation list: no workloads, Secrets,
// PersistentVolumes, namespace writes, CSRs or admission writes. In tenant namespaces the cluster baseline
// also binds it to namespace-admin, so it runs workloads there and nowhere else (kube-system included).
function platformAdminRules(): PolicyRule[] {
    return [
        ...viewerRules(),
        ...rulesFor(CLUSTER_READABLE, READ),
        rule("", ["resourcequotas", "limitranges"], ALL),
        // Cordon and label nodes; deleting or proxying to them stays break-glass.
        rule("", ["nodes"], ["patch", "update"]),
        rule("storage.k8s.io", ["storageclasses"], ALL),
        rule("apiextensions.k8s.io", ["customresourcedefinitions"], ALL),
        rule("scheduling.k8s.io", ["priorityclasses"], ALL),
        rule("networking.k8s.io", ["ingressclasses"], ALL),
        // Without escalate/bind the apiserver only lets it grant permissions it holds itself, and it holds
        // none of the escalation routes, so no binding it makes can reach cluster-admin.
        rule("rbac.authorization.k8s.io", ["roles", "rolebindings", "clusterroles", "clusterrolebindings"], ALL),
    ];
}

function auditorRules(): PolicyRule[] {
    return [...viewerRules(), ...rulesFor(CLUSTER_READABLE, READ)];
}

function ciDeployerRules(): PolicyRule[] {
    return [
        rule("", ["pods", "pods/log", "events", "services", "endpoints", "configmaps", "serviceaccounts", "persistentvolumeclaims"], READ),
        rule("apps", ["deployments", "statefulsets", "daemonsets", "replicasets"], READ),
        rule("batch", ["jobs", "cronjobs"], READ),
        ...rulesFor(CI_WRITABLE, WRITE_VERBS),
        rule("", ["secrets"], ["create"]),
    ];
}

// What each persona can do, implicit access included; the README repeats these.
const PLATFORM_ADMIN_DESCRIPTION =
    "Operates the platform: cluster-wide it reads everything but Secrets and writes quotas, limits, node labels, " +
    "storage/priority/ingress classes, CRDs and RBAC (only with permissions it holds); in tenant namespaces it is " +
    "namespace-admin. No workloads, Secrets, PersistentVolumes, namespace writes, CSRs or admission writes outside " +
    "tenants; cannot escalate, bind, impersonate, proxy or exec outside tenants.";
const NAMESPACE_ADMIN_DESCRIPTION =
    "Full control of one namespace's workloads, Secrets, ServiceAccounts, Roles and NetworkPolicies (not the " +
    "hardened-* ones) and exec into its pods; so it reads every Secret and acts as every ServiceAccount there. " +
    "Pods may only use allow-listed ServiceAccounts and Secrets; not its quota, PSA labels or token Secrets.";
const DEVELOPER_DESCRIPTION =
    "Deploys workloads in a namespace and reads their logs; creates Secrets but cannot read them back, except " +
    "that a pod it creates can mount the namespace's allow-listed Secrets and run as its allow-listed " +
    "ServiceAccounts. No exec, no RBAC, no NetworkPolicies.";
const CI_DEPLOYER_DESCRIPTION =
    "Applies workloads, Services, ConfigMaps and ServiceAccounts in a namespace from a pipeline; creates Secrets " +
    "without reading them; its pods are limited to the allow-listed ServiceAccounts and Secrets. No RBAC, no exec.";

function persona(name: string, description: string, tier: PersonaTier, scope: PersonaScope, rules: PolicyRule[]): Persona {
    return { name, description, tier, scope, clusterRole: personaClusterRoleName(name), renderRole: true, rules };
}

/** Fresh copies of the built-in personas (callers may change theirs without touching anyone else's). */
export function builtInPersonas(): Persona[] {
    return [
        {
            name: "cluster-admin",
            description: "Break-glass superuser; bound to the built-in cluster-admin ClusterRole.",
            tier: "break-glass",
            scope: "cluster",
            clusterRole: BUILT_IN_CLUSTER_ADMIN_ROLE,
            renderRole: false,
            // What the built-in role grants, so the posture and the invariant checks see it too.
            rules: [
                { apiGroups: ["*"], resources: ["*"], verbs: ["*"] },
                { nonResourceURLs: ["*"], verbs: ["*"] },
            ],
        },
        persona("platform-admin", PLATFORM_ADMIN_DESCRIPTION, "standard", "cluster", platformAdminRules()),
        persona("namespace-admin", NAMESPACE_ADMIN_DESCRIPTION, "admin", "namespace", namespaceAdminRules()),
        persona("developer", DEVELOPER_DESCRIPTION, "standard", "namespace", developerRules()),
        persona("viewer", "Reads a namespace's workloads and pod logs; no Secrets, no writes.", "standard", "namespace", viewerRules()),
        persona("auditor", "Reads everything cluster-wide, RBAC and pod logs included; no Secret data, no writes.", "standard", "cluster", auditorRules()),
        persona("ci-deployer", CI_DEPLOYER_DESCRIPTION, "standard", "namespace", ciDeployerRules()),
    ];
}
