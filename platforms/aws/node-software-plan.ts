// Turns the AWS program plan and a PKI into what AwsCluster takes: each control-plane node's systemd units
// (ExecStart is exactly the shared renderer's argv) and files, the SSM parameter values, and the workers'
// kubelet. A file is secret when the PKI gives it mode 0600 (keys, kubeconfigs with embedded keys): those
// become SecureString parameters and only their names reach user data. Pure over a PkiMaterial, so the
// program can check the whole wiring against a plan-only PKI before ClusterPki registers anything.
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { configFile, pkiFiles, pkiPair } from "../../components/common";
import { CA_SPECS, kubeconfigsOf, PkiMaterial, pkiFileSet, resolvePkiOptions, tableOf } from "../../components/pki";
import type { AwsWorkerSoftware } from "./index";
import type { ControlPlaneNode } from "./control-plane";
import type { NodeFile, NodeSoftware } from "./node-software";
import { AWS_BIN_DIR, AwsProgramPlan, ETCD_USER, NodePlan } from "./program-plan";
import { CONTROL_PLANE_SCOPE, SecretScope, SecretValue, scopeSegment, secretParameters } from "./secrets";
import type { UnitSpec } from "./systemd";

const SECRET_MODE = 0o600;
/** Mode of the settings files (audit policy, admission, ...): only the root-run apiserver reads them. */
const SETTINGS_MODE = 0o600;

export interface ControlPlaneSoftware {
    software: (node: ControlPlaneNode) => NodeSoftware;
    secrets: SecretValue[];
}

interface DraftFile {
    path: string;
    content: pulumi.Output<string> | string;
    mode: number;
    owner?: string;
    scope?: SecretScope;
}

