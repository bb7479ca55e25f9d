// The namespace's NetworkPolicies: deny everything, then allow DNS and whatever the config names.
//
// Cloud credentials: the instance metadata services (and the container-credential endpoints next to them)
// hand out the node's cloud credentials to any pod that can reach them. No allow rendered here ever reaches
// them, in any spelling: every allowed CIDR is canonicalised, and each forbidden block it contains goes into
// `except` (so "0.0.0.0/0" still means "the internet"); a CIDR inside a forbidden block is refused, since
// NetworkPolicy cannot except a whole block. The forbidden blocks are the whole link-local ranges, the
// credential endpoints outside them, and the IPv6 forms that carry an IPv4 address to the same place
// (IPv4-mapped, IPv4-compatible, SIIT-translated and NAT64 well-known-prefix addresses).
import { cidrContains, fail, isPlainObject, key, knownKeys, oneOf, optionalBool, parseCidr, port } from "../common";
import { PART_OF_LABELS } from "../rbac/names";
import { validateLabels } from "./labels";

export const NETWORK_POLICY_NAMES = {
    denyAll: "hardened-deny-all",
    allowDns: "hardened-allow-dns",
    allowSameNamespace: "hardened-allow-same-namespace",
    allowIngressFromNamespaces: "hardened-allow-ingress-from-namespaces",
    allowEgressCidrs: "hardened-allow-egress-cidrs",
} as const;

/** Link-local ranges: the metadata services of AWS, GCP, Azure, OpenStack and others live in them (RFC 3927, RFC 4291). */
const LINK_LOCAL_CIDRS = ["169.254.0.0/16", "fe80::/10"] as const;

/** Credential endpoints by name; those inside a link-local range are covered by it and listed for the record. */
const CREDENTIAL_ENDPOINTS = {
    "instance metadata (AWS, GCP, Azure, OpenStack)": "169.254.169.254/32",
    "ECS task credentials": "169.254.170.2/32",
    "EKS Pod Identity agent": "169.254.170.23/32",
    "EC2 instance metadata over IPv6": "fd00:ec2::254/128",
    "EKS Pod Identity agent over IPv6": "fd00:ec2::23/128",
    "Alibaba Cloud metadata": "100.100.100.200/32",
} as const;

/** IPv6 prefixes (/96) whose last 32 bits are an IPv4 address that a host or translator delivers to. */
const IPV4_EMBEDDING_PREFIXES = {
    "IPv4-mapped (RFC 4291)": "::ffff:0:0",
    "IPv4-compatible (RFC 4291, deprecated)": "::",
    "IPv4-translated (RFC 2765)": "::ffff:0:0:0",
    "NAT64 well-known prefix (RFC 6052)": "64:ff9b::",
} as const;

function embed(v6Prefix: string, v4Cidr: string): string {
    const c = parseCidr(v4Cidr)!;
    const base = parseCidr(`${v6Prefix}/96`)!.first + c.first;
    const hex = base.toString(16).padStart(32, "0").match(/.{4}/g)!.join(":");
    return parseCidr(`${hex}/${96 + c.prefix}`)!.canonical;
}

function forbiddenBlocks(): string[] {
    const all = [...LINK_LOCAL_CIDRS, ...Object.values(CREDENTIAL_ENDPOINTS)];
    // Only the outermost blocks: an except list must not repeat a block inside another it already has.
    const v4 = all.filter((c) => parseCidr(c)!.family === 4).filter((c, _, list) => !list.some((o) => o !== c && cidrContains(o, c)));
    const v6 = all.filter((c) => parseCidr(c)!.family === 6).filter((c, _, list) => !list.some((o) => o !== c && cidrContains(o, c)));
    return [...v4, ...v6, ...Object.values(IPV4_EMBEDDING_PREFIXES).flatMap((p) => v4.map((c) => embed(p, c)))].map((c) => parseCidr(c)!.canonical);
}

const IPV4_MAPPED = `${IPV4_EMBEDDING_PREFIXES["IPv4-mapped (RFC 4291)"]}/96`;

/** Every block no egress allow may reach, canonical and non-overlapping, IPv4 first. */
export const FORBIDDEN_EGRESS_CIDRS: readonly string[] = Object.freeze(forbiddenBlocks());

