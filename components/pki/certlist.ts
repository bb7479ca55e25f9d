// The cluster's certificates as data: which CA signs each one, whom it names and what it may be used for.
// The table mirrors the set kubeadm issues for a control plane (its phases/certs/certlist.go), plus the
// client certificates kubeadm embeds in kubeconfigs, kubelet certificates and persona users. The Pulumi
// component only walks this table, so a test of the table is a test of what gets issued.
import { componentClientFiles, componentServingFiles, nthIPv4, pkiFiles } from "../common";
import { CLUSTER_ADMINS_GROUP, PkiOptions, ResolvedPkiOptions, resolvePkiOptions, SYSTEM_MASTERS_GROUP } from "./options";

export type CaName = "kubernetes" | "etcd" | "frontProxy";

/** Values of @pulumi/tls `allowedUses` (the provider takes the snake_case names). */
export type AllowedUse = "cert_signing" | "crl_signing" | "digital_signature" | "key_encipherment" | "server_auth" | "client_auth";

/** Where kubeadm keeps a pair: a base name from layout.ts in pkiDir, or in etcdPkiDir when etcd is true. */
export interface PkiFileName {
    base: string;
    etcd: boolean;
}

export interface CaSpec {
    name: CaName;
    commonName: string;
    usages: AllowedUse[];
    file: PkiFileName;
}

export interface CertSpec {
    /** Stable key of the row: output name and part of the Pulumi resource names. */
    name: string;
    ca: CaName;
    commonName: string;
    /** Subject O values; the API server reads them as groups. */
    organizations: string[];
    usages: AllowedUse[];
    dnsNames: string[];
    ipAddresses: string[];
    /** Set when kubeadm writes this pair as files; the others travel inside kubeconfigs or to the caller. */
    file?: PkiFileName;
    /** The node or etcd member a per-host row belongs to. */
    host?: string;
    /** Which name `host` is: a node's (apiserver, kubelet rows) or an etcd member's; one machine may be both. */
    hostKind?: "node" | "etcdMember";
    /**
     * The row's name in an earlier release. Its Pulumi resources were named after it, so they take that name
     * as an alias and an existing stack keeps its key instead of replacing the pair.
     */
    formerName?: string;
}

export const CA_USAGES: AllowedUse[] = ["cert_signing", "crl_signing", "digital_signature", "key_encipherment"];
const BASE: AllowedUse[] = ["digital_signature", "key_encipherment"];
export const SERVER_USAGES: AllowedUse[] = [...BASE, "server_auth"];
export const CLIENT_USAGES: AllowedUse[] = [...BASE, "client_auth"];
// etcd members dial each other and the local client port with the same pair, so it must work both ways.
export const SERVER_AND_CLIENT_USAGES: AllowedUse[] = [...BASE, "server_auth", "client_auth"];

// Common names the API server and its peers recognise; kubeadm uses the same strings.
export const COMMON_NAMES = {
    kubernetesCa: "kubernetes",
    etcdCa: "etcd-ca",
    frontProxyCa: "front-proxy-ca",
    apiserver: "kube-apiserver",
    apiserverKubeletClient: "kube-apiserver-kubelet-client",
    apiserverEtcdClient: "kube-apiserver-etcd-client",
    etcdHealthcheckClient: "kube-etcd-healthcheck-client",
    frontProxyClient: "front-proxy-client",
    controllerManager: "system:kube-controller-manager",
    scheduler: "system:kube-scheduler",
    admin: "kubernetes-admin",
    superAdmin: "kubernetes-super-admin",
    apiserverHealthClient: "hardened-cluster:apiserver-health-check",
    // Kubernetes' default RBAC binds this user to system:node-proxier.
    kubeProxy: "system:kube-proxy",
    networkPolicy: "hardened-cluster:network-policy",
    servingApprover: "hardened-cluster:csr-approver",
} as const;

export const NODES_GROUP = "system:nodes";
export const nodeUser = (node: string) => `system:node:${node}`;

