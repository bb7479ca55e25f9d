// Which flag values keep a component hardened. Each guard encodes what a CIS v1.12 check (or a house
// rule, cis: []) demands of one flag; the same table judges user overrides before rendering and the
// final flag maps for the posture, so "allowed" and "reported" can never drift apart.
//
// Predicates demand the exact spelling kube-bench reads (e.g. "false", not Go's other boolean forms "0"
// or "F"), because a value the binary accepts but the benchmark misreads still fails the audit. Where a
// value is safe only if it is NOT a given boolean (a feature gate not switched off), the binary's own
// parser decides, so "0" or "F" counts as false exactly as the component reads it.
import { Component, WeakeningSwitch } from "./options";
import { CONTROL_PLANE_ACCEPTED_SUITES, STRONG_CIPHER_SUITES } from "./tls";

export interface Guard {
    flag: string;
    /** CIS Kubernetes Benchmark v1.12 check ids this flag decides; empty for house rules. */
    cis: string[];
    /** What a value must satisfy, phrased to follow "must". */
    requirement: string;
    ok(value: string): boolean;
    /** The typed switch that deliberately produces a failing value, if any. */
    weakening?: WeakeningSwitch;
    /** What a failing value exposes. */
    risk: string;
    /** The flag may be left out: the binary's own default is the safe value (and kube-bench accepts that). */
    absentOk?: boolean;
}

const lower = (v: string) => v.trim().toLowerCase();

/** Go's strconv.ParseBool, which every Kubernetes and etcd boolean flag uses; undefined where it errors. */
export function parseGoBool(v: string): boolean | undefined {
    if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
    if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
    return undefined;
}

const isFalse = (v: string) => parseGoBool(v) === false && lower(v) === "false";
const isTrue = (v: string) => parseGoBool(v) === true && lower(v) === "true";
const nonEmpty = (v: string) => v.trim() !== "";
const never = () => false;
export const listOf = (v: string) =>
    v
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
const includes = (item: string) => (v: string) => listOf(v).includes(item);
const excludes = (item: string) => (v: string) => !listOf(v).includes(item);
const subsetOf = (allowed: readonly string[]) => (v: string) => listOf(v).length > 0 && listOf(v).every((s) => allowed.includes(s));
const atLeast = (n: number) => (v: string) => /^\d+$/.test(v.trim()) && Number(v) >= n;
/** feature-gates "A=true,B=false": every entry for the named gate parses as true (a value Go rejects fails too). */
const gateNotOff = (gate: string) => (v: string) =>
    listOf(v).every((kv) => {
        const [name, ...value] = kv.split("=");
        return name.trim() !== gate || parseGoBool(value.join("=").trim()) === true;
    });
/** A Go duration that is not zero ("0", "0s", "0m0s" all are). */
export const nonZeroDuration = (v: string) => /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(v.trim()) && /[1-9]/.test(v);

function set(flag: string, cis: string[], risk: string): Guard {
    return { flag, cis, requirement: "be set to a non-empty path", ok: nonEmpty, risk };
}

const PROFILING_RISK = "serves /debug/pprof, which leaks memory contents and lets a caller burn CPU";
const TLS_SUITES_RISK = "lets clients negotiate cipher suites outside the strong ECDHE+AEAD set";

