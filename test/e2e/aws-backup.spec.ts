// The AWS platform's etcd backup, run here for real: the script each control-plane node's timer runs, rendered
// from the node's software as the AWS program renders it, against three real etcd members and an AWS API
// emulator (moto). Only the leader's node uploads; the bundle matches its manifest, is encrypted by the cluster
// key and restores; retention prunes to a version the bucket keeps; a node whose member is down, or a bucket
// that refuses the upload, stops before the manifest and the metric, so the alarm sees the gap. A second
// emulator that enforces IAM tries the node's credentials the way an attacker holding a node would.
import { strict as assert } from "node:assert";
import { ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Manifest, S3_BUNDLE_FILES, S3_BUNDLE_FORMAT, SnapshotStatus } from "../../components/backup";
import { BACKUP_METRIC, backupPrefix, etcdBackupScript } from "../../platforms/aws/backup";
import { nodeBackupInput } from "../../platforms/aws/control-plane";
import { controlPlaneNodePolicy, PolicyDocument } from "../../platforms/aws/iam";
import { metricNamespace } from "../../platforms/aws/monitoring";
import type { NodeSoftware } from "../../platforms/aws/node-software";
import { resolveAwsOptions } from "../../platforms/aws/options";
import { toolchain } from "./harness";
import { AccessKey, ACCOUNT, Moto, REGION, startMoto } from "./moto";
import { E2E_PORTS } from "./ports";
import { until } from "./processes";

const ports = E2E_PORTS.awsBackup;
const CLUSTER = "drill1";
const STACK = "aws-drill";
const BUCKET = `${CLUSTER}-etcd-backups-drill`;
const PREFIX = backupPrefix(CLUSTER);
const RETENTION = 2;
const ENCRYPTED_SECRETS = 5;
const ctx = { partition: "aws", region: REGION, accountId: ACCOUNT, dnsSuffix: "amazonaws.com" };
const r = resolveAwsOptions({ clusterName: CLUSTER, region: REGION, apiAllowedCidrs: ["198.51.100.0/24"] }, "aws");
// moto serves the first requests without credentials; the drill's setup spends exactly these three.
const BOOTSTRAP_REQUESTS = 3;
const ANYONE: AccessKey = { id: "AKIAUNKNOWNCALLER000", secret: "not-a-key" };

