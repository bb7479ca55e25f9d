// The AWS delivery of the cluster plan's node bundles: each process becomes a systemd unit (ExecStart is the
// bundle's argv), each settings file goes inline into user data, and every file built from the PKI (keys,
// kubeconfigs, and certificates too) into an SSM SecureString parameter fetched at boot and by the sync timer,
// one parameter per (scope, file): user data never changes on a running node, a parameter's new version reaches
// it. Public files are the node's own parameters (a certificate may differ per node). The encryption config is
// AwsCluster's own parameter (it creates the keys), so the bundle's entry for it is left to AwsCluster.
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ClusterMaterial, contentOf, NodeBundle, PlannedFile } from "../../components/cluster";
import type { AwsWorkerSoftware } from "./index";
import type { ControlPlaneNode } from "./control-plane";
import type { NodeFile, NodeSoftware } from "./node-software";
import { AWS_BIN_DIR, AwsProgramPlan, LOCAL_API_SERVER } from "./program-plan";
import { runsServingApprover, SERVING_APPROVER_UNIT, servingApproverFiles, servingApproverUnit } from "./serving-approver";
import { CONTROL_PLANE_SCOPE, SecretScope, SecretValue, scopeSegment, secretParameters, WORKERS_SCOPE } from "./secrets";
import type { UnitSpec } from "./systemd";
import { flannelUnit, podNetworkFiles } from "./pod-network";
import { toYaml } from "../../components/common";
import { clientPairKubeconfig, kubeProxyClientPair, networkPolicyClientPair } from "../../components/pki";
import {
    KUBE_PROXY_CONFIG_PATH, KUBE_PROXY_KUBECONFIG_PATH, KUBE_ROUTER_KUBECONFIG_PATH, kubeProxyConfiguration, kubeRouterArgv, NETWORK_POLICY_USER,
} from "../node-network";

export interface ControlPlaneSoftware {
    software: (node: ControlPlaneNode) => NodeSoftware;
    secrets: SecretValue[];
}

