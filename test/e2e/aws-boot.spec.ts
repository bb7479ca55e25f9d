// A node's first boot step on AWS, run here for real: the committed staging stack goes through the real
// program on Pulumi's mock monitor (publishing the toolchain's binaries), its SSM parameters and binary objects
// are created in an AWS API emulator (moto) exactly as declared (names, SecureString, tier, keys, SSE-KMS by the
// cluster key), and each node's rendered cloud-config is applied the way cloud-init would (its users and its
// files under /etc/kubernetes and /etc/etcd) before the rendered fetch script runs as root in a mount namespace
// of its own, with an empty /usr/local/bin, as on a stock AMI. What lands on disk is compared with what the
// program declared and with the README's modes and owners; then every way the script must refuse is tried,
// and each must leave the previous files in place. The fetch cases are here; the refusals, the control plane,
// the workers (their kubelet in aws-boot-kubelet.ts), the node reports and the CA rotation are in
// aws-boot-refusals.ts, aws-boot-control-plane.ts, aws-boot-workers.ts, aws-boot-reports.ts and
// aws-boot-rotation.ts, all on the one setup of aws-boot-drill.ts (one emulator; one stack rendering, and one
// more per rotation phase), in this order.
import { strict as assert } from "node:assert";
import * as path from "node:path";
import { findSecretMaterial } from "../../platforms/aws/userdata";
import { fetchScript, stagedBinaries, stagedFiles } from "./aws-node";
import { BootDrill, IMAGES, binariesOn, cloudConfigOf, filesOn, publishedFrom, sha256sum } from "./aws-boot-drill";
import { controlPlaneCases } from "./aws-boot-control-plane";
import { refusalCases } from "./aws-boot-refusals";

describe("aws: a node's boot fetch from SSM (staging stack as rendered, AWS emulator)", function () {
    this.timeout(600_000);
    const d = new BootDrill();

    before(() => d.setUp());
    after(() => d.tearDown());

    it("publishes, under its SHA-256, each binary the toolchain built that a node runs from /usr/local/bin, the CNI plugins and the node images", () => {
        const names = d.objects.map((o) => path.basename(o.key)).sort();
        assert.deepEqual(names, ["bridge", "coredns.tar", "etcd", "etcdctl", "etcdutl", "flanneld", "hc-aws-kms-plugin", "hc-csr-approver", "host-local", "kube-apiserver", "kube-controller-manager", "kube-proxy", "kube-router",
            "kube-scheduler", "kubelet", "loopback", "pause.tar", "portmap"]);
        for (const o of d.objects) assert.equal(o.key, `binaries/${sha256sum(o.file)}/${path.basename(o.key)}`);
    });

    it("declares the node secrets of a three-member control plane and its workers", () => {
        assert.ok(d.params.length >= 20, `${d.params.length} parameters`);
        const scopes = new Set(d.params.map((p) => p.name.split("/")[2]));
        assert.deepEqual([...scopes].sort(), ["control-plane", "cp-0", "cp-1", "cp-2", "workers"]);
    });

    for (const [node, template, scopes] of [
        ["cp-0", "aws-cp-cp-0", ["cp-0", "control-plane"]],
        ["cp-1", "aws-cp-cp-1", ["cp-1", "control-plane"]],
        ["worker", "aws-workers", ["workers"]],
    ] as const) {
        it(`${node}: fetches exactly its own and its scope's parameters, each as declared, with the README's modes and owners`, () => {
            const cc = cloudConfigOf(d.run, template);
            const root = d.prepareNode(node, cc);
            const before = filesOn(root);
            const r = d.boot(root, d.scriptOf(cc));
            assert.equal(r.status, 0, r.stderr);
            const mine = d.params.filter((p) => scopes.includes(p.name.split("/")[2] as never));
            assert.ok(mine.length > 0);
            const bins = stagedBinaries(fetchScript(cc));
            // A control-plane node's seven and the approver; a worker's kubelet, kube-proxy, kube-router and flanneld,
            // containerd's four CNI plugins, and the pause and CoreDNS images.
            assert.equal(bins.length, node === "worker" ? 10 : 8, bins.map((b) => b.path).join(" "));
            assert.match(r.stdout, new RegExp(`: ${mine.length} files and ${bins.length} of ${bins.length} binaries in place`));
            // Each file as the toolchain built it, root's, a binary 0755 and an image 0644, and nothing else in
            // /usr/local/bin, /opt/cni/bin or the image directory.
            assert.deepEqual(binariesOn(root).map((b) => b.path).sort(), bins.map((b) => b.path).sort());
            for (const b of binariesOn(root)) {
                assert.deepEqual([b.mode.toString(8), b.uid, b.gid], [b.path.startsWith(`${IMAGES}/`) ? "644" : "755", 0, 0], b.path);
                const digest = sha256sum(root + b.path);
                assert.equal(digest, sha256sum(publishedFrom(d.tc.bin, b.path)), b.path);
                assert.equal(digest, bins.find((x) => x.path === b.path)!.sha256, b.path);
            }
            const files = filesOn(root);
            assert.equal(files.length, before.length + mine.length, files.map((f) => f.path).join(" "));
            assert.deepEqual(files.filter((f) => f.path.includes(".fetch.")), []);
            // Each parameter at the path its stage line names, with its value: a secret owner-only, a certificate
            // (fetched so that a renewal reaches a running node) readable by all; both writable by root alone.
            const stages = stagedFiles(fetchScript(cc));
            assert.deepEqual(stages.map((x) => x.parameter).sort(), mine.map((p) => p.name).sort());
            // A worker's CA is a parameter too, so a new trust bundle reaches it through its sync.
            assert.deepEqual([...new Set(stages.map((x) => x.kind))].sort(), ["public", "secret"]);
            for (const st of stages) {
                const f = files.find((x) => x.path === st.path);
                assert.ok(f, st.path);
                assert.equal(f.content.trimEnd(), d.param(st.parameter).value.trimEnd(), st.path);
                const publicFile = st.kind === "public";
                assert.equal(publicFile, /\.(crt|pub)$/.test(st.path), `${st.path} is ${st.kind}`);
                if (publicFile) assert.equal(findSecretMaterial(f.content).length, 0, st.path);
                // etcd and the serving-certificate approver read their own files through their group and can change none of them.
                const group = f.path.startsWith("/etc/etcd/pki/") ? d.gids.get("etcd") : f.path.startsWith("/etc/kubernetes/csr-approver/") ? d.gids.get("csr-approver") : 0;
                const mode = publicFile ? "644" : group ? "640" : "600";
                assert.deepEqual([f.mode.toString(8), f.uid, f.gid], [mode, 0, group], f.path);
            }
        });
    }

    it("worker: a reboot downloads no binary it already has, and still replaces every secret file", () => {
        const root = path.join(d.tmp, "nodes", "worker");
        const before = binariesOn(root);
        assert.equal(before.length, 10);
        const r = d.boot(root, d.scriptOf(cloudConfigOf(d.run, "aws-workers")));
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, / files and 0 of 10 binaries in place/);
        assert.deepEqual(binariesOn(root), before);
    });

    refusalCases(d);
    controlPlaneCases(d);
});
