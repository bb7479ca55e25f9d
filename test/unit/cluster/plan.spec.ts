// The cluster plan: one bundle per control-plane node, the same settings giving the same posture on every
// platform, and the readers each file declares agreeing with what every process's command line names.
import { strict as assert } from "node:assert";
import { ClusterPlan, ClusterSettings, NodeBundle } from "../../../components/cluster";
import { configFile, FileLayout, kubeadmLayout, pkiPair } from "../../../components/common";
import { planAwsProgram } from "../../../platforms/aws/program-plan";
import { planLocalStack } from "../../../platforms/local/plan";
import { baseOptions } from "../aws/fixtures";

const SHARED: ClusterSettings = {
    pki: { algorithm: "RSA-2048", leafValidityHours: 4380, users: [{ name: "alice", groups: ["team-a-devs"] }] },
    audit: { preset: "minimal", webhook: { server: "https://audit.example.test/events" } },
    controlPlane: {
        network: { serviceCidr: "10.112.0.0/16", clusterDomain: "corp.local" },
        tls: { minVersion: "VersionTLS13" },
        apiServer: { extraArgs: { "event-ttl": "2h0m0s" } },
        weakenings: { profiling: true },
    },
};
// Each platform accepts different providers (AWS: KMS v2 only, on its plugin's socket), so only the provider differs;
// the key name is the one AWS requires every stack to keep.
const LOCAL_ENCRYPTION = { provider: "secretbox" as const, keys: [{ name: "aws-kms" }], resources: ["configmaps"], readUnencrypted: true };
const AWS_ENCRYPTION = { provider: "kms" as const, keys: [{ name: "aws-kms", endpoint: "unix:///var/run/kmsplugin/socket.sock" }], resources: ["configmaps"], readUnencrypted: true };

function local(settings: ClusterSettings): ClusterPlan {
    return planLocalStack({ stack: "cmp", local: { layout: "user", stateDir: "/tmp/hc-plan-cmp" }, settings, toolchainBin: "/toolchain/bin", isRoot: false }).cluster;
}
function aws(settings: ClusterSettings): ClusterPlan {
    return planAwsProgram({ stack: "cmp", aws: baseOptions(), settings }).cluster;
}

describe("cluster plan: the same settings, the same posture on every platform", function () {
    const l = local({ ...SHARED, encryption: LOCAL_ENCRYPTION }).posture;
    const a = aws({ ...SHARED, encryption: AWS_ENCRYPTION }).posture;

    it("agrees on the control plane, audit and PKI, weakenings included", function () {
        assert.deepEqual(l.controlPlane, a.controlPlane);
        assert.deepEqual(l.audit, a.audit);
        assert.deepEqual(l.pki, a.pki);
        // The settings did reach the posture: a comparison of two sets of defaults would prove nothing.
        assert.equal(l.controlPlane.tlsMinVersion, "VersionTLS13");
        assert.ok(l.controlPlane.weakenings.some((w) => w.option.endsWith("weakenings.profiling")));
        assert.ok(l.pki.weakenings.some((w) => w.option.endsWith("algorithm")));
    });

    it("agrees on encryption apart from the provider each platform must use", function () {
        const strip = (p: typeof l.encryption) => ({ ...p, writeProvider: undefined, weakenings: p.weakenings.filter((w) => !w.option.endsWith("provider")) });
        assert.deepEqual(strip(l.encryption), strip(a.encryption));
        assert.deepEqual([l.encryption.writeProvider, a.encryption.writeProvider], ["secretbox", "kms"]);
    });

    it("shows the encryption and audit weakenings on the local platform too", function () {
        assert.ok(l.encryption.weakenings.some((w) => w.option.endsWith("readUnencrypted")), JSON.stringify(l.encryption.weakenings));
        assert.ok(l.audit.weakenings.some((w) => w.option.endsWith("preset")), JSON.stringify(l.audit.weakenings));
        assert.equal(l.audit.webhook, true);
    });

    it("keeps what only the platform decides under platform", function () {
        assert.deepEqual([l.platform.name, l.platform.members], ["local", ["control-plane"]]);
        assert.deepEqual([a.platform.name, a.platform.members], ["aws", ["cp-0", "cp-1", "cp-2"]]);
    });
});

/** Files a process reads through another file: the event limits through the admission config, client pairs through kubeconfigs. */
function readThroughFiles(l: FileLayout): Set<string> {
    return new Set([configFile(l, "eventRateLimit"), ...["controller-manager-client", "scheduler-client"].flatMap((b) => Object.values(pkiPair(l, b)))]);
}

/** Absolute paths a command line names, as flag values or comma-separated parts of them. */
function pathsIn(argv: string[]): Set<string> {
    return new Set(argv.flatMap((a) => (a.includes("=") ? a.slice(a.indexOf("=") + 1).split(",") : [])).filter((v) => v.startsWith("/")));
}