interface Member {
    name: string;
    client: number;
    peer: number;
    proc?: ChildProcess;
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

function openssl(dir: string, args: string[]): void {
    execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
}

/** An etcd CA with a serving/peer pair for 127.0.0.1 and the health-check client pair; two more CAs to fingerprint. */
function makePki(dir: string): void {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    for (const ca of ["etcd-ca", "ca", "front-proxy-ca"]) openssl(dir, ["req", "-x509", ...ec, "-keyout", `${ca}.key`, "-out", `${ca}.crt`, "-subj", `/CN=${ca}`, "-days", "2"]);
    const leaf = (name: string, ext: string) => {
        fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
        openssl(dir, ["req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`]);
        openssl(dir, ["x509", "-req", "-in", `${name}.csr`, "-CA", "etcd-ca.crt", "-CAkey", "etcd-ca.key", "-CAcreateserial", "-out", `${name}.crt`, "-days", "2", "-extfile", `${name}.ext`]);
    };
    leaf("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n");
    leaf("healthcheck-client", "extendedKeyUsage=clientAuth\n");
}

/** A node's software as the AWS program hands it over, with this machine's paths in place of the node's. */
function software(bin: string, pki: string, m: Member): NodeSoftware {
    return {
        units: [{ name: "etcd", description: "etcd member", execStart: [path.join(bin, "etcd"), `--name=${m.name}`, `--listen-client-urls=https://127.0.0.1:${m.client}`] }],
        files: [
            { path: path.join(pki, "kubernetes/pki/ca.crt"), content: "", mode: 0o644 },
            { path: path.join(pki, "kubernetes/pki/etcd/ca.crt"), content: "", mode: 0o644 },
            { path: path.join(pki, "kubernetes/pki/front-proxy-ca.crt"), content: "", mode: 0o644 },
            { path: path.join(pki, "kubernetes/pki/etcd/healthcheck-client.crt"), content: "", mode: 0o644 },
            { path: path.join(pki, "kubernetes/pki/etcd/healthcheck-client.key"), ssmParameter: `/${CLUSTER}/control-plane/x`, mode: 0o600 },
        ],
    };
}

/** The node policy the AWS program attaches, as a user policy; the one change only makes moto read it as AWS does. */
function nodePolicyForEmulator(keyArn: string): PolicyDocument {
    const doc = controlPlaneNodePolicy(ctx, {
        clusterName: CLUSTER, node: "cp-0", clusterKeyArn: keyArn, secretsKeyArn: keyArn,
        auditLogGroupArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/${CLUSTER}/kube-apiserver-audit`, backup: { bucket: BUCKET, prefix: PREFIX },
    });
    for (const s of doc.Statement) {
        // moto checks CloudWatch actions under the endpoint's name ("monitoring"), AWS under "cloudwatch".
        if (s.Action === "cloudwatch:PutMetricData" || (Array.isArray(s.Action) && s.Action.includes("cloudwatch:PutMetricData"))) s.Action = ["cloudwatch:PutMetricData", "monitoring:PutMetricData"];
    }
    return doc;
}

describe("aws: etcd backups from the nodes' timer script (real etcd, AWS emulator)", function () {
    this.timeout(600_000);
    let dir: string;
    let bin: string;
    let pki: string;
    let moto: Moto;
    let iamMoto: Moto;
    let operator: AccessKey;
    let keyArn: string;
    const members: Member[] = [0, 1, 2].map((i) => ({ name: `cp-${i}`, client: ports.etcdClient + 10 * i, peer: ports.etcdPeer + 10 * i }));
    const uploads: string[] = [];

    const etcdctl = (m: Member, args: string[]) => execFileSync(path.join(bin, "etcdctl"), [
        `--endpoints=https://127.0.0.1:${m.client}`, `--cacert=${pki}/etcd-ca.crt`, `--cert=${pki}/healthcheck-client.crt`, `--key=${pki}/healthcheck-client.key`, ...args,
    ], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

    function startMember(m: Member): void {
        const cluster = members.map((x) => `${x.name}=https://127.0.0.1:${x.peer}`).join(",");
        const log = fs.openSync(path.join(dir, `${m.name}.log`), "a");
        m.proc = spawn(path.join(bin, "etcd"), [
            `--name=${m.name}`, `--data-dir=${path.join(dir, m.name)}`, `--listen-client-urls=https://127.0.0.1:${m.client}`, `--advertise-client-urls=https://127.0.0.1:${m.client}`,
            `--listen-peer-urls=https://127.0.0.1:${m.peer}`, `--initial-advertise-peer-urls=https://127.0.0.1:${m.peer}`, `--initial-cluster=${cluster}`,
            "--initial-cluster-token=drill", `--cert-file=${pki}/server.crt`, `--key-file=${pki}/server.key`, `--trusted-ca-file=${pki}/etcd-ca.crt`, "--client-cert-auth=true",
            `--peer-cert-file=${pki}/server.crt`, `--peer-key-file=${pki}/server.key`, `--peer-trusted-ca-file=${pki}/etcd-ca.crt`, "--peer-client-cert-auth=true",
        ], { stdio: ["ignore", log, log] });
        fs.closeSync(log);
    }

    function leader(alive: Member[]): Member {
        const status = JSON.parse(etcdctl(alive[0], ["endpoint", "status", "-w", "json", `--endpoints=${alive.map((m) => `https://127.0.0.1:${m.client}`).join(",")}`]));
        const lead = status.find((s: any) => s.Status.leader === s.Status.header.member_id);
        assert.ok(lead, "no member leads");
        return alive.find((m) => lead.Endpoint === `https://127.0.0.1:${m.client}`)!;
    }

    /** Runs node `m`'s rendered script as its timer would, with the node's credentials. */
    function runScript(m: Member, node: AccessKey, bucket = BUCKET): { status: number; stdout: string; stderr: string } {
        const script = etcdBackupScript(nodeBackupInput(r, m.name, software(bin, path.join(dir, "node"), m), {
            stack: STACK, bucket, prefix: PREFIX, clusterKeyArn: keyArn, retention: RETENTION, intervalMinutes: 15,
        }));
        const res = spawnSync("bash", ["-c", script], { env: moto.env(node), encoding: "utf8", timeout: 120_000 });
        return { status: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
    }

    const op = (args: string[]) => moto.aws(operator, args);
    const listKeys = () => op(["s3api", "list-objects-v2", "--bucket", BUCKET, "--prefix", `${PREFIX}/`, "--query", "Contents[].Key", "--output", "json"]);
    const finished = () => ((JSON.parse(listKeys()) ?? []) as string[]).filter((k) => k.endsWith("/manifest.json")).map((k) => k.split("/")[2]).sort();
    const metricSum = () => {
        const now = Date.now();
        const out = JSON.parse(op(["cloudwatch", "get-metric-statistics", "--namespace", metricNamespace(CLUSTER), "--metric-name", BACKUP_METRIC,
            "--start-time", new Date(now - 3_600_000).toISOString(), "--end-time", new Date(now + 60_000).toISOString(), "--period", "3600", "--statistics", "Sum"]));
        return (out.Datapoints as { Sum: number }[]).reduce((a, d) => a + d.Sum, 0);
    };
    let nodeKey: AccessKey;

    before(async () => {
        bin = toolchain("etcd", "etcdctl", "etcdutl").bin;
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-aws-backup-"));
        pki = path.join(dir, "pki");
        makePki(pki);
        // The node's view: its files at the kubeadm paths the AWS program gives them.
        const nodePki = path.join(dir, "node/kubernetes/pki");
        fs.mkdirSync(path.join(nodePki, "etcd"), { recursive: true });
        for (const [from, to] of [["ca.crt", "ca.crt"], ["etcd-ca.crt", "etcd/ca.crt"], ["front-proxy-ca.crt", "front-proxy-ca.crt"], ["healthcheck-client.crt", "etcd/healthcheck-client.crt"], ["healthcheck-client.key", "etcd/healthcheck-client.key"]]) {
            fs.copyFileSync(path.join(pki, from), path.join(nodePki, to));
        }
        for (const m of members) startMember(m);
        await until("three healthy etcd members", 60, async () => {
            try {
                etcdctl(members[0], ["endpoint", "health", `--endpoints=${members.map((m) => `https://127.0.0.1:${m.client}`).join(",")}`]);
                return true;
            } catch {
                return undefined;
            }
        });
        // What the apiserver would have stored: Secrets under KMS v2 by the plugin named aws-kms, ConfigMaps in clear.
        for (let i = 0; i < ENCRYPTED_SECRETS; i++) {
            const value = Buffer.concat([Buffer.from("k8s:enc:kms:v2:aws-kms:"), Buffer.from([0x0a, 4]), Buffer.from(`ct-${i}`)]);
            etcdctl(members[0], ["put", `/registry/secrets/default/s${i}`, value.toString("latin1")]);
        }
        etcdctl(members[0], ["put", "/registry/configmaps/default/marker", "before-the-backup"]);

        moto = await startMoto(ports.apiServer, path.join(dir, "moto"));
        operator = { id: "AKIAOPERATORDRILL000", secret: "operator" };
        keyArn = JSON.parse(op(["kms", "create-key", "--description", `${CLUSTER}: volumes, logs, parameters, alarms`])).KeyMetadata.Arn;
        op(["s3api", "create-bucket", "--bucket", BUCKET, "--create-bucket-configuration", `LocationConstraint=${REGION}`]);
        op(["s3api", "put-bucket-versioning", "--bucket", BUCKET, "--versioning-configuration", "Status=Enabled"]);
        op(["s3api", "put-bucket-encryption", "--bucket", BUCKET, "--server-side-encryption-configuration",
            JSON.stringify({ Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: keyArn }, BucketKeyEnabled: false }] })]);
        nodeKey = { id: "AKIANODECP0DRILL0000", secret: "node" };
    });

    after(async () => {
        for (const m of members) m.proc?.kill("SIGKILL");
        await moto?.stop();
        await iamMoto?.stop();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("uploads from the leader's node only: every node's timer runs, one bundle lands", () => {
        const lead = leader(members);
        const runs = members.map((m) => ({ m, ...runScript(m, nodeKey) }));
        assert.equal(runs.length, 3);
        for (const x of runs) assert.equal(x.status, 0, `${x.m.name}: ${x.stderr}`);
        const uploaded = runs.filter((x) => /etcd-backup: s3:\/\//.test(x.stdout));
        assert.deepEqual(uploaded.map((x) => x.m.name), [lead.name]);
        for (const x of runs.filter((y) => y.m !== lead)) assert.match(x.stdout, /does not lead/);
        uploads.push(...finished());
        assert.equal(uploads.length, 1);
        assert.match(uploads[0], new RegExp(`^\\d{8}T\\d{6}\\.\\d{3}Z-${lead.name}$`));
    });

    it("writes a bundle whose files match its manifest, each encrypted with the cluster key, whose snapshot restores", async () => {
        const base = `${PREFIX}/${uploads[0]}`;
        const local = path.join(dir, "download");
        fs.mkdirSync(local);
        const files = [...S3_BUNDLE_FILES, "manifest.json"];
        for (const f of files) {
            const head = JSON.parse(op(["s3api", "head-object", "--bucket", BUCKET, "--key", `${base}/${f}`]));
            assert.equal(head.ServerSideEncryption, "aws:kms", f);
            assert.equal(head.SSEKMSKeyId, keyArn, f);
            op(["s3", "cp", "--only-show-errors", `s3://${BUCKET}/${base}/${f}`, path.join(local, f)]);
        }
        const read = (f: string) => fs.readFileSync(path.join(local, f));
        const manifest = JSON.parse(read("manifest.json").toString()) as Manifest & { cluster: string; node: string };
        assert.equal(manifest.format, S3_BUNDLE_FORMAT);
        assert.deepEqual([manifest.stack, manifest.cluster, manifest.node], [STACK, CLUSTER, uploads[0].split("-").slice(-2).join("-")]);
        const etcdVersion = /etcd Version: (\S+)/.exec(execFileSync(path.join(bin, "etcd"), ["--version"], { encoding: "utf8" }))![1];
        assert.equal(manifest.etcdVersion, etcdVersion);
        for (const f of S3_BUNDLE_FILES) assert.equal((manifest.files as Record<string, string>)[f], sha256(read(f)), f);
        assert.equal(manifest.snapshotSha256, sha256(read("snapshot.db")));
        // The keys the values were written with, from the header of each: five Secrets by the plugin aws-kms.
        assert.deepEqual(JSON.parse(read("keys.json").toString()), { "kms:aws-kms": ENCRYPTED_SECRETS });
        assert.deepEqual(manifest.encryptionKeys, ["kms:aws-kms"]);
        const fp = (f: string) => new X509Certificate(fs.readFileSync(path.join(pki, f))).fingerprint256;
        assert.deepEqual(JSON.parse(read("cas.json").toString()), { kubernetes: fp("ca.crt"), etcd: fp("etcd-ca.crt"), "front-proxy": fp("front-proxy-ca.crt") });
        const recorded = JSON.parse(read("status.json").toString()) as SnapshotStatus;
        const now = JSON.parse(execFileSync(path.join(bin, "etcdutl"), ["snapshot", "status", path.join(local, "snapshot.db"), "-w", "json"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })) as SnapshotStatus;
        assert.deepEqual([now.hash, now.revision, now.totalKey], [recorded.hash, recorded.revision, recorded.totalKey]);

        // The snapshot is a cluster: restored as one member, it serves the marker written before the backup.
        const restored: Member = { name: "restored", client: ports.controllerManager, peer: ports.scheduler + 100 };
        execFileSync(path.join(bin, "etcdutl"), ["snapshot", "restore", path.join(local, "snapshot.db"), `--name=${restored.name}`,
            `--initial-cluster=${restored.name}=http://127.0.0.1:${restored.peer}`, `--initial-advertise-peer-urls=http://127.0.0.1:${restored.peer}`,
            `--data-dir=${path.join(dir, "restored")}`], { stdio: "pipe" });
        const proc = spawn(path.join(bin, "etcd"), [`--name=${restored.name}`, `--data-dir=${path.join(dir, "restored")}`,
            `--listen-client-urls=http://127.0.0.1:${restored.client}`, `--advertise-client-urls=http://127.0.0.1:${restored.client}`,
            `--listen-peer-urls=http://127.0.0.1:${restored.peer}`, `--initial-advertise-peer-urls=http://127.0.0.1:${restored.peer}`,
            `--initial-cluster=${restored.name}=http://127.0.0.1:${restored.peer}`], { stdio: "ignore" });
        try {
            const value = await until("the restored member serves the marker", 30, async () => {
                try {
                    return execFileSync(path.join(bin, "etcdctl"), [`--endpoints=http://127.0.0.1:${restored.client}`, "get", "/registry/configmaps/default/marker", "--print-value-only"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() || undefined;
                } catch {
                    return undefined;
                }
            });
            assert.equal(value, "before-the-backup");
        } finally {
            proc.kill("SIGKILL");
        }
    });

    it(`keeps the newest ${RETENTION} finished bundles, drops older unfinished ones, and the bucket keeps what a prune removed`, () => {
        // A bundle a killed upload left without its manifest, older than any finished one.
        const stale = `${PREFIX}/20000101T000000.000Z-cp-9/snapshot.db`;
        fs.writeFileSync(path.join(dir, "partial"), "partial");
        op(["s3api", "put-object", "--bucket", BUCKET, "--key", stale, "--body", path.join(dir, "partial"), "--server-side-encryption", "aws:kms", "--ssekms-key-id", keyArn]);
        const lead = leader(members);
        for (let i = 0; i < 2; i++) {
            const run = runScript(lead, nodeKey);
            assert.equal(run.status, 0, run.stderr);
        }
        const kept = finished();
        uploads.push(...kept.filter((b) => !uploads.includes(b)));
        assert.equal(uploads.length, 3);
        assert.deepEqual(kept, uploads.slice(-RETENTION));
        const current = JSON.parse(listKeys()) as string[];
        assert.ok(!current.includes(stale), "the unfinished bundle is pruned");
        assert.ok(!current.some((k) => k.includes(uploads[0])), "the oldest finished bundle is pruned");
        // Versioning: the pruned bundle's manifest is still there as a noncurrent version behind a delete marker.
        const versions = JSON.parse(op(["s3api", "list-object-versions", "--bucket", BUCKET, "--prefix", `${PREFIX}/${uploads[0]}/manifest.json`]));
        assert.equal(versions.Versions?.length, 1);
        assert.equal(versions.Versions[0].IsLatest, false);
        assert.equal(versions.DeleteMarkers?.length, 1);
    });

    it("publishes one EtcdBackups count per uploaded bundle, the metric the alarm sums", () => {
        assert.equal(metricSum(), uploads.length);
    });

    it("fails on a node whose member is down, publishing nothing, while the new leader's node backs up", async () => {
        const before = metricSum();
        const lead = leader(members);
        lead.proc!.kill("SIGKILL");
        await until("the old leader is gone", 20, async () => (lead.proc!.exitCode !== null || lead.proc!.signalCode !== null ? true : undefined));
        const alive = members.filter((m) => m !== lead);
        const next = await until("a new leader", 30, async () => {
            try {
                return leader(alive);
            } catch {
                return undefined;
            }
        });
        const down = runScript(lead, nodeKey);
        assert.equal(down.status, 1);
        assert.match(down.stderr, new RegExp(`etcd-backup: the local etcd member at https://127.0.0.1:${lead.client} does not answer`));
        const runs = alive.map((m) => ({ m, ...runScript(m, nodeKey) }));
        assert.equal(runs.length, 2);
        for (const x of runs) assert.equal(x.status, 0, x.stderr);
        assert.deepEqual(runs.filter((x) => /etcd-backup: s3:\/\//.test(x.stdout)).map((x) => x.m.name), [next.name]);
        assert.equal(metricSum(), before + 1);
        assert.ok(finished().at(-1)!.endsWith(`-${next.name}`));
    });

    it("stops before the manifest and the metric when the bucket refuses the upload", () => {
        const before = metricSum();
        const alive = members.filter((m) => m.proc!.exitCode === null && m.proc!.signalCode === null);
        const lead = leader(alive);
        const run = runScript(lead, nodeKey, `${CLUSTER}-etcd-backups-missing`);
        assert.equal(run.status, 1);
        assert.match(run.stderr, /etcd-backup: upload of snapshot\.db failed/);
        assert.equal(metricSum(), before);
    });

    it("gives a node's credentials no read of any bundle, no write outside the prefix and no bucket deletion (IAM enforced)", async () => {
        iamMoto = await startMoto(ports.scheduler, path.join(dir, "moto-iam"), BOOTSTRAP_REQUESTS);
        const boot = (args: string[]) => iamMoto.aws(ANYONE, args);
        boot(["iam", "create-user", "--user-name", "operator"]);
        boot(["iam", "put-user-policy", "--user-name", "operator", "--policy-name", "all", "--policy-document", JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] })]);
        const ak = JSON.parse(boot(["iam", "create-access-key", "--user-name", "operator"])).AccessKey;
        const admin: AccessKey = { id: ak.AccessKeyId, secret: ak.SecretAccessKey };
        // Enforcement is on: an unknown caller is refused now.
        assert.throws(() => iamMoto.aws(ANYONE, ["s3api", "list-buckets"]), /InvalidAccessKeyId|InvalidClientTokenId|403|not/i);
        const a = (args: string[]) => iamMoto.aws(admin, args);
        const key = JSON.parse(a(["kms", "create-key"])).KeyMetadata.Arn as string;
        a(["s3api", "create-bucket", "--bucket", BUCKET, "--create-bucket-configuration", `LocationConstraint=${REGION}`]);
        a(["iam", "create-user", "--user-name", "cp-0"]);
        a(["iam", "put-user-policy", "--user-name", "cp-0", "--policy-name", "node", "--policy-document", JSON.stringify(nodePolicyForEmulator(key))]);
        const nk = JSON.parse(a(["iam", "create-access-key", "--user-name", "cp-0"])).AccessKey;
        const node: AccessKey = { id: nk.AccessKeyId, secret: nk.SecretAccessKey };
        const file = path.join(dir, "probe");
        fs.writeFileSync(file, "probe");
        const put = (who: AccessKey, objectKey: string) => iamMoto.aws(who, ["s3api", "put-object", "--bucket", BUCKET, "--key", objectKey, "--body", file, "--server-side-encryption", "aws:kms", "--ssekms-key-id", key]);
        // What the timer does is allowed...
        put(node, `${PREFIX}/20261203T000000.000Z-cp-0/snapshot.db`);
        iamMoto.aws(node, ["cloudwatch", "put-metric-data", "--namespace", metricNamespace(CLUSTER), "--metric-data", `[{"MetricName":"${BACKUP_METRIC}","Value":1}]`]);
        // ...and what a thief holding the node would want is not.
        const denied = /AccessDenied|Forbidden|403/;
        assert.throws(() => iamMoto.aws(node, ["s3api", "get-object", "--bucket", BUCKET, "--key", `${PREFIX}/20261203T000000.000Z-cp-0/snapshot.db`, path.join(dir, "stolen")]), denied);
        assert.throws(() => put(node, `elsewhere/${CLUSTER}/etcd/x`), denied);
        assert.throws(() => put(node, `${CLUSTER}/other/x`), denied);
        assert.throws(() => iamMoto.aws(node, ["s3api", "delete-bucket", "--bucket", BUCKET]), denied);
        assert.throws(() => iamMoto.aws(node, ["s3api", "put-bucket-versioning", "--bucket", BUCKET, "--versioning-configuration", "Status=Suspended"]), denied);
        assert.throws(() => iamMoto.aws(node, ["s3api", "put-bucket-policy", "--bucket", BUCKET, "--policy", "{}"]), denied);
        assert.ok(!fs.existsSync(path.join(dir, "stolen")));
    });
});
