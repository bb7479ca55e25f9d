// The gate's checks from the nodes' own reports (where the machine running `pulumi up` cannot dial them): what
// each step forward requires of every node's report, and the gate refusing a step with its problems listed. The
// CAs are made by openssl and fingerprinted by node:crypto, as the gate does; the report script that writes what a
// node holds and serves is run in test/unit/aws/report.spec.ts, and on a booted node in the AWS boot drill.
import { strict as assert } from "node:assert";
import { X509Certificate } from "node:crypto";
import * as net from "node:net";
import { allowCaRotationStep, CaRotationGateInputs } from "../../../components/pki/ca-rotation-gate";
import { CaRotationReports, NodeReport, parseNodeReport, reportProblems } from "../../../components/pki/ca-rotation-reports";
import { opensslCa } from "./openssl-ca";

const ETCD_CA = "/etc/kubernetes/pki/etcd/ca.crt";
const FP_CA = "/etc/kubernetes/pki/front-proxy-ca.crt";
const NODES = ["cp-0", "cp-1", "cp-2"];

describe("pki: CA rotation gates from the nodes' reports", function () {
    this.timeout(30_000);
    let oldCa: string;
    let newCa: string;
    let oldFp: string;
    let newFp: string;

    before(() => {
        oldCa = opensslCa("etcd-ca").certPem;
        newCa = opensslCa("etcd-ca-2").certPem;
        oldFp = new X509Certificate(oldCa).fingerprint256;
        newFp = new X509Certificate(newCa).fingerprint256;
        assert.notEqual(oldFp, newFp);
    });

    const expected = NODES.map((node) => ({
        node, trust: { kubernetes: [], etcd: [ETCD_CA], frontProxy: [FP_CA] }, served: { kubernetes: [], etcd: ["etcd-client", "etcd-peer"], frontProxy: [] },
    }));
    const report = (node: string, over: Partial<NodeReport> = {}): string => JSON.stringify({
        node, trust: { [ETCD_CA]: [oldFp, newFp], [FP_CA]: [oldFp] }, served: { "etcd-client": { ca: newFp }, "etcd-peer": { ca: newFp } }, pending: [], ...over,
    });
    const reports = (texts: Record<string, string>): CaRotationReports => ({ expected, reports: texts, schedule: "every 15 minutes" });
    const all = (over: Partial<NodeReport> = {}) => Object.fromEntries(NODES.map((n) => [n, report(n, over)]));

    it("lets issue-new through once every node's trust file holds the new CA and nothing waits for a restart", () => {
        assert.deepEqual(reportProblems("etcd", "issue-new", newFp, reports(all())), []);
    });

    it("refuses issue-new for each node whose file lacks the new CA, whose unit waits for a restart, or that never reported", () => {
        const texts = all();
        texts["cp-0"] = report("cp-0", { trust: { [ETCD_CA]: [oldFp], [FP_CA]: [oldFp] } });
        texts["cp-1"] = report("cp-1", { pending: ["etcd"] });
        delete texts["cp-2"];
        assert.deepEqual(reportProblems("etcd", "issue-new", newFp, reports(texts)), [
            `cp-0 ${ETCD_CA}: does not hold the new CA yet`,
            "cp-1: etcd did not restart yet with the files its last sync replaced",
            "cp-2: has not reported yet",
        ]);
        // The stack's own empty value counts as no report.
        texts["cp-2"] = "{}";
        assert.match(reportProblems("etcd", "issue-new", newFp, reports(texts))[2], /^cp-2: has not reported yet$/);
    });

    it("reads each domain's own files: the front-proxy file decides frontProxy, not etcd's", () => {
        assert.deepEqual(reportProblems("frontProxy", "issue-new", newFp, reports(all())), NODES.map((n) => `${n} ${FP_CA}: does not hold the new CA yet`));
    });

    it("lets distrust-old through once every endpoint serves a leaf the new CA verifies, and names each that does not", () => {
        assert.deepEqual(reportProblems("etcd", "distrust-old", newFp, reports(all())), []);
        const texts = all();
        texts["cp-1"] = report("cp-1", { served: { "etcd-client": { ca: oldFp }, "etcd-peer": { error: "presents no certificate" } } });
        texts["cp-2"] = report("cp-2", { served: { "etcd-client": { ca: newFp } } });
        assert.deepEqual(reportProblems("etcd", "distrust-old", newFp, reports(texts)), [
            "cp-1 etcd-client: serves a leaf the new CA does not verify",
            "cp-1 etcd-peer: presents no certificate",
            "cp-2 etcd-peer: not in its report",
        ]);
    });

    it("lets steady through once every trust file of the domain holds the new CA alone, and names each that still holds another or waits for a restart", () => {
        const done = (node: string, over: Partial<NodeReport> = {}) => report(node, { trust: { [ETCD_CA]: [newFp], [FP_CA]: [oldFp] }, ...over });
        const texts = Object.fromEntries(NODES.map((n) => [n, done(n)]));
        assert.deepEqual(reportProblems("etcd", "steady", newFp, reports(texts)), []);
        // After distrust-old's up, before a node's sync: its file holds both; another's lost the new CA; a third waits for etcd.
        texts["cp-0"] = report("cp-0");
        texts["cp-1"] = done("cp-1", { trust: { [ETCD_CA]: [oldFp], [FP_CA]: [oldFp] } });
        texts["cp-2"] = done("cp-2", { pending: ["etcd"] });
        assert.deepEqual(reportProblems("etcd", "steady", newFp, reports(texts)), [
            `cp-0 ${ETCD_CA}: still holds another CA than the new one`,
            `cp-1 ${ETCD_CA}: does not hold the new CA yet`,
            "cp-2: etcd did not restart yet with the files its last sync replaced",
        ]);
    });

    it("refuses a report that is not one node's well-formed report", () => {
        const bad: [string, string][] = [
            ["not json", "its report is not JSON"],
            [report("cp-1"), 'its report names node "cp-1"'],
            [JSON.stringify({ node: "cp-0", trust: { [ETCD_CA]: "x" }, served: {}, pending: [] }), "its report has no valid trust files"],
            [JSON.stringify({ node: "cp-0", trust: {}, served: { a: {} }, pending: [] }), "its report has no valid endpoints"],
            [JSON.stringify({ node: "cp-0", trust: {}, served: {}, pending: "etcd" }), "its report has no valid pending restarts"],
        ];
        assert.equal(bad.length, 5);
        for (const [text, problem] of bad) assert.equal(parseNodeReport("cp-0", text), problem, text);
    });

    describe("the gate", () => {
        const inputs = (phase: "trust-both" | "issue-new" | "distrust-old", texts: Record<string, string>): CaRotationGateInputs => ({
            domain: "etcd", configKey: "hardened-cluster:pki.rotation.etcd", generation: 2, phase, reports: reports(texts),
            newCaCertPem: newCa, newCaKeyPem: "", clusterCasPem: "", clusterSignerCertPem: "", clusterSignerKeyPem: "", adminGroup: "kubeadm:cluster-admins",
        });

        it("takes reports instead of probes: a rotation may start, and each step forward is checked once, naming every problem and when to retry", async () => {
            await allowCaRotationStep({ generation: 1, phase: "steady" }, inputs("trust-both", {}), true);
            await allowCaRotationStep({ generation: 2, phase: "trust-both" }, inputs("issue-new", all()), true);
            const started = Date.now();
            await assert.rejects(allowCaRotationStep({ generation: 2, phase: "trust-both" }, inputs("issue-new", { "cp-0": report("cp-0") }), true), (e: Error) => {
                assert.match(e.message, /^hardened-cluster:pki\.rotation\.etcd: the nodes' reports say the cluster is not ready for phase issue-new; they report after each sync \(every 15 minutes\), so run pulumi up again after the next one:\n/);
                assert.deepEqual(e.message.split("\n").slice(1), ["  cp-1: has not reported yet", "  cp-2: has not reported yet"]);
                return true;
            });
            // No retrying: a report changes only at its node's next sync.
            assert.ok(Date.now() - started < 5000);
            await allowCaRotationStep({ generation: 2, phase: "issue-new" }, inputs("distrust-old", all()), true);
            await assert.rejects(allowCaRotationStep({ generation: 2, phase: "issue-new" }, inputs("distrust-old", all({ served: { "etcd-client": { ca: oldFp }, "etcd-peer": { ca: newFp } } })), true),
                /cp-0 etcd-client: serves a leaf the new CA does not verify/);
        });

        it("never lets the cluster CA's issue-new through on reports alone: kube-root-ca.crt is in no node's report, so it reads the API, and a missing or unreachable API refuses", async () => {
            const k = expected.map((e) => ({ ...e, trust: { ...e.trust, kubernetes: [ETCD_CA] } }));
            assert.deepEqual(reportProblems("kubernetes", "issue-new", newFp, { expected: k, reports: all(), schedule: "every 15 minutes" }), []);
            const signer = opensslCa("cluster-signer");
            const cluster = (api?: string): CaRotationGateInputs => ({
                ...inputs("issue-new", all()), domain: "kubernetes", configKey: "hardened-cluster:pki.rotation.kubernetes",
                reports: { expected: k, reports: all(), schedule: "every 15 minutes", ...(api ? { api } : {}) },
                clusterCasPem: signer.certPem, clusterSignerCertPem: signer.certPem, clusterSignerKeyPem: signer.keyPem,
            });
            await assert.rejects(allowCaRotationStep({ generation: 2, phase: "trust-both" }, cluster(), true), (e: Error) => {
                assert.deepEqual(e.message.split("\n").slice(1), ["  kube-root-ca.crt: in no node's report, and no API URL to read it through"]);
                return true;
            });
            // A port nothing listens on: the refusal names what it could not read.
            const closed = await new Promise<number>((resolve) => {
                const srv = net.createServer().listen(0, "127.0.0.1", () => {
                    const { port } = srv.address() as net.AddressInfo;
                    srv.close(() => resolve(port));
                });
            });
            await assert.rejects(allowCaRotationStep({ generation: 2, phase: "trust-both" }, cluster(`https://127.0.0.1:${closed}`), true), (e: Error) => {
                assert.match(e.message.split("\n")[1], /^ {2}kube-root-ca\.crt: .*ECONNREFUSED/);
                return true;
            });
        });

        it("checks the step to steady too, where nodes report: an apiserver still trusting the old CA would publish it again", async () => {
            const step = (texts: Record<string, string>, probes?: CaRotationGateInputs["probes"]) =>
                allowCaRotationStep({ generation: 2, phase: "distrust-old" }, { ...inputs("distrust-old", texts), phase: "steady", ...(probes ? { probes } : {}) }, true);
            // all(): every node's etcd file still holds both CAs, as before its sync of distrust-old.
            await assert.rejects(step(all()), (e: Error) => {
                assert.match(e.message, /not ready for phase steady/);
                assert.deepEqual(e.message.split("\n").slice(1), NODES.map((n) => `  ${n} ${ETCD_CA}: still holds another CA than the new one`));
                return true;
            });
            await step(all({ trust: { [ETCD_CA]: [newFp], [FP_CA]: [oldFp] } }));
            // A later steady up is no step: nothing is read. Where the gate dials the nodes itself (local), the
            // processes restarted within distrust-old's own up, so steady is not checked.
            await allowCaRotationStep({ generation: 2, phase: "steady" }, { ...inputs("distrust-old", all()), phase: "steady" }, true);
            await step(all(), { apiservers: [], servers: { kubernetes: [], etcd: [], frontProxy: [] } });
        });

        it("still refuses a skipped phase first", async () => {
            await assert.rejects(allowCaRotationStep({ generation: 1, phase: "steady" }, inputs("issue-new", all()), true), /one phase per pulumi up/);
        });
    });
});
