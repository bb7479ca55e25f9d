// One pure plan for every control-plane node: the files it gets (with who reads them and how a change
// reaches them) and the processes it runs. Platforms only deliver bundles: the local platform as files and
// supervised processes, AWS as SSM parameters, cloud-init and systemd units.
import { auditLogFiles, renderAuditPolicy, renderAuditWebhookConfig } from "../audit";
import { configFile, componentClientFiles, componentServingFiles, FileLayout, pkiFiles, pkiPair, serviceAccountKeys, toYaml } from "../common";
import { controlPlaneFileList } from "../control-plane";
import { kubeconfigsOf, planPkiFiles, tableOf } from "../pki";
import { clusterPosture, ClusterPosture } from "./posture";
import { ResolvedCluster, ResolvedNode } from "./resolve";
import { ClusterMaterial, HealthCheck, NodeBundle, PlannedFile, PlannedProcess, ProcessName } from "./types";

export interface ClusterPlan {
    resolved: ResolvedCluster;
    /** The URL in every client kubeconfig. */
    server: string;
    nodes: NodeBundle[];
    posture: ClusterPosture;
}

type PkiTables = Parameters<typeof planPkiFiles>[0];

export function planCluster(resolved: ResolvedCluster): ClusterPlan {
    const tables: PkiTables = { table: tableOf(resolved.pkiResolved), kubeconfigSpecs: kubeconfigsOf(resolved.pkiResolved) };
    return {
        resolved,
        server: resolved.facts.serverUrl,
        nodes: resolved.nodes.map((n) => ({ node: n.member, files: nodeFiles(resolved, n, tables), processes: nodeProcesses(resolved, n) })),
        posture: clusterPosture(resolved),
    };
}

/** A file's content, once the PKI and the encryption config exist. */
export function contentOf(f: PlannedFile, m: ClusterMaterial) {
    const c = f.content;
    if ("text" in c) return c.text;
    if ("pki" in c) return c.pki(m.pki);
    return m.encryptionConfig;
}

/**
 * Which process reads which file, by file: the table a renewal or rotation consults to know whom to restart.
 * Paths are relative to the layout; "etcd/" files are the ones in the etcd key directory. A unit test checks
 * the table against every process's command line, both ways.
 */
function pkiReaders(L: FileLayout, E: FileLayout): Map<string, ProcessName[]> {
    const m = new Map<string, ProcessName[]>();
    const add = (p: string, ...readers: ProcessName[]) => m.set(p, [...(m.get(p) ?? []), ...readers]);
    const pair = (base: string, ...readers: ProcessName[]) => {
        const { cert, key } = pkiPair(L, base);
        add(cert, ...readers);
        add(key, ...readers);
    };
    add(pkiPair(L, pkiFiles.ca).cert, "kube-apiserver", "kube-controller-manager");
    add(pkiPair(L, pkiFiles.ca).key, "kube-controller-manager");
    add(pkiPair(L, pkiFiles.clusterSigningCa).cert, "kube-controller-manager");
    add(pkiPair(L, pkiFiles.frontProxyCa).cert, "kube-apiserver", "kube-controller-manager");
    pair(pkiFiles.apiserver, "kube-apiserver");
    pair(pkiFiles.apiserverKubeletClient, "kube-apiserver");
    pair(pkiFiles.apiserverEtcdClient, "kube-apiserver");
    pair(pkiFiles.frontProxyClient, "kube-apiserver");
    pair(componentServingFiles.controllerManager, "kube-controller-manager");
    pair(componentServingFiles.scheduler, "kube-scheduler");
    pair(componentClientFiles.controllerManager, "kube-controller-manager");
    pair(componentClientFiles.scheduler, "kube-scheduler");
    const sa = serviceAccountKeys(L);
    add(sa.privateKey, "kube-apiserver", "kube-controller-manager");
    add(sa.publicKey, "kube-apiserver");
    add(pkiPair(L, pkiFiles.etcdCa, true).cert, "kube-apiserver");
    add(pkiPair(E, pkiFiles.etcdCa, true).cert, "etcd");
    for (const base of [pkiFiles.etcdServer, pkiFiles.etcdPeer]) {
        add(pkiPair(E, base, true).cert, "etcd");
        add(pkiPair(E, base, true).key, "etcd");
    }
    // Read by the platform's health check of etcd, not by a process.
    add(pkiPair(L, pkiFiles.etcdHealthcheckClient, true).cert);
    add(configFile(L, "controllerManager"), "kube-controller-manager");
    add(configFile(L, "scheduler"), "kube-scheduler");
    return m;
}

