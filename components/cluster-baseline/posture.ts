// The cluster's security posture in one object: what every namespace enforces, who holds which persona, what
// admission refuses, and a flat list of every departure from the restrictive defaults.
import { key, type Weakening } from "../common";
import { BUILT_IN_PERSONA_NAMES } from "../rbac/names";
import type { PersonaSummary } from "../rbac/plan";
import type { RbacSubject } from "../rbac/subjects";
import { namespacePosture, type NamespacePosture } from "../secure-namespace/posture";
import { DEFAULT_ALLOWED_REGISTRIES, WORKLOAD_POLICY_BINDING_NAME, WORKLOAD_POLICY_NAME, type AdmissionSettings } from "./admission";
import { builtInNamespacePostures } from "./builtin-namespaces";
import type { ClusterBaselinePlan } from "./plan";
import { PRIVILEGE_GUARD_NAME, TENANT_GUARD_NAME, type GuardSettings } from "./guards";
import { WORKLOAD_IMPLICIT_ACCESS } from "../rbac/invariants";

export interface PersonaPosture extends PersonaSummary {
    /** For namespace personas: subjects bound in each namespace. */
    namespaceSubjects: Record<string, RbacSubject[]>;
}

export interface AdmissionPosture extends AdmissionSettings {
    policy: string;
    binding: string;
}

export interface ClusterPosture {
    podSecurityVersion: string;
    namespaces: NamespacePosture[];
    personas: PersonaPosture[];
    admission: AdmissionPosture;
    /** Every identity with cluster-admin power, including the ones no configured binding names. */
    clusterAdmins: string[];
    guards: { policies: string[]; implicitWorkloadAccess: string } & Pick<GuardSettings, "serviceAccounts" | "secrets" | "tenants">;
    weakenings: Weakening[];
}

/** `k` is the baseline's admission key. */
function guardWeakenings(k: string, a: AdmissionSettings): Weakening[] {
    const out: Weakening[] = [];
    for (const [ns, names] of Object.entries(a.serviceAccounts)) {
        if (names.some((n) => n !== "default")) {
            out.push({ option: key(k, "serviceAccounts", ns), effect: `pods in ${ns} may run as ServiceAccounts ${names.join(", ")} (so may anyone who can create pods there)` });
        }
    }
    for (const [ns, names] of Object.entries(a.workloadSecrets)) {
        if (names.length > 0) out.push({ option: key(k, "workloadSecrets", ns), effect: `pods in ${ns} may read Secrets ${names.join(", ")} (so may anyone who can create pods there)` });
    }
    return out;
}

/** `k` is the baseline's admission key. */
function admissionWeakenings(k: string, plan: ClusterBaselinePlan): Weakening[] {
    const a = plan.admission;
    const byPlatform = plan.platformRegistries.map((p) => p.registry);
    const out: Weakening[] = plan.platformRegistries.map((p) => ({ option: p.setting, effect: `images also allowed from ${p.registry} (${p.serves})` }));
    const extra = a.allowedRegistries.filter((r) => !DEFAULT_ALLOWED_REGISTRIES.includes(r) && !byPlatform.includes(r));
    if (extra.length > 0) out.push({ option: key(k, "allowedRegistries"), effect: `images also allowed from ${extra.join(", ")}` });
    if (a.nodePortNamespaces.length > 0) out.push({ option: key(k, "nodePortNamespaces"), effect: `NodePort Services allowed in ${a.nodePortNamespaces.join(", ")}` });
    if (a.loadBalancerNamespaces.length > 0) {
        out.push({ option: key(k, "loadBalancerNamespaces"), effect: `LoadBalancer Services allowed in ${a.loadBalancerNamespaces.join(", ")}` });
    }
    if (a.exemptNamespaces.length > 0) out.push({ option: key(k, "exemptNamespaces"), effect: `workload guard does not apply in ${a.exemptNamespaces.join(", ")}` });
    return out;
}

/** Custom personas come after the built-in ones, in config order (rbac/validate.ts resolvePersonas). */
function personaWeakenings(plan: ClusterBaselinePlan): Weakening[] {
    const builtIn = BUILT_IN_PERSONA_NAMES as readonly string[];
    return plan.rbac.personas
        .filter((p) => !builtIn.includes(p.name))
        .flatMap((p, i) => (p.tier === "admin"
            ? [{ option: key(plan.configKey, "rbac", "personas", i, "tier"), effect: `custom persona ${p.name} is admin-tier (may escalate, exec, read Secrets)` }]
            : []));
}

export function clusterPosture(plan: ClusterBaselinePlan): ClusterPosture {
    const namespaces = [...builtInNamespacePostures(plan.podSecurityVersion, plan.configKey), ...plan.tenants.map(namespacePosture)];
    const personas = plan.rbac.summary.map((p): PersonaPosture => {
        const namespaceSubjects: Record<string, RbacSubject[]> = {};
        for (const ns of namespaces) {
            const subjects = ns.roleBindings[p.name];
            if (subjects) namespaceSubjects[ns.name] = subjects;
        }
        return { ...p, namespaceSubjects };
    });
    const admissionKey = key(plan.configKey, "admission");
    return {
        podSecurityVersion: plan.podSecurityVersion,
        namespaces,
        personas,
        admission: { ...plan.admission, policy: WORKLOAD_POLICY_NAME, binding: WORKLOAD_POLICY_BINDING_NAME },
        clusterAdmins: [...plan.rbac.clusterAdmins],
        guards: {
            policies: [PRIVILEGE_GUARD_NAME, TENANT_GUARD_NAME],
            implicitWorkloadAccess: WORKLOAD_IMPLICIT_ACCESS,
            tenants: [...plan.guards.tenants],
            serviceAccounts: [...plan.guards.serviceAccounts],
            secrets: [...plan.guards.secrets],
        },
        weakenings: [
            ...namespaces.flatMap((n) => n.weakenings),
            ...personaWeakenings(plan),
            ...admissionWeakenings(admissionKey, plan),
            ...guardWeakenings(admissionKey, plan.admission),
        ],
    };
}
