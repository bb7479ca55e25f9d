// Short-lived client certificates minted in memory from a CA key, for the one moment a control plane needs
// a credential nobody should keep: creating the first ClusterRoleBinding that gives the admin group its
// rights. kubeadm keeps a system:masters kubeconfig on disk for that; here the certificate lives for minutes,
// is never written anywhere, and exists only inside the call that uses it.
//
// Node's crypto signs but does not build certificates; @peculiar/asn1-x509 (the RFC 5280 schema) encodes
// them. It is synchronous, unlike WebCrypto-based builders, so the API stays a plain function. Modules are
// required inside the functions (no module-level state) because platforms call them from Pulumi dynamic
// providers, whose code is serialized into the state and re-required where the provider runs.
import type * as Asn1X509 from "@peculiar/asn1-x509";
import type * as Asn1Schema from "@peculiar/asn1-schema";

export interface MintedClientCert {
    certPem: string;
    keyPem: string;
}

/** A client certificate for `commonName` in `groups`, signed by the CA, valid from one minute ago for `minutes`. */
export function mintClientCert(caCertPem: string, caKeyPem: string, commonName: string, groups: string[], minutes = 10): MintedClientCert {
    const crypto: typeof import("node:crypto") = require("node:crypto");
    const x509: typeof Asn1X509 = require("@peculiar/asn1-x509");
    const { AsnConvert, OctetString }: typeof Asn1Schema = require("@peculiar/asn1-schema");

    // The issuer is the CA's subject as parsed from its own DER, so Go's chain building (a byte comparison
    // of issuer and subject) finds the CA.
    const ca = AsnConvert.parse(new crypto.X509Certificate(caCertPem).raw, x509.Certificate);
    const caKey = crypto.createPrivateKey(caKeyPem);
    const sigAlg = caKey.asymmetricKeyType === "ec"
        ? new x509.AlgorithmIdentifier({ algorithm: "1.2.840.10045.4.3.2" }) // ecdsa-with-SHA256, no parameters
        : new x509.AlgorithmIdentifier({ algorithm: "1.2.840.113549.1.1.11", parameters: null }); // sha256WithRSAEncryption, NULL
    const { publicKey, privateKey } = crypto.generateKeyPairSync("ec", { namedCurve: "prime256v1" });

    const rdn = (type: string, value: string) =>
        new x509.RelativeDistinguishedName([new x509.AttributeTypeAndValue({ type, value: new x509.AttributeValue({ utf8String: value }) })]);
    const extension = (extnID: string, critical: boolean, value: unknown) =>
        new x509.Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });

    // 16 random bytes, positive and minimally encoded, as DER requires: a leading 0x00 byte would be a
    // non-canonical INTEGER that certificate parsers reject, a leading 1 bit a negative serial.
    const serial = crypto.randomBytes(16);
    serial[0] = (serial[0] & 0x7f) | 0x40;
    const now = Date.now();
    const tbs = new x509.TBSCertificate({
        version: x509.Version.v3,
        serialNumber: bytes(serial),
        signature: sigAlg,
        issuer: ca.tbsCertificate.subject,
        validity: new x509.Validity({ notBefore: new Date(now - 60_000), notAfter: new Date(now + minutes * 60_000) }),
        // O= per group, then CN=, as Kubernetes reads a client certificate's groups and user.
        subject: new x509.Name([...groups.map((g) => rdn("2.5.4.10", g)), rdn("2.5.4.3", commonName)]),
        subjectPublicKeyInfo: AsnConvert.parse(publicKey.export({ type: "spki", format: "der" }), x509.SubjectPublicKeyInfo),
        extensions: new x509.Extensions([
            extension(x509.id_ce_keyUsage, true, new x509.KeyUsage(x509.KeyUsageFlags.digitalSignature)),
            extension(x509.id_ce_extKeyUsage, false, new x509.ExtendedKeyUsage([x509.id_kp_clientAuth])),
            extension(x509.id_ce_basicConstraints, true, new x509.BasicConstraints({ cA: false })),
        ]),
    });
    const signature = crypto.sign("sha256", Buffer.from(AsnConvert.serialize(tbs)), caKey);
    const der = Buffer.from(AsnConvert.serialize(new x509.Certificate({ tbsCertificate: tbs, signatureAlgorithm: sigAlg, signatureValue: bytes(signature) })));
    const b64 = der.toString("base64").replace(/(.{64})/g, "$1\n").trim();
    return {
        certPem: `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`,
        keyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    };

    // An ArrayBuffer holding exactly the Buffer's bytes (a Buffer may be a view into a larger pool).
    function bytes(b: Buffer): ArrayBuffer {
        return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    }
}

export interface MintedRequest {
    /** API server URL, e.g. https://10.0.0.5:6443. */
    server: string;
    /** The CA that signs the minted credential; it also verifies the server unless trustPem is given. */
    caCertPem: string;
    caKeyPem: string;
    /** The CAs that verify the server, when they are not the signing CA (a front-proxy CA, a rotation). */
    trustPem?: string;
    /** Extra request headers, e.g. the front proxy's X-Remote-User. */
    headers?: Record<string, string>;
    commonName: string;
    groups: string[];
    method: string;
    path: string;
    body?: unknown;
    timeoutMs?: number;
}

/** One HTTPS request to the API server as a minted identity that lives for the duration of the call. */
export function mintedRequest(r: MintedRequest): Promise<{ status: number; text: string }> {
    const https: typeof import("node:https") = require("node:https");
    const cred = mintClientCert(r.caCertPem, r.caKeyPem, r.commonName, r.groups, 5);
    const payload = r.body === undefined ? undefined : JSON.stringify(r.body);
    return new Promise((resolve, reject) => {
        const req = https.request(new URL(r.path, r.server), {
            method: r.method,
            ca: r.trustPem ?? r.caCertPem, cert: cred.certPem, key: cred.keyPem,
            headers: { "Content-Type": "application/json", Accept: "application/json", ...r.headers },
            timeout: r.timeoutMs ?? 15_000,
        }, (res: import("node:http").IncomingMessage) => {
            let text = "";
            res.on("data", (d: Buffer) => (text += d));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on("timeout", () => req.destroy(new Error(`${r.method} ${r.path}: timed out`)));
        req.on("error", reject);
        if (payload) req.write(payload);
        req.end();
    });
}
