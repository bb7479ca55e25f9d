// The validator over the whole cross product: every persona tier/scope we ship x every forbidden rule.
import { strict as assert } from "node:assert";
import { builtInPersonas, resolvePersonas, type PolicyRule } from "../../../components/rbac";
import { refusal } from "../config-error";

/** Rules no non-break-glass persona may hold, with a word the refusal must contain. */
const WILDCARDS: [PolicyRule, string][] = [
    [{ apiGroups: [""], resources: ["pods"], verbs: ["*"] }, "wildcard verb"],
    [{ apiGroups: [""], resources: ["*"], verbs: ["get"] }, "wildcard resource"],
    [{ apiGroups: ["apps"], resources: ["*/scale"], verbs: ["get"] }, "wildcard resource"],
    [{ apiGroups: ["*"], resources: ["pods"], verbs: ["get"] }, "wildcard apiGroup"],
];

/** Rules only admin personas may hold. */
const ADMIN_ONLY: [PolicyRule, string][] = [
    [{ apiGroups: ["rbac.authorization.k8s.io"], resources: ["clusterroles"], verbs: ["escalate"] }, '"escalate"'],
    [{ apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles"], verbs: ["bind"] }, '"bind"'],
    [{ apiGroups: [""], resources: ["users", "groups"], verbs: ["impersonate"] }, '"impersonate"'],
    [{ apiGroups: [""], resources: ["nodes/proxy"], verbs: ["get"] }, "nodes/proxy"],
    [{ apiGroups: [""], resources: ["serviceaccounts/token"], verbs: ["create"] }, "serviceaccounts/token"],
    [{ apiGroups: [""], resources: ["pods/exec"], verbs: ["create"] }, "pods/exec"],
    [{ apiGroups: [""], resources: ["pods/exec"], verbs: ["get"] }, "pods/exec"],
    [{ apiGroups: [""], resources: ["pods/attach"], verbs: ["create"] }, "pods/attach"],
    [{ apiGroups: [""], resources: ["pods/ephemeralcontainers"], verbs: ["patch"] }, "ephemeralcontainers"],
    ...["get", "list", "watch", "update", "patch", "delete"].map((v): [PolicyRule, string] => [{ apiGroups: [""], resources: ["secrets"], verbs: [v] }, "Secret data"]),
];

const shapes = builtInPersonas().filter((p) => p.tier !== "break-glass");

function customLike(p: (typeof shapes)[number], extra: PolicyRule) {
    return { name: `custom-${p.name}`, tier: p.tier as "admin" | "standard", scope: p.scope, rules: [...p.rules, extra] };
}

describe("rbac invariants: custom personas x forbidden rules", () => {
    it("refuses every wildcard rule in every non-break-glass persona shape, naming the rule and the reason", () => {
        let checked = 0;
        for (const p of shapes) {
            for (const [r, reason] of WILDCARDS) {
                const e = refusal(() => resolvePersonas("hc:rbac.personas", [customLike(p, r)]));
                assert.equal(e.key, `hc:rbac.personas[0].rules[${p.rules.length}]`);
                assert.ok(e.message.includes(reason), e.message);
                assert.ok(e.message.includes(JSON.stringify(r.verbs)), `message names the rule: ${e.message}`);
                checked++;
            }
        }
        assert.equal(checked, shapes.length * WILDCARDS.length);
    });

    it("refuses the admin-only rules in standard shapes and accepts them in admin shapes", () => {
        for (const p of shapes) {
            for (const [r, reason] of ADMIN_ONLY) {
                const input = [customLike(p, r)];
                if (p.tier === "standard") {
                    const e = refusal(() => resolvePersonas("hc:rbac.personas", input));
                    assert.ok(e.message.includes(reason), `${p.name} ${JSON.stringify(r)}: ${e.message}`);
                    assert.ok(e.key.endsWith(`.rules[${p.rules.length}]`));
                } else {
                    assert.equal(resolvePersonas("hc:rbac.personas", input).at(-1)!.rules.length, p.rules.length + 1);
                }
            }
        }
    });

    it("lets a standard persona create Secrets, since create returns nothing it did not send", () => {
        const got = resolvePersonas("k", [{ name: "writer", scope: "namespace", rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["create"] }] }]);
        assert.equal(got.at(-1)!.tier, "standard");
    });

    it("refuses nonResourceURLs in a namespace persona, where a RoleBinding would ignore them", () => {
        const e = refusal(() => resolvePersonas("k", [{ name: "x", scope: "namespace", rules: [{ nonResourceURLs: ["/healthz"], verbs: ["get"] }] }]));
        assert.equal(e.key, "k[0].rules[0]");
        assert.match(e.message, /nonResourceURLs/);
    });

    it("does not offer break-glass to custom personas", () => {
        const e = refusal(() => resolvePersonas("k", [{ name: "x", tier: "break-glass", scope: "cluster", rules: [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }] }]));
        assert.equal(e.key, "k[0].tier");
    });
});