function checkReaders(b: NodeBundle, insideOtherFiles: Set<string>): number {
    const files = new Map(b.files.map((f) => [f.path, f]));
    let checked = 0;
    for (const p of b.processes) {
        for (const named of pathsIn(p.argv)) {
            const f = files.get(named);
            if (f === undefined) continue; // directories and files the process writes (data dir, audit log)
            checked++;
            assert.ok(f.readers.includes(p.name), `${p.name} names ${named} but the plan does not list it as a reader`);
        }
    }
    for (const f of b.files) {
        for (const r of f.readers) {
            const argv = b.processes.find((p) => p.name === r)!.argv;
            assert.ok(pathsIn(argv).has(f.path) || insideOtherFiles.has(f.path), `${f.path} lists ${r} as a reader, but ${r}'s command line does not name it`);
        }
    }
    return checked;
}

describe("cluster plan: declared readers match every command line, both ways", function () {
    const settings: ClusterSettings = { ...SHARED, controlPlane: { ...SHARED.controlPlane, authentication: { jwt: [{ url: "https://issuer.example.test", audiences: ["k8s"] }] } } };
    const layout = kubeadmLayout();

    it("on the local platform", function () {
        const plan = local({ ...settings, encryption: LOCAL_ENCRYPTION });
        assert.equal(plan.nodes.length, 1);
        const inside = readThroughFiles(plan.resolved.facts.layout);
        assert.ok(checkReaders(plan.nodes[0], inside) >= 30);
    });

    it("on every node of the local ha topology, each naming only its own files", function () {
        const plan = planLocalStack({ stack: "cmp", local: { layout: "user", stateDir: "/tmp/hc-plan-cmp", topology: "ha" }, settings: { ...settings, encryption: LOCAL_ENCRYPTION }, toolchainBin: "/toolchain/bin", isRoot: false });
        assert.equal(plan.cluster.nodes.length, 3);
        for (const n of plan.nodes) {
            const inside = readThroughFiles(n.node.layout);
            assert.ok(checkReaders(n.bundle, inside) >= (n.node.etcdOnly ? 5 : 30), n.node.name);
            const own = n.node.runDir + "/";
            for (const p of n.bundle.processes) {
                for (const named of pathsIn(p.argv)) {
                    if (named.startsWith("/toolchain/")) continue;
                    assert.ok(named.startsWith(own), `${n.node.name}: ${p.name} names ${named}, outside its node's directory ${own}`);
                }
            }
        }
    });

    it("restarts nothing for a renewed controller-manager or scheduler client pair: client-go reads it again itself", function () {
        const plan = local({ ...settings, encryption: LOCAL_ENCRYPTION });
        const l = plan.resolved.facts.layout;
        const onChange = (p: string) => plan.nodes[0].files.find((f) => f.path === p)?.onChange;
        for (const [base, reader] of [["controller-manager-client", "kube-controller-manager"], ["scheduler-client", "kube-scheduler"]]) {
            for (const p of Object.values(pkiPair(l, base))) {
                assert.equal(onChange(p), "reload", p);
                assert.deepEqual(plan.nodes[0].files.find((f) => f.path === p)!.readers, [reader]);
            }
        }
        // Their kubeconfigs (which now change only with the server or the paths) and serving pairs still restart.
        for (const p of [configFile(l, "controllerManager"), configFile(l, "scheduler"), pkiPair(l, "kube-scheduler").cert]) assert.equal(onChange(p), "restart", p);
    });

    it("on every AWS node", function () {
        const plan = aws({ ...settings, encryption: AWS_ENCRYPTION });
        assert.equal(plan.nodes.length, 3);
        for (const b of plan.nodes) assert.ok(checkReaders(b, readThroughFiles(layout)) >= 30, b.node.name);
    });

    it("writes the audit webhook config the apiserver is pointed at, on both platforms", function () {
        for (const plan of [local({ ...settings, encryption: LOCAL_ENCRYPTION }), aws({ ...settings, encryption: AWS_ENCRYPTION })]) {
            const b = plan.nodes[0];
            const argv = b.processes.find((p) => p.name === "kube-apiserver")!.argv;
            const flag = argv.find((a) => a.startsWith("--audit-webhook-config-file="))!;
            assert.ok(flag, "the apiserver is given a webhook config");
            const file = b.files.find((f) => f.path === flag.split("=")[1]);
            assert.ok(file && "text" in file.content && file.content.text.includes("https://audit.example.test/events"), plan.resolved.facts.platform);
        }
    });

    it("marks key material secret and per-node only where each node has its own", function () {
        const b = aws({ ...settings, encryption: AWS_ENCRYPTION }).nodes[1];
        const keys = b.files.filter((f) => f.path.endsWith(".key"));
        assert.ok(keys.length >= 10);
        for (const f of keys) assert.equal(f.secret, true, f.path);
        assert.deepEqual(b.files.filter((f) => f.scope === "node").map((f) => f.path).sort(), ["/etc/etcd/pki/peer.key", "/etc/etcd/pki/server.key", "/etc/kubernetes/pki/apiserver.key"]);
        for (const f of b.files.filter((x) => x.path.endsWith(".crt"))) assert.equal(f.secret, false, f.path);
    });
});
