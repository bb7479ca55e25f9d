// How a worker joins on every platform (kubelet TLS bootstrapping, as kubeadm sets it up): a bootstrap token
// minted per time window, its Secret in kube-system, the kubelet's bootstrap kubeconfig, the right to file a
// node-client CSR, automatic approval of that CSR and of the renewals a joined kubelet files itself
// (rotateCertificates). Serving certificates (serverTLSBootstrap) are deliberately not auto-approved: the CSR's
// names are the kubelet's own claim, so an approver must check them against the node.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { configFile, kubeadmLayout, pkiFiles, pkiPair } from "../components/common";
import * as random from "@pulumi/random";

export const WORKER_BOOTSTRAP_GROUP = "system:bootstrappers:hardened-cluster:workers";
/** Where every platform's worker keeps its kubelet files: kubeadm's paths, which kube-bench's node checks know. */
export const BOOTSTRAP_KUBECONFIG_PATH = "/etc/kubernetes/bootstrap-kubelet.conf";
export const KUBELET_CONFIG_PATH = configFile(kubeadmLayout(), "kubeletConfig");
export const CLUSTER_CA_PATH = pkiPair(kubeadmLayout(), pkiFiles.ca).cert;

/**
 * Tokens are minted per window of `ttlHours`: a `pulumi up` in the same window keeps the token (no churn), one
 * in a later window mints a new one. A token expires at the end of the window after its own, so it is valid
 * for at least ttlHours and at most twice that after any `pulumi up`.
 */
export function joinTokenWindow(nowMs: number, ttlHours: number): { window: number; expiration: string } {
    const span = ttlHours * 3600_000;
    const window = Math.floor(nowMs / span);
    return { window, expiration: new Date((window + 2) * span).toISOString().replace(/\.\d{3}Z$/, "Z") };
}

/** The kube-system Secret a platform applies through its Kubernetes provider (kubernetes.io bootstrap token format). */
export function bootstrapTokenSecret(id: string, secret: string, expiration: string, clusterName: string): Record<string, unknown> {
    return {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: `bootstrap-token-${id}`, namespace: "kube-system" },
        type: "bootstrap.kubernetes.io/token",
        stringData: {
            description: `${clusterName} worker join token`,
            "token-id": id,
            "token-secret": secret,
            expiration,
            "usage-bootstrap-authentication": "true",
            "auth-extra-groups": WORKER_BOOTSTRAP_GROUP,
        },
    };
}

/**
 * The kubelet's bootstrap kubeconfig names the cluster CA file rather than embedding it: the kubelet copies the
 * reference into the kubeconfig it writes once joined (a file stays a file, pkg/kubelet/certificate/bootstrap),
 * so a joined node takes up a new trust bundle when the file changes.
 */
export function bootstrapKubeconfig(server: string, caFile: string, token: string, clusterName: string): Record<string, unknown> {
    return {
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: clusterName, cluster: { server, "certificate-authority": caFile } }],
        users: [{ name: "kubelet-bootstrap", user: { token } }],
        contexts: [{ name: "bootstrap", context: { cluster: clusterName, user: "kubelet-bootstrap" } }],
        "current-context": "bootstrap",
    };
}

export interface JoinToken {
    id: pulumi.Output<string>;
    secret: pulumi.Output<string>;
    expiration: string;
}

export function joinToken(name: string, ttlHours: number, nowMs: number, opts: pulumi.CustomResourceOptions): JoinToken {
    const { window, expiration } = joinTokenWindow(nowMs, ttlHours);
    // Lower-case letters and digits only: the bootstrap token format is [a-z0-9]{6}.[a-z0-9]{16}.
    const charset = { upper: false, special: false, lower: true, numeric: true };
    const keepers = { window: String(window) };
    const id = new random.RandomString(`${name}-id`, { length: 6, ...charset, keepers }, opts);
    const secret = new random.RandomString(`${name}-secret`, { length: 16, ...charset, keepers }, opts);
    return { id: id.result, secret: pulumi.secret(secret.result), expiration };
}


export interface BindingPlan {
    name: string;
    clusterRole: string;
    group: string;
}

export const NODES_GROUP = "system:nodes";

export function workerJoinBindings(): BindingPlan[] {
    return [
        { name: "hardened-cluster:workers-bootstrap", clusterRole: "system:node-bootstrapper", group: WORKER_BOOTSTRAP_GROUP },
        { name: "hardened-cluster:workers-approve-client", clusterRole: "system:certificates.k8s.io:certificatesigningrequests:nodeclient", group: WORKER_BOOTSTRAP_GROUP },
        { name: "hardened-cluster:nodes-approve-renewal", clusterRole: "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", group: NODES_GROUP },
    ];
}

/** Applies the join token Secret (YAML of bootstrapTokenSecret) and the bindings through `provider`. */
export function applyWorkerJoin(name: string, joinTokenSecret: pulumi.Output<string>, provider: k8s.Provider, opts: pulumi.CustomResourceOptions): pulumi.Resource[] {
    const doc = joinTokenSecret.apply((y) => parse(y) as { metadata: { name: string; namespace: string }; type: string; stringData: Record<string, string> });
    const secret = new k8s.core.v1.Secret(`${name}-join-token`, {
        metadata: { name: doc.apply((d) => d.metadata.name), namespace: doc.apply((d) => d.metadata.namespace) },
        type: doc.apply((d) => d.type),
        stringData: pulumi.secret(doc.apply((d) => d.stringData)),
    }, { ...opts, provider });
    const bindings = workerJoinBindings().map((b) => new k8s.rbac.v1.ClusterRoleBinding(`${name}-${b.name.split(":").pop()}`, {
        metadata: { name: b.name, labels: { "app.kubernetes.io/managed-by": "hardened-cluster" } },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: b.clusterRole },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: b.group }],
    }, { ...opts, provider }));
    return [secret, ...bindings];
}
