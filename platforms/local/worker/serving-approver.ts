// The kubelet serving-certificate approver on a local stack (what it checks: platforms/serving-approver.ts): one
// process on this machine, beside the control plane, with its client pair and the cluster CA in its own directory.
import * as path from "node:path";
import type { HealthCheck } from "../process";

export interface ServingApproverPlan {
    dir: string;
    caFile: string;
    certFile: string;
    keyFile: string;
    statusFile: string;
    argv: string[];
    health: HealthCheck;
}

export function planServingApprover(runDir: string, bin: string, server: string): ServingApproverPlan {
    const dir = path.join(runDir, "csr-approver");
    const files = { caFile: path.join(dir, "ca.crt"), certFile: path.join(dir, "client.crt"), keyFile: path.join(dir, "client.key"), statusFile: path.join(dir, "run", "listed") };
    return {
        dir, ...files,
        argv: [path.join(bin, "hc-csr-approver"), `-server=${server}`, `-ca-file=${files.caFile}`, `-cert-file=${files.certFile}`, `-key-file=${files.keyFile}`, `-status-file=${files.statusFile}`],
        // Healthy once it has listed the requests: the API answered and its role lets it.
        health: { kind: "status-file", path: files.statusFile },
    };
}
