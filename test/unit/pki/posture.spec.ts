import { strict as assert } from "node:assert";
import { pkiPosture } from "../../../components/pki";
import { baseOptions, singleNodeOptions } from "./fixtures";

describe("pki posture", () => {
    it("reports the secure defaults with no weakenings", () => {
        assert.deepEqual(pkiPosture(singleNodeOptions()), {
            algorithm: "ECDSA-P256",
            caValidityHours: 87600,
            leafValidityHours: 8760,
            earlyRenewalHours: 720,
            breakGlass: false,
            weakenings: [],
        });
    });

    it("lists breakGlass as a weakening keyed by the option", () => {
        const p = pkiPosture({ ...singleNodeOptions(), breakGlass: true }, "hardened-cluster:pki");
        assert.equal(p.breakGlass, true);
        assert.deepEqual(p.weakenings.map((w) => w.option), ["hardened-cluster:pki.breakGlass"]);
        assert.match(p.weakenings[0].effect, /system:masters/);
    });

    it("lists RSA-2048, longer lifetimes and cluster-admin users, but not RSA-3072", () => {
        const p = pkiPosture({ ...baseOptions(), algorithm: "RSA-2048", leafValidityHours: 17520, caValidityHours: 175200 });
        assert.deepEqual(p.weakenings.map((w) => w.option), ["pki.algorithm", "pki.leafValidityHours", "pki.caValidityHours", "pki.users[0].groups"]);
        assert.deepEqual(pkiPosture({ ...singleNodeOptions(), algorithm: "RSA-3072" }).weakenings, []);
    });
});
