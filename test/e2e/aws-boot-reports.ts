// The boot drill's node reports: what each running control-plane node reports after a sync (its trust files'
// fingerprints, the CA that verifies each leaf it serves), read back from the emulator, and what a CA rotation's
// gate makes of it, before and after a node takes up a second etcd CA the way trust-both delivers it; then each
// worker's, named by the address a stand-in metadata service gives it, as the cluster CA's gate reads them.
import { strict as assert } from "node:assert";
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import { parse } from "yaml";
import { allowCaRotationStep, CaRotationGateInputs } from "../../components/pki/ca-rotation-gate";
import { CaRotationReports, NodeReport, NodeReportExpectation, reportProblems } from "../../components/pki/ca-rotation-reports";
import { KUBELET_CLIENT_CERT } from "../../platforms/aws/kubelet-rejoin";
import { REPORT_SCRIPT } from "../../platforms/aws/report";
import { Host, inNode, relayIntoNode, stagedFiles, startImds, startUnit, unitOf } from "./aws-node";
import { request } from "./kube";
import { until } from "./processes";
import { opensslCa } from "../unit/pki/openssl-ca";
import { ANYONE, BootDrill, CLUSTER, cloudConfigOf, ports } from "./aws-boot-drill";
import type { ControlPlaneState } from "./aws-boot-control-plane";

