// The control-plane settings model: what a platform may choose, with every default secure. Weakening
// switches live together under `weakenings` so a reviewer finds every deliberate loosening in one place,
// and each one shows up in the posture summary.
import type { AuditLogOptions } from "../audit";
import { PSA_LEVELS, type PsaLevel } from "../common";

/** Components that receive flags. The names double as option keys (controlPlane.<component>.extraArgs). */
export const COMPONENTS = ["apiServer", "controllerManager", "scheduler", "etcd", "kubelet"] as const;
export type Component = (typeof COMPONENTS)[number];

/** Flag values as kubeadm's extraArgs take them; numbers and booleans are accepted and stringified. */
export type ExtraArgs = Record<string, string | number | boolean>;

export interface EtcdMemberOptions {
    /** etcd member name; also the name in --initial-cluster, so it must be unique. */
    name: string;
    /** The address the member listens and advertises on. */
    ip: string;
    /** Overrides layout.etcdDataDir, for platforms that run several members on one host. */
    dataDir?: string;
}

export interface NetworkOptions {
    /** kube-apiserver --advertise-address: the address other members of the cluster reach it on. */
    advertiseAddress: string;
    /** Default 0.0.0.0 (:: for an IPv6 advertiseAddress): nodes and clients on other hosts must reach the API. */
    apiServerBindAddress?: string;
    /** Default 6443. */
    apiServerPort?: number;
    /**
     * kube-apiserver --shutdown-delay-duration, for apiservers behind a balancer that health-checks /readyz:
     * after SIGTERM /readyz fails at once while requests are still served this long. Default 0 (unset).
     */
    apiServerShutdownDelaySeconds?: number;
    /**
     * kube-apiserver --shutdown-watch-termination-grace-period. Default 3. At upstream's 0 a stopping apiserver
     * keeps every watch open until its HTTP server gives up (~60 s), so each restart waits that long or is cut by
     * its supervisor; within this window watches are closed (rate-limited), clients re-establish them on
     * another server, and the process exits by itself.
     */
    apiServerWatchDrainSeconds?: number;
    /** Default 127.0.0.1 (CIS 1.3.7); anything else needs weakenings.nonLoopbackBind. */
    controllerManagerBindAddress?: string;
    /** Default 10257. */
    controllerManagerPort?: number;
    /** Default 127.0.0.1 (CIS 1.4.2); anything else needs weakenings.nonLoopbackBind. */
    schedulerBindAddress?: string;
    /** Default 10259. */
    schedulerPort?: number;
    /** Default 2379. */
    etcdClientPort?: number;
    /** Default 2380. */
    etcdPeerPort?: number;
    etcdMembers: EtcdMemberOptions[];
    /** Default 10.96.0.0/12. */
    serviceCidr?: string;
    /** Default 10.244.0.0/16; must not overlap serviceCidr. */
    podCidr?: string;
    /** Default cluster.local. */
    clusterDomain?: string;
    /** Default https://kubernetes.default.svc.<clusterDomain>. */
    serviceAccountIssuer?: string;
    /** Default "kubernetes" (kube-controller-manager --cluster-name). */
    clusterName?: string;
}

export const TLS_VERSIONS = ["VersionTLS12", "VersionTLS13"] as const;
export type TlsVersion = (typeof TLS_VERSIONS)[number];

export interface TlsOptions {
    /** Default VersionTLS12 (what kubelets and older clients still need). */
    minVersion?: TlsVersion;
    /** Default: all of STRONG_CIPHER_SUITES. Only names every component and CIS accepts are allowed. */
    cipherSuites?: string[];
}

export interface ApiServerOptions {
    extraArgs?: ExtraArgs;
    /**
     * --service-account-max-token-expiration in hours (1 to 8760): the longest token a TokenRequest gets, and so
     * how long a retired service-account signing key must keep verifying. Default 24.
     */
    serviceAccountMaxTokenHours?: number;
}

