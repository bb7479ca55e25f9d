// Cluster-wide bindings to groups that stand for every workload, node or joining machine; the cluster-admin
// list of the plan; the kubeadm switch the program cannot honour; PSA pins older than the restricted checks.
import { strict as assert } from "node:assert";
import { assertKubeadmBindingKept, planRbac, validateSubjects } from "../../../components/rbac";
import { MIN_PSA_VERSION, validatePsaVersion } from "../../../components/secure-namespace/pod-security";
import { refusal } from "../config-error";

// Groups the apiserver puts callers in (kubernetes.io/docs/reference/access-authn-authz/authentication and
// rbac "Default roles and role bindings"): every SA, every SA of a namespace, bootstrap-token holders, nodes.
const BROAD = [
    "system:serviceaccounts",
    "system:serviceaccounts:kube-system",
    "system:bootstrappers",
    "system:bootstrappers:kubeadm:default-node-token",
    "system:nodes",
    "system:authenticated",
    "system:unauthenticated",
];

describe("rbac subjects: broad system groups", () => {
    it("refuses each as a cluster-wide binding subject, naming the subject's name key", () => {
        let n = 0;
        for (const group of BROAD) {
            const e = refusal(() => planRbac("hc:rbac", { clusterBindings: { auditor: [{ kind: "Group", name: group }] } }));
            assert.equal(e.key, "hc:rbac.clusterBindings.auditor[0].name", group);
            n++;
        }
        assert.equal(n, BROAD.length);
    });

    it("still accepts named groups and ServiceAccounts cluster-wide", () => {
        const plan = planRbac("hc:rbac", { clusterBindings: { auditor: [{ kind: "Group", name: "system:serviceaccountsX" }, { kind: "ServiceAccount", name: "scanner", namespace: "security" }] } });
        assert.equal(plan.clusterRoleBindings[0].subjects.length, 2);
        assert.equal(validateSubjects("k", [{ kind: "Group", name: "system:serviceaccounts:team-a" }], "team-a").length, 1, "a namespace's own SAs in its RoleBinding");
    });
});

describe("rbac plan: who is cluster-admin", () => {
    it("lists the kubeadm group, configured cluster-admins and system:masters", () => {
        const admins = planRbac("hc:rbac", { clusterBindings: { "cluster-admin": [{ kind: "User", name: "root@example.com" }] } }).clusterAdmins;
        assert.deepEqual(admins.slice(0, 2), ["Group kubeadm:cluster-admins", "User root@example.com"]);
        assert.ok(admins[2].startsWith("Group system:masters"));
        assert.ok(!planRbac("hc:rbac", { bindKubeadmClusterAdmins: false }).clusterAdmins.some((a) => a.includes("kubeadm")));
    });

    it("refuses bindKubeadmClusterAdmins: false where the program applies the baseline with that credential", () => {
        assert.equal(refusal(() => assertKubeadmBindingKept("hc:baseline.rbac", { bindKubeadmClusterAdmins: false })).key, "hc:baseline.rbac.bindKubeadmClusterAdmins");
        assertKubeadmBindingKept("hc:baseline.rbac", {});
        assertKubeadmBindingKept("hc:baseline.rbac", { bindKubeadmClusterAdmins: true });
    });
});

describe("pod security: version pins", () => {
    it("refuses versions before v1.23, whose restricted profile lets runAsUser 0 through", () => {
        assert.equal(MIN_PSA_VERSION, "v1.23");
        for (const v of ["v1.0", "v1.19", "v1.22", "v0.99"]) {
            const e = refusal(() => validatePsaVersion("hc:v", v));
            assert.equal(e.key, "hc:v");
            assert.ok(e.message.includes("v1.23"), e.message);
        }
        for (const v of ["v1.23", "v1.34", "v2.0", "latest"]) assert.equal(validatePsaVersion("hc:v", v), v);
    });
});
