// The files a platform writes for one control-plane host, at kubeadm's names under the platform's layout.
// Modes follow kubeadm and the CIS benchmark: anything holding a key is 0600, certificates 0644.
import * as pulumi from "@pulumi/pulumi";
import { CertPaths, configFile, fail, FileLayout, knownKeys, pkiPair, serviceAccountKeys } from "../common";
import { CA_SPECS, certNames, PkiFileName } from "./certlist";
import { PkiMaterial } from "./cluster-pki";

export interface PkiFile {
    path: string;
    content: pulumi.Output<string>;
    mode: 0o600 | 0o644;
}

export interface PkiFileSelection {
    /** Whose kubelet.conf to write. Default: the first control-plane node. */
    node?: string;
    /** Whose etcd server/peer pair becomes etcd/server.* and etcd/peer.*. Default: the first etcd member. */
    etcdMember?: string;
    /**
     * Where to put this node's kubelet serving pair, if the platform wants it on disk. kubeadm has no name
     * for it under /etc/kubernetes, so the caller (which also points the kubelet at it) chooses.
     */
    kubeletServing?: CertPaths;
}

/** Files for one host; `select` picks the node and etcd member whose per-host credentials it gets. */
export function pkiFileSet(pki: PkiMaterial, layout: FileLayout, select: PkiFileSelection = {}, configKey = "pkiFileSet"): PkiFile[] {
    knownKeys(configKey, select, ["node", "etcdMember", "kubeletServing"]);
    const hostsOf = (prefix: (h: string) => string) => pki.table.filter((r) => r.host !== undefined && r.name === prefix(r.host)).map((r) => r.host!);
    const nodes = hostsOf(certNames.kubeletClient);
    const members = hostsOf(certNames.etcdServer);
    const node = select.node ?? nodes[0];
    const member = select.etcdMember ?? members[0];
    if (!nodes.includes(node)) fail(`${configKey}.node`, node, `use one of: ${nodes.join(", ")}`);
    if (!members.includes(member)) fail(`${configKey}.etcdMember`, member, `use one of: ${members.join(", ")}`);

    const files: PkiFile[] = [];
    const pair = (name: PkiFileName, cert: pulumi.Output<string>, keyPem?: pulumi.Output<string>) => {
        const paths = pkiPair(layout, name.base, name.etcd);
        files.push({ path: paths.cert, content: cert, mode: 0o644 });
        if (keyPem) files.push({ path: paths.key, content: keyPem, mode: 0o600 });
    };

    // Only the Kubernetes CA key goes to disk: the controller-manager signs kubelet CSRs with it. No
    // process needs the etcd or front-proxy CA keys at run time, so they stay in (encrypted) state only.
    for (const ca of CA_SPECS) pair(ca.file, pki.cas[ca.name].certPem, ca.name === "kubernetes" ? pki.cas[ca.name].keyPem : undefined);

    for (const row of pki.table) {
        if (row.file === undefined || (row.host !== undefined && row.host !== member)) continue;
        const issued = pki.certificates[row.name];
        pair(row.file, issued.certPem, issued.keyPem);
    }

    const sa = serviceAccountKeys(layout);
    files.push({ path: sa.privateKey, content: pki.serviceAccount.privateKeyPem, mode: 0o600 });
    files.push({ path: sa.publicKey, content: pki.serviceAccount.publicKeyPem, mode: 0o644 });

    for (const spec of pki.kubeconfigSpecs) {
        if (spec.file === undefined || (spec.host !== undefined && spec.host !== node)) continue;
        files.push({ path: configFile(layout, spec.file), content: pki.kubeconfigs[spec.name], mode: 0o600 });
    }

    if (select.kubeletServing !== undefined) {
        const serving = pki.certificates[certNames.kubeletServing(node)];
        files.push({ path: select.kubeletServing.cert, content: serving.certPem, mode: 0o644 });
        files.push({ path: select.kubeletServing.key, content: serving.keyPem, mode: 0o600 });
    }
    return files;
}
