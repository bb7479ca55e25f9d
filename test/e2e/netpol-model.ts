// What the NetworkPolicy API says a connection's fate is, computed from the policies a cluster stores: the
// rules of the Kubernetes documentation ("Network Policies": isolation per direction, additive allows, peers,
// ports), in the manner of cyclonus' truth tables. The e2e tests compare each packet's fate with this verdict,
// so an enforcer that drops too much or too little shows as a disagreement.
export interface Selector {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values?: string[] }[];
}
interface Peer { podSelector?: Selector; namespaceSelector?: Selector; ipBlock?: { cidr: string; except?: string[] } }
interface PolicyPort { protocol?: string; port?: number | string; endPort?: number }
interface Rule { from?: Peer[]; to?: Peer[]; ports?: PolicyPort[] }
export interface NetworkPolicy {
    metadata: { name: string; namespace: string };
    spec: { podSelector: Selector; policyTypes?: ("Ingress" | "Egress")[]; ingress?: Rule[]; egress?: Rule[] };
}

export interface PodEnd { kind: "pod"; namespace: string; labels: Record<string, string>; ip: string }
export interface AddressEnd { kind: "address"; ip: string }
export interface Connection { from: PodEnd; to: PodEnd | AddressEnd; port: number; protocol: "TCP" | "UDP" }

export function selects(s: Selector, labels: Record<string, string>): boolean {
    for (const [k, v] of Object.entries(s.matchLabels ?? {})) if (labels[k] !== v) return false;
    for (const e of s.matchExpressions ?? []) {
        const has = Object.prototype.hasOwnProperty.call(labels, e.key);
        const ok = e.operator === "In" ? has && (e.values ?? []).includes(labels[e.key])
            : e.operator === "NotIn" ? !has || !(e.values ?? []).includes(labels[e.key])
                : e.operator === "Exists" ? has : !has;
        if (!ok) return false;
    }
    return true;
}

function ipv4(a: string): number {
    return a.split(".").reduce((n, o) => n * 256 + Number(o), 0);
}

function inCidr(ip: string, cidr: string): boolean {
    const [net, bits] = cidr.split("/");
    const size = 2 ** (32 - Number(bits));
    return Math.floor(ipv4(ip) / size) === Math.floor(ipv4(net) / size);
}

/** The policy types a policy has: as written, or Ingress plus Egress when it has egress rules (the API's default). */
function types(p: NetworkPolicy): string[] {
    return p.spec.policyTypes ?? ["Ingress", ...(p.spec.egress ? ["Egress"] : [])];
}

function peerMatches(peer: Peer, policyNs: string, other: PodEnd | AddressEnd, namespaces: Record<string, Record<string, string>>): boolean {
    if (peer.ipBlock) {
        return inCidr(other.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c) => inCidr(other.ip, c));
    }
    if (other.kind !== "pod") return false;
    const nsOk = peer.namespaceSelector ? selects(peer.namespaceSelector, namespaces[other.namespace] ?? {}) : other.namespace === policyNs;
    const podOk = peer.podSelector ? selects(peer.podSelector, other.labels) : true;
    return nsOk && podOk;
}

function portMatches(ports: PolicyPort[] | undefined, port: number, protocol: string): boolean {
    if (!ports || ports.length === 0) return true;
    return ports.some((p) => (p.protocol ?? "TCP") === protocol && (p.port === undefined || (typeof p.port === "number" && port >= p.port && port <= (p.endPort ?? p.port))));
}

/** Whether `dir` of the connection is allowed at `end` (the source for Egress, the destination for Ingress). */
function allowedAt(dir: "Ingress" | "Egress", end: PodEnd, other: PodEnd | AddressEnd, c: Connection, policies: NetworkPolicy[], namespaces: Record<string, Record<string, string>>): boolean {
    const isolating = policies.filter((p) => p.metadata.namespace === end.namespace && types(p).includes(dir) && selects(p.spec.podSelector, end.labels));
    if (isolating.length === 0) return true;
    return isolating.some((p) => (dir === "Ingress" ? p.spec.ingress : p.spec.egress)?.some((r) => {
        const peers = dir === "Ingress" ? r.from : r.to;
        const peerOk = !peers || peers.length === 0 || peers.some((peer) => peerMatches(peer, p.metadata.namespace, other, namespaces));
        return peerOk && portMatches(r.ports, c.port, c.protocol);
    }) ?? false);
}

/** The verdict: egress allowed at the source and, for a Pod, ingress allowed at the destination. */
export function allowed(c: Connection, policies: NetworkPolicy[], namespaces: Record<string, Record<string, string>>): boolean {
    if (!allowedAt("Egress", c.from, c.to, c, policies, namespaces)) return false;
    return c.to.kind === "address" || allowedAt("Ingress", c.to, c.from, c, policies, namespaces);
}
