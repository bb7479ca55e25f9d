// Hostile inputs for the control-plane key family (controlPlane, audit, encryption); run by hostile-input.spec.ts.
import type { BlueprintConfig } from "../../../config";
import { auditPosture } from "../../../components/audit";
import { controlPlanePosture } from "../../../components/control-plane";
import type { HostileRow } from "./row";

const CP = "hardened-cluster:controlPlane";
const ACK = `${CP}.weakenings.acceptExtraArgs`;

/** The control-plane posture of a loaded stack; the hosts are stand-ins, as the config entry uses. */
function cpPosture(cfg: BlueprintConfig): unknown {
    const cp = cfg.controlPlane ?? {};
    const network = { ...cp.network, advertiseAddress: "192.0.2.10", etcdMembers: [{ name: "cp-0", ip: "192.0.2.10" }] };
    return controlPlanePosture({ ...cp, network }, CP);
}

const extra = (component: string, args: Record<string, unknown>, acks?: string[]) => ({
    controlPlane: { [component]: { extraArgs: args }, ...(acks ? { weakenings: { acceptExtraArgs: { [component]: acks } } } : {}) },
});

const refusedUnlessNamed = (component: string, flag: string, value: string): HostileRow => ({
    name: `${component} --${flag}=${value} without naming it`,
    config: extra(component, { [flag]: value }),
    rejects: { key: `${CP}.${component}.extraArgs.${flag}`, mentions: new RegExp(`${ACK}.${component}`) },
});

