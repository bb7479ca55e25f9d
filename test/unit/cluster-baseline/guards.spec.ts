// The privilege and tenant guards, their generated CEL run by the test interpreter against the requests an
// attacker would send (and the legitimate ones next to them, so a refusal is never an accident).
import { strict as assert } from "node:assert";
import {
    PRIVILEGE_GUARD_NAME,
    TENANT_GUARD_NAME,
    clusterPosture,
    planClusterBaseline,
    renderClusterBaseline,
    type ClusterBaselineConfig,
} from "../../../components/cluster-baseline";
import { refusal as refused } from "../config-error";
import { evaluate, type RequestContext } from "./cel-subset";

const CONFIG: ClusterBaselineConfig = {
    tenants: [{ name: "team-a" }, { name: "team-b" }],
    rbac: { clusterBindings: { "platform-admin": [{ kind: "Group", name: "platform-ops" }], "cluster-admin": [{ kind: "User", name: "root@example.com" }] } },
    admission: { serviceAccounts: { "team-a": ["builder"] }, workloadSecrets: { "team-a": ["db-password"] } },
};

function guards(config: ClusterBaselineConfig = CONFIG) {
    const objs = renderClusterBaseline(planClusterBaseline("hc:baseline", config));
    const [privilege, tenant] = objs.guards;
    assert.equal(privilege.metadata.name, PRIVILEGE_GUARD_NAME);
    assert.equal(tenant.metadata.name, TENANT_GUARD_NAME);
    return { privilege, tenant, bindings: objs.guardBindings, objs };
}

const TENANT_USER: RequestContext = { username: "dev@example.com", groups: ["team-a-devs", "system:authenticated"] };
const PLATFORM_ADMIN: RequestContext = { username: "ops@example.com", groups: ["platform-ops", "system:authenticated"] };
const ADMIN_CREDENTIAL: RequestContext = { username: "kubernetes-admin", groups: ["kubeadm:cluster-admins", "system:authenticated"] };

const tokenSecret = { apiVersion: "v1", kind: "Secret", type: "kubernetes.io/service-account-token", metadata: { name: "t", annotations: { "kubernetes.io/service-account.name": "clusterrole-aggregation-controller" } } };
const opaqueSecret = { apiVersion: "v1", kind: "Secret", type: "Opaque", metadata: { name: "s" }, data: { a: "Yg==" } };
const ns = (labels: Record<string, string>) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a", labels } });
const PSA = { "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "v1.34" };

const pod = (spec: Record<string, unknown>) => ({ apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "registry.k8s.io/pause:3.10" }], ...spec } });
const deployment = (spec: Record<string, unknown>) => ({ apiVersion: "apps/v1", kind: "Deployment", spec: { template: { spec: { containers: [{ name: "c", image: "x" }], ...spec } } } });

describe("cluster-baseline guards: privilege guard", () => {
    it("refuses token Secrets from anyone but break-glass, in any namespace, and lets Opaque Secrets through", () => {
        const { privilege } = guards();
        for (const who of [TENANT_USER, PLATFORM_ADMIN]) {
            for (const where of ["kube-system", "team-a"]) {
                assert.equal(evaluate(privilege, tokenSecret, where, who).denied.length, 1, `${who.username} in ${where}`);
                assert.deepEqual(evaluate(privilege, opaqueSecret, where, who).denied, []);
            }
        }
        assert.deepEqual(evaluate(privilege, tokenSecret, "kube-system", ADMIN_CREDENTIAL).denied, []);
        assert.deepEqual(evaluate(privilege, tokenSecret, "kube-system", { username: "root@example.com", groups: [] }).denied, []);
    });

    it("refuses PSA label changes and namespace creation by non-break-glass identities, not other label changes", () => {
        const { privilege } = guards();
        const relabel = (labels: Record<string, string>, who: RequestContext) =>
            evaluate(privilege, ns(labels), "", { ...who, operation: "UPDATE", oldObject: ns({ ...PSA, team: "a" }) }).denied;
        for (const who of [TENANT_USER, PLATFORM_ADMIN]) {
            assert.equal(relabel({ ...PSA, "pod-security.kubernetes.io/enforce": "privileged", team: "a" }, who).length, 1, "level changed");
            assert.equal(relabel({ "pod-security.kubernetes.io/enforce": "restricted", team: "a" }, who).length, 1, "version label removed");
            assert.equal(relabel({ ...PSA, "pod-security.kubernetes.io/warn": "privileged", team: "a" }, who).length, 1, "label added");
            assert.deepEqual(relabel({ ...PSA, team: "b" }, who), [], "other labels are not the guard's business");
            assert.equal(evaluate(privilege, ns({ ...PSA }), "", { ...who, operation: "CREATE" }).denied.length, 1, "create");
        }
        assert.deepEqual(relabel({ ...PSA, "pod-security.kubernetes.io/enforce": "privileged" }, ADMIN_CREDENTIAL), []);
    });

    it("binds cluster-wide, and with bindKubeadmClusterAdmins false no longer trusts the kubeadm group", () => {
        const { bindings } = guards();
        assert.equal(bindings[0].spec.matchResources, undefined);
        const { privilege } = guards({ ...CONFIG, rbac: { ...CONFIG.rbac, bindKubeadmClusterAdmins: false } });
        assert.equal(evaluate(privilege, tokenSecret, "kube-system", ADMIN_CREDENTIAL).denied.length, 1);
        assert.deepEqual(evaluate(privilege, tokenSecret, "kube-system", { username: "x", groups: ["system:masters"] }).denied, []);
    });
});

