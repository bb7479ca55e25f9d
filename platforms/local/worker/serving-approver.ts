// The kubelet serving-certificate approver (toolchain/go/csr-approver, hc-csr-approver): kubelets ask for their
// serving certificates (serverTLSBootstrap), and a request is approved only when a node files it for itself and
// names only what its Node object reports. Without it `kubectl logs` and `exec` cannot reach a kubelet; with
// kube-controller-manager's blanket approval any node could claim any name. It runs on this machine, beside
// the control plane, and reads the API with its own client certificate.
import * as path from "node:path";
import type { HealthCheck } from "../process";
import { UserRole, userClusterRole } from "./user-role";

export const SERVING_APPROVER_USER = "hardened-cluster:csr-approver";
export const KUBELET_SERVING_SIGNER = "kubernetes.io/kubelet-serving";
export const SERVING_APPROVER_POSTURE = "kubelet serving certificates approved by hc-csr-approver only for a node's own request naming what its Node object reports; others denied";

export interface ServingApproverPlan {
    dir: string;
    caFile: string;
    certFile: string;
    keyFile: string;
    statusFile: string;
    argv: string[];
    health: HealthCheck;
}

export function planServingApprover(runDir: string, bin: string, server: string): ServingApproverPlan {
    const dir = path.join(runDir, "csr-approver");
    const files = { caFile: path.join(dir, "ca.crt"), certFile: path.join(dir, "client.crt"), keyFile: path.join(dir, "client.key"), statusFile: path.join(dir, "run", "listed") };
    return {
        dir, ...files,
        argv: [path.join(bin, "hc-csr-approver"), `-server=${server}`, `-ca-file=${files.caFile}`, `-cert-file=${files.certFile}`, `-key-file=${files.keyFile}`, `-status-file=${files.statusFile}`],
        // Healthy once it has listed the requests: the API answered and its role lets it.
        health: { kind: "status-file", path: files.statusFile },
    };
}

/** Read requests and the Nodes they name; approve, and only for the kubelet-serving signer. */
export function servingApproverRbac(): UserRole {
    return userClusterRole("hardened-cluster:csr-approver", SERVING_APPROVER_USER, [
        { apiGroups: ["certificates.k8s.io"], resources: ["certificatesigningrequests"], verbs: ["get", "list", "watch"] },
        { apiGroups: ["certificates.k8s.io"], resources: ["certificatesigningrequests/approval"], verbs: ["update"] },
        { apiGroups: ["certificates.k8s.io"], resources: ["signers"], resourceNames: [KUBELET_SERVING_SIGNER], verbs: ["approve"] },
        { apiGroups: [""], resources: ["nodes"], verbs: ["get"] },
    ]);
}
