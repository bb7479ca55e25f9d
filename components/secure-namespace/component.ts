// Pulumi wiring of one secure namespace.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Persona } from "../rbac/personas";
import { planSecureNamespace, renderSecureNamespace, type SecureNamespaceConfig, type SecureNamespacePlan } from "./plan";
import { namespacePosture, type NamespacePosture } from "./posture";

export interface SecureNamespaceArgs extends SecureNamespaceConfig {
    /** Root of the keys in validation errors, e.g. "hardened-cluster:namespaces[0]". */
    configKey: string;
    /** Personas that may be bound here (RbacPersonas.personas); defaults to the built-in ones. The persona
     * ClusterRoles must exist in the cluster (RbacPersonas creates them). */
    personas?: readonly Persona[];
    /** PSA version for namespaces that set none; defaults to the cluster minor (DEFAULT_PSA_VERSION). */
    podSecurityVersion?: string;
    /** Where podSecurityVersion was set (e.g. the baseline's key), so the posture names that setting. */
    podSecurityVersionKey?: string;
}

/** Forces our value where another field manager (an earlier `kubectl label`, a GitOps tool) set the same
 * field: these fields are the posture, and a silent conflict would leave the weaker value in place. */
export const PATCH_FORCE = { "pulumi.com/patchForce": "true" } as const;

export class SecureNamespace extends pulumi.ComponentResource {
    static readonly TYPE = "hardened-cluster:secure-namespace:SecureNamespace";

    readonly plan: SecureNamespacePlan;
    readonly namespaceName: pulumi.Output<string>;
    readonly posture: pulumi.Output<NamespacePosture>;

    constructor(name: string, args: SecureNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
        const { configKey, personas, podSecurityVersion, podSecurityVersionKey, ...config } = args;
        const plan = planSecureNamespace(configKey, config, { personas, podSecurityVersion, podSecurityVersionKey });
        super(SecureNamespace.TYPE, name, {}, opts);

        const objs = renderSecureNamespace(plan);
        const ns = new k8s.core.v1.Namespace(`${name}-namespace`, objs.namespace, { parent: this });
        const inNs = { parent: this, dependsOn: [ns] };
        for (const np of objs.networkPolicies) {
            new k8s.networking.v1.NetworkPolicy(`${name}-${np.metadata.name}`, np, inNs);
        }
        new k8s.core.v1.ResourceQuota(`${name}-quota`, objs.resourceQuota, inNs);
        new k8s.core.v1.LimitRange(`${name}-limits`, objs.limitRange, inNs);
        // A patch because the namespace controller creates `default` on its own, possibly before us; server-side
        // apply creates it if we win that race and takes over just this field if we lose it.
        const sa = objs.defaultServiceAccount;
        new k8s.core.v1.ServiceAccountPatch(
            `${name}-default-serviceaccount`,
            { ...sa, metadata: { ...sa.metadata, annotations: { ...PATCH_FORCE } } },
            inNs,
        );
        for (const rb of objs.roleBindings) {
            new k8s.rbac.v1.RoleBinding(`${name}-rolebinding-${rb.metadata.name.replace(/[^A-Za-z0-9-]/g, "-")}`, rb, inNs);
        }

        this.plan = plan;
        this.namespaceName = ns.metadata.name;
        this.posture = pulumi.output(namespacePosture(plan)) as pulumi.Output<NamespacePosture>;
        this.registerOutputs({ namespaceName: this.namespaceName, posture: this.posture });
    }
}
