// Address syntax checks shared by the PKI (SANs), the settings (bind addresses, CIDRs) and the namespaces
// (egress CIDRs).
import { isIP } from "node:net";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function isIp(s: string): boolean {
    return isIP(s) !== 0;
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
    address: string;
    prefix: number;
    family: 4 | 6;
}

/** Parses "10.0.0.0/16" or "fd00::/64"; returns undefined for anything else. */
export function parseCidr(s: string): Cidr | undefined {
    const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
    if (!m) return undefined;
    const family = isIP(m[1]);
    const prefix = Number(m[2]);
    if (family === 0 || prefix > (family === 4 ? 32 : 128)) return undefined;
    return { address: m[1], prefix, family: family as 4 | 6 };
}

/** The n-th address of an IPv4 CIDR (n = 1 gives the kubernetes Service IP of a service CIDR). */
export function nthIPv4(cidr: string, n: number): string {
    const c = parseCidr(cidr);
    if (!c || c.family !== 4) throw new Error(`nthIPv4: ${cidr} is not an IPv4 CIDR`);
    const base = c.address.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
    const size = 2 ** (32 - c.prefix);
    const start = base - (base % size);
    const v = start + n;
    return [24, 16, 8, 0].map((s) => Math.floor(v / 2 ** s) % 256).join(".");
}

/** Whether two IPv4 CIDRs overlap. */
export function ipv4Overlap(a: string, b: string): boolean {
    const [x, y] = [parseCidr(a), parseCidr(b)];
    if (!x || !y || x.family !== 4 || y.family !== 4) return false;
    const toInt = (ip: string) => ip.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
    const range = (c: Cidr) => {
        const size = 2 ** (32 - c.prefix);
        const start = toInt(c.address) - (toInt(c.address) % size);
        return [start, start + size - 1];
    };
    const [[a0, a1], [b0, b1]] = [range(x), range(y)];
    return a0 <= b1 && b0 <= a1;
}
