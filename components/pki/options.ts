// What a caller may set about the cluster PKI, and the one place those settings are checked and defaulted.
// Options usually come straight from stack config (untyped JSON), so every field is checked for type as well
// as meaning, and unknown keys are refused rather than ignored.
import type { CaName } from "./certlist";
import { CaRotation, CaRotationOptions, resolveCaRotation } from "./ca-rotation";
import { CLUSTER_ADMINS_GROUP, fail, isDnsLabel, isDnsName, isIp, isPlainObject, key, knownKeys, oneOf, optionalBool, parseCidr, positiveInt, SYSTEM_MASTERS_GROUP } from "../common";

export const KEY_ALGORITHMS = ["ECDSA-P256", "ECDSA-P384", "RSA-2048", "RSA-3072", "RSA-4096"] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

/** A machine that gets certificates: a control-plane node, a worker node or an etcd member. */
export interface PkiHost {
    /** Node or member name; it becomes a CN and a SAN, so it must be an RFC 1123 label. */
    name: string;
    ipAddresses?: string[];
    dnsNames?: string[];
}

export interface PkiUser {
    /** Becomes the certificate CN, which the API server takes as the user name. */
    name: string;
    /** Becomes the certificate O, which the API server takes as group membership. At most one (see below). */
    groups?: string[];
}

export interface PkiOptions {
    /** Key type of every key the PKI generates (CAs, leaves, service-account signing key). */
    algorithm?: KeyAlgorithm;
    caValidityHours?: number;
    /** How long before expiry a `pulumi up` replaces a CA. Default 0: see certlist.ts for why. */
    caEarlyRenewalHours?: number;
    leafValidityHours?: number;
    /** How long before expiry a `pulumi up` re-issues a leaf certificate. */
    earlyRenewalHours?: number;
    /** IPv4 service CIDR; its first address is the `kubernetes` Service IP, which the API server cert must name. */
    serviceCidr: string;
    clusterDomain?: string;
    /** Extra names/addresses clients use to reach the API server (load balancer, VIP, public name). */
    endpoint?: { dnsNames?: string[]; ipAddresses?: string[] };
    /** Nodes running the API server: each gets its own API server serving cert naming it, and kubelet certs. */
    controlPlaneNodes: PkiHost[];
    /** Nodes that only run a kubelet. */
    workerNodes?: PkiHost[];
    etcdMembers: PkiHost[];
    /** Persona users that get a client certificate and kubeconfig. */
    users?: PkiUser[];
    /** Issue a system:masters ("super-admin") credential that bypasses RBAC. A weakening; default false. */
    breakGlass?: boolean;
    /**
     * Names of the service-account signing keys: the first signs new tokens, all of them verify. Rotate by
     * appending a new name, then moving it first, then dropping the old one (see service-account-keys.ts).
     * Default ["sa"].
     */
    serviceAccountKeys?: string[];
    /**
     * Issue a client certificate a load balancer presents to each API server's /readyz. Filled by the platform
     * that runs such a balancer, like the node lists; default false.
     */
    apiServerHealthClient?: boolean;
    /**
     * Issue kube-proxy's client certificate (system:kube-proxy, which Kubernetes' default RBAC binds to
     * system:node-proxier). Filled by the platform whose nodes run kube-proxy as a process; default false.
     */
    kubeProxyClient?: boolean;
    /**
     * Issue the client certificate of the nodes' NetworkPolicy enforcer (hardened-cluster:network-policy, bound to
     * a read-only role by the platform). Filled by the platform whose nodes run one as a process; default false.
     */
    networkPolicyClient?: boolean;
    /**
     * Issue the client certificate of the kubelet serving-certificate approver (hardened-cluster:csr-approver,
     * bound to a role that approves only that signer's requests). Filled by the platform that runs it; default false.
     */
    servingApproverClient?: boolean;
    /**
     * Where each trust domain's CA rotation stands: `{ generation, phase }`, one phase per `pulumi up` (see
     * ca-rotation.ts). Default: generation 1, steady, for every domain.
     */
    rotation?: CaRotationOptions;
}

