// The Pulumi side of the PKI: walks the certificate and kubeconfig tables and creates @pulumi/tls resources.
// Everything that decides WHAT is issued lives in the pure modules; this file only decides HOW.
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { fail, parseHttpsUrl, isDnsLabel, isPlainObject, key, knownKeys, positiveInt } from "../common";
import { CA_SPECS, CaName, certNames, CertSpec, tableOf } from "./certlist";
import { caCommonName, caGenerations, caResourceName } from "./ca-rotation";
import { CaRotationGate, CaRotationProbes } from "./ca-rotation-gate";
import type { CaRotationReports } from "./ca-rotation-reports";
import { kubeconfigsOf, KubeconfigSpec, kubeconfigYaml, ServerRole } from "./kubeconfig";
import { CertFacts, certificatesIn, renewalStart } from "./inventory";
import { CLUSTER_ADMINS_GROUP, KeyAlgorithm, PkiOptions, ResolvedPkiOptions, resolvePkiOptions } from "./options";
import { pkiPosture, PkiPosture } from "./posture";
import { ServiceAccountKeyGate } from "./service-account-keys";

/** API server URLs by audience. Outputs are allowed: the endpoint may be a load balancer created alongside. */
export interface ApiServerUrls {
    /** What admins and persona users dial (the control-plane endpoint). */
    external: pulumi.Input<string>;
    /** What the controller-manager and scheduler dial; kubeadm uses the API server on their own host. Default: external. */
    local?: pulumi.Input<string>;
    /** What kubelets dial. Default: external. */
    kubelet?: pulumi.Input<string>;
}

export interface ClusterPkiArgs {
    /** Plain values, not Inputs: they decide which resources exist, so they must be known at plan time. */
    options: PkiOptions;
    servers: ApiServerUrls;
    /** Cluster name inside kubeconfigs. Default "kubernetes", as kubeadm. */
    clusterName?: string;
    /** Root of error keys, e.g. the stack config key "hardened-cluster:pki". Default "pki". */
    configKey?: string;
    /**
     * The longest a service-account token stays valid, in seconds: how long a retired signing key must keep
     * verifying. Pass what the apiservers enforce (longestServiceAccountTokenSeconds of the control plane).
     * Default one year, the longest an apiserver extends a token to.
     */
    serviceAccountTokenLifetimeSeconds?: number;
    /**
     * Where a CA rotation's gates check the live cluster before issue-new and distrust-old. Without them a
     * rotation cannot go past trust-both.
     */
    rotationProbes?: CaRotationProbes;
    /** Where the nodes cannot be dialled: their reports, which the gates read instead of probes. */
    rotationReports?: pulumi.Input<CaRotationReports>;
}

export interface CaPair {
    /** The CA that signs leaves now (one certificate). */
    certPem: pulumi.Output<string>;
    /** Secret: the signing CA's key. */
    keyPem: pulumi.Output<string>;
    /** Every CA the domain trusts now, the signer first: what trust files and kubeconfigs hold. */
    trustPem: pulumi.Output<string>;
}

export interface IssuedInventoryRow {
    /** The table row's name, or `ca:<name>` for a CA. */
    name: string;
    subject: string;
    serial: string;
    notAfter: string;
    renewFrom: string;
    /** Set when the issued PEM could not be read. */
    error?: string;
}

export interface IssuedCert {
    certPem: pulumi.Output<string>;
    /** Secret. */
    keyPem: pulumi.Output<string>;
    /** The signing CA's certificate, for building a trust bundle next to the pair. */
    caPem: pulumi.Output<string>;
}

/** What a platform needs from a PKI to lay it out on disk; ClusterPki provides it. */
export interface PkiMaterial {
    readonly table: CertSpec[];
    readonly kubeconfigSpecs: KubeconfigSpec[];
    readonly cas: Record<CaName, CaPair>;
    readonly certificates: Record<string, IssuedCert>;
    readonly serviceAccount: { publicKeyPem: pulumi.Output<string>; privateKeyPem: pulumi.Output<string> };
    readonly kubeconfigs: Record<string, pulumi.Output<string>>;
    /** The API server URL of each kubeconfig, and the cluster name inside them (for kubeconfigs that reference files). */
    readonly kubeconfigServers: Record<string, pulumi.Output<string>>;
    readonly clusterName: string;
}

