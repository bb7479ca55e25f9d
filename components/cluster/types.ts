// The shapes of the cluster plan: what a platform tells the plan about itself (facts), what a stack sets
// (settings), and what the plan hands back per control-plane node (a bundle of files and processes).
import type * as pulumi from "@pulumi/pulumi";
import type { AuditLogOptions } from "../audit";
import type { FileLayout } from "../common";
import type { ControlPlaneOptions, NetworkOptions } from "../control-plane";
import type { EncryptionOptions, EncryptionProvider } from "../encryption";
import type { PkiMaterial, PkiOptions } from "../pki";

export const PROCESSES = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"] as const;
export type ProcessName = (typeof PROCESSES)[number];

/** The network fields a stack sets; addresses, ports and members are the platform's. */
export const STACK_NETWORK_FIELDS = ["serviceCidr", "podCidr", "clusterDomain", "clusterName", "serviceAccountIssuer"] as const;
export type StackNetworkOptions = Pick<NetworkOptions, (typeof STACK_NETWORK_FIELDS)[number]>;
/** The control-plane settings a stack chooses (audit has its own key). */
export type StackControlPlaneOptions = Omit<ControlPlaneOptions, "network" | "audit"> & { network?: StackNetworkOptions };
/** The PKI settings a stack chooses: hosts, addresses and the Service range come from the platform and the network. */
export type StackPkiOptions = Omit<PkiOptions, "serviceCidr" | "controlPlaneNodes" | "etcdMembers" | "endpoint"> & {
    /** Names clients use for the API endpoint (AWS); the platform adds every address itself. */
    endpoint?: { dnsNames?: string[] };
};

/** The control-plane fields a stack sets (audit has its own key). */
export const STACK_CONTROL_PLANE_FIELDS = ["network", "tls", "apiServer", "controllerManager", "scheduler", "etcd", "kubelet", "admission", "authentication", "weakenings"] as const;
/** The PKI fields a stack sets; nodes, members, endpoint addresses and the Service range are the platform's. */
export const STACK_PKI_FIELDS = ["algorithm", "caValidityHours", "caEarlyRenewalHours", "leafValidityHours", "earlyRenewalHours", "clusterDomain", "workerNodes", "users", "breakGlass", "endpoint", "serviceAccountKeys", "rotation"] as const;

/** Everything a stack sets about the cluster itself, whatever the platform. */
export interface ClusterSettings {
    pki?: StackPkiOptions;
    encryption?: EncryptionOptions;
    audit?: AuditLogOptions;
    controlPlane?: StackControlPlaneOptions;
}

/** Full config keys of the settings, for error paths, e.g. "hardened-cluster:pki". */
export interface ClusterKeys {
    pki: string;
    encryption: string;
    audit: string;
    controlPlane: string;
}

export interface ClusterMember {
    /** Node and etcd member name. */
    name: string;
    ip: string;
    /** An etcd member with no Kubernetes components (the local ha topology's third member). */
    etcdOnly?: boolean;
    /** Where this node's files go when several nodes share one machine (default: the platform's layout). */
    layout?: FileLayout;
    /** This node's directory of the files only etcd reads (default: the platform's). */
    etcdOwnPkiDir?: string;
    /** Listeners that must differ per node when nodes share one machine's loopback. */
    network?: Partial<Pick<NetworkOptions, "apiServerBindAddress" | "controllerManagerPort" | "schedulerPort">>;
    /**
     * The address this node's API server publishes as the `kubernetes` Service's endpoint, when Pods reach it
     * at another address than `ip` (default `ip`; the API server refuses to publish a loopback one).
     */
    advertiseAddress?: string;
}