export const PKI_DEFAULTS = {
    algorithm: "ECDSA-P256" as KeyAlgorithm,
    caValidityHours: 87600,
    caEarlyRenewalHours: 0,
    leafValidityHours: 8760,
    earlyRenewalHours: 720,
    clusterDomain: "cluster.local",
    serviceAccountKeys: ["sa"] as readonly string[],
} as const;

/** More would only keep keys around that nothing needs: publish, sign and retire take three at most. */
export const MAX_SERVICE_ACCOUNT_KEYS = 3;

/** Options after checking, with every default filled in and every list present. */
export interface ResolvedPkiOptions {
    algorithm: KeyAlgorithm;
    caValidityHours: number;
    caEarlyRenewalHours: number;
    leafValidityHours: number;
    earlyRenewalHours: number;
    serviceCidr: string;
    clusterDomain: string;
    endpoint: { dnsNames: string[]; ipAddresses: string[] };
    controlPlaneNodes: Required<PkiHost>[];
    workerNodes: Required<PkiHost>[];
    etcdMembers: Required<PkiHost>[];
    users: Required<PkiUser>[];
    breakGlass: boolean;
    apiServerHealthClient: boolean;
    kubeProxyClient: boolean;
    networkPolicyClient: boolean;
    servingApproverClient: boolean;
    /** Signer first. */
    serviceAccountKeys: string[];
    rotation: Record<CaName, CaRotation>;
}

export { CLUSTER_ADMINS_GROUP, SYSTEM_MASTERS_GROUP };

const OPTION_KEYS = [
    "algorithm",
    "caValidityHours",
    "caEarlyRenewalHours",
    "leafValidityHours",
    "earlyRenewalHours",
    "serviceCidr",
    "clusterDomain",
    "endpoint",
    "controlPlaneNodes",
    "workerNodes",
    "etcdMembers",
    "users",
    "breakGlass",
    "apiServerHealthClient",
    "kubeProxyClient",
    "networkPolicyClient",
    "servingApproverClient",
    "serviceAccountKeys",
    "rotation",
] as const;

// Each control-plane node gets a row "apiserver-<node>"; these names would land on the fixed rows
// apiserver-kubelet-client, apiserver-etcd-client and apiserver-health-client.
const RESERVED_CONTROL_PLANE_NAMES = ["kubelet-client", "etcd-client", "health-client"];

