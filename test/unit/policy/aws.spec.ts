// The AWS rules, proven here only: this project has no AWS provider plugin, so no real-engine preview
// reaches an AWS resource. Expected outcomes follow AWS Foundational Security Best Practices (EC2.8, KMS.4,
// EC2.13/EC2.19, EC2.3, S3.8, S3.17).
import { strict as assert } from "node:assert";
import { checkResource, checkStack } from "./policy-harness";

const LT = "aws:ec2/launchTemplate:LaunchTemplate";
const SG = "aws:ec2/securityGroup:SecurityGroup";
const RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const CMK = "arn:aws:kms:eu-west-1:111122223333:key/0f7c1c3e-0000-4000-8000-000000000001";

describe("policy pack: aws-imdsv2-hop-limit-1", () => {
    it("accepts IMDSv2 required with hop limit 1 (and a disabled endpoint)", async () => {
        assert.deepEqual((await checkResource("aws-imdsv2-hop-limit-1", LT, { metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 } })).violations, []);
        assert.deepEqual((await checkResource("aws-imdsv2-hop-limit-1", "aws:ec2/instance:Instance", { metadataOptions: { httpEndpoint: "disabled" } })).violations, []);
    });
    it("judges an instance launched from a template on the template, unless it sets options of its own", async () => {
        const fromTemplate = { launchTemplate: { id: "lt-1", version: "1" } };
        assert.deepEqual((await checkResource("aws-imdsv2-hop-limit-1", "aws:ec2/instance:Instance", fromTemplate)).violations, []);
        assert.deepEqual((await checkResource("aws-customer-managed-encryption", "aws:ec2/instance:Instance", fromTemplate)).violations, []);
        const own = { ...fromTemplate, metadataOptions: { httpTokens: "optional" }, rootBlockDevice: { encrypted: false } };
        assert.equal((await checkResource("aws-imdsv2-hop-limit-1", "aws:ec2/instance:Instance", own)).violations.length, 2);
        assert.equal((await checkResource("aws-customer-managed-encryption", "aws:ec2/instance:Instance", own)).violations.length, 1);
        // No template and no root device: the AMI's default volume, unencrypted unless the account says otherwise.
        assert.equal((await checkResource("aws-imdsv2-hop-limit-1", "aws:ec2/instance:Instance", {})).violations.length, 2);
    });
    it("refuses httpTokens optional, a missing block, and hop limit 2", async () => {
        assert.match((await checkResource("aws-imdsv2-hop-limit-1", LT, { metadataOptions: { httpTokens: "optional", httpPutResponseHopLimit: 1 } })).violations.join(), /optional/);
        assert.equal((await checkResource("aws-imdsv2-hop-limit-1", LT, {})).violations.length, 2);
        assert.match((await checkResource("aws-imdsv2-hop-limit-1", LT, { metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 } })).violations.join(), /hop/i);
    });
});

describe("policy pack: aws-kms-key-rotation", () => {
    it("accepts a rotating symmetric key and an asymmetric key (which cannot rotate)", async () => {
        assert.deepEqual((await checkResource("aws-kms-key-rotation", "aws:kms/key:Key", { enableKeyRotation: true })).violations, []);
        assert.deepEqual((await checkResource("aws-kms-key-rotation", "aws:kms/key:Key", { customerMasterKeySpec: "RSA_2048" })).violations, []);
    });
    it("refuses a symmetric key without rotation", async () => {
        assert.equal((await checkResource("aws-kms-key-rotation", "aws:kms/key:Key", { description: "k" })).violations.length, 1);
    });
});

