// Hostile inputs for the network key family; run by hostile-input.spec.ts. Addresses are the ones the clouds
// document for their credential endpoints, written in each spelling that reaches them; CIDR sets that add up
// to the whole address space stand in for 0.0.0.0/0.
import type { BlueprintConfig } from "../../../config";
import { awsPosture } from "../../../platforms/aws/posture";
import type { HostileRow } from "./row";

const NS = "hardened-cluster";
const egress = (cidr: string) => ({ baseline: { tenants: [{ name: "team-a", allowEgressTo: [{ cidr }] }] } });
const egressKey = `${NS}:baseline.tenants[0].allowEgressTo[0].cidr`;
const refusedEgress = (name: string, cidr: string, mentions?: RegExp): HostileRow => ({ name, config: egress(cidr), rejects: { key: egressKey, mentions } });

const cpNetwork = (network: Record<string, unknown>) => ({ controlPlane: { network } });
const cpKey = (field: string) => `${NS}:controlPlane.network.${field}`;

const aws = (extra: Record<string, unknown>) => ({
    platform: "aws",
    aws: { clusterName: "hc-net", region: "eu-west-1", ...extra },
});

export const rows: HostileRow[] = [
    // Credential endpoints, every spelling: refused outright, since NetworkPolicy cannot except a whole block.
    refusedEgress("egress to IMDS as an IPv4-mapped IPv6 address", "::ffff:169.254.169.254/128", /never allowed/),
    refusedEgress("egress to IMDS as IPv4-mapped hex", "::ffff:a9fe:a9fe/128", /never allowed/),
    refusedEgress("egress to IMDS through the NAT64 well-known prefix", "64:ff9b::a9fe:a9fe/128", /never allowed/),
    refusedEgress("egress to IMDS as an IPv4-compatible address", "::a9fe:a9fe/128", /never allowed/),
    refusedEgress("egress to the ECS task credential endpoint", "169.254.170.2/32", /never allowed/),
    refusedEgress("egress to the EKS Pod Identity agent", "169.254.170.23/32", /never allowed/),
    refusedEgress("egress to the EKS Pod Identity agent over IPv6", "fd00:ec2::23/128", /never allowed/),
    refusedEgress("egress to the Alibaba Cloud metadata service", "100.100.100.200/32", /never allowed/),
    refusedEgress("egress to the whole IPv4 link-local range", "169.254.0.0/16", /never allowed/),
    refusedEgress("egress to an IPv6 link-local block", "fe80::/64", /never allowed/),
    // Sloppy CIDRs: host bits and odd spellings are typos the renderer must not silently mask.
    refusedEgress("egress CIDR with IPv6 host bits set", "2001:db8::1/32", /2001:db8::\/32/),
    refusedEgress("egress CIDR in IPv4 shorthand", "10.1/16"),
    refusedEgress("egress CIDR with a zone id", "fe80::1%eth0/128"),
    // Control-plane ranges as a stack sets them: a zero-padded prefix is not a CIDR Go's parser accepts.
    { name: "pod range with a zero-padded prefix", config: cpNetwork({ podCidr: "10.244.0.0/016" }), rejects: { key: cpKey("podCidr") } },
    { name: "Service range with a zero-padded prefix", config: cpNetwork({ serviceCidr: "10.96.0.0/012" }), rejects: { key: cpKey("serviceCidr") } },
    // The world, spelt as a set: refused where the world is refused, named where it is allowed.
    {
        name: "AWS API open to two /1 halves in prod",
        config: aws({ endpoint: "public", apiAllowedCidrs: ["0.0.0.0/1", "128.0.0.0/1"] }),
        stack: "prod",
        rejects: { key: `${NS}:aws.apiAllowedCidrs[1]`, mentions: /every IPv4 address/ },
    },
    {
        name: "AWS API open to four /2 quarters in dev without the weakening",
        config: aws({ environment: "dev", endpoint: "public", apiAllowedCidrs: ["192.0.0.0/2", "0.0.0.0/2", "128.0.0.0/2", "64.0.0.0/2"] }),
        stack: "dev",
        rejects: { key: `${NS}:aws.apiAllowedCidrs[3]`, mentions: /allowWorldApiAccess/ },
    },
    {
        name: "AWS SSH open to two /1 halves",
        config: aws({ environment: "dev", ssh: { enabled: true, allowedCidrs: ["128.0.0.0/1", "0.0.0.0/1"], authorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl hostile@row"] } }),
        stack: "dev",
        rejects: { key: `${NS}:aws.ssh.allowedCidrs[1]`, mentions: /never open/ },
    },
    {
        name: "AWS API open to two /1 halves in dev with allowWorldApiAccess",
        config: { ...aws({ environment: "dev", endpoint: "public", apiAllowedCidrs: ["0.0.0.0/1", "128.0.0.0/1"], allowWorldApiAccess: true }), pki: { endpoint: { dnsNames: ["api.hc-net.example.com"] } } },
        stack: "dev",
        weakens: { named: "6443 accepts connections from any address", posture: (cfg: BlueprintConfig) => awsPosture(cfg.aws, `${NS}:aws`) },
    },
    {
        name: "AWS API CIDR with host bits set",
        config: aws({ endpoint: "public", apiAllowedCidrs: ["198.51.100.7/24"] }),
        stack: "prod",
        rejects: { key: `${NS}:aws.apiAllowedCidrs[0]`, mentions: /198\.51\.100\.0\/24/ },
    },
];