export const API_SERVER_GUARDS: Guard[] = [
    { flag: "anonymous-auth", cis: ["1.2.1"], requirement: 'be "false"', ok: isFalse, weakening: "anonymousAuth", risk: "requests without credentials are served as system:anonymous" },
    { flag: "token-auth-file", cis: ["1.2.2"], requirement: "not be set", ok: never, risk: "static bearer tokens from a plaintext file, which never expire and cannot be revoked without a restart", absentOk: true },
    { flag: "enable-admission-plugins", cis: ["1.2.3"], requirement: "include DenyServiceExternalIPs", ok: includes("DenyServiceExternalIPs"), risk: "Services may claim arbitrary external IPs and intercept traffic to them" },
    { flag: "enable-admission-plugins", cis: ["1.2.9"], requirement: "include EventRateLimit", ok: includes("EventRateLimit"), risk: "any client can flood the API server and etcd with Events" },
    { flag: "enable-admission-plugins", cis: ["1.2.10"], requirement: "not include AlwaysAdmit", ok: excludes("AlwaysAdmit"), risk: "admission control is bypassed", absentOk: true },
    { flag: "enable-admission-plugins", cis: ["1.2.11"], requirement: "include AlwaysPullImages", ok: includes("AlwaysPullImages"), weakening: "skipAlwaysPullImages", risk: "a pod can run any image already cached on its node without the pull credentials for it" },
    { flag: "enable-admission-plugins", cis: ["1.2.14"], requirement: "include NodeRestriction", ok: includes("NodeRestriction"), risk: "a kubelet can modify other nodes and pods not bound to it" },
    { flag: "enable-admission-plugins", cis: [], requirement: "include PodSecurity", ok: includes("PodSecurity"), risk: "Pod Security Admission is switched off" },
    { flag: "disable-admission-plugins", cis: ["1.2.12"], requirement: "not include ServiceAccount", ok: excludes("ServiceAccount"), risk: "pods are not tied to a service account and can reference tokens they should not", absentOk: true },
    { flag: "disable-admission-plugins", cis: ["1.2.13"], requirement: "not include NamespaceLifecycle", ok: excludes("NamespaceLifecycle"), risk: "objects can be created in terminating or missing namespaces", absentOk: true },
    ...["PodSecurity", "NodeRestriction", "EventRateLimit", "AlwaysPullImages", "DenyServiceExternalIPs"].map(
        (p): Guard => ({ flag: "disable-admission-plugins", cis: [], requirement: `not include ${p}`, ok: excludes(p), risk: `switches off ${p}, which the hardened set enables`, absentOk: true }),
    ),
    set("kubelet-client-certificate", ["1.2.4"], "the API server cannot authenticate to kubelets"),
    set("kubelet-client-key", ["1.2.4"], "the API server cannot authenticate to kubelets"),
    set("kubelet-certificate-authority", ["1.2.5"], "kubelet serving certificates are not verified, so a node can be impersonated"),
    { flag: "authorization-mode", cis: ["1.2.6"], requirement: "not include AlwaysAllow", ok: excludes("AlwaysAllow"), risk: "every authenticated request is authorized" },
    { flag: "authorization-mode", cis: ["1.2.7"], requirement: "include Node", ok: includes("Node"), risk: "kubelets are not confined to their own node's objects" },
    { flag: "authorization-mode", cis: ["1.2.8"], requirement: "include RBAC", ok: includes("RBAC"), risk: "RBAC roles and bindings are ignored" },
    { flag: "profiling", cis: ["1.2.15"], requirement: 'be "false"', ok: isFalse, weakening: "profiling", risk: PROFILING_RISK },
    set("audit-log-path", ["1.2.16"], "no audit log is written"),
    { flag: "audit-log-maxage", cis: ["1.2.17"], requirement: "be a whole number of at least 30 (days)", ok: atLeast(30), risk: "audit history is kept for less than 30 days" },
    { flag: "audit-log-maxbackup", cis: ["1.2.18"], requirement: "be a whole number of at least 10", ok: atLeast(10), risk: "fewer than 10 rotated audit files are kept" },
    { flag: "audit-log-maxsize", cis: ["1.2.19"], requirement: "be a whole number of at least 100 (MB)", ok: atLeast(100), risk: "audit files rotate below 100 MB, shortening the kept history" },
    { flag: "service-account-lookup", cis: ["1.2.21"], requirement: 'be "true"', ok: isTrue, risk: "tokens of deleted service accounts keep working until they expire", absentOk: true },
    set("service-account-key-file", ["1.2.22"], "service account tokens cannot be verified or keys rotated"),
    set("etcd-certfile", ["1.2.23"], "the API server talks to etcd without a client certificate"),
    set("etcd-keyfile", ["1.2.23"], "the API server talks to etcd without a client certificate"),
    set("tls-cert-file", ["1.2.24"], "the API server serves a self-signed certificate"),
    set("tls-private-key-file", ["1.2.24"], "the API server serves a self-signed certificate"),
    set("client-ca-file", ["1.2.25"], "client certificates are not accepted for authentication"),
    set("etcd-cafile", ["1.2.26"], "etcd's serving certificate is not verified"),
    set("encryption-provider-config", ["1.2.27"], "Secrets are stored in etcd unencrypted"),
    { flag: "tls-cipher-suites", cis: ["1.2.29"], requirement: `list only: ${CONTROL_PLANE_ACCEPTED_SUITES.join(", ")}`, ok: subsetOf(CONTROL_PLANE_ACCEPTED_SUITES), risk: TLS_SUITES_RISK },
    { flag: "service-account-extend-token-expiration", cis: ["1.2.30"], requirement: 'be "false"', ok: isFalse, weakening: "extendServiceAccountTokens", risk: "projected service account tokens are issued valid for a year instead of their requested lifetime" },
    { flag: "allow-privileged", cis: [], requirement: 'be "false"', ok: isFalse, weakening: "privilegedContainers", risk: "privileged containers (full host access) are admitted wherever Pod Security allows them", absentOk: true },
    set("service-account-signing-key-file", [], "service account tokens cannot be issued"),
    set("requestheader-client-ca-file", [], "aggregated API servers cannot verify the front proxy"),
];

