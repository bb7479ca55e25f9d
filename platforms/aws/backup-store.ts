// The bucket etcd bundles land in: encrypted by the cluster key (SSE-KMS, no bucket key, so KMS sees each
// object's ARN and the node roles' grants can name the prefix), versioned, closed to the public, owned by the
// account alone, TLS only. A pruned or overwritten bundle stays as a noncurrent version for a week.
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

export class BackupBucketSettings extends pulumi.ComponentResource {
    constructor(name: string, args: BackupBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        super("hardened-cluster:aws:BackupBucket", name, {}, opts);
        const parent = { parent: this };
        // The name, which is also the id AWS gives a bucket.
        const bucket = args.bucket.bucket;
        const block = new aws.s3.BucketPublicAccessBlock(`${name}-public`, {
            bucket, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true,
        }, parent);
        new aws.s3.BucketOwnershipControls(`${name}-owner`, { bucket, rule: { objectOwnership: "BucketOwnerEnforced" } }, parent);
        new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-sse`, {
            bucket,
            rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: args.clusterKeyArn }, bucketKeyEnabled: false }],
        }, parent);
        const versioning = new aws.s3.BucketVersioning(`${name}-versioning`, { bucket, versioningConfiguration: { status: "Enabled" } }, parent);
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
        }, { parent: this, dependsOn: [versioning] });
        new aws.s3.BucketPolicy(`${name}-policy`, {
            bucket,
            policy: pulumi.all([args.ctx, args.bucket.bucket, args.clusterKeyArn]).apply(([c, b, k]) => JSON.stringify(backupBucketPolicy(c, b, k))),
        }, { parent: this, dependsOn: [block] });
        this.registerOutputs({});
    }
}