// CAs are replaced only on purpose: a new CA re-issues every leaf and invalidates every kubeconfig and
// kubelet credential handed out under the old one, so their early renewal defaults to 0 (replace only once
// expired) while leaves renew weeks ahead and roll over on any routine `pulumi up`.
export const CA_SPECS: readonly CaSpec[] = [
    { name: "kubernetes", commonName: COMMON_NAMES.kubernetesCa, usages: CA_USAGES, file: { base: pkiFiles.ca, etcd: false } },
    { name: "etcd", commonName: COMMON_NAMES.etcdCa, usages: CA_USAGES, file: { base: pkiFiles.etcdCa, etcd: true } },
    { name: "frontProxy", commonName: COMMON_NAMES.frontProxyCa, usages: CA_USAGES, file: { base: pkiFiles.frontProxyCa, etcd: false } },
];

export const certNames = {
    apiserver: (node: string) => `apiserver-${node}`,
    apiserverHealthClient: "apiserver-health-client",
    kubeProxyClient: "kube-proxy-client",
    networkPolicyClient: "network-policy-client",
    servingApproverClient: "csr-approver-client",
    etcdServer: (member: string) => `etcd-server-${member}`,
    etcdPeer: (member: string) => `etcd-peer-${member}`,
    kubeletServing: (node: string) => `kubelet-serving-${node}`,
    kubeletClient: (node: string) => `kubelet-client-${node}`,
    user: (name: string) => `user-${name}`,
};

/** Every leaf certificate the cluster needs, after validating `options` (errors are keyed under configKey). */
export function certificateTable(options: PkiOptions, configKey = "pki"): CertSpec[] {
    return tableOf(resolvePkiOptions(options, configKey));
}

/** The single API server row of releases before each node had its own; see CertSpec.formerName. */
const SHARED_APISERVER_ROW = "apiserver";

