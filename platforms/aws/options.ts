// What a caller may set about the AWS platform, and the one place it is checked and defaulted. Options arrive
// as untyped stack config, so types are checked as well as meaning, unknown keys are refused, and all of it
// runs before the first resource is registered: a bad plan must not leave half a VPC behind.
import { cidrContains, cidrsOverlap, coversWorld, describe, fail, isDnsLabel, isPlainObject, key, knownKeys, oneOf, optionalBool, parseCidr, worldCoverIndex } from "../../components/common";
import { BinariesOptions, ResolvedBinaries, resolveBinaries } from "./binaries";
import { deriveSubnets, MAX_AZS } from "./network-plan";
import { checkAuthorizedKey } from "./sshd";

export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];
export const ENDPOINT_VISIBILITIES = ["public", "private"] as const;
export type EndpointVisibility = (typeof ENDPOINT_VISIBILITIES)[number];

/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;
/** The audit log is evidence; the CIS minimum for the apiserver's own log files is 30 days, so the copy keeps at least that. */
export const MIN_LOG_RETENTION_DAYS = 30;

// Amazon Linux 2023 ships cloud-init, the SSM agent and the AWS CLI the boot script needs, and creates
// /dev/sdX links for NVMe EBS volumes, so the etcd volume can be addressed by its block-device name.
export const DEFAULT_AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";

export interface AwsSshOptions {
    /** Default false: nodes are reached through SSM Session Manager, which needs no open port. */
    enabled?: boolean;
    /** IPv4 CIDRs allowed to reach port 22, in the security groups and in sshd's AllowUsers. */
    allowedCidrs?: string[];
    /** OpenSSH public keys for the default user (ec2-user). */
    authorizedKeys?: string[];
}

export interface AwsOptions {
    /** RFC 1123 label, at most 20 characters: it prefixes AWS names that are limited to 32. */
    clusterName: string;
    /** Default "prod", the strictest. */
    environment?: Environment;
    /** Must be the region of the AWS provider the component runs with. */
    region: string;
    /** Default: the first `azCount` zones the region reports as available. */
    availabilityZones?: string[];
    /** Default 3. */
    azCount?: number;
    network?: {
        /** Default "10.0.0.0/16"; a prefix from /16 to /22. */
        vpcCidr?: string;
        /** One per AZ, for nodes. Default: derived from vpcCidr. */
        privateSubnets?: string[];
        /** One per AZ, only for load balancers and NAT gateways. Default: derived from vpcCidr. */
        publicSubnets?: string[];
    };
    /** Default "private": an internal NLB. */
    endpoint?: EndpointVisibility;
    /** IPv4 CIDRs allowed to reach the API on 6443 besides the nodes themselves. */
    apiAllowedCidrs?: string[];
    controlPlane?: {
        /** Default "m6i.large". */
        instanceType?: string;
        /** 3 or 5 (default 3); 1 only in dev with allowSingleEtcdMember. */
        etcdMembers?: number;
        /** Default 50. */
        rootVolumeGiB?: number;
        /** Default 50. */
        etcdVolumeGiB?: number;
    };
    workers?: {
        /** Default "m6i.large". */
        instanceType?: string;
        /** Defaults 3 / 6 / min. */
        min?: number;
        max?: number;
        desired?: number;
        /** Default 100. */
        rootVolumeGiB?: number;
        /** How long a join token stays valid after the `pulumi up` that issued it. Default 24, at most 168. */
        joinTokenTtlHours?: number;
    };
    /** Retention of the audit, flow-log and boot log groups. Default 365. */
    logRetentionDays?: number;
    ssh?: AwsSshOptions;
    /** Exactly one of an AMI id or the SSM parameter that names one. Default: the AL2023 x86_64 parameter. */
    ami?: { id?: string; ssmParameter?: string };
    /** Where the nodes' binaries come from: published by the stack to its bucket and verified at boot (default), or the AMI. */
    binaries?: BinariesOptions;
    /** Path of the KMS v2 plugin in the AMI: the toolchain's hc-aws-kms-plugin, or aws-encryption-provider (same flags). Default "/usr/local/bin/hc-aws-kms-plugin". */
    kmsPluginPath?: string;
    /** How often AWS KMS rotates the cluster's keys' material, in days: 90 to 2560 (AWS's range). Default 365. */
    kmsKeyRotationDays?: number;
    monitoring?: {
        /** Users whose Secret reads are expected (wildcard * allowed at either end). Default: see monitoring.ts. */
        secretReaders?: string[];
    };
    /** WEAKENING, never in prod: accept 0.0.0.0/0 in apiAllowedCidrs. */
    allowWorldApiAccess?: boolean;
    /** WEAKENING, dev only: accept etcdMembers: 1 (no quorum, no fault tolerance). */
    allowSingleEtcdMember?: boolean;
    /** Extra tags on every resource that takes tags. */
    tags?: Record<string, string>;
}

