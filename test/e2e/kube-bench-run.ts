// Runs the toolchain's kube-bench against the running control plane with the config the platform wrote.
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { KubeBenchCheck, kubeBenchChecks } from "../../platforms/local/kube-bench";

/**
 * `nodeRoot`: a node of the ha topology, laid out below a directory of its own. Some checks read kubeadm's
 * fixed paths (/etc/kubernetes/admin.conf, /etc/kubernetes/pki), so kube-bench runs in a mount namespace
 * where that node's etc/kubernetes is /etc/kubernetes, as it would be on a machine of its own (needs root).
 */
export function runKubeBench(bin: string, cfgDir: string, config: string, opts: { targets?: string; nodeRoot?: string; enter?: string[] } = {}): KubeBenchCheck[] {
    const argv = [path.join(bin, "kube-bench"), "run", "--config-dir", cfgDir, "--config", config, "--benchmark", "cis-1.12", "--targets", opts.targets ?? "master,etcd", "--json"];
    // `enter`: a command that runs the rest in a node's namespaces (the AWS boot drill's nsenter).
    const [cmd, ...args] = opts.nodeRoot
        ? ["unshare", "--mount", "--propagation", "private", "sh", "-c", 'mount --bind "$0/etc/kubernetes" /etc/kubernetes && exec "$@"', opts.nodeRoot, ...argv]
        : [...(opts.enter ?? []), ...argv];
    const res = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, maxBuffer: 64 * 1024 * 1024 });
    // kube-bench exits non-zero when checks fail; the report is what matters, so only a missing one is an error.
    const start = res.stdout.indexOf("{");
    if (start < 0) throw new Error(`kube-bench produced no JSON report (exit ${res.status}): ${res.stderr.slice(-2000)}`);
    return kubeBenchChecks(JSON.parse(res.stdout.slice(start)));
}

/**
 * The scored checks no layout owned by an ordinary user can pass, measured by running the user layout as an
 * unprivileged uid (test/e2e/new-user.spec.ts): CIS wants these files owned by root (or etcd), or looks only at
 * kubeadm's fixed paths. Everything else passes in the user layout too.
 */
export const USER_LAYOUT_ROOT_ONLY: Readonly<Record<string, string>> = {
    "1.1.2": "API server spec file owned by root:root",
    "1.1.4": "controller-manager spec file owned by root:root",
    "1.1.6": "scheduler spec file owned by root:root",
    "1.1.8": "etcd spec file owned by root:root",
    "1.1.12": "etcd data directory owned by etcd:etcd",
    "1.1.13": "looks only at /etc/kubernetes/admin.conf",
    "1.1.14": "looks only at /etc/kubernetes/admin.conf",
    "1.1.16": "scheduler.conf owned by root:root",
    "1.1.18": "controller-manager.conf owned by root:root",
    "1.1.19": "looks only at /etc/kubernetes/pki, owned by root:root",
};
