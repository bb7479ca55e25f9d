// AWS resources: instance metadata, KMS rotation, security groups, customer-managed encryption, S3.
// Proven by unit tests only: this project has no AWS provider plugin, so no preview reaches these resources.
import type { PolicyResource } from "@pulumi/policy";
import { fsbp, isObj, arr, resourceRule, stackRule } from "./common";
import { coversWorld } from "./network";

export const CONTROL_PORTS = [6443, 2379, 2380, 10250, 22];
const LT = "aws:ec2/launchTemplate:LaunchTemplate", INSTANCE = "aws:ec2/instance:Instance";

export const awsImdsv2 = resourceRule({
    name: "aws-imdsv2-hop-limit-1",
    description: "Launch templates and instances require IMDSv2 session tokens with a response hop limit of 1, so containers cannot reach the node's credentials.",
    severity: "critical",
    framework: fsbp("EC2.8", "EC2 instances should use Instance Metadata Service Version 2 (IMDSv2)"),
    remediation: "Set metadataOptions: { httpTokens: \"required\", httpPutResponseHopLimit: 1 } (or httpEndpoint: \"disabled\").",
}, (args, report) => {
    if (args.type !== LT && args.type !== INSTANCE) return;
    // An instance launched from a template without options of its own takes the template's (judged there).
    if (args.type === INSTANCE && args.props.metadataOptions === undefined && isObj(args.props.launchTemplate)) return;
    const m = isObj(args.props.metadataOptions) ? args.props.metadataOptions : {};
    if (m.httpEndpoint === "disabled") return;
    if (m.httpTokens !== "required") report(`${args.name}: metadataOptions.httpTokens is ${m.httpTokens ?? "unset (optional)"}, not required`);
    if (m.httpPutResponseHopLimit !== 1) report(`${args.name}: metadataOptions.httpPutResponseHopLimit is ${m.httpPutResponseHopLimit ?? "unset"}, not 1`);
});

export const awsKmsRotation = resourceRule({
    name: "aws-kms-key-rotation",
    description: "Symmetric KMS keys rotate their key material.",
    severity: "medium",
    framework: fsbp("KMS.4", "AWS KMS key rotation should be enabled"),
    remediation: "Set enableKeyRotation: true on the aws.kms.Key.",
}, (args, report) => {
    if (args.type !== "aws:kms/key:Key") return;
    const spec = args.props.customerMasterKeySpec ?? args.props.keySpec ?? "SYMMETRIC_DEFAULT";
    if (spec === "SYMMETRIC_DEFAULT" && args.props.enableKeyRotation !== true) report(`${args.name}: enableKeyRotation is not true`);
});

interface Permit { group: string; from: number; to: number; protocol: string; v4: string[]; v6: string[]; urn: string }
const num = (v: unknown, d: number) => (typeof v === "number" ? v : d);
const reaches = (p: Permit, port: number) => ["-1", "all"].includes(String(p.protocol)) || (["tcp", "6"].includes(String(p.protocol)) && p.from <= port && port <= p.to);

/** Every ingress permit of a stack, keyed by the security group it opens (its URN where the id is not known yet). */
export function ingressPermits(resources: PolicyResource[]): Permit[] {
    const out: Permit[] = [];
    for (const r of resources) {
        const p = r.props;
        if (r.type === "aws:ec2/securityGroup:SecurityGroup") {
            for (const i of arr(p.ingress).filter(isObj)) {
                out.push({ group: r.urn, from: num(i.fromPort, 0), to: num(i.toPort, 65535), protocol: String(i.protocol), v4: arr(i.cidrBlocks), v6: arr(i.ipv6CidrBlocks), urn: r.urn });
            }
            continue;
        }
        const rule = r.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule" ||
            (r.type === "aws:ec2/securityGroupRule:SecurityGroupRule" && p.type === "ingress");
        if (!rule) continue;
        const dep = r.propertyDependencies?.securityGroupId?.[0]?.urn;
        const group = dep ?? String(p.securityGroupId);
        const v4 = r.type.startsWith("aws:vpc") ? (p.cidrIpv4 ? [p.cidrIpv4] : []) : arr(p.cidrBlocks);
        const v6 = r.type.startsWith("aws:vpc") ? (p.cidrIpv6 ? [p.cidrIpv6] : []) : arr(p.ipv6CidrBlocks);
        out.push({ group, from: num(p.fromPort, 0), to: num(p.toPort, 65535), protocol: String(p.ipProtocol ?? p.protocol), v4, v6, urn: r.urn });
    }
    return out;
}

