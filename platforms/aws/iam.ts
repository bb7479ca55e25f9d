// IAM as data: every policy document is rendered by a pure function from names and ARNs, so the tests can
// read exactly what each role may do. One role per control-plane node, because "each node reads only its own
// secrets" must hold even if one node is compromised; one role for all workers, which share one secret.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { backupNodeStatements } from "./backup";
import { binaryReadStatements } from "./binaries";
import { metricNamespace } from "./monitoring";
import { controlPlaneReadPrefixes, workerReadPrefixes } from "./secrets";
import { reportParameterName, workerReportName } from "./report";

export interface ArnContext {
    partition: string;
    region: string;
    accountId: string;
    /** "amazonaws.com" (or the partition's suffix), for service endpoints in conditions. */
    dnsSuffix: string;
}

export interface Statement {
    Sid?: string;
    Effect: "Allow" | "Deny";
    Principal?: Record<string, string | string[]>;
    Action: string | string[];
    /** Absent only in trust policies. */
    Resource?: string | string[];
    Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
    Version: "2012-10-17";
    Statement: Statement[];
}

export function assumeRolePolicy(service: string, sourceAccount?: string): PolicyDocument {
    const s: Statement = { Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" };
    if (sourceAccount) s.Condition = { StringEquals: { "aws:SourceAccount": sourceAccount } };
    return { Version: "2012-10-17", Statement: [s] };
}

function parameterArns(ctx: ArnContext, prefixes: readonly string[]): string[] {
    return prefixes.map((p) => `arn:${ctx.partition}:ssm:${ctx.region}:${ctx.accountId}:parameter${p}/*`);
}

/** Reading and decrypting only the given parameter prefixes; KMS checks the parameter ARN in its context too. */
function secretReadStatements(ctx: ArnContext, clusterKeyArn: string, prefixes: readonly string[]): Statement[] {
    const arns = parameterArns(ctx, prefixes);
    return [
        { Sid: "ReadOwnParameters", Effect: "Allow", Action: ["ssm:GetParameter", "ssm:GetParameterHistory", "ssm:GetParameters"], Resource: arns },
        {
            Sid: "DecryptOwnParameters",
            Effect: "Allow",
            Action: ["kms:Decrypt"],
            Resource: clusterKeyArn,
            Condition: {
                StringEquals: { "kms:ViaService": `ssm.${ctx.region}.${ctx.dnsSuffix}` },
                StringLike: { "kms:EncryptionContext:PARAMETER_ARN": arns },
            },
        },
    ];
}

/**
 * What Session Manager needs, instead of AmazonSSMManagedInstanceCore: that managed policy also grants
 * ssm:GetParameter(s) on every parameter in the account, which would undo the per-node secret paths.
 * ssmmessages has no resource-level permissions, hence "*" with named actions.
 */
function sessionManagerStatements(ctx: ArnContext): Statement[] {
    return [
        {
            Sid: "SsmAgentRegistration",
            Effect: "Allow",
            Action: ["ssm:UpdateInstanceInformation"],
            Resource: `arn:${ctx.partition}:ec2:${ctx.region}:${ctx.accountId}:instance/*`,
        },
        {
            Sid: "SsmSessionChannels",
            Effect: "Allow",
            Action: ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
            Resource: "*",
        },
    ];
}

export interface ControlPlanePolicyInput {
    clusterName: string;
    node: string;
    clusterKeyArn: string;
    secretsKeyArn: string;
    auditLogGroupArn: string;
    /** The etcd backup bucket's name and the cluster's prefix in it. */
    backup: { bucket: string; prefix: string };
    /** The bucket the stack publishes the nodes' binaries to, when it does (aws.binaries.source "bucket"). */
    binaryBucket?: string;
}

export function controlPlaneNodePolicy(ctx: ArnContext, p: ControlPlanePolicyInput): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            ...secretReadStatements(ctx, p.clusterKeyArn, controlPlaneReadPrefixes(p.clusterName, p.node)),
            {
                // The KMS v2 plugin wraps DEKs; the key policy additionally requires the cluster's encryption context.
                Sid: "KmsPluginEnvelope",
                Effect: "Allow",
                Action: ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"],
                Resource: p.secretsKeyArn,
            },
            {
                Sid: "ShipAuditLog",
                Effect: "Allow",
                Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                Resource: [p.auditLogGroupArn, `${p.auditLogGroupArn}:log-stream:*`],
            },
            {
                // Certificate expiry and backups. PutMetricData has no resource ARN; the condition keeps each node to
                // its cluster's namespace.
                Sid: "PublishCertificateExpiry",
                Effect: "Allow",
                Action: ["cloudwatch:PutMetricData"],
                Resource: "*",
                Condition: { StringEquals: { "cloudwatch:namespace": metricNamespace(p.clusterName) } },
            },
            {
                // Its own report for the CA rotation's gates (report.ts), a String: no key is involved, and a node
                // cannot write another node's report or any other parameter.
                Sid: "PublishOwnReport",
                Effect: "Allow",
                Action: ["ssm:PutParameter"],
                Resource: `arn:${ctx.partition}:ssm:${ctx.region}:${ctx.accountId}:parameter${reportParameterName(p.clusterName, p.node)}`,
            },
            ...backupNodeStatements(ctx, p.backup.bucket, p.backup.prefix, p.clusterKeyArn),
            ...(p.binaryBucket ? binaryReadStatements(ctx, p.binaryBucket, p.clusterKeyArn) : []),
            ...sessionManagerStatements(ctx),
        ],
    };
}

