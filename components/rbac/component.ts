// Pulumi wiring of the RBAC block: the persona ClusterRoles and the cluster-wide bindings.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Persona } from "./personas";
import { planRbac, type PersonaSummary, type RbacConfig } from "./plan";

export interface RbacPersonasArgs extends RbacConfig {
    /** Root of the keys in validation errors, e.g. "hardened-cluster:rbac". */
    configKey: string;
}

/** Resource names cannot carry the ":" of RBAC object names without looking like URN separators. */
function slug(s: string): string {
    return s.replace(/[^A-Za-z0-9-]/g, "-");
}

export class RbacPersonas extends pulumi.ComponentResource {
    static readonly TYPE = "hardened-cluster:rbac:RbacPersonas";

    /** The validated personas (built-in and custom), for namespaces to bind. */
    readonly personas: Persona[];
    /** Names of the ClusterRoles this component created. */
    readonly clusterRoleNames: pulumi.Output<string[]>;
    readonly summary: pulumi.Output<PersonaSummary[]>;

    constructor(name: string, args: RbacPersonasArgs, opts?: pulumi.ComponentResourceOptions) {
        const { configKey, ...config } = args;
        // Everything is validated before the component (or anything else) is registered.
        const plan = planRbac(configKey, config);
        super(RbacPersonas.TYPE, name, {}, opts);

        const child = { parent: this };
        const roles = new Map<string, k8s.rbac.v1.ClusterRole>();
        for (const obj of plan.clusterRoles) {
            roles.set(obj.metadata.name, new k8s.rbac.v1.ClusterRole(`${name}-role-${slug(obj.metadata.name)}`, obj, child));
        }
        for (const obj of plan.clusterRoleBindings) {
            const role = roles.get(obj.roleRef.name);
            new k8s.rbac.v1.ClusterRoleBinding(`${name}-binding-${slug(obj.metadata.name)}`, obj, {
                ...child,
                dependsOn: role ? [role] : [],
            });
        }
        if (plan.kubeadmAdminsBinding) {
            // A patch, not a resource: kubeadm-built clusters already have this binding, and neither they nor
            // ours may lose it when this stack goes away, since the admin credential is useless without it.
            new k8s.rbac.v1.ClusterRoleBindingPatch(`${name}-kubeadm-cluster-admins`, plan.kubeadmAdminsBinding, {
                ...child,
                retainOnDelete: true,
            });
        }

        this.personas = plan.personas;
        this.clusterRoleNames = pulumi.output(plan.clusterRoles.map((r) => r.metadata.name));
        this.summary = pulumi.output(plan.summary) as pulumi.Output<PersonaSummary[]>;
        this.registerOutputs({ clusterRoleNames: this.clusterRoleNames, summary: this.summary });
    }
}