export const awsWorldOpenPorts = stackRule({
    name: "aws-no-world-open-control-ports",
    description: `No security group lets the whole internet reach ports ${CONTROL_PORTS.join(", ")}, counting every ingress permit of the group together (0.0.0.0/1 + 128.0.0.0/1 is the world too).`,
    severity: "critical",
    framework: fsbp("EC2.19", "Security groups should not allow unrestricted access to ports with high risk (EC2.13: no 0.0.0.0/0 to port 22)"),
    remediation: "Allow the API (6443) only from known CIDRs or the load balancer; keep etcd (2379/2380), the kubelet (10250) and SSH (22) to the cluster's own security groups.",
}, (args, report) => {
    const permits = ingressPermits(args.resources);
    const groups = new Set(permits.map((p) => p.group));
    for (const g of groups) {
        for (const port of CONTROL_PORTS) {
            const open = permits.filter((p) => p.group === g && reaches(p, port));
            for (const fam of [4, 6] as const) {
                if (coversWorld(open.flatMap((p) => (fam === 4 ? p.v4 : p.v6)), fam)) {
                    report(`security group ${g.split("::").pop()} opens port ${port} to every IPv${fam} address`, open[0].urn);
                }
            }
        }
    }
});

const AWS_MANAGED = /^(alias\/aws\/|arn:aws[a-z-]*:kms:[^:]*:[^:]*:alias\/aws\/)/;
const customerKey = (v: unknown) => typeof v === "string" && v !== "" && !AWS_MANAGED.test(v);

export const awsCustomerKeys = resourceRule({
    name: "aws-customer-managed-encryption",
    description: "EBS volumes (instances, launch templates, volumes), CloudWatch log groups, SSM SecureString parameters and S3 default encryption use a customer-managed KMS key.",
    severity: "high",
    framework: fsbp("EC2.3, S3.17", "Encrypt EBS volumes and S3 buckets with AWS KMS; the hardened-cluster posture extends it to log groups and SSM SecureStrings"),
    remediation: "Give each resource a kmsKeyId / keyId / kmsMasterKeyId of your own aws.kms.Key (with rotation), and set encrypted: true on every EBS volume.",
}, (args, report) => {
    const p = args.props;
    const ebs = (where: string, e: any) => {
        if (!isObj(e)) return;
        if (e.encrypted !== true && e.encrypted !== "true") report(`${args.name}: ${where} is not encrypted`);
        else if (!customerKey(e.kmsKeyId)) report(`${args.name}: ${where} has no customer-managed kmsKeyId`);
    };
    switch (args.type) {
        case "aws:ebs/volume:Volume": return ebs("the volume", p);
        case INSTANCE:
            // Without a root block device of its own, an instance from a launch template gets the template's.
            if (p.rootBlockDevice !== undefined || !isObj(p.launchTemplate)) ebs("the root block device", p.rootBlockDevice ?? {});
            for (const d of arr(p.ebsBlockDevices)) ebs(`block device ${d?.deviceName}`, d);
            return;
        case LT: for (const d of arr(p.blockDeviceMappings)) if (isObj(d) && isObj(d.ebs)) ebs(`block device ${d.deviceName}`, d.ebs); return;
        case "aws:cloudwatch/logGroup:LogGroup": if (!customerKey(p.kmsKeyId)) report(`${args.name}: log group without a customer-managed kmsKeyId`); return;
        case "aws:ssm/parameter:Parameter": if (p.type === "SecureString" && !customerKey(p.keyId)) report(`${args.name}: SecureString parameter without a customer-managed keyId`); return;
        case "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
        case "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2":
            for (const r of arr(p.rules).filter(isObj)) {
                const d = r.applyServerSideEncryptionByDefault;
                if (!isObj(d) || !String(d.sseAlgorithm).startsWith("aws:kms") || !customerKey(d.kmsMasterKeyId)) report(`${args.name}: default encryption is not SSE-KMS with a customer-managed key`);
            }
            return;
        default: return;
    }
});

const BUCKETS = ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"];
const PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
const PAB_FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"];

export const awsS3PublicAccess = stackRule({
    name: "aws-s3-block-public-access",
    description: "Every S3 bucket has a public access block with all four settings on.",
    severity: "high",
    framework: fsbp("S3.8", "S3 general purpose buckets should block public access"),
    remediation: "Add an aws.s3.BucketPublicAccessBlock for the bucket with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true.",
}, (args, report) => {
    const blocked = new Set<string>();
    for (const r of args.resources) {
        if (r.type !== PAB) continue;
        const bucket = r.propertyDependencies?.bucket?.[0]?.urn ?? String(r.props.bucket);
        const off = PAB_FLAGS.filter((f) => r.props[f] !== true);
        if (off.length > 0) report(`public access block leaves ${off.join(", ")} off`, r.urn);
        else blocked.add(bucket);
    }
    for (const r of args.resources) {
        if (BUCKETS.includes(r.type) && !blocked.has(r.urn) && !blocked.has(String(r.props.bucket))) report(`bucket ${r.name} has no public access block with all four settings on`, r.urn);
    }
});
