// What the cluster needs before a worker can join with its bootstrap token (kubelet TLS bootstrapping, as
// kubeadm sets it up): the token's Secret in kube-system, the right to file a node-client CSR, automatic
// approval of that CSR, and of the renewals a joined kubelet files itself (rotateCertificates). Serving
// certificates (serverTLSBootstrap) are deliberately not auto-approved: the CSR's names are the kubelet's
// own claim, so an approver must check them against the instance.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { WORKER_BOOTSTRAP_GROUP } from "./workers";

export interface BindingPlan {
    name: string;
    clusterRole: string;
    group: string;
}

export const NODES_GROUP = "system:nodes";

export function workerJoinBindings(): BindingPlan[] {
    return [
        { name: "hardened-cluster:workers-bootstrap", clusterRole: "system:node-bootstrapper", group: WORKER_BOOTSTRAP_GROUP },
        { name: "hardened-cluster:workers-approve-client", clusterRole: "system:certificates.k8s.io:certificatesigningrequests:nodeclient", group: WORKER_BOOTSTRAP_GROUP },
        { name: "hardened-cluster:nodes-approve-renewal", clusterRole: "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", group: NODES_GROUP },
    ];
}

/** Applies the join token Secret (YAML from AwsCluster.joinTokenSecret) and the bindings through `provider`. */
export function applyWorkerJoin(name: string, joinTokenSecret: pulumi.Output<string>, provider: k8s.Provider, opts: pulumi.CustomResourceOptions): pulumi.Resource[] {
    const doc = joinTokenSecret.apply((y) => parse(y) as { metadata: { name: string; namespace: string }; type: string; stringData: Record<string, string> });
    const secret = new k8s.core.v1.Secret(`${name}-join-token`, {
        metadata: { name: doc.apply((d) => d.metadata.name), namespace: doc.apply((d) => d.metadata.namespace) },
        type: doc.apply((d) => d.type),
        stringData: pulumi.secret(doc.apply((d) => d.stringData)),
    }, { ...opts, provider });
    const bindings = workerJoinBindings().map((b) => new k8s.rbac.v1.ClusterRoleBinding(`${name}-${b.name.split(":").pop()}`, {
        metadata: { name: b.name, labels: { "app.kubernetes.io/managed-by": "hardened-cluster" } },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: b.clusterRole },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: b.group }],
    }, { ...opts, provider }));
    return [secret, ...bindings];
}