export const rows: HostileRow[] = [
    // Flags outside the allow-list: admission, authorizers, authenticators, feature gates.
    refusedUnlessNamed("apiServer", "disable-admission-plugins", "ValidatingAdmissionPolicy"),
    refusedUnlessNamed("apiServer", "disable-admission-plugins", "ResourceQuota"),
    refusedUnlessNamed("apiServer", "disable-admission-plugins", "CertificateSubjectRestriction"),
    refusedUnlessNamed("apiServer", "authorization-mode", "Node,RBAC,ABAC"),
    refusedUnlessNamed("apiServer", "authentication-token-webhook-config-file", "/etc/kubernetes/authn-webhook.conf"),
    refusedUnlessNamed("apiServer", "authorization-webhook-config-file", "/etc/kubernetes/authz-webhook.conf"),
    refusedUnlessNamed("controllerManager", "feature-gates", "RotateKubeletServerCertificate=false"),
    refusedUnlessNamed("controllerManager", "feature-gates", "RotateKubeletServerCertificate=0"),
    refusedUnlessNamed("kubelet", "feature-gates", "RotateKubeletServerCertificate=F"),
    refusedUnlessNamed("etcd", "client-cert-auth", "0"),
    {
        name: "an unknown flag carrying a token: refused, the token not repeated",
        config: extra("apiServer", { "made-up-flag": "tok3n-Secret" }),
        rejects: { key: `${CP}.apiServer.extraArgs.made-up-flag`, mentions: /^(?![\s\S]*tok3n-Secret)[\s\S]*value not shown/ },
    },
    // Files the PKI owns: no acknowledgement makes swapping them acceptable.
    {
        name: "swapping client-ca-file, even when named",
        config: extra("apiServer", { "client-ca-file": "/tmp/attacker-ca.crt" }, ["client-ca-file"]),
        rejects: { key: `${CP}.apiServer.extraArgs.client-ca-file`, mentions: /PKI/ },
    },
    {
        name: "swapping the service-account verification key, even when named",
        config: extra("apiServer", { "service-account-key-file": "/tmp/sa.pub" }, ["service-account-key-file"]),
        rejects: { key: `${CP}.apiServer.extraArgs.service-account-key-file`, mentions: /PKI/ },
    },
    // Booleans as Go reads them: "1" is true, so anonymous auth would be on.
    {
        name: "anonymous-auth=1 through extraArgs",
        config: extra("apiServer", { "anonymous-auth": "1" }),
        rejects: { key: `${CP}.apiServer.extraArgs.anonymous-auth`, mentions: /weakenings\.anonymousAuth/ },
    },
    // URLs: etcd never gets a plain-text listener.
    {
        name: "etcd listen-client-http-urls over http://, even when named",
        config: extra("etcd", { "listen-client-http-urls": "http://0.0.0.0:2382" }, ["listen-client-http-urls"]),
        rejects: { key: `${CP}.etcd.extraArgs.listen-client-http-urls`, mentions: /https:\/\// },
    },
    {
        name: "etcd listen-metrics-urls with a second, http:// URL",
        config: extra("etcd", { "listen-metrics-urls": "https://127.0.0.1:2381,HTTP://0.0.0.0:2381" }),
        rejects: { key: `${CP}.etcd.extraArgs.listen-metrics-urls`, mentions: /https:\/\// },
    },
    {
        name: "etcd listen-client-http-urls on a unix:// socket",
        config: extra("etcd", { "listen-client-http-urls": "unix:///run/etcd-http.sock" }),
        rejects: { key: `${CP}.etcd.extraArgs.listen-client-http-urls`, mentions: /https:\/\// },
    },
    // Verbosity: tokens and bodies in logs.
    {
        name: "kube-apiserver --v=6 without verboseLogs",
        config: extra("apiServer", { v: 6 }),
        rejects: { key: `${CP}.apiServer.extraArgs.v`, mentions: /weakenings\.verboseLogs/ },
    },
    {
        name: "kubelet --v=10 without verboseLogs",
        config: extra("kubelet", { v: "10" }),
        rejects: { key: `${CP}.kubelet.extraArgs.v`, mentions: /weakenings\.verboseLogs/ },
    },
    // Flag names that are not flags.
    {
        name: "a flag name written with its dashes",
        config: extra("scheduler", { "--profiling": "true" }),
        rejects: { key: `${CP}.scheduler.extraArgs.--profiling` },
    },
    {
        name: "a flag named constructor",
        config: extra("controllerManager", { constructor: "x" }),
        rejects: { key: `${CP}.controllerManager.extraArgs.constructor`, mentions: /acceptExtraArgs/ },
    },
    // Nulls and typos.
    { name: "controlPlane.apiServer: null", config: { controlPlane: { apiServer: null } }, rejects: { key: `${CP}.apiServer` } },
    { name: "controlPlane.weakenings: null", config: { controlPlane: { weakenings: null } }, rejects: { key: `${CP}.weakenings` } },
    { name: "controlPlane.admission.podSecurity: null", config: { controlPlane: { admission: { podSecurity: null } } }, rejects: { key: `${CP}.admission.podSecurity` } },
    { name: "controlPlane: null", config: { controlPlane: "null" }, rejects: { key: CP } },
    {
        name: "a misspelt extraArgs holding a secret",
        config: { controlPlane: { apiServer: { extraArg: { "oidc-client-secret": "tok3n-Secret" } } } },
        rejects: { key: `${CP}.apiServer.extraArg`, mentions: /^(?![\s\S]*tok3n-Secret)[\s\S]*known keys/ },
    },
    // Audit.
    {
        name: "a token in the audit webhook URL's query",
        config: { audit: { webhook: { server: "https://audit.example.com/ingest?token=tok3n-Secret" } } },
        rejects: { key: "hardened-cluster:audit.webhook.server", mentions: /^(?![\s\S]*tok3n-Secret)[\s\S]*query/ },
    },
    {
        name: "a token in the audit webhook URL's fragment",
        config: { audit: { webhook: { server: "https://audit.example.com/ingest#tok3n-Secret" } } },
        rejects: { key: "hardened-cluster:audit.webhook.server", mentions: /^(?![\s\S]*tok3n-Secret)[\s\S]*fragment/ },
    },
    { name: "audit.webhook: null", config: { audit: { webhook: null } }, rejects: { key: "hardened-cluster:audit.webhook" } },
    // Encryption / KMS.
    {
        name: "a KMS plugin socket in /tmp",
        config: { encryption: { keys: [{ name: "kms1", provider: "kms", endpoint: "unix:///tmp/kms.sock" }] } },
        rejects: { key: "hardened-cluster:encryption.keys[0].endpoint", mentions: /every local user/ },
    },
    {
        name: "a KMS plugin socket reached through ../ into /dev/shm",
        config: { encryption: { keys: [{ name: "kms1", provider: "kms", endpoint: "unix:///var/run/../../dev/shm/kms.sock" }] } },
        rejects: { key: "hardened-cluster:encryption.keys[0].endpoint" },
    },
    { name: "encryption.keys[0]: null", config: { encryption: { keys: [null] } }, rejects: { key: "hardened-cluster:encryption.keys[0]" } },
    // Accepted, and named.
    {
        name: "ResourceQuota admission off, named",
        config: extra("apiServer", { "disable-admission-plugins": "ResourceQuota" }, ["disable-admission-plugins"]),
        weakens: { named: `${CP}.apiServer.extraArgs.disable-admission-plugins`, posture: cpPosture },
    },
    {
        name: "RotateKubeletServerCertificate=0 on the controller manager, named, cites CIS 1.3.6",
        config: extra("controllerManager", { "feature-gates": "RotateKubeletServerCertificate=0" }, ["feature-gates"]),
        weakens: { named: "CIS 1.3.6", posture: cpPosture },
    },
    {
        name: "kube-apiserver --v=8 with verboseLogs",
        config: { controlPlane: { apiServer: { extraArgs: { v: 8 } }, weakenings: { verboseLogs: true } } },
        weakens: { named: `${CP}.weakenings.verboseLogs`, posture: cpPosture },
    },
    {
        name: "an authorization webhook, named",
        config: extra("apiServer", { "authorization-mode": "Node,RBAC,Webhook", "authorization-webhook-config-file": "/etc/kubernetes/authz.conf" }, ["authorization-mode", "authorization-webhook-config-file"]),
        weakens: { named: `${CP}.apiServer.extraArgs.authorization-webhook-config-file`, posture: cpPosture },
    },
    {
        name: "the minimal audit preset",
        config: { audit: { preset: "minimal" } },
        weakens: { named: "hardened-cluster:audit.preset", posture: (cfg) => auditPosture(cfg.audit, "hardened-cluster:audit") },
    },
];