describe("policy pack: aws-no-world-open-control-ports", () => {
    const sg = (ingress: unknown[]) => ({ type: SG, name: "sg", props: { ingress } });
    const rule = (name: string, cidrIpv4: string, port: number) => ({ type: RULE, name, props: { securityGroupId: "sg-x", cidrIpv4, fromPort: port, toPort: port, ipProtocol: "tcp" }, deps: { securityGroupId: ["sg"] } });
    it("accepts the API port from a private range and 443 from the world", async () => {
        const o = await checkStack("aws-no-world-open-control-ports", [sg([{ protocol: "tcp", fromPort: 6443, toPort: 6443, cidrBlocks: ["10.0.0.0/8"] }, { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }])]);
        assert.deepEqual(o.violations, []);
    });
    it("refuses 0.0.0.0/0 to 22, ::/0 to 10250, all protocols from the world, and 0.0.0.0/1 + 128.0.0.0/1 to 6443 as two rules", async () => {
        assert.match((await checkStack("aws-no-world-open-control-ports", [sg([{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }])])).violations.join(), /port 22/);
        assert.match((await checkStack("aws-no-world-open-control-ports", [sg([{ protocol: "tcp", fromPort: 10000, toPort: 11000, ipv6CidrBlocks: ["::/0"] }])])).violations.join(), /port 10250 to every IPv6/);
        assert.equal((await checkStack("aws-no-world-open-control-ports", [sg([{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }])])).violations.length, 5);
        const split = await checkStack("aws-no-world-open-control-ports", [sg([]), rule("a", "0.0.0.0/1", 6443), rule("b", "128.0.0.0/1", 6443)]);
        assert.deepEqual(split.violations.map((v) => /port (\d+)/.exec(v)![1]), ["6443"]);
        // Half the world is not the world.
        assert.deepEqual((await checkStack("aws-no-world-open-control-ports", [sg([]), rule("a", "0.0.0.0/1", 6443)])).violations, []);
    });
});

describe("policy pack: aws-customer-managed-encryption", () => {
    it("accepts customer keys on EBS, log groups, SecureStrings and S3 default encryption", async () => {
        const cases: [string, object][] = [
            ["aws:ebs/volume:Volume", { encrypted: true, kmsKeyId: CMK }],
            [LT, { blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "true", kmsKeyId: CMK } }] }],
            ["aws:cloudwatch/logGroup:LogGroup", { kmsKeyId: CMK }],
            ["aws:ssm/parameter:Parameter", { type: "SecureString", keyId: CMK, value: "x" }],
            ["aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: CMK } }] }],
        ];
        for (const [type, props] of cases) assert.deepEqual((await checkResource("aws-customer-managed-encryption", type, props)).violations, [], type);
    });
    it("refuses an unencrypted volume, the AWS-managed SSM key, a log group without a key and SSE-S3", async () => {
        const cases: [string, object][] = [
            ["aws:ebs/volume:Volume", { encrypted: false }],
            ["aws:ec2/instance:Instance", { rootBlockDevice: { encrypted: true } }],
            ["aws:ssm/parameter:Parameter", { type: "SecureString", keyId: "alias/aws/ssm", value: "x" }],
            ["aws:cloudwatch/logGroup:LogGroup", { retentionInDays: 30 }],
            ["aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] }],
        ];
        for (const [type, props] of cases) assert.equal((await checkResource("aws-customer-managed-encryption", type, props)).violations.length, 1, type);
    });
});

describe("policy pack: aws-s3-block-public-access", () => {
    const bucket = { type: "aws:s3/bucketV2:BucketV2", name: "logs", props: {} };
    const pab = (flags: Record<string, boolean>) => ({ type: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", name: "pab", props: { bucket: "logs-123", ...flags }, deps: { bucket: ["logs"] } });
    const all = { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true };
    it("accepts a bucket with all four settings on", async () => {
        assert.deepEqual((await checkStack("aws-s3-block-public-access", [bucket, pab(all)])).violations, []);
    });
    it("refuses a bucket without a block, and a block with one setting off", async () => {
        assert.match((await checkStack("aws-s3-block-public-access", [bucket])).violations.join(), /bucket logs has no public access block/);
        assert.equal((await checkStack("aws-s3-block-public-access", [bucket, pab({ ...all, restrictPublicBuckets: false })])).violations.length, 2);
    });
});
