// The hardened-cluster program: reads and resolves the stack's whole configuration in one pass (every error
// together, before any resource), lets the selected platform deliver the cluster plan, and applies the
// in-cluster baseline through the provider the platform returns. Platforms decide only how files and
// processes are delivered; every setting comes from components/.
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ClusterBaseline } from "./components/cluster-baseline";
import { ConfigError } from "./components/common/errors";
import { NAMESPACE } from "./config";
import { deliverStack, planStack } from "./platforms";

/** A bad setting is the user's to fix, not a crash: the engine prints a RunError's message alone, without a stack. */
function userFacing<T>(build: () => T): T {
    try {
        return build();
    } catch (e) {
        if (e instanceof ConfigError) throw new pulumi.RunError(e.message);
        throw e;
    }
}

const toolchainBin = () => execFileSync("bash", [path.join(__dirname, "scripts/toolchain.sh"), "--bin-dir"], { encoding: "utf8" }).trim();
const plan = userFacing(() => planStack(pulumi.runtime.allConfig(), pulumi.getStack(), { toolchainBin }));
// kube-bench's stock config sits next to the toolchain's bin directory.
const kubeBenchCfg = plan.platform === "local" ? path.join(path.dirname(plan.local.toolchainBin), "kube-bench/cfg") : undefined;
const platform = userFacing(() => deliverStack(plan, kubeBenchCfg));

// The in-cluster half, through the platform's provider: it waits for a healthy, bootstrapped control plane.
const baseline = userFacing(() => new ClusterBaseline("baseline",
    { ...plan.config.baseline, configKey: `${NAMESPACE}:baseline`, platformRegistries: platform.platformRegistries }, { provider: platform.provider }));

export const endpoint = platform.server;
export const kubeconfig = platform.kubeconfig;
export const caCertPem = platform.caCertPem;
export const userKubeconfigs = platform.userKubeconfigs;
export const posture = pulumi.output({ cluster: platform.posture, baseline: baseline.posture });
export const details = platform.outputs;
// Local stacks only (undefined, so not exported, on AWS): where the admin kubeconfig and kube-bench config are.
export const kubeconfigPath = platform.outputs.kubeconfigPath;
export const kubeBenchConfigPath = platform.outputs.kubeBenchConfigPath;
