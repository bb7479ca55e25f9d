// AwsCluster on the mocked engine: assertions over every resource it registers.
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { ConfigError } from "../../../components/common";
import { AwsCluster, AwsClusterArgs, ControlPlaneNode } from "../../../platforms/aws";
import { findSecretMaterial } from "../../../platforms/aws/userdata";
import {
    AMI, API_SERVER_URL, CLUSTER, FAKE_CA, FAKE_KEY, assertClusterBucket, baseOptions, bucketResources, byType, clusterArgs, cpSoftware, kubeletConfiguration, registered, setAwsMocks, settle, userDataOf, valueOf,
} from "./fixtures";
import { ed25519Line } from "./ssh-keys";

const LT = "aws:ec2/launchTemplate:LaunchTemplate";
const CLUSTER_KEY_ARN = `arn:aws:mock:eu-west-1:123456789012:Key/t-keys-cluster`;
const SECRETS_KEY_ARN = `arn:aws:mock:eu-west-1:123456789012:Key/t-keys-secrets`;

async function build(args: AwsClusterArgs = clusterArgs()): Promise<AwsCluster> {
    const c = new AwsCluster("t", args);
    await settle();
    return c;
}

/** Secret inputs reach the mock wrapped in Pulumi's secret envelope; returns the value and whether it was wrapped. */
function unwrapSecret(v: any): { value: string; secret: boolean } {
    const sig = pulumi.runtime.specialSigKey;
    if (v && typeof v === "object" && v[sig] === pulumi.runtime.specialSecretSig) return { value: v.value, secret: true };
    return { value: v, secret: false };
}

function statements(policyJson: string): any[] {
    return JSON.parse(policyJson).Statement;
}

function wiringFailsAt(args: AwsClusterArgs, key: string): void {
    assert.throws(() => new AwsCluster("bad", args), (e: unknown) => e instanceof ConfigError && e.key === key);
}