const ARG_KEYS = ["options", "servers", "clusterName", "configKey", "serviceAccountTokenLifetimeSeconds", "rotationProbes", "rotationReports"] as const;
const YEAR_SECONDS = 365 * 24 * 3600;

export class ClusterPki extends pulumi.ComponentResource implements PkiMaterial {
    readonly table: CertSpec[];
    readonly kubeconfigSpecs: KubeconfigSpec[];
    readonly posture: PkiPosture;
    readonly cas: Record<CaName, CaPair>;
    readonly certificates: Record<string, IssuedCert>;
    /** The signer's private key (secret) and every key's public key, signer first. */
    readonly serviceAccount: { publicKeyPem: pulumi.Output<string>; privateKeyPem: pulumi.Output<string> };
    /** Kubeconfig YAML by name (see kubeconfigTable); all secret. */
    readonly kubeconfigs: Record<string, pulumi.Output<string>>;
    readonly kubeconfigServers: Record<string, pulumi.Output<string>>;
    readonly clusterName: string;
    /**
     * Every CA and issued certificate as issued: name, subject, serial, expiry and the start of its renewal
     * window (no key material). What the files and endpoints hold is checked on the cluster (npm run certs).
     */
    readonly inventory: pulumi.Output<IssuedInventoryRow[]>;

