// The boot drill's last case: a whole rotation of the three CAs (cluster, etcd, front-proxy) together through the
// running nodes, as the local platform's ca-rotation spec rotates them. Each phase is the staging
// stack rendered again by the real program on the mock monitor, with the keys and certificates of the renders
// before it (real-tls.ts keeps them as the engine's state would), then what an up does and what follows it:
// the program's own API access (its readiness gate, AdminBootstrap and the Kubernetes provider, applied by the
// real engine) before any node has synced; the changed parameters; each node's sync and the restarts it asks
// for; each node's report; and the program's rendered gate for the next phase, on those reports.
import { strict as assert } from "node:assert";
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { allowCaRotationStep, CaRotationGateInputs } from "../../components/pki/ca-rotation-gate";
import type { CaRotation } from "../../components/pki/ca-rotation";
import type { CaName } from "../../components/pki/certlist";
import { mintClientCert } from "../../components/pki/ephemeral";
import { KMS_PLUGIN_UNIT } from "../../platforms/aws/control-plane";
import { KUBELET_CLIENT_CERT, KUBELET_REJOIN_SCRIPT } from "../../platforms/aws/kubelet-rejoin";
import { REPORT_SCRIPT } from "../../platforms/aws/report";
import { KUBELET_CONFIG_PATH } from "../../platforms/aws/workers";
import { KUBE_PROXY_CONFIG_PATH } from "../../platforms/node-network";
import { engineConfig, ROOT, runInChild } from "../unit/program/program-child";
import { unwrapSecret } from "../unit/program/mock-engine";
import type { StackRun } from "../unit/program/run-stack";
import { inClusterConfig, withServer } from "./aws-in-cluster";
import { Host, inNode, nodePath, startUnit } from "./aws-node";
import { ANYONE, BootDrill, CLUSTER, ports, STACK } from "./aws-boot-drill";
import { assertKubeBench } from "./aws-boot-bench";
import { CLUSTER_CA, fingerprintsOf, PEM } from "./aws-boot-reports";
import type { ControlPlaneState } from "./aws-boot-control-plane";
import { fromKubeconfig, request } from "./kube";
import { until } from "./processes";

const PARAM = "aws:ssm/parameter:Parameter";
/** Each domain's gate as the program names it (after kubeadm's files: ca, etcd-ca, front-proxy-ca). */
const DOMAINS: [CaName, string][] = [["kubernetes", "aws-pki-ca-rotation"], ["etcd", "aws-pki-etcd-ca-rotation"], ["frontProxy", "aws-pki-front-proxy-ca-rotation"]];
/** The trust file of each domain on a control-plane node that the drill reads the old CA from. */
const FIRST_TRUST: Record<CaName, string> = { kubernetes: CLUSTER_CA, etcd: "/etc/kubernetes/pki/etcd/ca.crt", frontProxy: "/etc/kubernetes/pki/front-proxy-ca.crt" };

