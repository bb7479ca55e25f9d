// The rotation rules of the service-account signing keys, as the gate applies them between two runs.
import { strict as assert } from "node:assert";
import { ROLLOUT_ALLOWANCE_SECONDS, serviceAccountKeyStep, ServiceAccountKeyRecord } from "../../../components/pki";

const DAY = 24 * 3600;
const t0 = new Date("2026-01-10T12:00:00.000Z");
const later = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

/** Applies each list in turn, each at its time; returns the last step. */
function walk(steps: [string[], Date][], lifetime = DAY) {
    let record: ServiceAccountKeyRecord | undefined;
    let last;
    for (const [keys, at] of steps) {
        last = serviceAccountKeyStep(record, keys, lifetime, at);
        assert.deepEqual(last.problems, [], `${JSON.stringify(keys)} at ${at.toISOString()}`);
        record = last.record;
    }
    return record!;
}

describe("pki: service-account key rotation rules", function () {
    it("takes any list on a new stack", function () {
        const step = serviceAccountKeyStep(undefined, ["sa-2"], DAY, t0);
        assert.deepEqual(step, { record: { keys: ["sa-2"], retiredAt: {}, lifetimeSeconds: DAY }, problems: [] });
    });

    it("publishes, switches and records when the old signer stopped signing", function () {
        const r = walk([[["sa"], t0], [["sa", "sa-2"], later(60)], [["sa-2", "sa"], later(120)]]);
        assert.deepEqual(r, { keys: ["sa-2", "sa"], retiredAt: { sa: later(120).toISOString() }, lifetimeSeconds: DAY });
    });

    it("refuses a signer that no apiserver verifies yet, naming the list to apply first", function () {
        const r = walk([[["sa"], t0]]);
        const step = serviceAccountKeyStep(r, ["sa-2", "sa"], DAY, later(60));
        assert.equal(step.problems.length, 1);
        assert.match(step.problems[0], /^pki\.serviceAccountKeys: "sa-2" would sign tokens before every apiserver verifies it; first apply \["sa", "sa-2"\]/);
    });

    it("refuses dropping the signer, with or without a new one", function () {
        const r = walk([[["sa"], t0], [["sa", "sa-2"], later(60)]]);
        const step = serviceAccountKeyStep(r, ["sa-2"], DAY, later(120));
        assert.equal(step.problems.length, 1, JSON.stringify(step.problems));
        assert.match(step.problems[0], /"sa" signs the tokens in use/);
        const direct = serviceAccountKeyStep(walk([[["sa"], t0]]), ["sa-3"], DAY, later(120));
        assert.equal(direct.problems.length, 2, JSON.stringify(direct.problems));
    });

    it("refuses dropping a retired key until the token lifetime and the rollout allowance have passed, naming the time", function () {
        const switchedAt = later(120);
        const r = walk([[["sa"], t0], [["sa", "sa-2"], later(60)], [["sa-2", "sa"], switchedAt]]);
        const allowed = new Date(switchedAt.getTime() + (DAY + ROLLOUT_ALLOWANCE_SECONDS) * 1000);
        assert.equal(ROLLOUT_ALLOWANCE_SECONDS, 3600);
        const early = serviceAccountKeyStep(r, ["sa-2"], DAY, new Date(allowed.getTime() - 1000));
        assert.equal(early.problems.length, 1);
        assert.match(early.problems[0], new RegExp(`"sa" stopped signing at ${switchedAt.toISOString()} .* it may be removed from ${allowed.toISOString().replace(/\./g, "\\.")}$`));
        const onTime = serviceAccountKeyStep(r, ["sa-2"], DAY, allowed);
        assert.deepEqual(onTime.problems, []);
        assert.deepEqual(onTime.record, { keys: ["sa-2"], retiredAt: {}, lifetimeSeconds: DAY });
    });

    it("counts the longer lifetime when it was shortened after the switch", function () {
        const r = walk([[["sa"], t0], [["sa", "sa-2"], later(60)], [["sa-2", "sa"], later(120)]], 7 * DAY);
        const step = serviceAccountKeyStep(r, ["sa-2"], DAY, later(120 + 2 * DAY));
        assert.equal(step.problems.length, 1, "a week-long token signed before the switch is still valid");
        assert.equal(step.record.lifetimeSeconds, 7 * DAY);
    });

    it("drops a key that never signed at once, and rolls back a switch by moving the old signer first again", function () {
        const published = walk([[["sa"], t0], [["sa", "sa-2"], later(60)]]);
        assert.deepEqual(serviceAccountKeyStep(published, ["sa"], DAY, later(61)).problems, []);
        const switched = walk([[["sa"], t0], [["sa", "sa-2"], later(60)], [["sa-2", "sa"], later(120)]]);
        const back = serviceAccountKeyStep(switched, ["sa", "sa-2"], DAY, later(180));
        assert.deepEqual(back.problems, []);
        // sa-2 signed for a minute: it now counts as retired from the rollback on.
        assert.deepEqual(back.record.retiredAt, { "sa-2": later(180).toISOString() });
    });
});
