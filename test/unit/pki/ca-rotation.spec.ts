// CA rotation as data: the per-domain options, the CAs each phase keeps, trusts and signs with, and which
// step between two applied positions the gate lets through.
import { strict as assert } from "node:assert";
import { ConfigError } from "../../../components/common";
import {
    CA_DOMAINS,
    CA_ROTATION_PHASES,
    caCommonName,
    caGenerations,
    caResourceName,
    CaRotation,
    caRotationMove,
    CaRotationMove,
    CaRotationPhase,
    resolveCaRotation,
    resolvePkiOptions,
} from "../../../components/pki";
import { baseOptions } from "./fixtures";

const KEY = "pki.rotation.kubernetes";

const at = (generation: number, phase: CaRotationPhase): CaRotation => ({ generation, phase });
const show = (r: CaRotation | undefined) => (r === undefined ? "(no record)" : `${r.phase}(${r.generation})`);

/** The move, failing the test with the refusal when there is one. */
function moveOf(previous: CaRotation | undefined, next: CaRotation): CaRotationMove {
    const m = caRotationMove(previous, next, KEY);
    assert.ok("move" in m, `${show(previous)} -> ${show(next)} was refused: ${"problem" in m ? m.problem : ""}`);
    return m.move;
}

/** The refusal, failing the test when the step is let through. */
function problemOf(previous: CaRotation | undefined, next: CaRotation): string {
    const m = caRotationMove(previous, next, KEY);
    assert.ok("problem" in m, `${show(previous)} -> ${show(next)} was let through as ${"move" in m ? m.move : ""}`);
    return m.problem;
}

function assertConfigError(fn: () => unknown, expectedKey: string, fragment?: string): void {
    assert.throws(fn, (e: unknown) => {
        assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
        assert.equal(e.key, expectedKey);
        assert.ok(e.message.startsWith(`${expectedKey}: `), e.message);
        if (fragment !== undefined) assert.ok(e.message.includes(fragment), `message should say ${fragment}: ${e.message}`);
        return true;
    });
}

// Written out rather than computed, so the tests do not share the production code's arithmetic.
const LINE: CaRotation[] = [
    at(1, "steady"),
    at(2, "trust-both"),
    at(2, "issue-new"),
    at(2, "distrust-old"),
    at(2, "steady"),
    at(3, "trust-both"),
    at(3, "issue-new"),
    at(3, "distrust-old"),
    at(3, "steady"),
    at(4, "trust-both"),
];

