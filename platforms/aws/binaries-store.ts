// The bucket the stack publishes the nodes' binaries to (binaries.ts): encrypted by the cluster key (SSE-KMS, no
// bucket key, so KMS sees each object's ARN and the grants can name the prefix), versioned, closed to the public,
// owned by the account alone, TLS only, written by the deployer alone. A binary the stack stops publishing stays
// as a noncurrent version for a week, so a node rolled back to older user data still finds it.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { clusterBucketSettings } from "./backup-store";
import { binaryBucketPolicy, PublishedBinary } from "./binaries";
import type { ArnContext } from "./iam";
import { deployerPrincipalArns } from "./kms";

/** The bucket itself, created before the cluster key, whose policy names it. */
export function binaryBucket(name: string, clusterName: string, tags: Record<string, string>, opts: pulumi.CustomResourceOptions): aws.s3.Bucket {
    // A generated name, as for backups. Nothing in it is lost with the stack: every object is rebuilt from the toolchain.
    return new aws.s3.Bucket(name, { bucketPrefix: `${clusterName.slice(0, 30)}-binaries-`, forceDestroy: true, tags }, opts);
}

export interface BinaryStoreArgs {
    bucket: aws.s3.Bucket;
    ctx: pulumi.Input<ArnContext>;
    clusterKeyArn: pulumi.Input<string>;
    /** The caller identity's ARN: the only principal the bucket lets write. */
    deployerArn: pulumi.Input<string>;
    binaries: readonly PublishedBinary[];
}

export class BinaryStore extends pulumi.ComponentResource {
    /** One object per binary; nodes must not boot before all exist. */
    readonly objects: aws.s3.BucketObjectv2[];

    constructor(name: string, args: BinaryStoreArgs, opts?: pulumi.ComponentResourceOptions) {
        super("hardened-cluster:aws:BinaryStore", name, {}, opts);
        const bucket = args.bucket.bucket;
        const { block, owner, sse, versioning } = clusterBucketSettings(name, bucket, args.clusterKeyArn, this);
        const policy = new aws.s3.BucketPolicy(`${name}-policy`, {
            bucket,
            policy: pulumi.all([args.ctx, bucket, args.clusterKeyArn, args.deployerArn])
                .apply(([c, b, k, d]) => JSON.stringify(binaryBucketPolicy(c, b, k, deployerPrincipalArns(d)))),
        }, { parent: this, dependsOn: [block] });
        // After the policy that names today's deployer, and with the checksum S3 verifies on upload.
        this.objects = args.binaries.map((b) => new aws.s3.BucketObjectv2(`${name}-${b.name}`, {
            bucket,
            key: b.key,
            source: new pulumi.asset.FileAsset(b.localPath),
            contentType: "application/octet-stream",
            serverSideEncryption: "aws:kms",
            kmsKeyId: args.clusterKeyArn,
            checksumAlgorithm: "SHA256",
        }, { parent: this, dependsOn: [policy, sse, owner, versioning] }));
        this.registerOutputs({ bucket, keys: args.binaries.map((b) => b.key) });
    }
}
