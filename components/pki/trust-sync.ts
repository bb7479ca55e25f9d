// What the apiservers publish as their client CAs, kept to what they trust. Each apiserver writes its
// --client-ca-file and --requestheader-client-ca-file into kube-system/extension-apiserver-authentication,
// merged with what the config map held already, and never takes a CA out: after a CA rotation's distrust-old
// the old CA would stay there for good, and every component that authenticates through it (the
// controller-manager's and scheduler's secure ports, aggregated API servers) would go on accepting
// certificates from a CA the apiservers refuse. This resource takes out of it every CA the cluster no longer
// trusts; it runs once every apiserver has restarted with the current trust files.
import * as pulumi from "@pulumi/pulumi";
import { mintedRequest } from "./ephemeral";

export interface AuthenticationTrustArgs {
    /** API server URL. */
    server: pulumi.Input<string>;
    /** The cluster CA that signs now (mints the admin identity that writes the config map) and its key (secret). */
    signerCertPem: pulumi.Input<string>;
    signerKeyPem: pulumi.Input<string>;
    /** Every cluster CA trusted now: verifies the server, and what client-ca-file may hold. */
    clusterTrustPem: pulumi.Input<string>;
    /** Every front-proxy CA trusted now: what requestheader-client-ca-file may hold. */
    frontProxyTrustPem: pulumi.Input<string>;
    /** The group the admin credential is bound to cluster-admin through. */
    adminGroup: pulumi.Input<string>;
    /**
     * Where each domain's rotation stands, as text; a new value prunes again. Where nodes take a phase up only at
     * their next sync (AWS), an apiserver not yet restarted publishes the old CA again after distrust-old's prune;
     * the step to steady, checked against every node's report, then prunes for good.
     */
    positions?: pulumi.Input<string>;
}

type Inputs = { [K in keyof AuthenticationTrustArgs]: string };

const PATH = "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication";
const IDENTITY = "hardened-cluster:trust-sync";

/** Takes out the CAs the cluster no longer trusts; returns how many were taken out. */
async function prune(i: Inputs): Promise<number> {
    const crypto: typeof import("node:crypto") = require("node:crypto");
    const blocks = (pem: string) => pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
    const fingerprint = (block: string) => new crypto.X509Certificate(block).fingerprint256;
    const call = (method: string, body?: unknown) => mintedRequest({
        server: i.server, caCertPem: i.signerCertPem, caKeyPem: i.signerKeyPem, trustPem: i.clusterTrustPem,
        commonName: IDENTITY, groups: [i.adminGroup], method, path: PATH, body,
    });
    const allowed: Record<string, string> = { "client-ca-file": i.clusterTrustPem, "requestheader-client-ca-file": i.frontProxyTrustPem };
    // A write races the apiservers' own updates of the map; a conflict is read again and retried.
    for (let attempt = 0; attempt < 5; attempt++) {
        const got = await call("GET");
        if (got.status !== 200) throw new Error(`reading ${PATH}: HTTP ${got.status} ${got.text}`);
        const cm = JSON.parse(got.text) as { metadata: Record<string, unknown>; data?: Record<string, string> };
        let removed = 0;
        for (const [field, trusted] of Object.entries(allowed)) {
            const keep = new Set(blocks(trusted).map(fingerprint));
            const have = blocks(cm.data?.[field] ?? "");
            const kept = have.filter((b) => keep.has(fingerprint(b)));
            if (kept.length === have.length) continue;
            removed += have.length - kept.length;
            cm.data![field] = kept.map((b) => `${b}\n`).join("");
        }
        if (removed === 0) return 0;
        const put = await call("PUT", cm);
        if (put.status === 200) return removed;
        if (put.status !== 409) throw new Error(`updating ${PATH}: HTTP ${put.status} ${put.text}`);
    }
    throw new Error(`updating ${PATH}: still conflicting after 5 attempts`);
}

const provider: pulumi.dynamic.ResourceProvider = {
    async create(i: Inputs) {
        return { id: "extension-apiserver-authentication", outs: { ...i, removed: await prune(i) } };
    },
    async diff(_id: string, olds: Inputs, news: Inputs) {
        const changes = (["clusterTrustPem", "frontProxyTrustPem", "server", "signerCertPem", "positions"] as const).some((k) => olds[k] !== news[k]);
        return { changes, replaces: [] };
    },
    async update(_id: string, _olds: Inputs, news: Inputs) {
        return { outs: { ...news, removed: await prune(news) } };
    },
};

/** Keeps extension-apiserver-authentication to the CAs trusted now; depend it on every apiserver's restart. */
export class AuthenticationTrust extends pulumi.dynamic.Resource {
    declare readonly removed: pulumi.Output<number>;

    constructor(name: string, args: AuthenticationTrustArgs, opts?: pulumi.CustomResourceOptions) {
        super(provider, name, { ...args, signerKeyPem: pulumi.secret(args.signerKeyPem), removed: undefined },
            { ...opts, additionalSecretOutputs: ["signerKeyPem"] }, "hardened-cluster", "AuthenticationTrust");
    }
}
