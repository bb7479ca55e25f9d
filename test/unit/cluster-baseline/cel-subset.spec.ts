// The test interpreter is only worth something if it follows CEL where CEL differs from JavaScript.
import { strict as assert } from "node:assert";
import { renderWorkloadPolicy, validateAdmission, type ValidatingAdmissionPolicyObject } from "../../../components/cluster-baseline";
import { evaluate, parseCel } from "./cel-subset";

function policyOf(expression: string, variables: { name: string; expression: string }[] = []): ValidatingAdmissionPolicyObject {
    const p = renderWorkloadPolicy(validateAdmission("k", {}));
    return { ...p, spec: { ...p.spec, variables, validations: [{ expression, message: "refused", reason: "Forbidden" }] } };
}
const admits = (expression: string, object: unknown = {}, variables: { name: string; expression: string }[] = []) =>
    evaluate(policyOf(expression, variables), object, "ns").denied.length === 0;

describe("cel-subset interpreter", () => {
    it("concatenates lists with + and tests membership with in", () => {
        assert.ok(admits("'b' in ['a'] + ['b']"));
        assert.ok(!admits("'c' in ['a'] + ['b']"));
    });

    it("treats a missing field as an error, which refuses, and has() as a presence test", () => {
        assert.ok(!admits("object.spec.type == 'x'", { spec: {} }));
        assert.ok(admits("!has(object.spec.type)", { spec: {} }));
        assert.ok(admits("has(object.spec.type)", { spec: { type: "" } }));
    });

    it("lets || and && absorb an error on the side that does not decide", () => {
        assert.ok(admits("object.missing == 1 || true"));
        assert.ok(!admits("object.missing == 1 || false"));
        assert.ok(admits("!(false && object.missing == 1)"), "&& decided by false despite the error");
        assert.ok(!admits("!(true && object.missing == 1)"), "the error stands when the other side does not decide");
    });

    it("evaluates variables lazily", () => {
        assert.ok(admits("true || variables.broken == 1", {}, [{ name: "broken", expression: "object.nothing.here" }]));
    });

    it("refuses constructs outside the subset", () => {
        assert.throws(() => parseCel("object.spec.size() > 1"));
        assert.throws(() => parseCel("a ~ b"));
    });

    it("parses every expression the generator emits", () => {
        const p = renderWorkloadPolicy(validateAdmission("k", { nodePortNamespaces: ["a"], loadBalancerNamespaces: ["b", "c"] }));
        for (const e of [...p.spec.variables.map((v) => v.expression), ...p.spec.validations.flatMap((v) => [v.expression, v.messageExpression ?? "true"])]) {
            assert.doesNotThrow(() => parseCel(e), e);
        }
    });
});
