// Who can decrypt a node's SSM parameters with the cluster key, tried the way an attacker would: another
// node's role, the workers' role, an account administrator whose IAM policy allows kms:* on every key, and
// the deployer outside the cluster's path. The evaluator below follows the KMS key-policy rules AWS documents
// (a principal of the account root delegates to IAM, so any principal of the account matches it; every
// condition operator must hold; a request without a key the condition names fails that condition).
import { strict as assert } from "node:assert";
import { controlPlaneNodePolicy, PolicyDocument, Statement, workerNodePolicy } from "../../../platforms/aws/iam";
import { clusterKeyPolicy, deployerPrincipalArns } from "../../../platforms/aws/kms";
import { controlPlaneReadPrefixes, workerReadPrefixes } from "../../../platforms/aws/secrets";
import { CLUSTER } from "./fixtures";

const ACCOUNT = "123456789012";
const ctx = { partition: "aws", region: "eu-west-1", accountId: ACCOUNT, dnsSuffix: "amazonaws.com" };
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const NODES = ["cp-0", "cp-1", "cp-2"];
const DEPLOYER_SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/deploy/ci-run-42`;
const SSM = "ssm.eu-west-1.amazonaws.com";
const param = (path: string) => `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter${path}`;

interface KmsRequest {
    /** The IAM principal (a role, not its session), as aws:PrincipalArn gives it. */
    principalArn: string;
    action: string;
    context: Record<string, string>;
    /** The service the request came through (kms:ViaService); SSM unless named. */
    via?: string;
}

function glob(pattern: string, value: string): boolean {
    const re = new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
    return re.test(value);
}

function conditionHolds(c: Statement["Condition"], values: Record<string, string>): boolean {
    return Object.entries(c ?? {}).every(([op, keys]) => Object.entries(keys).every(([k, want]) => {
        const have = values[k];
        if (have === undefined) return false;
        const list = ([] as string[]).concat(want);
        if (op === "StringEquals" || op === "ArnEquals") return list.includes(have);
        if (op === "StringLike" || op === "ArnLike") return list.some((p) => glob(p, have));
        throw new Error(`evaluator: operator ${op} not modelled`);
    }));
}

/** Key-policy allow for a principal whose own IAM policies allow everything (the attacker's best case). */
function keyPolicyAllows(doc: PolicyDocument, req: KmsRequest): boolean {
    const values: Record<string, string> = {
        "aws:PrincipalArn": req.principalArn,
        "kms:ViaService": req.via ?? SSM,
        "kms:CallerAccount": req.principalArn.split(":")[4],
        ...Object.fromEntries(Object.entries(req.context).map(([k, v]) => [`kms:EncryptionContext:${k}`, v])),
    };
    return doc.Statement.some((s) => {
        if (s.Effect !== "Allow" || !([] as string[]).concat(s.Action).includes(req.action)) return false;
        const principals = ([] as string[]).concat(s.Principal?.AWS ?? []);
        const matches = principals.some((p) => p === req.principalArn || (p === `arn:aws:iam::${ACCOUNT}:root` && req.principalArn.split(":")[4] === ACCOUNT));
        return matches && conditionHolds(s.Condition, values);
    });
}

const BUCKET = "prod1-etcd-backups-20261203abcdef";
const S3 = "s3.eu-west-1.amazonaws.com";

function policy(): PolicyDocument {
    return clusterKeyPolicy(ctx, CLUSTER, {
        deployerArns: deployerPrincipalArns(DEPLOYER_SESSION),
        backupWriters: { roleArns: NODES.map((n) => role(`p-${n}`)), objectArns: `arn:aws:s3:::${BUCKET}/${CLUSTER}/etcd/*` },
        readers: [
            ...NODES.map((n) => ({ roleArn: role(`p-${n}`), prefixes: controlPlaneReadPrefixes(CLUSTER, n) })),
            { roleArn: role("p-workers"), prefixes: workerReadPrefixes(CLUSTER) },
        ],
    });
}

const decrypt = (principalArn: string, path: string): KmsRequest => ({ principalArn, action: "kms:Decrypt", context: { PARAMETER_ARN: param(path) } });

describe("aws: the cluster key decrypts SSM parameters only for the role whose path holds them", () => {
    const doc = policy();

    it("lets each node decrypt its own and the shared control-plane parameters", () => {
        for (const n of NODES) {
            assert.ok(keyPolicyAllows(doc, decrypt(role(`p-${n}`), `/${CLUSTER}/${n}/etcd-etcd-pki-peer.key`)), n);
            assert.ok(keyPolicyAllows(doc, decrypt(role(`p-${n}`), `/${CLUSTER}/control-plane/kubernetes-pki-ca.key`)), n);
        }
        assert.ok(keyPolicyAllows(doc, decrypt(role("p-workers"), `/${CLUSTER}/workers/bootstrap-kubelet.conf`)));
    });

    it("refuses a node another node's parameters, and the workers anything but their own", () => {
        let tried = 0;
        for (const n of NODES) {
            for (const other of NODES.filter((o) => o !== n)) {
                assert.equal(keyPolicyAllows(doc, decrypt(role(`p-${n}`), `/${CLUSTER}/${other}/etcd-etcd-pki-peer.key`)), false, `${n} reads ${other}`);
                tried++;
            }
            assert.equal(keyPolicyAllows(doc, decrypt(role(`p-${n}`), `/${CLUSTER}/workers/bootstrap-kubelet.conf`)), false);
        }
        assert.equal(tried, 6);
        assert.equal(keyPolicyAllows(doc, decrypt(role("p-workers"), `/${CLUSTER}/control-plane/kubernetes-pki-ca.key`)), false);
        assert.equal(keyPolicyAllows(doc, decrypt(role("p-workers"), `/${CLUSTER}/cp-0/etcd-etcd-pki-peer.key`)), false);
        // A path that only starts like the node's: "/prod1/cp-0x/..." is not under "/prod1/cp-0/".
        assert.equal(keyPolicyAllows(doc, decrypt(role("p-cp-0"), `/${CLUSTER}/cp-0x/k`)), false);
    });

    it("refuses an account administrator with kms:* in IAM, and a decrypt with no parameter context", () => {
        assert.equal(keyPolicyAllows(doc, decrypt(role("Admin"), `/${CLUSTER}/cp-0/etcd-etcd-pki-peer.key`)), false);
        assert.equal(keyPolicyAllows(doc, decrypt(role("Admin"), `/${CLUSTER}/control-plane/kubernetes-pki-ca.key`)), false);
        assert.equal(keyPolicyAllows(doc, { principalArn: role("p-cp-0"), action: "kms:Decrypt", context: {} }), false);
        assert.equal(keyPolicyAllows(doc, { principalArn: role("Admin"), action: "kms:Decrypt", context: {} }), false);
    });

    it("lets the deployer write and read back only the cluster's parameters", () => {
        const deployer = role("deploy");
        assert.ok(keyPolicyAllows(doc, decrypt(deployer, `/${CLUSTER}/cp-1/etcd-etcd-pki-peer.key`)));
        assert.ok(keyPolicyAllows(doc, { ...decrypt(deployer, `/${CLUSTER}/workers/x`), action: "kms:Encrypt" }));
        assert.equal(keyPolicyAllows(doc, decrypt(deployer, "/other-cluster/cp-0/etcd-etcd-pki-peer.key")), false);
        assert.ok(keyPolicyAllows(doc, decrypt(`arn:aws:iam::${ACCOUNT}:role/ci/deploy`, `/${CLUSTER}/cp-0/x`)), "a role with a path");
        assert.equal(keyPolicyAllows(doc, decrypt(role("undeploy"), `/${CLUSTER}/cp-0/x`)), false, "a role whose name ends like the deployer's");
    });

    it("fences the key by the same paths as each role's IAM policy", () => {
        const keyArn = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/c`;
        const iamPatterns = (d: PolicyDocument) => d.Statement.find((s) => s.Sid === "DecryptOwnParameters")!.Condition!.StringLike["kms:EncryptionContext:PARAMETER_ARN"];
        const readers = doc.Statement.filter((s) => s.Sid?.startsWith("NodeReadsOwnParameters"));
        assert.equal(readers.length, 4);
        NODES.forEach((n, i) => {
            const iam = controlPlaneNodePolicy(ctx, { clusterName: CLUSTER, node: n, clusterKeyArn: keyArn, secretsKeyArn: "s", auditLogGroupArn: "l", backup: { bucket: "b", prefix: "p" } });
            assert.deepEqual(readers[i].Principal, { AWS: role(`p-${n}`) });
            assert.deepEqual(readers[i].Condition!.StringLike["kms:EncryptionContext:PARAMETER_ARN"], iamPatterns(iam));
        });
        assert.deepEqual(readers[3].Condition!.StringLike["kms:EncryptionContext:PARAMETER_ARN"], iamPatterns(workerNodePolicy(ctx, CLUSTER, keyArn)));
    });

    it("derives the deployer's IAM principal from its caller identity", () => {
        assert.deepEqual(deployerPrincipalArns(DEPLOYER_SESSION), [role("deploy"), `arn:aws:iam::${ACCOUNT}:role/*/deploy`]);
        assert.deepEqual(deployerPrincipalArns(`arn:aws:iam::${ACCOUNT}:user/ops/alice`), [`arn:aws:iam::${ACCOUNT}:user/ops/alice`]);
    });
});

describe("aws: the cluster key encrypts etcd bundles through S3 only for the control-plane roles and only under the cluster's prefix", () => {
    const doc = policy();
    const object = (key: string) => ({ "aws:s3:arn": `arn:aws:s3:::${BUCKET}/${key}` });
    const dataKey = (principalArn: string, key: string, via = S3): KmsRequest => ({ principalArn, action: "kms:GenerateDataKey", context: object(key), via });

    it("lets every control-plane role encrypt a bundle object under the prefix, as its IAM policy asks", () => {
        for (const n of NODES) {
            assert.ok(keyPolicyAllows(doc, dataKey(role(`p-${n}`), `${CLUSTER}/etcd/20261203T000000.000Z-${n}/snapshot.db`)), n);
            const iam = controlPlaneNodePolicy(ctx, { clusterName: CLUSTER, node: n, clusterKeyArn: "k", secretsKeyArn: "s", auditLogGroupArn: "l", backup: { bucket: BUCKET, prefix: `${CLUSTER}/etcd` } });
            const wants = iam.Statement.find((s) => s.Sid === "EncryptBackups")!.Condition!.StringLike["kms:EncryptionContext:aws:s3:arn"];
            assert.equal(wants, `arn:aws:s3:::${BUCKET}/${CLUSTER}/etcd/*`);
        }
    });

    it("refuses other prefixes and buckets, calls not through S3, the workers and an administrator", () => {
        const cp0 = role("p-cp-0");
        assert.equal(keyPolicyAllows(doc, dataKey(cp0, `${CLUSTER}/other/x`)), false);
        assert.equal(keyPolicyAllows(doc, dataKey(cp0, `${CLUSTER}/etcdx/x`)), false);
        assert.equal(keyPolicyAllows(doc, { ...dataKey(cp0, "x"), context: { "aws:s3:arn": `arn:aws:s3:::another-bucket/${CLUSTER}/etcd/x` } }), false);
        assert.equal(keyPolicyAllows(doc, dataKey(cp0, `${CLUSTER}/etcd/x`, SSM)), false, "the S3 context asked for directly, not through S3");
        assert.equal(keyPolicyAllows(doc, dataKey(role("p-workers"), `${CLUSTER}/etcd/x`)), false);
        assert.equal(keyPolicyAllows(doc, dataKey(role("Admin"), `${CLUSTER}/etcd/x`)), false);
        assert.equal(keyPolicyAllows(doc, { ...dataKey(cp0, `${CLUSTER}/etcd/x`), action: "kms:ReEncryptFrom" }), false);
    });
});
