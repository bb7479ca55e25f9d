// kube-apiserver flags: kubeadm's argument set for a control-plane node, tightened to CIS v1.12 (see the
// guards for which check reads which flag), then extraArgs on top.
import { encryptionApiServerFlags } from "../encryption";
import { configFile, pkiFiles, pkiPair, serviceAccountKeys } from "../common";
import { FlagMap } from "./flags";
import { hostPort } from "./network";
import { ResolvedControlPlane } from "./resolve";
import { kubeTlsFlags } from "./tls";

export function apiServerFlags(r: ResolvedControlPlane): FlagMap {
    const { layout, network: n, weakenings: w } = r;
    const ca = pkiPair(layout, pkiFiles.ca);
    const etcdCa = pkiPair(layout, pkiFiles.etcdCa, true);
    const frontProxyCa = pkiPair(layout, pkiFiles.frontProxyCa);
    const serving = pkiPair(layout, pkiFiles.apiserver);
    const kubeletClient = pkiPair(layout, pkiFiles.apiserverKubeletClient);
    const etcdClient = pkiPair(layout, pkiFiles.apiserverEtcdClient);
    const frontProxyClient = pkiPair(layout, pkiFiles.frontProxyClient);
    const sa = serviceAccountKeys(layout);

    const flags: FlagMap = {
        "advertise-address": n.advertiseAddress,
        "bind-address": n.apiServerBindAddress,
        "secure-port": String(n.apiServerPort),
        "service-cluster-ip-range": n.serviceCidr,

        "anonymous-auth": String(w.anonymousAuth),
        "client-ca-file": ca.cert,
        // Workers join as kubeadm's do, with a bootstrap token: a Secret in kube-system (admins alone can write
        // one) that expires and that the controller manager's tokencleaner deletes; it may only file a CSR.
        "enable-bootstrap-token-auth": "true",
        "authorization-mode": "Node,RBAC",
        "enable-admission-plugins": r.admission.plugins.join(","),
        "admission-control-config-file": configFile(layout, "admission"),
        "allow-privileged": String(w.privilegedContainers),
        profiling: String(w.profiling),

        "tls-cert-file": serving.cert,
        "tls-private-key-file": serving.key,
        ...kubeTlsFlags(r.tls),

        "etcd-servers": n.etcdMembers.map((m) => `https://${hostPort(m.ip, n.etcdClientPort)}`).join(","),
        "etcd-cafile": etcdCa.cert,
        "etcd-certfile": etcdClient.cert,
        "etcd-keyfile": etcdClient.key,

        "kubelet-client-certificate": kubeletClient.cert,
        "kubelet-client-key": kubeletClient.key,
        "kubelet-certificate-authority": ca.cert,
        "kubelet-preferred-address-types": "InternalIP,ExternalIP,Hostname",

        // Aggregated API servers trust the identity headers only from a client certificate of the front-proxy CA.
        "proxy-client-cert-file": frontProxyClient.cert,
        "proxy-client-key-file": frontProxyClient.key,
        "requestheader-client-ca-file": frontProxyCa.cert,
        "requestheader-allowed-names": "front-proxy-client",
        "requestheader-username-headers": "X-Remote-User",
        "requestheader-group-headers": "X-Remote-Group",
        "requestheader-extra-headers-prefix": "X-Remote-Extra-",

        "service-account-issuer": n.serviceAccountIssuer,
        "service-account-key-file": sa.publicKey,
        "service-account-signing-key-file": sa.privateKey,
        "service-account-lookup": "true",
        "service-account-extend-token-expiration": String(w.extendServiceAccountTokens),
        "service-account-max-token-expiration": `${r.apiServer.serviceAccountMaxTokenHours}h`,

        ...r.auditFlags,
        ...encryptionApiServerFlags(configFile(layout, "encryption")),
    };
    flags["shutdown-watch-termination-grace-period"] = `${n.apiServerWatchDrainSeconds}s`;
    if (n.apiServerShutdownDelaySeconds > 0) flags["shutdown-delay-duration"] = `${n.apiServerShutdownDelaySeconds}s`;
    if (r.jwt.length > 0) flags["authentication-config"] = configFile(layout, "authentication");
    return { ...flags, ...r.extraArgs.apiServer };
}

/** The apiserver extends a projected token to a year when extendServiceAccountTokens is on. */
const EXTENDED_TOKEN_SECONDS = 365 * 24 * 3600;

/** The longest a token from these apiservers stays valid: how long a retired signing key must keep verifying. */
export function longestServiceAccountTokenSeconds(r: Pick<ResolvedControlPlane, "apiServer" | "weakenings">): number {
    const max = r.apiServer.serviceAccountMaxTokenHours * 3600;
    return r.weakenings.extendServiceAccountTokens ? Math.max(max, EXTENDED_TOKEN_SECONDS) : max;
}
