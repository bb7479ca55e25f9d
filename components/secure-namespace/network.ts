// The namespace's NetworkPolicies: deny everything, then allow DNS and whatever the config names.
//
// Cloud metadata: the instance metadata service hands out the node's cloud credentials to any pod that can
// reach it. No allow rendered here ever reaches it: an egress CIDR that contains a metadata address gets
// that address in `except` (so "0.0.0.0/0" still means "the internet"), and a CIDR that is nothing but the
// metadata address is refused, since NetworkPolicy cannot except a whole block.
import { BlockList } from "node:net";
import { fail, ipv4Overlap, key, knownKeys, nthIPv4, oneOf, parseCidr, port } from "../common";
import { PART_OF_LABELS } from "../rbac/names";
import { validateLabels } from "./labels";

export const NETWORK_POLICY_NAMES = {
    denyAll: "hardened-deny-all",
    allowDns: "hardened-allow-dns",
    allowSameNamespace: "hardened-allow-same-namespace",
    allowIngressFromNamespaces: "hardened-allow-ingress-from-namespaces",
    allowEgressCidrs: "hardened-allow-egress-cidrs",
} as const;

/** IPv4 metadata address of AWS, GCP, Azure, OpenStack and others; AWS's IPv6 one. */
export const METADATA_CIDRS = { v4: "169.254.169.254/32", v6: "fd00:ec2::254/128" } as const;

export const PROTOCOLS = ["TCP", "UDP", "SCTP"] as const;
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

function v6Contains(cidr: string, prefix: number, address: string): boolean {
    const list = new BlockList();
    list.addSubnet(cidr, prefix, "ipv6");
    return list.check(address, "ipv6");
}

/** Validates an egress CIDR and works out what it must except to keep the metadata service out of reach. */
export function egressCidr(k: string, v: unknown): { cidr: string; except: string[] } {
    const c = typeof v === "string" ? parseCidr(v) : undefined;
    if (!c) fail(k, v, 'use a CIDR such as "10.0.0.0/8" or "2001:db8::/32"');
    const cidr = v as string;
    if (c.family === 4 && nthIPv4(cidr, 0) !== c.address) {
        fail(k, v, `host bits are set; the network is ${nthIPv4(cidr, 0)}/${c.prefix}`);
    }
    const metadata = c.family === 4 ? METADATA_CIDRS.v4 : METADATA_CIDRS.v6;
    const [metaAddress, metaPrefix] = metadata.split("/");
    const contains = c.family === 4 ? ipv4Overlap(cidr, metadata) : v6Contains(c.address, c.prefix, metaAddress);
    if (!contains) return { cidr, except: [] };
    if (c.prefix === Number(metaPrefix)) fail(k, v, "egress to the cloud metadata service is never allowed");
    return { cidr, except: [metadata] };
}

function validatePorts(k: string, v: unknown): NetworkPort[] | undefined {
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length === 0) fail(k, v, "use a non-empty list of { port, protocol? } (omit it for all ports)");
    return v.map((p, i) => {
        const pk = key(k, i);
        if (typeof p !== "object" || p === null) fail(pk, p, "use { port, protocol? }");
        knownKeys(pk, p, ["port", "protocol"]);
        const raw = p as Record<string, unknown>;
        return { protocol: raw.protocol === undefined ? "TCP" : oneOf(key(pk, "protocol"), raw.protocol, PROTOCOLS), port: port(key(pk, "port"), raw.port) };
    });
}

function validateList<T>(k: string, v: unknown, item: (ik: string, x: Record<string, unknown>) => T): T[] {
    if (v === undefined) return [];
    if (!Array.isArray(v)) fail(k, v, "use a list");
    return v.map((x, i) => {
        if (typeof x !== "object" || x === null || Array.isArray(x)) fail(key(k, i), x, "use an object");
        return item(key(k, i), x as Record<string, unknown>);
    });
}

function bool(k: string, v: unknown, dflt: boolean): boolean {
    if (v === undefined) return dflt;
    if (typeof v !== "boolean") fail(k, v, "use true or false");
    return v;
}

/** `k` is the key of the namespace's config; the network options sit directly under it. */
export function validateNetwork(k: string, raw: Record<string, unknown>): NetworkSettings {
    return {
        allowDns: bool(key(k, "allowDns"), raw.allowDns, true),
        allowSameNamespace: bool(key(k, "allowSameNamespace"), raw.allowSameNamespace, false),
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

export function renderAllowSameNamespace(namespace: string): NetworkPolicyObject {
    return policy(namespace, NETWORK_POLICY_NAMES.allowSameNamespace, {
        podSelector: {},
        policyTypes: ["Ingress", "Egress"],
        ingress: [{ from: [{ podSelector: {} }] }],
        egress: [{ to: [{ podSelector: {} }] }],
    });
}

export function renderAllowIngressFromNamespaces(namespace: string, rules: IngressRule[]): NetworkPolicyObject {
    return policy(namespace, NETWORK_POLICY_NAMES.allowIngressFromNamespaces, {
        podSelector: {},
        policyTypes: ["Ingress"],
        ingress: rules.map((r) => ({
            from: [{ namespaceSelector: { matchLabels: { ...r.namespaceLabels } } }],
            ...(r.ports ? { ports: r.ports.map((p) => ({ ...p })) } : {}),
        })),
    });
}

export function renderAllowEgressCidrs(namespace: string, rules: EgressRule[]): NetworkPolicyObject {
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