describe("cluster-baseline guards: tenant guard", () => {
    const ctx = (who: RequestContext, extra: RequestContext = {}): RequestContext => ({ ...who, resource: "pods", ...extra });

    it("binds to the tenant namespaces only", () => {
        const { bindings } = guards();
        assert.deepEqual(bindings[1].spec.matchResources, {
            namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: ["team-a", "team-b"] }] },
        });
    });

    it("with no tenants, selects by a value the API server accepts as a label value and no namespace can be named", () => {
        const { bindings } = guards({ tenants: [] });
        const values: string[] = bindings[1].spec.matchResources?.namespaceSelector.matchExpressions[0].values ?? [];
        assert.equal(values.length, 1);
        // Label values and namespace names as the Kubernetes docs define them ("Labels and Selectors": at most 63
        // characters, alphanumeric at both ends, -_. between; "Namespaces": an RFC 1123 label).
        assert.ok(values[0].length <= 63 && /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(values[0]), `${values[0]} is not a valid label value`);
        assert.ok(!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(values[0]), `${values[0]} could be a namespace's name`);
    });

    it("pins serviceAccountName (and its deprecated alias) to the allow-list, for pods and templates", () => {
        const { tenant } = guards();
        const denied = (o: unknown, where: string) => evaluate(tenant, o, where, ctx(TENANT_USER)).denied;
        assert.deepEqual(denied(pod({ serviceAccountName: "default" }), "team-a"), []);
        assert.deepEqual(denied(pod({ serviceAccountName: "builder" }), "team-a"), []);
        assert.deepEqual(denied(deployment({}), "team-a"), [], "no serviceAccountName means default");
        assert.equal(denied(pod({ serviceAccountName: "builder" }), "team-b").length, 1, "allow-lists are per namespace");
        assert.equal(denied(pod({ serviceAccountName: "namespace-controller" }), "team-a").length, 1);
        assert.equal(denied(deployment({ serviceAccountName: "deployer" }), "team-a").length, 1);
        assert.equal(denied(deployment({ serviceAccount: "deployer" }), "team-a").length, 1, "deprecated alias");
        assert.equal(evaluate(tenant, pod({ serviceAccountName: "x" }), "team-a", ctx(PLATFORM_ADMIN)).denied.length, 1, "platform users too");
    });

    it("refuses every way a pod can read a Secret that is not allow-listed, and lets listed ones through", () => {
        const { tenant } = guards();
        const ways = (name: string): Record<string, Record<string, unknown>> => ({
            volume: { volumes: [{ name: "v", secret: { secretName: name } }] },
            projected: { volumes: [{ name: "v", projected: { sources: [{ configMap: { name: "c" } }, { secret: { name } }] } }] },
            env: { containers: [{ name: "c", image: "x", env: [{ name: "A", value: "b" }, { name: "P", valueFrom: { secretKeyRef: { name, key: "k" } } }] }] },
            envFrom: { containers: [{ name: "c", image: "x", envFrom: [{ secretRef: { name } }] }] },
            initEnvFrom: { initContainers: [{ name: "i", image: "x", envFrom: [{ secretRef: { name } }] }] },
        });
        let tried = 0;
        for (const [way, spec] of Object.entries(ways("other-secret"))) {
            assert.equal(evaluate(tenant, pod(spec), "team-a", ctx(TENANT_USER)).denied.length, 1, way);
            assert.equal(evaluate(tenant, deployment(spec), "team-a", ctx(TENANT_USER)).denied.length, 1, `${way} in a template`);
            assert.deepEqual(evaluate(tenant, pod(ways("db-password")[way]), "team-a", ctx(TENANT_USER)).denied, [], `${way} allowed`);
            assert.equal(evaluate(tenant, pod(ways("db-password")[way]), "team-b", ctx(TENANT_USER)).denied.length, 1, `${way} per namespace`);
            tried++;
        }
        assert.equal(tried, 5);
    });

    it("lets only platform identities change or delete the hardened-* NetworkPolicies, default deny included", () => {
        const { tenant } = guards();
        const np = (name: string) => ({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name }, spec: { podSelector: {} } });
        // An update that opens the policy: it now selects only pods labelled x, so every other pod is let go.
        const opened = { ...np("hardened-deny-all"), spec: { podSelector: { matchLabels: { x: "y" } } } };
        for (const op of ["UPDATE", "DELETE"] as const) {
            const c = { resource: "networkpolicies", name: "hardened-deny-all", operation: op, oldObject: np("hardened-deny-all") };
            assert.equal(evaluate(tenant, opened, "team-a", { ...TENANT_USER, ...c }).denied.length, 1, op);
            assert.deepEqual(evaluate(tenant, opened, "team-a", { ...PLATFORM_ADMIN, ...c }).denied, [], op);
            assert.deepEqual(evaluate(tenant, opened, "team-a", { ...ADMIN_CREDENTIAL, ...c }).denied, [], op);
        }
        const own = { resource: "networkpolicies", name: "allow-web", operation: "DELETE" as const, oldObject: np("allow-web") };
        assert.deepEqual(evaluate(tenant, np("allow-web"), "team-a", { ...TENANT_USER, ...own }).denied, [], "a tenant's own policy");
    });

    it("lets the controllers finish a deletion, but not hand the policy to an object a tenant deletes", () => {
        const { tenant } = guards();
        const np = (metadata: Record<string, unknown>) => ({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "hardened-deny-all", ...metadata }, spec: { podSelector: {} } });
        const update = { resource: "networkpolicies", name: "hardened-deny-all", operation: "UPDATE" as const };
        const gc: RequestContext = { username: "system:serviceaccount:kube-system:generic-garbage-collector", groups: ["system:serviceaccounts"] };
        // Foreground deletion: the garbage collector removes its finalizer with a metadata-only patch.
        const finalizing = np({ finalizers: ["foregroundDeletion"], deletionTimestamp: "2026-12-02T00:00:00Z" });
        assert.deepEqual(evaluate(tenant, np({ deletionTimestamp: "2026-12-02T00:00:00Z" }), "team-a", { ...gc, ...update, oldObject: finalizing }).denied, []);
        const owned = np({ ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "mine", uid: "u" }] });
        assert.equal(evaluate(tenant, owned, "team-a", { ...TENANT_USER, ...update, oldObject: np({}) }).denied.length, 1, "owner reference added");
        const del = { resource: "networkpolicies", name: "hardened-deny-all", operation: "DELETE" as const, oldObject: np({}) };
        const nsController: RequestContext = { username: "system:serviceaccount:kube-system:namespace-controller", groups: ["system:serviceaccounts"] };
        assert.deepEqual(evaluate(tenant, np({}), "team-a", { ...nsController, ...del }).denied, [], "namespace controller");
        assert.equal(evaluate(tenant, np({}), "team-a", { ...gc, ...del }).denied.length, 1, "the garbage collector has no owner to follow");
    });
});

