// Configuration of the whole in-cluster baseline -> everything validated and rendered, before Pulumi is involved.
import { CLUSTER_ADMINS_GROUP, fail, key, knownKeys, SYSTEM_MASTERS_GROUP } from "../common";
import { planRbac, type RbacConfig, type RbacPlan } from "../rbac/plan";
import { DEFAULT_PSA_VERSION, validatePsaVersion } from "../secure-namespace/pod-security";
import {
    planSecureNamespace,
    renderSecureNamespace,
    type NamespaceObject,
    type SecureNamespaceConfig,
    type SecureNamespaceObjects,
    type SecureNamespacePlan,
} from "../secure-namespace/plan";
import {
    renderWorkloadPolicy,
    renderWorkloadPolicyBinding,
    validateAdmission,
    type AdmissionInput,
    type AdmissionSettings,
    type ValidatingAdmissionPolicyBindingObject,
    type ValidatingAdmissionPolicyObject,
} from "./admission";
import { renderBuiltInDenyAll, renderBuiltInNamespacePatches } from "./builtin-namespaces";
import {
    renderPrivilegeGuard,
    renderPrivilegeGuardBinding,
    renderTenantGuard,
    renderTenantGuardBinding,
    type GuardBindingObject,
    type GuardSettings,
    type Identities,
} from "./guards";
import { personaBindingName } from "../rbac/names";
import { renderRoleBinding, type BindingObject } from "../rbac/render";
import type { RbacSubject } from "../rbac/subjects";
import type { NetworkPolicyObject } from "../secure-namespace/network";

export interface ClusterBaselineConfig {
    /** PSA version for every namespace that sets none; defaults to the cluster minor (DEFAULT_PSA_VERSION). */
    podSecurityVersion?: string;
    /** One secure namespace per tenant. */
    tenants?: SecureNamespaceConfig[];
    rbac?: RbacConfig;
    admission?: AdmissionInput;
}

const CLUSTER_BASELINE_KEYS = ["podSecurityVersion", "tenants", "rbac", "admission"] as const;

/**
 * A registry the platform itself serves images from (the local workers' own read-only registry), allowed beside
 * the configured ones; the posture names the setting that brought it.
 */
export interface PlatformRegistry {
    registry: string;
    /** The setting that brought it, e.g. "hardened-cluster:local.workers". */
    setting: string;
    /** What it serves, for the posture. */
    serves: string;
}

export interface ClusterBaselinePlan {
    /** The key this config was read from; the posture names settings below it. */
    configKey: string;
    podSecurityVersion: string;
    rbac: RbacPlan;
    tenants: SecureNamespacePlan[];
    admission: AdmissionSettings;
    guards: GuardSettings;
    /** Registries the platform adds to admission.allowedRegistries (already in that list). */
    platformRegistries: PlatformRegistry[];
}

export interface ClusterBaselineObjects {
    builtInNamespacePatches: NamespaceObject[];
    tenants: SecureNamespaceObjects[];
    policy: ValidatingAdmissionPolicyObject;
    policyBinding: ValidatingAdmissionPolicyBindingObject;
    guards: ValidatingAdmissionPolicyObject[];
    guardBindings: GuardBindingObject[];
    /** Default deny in the built-in namespaces other than kube-system. */
    builtInNetworkPolicies: NetworkPolicyObject[];
    /** platform-admin's subjects bound to namespace-admin in every tenant namespace. */
    platformAdminTenantBindings: BindingObject<"RoleBinding">[];
}


function identities(k: string, subjects: readonly RbacSubject[]): Identities {
    const out: Identities = { groups: [], users: [] };
    for (const s of subjects) {
        if (typeof s.name !== "string") {
            fail(k, "(computed)", "the admission guards name cluster-admin and platform-admin subjects, so their names must be plain strings");
        }
        if (s.kind === "Group") out.groups.push(s.name);
        else if (s.kind === "User") out.users.push(s.name);
        else out.users.push(`system:serviceaccount:${s.namespace}:${s.name}`);
    }
    return out;
}

function merge(a: Identities, b: Identities): Identities {
    return { groups: [...new Set([...a.groups, ...b.groups])], users: [...new Set([...a.users, ...b.users])] };
}

function subjectsOf(rbac: RbacPlan, persona: string): RbacSubject[] {
    return rbac.clusterRoleBindings.find((b) => b.metadata.name === personaBindingName(persona))?.subjects ?? [];
}

