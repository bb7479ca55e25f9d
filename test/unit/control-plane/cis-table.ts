// CIS Kubernetes Benchmark v1.12 as kube-bench v0.15.6 audits it (cfg/cis-1.12), for the sections the
// control-plane settings decide: 1.2 API server, 1.3 controller manager, 1.4 scheduler, 2 etcd, 4.2 kubelet.
// Each row's predicate restates the check's requirement over what kube-bench would read (bench.ts); each
// `breaks` entry is a change to the rendered settings the check must reject, which proves the predicate
// actually looks at the setting. Manual (unscored) checks the defaults also satisfy are kept as rows too.
import { AuditView, Target } from "./bench";

/** Every check kube-bench scores in these sections of cis-1.12 (master.yaml, etcd.yaml, node.yaml). */
export const SCORED_IDS: Record<"1.2" | "1.3" | "1.4" | "2" | "4.2", string[]> = {
    "1.2": ["1.2.2", "1.2.4", "1.2.5", "1.2.6", "1.2.7", "1.2.8", "1.2.10", "1.2.12", "1.2.13", "1.2.14", "1.2.15", "1.2.16", "1.2.17", "1.2.18", "1.2.19", "1.2.21", "1.2.22", "1.2.23", "1.2.24", "1.2.25", "1.2.26", "1.2.30"],
    "1.3": ["1.3.2", "1.3.3", "1.3.4", "1.3.5", "1.3.6", "1.3.7"],
    "1.4": ["1.4.1", "1.4.2"],
    "2": ["2.1", "2.2", "2.3", "2.4", "2.5", "2.6"],
    "4.2": ["4.2.1", "4.2.2", "4.2.3", "4.2.6", "4.2.10"],
};

/** Cipher suites 1.2.29 accepts on the API server. */
export const API_SERVER_STRONG_SUITES = [
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
];

/** Cipher suites 4.2.12 accepts on the kubelet (a narrower list, legacy ChaCha20 names only). */
export const KUBELET_STRONG_SUITES = [
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
];

/**
 * A change to the rendered settings of the row's target: a flag set (or removed, value undefined), a kubelet
 * config field set (or removed), or several changes at once.
 */
export type Break = { flag: string; value?: string } | { path: string; value?: unknown } | { all: Break[] };

export interface CisRow {
    id: string;
    title: string;
    scored: boolean;
    target: Target;
    pass(a: AuditView): boolean;
    /** What the predicate reads: the flag as kube-bench searches it, and the kubelet config path it falls back to. */
    reads: [item: string, path?: string][];
    breaks: Break[];
    /** Opt-in the check needs beyond the defaults (named in the test title). */
    variant?: "kubeletServingFiles";
}

const drop = (flag: string): Break => ({ flag });
const setFlag = (flag: string, value: string): Break => ({ flag, value });
const setPath = (path: string, value?: unknown): Break => ({ path, value });

/** A flag that must carry a value. */
function present(id: string, title: string, scored: boolean, target: Target, ...flags: string[]): CisRow {
    return { id, title, scored, target, reads: flags.map((f) => [`--${f}`]), pass: (a) => flags.every((f) => a.item(`--${f}`).found), breaks: flags.map(drop) };
}