    constructor(name: string, args: ClusterPkiArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validate everything before registering anything, so bad config never leaves a half-built stack.
        const configKey = args.configKey ?? "pki";
        knownKeys(configKey, args, ARG_KEYS);
        const resolved = resolvePkiOptions(args.options, configKey);
        const posture = pkiPosture(args.options, configKey);
        const clusterName = args.clusterName ?? "kubernetes";
        if (typeof clusterName !== "string" || !isDnsLabel(clusterName)) fail(key(configKey, "clusterName"), clusterName, "use an RFC 1123 label");
        const servers = checkServers(key(configKey, "servers"), args.servers);
        const tokenLifetime = args.serviceAccountTokenLifetimeSeconds ?? YEAR_SECONDS;
        positiveInt(key(configKey, "serviceAccountTokenLifetimeSeconds"), tokenLifetime);

        super("hardened-cluster:pki:ClusterPki", name, {}, opts);
        this.table = tableOf(resolved);
        this.kubeconfigSpecs = kubeconfigsOf(resolved);
        this.posture = posture;

        const child = { parent: this };
        const newKey = (resourceName: string, opts: pulumi.CustomResourceOptions = child) => new tls.PrivateKey(resourceName, keyArgs(resolved.algorithm), opts);

        type MadeCa = { cert: tls.SelfSignedCert; key: tls.PrivateKey };
        const issued: [string, boolean, pulumi.Output<string>][] = [];
        const made = {} as Record<CaName, Map<number, MadeCa>>;
        const resourceBase = (spec: (typeof CA_SPECS)[number]) => `${name}-${spec.file.etcd ? "etcd-" : ""}${spec.file.base}`;
        for (const spec of CA_SPECS) {
            made[spec.name] = new Map();
            for (const g of caGenerations(resolved.rotation[spec.name]).kept) {
                // Named after kubeadm's files (ca, etcd-ca, front-proxy-ca), which never collide with a table row.
                const resourceName = caResourceName(resourceBase(spec), g);
                const caKey = newKey(resourceName);
                const cert = new tls.SelfSignedCert(resourceName, {
                    privateKeyPem: caKey.privateKeyPem,
                    subject: { commonName: caCommonName(spec.commonName, g) },
                    isCaCertificate: true,
                    setSubjectKeyId: true,
                    setAuthorityKeyId: true,
                    allowedUses: spec.usages,
                    validityPeriodHours: resolved.caValidityHours,
                    earlyRenewalHours: resolved.caEarlyRenewalHours,
                }, child);
                made[spec.name].set(g, { cert, key: caKey });
                issued.push([`ca:${spec.name}${g === 1 ? "" : `-${g}`}`, true, cert.certPem]);
            }
        }
        const bundle = (cas: MadeCa[]) => pulumi.all(cas.map((c) => c.cert.certPem)).apply((pems) => pems.map((p) => p.endsWith("\n") ? p : `${p}\n`).join(""));
        const clusterGenerations = caGenerations(resolved.rotation.kubernetes);
        const clusterSigner = made.kubernetes.get(clusterGenerations.signer)!;

        const cas = {} as Record<CaName, CaPair>;
        const gates = {} as Record<CaName, CaRotationGate>;
        for (const spec of CA_SPECS) {
            const rotation = resolved.rotation[spec.name];
            const generations = caGenerations(rotation);
            const newest = made[spec.name].get(rotation.generation)!;
            const gate = new CaRotationGate(`${resourceBase(spec)}-rotation`, {
                domain: spec.name, configKey: key(configKey, "rotation", spec.name), generation: rotation.generation, phase: rotation.phase,
                ...(args.rotationProbes ? { probes: args.rotationProbes } : {}),
                ...(args.rotationReports ? { reports: args.rotationReports } : {}),
                newCaCertPem: newest.cert.certPem, newCaKeyPem: pulumi.secret(newest.key.privateKeyPem),
                clusterCasPem: bundle([...made.kubernetes.values()]),
                clusterSignerCertPem: clusterSigner.cert.certPem, clusterSignerKeyPem: pulumi.secret(clusterSigner.key.privateKeyPem),
                adminGroup: CLUSTER_ADMINS_GROUP,
            }, child);
            gates[spec.name] = gate;
            // Through the gate's URN (known in a preview), so whatever reads them waits for the gate's verdict.
            const gated = (o: pulumi.Output<string>) => pulumi.all([gate.urn, o]).apply(([, v]) => v);
            const signer = made[spec.name].get(generations.signer)!;
            cas[spec.name] = {
                certPem: gated(signer.cert.certPem),
                keyPem: pulumi.secret(gated(signer.key.privateKeyPem)),
                trustPem: gated(bundle(generations.trusted.map((g) => made[spec.name].get(g)!))),
            };
        }
        this.cas = cas;

        this.certificates = {};
        for (const row of this.table) {
            // Same type and parent, only the name changed: the engine moves the old state over instead of replacing it.
            const opts = row.formerName === undefined ? child : { ...child, aliases: [{ name: `${name}-${row.formerName}` }] };
            this.certificates[row.name] = issue(`${name}-${row.name}`, row, cas[row.ca], resolved, newKey, { ...opts, dependsOn: [gates[row.ca]] });
        }

        // The gate refuses a rotation step that would break tokens before any key, file or process changes.
        const gate = new ServiceAccountKeyGate(`${name}-sa-keys`, {
            keys: resolved.serviceAccountKeys, lifetimeSeconds: tokenLifetime, configKey: key(configKey, "serviceAccountKeys"),
        }, child);
        // "sa" keeps the resource name of the single key of earlier releases.
        const saKeys = resolved.serviceAccountKeys.map((k) => newKey(k === "sa" ? `${name}-sa` : `${name}-sa-${k}`, { parent: this, dependsOn: [gate] }));
        this.serviceAccount = {
            // Every key verifies: the apiserver reads all the PEM blocks of its key file.
            publicKeyPem: pulumi.all(saKeys.map((k) => k.publicKeyPem)).apply((pems) => pems.map((p) => p.endsWith("\n") ? p : `${p}\n`).join("")),
            privateKeyPem: pulumi.secret(saKeys[0].privateKeyPem),
        };

        const urls: Record<ServerRole, pulumi.Input<string>> = {
            external: servers.external,
            local: servers.local ?? servers.external,
            kubelet: servers.kubelet ?? servers.external,
        };
        this.kubeconfigs = {};
        this.kubeconfigServers = {};
        this.clusterName = clusterName;
        for (const spec of this.kubeconfigSpecs) {
            const row = this.table.find((r) => r.name === spec.cert)!;
            const pair = this.certificates[spec.cert];
            const serverKey = key(configKey, "servers", urlKey(spec.server, servers));
            this.kubeconfigServers[spec.name] = pulumi.output(urls[spec.server]).apply((server) => serverUrl(serverKey, server));
            this.kubeconfigs[spec.name] = pulumi.secret(
                pulumi.all([this.kubeconfigServers[spec.name], cas.kubernetes.trustPem, pair.certPem, pair.keyPem]).apply(([server, caPem, certPem, keyPem]) =>
                    kubeconfigYaml({ clusterName, server, caPem, userName: row.commonName, clientCertPem: certPem, clientKeyPem: keyPem }),
                ),
            );
        }

        issued.push(...Object.entries(this.certificates).map(([n, c]): [string, boolean, pulumi.Output<string>] => [n, false, c.certPem]));
        this.inventory = pulumi.all(issued.map(([, , pem]) => pem)).apply((pems) => pems.map((pem, i) => {
            const [name, isCa] = issued[i];
            let facts: CertFacts | undefined;
            try {
                [facts] = certificatesIn(pem ?? "");
            } catch (e) {
                // Not a certificate (a test's mock engine makes up the PEM): listed as unreadable, never a failed up.
                return { name, subject: "", serial: "", notAfter: "", renewFrom: "", error: (e as Error).message };
            }
            if (!facts) return { name, subject: "", serial: "", notAfter: "", renewFrom: "", error: "no certificate" };
            const renewFrom = renewalStart(facts, isCa ? resolved.caEarlyRenewalHours : resolved.earlyRenewalHours).toISOString();
            return { name, subject: facts.subject, serial: facts.serial, notAfter: facts.notAfter, renewFrom };
        }));

        this.registerOutputs({
            inventory: this.inventory,
            posture: this.posture,
            cas: this.cas,
            certificates: this.certificates,
            serviceAccount: this.serviceAccount,
            kubeconfigs: this.kubeconfigs,
        });
    }
}