function nodeFiles(r: ResolvedCluster, n: ResolvedNode, tables: PkiTables): PlannedFile[] {
    const { facts } = r;
    const L = n.layout;
    const E = n.etcdLayout;
    const readers = pkiReaders(L, E);
    // Pairs a kubeconfig names by path: client-go reads them again itself (see kubeconfigFilesYaml).
    const reloaded = new Set(tables.kubeconfigSpecs.filter((s) => s.referencesFiles).flatMap((s) => {
        const f = tables.table.find((r) => r.name === s.cert)!.file!;
        return Object.values(pkiPair(L, f.base, f.etcd));
    }));
    // An etcd-only member gets no Kubernetes credentials: only etcd's files and the platform's health check pair.
    const select = n.member.etcdOnly ? { etcdMember: n.member.name } : { node: n.member.name, etcdMember: n.member.name };
    const etcdHealth = new Set([...Object.values(pkiPair(L, pkiFiles.etcdHealthcheckClient, true)), pkiPair(L, pkiFiles.etcdCa, true).cert]);
    const separateEtcd = E.etcdPkiDir !== L.etcdPkiDir;
    const etcdOwn = new Set([pkiFiles.etcdCa, pkiFiles.etcdServer, pkiFiles.etcdPeer].flatMap((b) => Object.values(pkiPair(E, b, true))));
    const perNode = new Set([pkiFiles.etcdServer, pkiFiles.etcdPeer].map((b) => pkiPair(E, b, true).key));
    // Nothing on a control-plane node reads these: it runs no kubelet, and the admin credentials are stack
    // outputs. Only a platform whose operator works on the node itself (local) puts them on disk.
    const skip = new Set([configFile(L, "kubelet"), ...(facts.operatorOnNode ? [] : [configFile(L, "admin"), configFile(L, "superAdmin")])]);
    // etcd reads its own files through its group and can never change them: nothing it plants there can
    // redirect a write made as root.
    const etcdGroup = facts.etcdUser ? { owner: `root:${facts.etcdUser}`, dir: { mode: 0o750, owner: `root:${facts.etcdUser}` } } : {};

    const files: PlannedFile[] = [];
    const etcdPairsInKubeDir = new Set([pkiFiles.etcdServer, pkiFiles.etcdPeer].flatMap((b) => Object.values(pkiPair(L, b, true))));
    for (const f of planPkiFiles(tables, L, select)) {
        if (skip.has(f.path) || (separateEtcd && etcdPairsInKubeDir.has(f.path))) continue;
        if (!separateEtcd && etcdOwn.has(f.path)) continue; // written once below, with etcd's ownership
        if (n.member.etcdOnly && !etcdHealth.has(f.path)) continue;
        files.push({
            path: f.path, content: { pki: f.from }, mode: f.mode, secret: f.mode === 0o600, scope: f.mode === 0o600 ? (f.host !== undefined ? "node" : "cluster") : undefined,
            readers: readers.get(f.path) ?? [], onChange: reloaded.has(f.path) ? "reload" : "restart", kind: f.kind,
        });
    }
    for (const f of planPkiFiles(tables, E, select)) {
        if (!etcdOwn.has(f.path)) continue;
        const secret = f.mode === 0o600;
        files.push({
            path: f.path, content: { pki: f.from }, mode: facts.etcdUser ? f.mode | 0o040 : f.mode, ...etcdGroup,
            secret, scope: secret ? (perNode.has(f.path) ? "node" : "cluster") : undefined,
            readers: readers.get(f.path) ?? [], onChange: "restart", kind: "pki",
        });
    }
    // The health check pair's other readers (the apiserver) do not run here.
    if (n.member.etcdOnly) return files.map((f) => ({ ...f, readers: f.readers.filter((r) => r === "etcd") }));

    const apiserver: ProcessName[] = ["kube-apiserver"];
    const settings = (p: string, text: string): PlannedFile => ({ path: p, content: { text }, mode: 0o600, secret: false, readers: apiserver, onChange: "restart", kind: "settings" });
    const audit = auditLogFiles(L);
    files.push({ ...settings(audit.policyFile, toYaml(renderAuditPolicy(r.audit, r.keys.audit))), kind: "audit" });
    if (r.audit?.webhook) {
        files.push({ ...settings(audit.webhookConfigFile, toYaml(renderAuditWebhookConfig(r.audit.webhook, r.keys.audit))), kind: "audit" });
    }
    const cp = n.controlPlane;
    for (const f of controlPlaneFileList(cp)) {
        if (f.path === cp.filePaths.kubeletConfig) continue; // no kubelet on a control-plane node
        files.push(settings(f.path, f.content));
    }
    // The apiserver reloads it itself (--encryption-provider-config-automatic-reload): that is what lets a key
    // rotation move one stage per `pulumi up` without a restart.
    files.push({ path: configFile(L, "encryption"), content: { encryptionConfig: true }, mode: 0o600, secret: true, scope: "cluster", readers: apiserver, onChange: "reload", kind: "encryption" });
    return files;
}

