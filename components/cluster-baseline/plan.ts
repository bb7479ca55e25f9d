// Configuration of the whole in-cluster baseline -> everything validated and rendered, before Pulumi is involved.
import { fail, key, knownKeys } from "../common";
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
import { renderBuiltInNamespacePatches } from "./builtin-namespaces";

export interface ClusterBaselineConfig {
    /** PSA version for every namespace that sets none; defaults to the cluster minor (DEFAULT_PSA_VERSION). */
    podSecurityVersion?: string;
    /** One secure namespace per tenant. */
    tenants?: SecureNamespaceConfig[];
    rbac?: RbacConfig;
    admission?: AdmissionInput;
}

export const CLUSTER_BASELINE_KEYS = ["podSecurityVersion", "tenants", "rbac", "admission"] as const;

export interface ClusterBaselinePlan {
    podSecurityVersion: string;
    rbac: RbacPlan;
    tenants: SecureNamespacePlan[];
    admission: AdmissionSettings;
}

export interface ClusterBaselineObjects {
    builtInNamespacePatches: NamespaceObject[];
    tenants: SecureNamespaceObjects[];
    policy: ValidatingAdmissionPolicyObject;
    policyBinding: ValidatingAdmissionPolicyBindingObject;
}

export function planClusterBaseline(configKey: string, config: ClusterBaselineConfig = {}): ClusterBaselinePlan {
    knownKeys(configKey, config, CLUSTER_BASELINE_KEYS);
    const podSecurityVersion = validatePsaVersion(key(configKey, "podSecurityVersion"), config.podSecurityVersion ?? DEFAULT_PSA_VERSION);
    const rbac = planRbac(key(configKey, "rbac"), config.rbac ?? {});

    const tenantsKey = key(configKey, "tenants");
    const raw = config.tenants ?? [];
    if (!Array.isArray(raw)) fail(tenantsKey, raw, "use a list of namespaces");
    const seen = new Set<string>();
    const tenants = raw.map((t, i) => {
        const plan = planSecureNamespace(key(tenantsKey, i), t, { personas: rbac.personas, podSecurityVersion });
        if (seen.has(plan.name)) fail(key(tenantsKey, i, "name"), plan.name, "another tenant already has this name");
        seen.add(plan.name);
        return plan;
    });

    return { podSecurityVersion, rbac, tenants, admission: validateAdmission(key(configKey, "admission"), config.admission) };
}

export function renderClusterBaseline(plan: ClusterBaselinePlan): ClusterBaselineObjects {
    return {
        builtInNamespacePatches: renderBuiltInNamespacePatches(plan.podSecurityVersion),
        tenants: plan.tenants.map(renderSecureNamespace),
        policy: renderWorkloadPolicy(plan.admission),
        policyBinding: renderWorkloadPolicyBinding(plan.admission),
    };
}
