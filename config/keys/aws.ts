// The AWS platform's own key: network, node sizes, endpoint exposure and log retention.
import type { AwsOptions } from "../../platforms/aws/options";
import { ConfigEntry } from "../types";
import { objectValue } from "./shared";

export const aws: ConfigEntry<AwsOptions> = {
    type: "object",
    description: "The AWS platform: VPC and zones, instance sizes, how many etcd members, whether the API endpoint is public, and how long logs are kept. Required when platform is aws.",
    default: "none (clusterName and region are required); otherwise environment prod, 3 zones, private endpoint, 3 etcd members, m6i.large nodes, logs kept 365 days",
    example: {
        clusterName: "hc-prod",
        environment: "prod",
        region: "eu-west-1",
        endpoint: "private",
        apiAllowedCidrs: ["10.100.0.0/16"],
        controlPlane: { instanceType: "m6i.xlarge", etcdMembers: 3 },
        logRetentionDays: 365,
    },
    platforms: ["aws"],
    fields: {
        clusterName: "RFC 1123 label of at most 20 characters; prefixes AWS resource names and SSM paths.",
        environment: "dev, staging or prod (default prod, the strictest: it forbids every weakening).",
        region: "AWS region; must match aws:region when that is set.",
        availabilityZones: "Explicit zones of region, exactly azCount of them (default: the first available).",
        azCount: "Zones to spread over, 3 to 6 (default 3).",
        network: "vpcCidr (/16 to /22, default 10.0.0.0/16), privateSubnets, publicSubnets (default derived from vpcCidr).",
        endpoint: "private (internal NLB, default) or public (a weakening; needs apiAllowedCidrs).",
        apiAllowedCidrs: "IPv4 CIDRs allowed to reach the API on 6443; never the world (0.0.0.0/0, or entries that add up to it) in prod.",
        controlPlane: "instanceType (default m6i.large), etcdMembers (3 or 5; 1 only in dev), rootVolumeGiB, etcdVolumeGiB.",
        workers: "instanceType, min, max, desired, rootVolumeGiB, joinTokenTtlHours.",
        logRetentionDays: "CloudWatch retention of the audit, flow and boot logs, at least 30 (default 365).",
        ssh: "enabled (default false: use SSM Session Manager), allowedCidrs, authorizedKeys.",
        ami: "Either id or ssmParameter (default the Amazon Linux 2023 x86_64 parameter).",
        binaries: "source: bucket (default: the stack publishes the binaries the nodes run from /usr/local/bin to its bucket, and each boot checks their SHA-256) or ami (a WEAKENING: the AMI has them); directory: where pulumi up reads them (default the toolchain's bin).",
        kmsPluginPath: "Path of the KMS v2 plugin on the node (default the toolchain's hc-aws-kms-plugin; aws-encryption-provider takes the same flags).",
        kmsKeyRotationDays: "Days between AWS KMS rotations of the cluster's two keys, 90 to 2560 (default 365).",
        monitoring: "secretReaders: users whose Secret reads raise no alarm.",
        allowWorldApiAccess: "WEAKENING, never in prod: accept the world (0.0.0.0/0, or entries that add up to it) in apiAllowedCidrs.",
        allowSingleEtcdMember: "WEAKENING, dev only: accept controlPlane.etcdMembers: 1.",
        tags: "Extra tags on every taggable resource. Names starting aws: and the tags the platform sets itself (hardened-cluster/cluster, hardened-cluster/role) are refused.",
    },
    // Resolved once, with the stack's other settings, by the AWS platform (planAwsProgram).
    validate: (value, ctx) => objectValue(ctx.key, value) as unknown as AwsOptions,
};
