// Short-lived client certificates minted in memory from a CA key, for the one moment a control plane needs
// a credential nobody should keep: creating the first ClusterRoleBinding that gives the admin group its
// rights. kubeadm keeps a system:masters kubeconfig on disk for that; here the certificate lives for minutes,
// is never written anywhere, and exists only inside the call that uses it.
//
// Node's crypto signs but does not build certificates, so the few DER structures a client certificate needs
// are encoded here. Everything is self-contained (no module-level state) because platforms call it from
// Pulumi dynamic providers, whose code is serialized into the state.
import * as crypto from "node:crypto";

export interface MintedClientCert {
    certPem: string;
    keyPem: string;
}

/** A client certificate for `commonName` in `groups`, signed by the CA, valid from one minute ago for `minutes`. */
export function mintClientCert(caCertPem: string, caKeyPem: string, commonName: string, groups: string[], minutes = 10): MintedClientCert {
    const len = (n: number): Buffer => {
        if (n < 0x80) return Buffer.from([n]);
        const bytes: number[] = [];
        for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
        return Buffer.from([0x80 | bytes.length, ...bytes]);
    };
    const tlv = (tag: number, ...parts: Buffer[]): Buffer => {
        const body = Buffer.concat(parts);
        return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
    };
    const seq = (...p: Buffer[]) => tlv(0x30, ...p);
    const set = (...p: Buffer[]) => tlv(0x31, ...p);
    const oid = (dotted: string): Buffer => {
        const [a, b, ...rest] = dotted.split(".").map(Number);
        const out = [40 * a + b];
        for (const n of rest) {
            const chunk: number[] = [n & 0x7f];
            for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
            out.push(...chunk);
        }
        return tlv(0x06, Buffer.from(out));
    };
    const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, "utf8"));
    const time = (d: Date) => tlv(0x17, Buffer.from(d.toISOString().replace(/[-:T]/g, "").slice(2, 14) + "Z", "ascii"));
    const bitString = (b: Buffer) => tlv(0x03, Buffer.from([0]), b);

    // The issuer is the CA's subject, copied byte for byte so chain building matches it exactly.
    const ca = new crypto.X509Certificate(caCertPem);
    const caTbs = children(children(ca.raw)[0]);
    const issuer = caTbs[caTbs[0][0] === 0xa0 ? 5 : 4];

    const caKey = crypto.createPrivateKey(caKeyPem);
    const ec = caKey.asymmetricKeyType === "ec";
    const sigAlg = ec ? seq(oid("1.2.840.10045.4.3.2")) : seq(oid("1.2.840.113549.1.1.11"), Buffer.from([0x05, 0x00]));
    const { publicKey, privateKey } = crypto.generateKeyPairSync("ec", { namedCurve: "prime256v1" });

    const now = Date.now();
    const name = seq(...groups.map((g) => set(seq(oid("2.5.4.10"), utf8(g)))), set(seq(oid("2.5.4.3"), utf8(commonName))));
    const serial = crypto.randomBytes(16);
    // Positive and minimally encoded, as DER requires: a leading 0x00 byte would be a non-canonical INTEGER
    // that certificate parsers reject (about one serial in 256 before this).
    serial[0] = (serial[0] & 0x7f) | 0x40;
    const extensions = tlv(0xa3, seq(
        // keyUsage: digitalSignature, critical
        seq(oid("2.5.29.15"), tlv(0x01, Buffer.from([0xff])), tlv(0x04, tlv(0x03, Buffer.from([0x07, 0x80])))),
        // extKeyUsage: clientAuth
        seq(oid("2.5.29.37"), tlv(0x04, seq(oid("1.3.6.1.5.5.7.3.2")))),
        // basicConstraints: not a CA, critical
        seq(oid("2.5.29.19"), tlv(0x01, Buffer.from([0xff])), tlv(0x04, seq())),
    ));
    const tbs = seq(
        tlv(0xa0, tlv(0x02, Buffer.from([2]))), // v3
        tlv(0x02, serial),
        sigAlg,
        issuer,
        seq(time(new Date(now - 60_000)), time(new Date(now + minutes * 60_000))),
        name,
        publicKey.export({ type: "spki", format: "der" }),
        extensions,
    );
    const signature = crypto.sign("sha256", tbs, caKey);
    const der = seq(tbs, sigAlg, bitString(signature));
    const b64 = der.toString("base64").replace(/(.{64})/g, "$1\n").trim();
    return {
        certPem: `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`,
        keyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    };

    // The raw TLVs inside a DER SEQUENCE.
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
}

export interface MintedRequest {
    /** API server URL, e.g. https://10.0.0.5:6443. */
    server: string;
    /** The cluster CA: verifies the server and signs the minted credential. */
    caCertPem: string;
    caKeyPem: string;
    commonName: string;
    groups: string[];
    method: string;
    path: string;
    body?: unknown;
    timeoutMs?: number;
}

/** One HTTPS request to the API server as a minted identity that lives for the duration of the call. */
export function mintedRequest(r: MintedRequest): Promise<{ status: number; text: string }> {
    const https = require("node:https");
    const cred = mintClientCert(r.caCertPem, r.caKeyPem, r.commonName, r.groups, 5);
    const payload = r.body === undefined ? undefined : JSON.stringify(r.body);
    return new Promise((resolve, reject) => {
        const req = https.request(new URL(r.path, r.server), {
            method: r.method,
            ca: r.caCertPem, cert: cred.certPem, key: cred.keyPem,
            headers: { "Content-Type": "application/json", Accept: "application/json" },
            timeout: r.timeoutMs ?? 15_000,
        }, (res: any) => {
            let text = "";
            res.on("data", (d: Buffer) => (text += d));
            res.on("end", () => resolve({ status: res.statusCode, text }));
        });
        req.on("timeout", () => req.destroy(new Error(`${r.method} ${r.path}: timed out`)));
        req.on("error", reject);
        if (payload) req.write(payload);
        req.end();
    });
}
