// Kubeconfigs: which credentials get one (a table, like the certificates) and how one is rendered.
// Credentials are embedded so each kubeconfig is self-contained and can be handed to a process or a person as
// one secret; the controller manager's and scheduler's files on disk reference their pair instead (see
// kubeconfigFilesYaml), so the components take up a renewed certificate without a restart.
import { configFiles, toYaml } from "../common";
import { certNames } from "./certlist";
import { PkiOptions, ResolvedPkiOptions, resolvePkiOptions } from "./options";

/**
 * Which API server URL a kubeconfig points at. Platforms differ: admins use the public endpoint, while
 * kubeadm points the controller-manager and scheduler at the API server on their own machine.
 */
export type ServerRole = "external" | "local" | "kubelet";

export interface KubeconfigSpec {
    /** Output key of the kubeconfig. */
    name: string;
    /** The certificate-table row whose pair it embeds. */
    cert: string;
    server: ServerRole;
    /** kubeadm's file for it, when kubeadm writes one (persona users get theirs as outputs only). */
    file?: keyof typeof configFiles;
    /** The node a kubelet kubeconfig belongs to. */
    host?: string;
    /** On disk it names the CA and its certificate-table row's pair by path instead of embedding them. */
    referencesFiles?: boolean;
}

export const kubeconfigNames = {
    kubelet: (node: string) => `kubelet-${node}`,
    user: (name: string) => `user-${name}`,
};

/** Every kubeconfig the cluster needs, after validating `options` (errors are keyed under configKey). */
export function kubeconfigTable(options: PkiOptions, configKey = "pki"): KubeconfigSpec[] {
    return kubeconfigsOf(resolvePkiOptions(options, configKey));
}

export function kubeconfigsOf(o: ResolvedPkiOptions): KubeconfigSpec[] {
    const specs: KubeconfigSpec[] = [
        { name: "admin", cert: "admin", server: "external", file: "admin" },
        { name: "controller-manager", cert: "controller-manager", server: "local", file: "controllerManager", referencesFiles: true },
        { name: "scheduler", cert: "scheduler", server: "local", file: "scheduler", referencesFiles: true },
    ];
    if (o.breakGlass) specs.push({ name: "super-admin", cert: "super-admin", server: "external", file: "superAdmin" });
    for (const n of [...o.controlPlaneNodes, ...o.workerNodes]) {
        specs.push({ name: kubeconfigNames.kubelet(n.name), cert: certNames.kubeletClient(n.name), server: "kubelet", file: "kubelet", host: n.name });
    }
    for (const u of o.users) specs.push({ name: kubeconfigNames.user(u.name), cert: certNames.user(u.name), server: "external" });
    return specs;
}

export interface KubeconfigInput {
    clusterName: string;
    /** https URL of the API server. */
    server: string;
    /** PEM of the CA that signed the API server certificate. */
    caPem: string;
    /** The user name the credential carries (its CN); used to name the kubeconfig entries. */
    userName: string;
    clientCertPem: string;
    clientKeyPem: string;
}

/** A kubeconfig as kubectl reads it (clientcmd v1 field names): credentials embedded, or named by path. */
export interface Kubeconfig<C = { "certificate-authority-data": string }, U = { "client-certificate-data": string; "client-key-data": string }> {
    apiVersion: "v1";
    kind: "Config";
    clusters: { name: string; cluster: { server: string } & C }[];
    users: { name: string; user: U }[];
    contexts: { name: string; context: { cluster: string; user: string } }[];
    "current-context": string;
    preferences: Record<string, never>;
}

/** One cluster, one user and the context joining them; `cluster` and `user` say where the credentials are. */
function kubeconfigOf<C, U>(clusterName: string, server: string, userName: string, cluster: C, user: U): Kubeconfig<C, U> {
    const context = `${userName}@${clusterName}`;
    return {
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: clusterName, cluster: { server, ...cluster } }],
        users: [{ name: userName, user }],
        contexts: [{ name: context, context: { cluster: clusterName, user: userName } }],
        "current-context": context,
        preferences: {},
    };
}

export function renderKubeconfig(input: KubeconfigInput): Kubeconfig {
    return kubeconfigOf(input.clusterName, input.server, input.userName,
        { "certificate-authority-data": b64(input.caPem) },
        { "client-certificate-data": b64(input.clientCertPem), "client-key-data": b64(input.clientKeyPem) });
}

export function kubeconfigYaml(input: KubeconfigInput): string {
    return toYaml(renderKubeconfig(input));
}

/** Where a kubeconfig that references files finds the CA and the client pair. */
export interface KubeconfigFiles {
    clusterName: string;
    server: string;
    userName: string;
    caFile: string;
    certFile: string;
    keyFile: string;
}

/**
 * A kubeconfig naming files instead of embedding them: client-go reads a client pair given by path again on
 * each new connection (and every 5 minutes), a pair given as data never. It holds no secret and changes only
 * with the server or the paths, so a renewed pair restarts nothing.
 */
export function kubeconfigFilesYaml(input: KubeconfigFiles): string {
    return toYaml(kubeconfigOf(input.clusterName, input.server, input.userName,
        { "certificate-authority": input.caFile },
        { "client-certificate": input.certFile, "client-key": input.keyFile }));
}

function b64(pem: string): string {
    return Buffer.from(pem, "utf8").toString("base64");
}
