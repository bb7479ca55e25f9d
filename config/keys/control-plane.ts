// The control-plane settings a stack may choose. Addresses, ports and etcd members belong to the platform, and
// audit settings have their own key, so those parts of ControlPlaneOptions are refused here with a pointer.
// The settings resolve once, with the platform's facts, in components/cluster (resolveCluster).
import { STACK_NETWORK_FIELDS, StackControlPlaneOptions } from "../../components/cluster";
import { ConfigEntry } from "../types";
import { objectValue } from "./shared";

const FIELDS = {
    network: `Cluster-wide ranges and names: ${STACK_NETWORK_FIELDS.join(", ")} (defaults 10.96.0.0/12, 10.244.0.0/16, cluster.local, kubernetes).`,
    tls: "minVersion (VersionTLS12 or VersionTLS13) and cipherSuites (a subset of the strong suites) of every component.",
    apiServer: "extraArgs: further kube-apiserver flags from an allow-list (timeouts, limits, v up to 4); any other flag needs weakenings.acceptExtraArgs and is a named weakening. serviceAccountMaxTokenHours: the longest service-account token (1 to 8760, default 24).",
    controllerManager: "extraArgs, terminatedPodGcThreshold, allocateNodeCidrs, nodeCidrMaskSize.",
    scheduler: "extraArgs: further kube-scheduler flags (the same allow-list rule).",
    etcd: 'extraArgs, initialClusterState ("new" or "existing"), initialClusterToken.',
    kubelet: "extraArgs, servingCert, podPidsLimit, eventRecordQPS, streamingConnectionIdleTimeout, cgroupDriver, containerRuntimeEndpoint, clusterDns.",
    admission: "podSecurity (cluster-wide PSA defaults and exemptions), eventRateLimit.limits, extraPlugins.",
    authentication: "jwt: OIDC issuers [{ url, audiences, claimMappings?, ... }]; none by default.",
    weakenings: "Named switches that loosen a CIS default (anonymousAuth, profiling, verboseLogs, ...) and acceptExtraArgs; each one is reported in the posture.",
} as const;

export const controlPlane: ConfigEntry<StackControlPlaneOptions> = {
    type: "object",
    description: "Settings of kube-apiserver, kube-controller-manager, kube-scheduler, etcd and the kubelet, hardened to the CIS benchmark by default; deliberate loosenings go under weakenings.",
    default: "every CIS control-plane recommendation applied, TLS 1.2+ with strong suites only, no OIDC issuers, no weakenings",
    example: {
        network: { serviceCidr: "10.96.0.0/16", podCidr: "10.244.0.0/16" },
        tls: { minVersion: "VersionTLS13" },
        controllerManager: { terminatedPodGcThreshold: 1000 },
    },
    fields: FIELDS,
    // Resolved once, against the platform's addresses and ports, by components/cluster (resolveCluster).
    validate: (value, ctx) => objectValue(ctx.key, value) as StackControlPlaneOptions,
};
