// The gate of one trust domain's CA rotation: a small resource whose state records the phase last applied,
// and whose diff refuses a step that skips a phase or that the live cluster is not ready for. Everything
// built from the domain's CAs (leaves, trust files, kubeconfigs) depends on it, so a refused step changes
// nothing. Two steps forward are checked against the running cluster, retried for a while since controllers
// publish asynchronously:
// - to issue-new: every verifier of the domain accepts a credential minted from the new CA (each apiserver for
//   client certificates and front-proxy requests, each etcd endpoint), and kube-root-ca.crt in every namespace
//   holds the new CA, so pods keep trusting apiservers once their serving certificates come from it;
// - to distrust-old: every endpoint of the domain serves a leaf signed by the new CA.
// Where the nodes report instead (ca-rotation-reports.ts), the step to steady is checked as well.
// The provider's code is serialized into the state: modules are required inside the functions.
import * as pulumi from "@pulumi/pulumi";
import type { CaName } from "./certlist";
import { CaRotation, caRotationMove, CaRotationPhase } from "./ca-rotation";
import { mintClientCert, mintedRequest } from "./ephemeral";
import { CaRotationReports, reportProblems } from "./ca-rotation-reports";

export interface CaRotationEndpoint {
    /** How a problem names it, e.g. "node-1 kube-apiserver". */
    name: string;
    host: string;
    port: number;
}

/** Where the live checks dial; a platform that cannot reach its nodes gives none, and rotation stops at trust-both. */
export interface CaRotationProbes {
    /** Each apiserver's own https URL, not a balancer's: every one of them must be ready. */
    apiservers: string[];
    /** The TLS endpoints serving a leaf of each domain. */
    servers: Record<CaName, CaRotationEndpoint[]>;
}

export interface CaRotationGateInputs {
    domain: CaName;
    configKey: string;
    generation: number;
    phase: CaRotationPhase;
    probes?: CaRotationProbes;
    /** Where the nodes cannot be dialled: what each node reported after its last sync (ca-rotation-reports.ts). */
    reports?: CaRotationReports;
    /** The domain's newest CA (its key is secret). */
    newCaCertPem: string;
    newCaKeyPem: string;
    /** Every cluster CA kept now, to verify apiservers; and the cluster signer, to read namespaces as an admin. */
    clusterCasPem: string;
    clusterSignerCertPem: string;
    clusterSignerKeyPem: string;
    adminGroup: string;
}

/** Who the minted probe credentials name; RBAC gives this user nothing. */
export const CA_ROTATION_PROBE_USER = "hardened-cluster:ca-rotation-probe";
const FRONT_PROXY_CLIENT = "front-proxy-client";
// The SDK's stand-in for a value a preview does not know yet (a CA created in the same run).
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const CHECK_SECONDS = 60;

