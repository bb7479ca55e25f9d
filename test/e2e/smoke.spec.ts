// Proves the harness: the real engine, nodejs language host and tls provider plugin from the toolchain
// create a key and certificate, and the key never reaches the state file in plaintext.
import { strict as assert } from "node:assert";
import { X509Certificate } from "node:crypto";
import { privateKeyBlocks, programStack, ProgramStack } from "./harness";

const program = `
import * as tls from "@pulumi/tls";
const key = new tls.PrivateKey("smoke", { algorithm: "ECDSA", ecdsaCurve: "P256" });
const cert = new tls.SelfSignedCert("smoke", {
    privateKeyPem: key.privateKeyPem,
    subject: { commonName: "hardened-cluster-smoke" },
    validityPeriodHours: 1,
    isCaCertificate: true,
    allowedUses: ["cert_signing", "digital_signature"],
});
export const certPem = cert.certPem;
export const keyPem = key.privateKeyPem;
`;

describe("e2e smoke: real engine + tls provider", function () {
    this.timeout(10 * 60_000);
    let ps: ProgramStack;
    let outputs: Record<string, { value: unknown; secret: boolean }>;

    before(async function () {
        ps = await programStack({ name: "smoke", program, binaries: ["pulumi-resource-tls"] });
        const res = await ps.stack.up();
        assert.equal(res.summary.result, "succeeded");
        outputs = res.outputs;
    });
    after(async function () {
        await ps?.cleanup();
    });

    it("issues a certificate with the requested subject", function () {
        const cert = new X509Certificate(String(outputs.certPem.value));
        assert.match(cert.subject, /CN=hardened-cluster-smoke/);
        assert.equal(cert.ca, true);
    });

    it("marks the private key output as a secret", function () {
        assert.equal(outputs.keyPem.secret, true);
        assert.match(String(outputs.keyPem.value), /BEGIN (EC )?PRIVATE KEY/);
    });

    it("keeps the private key out of `pulumi stack export` plaintext", async function () {
        const exported = await ps.exportText();
        assert.ok(exported.includes("hardened-cluster-smoke") || exported.includes("BEGIN CERTIFICATE"), "export looks empty");
        assert.deepEqual(privateKeyBlocks(exported), []);
    });

    it("a second up with no change reports no changes", async function () {
        const res = await ps.stack.up();
        const changes = Object.entries(res.summary.resourceChanges ?? {}).filter(([op]) => op !== "same");
        assert.deepEqual(changes, []);
    });
});
