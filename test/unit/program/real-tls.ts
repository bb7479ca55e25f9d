// Real keys and certificates for the mock monitor, made with openssl from the same inputs @pulumi/tls takes,
// for drills that start real processes from what a program rendered on the mock engine (the AWS boot drill).
// Only what the program sets is honoured: key algorithm, subject CN/O, SANs, CA flag, allowed uses, validity.
// Like the engine's state, what a resource computed is kept in <dir>/state.json and given back while its inputs
// stay the same, so a stack rendered again in the same directory (a CA rotation's next phase) keeps its keys and
// every certificate whose inputs did not change, and re-issues the others.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { unwrapSecret } from "./mock-engine";

const TLS_TYPES = new Set([
    "tls:index/privateKey:PrivateKey", "tls:index/selfSignedCert:SelfSignedCert", "tls:index/certRequest:CertRequest", "tls:index/locallySignedCert:LocallySignedCert",
]);

// @pulumi/tls allowedUses -> openssl's keyUsage / extendedKeyUsage names.
const KEY_USAGE: Record<string, string> = {
    digital_signature: "digitalSignature", key_encipherment: "keyEncipherment", cert_signing: "keyCertSign", crl_signing: "cRLSign",
};
const EXTENDED_USAGE: Record<string, string> = { server_auth: "serverAuth", client_auth: "clientAuth" };

let counter = 0;

function openssl(dir: string, args: string[], input?: string): string {
    return execFileSync("openssl", args, { cwd: dir, input, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
}

function subjectOf(s: { commonName?: string; organization?: string } | undefined): string {
    const esc = (v: string) => v.replace(/[\\/,=+]/g, (c) => `\\${c}`);
    return `/${[s?.commonName && `CN=${esc(s.commonName)}`, s?.organization && `O=${esc(s.organization)}`].filter(Boolean).join("/")}`;
}

function usageLines(uses: string[] | undefined, ca: boolean): string[] {
    const ku = (uses ?? []).map((u) => KEY_USAGE[u]).filter(Boolean);
    const eku = (uses ?? []).map((u) => EXTENDED_USAGE[u]).filter(Boolean);
    for (const u of uses ?? []) if (!KEY_USAGE[u] && !EXTENDED_USAGE[u]) throw new Error(`real-tls: allowed use ${u} is not mapped`);
    return [
        `basicConstraints = critical, CA:${ca ? "TRUE" : "FALSE"}`,
        ...(ku.length ? [`keyUsage = critical, ${ku.join(", ")}`] : []),
        ...(eku.length ? [`extendedKeyUsage = ${eku.join(", ")}`] : []),
        "subjectKeyIdentifier = hash",
    ];
}

const days = (hours: number | undefined) => String(Math.max(1, Math.ceil((hours ?? 24) / 24)));

type Kept = Record<string, { inputs: string; outputs: Record<string, unknown> }>;
let kept: Kept | undefined;
let saving = false;

/**
 * The outputs a TLS resource named `name` computes, for real; undefined for any other type. `dir` is a private
 * scratch directory, which also keeps them for the next rendering.
 */
export function realTlsOutputs(type: string, name: string, rawInputs: Record<string, any>, dir: string): Record<string, unknown> | undefined {
    if (!TLS_TYPES.has(type)) return undefined;
    const inputs = Object.fromEntries(Object.entries(rawInputs).map(([k, v]) => [k, unwrapSecret(v)]));
    const stateFile = path.join(dir, "state.json");
    kept ??= fs.existsSync(stateFile) ? JSON.parse(fs.readFileSync(stateFile, "utf8")) as Kept : {};
    const id = `${type}::${name}`;
    const given = JSON.stringify(inputs);
    if (kept[id]?.inputs === given) return kept[id].outputs;
    const outputs = make(type, inputs, dir);
    // Written once, as the rendering's process ends (run-stack exits when it has written its result).
    if (!saving) {
        saving = true;
        process.once("exit", () => fs.writeFileSync(stateFile, JSON.stringify(kept), { mode: 0o600 }));
    }
    kept[id] = { inputs: given, outputs };
    return outputs;
}

function make(type: string, inputs: Record<string, any>, dir: string): Record<string, unknown> {
    const work = path.join(dir, String(++counter));
    fs.mkdirSync(work, { recursive: true, mode: 0o700 });
    const file = (name: string, content: string) => {
        fs.writeFileSync(path.join(work, name), content, { mode: 0o600 });
        return name;
    };
    try {
        switch (type) {
            case "tls:index/privateKey:PrivateKey": {
                const opts = inputs.algorithm === "RSA"
                    ? ["-algorithm", "RSA", "-pkeyopt", `rsa_keygen_bits:${inputs.rsaBits ?? 2048}`]
                    : ["-algorithm", "EC", "-pkeyopt", `ec_paramgen_curve:${inputs.ecdsaCurve === "P384" ? "P-384" : "P-256"}`];
                const privateKeyPem = openssl(work, ["genpkey", ...opts]);
                return { privateKeyPem, publicKeyPem: openssl(work, ["pkey", "-pubout"], privateKeyPem) };
            }
            case "tls:index/selfSignedCert:SelfSignedCert": {
                file("req.cnf", ["[req]", "distinguished_name = dn", "[dn]", "[ext]", ...usageLines(inputs.allowedUses, !!inputs.isCaCertificate), "authorityKeyIdentifier = keyid"].join("\n") + "\n");
                const certPem = openssl(work, ["req", "-x509", "-new", "-key", file("key.pem", inputs.privateKeyPem), "-subj", subjectOf(inputs.subject),
                    "-days", days(inputs.validityPeriodHours), "-config", "req.cnf", "-extensions", "ext"]);
                return { certPem };
            }
            case "tls:index/certRequest:CertRequest": {
                const sans = [...(inputs.dnsNames ?? []).map((d: string) => `DNS:${d}`), ...(inputs.ipAddresses ?? []).map((i: string) => `IP:${i}`)];
                const certRequestPem = openssl(work, ["req", "-new", "-key", file("key.pem", inputs.privateKeyPem), "-subj", subjectOf(inputs.subject), "-config", file("req.cnf", "[req]\ndistinguished_name = dn\n[dn]\n"),
                    ...(sans.length ? ["-addext", `subjectAltName = ${sans.join(", ")}`] : [])]);
                return { certRequestPem };
            }
            case "tls:index/locallySignedCert:LocallySignedCert": {
                file("ext.cnf", ["[ext]", ...usageLines(inputs.allowedUses, !!inputs.isCaCertificate), "authorityKeyIdentifier = keyid"].join("\n") + "\n");
                const certPem = openssl(work, ["x509", "-req", "-in", file("csr.pem", inputs.certRequestPem), "-CA", file("ca.pem", inputs.caCertPem),
                    "-CAkey", file("ca-key.pem", inputs.caPrivateKeyPem), "-set_serial", `0x${require("node:crypto").randomBytes(16).toString("hex")}`,
                    "-days", days(inputs.validityPeriodHours), "-copy_extensions", "copyall", "-extfile", "ext.cnf", "-extensions", "ext"]);
                return { certPem };
            }
            default:
                throw new Error(`real-tls: ${type} is listed but not made`);
        }
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
}
