// The local ha topology's plan: three etcd members, two control-plane nodes, every node on its own loopback
// address with its own files, the apiservers set up to leave a balancer's rotation before they stop.
import { strict as assert } from "node:assert";
import { planLocalStack } from "../../../platforms/local/plan";
import { ConfigError, ConfigErrors } from "../../../components/common";

const ha = (local: Record<string, unknown> = {}) =>
    planLocalStack({ stack: "ha", local: { layout: "user", stateDir: "/tmp/hc-plan-ha", topology: "ha", ...local } as never, toolchainBin: "/toolchain/bin", isRoot: false });
const flagsOf = (argv: string[]) => Object.fromEntries(argv.map((a) => a.replace(/^--/, "").split(/=(.*)/s).slice(0, 2)));

function errorsOf(fn: () => unknown): string[] {
    try {
        fn();
    } catch (e) {
        if (e instanceof ConfigErrors) return e.errors.map((x) => x.message);
        if (e instanceof ConfigError) return [e.message];
        throw e;
    }
    assert.fail("expected a configuration error");
}

describe("local ha topology: the plan", function () {
    const plan = ha();
    const byName = Object.fromEntries(plan.nodes.map((n) => [n.node.name, n]));
    const proc = (node: string, p: string) => byName[node].bundle.processes.find((x) => x.name === p);

    it("has three etcd members and two control-plane nodes, each with its own address", function () {
        assert.deepEqual(plan.nodes.map((n) => [n.node.name, n.node.ip, n.bundle.processes.map((p) => p.name).join(",")]), [
            ["control-plane-1", "127.0.0.11", "etcd,kube-apiserver,kube-controller-manager,kube-scheduler"],
            ["control-plane-2", "127.0.0.12", "etcd,kube-apiserver,kube-controller-manager,kube-scheduler"],
            ["etcd-3", "127.0.0.13", "etcd"],
        ]);
        const etcd = flagsOf(proc("etcd-3", "etcd")!.argv);
        // etcd's clustering docs: every member lists all initial members as name=peer URL.
        assert.equal(etcd["initial-cluster"], "control-plane-1=https://127.0.0.11:2380,control-plane-2=https://127.0.0.12:2380,etcd-3=https://127.0.0.13:2380");
        assert.equal(etcd["listen-client-urls"], "https://127.0.0.13:2379");
        for (const node of ["control-plane-1", "control-plane-2"]) {
            const api = flagsOf(proc(node, "kube-apiserver")!.argv);
            assert.equal(api["etcd-servers"].split(",").length, 3, node);
            assert.equal(api["bind-address"], byName[node].node.ip, "each apiserver binds its own address; the balancer holds 127.0.0.1");
        }
    });

    it("points clients at the balancer on 127.0.0.1", function () {
        assert.equal(plan.cluster.server, "https://127.0.0.1:6443");
        assert.deepEqual(plan.local.balancer, { address: "127.0.0.1", port: 6443 });
    });

    it("binds each controller-manager and scheduler to 127.0.0.1 (CIS 1.3.7, 1.4.2) on a port of its own", function () {
        const ports = new Set<string>();
        for (const node of ["control-plane-1", "control-plane-2"]) {
            for (const p of ["kube-controller-manager", "kube-scheduler"]) {
                const f = flagsOf(proc(node, p)!.argv);
                assert.equal(f["bind-address"], "127.0.0.1");
                assert.equal(f["leader-elect"], "true", "two of each run: only the leader acts");
                ports.add(f["secure-port"]);
            }
        }
        assert.equal(ports.size, 4);
    });

    it("delays each apiserver's shutdown so the balancer's health check takes it out first; single does not", function () {
        // Out of the balancer's rotation within fall x interval plus one check's 2 s timeout: 3 s; the delay is longer.
        for (const node of ["control-plane-1", "control-plane-2"]) assert.equal(flagsOf(proc(node, "kube-apiserver")!.argv)["shutdown-delay-duration"], "5s");
        const single = planLocalStack({ stack: "one", local: { layout: "user", stateDir: "/tmp/hc-plan-one" }, toolchainBin: "/toolchain/bin", isRoot: false });
        assert.equal(flagsOf(single.nodes[0].bundle.processes.find((p) => p.name === "kube-apiserver")!.argv)["shutdown-delay-duration"], undefined);
    });

    it("gives each node its own serving and peer identity, and the etcd-only member no Kubernetes credentials", function () {
        const paths = (node: string) => byName[node].bundle.files.map((f) => f.path);
        for (const n of plan.nodes) assert.ok(paths(n.node.name).every((p) => p.startsWith(n.node.runDir + "/")), n.node.name);
        const etcdOnly = paths("etcd-3").map((p) => p.slice(byName["etcd-3"].node.runDir.length));
        assert.ok(etcdOnly.length >= 5, etcdOnly.join(" "));
        for (const p of etcdOnly) assert.match(p, /\/pki\/etcd\/(ca\.crt|server\.(crt|key)|peer\.(crt|key)|healthcheck-client\.(crt|key))$/);
        // Each member's peer key is its own (issued per member), not one shared pair.
        const peer = (node: string) => byName[node].bundle.files.find((f) => f.path.endsWith("/etcd/peer.key"))!;
        assert.deepEqual(plan.nodes.map((n) => peer(n.node.name).scope), ["node", "node", "node"]);
    });

    it("refuses ports that collide with the next port up the second node takes, naming the setting", function () {
        const msgs = errorsOf(() => ha({ ports: { controllerManager: 10257, scheduler: 10258 } }));
        assert.ok(msgs.some((m) => m.includes("local.ports.controllerManager") && m.includes("next one up")), msgs.join("\n"));
        assert.deepEqual(errorsOf(() => ha({ topology: "triple" })).filter((m) => m.includes("local.topology")).length, 1);
    });
});
