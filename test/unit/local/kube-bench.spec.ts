// The kube-bench config the local platform writes: kube-bench must look at this cluster's files, and only
// at them, for every master and etcd check that reads a file.
import { strict as assert } from "node:assert";
import { kubeBenchChecks, kubeBenchConfig, KubeBenchTargets } from "../../../platforms/local/kube-bench";

const targets: KubeBenchTargets = {
    apiServerArgs: "/run/x/args/kube-apiserver.args",
    controllerManagerArgs: "/run/x/args/kube-controller-manager.args",
    controllerManagerKubeconfig: "/etc/kubernetes/controller-manager.conf",
    schedulerArgs: "/run/x/args/kube-scheduler.args",
    schedulerKubeconfig: "/etc/kubernetes/scheduler.conf",
    etcdArgs: "/run/x/args/etcd.args",
    etcdDataDir: "/var/lib/etcd",
};

// The shape of kube-bench's stock config.yaml, reduced to what the platform touches.
const stock = {
    master: {
        components: ["apiserver", "scheduler", "controllermanager", "etcd"],
        apiserver: { bins: ["kube-apiserver"], confs: ["/etc/kubernetes/manifests/kube-apiserver.yaml"], defaultconf: "/etc/kubernetes/manifests/kube-apiserver.yaml" },
        scheduler: { bins: ["kube-scheduler"], confs: ["/a"], kubeconfig: ["/etc/kubernetes/scheduler.conf", "/b"] },
        controllermanager: { bins: ["kube-controller-manager"], confs: ["/c"], kubeconfig: ["/d"] },
        etcd: { bins: ["etcd"], datadirs: ["/var/lib/etcd/default.etcd"], confs: ["/e"] },
    },
    node: { kubelet: { bins: ["kubelet"] } },
    etcd: { components: ["etcd"], etcd: { bins: ["etcd"], datadirs: ["/x"], confs: ["/y"] } },
    version_mapping: { "1.34": "cis-1.12" },
};

describe("kube-bench config for the local platform", function () {
    const cfg = kubeBenchConfig(stock, targets) as any;

    it("points every master component at exactly its args file", function () {
        assert.deepEqual(cfg.master.apiserver.confs, [targets.apiServerArgs]);
        assert.equal(cfg.master.apiserver.defaultconf, targets.apiServerArgs);
        assert.deepEqual(cfg.master.controllermanager.confs, [targets.controllerManagerArgs]);
        assert.deepEqual(cfg.master.scheduler.confs, [targets.schedulerArgs]);
        assert.deepEqual(cfg.master.etcd.confs, [targets.etcdArgs]);
    });

    it("names the etcd args file so check 1.1.7's `-name '*etcd*'` finds it", function () {
        assert.match(cfg.master.etcd.confs[0].split("/").pop(), /etcd/);
    });

    it("points kubeconfig and data-dir lookups at this cluster's files", function () {
        assert.deepEqual(cfg.master.scheduler.kubeconfig, [targets.schedulerKubeconfig]);
        assert.deepEqual(cfg.master.controllermanager.kubeconfig, [targets.controllerManagerKubeconfig]);
        assert.deepEqual(cfg.master.etcd.datadirs, [targets.etcdDataDir]);
        assert.deepEqual(cfg.etcd.etcd.datadirs, [targets.etcdDataDir]);
        assert.deepEqual(cfg.etcd.etcd.confs, [targets.etcdArgs]);
    });

    it("keeps process discovery and everything else from the stock config", function () {
        assert.deepEqual(cfg.master.apiserver.bins, ["kube-apiserver"]);
        assert.deepEqual(cfg.master.components, stock.master.components);
        assert.deepEqual(cfg.node, stock.node);
        assert.deepEqual(cfg.version_mapping, stock.version_mapping);
        assert.deepEqual(stock.master.apiserver.confs, ["/etc/kubernetes/manifests/kube-apiserver.yaml"], "stock config mutated");
    });
});

describe("kube-bench JSON report parsing", function () {
    it("flattens Controls[].tests[].results[] into checks", function () {
        const report = {
            Controls: [
                { id: "1", tests: [{ section: "1.1", results: [
                    { test_number: "1.1.1", test_desc: "perm", status: "PASS", scored: true },
                    { test_number: "1.1.9", test_desc: "cni", status: "WARN", scored: false, reason: "manual" },
                ] }] },
                { id: "2", tests: [{ section: "2", results: [{ test_number: "2.1", test_desc: "certs", status: "FAIL", scored: true, actual_value: "x" }] }] },
            ],
        };
        assert.deepEqual(kubeBenchChecks(report).map((c) => [c.id, c.status, c.scored]), [["1.1.1", "PASS", true], ["1.1.9", "WARN", false], ["2.1", "FAIL", true]]);
        assert.equal(kubeBenchChecks(report)[2].actual, "x");
    });
});