export const CIS_ROWS: CisRow[] = [
    // 1.2 API server
    { id: "1.2.1", title: "Ensure that the --anonymous-auth argument is set to false", scored: false, target: "apiserver", reads: [["--anonymous-auth"]], pass: (a) => a.item("--anonymous-auth").eq("false"), breaks: [setFlag("anonymous-auth", "true"), drop("anonymous-auth")] },
    { id: "1.2.2", title: "Ensure that the --token-auth-file parameter is not set", scored: true, target: "apiserver", reads: [["--token-auth-file"]], pass: (a) => !a.item("--token-auth-file").found, breaks: [setFlag("token-auth-file", "/etc/kubernetes/tokens.csv")] },
    { id: "1.2.3", title: "Ensure that the DenyServiceExternalIPs admission plugin is set", scored: false, target: "apiserver", reads: [["--enable-admission-plugins"]], pass: (a) => a.item("--enable-admission-plugins").has("DenyServiceExternalIPs"), breaks: [setFlag("enable-admission-plugins", "NodeRestriction")] },
    present("1.2.4", "Ensure that the --kubelet-client-certificate and --kubelet-client-key arguments are set as appropriate", true, "apiserver", "kubelet-client-certificate", "kubelet-client-key"),
    present("1.2.5", "Ensure that the --kubelet-certificate-authority argument is set as appropriate", true, "apiserver", "kubelet-certificate-authority"),
    { id: "1.2.6", title: "Ensure that the --authorization-mode argument is not set to AlwaysAllow", scored: true, target: "apiserver", reads: [["--authorization-mode"]], pass: (a) => a.item("--authorization-mode").notHave("AlwaysAllow"), breaks: [setFlag("authorization-mode", "AlwaysAllow"), drop("authorization-mode")] },
    { id: "1.2.7", title: "Ensure that the --authorization-mode argument includes Node", scored: true, target: "apiserver", reads: [["--authorization-mode"]], pass: (a) => a.item("--authorization-mode").has("Node"), breaks: [setFlag("authorization-mode", "RBAC")] },
    { id: "1.2.8", title: "Ensure that the --authorization-mode argument includes RBAC", scored: true, target: "apiserver", reads: [["--authorization-mode"]], pass: (a) => a.item("--authorization-mode").has("RBAC"), breaks: [setFlag("authorization-mode", "Node")] },
    { id: "1.2.9", title: "Ensure that the admission control plugin EventRateLimit is set", scored: false, target: "apiserver", reads: [["--enable-admission-plugins"]], pass: (a) => a.item("--enable-admission-plugins").has("EventRateLimit"), breaks: [setFlag("enable-admission-plugins", "NodeRestriction")] },
    {
        id: "1.2.10",
        title: "Ensure that the admission control plugin AlwaysAdmit is not set",
        scored: true,
        target: "apiserver",
        reads: [["--enable-admission-plugins"]],
        pass: (a) => !a.item("--enable-admission-plugins").found || a.item("--enable-admission-plugins").notHave("AlwaysAdmit"),
        breaks: [setFlag("enable-admission-plugins", "NodeRestriction,AlwaysAdmit")],
    },
    { id: "1.2.11", title: "Ensure that the admission control plugin AlwaysPullImages is set", scored: false, target: "apiserver", reads: [["--enable-admission-plugins"]], pass: (a) => a.item("--enable-admission-plugins").has("AlwaysPullImages"), breaks: [setFlag("enable-admission-plugins", "NodeRestriction")] },
    {
        id: "1.2.12",
        title: "Ensure that the admission control plugin ServiceAccount is set",
        scored: true,
        target: "apiserver",
        reads: [["--disable-admission-plugins"]],
        pass: (a) => !a.item("--disable-admission-plugins").found || a.item("--disable-admission-plugins").notHave("ServiceAccount"),
        breaks: [setFlag("disable-admission-plugins", "ServiceAccount")],
    },
    {
        id: "1.2.13",
        title: "Ensure that the admission control plugin NamespaceLifecycle is set",
        scored: true,
        target: "apiserver",
        reads: [["--disable-admission-plugins"]],
        pass: (a) => !a.item("--disable-admission-plugins").found || a.item("--disable-admission-plugins").notHave("NamespaceLifecycle"),
        breaks: [setFlag("disable-admission-plugins", "NamespaceLifecycle")],
    },
    { id: "1.2.14", title: "Ensure that the admission control plugin NodeRestriction is set", scored: true, target: "apiserver", reads: [["--enable-admission-plugins"]], pass: (a) => a.item("--enable-admission-plugins").has("NodeRestriction"), breaks: [setFlag("enable-admission-plugins", "EventRateLimit"), drop("enable-admission-plugins")] },
    { id: "1.2.15", title: "Ensure that the --profiling argument is set to false", scored: true, target: "apiserver", reads: [["--profiling"]], pass: (a) => a.item("--profiling").eq("false"), breaks: [setFlag("profiling", "true"), drop("profiling")] },
    present("1.2.16", "Ensure that the --audit-log-path argument is set", true, "apiserver", "audit-log-path"),
    { id: "1.2.17", title: "Ensure that the --audit-log-maxage argument is set to 30 or as appropriate", scored: true, target: "apiserver", reads: [["--audit-log-maxage"]], pass: (a) => a.item("--audit-log-maxage").gte(30), breaks: [setFlag("audit-log-maxage", "29"), drop("audit-log-maxage")] },
    { id: "1.2.18", title: "Ensure that the --audit-log-maxbackup argument is set to 10 or as appropriate", scored: true, target: "apiserver", reads: [["--audit-log-maxbackup"]], pass: (a) => a.item("--audit-log-maxbackup").gte(10), breaks: [setFlag("audit-log-maxbackup", "9"), drop("audit-log-maxbackup")] },
    { id: "1.2.19", title: "Ensure that the --audit-log-maxsize argument is set to 100 or as appropriate", scored: true, target: "apiserver", reads: [["--audit-log-maxsize"]], pass: (a) => a.item("--audit-log-maxsize").gte(100), breaks: [setFlag("audit-log-maxsize", "99"), drop("audit-log-maxsize")] },
    {
        id: "1.2.21",
        title: "Ensure that the --service-account-lookup argument is set to true",
        scored: true,
        target: "apiserver",
        reads: [["--service-account-lookup"]],
        pass: (a) => !a.item("--service-account-lookup").found || a.item("--service-account-lookup").eq("true"),
        breaks: [setFlag("service-account-lookup", "false")],
    },
    present("1.2.22", "Ensure that the --service-account-key-file argument is set as appropriate", true, "apiserver", "service-account-key-file"),
    present("1.2.23", "Ensure that the --etcd-certfile and --etcd-keyfile arguments are set as appropriate", true, "apiserver", "etcd-certfile", "etcd-keyfile"),
    present("1.2.24", "Ensure that the --tls-cert-file and --tls-private-key-file arguments are set as appropriate", true, "apiserver", "tls-cert-file", "tls-private-key-file"),
    present("1.2.25", "Ensure that the --client-ca-file argument is set as appropriate", true, "apiserver", "client-ca-file"),
    present("1.2.26", "Ensure that the --etcd-cafile argument is set as appropriate", true, "apiserver", "etcd-cafile"),
    {
        ...present("1.2.27", "Ensure that the --encryption-provider-config argument is set as appropriate", false, "apiserver", "encryption-provider-config"),
        // kube-bench matches flag names as substrings, so --encryption-provider-config-automatic-reload alone
        // would satisfy it; only dropping both breaks the check.
        breaks: [{ all: [drop("encryption-provider-config"), drop("encryption-provider-config-automatic-reload")] }],
    },
    {
        id: "1.2.29",
        title: "Ensure that the API Server only makes use of Strong Cryptographic Ciphers",
        scored: false,
        target: "apiserver",
        reads: [["--tls-cipher-suites"]],
        pass: (a) => a.item("--tls-cipher-suites").validElements(API_SERVER_STRONG_SUITES),
        breaks: [setFlag("tls-cipher-suites", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_RSA_WITH_AES_128_CBC_SHA"), drop("tls-cipher-suites")],
    },
    {
        id: "1.2.30",
        title: "Ensure that the --service-account-extend-token-expiration parameter is set to false",
        scored: true,
        target: "apiserver",
        reads: [["--service-account-extend-token-expiration"]],
        pass: (a) => a.item("--service-account-extend-token-expiration").eq("false"),
        breaks: [setFlag("service-account-extend-token-expiration", "true"), drop("service-account-extend-token-expiration")],
    },

    // 1.3 controller manager
    present("1.3.1", "Ensure that the --terminated-pod-gc-threshold argument is set as appropriate", false, "controllermanager", "terminated-pod-gc-threshold"),
    { id: "1.3.2", title: "Ensure that the --profiling argument is set to false", scored: true, target: "controllermanager", reads: [["--profiling"]], pass: (a) => a.item("--profiling").eq("false"), breaks: [setFlag("profiling", "true"), drop("profiling")] },
    {
        id: "1.3.3",
        title: "Ensure that the --use-service-account-credentials argument is set to true",
        scored: true,
        target: "controllermanager",
        reads: [["--use-service-account-credentials"]],
        pass: (a) => a.item("--use-service-account-credentials").notEq("false"),
        breaks: [setFlag("use-service-account-credentials", "false"), drop("use-service-account-credentials")],
    },
    present("1.3.4", "Ensure that the --service-account-private-key-file argument is set as appropriate", true, "controllermanager", "service-account-private-key-file"),
    present("1.3.5", "Ensure that the --root-ca-file argument is set as appropriate", true, "controllermanager", "root-ca-file"),
    {
        id: "1.3.6",
        title: "Ensure that the RotateKubeletServerCertificate argument is set to true",
        scored: true,
        target: "controllermanager",
        reads: [["--feature-gates"]],
        pass: (a) => !a.item("--feature-gates").found || a.item("--feature-gates").notHave("RotateKubeletServerCertificate=false"),
        breaks: [setFlag("feature-gates", "RotateKubeletServerCertificate=false")],
    },
    {
        id: "1.3.7",
        title: "Ensure that the --bind-address argument is set to 127.0.0.1",
        scored: true,
        target: "controllermanager",
        reads: [["--bind-address"]],
        pass: (a) => !a.item("--bind-address").found || a.item("--bind-address").eq("127.0.0.1"),
        breaks: [setFlag("bind-address", "0.0.0.0")],
    },

    // 1.4 scheduler
    { id: "1.4.1", title: "Ensure that the --profiling argument is set to false", scored: true, target: "scheduler", reads: [["--profiling"]], pass: (a) => a.item("--profiling").eq("false"), breaks: [setFlag("profiling", "true"), drop("profiling")] },
    {
        id: "1.4.2",
        title: "Ensure that the --bind-address argument is set to 127.0.0.1",
        scored: true,
        target: "scheduler",
        reads: [["--bind-address"]],
        pass: (a) => !a.item("--bind-address").found || a.item("--bind-address").eq("127.0.0.1"),
        breaks: [setFlag("bind-address", "10.0.0.10")],
    },

    // 2 etcd
    present("2.1", "Ensure that the --cert-file and --key-file arguments are set as appropriate", true, "etcd", "cert-file", "key-file"),
    { id: "2.2", title: "Ensure that the --client-cert-auth argument is set to true", scored: true, target: "etcd", reads: [["--client-cert-auth"]], pass: (a) => a.item("--client-cert-auth").eq("true"), breaks: [setFlag("client-cert-auth", "false"), drop("client-cert-auth")] },
    { id: "2.3", title: "Ensure that the --auto-tls argument is not set to true", scored: true, target: "etcd", reads: [["--auto-tls"]], pass: (a) => !a.item("--auto-tls").found || a.item("--auto-tls").eq("false"), breaks: [setFlag("auto-tls", "true")] },
    present("2.4", "Ensure that the --peer-cert-file and --peer-key-file arguments are set as appropriate", true, "etcd", "peer-cert-file", "peer-key-file"),
    { id: "2.5", title: "Ensure that the --peer-client-cert-auth argument is set to true", scored: true, target: "etcd", reads: [["--peer-client-cert-auth"]], pass: (a) => a.item("--peer-client-cert-auth").eq("true"), breaks: [setFlag("peer-client-cert-auth", "false"), drop("peer-client-cert-auth")] },
    { id: "2.6", title: "Ensure that the --peer-auto-tls argument is not set to true", scored: true, target: "etcd", reads: [["--peer-auto-tls"]], pass: (a) => !a.item("--peer-auto-tls").found || a.item("--peer-auto-tls").eq("false"), breaks: [setFlag("peer-auto-tls", "true")] },
    present("2.7", "Ensure that a unique Certificate Authority is used for etcd", false, "etcd", "trusted-ca-file"),

    // 4.2 kubelet: command line first, then the config file
    {
        id: "4.2.1",
        title: "Ensure that the --anonymous-auth argument is set to false",
        scored: true,
        target: "kubelet",
        reads: [["--anonymous-auth", "authentication.anonymous.enabled"]],
        pass: (a) => a.item("--anonymous-auth", "authentication.anonymous.enabled").eq("false"),
        breaks: [setPath("authentication.anonymous.enabled", true), setPath("authentication.anonymous"), setFlag("anonymous-auth", "true")],
    },
    {
        id: "4.2.2",
        title: "Ensure that the --authorization-mode argument is not set to AlwaysAllow",
        scored: true,
        target: "kubelet",
        reads: [["--authorization-mode", "authorization.mode"]],
        pass: (a) => a.item("--authorization-mode", "authorization.mode").notHave("AlwaysAllow"),
        breaks: [setPath("authorization.mode", "AlwaysAllow"), setPath("authorization"), setFlag("authorization-mode", "AlwaysAllow")],
    },
    {
        id: "4.2.3",
        title: "Ensure that the --client-ca-file argument is set as appropriate",
        scored: true,
        target: "kubelet",
        reads: [["--client-ca-file", "authentication.x509.clientCAFile"]],
        pass: (a) => a.item("--client-ca-file", "authentication.x509.clientCAFile").found,
        breaks: [setPath("authentication.x509.clientCAFile")],
    },
    {
        id: "4.2.4",
        title: "Verify that if defined, the --read-only-port argument is set to 0",
        scored: false,
        target: "kubelet",
        reads: [["--read-only-port", "readOnlyPort"]],
        pass: (a) => !a.item("--read-only-port", "readOnlyPort").found || a.item("--read-only-port", "readOnlyPort").eq("0"),
        breaks: [setPath("readOnlyPort", 10255), setFlag("read-only-port", "10255")],
    },
    {
        id: "4.2.5",
        title: "Ensure that the --streaming-connection-idle-timeout argument is not set to 0",
        scored: false,
        target: "kubelet",
        reads: [["--streaming-connection-idle-timeout", "streamingConnectionIdleTimeout"]],
        pass: (a) => !a.item("--streaming-connection-idle-timeout", "streamingConnectionIdleTimeout").found || a.item("--streaming-connection-idle-timeout", "streamingConnectionIdleTimeout").notEq("0"),
        breaks: [setPath("streamingConnectionIdleTimeout", 0)],
    },
    {
        id: "4.2.6",
        title: "Ensure that the --make-iptables-util-chains argument is set to true",
        scored: true,
        target: "kubelet",
        reads: [["--make-iptables-util-chains", "makeIPTablesUtilChains"]],
        pass: (a) => !a.item("--make-iptables-util-chains", "makeIPTablesUtilChains").found || a.item("--make-iptables-util-chains", "makeIPTablesUtilChains").eq("true"),
        breaks: [setPath("makeIPTablesUtilChains", false), setFlag("make-iptables-util-chains", "false")],
    },
    { id: "4.2.7", title: "Ensure that the --hostname-override argument is not set", scored: false, target: "kubelet", reads: [["--hostname-override"]], pass: (a) => !a.item("--hostname-override").found, breaks: [setFlag("hostname-override", "node-a")] },
    {
        id: "4.2.8",
        title: "Ensure that the eventRecordQPS argument is set to a level which ensures appropriate event capture",
        scored: false,
        target: "kubelet",
        reads: [["--event-qps", "eventRecordQPS"]],
        pass: (a) => !a.item("--event-qps", "eventRecordQPS").found || a.item("--event-qps", "eventRecordQPS").gte(0),
        breaks: [setPath("eventRecordQPS", -1)],
    },
    {
        id: "4.2.9",
        title: "Ensure that the --tls-cert-file and --tls-private-key-file arguments are set as appropriate",
        scored: false,
        target: "kubelet",
        variant: "kubeletServingFiles",
        reads: [["--tls-cert-file", "tlsCertFile"], ["--tls-private-key-file", "tlsPrivateKeyFile"]],
        pass: (a) => a.item("--tls-cert-file", "tlsCertFile").found && a.item("--tls-private-key-file", "tlsPrivateKeyFile").found,
        breaks: [setPath("tlsCertFile"), setPath("tlsPrivateKeyFile")],
    },
    {
        id: "4.2.10",
        title: "Ensure that the --rotate-certificates argument is not set to false",
        scored: true,
        target: "kubelet",
        reads: [["--rotate-certificates", "rotateCertificates"]],
        pass: (a) => !a.item("--rotate-certificates", "rotateCertificates").found || a.item("--rotate-certificates", "rotateCertificates").eq("true"),
        breaks: [setPath("rotateCertificates", false), setFlag("rotate-certificates", "false")],
    },
    {
        id: "4.2.11",
        title: "Verify that the RotateKubeletServerCertificate argument is set to true",
        scored: false,
        target: "kubelet",
        reads: [["RotateKubeletServerCertificate", "featureGates.RotateKubeletServerCertificate"]],
        pass: (a) => {
            const p = a.item("RotateKubeletServerCertificate", "featureGates.RotateKubeletServerCertificate");
            return !p.found || p.notHave("false");
        },
        breaks: [setPath("featureGates", { RotateKubeletServerCertificate: false })],
    },
    {
        id: "4.2.12",
        title: "Ensure that the Kubelet only makes use of Strong Cryptographic Ciphers",
        scored: false,
        target: "kubelet",
        reads: [["--tls-cipher-suites", "tlsCipherSuites"]],
        pass: (a) => a.item("--tls-cipher-suites", "tlsCipherSuites").validElements(KUBELET_STRONG_SUITES),
        // The _SHA256 spelling is accepted by the kubelet but not by the benchmark's kubelet list.
        breaks: [setPath("tlsCipherSuites", ["TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"]), setPath("tlsCipherSuites")],
    },
    {
        id: "4.2.13",
        title: "Ensure that a limit is set on pod PIDs",
        scored: false,
        target: "kubelet",
        reads: [["--pod-max-pids", "podPidsLimit"]],
        pass: (a) => a.item("--pod-max-pids", "podPidsLimit").found,
        breaks: [setPath("podPidsLimit")],
    },
    {
        id: "4.2.14",
        title: "Ensure that the --seccomp-default parameter is set to true",
        scored: false,
        target: "kubelet",
        reads: [["--seccomp-default", "seccompDefault"]],
        // kube-bench only looks for the setting; the title asks for true, so the row does too.
        pass: (a) => a.item("--seccomp-default", "seccompDefault").eq("true"),
        breaks: [setPath("seccompDefault", false), setPath("seccompDefault")],
    },
];
