// Local worker nodes, planned: local.workers is checked with its key named, the kubelet keeps the shared
// renderer's CIS 4.2 settings (values from the CIS Kubernetes Benchmark 1.12, section 4.2, as kube-bench numbers them) with only this
// machine's facts added, and every file, address and process of the node follows from the stack.
import { strict as assert } from "node:assert";
import { parse } from "yaml";
import { DEFAULT_CLUSTER_KEYS } from "../../../components/cluster";
import { resolveLocal } from "../../../platforms/local/options";
import { tableOf } from "../../../components/pki";
import { localFacts, planLocalStack } from "../../../platforms/local/plan";
import { nodeArgv, planWorkers, renderContainerdConfig, stackTag, workerLink, WorkerPlanInput, workerPosture } from "../../../platforms/local/worker/plan";
import { networkPolicyRbac, renderCniConfig } from "../../../platforms/node-network";
import { servingApproverRbac } from "../../../platforms/serving-approver";
import { planServingApprover } from "../../../platforms/local/worker/serving-approver";

const toolchain = { bin: "/tc/bin", cniBin: "/tc/cni/bin", images: "/tc/images", imageTag: "0123456789ab" };
const input = (over: Partial<WorkerPlanInput> = {}): WorkerPlanInput => ({
    stack: "dev", count: 2, runDir: "/var/lib/hardened-cluster/dev", apiServerPort: 6443, settings: {}, keys: DEFAULT_CLUSTER_KEYS,
    toolchain, ...over,
});

describe("local workers: the local.workers setting", () => {
    it("refuses a fifth worker, saying why", () => {
        assert.throws(() => resolveLocal({ layout: "system", workers: 5 }, "dev", "local", true),
            (e: Error) => /local\.workers/.test(e.message) && /at most 4/.test(e.message) && /whole node/.test(e.message));
        assert.equal(resolveLocal({ layout: "system", workers: 4 }, "dev", "local", true).workers, 4);
    });
    it("refuses workers in the ha topology, where Pods cannot reach the API servers", () => {
        assert.throws(() => resolveLocal({ layout: "system", workers: 1, topology: "ha" }, "dev", "local", true),
            (e: Error) => /local\.workers/.test(e.message) && /ha topology runs no worker/.test(e.message) && /set it to 0/.test(e.message));
    });
    it("refuses a cluster CA rotation while workers run, whose kubelets would keep old-CA certificates past distrust-old, and lets it run without them", () => {
        const plan = (workers: number, phase: string) => planLocalStack({
            stack: "dev", local: { layout: "system", workers }, settings: { pki: { rotation: { kubernetes: { generation: 2, phase } } } as never },
            toolchainBin: "/tc/bin", isRoot: true, liveChecks: false,
        });
        let refused = 0;
        for (const phase of ["trust-both", "issue-new", "distrust-old"]) {
            assert.throws(() => plan(1, phase), (e: Error) => /pki\.rotation\.kubernetes\.phase/.test(e.message) && /local\.workers is 1/.test(e.message) && /set local\.workers to 0 first/.test(e.message), phase);
            refused++;
            assert.equal(plan(0, phase).workers.length, 0, phase);
        }
        assert.equal(refused, 3);
        assert.equal(plan(1, "steady").workers.length, 1);
        // The etcd CA's rotation does not concern the kubelets.
        assert.equal(planLocalStack({ stack: "dev", local: { layout: "system", workers: 1 }, settings: { pki: { rotation: { etcd: { generation: 2, phase: "trust-both" } } } as never }, toolchainBin: "/tc/bin", isRoot: true, liveChecks: false }).workers.length, 1);
    });
    for (const bad of [-1, 5, 1.5, "1"]) {
        it(`refuses local.workers ${JSON.stringify(bad)}, naming the key`, () => {
            assert.throws(() => resolveLocal({ layout: "system", workers: bad as number }, "dev", "local", true), /local\.workers/);
        });
    }
    it("refuses workers without root, saying a control plane alone still works", () => {
        assert.throws(() => resolveLocal({ layout: "user", stateDir: "/nonexistent/hc", workers: 1 }, "dev", "local", false),
            (e: Error) => /local\.workers/.test(e.message) && /needs root/.test(e.message) && /set it to 0/.test(e.message));
    });
    it("defaults to one worker where a node can run: root, the system layout, the single topology", () => {
        const l = resolveLocal({}, "dev", "local", true);
        assert.deepEqual([l.layoutKind, l.topology, l.workers, l.noWorkerWarning], ["system", "single", 1, undefined]);
        assert.equal(resolveLocal({ layout: "system", workers: 0 }, "dev", "local", true).workers, 0);
        assert.deepEqual(planWorkers(input({ count: 0 })), []);
    });
    it("defaults to none without root, and says why (the control plane still comes up)", () => {
        const l = resolveLocal({ layout: "user", stateDir: "/nonexistent/hc" }, "dev", "local", false);
        assert.equal(l.workers, 0);
        assert.match(l.noWorkerWarning ?? "", /^local\.workers: no worker node, the control plane runs alone: .*needs root/);
        const asked = resolveLocal({ layout: "user", stateDir: "/nonexistent/hc", workers: 0 }, "dev", "local", false);
        assert.equal(asked.noWorkerWarning, undefined, "no reason to warn when the stack asks for none");
    });
    it("defaults to none in the ha topology, and says why", () => {
        const l = resolveLocal({ layout: "system", topology: "ha" }, "dev", "local", true);
        assert.equal(l.workers, 0);
        assert.match(l.noWorkerWarning ?? "", /^local\.workers: .*ha topology/);
    });
    it("puts this machine's end of each worker's link in the API server certificate's addresses", () => {
        const l = resolveLocal({ layout: "system", workers: 1 }, "dev", "local", true);
        const facts = localFacts(l, "/tc/bin");
        assert.deepEqual(facts.endpoint.ipAddresses, ["127.0.0.1", workerLink("dev", 0).hostIp]);
        assert.equal(facts.members[0].advertiseAddress, workerLink("dev", 0).hostIp, "the kubernetes Service points at the relay");
    });
});

