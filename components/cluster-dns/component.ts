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
    /**
     * Whether `pulumi up` waits until the Deployment's Pods answer and the Service has endpoints (default true).
     * false where the nodes that run them join after the up (an Auto Scaling group's).
     */
    awaitReady?: boolean;
}

/** The Pulumi Kubernetes provider's annotation that applies an object without waiting for it to become ready. */
const SKIP_AWAIT = "pulumi.com/skipAwait";

export class ClusterDns extends pulumi.ComponentResource {
    static readonly TYPE = "hardened-cluster:cluster-dns:ClusterDns";
    /** The Deployment, which is ready when its Pods answer. */
    readonly deployment: k8s.apps.v1.Deployment;

    constructor(name: string, args: ClusterDnsArgs, opts?: pulumi.ComponentResourceOptions) {
        const { image, clusterIp, clusterDomain, configKey, awaitReady, ...options } = args;
        if (awaitReady !== undefined && typeof awaitReady !== "boolean") throw new Error(`${configKey}.awaitReady: use true or false, not ${JSON.stringify(awaitReady)}`);
        const resolved = resolveClusterDns(options, configKey);
        super(ClusterDns.TYPE, name, {}, opts);
        const child = { parent: this };
        const made: Record<string, pulumi.Resource> = {};
        let deployment: k8s.apps.v1.Deployment | undefined;
        for (const rendered of renderClusterDns({ ...resolved, image, clusterIp, clusterDomain })) {
            const waits = rendered.kind === "Deployment" || rendered.kind === "Service";
            const o = awaitReady === false && waits
                ? { ...rendered, metadata: { ...rendered.metadata, annotations: { ...rendered.metadata.annotations, [SKIP_AWAIT]: "true" } } }
                : rendered;
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
