// The kubelet is configured through its KubeletConfiguration file (the flags for most of these settings are
// deprecated); kube-bench reads the same file for CIS 4.2 when a flag is absent from the command line. Only
// the file locations go on the command line, plus whatever extraArgs adds.
import { configFile, pkiFiles, pkiPair } from "../common";
import { FlagMap } from "./flags";
import { ResolvedControlPlane } from "./resolve";

/** kubelet.config.k8s.io/v1beta1 KubeletConfiguration, field names as upstream spells them. */
export function kubeletConfiguration(r: ResolvedControlPlane): Record<string, unknown> {
    const { kubelet: k, weakenings: w } = r;
    const serving =
        k.servingCert === "bootstrap"
            ? // The kubelet asks the cluster CA for its serving certificate, so the API server can verify it with
              // --kubelet-certificate-authority; the CSR must be approved before exec/logs work.
              { serverTLSBootstrap: true }
            : { tlsCertFile: k.servingCert.certFile, tlsPrivateKeyFile: k.servingCert.keyFile };
    return {
        apiVersion: "kubelet.config.k8s.io/v1beta1",
        kind: "KubeletConfiguration",
        authentication: {
            anonymous: { enabled: false },
            webhook: { enabled: true, cacheTTL: "2m0s" },
            x509: { clientCAFile: pkiPair(r.layout, pkiFiles.ca).cert },
        },
        authorization: {
            mode: "Webhook",
            webhook: { cacheAuthorizedTTL: "5m0s", cacheUnauthorizedTTL: "30s" },
        },
        readOnlyPort: 0,
        ...serving,
        rotateCertificates: true,
        tlsMinVersion: r.tls.minVersion,
        tlsCipherSuites: [...r.tls.cipherSuites],
        streamingConnectionIdleTimeout: k.streamingConnectionIdleTimeout,
        // Refuse to start on a kernel whose tunables differ from what the kubelet needs, instead of changing them.
        protectKernelDefaults: !w.unprotectedKernelDefaults,
        makeIPTablesUtilChains: true,
        eventRecordQPS: k.eventRecordQPS,
        podPidsLimit: k.podPidsLimit,
        seccompDefault: !w.noSeccompDefault,
        enableProfilingHandler: w.profiling,
        cgroupDriver: k.cgroupDriver,
        containerRuntimeEndpoint: k.containerRuntimeEndpoint,
        clusterDomain: r.network.clusterDomain,
        clusterDNS: [...k.clusterDns],
    };
}

/**
 * The sysctls the kubelet (pkg/kubelet/cm, setupKernelTunables) requires with protectKernelDefaults: it checks
 * them at start and exits if one differs, so every platform sets them before it starts a kubelet.
 */
export const KUBELET_SYSCTLS: readonly [key: string, value: string, why: string][] = [
    ["vm.overcommit_memory", "1", "always overcommit: cgroup limits and the OOM killer bound memory"],
    ["vm.panic_on_oom", "0", "an OOM kills a process rather than panicking the node"],
    ["kernel.panic", "10", "reboot 10 seconds after a panic"],
    ["kernel.panic_on_oops", "1", "panic (and so reboot) on an oops rather than run on"],
    ["kernel.keys.root_maxkeys", "1000000", "keys root may hold: containers each get a session keyring"],
    ["kernel.keys.root_maxbytes", "25000000", "25 bytes per key of root_maxkeys"],
];

export function kubeletFlags(r: ResolvedControlPlane): FlagMap {
    return {
        config: configFile(r.layout, "kubeletConfig"),
        kubeconfig: configFile(r.layout, "kubelet"),
        ...r.extraArgs.kubelet,
    };
}