describe("local workers: the node plan", () => {
    const [w1, w2] = planWorkers(input());

    it("gives each worker its own /30 link, /24 of the Pod range, namespace, cgroup and interfaces", () => {
        assert.equal(w1.name, "worker-1");
        const [a, b] = [w1, w2].map((w) => w.hostIp.split(".").map(Number));
        assert.equal(a[3], 1);
        assert.equal(b[3], 5);
        assert.equal(w1.nodeIp.split(".")[3], "2");
        assert.deepEqual([w1.podCidr, w2.podCidr], ["10.244.0.0/24", "10.244.1.0/24"]);
        assert.notEqual(w1.netns, w2.netns);
        // Pod to Pod between nodes: through this machine, only into this stack's node links.
        assert.deepEqual([w1.clusterPodCidr, w2.clusterPodCidr], ["10.244.0.0/16", "10.244.0.0/16"]);
        assert.equal(w1.linkPrefix, w2.linkPrefix);
        for (const w of [w1, w2]) assert.ok(w.veth.host.startsWith(w.linkPrefix) && !w.veth.node.startsWith(w.linkPrefix));
        assert.notEqual(planWorkers(input({ stack: "prod" }))[0].linkPrefix, w1.linkPrefix, "another stack's links are not this one's");
        for (const w of [w1, w2]) {
            assert.ok(w.veth.host.length <= 15 && w.veth.node.length <= 15, "interface names are limited to 15 characters");
            assert.ok(w.netns.includes(stackTag("dev")));
            assert.ok(w.root.startsWith("/var/lib/hardened-cluster/dev/workers/"));
        }
        assert.notEqual(stackTag("dev"), stackTag("prod"));
    });

    it("keeps the shared renderer's CIS 4.2 kubelet settings and adds only this machine's facts", () => {
        const c = w1.kubeletConfig as any;
        assert.equal(c.authentication.anonymous.enabled, false); // 4.2.1
        assert.equal(c.authorization.mode, "Webhook"); // 4.2.2
        assert.equal(c.authentication.x509.clientCAFile, "/etc/kubernetes/pki/ca.crt"); // 4.2.3
        assert.equal(c.readOnlyPort, 0); // 4.2.4
        assert.notEqual(c.streamingConnectionIdleTimeout, "0s"); // 4.2.5
        assert.equal(c.makeIPTablesUtilChains, true); // 4.2.6
        assert.equal(c.rotateCertificates, true); // 4.2.10
        assert.equal(c.serverTLSBootstrap, true); // 4.2.11
        assert.equal(c.seccompDefault, true); // 4.2.14
        assert.equal(c.protectKernelDefaults, true); // CIS 1.8's 4.2.6, kept
        assert.equal(c.cgroupRoot, `/hardened-cluster-${stackTag("dev")}-worker-1`);
        assert.equal(c.failCgroupV1, false);
        assert.equal(c.containerRuntimeEndpoint, "unix:///run/containerd/containerd.sock");
    });

    it("writes the kubelet config and bootstrap kubeconfig 0600 and the CA 0644, at kubeadm's paths", () => {
        const modes = Object.fromEntries(w1.files.map((f) => [f.path, f.mode]));
        assert.equal(modes["/etc/kubernetes/kubelet-config.yaml"], 0o600); // 4.1.9
        assert.equal(modes["/etc/kubernetes/bootstrap-kubelet.conf"], 0o600);
        assert.equal(modes["/etc/kubernetes/pki/ca.crt"], 0o644); // 4.1.7
        assert.equal(modes["/etc/kubernetes/kube-proxy.conf"], 0o600); // 4.1.3
        assert.ok(w1.files.every((f) => f.mode === 0o600 || f.path.endsWith(".crt")));
        assert.deepEqual(parse((w1.files.find((f) => f.path === "/etc/kubernetes/kubelet-config.yaml")!.content as { text: string }).text), w1.kubeletConfig);
    });

    it("runs registry, containerd, kubelet, then kube-proxy and kube-router, each entered into the node's namespaces", () => {
        assert.deepEqual(w1.processes.map((p) => p.name), ["registry", "containerd", "kubelet", "kube-proxy", "kube-router"]);
        assert.deepEqual(w1.processes.map((p) => p.after), [[], ["registry"], ["containerd"], ["kubelet"], ["kubelet"]]);
        const argv = nodeArgv(w1, w1.processes[2].argv);
        assert.deepEqual(argv.slice(0, 4), ["/usr/bin/nsenter", `--net=/run/netns/${w1.netns}`, `--mount=${w1.mountNs}`, "--"]);
        assert.ok(argv.includes(`--node-ip=${w1.nodeIp}`) && argv.includes("--hostname-override=worker-1"));
        assert.ok(argv.includes("--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf"));
        for (const p of w1.processes) assert.equal(p.health.kind === "command" || p.health.kind === "unix", true);
        assert.equal(w1.server, `https://${w1.hostIp}:6443`);
    });

    it("runs kube-proxy in nftables mode, binds its metrics and health endpoints to the node's loopback (CIS 4.3.1) and leaves conntrack sizing alone", () => {
        const cfg = parse((w1.files.find((f) => f.path === "/etc/kubernetes/kube-proxy-config.yaml")!.content as { text: string }).text);
        assert.equal(cfg.metricsBindAddress, "127.0.0.1:10249");
        // Its own nftables table: kube-router rewrites the iptables filter table whole and would race it there.
        assert.equal(cfg.mode, "nftables");
        assert.match(cfg.healthzBindAddress, /^127\.0\.0\.1:/);
        assert.equal(cfg.clientConnection.kubeconfig, "/etc/kubernetes/kube-proxy.conf");
        assert.equal(cfg.hostnameOverride, "worker-1");
        assert.equal(cfg.clusterCIDR, "10.244.0.0/16");
        assert.equal(cfg.conntrack.maxPerCore, 0);
    });

    it("refuses kubelet settings a local worker cannot honour, naming each", () => {
        const cases: [Record<string, unknown>, RegExp][] = [
            [{ containerRuntimeEndpoint: "unix:///run/crio/crio.sock" }, /controlPlane\.kubelet\.containerRuntimeEndpoint/],
            [{ cgroupDriver: "systemd" }, /controlPlane\.kubelet\.cgroupDriver/],
        ];
        assert.equal(cases.length, 2);
        for (const [kubelet, want] of cases) assert.throws(() => planWorkers(input({ settings: { controlPlane: { kubelet } as never } })), want);
    });

    it("refuses a Pod range too small for a /24 per worker", () => {
        assert.throws(() => planWorkers(input({ count: 4, settings: { controlPlane: { network: { podCidr: "10.244.0.0/23" } } as never } })), /controlPlane\.network\.podCidr/);
    });

    it("names images by the toolchain's tag and pulls them only from the node's registry", () => {
        const toml = renderContainerdConfig(toolchain, "cgroupfs");
        assert.match(toml, /sandbox = "localhost\/hardened-cluster\/pause:0123456789ab"/);
        assert.match(toml, /restrict_oom_score_adj = true/);
        assert.match(toml, /BinaryName = "\/tc\/bin\/runc"/);
        assert.match(toml, /bin_dirs = \["\/tc\/cni\/bin"\]/);
        const cni = JSON.parse(renderCniConfig("10.244.3.0/24"));
        assert.equal(cni.plugins[0].ipam.ranges[0][0].subnet, "10.244.3.0/24");
        assert.equal(cni.plugins[0].ipMasq, false, "Pods' traffic is never masqueraded out of the node");
    });
});

