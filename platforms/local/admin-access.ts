// Short-lived admin access to a local stack: a kubeconfig whose client certificate names the caller in the
// cluster-admin group and expires after the asked TTL, minted from the cluster CA on this machine (what
// `kubeadm kubeconfig user --validity-period` does). The stack's admin.conf stays the break-glass credential;
// day-to-day access is this one, which the audit log attributes to the caller by name.
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import { parse } from "yaml";
import { configFile, pkiFiles } from "../../components/common";
import { mintClientCert } from "../../components/pki/ephemeral";
import { kubeconfigYaml } from "../../components/pki/kubeconfig";
import { CLUSTER_ADMINS_GROUP } from "../../components/pki/options";
import { controlPlaneFile, LocalStackPlan } from "./plan";

/** Shortest and longest TTL: the floor Kubernetes' CSR API sets (10 minutes), and one day at most: never a standing credential. */
export const ADMIN_TTL_MINUTES = { min: 10, max: 24 * 60 } as const;

/** "8h", "90m", "1h30m" as minutes; an error naming `setting` otherwise. */
export function parseTtl(value: string, setting = "--ttl"): number {
    const m = /^(?:(\d+)h)?(?:(\d+)m)?$/.exec(value.trim());
    const minutes = m && (m[1] || m[2]) ? Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0) : NaN;
    if (!Number.isFinite(minutes) || minutes < ADMIN_TTL_MINUTES.min || minutes > ADMIN_TTL_MINUTES.max) {
        throw new Error(`${setting}: ${JSON.stringify(value)} is not a duration from ${ADMIN_TTL_MINUTES.min}m to ${ADMIN_TTL_MINUTES.max / 60}h (e.g. 8h, 90m, 1h30m)`);
    }
    return minutes;
}

const USER_NAME = /^[a-z0-9]([a-z0-9._@-]{0,62}[a-z0-9])?$/;

export interface AdminKubeconfig {
    yaml: string;
    user: string;
    notAfter: Date;
}

/** Mints the kubeconfig; needs read access to the cluster CA's key (root, or the owner of a user-layout stack). */
export function mintAdminKubeconfig(plan: LocalStackPlan, opts: { ttlMinutes: number; user: string }): AdminKubeconfig {
    if (!USER_NAME.test(opts.user) || opts.user.startsWith("system:")) {
        throw new Error(`--user: ${JSON.stringify(opts.user)} is not a plain user name (lower case letters, digits, . _ @ -)`);
    }
    if (!Number.isInteger(opts.ttlMinutes) || opts.ttlMinutes < ADMIN_TTL_MINUTES.min || opts.ttlMinutes > ADMIN_TTL_MINUTES.max) {
        throw new Error(`--ttl: ${opts.ttlMinutes} minutes is outside ${ADMIN_TTL_MINUTES.min}-${ADMIN_TTL_MINUTES.max}`);
    }
    const cp = plan.nodes.find((n) => !n.node.etcdOnly)!;
    const file = (suffix: string) => {
        const f = controlPlaneFile(plan, suffix);
        if (!f) throw new Error(`the stack plan has no ${suffix}`);
        return f;
    };
    const admin = parse(fs.readFileSync(configFile(cp.node.layout, "admin"), "utf8")) as { clusters: { name: string; cluster: { server: string } }[] };
    const cluster = admin.clusters[0];
    // Signed by the CA that signs now; verified against every CA trusted now (they differ during a rotation).
    const caPem = fs.readFileSync(file("/pki/ca.crt"), "utf8");
    const signer = fs.readFileSync(file(`/pki/${pkiFiles.clusterSigningCa}.crt`), "utf8");
    const minted = mintClientCert(signer, fs.readFileSync(file("/pki/ca.key"), "utf8"), opts.user, [CLUSTER_ADMINS_GROUP], opts.ttlMinutes);
    const yaml = kubeconfigYaml({ clusterName: cluster.name, server: cluster.cluster.server, caPem, userName: opts.user, clientCertPem: minted.certPem, clientKeyPem: minted.keyPem });
    return { yaml, user: opts.user, notAfter: new Date(new X509Certificate(minted.certPem).validTo) };
}