function issue(
    resourceName: string,
    row: CertSpec,
    ca: CaPair,
    o: ResolvedPkiOptions,
    newKey: (n: string, opts: pulumi.CustomResourceOptions) => tls.PrivateKey,
    child: pulumi.CustomResourceOptions,
): IssuedCert {
    // @pulumi/tls carries one O per subject; options.ts refuses more, so reaching this is a table bug.
    if (row.organizations.length > 1) throw new Error(`pki: certificate ${row.name} has more than one organization`);
    const leafKey = newKey(resourceName, child);
    const csr = new tls.CertRequest(
        resourceName,
        {
            privateKeyPem: leafKey.privateKeyPem,
            subject: { commonName: row.commonName, organization: row.organizations[0] },
            dnsNames: row.dnsNames,
            ipAddresses: row.ipAddresses,
        },
        child,
    );
    const cert = new tls.LocallySignedCert(
        resourceName,
        {
            certRequestPem: csr.certRequestPem,
            caCertPem: ca.certPem,
            caPrivateKeyPem: ca.keyPem,
            allowedUses: row.usages,
            setSubjectKeyId: true,
            validityPeriodHours: o.leafValidityHours,
            earlyRenewalHours: o.earlyRenewalHours,
        },
        child,
    );
    return { certPem: cert.certPem, keyPem: pulumi.secret(leafKey.privateKeyPem), caPem: ca.trustPem };
}

/** A client pair the platform asked for with a PKI option (PEM; the key is secret); `what` names it in the error. */
function platformClientPair(pki: Pick<PkiMaterial, "certificates">, name: string, option: string, what: string): IssuedCert {
    const pair = pki.certificates[name];
    if (pair === undefined) throw new Error(`pki: no ${what}; set ${option}: true in the PKI options`);
    return pair;
}

