// kube-controller-manager flags. Beyond CIS 1.3, it needs its own kubeconfig three times (API access,
// delegated authentication and authorization of its endpoint) and the cluster CA key so it can sign the
// CSRs of kubelet serving certificates (serverTLSBootstrap).
import { configFile, pkiFiles, pkiPair, serviceAccountKeys } from "../common";
import { FlagMap } from "./flags";
import { ResolvedControlPlane } from "./resolve";
import { kubeTlsFlags } from "./tls";

export function controllerManagerFlags(r: ResolvedControlPlane): FlagMap {
    const { layout, network: n, controllerManager: cm } = r;
    const kubeconfig = configFile(layout, "controllerManager");
    const ca = pkiPair(layout, pkiFiles.ca);
    const flags: FlagMap = {
        kubeconfig,
        "authentication-kubeconfig": kubeconfig,
        "authorization-kubeconfig": kubeconfig,
        "bind-address": n.controllerManagerBindAddress,
        "secure-port": String(n.controllerManagerPort),
        ...kubeTlsFlags(r.tls),
        "client-ca-file": ca.cert,
        "requestheader-client-ca-file": pkiPair(layout, pkiFiles.frontProxyCa).cert,
        "cluster-name": n.clusterName,
        "cluster-signing-cert-file": pkiPair(layout, pkiFiles.clusterSigningCa).cert,
        "cluster-signing-key-file": ca.key,
        "root-ca-file": ca.cert,
        "service-account-private-key-file": serviceAccountKeys(layout).privateKey,
        // Each controller acts as its own service account, so RBAC can scope every one separately.
        "use-service-account-credentials": "true",
        // bootstrapsigner and tokencleaner are off by default; kubeadm enables them for bootstrap tokens. The
        // legacy token controller is off: it would fill any service-account-token Secret someone creates
        // (for a kube-system controller, say) with a never-expiring token; pods get bound tokens anyway.
        controllers: "*,bootstrapsigner,tokencleaner,-serviceaccount-token",
        "leader-elect": "true",
        "service-cluster-ip-range": n.serviceCidr,
        "terminated-pod-gc-threshold": String(cm.terminatedPodGcThreshold),
        profiling: String(r.weakenings.profiling),
    };
    if (cm.allocateNodeCidrs) {
        flags["allocate-node-cidrs"] = "true";
        flags["cluster-cidr"] = n.podCidr;
        flags["node-cidr-mask-size"] = String(cm.nodeCidrMaskSize);
    }
    return { ...flags, ...r.extraArgs.controllerManager };
}
