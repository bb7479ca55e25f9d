// The local platform's own key, and the PKI settings a stack may choose (the platform fills in the hosts).
import { fail, key, knownKeys } from "../../components/common";
import { NETWORK_DEFAULTS } from "../../components/control-plane/options";
import { resolvePkiOptions } from "../../components/pki/options";
import { LocalOptions, resolveLocal } from "../../platforms/local/options";
import type { LocalPkiOptions } from "../../platforms/local/plan";
import { ConfigEntry } from "../types";
import { objectValue, standInHosts } from "./shared";

export const local: ConfigEntry<LocalOptions> = {
    type: "object",
    description: "Where the local platform keeps its files and which loopback ports its processes listen on.",
    default: 'layout "auto" (kubeadm paths when run as root, else `~/.local/state/hardened-cluster/<stack>`), ports 6443/2379/2380/10257/10259',
    example: { layout: "user", ports: { apiServer: 16443, etcdClient: 12379, etcdPeer: 12380 } },
    platforms: ["local"],
    fields: {
        layout: '"auto" (system when root, user otherwise), "user" (one state directory per stack) or "system" (kubeadm\'s paths; needs root).',
        stateDir: "User layout only: absolute path of the state directory (default `~/.local/state/hardened-cluster/<stack>`); only you and root may be able to write it and every directory above it (a sticky one such as /tmp excepted), it is not / or /tmp, and it is empty or already this stack's.",
        ports: "Any of apiServer, etcdClient, etcdPeer, controllerManager, scheduler; all must differ, so two stacks can run side by side.",
        etcdUser: 'System layout only: the user etcd runs as, created if missing (default "etcd"); never root.',
        purgeOnDestroy: "Destroy also deletes etcd's data and the audit logs (default false: both survive a destroy).",
    },
    validate: (value, ctx) => {
        const o = objectValue(ctx.key, value) as LocalOptions;
        resolveLocal(o, ctx.stack, ctx.key, ctx.isRoot);
        return o;
    },
};

/**
 * PKI fields the platform owns: it knows the nodes, etcd members and API endpoint, and takes the Service range
 * from the control-plane settings so the certificate and the apiserver can never disagree. Setting them here
 * would be overwritten silently, so they are refused with a pointer to where the setting lives.
 */
export const PLATFORM_PKI_FIELDS: Readonly<Record<string, string>> = {
    serviceCidr: "set hardened-cluster:controlPlane.network.serviceCidr; the platform copies it into the API server certificate",
    controlPlaneNodes: "the platform names its control-plane nodes and their addresses",
    etcdMembers: "the platform names its etcd members and their addresses",
};

/** The PKI settings a stack may give: the local platform's, plus (AWS only) the DNS names of the API endpoint. */
export type StackPkiOptions = LocalPkiOptions & { endpoint?: { dnsNames?: string[] } };

export const pki: ConfigEntry<StackPkiOptions> = {
    type: "object",
    description: "Key algorithm, certificate lifetimes and persona client certificates of the cluster PKI; the platform adds every node, etcd member and endpoint.",
    default: "ECDSA-P256 keys, CAs for 10 years, leaves for 1 year renewed 30 days early, no persona users, no break-glass credential",
    example: { algorithm: "ECDSA-P384", leafValidityHours: 2160, earlyRenewalHours: 360, users: [{ name: "alice", groups: ["platform-admins"] }] },
    fields: {
        algorithm: "Key type of every generated key: ECDSA-P256, ECDSA-P384, RSA-2048, RSA-3072 or RSA-4096.",
        caValidityHours: "CA lifetime in hours (default 87600).",
        caEarlyRenewalHours: "Hours before expiry a `pulumi up` replaces a CA (default 0).",
        leafValidityHours: "Leaf certificate lifetime in hours, at most caValidityHours (default 8760).",
        earlyRenewalHours: "Hours before expiry a `pulumi up` re-issues a leaf (default 720).",
        clusterDomain: "Must equal the domain the control plane serves; set controlPlane.network.clusterDomain instead.",
        workerNodes: "Nodes that only run a kubelet: [{ name, ipAddresses?, dnsNames? }].",
        users: "Persona users that get a client certificate: [{ name, groups? }] (one group; never system:masters).",
        breakGlass: "WEAKENING. Also issue a system:masters credential that bypasses RBAC (default false).",
        endpoint: "AWS only: { dnsNames: [...] }, the names clients use for the API server, put in its certificate; required with a public endpoint (the NLB has no address before it exists). The platform adds every IP itself.",
    },
    validate: (value, ctx) => {
        const o = objectValue(ctx.key, value);
        for (const [field, where] of Object.entries(PLATFORM_PKI_FIELDS)) {
            if (field in o) fail(key(ctx.key, field), o[field], where);
        }
        // Checked against the settable fields first, so the list in the error holds only what may be set here.
        knownKeys(ctx.key, o, Object.keys(pki.fields ?? {}));
        // Addresses are the platform's to choose; only names a user will point at the cluster may be given.
        if (o.endpoint !== undefined) knownKeys(key(ctx.key, "endpoint"), objectValue(key(ctx.key, "endpoint"), o.endpoint), ["dnsNames"]);
        const hosts = standInHosts(1).map((h) => ({ name: h.name, ipAddresses: [h.ip] }));
        resolvePkiOptions({ ...o, serviceCidr: NETWORK_DEFAULTS.serviceCidr, controlPlaneNodes: hosts, etcdMembers: hosts }, ctx.key);
        return o as StackPkiOptions;
    },
};
