import { strict as assert } from "node:assert";
import {
    DEFAULT_PSA_VERSION,
    DEFAULT_QUOTA,
    LIMIT_RANGE_NAME,
    RESOURCE_QUOTA_NAME,
    namespacePosture,
    planSecureNamespace,
    renderSecureNamespace,
} from "../../../components/secure-namespace";

const PSA_KEYS = ["enforce", "audit", "warn"].flatMap((m) => [`pod-security.kubernetes.io/${m}`, `pod-security.kubernetes.io/${m}-version`]);

describe("secure-namespace plan and render", () => {
    it("labels the namespace restricted in all three modes, pinned to the cluster minor", () => {
        const { namespace } = renderSecureNamespace(planSecureNamespace("k", { name: "team-a" }));
        assert.equal(DEFAULT_PSA_VERSION, "v1.34");
        assert.deepEqual(namespace.metadata.name, "team-a");
        for (const m of ["enforce", "audit", "warn"]) {
            assert.equal(namespace.metadata.labels[`pod-security.kubernetes.io/${m}`], "restricted");
            assert.equal(namespace.metadata.labels[`pod-security.kubernetes.io/${m}-version`], "v1.34");
        }
        assert.equal(namespace.metadata.annotations, undefined);
    });

    it("takes a version and levels from config; a weaker level carries its exception as an annotation", () => {
        const plan = planSecureNamespace("k", { name: "legacy", podSecurity: { enforce: "baseline", version: "latest", exception: "legacy-hostpath" } });
        const { namespace } = renderSecureNamespace(plan);
        assert.equal(namespace.metadata.labels["pod-security.kubernetes.io/enforce"], "baseline");
        assert.equal(namespace.metadata.labels["pod-security.kubernetes.io/audit"], "restricted", "audit stays restricted unless asked");
        assert.equal(namespace.metadata.labels["pod-security.kubernetes.io/warn-version"], "latest");
        assert.deepEqual(namespace.metadata.annotations, { "hardened-cluster/pod-security-exception": "legacy-hostpath" });
        const posture = namespacePosture(plan);
        assert.deepEqual(posture.weakenings.map((w) => w.option), ["k.podSecurity", "k.podSecurity.version"]);
        assert.ok(posture.weakenings[0].effect.includes("enforce=baseline") && posture.weakenings[0].effect.includes("legacy-hostpath"));
        assert.ok(posture.weakenings[1].effect.includes('"latest"'));
    });

    it("keeps user labels but never lets them override the pod security labels", () => {
        const { namespace } = renderSecureNamespace(planSecureNamespace("k", { name: "web", labels: { team: "web" } }));
        assert.equal(namespace.metadata.labels.team, "web");
        for (const k of PSA_KEYS) assert.ok(k in namespace.metadata.labels, k);
    });

    it("turns off token automount on the default ServiceAccount", () => {
        const { defaultServiceAccount: sa } = renderSecureNamespace(planSecureNamespace("k", { name: "team-a" }));
        assert.deepEqual(sa, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: "team-a" }, automountServiceAccountToken: false });
    });

    it("renders the default quota and limit range, with per-key overrides", () => {
        const objs = renderSecureNamespace(planSecureNamespace("k", { name: "team-a", resourceQuota: { pods: "10", "count/secrets": "20" }, limitRange: { max: { cpu: "2" } } }));
        assert.equal(objs.resourceQuota.metadata.name, RESOURCE_QUOTA_NAME);
        assert.equal(objs.resourceQuota.metadata.namespace, "team-a");
        assert.deepEqual(objs.resourceQuota.spec.hard, { ...DEFAULT_QUOTA, pods: "10", "count/secrets": "20" });
        assert.equal(objs.limitRange.metadata.name, LIMIT_RANGE_NAME);
        assert.deepEqual(objs.limitRange.spec.limits, [
            { type: "Container", default: { cpu: "500m", memory: "512Mi" }, defaultRequest: { cpu: "100m", memory: "128Mi" }, max: { cpu: "2" } },
        ]);
    });

    it("binds namespace personas with RoleBindings to their ClusterRoles, defaulting ServiceAccounts to the namespace", () => {
        const objs = renderSecureNamespace(
            planSecureNamespace("k", {
                name: "team-a",
                roleBindings: {
                    developer: [{ kind: "Group", name: "team-a-devs" }],
                    "ci-deployer": [{ kind: "ServiceAccount", name: "pipeline" }],
                    viewer: [],
                },
            }),
        );
        assert.deepEqual(objs.roleBindings.map((b) => [b.kind, b.metadata.name, b.metadata.namespace, b.roleRef.kind, b.roleRef.name]), [
            ["RoleBinding", "hardened:developer", "team-a", "ClusterRole", "hardened:developer"],
            ["RoleBinding", "hardened:ci-deployer", "team-a", "ClusterRole", "hardened:ci-deployer"],
        ]);
        assert.deepEqual(objs.roleBindings[1].subjects, [{ kind: "ServiceAccount", name: "pipeline", namespace: "team-a" }]);
        assert.deepEqual(objs.roleBindings[0].subjects, [{ kind: "Group", name: "team-a-devs", apiGroup: "rbac.authorization.k8s.io" }]);
    });

    it("records the namespace's posture", () => {
        const p = namespacePosture(planSecureNamespace("k", { name: "team-a", allowEgressTo: [{ cidr: "0.0.0.0/0" }], roleBindings: { viewer: [{ kind: "User", name: "bob" }] } }));
        assert.deepEqual(p.networkPolicies, ["hardened-deny-all", "hardened-allow-dns", "hardened-allow-egress-cidrs"]);
        assert.deepEqual(p.egressTo, [{ cidr: "0.0.0.0/0", except: ["169.254.0.0/16", "100.100.100.200/32"] }]);
        assert.equal(p.defaultServiceAccountAutomount, false);
        assert.deepEqual(Object.keys(p.roleBindings), ["viewer"]);
        assert.equal(p.weakenings.length, 1);
        assert.equal(p.weakenings[0].option, "k.allowEgressTo[0]");
        assert.match(p.weakenings[0].effect, /egress to 0\.0\.0\.0\/0 except 169\.254\.0\.0\/16, 100\.100\.100\.200\/32/);
        assert.deepEqual(namespacePosture(planSecureNamespace("k", { name: "quiet" })).weakenings, []);
    });
});
