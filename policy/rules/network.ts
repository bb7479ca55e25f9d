// CIDR arithmetic for the network rules: which addresses an allow reaches, and whether a set of CIDRs
// adds up to every address of a family.
import ipaddr from "ipaddr.js";

/** Cloud metadata and credential endpoints (AWS IMDS and ECS/EKS, GCP/Azure 169.254.169.254, Alibaba). */
export const METADATA_ADDRESSES = ["169.254.169.254", "169.254.170.2", "169.254.170.23", "fd00:ec2::254", "fd00:ec2::23", "100.100.100.200"];

function bytes(ip: ipaddr.IPv4 | ipaddr.IPv6): bigint {
    return ip.toByteArray().reduce((n, b) => (n << 8n) | BigInt(b), 0n);
}

interface Range { family: 4 | 6; lo: bigint; hi: bigint }

/** A CIDR as a range of addresses; IPv4-mapped IPv6 blocks (::ffff:a.b.c.d/n) count as the IPv4 block. */
export function range(cidr: string): Range | undefined {
    if (!ipaddr.isValidCIDR(cidr)) return undefined;
    let [ip, len] = ipaddr.parseCIDR(cidr);
    if (ip.kind() === "ipv6" && (ip as ipaddr.IPv6).isIPv4MappedAddress() && len >= 96) {
        ip = (ip as ipaddr.IPv6).toIPv4Address();
        len -= 96;
    }
    const family = ip.kind() === "ipv4" ? 4 : 6;
    const bits = BigInt(family === 4 ? 32 : 128);
    const size = 1n << (bits - BigInt(len));
    const lo = (bytes(ip) / size) * size;
    return { family, lo, hi: lo + size - 1n };
}

export function contains(cidr: string, address: string): boolean {
    const r = range(cidr);
    const a = range(address.includes(":") ? `${address}/128` : `${address}/32`);
    return r !== undefined && a !== undefined && r.family === a.family && r.lo <= a.lo && a.hi <= r.hi;
}

/** Whether the CIDRs together hold every address of a family (0.0.0.0/1 + 128.0.0.0/1 is the world). */
export function coversWorld(cidrs: string[], family: 4 | 6): boolean {
    const rs = cidrs.map(range).filter((r): r is Range => r !== undefined && r.family === family).sort((a, b) => (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0));
    const max = (1n << BigInt(family === 4 ? 32 : 128)) - 1n;
    let next = 0n;
    for (const r of rs) {
        if (r.lo > next) return false;
        if (r.hi + 1n > next) next = r.hi + 1n;
        if (next > max) return true;
    }
    return false;
}
