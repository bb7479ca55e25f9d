// Pulumi wiring of the cluster baseline: personas, built-in namespace labels, tenant namespaces, workload guard.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { key } from "../common";
import { RbacPersonas } from "../rbac/component";
import { PATCH_FORCE, SecureNamespace } from "../secure-namespace/component";
import { planClusterBaseline, renderClusterBaseline, type ClusterBaselineConfig, type PlatformRegistry } from "./plan";
import { clusterPosture, type ClusterPosture } from "./posture";

export interface ClusterBaselineArgs extends ClusterBaselineConfig {
    /** Root of the keys in validation errors, e.g. "hardened-cluster:baseline". */
    configKey: string;
    /** Registries the platform serves images from itself (the local workers' own registry); the posture names them. */
    platformRegistries?: PlatformRegistry[];
}

export class ClusterBaseline extends pulumi.ComponentResource {
    static readonly TYPE = "hardened-cluster:cluster-baseline:ClusterBaseline";

    readonly rbac: RbacPersonas;
    /** Tenant namespaces by name. */
    readonly namespaces: Record<string, SecureNamespace>;
    readonly posture: pulumi.Output<ClusterPosture>;
    /** The Pod Security version every namespace is pinned to, for standalone SecureNamespaces to match. */
    readonly podSecurityVersion: string;

    constructor(name: string, args: ClusterBaselineArgs, opts?: pulumi.ComponentResourceOptions) {
        const { configKey, platformRegistries, ...config } = args;
        // The whole configuration (every tenant included) is checked before any resource is registered.
        const plan = planClusterBaseline(configKey, config, platformRegistries);
        super(ClusterBaseline.TYPE, name, {}, opts);
        const objs = renderClusterBaseline(plan);
        this.podSecurityVersion = plan.podSecurityVersion;

        this.rbac = new RbacPersonas(`${name}-rbac`, { configKey: key(configKey, "rbac"), ...config.rbac }, { parent: this });

        for (const ns of objs.builtInNamespacePatches) {
            const metadata = { ...ns.metadata, annotations: { ...ns.metadata.annotations, ...PATCH_FORCE } };
            new k8s.core.v1.NamespacePatch(`${name}-namespace-${ns.metadata.name}`, { ...ns, metadata }, { parent: this });
        }

        const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(`${name}-workload-guard`, objs.policy, { parent: this });
        new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(`${name}-workload-guard-binding`, objs.policyBinding, {
            parent: this,
            dependsOn: [policy],
        });

        // The guards go in before any tenant: a namespace that exists before its guard is open meanwhile.
        const guards = objs.guards.map((g) => new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(`${name}-${g.metadata.name}`, g, { parent: this }));
        const guardBindings = objs.guardBindings.map((b, i) =>
            new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(`${name}-${b.metadata.name}-binding`, b, { parent: this, dependsOn: [guards[i]] }));
        for (const np of objs.builtInNetworkPolicies) {
            new k8s.networking.v1.NetworkPolicy(`${name}-${np.metadata.namespace}-${np.metadata.name}`, np, { parent: this });
        }

        this.namespaces = {};
        (config.tenants ?? []).forEach((tenant, i) => {
            const tenantName = plan.tenants[i].name;
            // After the personas: a RoleBinding to a ClusterRole that does not exist yet grants nothing.
            this.namespaces[tenantName] = new SecureNamespace(
                `${name}-${tenantName}`,
                { ...tenant, configKey: key(configKey, "tenants", i), personas: this.rbac.personas, podSecurityVersion: plan.podSecurityVersion, podSecurityVersionKey: key(configKey, "podSecurityVersion") },
                { parent: this, dependsOn: [this.rbac, ...guardBindings] },
            );
        });

        for (const rb of objs.platformAdminTenantBindings) {
            const ns = this.namespaces[rb.metadata.namespace!];
            new k8s.rbac.v1.RoleBinding(`${name}-${rb.metadata.namespace}-platform-admin`, rb, { parent: this, dependsOn: [ns, this.rbac] });
        }

        this.posture = pulumi.output(clusterPosture(plan)) as pulumi.Output<ClusterPosture>;
        this.registerOutputs({ posture: this.posture });
    }
}