describe("cluster-baseline guards: configuration", () => {
    const refusal = (config: unknown) => refused(() => planClusterBaseline("hc:baseline", config as ClusterBaselineConfig));

    it("refuses allow-lists for namespaces that are not tenants, and names that are not object names", () => {
        assert.equal(refusal({ tenants: [{ name: "team-a" }], admission: { serviceAccounts: { "kube-system": ["x"] } } }).key, "hc:baseline.admission.serviceAccounts.kube-system");
        assert.equal(refusal({ tenants: [{ name: "team-a" }], admission: { workloadSecrets: { "team-a": ["Bad_Name"] } } }).key, "hc:baseline.admission.workloadSecrets.team-a[0]");
        assert.equal(refusal({ admission: { serviceAccounts: ["x"] } }).key, "hc:baseline.admission.serviceAccounts");
    });

    it("names every extra ServiceAccount and Secret in the posture weakenings, and every cluster-admin", () => {
        const posture = clusterPosture(planClusterBaseline("hc:baseline", CONFIG));
        const shown = JSON.stringify(posture.weakenings);
        const sa = posture.weakenings.find((w) => w.option === "hc:baseline.admission.serviceAccounts.team-a");
        assert.ok(sa && sa.effect.includes("team-a") && sa.effect.includes("builder"), shown);
        const secret = posture.weakenings.find((w) => w.option === "hc:baseline.admission.workloadSecrets.team-a");
        assert.ok(secret && secret.effect.includes("db-password"), shown);
        assert.ok(posture.clusterAdmins.some((a) => a.includes("kubeadm:cluster-admins")));
        assert.ok(posture.clusterAdmins.some((a) => a.includes("system:masters")));
        assert.ok(posture.clusterAdmins.some((a) => a.includes("root@example.com")));
        const plain = clusterPosture(planClusterBaseline("hc:baseline", { tenants: [{ name: "team-a" }] }));
        assert.deepEqual(plain.weakenings.filter((w) => w.option.startsWith("hc:baseline.admission")), []);
    });

    it("binds platform-admin's subjects to namespace-admin in every tenant, under its own binding name", () => {
        const { objs } = guards();
        assert.deepEqual(objs.platformAdminTenantBindings.map((b) => [b.metadata.namespace, b.metadata.name, b.roleRef.name]), [
            ["team-a", "hardened:platform-admin", "hardened:namespace-admin"],
            ["team-b", "hardened:platform-admin", "hardened:namespace-admin"],
        ]);
        assert.deepEqual(objs.platformAdminTenantBindings[0].subjects.map((s) => s.name), ["platform-ops"]);
    });
});
