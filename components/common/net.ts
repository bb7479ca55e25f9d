// Address syntax and CIDR arithmetic shared by the PKI (SANs), the settings (bind addresses, CIDRs), the
// namespaces (egress CIDRs) and the platforms (security-group sources). Parsing and canonical forms come from
// ipaddr.js, so IPv4 and IPv6 go through one code path and one rule: a check that holds for one family and
// not the other is how guards get bypassed.
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function isIp(s: string): boolean {
    return isIP(s) !== 0;
}

export function isIpv4(s: string): boolean {
    return isIP(s) === 4;
}

/** RFC 1123 label, as Kubernetes requires for namespace names. */
export function isDnsLabel(s: string): boolean {
    return DNS_LABEL.test(s);
}

/** A DNS name as a certificate SAN may carry it: labels of RFC 1123, optionally a leading "*." wildcard. */
export function isDnsName(s: string): boolean {
    if (s.length === 0 || s.length > 253) return false;
    const labels = (s.startsWith("*.") ? s.slice(2) : s).toLowerCase().split(".");
    return labels.length > 0 && labels.every((l) => DNS_LABEL.test(l));
}

export interface Cidr {
    /** The address as written. */
    address: string;
    prefix: number;
    family: 4 | 6;
    /** The network address in canonical form (host bits cleared). */
    network: string;
    /** `${network}/${prefix}`: what Go's netip.Prefix prints, and so what Kubernetes stores without a warning. */
    canonical: string;
    /** The address as written has bits set beyond the prefix. */
    hostBitsSet: boolean;
    /** First and last address of the block as integers, for range arithmetic. */
    first: bigint;
    last: bigint;
}

const BITS = { 4: 32, 6: 128 } as const;

function toBigInt(ip: ipaddr.IPv4 | ipaddr.IPv6): bigint {
    return ip.toByteArray().reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
}

function fromBigInt(n: bigint, family: 4 | 6): ipaddr.IPv4 | ipaddr.IPv6 {
    const bytes: number[] = [];
    for (let i = 0; i < BITS[family] / 8; i++) bytes.unshift(Number((n >> BigInt(8 * i)) & 0xffn));
    return ipaddr.fromByteArray(bytes);
}

/** Canonical text of an address: dotted quad, RFC 5952 for IPv6, IPv4-mapped addresses as ::ffff:a.b.c.d (as Go prints them). */
function canonicalIp(ip: ipaddr.IPv4 | ipaddr.IPv6): string {
    if (ip.kind() === "ipv4") return ip.toString();
    const v6 = ip as ipaddr.IPv6;
    return v6.isIPv4MappedAddress() ? `::ffff:${v6.toIPv4Address().toString()}` : v6.toRFC5952String();
}

/**
 * Parses "10.0.0.0/16" or "fd00::/64". Node's isIP is the syntax gate (dotted-quad IPv4 only, no leading
 * zeros, no "127.1" shorthand that ipaddr.js would accept); zone ids and prefixes with leading zeros are refused.
 */
export function parseCidr(s: string): Cidr | undefined {
    const m = /^([^/%]+)\/(0|[1-9]\d{0,2})$/.exec(s);
    if (!m) return undefined;
    const family = isIP(m[1]);
    if (family !== 4 && family !== 6) return undefined;
    const prefix = Number(m[2]);
    if (prefix > BITS[family]) return undefined;
    const addr = toBigInt(ipaddr.parse(m[1]));
    const hostBits = BigInt(BITS[family] - prefix);
    const first = (addr >> hostBits) << hostBits;
    const last = first + (1n << hostBits) - 1n;
    const network = canonicalIp(fromBigInt(first, family));
    return { address: m[1], prefix, family, network, canonical: `${network}/${prefix}`, hostBitsSet: first !== addr, first, last };
}

/** Whether two CIDRs share an address; blocks of different families never do. */
export function cidrsOverlap(a: string | Cidr, b: string | Cidr): boolean {
    const [x, y] = [typeof a === "string" ? parseCidr(a) : a, typeof b === "string" ? parseCidr(b) : b];
    if (!x || !y || x.family !== y.family) return false;
    return x.first <= y.last && y.first <= x.last;
}

/** Whether `inner` lies entirely inside `outer` (equal blocks included). */
export function cidrContains(outer: string | Cidr, inner: string | Cidr): boolean {
    const [o, i] = [typeof outer === "string" ? parseCidr(outer) : outer, typeof inner === "string" ? parseCidr(inner) : inner];
    if (!o || !i || o.family !== i.family) return false;
    return o.first <= i.first && i.last <= o.last;
}

/**
 * Whether the union of these CIDRs is every address of a family: "0.0.0.0/1" plus "128.0.0.0/1" is the
 * world as much as "0.0.0.0/0" is. Computed by merging ranges, not by looking at the strings.
 */
export function coversWorld(cidrs: readonly string[], family?: 4 | 6): boolean {
    const parsed = cidrs.map((c) => parseCidr(c)).filter((c): c is Cidr => c !== undefined);
    return ([4, 6] as const).some((f) => {
        if (family !== undefined && f !== family) return false;
        const ranges = parsed.filter((c) => c.family === f).sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
        let next = 0n;
        for (const r of ranges) {
            if (r.first > next) return false;
            if (r.last + 1n > next) next = r.last + 1n;
        }
        return ranges.length > 0 && next === 1n << BigInt(BITS[f]);
    });
}

/**
 * The index of the entry with which a list starts to cover every address of the family ("0.0.0.0/0" alone,
 * or "128.0.0.0/1" after "0.0.0.0/1"): the one to name in an error. Undefined while the list stays short of it.
 */
export function worldCoverIndex(cidrs: readonly string[], family: 4 | 6): number | undefined {
    for (let i = 0; i < cidrs.length; i++) if (coversWorld(cidrs.slice(0, i + 1), family)) return i;
    return undefined;
}

/** The n-th address of an IPv4 CIDR (n = 1 gives the kubernetes Service IP of a service CIDR). */
export function nthIPv4(cidr: string, n: number): string {
    const c = parseCidr(cidr);
    if (!c || c.family !== 4) throw new Error(`nthIPv4: ${cidr} is not an IPv4 CIDR`);
    return canonicalIp(fromBigInt(c.first + BigInt(n), 4));
}
