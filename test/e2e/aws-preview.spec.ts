// The AWS stacks through the real engine: `pulumi preview` of each committed AWS stack runs the whole
// program (config validation, PKI, node plans, every AWS resource registration) and stops only where the
// AWS provider plugin would be needed, which this machine cannot download.
import { strict as assert } from "node:assert";
import { allConfigOf, readStack } from "../unit/config/stack-files";
import { programStack } from "./harness";

for (const stack of ["dev", "staging", "prod"]) {
    describe(`aws stack "${stack}": pulumi preview with the real engine`, function () {
        this.timeout(5 * 60_000);

        it("gets as far as the AWS provider plugin, with no program or config error", async function () {
            const config = Object.fromEntries(Object.entries(allConfigOf(readStack(`Pulumi.${stack}.yaml`))).map(([k, v]) => [k, { value: v }]));
            const ps = await programStack({ name: `aws-${stack}`, blueprint: true, config, binaries: ["pulumi-resource-tls", "pulumi-resource-random", "pulumi-resource-kubernetes"] });
            try {
                const err = await ps.stack.preview().then(() => undefined, (e: Error) => e);
                assert.ok(err, "preview succeeded, so the AWS plugin is present: this test then needs a real assertion on the plan");
                const text = String(err.message);
                const errors = text.split("\n").filter((l) => /\berror:/.test(l) && !/error: preview failed|\d+ errors?$/.test(l.trim()));
                assert.ok(errors.length > 0, text.slice(-2000));
                for (const line of errors) assert.match(line, /no resource plugin 'pulumi-resource-aws'/, text.slice(-3000));
            } finally {
                await ps.cleanup();
            }
        });
    });
}