/** Parameter file id from the path, e.g. /etc/kubernetes/pki/ca.key -> kubernetes-pki-ca.key. */
export function secretFileId(filePath: string): string {
    return path.relative("/etc", filePath).replace(/\//g, "-");
}

const DESCRIPTIONS: Record<string, string> = {
    etcd: "etcd member",
    "kube-apiserver": "Kubernetes API server",
    "kube-controller-manager": "Kubernetes controller manager",
    "kube-scheduler": "Kubernetes scheduler",
};

/** The bundle's processes as units, and the platform's own: the serving-certificate approver beside an apiserver. */
function units(b: NodeBundle): UnitSpec[] {
    const own = runsServingApprover(b) ? [servingApproverUnit(LOCAL_API_SERVER)] : [];
    return [...b.processes.map((p): UnitSpec => ({
        name: p.name,
        description: p.name === "etcd" ? `${DESCRIPTIONS.etcd} ${b.node.name}` : DESCRIPTIONS[p.name],
        ...(p.user ? { user: p.user } : {}),
        execStart: [p.command, ...p.argv],
        ...(p.after.length > 0 ? { after: p.after.map((a) => `${a}.service`) } : {}),
    })), ...own];
}

/** The bundle's files and the platform's own for the processes it adds. */
function filesOf(b: NodeBundle): PlannedFile[] {
    return runsServingApprover(b) ? [...b.files, ...servingApproverFiles()] : b.files;
}

const delivered = (f: PlannedFile) => f.kind !== "encryption";
/** Fetched rather than inline: what a renewal or CA rotation changes on a running node. */
const fetched = (f: PlannedFile) => f.secret || "pki" in f.content;
const scopeOf = (f: PlannedFile, node: string): SecretScope => (f.scope === "node" || !f.secret ? { node } : CONTROL_PLANE_SCOPE);

/** The units a sync restarts when it replaces the file: its readers that do not reload it themselves. */
function restartsOf(f: PlannedFile, approverFiles: ReadonlySet<string>): string[] {
    if (approverFiles.has(f.path)) return [SERVING_APPROVER_UNIT];
    return f.onChange === "restart" ? [...f.readers] : [];
}

/** The control-plane nodes' software; `material` may be undefined to check the wiring before any key exists. */
export function controlPlaneSoftware(plan: AwsProgramPlan, material?: ClusterMaterial): ControlPlaneSoftware {
    const { r } = plan;
    const bundles = plan.cluster.nodes;
    const nodeNames = bundles.map((b) => b.node.name);
    const content = (f: PlannedFile) => (material ? contentOf(f, material) : "");

    // One parameter per (scope, file); a cluster-scoped file carries the same value on every node.
    const values = new Map<string, { scope: SecretScope; fileId: string; file: PlannedFile }>();
    for (const b of bundles) {
        for (const f of filesOf(b).filter((x) => fetched(x) && delivered(x))) {
            const scope = scopeOf(f, b.node.name);
            const fileId = secretFileId(f.path);
            values.set(`${scopeSegment(scope)}/${fileId}`, { scope, fileId, file: f });
        }
    }
    const planned = [...values.values()];
    const params = secretParameters(r.clusterName, nodeNames, planned.map((v) => ({ fileId: v.fileId, scope: v.scope })), r.configKey);
    const nameOf = new Map(params.map((p) => [`${scopeSegment(p.scope)}/${p.fileId}`, p.name]));

    const approverFiles = new Set(servingApproverFiles().map((f) => f.path));
    const software = new Map(bundles.map((b) => {
        const files: NodeFile[] = filesOf(b).filter(delivered).map((f) => {
            const common = { path: f.path, mode: f.mode, ...(f.owner ? { owner: f.owner } : {}) };
            if (!fetched(f)) return { ...common, content: content(f) };
            const restarts = restartsOf(f, approverFiles);
            return {
                ...common, ssmParameter: nameOf.get(`${scopeSegment(scopeOf(f, b.node.name))}/${secretFileId(f.path)}`)!,
                ...(f.secret ? {} : { public: true }), ...(restarts.length > 0 ? { restarts } : {}),
            };
        });
        return [b.node.name, { units: units(b), files }] as const;
    }));
    return {
        software: (node) => {
            const s = software.get(node.name);
            if (!s) throw new Error(`aws program: no software planned for ${node.name}`);
            return s;
        },
        secrets: params.map((p, i) => ({ name: p.name, value: pulumi.secret(content(planned[i].file)) })),
    };
}

export interface WorkerSoftware {
    software: AwsWorkerSoftware;
    /** Values of the workers' own parameters (kube-proxy's and the enforcer's kubeconfigs). */
    secrets: SecretValue[];
}

/**
 * The workers' units: the kubelet, kube-proxy and the NetworkPolicy enforcer (platforms/node-network.ts), as
 * processes of the node with their own client pairs, fetched from the workers' parameters, and the Pod network
 * (pod-network.ts) with the kubelet's credential, so no Pod runs privileged or on the host network for them.
 * `material` as for controlPlaneSoftware.
 */
export function workerSoftware(plan: AwsProgramPlan, material?: ClusterMaterial): WorkerSoftware {
    const { podCidr, serviceCidr } = plan.worker;
    const clients = [
        { path: KUBE_PROXY_KUBECONFIG_PATH, unit: "kube-proxy", user: "system:kube-proxy", pair: (m: ClusterMaterial) => kubeProxyClientPair(m.pki) },
        { path: KUBE_ROUTER_KUBECONFIG_PATH, unit: "kube-router", user: NETWORK_POLICY_USER, pair: (m: ClusterMaterial) => networkPolicyClientPair(m.pki) },
    ];
    const nodeNames = plan.cluster.nodes.map((b) => b.node.name);
    const params = secretParameters(plan.r.clusterName, nodeNames, clients.map((c) => ({ fileId: secretFileId(c.path), scope: WORKERS_SCOPE })), plan.r.configKey);
    const kubeconfig = (c: typeof clients[number]): pulumi.Output<string> => {
        if (!material) return pulumi.output("");
        return clientPairKubeconfig(material.pki, c.pair(material), plan.r.clusterName, plan.cluster.server, c.user);
    };
    const after = ["kubelet.service"];
    // flanneld acts as the node: with the kubeconfig the kubelet writes once it joined (its rotated certificate).
    const kubeletKubeconfig = plan.worker.args.find((a) => a.startsWith("--kubeconfig="))?.slice("--kubeconfig=".length);
    if (!kubeletKubeconfig) throw new Error("aws program: the worker kubelet has no --kubeconfig");
    return {
        software: {
            // As root: the kubelet mounts volumes and drives cgroups, kube-proxy and kube-router program the
            // node's nftables, iptables and ipsets. The platform adds the bootstrap kubeconfig, the
            // KubeletConfiguration and the cluster CA at the paths the kubelet's flags name.
            units: [
                { name: "kubelet", description: "Kubernetes node agent", execStart: [path.join(AWS_BIN_DIR, "kubelet"), ...plan.worker.args], after: ["containerd.service"] },
                { name: "kube-proxy", description: "Kubernetes Service proxy (nftables)", execStart: [path.join(AWS_BIN_DIR, "kube-proxy"), `--config=${KUBE_PROXY_CONFIG_PATH}`], after },
                { name: "kube-router", description: "NetworkPolicy enforcer (kube-router, firewall only)", execStart: kubeRouterArgv(AWS_BIN_DIR, serviceCidr), after },
                flannelUnit(kubeletKubeconfig, after),
            ],
            files: [
                // CIS 4.1.3/4.1.4: kube-proxy's files root's and 0600, as the kubelet's are.
                { path: KUBE_PROXY_CONFIG_PATH, content: toYaml(kubeProxyConfiguration({ clusterCidr: podCidr, hostConntrack: false })), mode: 0o600 },
                ...params.map((p, i) => ({ path: clients[i].path, ssmParameter: p.name, mode: 0o600, restarts: [clients[i].unit], embedsClusterCa: true })),
                ...podNetworkFiles(podCidr),
            ],
            kubeletConfiguration: plan.worker.config,
        },
        secrets: params.map((p, i) => ({ name: p.name, value: kubeconfig(clients[i]) })),
    };
}
