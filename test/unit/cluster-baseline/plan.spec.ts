import { strict as assert } from "node:assert";
import { clusterPosture, planClusterBaseline, renderClusterBaseline, type ClusterBaselineConfig } from "../../../components/cluster-baseline";

const PSA = (m: string) => `pod-security.kubernetes.io/${m}`;

function tenants(n: number): NonNullable<ClusterBaselineConfig["tenants"]> {
    return Array.from({ length: n }, (_, i) => ({
        name: `tenant-${i}`,
        roleBindings: { developer: [{ kind: "Group" as const, name: `team-${i}` }], viewer: [{ kind: "User" as const, name: `auditor-${i}` }] },
    }));
}

describe("cluster-baseline plan and render", () => {
    it("labels the built-in namespaces: kube-system privileged but audited and warned at restricted, the rest restricted", () => {
        const { builtInNamespacePatches } = renderClusterBaseline(planClusterBaseline("hc:baseline"));
        const byName = Object.fromEntries(builtInNamespacePatches.map((n) => [n.metadata.name, n.metadata.labels]));
        assert.deepEqual(Object.keys(byName).sort(), ["default", "kube-node-lease", "kube-public", "kube-system"]);
        assert.equal(byName["kube-system"][PSA("enforce")], "privileged");
        assert.equal(byName["kube-system"][PSA("audit")], "restricted");
        assert.equal(byName["kube-system"][PSA("warn")], "restricted");
        for (const m of ["enforce", "audit", "warn"]) {
            assert.equal(byName.default[PSA(m)], "restricted");
            for (const ns of Object.keys(byName)) assert.equal(byName[ns][PSA(`${m}-version`)], "v1.34", `${ns} ${m}`);
        }
        for (const ns of builtInNamespacePatches) {
            assert.deepEqual(Object.keys(ns.metadata.labels).filter((k) => !k.startsWith("pod-security.kubernetes.io/")), [], "patches touch only PSA labels");
        }
    });

    it("renders 200 tenant namespaces, each complete", () => {
        const objs = renderClusterBaseline(planClusterBaseline("hc:baseline", { tenants: tenants(200) }));
        assert.equal(objs.tenants.length, 200);
        assert.equal(new Set(objs.tenants.map((t) => t.namespace.metadata.name)).size, 200);
        assert.equal(objs.tenants.flatMap((t) => t.networkPolicies).length, 400);
        assert.equal(objs.tenants.flatMap((t) => t.roleBindings).length, 400);
        for (const t of objs.tenants) {
            const ns = t.namespace.metadata.name;
            for (const m of ["enforce", "audit", "warn"]) {
                assert.equal(t.namespace.metadata.labels[PSA(m)], "restricted", ns);
                assert.equal(t.namespace.metadata.labels[PSA(`${m}-version`)], "v1.34", ns);
            }
            const deny = t.networkPolicies.find((p) => p.metadata.name === "hardened-deny-all")!;
            assert.deepEqual(deny.spec, { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
            const dns = t.networkPolicies.find((p) => p.metadata.name === "hardened-allow-dns")!;
            assert.deepEqual(dns.spec.egress!.flatMap((e) => e.ports), [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }]);
            for (const o of [...t.networkPolicies, t.resourceQuota, t.limitRange, t.defaultServiceAccount, ...t.roleBindings]) {
                assert.equal(o.metadata.namespace, ns);
            }
            assert.equal(t.defaultServiceAccount.automountServiceAccountToken, false);
        }
    });

    it("passes the baseline's PSA version to every tenant and built-in namespace", () => {
        const objs = renderClusterBaseline(planClusterBaseline("hc:baseline", { podSecurityVersion: "v1.33", tenants: tenants(2) }));
        for (const ns of [...objs.builtInNamespacePatches, ...objs.tenants.map((t) => t.namespace)]) {
            assert.equal(ns.metadata.labels[PSA("enforce-version")], "v1.33", ns.metadata.name);
        }
    });

    it("lets tenants bind custom namespace personas", () => {
        const plan = planClusterBaseline("hc:baseline", {
            rbac: { personas: [{ name: "log-reader", scope: "namespace", rules: [{ apiGroups: [""], resources: ["pods/log"], verbs: ["get"] }] }] },
            tenants: [{ name: "team-a", roleBindings: { "log-reader": [{ kind: "Group", name: "sre" }] } }],
        });
        const [rb] = renderClusterBaseline(plan).tenants[0].roleBindings;
        assert.equal(rb.roleRef.name, "hardened:log-reader");
    });
});

describe("cluster-baseline posture", () => {
    const plan = planClusterBaseline("hc:baseline", {
        tenants: [
            { name: "team-a", roleBindings: { developer: [{ kind: "Group", name: "devs" }] } },
            { name: "legacy", podSecurity: { enforce: "baseline", exception: "old-agent" }, allowEgressTo: [{ cidr: "10.0.0.0/8" }] },
        ],
        rbac: {
            clusterBindings: { "cluster-admin": [{ kind: "Group", name: "break-glass" }] },
            personas: [{ name: "ops", tier: "admin", scope: "cluster", rules: [{ apiGroups: [""], resources: ["nodes/proxy"], verbs: ["get"] }] }],
        },
        admission: { allowedRegistries: ["registry.k8s.io", "ghcr.io"], loadBalancerNamespaces: ["team-a"], exemptNamespaces: ["legacy"] },
    });
    const posture = clusterPosture(plan);

    it("lists every namespace with its PSA levels and policies, built-ins first", () => {
        assert.deepEqual(posture.namespaces.map((n) => n.name), ["kube-system", "default", "kube-public", "kube-node-lease", "team-a", "legacy"]);
        const legacy = posture.namespaces.find((n) => n.name === "legacy")!;
        assert.deepEqual([legacy.podSecurity.enforce, legacy.podSecurity.audit, legacy.podSecurity.exception], ["baseline", "restricted", "old-agent"]);
        assert.deepEqual(legacy.networkPolicies, ["hardened-deny-all", "hardened-allow-dns", "hardened-allow-egress-cidrs"]);
        assert.equal(posture.namespaces.find((n) => n.name === "kube-system")!.builtIn, true);
    });

    it("lists personas with their cluster and namespace subjects", () => {
        const dev = posture.personas.find((p) => p.name === "developer")!;
        assert.deepEqual(dev.namespaceSubjects, { "team-a": [{ kind: "Group", name: "devs", apiGroup: "rbac.authorization.k8s.io" }] });
        const admin = posture.personas.find((p) => p.name === "cluster-admin")!;
        assert.deepEqual(admin.clusterSubjects.map((s) => s.name), ["break-glass", "kubeadm:cluster-admins"]);
    });

    it("collects every weakening, and none for a default cluster", () => {
        // Each weakening at the key the config above set it with, and what it says.
        const want: [string, string][] = [
            ["hc:baseline", "kube-system: pod security enforce=privileged"],
            ["hc:baseline.tenants[1].podSecurity", "legacy: pod security enforce=baseline"],
            ["hc:baseline.tenants[1].allowEgressTo[0]", "legacy: egress to 10.0.0.0/8"],
            ["hc:baseline.rbac.personas[0].tier", "custom persona ops is admin-tier"],
            ["hc:baseline.admission.allowedRegistries", "images also allowed from ghcr.io"],
            ["hc:baseline.admission.loadBalancerNamespaces", "LoadBalancer Services allowed in team-a"],
            ["hc:baseline.admission.exemptNamespaces", "does not apply in legacy"],
        ];
        assert.equal(posture.weakenings.length, want.length, JSON.stringify(posture.weakenings));
        for (const [option, says] of want) {
            const w = posture.weakenings.find((x) => x.option === option);
            assert.ok(w && w.effect.includes(says), `${option}: ${says} in ${JSON.stringify(posture.weakenings)}`);
        }
        assert.deepEqual(clusterPosture(planClusterBaseline("hc:baseline", { tenants: tenants(3) })).weakenings, [
            { option: "hc:baseline", effect: 'namespace kube-system: pod security enforce=privileged (exception "system-components")' },
        ]);
    });

    it("names the setting an unpinned Pod Security version came from", () => {
        const inherited = clusterPosture(planClusterBaseline("hc:baseline", { podSecurityVersion: "latest", tenants: [{ name: "team-a" }] }));
        const unpinned = inherited.weakenings.filter((w) => w.effect.includes('"latest"'));
        // kube-system, default, kube-public, kube-node-lease and the one tenant.
        assert.equal(unpinned.length, 5, JSON.stringify(inherited.weakenings));
        assert.deepEqual([...new Set(unpinned.map((w) => w.option))], ["hc:baseline.podSecurityVersion"]);
        const own = clusterPosture(planClusterBaseline("hc:baseline", { tenants: [{ name: "team-a", podSecurity: { version: "latest" } }] }));
        assert.deepEqual(own.weakenings.filter((w) => w.effect.includes('"latest"')).map((w) => w.option), ["hc:baseline.tenants[0].podSecurity.version"]);
    });

    it("allows a registry the platform serves itself, in the policy and as a weakening named by the platform's setting", () => {
        const local = { registry: "localhost", setting: "hc:local.workers", serves: "the node's own registry" };
        const plan = planClusterBaseline("hc:baseline", {}, [local]);
        assert.deepEqual(plan.admission.allowedRegistries, ["registry.k8s.io", "localhost"]);
        const policy = renderClusterBaseline(plan).policy;
        assert.equal(policy.spec.variables.find((v) => v.name === "allowedRegistries")!.expression, "['registry.k8s.io', 'localhost']");
        const weakenings = clusterPosture(plan).weakenings.filter((w) => w.effect.includes("localhost"));
        assert.deepEqual(weakenings, [{ option: "hc:local.workers", effect: "images also allowed from localhost (the node's own registry)" }]);
        // Already allowed by the stack: the stack's own setting names it, once.
        const both = clusterPosture(planClusterBaseline("hc:baseline", { admission: { allowedRegistries: ["localhost"] } }, [local]));
        assert.deepEqual(both.admission.allowedRegistries, ["localhost"]);
        assert.deepEqual(both.weakenings.filter((w) => w.effect.includes("localhost")).map((w) => w.option), ["hc:baseline.admission.allowedRegistries"]);
    });

    it("names the admission objects", () => {
        assert.equal(posture.admission.policy, "hardened-workload-guard");
        assert.equal(posture.admission.binding, "hardened-workload-guard");
        assert.deepEqual(posture.admission.allowedRegistries, ["registry.k8s.io", "ghcr.io"]);
    });
});