export function resolvePkiOptions(options: PkiOptions, configKey = "pki"): ResolvedPkiOptions {
    const k = (...parts: (string | number)[]) => key(configKey, ...parts);
    record(configKey, options);
    knownKeys(configKey, options, OPTION_KEYS);

    const algorithm = options.algorithm === undefined ? PKI_DEFAULTS.algorithm : oneOf(k("algorithm"), options.algorithm, KEY_ALGORITHMS);
    const caValidityHours = hours(k("caValidityHours"), options.caValidityHours, PKI_DEFAULTS.caValidityHours);
    const leafValidityHours = hours(k("leafValidityHours"), options.leafValidityHours, PKI_DEFAULTS.leafValidityHours);
    const caEarlyRenewalHours = renewal(k("caEarlyRenewalHours"), options.caEarlyRenewalHours, PKI_DEFAULTS.caEarlyRenewalHours, caValidityHours, "caValidityHours");
    const earlyRenewalHours = renewal(k("earlyRenewalHours"), options.earlyRenewalHours, PKI_DEFAULTS.earlyRenewalHours, leafValidityHours, "leafValidityHours");
    // A leaf that outlives its CA would fail verification for the tail of its life while looking valid.
    if (leafValidityHours > caValidityHours) {
        fail(k("leafValidityHours"), leafValidityHours, `use at most caValidityHours (${caValidityHours})`);
    }

    const serviceCidr = options.serviceCidr;
    const cidr = typeof serviceCidr === "string" ? parseCidr(serviceCidr) : undefined;
    // The API server refuses IPv4 service ranges wider than /12; narrower than /30 leaves no Service IP.
    if (!cidr || cidr.family !== 4 || cidr.prefix < 12 || cidr.prefix > 30) {
        fail(k("serviceCidr"), serviceCidr, "use an IPv4 CIDR with a prefix from /12 to /30, e.g. 10.96.0.0/12");
    }

    const clusterDomain = options.clusterDomain ?? PKI_DEFAULTS.clusterDomain;
    if (typeof clusterDomain !== "string" || !isDnsName(clusterDomain) || clusterDomain.startsWith("*.")) {
        fail(k("clusterDomain"), clusterDomain, "use a DNS name such as cluster.local");
    }

    const endpoint = options.endpoint ?? {};
    record(k("endpoint"), endpoint);
    knownKeys(k("endpoint"), endpoint, ["dnsNames", "ipAddresses"]);

    const controlPlaneNodes = hosts(k("controlPlaneNodes"), options.controlPlaneNodes, true);
    controlPlaneNodes.forEach((n, i) => {
        if (RESERVED_CONTROL_PLANE_NAMES.includes(n.name)) fail(k("controlPlaneNodes", i, "name"), n.name, `use another name; ${RESERVED_CONTROL_PLANE_NAMES.join(", ")} would collide with the API server's client certificates`);
    });
    const workerNodes = hosts(k("workerNodes"), options.workerNodes ?? [], false);
    // Node names key the kubelet certificates and kubeconfigs, so they must be unique across both lists.
    unique([...controlPlaneNodes.map((n, i) => ({ name: n.name, at: k("controlPlaneNodes", i, "name") })), ...workerNodes.map((n, i) => ({ name: n.name, at: k("workerNodes", i, "name") }))]);
    const etcdMembers = hosts(k("etcdMembers"), options.etcdMembers, true);
    unique(etcdMembers.map((m, i) => ({ name: m.name, at: k("etcdMembers", i, "name") })));

    const users = list(k("users"), options.users ?? []).map((u, i) => user(k("users", i), u));
    unique(users.map((u, i) => ({ name: u.name, at: k("users", i, "name") })));

    const flag = (name: "breakGlass" | "apiServerHealthClient" | "kubeProxyClient" | "networkPolicyClient" | "servingApproverClient") =>
        optionalBool(k(name), options[name], false);
    const breakGlass = flag("breakGlass");
    const apiServerHealthClient = flag("apiServerHealthClient");
    const kubeProxyClient = flag("kubeProxyClient");
    const networkPolicyClient = flag("networkPolicyClient");
    const servingApproverClient = flag("servingApproverClient");

    const saKeys = list(k("serviceAccountKeys"), options.serviceAccountKeys ?? [...PKI_DEFAULTS.serviceAccountKeys]);
    if (saKeys.length < 1 || saKeys.length > MAX_SERVICE_ACCOUNT_KEYS) {
        fail(k("serviceAccountKeys"), saKeys, `name 1 to ${MAX_SERVICE_ACCOUNT_KEYS} keys, the signer first`);
    }
    saKeys.forEach((n, i) => label(k("serviceAccountKeys", i), n));
    unique(saKeys.map((n, i) => ({ name: n as string, at: k("serviceAccountKeys", i) })));

    return {
        algorithm,
        caValidityHours,
        caEarlyRenewalHours,
        leafValidityHours,
        earlyRenewalHours,
        serviceCidr,
        clusterDomain,
        endpoint: { dnsNames: dnsNames(k("endpoint", "dnsNames"), endpoint.dnsNames), ipAddresses: ipAddresses(k("endpoint", "ipAddresses"), endpoint.ipAddresses) },
        controlPlaneNodes,
        workerNodes,
        etcdMembers,
        users,
        breakGlass,
        apiServerHealthClient,
        kubeProxyClient,
        networkPolicyClient,
        servingApproverClient,
        serviceAccountKeys: saKeys as string[],
        rotation: resolveCaRotation(options.rotation, k("rotation")),
    };
}

