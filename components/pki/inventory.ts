// The certificate inventory's rules, apart from where certificates are found (a platform reads its files and
// dials its endpoints): what a certificate says, when it is due for renewal, and what makes the inventory fail
// (a certificate inside its renewal window, or an endpoint serving another certificate than its file holds).
import { X509Certificate } from "node:crypto";

export interface CertFacts {
    subject: string;
    issuer: string;
    /** Upper-case hex, as X509Certificate gives it. */
    serial: string;
    notBefore: string;
    notAfter: string;
    sans: string[];
    ca: boolean;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

const oneLine = (dn: string) => dn.split("\n").filter(Boolean).join(", ");

export function factsOf(x: X509Certificate): CertFacts {
    return {
        subject: oneLine(x.subject),
        issuer: oneLine(x.issuer),
        serial: x.serialNumber.toUpperCase(),
        notBefore: new Date(x.validFrom).toISOString(),
        notAfter: new Date(x.validTo).toISOString(),
        sans: x.subjectAltName ? x.subjectAltName.split(", ") : [],
        ca: x.ca,
    };
}

/** Every certificate in a PEM text (a trust bundle may hold several). */
export function certificatesIn(pem: string): CertFacts[] {
    return (pem.match(PEM_BLOCK) ?? []).map((block) => factsOf(new X509Certificate(block)));
}

/** When the certificate enters its renewal window: `earlyRenewalHours` before it expires. */
export function renewalStart(c: CertFacts, earlyRenewalHours: number): Date {
    return new Date(Date.parse(c.notAfter) - earlyRenewalHours * 3_600_000);
}

/** A certificate whose file a process reads (or a kubeconfig embeds). */
export interface InventoryCert {
    node: string;
    /** The file, or `<kubeconfig>#<user>` for an embedded client certificate. */
    source: string;
    cert: CertFacts;
    readers: string[];
    /** How its readers take a new version: restarted by the platform, or reloaded by themselves. */
    onChange: string;
    renewFrom: string;
    due: boolean;
}

/** What an endpoint served in its TLS handshake, against the file it is configured to serve. */
export interface InventoryEndpoint {
    node: string;
    process: string;
    /** host:port dialled. */
    address: string;
    /** The certificate file the process serves from; absent when it makes its own in memory. */
    file?: string;
    fileSerial?: string;
    served?: CertFacts;
    error?: string;
}

export interface Inventory {
    at: string;
    certificates: InventoryCert[];
    endpoints: InventoryEndpoint[];
    problems: string[];
}

/** Why the inventory fails: certificates due for renewal, endpoints that cannot be read or serve stale certificates. */
export function inventoryProblems(certs: readonly InventoryCert[], endpoints: readonly InventoryEndpoint[]): string[] {
    const problems: string[] = [];
    for (const c of certs) {
        if (c.due) problems.push(`${c.node} ${c.source}: due for renewal since ${c.renewFrom} (expires ${c.cert.notAfter})`);
    }
    for (const e of endpoints) {
        if (e.error) problems.push(`${e.node} ${e.process} at ${e.address}: no certificate read (${e.error})`);
        else if (e.fileSerial !== undefined && e.served?.serial !== e.fileSerial) {
            problems.push(`${e.node} ${e.process} at ${e.address} serves serial ${e.served?.serial} but ${e.file} holds ${e.fileSerial}: restart it to serve the file's certificate`);
        }
    }
    return problems;
}

/** The inventory as a text table, one line per certificate and per endpoint, problems last. */
export function renderInventory(inv: Inventory): string {
    const days = (iso: string) => Math.floor((Date.parse(iso) - Date.parse(inv.at)) / 86_400_000);
    const lines = [`certificates (${inv.certificates.length}), as of ${inv.at}:`];
    for (const c of inv.certificates) {
        lines.push(`  ${c.due ? "DUE " : ""}${c.node} ${c.source}: ${c.cert.subject}; issuer ${c.cert.issuer}; serial ${c.cert.serial}; ` +
            `expires ${c.cert.notAfter} (${days(c.cert.notAfter)} d); renew from ${c.renewFrom}; read by ${c.readers.join(", ") || "clients"} (${c.onChange})` +
            (c.cert.sans.length ? `; SANs ${c.cert.sans.join(" ")}` : ""));
    }
    lines.push(`endpoints (${inv.endpoints.length}):`);
    for (const e of inv.endpoints) {
        const served = e.served ? `serves serial ${e.served.serial} (${e.served.subject}; issuer ${e.served.issuer})` : `unreadable: ${e.error}`;
        const file = e.file ? (e.fileSerial === e.served?.serial ? `same as ${e.file}` : `${e.file} holds ${e.fileSerial}`) : "made in memory (no file)";
        lines.push(`  ${e.node} ${e.process} ${e.address}: ${served}; ${file}`);
    }
    lines.push(inv.problems.length ? `problems (${inv.problems.length}):\n${inv.problems.map((p) => `  - ${p}`).join("\n")}` : "no problems: nothing due for renewal, every endpoint serves its file's certificate");
    return lines.join("\n") + "\n";
}
