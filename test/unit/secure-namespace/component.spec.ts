import { strict as assert } from "node:assert";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../../../components/common";
import { SecureNamespace } from "../../../components/secure-namespace";
import { installMocks, ofType, outputValue, registeredUrns, registrations, settle } from "../rbac/pulumi-mocks";

describe("SecureNamespace component", () => {
    beforeEach(installMocks);

    it("creates the namespace and everything in it under explicit names, parented to the component", async () => {
        const ns = new SecureNamespace("team-a", {
            configKey: "hc:ns",
            name: "team-a",
            roleBindings: { developer: [{ kind: "Group", name: "devs" }] },
        });
        await settle();
        assert.deepEqual(
            ofType("kubernetes:core/v1:Namespace").map((r) => r.inputs.metadata.name),
            ["team-a"],
        );
        assert.deepEqual(ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy").map((r) => r.inputs.metadata.name), ["hardened-deny-all", "hardened-allow-dns"]);
        assert.equal(ofType("kubernetes:core/v1:ResourceQuota")[0].inputs.metadata.name, "hardened-quota");
        assert.equal(ofType("kubernetes:core/v1:LimitRange")[0].inputs.metadata.name, "hardened-limits");
        assert.equal(ofType("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")[0].inputs.metadata.name, "hardened:developer");
        for (const r of registrations.filter((x) => x.type.startsWith("kubernetes:") && x.type !== "kubernetes:core/v1:Namespace")) {
            assert.equal(r.inputs.metadata.namespace, "team-a", r.type);
        }
        const children = registeredUrns().filter((u) => u.includes("$kubernetes:"));
        assert.equal(children.length, 7);
        for (const u of children) assert.ok(u.includes("hardened-cluster:secure-namespace:SecureNamespace$"), u);
        assert.equal(await outputValue(ns.namespaceName), "team-a");
    });

    it("patches the existing default ServiceAccount rather than creating one, forcing automount off", async () => {
        new SecureNamespace("team-a", { configKey: "hc:ns", name: "team-a" });
        await settle();
        assert.equal(ofType("kubernetes:core/v1:ServiceAccount").length, 0);
        const [patch] = ofType("kubernetes:core/v1:ServiceAccountPatch");
        assert.equal(patch.inputs.metadata.name, "default");
        assert.equal(patch.inputs.metadata.namespace, "team-a");
        assert.equal(patch.inputs.automountServiceAccountToken, false);
        assert.equal(patch.inputs.metadata.annotations["pulumi.com/patchForce"], "true");
    });

    it("passes subject names given as outputs through to the RoleBinding", async () => {
        new SecureNamespace("team-a", {
            configKey: "hc:ns",
            name: "team-a",
            roleBindings: { viewer: [{ kind: "Group", name: pulumi.output("group-from-idp") }] },
        });
        await settle();
        assert.equal(ofType("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")[0].inputs.subjects[0].name, "group-from-idp");
    });

    it("sends every child to the provider it was given", async () => {
        const provider = new k8s.Provider("tenant-cluster", { kubeconfig: "{}" });
        new SecureNamespace("team-a", { configKey: "hc:ns", name: "team-a" }, { provider });
        await settle();
        const children = registrations.filter((r) => r.type.startsWith("kubernetes:"));
        assert.equal(children.length, 6);
        for (const c of children) assert.match(c.provider ?? "", /pulumi:providers:kubernetes::tenant-cluster::/, c.type);
    });

    it("registers nothing when the configuration is invalid", async () => {
        assert.throws(
            () => new SecureNamespace("bad", { configKey: "hc:ns", name: "bad", allowEgressTo: [{ cidr: "not-a-cidr" }] }),
            (e: unknown) => e instanceof ConfigError && e.message.includes("hc:ns.allowEgressTo[0].cidr"),
        );
        await settle();
        assert.equal(registrations.length, 0);
    });
});
