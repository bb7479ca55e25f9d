// The stack's cluster settings, resolved once against what the platform decided: every component's own
// resolver runs exactly here, each error is kept with its key path, and rules that need two keys (or a key and
// a platform fact) are written once. Later code takes the ResolvedCluster and never validates again.
import { AuditLogOptions, ResolvedAuditOptions, resolveAuditOptions } from "../audit";
import { ConfigErrorList, fail, FileLayout, key, knownKeys, NOT_SHOWN } from "../common";
import { ControlPlaneOptions, NETWORK_DEFAULTS, RenderedControlPlane, RenderedEtcdMember, renderControlPlane } from "../control-plane";
import { EncryptionOptions, ENCRYPTION_DEFAULTS, ResolvedEncryption, resolveEncryption } from "../encryption";
import { PkiOptions, ResolvedPkiOptions, resolvePkiOptions } from "../pki";
import { ClusterKeys, ClusterMember, ClusterSettings, PlatformFacts, STACK_CONTROL_PLANE_FIELDS, STACK_NETWORK_FIELDS, STACK_PKI_FIELDS, StackControlPlaneOptions } from "./types";

export const DEFAULT_CLUSTER_KEYS: ClusterKeys = { pki: "pki", encryption: "encryption", audit: "audit", controlPlane: "controlPlane" };

export interface ResolvedNode {
    member: ClusterMember;
    /** Where this node's files go, and the same with etcd's own key directory. */
    layout: FileLayout;
    etcdLayout: FileLayout;
    /** This node's Kubernetes components, rendered for the platform's layout. */
    controlPlane: RenderedControlPlane;
    /** This node's etcd member, pointing at etcd's own key directory. */
    etcd: RenderedEtcdMember;
}

export interface ResolvedCluster {
    keys: ClusterKeys;
    facts: PlatformFacts;
    /** The layout etcd reads its own files from (etcdPkiDir = facts.etcdOwnPkiDir). */
    etcdLayout: FileLayout;
    /** Complete PKI options (the platform's hosts and endpoint filled in), and what they resolve to. */
    pki: PkiOptions;
    pkiResolved: ResolvedPkiOptions;
    encryption: EncryptionOptions;
    encryptionResolved: ResolvedEncryption;
    audit: AuditLogOptions | undefined;
    auditResolved: ResolvedAuditOptions;
    nodes: ResolvedNode[];
}

/** Flags the plan sets on the controller manager and scheduler itself (their serving pair from the cluster CA). */
const SERVING_FLAGS = ["tls-cert-file", "tls-private-key-file", "cert-dir"];

/**
 * Resolves every cluster setting of a stack against the platform's facts. Throws one ConfigError, or a
 * ConfigErrors holding every problem found, each named by its full key path.
 */
