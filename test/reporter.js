// mocha's spec reporter plus one closing line in the plain form CI reads: "mocha: N passed, N failed, N skipped".
// Under scripts/test.sh (HC_TEST_COUNTS set) the counts go to that file instead, which it adds up into one line.
const fs = require("node:fs");
const Mocha = require("mocha");

class SpecWithSummary extends Mocha.reporters.Spec {
    constructor(runner, options) {
        super(runner, options);
        runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
            const s = runner.stats;
            if (process.env.HC_TEST_COUNTS) fs.appendFileSync(process.env.HC_TEST_COUNTS, `${s.passes} ${s.failures} ${s.pending}\n`);
            else process.stdout.write(`\nmocha: ${s.passes} passed, ${s.failures} failed, ${s.pending} skipped\n`);
        });
    }
}

module.exports = SpecWithSummary;
