// Talking to a real API server from tests: plain HTTPS with explicit credentials, so every assertion
// names exactly which identity made the request (no ambient kubeconfig, no client library defaults).
import * as https from "node:https";
import * as tls from "node:tls";
import { parse } from "yaml";

export interface Credential {
    server: string;
    caPem: string;
    /** Absent for an anonymous request. */
    certPem?: string;
    keyPem?: string;
    /** A bearer token (a service-account token), sent instead of or beside a client certificate. */
    token?: string;
}

/** The request headers for a credential: its bearer token, if it has one. */
export function authHeaders(cred: Credential): Record<string, string> {
    return cred.token === undefined ? {} : { Authorization: `Bearer ${cred.token}` };
}

export interface Response {
    status: number;
    body: string;
    json<T = any>(): T;
}

/** The server, CA and client pair inside a kubeconfig (the first cluster and user). */
export function fromKubeconfig(yaml: string): Credential {
    const kc = parse(yaml);
    const b64 = (s: string) => Buffer.from(s, "base64").toString("utf8");
    const user = kc.users[0].user;
    return {
        server: kc.clusters[0].cluster.server,
        caPem: b64(kc.clusters[0].cluster["certificate-authority-data"]),
        certPem: user["client-certificate-data"] ? b64(user["client-certificate-data"]) : undefined,
        keyPem: user["client-key-data"] ? b64(user["client-key-data"]) : undefined,
    };
}

export function request(cred: Credential, method: string, path: string, body?: unknown, accept = "application/json", contentType = "application/json"): Promise<Response> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
        const req = https.request(new URL(path, cred.server), {
            method,
            ca: cred.caPem,
            cert: cred.certPem,
            key: cred.keyPem,
            headers: { "Content-Type": contentType, Accept: accept, ...authHeaders(cred) },
            timeout: 20_000,
        }, (res) => {
            let text = "";
            res.on("data", (d) => (text += d));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text, json: () => JSON.parse(text) }));
        });
        req.on("timeout", () => req.destroy(new Error(`${method} ${path} timed out`)));
        req.on("error", reject);
        if (payload) req.write(payload);
        req.end();
    });
}

/** Outcome of a bare TLS handshake limited to the given protocol versions. */
export function handshake(server: string, caPem: string, minVersion: tls.SecureVersion, maxVersion: tls.SecureVersion): Promise<string> {
    const u = new URL(server);
    return new Promise((resolve) => {
        const socket = tls.connect({
            host: u.hostname, port: Number(u.port), ca: caPem, minVersion, maxVersion,
            // Let the client offer old protocols at all; whether the server accepts them is the question.
            ciphers: "DEFAULT@SECLEVEL=0",
        }, () => {
            resolve(`connected with ${socket.getProtocol()}`);
            socket.end();
        });
        socket.on("error", (e) => resolve(e.message));
    });
}

/** A Pod that meets Pod Security "restricted"; `container` and `spec` override or add fields. */
export function restrictedPod(name: string, image: string, container: Record<string, unknown> = {}, spec: Record<string, unknown> = {}) {
    return {
        apiVersion: "v1", kind: "Pod", metadata: { name },
        spec: {
            securityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: "RuntimeDefault" } },
            containers: [{
                name: "c", image,
                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
                resources: { limits: { cpu: "100m", memory: "64Mi" }, requests: { cpu: "10m", memory: "16Mi" } },
                ...container,
            }],
            ...spec,
        },
    };
}
