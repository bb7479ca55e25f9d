// What the pinned @pulumi/tls does with earlyRenewalHours, through the real engine and provider: the blueprint's
// renewal rests on it. Its documentation says a certificate inside its early-renewal window is treated as
// expired, so the next apply replaces it; pulumi/pulumi-tls#39 reports that older releases did so only after a
// refresh. A leaf issued for 1 hour with 1 hour of early renewal is inside its window from the start, so a
// test needs no clock games: it shows whether a plain preview and `up` (and `up --refresh`) replace it, that
// the replacement keeps the leaf's key, and that a leaf outside its window is left alone.
import { strict as assert } from "node:assert";
import { createPublicKey, KeyObject, X509Certificate } from "node:crypto";
import { programStack, ProgramStack } from "./harness";
import { replacements } from "./renewal";

const program = `
import * as tls from "@pulumi/tls";
const key = (n: string) => new tls.PrivateKey(n, { algorithm: "ECDSA", ecdsaCurve: "P256" });
const caKey = key("ca");
const ca = new tls.SelfSignedCert("ca", {
    privateKeyPem: caKey.privateKeyPem, subject: { commonName: "renewal-ca" }, isCaCertificate: true,
    allowedUses: ["cert_signing"], validityPeriodHours: 1000,
});
const leaf = (n: string, validityPeriodHours: number, earlyRenewalHours: number) => {
    const k = key(n);
    const csr = new tls.CertRequest(n, { privateKeyPem: k.privateKeyPem, subject: { commonName: n } });
    const cert = new tls.LocallySignedCert(n, {
        certRequestPem: csr.certRequestPem, caCertPem: ca.certPem, caPrivateKeyPem: caKey.privateKeyPem,
        allowedUses: ["client_auth"], validityPeriodHours, earlyRenewalHours,
    });
    return { certPem: cert.certPem, publicKeyPem: k.publicKeyPem };
};
export const due = leaf("due", 1, 1);
export const fresh = leaf("fresh", 1000, 1);
`;

type Leaf = { certPem: string; publicKeyPem: string };
const serial = (l: Leaf) => new X509Certificate(l.certPem).serialNumber;
const spki = (key: KeyObject) => key.export({ type: "spki", format: "der" }).toString("hex");

/** The names of the resources a run replaced, as "<type>/<name>". */
const names = (urns: Set<string>) => [...urns].map((u) => `${u.split("::")[2].split(":").pop()}/${u.split("::").pop()}`);

describe("@pulumi/tls early renewal, with and without --refresh (real engine and provider)", function () {
    this.timeout(10 * 60_000);
    let ps: ProgramStack;
    let first: Record<string, Leaf>;

    before(async function () {
        ps = await programStack({ name: "tls-renewal", program, binaries: ["pulumi-resource-tls"] });
        const res = await ps.stack.up();
        assert.equal(res.summary.result, "succeeded");
        first = { due: res.outputs.due.value, fresh: res.outputs.fresh.value };
    });
    after(async function () {
        await ps?.cleanup();
    });

    it("a plain preview plans to replace the leaf inside its window, and nothing else", async function () {
        const seen = replacements();
        const res = await ps.stack.preview({ onEvent: seen.onEvent });
        assert.equal(res.changeSummary.replace, 1, JSON.stringify(res.changeSummary));
        assert.deepEqual(names(seen.urns), ["LocallySignedCert/due"]);
    });

    for (const refresh of [false, true]) {
        it(`a ${refresh ? "`pulumi up --refresh`" : "plain `pulumi up`"} re-issues that leaf with the same key and leaves the other alone`, async function () {
            const seen = replacements();
            const before = { due: first.due, fresh: first.fresh };
            const res = await ps.stack.up({ refresh, onEvent: seen.onEvent });
            assert.equal(res.summary.result, "succeeded");
            assert.deepEqual(names(seen.urns), ["LocallySignedCert/due"]);
            const after: Record<string, Leaf> = { due: res.outputs.due.value, fresh: res.outputs.fresh.value };
            assert.notEqual(serial(after.due), serial(before.due), "the leaf in its window was not re-issued");
            assert.equal(spki(new X509Certificate(after.due.certPem).publicKey), spki(createPublicKey(before.due.publicKeyPem)), "the re-issued leaf carries another key");
            assert.equal(serial(after.fresh), serial(before.fresh), "the leaf outside its window was re-issued");
            assert.equal(after.fresh.certPem, before.fresh.certPem);
            first = after;
        });
    }
});