export function resolveCluster(settings: ClusterSettings, facts: PlatformFacts, keys: ClusterKeys = DEFAULT_CLUSTER_KEYS): ResolvedCluster {
    const errors = new ConfigErrorList();
    const s = settings;
    for (const r of facts.refused ?? []) {
        const value = r.path.reduce<unknown>((o, p) => (o !== null && typeof o === "object" ? (o as Record<string | number, unknown>)[p] : undefined), s[r.key]);
        if (value !== undefined) errors.attempt(() => fail(key(keys[r.key], ...r.path), NOT_SHOWN, r.reason));
    }
    errors.attempt(() => checkPkiShape(s.pki, keys.pki));
    errors.attempt(() => {
        if (s.controlPlane === undefined) return;
        if (s.controlPlane === null || typeof s.controlPlane !== "object" || Array.isArray(s.controlPlane)) fail(keys.controlPlane, s.controlPlane, "use an object");
        if ("audit" in s.controlPlane) fail(key(keys.controlPlane, "audit"), NOT_SHOWN, `audit settings have their own key; move them to ${keys.audit}`);
        knownKeys(keys.controlPlane, s.controlPlane, STACK_CONTROL_PLANE_FIELDS);
        checkNetworkFields(s.controlPlane, keys.controlPlane, facts.portsSetting);
    });
    const network = { ...(s.controlPlane?.network ?? {}) };
    errors.attempt(() => checkClusterDomain(s, keys));
    for (const c of ["controllerManager", "scheduler"] as const) {
        for (const flag of SERVING_FLAGS) {
            if (s.controlPlane?.[c]?.extraArgs?.[flag] !== undefined) {
                errors.attempt(() => fail(key(keys.controlPlane, c, "extraArgs", flag), s.controlPlane?.[c]?.extraArgs?.[flag],
                    "the cluster issues this component's serving certificate from the cluster CA itself; remove the flag"));
            }
        }
    }

    let auditResolved: ResolvedAuditOptions | undefined;
    errors.attempt(() => (auditResolved = resolveAuditOptions(s.audit, keys.audit)));

    const encryption = s.encryption ?? facts.encryption.defaults ?? {};
    let encryptionResolved: ResolvedEncryption | undefined;
    errors.attempt(() => {
        encryptionResolved = resolveEncryption(encryption, keys.encryption, facts.encryption.kmsEndpoint);
        checkProviders(encryptionResolved, facts, keys.encryption);
    });

    const etcdLayout: FileLayout = { ...facts.layout, etcdPkiDir: facts.etcdOwnPkiDir };
    const nodes: ResolvedNode[] = [];
    errors.attempt(() => {
        facts.members.forEach((member, i) => {
            // Audit settings are checked under their own key; when they failed, the control plane is still
            // checked (without them) so its own errors show too, and the audit errors are not repeated.
            const options = nodeOptions(s.controlPlane, auditResolved ? s.audit : undefined, facts, member);
            const layout = member.layout ?? facts.layout;
            const ownEtcd: FileLayout = { ...layout, etcdPkiDir: member.etcdOwnPkiDir ?? facts.etcdOwnPkiDir };
            nodes.push({
                member, layout, etcdLayout: ownEtcd,
                controlPlane: renderControlPlane(options, layout, keys.controlPlane),
                etcd: renderControlPlane(options, ownEtcd, keys.controlPlane).etcd[i],
            });
        });
    });
    const pki: PkiOptions = {
        ...(s.pki ?? {}),
        // The range the control plane serves; a bad one is reported under controlPlane.network, not again here.
        serviceCidr: nodes.length > 0 ? network.serviceCidr ?? NETWORK_DEFAULTS.serviceCidr : NETWORK_DEFAULTS.serviceCidr,
        endpoint: { ipAddresses: facts.endpoint.ipAddresses, dnsNames: [...(s.pki?.endpoint?.dnsNames ?? []), ...facts.endpoint.dnsNames] },
        controlPlaneNodes: facts.members.filter((m) => !m.etcdOnly).map((m) => ({ name: m.name, ipAddresses: [m.ip] })),
        etcdMembers: facts.members.map((m) => ({ name: m.name, ipAddresses: [m.ip] })),
        // A balancer checks each apiserver's /readyz with a client identity of its own.
        ...(facts.balancer ? { apiServerHealthClient: true } : {}),
        // Nodes that run kube-proxy as a process of their own give it a client identity.
        ...(facts.nodeProxy ? { kubeProxyClient: true } : {}),
        ...(facts.nodeNetworkPolicy ? { networkPolicyClient: true } : {}),
        ...(facts.servingApprover ? { servingApproverClient: true } : {}),
    };
    const domain = network.clusterDomain ?? s.pki?.clusterDomain;
    if (domain === undefined) delete pki.clusterDomain;
    else pki.clusterDomain = domain;
    let pkiResolved: ResolvedPkiOptions | undefined;
    errors.attempt(() => (pkiResolved = resolvePkiOptions(pki, keys.pki)));

    errors.throwIfAny();
    return {
        keys, facts, etcdLayout, pki, pkiResolved: pkiResolved!, encryption, encryptionResolved: encryptionResolved!,
        audit: s.audit, auditResolved: auditResolved!, nodes,
    };
}

/**
 * PKI fields the platform owns: it knows the nodes, etcd members and endpoint addresses, and takes the Service
 * range from the control-plane settings so the certificate and the apiserver can never disagree.
 */
export const PLATFORM_PKI_FIELDS: Readonly<Record<string, string>> = {
    serviceCidr: "set controlPlane.network.serviceCidr; the platform copies it into the API server certificate",
    controlPlaneNodes: "the platform names its control-plane nodes and their addresses",
    etcdMembers: "the platform names its etcd members and their addresses",
    apiServerHealthClient: "the platform issues it when its apiservers sit behind a balancer",
    kubeProxyClient: "the platform issues it when its nodes run kube-proxy",
    networkPolicyClient: "the platform issues it when its nodes run a NetworkPolicy enforcer",
    servingApproverClient: "the platform issues it when it runs the kubelet serving-certificate approver",
};

