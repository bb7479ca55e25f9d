// Admission: the hardened plugin set and the AdmissionConfiguration file that configures two of them,
// PodSecurity (inline) and EventRateLimit (its own file, referenced by path).
import { DEFAULT_PSA_VERSION, fail, isDnsLabel, isPlainObject, key, knownKeys, oneOf, positiveInt, PSA_LEVELS, type PsaLevel } from "../common";
import { AdmissionOptions, EVENT_LIMIT_TYPES, EventLimit } from "./options";

/** Every admission plugin kube-apiserver v1.34 registers; any other name stops the binary at start. */
export const KNOWN_ADMISSION_PLUGINS = [
    "AlwaysAdmit",
    "AlwaysDeny",
    "AlwaysPullImages",
    "CertificateApproval",
    "CertificateSigning",
    "CertificateSubjectRestriction",
    "ClusterTrustBundleAttest",
    "DefaultIngressClass",
    "DefaultStorageClass",
    "DefaultTolerationSeconds",
    "DenyServiceExternalIPs",
    "EventRateLimit",
    "ExtendedResourceToleration",
    "ImagePolicyWebhook",
    "LimitPodHardAntiAffinityTopology",
    "LimitRanger",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionWebhook",
    "NamespaceAutoProvision",
    "NamespaceExists",
    "NamespaceLifecycle",
    "NodeRestriction",
    "OwnerReferencesPermissionEnforcement",
    "PersistentVolumeClaimResize",
    "PodNodeSelector",
    "PodSecurity",
    "PodTolerationRestriction",
    "PodTopologyLabels",
    "Priority",
    "ResourceQuota",
    "RuntimeClass",
    "ServiceAccount",
    "StorageObjectInUseProtection",
    "TaintNodesByCondition",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionWebhook",
] as const;

// PodSecurity is on by default upstream; naming it keeps it on even if a later release changes the
// default, and makes it visible to anyone reading the command line. ImagePolicyWebhook needs a config this
// model does not write, and the two "Always" plugins make admission meaningless.
const NOT_EXTRA = ["AlwaysAdmit", "AlwaysDeny", "ImagePolicyWebhook"];

export const HARDENED_ADMISSION_PLUGINS = ["NodeRestriction", "PodSecurity", "EventRateLimit", "AlwaysPullImages", "DenyServiceExternalIPs"] as const;

/** Upstream's sample sizes, scaled so a rollout's burst of events from one namespace is not dropped. */
export const DEFAULT_EVENT_LIMITS: EventLimit[] = [
    { type: "Server", qps: 100, burst: 400 },
    { type: "Namespace", qps: 50, burst: 200, cacheSize: 2000 },
    { type: "User", qps: 20, burst: 100, cacheSize: 2000 },
];

export interface ResolvedPodSecurity {
    enforce: PsaLevel;
    enforceVersion: string;
    audit: PsaLevel;
    auditVersion: string;
    warn: PsaLevel;
    warnVersion: string;
    exemptions: { usernames: string[]; runtimeClasses: string[]; namespaces: string[] };
}

export interface ResolvedAdmission {
    plugins: string[];
    podSecurity: ResolvedPodSecurity;
    eventLimits: EventLimit[];
}

const PSA_VERSION = /^v1\.(0|[1-9][0-9]*)$/;
// RFC 1123 subdomain, which RuntimeClass names are.
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function resolveAdmission(options: AdmissionOptions | undefined, skipAlwaysPullImages: boolean, k: string): ResolvedAdmission {
    knownKeys(k, options, ["podSecurity", "eventRateLimit", "extraPlugins"]);
    const plugins: string[] = HARDENED_ADMISSION_PLUGINS.filter((p) => !(skipAlwaysPullImages && p === "AlwaysPullImages"));
    if (options?.extraPlugins !== undefined) {
        const ek = key(k, "extraPlugins");
        if (!Array.isArray(options.extraPlugins)) fail(ek, options.extraPlugins, "use a list of admission plugin names");
        options.extraPlugins.forEach((p, i) => {
            const allowed = KNOWN_ADMISSION_PLUGINS.filter((n) => !NOT_EXTRA.includes(n) && !plugins.includes(n));
            oneOf(key(ek, i), p, allowed);
            plugins.push(p);
        });
    }
    return {
        plugins,
        podSecurity: resolvePodSecurity(options?.podSecurity, key(k, "podSecurity")),
        eventLimits: resolveEventLimits(options?.eventRateLimit, key(k, "eventRateLimit")),
    };
}