function tenantNames(k: string, map: Record<string, string[]>, tenants: readonly string[]): void {
    for (const ns of Object.keys(map)) {
        if (!tenants.includes(ns)) fail(key(k, ns), ns, `not a tenant namespace; tenants: ${tenants.join(", ") || "(none)"}`);
    }
}

function guardSettings(configKey: string, rbac: RbacPlan, tenants: string[], admission: AdmissionSettings): GuardSettings {
    const rbacKey = key(configKey, "rbac", "clusterBindings");
    const breakGlass = merge(
        { groups: [SYSTEM_MASTERS_GROUP, ...(rbac.kubeadmAdminsBinding ? [CLUSTER_ADMINS_GROUP] : [])], users: [] },
        identities(key(rbacKey, "cluster-admin"), subjectsOf(rbac, "cluster-admin")),
    );
    const platform = merge(breakGlass, identities(key(rbacKey, "platform-admin"), subjectsOf(rbac, "platform-admin")));
    const admKey = key(configKey, "admission");
    tenantNames(key(admKey, "serviceAccounts"), admission.serviceAccounts, tenants);
    tenantNames(key(admKey, "workloadSecrets"), admission.workloadSecrets, tenants);
    const serviceAccounts = tenants.flatMap((ns) => [...new Set(["default", ...(admission.serviceAccounts[ns] ?? [])])].map((n) => `${ns}/${n}`));
    const secrets = tenants.flatMap((ns) => (admission.workloadSecrets[ns] ?? []).map((n) => `${ns}/${n}`));
    return { breakGlass, platform, tenants, serviceAccounts, secrets };
}

export function planClusterBaseline(configKey: string, config: ClusterBaselineConfig = {}, platformRegistries: PlatformRegistry[] = []): ClusterBaselinePlan {
    knownKeys(configKey, config, CLUSTER_BASELINE_KEYS);
    const podSecurityVersion = validatePsaVersion(key(configKey, "podSecurityVersion"), config.podSecurityVersion ?? DEFAULT_PSA_VERSION);
    const rbac = planRbac(key(configKey, "rbac"), config.rbac ?? {});

    const tenantsKey = key(configKey, "tenants");
    const raw = config.tenants ?? [];
    if (!Array.isArray(raw)) fail(tenantsKey, raw, "use a list of namespaces");
    const seen = new Set<string>();
    const tenants = raw.map((t, i) => {
        const plan = planSecureNamespace(key(tenantsKey, i), t, { personas: rbac.personas, podSecurityVersion, podSecurityVersionKey: key(configKey, "podSecurityVersion") });
        if (seen.has(plan.name)) fail(key(tenantsKey, i, "name"), plan.name, "another tenant already has this name");
        seen.add(plan.name);
        return plan;
    });

    const configured = validateAdmission(key(configKey, "admission"), config.admission);
    const added = platformRegistries.filter((p) => !configured.allowedRegistries.includes(p.registry));
    const admission = { ...configured, allowedRegistries: [...configured.allowedRegistries, ...added.map((p) => p.registry)] };
    const guards = guardSettings(configKey, rbac, tenants.map((t) => t.name), admission);
    return { configKey, podSecurityVersion, rbac, tenants, admission, guards, platformRegistries: added };
}

export function renderClusterBaseline(plan: ClusterBaselinePlan): ClusterBaselineObjects {
    return {
        builtInNamespacePatches: renderBuiltInNamespacePatches(plan.podSecurityVersion),
        tenants: plan.tenants.map(renderSecureNamespace),
        policy: renderWorkloadPolicy(plan.admission),
        policyBinding: renderWorkloadPolicyBinding(plan.admission),
        guards: [renderPrivilegeGuard(plan.guards), renderTenantGuard(plan.guards)],
        guardBindings: [renderPrivilegeGuardBinding(), renderTenantGuardBinding(plan.guards)],
        builtInNetworkPolicies: renderBuiltInDenyAll(),
        platformAdminTenantBindings: platformAdminTenantBindings(plan),
    };
}

function platformAdminTenantBindings(plan: ClusterBaselinePlan): BindingObject<"RoleBinding">[] {
    const subjects = subjectsOf(plan.rbac, "platform-admin");
    const nsAdmin = plan.rbac.personas.find((p) => p.name === "namespace-admin");
    if (subjects.length === 0 || !nsAdmin) return [];
    return plan.tenants.map((t) => {
        const b = renderRoleBinding(nsAdmin, t.name, subjects);
        // Its own name, so a tenant's namespace-admin binding and this one never overwrite each other.
        b.metadata.name = personaBindingName("platform-admin");
        return b;
    });
}
