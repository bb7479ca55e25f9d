// Property checks over every rule of every rendered persona ClusterRole. The predicates here are written
// independently of components/rbac/invariants.ts, from RBAC's own matching semantics, so a gap in the
// validator cannot hide a gap in the personas.
import { strict as assert } from "node:assert";
import {
    BUILT_IN_PERSONA_NAMES,
    PERSONA_CLUSTER_ROLES,
    builtInPersonas,
    renderClusterRole,
    ruleViolations,
    type Persona,
    type PolicyRule,
} from "../../../components/rbac";

// RBAC matching: does any rule grant `verb` on `group`/`resource`? A "*" matches all; "*/scale" matches any scale subresource.
function allows(rules: PolicyRule[], group: string, resource: string, verb: string): boolean {
    return rules.some((r) => {
        const groups = r.apiGroups ?? [];
        const resources = r.resources ?? [];
        const sub = resource.includes("/") ? resource.slice(resource.indexOf("/")) : undefined;
        return (
            (groups.includes("*") || groups.includes(group)) &&
            (resources.includes("*") || resources.includes(resource) || (sub !== undefined && resources.includes(`*${sub}`))) &&
            (r.verbs.includes("*") || r.verbs.includes(verb))
        );
    });
}

const personas = builtInPersonas();
const byName = (n: string): Persona => personas.find((p) => p.name === n)!;
/** The rules the cluster actually gets for each persona: rendered ones, or the built-in role's. */
const effectiveRules = (p: Persona): PolicyRule[] => renderClusterRole(p)?.rules ?? p.rules;

const ALL_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "escalate", "bind", "impersonate", "approve", "sign"];
const SECRET_READ_VERBS = ["get", "list", "watch", "update", "patch", "delete", "deletecollection"];
const standard = personas.filter((p) => p.tier === "standard");
const nonBreakGlass = personas.filter((p) => p.tier !== "break-glass");

