// Which extraArgs a stack may set: an allow-list, not a deny-list. Every flag is in exactly one class:
//   - managed: set from a typed option, a sibling block or the PKI layout; an override is refused with a
//     pointer to that option (an override would silently disagree with the component that owns the file);
//   - free: changes no security property (timeouts, queue sizes, log verbosity up to 4); accepted;
//   - everything else, including every flag this table does not know: accepted only when listed in
//     weakenings.acceptExtraArgs.<component>, and then reported in the posture as a weakening.
// A deny-list can only name the dangerous flags someone thought of; kube-apiserver alone has ~200 flags,
// and new releases add more (authorization webhooks, admission plugins, listeners).
import { fail, key, NOT_SHOWN } from "../common";
import { KNOWN_ADMISSION_PLUGINS } from "./admission";
import { listOf } from "./guards";
import { Component, WeakeningOptions } from "./options";

const PKI = "the cluster PKI (its files at the layout's paths)";
const ETCD_PKI = "the etcd PKI (its files at the layout's paths)";
const KUBECONFIG = "the component's kubeconfig (written by the platform at the layout's path)";
const AUDIT = "the audit block (hardened-cluster:audit)";
const ENCRYPTION = "the encryption block (hardened-cluster:encryption)";
const TLS = { "tls-min-version": "tls.minVersion", "tls-cipher-suites": "tls.cipherSuites" };

/** Flags set from typed options, per component, and the option (below the config key) to use instead. */
export const MANAGED_FLAGS: Record<Component, Readonly<Record<string, string>>> = {
    apiServer: {
        "advertise-address": "network.advertiseAddress",
        "bind-address": "network.apiServerBindAddress",
        "secure-port": "network.apiServerPort",
        "shutdown-delay-duration": "network.apiServerShutdownDelaySeconds (set by the platform's balancer)",
        "shutdown-watch-termination-grace-period": "network.apiServerWatchDrainSeconds",
        "service-cluster-ip-range": "network.serviceCidr",
        "etcd-servers": "network.etcdMembers",
        "service-account-issuer": "network.serviceAccountIssuer",
        ...TLS,
        "anonymous-auth": "weakenings.anonymousAuth",
        profiling: "weakenings.profiling",
        "allow-privileged": "weakenings.privilegedContainers",
        "service-account-extend-token-expiration": "weakenings.extendServiceAccountTokens",
        "service-account-max-token-expiration": "apiServer.serviceAccountMaxTokenHours",
        "enable-admission-plugins": "admission.extraPlugins",
        "admission-control-config-file": "admission",
        "authentication-config": "authentication.jwt",
        // --authorization-config replaces --authorization-mode, which CIS 1.2.6-1.2.8 read.
        "authorization-config": "the --authorization-mode defaults (Node,RBAC)",
        "client-ca-file": PKI,
        "tls-cert-file": PKI,
        "tls-private-key-file": PKI,
        "etcd-cafile": ETCD_PKI,
        "etcd-certfile": ETCD_PKI,
        "etcd-keyfile": ETCD_PKI,
        "kubelet-client-certificate": PKI,
        "kubelet-client-key": PKI,
        "kubelet-certificate-authority": PKI,
        "proxy-client-cert-file": PKI,
        "proxy-client-key-file": PKI,
        "requestheader-client-ca-file": PKI,
        "service-account-key-file": PKI,
        "service-account-signing-key-file": PKI,
        "audit-policy-file": AUDIT,
        "audit-log-path": AUDIT,
        "audit-log-maxage": AUDIT,
        "audit-log-maxbackup": AUDIT,
        "audit-log-maxsize": AUDIT,
        "audit-log-format": AUDIT,
        "audit-webhook-config-file": AUDIT,
        "audit-webhook-mode": AUDIT,
        "audit-webhook-batch-max-wait": AUDIT,
        "encryption-provider-config": ENCRYPTION,
        "encryption-provider-config-automatic-reload": ENCRYPTION,
    },
    controllerManager: {
        "bind-address": "network.controllerManagerBindAddress",
        "secure-port": "network.controllerManagerPort",
        "cluster-cidr": "network.podCidr",
        "service-cluster-ip-range": "network.serviceCidr",
        "cluster-name": "network.clusterName",
        "terminated-pod-gc-threshold": "controllerManager.terminatedPodGcThreshold",
        "allocate-node-cidrs": "controllerManager.allocateNodeCidrs",
        "node-cidr-mask-size": "controllerManager.nodeCidrMaskSize",
        ...TLS,
        profiling: "weakenings.profiling",
        kubeconfig: KUBECONFIG,
        "authentication-kubeconfig": KUBECONFIG,
        "authorization-kubeconfig": KUBECONFIG,
        "client-ca-file": PKI,
        "requestheader-client-ca-file": PKI,
        "cluster-signing-cert-file": PKI,
        "cluster-signing-key-file": PKI,
        "root-ca-file": PKI,
        "service-account-private-key-file": PKI,
    },
    scheduler: {
        "bind-address": "network.schedulerBindAddress",
        "secure-port": "network.schedulerPort",
        ...TLS,
        profiling: "weakenings.profiling",
        kubeconfig: KUBECONFIG,
        "authentication-kubeconfig": KUBECONFIG,
        "authorization-kubeconfig": KUBECONFIG,
    },
    etcd: {
        name: "network.etcdMembers[].name",
        "data-dir": "network.etcdMembers[].dataDir",
        "listen-client-urls": "network.etcdMembers / network.etcdClientPort",
        "advertise-client-urls": "network.etcdMembers / network.etcdClientPort",
        "listen-peer-urls": "network.etcdMembers / network.etcdPeerPort",
        "initial-advertise-peer-urls": "network.etcdMembers / network.etcdPeerPort",
        "initial-cluster": "network.etcdMembers",
        "initial-cluster-state": "etcd.initialClusterState",
        "initial-cluster-token": "etcd.initialClusterToken",
        "tls-min-version": "tls.minVersion",
        "cipher-suites": "tls.cipherSuites",
        "enable-pprof": "weakenings.profiling",
        "cert-file": ETCD_PKI,
        "key-file": ETCD_PKI,
        "trusted-ca-file": ETCD_PKI,
        "peer-cert-file": ETCD_PKI,
        "peer-key-file": ETCD_PKI,
        "peer-trusted-ca-file": ETCD_PKI,
    },
    kubelet: {
        config: "the kubelet configuration file (layout)",
        kubeconfig: KUBECONFIG,
        "tls-min-version": "tls.minVersion",
        "tls-cipher-suites": "tls.cipherSuites",
        "pod-max-pids": "kubelet.podPidsLimit",
        "event-qps": "kubelet.eventRecordQPS",
        "streaming-connection-idle-timeout": "kubelet.streamingConnectionIdleTimeout",
        "cgroup-driver": "kubelet.cgroupDriver",
        "container-runtime-endpoint": "kubelet.containerRuntimeEndpoint",
        "cluster-dns": "kubelet.clusterDns",
        "cluster-domain": "network.clusterDomain",
        "tls-cert-file": "kubelet.servingCert",
        "tls-private-key-file": "kubelet.servingCert",
        "client-ca-file": PKI,
        "seccomp-default": "weakenings.noSeccompDefault",
        "protect-kernel-defaults": "weakenings.unprotectedKernelDefaults",
    },
};