/** What keeps the cluster from `phase`, checked now; empty when it is ready. */
async function liveProblems(i: CaRotationGateInputs): Promise<string[]> {
    const crypto: typeof import("node:crypto") = require("node:crypto");
    const tls: typeof import("node:tls") = require("node:tls");
    const https: typeof import("node:https") = require("node:https");
    if (i.probes === undefined) return [`this platform gives no live checks`];
    const newCa = new crypto.X509Certificate(i.newCaCertPem);
    const probe = mintClientCert(i.newCaCertPem, i.newCaKeyPem, i.domain === "frontProxy" ? FRONT_PROXY_CLIENT : CA_ROTATION_PROBE_USER, []);
    const problems: string[] = [];
    const attempt = async (what: string, f: () => Promise<string | undefined>) => {
        try {
            const p = await f();
            if (p) problems.push(`${what}: ${p}`);
        } catch (e) {
            problems.push(`${what}: ${(e as Error).message}`);
        }
    };
    // The leaf an endpoint serves, read without trusting it: only its signature matters here.
    const served = (e: CaRotationEndpoint) => new Promise<import("node:crypto").X509Certificate>((resolve, reject) => {
        const s = tls.connect({ host: e.host, port: e.port, rejectUnauthorized: false, cert: probe.certPem, key: probe.keyPem, timeout: 5000 });
        s.once("secureConnect", () => {
            const raw = s.getPeerCertificate().raw;
            s.destroy();
            if (raw) resolve(new crypto.X509Certificate(raw));
            else reject(new Error("no certificate presented"));
        });
        s.once("timeout", () => s.destroy(new Error("no TLS handshake within 5 s")));
        s.once("error", reject);
    });
    const get = (url: string, trustPem: string | undefined, headers: Record<string, string> = {}) => new Promise<number>((resolve, reject) => {
        const req = https.request(url, {
            method: "GET", cert: probe.certPem, key: probe.keyPem, headers, timeout: 5000,
            ...(trustPem === undefined ? { rejectUnauthorized: false } : { ca: trustPem }),
        }, (res: import("node:http").IncomingMessage) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
        });
        req.on("timeout", () => req.destroy(new Error("no answer within 5 s")));
        req.on("error", reject);
        req.end();
    });

    if (i.phase === "distrust-old") {
        for (const e of i.probes.servers[i.domain]) {
            await attempt(e.name, async () => {
                const leaf = await served(e);
                return leaf.checkIssued(newCa) && leaf.verify(newCa.publicKey) ? undefined : `serves a leaf issued by "${leaf.issuer.replace(/\n/g, ", ")}", not by the new CA`;
            });
        }
        return problems;
    }
    // issue-new: every verifier must accept the new CA before anything presents a leaf from it.
    if (i.domain === "etcd") {
        for (const e of i.probes.servers.etcd) {
            // etcd checks the client certificate in the handshake: any HTTP answer means it was accepted.
            await attempt(e.name, async () => { await get(`https://${e.host}:${e.port}/version`, undefined); return undefined; });
        }
        return problems;
    }
    for (const server of i.probes.apiservers) {
        const headers: Record<string, string> = i.domain === "frontProxy" ? { "X-Remote-User": CA_ROTATION_PROBE_USER } : {};
        await attempt(server, async () => {
            const status = await get(new URL("/version", server).toString(), i.clusterCasPem, headers);
            return status === 200 ? undefined : `answers ${status} to a ${i.domain === "frontProxy" ? "front-proxy request" : "client certificate"} from the new CA`;
        });
    }
    if (i.domain === "kubernetes") problems.push(...await rootCaProblems(i, i.probes.apiservers[0]));
    return problems;
}

/**
 * Pods trust the apiservers through kube-root-ca.crt: before apiservers serve from the new CA, every namespace's
 * copy must hold it. Read through `server` as an admin minted from the cluster signer.
 */
async function rootCaProblems(i: CaRotationGateInputs, server: string): Promise<string[]> {
    const crypto: typeof import("node:crypto") = require("node:crypto");
    const newFp = new crypto.X509Certificate(i.newCaCertPem).fingerprint256;
    const fingerprints = (pem: string) => (pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []).map((b) => new crypto.X509Certificate(b).fingerprint256);
    const admin = { server, caCertPem: i.clusterSignerCertPem, caKeyPem: i.clusterSignerKeyPem, trustPem: i.clusterCasPem, commonName: CA_ROTATION_PROBE_USER, groups: [i.adminGroup], method: "GET" };
    try {
        const ns = await mintedRequest({ ...admin, path: "/api/v1/namespaces" });
        const cms = await mintedRequest({ ...admin, path: "/api/v1/configmaps?fieldSelector=metadata.name%3Dkube-root-ca.crt" });
        if (ns.status !== 200 || cms.status !== 200) return [`kube-root-ca.crt: listing namespaces and config maps answered ${ns.status}, ${cms.status}`];
        const holding = new Set((JSON.parse(cms.text).items as { metadata: { namespace: string }; data?: Record<string, string> }[])
            .filter((c) => fingerprints(c.data?.["ca.crt"] ?? "").includes(newFp)).map((c) => c.metadata.namespace));
        const missing = (JSON.parse(ns.text).items as { metadata: { name: string } }[]).map((n) => n.metadata.name).filter((n) => !holding.has(n));
        return missing.length === 0 ? [] : [`kube-root-ca.crt: the new CA is not yet published in ${missing.length} namespace(s): ${missing.slice(0, 5).join(", ")}`];
    } catch (e) {
        return [`kube-root-ca.crt: ${(e as Error).message}`];
    }
}

