// The kubelet serving-certificate approver on AWS (what it checks: platforms/serving-approver.ts): a unit on every
// control-plane node, against the apiserver on its own node. Every copy sees the same pending requests; an
// approval another copy made first fails on the request's resourceVersion and is not repeated, so losing nodes
// loses no approvals. It runs as its own user, which reads its key through its group, as etcd reads its own;
// its directory is beside /etc/kubernetes/pki, which CIS 1.1.19 wants root's alone.
import * as path from "node:path";
import { servingApproverClientPair } from "../../components/pki";
import type { NodeBundle, PlannedFile } from "../../components/cluster";
import { AWS_BIN_DIR } from "./binaries";
import type { UnitSpec } from "./systemd";

export const SERVING_APPROVER_UNIT = "csr-approver";
export const SERVING_APPROVER_SYSTEM_USER = "csr-approver";
export const SERVING_APPROVER_DIR = "/etc/kubernetes/csr-approver";
const CA_FILE = path.join(SERVING_APPROVER_DIR, "ca.crt");
const CERT_FILE = path.join(SERVING_APPROVER_DIR, "client.crt");
const KEY_FILE = path.join(SERVING_APPROVER_DIR, "client.key");

/** Whether a node runs the approver: it dials the apiserver on its own node, so only a node that runs one. */
export function runsServingApprover(b: NodeBundle): boolean {
    return b.processes.some((p) => p.name === "kube-apiserver");
}

/** Its files, root:csr-approver: the cluster CA and its certificate (public, in user data) and its key (an SSM parameter, 0640). */
export function servingApproverFiles(): PlannedFile[] {
    // No plan process reads them (readers): the platform adds the one that does.
    const common = { readers: [], onChange: "restart" as const, kind: "pki" as const, owner: `root:${SERVING_APPROVER_SYSTEM_USER}` };
    return [
        { ...common, path: CA_FILE, content: { pki: (m) => m.cas.kubernetes.trustPem }, mode: 0o644, secret: false },
        { ...common, path: CERT_FILE, content: { pki: (m) => servingApproverClientPair(m).certPem }, mode: 0o644, secret: false },
        { ...common, path: KEY_FILE, content: { pki: (m) => servingApproverClientPair(m).keyPem }, mode: 0o640, secret: true, scope: "cluster" },
    ];
}

/** Its unit, after the node's apiserver; `apiServer` is the apiserver on the same node. */
export function servingApproverUnit(apiServer: string): UnitSpec {
    return {
        name: SERVING_APPROVER_UNIT,
        description: "Kubelet serving-certificate approver (a node's own request, for what its Node reports)",
        user: SERVING_APPROVER_SYSTEM_USER,
        execStart: [path.join(AWS_BIN_DIR, "hc-csr-approver"), `-server=${apiServer}`, `-ca-file=${CA_FILE}`, `-cert-file=${CERT_FILE}`, `-key-file=${KEY_FILE}`],
        after: ["kube-apiserver.service"],
    };
}
