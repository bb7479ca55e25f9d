// The rendered user data and what it installs, checked by the real validators: Debian's `cloud-init schema`,
// `systemd-analyze verify` for every unit, `sshd -t` for the SSH drop-in. These need the cloud-init,
// systemd and openssh-server packages; a missing binary fails the spec (host-tools.ts) rather than skipping.
import { strict as assert } from "node:assert";
import { parse } from "yaml";
import { planAwsCluster, renderSshdConfig } from "../../../platforms/aws";
import { controlPlaneCloudConfig } from "../../../platforms/aws/control-plane";
import { workerCloudConfig } from "../../../platforms/aws/workers";
import { encodeUserData, renderCloudConfig } from "../../../platforms/aws/userdata";
import { baseOptions, clusterArgs } from "./fixtures";
import { cloudInitParts, cloudInitSchema, PACKAGED_CONTAINERD_UNIT, sshdTest, systemdVerify } from "./host-tools";
import { ed25519Line } from "./ssh-keys";

const SSH_ON = { enabled: true, allowedCidrs: ["203.0.113.0/24", "10.20.0.0/16"], authorizedKeys: [ed25519Line()] };

function rendered(ssh = false): { name: string; text: string }[] {
    const plan = planAwsCluster(clusterArgs({ options: baseOptions(ssh ? { ssh: SSH_ON } : {}) }));
    const contents = (files: { content?: unknown }[]) => files.filter((f) => f.content !== undefined).map((f) => f.content as string);
    return [
        ...plan.nodes.map((n, i) => ({
            name: n.name,
            text: renderCloudConfig(controlPlaneCloudConfig({
                r: plan.r,
                node: n.name,
                software: plan.cpSoftware[i],
                secretsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                clusterKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/c",
                auditLogGroupName: "/prod1/kube-apiserver-audit",
                contents: contents(plan.cpSoftware[i].files),
                backup: { stack: "dev", bucket: "prod1-etcd-backups-20261203", prefix: "prod1/etcd", clusterKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/c", retention: 5, intervalMinutes: 15 },
                binaries: { bucket: "prod1-binaries-20261203", published: plan.binaries },
            })),
        })),
        { name: "worker", text: renderCloudConfig(workerCloudConfig(plan.r, plan.workerSoftware, contents(plan.workerSoftware.files), "arn:aws:kms:eu-west-1:123456789012:key/c", {
            binaries: { bucket: "prod1-binaries-20261203", published: plan.binaries }, containerdConfig: plan.containerdConfig, ...(plan.images ? { images: plan.images } : {}),
        })) },
    ];
}

function unitsOf(text: string): { name: string; text: string }[] {
    return parse(text).write_files
        .filter((f: { path: string }) => f.path.startsWith("/etc/systemd/system/"))
        .map((f: { path: string; content: string }) => ({ name: f.path.split("/").pop()!, text: f.content }));
}

describe("aws: user data under the real validators", function () {
    this.timeout(60000);

    describe("cloud-init schema", () => {
        for (const ssh of [false, true]) {
            it(`accepts every node's cloud-config (SSH ${ssh ? "on" : "off"})`, () => {
                for (const node of rendered(ssh)) {
                    const r = cloudInitSchema(node.text);
                    assert.ok(r.ok, `${node.name}: ${r.output}`);
                }
            });
        }

        it("rejects a malformed cloud-config (the check can fail)", () => {
            assert.equal(cloudInitSchema("#cloud-config\nwrite_files:\n  - path: /x\n    permissions: 384\n").ok, false);
            assert.equal(cloudInitSchema("#cloud-config\nssh_pwauth: \"no\"\n").ok, false, "deprecated values fail too");
        });
    });

    it("is read back by cloud-init's own user-data processor, gzipped as the launch templates carry it, as exactly the cloud-config rendered", () => {
        const nodes = rendered(true);
        assert.equal(nodes.length, 4);
        for (const n of nodes) {
            assert.ok(Buffer.byteLength(n.text) > 16384 || n.name === "worker", `${n.name}: ${Buffer.byteLength(n.text)} bytes as text`);
            assert.deepEqual(cloudInitParts(encodeUserData(n.text, n.name)), [["text/cloud-config", n.text]], n.name);
        }
    });

    it("writes every unit file root's and 0600, as CIS 1.1.1-1.1.8 want a component's pod specification", () => {
        const docs = rendered(false).map((n) => ({ name: n.name, files: parse(n.text.replace(/^#cloud-config\n/, "")).write_files as { path: string; permissions: string; owner: string }[] }));
        for (const d of docs) {
            const units = d.files.filter((f) => f.path.startsWith("/etc/systemd/system/"));
            assert.ok(units.length >= (d.name === "worker" ? 2 : 6), `${d.name}: ${units.length} units`);
            for (const f of units) assert.deepEqual([f.permissions, f.owner], ["0600", "root:root"], `${d.name} ${f.path}`);
        }
    });

    describe("systemd-analyze verify", () => {
        it("accepts every unit on the control plane and the workers", () => {
            const nodes = rendered();
            const cp = unitsOf(nodes[0].text);
            const worker = unitsOf(nodes[nodes.length - 1].text).filter((u) => u.name !== "hardened-cluster-fetch.service");
            assert.deepEqual(worker.map((u) => u.name), ["node-images.service", "kubelet.service", "hardened-cluster-sync.service", "hardened-cluster-sync.timer"]);
            const units = [...cp, ...worker, PACKAGED_CONTAINERD_UNIT];
            assert.deepEqual(cp.map((u) => u.name), [
                "hardened-cluster-fetch.service", "aws-encryption-provider.service", "etcd.service", "kube-apiserver.service",
                "kube-controller-manager.service", "kube-scheduler.service", "hardened-cluster-cert-expiry.service", "hardened-cluster-cert-expiry.timer", "hardened-cluster-etcd-backup.service", "hardened-cluster-etcd-backup.timer",
                "hardened-cluster-sync.service", "hardened-cluster-sync.timer",
            ]);
            // The kubelet's ExecStartPre (the kernel settings it requires) is verified too.
            assert.match(worker[1].text, /^ExecStartPre=\/usr\/sbin\/sysctl -p \/etc\/sysctl\.d\/90-kubelet\.conf$/m);
            const r = systemdVerify(units);
            assert.ok(r.ok, r.output);
        });

        it("rejects a unit with an unknown key (the check can fail)", () => {
            const r = systemdVerify([{ name: "x.service", text: "[Unit]\nDescription=x\n\n[Service]\nExecStart=/usr/local/bin/x\nRestrt=always\n" }]);
            assert.equal(r.ok, false);
            assert.match(r.output, /Restrt/);
        });
    });

    describe("sshd -t", () => {
        it("accepts the hardened drop-in that SSH-enabled nodes get", () => {
            const text = renderSshdConfig(SSH_ON);
            const r = sshdTest(text);
            assert.ok(r.ok, r.output);
            const worker = rendered(true).pop()!;
            const dropIn = parse(worker.text).write_files.find((f: { path: string }) => f.path.startsWith("/etc/ssh/sshd_config.d/"));
            assert.equal(dropIn.content, text);
        });

        it("rejects an invalid directive (the check can fail)", () => {
            assert.equal(sshdTest("PermitRootLogin sometimes\n").ok, false);
        });
    });
});
