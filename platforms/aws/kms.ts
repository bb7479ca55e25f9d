// Two customer-managed keys, both rotated yearly by KMS:
// - the cluster key encrypts EBS volumes, log groups, SSM parameters and the SNS topic; through SSM only the
//   deployer and each node role, each only for its own parameter paths, may use it;
// - the secrets key wraps the DEKs of Kubernetes' KMS v2 provider and is usable by the control-plane roles only.
// Keeping them apart means nobody who can decrypt a log or a parameter can ask KMS to unwrap etcd's secrets.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { ArnContext, PolicyDocument, Statement } from "./iam";

/** The encryption context the KMS plugin sends (its --encryption-context flag); the key policy requires it. */
export const SECRETS_CONTEXT_KEY = "hardened-cluster";

// Key administration without use: whoever manages the key cannot decrypt with it through this statement.
const ADMIN_ACTIONS = [
    "kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias", "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy",
    "kms:GetKeyRotationStatus", "kms:EnableKeyRotation", "kms:DisableKeyRotation", "kms:RotateKeyOnDemand",
    "kms:ListResourceTags", "kms:TagResource", "kms:UntagResource", "kms:ListAliases", "kms:ListGrants",
    "kms:RevokeGrant", "kms:RetireGrant", "kms:EnableKey", "kms:DisableKey", "kms:UpdateKeyDescription",
    "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
];
const DATA_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"];

function root(ctx: ArnContext): string {
    return `arn:${ctx.partition}:iam::${ctx.accountId}:root`;
}

/** A role that reads SSM parameters under the given path prefixes (no trailing slash). */
export interface ParameterReader {
    roleArn: string;
    prefixes: readonly string[];
}

export interface ClusterKeyPrincipals {
    /** Who runs `pulumi up`: it writes the parameters and reads them back (the provider reads with decryption). */
    deployerArns: readonly string[];
    /** The node roles and the parameter paths each may decrypt. */
    readers: readonly ParameterReader[];
    /** The roles that upload etcd bundles, and the object ARN pattern (bucket/prefix/*) they may encrypt for. */
    backupWriters?: { roleArns: readonly string[]; objectArns: string };
    /** Every node role, and the published binaries' object ARN pattern (bucket/binaries/*), when the stack publishes them. */
    binaryReaders?: { roleArns: readonly string[]; objectArns: string };
}

/**
 * The IAM principal patterns behind a caller identity ARN, for aws:PrincipalArn. An assumed role's session
 * ARN carries no role path, so the role is matched with and without one; users and the root are their own ARN.
 */
export function deployerPrincipalArns(callerArn: string): string[] {
    const m = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(callerArn);
    if (!m) return [callerArn];
    return [`arn:${m[1]}:iam::${m[2]}:role/${m[3]}`, `arn:${m[1]}:iam::${m[2]}:role/*/${m[3]}`];
}

function parameterArnPattern(ctx: ArnContext, prefix: string): string {
    return `arn:${ctx.partition}:ssm:${ctx.region}:${ctx.accountId}:parameter${prefix}/*`;
}

/**
 * The cluster key. Use through EC2 and Auto Scaling is delegated to IAM (the deployer creates encrypted
 * volumes with it), but only via those services: nobody gets raw kms:Decrypt on it. Through SSM the key
 * itself fences every use by the parameter ARN SSM binds into each ciphertext (its encryption context): the
 * deployer only under /<cluster>/, each node role only under its own paths, whatever IAM policies anyone
 * else in the account holds.
 */
