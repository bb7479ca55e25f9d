// The certificate inventory of a running local stack: every certificate its node bundles hold (files, and the
// client certificates kubeconfigs embed) with who reads it, and what each TLS endpoint actually serves, dialled
// now. The rules (due for renewal, served against disk) are components/pki/inventory.ts.
import * as fs from "node:fs";
import * as tls from "node:tls";
import { X509Certificate } from "node:crypto";
import { parse } from "yaml";
import { flags } from "../../components/backup";
import { urlHostPort } from "../../components/common";
import { resolvePkiOptions } from "../../components/pki/options";
import { certificatesIn, factsOf, Inventory, InventoryCert, InventoryEndpoint, inventoryProblems, renewalStart } from "../../components/pki/inventory";
import type { CaRotationProbes } from "../../components/pki/ca-rotation-gate";
import { etcdHealthClient, LocalNodePlan, LocalStackPlan } from "./plan";

/** Every certificate in the stack's files, in plan order, each with its renewal window. */
export function inventoryCertificates(plan: LocalStackPlan, now: Date): InventoryCert[] {
    const pki = resolvePkiOptions(plan.cluster.resolved.pki);
    const out: InventoryCert[] = [];
    for (const n of plan.nodes) {
        for (const f of n.bundle.files) {
            const sources: [string, string][] = [];
            if (f.kind === "kubeconfig") {
                const kc = parse(fs.readFileSync(f.path, "utf8")) as { users?: { name: string; user?: { "client-certificate-data"?: string } }[] };
                for (const u of kc.users ?? []) {
                    const data = u.user?.["client-certificate-data"];
                    if (data) sources.push([`${f.path}#${u.name}`, Buffer.from(data, "base64").toString("utf8")]);
                }
            } else if (f.path.endsWith(".crt")) {
                sources.push([f.path, fs.readFileSync(f.path, "utf8")]);
            }
            for (const [source, pem] of sources) {
                for (const cert of certificatesIn(pem)) {
                    const renewFrom = renewalStart(cert, cert.ca ? pki.caEarlyRenewalHours : pki.earlyRenewalHours);
                    out.push({ node: n.node.name, source, cert, readers: [...f.readers], onChange: f.onChange, renewFrom: renewFrom.toISOString(), due: now >= renewFrom });
                }
            }
        }
    }
    return out;
}

interface Dial { node: LocalNodePlan; process: string; host: string; port: number; file?: string; clientPair?: { cert: string; key: string } }

/** The TLS endpoints of every node's processes, with the file each serves from (none: made in memory). */
export function inventoryDials(plan: LocalStackPlan): Dial[] {
    const dials: Dial[] = [];
    // etcd asks every client for a certificate: the platform's health-check pair.
    const client = etcdHealthClient(plan);
    const pair = { cert: client.certFile, key: client.keyFile };
    for (const n of plan.nodes) {
        for (const p of n.bundle.processes) {
            const f = flags(p.argv);
            if (p.name === "etcd") {
                dials.push({ node: n, process: "etcd (client)", ...urlHostPort(f["advertise-client-urls"].split(",")[0]), file: f["cert-file"], clientPair: pair });
                dials.push({ node: n, process: "etcd (peer)", ...urlHostPort(f["initial-advertise-peer-urls"].split(",")[0]), file: f["peer-cert-file"], clientPair: pair });
            } else {
                dials.push({ node: n, process: p.name, host: f["bind-address"] ?? f["advertise-address"], port: Number(f["secure-port"]), ...(f["tls-cert-file"] ? { file: f["tls-cert-file"] } : {}) });
            }
        }
    }
    return dials;
}

/** The certificate an endpoint presents, read without trusting it (the inventory compares, it does not authenticate). */
export function servedCertificate(d: Pick<Dial, "host" | "port" | "clientPair">, timeoutMs = 3000): Promise<X509Certificate> {
    return new Promise((resolve, reject) => {
        const s = tls.connect({
            host: d.host, port: d.port, rejectUnauthorized: false, timeout: timeoutMs,
            ...(d.clientPair ? { cert: fs.readFileSync(d.clientPair.cert), key: fs.readFileSync(d.clientPair.key) } : {}),
        });
        s.once("secureConnect", () => {
            const raw = s.getPeerCertificate().raw;
            s.destroy();
            if (!raw) reject(new Error("no certificate presented"));
            else resolve(new X509Certificate(raw));
        });
        s.once("timeout", () => s.destroy(new Error(`no TLS handshake within ${timeoutMs} ms`)));
        s.once("error", reject);
    });
}

export async function certificateInventory(plan: LocalStackPlan, now = new Date()): Promise<Inventory> {
    const certificates = inventoryCertificates(plan, now);
    const endpoints: InventoryEndpoint[] = [];
    for (const d of inventoryDials(plan)) {
        const e: InventoryEndpoint = { node: d.node.node.name, process: d.process, address: `${d.host}:${d.port}`, ...(d.file ? { file: d.file } : {}) };
        if (d.file) e.fileSerial = certificatesIn(fs.readFileSync(d.file, "utf8"))[0]?.serial;
        try {
            e.served = factsOf(await servedCertificate(d));
        } catch (err) {
            e.error = (err as Error).message;
        }
        endpoints.push(e);
    }
    return { at: now.toISOString(), certificates, endpoints, problems: inventoryProblems(certificates, endpoints) };
}

/** Where the CA rotation gates dial: every apiserver directly, and each endpoint under the CA that signs its leaf. */
export function rotationProbes(plan: LocalStackPlan): CaRotationProbes {
    const dials = inventoryDials(plan);
    const endpoint = (d: Dial) => ({ name: `${d.node.node.name} ${d.process}`, host: d.host, port: d.port });
    const etcd = (d: Dial) => d.process.startsWith("etcd");
    return {
        apiservers: dials.filter((d) => d.process === "kube-apiserver").map((d) => `https://${d.host.includes(":") ? `[${d.host}]` : d.host}:${d.port}`),
        servers: { kubernetes: dials.filter((d) => !etcd(d)).map(endpoint), etcd: dials.filter(etcd).map(endpoint), frontProxy: [] },
    };
}
