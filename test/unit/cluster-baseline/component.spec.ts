import { strict as assert } from "node:assert";
import * as k8s from "@pulumi/kubernetes";
import { ConfigError } from "../../../components/common";
import { ClusterBaseline } from "../../../components/cluster-baseline";
import { installMocks, ofType, outputValue, registeredUrns, registrations, settle } from "../rbac/pulumi-mocks";

const ARGS = {
    configKey: "hc:baseline",
    tenants: [
        { name: "team-a", roleBindings: { developer: [{ kind: "Group" as const, name: "devs" }] } },
        { name: "team-b" },
    ],
    admission: { allowedRegistries: ["registry.k8s.io", "docker.io"] },
};

describe("ClusterBaseline component", () => {
    beforeEach(installMocks);

    it("composes personas, built-in namespace patches, tenants and the workload guard", async () => {
        const baseline = new ClusterBaseline("baseline", ARGS);
        await settle();
        assert.equal(ofType("hardened-cluster:rbac:RbacPersonas").length, 1);
        assert.deepEqual(ofType("hardened-cluster:secure-namespace:SecureNamespace").map((r) => r.name).sort(), ["baseline-team-a", "baseline-team-b"]);
        assert.deepEqual(ofType("kubernetes:core/v1:Namespace").map((r) => r.inputs.metadata.name).sort(), ["team-a", "team-b"]);
        const patches = ofType("kubernetes:core/v1:NamespacePatch");
        assert.deepEqual(patches.map((p) => p.inputs.metadata.name).sort(), ["default", "kube-node-lease", "kube-public", "kube-system"]);
        for (const p of patches) assert.equal(p.inputs.metadata.annotations["pulumi.com/patchForce"], "true");
        const vaps = ofType("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy");
        assert.deepEqual(vaps.map((v) => v.inputs.metadata.name).sort(), ["hardened-privilege-guard", "hardened-tenant-guard", "hardened-workload-guard"]);
        for (const vap of vaps) assert.equal(vap.inputs.spec.failurePolicy, "Fail");
        const bindings = ofType("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding");
        assert.deepEqual(bindings.map((b) => b.inputs.spec.policyName).sort(), ["hardened-privilege-guard", "hardened-tenant-guard", "hardened-workload-guard"]);
        for (const b of bindings) assert.deepEqual(b.inputs.spec.validationActions, ["Deny"]);
        // Built-in namespaces get the tenants' default deny too (kube-system excepted, see builtin-namespaces.ts).
        const denies = ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy").filter((n) => n.inputs.metadata.name === "hardened-deny-all");
        assert.deepEqual(denies.map((n) => n.inputs.metadata.namespace).sort(), ["default", "kube-node-lease", "kube-public", "team-a", "team-b"]);
        // Everything sits below the baseline: mock URNs carry the immediate parent's type, so check each link.
        const parentOf = (u: string) => u.split("::")[2].split("$").slice(-2, -1)[0];
        const urns = registeredUrns().filter((u) => !u.includes("pulumi:providers") && !u.endsWith("::baseline"));
        assert.ok(urns.length > 20);
        for (const u of urns) {
            const components = ["hardened-cluster:cluster-baseline:ClusterBaseline", "hardened-cluster:rbac:RbacPersonas", "hardened-cluster:secure-namespace:SecureNamespace"];
            assert.ok(components.includes(parentOf(u)), u);
            if (/\$hardened-cluster:(rbac|secure-namespace):/.test(u)) assert.equal(parentOf(u), components[0], u);
        }
        const posture = await outputValue(baseline.posture);
        assert.deepEqual(posture.namespaces.filter((n) => !n.builtIn).map((n) => n.name), ["team-a", "team-b"]);
        assert.deepEqual(Object.keys(baseline.namespaces).sort(), ["team-a", "team-b"]);
    });

    it("sends every Kubernetes resource to the provider it was given", async () => {
        const provider = new k8s.Provider("target", { kubeconfig: "{}" });
        new ClusterBaseline("baseline", ARGS, { provider });
        await settle();
        const custom = registrations.filter((r) => r.type.startsWith("kubernetes:"));
        assert.ok(custom.length > 20);
        for (const r of custom) assert.match(r.provider ?? "", /pulumi:providers:kubernetes::target::/, `${r.type} ${r.name}`);
    });

    it("registers nothing when any tenant is invalid, even the last one", async () => {
        assert.throws(
            () => new ClusterBaseline("baseline", { ...ARGS, tenants: [...ARGS.tenants, { name: "x", podSecurity: { enforce: "privileged" as const } }] }),
            (e: unknown) => e instanceof ConfigError && e.message.includes("hc:baseline.tenants[2].podSecurity.exception"),
        );
        await settle();
        assert.equal(registrations.length, 0);
    });
});
