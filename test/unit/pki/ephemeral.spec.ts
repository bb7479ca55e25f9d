// The in-memory bootstrap credential: a real X.509 client certificate that chains to the CA (EC and RSA),
// carries the requested identity and lives only for the minutes asked for.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { mintClientCert } from "../../../components/pki";

function makeCa(dir: string, keyArgs: string[], subject: string, printable: boolean): { cert: string; key: string } {
    const key = path.join(dir, "ca.key");
    const cert = path.join(dir, "ca.crt");
    // openssl's default string_mask (utf8only) writes UTF8String; "default" writes PrintableString where it
    // can, as Go's crypto/x509 (so @pulumi/tls) does.
    const conf = path.join(dir, "req.cnf");
    fs.writeFileSync(conf, `[req]\ndistinguished_name = dn\nstring_mask = ${printable ? "default" : "utf8only"}\n[dn]\n`);
    execFileSync("openssl", ["req", "-config", conf, "-x509", ...keyArgs, "-nodes", "-keyout", key, "-out", cert, "-multivalue-rdn", "-subj", subject, "-days", "1"], { stdio: "ignore" });
    return { cert: fs.readFileSync(cert, "utf8"), key: fs.readFileSync(key, "utf8") };
}

/** The TLVs inside a DER SEQUENCE, read independently of the library under test. */
function children(der: Buffer): Buffer[] {
    const header = (at: number): [number, number] => {
        const first = der[at + 1];
        if (first < 0x80) return [2, first];
        const n = first & 0x7f;
        return [2 + n, der.subarray(at + 2, at + 2 + n).reduce((acc, b) => acc * 256 + b, 0)];
    };
    const [h0, total] = header(0);
    const out: Buffer[] = [];
    for (let at = h0; at < h0 + total;) {
        const [h, l] = header(at);
        out.push(der.subarray(at, at + h + l));
        at += h + l;
    }
    return out;
}

/** The raw issuer and subject Names of a certificate (RFC 5280 TBSCertificate field order). */
function rawNames(pem: string): { issuer: Buffer; subject: Buffer } {
    const tbs = children(children(new X509Certificate(pem).raw)[0]);
    const v = tbs[0][0] === 0xa0 ? 1 : 0;
    return { issuer: tbs[2 + v], subject: tbs[4 + v] };
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];
const CAS = [
    { kind: "ECDSA P-256", keyArgs: EC, subject: "/O=test/CN=kubernetes", printable: false },
    { kind: "RSA-2048", keyArgs: ["-newkey", "rsa:2048"], subject: "/O=test/CN=kubernetes", printable: false },
    // Go writes PrintableString; a multi-valued RDN is a SET whose DER order a re-encoder could disturb.
    { kind: "ECDSA P-256 (PrintableString names, a multi-valued RDN)", keyArgs: EC, subject: "/C=DE/O=test+OU=platform/CN=kubernetes", printable: true },
];

for (const { kind, keyArgs, subject, printable } of CAS) {
    describe(`mintClientCert with a ${kind} CA`, function () {
        let dir: string;
        let ca: { cert: string; key: string };
        before(function () {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-mint-"));
            ca = makeCa(dir, keyArgs, subject, printable);
        });
        after(() => fs.rmSync(dir, { recursive: true, force: true }));

        it("is signed by the CA and names the CA as issuer", function () {
            const minted = new X509Certificate(mintClientCert(ca.cert, ca.key, "hc:bootstrap", ["system:masters"]).certPem);
            const caCert = new X509Certificate(ca.cert);
            assert.equal(minted.verify(caCert.publicKey), true);
            assert.equal(minted.checkIssued(caCert), true);
        });

        it("copies the CA's subject into its issuer byte for byte (Go's chain building compares bytes)", function () {
            const caNames = rawNames(ca.cert);
            assert.equal(caNames.subject[0], 0x30); // the walker found a SEQUENCE, not some other field
            assert.ok(caNames.subject.includes(Buffer.from("kubernetes")));
            if (printable) assert.ok(caNames.subject.includes(Buffer.from([0x13, 0x02, 0x44, 0x45])), "PrintableString C=DE");
            const minted = rawNames(mintClientCert(ca.cert, ca.key, "x", []).certPem);
            assert.equal(minted.issuer.toString("hex"), caNames.subject.toString("hex"));
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
            // 600 mints take seconds on an idle machine and far longer on a loaded one; the count is what matters.
            this.timeout(180_000);
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
