// The in-memory bootstrap credential: a real X.509 client certificate that chains to the CA (EC and RSA),
// carries the requested identity and lives only for the minutes asked for.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { mintClientCert } from "../../../components/pki";

function makeCa(dir: string, keyArgs: string[]): { cert: string; key: string } {
    const key = path.join(dir, "ca.key");
    const cert = path.join(dir, "ca.crt");
    execFileSync("openssl", ["req", "-x509", ...keyArgs, "-nodes", "-keyout", key, "-out", cert, "-subj", "/O=test/CN=kubernetes", "-days", "1"], { stdio: "ignore" });
    return { cert: fs.readFileSync(cert, "utf8"), key: fs.readFileSync(key, "utf8") };
}

for (const [kind, keyArgs] of [["ECDSA P-256", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]], ["RSA-2048", ["-newkey", "rsa:2048"]]] as const) {
    describe(`mintClientCert with a ${kind} CA`, function () {
        let dir: string;
        let ca: { cert: string; key: string };
        before(function () {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-mint-"));
            ca = makeCa(dir, [...keyArgs]);
        });
        after(() => fs.rmSync(dir, { recursive: true, force: true }));

        it("is signed by the CA and names the CA as issuer", function () {
            const minted = new X509Certificate(mintClientCert(ca.cert, ca.key, "hc:bootstrap", ["system:masters"]).certPem);
            const caCert = new X509Certificate(ca.cert);
            assert.equal(minted.verify(caCert.publicKey), true);
            assert.equal(minted.checkIssued(caCert), true);
        });

        it("carries the common name and every group as an organization", function () {
            const minted = new X509Certificate(mintClientCert(ca.cert, ca.key, "alice", ["g1", "g2"]).certPem);
            assert.deepEqual(minted.subject.split("\n").sort(), ["CN=alice", "O=g1", "O=g2"]);
        });

        it("is a client certificate only, not a CA", function () {
            const minted = new X509Certificate(mintClientCert(ca.cert, ca.key, "x", []).certPem);
            assert.deepEqual(minted.keyUsage, ["1.3.6.1.5.5.7.3.2"]);
            assert.equal(minted.ca, false);
        });

        it("expires after the requested minutes", function () {
            const minted = new X509Certificate(mintClientCert(ca.cert, ca.key, "x", [], 5).certPem);
            const lifetime = Date.parse(minted.validTo) - Date.parse(minted.validFrom);
            assert.equal(lifetime, 6 * 60_000); // backdated one minute for clock skew
        });

        it("verifies with openssl as a TLS client certificate", function () {
            const file = path.join(dir, "minted.crt");
            fs.writeFileSync(file, mintClientCert(ca.cert, ca.key, "x", ["system:masters"]).certPem);
            const out = execFileSync("openssl", ["verify", "-CAfile", path.join(dir, "ca.crt"), "-purpose", "sslclient", file], { encoding: "utf8" });
            assert.match(out, /: OK/);
        });

        it("encodes every serial as a positive, minimal DER INTEGER (many mints, none rejected)", function () {
            const caCert = new X509Certificate(ca.cert);
            for (let i = 0; i < 600; i++) {
                const cert = new X509Certificate(mintClientCert(ca.cert, ca.key, `x${i}`, []).certPem);
                assert.equal(cert.verify(caCert.publicKey), true);
                assert.match(cert.serialNumber, /^[4-7][0-9A-F]{31}$/);
            }
        });

        it("pairs the certificate with its private key", function () {
            const m = mintClientCert(ca.cert, ca.key, "x", []);
            assert.equal(new X509Certificate(m.certPem).checkPrivateKey(require("node:crypto").createPrivateKey(m.keyPem)), true);
        });
    });
}