const LOGGING = ["v", "log-flush-frequency", "logging-format"];
const LEADER_ELECTION = ["leader-elect-lease-duration", "leader-elect-renew-deadline", "leader-elect-retry-period"];

/**
 * Flags that change no security property: capacity, timeouts, log format and verbosity (capped, below).
 * Anything that moves trust (files, CAs, authenticators, authorizers, admission, listeners, feature gates,
 * controllers) is deliberately absent.
 */
export const FREE_FLAGS: Record<Component, readonly string[]> = {
    apiServer: [
        ...LOGGING,
        "event-ttl", "request-timeout", "min-request-timeout", "max-requests-inflight", "max-mutating-requests-inflight",
        "goaway-chance", "shutdown-send-retry-after",
        "livez-grace-period", "delete-collection-workers", "default-watch-cache-size", "watch-cache-sizes",
        "etcd-compaction-interval", "etcd-count-metric-poll-period", "etcd-db-metric-poll-interval", "etcd-healthcheck-timeout",
        "etcd-readycheck-timeout", "kubelet-timeout", "default-not-ready-toleration-seconds", "default-unreachable-toleration-seconds",
        "http2-max-streams-per-connection",
    ],
    controllerManager: [
        ...LOGGING, ...LEADER_ELECTION,
        "kube-api-qps", "kube-api-burst", "concurrent-deployment-syncs", "concurrent-replicaset-syncs", "concurrent-statefulset-syncs",
        "concurrent-job-syncs", "concurrent-gc-syncs", "concurrent-namespace-syncs", "concurrent-endpoint-syncs",
        "node-monitor-period", "node-monitor-grace-period", "node-startup-grace-period", "node-eviction-rate",
        "secondary-node-eviction-rate", "unhealthy-zone-threshold", "large-cluster-size-threshold", "namespace-sync-period",
        "horizontal-pod-autoscaler-sync-period",
    ],
    scheduler: [...LOGGING, ...LEADER_ELECTION, "kube-api-qps", "kube-api-burst"],
    etcd: [
        "log-level", "snapshot-count", "quota-backend-bytes", "auto-compaction-mode", "auto-compaction-retention", "heartbeat-interval",
        "election-timeout", "max-request-bytes", "max-snapshots", "max-wals", "grpc-keepalive-min-time", "grpc-keepalive-interval",
        "grpc-keepalive-timeout", "backend-batch-interval", "backend-batch-limit", "metrics",
        // Extra listeners, https only (checked below): they serve with the client TLS settings and certificates.
        "listen-metrics-urls", "listen-client-http-urls",
    ],
    kubelet: [
        ...LOGGING,
        "node-ip", "node-labels", "register-with-taints", "max-pods", "kube-reserved", "system-reserved", "eviction-hard",
        "image-gc-high-threshold", "image-gc-low-threshold", "runtime-request-timeout", "serialize-image-pulls", "provider-id",
        // The AWS platform points new nodes at their bootstrap credential with it.
        "bootstrap-kubeconfig",
    ],
};

