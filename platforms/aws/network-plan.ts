// Address arithmetic for the VPC plan, kept apart from the Pulumi wiring so options.ts can check a plan
// without loading the AWS SDK types.
import { parseCidr } from "../../components/common";

/** Six keeps the derived plan inside the VPC's eighths (six private, one holding the public subnets, one spare). */
export const MAX_AZS = 6;

function toInt(ip: string): number {
    return ip.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
}

function toIp(n: number): string {
    return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

/** The index-th block of prefix `prefix` inside `cidr`. */
export function subBlock(cidr: string, prefix: number, index: number): string {
    const c = parseCidr(cidr);
    if (!c || c.family !== 4 || prefix < c.prefix || prefix > 32) throw new Error(`subBlock: cannot cut /${prefix} blocks out of ${cidr}`);
    const start = toInt(c.address) - (toInt(c.address) % 2 ** (32 - c.prefix));
    if (index < 0 || index >= 2 ** (prefix - c.prefix)) throw new Error(`subBlock: ${cidr} has no /${prefix} block number ${index}`);
    return `${toIp(start + index * 2 ** (32 - prefix))}/${prefix}`;
}

/**
 * Nodes get the large blocks because every pod IP of a VPC CNI would come from them; the public subnets only
 * ever hold NAT gateways and load-balancer interfaces, so they share one eighth of the VPC.
 */
export function deriveSubnets(vpcCidr: string, azCount: number): { private: string[]; public: string[] } {
    const prefix = parseCidr(vpcCidr)!.prefix;
    const publicPool = subBlock(vpcCidr, prefix + 3, 7);
    return {
        private: Array.from({ length: azCount }, (_, i) => subBlock(vpcCidr, prefix + 3, i)),
        public: Array.from({ length: azCount }, (_, i) => subBlock(publicPool, prefix + 6, i)),
    };
}

/** A host address inside a subnet; AWS reserves the first four and the last address of every subnet. */
export function hostAddress(subnet: string, offset: number): string {
    const c = parseCidr(subnet);
    if (!c || c.family !== 4) throw new Error(`hostAddress: ${subnet} is not an IPv4 CIDR`);
    const size = 2 ** (32 - c.prefix);
    if (offset < 4 || offset > size - 2) throw new Error(`hostAddress: offset ${offset} is reserved or outside ${subnet}`);
    return toIp(toInt(c.address) - (toInt(c.address) % size) + offset);
}