export interface ResolvedAwsOptions {
    configKey: string;
    clusterName: string;
    environment: Environment;
    region: string;
    availabilityZones?: string[];
    azCount: number;
    vpcCidr: string;
    privateSubnets: string[];
    publicSubnets: string[];
    endpoint: EndpointVisibility;
    apiAllowedCidrs: string[];
    controlPlane: { instanceType: string; etcdMembers: number; rootVolumeGiB: number; etcdVolumeGiB: number };
    workers: { instanceType: string; min: number; max: number; desired: number; rootVolumeGiB: number; joinTokenTtlHours: number };
    logRetentionDays: number;
    ssh: { enabled: boolean; allowedCidrs: string[]; authorizedKeys: string[] };
    ami: { id: string } | { ssmParameter: string };
    binaries: ResolvedBinaries;
    kmsPluginPath: string;
    kmsKeyRotationDays: number;
    secretReaders?: string[];
    allowWorldApiAccess: boolean;
    allowSingleEtcdMember: boolean;
    tags: Record<string, string>;
}

export const AWS_DEFAULTS = {
    environment: "prod" as Environment,
    azCount: 3,
    vpcCidr: "10.0.0.0/16",
    endpoint: "private" as EndpointVisibility,
    instanceType: "m6i.large",
    etcdMembers: 3,
    rootVolumeGiB: 50,
    etcdVolumeGiB: 50,
    workerRootVolumeGiB: 100,
    workers: { min: 3, max: 6 },
    joinTokenTtlHours: 24,
    logRetentionDays: 365,
    kmsPluginPath: "/usr/local/bin/hc-aws-kms-plugin",
    kmsKeyRotationDays: 365,
} as const;

const OPTION_KEYS = [
    "clusterName", "environment", "region", "availabilityZones", "azCount", "network", "endpoint", "apiAllowedCidrs",
    "controlPlane", "workers", "logRetentionDays", "ssh", "ami", "binaries", "kmsPluginPath", "kmsKeyRotationDays", "monitoring",
    "allowWorldApiAccess", "allowSingleEtcdMember", "tags",
];
const NETWORK_KEYS = ["vpcCidr", "privateSubnets", "publicSubnets"];
const CONTROL_PLANE_KEYS = ["instanceType", "etcdMembers", "rootVolumeGiB", "etcdVolumeGiB"];
const WORKER_KEYS = ["instanceType", "min", "max", "desired", "rootVolumeGiB", "joinTokenTtlHours"];
const SSH_KEYS = ["enabled", "allowedCidrs", "authorizedKeys"];
const AMI_KEYS = ["id", "ssmParameter"];
const MONITORING_KEYS = ["secretReaders"];

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;
// Family: letters, a generation digit, optional attribute letters/digits ("m6i", "c7gn", "u-6tb1", "m7i-flex");
// size: the names EC2 uses ("large", "12xlarge", "metal", "metal-48xl").
const INSTANCE_FAMILY = /^(u-\d+tb\d+|u7[a-z]+-\d+tb|[a-z]+\d+[a-z0-9]*(-flex)?|mac\d+(-[a-z0-9]+)?)$/;
const INSTANCE_SIZE = /^(nano|micro|small|medium|large|xlarge|[1-9]\d*xlarge|metal(-[1-9]\d*xl)?)$/;

