// An audit webhook receiver for tests: an HTTPS server on loopback whose certificate comes from a throwaway CA
// made with openssl, so the API server must verify it through the caPem it was given, as it would a real sink.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";

export interface AuditPost {
    /** When it arrived (ms since the epoch). */
    at: number;
    /** The URL path without its query (the API server adds ?timeout=...). */
    path: string;
    contentType: string;
    body: any;
}

export interface AuditSink {
    /** https://127.0.0.1:<port> (no path). */
    origin: string;
    caPem: string;
    /** Every POST received so far, its body parsed as JSON. */
    posts: AuditPost[];
    /** Failed TLS handshakes (a client that does not trust the sink shows up here). */
    tlsErrors: string[];
    close(): Promise<void>;
}

/** A CA and a server pair for IP 127.0.0.1, P-256, valid for a day, in `dir`. */
function makeCerts(dir: string): { caPem: string; certPem: string; keyPem: string } {
    const f = (n: string) => path.join(dir, n);
    const run = (args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    run(["req", "-x509", ...ec, "-keyout", f("ca.key"), "-out", f("ca.crt"), "-days", "1", "-subj", "/CN=e2e-audit-sink-ca",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
    run(["req", "-new", ...ec, "-keyout", f("srv.key"), "-out", f("srv.csr"), "-subj", "/CN=e2e-audit-sink"]);
    // Go's verifier matches an IP only against an IP SAN; the CN is never consulted.
    fs.writeFileSync(f("srv.ext"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n");
    run(["x509", "-req", "-in", f("srv.csr"), "-CA", f("ca.crt"), "-CAkey", f("ca.key"), "-CAcreateserial",
        "-out", f("srv.crt"), "-days", "1", "-extfile", f("srv.ext")]);
    return { caPem: fs.readFileSync(f("ca.crt"), "utf8"), certPem: fs.readFileSync(f("srv.crt"), "utf8"), keyPem: fs.readFileSync(f("srv.key"), "utf8") };
}

export async function startAuditSink(): Promise<AuditSink> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-e2e-audit-sink-"));
    let certs: ReturnType<typeof makeCerts>;
    try {
        certs = makeCerts(dir);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
    const posts: AuditPost[] = [];
    const tlsErrors: string[] = [];
    const server = https.createServer({ cert: certs.certPem, key: certs.keyPem }, (req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            let body: unknown;
            try {
                body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
            } catch {
                body = undefined;
            }
            const urlPath = new URL(req.url ?? "/", "https://127.0.0.1").pathname;
            if (req.method === "POST") posts.push({ at: Date.now(), path: urlPath, contentType: String(req.headers["content-type"] ?? ""), body });
            res.writeHead(200).end();
        });
    });
    // Node closes an idle keep-alive connection after 5s; a client sending its next batch on a connection just
    // being closed gets an EOF, which the API server's webhook client does not retry. Longer keeps that race out.
    server.keepAliveTimeout = 120_000;
    server.headersTimeout = 125_000;
    server.on("tlsClientError", (e) => tlsErrors.push(e.message));
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    return {
        origin: `https://127.0.0.1:${port}`,
        caPem: certs.caPem,
        posts,
        tlsErrors,
        close: () => new Promise((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
        }),
    };
}