/** The primary private IPv4 address of the EC2 instance the credentials were issued to (a global condition key). */
export const WORKER_ADDRESS_VARIABLE = "${aws:EC2InstanceSourcePrivateIPv4}";

export function workerNodePolicy(ctx: ArnContext, clusterName: string, clusterKeyArn: string, binaryBucket?: string): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            ...secretReadStatements(ctx, clusterKeyArn, workerReadPrefixes(clusterName)),
            {
                // Its own report (report.ts), named by the instance's primary private address: IAM resolves the
                // policy variable from the credentials EC2 issued to that instance, so one worker cannot write
                // another's report, whatever address it claims.
                Sid: "PublishOwnReport",
                Effect: "Allow",
                Action: ["ssm:PutParameter"],
                Resource: `arn:${ctx.partition}:ssm:${ctx.region}:${ctx.accountId}:parameter${reportParameterName(clusterName, workerReportName(WORKER_ADDRESS_VARIABLE))}`,
            },
            ...(binaryBucket ? binaryReadStatements(ctx, binaryBucket, clusterKeyArn) : []),
            ...sessionManagerStatements(ctx),
        ],
    };
}

export function flowLogsPolicy(logGroupArn: string): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [{
            Sid: "DeliverFlowLogs",
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            Resource: [logGroupArn, `${logGroupArn}:log-stream:*`],
        }],
    };
}

export interface NodeRole {
    role: aws.iam.Role;
    profile: aws.iam.InstanceProfile;
}

/** An EC2 role with nothing attached yet: the cluster key's policy names it before its own policy exists. */
export function ec2Role(name: string, tags: Record<string, string>, opts: pulumi.CustomResourceOptions): aws.iam.Role {
    return new aws.iam.Role(name, { assumeRolePolicy: JSON.stringify(assumeRolePolicy("ec2.amazonaws.com")), tags }, opts);
}

/** The role's inline policy and its instance profile; the policy is attached before anything can assume the role for work. */
export function nodeRole(
    name: string,
    role: aws.iam.Role,
    policy: pulumi.Input<PolicyDocument>,
    tags: Record<string, string>,
    opts: pulumi.CustomResourceOptions,
): NodeRole {
    new aws.iam.RolePolicy(name, { role: role.id, policy: pulumi.output(policy).apply((p) => JSON.stringify(p)) }, opts);
    const profile = new aws.iam.InstanceProfile(name, { role: role.name, tags }, opts);
    return { role, profile };
}
