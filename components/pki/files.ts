// The files a platform writes for one control-plane host, at kubeadm's names under the platform's layout.
// Modes follow kubeadm and the CIS benchmark: anything holding a key is 0600, certificates 0644.
import * as pulumi from "@pulumi/pulumi";
import { CertPaths, configFile, fail, FileLayout, knownKeys, pkiFiles, pkiPair, serviceAccountKeys } from "../common";
import { CA_SPECS, certNames, PkiFileName } from "./certlist";
import { kubeconfigFilesYaml } from "./kubeconfig";
import { PkiMaterial } from "./cluster-pki";

const CA_FILE = CA_SPECS.find((c) => c.name === "kubernetes")!.file;

export interface PkiFile {
    path: string;
    content: pulumi.Output<string>;
    mode: 0o600 | 0o644;
}

export interface PkiFileSelection {
    /** Whose apiserver.crt/.key and kubelet.conf to write. Default: the first control-plane node. */
    node?: string;
    /** Whose etcd server/peer pair becomes etcd/server.* and etcd/peer.*. Default: the first etcd member. */
    etcdMember?: string;
    /**
     * Where to put this node's kubelet serving pair, if the platform wants it on disk. kubeadm has no name
     * for it under /etc/kubernetes, so the caller (which also points the kubelet at it) chooses.
     */
    kubeletServing?: CertPaths;
}

/** A file of the PKI planned from its tables alone; `from` reads its content out of the issued material. */
export interface PlannedPkiFile {
    path: string;
    mode: 0o600 | 0o644;
    kind: "pki" | "kubeconfig";
    from: (pki: PkiMaterial) => pulumi.Output<string>;
    /** Set when the file holds one host's own credential, so its content differs from host to host. */
    host?: string;
}

/** Files for one host; `select` picks the node and etcd member whose per-host credentials it gets. */
export function pkiFileSet(pki: PkiMaterial, layout: FileLayout, select: PkiFileSelection = {}, configKey = "pkiFileSet"): PkiFile[] {
    return planPkiFiles(pki, layout, select, configKey).map((f) => ({ path: f.path, content: f.from(pki), mode: f.mode }));
}

/**
 * The same files as pkiFileSet, decided from the certificate and kubeconfig tables only (which follow from the
 * resolved options), so a plan can be complete and checked before any key exists.
 */
export function planPkiFiles(tables: Pick<PkiMaterial, "table" | "kubeconfigSpecs">, layout: FileLayout, select: PkiFileSelection = {}, configKey = "pkiFileSet"): PlannedPkiFile[] {
    knownKeys(configKey, select, ["node", "etcdMember", "kubeletServing"]);
    const hostsOf = (prefix: (h: string) => string) => tables.table.filter((r) => r.host !== undefined && r.name === prefix(r.host)).map((r) => r.host!);
    const nodes = hostsOf(certNames.kubeletClient);
    const members = hostsOf(certNames.etcdServer);
    const node = select.node ?? nodes[0];
    const member = select.etcdMember ?? members[0];
    if (!nodes.includes(node)) fail(`${configKey}.node`, node, `use one of: ${nodes.join(", ")}`);
    if (!members.includes(member)) fail(`${configKey}.etcdMember`, member, `use one of: ${members.join(", ")}`);

    const files: PlannedPkiFile[] = [];
    const pair = (name: PkiFileName, cert: PlannedPkiFile["from"], keyPem?: PlannedPkiFile["from"], host?: string) => {
        const paths = pkiPair(layout, name.base, name.etcd);
        const own = host === undefined ? {} : { host };
        files.push({ path: paths.cert, mode: 0o644, kind: "pki", from: cert, ...own });
        if (keyPem) files.push({ path: paths.key, mode: 0o600, kind: "pki", from: keyPem, ...own });
    };

    // Only the Kubernetes CA key goes to disk: the controller-manager signs kubelet CSRs with it. No
    // process needs the etcd or front-proxy CA keys at run time, so they stay in (encrypted) state only.
    for (const ca of CA_SPECS) {
        pair(ca.file, (m) => m.cas[ca.name].trustPem, ca.name === "kubernetes" ? (m) => m.cas[ca.name].keyPem : undefined);
    }
    files.push({ path: pkiPair(layout, pkiFiles.clusterSigningCa).cert, mode: 0o644, kind: "pki", from: (m) => m.cas.kubernetes.certPem });

    // A per-host row goes only to its own host: the node's for node rows (a worker has no API server row, so
    // it gets no apiserver pair), the member's for etcd rows. A machine can be both under one name.
    const selected = { node, etcdMember: member };
    for (const row of tables.table) {
        if (row.file === undefined || (row.host !== undefined && row.host !== selected[row.hostKind ?? "etcdMember"])) continue;
        pair(row.file, (m) => m.certificates[row.name].certPem, (m) => m.certificates[row.name].keyPem, row.host);
    }

    const sa = serviceAccountKeys(layout);
    files.push({ path: sa.privateKey, mode: 0o600, kind: "pki", from: (m) => m.serviceAccount.privateKeyPem });
    files.push({ path: sa.publicKey, mode: 0o644, kind: "pki", from: (m) => m.serviceAccount.publicKeyPem });

    for (const spec of tables.kubeconfigSpecs) {
        if (spec.file === undefined || (spec.host !== undefined && spec.host !== node)) continue;
        const row = tables.table.find((r) => r.name === spec.cert);
        let from: PlannedPkiFile["from"] = (m) => m.kubeconfigs[spec.name];
        if (spec.referencesFiles) {
            if (row?.file === undefined) throw new Error(`pki: kubeconfig ${spec.name} references the files of ${spec.cert}, which has none`);
            const pair = pkiPair(layout, row.file.base, row.file.etcd);
            const files = { userName: row.commonName, caFile: pkiPair(layout, CA_FILE.base).cert, certFile: pair.cert, keyFile: pair.key };
            from = (m) => m.kubeconfigServers[spec.name].apply((server) => kubeconfigFilesYaml({ ...files, clusterName: m.clusterName, server }));
        }
        files.push({ path: configFile(layout, spec.file), mode: 0o600, kind: "kubeconfig", from, ...(spec.host === undefined ? {} : { host: spec.host }) });
    }

    if (select.kubeletServing !== undefined) {
        const serving = certNames.kubeletServing(node);
        files.push({ path: select.kubeletServing.cert, mode: 0o644, kind: "pki", from: (m) => m.certificates[serving].certPem, host: node });
        files.push({ path: select.kubeletServing.key, mode: 0o600, kind: "pki", from: (m) => m.certificates[serving].keyPem, host: node });
    }
    return files;
}