describe("local workers: the NetworkPolicy enforcer", () => {
    const [w1] = planWorkers(input({ count: 1 }));
    const router = w1.processes.find((p) => p.name === "kube-router")!;
    it("runs kube-router's firewall controller and turns off the controllers the advisories against v2.1.0 concern", () => {
        // GHSA-phqm-jgc3-qf8g is in the service proxy, GHSA-v5mh-h5hx-7v92 in the BGP routing controller.
        for (const flag of ["--run-firewall=true", "--run-router=false", "--run-service-proxy=false", "--run-loadbalancer=false", "--metrics-port=0"]) {
            assert.ok(router.argv.includes(flag), `missing ${flag}`);
        }
        assert.ok(router.argv.includes("--hostname-override=worker-1"));
        assert.ok(router.argv.includes("--service-cluster-ip-range=10.96.0.0/12"));
        assert.equal(router.argv[0], "/tc/bin/kube-router");
    });
    it("reads the API with its own kubeconfig, 0600, and is the only reader of it", () => {
        const f = w1.files.find((x) => x.path === "/etc/kubernetes/kube-router.conf")!;
        assert.deepEqual([f.mode, f.readers, f.content], [0o600, ["kube-router"], { networkPolicyKubeconfig: true }]);
        assert.ok(router.argv.includes("--kubeconfig=/etc/kubernetes/kube-router.conf"));
    });
    it("may only read what it builds rules from", () => {
        const { clusterRole, binding } = networkPolicyRbac();
        const rules = (clusterRole as { rules: { verbs: string[]; resources: string[] }[] }).rules;
        assert.ok(rules.length >= 3);
        for (const r of rules) assert.deepEqual(r.verbs, ["get", "list", "watch"], r.resources.join());
        assert.deepEqual((binding as { subjects: unknown[] }).subjects, [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "hardened-cluster:network-policy" }]);
    });
    it("has a client certificate only when the stack has workers: no group, cluster CA; a stack may not ask for one", () => {
        const withWorkers = planLocalStack({ stack: "dev", local: { layout: "system", workers: 1 }, toolchainBin: "/tc/bin", isRoot: true, liveChecks: false });
        const row = tableOf(withWorkers.cluster.resolved.pkiResolved).find((r) => r.name === "network-policy-client");
        assert.ok(row, "no network-policy row");
        assert.deepEqual([row.commonName, row.organizations, row.ca], ["hardened-cluster:network-policy", [], "kubernetes"]);
        const none = planLocalStack({ stack: "dev", local: { layout: "system", workers: 0 }, toolchainBin: "/tc/bin", isRoot: true, liveChecks: false });
        assert.equal(tableOf(none.cluster.resolved.pkiResolved).some((r) => r.name === "network-policy-client"), false);
        assert.throws(() => planLocalStack({ stack: "dev", local: { layout: "system" }, settings: { pki: { networkPolicyClient: true } as never }, toolchainBin: "/tc/bin", isRoot: true, liveChecks: false }),
            /pki\.networkPolicyClient/);
    });
    it("says so in the posture", () => {
        assert.match(String(workerPosture({ workers: [w1] })!.networkPolicyEnforcement), /^kube-router \(firewall controller only/);
    });
});