/** The typed option an override must use instead, if the flag is managed. */
export function managedBy(component: Component, flag: string): string | undefined {
    // The legacy OIDC flags cannot be combined with --authentication-config; one way in keeps one validator.
    if (component === "apiServer" && flag.startsWith("oidc-")) return "authentication.jwt";
    const table = MANAGED_FLAGS[component];
    return Object.prototype.hasOwnProperty.call(table, flag) ? table[flag] : undefined;
}

export function isFree(component: Component, flag: string): boolean {
    return FREE_FLAGS[component].includes(flag);
}

const AUTHORIZATION_MODES = ["AlwaysAllow", "AlwaysDeny", "ABAC", "Webhook", "RBAC", "Node"];
/** Above 4, klog writes request and response bodies and bearer tokens (e.g. at 6+, the curl commands of clients). */
export const MAX_SAFE_VERBOSITY = 4;
const ETCD_LOG_LEVELS = ["debug", "info", "warn", "error", "panic", "fatal"];

/**
 * Value rules that hold whatever class the flag is in. Refusals here cannot be acknowledged: a value the
 * binary rejects, or a plain-text etcd listener that serves the whole datastore without authentication.
 */
export function checkValue(component: Component, flag: string, value: string, raw: unknown, k: string, configKey: string, w: WeakeningOptions): void {
    const verbose = key(configKey, "weakenings", "verboseLogs");
    if (flag === "v" || (component === "etcd" && flag === "log-level")) {
        const tooVerbose = flag === "v" ? Number(value) > MAX_SAFE_VERBOSITY : value === "debug";
        if (flag === "v" && !/^\d{1,2}$/.test(value)) fail(k, raw, "use a whole number of log verbosity, e.g. 2");
        if (flag === "log-level" && !ETCD_LOG_LEVELS.includes(value)) fail(k, raw, `use one of: ${ETCD_LOG_LEVELS.join(", ")}`);
        if (tooVerbose && w.verboseLogs !== true) {
            fail(k, raw, `${flag === "v" ? `verbosity above ${MAX_SAFE_VERBOSITY}` : "debug logging"} writes bearer tokens and request bodies to the logs; use at most ${flag === "v" ? MAX_SAFE_VERBOSITY : "info"}, or to accept the weakening set ${verbose}: true`);
        }
    }
    if (component === "etcd") {
        // etcd serves a plain http:// (or unix://) listener without TLS and so without client certificates:
        // anyone who reaches it reads and writes every Secret. No acknowledgement makes that acceptable.
        const urls = /urls?$/.test(flag) ? listOf(value) : [];
        if (urls.some((url) => !/^https:\/\/\S+$/i.test(url)) || /http:\/\//i.test(value)) {
            fail(k, NOT_SHOWN, "use https:// URLs only; a plain-text etcd listener serves the whole datastore without authentication");
        }
    }
    if (component === "apiServer") {
        const known: readonly string[] | undefined = flag === "disable-admission-plugins" ? KNOWN_ADMISSION_PLUGINS : flag === "authorization-mode" ? AUTHORIZATION_MODES : undefined;
        for (const item of known === undefined ? [] : listOf(value)) {
            if (!known!.includes(item)) fail(k, raw, `${JSON.stringify(item)} is unknown to kube-apiserver v1.34; use names from: ${known!.join(", ")}`);
        }
    }
}
