// The first ClusterRoleBinding of a new cluster: it gives the admin group (kubeadm:cluster-admins) the
// built-in cluster-admin role. Until it exists the admin credential has no rights, and only a system:masters
// identity can create it. Instead of a standing system:masters credential (kubeadm's super-admin.conf), each
// call that needs one mints a certificate valid for minutes from the CA key and forgets it afterwards.
import * as pulumi from "@pulumi/pulumi";
import { mintedRequest } from "./ephemeral";
import { CLUSTER_ADMINS_GROUP, SYSTEM_MASTERS_GROUP } from "../common";

const BOOTSTRAP_IDENTITY = "hardened-cluster:bootstrap";

export interface AdminBootstrapArgs {
    /** API server URL, e.g. https://127.0.0.1:6443. */
    server: pulumi.Input<string>;
    /** The cluster CA that signs now: signs the minted credential, and verifies the API server unless trustPem is given. */
    caCertPem: pulumi.Input<string>;
    /** Secret. */
    caKeyPem: pulumi.Input<string>;
    /**
     * Every cluster CA trusted now, to verify the API server. While a CA rotates, an apiserver may still serve a
     * leaf of the CA that signed before (AWS nodes take new files at their next sync, after the up).
     */
    trustPem?: pulumi.Input<string>;
    /** Default kubeadm:cluster-admins. */
    group?: pulumi.Input<string>;
}

interface State {
    server: string;
    caCertPem: string;
    caKeyPem: string;
    trustPem?: string;
    group: string;
    name: string;
}

/** The helpers are methods, not module functions: Pulumi serialises the provider object with what it captures. */
interface BootstrapProvider extends pulumi.dynamic.ResourceProvider {
    binding(s: State): object;
    call(s: State, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }>;
}

const provider: BootstrapProvider = {
    async create(s: State) {
        const body = provider.binding(s);
        const res = await provider.call(s, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings?fieldManager=hardened-cluster-bootstrap", body);
        if (res.status === 409) {
            // Someone created it first (a previous stack, kubeadm): make it say what we need.
            const put = await provider.call(s, "PUT", `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${encodeURIComponent(s.name)}?fieldManager=hardened-cluster-bootstrap`, body);
            if (put.status !== 200) throw new Error(`replacing ClusterRoleBinding ${s.name}: HTTP ${put.status} ${put.text}`);
        } else if (res.status !== 201) {
            throw new Error(`creating ClusterRoleBinding ${s.name}: HTTP ${res.status} ${res.text}`);
        }
        return { id: s.name, outs: s };
    },

    async read(id: string, s: State) {
        const res = await provider.call(s, "GET", `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${encodeURIComponent(id)}`);
        if (res.status === 404) return { id: "" };
        if (res.status !== 200) throw new Error(`reading ClusterRoleBinding ${id}: HTTP ${res.status} ${res.text}`);
        const live = JSON.parse(res.text);
        const bound = live.roleRef?.name === "cluster-admin" && (live.subjects ?? []).some((x: { kind?: string; name?: string }) => x.kind === "Group" && x.name === s.group);
        // A binding edited to grant something else is reported as gone, so the next up restores it.
        return bound ? { id, props: s } : { id: "" };
    },

    async diff(_id: string, olds: State, news: State) {
        const replaces = (["server", "group", "name"] as const).filter((k) => olds[k] !== news[k]);
        const changes = replaces.length > 0 || (["caCertPem", "caKeyPem", "trustPem"] as const).some((k) => olds[k] !== news[k]);
        return { changes, replaces, deleteBeforeReplace: true };
    },

    async update(_id: string, _olds: State, news: State) {
        return { outs: news };
    },

    async delete(id: string, s: State) {
        const res = await provider.call(s, "DELETE", `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${encodeURIComponent(id)}`);
        if (res.status !== 200 && res.status !== 404) throw new Error(`deleting ClusterRoleBinding ${id}: HTTP ${res.status} ${res.text}`);
    },

    binding(s: State) {
        return {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "ClusterRoleBinding",
            // No labels or annotations: the RBAC block takes the binding over with server-side apply, and any
            // field set here with another value would be an apply conflict.
            metadata: { name: s.name },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
            subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: s.group }],
        };
    },

    call(s: State, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
        return mintedRequest({ server: s.server, caCertPem: s.caCertPem, caKeyPem: s.caKeyPem, trustPem: s.trustPem, commonName: BOOTSTRAP_IDENTITY, groups: [SYSTEM_MASTERS_GROUP], method, path, body });
    },
};

/** Binds the admin group to cluster-admin with a credential that lives only for the duration of each call. */
export class AdminBootstrap extends pulumi.dynamic.Resource {
    declare readonly name: pulumi.Output<string>;
    declare readonly group: pulumi.Output<string>;

    constructor(name: string, args: AdminBootstrapArgs, opts?: pulumi.CustomResourceOptions) {
        const group = args.group ?? CLUSTER_ADMINS_GROUP;
        super(provider, name, {
            server: args.server,
            caCertPem: args.caCertPem,
            caKeyPem: pulumi.secret(args.caKeyPem),
            ...(args.trustPem === undefined ? {} : { trustPem: args.trustPem }),
            group,
            name: group,
        }, { ...opts, additionalSecretOutputs: ["caKeyPem"] }, "hardened-cluster", "AdminBootstrap");
    }
}