export interface ControllerManagerOptions {
    extraArgs?: ExtraArgs;
    /** CIS 1.3.1 wants the value on the command line; default 12500 (the binary's own default, made visible). */
    terminatedPodGcThreshold?: number;
    /** Default true: the controller manager hands each node a slice of podCidr (kubeadm does this when a pod subnet is set). */
    allocateNodeCidrs?: boolean;
    /** Default 24 for IPv4, 64 for IPv6. */
    nodeCidrMaskSize?: number;
}

export interface SchedulerOptions {
    extraArgs?: ExtraArgs;
}

export interface EtcdOptions {
    extraArgs?: ExtraArgs;
    /** Default "new"; "existing" when a member joins a running cluster. */
    initialClusterState?: "new" | "existing";
    /** Default "<clusterName>-etcd". */
    initialClusterToken?: string;
}

export interface KubeletServingFiles {
    certFile: string;
    keyFile: string;
}

export interface KubeletOptions {
    extraArgs?: ExtraArgs;
    /**
     * Serving certificate: "bootstrap" (default) asks the cluster CA for one through a CSR (serverTLSBootstrap),
     * which someone must approve; or the paths of a certificate the PKI issued for this node.
     */
    servingCert?: "bootstrap" | KubeletServingFiles;
    /** CIS 4.2.13; default 4096. */
    podPidsLimit?: number;
    /** CIS 4.2.8; default 50 (the kubelet's own default, made visible). 0 means unlimited. */
    eventRecordQPS?: number;
    /** CIS 4.2.5; Go duration, not zero. Default "5m0s". */
    streamingConnectionIdleTimeout?: string;
    /** Default "systemd". */
    cgroupDriver?: "systemd" | "cgroupfs";
    /** Default unix:///run/containerd/containerd.sock. */
    containerRuntimeEndpoint?: string;
    /** Default: the tenth address of serviceCidr (kubeadm's convention for the DNS Service). */
    clusterDns?: string[];
}

// Part of this block's public API (controlPlane.PSA_LEVELS); defined once in common.
export { PSA_LEVELS, type PsaLevel };

export interface PodSecurityDefaults {
    enforce?: PsaLevel;
    enforceVersion?: string;
    audit?: PsaLevel;
    auditVersion?: string;
    warn?: PsaLevel;
    warnVersion?: string;
}

export interface PodSecurityExemptions {
    usernames?: string[];
    runtimeClasses?: string[];
    namespaces?: string[];
}

export interface PodSecurityOptions {
    /** Default restricted / "latest" for all three modes. */
    defaults?: PodSecurityDefaults;
    /** Default: nothing exempt. Each exemption is listed as a weakening. */
    exemptions?: PodSecurityExemptions;
}

export const EVENT_LIMIT_TYPES = ["Server", "Namespace", "User", "SourceAndObject"] as const;
export type EventLimitType = (typeof EVENT_LIMIT_TYPES)[number];

export interface EventLimit {
    type: EventLimitType;
    qps: number;
    burst: number;
    /** Not for Server, which has a single bucket. */
    cacheSize?: number;
}

export interface AdmissionOptions {
    podSecurity?: PodSecurityOptions;
    /** Replaces the default EventRateLimit limits. */
    eventRateLimit?: { limits?: EventLimit[] };
    /** Plugins enabled in addition to the hardened set (e.g. "OwnerReferencesPermissionEnforcement"). */
    extraPlugins?: string[];
}

export interface ClaimMapping {
    claim: string;
    /** Prepended to the claim value; "" disables prefixing (listed as a weakening). */
    prefix: string;
}

export interface JwtIssuerOptions {
    /** https URL the tokens' iss claim carries. */
    url: string;
    /** Where to fetch discovery from when it differs from url (https). */
    discoveryURL?: string;
    audiences: string[];
    /** PEM bundle that verifies the issuer's serving certificate, when not publicly trusted. */
    certificateAuthority?: string;
    claimMappings?: {
        /** Default { claim: "sub", prefix: "oidc:" }. */
        username?: ClaimMapping;
        /** Default { claim: "groups", prefix: "oidc:" }. */
        groups?: ClaimMapping;
    };
}