/** What the platform decides and the plan takes as given. */
export interface PlatformFacts {
    platform: "local" | "aws";
    /** Where the Kubernetes files go (kubeadm's paths or a state directory). */
    layout: FileLayout;
    /** The directory of the files only etcd reads: apart from pkiDir when etcd runs as its own user. */
    etcdOwnPkiDir: string;
    /** Control-plane nodes, each also an etcd member (some only that), in order. */
    members: ClusterMember[];
    /** Ports and bind addresses the platform fixes; absent ones take the control-plane defaults. */
    network?: Partial<Pick<NetworkOptions, "apiServerPort" | "apiServerBindAddress" | "etcdClientPort" | "etcdPeerPort" | "controllerManagerPort" | "schedulerPort">>;
    /** The API endpoint clients use; its addresses and names go into the apiserver certificate. */
    endpoint: { ipAddresses: string[]; dnsNames: string[] };
    /** The URL in every client kubeconfig, or a function of the endpoint that picks it (AWS: a DNS name or an NLB address). */
    serverUrl: string;
    /** What the controller manager and scheduler dial (kubeadm: the apiserver on their own node). Default serverUrl. */
    localApiServer?: string;
    /** Where the binaries are, by process. */
    binary: (p: ProcessName) => string;
    /** The user etcd runs as; undefined runs everything as the caller (a user-layout stack). */
    etcdUser?: string;
    /** The operator works on the node itself (local): the admin kubeconfig is written there too. */
    operatorOnNode: boolean;
    /**
     * The apiservers sit behind a balancer that checks their /readyz: each waits this long after SIGTERM (its
     * /readyz failing) before it stops serving, so the balancer takes it out first.
     */
    balancer?: { shutdownDelaySeconds: number };
    /** The platform's nodes run kube-proxy as a process, which needs a client certificate (pki.kubeProxyClient). */
    nodeProxy?: boolean;
    /** The platform's nodes run a NetworkPolicy enforcer as a process, with a client certificate of its own (pki.networkPolicyClient). */
    nodeNetworkPolicy?: boolean;
    /** The platform runs the kubelet serving-certificate approver, with a client certificate of its own (pki.servingApproverClient). */
    servingApprover?: boolean;
    /** Encryption providers this platform accepts, the KMS plugin socket it runs, and its default settings. */
    encryption: { providers: readonly EncryptionProvider[]; kmsEndpoint?: string; defaults?: EncryptionOptions; why: string };
    /** Where a stack sets the platform's listen ports, if it can, for error messages. */
    portsSetting?: string;
    /** Settings the platform decides itself, refused with the reason: key path relative to its key -> reason. */
    refused?: { key: keyof ClusterKeys; path: (string | number)[]; reason: string }[];
}

export type HealthCheck =
    | { kind: "https"; url: string; caFile?: string; certFile?: string; keyFile?: string }
    | { kind: "tcp"; host: string; port: number };

/** How a reader takes a new version of a file: a restart, or a reload it does itself. */
export type OnChange = "restart" | "reload";

/**
 * Where a file's content comes from. The plan is complete before any key exists: PKI material and the
 * encryption config (which holds generated keys) are bound when a platform delivers the bundle.
 */
export type FileContent =
    | { text: string }
    | { pki: (m: PkiMaterial) => pulumi.Output<string> }
    | { encryptionConfig: true };

/** What a platform binds the contents with. */
export interface ClusterMaterial {
    pki: PkiMaterial;
    /** The EncryptionConfiguration YAML (secret). */
    encryptionConfig: pulumi.Input<string>;
}

export interface PlannedFile {
    path: string;
    content: FileContent;
    mode: number;
    /** "user:group", or undefined for the platform's default owner (root, or the caller in a user layout). */
    owner?: string;
    /** The directory's mode and owner where it differs from the platform's default (root 0700). */
    dir?: { mode: number; owner?: string };
    /** Key material or credentials: a Pulumi secret, delivered as such (SSM SecureString on AWS). */
    secret: boolean;
    /** Secret files only: "node" when each node gets its own value (etcd's serving and peer keys). */
    scope?: "cluster" | "node";
    /** The processes that read the file, declared where the file is planned. */
    readers: ProcessName[];
    onChange: OnChange;
    /** Who the file is for, so a platform delivering some kinds by its own means can tell them apart. */
    kind: "pki" | "kubeconfig" | "serving" | "settings" | "encryption" | "audit";
}

export interface PlannedProcess {
    name: ProcessName;
    command: string;
    argv: string[];
    /** undefined: the platform's default user (root, or the caller in a user layout). */
    user?: string;
    health: HealthCheck;
    /** Started after these are healthy. */
    after: ProcessName[];
    /** Exits when started before the RBAC bootstrap roles exist, so it gets more than one attempt. */
    retriesStart: boolean;
    /** Directories the process needs, created with this mode before it starts; owner "" is the platform's default. */
    dirs: { path: string; mode: number; owner: string }[];
}

export interface NodeBundle {
    node: ClusterMember;
    files: PlannedFile[];
    processes: PlannedProcess[];
}
