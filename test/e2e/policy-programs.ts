// Small Pulumi programs for the policy pack's real-engine spec: one compliant base, and mutations that each
// break one rule the way a team's program would (raw resources, the components with a `transforms`, a
// dynamic file resource). The Kubernetes provider is configured for a server that does not answer: the
// provider then plans every object from its inputs, so stack rules see namespaces and policies at preview
// (with an unknown kubeconfig, as in the blueprint's local stack, it plans nothing and they are deferred).
import * as path from "node:path";
import { repoRoot } from "./harness";

/** A cluster nobody answers for (the discard port on loopback): a preview needs none. */
export const UNREACHABLE_KUBECONFIG = { apiVersion: "v1", kind: "Config", clusters: [{ name: "c", cluster: { server: "https://127.0.0.1:9" } }],
    users: [{ name: "u", user: { token: "not-a-real-token" } }], contexts: [{ name: "x", context: { cluster: "c", user: "u" } }], "current-context": "x" };

const PRELUDE = `
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as tls from "@pulumi/tls";
import { SecureNamespace } from "./components/secure-namespace";
import { LocalFile } from ${JSON.stringify(path.join(repoRoot, "platforms/local/file"))};
const provider = new k8s.Provider("k8s", { kubeconfig: ${JSON.stringify(JSON.stringify(UNREACHABLE_KUBECONFIG))} });
const opts = { provider };
void LocalFile;
`;

/** A compliant tenant (the component's restricted namespace with its default deny) and a compliant leaf. */
const BASE = `
const tenant = new SecureNamespace("tenant", { name: "tenant", configKey: "tenant" }, opts);
const key = new tls.PrivateKey("leaf-key", { algorithm: "ECDSA", ecdsaCurve: "P256" });
new tls.SelfSignedCert("leaf", { privateKeyPem: key.privateKeyPem, validityPeriodHours: 8760, earlyRenewalHours: 720,
    allowedUses: ["server_auth"], subject: { commonName: "leaf" } });
export const ns = tenant.namespaceName;
`;

const psa = (level: string) => `{ "pod-security.kubernetes.io/enforce": "${level}", "pod-security.kubernetes.io/enforce-version": "v1.34" }`;
const denyAll = (ns: string) => `new k8s.networking.v1.NetworkPolicy("${ns}-deny", { metadata: { name: "deny-all", namespace: "${ns}" }, spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } }, opts);`;

export interface Mutation {
    name: string;
    /** Program text after the prelude and the compliant base. */
    code: string;
    /** The mandatory rules the preview must name, and no others. */
    rules: string[];
    /** What the violation must say, where one rule covers several mutations. */
    says?: RegExp;
}

