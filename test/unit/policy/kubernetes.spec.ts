// The pack's Kubernetes rules, each with an object the standard accepts and one it refuses. Expected
// outcomes follow the Pod Security Standards (v1.34), the NetworkPolicy and RBAC good-practices docs.
import { strict as assert } from "node:assert";
import { UNKNOWN, checkResource, checkStack } from "./policy-harness";

const NS = "kubernetes:core/v1:Namespace";
const NP = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const CRB = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding";
const ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role";
const psa = (enforce: string, version = "v1.34") => ({ "pod-security.kubernetes.io/enforce": enforce, "pod-security.kubernetes.io/enforce-version": version });

describe("policy pack: namespace-pod-security", () => {
    it("accepts restricted pinned to a minor version", async () => {
        const o = await checkResource("namespace-pod-security", NS, { metadata: { name: "team-a", labels: psa("restricted") } });
        assert.deepEqual(o.violations, []);
    });
    it("refuses a privileged namespace, a missing label and an unpinned (latest) version", async () => {
        assert.match((await checkResource("namespace-pod-security", NS, { metadata: { name: "t", labels: psa("privileged") } })).violations.join(), /enforces Pod Security 'privileged'/);
        assert.match((await checkResource("namespace-pod-security", NS, { metadata: { name: "t" } })).violations.join(), /no Pod Security enforce label/);
        assert.match((await checkResource("namespace-pod-security", NS, { metadata: { name: "t", labels: psa("restricted", "latest") } })).violations.join(), /does not pin/);
    });
    it("honours a declared exception, and only down to the declared level", async () => {
        const cfg = { exceptions: { legacy: "baseline" } };
        const ok = await checkResource("namespace-pod-security", NS, { metadata: { name: "legacy", labels: psa("baseline") } }, cfg);
        assert.deepEqual(ok.violations, []);
        assert.equal(ok.honoured.length, 1);
        const weaker = await checkResource("namespace-pod-security", NS, { metadata: { name: "legacy", labels: psa("privileged") } }, cfg);
        assert.equal(weaker.violations.length, 1);
    });
    it("leaves kube-system alone, and defers (does not pass) a label that is unknown at preview", async () => {
        assert.deepEqual((await checkResource("namespace-pod-security", NS, { metadata: { name: "kube-system", labels: psa("privileged") } })).violations, []);
        const o = await checkResource("namespace-pod-security", NS, { metadata: { name: "t", labels: { "pod-security.kubernetes.io/enforce": UNKNOWN.string } } });
        assert.equal(o.deferred, true);
    });
});

describe("policy pack: namespace-default-deny", () => {
    const ns = { type: NS, name: "ns", props: { metadata: { name: "team-a" } } };
    const deny = (types: string[]) => ({ type: NP, name: `deny-${types.join("")}`, props: { metadata: { namespace: "team-a" }, spec: { podSelector: {}, policyTypes: types } } });
    it("accepts a namespace with a deny-all for ingress and egress (one policy or two)", async () => {
        assert.deepEqual((await checkStack("namespace-default-deny", [ns, deny(["Ingress", "Egress"])])).violations, []);
        assert.deepEqual((await checkStack("namespace-default-deny", [ns, deny(["Ingress"]), deny(["Egress"])])).violations, []);
    });
    it("refuses a namespace without one, or whose deny selects only some pods or allows traffic", async () => {
        assert.match((await checkStack("namespace-default-deny", [ns])).violations.join(), /team-a has no default-deny NetworkPolicy for Ingress and Egress/);
        const partial = { type: NP, name: "p", props: { metadata: { namespace: "team-a" }, spec: { podSelector: { matchLabels: { a: "b" } }, policyTypes: ["Ingress", "Egress"] } } };
        assert.equal((await checkStack("namespace-default-deny", [ns, partial])).violations.length, 1);
        // Without policyTypes, a policy with no egress rules governs ingress only (upstream defaulting).
        const ingressOnly = { type: NP, name: "i", props: { metadata: { namespace: "team-a" }, spec: { podSelector: {} } } };
        assert.match((await checkStack("namespace-default-deny", [ns, ingressOnly])).violations.join(), /for Egress$/);
    });
    it("defers (neither passes nor fails) when outputs are not known at preview", async () => {
        // A provider with an unknown configuration plans no outputs: the namespace's name is missing.
        assert.equal((await checkStack("namespace-default-deny", [{ type: NS, name: "ns", props: {} }])).deferred, true);
        // A policy whose outputs are missing may be the deny this namespace needs.
        const o = await checkStack("namespace-default-deny", [ns, { type: NP, name: "np", props: {} }]);
        assert.deepEqual([o.deferred, o.violations], [true, []]);
        // ...but a namespace another policy already covers is decided.
        assert.equal((await checkStack("namespace-default-deny", [ns, deny(["Ingress", "Egress"]), { type: NP, name: "np", props: {} }])).deferred, false);
    });
    it("honours an exempt namespace", async () => {
        const o = await checkStack("namespace-default-deny", [ns], { exceptions: ["team-a"] });
        assert.deepEqual(o.violations, []);
        assert.equal(o.honoured.length, 1);
    });
});

