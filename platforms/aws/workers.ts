// Workers are an Auto Scaling group, so their names and addresses are not known in advance and no per-node
// certificate can be issued ahead of time. They join with a bootstrap token instead (kubelet TLS
// bootstrapping): the token only lets a kubelet ask for a client certificate, it lives at most two token
// windows, and it sits in SSM where only the worker role can read it. After joining, the kubelet rotates its
// client certificate itself and asks the cluster CA for its serving certificate (serverTLSBootstrap), so the
// apiserver can verify kubelets, and no long-lived join secret or per-node key ever passes through Pulumi.
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { fail, isPlainObject, key } from "../../components/common";
import { fetchedBinaries, PublishedBinaries } from "./binaries";
import { CNI_TEMPLATE_PATH, cniPluginPaths, CONTAINERD_CONFIG_PATH, CONTAINERD_PACKAGE, renderCniTemplate, withContainerd } from "./containerd";
import { hardenedLaunchTemplate } from "./launch-template";
import { NODE_IMAGES_UNIT, nodeImagePaths, nodeImagesUnit, type NodeImageNames, withNodeImages } from "./node-images";
import { NodeSoftware, callerUnits, fetchedFiles, inlineContents, inlineFiles, systemUsers } from "./node-software";
import { ResolvedAwsOptions, ROLE_TAG } from "./options";
import { withKubeletSysctls } from "./sysctl";
import type { UnitFile, UnitSpec } from "./systemd";
import { CloudConfigSpec, renderCloudConfig } from "./userdata";
import { SYNC_UNIT, syncService, syncTimer } from "./sync";
import { KUBELET_REJOIN_SCRIPT, renderKubeletRejoinScript } from "./kubelet-rejoin";
import { renderReportScript, REPORT_SCRIPT, reportParameterName, WORKER_REPORTS, workerReportPlan } from "./report";
import { BOOTSTRAP_KUBECONFIG_PATH } from "../worker-join";

export {
    BOOTSTRAP_KUBECONFIG_PATH, bootstrapKubeconfig, bootstrapTokenSecret, CLUSTER_CA_PATH, joinToken, joinTokenWindow, KUBELET_CONFIG_PATH, WORKER_BOOTSTRAP_GROUP,
} from "../worker-join";
export type { JoinToken } from "../worker-join";

/** The workers' ROLE_TAG value. */
export const WORKER_ROLE = "worker";
/** The worker unit the platform applies the kubelet's sysctls for (sysctl.ts). */
export const KUBELET_UNIT = "kubelet";
export const BOOTSTRAP_KUBECONFIG_FILE_ID = "bootstrap-kubelet.conf";
export const CLUSTER_CA_FILE_ID = "cluster-ca.crt";

/**
 * The worker units that read the cluster CA file, so a new trust bundle restarts exactly them: the kubelet
 * (its client CA, and the kubeconfig it writes once joined names the file) and every unit that acts as the
 * node through that kubeconfig.
 */
export function clusterCaReaders(k: string, units: readonly UnitSpec[]): string[] {
    const kubeconfig = kubeletKubeconfig(k, units);
    return units.filter((u) => u.name === KUBELET_UNIT || u.execStart.slice(1).some((a) => a === kubeconfig || a.endsWith(`=${kubeconfig}`))).map((u) => u.name);
}

/** The kubelet unit's --kubeconfig: the kubeconfig it writes once joined. */
export function kubeletKubeconfig(k: string, units: readonly UnitSpec[]): string {
    const kubelet = units.find((u) => u.name === KUBELET_UNIT)!;
    const arg = kubelet.execStart.slice(1).find((a) => a.startsWith("--kubeconfig="));
    if (!arg) fail(key(k, units.indexOf(kubelet), "execStart"), kubelet.execStart.slice(1), "pass --kubeconfig=<path>: the kubelet writes it once joined, and it names the cluster CA file");
    return arg.slice("--kubeconfig=".length);
}

/**
 * The worker kubelet must rotate its client certificate and bootstrap its serving certificate (nothing else
 * would issue one), and keep the CIS 4.2 authentication settings the shared renderer sets.
 */