export function rotationCases(d: BootDrill, cp: ControlPlaneState): void {
    it("the three CAs rotate through the running nodes, one rendered phase per up: the program reaches the API before any node syncs, each node takes the phase up through its sync, and the program's gates let the next phase through only on what the nodes then report", async function () {
        this.timeout(1_800_000);
        assert.ok(cp.applied && cp.inCluster && cp.worker, "the in-cluster half applied and the first worker joined above");
        const { server } = cp.applied;
        const w = cp.worker;
        const nodes = [...cp.hosts, w];
        const baseline = JSON.parse(engineConfig(path.join(ROOT, `stacks/Pulumi.${STACK}.yaml`))["hardened-cluster:baseline"]);
        const h0 = cp.hosts[0];
        const oldSigner = { cert: fs.readFileSync(h0.root + CLUSTER_CA, "utf8"), key: fs.readFileSync(h0.root + CLUSTER_CA.replace(/\.crt$/, ".key"), "utf8") };
        // An etcd client pair from the old etcd CA, kept outside the node's files.
        const oldEtcdPair = ["crt", "key"].map((x) => {
            const to = path.join(d.tmp, `old-etcd-client.${x}`);
            fs.copyFileSync(h0.root + `/etc/kubernetes/pki/etcd/healthcheck-client.${x}`, to);
            return to;
        });

        /** The stack as `pulumi up` would render it with this rotation; the TLS state of the renders before it kept. */
        let n = 0;
        const render = (r: CaRotation): StackRun => {
            const config = { ...engineConfig(path.join(ROOT, `stacks/Pulumi.${STACK}.yaml`)), "hardened-cluster:pki": JSON.stringify({ rotation: { kubernetes: r, etcd: r, frontProxy: r } }) };
            const out = path.join(d.tmp, `rotation-${++n}.json`);
            const run = runInChild<StackRun>(`stack ${STACK} ${r.phase}`, path.join(ROOT, "test/unit/program/run-stack.ts"), config, d.tmp, out,
                { HC_TEST_STACK: STACK, HC_TEST_REAL_TLS: path.join(d.tmp, "tls"), HC_TOOLCHAIN_DIR: d.tc.dir, HC_TEST_RUNNING_WORKERS: w.address });
            assert.deepEqual(run.errors, [], r.phase);
            return run;
        };
        const paramsOf = (run: StackRun) => new Map(run.resources.filter((x) => x.type === PARAM && !x.inputs.name.startsWith(`/${CLUSTER}/reports/`))
            .map((x) => [x.inputs.name as string, unwrapSecret<string>(x.inputs.value)]));
        const userData = (run: StackRun) => run.resources.filter((x) => x.type === "aws:ec2/launchTemplate:LaunchTemplate").map((x) => [x.name, x.inputs.userData]);

        /** What systemd does for a sync's try-restart: a unit that runs is stopped and started again. */
        const restart = async (h: Host, calls: string[]) => {
            assert.ok(calls.every((c) => c.startsWith("try-restart -- ")), calls.join("\n"));
            const units = calls.flatMap((c) => c.slice("try-restart -- ".length).split(" ")).map((u) => u.replace(/\.service$/, ""));
            for (const unit of units) {
                const p = h.units.get(unit);
                if (!p || p.exitCode !== null || p.signalCode !== null) continue;
                const exited = new Promise((resolve) => p.once("exit", resolve));
                p.kill("SIGTERM");
                await exited;
                // Each as the cases before started it: the plugin on the emulator, kube-proxy with the drill's copy of its config.
                const env = unit === KMS_PLUGIN_UNIT ? d.moto.env(ANYONE, { AWS_ENDPOINT_URL: `http://127.0.0.1:${ports.apiServer}` }) : {};
                startUnit(h, unit, env, h === w ? (unit === "kube-proxy" ? [[`--config=${KUBE_PROXY_CONFIG_PATH}`, "--config=/etc/kubernetes/kube-proxy-config.drill.yaml"]] : []) : [[cp.mockSecretsKey, cp.secretsKey]]);
            }
            return units;
        };
        const ready = async (h: Host) => {
            await until(`${h.node} etcd healthy`, 120, async () => (cp.etcdctl(h, ["endpoint", "health"]).status === 0 ? true : undefined));
            await until(`${h.node} apiserver ready`, 180, async () => (cp.kubectl(h, ["get", "--raw", "/readyz"]).status === 0 ? true : undefined));
        };
        /** Every node's sync, then what systemd would restart; the workers after the control plane, whose signer they follow. */
        const syncAll = async () => {
            const restarted: Record<string, string[]> = {};
            for (const h of nodes) {
                const s = d.sync(h.root, h.cc);
                assert.equal(s.status, 0, `${h.node}: ${s.stdout}${s.stderr}`);
                restarted[h.node] = await restart(h, s.calls);
                if (h !== w) await ready(h);
            }
            return restarted;
        };
        /** Each node's report script, run in the node after its sync, as ExecStopPost runs it. */
        const reportAll = () => {
            for (const h of nodes) {
                const script = h.cc.write_files.find((f) => f.path === REPORT_SCRIPT)!.content;
                const env = Object.entries(d.moto.env(ANYONE)).map(([k, v]) => `${k}=${v}`);
                const r = inNode(h, ["env", ...env, "bash", "-s"], script);
                assert.equal(r.status, 0, `${h.node}: ${r.stdout}${r.stderr}`);
            }
        };
        /** A domain's rendered gate, on the reports as the program reads them (by path, recursively) and the relayed API. */
        const gateOf = (run: StackRun, name: string): CaRotationGateInputs => {
            const g = run.resources.find((x) => x.name === name);
            assert.ok(g, `no ${name} rendered`);
            const i = Object.fromEntries(Object.entries(g.inputs).map(([k, v]) => [k, unwrapSecret(v)])) as unknown as CaRotationGateInputs;
            assert.ok(i.reports, `${name} reads the reports`);
            const under = `/${CLUSTER}/reports`;
            const found = JSON.parse(d.awsCli(["ssm", "get-parameters-by-path", "--path", under, "--recursive"])).Parameters as { Name: string; Value: string }[];
            // cp-2 never runs in the drill; every node that does is expected as the program expects it.
            const expected = i.reports.expected.filter((e) => e.node !== "cp-2");
            assert.deepEqual(expected.map((e) => e.node), [...cp.hosts.map((h) => h.node), `workers/${w.address}`]);
            return { ...i, reports: { ...i.reports, expected, api: server, reports: Object.fromEntries(found.map((p) => [p.Name.slice(under.length + 1), p.Value])) } };
        };
        const problemsOf = async (previous: CaRotation, inputs: CaRotationGateInputs): Promise<string[]> => {
            try {
                await allowCaRotationStep(previous, inputs, true);
                return [];
            } catch (e) {
                return (e as Error).message.split("\n").slice(1).map((l) => l.trim());
            }
        };
        /** The up's API access, before any node syncs: the readiness gate, AdminBootstrap, the prune and the provider's objects. */
        const up = async (run: StackRun) => {
            await cp.inCluster!.stack.setAllConfig(inClusterConfig(run, server, CLUSTER, baseline));
            const result = await cp.inCluster!.stack.up({ onOutput: (o) => process.env.HC_E2E_VERBOSE && process.stdout.write(o) });
            assert.equal(result.summary.result, "succeeded");
            const admin = fromKubeconfig(withServer(unwrapSecret<string>(run.outputs.kubeconfig), server));
            assert.equal((await request(admin, "GET", "/api/v1/namespaces/kube-system/secrets")).status, 200);
            return admin;
        };
        const servedBy = (h: Host) => new X509Certificate(fs.readFileSync(h.root + "/etc/kubernetes/pki/apiserver.crt", "utf8"));

        /** Puts each parameter whose value the emulator does not hold yet, as `pulumi up` updates only those; their names. */
        const deliver = (params: Map<string, string>): string[] => {
            const stored = d.stored();
            const changed = [...params].filter(([name, value]) => stored.get(name) !== value).map(([name]) => name).sort();
            d.ssm(changed.map((name) => d.put({ ...d.param(name), value: params.get(name)! }, { Overwrite: true })));
            return changed;
        };
        const seconds: Record<string, number[]> = {};
        const timed = async <T>(phase: string, f: () => Promise<T> | T): Promise<T> => {
            const started = Date.now();
            const v = await f();
            (seconds[phase] ??= []).push(Math.round((Date.now() - started) / 1000));
            return v;
        };

        // Back to the stack as rendered (earlier cases changed parameters), every node synced and reporting.
        const steady = paramsOf(d.run);
        assert.ok(deliver(steady).length > 0, "an earlier case left a second etcd CA on cp-0's parameters");
        await syncAll();
        reportAll();
        const oldFps = Object.fromEntries(DOMAINS.map(([domain]) => {
            const fps = fingerprintsOf(h0, FIRST_TRUST[domain]);
            assert.equal(fps.length, 1, domain);
            return [domain, fps[0]];
        })) as Record<CaName, string>;
        assert.equal(new Set(Object.values(oldFps)).size, 3);

        let previous: CaRotation = { generation: 1, phase: "steady" };
        let last: StackRun | undefined;
        let current = steady;
        const newFps = {} as Record<CaName, string>;
        const phases: CaRotation[] = [
            { generation: 2, phase: "trust-both" }, { generation: 2, phase: "issue-new" }, { generation: 2, phase: "distrust-old" }, { generation: 2, phase: "steady" },
        ];
        const changedPerPhase: string[][] = [];
        for (const phase of phases) {
            const run = await timed(phase.phase, () => render(phase));
            // A rotation reaches the nodes through their parameters only: no launch template changes.
            assert.deepEqual(userData(run), userData(d.run), phase.phase);
            const params = paramsOf(run);
            assert.deepEqual([...params.keys()].sort(), [...current.keys()].sort(), phase.phase);
            const gates = Object.fromEntries(DOMAINS.map(([domain, name]) => [domain, gateOf(run, name)])) as Record<CaName, CaRotationGateInputs>;
            for (const [domain] of DOMAINS) {
                const fp = new X509Certificate(gates[domain].newCaCertPem).fingerprint256;
                if (phase.phase === "trust-both") newFps[domain] = fp;
                assert.equal(fp, newFps[domain], `one new ${domain} CA across the phases`);
                assert.notEqual(fp, oldFps[domain], domain);
                // Each gate, as the up runs it first, on what the nodes reported after the last phase. The drill's
                // kubelet stops at the container runtime and never serves on its port, which the worker's report
                // says; a running kubelet serves a certificate the CA it trusts signed. Nothing else may hold a step back.
                const problems = await problemsOf(previous, gates[domain]);
                const notServing = `workers/${w.address} kubelet: `;
                assert.deepEqual(problems.filter((p) => !p.startsWith(notServing)), [], `${domain} ${previous.phase} -> ${phase.phase}`);
                assert.equal(problems.length, domain === "kubernetes" && phase.phase === "distrust-old" ? 1 : 0, problems.join("\n"));
            }
            const newSigner = gates.kubernetes.newCaCertPem;

            const admin = await timed(phase.phase, () => up(run));
            if (phase.phase === "issue-new") {
                // The nodes have not synced: every apiserver still serves the old CA's leaf, which the program's
                // clients verified above with the bundle, while their credentials came from the new CA.
                for (const h of cp.hosts) assert.ok(servedBy(h).checkIssued(new X509Certificate(oldSigner.cert)), h.node);
                assert.ok(new X509Certificate(admin.certPem!).checkIssued(new X509Certificate(newSigner)), "the admin credential is the new CA's");
            }
            if (phase.phase === "distrust-old") {
                // Before the nodes sync, the step to steady is refused for each domain: every trust file still holds
                // the old CA, which a process would go on trusting (an apiserver, publishing it again after the prune).
                for (const [domain] of DOMAINS) {
                    const expected = gates[domain].reports!.expected.flatMap((e) => e.trust[domain].map((f) => `${e.node} ${f}: still holds another CA than the new one`));
                    assert.ok(expected.length >= 2, `${domain}: ${expected.join("\n")}`);
                    assert.deepEqual(await problemsOf(phase, { ...gates[domain], phase: "steady" }), expected, domain);
                }
            }
            if (phase.phase === "steady") {
                // Every node took distrust-old up, so the prune at this up is for good: the apiservers publish the new CAs alone.
                const cm = (await request(admin, "GET", "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication")).json();
                const published = (field: string) => (cm.data[field].match(PEM) ?? []).map((b: string) => new X509Certificate(b).fingerprint256);
                assert.deepEqual([published("client-ca-file"), published("requestheader-client-ca-file")], [[newFps.kubernetes], [newFps.frontProxy]]);
            }

            changedPerPhase.push(deliver(params));
            const restarted = await timed(phase.phase, () => syncAll());
            if (phase.phase === "trust-both") {
                for (const unit of ["etcd", "kube-apiserver", "kube-controller-manager"]) assert.ok(restarted["cp-0"].includes(unit), `${unit}: ${JSON.stringify(restarted)}`);
            }
            if (phase.phase === "issue-new") {
                // The worker's kubelet holds the old signer's certificate: the rejoin (the sync's ExecStartPost)
                // removes it, and the kubelet joins again, signed by the new CA the controller managers now use.
                const systemctl = d.standInSystemctl();
                const script = w.cc.write_files.find((f) => f.path === KUBELET_REJOIN_SCRIPT)!.content;
                const rejoin = inNode(w, ["env", `PATH=${systemctl.bin}:${process.env.PATH}`, "bash", "-s"], script);
                assert.equal(rejoin.status, 0, rejoin.stdout + rejoin.stderr);
                assert.deepEqual(systemctl.calls(), ["try-restart -- kubelet.service"]);
                const kubelet = startUnit(w, "kubelet", {}, [[`--config=${KUBELET_CONFIG_PATH}`, "--config=/etc/kubernetes/kubelet-config.drill.yaml"]], { runPre: false });
                await until("the kubelet's join with the new signer", 180, async () => (kubelet.exitCode !== null ? true : undefined));
                const held = inNode(w, ["cat", "--", KUBELET_CLIENT_CERT]);
                assert.equal(held.status, 0, fs.readFileSync(path.join(w.root, "kubelet.log"), "utf8").slice(-3000));
                assert.ok(new X509Certificate(held.stdout).checkIssued(new X509Certificate(newSigner)), "the kubelet's new certificate is the new CA's");
            }
            reportAll();
            // What each control-plane node holds and serves now, for each domain: its trust files as node:crypto
            // reads them, and the CA of each leaf it serves as its report names it (the handshake, in the node).
            const bothTrusted = phase.phase === "trust-both" || phase.phase === "issue-new";
            const reports = gateOf(run, DOMAINS[0][1]).reports!;
            let checked = 0;
            for (const [domain] of DOMAINS) {
                for (const e of reports.expected.filter((x) => !x.node.startsWith("workers/"))) {
                    const h = cp.hosts.find((x) => x.node === e.node)!;
                    for (const f of e.trust[domain]) {
                        assert.deepEqual(fingerprintsOf(h, f).sort(), (bothTrusted ? [oldFps[domain], newFps[domain]] : [newFps[domain]]).sort(), `${h.node} ${f} ${phase.phase}`);
                        checked++;
                    }
                    const served = JSON.parse(reports.reports[e.node]).served as Record<string, { ca?: string }>;
                    for (const endpoint of e.served[domain]) {
                        assert.equal(served[endpoint].ca, phase.phase === "trust-both" ? oldFps[domain] : newFps[domain], `${h.node} ${endpoint} ${phase.phase}`);
                        checked++;
                    }
                }
            }
            assert.ok(checked >= 14, `${checked} files and endpoints checked`);
            previous = phase;
            current = params;
            last = run;
        }
        // Seconds per phase: its render, the up's API access, and every node's sync with the restarts it asks for.
        console.log(`      CA rotation (render, up, syncs in s): ${Object.entries(seconds).map(([p, s]) => `${p} ${s.join("/")}`).join("; ")}`);
        assert.equal(changedPerPhase.length, 4);
        for (const c of changedPerPhase.slice(0, 3)) assert.ok(c.length > 0, "each phase changes parameters");

        // After distrust-old: a client of the old cluster CA gets 401 and etcd refuses an old-CA client pair in the
        // handshake, while the stack's admin kubeconfig and the node's current pair work.
        const old = mintClientCert(oldSigner.cert, oldSigner.key, "old-ca-client", ["kubeadm:cluster-admins"]);
        const admin = fromKubeconfig(withServer(unwrapSecret<string>(last!.outputs.kubeconfig), server));
        assert.equal((await request({ ...admin, certPem: old.certPem, keyPem: old.keyPem }, "GET", "/api/v1/namespaces")).status, 401);
        assert.equal((await request(admin, "GET", "/api/v1/namespaces")).status, 200);
        const etcdHealth = (h: Host, pair: string[]) => inNode(h, ["curl", "-sS", "--max-time", "10", "--cacert", nodePath(h.cc, "/pki/etcd/ca.crt"),
            "--cert", pair[0], "--key", pair[1], "https://127.0.0.1:2379/health"]);
        for (const h of cp.hosts) {
            const current = etcdHealth(h, [nodePath(h.cc, "/pki/etcd/healthcheck-client.crt"), nodePath(h.cc, "/pki/etcd/healthcheck-client.key")]);
            assert.equal(current.status, 0, current.stderr);
            assert.equal(JSON.parse(current.stdout).health, "true", current.stdout);
            const log = path.join(h.root, "etcd.log");
            const before = fs.statSync(log).size;
            const refused = etcdHealth(h, oldEtcdPair);
            assert.notEqual(refused.status, 0, `${h.node} etcd took an old-CA client pair: ${refused.stdout}`);
            // In TLS 1.3 the client finishes its side first, so curl sees the connection drop; etcd says why.
            const said = fs.readFileSync(log, "utf8").slice(before);
            assert.match(said, /rejected connection[^\n]*(unknown authority|bad certificate)/, `${refused.stderr}\n${said}`);
        }
        // And the CIS checks hold as before the rotation.
        assertKubeBench(d, h0, "after the rotation");
    });
}
