// etcd backups on AWS as data: the stack's backup key resolved for AWS, the script's inputs taken from a node's
// planned software, and what the script refuses to render. The script itself runs in test/e2e/aws-backup.spec.ts.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { ConfigError, ConfigErrors } from "../../../components/common";
import { planStack } from "../../../platforms";
import { AWS_BACKUP_INTERVAL_MINUTES, BackupScriptInput, etcdBackupScript, etcdBackupService, etcdBackupTimer, resolveAwsBackup } from "../../../platforms/aws/backup";
import { controlPlaneNodes, nodeBackupInput } from "../../../platforms/aws/control-plane";
import { controlPlaneSoftware } from "../../../platforms/aws/node-software-plan";
import { planAwsProgram } from "../../../platforms/aws/program-plan";

const AWS = { clusterName: "prod1", region: "eu-west-1", apiAllowedCidrs: ["198.51.100.0/24"] };
const BACKUP = { stack: "prod", bucket: "prod1-etcd-backups-20261203abcdef", prefix: "prod1/etcd", clusterKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/c", retention: 5, intervalMinutes: 15 };

function stackErrors(backup: unknown): string[] {
    try {
        planStack({ "hardened-cluster:platform": "aws", "hardened-cluster:aws": JSON.stringify(AWS), "hardened-cluster:backup": JSON.stringify(backup) }, "prod", { isRoot: false });
        return [];
    } catch (e) {
        if (e instanceof ConfigErrors) return e.errors.map((x) => x.key);
        return e instanceof ConfigError ? [e.key] : [(e as Error).message];
    }
}

describe("aws: etcd backups (options, script inputs, units)", () => {
    it("backs up every 15 minutes by default on AWS (kOps' interval), keeping the shared retention default", () => {
        assert.equal(AWS_BACKUP_INTERVAL_MINUTES, 15);
        assert.deepEqual(resolveAwsBackup(undefined, "backup"), { retention: 5, intervalMinutes: 15 });
        assert.deepEqual(resolveAwsBackup({ intervalMinutes: 60, retention: 24 }, "backup"), { retention: 24, intervalMinutes: 60 });
    });

    it("refuses a directory on AWS and a bad interval, naming the stack's key, before any resource", () => {
        assert.deepEqual(stackErrors({ directory: "/var/backups/x" }), ["hardened-cluster:backup.directory"]);
        assert.deepEqual(stackErrors({ intervalMinutes: 0 }), ["hardened-cluster:backup.intervalMinutes"]);
        assert.deepEqual(stackErrors({ retention: 5, intervalMinutes: 30 }), []);
    });

    it("keeps the KMS provider named aws-kms, which every value and bundle names, through a rotation", () => {
        const socket = "unix:///var/run/kmsplugin/socket.sock";
        const plan = (encryption: unknown) => {
            try {
                planStack({ "hardened-cluster:platform": "aws", "hardened-cluster:aws": JSON.stringify(AWS), "hardened-cluster:encryption": JSON.stringify(encryption) }, "prod", { isRoot: false });
                return "accepted";
            } catch (e) {
                return e instanceof ConfigError ? e.key : (e as Error).message;
            }
        };
        assert.equal(plan({ provider: "kms", keys: [{ name: "other", endpoint: socket }] }), "hardened-cluster:encryption.keys");
        assert.equal(plan({ provider: "kms", stage: "add", keys: [{ name: "aws-kms", endpoint: socket }, { name: "other", endpoint: socket }] }), "accepted");
        assert.equal(plan({ provider: "kms", keys: [{ name: "aws-kms", endpoint: socket }] }), "accepted");
    });

    it("takes the script's inputs from the node's planned software: etcdctl beside etcd, the local client URL, the health-check pair", () => {
        const plan = planAwsProgram({ stack: "prod", aws: AWS });
        const nodes = controlPlaneNodes(plan.r);
        const software = controlPlaneSoftware(plan).software;
        assert.equal(nodes.length, 3);
        for (const n of nodes) {
            const i = nodeBackupInput(plan.r, n.name, software(n), BACKUP);
            assert.deepEqual([i.etcdctl, i.etcdutl, i.endpoint], ["/usr/local/bin/etcdctl", "/usr/local/bin/etcdutl", "https://127.0.0.1:2379"]);
            assert.deepEqual([i.caFile, i.certFile, i.keyFile], ["/etc/kubernetes/pki/etcd/ca.crt", "/etc/kubernetes/pki/etcd/healthcheck-client.crt", "/etc/kubernetes/pki/etcd/healthcheck-client.key"]);
            assert.deepEqual(i.caFiles, { kubernetes: "/etc/kubernetes/pki/ca.crt", etcd: "/etc/kubernetes/pki/etcd/ca.crt", "front-proxy": "/etc/kubernetes/pki/front-proxy-ca.crt" });
            const script = etcdBackupScript(i);
            const syntax = spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
            assert.equal(syntax.status, 0, syntax.stderr);
            // Secrets stay out of the rendered text: the key is a path, never its contents.
            assert.ok(!/PRIVATE KEY/.test(script));
        }
    });

    it("refuses to render a value a shell word cannot carry, a bucket that is no bucket name and a retention of 0", () => {
        const plan = planAwsProgram({ stack: "prod", aws: AWS });
        const n = controlPlaneNodes(plan.r)[0];
        const good: BackupScriptInput = nodeBackupInput(plan.r, n.name, controlPlaneSoftware(plan).software(n), BACKUP);
        const bad: Partial<BackupScriptInput>[] = [
            { bucket: "prod1 backups" }, { bucket: "Prod1-Backups" }, { prefix: "/prod1/etcd" }, { keyArn: "arn;rm -rf /" },
            { stack: "a$(id)" }, { retention: 0 }, { caFiles: {} }, { caFiles: { "a b": "/x" } },
        ];
        let refused = 0;
        for (const b of bad) {
            assert.throws(() => etcdBackupScript({ ...good, ...b }), /etcdBackupScript/, JSON.stringify(b));
            refused++;
        }
        assert.equal(refused, bad.length);
    });

    it("runs the service confined after etcd and the node's files, and the timer at the interval on every node", () => {
        const service = etcdBackupService(["hardened-cluster-fetch.service"]);
        assert.deepEqual(service.Unit.After, ["network-online.target", "etcd.service", "hardened-cluster-fetch.service"]);
        assert.equal(service.Service!.ProtectSystem, "strict");
        assert.equal(service.Service!.CapabilityBoundingSet, "");
        assert.equal(service.Service!.PrivateTmp, true);
        const timer = etcdBackupTimer(30);
        assert.deepEqual([timer.Timer!.OnBootSec, timer.Timer!.OnUnitActiveSec], ["30min", "30min"]);
        assert.equal(timer.Timer!.RandomizedDelaySec, undefined, "nodes fire together; only the leader uploads");
    });
});