function record(k: string, value: unknown): void {
    if (!isPlainObject(value)) fail(k, value, "use an object");
}

function list(k: string, value: unknown): unknown[] {
    if (!Array.isArray(value)) fail(k, value, "use a list");
    return value;
}

function hours(k: string, value: unknown, fallback: number): number {
    return value === undefined ? fallback : positiveInt(k, value);
}

function renewal(k: string, value: unknown, fallback: number, validity: number, validityName: string): number {
    if (value === undefined) return fallback;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) fail(k, value, "use a whole number of hours, 0 or more");
    // Renewing at or before issue would replace the certificate on every `pulumi up`.
    if (value >= validity) fail(k, value, `use fewer hours than ${validityName} (${validity})`);
    return value;
}

// Wildcards are refused: every certificate here names exact hosts, and a wildcard SAN would let any
// matching host impersonate the API server or an etcd member.
function dnsNames(k: string, value: unknown): string[] {
    return list(k, value ?? []).map((n, i) => {
        if (typeof n !== "string" || !isDnsName(n) || n.startsWith("*.")) fail(key(k, i), n, "use a DNS name without wildcards");
        return n.toLowerCase();
    });
}

function ipAddresses(k: string, value: unknown): string[] {
    return list(k, value ?? []).map((a, i) => {
        if (typeof a !== "string" || !isIp(a)) fail(key(k, i), a, "use an IPv4 or IPv6 address");
        return a;
    });
}

function hosts(k: string, value: unknown, required: boolean): Required<PkiHost>[] {
    const items = list(k, value);
    if (required && items.length === 0) fail(k, value, "name at least one");
    return items.map((h, i) => {
        const at = key(k, i);
        record(at, h);
        knownKeys(at, h as object, ["name", "ipAddresses", "dnsNames"]);
        const { name, ipAddresses: ips, dnsNames: names } = h as PkiHost;
        label(key(at, "name"), name);
        return { name, ipAddresses: ipAddresses(key(at, "ipAddresses"), ips), dnsNames: dnsNames(key(at, "dnsNames"), names) };
    });
}

function user(at: string, value: unknown): Required<PkiUser> {
    record(at, value);
    knownKeys(at, value as object, ["name", "groups"]);
    const { name, groups } = value as PkiUser;
    label(key(at, "name"), name);
    const gs = list(key(at, "groups"), groups ?? []).map((g, i) => {
        const gk = key(at, "groups", i);
        if (typeof g !== "string" || g.trim() === "") fail(gk, g, "use a non-empty group name");
        // system:masters bypasses RBAC entirely; any other system: group is reserved for Kubernetes' own
        // identities (nodes, service accounts), so a persona claiming one is impersonating a component.
        if (g === SYSTEM_MASTERS_GROUP) fail(gk, g, `user certificates may not be in ${SYSTEM_MASTERS_GROUP}; bind RBAC to the user or use a group such as ${CLUSTER_ADMINS_GROUP}`);
        if (g.startsWith("system:")) fail(gk, g, "groups starting with system: are reserved for Kubernetes components");
        return g;
    });
    // @pulumi/tls writes a single O into a certificate request, so more than one group cannot be expressed;
    // refusing is better than silently dropping memberships.
    if (gs.length > 1) fail(key(at, "groups"), gs, "use at most one group per user (the TLS provider writes a single O); bind further roles to the user");
    return { name, groups: gs };
}

function label(k: string, name: unknown): asserts name is string {
    if (typeof name !== "string" || !isDnsLabel(name)) fail(k, name, "use a lowercase RFC 1123 label (a-z, 0-9, '-', at most 63 characters)");
}

function unique(entries: { name: string; at: string }[]): void {
    const seen = new Map<string, string>();
    for (const { name, at } of entries) {
        const first = seen.get(name);
        if (first !== undefined) fail(at, name, `names must be unique; ${first} already uses it`);
        seen.set(name, at);
    }
}