export interface AuthenticationOptions {
    /** OIDC issuers; none by default, and then no AuthenticationConfiguration is written. */
    jwt?: JwtIssuerOptions[];
}

/** Each switch loosens one hardened default; all of them appear in the posture's weakenings. */
export interface WeakeningOptions {
    /** kube-apiserver --anonymous-auth=true (CIS 1.2.1). */
    anonymousAuth?: boolean;
    /** --profiling=true on apiserver, controller manager and scheduler, etcd --enable-pprof, kubelet profiling handler. */
    profiling?: boolean;
    /** Drops the AlwaysPullImages admission plugin (CIS 1.2.11), e.g. for air-gapped nodes with preloaded images. */
    skipAlwaysPullImages?: boolean;
    /** --service-account-extend-token-expiration=true (CIS 1.2.30). */
    extendServiceAccountTokens?: boolean;
    /** --allow-privileged=true: privileged containers are admitted (Pod Security still applies). */
    privilegedContainers?: boolean;
    /** Lets the controller manager / scheduler bind to an address other than 127.0.0.1 (CIS 1.3.7, 1.4.2). */
    nonLoopbackBind?: boolean;
    /** Kubelet protectKernelDefaults=false: starts even when kernel tunables differ from what it expects. */
    unprotectedKernelDefaults?: boolean;
    /** Kubelet seccompDefault=false (CIS 4.2.14): containers without a seccomp profile run unconfined. */
    noSeccompDefault?: boolean;
    /** Log verbosity above 4 (`v`, etcd `log-level: debug`): bearer tokens and request bodies reach the logs. */
    verboseLogs?: boolean;
    /**
     * extraArgs flags (names without dashes) outside the free allow-list, accepted on purpose. Each one is
     * reported in the posture, with the hardening checks its value fails.
     */
    acceptExtraArgs?: Partial<Record<Component, string[]>>;
}

export type WeakeningSwitch = Exclude<keyof WeakeningOptions, "acceptExtraArgs">;

export interface ControlPlaneOptions {
    network: NetworkOptions;
    tls?: TlsOptions;
    apiServer?: ApiServerOptions;
    controllerManager?: ControllerManagerOptions;
    scheduler?: SchedulerOptions;
    etcd?: EtcdOptions;
    kubelet?: KubeletOptions;
    admission?: AdmissionOptions;
    authentication?: AuthenticationOptions;
    /** Passed to the audit block, which owns its validation and flags. */
    audit?: AuditLogOptions;
    weakenings?: WeakeningOptions;
}

export const DEFAULT_CONFIG_KEY = "controlPlane";

export const NETWORK_DEFAULTS = {
    apiServerBindAddress: "0.0.0.0",
    apiServerPort: 6443,
    apiServerWatchDrainSeconds: 3,
    controllerManagerBindAddress: "127.0.0.1",
    controllerManagerPort: 10257,
    schedulerBindAddress: "127.0.0.1",
    schedulerPort: 10259,
    etcdClientPort: 2379,
    etcdPeerPort: 2380,
    serviceCidr: "10.96.0.0/12",
    podCidr: "10.244.0.0/16",
    clusterDomain: "cluster.local",
    clusterName: "kubernetes",
} as const;

export const KUBELET_DEFAULTS = {
    podPidsLimit: 4096,
    eventRecordQPS: 50,
    streamingConnectionIdleTimeout: "5m0s",
    cgroupDriver: "systemd",
    containerRuntimeEndpoint: "unix:///run/containerd/containerd.sock",
} as const;

export const API_SERVER_DEFAULTS = {
    serviceAccountMaxTokenHours: 24,
} as const;

export const CONTROLLER_MANAGER_DEFAULTS = {
    terminatedPodGcThreshold: 12500,
    allocateNodeCidrs: true,
} as const;