describe("aws: AwsCluster (mocked engine)", function () {
    this.timeout(60000);
    before(() => setAwsMocks());

    describe("default prod cluster", () => {
        let cluster: AwsCluster;
        before(async () => {
            registered.splice(0);
            cluster = await build();
        });
        const all = () => registered;

        it("creates three control-plane instances and one worker group from four launch templates", () => {
            assert.equal(byType("aws:ec2/instance:Instance").length, 3);
            assert.equal(byType("aws:autoscaling/group:Group").length, 1);
            assert.equal(byType(LT).length, 4);
            assert.ok(all().some((r) => r.type === "hardened-cluster:aws:AwsCluster" && r.name === "t"));
        });

        it("exposes the control-plane instance ids, the NLB ARN and the worker group name", async () => {
            const value = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));
            const ids = await value(cluster.controlPlaneInstanceIds);
            assert.equal(ids.length, 3);
            assert.deepEqual(ids, byType("aws:ec2/instance:Instance").map((r) => `${r.name}-id`));
            assert.match(await value(cluster.apiLoadBalancerArn), /LoadBalancer/);
            assert.ok((await value(cluster.workerGroupName)).length > 0);
        });

        it("requires IMDSv2 with hop limit 1, no key pair and the AMI on every launch template", () => {
            for (const lt of byType(LT)) {
                assert.deepEqual(lt.inputs.metadataOptions, { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1, instanceMetadataTags: "disabled" }, lt.name);
                assert.equal(lt.inputs.keyName, undefined, lt.name);
                assert.equal(lt.inputs.imageId, AMI);
            }
        });

        it("encrypts every volume, log group, parameter and the alarm topic with the cluster key", () => {
            for (const lt of byType(LT)) {
                for (const bdm of lt.inputs.blockDeviceMappings) {
                    assert.equal(bdm.ebs.encrypted, "true", lt.name);
                    assert.equal(bdm.ebs.kmsKeyId, CLUSTER_KEY_ARN, lt.name);
                }
            }
            const cp = byType(LT).find((lt) => lt.name === "t-cp-cp-0")!;
            assert.deepEqual(cp.inputs.blockDeviceMappings.map((b: any) => b.deviceName), ["/dev/xvda", "/dev/sdf"]);
            const groups = byType("aws:cloudwatch/logGroup:LogGroup");
            assert.deepEqual(groups.map((g) => g.inputs.name).sort(), [`/${CLUSTER}/kube-apiserver-audit`, `/${CLUSTER}/vpc-flow-logs`]);
            for (const g of groups) {
                assert.equal(g.inputs.kmsKeyId, CLUSTER_KEY_ARN);
                assert.equal(g.inputs.retentionInDays, 365);
            }
            const all = byType("aws:ssm/parameter:Parameter");
            // Each control-plane node's report (report.ts) is a String of the node's: public facts, no key.
            const reports = all.filter((p) => p.inputs.name.startsWith(`/${CLUSTER}/reports/`));
            assert.deepEqual(reports.map((p) => [p.inputs.name, p.inputs.type, p.inputs.keyId]), ["cp-0", "cp-1", "cp-2"].map((n) => [`/${CLUSTER}/reports/${n}`, "String", undefined]));
            const params = all.filter((p) => !reports.includes(p));
            assert.equal(params.length, 9);
            for (const p of params) {
                assert.equal(p.inputs.type, "SecureString", p.inputs.name);
                assert.equal(p.inputs.keyId, CLUSTER_KEY_ARN, p.inputs.name);
            }
            assert.equal(byType("aws:sns/topic:Topic")[0].inputs.kmsMasterKeyId, CLUSTER_KEY_ARN);
        });

        it("turns on rotation for both KMS keys and limits the secrets key to the control-plane roles", () => {
            const keys = byType("aws:kms/key:Key");
            assert.equal(keys.length, 2);
            // AWS KMS's own default period, unless aws.kmsKeyRotationDays says otherwise.
            for (const k of keys) assert.deepEqual([k.inputs.enableKeyRotation, k.inputs.rotationPeriodInDays], [true, 365], k.name);
            const secrets = keys.find((k) => k.name === "t-keys-secrets")!;
            const users = statements(secrets.inputs.policy).filter((s) => [].concat(s.Action).includes("kms:Decrypt" as never));
            const roleArns = byType("aws:iam/role:Role").filter((r) => /^t-cp-\d$/.test(r.name)).map((r) => `arn:aws:mock:eu-west-1:123456789012:Role/${r.name}`);
            assert.equal(roleArns.length, 3);
            assert.deepEqual(users.map((s) => s.Principal.AWS), [roleArns]);
        });

        it("lets the cluster key decrypt SSM parameters only for each node role's own paths and the deployer's cluster path", () => {
            const cluster = byType("aws:kms/key:Key").find((k) => k.name === "t-keys-cluster")!;
            const viaSsm = statements(cluster.inputs.policy).filter((s) => JSON.stringify(s.Condition ?? {}).includes("ssm.eu-west-1.amazonaws.com"));
            const param = (p: string) => `arn:aws:ssm:eu-west-1:123456789012:parameter/${CLUSTER}/${p}/*`;
            const role = (name: string) => `arn:aws:mock:eu-west-1:123456789012:Role/${name}`;
            assert.deepEqual(viaSsm.map((s) => [s.Principal.AWS, s.Condition.StringLike["kms:EncryptionContext:PARAMETER_ARN"]]), [
                ["arn:aws:iam::123456789012:root", `arn:aws:ssm:eu-west-1:123456789012:parameter/${CLUSTER}/*`],
                [role("t-cp-0"), [param("cp-0"), param("control-plane")]],
                [role("t-cp-1"), [param("cp-1"), param("control-plane")]],
                [role("t-cp-2"), [param("cp-2"), param("control-plane")]],
                [role("t-workers"), [param("workers")]],
            ]);
            // The account root appears only fenced to the deploying principal (the mock caller identity).
            assert.deepEqual(viaSsm[0].Condition.ArnLike["aws:PrincipalArn"], ["arn:aws:iam::123456789012:user/deployer"]);
        });

        it("has no security-group rule from 0.0.0.0/0 to 22, 2379, 2380, 10250 or 6443", () => {
            const ingress = byType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
            assert.ok(ingress.length > 0);
            for (const r of ingress) {
                const all = r.inputs.ipProtocol === "-1";
                for (const p of [22, 2379, 2380, 10250, 6443]) {
                    const covers = all || (r.inputs.fromPort <= p && p <= r.inputs.toPort);
                    assert.ok(!(covers && r.inputs.cidrIpv4 === "0.0.0.0/0"), `${r.name} opens ${p} to the world`);
                }
            }
            assert.ok(!ingress.some((r) => r.inputs.fromPort === 22), "no SSH rule by default");
        });

        it("puts no secret material in any user data, and each node fetches only its own parameters", async () => {
            const token = parse(await valueOf(cluster.joinTokenSecret)).stringData["token-secret"];
            assert.equal(token.length, 16);
            for (const lt of byType(LT)) {
                const text = userDataOf(lt);
                assert.ok(text.startsWith("#cloud-config\n"));
                assert.deepEqual(findSecretMaterial(text), [], lt.name);
                assert.ok(!text.includes(FAKE_KEY.split("\n")[1]), `${lt.name} contains the fake key`);
                assert.ok(!text.includes(token), `${lt.name} contains the join token`);
            }
            for (const n of ["cp-0", "cp-1", "cp-2"]) {
                const text = userDataOf(byType(LT).find((lt) => lt.name === `t-cp-${n}`)!);
                const fetched = [...text.matchAll(/^\s*stage (\S+) /gm)].map((m) => m[1]);
                assert.deepEqual(fetched, [
                    `/${CLUSTER}/${n}/etcd-peer.key`, `/${CLUSTER}/control-plane/sa.key`, `/${CLUSTER}/control-plane/etcd-healthcheck-client.key`, `/${CLUSTER}/control-plane/encryption-config.yaml`,
                ]);
                assert.match(text, new RegExp(`--key=${SECRETS_KEY_ARN}`));
            }
            const worker = userDataOf(byType(LT).find((lt) => lt.name === "t-workers")!);
            assert.deepEqual([...worker.matchAll(/^\s*stage (\S+) /gm)].map((m) => m[1]), [
                `/${CLUSTER}/workers/bootstrap-kubelet.conf`, `/${CLUSTER}/workers/cluster-ca.crt`, `/${CLUSTER}/workers/cluster-signing-ca.crt`,
            ]);
            // Nothing of the cluster CA is in the workers' user data: a new trust bundle reaches them through their sync.
            assert.ok(!worker.includes(FAKE_CA.split("\n")[1]), "the cluster CA is inline in the workers' user data");
        });

        it("stores the join kubeconfig and the encryption config only in SSM, as secrets", async () => {
            const params = byType("aws:ssm/parameter:Parameter");
            const boot = params.find((p) => p.inputs.name === `/${CLUSTER}/workers/bootstrap-kubelet.conf`)!;
            const bootValue = unwrapSecret(boot.inputs.value);
            assert.equal(bootValue.secret, true);
            const kubeconfig = parse(bootValue.value);
            // The URL the caller planned SANs for, never the NLB's generated DNS name.
            assert.equal(kubeconfig.clusters[0].cluster.server, API_SERVER_URL);
            assert.equal(await valueOf(cluster.apiUrl), API_SERVER_URL);
            assert.equal(await valueOf(cluster.apiDnsName), "t-api.elb.eu-west-1.amazonaws.com");
            assert.match(kubeconfig.users[0].user.token, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
            // The CA by path, which the kubelet copies into the kubeconfig it writes once joined; the file is the
            // workers' public parameter, holding what the caller passed.
            assert.deepEqual(Object.keys(kubeconfig.clusters[0].cluster).sort(), ["certificate-authority", "server"]);
            assert.equal(kubeconfig.clusters[0].cluster["certificate-authority"], "/etc/kubernetes/pki/ca.crt");
            const ca = params.find((p) => p.inputs.name === `/${CLUSTER}/workers/cluster-ca.crt`)!;
            assert.deepEqual([ca.inputs.type, ca.inputs.keyId, unwrapSecret(ca.inputs.value).value], ["SecureString", CLUSTER_KEY_ARN, FAKE_CA]);
            const encValue = unwrapSecret(params.find((p) => p.inputs.name === `/${CLUSTER}/control-plane/encryption-config.yaml`)!.inputs.value);
            assert.equal(encValue.secret, true);
            const enc = parse(encValue.value);
            assert.deepEqual(enc.resources[0].providers, [{ kms: { apiVersion: "v2", name: "aws-kms", endpoint: "unix:///var/run/kmsplugin/socket.sock" } }]);
            assert.equal(await pulumi.isSecret(cluster.joinTokenSecret), true);
        });

        it("uses no wildcard IAM actions, and * resources only for named actions without resource-level support", () => {
            const docs = [...byType("aws:iam/rolePolicy:RolePolicy").map((p) => p.inputs.policy), ...byType("aws:kms/key:Key").map((k) => k.inputs.policy)];
            assert.equal(docs.length, 7);
            for (const doc of docs) {
                for (const s of statements(doc)) {
                    const acts: string[] = [].concat(s.Action);
                    assert.ok(!acts.some((a) => a === "*" || a.endsWith(":*")), JSON.stringify(s));
                }
            }
            const nodePolicies = byType("aws:iam/rolePolicy:RolePolicy").filter((p) => p.name !== "t-net-flow-logs");
            for (const p of nodePolicies) {
                for (const s of statements(p.inputs.policy).filter((x) => [].concat(x.Resource).includes("*" as never))) {
                    // PutMetricData has no resource-level permissions; the namespace condition scopes it instead.
                    const scoped = s.Action.length === 1 && s.Action[0] === "cloudwatch:PutMetricData" && s.Condition?.StringEquals?.["cloudwatch:namespace"] === `HardenedCluster/${CLUSTER}`;
                    assert.ok(scoped || [].concat(s.Action).every((a: string) => a.startsWith("ssmmessages:")), JSON.stringify(s));
                }
            }
        });

        it("gives each control-plane node its own role, reading only its own path", () => {
            const policies = byType("aws:iam/rolePolicy:RolePolicy").filter((p) => /^t-cp-\d$/.test(p.name));
            assert.equal(policies.length, 3);
            for (const p of policies) {
                const node = p.name.slice(2);
                const read = statements(p.inputs.policy).find((s) => s.Sid === "ReadOwnParameters");
                assert.deepEqual(read.Resource, [`arn:aws:ssm:eu-west-1:123456789012:parameter/${CLUSTER}/${node}/*`, `arn:aws:ssm:eu-west-1:123456789012:parameter/${CLUSTER}/control-plane/*`]);
            }
        });

        it("places nodes at their planned private addresses and fronts them with an internal NLB", () => {
            const instances = byType("aws:ec2/instance:Instance");
            assert.deepEqual(instances.map((i) => i.inputs.privateIp), cluster.controlPlaneNodes.map((n: ControlPlaneNode) => n.privateIp));
            assert.ok(instances.every((i) => i.inputs.associatePublicIpAddress === undefined));
            const lb = byType("aws:lb/loadBalancer:LoadBalancer")[0];
            assert.equal(lb.inputs.internal, true);
            assert.deepEqual(lb.inputs.subnetMappings.map((m: any) => m.privateIpv4Address), ["10.0.0.5", "10.0.32.5", "10.0.64.5"]);
            assert.equal(byType("aws:lb/targetGroupAttachment:TargetGroupAttachment").length, 3);
            assert.equal(byType("aws:lb/listener:Listener")[0].inputs.protocol, "TCP");
            assert.equal(byType("aws:ec2/flowLog:FlowLog")[0].inputs.trafficType, "ALL");
        });

        it("alarms on the four security events, certificate expiry and missed etcd backups into the encrypted topic", () => {
            const filters = byType("aws:cloudwatch/logMetricFilter:LogMetricFilter");
            assert.deepEqual(filters.map((f) => f.inputs.logGroupName), Array(4).fill(`/${CLUSTER}/kube-apiserver-audit`));
            const alarms = byType("aws:cloudwatch/metricAlarm:MetricAlarm");
            assert.equal(alarms.length, 6);
            for (const a of alarms) assert.deepEqual(a.inputs.alarmActions, ["arn:aws:mock:eu-west-1:123456789012:Topic/t-mon-alarms"]);
            // 30 days before the earliest certificate of any node expires, and when no node has reported for an hour.
            const expiry = alarms.find((a) => a.name === "t-mon-certificate-expiry")!;
            assert.deepEqual(
                [expiry.inputs.namespace, expiry.inputs.metricName, expiry.inputs.statistic, expiry.inputs.comparisonOperator, expiry.inputs.threshold, expiry.inputs.period, expiry.inputs.treatMissingData],
                [`HardenedCluster/${CLUSTER}`, "CertificateDaysLeft", "Minimum", "LessThanThreshold", 30, 3600, "breaching"],
            );
            assert.equal(expiry.inputs.dimensions, undefined, "the alarm reads the metric every node publishes without dimensions");
            // Issue terms: an alarm when no backup landed for 2 intervals (default interval 15 minutes).
            const backup = alarms.find((a) => a.name === "t-mon-etcd-backup")!;
            assert.deepEqual(
                [backup.inputs.metricName, backup.inputs.statistic, backup.inputs.comparisonOperator, backup.inputs.threshold, backup.inputs.period, backup.inputs.evaluationPeriods, backup.inputs.treatMissingData],
                ["EtcdBackups", "Sum", "LessThanThreshold", 1, 15 * 60, 2, "breaching"],
            );
        });

        it("keeps etcd backups in a bucket encrypted by the cluster key only, versioned, private, owner-enforced and TLS-only", () => {
            // The backup bucket's resources are t-backups and t-backups-*; the binaries' bucket is checked in binaries.spec.ts.
            const mine = bucketResources("t-backups");
            const [bucket] = mine("aws:s3/bucket:Bucket");
            assert.equal(mine("aws:s3/bucket:Bucket").length, 1);
            assert.ok(bucket.inputs.bucketPrefix.startsWith(`${CLUSTER}-etcd-backups-`));
            assert.equal(bucket.inputs.forceDestroy, false, "a prod stack's destroy must not empty its backups");
            assertClusterBucket(mine, CLUSTER_KEY_ARN);
            const policy = statements(mine("aws:s3/bucketPolicy:BucketPolicy")[0].inputs.policy);
            assert.deepEqual(policy.map((x) => [x.Sid, x.Effect]), [["TlsOnly", "Deny"], ["ClusterKeyOnly", "Deny"], ["KmsOnly", "Deny"]]);
            assert.equal(policy[1].Condition.StringNotEqualsIfExists["s3:x-amz-server-side-encryption-aws-kms-key-id"], CLUSTER_KEY_ARN);
        });

        it("lets each control-plane role write, list and prune only the cluster's backup prefix, and encrypt only for it", () => {
            const bucket = `${CLUSTER}-etcd-backups-20261203abcdef`;
            const policies = byType("aws:iam/rolePolicy:RolePolicy").filter((p) => /cp-\d$/.test(p.name));
            assert.equal(policies.length, 3);
            for (const p of policies) {
                const st = statements(p.inputs.policy);
                const s3 = st.filter((x) => ([] as string[]).concat(x.Action).some((a) => a.startsWith("s3:")) && String(x.Resource).includes("-etcd-backups-"));
                assert.deepEqual(s3.map((x) => [x.Action, x.Resource]), [
                    [["s3:PutObject", "s3:DeleteObject"], `arn:aws:s3:::${bucket}/${CLUSTER}/etcd/*`],
                    [["s3:ListBucket"], `arn:aws:s3:::${bucket}`],
                ]);
                assert.deepEqual(s3[1].Condition, { StringLike: { "s3:prefix": [`${CLUSTER}/etcd/`, `${CLUSTER}/etcd/*`] } });
                const kms = st.find((x) => x.Sid === "EncryptBackups");
                assert.equal(kms.Condition.StringLike["kms:EncryptionContext:aws:s3:arn"], `arn:aws:s3:::${bucket}/${CLUSTER}/etcd/*`);
            }
            const workers = statements(byType("aws:iam/rolePolicy:RolePolicy").find((p) => p.name === "t-workers")!.inputs.policy);
            const workerS3 = workers.filter((x) => ([] as string[]).concat(x.Action).some((a) => a.startsWith("s3:")));
            assert.deepEqual(workerS3.map((x) => [x.Action, x.Resource]), [[["s3:GetObject"], `arn:aws:s3:::${CLUSTER}-binaries-20261203abcdef/binaries/*`]], "workers get nothing of the backup bucket");
            const keyPolicy = statements(byType("aws:kms/key:Key").find((k) => k.name === "t-keys-cluster")!.inputs.policy);
            const writers = keyPolicy.find((x) => x.Sid === "NodesWriteBackups");
            assert.equal(writers.Principal.AWS.length, 3);
            assert.equal(writers.Condition.StringLike["kms:EncryptionContext:aws:s3:arn"], `arn:aws:s3:::${bucket}/${CLUSTER}/etcd/*`);
        });

        it("runs the backup timer on every control-plane node, uploading to the cluster's bucket", () => {
            const lts = byType(LT).filter((lt) => /cp-\d$/.test(lt.name));
            assert.equal(lts.length, 3);
            for (const lt of lts) {
                const text = userDataOf(lt);
                assert.ok(text.includes("/etc/systemd/system/hardened-cluster-etcd-backup.timer"), lt.name);
                assert.ok(text.includes("OnUnitActiveSec=15min"), lt.name);
                assert.ok(text.includes(`s3://${CLUSTER}-etcd-backups-20261203abcdef/${CLUSTER}/etcd/`), lt.name);
                assert.ok(text.includes(`--sse-kms-key-id ${CLUSTER_KEY_ARN}`), lt.name);
            }
        });
    });

    it("puts a public endpoint's NLB in the public subnets and opens 22 only from the listed CIDRs with SSH on", async () => {
        registered.splice(0);
        await build(clusterArgs({
            options: baseOptions({ environment: "staging", endpoint: "public", ssh: { enabled: true, allowedCidrs: ["203.0.113.0/24"], authorizedKeys: [ed25519Line()] } }),
            apiServerUrl: "https://api.example.com:6443",
        }));
        const lb = byType("aws:lb/loadBalancer:LoadBalancer")[0];
        assert.equal(lb.inputs.internal, false);
        assert.deepEqual(lb.inputs.subnetMappings.map((m: any) => m.subnetId), ["t-net-public-0-id", "t-net-public-1-id", "t-net-public-2-id"]);
        const ssh = byType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) => r.inputs.fromPort === 22);
        assert.deepEqual(ssh.map((r) => r.inputs.cidrIpv4), ["203.0.113.0/24", "203.0.113.0/24"]);
        for (const lt of byType(LT)) assert.match(userDataOf(lt), /AllowUsers ec2-user@203\.0\.113\.0\/24/);
    });

    describe("aws.kmsKeyRotationDays", () => {
        it("sets both keys' rotation period", async () => {
            registered.splice(0);
            await build(clusterArgs({ options: baseOptions({ kmsKeyRotationDays: 90 }) }));
            const keys = byType("aws:kms/key:Key");
            assert.equal(keys.length, 2);
            for (const k of keys) assert.equal(k.inputs.rotationPeriodInDays, 90, k.name);
        });
    });

    describe("refuses bad input before creating anything", () => {
        beforeEach(() => registered.splice(0));
        afterEach(async () => {
            await settle();
            assert.deepEqual(registered.map((r) => r.type), []);
        });

        it("bad options", () => {
            wiringFailsAt(clusterArgs({ options: baseOptions({ endpoint: "public", apiAllowedCidrs: ["0.0.0.0/0"] }) }), "aws.apiAllowedCidrs[0]");
            wiringFailsAt(clusterArgs({ options: baseOptions({ controlPlane: { etcdMembers: 1 } }) }), "aws.controlPlane.etcdMembers");
        });

        it("a node file referencing another node's parameter", () => {
            wiringFailsAt(clusterArgs({
                controlPlane: (node) => {
                    const s = cpSoftware(node);
                    if (node.name === "cp-1") s.files.push({ path: "/etc/kubernetes/pki/other.key", ssmParameter: `/${CLUSTER}/cp-0/etcd-peer.key`, mode: 0o600 });
                    return s;
                },
            }), "aws.controlPlane(cp-1).files[7].ssmParameter");
        });

        it("a fetched file's sync restart naming a unit the node does not run, and a fetched certificate others may write", () => {
            const withFile = (f: Record<string, unknown>) => clusterArgs({
                controlPlane: (node) => {
                    const s = cpSoftware(node);
                    s.files.push({ path: "/etc/kubernetes/pki/sa.pub", ssmParameter: `/${CLUSTER}/control-plane/sa.key`, mode: 0o600, ...f } as never);
                    return s;
                },
            });
            wiringFailsAt(withFile({ restarts: ["kube-apiserver", "kubelet"] }), "aws.controlPlane(cp-0).files[7].restarts[1]");
            wiringFailsAt(withFile({ public: true, mode: 0o664 }), "aws.controlPlane(cp-0).files[7].mode");
            wiringFailsAt(withFile({ public: true, mode: 0o646 }), "aws.controlPlane(cp-0).files[7].mode");
        });

        it("a certificate marked public but written inline, and sync restarts on an inline file", () => {
            const withFile = (f: Record<string, unknown>) => clusterArgs({
                controlPlane: (node) => ({ ...cpSoftware(node), files: [{ path: "/etc/kubernetes/pki/x.crt", content: FAKE_CA, mode: 0o644, ...f } as never] }),
            });
            wiringFailsAt(withFile({ public: true }), "aws.controlPlane(cp-0).files[0].public");
            wiringFailsAt(withFile({ restarts: ["etcd"] }), "aws.controlPlane(cp-0).files[0].restarts");
        });

        it("secret material as inline content, and secrets outside the cluster's paths", () => {
            wiringFailsAt(clusterArgs({
                controlPlane: (node) => ({ ...cpSoftware(node), files: [{ path: "/etc/kubernetes/pki/ca.key", content: FAKE_KEY, mode: 0o600 }] }),
            }), "aws.controlPlane(cp-0).files[0].content");
            wiringFailsAt(clusterArgs({ secrets: [{ name: "/other/cp-0/x", value: "v" }] }), "aws.secrets[0].name");
        });

        it("a worker kubelet configuration without serving-certificate bootstrap", () => {
            const args = clusterArgs();
            args.workers.kubeletConfiguration = { ...kubeletConfiguration(), serverTLSBootstrap: false };
            wiringFailsAt(args, "aws.workers.kubeletConfiguration.serverTLSBootstrap");
        });

        it("an API URL nodes could not verify or that bypasses the NLB", () => {
            wiringFailsAt(clusterArgs({ apiServerUrl: "http://10.0.0.5:6443" }), "aws.apiServerUrl");
            wiringFailsAt(clusterArgs({ apiServerUrl: "https://10.0.0.5" }), "aws.apiServerUrl");
            // A control-plane node's own address: in the certificate, but no failover.
            wiringFailsAt(clusterArgs({ apiServerUrl: "https://10.0.0.10:6443" }), "aws.apiServerUrl");
            wiringFailsAt(clusterArgs({ options: baseOptions({ endpoint: "public" }), apiServerUrl: "https://10.0.0.5:6443" }), "aws.apiServerUrl");
            wiringFailsAt(clusterArgs({ apiServerUrl: undefined as unknown as string }), "aws.apiServerUrl");
        });

        it("a secret file readable by anyone but its owner", () => {
            wiringFailsAt(clusterArgs({
                controlPlane: (node) => {
                    const s = cpSoftware(node);
                    s.files[1] = { ...s.files[1], mode: 0o640 };
                    return s;
                },
            }), "aws.controlPlane(cp-0).files[1].mode");
        });

        it("a secret file with any bit beyond 0640 (execute, setuid, sticky), refused when planned, naming the setting", () => {
            for (const mode of [0o700, 0o4600, 0o1600]) {
                wiringFailsAt(clusterArgs({
                    controlPlane: (node) => {
                        const s = cpSoftware(node);
                        s.files[1] = { ...s.files[1], mode };
                        return s;
                    },
                }), "aws.controlPlane(cp-0).files[1].mode");
            }
        });

        it("workers without a kubelet unit to apply the kernel settings for", () => {
            const args = clusterArgs();
            args.workers.units = [{ ...args.workers.units[0], name: "kubelet-custom" }];
            wiringFailsAt(args, "aws.workers.units");
        });

        it("a kubelet unit with no --kubeconfig: the kubeconfig it writes once joined is what names the cluster CA file", () => {
            const args = clusterArgs();
            args.workers.units = [{ ...args.workers.units[0], execStart: args.workers.units[0].execStart.filter((a) => !a.startsWith("--kubeconfig=")) }];
            wiringFailsAt(args, "aws.workers.units[0].execStart");
        });

        it("a KMS key on another socket than the plugin's", () => {
            wiringFailsAt(clusterArgs({ encryption: { provider: "kms", keys: [{ name: "k", endpoint: "unix:///tmp/other.sock" }] } }), "aws.encryption.keys[0].endpoint");
        });
    });
});
