import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { ConfigError, kubeadmLayout, stateDirLayout } from "../../../components/common";
import { ClusterPki, pkiFileSet, planPkiFiles } from "../../../components/pki";
import { baseOptions, singleNodeOptions } from "./fixtures";
import { setPkiMocks, valueOf } from "./mocks";

const servers = { external: "https://127.0.0.1:6443" };

describe("pkiFileSet", function () {
    this.timeout(20000);
    let single: ClusterPki;
    let multi: ClusterPki;

    before(async () => {
        await setPkiMocks();
        single = new ClusterPki("one", { options: { ...singleNodeOptions(), breakGlass: true }, servers });
        multi = new ClusterPki("many", { options: baseOptions(), servers });
    });

    it("writes kubeadm's file names with keys and kubeconfigs 0600 and certificates 0644", () => {
        const files = pkiFileSet(single, kubeadmLayout("/"));
        const modes = Object.fromEntries(files.map((f) => [f.path, f.mode.toString(8)]));
        assert.deepEqual(modes, {
            "/etc/kubernetes/pki/ca.crt": "644",
            "/etc/kubernetes/pki/ca.key": "600",
            "/etc/kubernetes/pki/cluster-signing-ca.crt": "644",
            "/etc/kubernetes/pki/etcd/ca.crt": "644",
            "/etc/kubernetes/pki/front-proxy-ca.crt": "644",
            "/etc/kubernetes/pki/apiserver.crt": "644",
            "/etc/kubernetes/pki/apiserver.key": "600",
            "/etc/kubernetes/pki/apiserver-kubelet-client.crt": "644",
            "/etc/kubernetes/pki/apiserver-kubelet-client.key": "600",
            "/etc/kubernetes/pki/apiserver-etcd-client.crt": "644",
            "/etc/kubernetes/pki/apiserver-etcd-client.key": "600",
            "/etc/kubernetes/pki/front-proxy-client.crt": "644",
            "/etc/kubernetes/pki/front-proxy-client.key": "600",
            // Not kubeadm's: the controller manager's and scheduler's serving pairs, so their health is verifiable.
            "/etc/kubernetes/pki/kube-controller-manager.crt": "644",
            "/etc/kubernetes/pki/kube-controller-manager.key": "600",
            "/etc/kubernetes/pki/kube-scheduler.crt": "644",
            "/etc/kubernetes/pki/kube-scheduler.key": "600",
            // Not kubeadm's either: their client pairs, named by path in their kubeconfigs.
            "/etc/kubernetes/pki/controller-manager-client.crt": "644",
            "/etc/kubernetes/pki/controller-manager-client.key": "600",
            "/etc/kubernetes/pki/scheduler-client.crt": "644",
            "/etc/kubernetes/pki/scheduler-client.key": "600",
            "/etc/kubernetes/pki/etcd/healthcheck-client.crt": "644",
            "/etc/kubernetes/pki/etcd/healthcheck-client.key": "600",
            "/etc/kubernetes/pki/etcd/server.crt": "644",
            "/etc/kubernetes/pki/etcd/server.key": "600",
            "/etc/kubernetes/pki/etcd/peer.crt": "644",
            "/etc/kubernetes/pki/etcd/peer.key": "600",
            "/etc/kubernetes/pki/sa.key": "600",
            "/etc/kubernetes/pki/sa.pub": "644",
            "/etc/kubernetes/admin.conf": "600",
            "/etc/kubernetes/super-admin.conf": "600",
            "/etc/kubernetes/controller-manager.conf": "600",
            "/etc/kubernetes/scheduler.conf": "600",
            "/etc/kubernetes/kubelet.conf": "600",
        });
        assert.equal(files.length, Object.keys(modes).length, "no path is written twice");
    });

    it("points the controller manager's and scheduler's kubeconfigs at their pair and the CA by path, and embeds the admin's", async () => {
        const files = pkiFileSet(single, kubeadmLayout("/"));
        const content = async (p: string) => parse(await valueOf(files.find((f) => f.path === p)!.content));
        for (const [conf, pair, row] of [["controller-manager.conf", "controller-manager-client", "controller-manager"], ["scheduler.conf", "scheduler-client", "scheduler"]]) {
            const kc = await content(`/etc/kubernetes/${conf}`);
            assert.deepEqual(kc.users[0].user, { "client-certificate": `/etc/kubernetes/pki/${pair}.crt`, "client-key": `/etc/kubernetes/pki/${pair}.key` }, conf);
            assert.deepEqual(Object.keys(kc.clusters[0].cluster).sort(), ["certificate-authority", "server"], conf);
            assert.equal(kc.clusters[0].cluster["certificate-authority"], "/etc/kubernetes/pki/ca.crt");
            assert.equal(kc.clusters[0].cluster.server, "https://127.0.0.1:6443");
            // The files it names hold that row's pair.
            assert.equal(await valueOf(files.find((f) => f.path === `/etc/kubernetes/pki/${pair}.crt`)!.content), `CERT(one-${row})`);
            assert.equal(await valueOf(files.find((f) => f.path === `/etc/kubernetes/pki/${pair}.key`)!.content), `KEY(one-${row})`);
        }
        const admin = await content("/etc/kubernetes/admin.conf");
        assert.ok(admin.users[0].user["client-key-data"], "the admin kubeconfig is handed to people whole");
    });

    it("keeps the etcd and front-proxy CA keys off disk", () => {
        const paths = pkiFileSet(multi, stateDirLayout("/state")).map((f) => f.path);
        assert.ok(paths.includes("/state/pki/ca.key"));
        assert.ok(!paths.includes("/state/pki/etcd/ca.key"));
        assert.ok(!paths.includes("/state/pki/front-proxy-ca.key"));
    });

    it("maps the chosen etcd member and node to etcd/server, etcd/peer and kubelet.conf", async () => {
        const files = pkiFileSet(multi, kubeadmLayout("/"), { etcdMember: "etcd-b", node: "worker-1" });
        const content = (p: string) => valueOf(files.find((f) => f.path === p)!.content);
        assert.equal(await content("/etc/kubernetes/pki/etcd/server.crt"), "CERT(many-etcd-server-etcd-b)");
        assert.equal(await content("/etc/kubernetes/pki/etcd/peer.key"), "KEY(many-etcd-peer-etcd-b)");
        const kubelet = parse(await content("/etc/kubernetes/kubelet.conf"));
        assert.equal(Buffer.from(kubelet.users[0].user["client-certificate-data"], "base64").toString(), "CERT(many-kubelet-client-worker-1)");
        assert.equal(files.filter((f) => f.path.endsWith("/kubelet.conf")).length, 1);
    });

    it("defaults to the first etcd member and control-plane node", async () => {
        const files = pkiFileSet(multi, kubeadmLayout("/"));
        assert.equal(await valueOf(files.find((f) => f.path === "/etc/kubernetes/pki/etcd/server.crt")!.content), "CERT(many-etcd-server-etcd-a)");
        assert.equal(files.some((f) => f.path.endsWith("super-admin.conf")), false);
    });

    it("gives each control-plane node its own apiserver.crt and apiserver.key, chosen by node, not by etcd member", async () => {
        const nodes = ["cp-1", "cp-2"];
        let checked = 0;
        for (const node of nodes) {
            for (const etcdMember of ["etcd-a", "etcd-c"]) {
                const files = pkiFileSet(multi, kubeadmLayout("/"), { node, etcdMember });
                const at = (p: string) => files.filter((f) => f.path === p);
                assert.equal(at("/etc/kubernetes/pki/apiserver.crt").length, 1);
                assert.equal(at("/etc/kubernetes/pki/apiserver.key").length, 1);
                assert.equal(await valueOf(at("/etc/kubernetes/pki/apiserver.crt")[0].content), `CERT(many-apiserver-${node})`);
                assert.equal(await valueOf(at("/etc/kubernetes/pki/apiserver.key")[0].content), `KEY(many-apiserver-${node})`);
                assert.equal(await valueOf(at("/etc/kubernetes/pki/etcd/server.key")[0].content), `KEY(many-etcd-server-${etcdMember})`);
                checked++;
            }
        }
        assert.equal(checked, 4);
        const byDefault = pkiFileSet(multi, kubeadmLayout("/")).find((f) => f.path === "/etc/kubernetes/pki/apiserver.key")!;
        assert.equal(await valueOf(byDefault.content), "KEY(many-apiserver-cp-1)");
    });

    it("tells a node from an etcd member of the same name", async () => {
        // Machines a and b each run an API server and an etcd member under their own name; this bundle is a's
        // API server with b's etcd member, so each pair must come from the row of the right kind.
        const hosts = [{ name: "a", ipAddresses: ["192.0.2.1"] }, { name: "b", ipAddresses: ["192.0.2.2"] }];
        const twin = new ClusterPki("twin", { options: { serviceCidr: "10.96.0.0/12", controlPlaneNodes: hosts, etcdMembers: hosts }, servers });
        const files = pkiFileSet(twin, kubeadmLayout("/"), { node: "a", etcdMember: "b" });
        const content = (p: string) => valueOf(files.find((f) => f.path === p)!.content);
        assert.equal(await content("/etc/kubernetes/pki/apiserver.key"), "KEY(twin-apiserver-a)");
        assert.equal(await content("/etc/kubernetes/pki/etcd/peer.key"), "KEY(twin-etcd-peer-b)");
        assert.equal(files.filter((f) => f.path.endsWith("/apiserver.crt")).length, 1);
    });

    it("marks the files that hold one host's own credential, which a platform must not share between hosts", () => {
        const planned = planPkiFiles(multi, kubeadmLayout("/"), { node: "cp-2", etcdMember: "etcd-b" });
        const own = Object.fromEntries(planned.filter((f) => f.host !== undefined).map((f) => [f.path, f.host]));
        assert.deepEqual(own, {
            "/etc/kubernetes/pki/apiserver.crt": "cp-2",
            "/etc/kubernetes/pki/apiserver.key": "cp-2",
            "/etc/kubernetes/pki/etcd/server.crt": "etcd-b",
            "/etc/kubernetes/pki/etcd/server.key": "etcd-b",
            "/etc/kubernetes/pki/etcd/peer.crt": "etcd-b",
            "/etc/kubernetes/pki/etcd/peer.key": "etcd-b",
            "/etc/kubernetes/kubelet.conf": "cp-2",
        });
    });

    it("writes no API server pair for a worker, which serves no API", () => {
        const paths = pkiFileSet(multi, kubeadmLayout("/"), { node: "worker-1" }).map((f) => f.path);
        assert.ok(paths.includes("/etc/kubernetes/kubelet.conf"));
        assert.ok(!paths.some((p) => p.startsWith("/etc/kubernetes/pki/apiserver.")));
    });

    it("writes the kubelet serving pair only where the caller says", async () => {
        const files = pkiFileSet(multi, kubeadmLayout("/"), { node: "cp-2", kubeletServing: { cert: "/var/lib/kubelet/pki/kubelet.crt", key: "/var/lib/kubelet/pki/kubelet.key" } });
        const key = files.find((f) => f.path === "/var/lib/kubelet/pki/kubelet.key")!;
        assert.equal(key.mode, 0o600);
        assert.equal(await valueOf(key.content), "KEY(many-kubelet-serving-cp-2)");
        assert.equal(files.find((f) => f.path === "/var/lib/kubelet/pki/kubelet.crt")!.mode, 0o644);
    });

    it("hands out key-bearing content as secrets", async () => {
        let referencing = 0;
        for (const f of pkiFileSet(single, kubeadmLayout("/"))) {
            if (f.mode !== 0o600) continue;
            const text = await valueOf(f.content);
            // A kubeconfig that names its pair by path holds no key; it stays 0600 as CIS 1.1.15-1.1.18 ask.
            if (/\n\s+client-key: \//.test(text)) {
                referencing++;
                assert.doesNotMatch(text, /-data:|KEY\(/, f.path);
                continue;
            }
            assert.equal(await pulumi.isSecret(f.content), true, f.path);
        }
        assert.equal(referencing, 2);
    });

    it("rejects a node or member the PKI does not know, naming the option", () => {
        assert.throws(() => pkiFileSet(multi, kubeadmLayout("/"), { etcdMember: "etcd-z" }), (e: unknown) => e instanceof ConfigError && e.key === "pkiFileSet.etcdMember" && /etcd-a, etcd-b, etcd-c/.test(e.message));
        assert.throws(() => pkiFileSet(multi, kubeadmLayout("/"), { node: "cp-9" }), (e: unknown) => e instanceof ConfigError && e.key === "pkiFileSet.node");
        assert.throws(() => pkiFileSet(multi, kubeadmLayout("/"), { member: "etcd-a" } as any), (e: unknown) => e instanceof ConfigError && e.key === "pkiFileSet.member");
    });
});