describe("pki: CA rotation options", function () {
    it("defaults every trust domain to generation 1, steady", function () {
        assert.deepEqual(CA_DOMAINS, ["kubernetes", "etcd", "frontProxy"]);
        const expected = { kubernetes: at(1, "steady"), etcd: at(1, "steady"), frontProxy: at(1, "steady") };
        assert.deepEqual(resolveCaRotation(undefined, "pki.rotation"), expected);
        assert.deepEqual(resolveCaRotation({}, "pki.rotation"), expected);
        assert.deepEqual(resolvePkiOptions(baseOptions()).rotation, expected);
    });

    it("keeps each domain's setting apart and fills in the missing fields", function () {
        const o = baseOptions();
        o.rotation = { kubernetes: { generation: 2, phase: "issue-new" }, etcd: { generation: 3 } };
        assert.deepEqual(resolvePkiOptions(o).rotation, {
            kubernetes: at(2, "issue-new"),
            etcd: at(3, "steady"),
            frontProxy: at(1, "steady"),
        });
        assert.deepEqual(resolveCaRotation({ frontProxy: { phase: "steady" } }, "pki.rotation").frontProxy, at(1, "steady"));
    });

    it("accepts every phase from generation 2 on", function () {
        assert.equal(CA_ROTATION_PHASES.length, 4);
        for (const phase of CA_ROTATION_PHASES) {
            assert.deepEqual(resolveCaRotation({ etcd: { generation: 2, phase } }, "pki.rotation").etcd, at(2, phase));
        }
    });

    // [what is wrong, the rotation option, the key the error must name, a fragment of the message]
    const cases: [string, unknown, string, string][] = [
        ["rotation given as a string", "trust-both", "pki.rotation", "trust-both"],
        ["rotation given as a list", [{ generation: 2 }], "pki.rotation", "kubernetes, etcd, frontProxy"],
        ["an unknown trust domain", { cluster: { generation: 2 } }, "pki.rotation.cluster", "kubernetes, etcd, frontProxy"],
        ["a domain named in the wrong case", { FrontProxy: {} }, "pki.rotation.FrontProxy", "(value not shown)"],
        ["a domain given as a phase", { etcd: "trust-both" }, "pki.rotation.etcd", "generation, phase"],
        ["an unknown field", { etcd: { generation: 2, phase: "trust-both", gen: 2 } }, "pki.rotation.etcd.gen", "generation, phase"],
        ["a phase outside the four", { kubernetes: { generation: 2, phase: "rotate" } }, "pki.rotation.kubernetes.phase", "steady, trust-both, issue-new, distrust-old"],
        ["a phase in the wrong case", { frontProxy: { generation: 2, phase: "Trust-Both" } }, "pki.rotation.frontProxy.phase", "Trust-Both"],
        ["generation 0", { etcd: { generation: 0 } }, "pki.rotation.etcd.generation", "0"],
        ["a negative generation", { kubernetes: { generation: -2, phase: "steady" } }, "pki.rotation.kubernetes.generation", "-2"],
        ["a fractional generation", { frontProxy: { generation: 2.5, phase: "trust-both" } }, "pki.rotation.frontProxy.generation", "2.5"],
        ["a generation given as a string", { kubernetes: { generation: "2", phase: "trust-both" } }, "pki.rotation.kubernetes.generation", '"2"'],
        ["trust-both at generation 1", { kubernetes: { generation: 1, phase: "trust-both" } }, "pki.rotation.kubernetes.generation", "2 or more"],
        ["issue-new at generation 1", { etcd: { generation: 1, phase: "issue-new" } }, "pki.rotation.etcd.generation", "issue-new"],
        ["distrust-old without a generation", { frontProxy: { phase: "distrust-old" } }, "pki.rotation.frontProxy.generation", "(missing)"],
        ["rotation given as null", null, "pki.rotation", "null"],
        ["a domain given as null", { etcd: null }, "pki.rotation.etcd", "null"],
    ];

    it("has a case for each kind of bad rotation option", function () {
        assert.equal(cases.length, 17);
    });

    for (const [what, rotation, expectedKey, fragment] of cases) {
        it(`rejects ${what} naming ${expectedKey}`, function () {
            assertConfigError(() => resolvePkiOptions({ ...baseOptions(), rotation: rotation as any }), expectedKey, fragment);
        });
    }

    it("roots the keys at the caller's configKey", function () {
        const o = { ...baseOptions(), rotation: { etcd: { generation: 1, phase: "distrust-old" as const } } };
        assertConfigError(() => resolvePkiOptions(o, "hardened-cluster:pki"), "hardened-cluster:pki.rotation.etcd.generation");
        assertConfigError(() => resolveCaRotation({ etcd: { phase: "steady", extra: 1 } }, "x.rotation"), "x.rotation.etcd.extra");
    });
});

