// Short-lived admin access: the TTL and user name the command accepts, refused with the option named.
import { strict as assert } from "node:assert";
import { mintAdminKubeconfig, parseTtl } from "../../../platforms/local/admin-access";
import { planLocalStack } from "../../../platforms/local/plan";

describe("short-lived admin kubeconfig (npm run kubeconfig)", () => {
    it("reads a TTL in hours and minutes, from 10 minutes to a day", () => {
        assert.equal(parseTtl("8h"), 480);
        assert.equal(parseTtl("90m"), 90);
        assert.equal(parseTtl("1h30m"), 90);
        assert.equal(parseTtl("10m"), 10);
        assert.equal(parseTtl("24h"), 1440);
    });
    for (const bad of ["9m", "24h1m", "25h", "", "h", "8", "8d", "-1h", "1.5h", "8h "+"x"]) {
        it(`refuses --ttl ${JSON.stringify(bad)}, naming the option`, () => {
            assert.throws(() => parseTtl(bad), (e: Error) => e.message.startsWith(`--ttl: ${JSON.stringify(bad)} is not a duration from 10m to 24h`));
        });
    }
    for (const user of ["system:admin", "Alice", "a b", "", "x".repeat(65)]) {
        it(`refuses --user ${JSON.stringify(user)} before reading any key`, () => {
            const plan = planLocalStack({ stack: "s", local: { layout: "user", stateDir: "/nonexistent/hc" }, toolchainBin: "/toolchain/bin", isRoot: false });
            assert.throws(() => mintAdminKubeconfig(plan, { ttlMinutes: 60, user }), /^Error: --user: /);
        });
    }
});
