// Runs the toolchain's kube-bench against the running control plane with the config the platform wrote.
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { KubeBenchCheck, kubeBenchChecks } from "../../platforms/local/kube-bench";

export function runKubeBench(bin: string, cfgDir: string, config: string): KubeBenchCheck[] {
    const res = spawnSync(path.join(bin, "kube-bench"), [
        "run", "--config-dir", cfgDir, "--config", config, "--benchmark", "cis-1.12", "--targets", "master,etcd", "--json",
    ], { encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, maxBuffer: 64 * 1024 * 1024 });
    // kube-bench exits non-zero when checks fail; the report is what matters, so only a missing one is an error.
    const start = res.stdout.indexOf("{");
    if (start < 0) throw new Error(`kube-bench produced no JSON report (exit ${res.status}): ${res.stderr.slice(-2000)}`);
    return kubeBenchChecks(JSON.parse(res.stdout.slice(start)));
}