describe("pki: CAs kept, trusted and signing in each phase", function () {
    it("steady keeps, trusts and signs with its one CA", function () {
        assert.deepEqual(caGenerations(at(1, "steady")), { kept: [1], trusted: [1], signer: 1 });
        assert.deepEqual(caGenerations(at(3, "steady")), { kept: [3], trusted: [3], signer: 3 });
    });

    it("trust-both trusts old and new, old first, and the old one still signs", function () {
        assert.deepEqual(caGenerations(at(2, "trust-both")), { kept: [1, 2], trusted: [1, 2], signer: 1 });
        assert.deepEqual(caGenerations(at(4, "trust-both")), { kept: [3, 4], trusted: [3, 4], signer: 3 });
    });

    it("issue-new trusts both, new first, and the new one signs", function () {
        assert.deepEqual(caGenerations(at(2, "issue-new")), { kept: [1, 2], trusted: [2, 1], signer: 2 });
        assert.deepEqual(caGenerations(at(3, "issue-new")), { kept: [2, 3], trusted: [3, 2], signer: 3 });
    });

    it("distrust-old trusts only the new one but keeps the old one, so issue-new can bring it back", function () {
        assert.deepEqual(caGenerations(at(2, "distrust-old")), { kept: [1, 2], trusted: [2], signer: 2 });
        assert.deepEqual(caGenerations(at(3, "distrust-old")), { kept: [2, 3], trusted: [3], signer: 3 });
    });

    it("along the whole line, the signer is kept and trusted first, and every trusted CA is kept", function () {
        assert.equal(LINE.length, 10);
        for (const r of LINE) {
            const g = caGenerations(r);
            assert.equal(g.trusted[0], g.signer, show(r));
            assert.ok(g.kept.includes(g.signer), show(r));
            for (const t of g.trusted) assert.ok(g.kept.includes(t), `${show(r)} trusts ${t}, which it does not keep`);
            assert.deepEqual([...g.kept].sort((a, b) => a - b), g.kept, `${show(r)} kept is oldest first`);
        }
    });

    it("never deletes a CA the step before still trusts, and steps back only to CAs that still exist", function () {
        assert.equal(LINE.length - 1, 9);
        let refusedBacks = 0;
        for (let i = 0; i + 1 < LINE.length; i++) {
            const [a, b] = [caGenerations(LINE[i]), caGenerations(LINE[i + 1])];
            const step = `${show(LINE[i])} -> ${show(LINE[i + 1])}`;
            // Processes pick up a new trust file one by one, so a CA trusted before a step must outlive it.
            for (const t of a.trusted) assert.ok(b.kept.includes(t), `${step} deletes trusted CA ${t}`);
            // Going back must find the earlier CAs in state: a recreated CA would have a new key.
            const backRecreates = a.kept.some((g) => !b.kept.includes(g));
            if (LINE[i + 1].phase === "steady") {
                assert.ok(backRecreates, `${step}: back from steady would need no deleted CA, so refusing it is needless`);
                refusedBacks++;
            } else {
                assert.ok(!backRecreates, `back over ${step} would recreate a deleted CA`);
            }
        }
        assert.equal(refusedBacks, 2);
    });
});