export const CLUSTER_CA = "/etc/kubernetes/pki/ca.crt";
export const PEM = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;
/** node:crypto's fingerprint of every certificate in a node's file, independent of the script's openssl. */
export const fingerprintsOf = (h: Host, file: string) => (fs.readFileSync(h.root + file, "utf8").match(PEM) ?? []).map((b) => new X509Certificate(b).fingerprint256);
const flag = (argv: string[], name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
/** node:crypto's fingerprints of the CAs a kubeconfig embeds (certificate-authority-data). */
const embeddedOf = (h: Host, file: string) => (parse(fs.readFileSync(h.root + file, "utf8")).clusters as { cluster: Record<string, string> }[])
    .flatMap((c) => (Buffer.from(c.cluster["certificate-authority-data"], "base64").toString("utf8").match(PEM) ?? []).map((b) => new X509Certificate(b).fingerprint256));

/** Registers the report cases; they run last, on the control plane's and the workers' running nodes. */
export function reportCases(d: BootDrill, cp: ControlPlaneState): void {
    /** Runs the node's report script inside the node (its endpoints on its loopback, the emulator through the relay). */
    const report = (h: Host): { text: string; report: NodeReport; out: string } => {
        const script = h.cc.write_files.find((f) => f.path === REPORT_SCRIPT)!.content;
        const env = Object.entries(d.moto.env(ANYONE)).map(([k, v]) => `${k}=${v}`);
        const r = inNode(h, ["env", ...env, "bash", "-s"], script);
        assert.equal(r.status, 0, r.stdout + r.stderr);
        const p = JSON.parse(d.awsCli(["ssm", "get-parameter", "--name", `/${CLUSTER}/reports/${h.node}`])).Parameter;
        assert.equal(p.Type, "String");
        return { text: p.Value, report: JSON.parse(p.Value), out: r.stdout };
    };
    /** The etcd domain's files and endpoints on a node, from the etcd and apiserver units' own flags. */
    const etcdTrustFiles = (h: Host) => {
        const etcd = unitOf(h.cc, "etcd").argv;
        const files = [flag(etcd, "trusted-ca-file"), flag(etcd, "peer-trusted-ca-file"), flag(unitOf(h.cc, "kube-apiserver").argv, "etcd-cafile")];
        assert.ok(files.every((f) => f !== undefined), files.join(" "));
        return [...new Set(files as string[])];
    };
    const expected = (): NodeReportExpectation[] => ["cp-0", "cp-1", "cp-2"].map((node) => ({
        node, trust: { kubernetes: [], etcd: etcdTrustFiles(cp.hosts[0]), frontProxy: [] }, served: { kubernetes: [], etcd: ["etcd-client", "etcd-peer"], frontProxy: [] },
    }));
    const gate = (phase: "issue-new" | "distrust-old", fp: string, texts: Record<string, string>) =>
        reportProblems("etcd", phase, fp, { expected: expected(), reports: texts, schedule: "" } satisfies CaRotationReports);

    it("each control-plane node reports after its sync what its trust files hold and which CA verifies each leaf it serves; the gate reads that, and a node that never reported holds it back", function () {
        this.timeout(300_000);
        const texts: Record<string, string> = {};
        let checked = 0;
        for (const h of cp.hosts) {
            const { text, report: r, out } = report(h);
            assert.match(out, new RegExp(`reported to /${CLUSTER}/reports/${h.node}`));
            texts[h.node] = text;
            assert.equal(r.node, h.node);
            assert.deepEqual(r.pending, []);
            // Every trust file, as node:crypto reads it from the node's disk.
            const files = Object.keys(r.trust);
            for (const f of [...etcdTrustFiles(h), "/etc/kubernetes/pki/ca.crt", "/etc/kubernetes/pki/front-proxy-ca.crt"]) assert.ok(files.includes(f), `${h.node} ${f}`);
            for (const f of files) assert.deepEqual(r.trust[f], fingerprintsOf(h, f), `${h.node} ${f}`);
            const etcdCa = fingerprintsOf(h, "/etc/kubernetes/pki/etcd/ca.crt");
            const clusterCa = fingerprintsOf(h, "/etc/kubernetes/pki/ca.crt");
            assert.deepEqual([etcdCa.length, clusterCa.length], [1, 1]);
            assert.deepEqual(r.served, {
                "etcd-client": { ca: etcdCa[0] }, "etcd-peer": { ca: etcdCa[0] },
                "kube-apiserver": { ca: clusterCa[0] }, "kube-controller-manager": { ca: clusterCa[0] }, "kube-scheduler": { ca: clusterCa[0] },
            });
            // Unchanged, it is not put again: the parameter keeps its version.
            const version = JSON.parse(d.awsCli(["ssm", "get-parameter", "--name", `/${CLUSTER}/reports/${h.node}`])).Parameter.Version;
            assert.match(report(h).out, /unchanged since the last report/);
            assert.equal(JSON.parse(d.awsCli(["ssm", "get-parameter", "--name", `/${CLUSTER}/reports/${h.node}`])).Parameter.Version, version);
            checked++;
        }
        assert.equal(checked, 2);
        const etcdCa = fingerprintsOf(cp.hosts[0], "/etc/kubernetes/pki/etcd/ca.crt")[0];
        // The third member never ran here: its stack-made "{}" holds every step back.
        texts["cp-2"] = JSON.parse(d.awsCli(["ssm", "get-parameter", "--name", `/${CLUSTER}/reports/cp-2`])).Parameter.Value;
        assert.deepEqual(gate("distrust-old", etcdCa, texts), ["cp-2: has not reported yet"]);
        // A CA the nodes do not hold (the front-proxy CA, as if it were the etcd domain's new one).
        const other = fingerprintsOf(cp.hosts[0], "/etc/kubernetes/pki/front-proxy-ca.crt")[0];
        const problems = gate("issue-new", other, texts);
        assert.equal(problems.length, 2 * etcdTrustFiles(cp.hosts[0]).length + 1, problems.join("\n"));
        for (const h of cp.hosts) for (const f of etcdTrustFiles(h)) assert.ok(problems.includes(`${h.node} ${f}: does not hold the new CA yet`), `${h.node} ${f}`);
        assert.deepEqual(gate("distrust-old", other, texts).filter((p) => !p.startsWith("cp-2")),
            ["cp-0", "cp-1"].flatMap((n) => [`${n} etcd-client: serves a leaf the new CA does not verify`, `${n} etcd-peer: serves a leaf the new CA does not verify`]));
    });

    it("trust-both reaches a running node through its sync: both etcd CAs in every etcd trust file, etcd and the apiserver restarted and healthy, and its report now lets issue-new through for it, not distrust-old", async function () {
        this.timeout(600_000);
        const h = cp.hosts[0];
        const stages = stagedFiles(d.scriptOf(h.cc));
        const trustFiles = etcdTrustFiles(h);
        const trustStages = stages.filter((s) => trustFiles.includes(s.path));
        assert.equal(trustStages.length, trustFiles.length, trustStages.map((s) => s.path).join(" "));
        // A second etcd CA, appended after the first as trust-both's bundle is (the signer first).
        const newCa = opensslCa("etcd-ca-2").certPem;
        const newFp = new X509Certificate(newCa).fingerprint256;
        for (const s of trustStages) d.ssm([d.put(d.param(s.parameter), { Value: `${d.param(s.parameter).value.trimEnd()}\n${newCa}`, Overwrite: true })]);
        const before = report(h);
        assert.ok(gate("issue-new", newFp, { "cp-0": before.text }).some((p) => p.startsWith("cp-0 ")), "before its sync the node holds only the old CA");

        // The sync timer's service with a stand-in systemctl, then what systemd does for each call.
        const sync = d.sync(h.root, h.cc);
        assert.equal(sync.status, 0, sync.stdout + sync.stderr);
        assert.deepEqual(sync.stdout.split("\n").filter((l) => l.includes("replaced /")).map((l) => l.split(" ").pop()).sort(), [...trustFiles].sort());
        assert.deepEqual(sync.calls, ["try-restart -- etcd.service", "try-restart -- kube-apiserver.service"]);
        for (const f of trustFiles) assert.deepEqual(fingerprintsOf(h, f).slice(-1), [newFp], f);
        for (const unit of ["etcd", "kube-apiserver"]) {
            const p = h.units.get(unit)!;
            const exited = new Promise((resolve) => p.once("exit", resolve));
            p.kill("SIGTERM");
            await exited;
            startUnit(h, unit);
        }
        await until(`${h.node} etcd healthy with two CAs`, 120, async () => (cp.etcdctl(h, ["endpoint", "health"]).status === 0 ? true : undefined));
        await until(`${h.node} apiserver ready with two etcd CAs`, 180, async () => (cp.kubectl(h, ["get", "--raw", "/readyz"]).status === 0 ? true : undefined));

        const after = report(h);
        assert.deepEqual(after.report.pending, []);
        for (const f of trustFiles) assert.ok(after.report.trust[f].includes(newFp), f);
        const texts = { "cp-0": after.text, "cp-1": report(cp.hosts[1]).text };
        // cp-0 is ready for issue-new; cp-1, not synced, is not; no one serves a leaf of the new CA yet.
        const issue = gate("issue-new", newFp, texts);
        assert.ok(!issue.some((p) => p.startsWith("cp-0")), issue.join("\n"));
        assert.ok(trustFiles.every((f) => issue.includes(`cp-1 ${f}: does not hold the new CA yet`)), issue.join("\n"));
        assert.ok(gate("distrust-old", newFp, texts).includes("cp-0 etcd-client: serves a leaf the new CA does not verify"));
    });

    it("the cluster CA's issue-new gate reads what no node holds through the API the program reaches: kube-root-ca.crt in every namespace, as an admin minted from the cluster signer", async function () {
        this.timeout(120_000);
        assert.ok(cp.applied, "the in-cluster half applied above");
        const { server, admin } = cp.applied;
        const h = cp.hosts[0];
        const signer = { cert: fs.readFileSync(h.root + CLUSTER_CA, "utf8"), key: fs.readFileSync(h.root + CLUSTER_CA.replace(/\.crt$/, ".key"), "utf8") };
        const texts = Object.fromEntries(cp.hosts.map((x) => [x.node, report(x).text]));
        const inputs = (newCaCertPem: string): CaRotationGateInputs => ({
            domain: "kubernetes", configKey: "hardened-cluster:pki.rotation.kubernetes", generation: 2, phase: "issue-new",
            reports: {
                expected: cp.hosts.map((x) => ({ node: x.node, trust: { kubernetes: [CLUSTER_CA], etcd: [], frontProxy: [] }, served: { kubernetes: [], etcd: [], frontProxy: [] } })),
                reports: texts, schedule: "every 15 minutes", api: server,
            },
            newCaCertPem, newCaKeyPem: "", clusterCasPem: signer.cert, clusterSignerCertPem: signer.cert, clusterSignerKeyPem: signer.key, adminGroup: "kubeadm:cluster-admins",
        });
        // The CA every node holds and the controller manager published (its --root-ca-file) lets the step through.
        await allowCaRotationStep({ generation: 2, phase: "trust-both" }, inputs(signer.cert), true);
        // One held nowhere: each node's file, and every namespace's copy, counted through the admin credential.
        const namespaces = (await request(admin, "GET", "/api/v1/namespaces")).json().items.length as number;
        assert.ok(namespaces >= 5, `${namespaces} namespaces`);
        await assert.rejects(allowCaRotationStep({ generation: 2, phase: "trust-both" }, inputs(opensslCa("cluster-ca-2").certPem), true), (e: Error) => {
            const lines = e.message.split("\n").slice(1).map((l) => l.trim());
            assert.deepEqual(lines.slice(0, -1), cp.hosts.map((x) => `${x.node} ${CLUSTER_CA}: does not hold the new CA yet`));
            assert.match(lines[lines.length - 1], new RegExp(`^kube-root-ca\\.crt: the new CA is not yet published in ${namespaces} namespace\\(s\\): `));
            return true;
        });
    });

    it("each worker reports after its sync under the address the metadata service gives it: its CA file, the CAs its kubeconfigs embed, and the CA of its kubelet's certificates; the cluster CA's gate reads both workers", async function () {
        this.timeout(300_000);
        assert.ok(cp.worker && cp.worker2, "both workers started above");
        const script = cloudConfigOf(d.run, "aws-workers").write_files.find((f) => f.path === REPORT_SCRIPT)!.content;
        const workers = [cp.worker, cp.worker2];
        // Every worker runs the group's one user data: the kubeconfigs kube-proxy and kube-router read, which embed the bundle.
        const cc = cp.worker.cc;
        const kubeconfigs = [
            parse(fs.readFileSync(cp.worker.root + flag(unitOf(cc, "kube-proxy").argv, "config")!, "utf8")).clientConnection.kubeconfig as string,
            flag(unitOf(cc, "kube-router").argv, "kubeconfig")!,
        ];
        const clusterCaPem = fs.readFileSync(cp.hosts[0].root + CLUSTER_CA, "utf8");
        const clusterCa = fingerprintsOf(cp.hosts[0], CLUSTER_CA);
        const texts: Record<string, string> = {};
        let checked = 0;
        for (const w of workers) {
            await startImds(w);
            if (!w.units.has(`relay-in-${ports.apiServer}`)) await relayIntoNode(w, ports.apiServer, d.tmp);
            const env = Object.entries(d.moto.env(ANYONE)).map(([k, v]) => `${k}=${v}`);
            const r = inNode(w, ["env", ...env, "bash", "-s"], script);
            assert.equal(r.status, 0, r.stdout + r.stderr);
            const name = `/${CLUSTER}/reports/workers/${w.address}`;
            assert.match(r.stdout, new RegExp(`reported to ${name}`));
            const p = JSON.parse(d.awsCli(["ssm", "get-parameter", "--name", name])).Parameter;
            assert.equal(p.Type, "String");
            texts[`workers/${w.address}`] = p.Value;
            const report = JSON.parse(p.Value) as NodeReport;
            assert.equal(report.node, `workers/${w.address}`);
            assert.deepEqual(report.pending, []);
            // The CA file, and the kubeconfigs, as node:crypto reads them from the worker's disk.
            assert.deepEqual(report.trust, Object.fromEntries([[CLUSTER_CA, fingerprintsOf(w, CLUSTER_CA)], ...kubeconfigs.map((k) => [k, embeddedOf(w, k)])]));
            for (const f of Object.keys(report.trust)) assert.deepEqual(report.trust[f], clusterCa, `${w.node} ${f}`);
            // Its kubelet's client certificate, where it joined, is the cluster CA's; a kubelet that does not serve is named so.
            const client = inNode(w, ["cat", "--", KUBELET_CLIENT_CERT]);
            const held = client.status === 0 && new X509Certificate(client.stdout).checkIssued(new X509Certificate(clusterCaPem))
                ? { ca: clusterCa[0] } : { error: "holds no certificate" };
            assert.deepEqual(report.held, { "kubelet-client": held }, w.node);
            assert.ok(report.served.kubelet, JSON.stringify(report.served));
            checked++;
        }
        assert.equal(checked, 2);
        assert.deepEqual(Object.keys(texts).sort(), ["workers/10.0.0.78", "workers/10.0.0.79"]);
        assert.ok("ca" in (JSON.parse(texts["workers/10.0.0.78"]) as NodeReport).held!["kubelet-client"], "the first worker's kubelet joined above");

        // The gate, expecting both running workers as the program does (by address), with the files their units name.
        const expectedWorkers: NodeReportExpectation[] = workers.map((w) => ({
            node: `workers/${w.address}`,
            trust: { kubernetes: [CLUSTER_CA, ...kubeconfigs], etcd: [], frontProxy: [] },
            served: { kubernetes: ["kubelet"], etcd: [], frontProxy: [] },
            held: { kubernetes: ["kubelet-client"], etcd: [], frontProxy: [] },
        }));
        const gate = (phase: "issue-new" | "distrust-old", fp: string, reports = texts) =>
            reportProblems("kubernetes", phase, fp, { expected: expectedWorkers, reports, schedule: "" } satisfies CaRotationReports);
        // Every worker trusts the CA the cluster has: issue-new may go.
        assert.deepEqual(gate("issue-new", clusterCa[0]), []);
        // A new CA no worker holds: each of the three files of each worker is named.
        const other = new X509Certificate(opensslCa("cluster-ca-3").certPem).fingerprint256;
        const problems = gate("issue-new", other);
        assert.equal(problems.length, 6, problems.join("\n"));
        for (const e of expectedWorkers) for (const f of e.trust.kubernetes) assert.ok(problems.includes(`${e.node} ${f}: does not hold the new CA yet`), `${e.node} ${f}`);
        // distrust-old waits for every kubelet's certificates from the new CA, and for a worker that never reported.
        const distrust = gate("distrust-old", other);
        assert.ok(distrust.includes("workers/10.0.0.78 kubelet-client: holds a leaf the new CA does not verify"), distrust.join("\n"));
        assert.deepEqual(gate("issue-new", clusterCa[0], { "workers/10.0.0.78": texts["workers/10.0.0.78"] }), ["workers/10.0.0.79: has not reported yet"]);
    });
}
