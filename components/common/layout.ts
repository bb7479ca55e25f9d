// Where a control plane's files live. The platform picks the directories (kubeadm's system paths when run
// as root, a per-stack state directory otherwise); the file names are fixed here so the PKI that writes a
// file and the settings that point a flag at it can never disagree.
import * as path from "node:path";

export interface FileLayout {
    /** Kubeconfigs and component config files (kubeadm: /etc/kubernetes). */
    configDir: string;
    /** Kubernetes and front-proxy PKI (kubeadm: /etc/kubernetes/pki). */
    pkiDir: string;
    /** etcd PKI (kubeadm: /etc/kubernetes/pki/etcd). */
    etcdPkiDir: string;
    /** etcd data (kubeadm: /var/lib/etcd). */
    etcdDataDir: string;
    /** Audit log directory (kubeadm convention: /var/log/kubernetes/audit). */
    auditLogDir: string;
}

/** kubeadm's paths, optionally below a root (tests use a temporary root). */
export function kubeadmLayout(root = "/"): FileLayout {
    const etc = path.join(root, "etc/kubernetes");
    return {
        configDir: etc,
        pkiDir: path.join(etc, "pki"),
        etcdPkiDir: path.join(etc, "pki/etcd"),
        etcdDataDir: path.join(root, "var/lib/etcd"),
        auditLogDir: path.join(root, "var/log/kubernetes/audit"),
    };
}

/** Everything under one state directory, for an unprivileged user. */
export function stateDirLayout(stateDir: string): FileLayout {
    return {
        configDir: stateDir,
        pkiDir: path.join(stateDir, "pki"),
        etcdPkiDir: path.join(stateDir, "pki/etcd"),
        etcdDataDir: path.join(stateDir, "etcd"),
        auditLogDir: path.join(stateDir, "audit"),
    };
}

/** Base names of the PKI files, as kubeadm names them. */
export const pkiFiles = {
    ca: "ca",
    /**
     * The cluster CA that signs, alone: ca.crt holds every CA trusted while a rotation runs, and the
     * controller-manager's signer refuses a file with more than one certificate. Its key is ca.key.
     */
    clusterSigningCa: "cluster-signing-ca",
    apiserver: "apiserver",
    apiserverKubeletClient: "apiserver-kubelet-client",
    apiserverEtcdClient: "apiserver-etcd-client",
    frontProxyCa: "front-proxy-ca",
    frontProxyClient: "front-proxy-client",
    serviceAccount: "sa",
    etcdCa: "ca",
    etcdServer: "server",
    etcdPeer: "peer",
    etcdHealthcheckClient: "healthcheck-client",
} as const;

/**
 * Serving certificates of the controller manager and scheduler, in pkiDir. kubeadm lets both self-sign in
 * memory; a platform that issues them from the cluster CA can verify who answers its health checks.
 */
export const componentServingFiles = {
    controllerManager: "kube-controller-manager",
    scheduler: "kube-scheduler",
} as const;

/**
 * Client pairs of the controller manager and scheduler, in pkiDir. kubeadm embeds them in their kubeconfigs;
 * as files referenced from the kubeconfigs, client-go re-reads them on each new connection, so a renewed
 * pair is taken up without a restart.
 */
export const componentClientFiles = {
    controllerManager: "controller-manager-client",
    scheduler: "scheduler-client",
} as const;

/** Kubeconfig and config file names in configDir. */
export const configFiles = {
    admin: "admin.conf",
    superAdmin: "super-admin.conf",
    controllerManager: "controller-manager.conf",
    scheduler: "scheduler.conf",
    kubelet: "kubelet.conf",
    encryption: "encryption-config.yaml",
    auditPolicy: "audit-policy.yaml",
    admission: "admission-config.yaml",
    eventRateLimit: "event-rate-limit.yaml",
    authentication: "authentication-config.yaml",
    kubeletConfig: "kubelet-config.yaml",
    schedulerConfig: "scheduler-config.yaml",
} as const;

export interface CertPaths {
    cert: string;
    key: string;
}

/** Absolute paths of a Kubernetes PKI pair (pkiDir) or etcd pair (etcdPkiDir). */
export function pkiPair(layout: FileLayout, base: string, etcd = false): CertPaths {
    const dir = etcd ? layout.etcdPkiDir : layout.pkiDir;
    return { cert: path.join(dir, `${base}.crt`), key: path.join(dir, `${base}.key`) };
}

export function configFile(layout: FileLayout, name: keyof typeof configFiles): string {
    return path.join(layout.configDir, configFiles[name]);
}

export function serviceAccountKeys(layout: FileLayout): { publicKey: string; privateKey: string } {
    return {
        publicKey: path.join(layout.pkiDir, `${pkiFiles.serviceAccount}.pub`),
        privateKey: path.join(layout.pkiDir, `${pkiFiles.serviceAccount}.key`),
    };
}
