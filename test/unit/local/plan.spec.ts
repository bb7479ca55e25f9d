// The local platform's pure plan: layouts, ports, and what it refuses before anything is created.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ConfigError } from "../../../components/common";
import type { ProcessName } from "../../../components/cluster";
import { checkLayoutDirs, LocalStackInput, MARKER, planLocalStack } from "../../../platforms/local/plan";
import { resolveLocal } from "../../../platforms/local/options";

const flag = (args: string[], name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
function planLocal(input: Omit<LocalStackInput, "toolchainBin" | "isRoot">, isRoot: boolean) {
    const p = planLocalStack({ ...input, toolchainBin: "/toolchain/bin", isRoot });
    const proc = (n: ProcessName) => p.cluster.nodes[0].processes.find((x) => x.name === n)!;
    return {
        ...p,
        server: p.cluster.server,
        pki: p.cluster.resolved.pki,
        args: Object.fromEntries(p.cluster.nodes[0].processes.map((x) => [x.name, x.argv])) as Record<ProcessName, string[]>,
        health: Object.fromEntries(p.cluster.nodes[0].processes.map((x) => [x.name, x.health])) as Record<ProcessName, unknown>,
        etcd: { args: proc("etcd").argv },
        controlPlane: { apiServer: { args: proc("kube-apiserver").argv }, controllerManager: { args: proc("kube-controller-manager").argv }, scheduler: { args: proc("kube-scheduler").argv } },
    };
}

describe("local plan", function () {
    it("uses one state directory per stack in the user layout", function () {
        const plan = planLocal({ stack: "dev", local: { stateDir: "/tmp/hc-x" } }, false);
        assert.equal(plan.local.layoutKind, "user");
        assert.equal(plan.local.layout.pkiDir, "/tmp/hc-x/pki");
        assert.equal(flag(plan.controlPlane.apiServer.args, "tls-cert-file"), "/tmp/hc-x/pki/apiserver.crt");
        assert.equal(flag(plan.etcd.args, "data-dir"), "/tmp/hc-x/etcd");
    });

    it("defaults the state directory under XDG_STATE_HOME/hardened-cluster/<stack>", function () {
        const saved = process.env.XDG_STATE_HOME;
        process.env.XDG_STATE_HOME = "/tmp/xdg";
        try {
            assert.equal(planLocal({ stack: "s1" }, false).local.layout.configDir, "/tmp/xdg/hardened-cluster/s1");
        } finally {
            if (saved === undefined) delete process.env.XDG_STATE_HOME;
            else process.env.XDG_STATE_HOME = saved;
        }
    });

    it("uses kubeadm's paths as root, with etcd's own keys outside /etc/kubernetes/pki", function () {
        const local = resolveLocal({ layout: "system" }, "s", "local", true);
        assert.equal(local.layout.pkiDir, "/etc/kubernetes/pki");
        assert.equal(local.etcdServerPkiDir, "/etc/etcd/pki");
        assert.equal(local.etcdUser, "etcd");
    });

    it("points etcd at its own key directory and the API server at the etcd CA and client pair", function () {
        const plan = planLocal({ stack: "s", local: { layout: "user", stateDir: "/tmp/hc-y" } }, false);
        assert.equal(flag(plan.etcd.args, "key-file"), "/tmp/hc-y/pki/etcd/server.key");
        assert.equal(flag(plan.controlPlane.apiServer.args, "etcd-cafile"), "/tmp/hc-y/pki/etcd/ca.crt");
    });

    it("puts every process on the configured loopback ports", function () {
        const plan = planLocal({ stack: "s", local: { stateDir: "/tmp/p", ports: { apiServer: 16443, etcdClient: 12379, etcdPeer: 12380, controllerManager: 20257, scheduler: 20259 } } }, false);
        assert.equal(plan.server, "https://127.0.0.1:16443");
        assert.equal(flag(plan.controlPlane.apiServer.args, "secure-port"), "16443");
        assert.equal(flag(plan.controlPlane.apiServer.args, "bind-address"), "127.0.0.1");
        assert.equal(flag(plan.controlPlane.apiServer.args, "etcd-servers"), "https://127.0.0.1:12379");
        assert.equal(flag(plan.etcd.args, "listen-peer-urls"), "https://127.0.0.1:12380");
        assert.equal(flag(plan.controlPlane.controllerManager.args, "secure-port"), "20257");
        assert.equal(flag(plan.controlPlane.scheduler.args, "secure-port"), "20259");
    });

    it("gives the PKI the loopback endpoint, one node and one etcd member", function () {
        const plan = planLocal({ stack: "s", local: { stateDir: "/tmp/q" } }, false);
        assert.deepEqual(plan.pki.endpoint, { ipAddresses: ["127.0.0.1"], dnsNames: [] });
        assert.equal(plan.pki.controlPlaneNodes.length, 1);
        assert.equal(plan.pki.etcdMembers.length, 1);
    });
});

describe("local plan: health checks verify who answers", function () {
    const plan = planLocal({ stack: "s", local: { stateDir: "/tmp/hc-h" } }, false);

    it("gives the controller manager and scheduler serving pairs under the PKI directory", function () {
        assert.equal(flag(plan.args["kube-controller-manager"], "tls-cert-file"), "/tmp/hc-h/pki/kube-controller-manager.crt");
        assert.equal(flag(plan.args["kube-controller-manager"], "tls-private-key-file"), "/tmp/hc-h/pki/kube-controller-manager.key");
        assert.equal(flag(plan.args["kube-scheduler"], "tls-cert-file"), "/tmp/hc-h/pki/kube-scheduler.crt");
        assert.equal(flag(plan.args["kube-scheduler"], "tls-private-key-file"), "/tmp/hc-h/pki/kube-scheduler.key");
        // Each flag once: the shared renderer sets none of them.
        for (const p of ["kube-controller-manager", "kube-scheduler"] as const) {
            assert.equal(plan.args[p].filter((a) => a.startsWith("--tls-cert-file=")).length, 1);
        }
    });

    it("probes every process over verified TLS, never insecure", function () {
        const checks = Object.entries(plan.health);
        assert.equal(checks.length, 4);
        for (const [p, h] of checks as [string, { kind: string; insecure?: boolean; caFile?: string }][]) {
            assert.equal(h.kind, "https", p);
            assert.ok(!h.insecure && h.caFile, `${p} is probed without verifying its server`);
        }
        assert.equal((plan.health["kube-controller-manager"] as { caFile: string }).caFile, "/tmp/hc-h/pki/ca.crt");
        assert.equal((plan.health["kube-scheduler"] as { caFile: string }).caFile, "/tmp/hc-h/pki/ca.crt");
        assert.equal((plan.health.etcd as { caFile: string }).caFile, "/tmp/hc-h/pki/etcd/ca.crt");
    });

    it("refuses a serving certificate flag the user set for them, naming it", function () {
        const cp = (component: string, flagName: string) => () => planLocal({
            stack: "s", local: { stateDir: "/tmp/hc-h" },
            settings: { controlPlane: { [component]: { extraArgs: { [flagName]: "/x" } } } }, keys: { controlPlane: "hardened-cluster:controlPlane" },
        }, false);
        assert.throws(cp("controllerManager", "tls-cert-file"), (e: Error) => e instanceof ConfigError && e.key === "hardened-cluster:controlPlane.controllerManager.extraArgs.tls-cert-file");
        assert.throws(cp("scheduler", "cert-dir"), (e: Error) => e instanceof ConfigError && e.key === "hardened-cluster:controlPlane.scheduler.extraArgs.cert-dir");
    });
});

describe("local plan: bad input", function () {
    const ck = { local: "hardened-cluster:local" };
    const plan = (local: object, isRoot = false) => () => planLocal({ stack: "s", local, keys: ck }, isRoot);
    const cases: [string, () => unknown, string][] = [
        ["system layout without root", plan({ layout: "system" }), "hardened-cluster:local.layout"],
        ["unknown layout", plan({ layout: "cloud" }), "hardened-cluster:local.layout"],
        ["two processes on one port", plan({ ports: { apiServer: 2379 } }), "hardened-cluster:local.ports.etcdClient"],
        ["port out of range", plan({ ports: { scheduler: 70000 } }), "hardened-cluster:local.ports.scheduler"],
        ["unknown port name", plan({ ports: { kubelet: 10250 } }), "hardened-cluster:local.ports.kubelet"],
        ["relative state dir", plan({ stateDir: "state" }), "hardened-cluster:local.stateDir"],
        ["state dir with the system layout", plan({ layout: "system", stateDir: "/x" }, true), "hardened-cluster:local.stateDir"],
        ["unknown key", plan({ stateDri: "/x" }), "hardened-cluster:local.stateDri"],
        ["bad etcd user", plan({ etcdUser: "Etcd User" }), "hardened-cluster:local.etcdUser"],
    ];
    for (const [name, run, keyPath] of cases) {
        it(`${name} names ${keyPath}`, function () {
            assert.throws(run, (e: Error) => e instanceof ConfigError && e.key === keyPath && e.message.startsWith(`${keyPath}: `));
        });
    }
});

describe("system layout ownership markers", function () {
    let root: string;
    beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), "hc-marker-"))));
    afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

    const local = () => {
        const r = resolveLocal({ layout: "system" }, "mine", "local", true);
        return { ...r, layout: { ...r.layout, configDir: path.join(root, "etc"), etcdDataDir: path.join(root, "etcd") }, etcdServerPkiDir: path.join(root, "etcd-pki") };
    };

    it("accepts missing and empty directories", function () {
        fs.mkdirSync(path.join(root, "etc"));
        assert.doesNotThrow(() => checkLayoutDirs(local(), "mine", "local"));
    });

    it("refuses a populated directory without a marker", function () {
        fs.mkdirSync(path.join(root, "etc"));
        fs.writeFileSync(path.join(root, "etc", "admin.conf"), "x");
        assert.throws(() => checkLayoutDirs(local(), "mine", "local"), /local\.layout: .*not created by hardened-cluster/);
    });

    it("refuses a directory another stack marked", function () {
        fs.mkdirSync(path.join(root, "etcd"));
        fs.writeFileSync(path.join(root, "etcd", MARKER), "theirs\n");
        assert.throws(() => checkLayoutDirs(local(), "mine", "local"), /belongs to another stack/);
    });

    it("accepts its own marker", function () {
        fs.mkdirSync(path.join(root, "etcd"));
        fs.writeFileSync(path.join(root, "etcd", MARKER), "mine");
        fs.writeFileSync(path.join(root, "etcd", "member"), "");
        assert.doesNotThrow(() => checkLayoutDirs(local(), "mine", "local"));
    });

    it("for a restore, lets etcd's data directory lack the marker it lost with its data, and nothing else", function () {
        const l = local();
        fs.mkdirSync(path.join(root, "etcd"));
        fs.writeFileSync(path.join(root, "etcd", "member"), "");
        const restoring = (lc = l) => checkLayoutDirs(lc, "mine", "local", [lc.layout.etcdDataDir]);
        assert.throws(() => checkLayoutDirs(l, "mine", "local"), /not created by hardened-cluster/);
        assert.doesNotThrow(() => restoring());
        // Another stack's marker is still refused, and so is any other unmarked directory.
        fs.writeFileSync(path.join(root, "etcd", MARKER), "theirs\n");
        assert.throws(() => restoring(), /belongs to another stack/);
        fs.rmSync(path.join(root, "etcd", MARKER));
        fs.mkdirSync(path.join(root, "etc"));
        fs.writeFileSync(path.join(root, "etc", "admin.conf"), "x");
        assert.throws(() => restoring(), /etc exists and was not created by hardened-cluster/);
    });
});
