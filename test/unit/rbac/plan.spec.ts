import { strict as assert } from "node:assert";
import { ConfigError } from "../../../components/common";
import { KUBEADM_ADMINS_BINDING, planRbac, type RbacConfig } from "../../../components/rbac";

function refusal(config: unknown): ConfigError {
    try {
        planRbac("hc:rbac", config as RbacConfig);
    } catch (e) {
        if (e instanceof ConfigError) return e;
        throw e;
    }
    assert.fail("expected a ConfigError");
}

describe("rbac plan", () => {
    it("binds the kubeadm:cluster-admins group to the built-in cluster-admin role by default", () => {
        const b = planRbac("hc:rbac").kubeadmAdminsBinding;
        assert.ok(b);
        assert.equal(b.kind, "ClusterRoleBinding");
        assert.equal(b.metadata.name, KUBEADM_ADMINS_BINDING);
        assert.equal(b.metadata.name, "kubeadm:cluster-admins");
        assert.deepEqual(b.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" });
        assert.deepEqual(b.subjects, [{ kind: "Group", name: "kubeadm:cluster-admins", apiGroup: "rbac.authorization.k8s.io" }]);
        assert.equal(planRbac("hc:rbac", { bindKubeadmClusterAdmins: false }).kubeadmAdminsBinding, undefined);
    });

    it("binds cluster personas to their subjects, and makes no binding without subjects", () => {
        const plan = planRbac("hc:rbac", {
            clusterBindings: {
                "cluster-admin": [{ kind: "Group", name: "break-glass" }],
                auditor: [
                    { kind: "User", name: "alice@example.com" },
                    { kind: "ServiceAccount", name: "scanner", namespace: "security" },
                ],
                "platform-admin": [],
            },
        });
        assert.deepEqual(plan.clusterRoleBindings.map((b) => b.metadata.name).sort(), ["hardened:auditor", "hardened:cluster-admin"]);
        const auditor = plan.clusterRoleBindings.find((b) => b.metadata.name === "hardened:auditor")!;
        assert.deepEqual(auditor.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "hardened:auditor" });
        assert.deepEqual(auditor.subjects, [
            { kind: "User", name: "alice@example.com", apiGroup: "rbac.authorization.k8s.io" },
            { kind: "ServiceAccount", name: "scanner", namespace: "security" },
        ]);
        const admin = plan.clusterRoleBindings.find((b) => b.metadata.name === "hardened:cluster-admin")!;
        assert.equal(admin.roleRef.name, "cluster-admin");
        const summary = plan.summary.find((s) => s.name === "cluster-admin")!;
        assert.deepEqual(summary.clusterSubjects.map((s) => s.name), ["break-glass", "kubeadm:cluster-admins"]);
    });

    it("adds custom personas with their own ClusterRole", () => {
        const plan = planRbac("hc:rbac", {
            personas: [{ name: "dashboard", scope: "cluster", rules: [{ apiGroups: [""], resources: ["nodes"], verbs: ["get", "list"] }] }],
            clusterBindings: { dashboard: [{ kind: "Group", name: "ops" }] },
        });
        assert.ok(plan.clusterRoles.some((r) => r.metadata.name === "hardened:dashboard"));
        assert.ok(plan.clusterRoleBindings.some((b) => b.roleRef.name === "hardened:dashboard"));
    });

    const bad: [string, unknown, string][] = [
        ["an unknown subject kind", { clusterBindings: { auditor: [{ kind: "Robot", name: "r2" }] } }, "hc:rbac.clusterBindings.auditor[0].kind"],
        ["a ServiceAccount without a namespace cluster-wide", { clusterBindings: { auditor: [{ kind: "ServiceAccount", name: "sa" }] } }, "hc:rbac.clusterBindings.auditor[0].namespace"],
        ["a namespace on a User", { clusterBindings: { auditor: [{ kind: "User", name: "u", namespace: "x" }] } }, "hc:rbac.clusterBindings.auditor[0].namespace"],
        ["an everyone identity", { clusterBindings: { auditor: [{ kind: "Group", name: "system:authenticated" }] } }, "hc:rbac.clusterBindings.auditor[0].name"],
        ["an unknown persona", { clusterBindings: { superuser: [{ kind: "User", name: "u" }] } }, "hc:rbac.clusterBindings.superuser"],
        ["a namespace persona bound cluster-wide", { clusterBindings: { developer: [{ kind: "User", name: "u" }] } }, "hc:rbac.clusterBindings.developer"],
        ["a custom persona named like a built-in", { personas: [{ name: "viewer", scope: "namespace", rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }] }] }, "hc:rbac.personas[0].name"],
        ["a custom persona name that is not a DNS label", { personas: [{ name: "Ops Team", scope: "cluster", rules: [] }] }, "hc:rbac.personas[0].name"],
        ["a rule without apiGroups", { personas: [{ name: "x", scope: "cluster", rules: [{ resources: ["pods"], verbs: ["get"] }] }] }, "hc:rbac.personas[0].rules[0].apiGroups"],
        ["an unknown rule key", { personas: [{ name: "x", scope: "cluster", rules: [{ apiGroups: [""], resources: ["pods"], verb: ["get"] }] }] }, "hc:rbac.personas[0].rules[0].verb"],
        ["an unknown option", { clusterBinding: {} }, "hc:rbac.clusterBinding"],
        ["a non-boolean kubeadm switch", { bindKubeadmClusterAdmins: "yes" }, "hc:rbac.bindKubeadmClusterAdmins"],
    ];
    for (const [what, config, k] of bad) {
        it(`refuses ${what}, naming ${k}`, () => {
            const e = refusal(config);
            assert.equal(e.key, k);
            assert.ok(e.message.includes(k), e.message);
        });
    }
});