export function clusterKeyPolicy(ctx: ArnContext, clusterName: string, principals: ClusterKeyPrincipals): PolicyDocument {
    const viaServices = ["ec2", "autoscaling"].map((s) => `${s}.${ctx.region}.${ctx.dnsSuffix}`);
    const viaSsm = `ssm.${ctx.region}.${ctx.dnsSuffix}`;
    const statements: Statement[] = [
        { Sid: "KeyAdministration", Effect: "Allow", Principal: { AWS: root(ctx) }, Action: ADMIN_ACTIONS, Resource: "*" },
        {
            Sid: "UseThroughClusterServices",
            Effect: "Allow",
            Principal: { AWS: root(ctx) },
            Action: [...DATA_ACTIONS, "kms:CreateGrant"],
            Resource: "*",
            Condition: { StringEquals: { "kms:ViaService": viaServices, "kms:CallerAccount": ctx.accountId } },
        },
        {
            Sid: "DeployerWritesClusterParameters",
            Effect: "Allow",
            Principal: { AWS: root(ctx) },
            Action: ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
            Resource: "*",
            Condition: {
                StringEquals: { "kms:ViaService": viaSsm, "kms:CallerAccount": ctx.accountId },
                ArnLike: { "aws:PrincipalArn": [...principals.deployerArns] },
                StringLike: { "kms:EncryptionContext:PARAMETER_ARN": parameterArnPattern(ctx, `/${clusterName}`) },
            },
        },
        ...principals.readers.map((r, i): Statement => ({
            Sid: `NodeReadsOwnParameters${i}`,
            Effect: "Allow",
            Principal: { AWS: r.roleArn },
            Action: ["kms:Decrypt"],
            Resource: "*",
            Condition: {
                StringEquals: { "kms:ViaService": viaSsm },
                StringLike: { "kms:EncryptionContext:PARAMETER_ARN": r.prefixes.map((p) => parameterArnPattern(ctx, p)) },
            },
        })),
        ...(principals.backupWriters ? [{
            // S3 asks for a data key per object with the object's ARN as context: only the backup prefix.
            Sid: "NodesWriteBackups",
            Effect: "Allow",
            Principal: { AWS: [...principals.backupWriters.roleArns] },
            Action: ["kms:GenerateDataKey", "kms:Decrypt"],
            Resource: "*",
            Condition: {
                StringEquals: { "kms:ViaService": `s3.${ctx.region}.${ctx.dnsSuffix}` },
                StringLike: { "kms:EncryptionContext:aws:s3:arn": principals.backupWriters.objectArns },
            },
        } satisfies Statement] : []),
        ...(principals.binaryReaders ? binaryStatements(ctx, principals.deployerArns, principals.binaryReaders) : []),
        {
            // EC2 Auto Scaling launches worker volumes with its service-linked role, which must exist in the account.
            Sid: "AutoScalingVolumes",
            Effect: "Allow",
            Principal: { AWS: `arn:${ctx.partition}:iam::${ctx.accountId}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling` },
            Action: DATA_ACTIONS,
            Resource: "*",
        },
        {
            Sid: "AutoScalingGrants",
            Effect: "Allow",
            Principal: { AWS: `arn:${ctx.partition}:iam::${ctx.accountId}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling` },
            Action: ["kms:CreateGrant"],
            Resource: "*",
            Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
        },
        {
            // Only this cluster's log groups, by the context CloudWatch Logs binds to each ciphertext.
            Sid: "CloudWatchLogs",
            Effect: "Allow",
            Principal: { Service: `logs.${ctx.region}.${ctx.dnsSuffix}` },
            Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"],
            Resource: "*",
            Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": `arn:${ctx.partition}:logs:${ctx.region}:${ctx.accountId}:log-group:/${clusterName}/*` } },
        },
        {
            // Alarms publish to the encrypted topic as the CloudWatch service.
            Sid: "CloudWatchAlarmsToSns",
            Effect: "Allow",
            Principal: { Service: "cloudwatch.amazonaws.com" },
            Action: ["kms:Decrypt", "kms:GenerateDataKey"],
            Resource: "*",
            Condition: { StringEquals: { "aws:SourceAccount": ctx.accountId } },
        },
    ];
    return { Version: "2012-10-17", Statement: statements };
}

/** The deployer encrypts the binaries it publishes and every node decrypts them, both through S3 and only under the prefix. */
function binaryStatements(ctx: ArnContext, deployerArns: readonly string[], readers: { roleArns: readonly string[]; objectArns: string }): Statement[] {
    const viaS3 = `s3.${ctx.region}.${ctx.dnsSuffix}`;
    return [
        {
            Sid: "DeployerPublishesBinaries",
            Effect: "Allow",
            Principal: { AWS: root(ctx) },
            Action: ["kms:GenerateDataKey", "kms:Decrypt"],
            Resource: "*",
            Condition: {
                StringEquals: { "kms:ViaService": viaS3, "kms:CallerAccount": ctx.accountId },
                ArnLike: { "aws:PrincipalArn": [...deployerArns] },
                StringLike: { "kms:EncryptionContext:aws:s3:arn": readers.objectArns },
            },
        },
        {
            Sid: "NodesReadBinaries",
            Effect: "Allow",
            Principal: { AWS: [...readers.roleArns] },
            Action: ["kms:Decrypt"],
            Resource: "*",
            Condition: { StringEquals: { "kms:ViaService": viaS3 }, StringLike: { "kms:EncryptionContext:aws:s3:arn": readers.objectArns } },
        },
    ];
}