export function isInstanceType(s: unknown): s is string {
    if (typeof s !== "string") return false;
    const dot = s.indexOf(".");
    return dot > 0 && s.indexOf(".", dot + 1) < 0 && INSTANCE_FAMILY.test(s.slice(0, dot)) && INSTANCE_SIZE.test(s.slice(dot + 1));
}

function object(k: string, v: unknown, allowed: readonly string[]): Record<string, unknown> {
    if (v === undefined) return {};
    if (!isPlainObject(v)) fail(k, v, "use an object");
    knownKeys(k, v, allowed);
    return v as Record<string, unknown>;
}

function wholeNumber(k: string, v: unknown, dflt: number, min: number, max: number): number {
    if (v === undefined) return dflt;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) fail(k, v, `use a whole number from ${min} to ${max}`);
    return v;
}

function stringList(k: string, v: unknown): string[] {
    if (v === undefined) return [];
    if (!Array.isArray(v)) fail(k, v, "use a list of strings");
    v.forEach((s, i) => {
        if (typeof s !== "string" || s.length === 0) fail(key(k, i), s, "use a non-empty string");
    });
    return [...(v as string[])];
}

function ipv4Cidrs(k: string, v: unknown): string[] {
    const list = stringList(k, v);
    list.forEach((s, i) => {
        const c = parseCidr(s);
        // Security-group rules and sshd's AllowUsers are written for IPv4 only; the VPC has no IPv6 block.
        if (!c || c.family !== 4) fail(key(k, i), s, "use an IPv4 CIDR such as \"203.0.113.0/24\"");
        if (c.hostBitsSet) fail(key(k, i), s, `host bits are set; the network is ${c.canonical}`);
    });
    return list;
}

function instanceType(k: string, v: unknown): string {
    if (v === undefined) return AWS_DEFAULTS.instanceType;
    if (!isInstanceType(v)) fail(k, v, "use an EC2 instance type name such as \"m6i.large\" or \"c7g.2xlarge\"");
    return v;
}