export function checkKubeletConfiguration(k: string, cfg: unknown): void {
    if (!isPlainObject(cfg)) fail(k, cfg, "pass the KubeletConfiguration object from the shared renderer");
    const c = cfg as Record<string, any>;
    const must: [string, unknown, unknown, string][] = [
        ["kind", c.kind, "KubeletConfiguration", "the shared renderer's KubeletConfiguration"],
        ["rotateCertificates", c.rotateCertificates, true, "workers rotate their client certificate"],
        ["serverTLSBootstrap", c.serverTLSBootstrap, true, "workers get their serving certificate from the cluster CA (no per-node certificates on AWS)"],
        ["authentication.anonymous.enabled", c.authentication?.anonymous?.enabled, false, "CIS 4.2.1"],
        ["authentication.webhook.enabled", c.authentication?.webhook?.enabled, true, "CIS 4.2.2"],
        ["authorization.mode", c.authorization?.mode, "Webhook", "CIS 4.2.2"],
        ["readOnlyPort", c.readOnlyPort, 0, "CIS 4.2.4"],
    ];
    for (const [path, actual, expected, why] of must) {
        if (actual !== expected) fail(`${k}.${path}`, actual, `use ${JSON.stringify(expected)} (${why})`);
    }
    if (c.tlsPrivateKeyFile !== undefined) fail(key(k, "tlsPrivateKeyFile"), c.tlsPrivateKeyFile, "remove it: worker serving certificates come from serverTLSBootstrap");
}

/**
 * The distribution's packages a worker's binaries call at run time (AL2023 names): kube-proxy's nftables
 * mode runs `nft`; kube-router keeps its policies' address sets with `ipset` and its rules with `iptables`.
 */
export const RUNTIME_PACKAGES: Readonly<Record<string, readonly string[]>> = {
    "kube-proxy": ["nftables"],
    "kube-router": ["ipset", "iptables-nft"],
    // --ip-masq's rules, with `iptables`; modprobe for br_netfilter.
    flanneld: ["iptables-nft", "kmod"],
};

/** The packages the worker's units need, each once, in the order the units name them. */
export function runtimePackages(software: NodeSoftware): string[] {
    return [...new Set(software.units.flatMap((u) => RUNTIME_PACKAGES[path.basename(u.execStart[0])] ?? []))];
}

/** Every file a worker takes from the stack: its units' binaries, and with containerd the CNI plugins and node images. */
export function workerBinaryPaths(software: NodeSoftware, containerd: boolean): string[] {
    return [...software.units.map((u) => u.execStart[0]), ...(containerd ? [...cniPluginPaths(), ...nodeImagePaths()] : [])];
}

export interface WorkerExtras {
    /** What the stack published, when the workers fetch their binaries. */
    binaries?: PublishedBinaries;
    /** containerd's config (renderContainerdConfig): the package is installed and the kubelet pulls it in. */
    containerdConfig?: string;
    /** The published node images: imported into containerd before the kubelet starts. */
    images?: NodeImageNames;
}

export function workerCloudConfig(r: ResolvedAwsOptions, software: NodeSoftware, contents: readonly string[], clusterKeyArn: string, extras: WorkerExtras = {}): CloudConfigSpec {
    const { binaries, containerdConfig, images } = extras;
    const withRuntime = (unit: UnitFile) => (containerdConfig !== undefined ? withContainerd(unit) : unit);
    const kubelet = (unit: UnitFile) => {
        const u = withRuntime(withKubeletSysctls(unit));
        return images ? withNodeImages(u) : u;
    };
    return {
        region: r.region,
        parameterKeyArn: clusterKeyArn,
        systemUsers: systemUsers(software),
        units: [
            ...(images ? [{ name: NODE_IMAGES_UNIT, unit: nodeImagesUnit(images) }] : []),
            ...callerUnits(software).map((u) => (u.name === KUBELET_UNIT ? { ...u, unit: kubelet(u.unit) } : u)),
        ],
        files: [
            ...inlineFiles(software, contents),
            {
                path: KUBELET_REJOIN_SCRIPT, permissions: "0755",
                content: renderKubeletRejoinScript({ unit: KUBELET_UNIT, kubeconfig: kubeletKubeconfig(key(r.configKey, "workers", "units"), software.units), bootstrapKubeconfig: BOOTSTRAP_KUBECONFIG_PATH }),
            },
            {
                path: REPORT_SCRIPT, permissions: "0755",
                content: renderReportScript(r.region, { workersUnder: reportParameterName(r.clusterName, WORKER_REPORTS) }, workerReportPlan(software)),
            },
            ...(containerdConfig !== undefined ? [
                { path: CONTAINERD_CONFIG_PATH, content: containerdConfig, permissions: "0644", defer: true },
                { path: CNI_TEMPLATE_PATH, content: renderCniTemplate(), permissions: "0644", defer: true },
            ] : []),
        ],
        fetched: fetchedFiles(software),
        binaries: fetchedBinaries(binaries, workerBinaryPaths(software, containerdConfig !== undefined)),
        disks: [],
        packages: [...(containerdConfig !== undefined ? [CONTAINERD_PACKAGE] : []), ...runtimePackages(software)],
        ssh: r.ssh,
        commands: [],
        // Renewed kubeconfigs and a new trust bundle reach a running worker; a changed user data rolls the group
        // instead. Its report follows each sync, for the cluster CA rotation's gates.
        timers: [{ name: SYNC_UNIT, service: syncService({ report: REPORT_SCRIPT, afterSync: KUBELET_REJOIN_SCRIPT }), timer: syncTimer() }],
    };
}