export const MUTATIONS: Mutation[] = [
    {
        name: "encryption config with identity first",
        code: `new LocalFile("enc", { path: "/nonexistent/hc-policy/encryption-config.yaml", mode: 0o600, content: [
            "apiVersion: apiserver.config.k8s.io/v1", "kind: EncryptionConfiguration", "resources:", "  - resources: [secrets]",
            "    providers:", "      - identity: {}", "      - secretbox:", "          keys: [{ name: k1, secret: " + Buffer.alloc(32, 7).toString("base64") + " }]", ""].join("\\n") });`,
        rules: ["encryption-provider"],
    },
    {
        name: "a 10-year leaf certificate",
        code: `new tls.SelfSignedCert("long-leaf", { privateKeyPem: key.privateKeyPem, validityPeriodHours: 87600, earlyRenewalHours: 720, allowedUses: ["server_auth"], subject: { commonName: "x" } });`,
        rules: ["pki-certificate-lifetime"],
    },
    { name: "an RSA-1024 key", code: `new tls.PrivateKey("weak", { algorithm: "RSA", rsaBits: 1024 });`, rules: ["pki-key-strength"] },
    {
        name: "a privileged namespace",
        code: `new k8s.core.v1.Namespace("legacy", { metadata: { name: "legacy", labels: ${psa("privileged")} } }, opts);\n${denyAll("legacy")}`,
        rules: ["namespace-pod-security"],
    },
    {
        name: "a namespace without a default deny",
        code: `new k8s.core.v1.Namespace("open", { metadata: { name: "open", labels: ${psa("restricted")} } }, opts);`,
        rules: ["namespace-default-deny"],
    },
    {
        name: "cluster-admin bound to a group",
        code: `new k8s.rbac.v1.ClusterRoleBinding("devs-admin", { roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
            subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "devs" }] }, opts);`,
        rules: ["rbac-no-undeclared-cluster-admin"],
    },
    {
        name: "a Role with escalate",
        code: `new k8s.rbac.v1.Role("escalator", { metadata: { name: "escalator", namespace: "tenant" }, rules: [{ apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles"], verbs: ["escalate", "update"] }] }, opts);`,
        rules: ["rbac-no-escalation-verbs"],
    },
    {
        name: "a service-account-token Secret",
        code: `new k8s.core.v1.Secret("token", { metadata: { name: "token", namespace: "tenant", annotations: { "kubernetes.io/service-account.name": "default" } }, type: "kubernetes.io/service-account-token" }, opts);`,
        rules: ["no-service-account-token-secret"],
    },
    {
        name: "a transforms that strips the PSA enforce label from the component's namespace",
        code: `new SecureNamespace("stripped", { name: "stripped", configKey: "stripped" }, { ...opts, transforms: [(a) => {
            if (a.type !== "kubernetes:core/v1:Namespace") return undefined;
            const labels = { ...a.props.metadata.labels };
            delete labels["pod-security.kubernetes.io/enforce"];
            return { props: { ...a.props, metadata: { ...a.props.metadata, labels } }, opts: a.opts };
        }] });`,
        rules: ["namespace-pod-security"],
        says: /namespace stripped has no Pod Security enforce label/,
    },
    {
        name: "a transforms that unpins the component's PSA version (latest)",
        code: `new SecureNamespace("unpinned", { name: "unpinned", configKey: "unpinned" }, { ...opts, transforms: [(a) => a.type !== "kubernetes:core/v1:Namespace" ? undefined : {
            props: { ...a.props, metadata: { ...a.props.metadata, labels: { ...a.props.metadata.labels, "pod-security.kubernetes.io/enforce-version": "latest" } } }, opts: a.opts }] });`,
        rules: ["namespace-pod-security"],
        says: /namespace unpinned does not pin its Pod Security version \(pod-security\.kubernetes\.io\/enforce-version is 'latest'/,
    },
    {
        name: "a NetworkPolicy allowing egress to 169.254.169.254",
        code: `new k8s.networking.v1.NetworkPolicy("imds", { metadata: { name: "imds", namespace: "tenant" }, spec: { podSelector: {}, policyTypes: ["Egress"],
            egress: [{ to: [{ ipBlock: { cidr: "169.254.169.254/32" } }], ports: [{ protocol: "TCP", port: 80 }] }] } }, opts);`,
        rules: ["network-policy-no-metadata-egress"],
    },
    {
        name: "a hostNetwork, privileged Deployment",
        code: `new k8s.apps.v1.Deployment("agent", { metadata: { name: "agent", namespace: "tenant" }, spec: { selector: { matchLabels: { app: "agent" } },
            template: { metadata: { labels: { app: "agent" } }, spec: { hostNetwork: true, containers: [{ name: "agent", image: "registry.k8s.io/pause:3.10",
                securityContext: { privileged: true } }] } } } }, opts);`,
        rules: ["pod-restricted-profile"],
    },
];

export const programOf = (code = "") => `${PRELUDE}\n${BASE}\n${code}\n`;

/** An encryption config with identity first whose key is generated: unknown at preview, known at `up`. */
export function deferredProgram(file: string): string {
    return `
import * as random from "@pulumi/random";
import { LocalFile } from ${JSON.stringify(path.join(repoRoot, "platforms/local/file"))};
const key = new random.RandomBytes("key", { length: 32 });
new LocalFile("enc", { path: ${JSON.stringify(file)}, mode: 0o600, content: key.base64.apply((k) => [
    "apiVersion: apiserver.config.k8s.io/v1", "kind: EncryptionConfiguration", "resources:", "  - resources: [secrets]",
    "    providers:", "      - identity: {}", "      - secretbox:", "          keys: [{ name: k1, secret: " + k + " }]", ""].join("\\n")) });
`;
}