describe("local workers: kube-proxy's identity", () => {
    it("is issued only when the stack has workers: CN system:kube-proxy, no group, cluster CA", () => {
        const withWorkers = planLocalStack({ stack: "dev", local: { layout: "system", workers: 1 }, toolchainBin: "/tc/bin", isRoot: true, liveChecks: false });
        const row = tableOf(withWorkers.cluster.resolved.pkiResolved).find((r) => r.name === "kube-proxy-client");
        assert.ok(row, "no kube-proxy row");
        assert.equal(row.commonName, "system:kube-proxy");
        assert.deepEqual(row.organizations, []);
        assert.equal(row.ca, "kubernetes");
        assert.deepEqual(row.usages, ["digital_signature", "key_encipherment", "client_auth"]);
        const none = planLocalStack({ stack: "dev", local: { layout: "system", workers: 0 }, toolchainBin: "/tc/bin", isRoot: true, liveChecks: false });
        assert.equal(tableOf(none.cluster.resolved.pkiResolved).some((r) => r.name === "kube-proxy-client"), false);
    });
    it("is the platform's to issue: a stack that sets pki.kubeProxyClient is refused, naming the key", () => {
        assert.throws(() => planLocalStack({ stack: "dev", local: { layout: "system" }, settings: { pki: { kubeProxyClient: true } as never }, toolchainBin: "/tc/bin", isRoot: true, liveChecks: false }),
            /pki\.kubeProxyClient/);
    });
});

