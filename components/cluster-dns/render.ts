// The cluster's DNS: CoreDNS answering the cluster domain from the API, as pure objects. Its Pods carry
// k8s-app: kube-dns in kube-system, the selector every tenant's DNS-allow NetworkPolicy names, and its Service
// takes the address the kubelets hand Pods as their nameserver. Nothing is forwarded upstream unless asked:
// names outside the cluster domain get no answer, so a Pod's DNS never becomes a path out.
import { fail, isIpv4, isPlainObject, key, knownKeys } from "../common";

export const CLUSTER_DNS_NAMESPACE = "kube-system";
export const CLUSTER_DNS_NAME = "coredns";
/** The labels the DNS-allow NetworkPolicies select (secure-namespace/network.ts) and kubeadm's manifests use. */
export const CLUSTER_DNS_LABELS = { "k8s-app": "kube-dns" } as const;
/** CoreDNS's own health and readiness ports, probed by the kubelet from the node. */
const HEALTH_PORT = 8080;
const READY_PORT = 8181;
/** A numeric user with no name in the image: CoreDNS never runs as root. */
const DNS_USER = 65532;

export interface ClusterDnsOptions {
    /** Pods serving DNS (default 2, at most 10). */
    replicas?: number;
    /** Resolvers to forward names outside the cluster domain to (default none: such names get no answer). */
    upstreams?: string[];
}

export interface ResolvedClusterDns {
    replicas: number;
    upstreams: string[];
}

export function resolveClusterDns(raw: unknown, k: string): ResolvedClusterDns {
    if (raw === undefined) raw = {};
    if (!isPlainObject(raw)) fail(k, raw, "use an object");
    const o = raw as Record<string, unknown>;
    knownKeys(k, o, ["replicas", "upstreams"]);
    const replicas = o.replicas ?? 2;
    if (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 1 || replicas > 10) fail(key(k, "replicas"), replicas, "use a whole number from 1 to 10");
    const upstreams = o.upstreams ?? [];
    if (!Array.isArray(upstreams)) fail(key(k, "upstreams"), upstreams, "list IPv4 addresses of resolvers");
    upstreams.forEach((u, i) => {
        if (typeof u !== "string" || !isIpv4(u)) fail(key(k, "upstreams", i), u, "use an IPv4 address");
    });
    return { replicas: replicas as number, upstreams: upstreams as string[] };
}

export interface ClusterDnsInput extends ResolvedClusterDns {
    image: string;
    /** The Service address: the kubelets' clusterDNS. */
    clusterIp: string;
    clusterDomain: string;
}

/** The Corefile: the cluster domain and reverse zones from the API; other names forwarded only to the named upstreams. */
export function renderCorefile(input: Pick<ClusterDnsInput, "clusterDomain" | "upstreams">): string {
    return [
        ".:53 {",
        "    errors",
        `    health :${HEALTH_PORT} {`,
        "        lameduck 5s",
        "    }",
        `    ready :${READY_PORT}`,
        `    kubernetes ${input.clusterDomain} in-addr.arpa ip6.arpa {`,
        "        pods disabled",
        "        fallthrough in-addr.arpa ip6.arpa",
        "        ttl 30",
        "    }",
        ...(input.upstreams.length > 0 ? [`    forward . ${input.upstreams.join(" ")}`] : []),
        "    cache 30",
        "    loadbalance",
        "}",
        "",
    ].join("\n");
}

const meta = (name: string, namespaced = true) => ({
    name, ...(namespaced ? { namespace: CLUSTER_DNS_NAMESPACE } : {}),
    labels: { ...CLUSTER_DNS_LABELS, "app.kubernetes.io/managed-by": "hardened-cluster" },
});

/** Every object of the cluster's DNS, in the order they are applied. */
export function renderClusterDns(input: ClusterDnsInput): Record<string, any>[] {
    const role = "hardened-cluster:coredns";
    return [
        { apiVersion: "v1", kind: "ServiceAccount", metadata: meta(CLUSTER_DNS_NAME), automountServiceAccountToken: false },
        {
            apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: meta(role, false),
            rules: [
                { apiGroups: [""], resources: ["services", "namespaces"], verbs: ["list", "watch"] },
                { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch"] },
            ],
        },
        {
            apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: meta(role, false),
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
            subjects: [{ kind: "ServiceAccount", name: CLUSTER_DNS_NAME, namespace: CLUSTER_DNS_NAMESPACE }],
        },
        { apiVersion: "v1", kind: "ConfigMap", metadata: meta(CLUSTER_DNS_NAME), data: { Corefile: renderCorefile(input) } },
        {
            apiVersion: "apps/v1", kind: "Deployment", metadata: meta(CLUSTER_DNS_NAME),
            spec: {
                replicas: input.replicas,
                selector: { matchLabels: { ...CLUSTER_DNS_LABELS } },
                template: {
                    metadata: { labels: { ...CLUSTER_DNS_LABELS } },
                    spec: {
                        serviceAccountName: CLUSTER_DNS_NAME,
                        // Only CoreDNS's container gets the token, to read Services from the API.
                        automountServiceAccountToken: true,
                        priorityClassName: "system-cluster-critical",
                        securityContext: {
                            runAsNonRoot: true, runAsUser: DNS_USER, runAsGroup: DNS_USER, seccompProfile: { type: "RuntimeDefault" },
                            // Port 53 without any capability: the Pod's own network namespace lets its users bind it.
                            sysctls: [{ name: "net.ipv4.ip_unprivileged_port_start", value: "53" }],
                        },
                        containers: [{
                            name: "coredns",
                            image: input.image,
                            args: ["-conf", "/etc/coredns/Corefile"],
                            ports: [
                                { name: "dns", containerPort: 53, protocol: "UDP" },
                                { name: "dns-tcp", containerPort: 53, protocol: "TCP" },
                            ],
                            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                            resources: { limits: { memory: "170Mi" }, requests: { cpu: "100m", memory: "70Mi" } },
                            livenessProbe: { httpGet: { path: "/health", port: HEALTH_PORT }, initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 5 },
                            readinessProbe: { httpGet: { path: "/ready", port: READY_PORT }, periodSeconds: 2 },
                            volumeMounts: [{ name: "config", mountPath: "/etc/coredns", readOnly: true }],
                        }],
                        volumes: [{ name: "config", configMap: { name: CLUSTER_DNS_NAME, items: [{ key: "Corefile", path: "Corefile" }] } }],
                    },
                },
            },
        },
        {
            apiVersion: "v1", kind: "Service", metadata: { ...meta("kube-dns"), labels: { ...meta("kube-dns").labels, "kubernetes.io/name": "CoreDNS" } },
            spec: {
                selector: { ...CLUSTER_DNS_LABELS },
                clusterIP: input.clusterIp,
                ports: [
                    { name: "dns", port: 53, targetPort: 53, protocol: "UDP" },
                    { name: "dns-tcp", port: 53, targetPort: 53, protocol: "TCP" },
                ],
            },
        },
    ];
}
