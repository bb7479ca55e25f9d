// Pulumi wiring of the cluster's DNS: the objects of render.ts applied through the cluster's provider.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { renderClusterDns, resolveClusterDns, type ClusterDnsOptions } from "./render";

export interface ClusterDnsArgs extends ClusterDnsOptions {
    /** The CoreDNS image the nodes can pull. */
    image: string;
    /** The kubelets' clusterDNS address, which the Service takes. */
    clusterIp: string;
    clusterDomain: string;
    /** Root of the keys in validation errors. */
    configKey: string;
}

export class ClusterDns extends pulumi.ComponentResource {
    static readonly TYPE = "hardened-cluster:cluster-dns:ClusterDns";
    /** The Deployment, which is ready when its Pods answer. */
    readonly deployment: k8s.apps.v1.Deployment;

    constructor(name: string, args: ClusterDnsArgs, opts?: pulumi.ComponentResourceOptions) {
        const { image, clusterIp, clusterDomain, configKey, ...options } = args;
        const resolved = resolveClusterDns(options, configKey);
        super(ClusterDns.TYPE, name, {}, opts);
        const child = { parent: this };
        const made: Record<string, pulumi.Resource> = {};
        let deployment: k8s.apps.v1.Deployment | undefined;
        for (const o of renderClusterDns({ ...resolved, image, clusterIp, clusterDomain })) {
            const id = `${name}-${o.kind.toLowerCase()}`;
            const after = { ...child, dependsOn: Object.values(made) };
            switch (o.kind) {
                case "ServiceAccount": made[o.kind] = new k8s.core.v1.ServiceAccount(id, o, after); break;
                case "ClusterRole": made[o.kind] = new k8s.rbac.v1.ClusterRole(id, o, after); break;
                case "ClusterRoleBinding": made[o.kind] = new k8s.rbac.v1.ClusterRoleBinding(id, o as k8s.rbac.v1.ClusterRoleBindingArgs, after); break;
                case "ConfigMap": made[o.kind] = new k8s.core.v1.ConfigMap(id, o, after); break;
                case "Deployment": made[o.kind] = deployment = new k8s.apps.v1.Deployment(id, o as k8s.apps.v1.DeploymentArgs, after); break;
                case "Service": made[o.kind] = new k8s.core.v1.Service(id, o, after); break;
                default: throw new Error(`cluster-dns: no wiring for ${o.kind}`);
            }
        }
        this.deployment = deployment!;
        this.registerOutputs({});
    }
}