describe("policy pack: network-policy-no-metadata-egress", () => {
    const egress = (to: unknown[]) => ({ metadata: { namespace: "a" }, spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{ to }] } });
    it("accepts pod-selector egress and a wide CIDR that excepts link-local", async () => {
        assert.deepEqual((await checkResource("network-policy-no-metadata-egress", NP, egress([{ podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }]))).violations, []);
        const wide = egress([{ ipBlock: { cidr: "0.0.0.0/0", except: ["169.254.0.0/16", "100.100.100.200/32"] } }, { ipBlock: { cidr: "::/0", except: ["fd00:ec2::/32"] } }]);
        assert.deepEqual((await checkResource("network-policy-no-metadata-egress", NP, wide)).violations, []);
    });
    it("refuses 169.254.169.254, a CIDR holding it, an IPv4-mapped form, and an egress rule with no 'to'", async () => {
        for (const cidr of ["169.254.169.254/32", "169.254.0.0/16", "0.0.0.0/0", "::ffff:169.254.169.254/128"]) {
            const o = await checkResource("network-policy-no-metadata-egress", NP, egress([{ ipBlock: { cidr } }]));
            assert.match(o.violations.join(), /169\.254\.169\.254/, cidr);
        }
        assert.match((await checkResource("network-policy-no-metadata-egress", NP, egress([]))).violations.join(), /fd00:ec2::254/);
    });
});

describe("policy pack: rbac-no-undeclared-cluster-admin", () => {
    const binding = (subjects: unknown[], role = "cluster-admin") => ({ metadata: { name: "b" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role }, subjects });
    it("accepts kubeadm's admin group (declared by default) and bindings of other roles", async () => {
        const o = await checkResource("rbac-no-undeclared-cluster-admin", CRB, binding([{ kind: "Group", name: "kubeadm:cluster-admins" }]));
        assert.deepEqual(o.violations, []);
        assert.equal(o.honoured.length, 1);
        assert.deepEqual((await checkResource("rbac-no-undeclared-cluster-admin", CRB, binding([{ kind: "Group", name: "devs" }], "view"))).violations, []);
    });
    it("refuses cluster-admin for an undeclared group, and any binding of system:masters", async () => {
        assert.match((await checkResource("rbac-no-undeclared-cluster-admin", CRB, binding([{ kind: "Group", name: "devs" }]))).violations.join(), /Group:devs/);
        assert.match((await checkResource("rbac-no-undeclared-cluster-admin", CRB, binding([{ kind: "Group", name: "system:masters" }], "view"))).violations.join(), /system:masters/);
    });
    it("follows the configured persona list instead of the default", async () => {
        const o = await checkResource("rbac-no-undeclared-cluster-admin", CRB, binding([{ kind: "Group", name: "kubeadm:cluster-admins" }]), { exceptions: ["Group:ops-breakglass"] });
        assert.equal(o.violations.length, 1);
    });
});

describe("policy pack: rbac-no-escalation-verbs", () => {
    const role = (rules: unknown[]) => ({ metadata: { name: "r", namespace: "a" }, rules });
    it("accepts a role with explicit verbs and resources", async () => {
        assert.deepEqual((await checkResource("rbac-no-escalation-verbs", ROLE, role([{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] }]))).violations, []);
    });
    it("refuses escalate, bind, impersonate and wildcards", async () => {
        for (const r of [{ apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles"], verbs: ["escalate"] }, { apiGroups: ["rbac.authorization.k8s.io"], resources: ["clusterroles"], verbs: ["bind"] },
            { apiGroups: [""], resources: ["users"], verbs: ["impersonate"] }, { apiGroups: ["*"], resources: ["pods"], verbs: ["get"] }, { apiGroups: [""], resources: ["*"], verbs: ["get"] }]) {
            assert.equal((await checkResource("rbac-no-escalation-verbs", ROLE, role([r]))).violations.length, 1, JSON.stringify(r));
        }
    });
    it("honours a declared platform role", async () => {
        const o = await checkResource("rbac-no-escalation-verbs", ROLE, role([{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }]), { exceptions: ["r"] });
        assert.deepEqual(o.violations, []);
        assert.equal(o.honoured.length, 1);
    });
});

describe("policy pack: no-service-account-token-secret", () => {
    it("accepts an Opaque Secret and refuses a service-account-token one", async () => {
        const S = "kubernetes:core/v1:Secret";
        assert.deepEqual((await checkResource("no-service-account-token-secret", S, { type: "Opaque", metadata: { name: "s" } })).violations, []);
        const o = await checkResource("no-service-account-token-secret", S, { type: "kubernetes.io/service-account-token", metadata: { name: "t", annotations: { "kubernetes.io/service-account.name": "default" } } });
        assert.equal(o.violations.length, 1);
    });
});