function checkPkiShape(pki: ClusterSettings["pki"], k: string): void {
    if (pki === undefined) return;
    if (pki === null || typeof pki !== "object" || Array.isArray(pki)) fail(k, pki, "use an object");
    for (const [field, where] of Object.entries(PLATFORM_PKI_FIELDS)) {
        if (field in pki) fail(key(k, field), (pki as Record<string, unknown>)[field], where);
    }
    knownKeys(k, pki, STACK_PKI_FIELDS);
    const endpoint = pki.endpoint;
    if (endpoint === undefined) return;
    if (endpoint === null || typeof endpoint !== "object" || Array.isArray(endpoint)) fail(key(k, "endpoint"), endpoint, "use { dnsNames: [...] }");
    // Addresses are the platform's to choose; only names a user will point at the cluster may be given.
    knownKeys(key(k, "endpoint"), endpoint, ["dnsNames"]);
}

/** The options one node's flags are rendered from: the stack's settings plus the platform's addresses and ports. */
function nodeOptions(cp: StackControlPlaneOptions | undefined, audit: AuditLogOptions | undefined, facts: PlatformFacts, member: ClusterMember): ControlPlaneOptions {
    return {
        ...(cp ?? {}),
        audit,
        network: {
            ...(cp?.network ?? {}),
            ...(facts.network ?? {}),
            ...(member.network ?? {}),
            ...(facts.balancer ? { apiServerShutdownDelaySeconds: facts.balancer.shutdownDelaySeconds } : {}),
            advertiseAddress: member.advertiseAddress ?? member.ip,
            etcdMembers: facts.members.map((m) => ({ name: m.name, ip: m.ip })),
        },
    };
}

function checkNetworkFields(cp: StackControlPlaneOptions, k: string, portsSetting: string | undefined): void {
    const n = cp.network;
    if (n === undefined) return;
    if (n === null || typeof n !== "object" || Array.isArray(n)) fail(key(k, "network"), n, "use an object (a YAML mapping) or leave the key out");
    const where = portsSetting ? ` (ports: ${portsSetting})` : "";
    for (const name of Object.keys(n)) {
        if (!(STACK_NETWORK_FIELDS as readonly string[]).includes(name)) {
            fail(key(k, "network", name), NOT_SHOWN, `the platform sets listen addresses, ports and etcd members${where}; a stack sets only ${STACK_NETWORK_FIELDS.join(", ")}`);
        }
    }
}

/**
 * The control plane serves `network.clusterDomain` (default cluster.local) while the apiserver certificate
 * would name `pki.clusterDomain`: different values give a certificate for a domain the cluster does not use.
 */
function checkClusterDomain(s: ClusterSettings, keys: ClusterKeys): void {
    const pkiDomain = s.pki?.clusterDomain;
    if (pkiDomain === undefined) return;
    const served = s.controlPlane?.network?.clusterDomain ?? NETWORK_DEFAULTS.clusterDomain;
    if (pkiDomain !== served) {
        fail(key(keys.pki, "clusterDomain"), pkiDomain,
            `the control plane serves "${served}" (${keys.controlPlane}.network.clusterDomain); set the domain there and remove it here, or make both equal`);
    }
}

/** Only the providers the platform can run, and KMS keys only on the plugin socket it runs. */
function checkProviders(r: ResolvedEncryption, facts: PlatformFacts, k: string): void {
    const { providers, kmsEndpoint, why } = facts.encryption;
    r.keys.forEach((ek, i) => {
        if (!providers.includes(ek.provider)) {
            fail(ek.providerOption, ek.provider, `the ${facts.platform} platform accepts ${providers.join(", ")} (${why}); default ${facts.encryption.defaults ? "is set by the platform" : ENCRYPTION_DEFAULTS.provider}`);
        }
        if (ek.provider === "kms" && kmsEndpoint !== undefined && ek.endpoint !== kmsEndpoint) {
            fail(key(k, "keys", i, "endpoint"), ek.endpoint, `the ${facts.platform} platform runs its KMS v2 plugin on ${kmsEndpoint}`);
        }
    });
}

/** The longest a service-account token from any of the cluster's apiservers stays valid, in seconds. */
export function serviceAccountTokenSeconds(r: Pick<ResolvedCluster, "nodes">): number {
    return Math.max(...r.nodes.filter((n) => !n.member.etcdOnly).map((n) => n.controlPlane.serviceAccountTokenSeconds));
}