describe("rbac personas: invariants over every rendered rule", () => {
    it("has exactly the seven issue personas, each with rules", () => {
        assert.deepEqual(personas.map((p) => p.name).sort(), [...BUILT_IN_PERSONA_NAMES].sort());
        for (const p of personas) assert.ok(p.rules.length > 0, p.name);
    });

    it("no persona but cluster-admin has a wildcard anywhere in any rule", () => {
        for (const p of personas) {
            for (const r of effectiveRules(p)) {
                const fields = [r.verbs, r.resources, r.apiGroups, r.nonResourceURLs].flatMap((f) => f ?? []);
                if (fields.some((v) => v.includes("*"))) assert.equal(p.name, "cluster-admin", `${p.name}: ${JSON.stringify(r)}`);
            }
        }
        assert.ok(byName("cluster-admin").tier === "break-glass");
        assert.deepEqual(personas.filter((p) => p.tier === "break-glass").map((p) => p.name), ["cluster-admin"]);
    });

    it("standard personas hold no escalate, bind, impersonate, nodes/proxy, token minting or container entry", () => {
        assert.deepEqual(standard.map((p) => p.name).sort(), ["auditor", "ci-deployer", "developer", "platform-admin", "viewer"]);
        for (const p of standard) {
            const rules = effectiveRules(p);
            for (const r of rules) {
                for (const v of ["escalate", "bind", "impersonate"]) assert.ok(!r.verbs.includes(v), `${p.name} has ${v}`);
            }
            for (const verb of ALL_VERBS) {
                assert.ok(!allows(rules, "", "nodes/proxy", verb), `${p.name}: nodes/proxy ${verb}`);
                assert.ok(!allows(rules, "", "pods/exec", verb), `${p.name}: pods/exec ${verb}`);
                assert.ok(!allows(rules, "", "pods/attach", verb), `${p.name}: pods/attach ${verb}`);
            }
            assert.ok(!allows(rules, "", "serviceaccounts/token", "create"), `${p.name}: token create`);
            for (const res of ["clusterroles", "roles", "users", "groups", "serviceaccounts"]) {
                assert.ok(!allows(rules, "rbac.authorization.k8s.io", res, "escalate"));
                assert.ok(!allows(rules, "", res, "impersonate"));
            }
        }
    });

    it("no standard persona can read Secret data by any verb", () => {
        for (const p of standard) {
            for (const verb of SECRET_READ_VERBS) assert.ok(!allows(effectiveRules(p), "", "secrets", verb), `${p.name}: secrets ${verb}`);
        }
    });

    it("viewer and developer cannot read Secrets; namespace-admin can", () => {
        for (const n of ["viewer", "developer"]) {
            for (const verb of ["get", "list", "watch"]) assert.equal(allows(effectiveRules(byName(n)), "", "secrets", verb), false, `${n} ${verb}`);
        }
        assert.ok(allows(effectiveRules(byName("namespace-admin")), "", "secrets", "get"));
    });

    it("auditor reads RBAC objects and namespaces cluster-wide but writes nothing", () => {
        const rules = effectiveRules(byName("auditor"));
        for (const res of ["roles", "rolebindings", "clusterroles", "clusterrolebindings"]) {
            for (const verb of ["get", "list", "watch"]) assert.ok(allows(rules, "rbac.authorization.k8s.io", res, verb), `${res} ${verb}`);
        }
        assert.ok(allows(rules, "", "namespaces", "list"));
        for (const r of rules) assert.deepEqual([...r.verbs].sort(), ["get", "list", "watch"], JSON.stringify(r));
        assert.equal(byName("auditor").scope, "cluster");
    });

    it("ci-deployer has no RBAC rules and cannot read Secrets, but can roll out Deployments", () => {
        const rules = effectiveRules(byName("ci-deployer"));
        assert.ok(rules.every((r) => !(r.apiGroups ?? []).includes("rbac.authorization.k8s.io")));
        assert.ok(!allows(rules, "", "secrets", "get"));
        assert.ok(allows(rules, "apps", "deployments", "patch"));
        assert.equal(byName("ci-deployer").scope, "namespace");
    });

    it("namespace personas cannot change their own quota or limits", () => {
        for (const p of personas.filter((x) => x.scope === "namespace")) {
            for (const verb of ["create", "update", "patch", "delete"]) {
                assert.ok(!allows(effectiveRules(p), "", "resourcequotas", verb), `${p.name} ${verb} resourcequotas`);
                assert.ok(!allows(effectiveRules(p), "", "limitranges", verb), `${p.name} ${verb} limitranges`);
            }
        }
    });

    it("the validator accepts every rule of every built-in persona", () => {
        for (const p of personas) for (const r of p.rules) assert.deepEqual(ruleViolations(p.tier, p.scope, r), [], `${p.name} ${JSON.stringify(r)}`);
    });

    it("admin personas hold no wildcard, and platform-admin cannot escalate, bind or impersonate", () => {
        for (const p of nonBreakGlass) for (const r of p.rules) assert.ok(!r.verbs.includes("*"));
        const rules = effectiveRules(byName("platform-admin"));
        for (const v of ["escalate", "bind", "impersonate"]) assert.ok(rules.every((r) => !r.verbs.includes(v)), v);
    });
});

describe("rbac personas: ClusterRole names", () => {
    it("renders a prefixed ClusterRole per persona except cluster-admin, which binds the built-in role", () => {
        const builtInRoles = ["cluster-admin", "admin", "edit", "view"];
        for (const p of personas) {
            const role = renderClusterRole(p);
            if (p.name === "cluster-admin") {
                assert.equal(role, undefined);
                assert.equal(PERSONA_CLUSTER_ROLES["cluster-admin"], "cluster-admin");
                continue;
            }
            assert.ok(role);
            assert.equal(role.metadata.name, `hardened:${p.name}`);
            assert.equal(role.metadata.name, PERSONA_CLUSTER_ROLES[p.name as keyof typeof PERSONA_CLUSTER_ROLES]);
            assert.ok(!builtInRoles.includes(role.metadata.name) && !role.metadata.name.startsWith("system:"));
            assert.equal(role.apiVersion, "rbac.authorization.k8s.io/v1");
            assert.equal(role.kind, "ClusterRole");
            assert.equal(role.metadata.labels["rbac.authorization.k8s.io/aggregate-to-view"], undefined, "must not aggregate into built-ins");
        }
    });

    it("returns fresh copies, so one caller's edits never leak into another's personas", () => {
        const a = builtInPersonas();
        a[1].rules.push({ apiGroups: ["*"], resources: ["*"], verbs: ["*"] });
        assert.notEqual(builtInPersonas()[1].rules.length, a[1].rules.length);
    });
});