/** The secrets key: administered by the account, used only by the control-plane roles and only with the cluster's context. */
export function secretsKeyPolicy(ctx: ArnContext, clusterName: string, controlPlaneRoleArns: readonly string[]): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "KeyAdministration", Effect: "Allow", Principal: { AWS: root(ctx) }, Action: ADMIN_ACTIONS, Resource: "*" },
            {
                Sid: "KmsPluginEnvelope",
                Effect: "Allow",
                Principal: { AWS: [...controlPlaneRoleArns] },
                Action: ["kms:Encrypt", "kms:Decrypt"],
                Resource: "*",
                Condition: { StringEquals: { [`kms:EncryptionContext:${SECRETS_CONTEXT_KEY}`]: clusterName } },
            },
            { Sid: "KmsPluginHealth", Effect: "Allow", Principal: { AWS: [...controlPlaneRoleArns] }, Action: ["kms:DescribeKey"], Resource: "*" },
        ],
    };
}

export interface ClusterKeysArgs {
    clusterName: string;
    ctx: pulumi.Input<ArnContext>;
    controlPlaneRoleArns: pulumi.Input<string>[];
    /** The caller identity's ARN (getCallerIdentity), for the deployer's parameter statement. */
    deployerArn: pulumi.Input<string>;
    /** Every node role with the parameter prefixes it reads; roles must exist before the key names them. */
    parameterReaders: { roleArn: pulumi.Input<string>; prefixes: string[] }[];
    /** The etcd backup bucket's objects (arn:...:s3:::bucket/prefix/*), which the control-plane roles encrypt for. */
    backupObjectArns: pulumi.Input<string>;
    /** The published binaries' objects, which every node role reads; absent when the AMI has the binaries. */
    binaryObjectArns?: pulumi.Input<string>;
    /** 30 in prod (the maximum), so a mistaken destroy can be undone; 7 elsewhere. */
    deletionWindowInDays: number;
    /** aws.kmsKeyRotationDays. */
    rotationPeriodInDays: number;
    tags: Record<string, string>;
}

export class ClusterKeys extends pulumi.ComponentResource {
    readonly clusterKey: aws.kms.Key;
    readonly secretsKey: aws.kms.Key;

    constructor(name: string, args: ClusterKeysArgs, opts?: pulumi.ComponentResourceOptions) {
        super("hardened-cluster:aws:ClusterKeys", name, {}, opts);
        const ctx = pulumi.output(args.ctx);
        const common = { enableKeyRotation: true, rotationPeriodInDays: args.rotationPeriodInDays, deletionWindowInDays: args.deletionWindowInDays, tags: args.tags };
        this.clusterKey = new aws.kms.Key(`${name}-cluster`, {
            ...common,
            description: `${args.clusterName}: volumes, logs, parameters, alarms`,
            policy: pulumi.all([ctx, args.deployerArn, pulumi.all(args.parameterReaders.map((r) => r.roleArn)), pulumi.all(args.controlPlaneRoleArns), args.backupObjectArns, args.binaryObjectArns ?? ""])
                .apply(([c, deployer, roleArns, cpArns, backupObjects, binaryObjects]) => JSON.stringify(clusterKeyPolicy(c, args.clusterName, {
                    deployerArns: deployerPrincipalArns(deployer),
                    readers: args.parameterReaders.map((r, i) => ({ roleArn: roleArns[i], prefixes: r.prefixes })),
                    backupWriters: { roleArns: cpArns, objectArns: backupObjects },
                    ...(binaryObjects ? { binaryReaders: { roleArns, objectArns: binaryObjects } } : {}),
                }))),
        }, { parent: this });
        this.secretsKey = new aws.kms.Key(`${name}-secrets`, {
            ...common,
            description: `${args.clusterName}: Kubernetes secrets envelope (KMS v2)`,
            policy: pulumi.all([ctx, pulumi.all(args.controlPlaneRoleArns)])
                .apply(([c, arns]) => JSON.stringify(secretsKeyPolicy(c, args.clusterName, arns))),
        }, { parent: this });
        new aws.kms.Alias(`${name}-cluster`, { name: `alias/${args.clusterName}/cluster`, targetKeyId: this.clusterKey.keyId }, { parent: this });
        new aws.kms.Alias(`${name}-secrets`, { name: `alias/${args.clusterName}/secrets`, targetKeyId: this.secretsKey.keyId }, { parent: this });
        this.registerOutputs({ clusterKeyArn: this.clusterKey.arn, secretsKeyArn: this.secretsKey.arn });
    }
}
