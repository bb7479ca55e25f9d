// The pack as a whole: every rule carries what the issue asks of it, every rule has a spec, and honoured
// exceptions come back out of the advisory rule.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { policies } from "../../../policy/policies";
import { honour, resetHonoured } from "../../../policy/rules/common";
import { checkStack } from "./policy-harness";

describe("policy pack: the rules' metadata", () => {
    it("makes every rule but the exceptions report mandatory, with a severity, framework reference and remediation", () => {
        let n = 0;
        for (const p of policies) {
            const meta = p as { enforcementLevel?: string; severity?: string; framework?: { name: string; reference: string }; remediationSteps?: string };
            assert.ok(p.description.length > 20, p.name);
            assert.ok(meta.severity, p.name);
            assert.ok((meta.remediationSteps ?? "").length > 20, p.name);
            if (p.name === "exceptions-honoured") {
                assert.equal(meta.enforcementLevel, "advisory");
                continue;
            }
            assert.equal(meta.enforcementLevel, "mandatory", p.name);
            assert.ok(meta.framework?.name && meta.framework.reference, p.name);
            n++;
        }
        assert.equal(n, policies.length - 1);
        assert.equal(new Set(policies.map((p) => p.name)).size, policies.length, "rule names are unique");
    });

    it("has a unit spec naming every rule", () => {
        const specs = fs.readdirSync(__dirname).filter((f) => f.endsWith(".spec.ts")).map((f) => fs.readFileSync(path.join(__dirname, f), "utf8")).join("\n");
        // The control-plane rules are named from their table (cis-<id>-<component>) in control-plane.spec.ts.
        const missing = policies.map((p) => p.name).filter((n) => !n.startsWith("cis-") && !specs.includes(`"${n}"`));
        assert.deepEqual(missing, []);
    });
});

describe("policy pack: exceptions-honoured", () => {
    it("reports each honoured exception once, as advisory, on the resource that used it", async () => {
        resetHonoured();
        honour("namespace-pod-security", "urn:a", "namespace legacy enforces 'baseline'");
        honour("namespace-pod-security", "urn:a", "namespace legacy enforces 'baseline'");
        honour("rbac-no-undeclared-cluster-admin", "urn:b", "Group:ops is bound to cluster-admin (declared)");
        const reported: [string, string | undefined][] = [];
        const rule = policies.find((p) => p.name === "exceptions-honoured") as any;
        await rule.validateStack({ resources: [], getConfig: () => ({}) }, (m: string, urn?: string) => reported.push([m, urn]));
        assert.deepEqual(reported, [
            ["exception honoured by namespace-pod-security: namespace legacy enforces 'baseline'", "urn:a"],
            ["exception honoured by rbac-no-undeclared-cluster-admin: Group:ops is bound to cluster-admin (declared)", "urn:b"],
        ]);
        // Nothing honoured, nothing reported.
        assert.deepEqual((await checkStack("exceptions-honoured", [])).violations, []);
    });
});