describe("local workers: the serving-certificate approver", () => {
    it("reads the API as its own user, from files under the stack's run directory, and is healthy once it has listed the requests", () => {
        const a = planServingApprover("/var/lib/hardened-cluster/dev", "/tc/bin", "https://127.0.0.1:6443");
        assert.equal(a.argv[0], "/tc/bin/hc-csr-approver");
        for (const f of [a.caFile, a.certFile, a.keyFile, a.statusFile]) assert.ok(f.startsWith("/var/lib/hardened-cluster/dev/csr-approver/"), f);
        assert.ok(a.argv.includes("-server=https://127.0.0.1:6443") && a.argv.includes(`-key-file=${a.keyFile}`));
        assert.deepEqual(a.health, { kind: "status-file", path: a.statusFile });
    });
    it("may approve only for the kubelet-serving signer, and change nothing but approvals", () => {
        const rules = (servingApproverRbac().clusterRole as { rules: { resources: string[]; verbs: string[]; resourceNames?: string[] }[] }).rules;
        assert.equal(rules.length, 4);
        const approve = rules.filter((r) => r.verbs.includes("approve"));
        assert.deepEqual(approve, [{ apiGroups: ["certificates.k8s.io"], resources: ["signers"], resourceNames: ["kubernetes.io/kubelet-serving"], verbs: ["approve"] }]);
        const writes = rules.filter((r) => r.verbs.some((v) => !["get", "list", "watch"].includes(v)));
        assert.deepEqual(writes.flatMap((r) => r.resources).sort(), ["certificatesigningrequests/approval", "signers"]);
    });
    it("has a client certificate only when the stack has workers: no group, cluster CA; a stack may not ask for one", () => {
        const withWorkers = planLocalStack({ stack: "dev", local: { layout: "system", workers: 1 }, toolchainBin: "/tc/bin", isRoot: true, liveChecks: false });
        const row = tableOf(withWorkers.cluster.resolved.pkiResolved).find((r) => r.name === "csr-approver-client");
        assert.ok(row, "no csr-approver row");
        assert.deepEqual([row.commonName, row.organizations, row.ca], ["hardened-cluster:csr-approver", [], "kubernetes"]);
        assert.throws(() => planLocalStack({ stack: "dev", local: { layout: "system" }, settings: { pki: { servingApproverClient: true } as never }, toolchainBin: "/tc/bin", isRoot: true, liveChecks: false }),
            /pki\.servingApproverClient/);
    });
});