export function resolveAwsOptions(options: AwsOptions | undefined, configKey = "aws"): ResolvedAwsOptions {
    const o = object(configKey, options ?? fail(configKey, options, "set at least clusterName and region"), OPTION_KEYS);
    const k = (...p: (string | number)[]) => key(configKey, ...p);

    const clusterName = o.clusterName;
    if (typeof clusterName !== "string" || !isDnsLabel(clusterName) || clusterName.length > 20) {
        fail(k("clusterName"), clusterName, "use an RFC 1123 label of at most 20 characters (it prefixes AWS names limited to 32)");
    }
    const environment = o.environment === undefined ? AWS_DEFAULTS.environment : oneOf(k("environment"), o.environment, ENVIRONMENTS);
    const prod = environment === "prod";
    if (typeof o.region !== "string" || !REGION.test(o.region)) fail(k("region"), o.region, "use an AWS region name such as \"eu-west-1\"");
    const region = o.region;

    const azCount = wholeNumber(k("azCount"), o.azCount, AWS_DEFAULTS.azCount, 3, MAX_AZS);
    let availabilityZones: string[] | undefined;
    if (o.availabilityZones !== undefined) {
        availabilityZones = stringList(k("availabilityZones"), o.availabilityZones);
        if (availabilityZones.length !== azCount) {
            fail(k("availabilityZones"), availabilityZones, `list exactly azCount (${azCount}) zones`);
        }
        availabilityZones.forEach((z, i) => {
            if (!new RegExp(`^${region}[a-z]$`).test(z)) fail(k("availabilityZones", i), z, `use a zone of ${region}, e.g. "${region}a"`);
            if (availabilityZones!.indexOf(z) !== i) fail(k("availabilityZones", i), z, "list each zone once");
        });
    }

    const net = resolveNetwork(k("network"), object(k("network"), o.network, NETWORK_KEYS), azCount);
    const endpoint = o.endpoint === undefined ? AWS_DEFAULTS.endpoint : oneOf(k("endpoint"), o.endpoint, ENDPOINT_VISIBILITIES);

    const allowWorldApiAccess = optionalBool(k("allowWorldApiAccess"), o.allowWorldApiAccess, false);
    if (prod && allowWorldApiAccess) {
        fail(k("allowWorldApiAccess"), true, "prod never exposes the API to 0.0.0.0/0; list the CIDRs that need it in apiAllowedCidrs");
    }
    const apiAllowedCidrs = ipv4Cidrs(k("apiAllowedCidrs"), o.apiAllowedCidrs);
    const world = worldCoverIndex(apiAllowedCidrs, 4);
    if (world !== undefined) {
        const c = apiAllowedCidrs[world];
        const what = world > 0 && !coversWorld([c]) ? "with the entries before it, this covers every IPv4 address" : "this is every IPv4 address";
        if (prod) fail(k("apiAllowedCidrs", world), c, `${what}: prod never opens 6443 to the whole internet; list the networks that need the API`);
        if (!allowWorldApiAccess) {
            fail(k("apiAllowedCidrs", world), c, `${what}: opening 6443 to everyone is a weakening; list narrower CIDRs, or set allowWorldApiAccess: true (not in prod)`);
        }
    }
    if (endpoint === "public" && apiAllowedCidrs.length === 0) {
        fail(k("apiAllowedCidrs"), apiAllowedCidrs, "a public endpoint needs the CIDRs allowed to reach it; with none, use endpoint \"private\"");
    }

    const cp = object(k("controlPlane"), o.controlPlane, CONTROL_PLANE_KEYS);
    const allowSingleEtcdMember = optionalBool(k("allowSingleEtcdMember"), o.allowSingleEtcdMember, false);
    if (allowSingleEtcdMember && environment !== "dev") {
        fail(k("allowSingleEtcdMember"), true, `a single etcd member has no fault tolerance; only environment "dev" may accept that (this is "${environment}")`);
    }
    const etcdMembers = cp.etcdMembers === undefined ? AWS_DEFAULTS.etcdMembers : cp.etcdMembers;
    if (etcdMembers === 1) {
        if (!allowSingleEtcdMember) {
            fail(k("controlPlane", "etcdMembers"), 1, prod || environment === "staging"
                ? `${environment} needs 3 or 5 etcd members to survive the loss of one node or zone`
                : "use 3 or 5; a single member is a weakening that needs allowSingleEtcdMember: true (dev only)");
        }
    } else if (etcdMembers !== 3 && etcdMembers !== 5) {
        fail(k("controlPlane", "etcdMembers"), etcdMembers, "use 3 or 5: an odd count keeps a quorum, and more than 5 slows every write");
    }

    const w = object(k("workers"), o.workers, WORKER_KEYS);
    const min = wholeNumber(k("workers", "min"), w.min, AWS_DEFAULTS.workers.min, 0, 1000);
    const max = wholeNumber(k("workers", "max"), w.max, Math.max(AWS_DEFAULTS.workers.max, min), 1, 1000);
    if (max < min) fail(k("workers", "max"), max, `use at least workers.min (${min})`);
    const desired = wholeNumber(k("workers", "desired"), w.desired, min, 0, 1000);
    if (desired < min || desired > max) fail(k("workers", "desired"), desired, `use a number from workers.min (${min}) to workers.max (${max})`);

    const logRetentionDays = o.logRetentionDays === undefined ? AWS_DEFAULTS.logRetentionDays : o.logRetentionDays;
    if (!(LOG_RETENTION_DAYS as readonly unknown[]).includes(logRetentionDays) || (logRetentionDays as number) < MIN_LOG_RETENTION_DAYS) {
        fail(k("logRetentionDays"), logRetentionDays,
            `use a CloudWatch retention of at least ${MIN_LOG_RETENTION_DAYS}: ${LOG_RETENTION_DAYS.filter((d) => d >= MIN_LOG_RETENTION_DAYS).join(", ")}`);
    }

    const kmsPluginPath = o.kmsPluginPath === undefined ? AWS_DEFAULTS.kmsPluginPath : o.kmsPluginPath;
    if (typeof kmsPluginPath !== "string" || !/^\/[A-Za-z0-9._/-]+$/.test(kmsPluginPath)) {
        fail(k("kmsPluginPath"), kmsPluginPath, "use an absolute path without spaces");
    }

    // AWS KMS accepts a RotationPeriodInDays from 90 to 2560.
    const kmsKeyRotationDays = wholeNumber(k("kmsKeyRotationDays"), o.kmsKeyRotationDays, AWS_DEFAULTS.kmsKeyRotationDays, 90, 2560);

    const mon = object(k("monitoring"), o.monitoring, MONITORING_KEYS);
    const secretReaders = mon.secretReaders === undefined ? undefined : stringList(k("monitoring", "secretReaders"), mon.secretReaders);
    secretReaders?.forEach((u, i) => {
        // Quotes would end the filter pattern's string early; inner wildcards are not supported by CloudWatch.
        if (!/^\*?[^"*\s]+\*?$/.test(u)) fail(k("monitoring", "secretReaders", i), u, "use a user name, optionally with * at the start or end");
    });

    return {
        configKey,
        clusterName,
        environment,
        region,
        availabilityZones,
        azCount,
        ...net,
        endpoint,
        apiAllowedCidrs,
        controlPlane: {
            instanceType: instanceType(k("controlPlane", "instanceType"), cp.instanceType),
            etcdMembers: etcdMembers as number,
            rootVolumeGiB: wholeNumber(k("controlPlane", "rootVolumeGiB"), cp.rootVolumeGiB, AWS_DEFAULTS.rootVolumeGiB, 20, 16384),
            etcdVolumeGiB: wholeNumber(k("controlPlane", "etcdVolumeGiB"), cp.etcdVolumeGiB, AWS_DEFAULTS.etcdVolumeGiB, 10, 16384),
        },
        workers: {
            instanceType: instanceType(k("workers", "instanceType"), w.instanceType),
            min,
            max,
            desired,
            rootVolumeGiB: wholeNumber(k("workers", "rootVolumeGiB"), w.rootVolumeGiB, AWS_DEFAULTS.workerRootVolumeGiB, 20, 16384),
            joinTokenTtlHours: wholeNumber(k("workers", "joinTokenTtlHours"), w.joinTokenTtlHours, AWS_DEFAULTS.joinTokenTtlHours, 1, 168),
        },
        logRetentionDays: logRetentionDays as number,
        ssh: resolveSsh(k("ssh"), object(k("ssh"), o.ssh, SSH_KEYS)),
        ami: resolveAmi(k("ami"), object(k("ami"), o.ami, AMI_KEYS)),
        binaries: resolveBinaries(k("binaries"), o.binaries),
        kmsPluginPath,
        kmsKeyRotationDays,
        secretReaders,
        allowWorldApiAccess,
        allowSingleEtcdMember,
        tags: resolveTags(k("tags"), o.tags),
    };
}

function resolveNetwork(k: string, n: Record<string, unknown>, azCount: number) {
    const vpcCidr = n.vpcCidr === undefined ? AWS_DEFAULTS.vpcCidr : n.vpcCidr;
    const vpc = typeof vpcCidr === "string" ? parseCidr(vpcCidr) : undefined;
    // AWS allows /16 to /28 for a VPC; /22 is the smallest that still fits the derived plan's /28 public subnets.
    if (!vpc || vpc.family !== 4 || vpc.prefix < 16 || vpc.prefix > 22 || vpc.hostBitsSet) {
        fail(key(k, "vpcCidr"), vpcCidr, "use an IPv4 CIDR with a prefix from /16 to /22, e.g. \"10.0.0.0/16\"");
    }
    const derived = deriveSubnets(vpcCidr as string, azCount);
    const subnets = (name: "privateSubnets" | "publicSubnets", dflt: string[]) => {
        if (n[name] === undefined) return dflt;
        const list = ipv4Cidrs(key(k, name), n[name]);
        if (list.length !== azCount) fail(key(k, name), list, `list one subnet per AZ (${azCount})`);
        list.forEach((s, i) => {
            const c = parseCidr(s)!;
            if (c.prefix < 16 || c.prefix > 28) fail(key(k, name, i), s, "AWS subnets take a prefix from /16 to /28");
            if (!cidrContains(vpcCidr as string, c)) fail(key(k, name, i), s, `use a subnet inside the VPC ${vpcCidr}`);
        });
        return list;
    };
    const privateSubnets = subnets("privateSubnets", derived.private);
    const publicSubnets = subnets("publicSubnets", derived.public);
    const all = [...privateSubnets.map((s, i) => ({ s, p: key(k, "privateSubnets", i) })), ...publicSubnets.map((s, i) => ({ s, p: key(k, "publicSubnets", i) }))];
    all.forEach((a, i) => {
        for (let j = 0; j < i; j++) {
            if (cidrsOverlap(all[j].s, a.s)) fail(a.p, a.s, `overlaps ${all[j].p} (${all[j].s}); every subnet needs its own range`);
        }
    });
    return { vpcCidr: vpcCidr as string, privateSubnets, publicSubnets };
}

function resolveSsh(k: string, s: Record<string, unknown>): ResolvedAwsOptions["ssh"] {
    const enabled = optionalBool(key(k, "enabled"), s.enabled, false);
    const allowedCidrs = ipv4Cidrs(key(k, "allowedCidrs"), s.allowedCidrs);
    const authorizedKeys = stringList(key(k, "authorizedKeys"), s.authorizedKeys);
    if (!enabled) {
        // Settings that would do nothing are refused, so nobody believes SSH is configured when it is off.
        if (allowedCidrs.length > 0) fail(key(k, "allowedCidrs"), allowedCidrs, "SSH is off; set ssh.enabled: true or remove this");
        if (authorizedKeys.length > 0) fail(key(k, "authorizedKeys"), "[keys]", "SSH is off; set ssh.enabled: true or remove this");
        return { enabled, allowedCidrs, authorizedKeys };
    }
    if (allowedCidrs.length === 0) fail(key(k, "allowedCidrs"), allowedCidrs, "SSH needs the CIDRs allowed to connect");
    const world = worldCoverIndex(allowedCidrs, 4);
    if (world !== undefined) fail(key(k, "allowedCidrs", world), allowedCidrs[world], "SSH is never open to the whole internet (alone or with the entries before it); list the admin networks");
    if (authorizedKeys.length === 0) fail(key(k, "authorizedKeys"), authorizedKeys, "SSH is key-only; list at least one public key");
    authorizedKeys.forEach((line, i) => checkAuthorizedKey(key(k, "authorizedKeys", i), line));
    return { enabled, allowedCidrs, authorizedKeys };
}

function resolveAmi(k: string, a: Record<string, unknown>): ResolvedAwsOptions["ami"] {
    if (a.id !== undefined && a.ssmParameter !== undefined) fail(k, a, "set either id or ssmParameter, not both");
    if (a.id !== undefined) {
        if (typeof a.id !== "string" || !/^ami-([0-9a-f]{8}|[0-9a-f]{17})$/.test(a.id)) fail(key(k, "id"), a.id, "use an AMI id such as \"ami-0123456789abcdef0\"");
        return { id: a.id };
    }
    const p = a.ssmParameter ?? DEFAULT_AMI_PARAMETER;
    if (typeof p !== "string" || !/^\/[A-Za-z0-9_.\-/]+$/.test(p)) fail(key(k, "ssmParameter"), p, "use an SSM parameter path such as \"" + DEFAULT_AMI_PARAMETER + "\"");
    return { ssmParameter: p };
}

/** The platform's own tags: the cluster's name on every resource, a node's role on instances (the gates find workers by both). */
export const CLUSTER_TAG = "hardened-cluster/cluster";
export const ROLE_TAG = "hardened-cluster/role";

function resolveTags(k: string, v: unknown): Record<string, string> {
    if (v === undefined) return {};
    if (!isPlainObject(v)) fail(k, v, "use an object of tag names to values");
    for (const [name, value] of Object.entries(v)) {
        if (typeof value !== "string") fail(key(k, name), value, "tag values are strings");
        if (name.toLowerCase().startsWith("aws:")) fail(key(k, name), describe(name), "the aws: prefix is reserved by AWS");
        if (name === CLUSTER_TAG || name === ROLE_TAG) fail(key(k, name), describe(name), "the platform sets this tag itself: a CA rotation's gates find the cluster's workers by it");
    }
    return { ...(v as Record<string, string>) };
}
