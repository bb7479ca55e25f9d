// The bucket etcd bundles land in: encrypted by the cluster key (SSE-KMS, no bucket key, so KMS sees each
// object's ARN and the node roles' grants can name the prefix), versioned, closed to the public, owned by the
// account alone, TLS only. A pruned or overwritten bundle stays as a noncurrent version for a week. The settings
// but the policy are every cluster bucket's (clusterBucketSettings; the binaries' bucket uses them too).
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { backupBucketPolicy, NONCURRENT_VERSION_DAYS } from "./backup";
import type { ArnContext } from "./iam";

export interface BackupBucketArgs {
    bucket: aws.s3.Bucket;
    ctx: pulumi.Input<ArnContext>;
    clusterKeyArn: pulumi.Input<string>;
}

/** The bucket itself, created before the cluster key, whose policy names it. */
export function backupBucket(name: string, clusterName: string, prod: boolean, tags: Record<string, string>, opts: pulumi.CustomResourceOptions): aws.s3.Bucket {
    // Generated names: a bucket name is global, and a guessable one can be taken first by someone else.
    return new aws.s3.Bucket(name, { bucketPrefix: `${clusterName.slice(0, 30)}-etcd-backups-`, forceDestroy: !prod, tags }, opts);
}

/** The settings clusterBucketSettings creates, for callers that order their own resources after them. */
export interface ClusterBucketSettings {
    block: aws.s3.BucketPublicAccessBlock;
    owner: aws.s3.BucketOwnershipControls;
    sse: aws.s3.BucketServerSideEncryptionConfiguration;
    versioning: aws.s3.BucketVersioning;
}

/**
 * What every bucket of the cluster has, as children of `parent` named `<name>-<setting>`: public access blocked,
 * owner-enforced, SSE-KMS by the cluster key with no bucket key (KMS sees each object's ARN, so grants can name a
 * prefix), versioned, and noncurrent versions and unfinished uploads expired. The policy is the caller's.
 */
export function clusterBucketSettings(name: string, bucket: pulumi.Input<string>, clusterKeyArn: pulumi.Input<string>, parent: pulumi.Resource): ClusterBucketSettings {
    const opts = { parent };
    const block = new aws.s3.BucketPublicAccessBlock(`${name}-public`, {
        bucket, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true,
    }, opts);
    const owner = new aws.s3.BucketOwnershipControls(`${name}-owner`, { bucket, rule: { objectOwnership: "BucketOwnerEnforced" } }, opts);
    const sse = new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-sse`, {
        bucket,
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: clusterKeyArn }, bucketKeyEnabled: false }],
    }, opts);
    const versioning = new aws.s3.BucketVersioning(`${name}-versioning`, { bucket, versioningConfiguration: { status: "Enabled" } }, opts);
    new aws.s3.BucketLifecycleConfiguration(`${name}-lifecycle`, {
        bucket,
        rules: [{
            id: "noncurrent-and-unfinished",
            status: "Enabled",
            filter: { prefix: "" },
            noncurrentVersionExpiration: { noncurrentDays: NONCURRENT_VERSION_DAYS },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
            expiration: { expiredObjectDeleteMarker: true },
        }],
    }, { parent, dependsOn: [versioning] });
    return { block, owner, sse, versioning };
}

export class BackupBucketSettings extends pulumi.ComponentResource {
    constructor(name: string, args: BackupBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        super("hardened-cluster:aws:BackupBucket", name, {}, opts);
        // The name, which is also the id AWS gives a bucket.
        const bucket = args.bucket.bucket;
        const { block } = clusterBucketSettings(name, bucket, args.clusterKeyArn, this);
        new aws.s3.BucketPolicy(`${name}-policy`, {
            bucket,
            policy: pulumi.all([args.ctx, args.bucket.bucket, args.clusterKeyArn]).apply(([c, b, k]) => JSON.stringify(backupBucketPolicy(c, b, k))),
        }, { parent: this, dependsOn: [block] });
        this.registerOutputs({});
    }
}
