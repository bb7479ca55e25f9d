// The stack, end to end: every key read and resolved in one pass (all errors together, before any resource),
// then the selected platform delivers the cluster plan. Both platforms return the same ClusterDelivery from
// the same shape of call, so the program never adapts between them.
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { ClusterKeys, ClusterPlan, ClusterSettings } from "../components/cluster";
import type { PlatformRegistry } from "../components/cluster-baseline";
import { ConfigErrorList, fail, key } from "../components/common";
import { BlueprintConfig, LoadOptions, NAMESPACE, readBlueprintConfig } from "../config";
import type { AwsOptions } from "./aws/options";
import type { AwsProgramPlan } from "./aws/program-plan";
import type { LocalStackPlan } from "./local/plan";

export const CONFIG_KEYS: ClusterKeys & { local: string; aws: string; backup: string } = {
    pki: `${NAMESPACE}:pki`, encryption: `${NAMESPACE}:encryption`, audit: `${NAMESPACE}:audit`,
    controlPlane: `${NAMESPACE}:controlPlane`, local: `${NAMESPACE}:local`, aws: `${NAMESPACE}:aws`, backup: `${NAMESPACE}:backup`,
};

export type StackPlan =
    | { platform: "local"; config: BlueprintConfig; cluster: ClusterPlan; local: LocalStackPlan }
    | { platform: "aws"; config: BlueprintConfig; cluster: ClusterPlan; aws: AwsProgramPlan };

export interface PlanStackOptions extends LoadOptions {
    /** The toolchain's bin directory: asked for only by a local stack, or an AWS stack that publishes the toolchain's binaries. */
    toolchainBin?: () => string;
    /** Planning for an etcd restore (see LocalStackInput.restoring). */
    restoring?: boolean;
}

/** What every platform hands back, under the same names. */
export interface ClusterDelivery {
    server: pulumi.Input<string>;
    /** Secret. */
    kubeconfig: pulumi.Output<string>;
    caCertPem: pulumi.Output<string>;
    /** Secret. */
    userKubeconfigs: pulumi.Output<Record<string, string>>;
    provider: k8s.Provider;
    posture: pulumi.Input<object>;
    /** The platform's own identifiers (local: file paths; AWS: VPC, NLB, instances, ...). */
    outputs: Record<string, pulumi.Input<unknown>>;
    /** Registries the platform serves images from itself, for the baseline's admission allow-list. */
    platformRegistries: PlatformRegistry[];
}

/**
 * Reads, validates and resolves a stack's whole configuration against its platform, collecting every error
 * with its key path. `all` is pulumi.runtime.allConfig(): "namespace:key" -> string, objects as JSON.
 */
export function planStack(all: Readonly<Record<string, string>>, stack: string, options: PlanStackOptions = {}): StackPlan {
    const errors = new ConfigErrorList();
    const config = readBlueprintConfig(all, stack, errors, options);
    const settings: ClusterSettings = { pki: config.pki, encryption: config.encryption, audit: config.audit, controlPlane: config.controlPlane };
    let plan: StackPlan | undefined;
    if (config.platform === "aws") {
        // Loaded only for AWS stacks: the AWS platform pulls in the AWS SDK.
        const { planAwsProgram } = require("./aws/program-plan") as typeof import("./aws/program-plan");
        // A key that failed on its own is reported once, not again as missing.
        if (config.aws === undefined && !errors.has(CONFIG_KEYS.aws)) {
            errors.attempt(() => fail(CONFIG_KEYS.aws, undefined, "the aws platform needs it: set at least clusterName and region"));
        } else if (!errors.has(CONFIG_KEYS.aws)) {
            errors.attempt(() => {
                const aws = planAwsProgram({ stack, aws: config.aws as AwsOptions, settings, backup: config.backup, keys: CONFIG_KEYS, providerRegion: all["aws:region"], toolchainBin: options.toolchainBin });
                plan = { platform: "aws", config, cluster: aws.cluster, aws };
            });
        }
    } else if (config.platform === "local" && !errors.has(CONFIG_KEYS.local)) {
        const { planLocalStack } = require("./local/plan") as typeof import("./local/plan");
        errors.attempt(() => {
            const local = planLocalStack({
                stack, local: config.local, settings, backup: config.backup, keys: CONFIG_KEYS, isRoot: options.isRoot, restoring: options.restoring,
                // A setting already refused stands in as its default here: what the live cluster says of that is moot.
                liveChecks: !errors.has(CONFIG_KEYS.encryption),
                toolchainBin: options.toolchainBin?.() ?? "/nonexistent/toolchain-bin",
            });
            plan = { platform: "local", config, cluster: local.cluster, local };
        });
    }
    errors.throwIfAny();
    if (plan === undefined) throw new Error(`${NAMESPACE}: no plan for platform ${String(config.platform)} and no error to say why`);
    return plan;
}

/** Delivers a stack plan on its platform. */
export function deliverStack(plan: StackPlan, kubeBenchCfg?: string): ClusterDelivery {
    if (plan.platform === "aws") {
        const { awsProgram } = require("./aws/program") as typeof import("./aws/program");
        const aws = awsProgram({ plan: plan.aws });
        const c = aws.cluster;
        return {
            server: aws.server, kubeconfig: aws.kubeconfig, caCertPem: aws.caCertPem, userKubeconfigs: aws.userKubeconfigs,
            provider: aws.provider, posture: aws.posture,
            outputs: {
                vpcId: c.vpcId, apiDnsName: c.apiDnsName, apiLoadBalancerArn: c.apiLoadBalancerArn, controlPlaneInstanceIds: c.controlPlaneInstanceIds,
                workerGroupName: c.workerGroupName, auditLogGroup: c.auditLogGroupName, alarmTopicArn: c.alarmTopicArn, backupBucket: c.backupBucket,
                certificates: aws.pki.inventory,
            },
            platformRegistries: aws.platformRegistries,
        };
    }
    const { LocalCluster } = require("./local/cluster") as typeof import("./local/cluster");
    const { nodeRegistries } = require("./local/worker/plan") as typeof import("./local/worker/plan");
    const cluster = new LocalCluster("local", { plan: plan.local, kubeBenchCfg });
    return {
        server: cluster.server, kubeconfig: cluster.kubeconfig, caCertPem: cluster.caCertPem, userKubeconfigs: cluster.userKubeconfigs,
        provider: cluster.provider, posture: cluster.posture,
        outputs: { kubeconfigPath: cluster.kubeconfigPath, kubeBenchConfigPath: cluster.kubeBenchConfigPath, ready: cluster.ready, certificates: cluster.pki.inventory, encryption: cluster.encryption },
        platformRegistries: nodeRegistries(plan.local, key(CONFIG_KEYS.local, "workers")),
    };
}