export const CONTROLLER_MANAGER_GUARDS: Guard[] = [
    { flag: "terminated-pod-gc-threshold", cis: ["1.3.1"], requirement: "be a whole number of at least 1", ok: atLeast(1), risk: "terminated pods pile up until the default threshold" },
    { flag: "profiling", cis: ["1.3.2"], requirement: 'be "false"', ok: isFalse, weakening: "profiling", risk: PROFILING_RISK },
    { flag: "use-service-account-credentials", cis: ["1.3.3"], requirement: 'be "true"', ok: isTrue, risk: "all controllers share the controller manager's own, broad credentials" },
    set("service-account-private-key-file", ["1.3.4"], "service account tokens cannot be signed"),
    set("root-ca-file", ["1.3.5"], "pods do not get the cluster CA to verify the API server with"),
    { flag: "feature-gates", cis: ["1.3.6"], requirement: "not switch RotateKubeletServerCertificate off", ok: gateNotOff("RotateKubeletServerCertificate"), risk: "kubelet serving certificates are not rotated", absentOk: true },
    { flag: "bind-address", cis: ["1.3.7"], requirement: 'be "127.0.0.1"', ok: (v) => v.trim() === "127.0.0.1", weakening: "nonLoopbackBind", risk: "the controller manager's endpoint is reachable from the network" },
];

export const SCHEDULER_GUARDS: Guard[] = [
    { flag: "profiling", cis: ["1.4.1"], requirement: 'be "false"', ok: isFalse, weakening: "profiling", risk: PROFILING_RISK },
    { flag: "bind-address", cis: ["1.4.2"], requirement: 'be "127.0.0.1"', ok: (v) => v.trim() === "127.0.0.1", weakening: "nonLoopbackBind", risk: "the scheduler's endpoint is reachable from the network" },
];

export const ETCD_GUARDS: Guard[] = [
    set("cert-file", ["2.1"], "etcd serves clients without TLS"),
    set("key-file", ["2.1"], "etcd serves clients without TLS"),
    { flag: "client-cert-auth", cis: ["2.2"], requirement: 'be "true"', ok: isTrue, risk: "any client that reaches etcd can read and write the whole cluster state" },
    { flag: "auto-tls", cis: ["2.3"], requirement: 'be "false"', ok: isFalse, risk: "etcd serves clients a self-signed certificate", absentOk: true },
    set("peer-cert-file", ["2.4"], "etcd peers talk without TLS"),
    set("peer-key-file", ["2.4"], "etcd peers talk without TLS"),
    { flag: "peer-client-cert-auth", cis: ["2.5"], requirement: 'be "true"', ok: isTrue, risk: "any host that reaches the peer port can join or eavesdrop on the etcd cluster" },
    { flag: "peer-auto-tls", cis: ["2.6"], requirement: 'be "false"', ok: isFalse, risk: "etcd peers use self-signed certificates", absentOk: true },
    set("trusted-ca-file", ["2.7"], "client certificates are not checked against a dedicated etcd CA"),
    set("peer-trusted-ca-file", [], "peer certificates are not checked against a dedicated etcd CA"),
    { flag: "enable-pprof", cis: [], requirement: 'be "false"', ok: isFalse, weakening: "profiling", risk: PROFILING_RISK },
    { flag: "cipher-suites", cis: [], requirement: `list only: ${STRONG_CIPHER_SUITES.join(", ")}`, ok: subsetOf(STRONG_CIPHER_SUITES), risk: TLS_SUITES_RISK },
    { flag: "tls-min-version", cis: [], requirement: 'be "TLS1.2" or "TLS1.3"', ok: (v) => ["TLS1.2", "TLS1.3"].includes(v.trim()), risk: "clients can negotiate TLS versions older than 1.2" },
];