function resolvePodSecurity(options: AdmissionOptions["podSecurity"], k: string): ResolvedPodSecurity {
    knownKeys(k, options, ["defaults", "exemptions"]);
    const d = options?.defaults;
    const dk = key(k, "defaults");
    knownKeys(dk, d, ["enforce", "enforceVersion", "audit", "auditVersion", "warn", "warnVersion"]);
    const level = (name: "enforce" | "audit" | "warn") => (d?.[name] === undefined ? "restricted" : oneOf(key(dk, name), d[name], PSA_LEVELS));
    const version = (name: "enforceVersion" | "auditVersion" | "warnVersion") => {
        const v = d?.[name] ?? "latest";
        if (v !== "latest" && (typeof v !== "string" || !PSA_VERSION.test(v))) fail(key(dk, name), v, `use "latest" or a Kubernetes minor version such as "${DEFAULT_PSA_VERSION}"`);
        return v;
    };
    const ek = key(k, "exemptions");
    const e = options?.exemptions;
    knownKeys(ek, e, ["usernames", "runtimeClasses", "namespaces"]);
    return {
        enforce: level("enforce"),
        enforceVersion: version("enforceVersion"),
        audit: level("audit"),
        auditVersion: version("auditVersion"),
        warn: level("warn"),
        warnVersion: version("warnVersion"),
        exemptions: {
            usernames: names(key(ek, "usernames"), e?.usernames, (s) => s.trim() !== "", "use non-empty user names"),
            runtimeClasses: names(key(ek, "runtimeClasses"), e?.runtimeClasses, (s) => s.length <= 253 && DNS_SUBDOMAIN.test(s), "use RuntimeClass names (DNS subdomains)"),
            namespaces: names(key(ek, "namespaces"), e?.namespaces, isDnsLabel, "use namespace names (DNS labels)"),
        },
    };
}

function names(k: string, value: unknown, valid: (s: string) => boolean, allowed: string): string[] {
    if (value === undefined) return [];
    if (!Array.isArray(value)) fail(k, value, `${allowed}, as a list`);
    const seen = new Set<string>();
    value.forEach((s, i) => {
        if (typeof s !== "string" || !valid(s)) fail(key(k, i), s, allowed);
        if (seen.has(s)) fail(key(k, i), s, "list each name once");
        seen.add(s);
    });
    return [...value];
}

function resolveEventLimits(options: AdmissionOptions["eventRateLimit"], k: string): EventLimit[] {
    knownKeys(k, options, ["limits"]);
    if (options?.limits === undefined) return DEFAULT_EVENT_LIMITS.map((l) => ({ ...l }));
    const lk = key(k, "limits");
    if (!Array.isArray(options.limits) || options.limits.length === 0) fail(lk, options.limits, "list at least one limit { type, qps, burst, cacheSize? }");
    const types = new Set<string>();
    return options.limits.map((l, i) => {
        const ik = key(lk, i);
        if (!isPlainObject(l)) fail(ik, l, "use { type, qps, burst, cacheSize? }");
        knownKeys(ik, l, ["type", "qps", "burst", "cacheSize"]);
        const type = oneOf(key(ik, "type"), l.type, EVENT_LIMIT_TYPES);
        if (types.has(type)) fail(key(ik, "type"), type, "use each limit type once");
        types.add(type);
        // The plugin stores qps and burst as 32-bit integers.
        const out: EventLimit = { type, qps: positiveInt(key(ik, "qps"), l.qps, 2 ** 31 - 1), burst: positiveInt(key(ik, "burst"), l.burst, 2 ** 31 - 1) };
        if (l.cacheSize !== undefined) {
            if (type === "Server") fail(key(ik, "cacheSize"), l.cacheSize, "leave cacheSize out for the Server limit, which has a single bucket");
            out.cacheSize = positiveInt(key(ik, "cacheSize"), l.cacheSize, 2 ** 31 - 1);
        }
        return out;
    });
}

/** pod-security.admission.config.k8s.io/v1 PodSecurityConfiguration. */
export function renderPodSecurityConfiguration(p: ResolvedPodSecurity) {
    return {
        apiVersion: "pod-security.admission.config.k8s.io/v1",
        kind: "PodSecurityConfiguration",
        defaults: {
            enforce: p.enforce,
            "enforce-version": p.enforceVersion,
            audit: p.audit,
            "audit-version": p.auditVersion,
            warn: p.warn,
            "warn-version": p.warnVersion,
        },
        exemptions: {
            usernames: [...p.exemptions.usernames],
            runtimeClasses: [...p.exemptions.runtimeClasses],
            namespaces: [...p.exemptions.namespaces],
        },
    };
}

/** eventratelimit.admission.k8s.io/v1alpha1 Configuration. */
export function renderEventRateLimitConfiguration(limits: readonly EventLimit[]) {
    return {
        apiVersion: "eventratelimit.admission.k8s.io/v1alpha1",
        kind: "Configuration",
        limits: limits.map((l) => ({ ...l })),
    };
}

/** apiserver.config.k8s.io/v1 AdmissionConfiguration; eventRateLimitPath is absolute, so no base-dir surprises. */
export function renderAdmissionConfiguration(a: ResolvedAdmission, eventRateLimitPath: string) {
    return {
        apiVersion: "apiserver.config.k8s.io/v1",
        kind: "AdmissionConfiguration",
        plugins: [
            { name: "PodSecurity", configuration: renderPodSecurityConfiguration(a.podSecurity) },
            { name: "EventRateLimit", path: eventRateLimitPath },
        ],
    };
}