export interface WorkersArgs {
    r: ResolvedAwsOptions;
    software: NodeSoftware;
    imageId: pulumi.Input<string>;
    subnetIds: pulumi.Input<string>[];
    securityGroupId: pulumi.Input<string>;
    instanceProfileArn: pulumi.Input<string>;
    clusterKeyArn: pulumi.Input<string>;
    binaries?: PublishedBinaries<pulumi.Input<string>>;
    containerdConfig?: string;
    images?: NodeImageNames;
    dependsOn: pulumi.Input<pulumi.Resource>[];
    tags: Record<string, string>;
}

export class Workers extends pulumi.ComponentResource {
    readonly group: aws.autoscaling.Group;
    readonly launchTemplate: aws.ec2.LaunchTemplate;

    constructor(name: string, args: WorkersArgs, opts?: pulumi.ComponentResourceOptions) {
        super("hardened-cluster:aws:Workers", name, {}, opts);
        const { r } = args;
        const b = args.binaries;
        const userData = pulumi.all([pulumi.all(inlineContents(args.software)), args.clusterKeyArn, b?.bucket ?? ""])
            .apply(([contents, clusterKeyArn, bucket]) =>
                renderCloudConfig(workerCloudConfig(r, args.software, contents, clusterKeyArn, {
                    ...(b ? { binaries: { bucket, published: b.published } } : {}),
                    ...(args.containerdConfig !== undefined ? { containerdConfig: args.containerdConfig } : {}),
                    ...(args.images ? { images: args.images } : {}),
                })));
        const tags = { ...args.tags, [ROLE_TAG]: WORKER_ROLE };
        this.launchTemplate = hardenedLaunchTemplate(`${name}`, {
            instanceType: r.workers.instanceType,
            imageId: args.imageId,
            instanceProfileArn: args.instanceProfileArn,
            securityGroupIds: [args.securityGroupId],
            userData,
            rootVolumeGiB: r.workers.rootVolumeGiB,
            dataVolumes: [],
            kmsKeyArn: args.clusterKeyArn,
            tags: { ...tags, Name: `${r.clusterName}-worker` },
        }, { parent: this });
        this.group = new aws.autoscaling.Group(name, {
            vpcZoneIdentifiers: args.subnetIds,
            minSize: r.workers.min,
            maxSize: r.workers.max,
            desiredCapacity: r.workers.desired,
            launchTemplate: { id: this.launchTemplate.id, version: this.launchTemplate.latestVersion.apply(String) },
            healthCheckType: "EC2",
            // A new template version (new user data, AMI) rolls through the workers instead of waiting for churn.
            instanceRefresh: { strategy: "Rolling", preferences: { minHealthyPercentage: 90 } },
            tags: Object.entries({ ...tags, Name: `${r.clusterName}-worker` }).map(([k, value]) => ({ key: k, value, propagateAtLaunch: true })),
        }, { parent: this, dependsOn: args.dependsOn });
        this.registerOutputs({ groupName: this.group.name });
    }
}