/** Parameter file id from the path, e.g. /etc/kubernetes/pki/ca.key -> kubernetes-pki-ca.key. */
export function secretFileId(filePath: string): string {
    return path.relative("/etc", filePath).replace(/\//g, "-");
}

function bin(name: string): string {
    return path.join(AWS_BIN_DIR, name);
}

/** The files one control-plane node gets, each marked with its secret scope when it holds key material. */
function draftFiles(plan: AwsProgramPlan, np: NodePlan, pki: PkiMaterial): DraftFile[] {
    const name = np.node.name;
    const { layout, etcdLayout } = plan;
    // etcd's own pairs go to etcd's directory instead; the apiserver keeps the etcd CA and its client pair.
    const etcdPairsInKubeDir = new Set([pkiFiles.etcdServer, pkiFiles.etcdPeer].flatMap((b) => Object.values(pkiPair(layout, b, true))));
    // Nothing on a control-plane node reads these: there is no kubelet, and the admin credentials are stack
    // outputs, so a node compromise does not hand out cluster-admin (or system:masters with breakGlass).
    const unread = new Set([configFile(layout, "kubelet"), configFile(layout, "admin"), configFile(layout, "superAdmin")]);
    const etcdOwn = new Set([pkiFiles.etcdCa, pkiFiles.etcdServer, pkiFiles.etcdPeer].flatMap((b) => Object.values(pkiPair(etcdLayout, b, true))));
    const perNode = new Set([pkiFiles.etcdServer, pkiFiles.etcdPeer].map((b) => pkiPair(etcdLayout, b, true).key));
    const select = { node: name, etcdMember: name };

    const files: DraftFile[] = [];
    for (const f of pkiFileSet(pki, layout, select)) {
        if (etcdPairsInKubeDir.has(f.path) || unread.has(f.path)) continue;
        files.push({ path: f.path, content: f.content, mode: f.mode });
    }
    for (const f of pkiFileSet(pki, etcdLayout, select)) {
        if (!etcdOwn.has(f.path)) continue;
        files.push({ path: f.path, content: f.content, mode: f.mode, owner: ETCD_USER, scope: perNode.has(f.path) ? { node: name } : undefined });
    }
    for (const f of files) {
        if (f.mode === SECRET_MODE && f.scope === undefined) f.scope = CONTROL_PLANE_SCOPE;
    }
    for (const f of plan.settingsFiles) files.push({ path: f.path, content: f.content, mode: SETTINGS_MODE });
    return files;
}

function units(np: NodePlan): UnitSpec[] {
    const cp = np.controlPlane;
    // The Kubernetes components run as root, as kubeadm's static pods do: their keys and kubeconfigs stay
    // root:root 0600 (CIS 1.1.13-1.1.20). etcd runs as its own user and reads only its own directory.
    return [
        { name: "etcd", description: `etcd member ${np.node.name}`, user: ETCD_USER, execStart: [bin("etcd"), ...np.etcd.args] },
        { name: "kube-apiserver", description: "Kubernetes API server", execStart: [bin("kube-apiserver"), ...cp.apiServer.args], after: ["etcd.service"] },
        {
            name: "kube-controller-manager",
            description: "Kubernetes controller manager",
            execStart: [bin("kube-controller-manager"), ...cp.controllerManager.args],
            after: ["kube-apiserver.service"],
        },
        { name: "kube-scheduler", description: "Kubernetes scheduler", execStart: [bin("kube-scheduler"), ...cp.scheduler.args], after: ["kube-apiserver.service"] },
    ];
}

export function controlPlaneSoftware(plan: AwsProgramPlan, pki: PkiMaterial): ControlPlaneSoftware {
    const { r } = plan;
    const drafts = plan.nodes.map((np) => draftFiles(plan, np, pki));
    const nodeNames = plan.nodes.map((np) => np.node.name);

    // One parameter per (scope, file); a control-plane-scoped file must carry the same value on every node.
    const values = new Map<string, { scope: SecretScope; fileId: string; content: DraftFile["content"] }>();
    drafts.flat().filter((f) => f.scope !== undefined).forEach((f) => {
        const fileId = secretFileId(f.path);
        const id = `${scopeSegment(f.scope!)}/${fileId}`;
        const seen = values.get(id);
        if (seen && seen.content !== f.content) throw new Error(`aws program: ${f.path} differs between nodes but is planned once for ${scopeSegment(f.scope!)}`);
        values.set(id, { scope: f.scope!, fileId, content: f.content });
    });
    const planned = [...values.values()];
    const params = secretParameters(r.clusterName, nodeNames, planned.map((v) => ({ fileId: v.fileId, scope: v.scope })), r.configKey);
    const nameOf = new Map(params.map((p) => [`${scopeSegment(p.scope)}/${p.fileId}`, p.name]));

    const software = new Map(plan.nodes.map((np, i) => {
        const files: NodeFile[] = drafts[i].map((f) => {
            const common = { path: f.path, mode: f.mode, ...(f.owner ? { owner: f.owner } : {}) };
            return f.scope === undefined
                ? { ...common, content: f.content }
                : { ...common, ssmParameter: nameOf.get(`${scopeSegment(f.scope)}/${secretFileId(f.path)}`)! };
        });
        return [np.node.name, { units: units(np), files }] as const;
    }));
    return {
        software: (node) => {
            const s = software.get(node.name);
            if (!s) throw new Error(`aws program: no software planned for ${node.name}`);
            return s;
        },
        secrets: params.map((p, i) => ({ name: p.name, value: pulumi.secret(planned[i].content) })),
    };
}

export function workerSoftware(plan: AwsProgramPlan): AwsWorkerSoftware {
    return {
        // As root: the kubelet mounts volumes and drives cgroups. The platform adds the bootstrap kubeconfig,
        // the KubeletConfiguration and the cluster CA at the paths these flags name.
        units: [{ name: "kubelet", description: "Kubernetes node agent", execStart: [bin("kubelet"), ...plan.worker.args], after: ["containerd.service"] }],
        files: [],
        kubeletConfiguration: plan.worker.config,
    };
}

/**
 * The same tables ClusterPki walks, with empty contents: the file list, modes and scopes depend only on the
 * tables, so the wiring can be checked completely before any key exists.
 */
export function plannedPkiMaterial(plan: AwsProgramPlan): PkiMaterial {
    const resolved = resolvePkiOptions(plan.pki, plan.keys.pki);
    const table = tableOf(resolved);
    const kubeconfigSpecs = kubeconfigsOf(resolved);
    const none = () => pulumi.output("");
    return {
        table,
        kubeconfigSpecs,
        cas: Object.fromEntries(CA_SPECS.map((c) => [c.name, { certPem: none(), keyPem: none() }])) as PkiMaterial["cas"],
        certificates: Object.fromEntries(table.map((row) => [row.name, { certPem: none(), keyPem: none(), caPem: none() }])),
        serviceAccount: { publicKeyPem: none(), privateKeyPem: none() },
        kubeconfigs: Object.fromEntries(kubeconfigSpecs.map((s) => [s.name, none()])),
    };
}