export function tableOf(o: ResolvedPkiOptions): CertSpec[] {
    const cp = o.controlPlaneNodes;
    // As kubeadm issues it per node: the names every client may dial plus this node's own, and no other
    // node's, so one node's serving key cannot answer for another node's address.
    const sharedDns = ["kubernetes", "kubernetes.default", "kubernetes.default.svc", `kubernetes.default.svc.${o.clusterDomain}`, "localhost", ...o.endpoint.dnsNames];
    const sharedIps = [nthIPv4(o.serviceCidr, 1), "127.0.0.1", ...o.endpoint.ipAddresses];

    const rows: CertSpec[] = cp.map((n, i) =>
        leaf(certNames.apiserver(n.name), "kubernetes", COMMON_NAMES.apiserver, [], SERVER_USAGES, {
            dns: [...sharedDns, n.name, ...n.dnsNames],
            ips: [...sharedIps, ...n.ipAddresses],
            file: pkiFiles.apiserver,
            host: n.name,
            hostKind: "node",
            // The first node inherits the shared pair's resources: a single-node stack keeps its key and certificate.
            formerName: i === 0 ? SHARED_APISERVER_ROW : undefined,
        }),
    );
    rows.push(
        // kubeadm puts this identity in the cluster-admins group so `kubectl exec/logs` reach every kubelet.
        leaf("apiserver-kubelet-client", "kubernetes", COMMON_NAMES.apiserverKubeletClient, [CLUSTER_ADMINS_GROUP], CLIENT_USAGES, { file: pkiFiles.apiserverKubeletClient }),
        leaf("apiserver-etcd-client", "etcd", COMMON_NAMES.apiserverEtcdClient, [], CLIENT_USAGES, { file: pkiFiles.apiserverEtcdClient, etcd: false }),
        leaf("front-proxy-client", "frontProxy", COMMON_NAMES.frontProxyClient, [], CLIENT_USAGES, { file: pkiFiles.frontProxyClient }),
        leaf("etcd-healthcheck-client", "etcd", COMMON_NAMES.etcdHealthcheckClient, [], CLIENT_USAGES, { file: pkiFiles.etcdHealthcheckClient, etcd: true }),
    );

    for (const m of o.etcdMembers) {
        const dns = [m.name, "localhost", ...m.dnsNames];
        const ips = ["127.0.0.1", "::1", ...m.ipAddresses];
        rows.push(
            leaf(certNames.etcdServer(m.name), "etcd", m.name, [], SERVER_AND_CLIENT_USAGES, { dns, ips, file: pkiFiles.etcdServer, etcd: true, host: m.name, hostKind: "etcdMember" }),
            leaf(certNames.etcdPeer(m.name), "etcd", m.name, [], SERVER_AND_CLIENT_USAGES, { dns, ips, file: pkiFiles.etcdPeer, etcd: true, host: m.name, hostKind: "etcdMember" }),
        );
    }

    // kubeadm lets these two self-sign in memory, so a health check could only skip verification and accept
    // any process holding the port. Issued here, the check verifies who answers. Both bind to loopback only.
    for (const [row, base] of [["controller-manager-serving", componentServingFiles.controllerManager], ["scheduler-serving", componentServingFiles.scheduler]] as const) {
        rows.push(leaf(row, "kubernetes", base, [], SERVER_USAGES, { dns: ["localhost"], ips: ["127.0.0.1"], file: base }));
    }
    rows.push(
        leaf("controller-manager", "kubernetes", COMMON_NAMES.controllerManager, [], CLIENT_USAGES, { file: componentClientFiles.controllerManager }),
        leaf("scheduler", "kubernetes", COMMON_NAMES.scheduler, [], CLIENT_USAGES, { file: componentClientFiles.scheduler }),
        leaf("admin", "kubernetes", COMMON_NAMES.admin, [CLUSTER_ADMINS_GROUP], CLIENT_USAGES),
    );
    if (o.breakGlass) rows.push(leaf("super-admin", "kubernetes", COMMON_NAMES.superAdmin, [SYSTEM_MASTERS_GROUP], CLIENT_USAGES));
    // A load balancer's probe of /readyz needs only to be authenticated: the built-in
    // system:public-info-viewer role lets every authenticated user GET /readyz, /livez, /healthz and
    // /version. No group, so RBAC grants it nothing more; no file, the platform hands it to the balancer.
    if (o.apiServerHealthClient) rows.push(leaf(certNames.apiserverHealthClient, "kubernetes", COMMON_NAMES.apiserverHealthClient, [], CLIENT_USAGES));
    // No group: the default binding of system:node-proxier to this user is all it gets. No file either: the
    // platform writes the kubeconfig each node's kube-proxy reads.
    if (o.kubeProxyClient) rows.push(leaf(certNames.kubeProxyClient, "kubernetes", COMMON_NAMES.kubeProxy, [], CLIENT_USAGES));
    // No group and no file either: the platform binds this user to a read-only role and writes the enforcer's kubeconfig.
    if (o.networkPolicyClient) rows.push(leaf(certNames.networkPolicyClient, "kubernetes", COMMON_NAMES.networkPolicy, [], CLIENT_USAGES));
    // The same for the serving-certificate approver: its role approves only kubelet-serving requests.
    if (o.servingApproverClient) rows.push(leaf(certNames.servingApproverClient, "kubernetes", COMMON_NAMES.servingApprover, [], CLIENT_USAGES));

    for (const n of [...cp, ...o.workerNodes]) {
        rows.push(
            leaf(certNames.kubeletServing(n.name), "kubernetes", nodeUser(n.name), [NODES_GROUP], SERVER_USAGES, { dns: [n.name, ...n.dnsNames], ips: n.ipAddresses, host: n.name, hostKind: "node" }),
            leaf(certNames.kubeletClient(n.name), "kubernetes", nodeUser(n.name), [NODES_GROUP], CLIENT_USAGES, { host: n.name, hostKind: "node" }),
        );
    }

    for (const u of o.users) rows.push(leaf(certNames.user(u.name), "kubernetes", u.name, u.groups, CLIENT_USAGES));
    return rows;
}

function leaf(
    name: string,
    ca: CaName,
    commonName: string,
    organizations: string[],
    usages: AllowedUse[],
    extra: { dns?: string[]; ips?: string[]; file?: string; etcd?: boolean; host?: string; hostKind?: CertSpec["hostKind"]; formerName?: string } = {},
): CertSpec {
    const spec: CertSpec = {
        name,
        ca,
        commonName,
        organizations,
        usages: [...usages],
        dnsNames: dedupe(extra.dns ?? []),
        ipAddresses: dedupe(extra.ips ?? []),
    };
    if (extra.file !== undefined) spec.file = { base: extra.file, etcd: extra.etcd ?? false };
    if (extra.host !== undefined) spec.host = extra.host;
    if (extra.hostKind !== undefined) spec.hostKind = extra.hostKind;
    if (extra.formerName !== undefined) spec.formerName = extra.formerName;
    return spec;
}

// An endpoint may well repeat a node's address; a SAN listed twice is harmless but noisy in diffs.
function dedupe(values: string[]): string[] {
    return [...new Set(values)];
}
