// A CA rotation gate that reads node reports (the AWS platform's way, where `pulumi up` cannot dial the nodes),
// through the real engine and its dynamic provider: the provider serialized into the state must carry the
// report checks, a refused step must fail the up and leave the recorded phase where it was, and the next up with
// the nodes ready must go through, the step to steady included. The reports are what nodes write
// (test/unit/aws/report.spec.ts runs the script that writes them; the boot drill runs it on running nodes).
import { strict as assert } from "node:assert";
import { X509Certificate } from "node:crypto";
import { programStack, ProgramStack } from "./harness";
import { opensslCa } from "../unit/pki/openssl-ca";

const program = `
import * as pulumi from "@pulumi/pulumi";
import { CaRotationGate } from "./components/pki";
const c = new pulumi.Config();
const gate = new CaRotationGate("etcd-rotation", {
    domain: "etcd", configKey: "hardened-cluster:pki.rotation.etcd", generation: c.requireNumber("generation"), phase: c.require("phase") as any,
    reports: c.requireObject("reports"), newCaCertPem: c.require("newCa"), newCaKeyPem: pulumi.secret("unused"),
    clusterCasPem: "", clusterSignerCertPem: "", clusterSignerKeyPem: pulumi.secret("unused"), adminGroup: "kubeadm:cluster-admins",
});
export const urn = gate.urn;
`;

const TRUST = "/etc/etcd/pki/ca.crt";
const NODES = ["cp-0", "cp-1"];

describe("CA rotation gate from node reports (real engine)", function () {
    this.timeout(10 * 60_000);
    let ps: ProgramStack;
    let oldFp: string;
    let newFp: string;
    let newCa: string;

    const report = (node: string, trust: string[], served: string) => JSON.stringify({ node, trust: { [TRUST]: trust }, served: { "etcd-client": { ca: served } }, pending: [] });
    const reports = (texts: Record<string, string>) => ({
        expected: NODES.map((node) => ({ node, trust: { kubernetes: [], etcd: [TRUST], frontProxy: [] }, served: { kubernetes: [], etcd: ["etcd-client"], frontProxy: [] } })),
        reports: texts, schedule: "every 15 minutes",
    });
    const up = async (generation: number, phase: string, texts: Record<string, string>) => {
        await ps.stack.setAllConfig({
            generation: { value: String(generation) }, phase: { value: phase }, newCa: { value: newCa }, reports: { value: JSON.stringify(reports(texts)) },
        });
        return ps.stack.up();
    };
    /** The phase the gate's state records as applied. */
    const applied = async () => {
        const state = JSON.parse(await ps.exportText());
        const gate = state.deployment.resources.find((r: { urn: string }) => r.urn.endsWith("::etcd-rotation"));
        return gate.outputs.applied as { generation: number; phase: string };
    };

    before(async function () {
        newCa = opensslCa("etcd-ca-2").certPem;
        oldFp = new X509Certificate(opensslCa("etcd-ca").certPem).fingerprint256;
        newFp = new X509Certificate(newCa).fingerprint256;
        ps = await programStack({ name: "gate-reports", program });
    });
    after(async function () {
        await ps?.cleanup();
    });

    it("records steady, then lets trust-both start with no report at all", async function () {
        assert.equal((await up(1, "steady", {})).summary.result, "succeeded");
        assert.equal((await up(2, "trust-both", {})).summary.result, "succeeded");
        assert.deepEqual(await applied(), { generation: 2, phase: "trust-both" });
    });

    it("refuses issue-new while a node has not reported the new CA, naming it, and keeps trust-both recorded", async function () {
        const texts = { "cp-0": report("cp-0", [oldFp, newFp], oldFp), "cp-1": report("cp-1", [oldFp], oldFp) };
        await assert.rejects(up(2, "issue-new", texts), (e: Error) => {
            assert.match(e.message, /hardened-cluster:pki\.rotation\.etcd: the nodes' reports say the cluster is not ready for phase issue-new/);
            assert.match(e.message, /cp-1 \/etc\/etcd\/pki\/ca\.crt: does not hold the new CA yet/);
            assert.doesNotMatch(e.message, /cp-0/);
            return true;
        });
        assert.deepEqual(await applied(), { generation: 2, phase: "trust-both" });
    });

    it("lets issue-new through once every node reports the new CA, then holds distrust-old until every endpoint serves from it", async function () {
        const trusting = Object.fromEntries(NODES.map((n) => [n, report(n, [newFp, oldFp], oldFp)]));
        assert.equal((await up(2, "issue-new", trusting)).summary.result, "succeeded");
        assert.deepEqual(await applied(), { generation: 2, phase: "issue-new" });
        await assert.rejects(up(2, "distrust-old", trusting), /cp-0 etcd-client: serves a leaf the new CA does not verify/);
        assert.deepEqual(await applied(), { generation: 2, phase: "issue-new" });
        const serving = Object.fromEntries(NODES.map((n) => [n, report(n, [newFp, oldFp], newFp)]));
        assert.equal((await up(2, "distrust-old", serving)).summary.result, "succeeded");
        assert.deepEqual(await applied(), { generation: 2, phase: "distrust-old" });
    });

    it("steps one phase back without asking the nodes", async function () {
        assert.equal((await up(2, "issue-new", {})).summary.result, "succeeded");
        assert.deepEqual(await applied(), { generation: 2, phase: "issue-new" });
    });

    it("holds steady until every node's trust file holds the new CA alone, then records it", async function () {
        const serving = Object.fromEntries(NODES.map((n) => [n, report(n, [newFp, oldFp], newFp)]));
        assert.equal((await up(2, "distrust-old", serving)).summary.result, "succeeded");
        // cp-1 has not synced distrust-old: its file still trusts the old CA.
        const texts = { "cp-0": report("cp-0", [newFp], newFp), "cp-1": serving["cp-1"] };
        await assert.rejects(up(2, "steady", texts), (e: Error) => {
            assert.match(e.message, /the nodes' reports say the cluster is not ready for phase steady/);
            assert.match(e.message, /cp-1 \/etc\/etcd\/pki\/ca\.crt: still holds another CA than the new one/);
            assert.doesNotMatch(e.message, /cp-0/);
            return true;
        });
        assert.deepEqual(await applied(), { generation: 2, phase: "distrust-old" });
        const done = Object.fromEntries(NODES.map((n) => [n, report(n, [newFp], newFp)]));
        assert.equal((await up(2, "steady", done)).summary.result, "succeeded");
        assert.deepEqual(await applied(), { generation: 2, phase: "steady" });
    });
});
