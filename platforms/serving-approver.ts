// The kubelet serving-certificate approver (toolchain/go/csr-approver, hc-csr-approver), as every platform runs
// it: kubelets ask for their serving certificates (serverTLSBootstrap), and a request is approved only when a
// node files it for itself and names only what its Node object reports. Without it `kubectl logs` and `exec`
// cannot reach a kubelet; with kube-controller-manager's blanket approval any node could claim any name. It
// reads the API with its own client certificate (pki.servingApproverClient) and this role.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { applyUserRole, UserRole, userClusterRole } from "./user-role";

export const SERVING_APPROVER_USER = "hardened-cluster:csr-approver";
export const KUBELET_SERVING_SIGNER = "kubernetes.io/kubelet-serving";
export const SERVING_APPROVER_POSTURE = "kubelet serving certificates approved by hc-csr-approver only for a node's own request naming what its Node object reports; others denied";

/** Read requests and the Nodes they name; approve, and only for the kubelet-serving signer. */
export function servingApproverRbac(): UserRole {
    return userClusterRole("hardened-cluster:csr-approver", SERVING_APPROVER_USER, [
        { apiGroups: ["certificates.k8s.io"], resources: ["certificatesigningrequests"], verbs: ["get", "list", "watch"] },
        { apiGroups: ["certificates.k8s.io"], resources: ["certificatesigningrequests/approval"], verbs: ["update"] },
        { apiGroups: ["certificates.k8s.io"], resources: ["signers"], resourceNames: [KUBELET_SERVING_SIGNER], verbs: ["approve"] },
        { apiGroups: [""], resources: ["nodes"], verbs: ["get"] },
    ]);
}

/** The approver's role and binding through `provider` (named `<name>-csr-approver`). */
export function applyServingApprover(name: string, provider: k8s.Provider, opts: pulumi.CustomResourceOptions): pulumi.Resource[] {
    return applyUserRole(`${name}-csr-approver`, servingApproverRbac(), provider, opts);
}
