// The hardened-cluster program: validates the stack's configuration (config/), hands it to the selected
// platform, and applies the in-cluster baseline through the provider the platform returns. Platforms decide
// only where files go and how processes start; every setting comes from components/.
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterBaseline } from "./components/cluster-baseline";
import { ConfigError } from "./components/common/errors";
import { loadBlueprintConfig, NAMESPACE as ns } from "./config";

/** A bad setting is the user's to fix, not a crash: the engine prints a RunError's message alone, without a stack. */
function userFacing<T>(build: () => T): T {
    try {
        return build();
    } catch (e) {
        if (e instanceof ConfigError) throw new pulumi.RunError(e.message);
        throw e;
    }
}

// Every key is checked (unknown keys included) before any resource is registered.
const cfg = userFacing(() => loadBlueprintConfig(pulumi.runtime.allConfig(), pulumi.getStack()));
const configKeys = {
    local: `${ns}:local`, aws: `${ns}:aws`, pki: `${ns}:pki`, encryption: `${ns}:encryption`,
    audit: `${ns}:audit`, controlPlane: `${ns}:controlPlane`,
};

interface PlatformResult {
    server: pulumi.Input<string>;
    kubeconfig: pulumi.Output<string>;
    caCertPem: pulumi.Output<string>;
    userKubeconfigs: pulumi.Output<Record<string, string>>;
    provider: k8s.Provider;
    posture: pulumi.Input<object>;
    extra: Record<string, pulumi.Input<unknown>>;
}

/** What every platform hands back, with the same names; `extra` holds the platform's own identifiers. */
function result(p: Omit<PlatformResult, "extra">, extra: PlatformResult["extra"]): PlatformResult {
    const { server, kubeconfig, caCertPem, userKubeconfigs, provider, posture } = p;
    return { server, kubeconfig, caCertPem, userKubeconfigs, provider, posture, extra };
}

function localPlatform(): PlatformResult {
    // Loaded only for this platform, so an AWS stack never needs the local toolchain (and vice versa).
    const { LocalCluster } = require("./platforms/local/cluster") as typeof import("./platforms/local/cluster");
    const toolchainBin = execFileSync("bash", [path.join(__dirname, "scripts/toolchain.sh"), "--bin-dir"], { encoding: "utf8" }).trim();
    const cluster = new LocalCluster("local", {
        stack: pulumi.getStack(),
        toolchainBin,
        kubeBenchCfg: path.join(path.dirname(toolchainBin), "kube-bench/cfg"),
        local: cfg.local,
        pki: cfg.pki,
        encryption: cfg.encryption,
        audit: cfg.audit,
        controlPlane: cfg.controlPlane,
        configKeys,
    });
    return result(cluster, { kubeconfigPath: cluster.kubeconfigPath, kubeBenchConfigPath: cluster.kubeBenchConfigPath, ready: cluster.ready });
}

function awsPlatform(): PlatformResult {
    const { awsProgram } = require("./platforms/aws/program") as typeof import("./platforms/aws/program");
    const aws = awsProgram({
        stack: pulumi.getStack(),
        aws: cfg.aws!,
        pki: cfg.pki,
        encryption: cfg.encryption,
        audit: cfg.audit,
        controlPlane: cfg.controlPlane,
        configKeys,
    });
    return result(aws, {
        vpcId: aws.cluster.vpcId, apiDnsName: aws.cluster.apiDnsName, apiLoadBalancerArn: aws.cluster.apiLoadBalancerArn,
        controlPlaneInstanceIds: aws.cluster.controlPlaneInstanceIds, workerGroupName: aws.cluster.workerGroupName,
        auditLogGroup: aws.cluster.auditLogGroupName, alarmTopicArn: aws.cluster.alarmTopicArn,
    });
}

const platform = userFacing(() => (cfg.platform === "aws" ? awsPlatform() : localPlatform()));

// The in-cluster half, through the platform's provider: it waits for a healthy, bootstrapped control plane.
const baseline = userFacing(() => new ClusterBaseline("baseline", { ...cfg.baseline, configKey: `${ns}:baseline` }, { provider: platform.provider }));

export const endpoint = platform.server;
export const kubeconfig = platform.kubeconfig;
export const caCertPem = platform.caCertPem;
export const userKubeconfigs = platform.userKubeconfigs;
export const posture = pulumi.output({ platform: platform.posture, baseline: baseline.posture });
export const details = platform.extra;
export const kubeconfigPath = platform.extra.kubeconfigPath;
export const kubeBenchConfigPath = platform.extra.kubeBenchConfigPath;
