import { strict as assert } from "node:assert";
import * as k8s from "@pulumi/kubernetes";
import { ConfigError } from "../../../components/common";
import { RbacPersonas } from "../../../components/rbac";
import { installMocks, ofType, outputValue, registeredUrns, registrations, settle } from "./pulumi-mocks";

describe("RbacPersonas component", () => {
    beforeEach(installMocks);

    it("creates the persona ClusterRoles under explicit names, parented to the component", async () => {
        const rbac = new RbacPersonas("rbac", { configKey: "hc:rbac", clusterBindings: { auditor: [{ kind: "Group", name: "audit" }] } });
        await settle();
        const roles = ofType("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole");
        assert.deepEqual(
            roles.map((r) => r.inputs.metadata.name).sort(),
            ["hardened:auditor", "hardened:ci-deployer", "hardened:developer", "hardened:namespace-admin", "hardened:platform-admin", "hardened:viewer"],
        );
        const bindings = ofType("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding");
        assert.deepEqual(bindings.map((b) => b.inputs.metadata.name), ["hardened:auditor"]);
        const childUrns = registeredUrns().filter((u) => u.includes("kubernetes:rbac"));
        assert.ok(childUrns.length === roles.length + bindings.length + 1);
        for (const u of childUrns) assert.ok(u.includes("hardened-cluster:rbac:RbacPersonas$kubernetes:"), u);
        assert.deepEqual((await outputValue(rbac.clusterRoleNames)).length, roles.length);
    });

    it("applies the kubeadm admin binding as a retained patch", async () => {
        new RbacPersonas("rbac", { configKey: "hc:rbac" });
        await settle();
        const patches = ofType("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBindingPatch");
        assert.equal(patches.length, 1);
        assert.equal(patches[0].inputs.metadata.name, "kubeadm:cluster-admins");
        assert.equal(patches[0].inputs.roleRef.name, "cluster-admin");
        assert.equal(patches[0].inputs.subjects[0].name, "kubeadm:cluster-admins");
    });

    it("sends every child to the provider it was given", async () => {
        const provider = new k8s.Provider("other-cluster", { kubeconfig: "{}" });
        new RbacPersonas("rbac", { configKey: "hc:rbac" }, { provider });
        await settle();
        const children = registrations.filter((r) => r.type.startsWith("kubernetes:"));
        assert.ok(children.length > 0);
        for (const c of children) assert.match(c.provider ?? "", /pulumi:providers:kubernetes::other-cluster::/, c.name);
    });

    it("registers nothing when the configuration is invalid", async () => {
        assert.throws(
            () => new RbacPersonas("rbac", { configKey: "hc:rbac", clusterBindings: { auditor: [{ kind: "Robot" as never, name: "x" }] } }),
            (e: unknown) => e instanceof ConfigError && e.message.includes("hc:rbac.clusterBindings.auditor[0].kind"),
        );
        await settle();
        assert.equal(registrations.length, 0);
    });

    it("exposes the persona summary as an output", async () => {
        const rbac = new RbacPersonas("rbac", { configKey: "hc:rbac", clusterBindings: { "cluster-admin": [{ kind: "Group", name: "bg" }] } });
        const summary = await outputValue(rbac.summary);
        assert.deepEqual(summary.find((s) => s.name === "cluster-admin")!.clusterSubjects.map((s) => s.name), ["bg", "kubeadm:cluster-admins"]);
        await settle();
    });
});