describe("pki: CA rotation steps", function () {
    it("walks a full rotation forward one phase per run, and back from every phase but steady", function () {
        assert.equal(LINE.length, 10);
        const walk = LINE.slice(0, 6);
        assert.deepEqual(walk.map(show), ["steady(1)", "trust-both(2)", "issue-new(2)", "distrust-old(2)", "steady(2)", "trust-both(3)"]);
        for (let i = 0; i + 1 < walk.length; i++) {
            assert.equal(moveOf(walk[i], walk[i + 1]), "forward", `${show(walk[i])} -> ${show(walk[i + 1])}`);
        }
        let backs = 0;
        for (let i = walk.length - 1; i > 0; i--) {
            if (walk[i].phase === "steady") {
                problemOf(walk[i], walk[i - 1]);
                continue;
            }
            assert.equal(moveOf(walk[i], walk[i - 1]), "back", `${show(walk[i])} -> ${show(walk[i - 1])}`);
            backs++;
        }
        assert.equal(backs, 4);
    });

    it("calls re-applying the same position no move", function () {
        assert.equal(LINE.length, 10);
        for (const r of LINE) assert.equal(moveOf(r, { ...r }), "none", show(r));
    });

    it("lets through exactly one phase on, one phase back (not from steady) or none, between any two positions", function () {
        let checked = 0;
        for (let i = 0; i < LINE.length; i++) {
            for (let j = 0; j < LINE.length; j++) {
                const [previous, next] = [LINE[i], LINE[j]];
                const expected = j === i ? "none" : j === i + 1 ? "forward" : j === i - 1 && previous.phase !== "steady" ? "back" : undefined;
                const m = caRotationMove(previous, next, KEY);
                if (expected === undefined) {
                    assert.ok("problem" in m, `${show(previous)} -> ${show(next)} should be refused, got ${JSON.stringify(m)}`);
                    assert.ok(m.problem.startsWith(`${KEY}: `), m.problem);
                } else {
                    assert.deepEqual(m, { move: expected }, `${show(previous)} -> ${show(next)}`);
                }
                checked++;
            }
        }
        assert.equal(checked, 100);
    });

    it("refuses skipping a phase, naming the key and the next step (and the step back)", function () {
        assert.equal(
            problemOf(at(1, "steady"), at(2, "issue-new")),
            `${KEY}: { generation: 2, phase: issue-new } cannot follow the applied { generation: 1, phase: steady }; one phase per pulumi up: go on to { generation: 2, phase: trust-both }`,
        );
        assert.match(problemOf(at(1, "steady"), at(2, "steady")), /^pki\.rotation\.kubernetes: .*go on to \{ generation: 2, phase: trust-both \}$/);
        assert.equal(
            problemOf(at(2, "trust-both"), at(2, "distrust-old")),
            `${KEY}: { generation: 2, phase: distrust-old } cannot follow the applied { generation: 2, phase: trust-both }; one phase per pulumi up: go on to { generation: 2, phase: issue-new } or back to { generation: 1, phase: steady }`,
        );
        assert.match(problemOf(at(2, "distrust-old"), at(2, "trust-both")), /go on to \{ generation: 2, phase: steady \} or back to \{ generation: 2, phase: issue-new \}$/);
        assert.match(problemOf(at(2, "issue-new"), at(3, "trust-both")), /go on to \{ generation: 2, phase: distrust-old \} or back to \{ generation: 2, phase: trust-both \}$/);
    });

    it("refuses stepping back from steady, because the old CA is gone, offering only the next step", function () {
        const p = problemOf(at(2, "steady"), at(2, "distrust-old"));
        assert.equal(
            p,
            `${KEY}: { generation: 2, phase: distrust-old } cannot follow the applied { generation: 2, phase: steady }; one phase per pulumi up: go on to { generation: 3, phase: trust-both }`,
        );
        assert.ok(!p.includes("back to"), p);
    });

    it("refuses an older generation than the one applied", function () {
        problemOf(at(3, "trust-both"), at(1, "steady"));
        problemOf(at(2, "steady"), at(1, "steady"));
        problemOf(at(3, "issue-new"), at(2, "issue-new"));
    });

    it("takes only steady(1) or trust-both(2) on a domain with no record: its CA in use is generation 1", function () {
        assert.equal(moveOf(undefined, at(1, "steady")), "none");
        assert.equal(moveOf(undefined, at(2, "trust-both")), "none");
        const refused = [at(2, "issue-new"), at(3, "distrust-old"), at(2, "steady"), at(3, "trust-both")];
        assert.equal(refused.length, 4);
        for (const r of refused) {
            assert.equal(problemOf(undefined, r), `${KEY}: { generation: ${r.generation}, phase: ${r.phase} } needs a recorded rotation; the CA in use is generation 1, so start with { generation: 2, phase: trust-both }`);
        }
    });

    it("names the key it is given", function () {
        const m = caRotationMove(at(1, "steady"), at(2, "issue-new"), "hardened-cluster:pki.rotation.etcd");
        assert.ok("problem" in m);
        assert.ok(m.problem.startsWith("hardened-cluster:pki.rotation.etcd: "), m.problem);
    });
});

describe("pki: CA names per generation", function () {
    it("keeps the names of releases without rotation for generation 1", function () {
        assert.equal(caResourceName("kubernetes-ca", 1), "kubernetes-ca");
        assert.equal(caCommonName("kubernetes", 1), "kubernetes");
    });

    it("suffixes later generations, so old and new CA differ in resource name and issuer", function () {
        assert.equal(caResourceName("etcd-ca", 2), "etcd-ca-2");
        assert.equal(caCommonName("etcd-ca", 3), "etcd-ca-3");
        const generations = [1, 2, 3, 4, 5];
        assert.equal(new Set(generations.map((g) => caResourceName("front-proxy-ca", g))).size, generations.length);
        assert.equal(new Set(generations.map((g) => caCommonName("front-proxy-ca", g))).size, generations.length);
    });
});
