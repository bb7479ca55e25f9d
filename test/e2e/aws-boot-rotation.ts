// The boot drill's last case: a whole cluster CA rotation through the running nodes. Each phase is the staging
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
import { Host, inNode, startUnit } from "./aws-node";
import { ANYONE, BootDrill, CLUSTER, ports, STACK } from "./aws-boot-drill";
import type { ControlPlaneState } from "./aws-boot-control-plane";
import { fromKubeconfig, request } from "./kube";
import { until } from "./processes";

const CLUSTER_CA = "/etc/kubernetes/pki/ca.crt";
const PEM = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;
const PARAM = "aws:ssm/parameter:Parameter";
const GATE = "aws-pki-ca-rotation";

export function rotationCases(d: BootDrill, cp: ControlPlaneState): void {
    it("the cluster CA rotates through the running nodes, one rendered phase per up: the program reaches the API before any node syncs, each node takes the phase up through its sync, and the program's gate lets the next phase through only on what the nodes then report", async function () {
        this.timeout(1_800_000);
        assert.ok(cp.applied && cp.inCluster && cp.worker, "the in-cluster half applied and the first worker joined above");
        const { server } = cp.applied;
        const w = cp.worker;
        const nodes = [...cp.hosts, w];
        const baseline = JSON.parse(engineConfig(path.join(ROOT, `stacks/Pulumi.${STACK}.yaml`))["hardened-cluster:baseline"]);
        const oldSigner = { cert: fs.readFileSync(cp.hosts[0].root + CLUSTER_CA, "utf8"), key: fs.readFileSync(cp.hosts[0].root + CLUSTER_CA.replace(/\.crt$/, ".key"), "utf8") };
        const oldFp = new X509Certificate(oldSigner.cert).fingerprint256;

        /** The stack as `pulumi up` would render it with this rotation; the TLS state of the renders before it kept. */
        let n = 0;
        const render = (r: CaRotation): StackRun => {
            const config = { ...engineConfig(path.join(ROOT, `stacks/Pulumi.${STACK}.yaml`)), "hardened-cluster:pki": JSON.stringify({ rotation: { kubernetes: r } }) };
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
        /** The program's rendered gate, on the reports as the program reads them (by path, recursively) and the relayed API. */
        const gateOf = (run: StackRun): CaRotationGateInputs => {
            const g = run.resources.find((x) => x.name === GATE);
            assert.ok(g, `no ${GATE} rendered`);
            const i = Object.fromEntries(Object.entries(g.inputs).map(([k, v]) => [k, unwrapSecret(v)])) as unknown as CaRotationGateInputs;
            // Steady reads no report (a rotation's gates alone need them).
            if (i.reports === undefined) return i;
            const under = `/${CLUSTER}/reports`;
            const found = JSON.parse(d.awsCli(["ssm", "get-parameters-by-path", "--path", under, "--recursive"])).Parameters as { Name: string; Value: string }[];
            // cp-2 never runs in the drill; every node that does is expected as the program expects it.
            const expected = i.reports!.expected.filter((e) => e.node !== "cp-2");
            assert.deepEqual(expected.map((e) => e.node), [...cp.hosts.map((h) => h.node), `workers/${w.address}`]);
            return { ...i, reports: { ...i.reports!, expected, api: server, reports: Object.fromEntries(found.map((p) => [p.Name.slice(under.length + 1), p.Value])) } };
        };
        const problemsOf = async (previous: CaRotation, run: StackRun): Promise<string[]> => {
            try {
                await allowCaRotationStep(previous, gateOf(run), true);
                return [];
            } catch (e) {
                return (e as Error).message.split("\n").slice(1).map((l) => l.trim());
            }
        };
        /** The up's API access, before any node syncs: the readiness gate, AdminBootstrap and the provider's objects. */
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

        let previous: CaRotation = { generation: 1, phase: "steady" };
        let last: StackRun | undefined;
        let current = steady;
        let newFp = "";
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
            const gate = gateOf(run);
            if (phase.phase === "trust-both") newFp = new X509Certificate(gate.newCaCertPem).fingerprint256;
            assert.equal(new X509Certificate(gate.newCaCertPem).fingerprint256, newFp, "one new CA across the phases");
            // The gate, as the up runs it first, on what the nodes reported after the last phase. The drill's
            // kubelet stops at the container runtime and never serves on its port, which the worker's report says;
            // a running kubelet serves a certificate the CA it trusts signed. Nothing else may hold a step back.
            const problems = await problemsOf(previous, run);
            const notServing = `workers/${w.address} kubelet: `;
            assert.deepEqual(problems.filter((p) => !p.startsWith(notServing)), [], `${previous.phase} -> ${phase.phase}`);
            assert.equal(problems.length, phase.phase === "distrust-old" ? 1 : 0, problems.join("\n"));

            const admin = await timed(phase.phase, () => up(run));
            if (phase.phase === "issue-new") {
                // The nodes have not synced: every apiserver still serves the old CA's leaf, which the program's
                // clients verified above with the bundle, while their credentials came from the new CA.
                for (const h of cp.hosts) assert.ok(servedBy(h).checkIssued(new X509Certificate(oldSigner.cert)), h.node);
                assert.ok(new X509Certificate(admin.certPem!).checkIssued(new X509Certificate(gate.newCaCertPem)), "the admin credential is the new CA's");
            }

            if (phase.phase === "distrust-old") {
                // Before the nodes sync, the step to steady is refused: every trust file of the domain still holds
                // the old CA, which an apiserver would publish again after the prune.
                const early = gateOf(run);
                const expected = early.reports!.expected.flatMap((e) => e.trust.kubernetes.map((f) => `${e.node} ${f}: still holds another CA than the new one`));
                assert.ok(expected.length >= 5, expected.join("\n"));
                assert.deepEqual(await problemsOf(phase, { ...run, resources: run.resources.map((x) => (x.name === GATE ? { ...x, inputs: { ...x.inputs, phase: "steady" } } : x)) }), expected);
            }
            if (phase.phase === "steady") {
                // Every node took distrust-old up, so the prune at this up is for good: the apiservers publish the new CA alone.
                const cm = (await request(admin, "GET", "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication")).json();
                const fps = (cm.data["client-ca-file"].match(PEM) ?? []).map((b: string) => new X509Certificate(b).fingerprint256);
                assert.deepEqual(fps, [newFp]);
            }

            changedPerPhase.push(deliver(params));
            const restarted = await timed(phase.phase, () => syncAll());
            if (phase.phase === "trust-both") {
                assert.ok(restarted["cp-0"].includes("kube-apiserver") && restarted["cp-0"].includes("kube-controller-manager"), JSON.stringify(restarted));
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
                assert.ok(new X509Certificate(held.stdout).checkIssued(new X509Certificate(gate.newCaCertPem)), "the kubelet's new certificate is the new CA's");
            }
            reportAll();
            for (const h of cp.hosts) {
                const fps = (fs.readFileSync(h.root + CLUSTER_CA, "utf8").match(PEM) ?? []).map((b) => new X509Certificate(b).fingerprint256);
                assert.deepEqual(fps.sort(), (phase.phase === "trust-both" || phase.phase === "issue-new" ? [oldFp, newFp] : [newFp]).sort(), `${h.node} ${phase.phase}`);
                assert.equal(servedBy(h).checkIssued(new X509Certificate(phase.phase === "trust-both" ? oldSigner.cert : gate.newCaCertPem)), true, `${h.node} serves ${phase.phase}`);
            }
            previous = phase;
            current = params;
            last = run;
        }
        // Seconds per phase: its render, the up's API access, and every node's sync with the restarts it asks for.
        console.log(`      cluster CA rotation (render, up, syncs in s): ${Object.entries(seconds).map(([p, s]) => `${p} ${s.join("/")}`).join("; ")}`);
        assert.equal(changedPerPhase.length, 4);
        for (const c of changedPerPhase.slice(0, 3)) assert.ok(c.length > 0, "each phase changes parameters");

        // After distrust-old: a client of the old CA is refused; the stack's admin kubeconfig works.
        const old = mintClientCert(oldSigner.cert, oldSigner.key, "old-ca-client", ["kubeadm:cluster-admins"]);
        const admin = fromKubeconfig(withServer(unwrapSecret<string>(last!.outputs.kubeconfig), server));
        assert.equal((await request({ ...admin, certPem: old.certPem, keyPem: old.keyPem }, "GET", "/api/v1/namespaces")).status, 401);
        assert.equal((await request(admin, "GET", "/api/v1/namespaces")).status, 200);
    });
}