const PROTOCOLS = ["TCP", "UDP", "SCTP"] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export interface PortInput {
    port: number;
    /** Defaults to TCP. */
    protocol?: Protocol;
}
export interface EgressInput {
    cidr: string;
    /** All ports when omitted. */
    ports?: PortInput[];
}
export interface IngressFromInput {
    /** Namespaces carrying all these labels may connect. At least one label: {} would match every namespace. */
    namespaceLabels: Record<string, string>;
    ports?: PortInput[];
}

export interface NetworkPort {
    protocol: Protocol;
    port: number;
}
export interface EgressRule {
    cidr: string;
    except: string[];
    ports?: NetworkPort[];
}
export interface IngressRule {
    namespaceLabels: Record<string, string>;
    ports?: NetworkPort[];
}
export interface NetworkSettings {
    allowDns: boolean;
    allowSameNamespace: boolean;
    ingressFromNamespaces: IngressRule[];
    egressTo: EgressRule[];
}

/** A NetworkPolicy, field names as in networking.k8s.io/v1. */
export interface NetworkPolicyObject {
    apiVersion: "networking.k8s.io/v1";
    kind: "NetworkPolicy";
    metadata: { name: string; namespace: string; labels: Record<string, string> };
    spec: {
        podSelector: { matchLabels?: Record<string, string> };
        policyTypes: ("Ingress" | "Egress")[];
        ingress?: { from: NetworkPeer[]; ports?: NetworkPort[] }[];
        egress?: { to: NetworkPeer[]; ports?: NetworkPort[] }[];
    };
}
export interface NetworkPeer {
    podSelector?: { matchLabels?: Record<string, string> };
    namespaceSelector?: { matchLabels?: Record<string, string> };
    ipBlock?: { cidr: string; except?: string[] };
}

/** Validates an egress CIDR, canonicalises it, and works out what it must except to keep credentials out of reach. */
export function egressCidr(k: string, v: unknown): { cidr: string; except: string[] } {
    const c = typeof v === "string" ? parseCidr(v) : undefined;
    if (!c) fail(k, v, 'use a CIDR such as "10.0.0.0/8" or "2001:db8::/32"');
    if (c.hostBitsSet) fail(k, v, `host bits are set; the network is ${c.canonical}`);
    const except: string[] = [];
    const mapped = cidrContains(IPV4_MAPPED, c);
    for (const f of FORBIDDEN_EGRESS_CIDRS) {
        if (cidrContains(f, c)) fail(k, v, `egress to ${f} is never allowed: it holds cloud metadata and credential endpoints (link-local or named)`);
        // Go's net.IPNet (the API server's except check, and Go-written network plugins) and the kernel both
        // treat ::ffff:a.b.c.d as the IPv4 address a.b.c.d: a block outside ::ffff:0:0/96 never matches it
        // (the IPv4 rules, with their own excepts, do), and the API server refuses such an except as "not a
        // strict subset of cidr". So an IPv4-mapped except goes only into IPv4-mapped blocks.
        if (cidrContains(c, f) && (mapped || !cidrContains(IPV4_MAPPED, f))) except.push(f);
    }
    return { cidr: c.canonical, except };
}

function validatePorts(k: string, v: unknown): NetworkPort[] | undefined {
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length === 0) fail(k, v, "use a non-empty list of { port, protocol? } (omit it for all ports)");
    return v.map((p, i) => {
        const pk = key(k, i);
        if (!isPlainObject(p)) fail(pk, p, "use { port, protocol? }");
        knownKeys(pk, p, ["port", "protocol"]);
        const raw = p as Record<string, unknown>;
        return { protocol: raw.protocol === undefined ? "TCP" : oneOf(key(pk, "protocol"), raw.protocol, PROTOCOLS), port: port(key(pk, "port"), raw.port) };
    });
}

function validateList<T>(k: string, v: unknown, item: (ik: string, x: Record<string, unknown>) => T): T[] {
    if (v === undefined) return [];
    if (!Array.isArray(v)) fail(k, v, "use a list");
    return v.map((x, i) => {
        if (!isPlainObject(x)) fail(key(k, i), x, "use an object");
        return item(key(k, i), x as Record<string, unknown>);
    });
}