/**
 * Refuses a step that skips a phase, any rotation on a platform that gives no live checks (it could never be
 * finished safely), and a step forward the live cluster is not ready for (after retrying).
 */
export async function allowCaRotationStep(previous: CaRotation | undefined, i: CaRotationGateInputs, checkLive: boolean): Promise<void> {
    const next = { generation: i.generation, phase: i.phase };
    const m = caRotationMove(previous, next, i.configKey);
    if ("problem" in m) throw new Error(m.problem);
    if (i.probes === undefined && i.reports === undefined && i.phase !== "steady") {
        throw new Error(`${i.configKey}: this platform gives the rotation no way to check its nodes, so a CA rotation cannot run on it; keep { phase: steady }`);
    }
    // Where the nodes report instead of being dialled, the step to steady too: they take distrust-old up only at
    // their next sync, after its up.
    const reports = i.probes === undefined ? i.reports : undefined;
    const checked = i.phase === "issue-new" || i.phase === "distrust-old" || (i.phase === "steady" && reports !== undefined);
    if (m.move !== "forward" || !checked || !checkLive) return;
    if (reports !== undefined) {
        // A report changes only at its node's next sync: read once, and say when to try again.
        const crypto: typeof import("node:crypto") = require("node:crypto");
        const problems = reportProblems(i.domain, i.phase as "issue-new" | "distrust-old" | "steady", new crypto.X509Certificate(i.newCaCertPem).fingerprint256, reports);
        if (i.domain === "kubernetes" && i.phase === "issue-new") {
            problems.push(...(reports.api === undefined ? ["kube-root-ca.crt: in no node's report, and no API URL to read it through"] : await rootCaProblems(i, reports.api)));
        }
        if (problems.length === 0) return;
        throw new Error(`${i.configKey}: the nodes' reports say the cluster is not ready for phase ${i.phase}; they report after each sync (${reports.schedule}), so run pulumi up again after the next one:\n  ${problems.join("\n  ")}`);
    }
    const deadline = Date.now() + CHECK_SECONDS * 1000;
    for (;;) {
        const problems = await liveProblems(i);
        if (problems.length === 0) return;
        if (Date.now() > deadline) {
            throw new Error(`${i.configKey}: the live cluster is not ready for phase ${i.phase} (checked for ${CHECK_SECONDS} s):\n  ${problems.join("\n  ")}`);
        }
        await new Promise((r) => setTimeout(r, 2000));
    }
}

type GateState = { domain: CaName; configKey: string; applied: CaRotation };
const recorded = (i: CaRotationGateInputs): GateState => ({ domain: i.domain, configKey: i.configKey, applied: { generation: i.generation, phase: i.phase } });

const gateProvider: pulumi.dynamic.ResourceProvider = {
    async create(i: CaRotationGateInputs) {
        await allowCaRotationStep(undefined, i, true);
        return { id: i.domain, outs: recorded(i) };
    },
    async diff(_id: string, olds: GateState, news: CaRotationGateInputs) {
        // A preview that creates a CA in the same run does not know it yet; the up checks it before it goes on.
        await allowCaRotationStep(olds.applied, news, !JSON.stringify(news).includes(UNKNOWN));
        return { changes: olds.applied.generation !== news.generation || olds.applied.phase !== news.phase, replaces: [] };
    },
    async update(_id: string, olds: GateState, news: CaRotationGateInputs) {
        await allowCaRotationStep(olds.applied, news, true);
        return { outs: recorded(news) };
    },
};

/** Applies caRotationMove and the live checks between runs; everything built from the domain's CAs depends on it. */
export class CaRotationGate extends pulumi.dynamic.Resource {
    constructor(name: string, args: { [K in keyof CaRotationGateInputs]: pulumi.Input<CaRotationGateInputs[K]> }, opts?: pulumi.CustomResourceOptions) {
        super(gateProvider, name, { ...args, applied: undefined }, opts, "hardened-cluster", "CaRotationGate");
    }
}
