// The policy tests are only as good as the matcher they use, so it is checked against hand-made rules.
import { strict as assert } from "node:assert";
import { AuditPolicy } from "../../../components/audit";
import { couldMatchResource, evaluate, ruleMatches } from "./matcher";

const secretsGet = { user: "u", verb: "get", resource: { group: "", resource: "secrets", namespace: "ns" } };

describe("audit: test matcher", () => {
    it("takes the first matching rule and defaults to None", () => {
        const policy: AuditPolicy = {
            apiVersion: "audit.k8s.io/v1", kind: "Policy", omitStages: [], omitManagedFields: true,
            rules: [{ level: "RequestResponse", verbs: ["create"] }, { level: "Metadata", resources: [{ group: "" }] }],
        };
        assert.deepEqual(evaluate(policy, secretsGet), { level: "Metadata", rule: 1 });
        assert.deepEqual(evaluate(policy, { ...secretsGet, verb: "create" }), { level: "RequestResponse", rule: 0 });
        assert.deepEqual(evaluate(policy, { user: "u", verb: "get", resource: { group: "apps", resource: "deployments" } }), { level: "None", rule: -1 });
    });

    it("matches users, groups, namespaces and subresource wildcards as the apiserver does", () => {
        assert.equal(ruleMatches({ level: "None", users: ["x"] }, secretsGet), false);
        assert.equal(ruleMatches({ level: "None", userGroups: ["g"] }, { ...secretsGet, groups: ["g"] }), true);
        assert.equal(ruleMatches({ level: "None", namespaces: ["other"] }, secretsGet), false);
        assert.equal(ruleMatches({ level: "None", namespaces: ["ns"] }, secretsGet), true);
        const exec = { user: "u", verb: "create", resource: { group: "", resource: "pods", subresource: "exec" } };
        assert.equal(ruleMatches({ level: "None", resources: [{ group: "", resources: ["pods"] }] }, exec), false);
        assert.equal(ruleMatches({ level: "None", resources: [{ group: "", resources: ["pods/*"] }] }, exec), true);
        assert.equal(ruleMatches({ level: "None", resources: [{ group: "", resources: ["*/exec"] }] }, exec), true);
    });

    it("keeps resource and non-resource rules apart", () => {
        assert.equal(ruleMatches({ level: "None", nonResourceURLs: ["*"] }, secretsGet), false);
        assert.equal(ruleMatches({ level: "None", resources: [{ group: "" }] }, { user: "u", verb: "get", path: "/healthz" }), false);
        assert.equal(ruleMatches({ level: "None", nonResourceURLs: ["/healthz*"] }, { user: "u", verb: "get", path: "/healthz/etcd" }), true);
        assert.equal(ruleMatches({ level: "None", nonResourceURLs: ["/version"] }, { user: "u", verb: "get", path: "/versions" }), false);
    });

    it("treats filtered rules as possibly matching, and non-resource rules as never matching a resource", () => {
        assert.equal(couldMatchResource({ level: "Request", users: ["x"], verbs: ["create"], namespaces: ["a"] }, "", "secrets"), true);
        assert.equal(couldMatchResource({ level: "Request", resources: [{ group: "apps" }] }, "", "secrets"), false);
        assert.equal(couldMatchResource({ level: "Request", nonResourceURLs: ["*"] }, "", "secrets"), false);
        assert.equal(couldMatchResource({ level: "Request" }, "", "secrets"), true);
    });
});