/** `k` is the key of the namespace's config; the network options sit directly under it. */
export function validateNetwork(k: string, raw: Record<string, unknown>): NetworkSettings {
    return {
        allowDns: optionalBool(key(k, "allowDns"), raw.allowDns, true),
        allowSameNamespace: optionalBool(key(k, "allowSameNamespace"), raw.allowSameNamespace, false),
        ingressFromNamespaces: validateList(key(k, "allowIngressFromNamespaces"), raw.allowIngressFromNamespaces, (ik, x) => {
            knownKeys(ik, x, ["namespaceLabels", "ports"]);
            const ports = validatePorts(key(ik, "ports"), x.ports);
            return { namespaceLabels: validateLabels(key(ik, "namespaceLabels"), x.namespaceLabels, { allowEmpty: false }), ...(ports ? { ports } : {}) };
        }),
        egressTo: validateList(key(k, "allowEgressTo"), raw.allowEgressTo, (ik, x) => {
            knownKeys(ik, x, ["cidr", "ports"]);
            const ports = validatePorts(key(ik, "ports"), x.ports);
            return { ...egressCidr(key(ik, "cidr"), x.cidr), ...(ports ? { ports } : {}) };
        }),
    };
}

function policy(namespace: string, name: string, spec: NetworkPolicyObject["spec"]): NetworkPolicyObject {
    return { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name, namespace, labels: { ...PART_OF_LABELS } }, spec };
}

export function renderDenyAll(namespace: string): NetworkPolicyObject {
    return policy(namespace, NETWORK_POLICY_NAMES.denyAll, { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
}

/** DNS to CoreDNS only: the kube-dns pods in kube-system, port 53 over UDP and TCP (TCP for large answers). */
export function renderAllowDns(namespace: string): NetworkPolicyObject {
    return policy(namespace, NETWORK_POLICY_NAMES.allowDns, {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
            {
                to: [
                    {
                        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                        podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
                    },
                ],
                ports: [
                    { protocol: "UDP", port: 53 },
                    { protocol: "TCP", port: 53 },
                ],
            },
        ],
    });
}

function renderAllowSameNamespace(namespace: string): NetworkPolicyObject {
    return policy(namespace, NETWORK_POLICY_NAMES.allowSameNamespace, {
        podSelector: {},
        policyTypes: ["Ingress", "Egress"],
        ingress: [{ from: [{ podSelector: {} }] }],
        egress: [{ to: [{ podSelector: {} }] }],
    });
}

function renderAllowIngressFromNamespaces(namespace: string, rules: IngressRule[]): NetworkPolicyObject {
    return policy(namespace, NETWORK_POLICY_NAMES.allowIngressFromNamespaces, {
        podSelector: {},
        policyTypes: ["Ingress"],
        ingress: rules.map((r) => ({
            from: [{ namespaceSelector: { matchLabels: { ...r.namespaceLabels } } }],
            ...(r.ports ? { ports: r.ports.map((p) => ({ ...p })) } : {}),
        })),
    });
}

function renderAllowEgressCidrs(namespace: string, rules: EgressRule[]): NetworkPolicyObject {
    return policy(namespace, NETWORK_POLICY_NAMES.allowEgressCidrs, {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: rules.map((r) => ({
            to: [{ ipBlock: r.except.length > 0 ? { cidr: r.cidr, except: [...r.except] } : { cidr: r.cidr } }],
            ...(r.ports ? { ports: r.ports.map((p) => ({ ...p })) } : {}),
        })),
    });
}

export function renderNetworkPolicies(namespace: string, n: NetworkSettings): NetworkPolicyObject[] {
    const out = [renderDenyAll(namespace)];
    if (n.allowDns) out.push(renderAllowDns(namespace));
    if (n.allowSameNamespace) out.push(renderAllowSameNamespace(namespace));
    if (n.ingressFromNamespaces.length > 0) out.push(renderAllowIngressFromNamespaces(namespace, n.ingressFromNamespaces));
    if (n.egressTo.length > 0) out.push(renderAllowEgressCidrs(namespace, n.egressTo));
    return out;
}