export const KUBELET_GUARDS: Guard[] = [
    { flag: "anonymous-auth", cis: ["4.2.1"], requirement: 'be "false"', ok: isFalse, risk: "requests without credentials reach the kubelet API as system:anonymous" },
    { flag: "authorization-mode", cis: ["4.2.2"], requirement: 'be "Webhook"', ok: (v) => v.trim() === "Webhook", risk: "every authenticated request to the kubelet API is authorized" },
    set("client-ca-file", ["4.2.3"], "client certificates are not accepted by the kubelet API"),
    { flag: "read-only-port", cis: ["4.2.4"], requirement: 'be "0"', ok: (v) => v.trim() === "0", risk: "an unauthenticated read-only kubelet API is served" },
    { flag: "streaming-connection-idle-timeout", cis: ["4.2.5"], requirement: "be a non-zero Go duration such as 5m0s", ok: nonZeroDuration, risk: "idle exec/attach/port-forward streams are never closed" },
    { flag: "make-iptables-util-chains", cis: ["4.2.6"], requirement: 'be "true"', ok: isTrue, risk: "the kubelet stops managing its iptables chains" },
    { flag: "hostname-override", cis: ["4.2.7"], requirement: "not be set", ok: never, risk: "the node name no longer matches the host name TLS and the Node authorizer expect", absentOk: true },
    { flag: "event-qps", cis: ["4.2.8"], requirement: "be a whole number of at least 0", ok: atLeast(0), risk: "events are dropped" },
    // Absent is fine: serverTLSBootstrap then supplies a CA-signed serving certificate instead of files.
    { ...set("tls-cert-file", ["4.2.9"], "the kubelet serves a self-signed certificate"), absentOk: true },
    { ...set("tls-private-key-file", ["4.2.9"], "the kubelet serves a self-signed certificate"), absentOk: true },
    { flag: "rotate-certificates", cis: ["4.2.10"], requirement: 'be "true"', ok: isTrue, risk: "the kubelet's client certificate is never renewed" },
    { flag: "feature-gates", cis: ["4.2.11"], requirement: "not switch RotateKubeletServerCertificate off", ok: gateNotOff("RotateKubeletServerCertificate"), risk: "kubelet serving certificates are not rotated", absentOk: true },
    { flag: "tls-cipher-suites", cis: ["4.2.12"], requirement: `list only: ${STRONG_CIPHER_SUITES.join(", ")}`, ok: subsetOf(STRONG_CIPHER_SUITES), risk: TLS_SUITES_RISK },
    { flag: "pod-max-pids", cis: ["4.2.13"], requirement: "be a whole number of at least 1", ok: atLeast(1), risk: "a pod can exhaust the node's process IDs" },
    { flag: "seccomp-default", cis: ["4.2.14"], requirement: 'be "true"', ok: isTrue, weakening: "noSeccompDefault", risk: "containers without a seccomp profile run unconfined" },
    { flag: "protect-kernel-defaults", cis: [], requirement: 'be "true"', ok: isTrue, weakening: "unprotectedKernelDefaults", risk: "the kubelet starts even when kernel tunables differ from what it expects" },
];

export const GUARDS: Record<Component, Guard[]> = {
    apiServer: API_SERVER_GUARDS,
    controllerManager: CONTROLLER_MANAGER_GUARDS,
    scheduler: SCHEDULER_GUARDS,
    etcd: ETCD_GUARDS,
    kubelet: KUBELET_GUARDS,
};

/** Guards a value fails, in table order. */
export function failedGuards(component: Component, flag: string, value: string): Guard[] {
    return GUARDS[component].filter((g) => g.flag === flag && !g.ok(value));
}

export function isGuarded(component: Component, flag: string): boolean {
    return GUARDS[component].some((g) => g.flag === flag);
}

export function cisLabel(g: Guard): string {
    return g.cis.length > 0 ? `CIS ${g.cis.join(", ")}` : "house rule";
}

/** Guards a rendered flag map fails, counting a missing flag as failing unless the guard allows that. */
export function failedGuardsIn(component: Component, flags: Readonly<Record<string, string>>): Guard[] {
    return GUARDS[component].filter((g) => (flags[g.flag] === undefined ? !g.absentOk : !g.ok(flags[g.flag])));
}
