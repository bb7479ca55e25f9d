// The gate's refusals that need no cluster: a skipped phase, and any rotation where the platform gives the
// gate no way to reach its nodes (AWS today). What it checks on a live cluster is proven by
// test/e2e/ca-rotation.spec.ts.
import { strict as assert } from "node:assert";
import { allowCaRotationStep, CaRotationGateInputs } from "../../../components/pki/ca-rotation-gate";
import { CaRotationPhase } from "../../../components/pki/ca-rotation";

const KEY = "hardened-cluster:pki.rotation.kubernetes";
const inputs = (generation: number, phase: CaRotationPhase, probes = false): CaRotationGateInputs => ({
    domain: "kubernetes", configKey: KEY, generation, phase,
    ...(probes ? { probes: { apiservers: [], servers: { kubernetes: [], etcd: [], frontProxy: [] } } } : {}),
    newCaCertPem: "", newCaKeyPem: "", clusterCasPem: "", clusterSignerCertPem: "", clusterSignerKeyPem: "", adminGroup: "kubeadm:cluster-admins",
});

describe("pki: the CA rotation gate without a cluster", function () {
    it("lets a platform without live checks stay steady, and refuses it every rotation phase", async function () {
        await allowCaRotationStep(undefined, inputs(1, "steady"), true);
        await allowCaRotationStep({ generation: 1, phase: "steady" }, inputs(1, "steady"), true);
        const phases = ["trust-both", "issue-new", "distrust-old"] as const;
        const previous = { "trust-both": { generation: 1, phase: "steady" }, "issue-new": { generation: 2, phase: "trust-both" }, "distrust-old": { generation: 2, phase: "issue-new" } } as const;
        let refused = 0;
        for (const phase of phases) {
            await assert.rejects(allowCaRotationStep(previous[phase], inputs(2, phase), true),
                new RegExp(`^Error: ${KEY.replace(/\./g, "\\.")}: this platform gives the rotation no way to check its nodes`));
            refused++;
        }
        assert.equal(refused, 3);
    });

    it("refuses a skipped phase before it looks at the cluster, naming the allowed step", async function () {
        await assert.rejects(allowCaRotationStep({ generation: 1, phase: "steady" }, inputs(2, "issue-new", true), true),
            /cannot follow the applied \{ generation: 1, phase: steady \}; one phase per pulumi up: go on to \{ generation: 2, phase: trust-both \}/);
    });

    it("lets steps that need no live check through with probes given: a new CA published, one phase back", async function () {
        await allowCaRotationStep({ generation: 1, phase: "steady" }, inputs(2, "trust-both", true), true);
        await allowCaRotationStep({ generation: 2, phase: "issue-new" }, inputs(2, "trust-both", true), true);
        await allowCaRotationStep({ generation: 2, phase: "distrust-old" }, inputs(2, "steady", true), true);
    });

    it("leaves the live check to the up when a preview does not know the CAs yet", async function () {
        // Empty PEMs could not even be parsed: passing shows the check was not attempted.
        await allowCaRotationStep({ generation: 2, phase: "trust-both" }, inputs(2, "issue-new", true), false);
        await assert.rejects(allowCaRotationStep({ generation: 2, phase: "trust-both" }, inputs(2, "issue-new", true), true));
    });
});