/**
 * The pair a load balancer presents to each API server's /readyz, issued when the platform set
 * pki.apiServerHealthClient. Its CA is the cluster CA, which the balancer also needs to verify the API servers.
 */
export function apiServerHealthClientPair(pki: Pick<PkiMaterial, "certificates">): IssuedCert {
    return platformClientPair(pki, certNames.apiserverHealthClient, "apiServerHealthClient", "API server health-check client");
}

/** kube-proxy's client pair, issued when the platform set pki.kubeProxyClient. */
export function kubeProxyClientPair(pki: Pick<PkiMaterial, "certificates">): IssuedCert {
    return platformClientPair(pki, certNames.kubeProxyClient, "kubeProxyClient", "kube-proxy client");
}

/** The nodes' NetworkPolicy enforcer's client pair, issued when the platform set pki.networkPolicyClient. */
export function networkPolicyClientPair(pki: Pick<PkiMaterial, "certificates">): IssuedCert {
    return platformClientPair(pki, certNames.networkPolicyClient, "networkPolicyClient", "NetworkPolicy enforcer client");
}

/** The kubelet serving-certificate approver's client pair, issued when the platform set pki.servingApproverClient. */
export function servingApproverClientPair(pki: Pick<PkiMaterial, "certificates">): IssuedCert {
    return platformClientPair(pki, certNames.servingApproverClient, "servingApproverClient", "serving-certificate approver client");
}

/** A node agent's kubeconfig (a secret): the cluster CA and one of the pairs above, embedded, for `userName`. */
export function clientPairKubeconfig(pki: Pick<PkiMaterial, "cas">, pair: IssuedCert, clusterName: string, server: string, userName: string): pulumi.Output<string> {
    return pulumi.secret(pulumi.all([pki.cas.kubernetes.trustPem, pair.certPem, pair.keyPem]).apply(([ca, cert, key]) =>
        kubeconfigYaml({ clusterName, server, caPem: ca, userName, clientCertPem: cert, clientKeyPem: key })));
}

export function keyArgs(algorithm: KeyAlgorithm): tls.PrivateKeyArgs {
    switch (algorithm) {
        case "ECDSA-P256":
            return { algorithm: "ECDSA", ecdsaCurve: "P256" };
        case "ECDSA-P384":
            return { algorithm: "ECDSA", ecdsaCurve: "P384" };
        case "RSA-2048":
            return { algorithm: "RSA", rsaBits: 2048 };
        case "RSA-3072":
            return { algorithm: "RSA", rsaBits: 3072 };
        case "RSA-4096":
            return { algorithm: "RSA", rsaBits: 4096 };
    }
}

function checkServers(k: string, servers: ApiServerUrls | undefined): ApiServerUrls {
    if (!isPlainObject(servers)) fail(k, servers, "give at least servers.external (an https URL)");
    knownKeys(k, servers, ["external", "local", "kubelet"]);
    if (servers.external === undefined) fail(key(k, "external"), undefined, "give the https URL admins use to reach the API server");
    // Plain strings are checked now; Outputs are checked when they resolve (see the kubeconfig apply).
    for (const name of ["external", "local", "kubelet"] as const) {
        const v = servers[name];
        if (typeof v === "string") serverUrl(key(k, name), v);
    }
    return servers;
}

/** The servers key a kubeconfig's URL came from, so an error names the setting that was actually used. */
function urlKey(role: ServerRole, servers: ApiServerUrls): keyof ApiServerUrls {
    return servers[role] === undefined ? "external" : role;
}

function serverUrl(k: string, value: unknown): string {
    // The API server serves only TLS and the kubeconfig's CA data is what authenticates it; an http URL
    // would neither connect nor be verified, so it can only be a mistake.
    if (!parseHttpsUrl(value)) fail(k, value, "use an https URL such as https://127.0.0.1:6443");
    return value as string;
}
