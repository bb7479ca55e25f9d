// kube-scheduler flags. Everything is passed as flags rather than a KubeSchedulerConfiguration: with --config
// the binary ignores --profiling and friends, and kube-bench reads only the command line (CIS 1.4.x).
import { configFile } from "../common";
import { FlagMap } from "./flags";
import { ResolvedControlPlane } from "./resolve";
import { kubeTlsFlags } from "./tls";

export function schedulerFlags(r: ResolvedControlPlane): FlagMap {
    const kubeconfig = configFile(r.layout, "scheduler");
    return {
        kubeconfig,
        "authentication-kubeconfig": kubeconfig,
        "authorization-kubeconfig": kubeconfig,
        "bind-address": r.network.schedulerBindAddress,
        "secure-port": String(r.network.schedulerPort),
        ...kubeTlsFlags(r.tls),
        "leader-elect": "true",
        profiling: String(r.weakenings.profiling),
        ...r.extraArgs.scheduler,
    };
}