function nodeProcesses(r: ResolvedCluster, n: ResolvedNode): PlannedProcess[] {
    const { facts } = r;
    const L = n.layout;
    const cp = n.controlPlane;
    const serving = (base: string) => {
        const p = pkiPair(L, base);
        return [`--tls-cert-file=${p.cert}`, `--tls-private-key-file=${p.key}`];
    };
    const ca = pkiPair(L, pkiFiles.ca).cert;
    const etcdClient = pkiPair(L, pkiFiles.etcdHealthcheckClient, true);
    const kubeletClient = pkiPair(L, pkiFiles.apiserverKubeletClient);
    const loopbackUrl = (f: Record<string, string>) => {
        const bind = f["bind-address"];
        const host = bind === undefined || bind === "0.0.0.0" || bind === "::" ? "127.0.0.1" : bind;
        return `https://${hostOf(host)}:${f["secure-port"]}/healthz`;
    };
    const etcdUrl = n.etcd.flags["advertise-client-urls"].split(",")[0];
    const health: Record<ProcessName, HealthCheck> = {
        etcd: { kind: "https", url: `${etcdUrl}/health`, caFile: pkiPair(L, pkiFiles.etcdCa, true).cert, certFile: etcdClient.cert, keyFile: etcdClient.key },
        "kube-apiserver": {
            kind: "https", url: `https://${hostOf(n.member.ip)}:${cp.apiServer.flags["secure-port"]}/readyz`, caFile: ca,
            certFile: kubeletClient.cert, keyFile: kubeletClient.key,
        },
        "kube-controller-manager": { kind: "https", url: loopbackUrl(cp.controllerManager.flags), caFile: ca },
        "kube-scheduler": { kind: "https", url: loopbackUrl(cp.scheduler.flags), caFile: ca },
    };
    const etcdData = n.etcd.flags["data-dir"];
    const etcd: PlannedProcess = {
        name: "etcd", command: facts.binary("etcd"), argv: n.etcd.args, user: facts.etcdUser, health: health.etcd, after: [], retriesStart: false,
        dirs: [{ path: etcdData, mode: 0o700, owner: facts.etcdUser ? `${facts.etcdUser}:${facts.etcdUser}` : "" }],
    };
    if (n.member.etcdOnly) return [etcd];
    return [
        etcd,
        {
            name: "kube-apiserver", command: facts.binary("kube-apiserver"), argv: cp.apiServer.args, health: health["kube-apiserver"], after: ["etcd"],
            retriesStart: false, dirs: [{ path: L.auditLogDir, mode: 0o700, owner: "" }],
        },
        {
            name: "kube-controller-manager", command: facts.binary("kube-controller-manager"),
            argv: [...cp.controllerManager.args, ...serving(componentServingFiles.controllerManager)],
            health: health["kube-controller-manager"], after: ["kube-apiserver"], retriesStart: true, dirs: [],
        },
        {
            name: "kube-scheduler", command: facts.binary("kube-scheduler"), argv: [...cp.scheduler.args, ...serving(componentServingFiles.scheduler)],
            health: health["kube-scheduler"], after: ["kube-apiserver"], retriesStart: true, dirs: [],
        },
    ];
}

function hostOf(ip: string): string {
    return ip.includes(":") ? `[${ip}]` : ip;
}
