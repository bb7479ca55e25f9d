// Control-plane nodes are plain EC2 instances with fixed private addresses, one per zone in turn: etcd's
// member list and the serving certificates name those addresses, so they must be known before anything
// exists (controlPlaneNodes() is pure for that reason) and must survive a node being replaced.
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { auditLogFiles } from "../../components/audit";
import { configFile, kubeadmLayout } from "../../components/common";
import { EncryptionOptions } from "../../components/encryption";
import { ETCD_DEVICE, hardenedLaunchTemplate } from "./launch-template";
import { BUNDLE_CAS } from "../../components/backup";
import { fetchedBinaries, PublishedBinaries } from "./binaries";
import { BACKUP_SCRIPT, BACKUP_UNIT, BackupScriptInput, etcdBackupScript, etcdBackupService, etcdBackupTimer } from "./backup";
import { CERT_EXPIRY_SCRIPT, CERT_EXPIRY_UNIT, certExpiryScript, certExpiryService, certExpiryTimer } from "./cert-expiry";
import { CLOUDWATCH_AGENT_CONFIG, CLOUDWATCH_AGENT_CTL, cloudWatchAgentConfig, metricNamespace } from "./monitoring";
import { hostAddress } from "./network-plan";
import { NodeSoftware, callerUnits, fetchedFiles, fileEnding, inlineContents, inlineFiles, systemUsers } from "./node-software";
import { ResolvedAwsOptions, ROLE_TAG } from "./options";
import { SECRETS_CONTEXT_KEY } from "./kms";
import { FETCH_UNIT } from "./secrets";
import { CONFINED_SERVICE, execLine, UnitFile } from "./systemd";
import { SYNC_UNIT, syncService, syncTimer } from "./sync";
import { nodeReportPlan, renderReportScript, REPORT_SCRIPT, reportParameterName } from "./report";
import { CloudConfigSpec, renderCloudConfig } from "./userdata";

export interface ControlPlaneNode {
    /** Node and etcd member name; also its SSM path segment. */
    name: string;
    index: number;
    azIndex: number;
    subnetCidr: string;
    privateIp: string;
}

/** Addresses start at .10 of each private subnet, leaving the first few for the internal NLB. */
export const FIRST_NODE_OFFSET = 10;
export const NLB_ADDRESS_OFFSET = 5;

export function controlPlaneNodes(r: Pick<ResolvedAwsOptions, "controlPlane" | "privateSubnets" | "azCount">): ControlPlaneNode[] {
    return Array.from({ length: r.controlPlane.etcdMembers }, (_, index) => {
        const azIndex = index % r.azCount;
        const subnetCidr = r.privateSubnets[azIndex];
        return { name: `cp-${index}`, index, azIndex, subnetCidr, privateIp: hostAddress(subnetCidr, FIRST_NODE_OFFSET + Math.floor(index / r.azCount)) };
    });
}

// aws-encryption-provider's default socket; the EncryptionConfiguration must name the same one.
export const KMS_PLUGIN_SOCKET = "/var/run/kmsplugin/socket.sock";
export const KMS_PLUGIN_ENDPOINT = `unix://${KMS_PLUGIN_SOCKET}`;
export const KMS_PLUGIN_UNIT = "aws-encryption-provider";
export const KMS_PLUGIN_USER = "kms-plugin";
export const KMS_KEY_NAME = "aws-kms";

/** The AWS platform's default for components/encryption: KMS v2 through the plugin, instead of secretbox. */
export function awsEncryptionOptions(): EncryptionOptions {
    return { provider: "kms", keys: [{ name: KMS_KEY_NAME, endpoint: KMS_PLUGIN_ENDPOINT }] };
}

/**
 * The plugin runs as its own user. Its socket directory belongs to the apiserver's group (when the apiserver
 * runs as a dedicated user), so only the apiserver can ask it to decrypt; the health port stays on loopback.
 */
export function kmsPluginUnit(p: { pluginPath: string; keyArn: string; region: string; clusterName: string; apiserverGroup?: string }): UnitFile {
    const service: UnitFile["Service"] = {
        Type: "simple",
        ExecStart: execLine([
            p.pluginPath,
            `--key=${p.keyArn}`,
            `--region=${p.region}`,
            `--listen=${KMS_PLUGIN_SOCKET}`,
            "--health-port=127.0.0.1:8083",
            `--encryption-context=${SECRETS_CONTEXT_KEY}=${p.clusterName}`,
        ]),
        User: KMS_PLUGIN_USER,
        RuntimeDirectory: "kmsplugin",
        RuntimeDirectoryMode: "0750",
        UMask: "0007",
        Restart: "always",
        RestartSec: 5,
        ...CONFINED_SERVICE,
        MemoryDenyWriteExecute: true,
    };
    if (p.apiserverGroup) service.Group = p.apiserverGroup;
    return {
        // Its binary comes with the boot fetch, like every other unit's.
        Unit: { Description: "AWS KMS v2 plugin for Kubernetes secrets encryption", Wants: ["network-online.target"], Requires: [FETCH_UNIT], After: ["network-online.target", FETCH_UNIT] },
        Service: service,
        Install: { WantedBy: "multi-user.target" },
    };
}

export const ETCD_DATA_DIR = kubeadmLayout().etcdDataDir;

export interface ControlPlaneUserDataInput {
    r: ResolvedAwsOptions;
    /** The node's name: the cert-expiry metric's Node dimension. */
    node: string;
    software: NodeSoftware;
    secretsKeyArn: string;
    /** Encrypts every SSM parameter the node fetches. */
    clusterKeyArn: string;
    auditLogGroupName: string;
    contents: readonly string[];
    backup: NodeBackup;
    /** What the stack published to its bucket, when the nodes fetch their binaries (aws.binaries.source "bucket"). */
    binaries?: PublishedBinaries;
    /** The node's place among the control-plane nodes: its sync minute (sync.ts). Default the only node. */
    slot?: { index: number; count: number };
}

/** What a node's backup script needs that is not in its software: where bundles go and how many stay. */
export interface NodeBackup {
    stack: string;
    bucket: string;
    prefix: string;
    clusterKeyArn: string;
    retention: number;
    intervalMinutes: number;
}

/** What the backup script reads from the node's own software; throws naming what is missing. */
export type NodeBackupSources = Pick<BackupScriptInput, "etcdctl" | "etcdutl" | "endpoint" | "caFile" | "certFile" | "keyFile" | "caFiles">;

/** etcdctl and etcdutl beside etcd, the member's first client URL, the etcd health-check client pair, the CAs a bundle records. */
export function nodeBackupSources(node: string, software: NodeSoftware): NodeBackupSources {
    const etcd = software.units.find((u) => u.name === "etcd");
    if (!etcd) throw new Error(`${node}: no etcd unit to back up`);
    const listen = etcd.execStart.find((a) => a.startsWith("--listen-client-urls="))?.split("=")[1]?.split(",")[0];
    if (!listen) throw new Error(`${node}: the etcd unit has no --listen-client-urls`);
    const file = (suffix: string) => fileEnding(node, software, suffix, "the backup");
    const bin = path.dirname(etcd.execStart[0]);
    return {
        etcdctl: path.join(bin, "etcdctl"), etcdutl: path.join(bin, "etcdutl"), endpoint: listen,
        caFile: file("/pki/etcd/ca.crt"), certFile: file("/pki/etcd/healthcheck-client.crt"), keyFile: file("/pki/etcd/healthcheck-client.key"),
        caFiles: Object.fromEntries(BUNDLE_CAS.map(([name, suffix]) => [name, file(suffix)])),
    };
}

/** The backup script's inputs: the node's sources and where bundles go. */
export function nodeBackupInput(r: ResolvedAwsOptions, node: string, software: NodeSoftware, b: NodeBackup): BackupScriptInput {
    return {
        ...nodeBackupSources(node, software),
        stack: b.stack, clusterName: r.clusterName, node, region: r.region, bucket: b.bucket, prefix: b.prefix, keyArn: b.clusterKeyArn,
        namespace: metricNamespace(r.clusterName), retention: b.retention,
    };
}

/** Every binary a control-plane node runs: its units', the KMS plugin, and the two the backup script calls. */
export function controlPlaneBinaryPaths(r: ResolvedAwsOptions, node: string, software: NodeSoftware): string[] {
    const b = nodeBackupSources(node, software);
    return [...software.units.map((u) => u.execStart[0]), r.kmsPluginPath, b.etcdctl, b.etcdutl];
}

export function controlPlaneCloudConfig(i: ControlPlaneUserDataInput): CloudConfigSpec {
    const { r, software } = i;
    const apiserver = software.units.find((u) => u.name === "kube-apiserver");
    const etcd = software.units.find((u) => u.name === "etcd");
    const plugin = kmsPluginUnit({ pluginPath: r.kmsPluginPath, keyArn: i.secretsKeyArn, region: r.region, clusterName: r.clusterName, apiserverGroup: apiserver?.user });
    const auditLog = auditLogFiles(kubeadmLayout()).logFile;
    return {
        region: r.region,
        parameterKeyArn: i.clusterKeyArn,
        systemUsers: systemUsers(software, [KMS_PLUGIN_USER]),
        // The apiserver cannot read or write a Secret without the plugin, so it requires it rather than just ordering after it.
        units: [{ name: KMS_PLUGIN_UNIT, unit: plugin }, ...callerUnits(software, { "kube-apiserver": [`${KMS_PLUGIN_UNIT}.service`] })],
        files: [
            ...inlineFiles(software, i.contents),
            { path: CLOUDWATCH_AGENT_CONFIG, content: JSON.stringify(cloudWatchAgentConfig(r.region, auditLog, i.auditLogGroupName), null, 2) + "\n", permissions: "0644" },
            {
                path: CERT_EXPIRY_SCRIPT, permissions: "0755",
                content: certExpiryScript({ region: r.region, namespace: metricNamespace(r.clusterName), node: i.node, certFiles: software.files.map((f) => f.path).filter((p) => p.endsWith(".crt")) }),
            },
            { path: BACKUP_SCRIPT, permissions: "0755", content: etcdBackupScript(nodeBackupInput(r, i.node, software, i.backup)) },
            { path: REPORT_SCRIPT, permissions: "0755", content: renderReportScript(r.region, reportParameterName(r.clusterName, i.node), nodeReportPlan(i.node, software)) },
        ],
        // After the fetch unit, so the first run finds the node's files.
        timers: [
            { name: CERT_EXPIRY_UNIT, service: certExpiryService([FETCH_UNIT]), timer: certExpiryTimer() },
            { name: BACKUP_UNIT, service: etcdBackupService([FETCH_UNIT]), timer: etcdBackupTimer(i.backup.intervalMinutes) },
            { name: SYNC_UNIT, service: syncService({ report: REPORT_SCRIPT }), timer: syncTimer(i.slot ?? { index: 0, count: 1 }) },
        ],
        fetched: fetchedFiles(software),
        binaries: fetchedBinaries(i.binaries, controlPlaneBinaryPaths(r, i.node, software)),
        disks: [{ device: ETCD_DEVICE, label: "etcd", mountPoint: ETCD_DATA_DIR, owner: etcd?.user ? `${etcd.user}:${etcd.user}` : undefined }],
        packages: ["amazon-cloudwatch-agent"],
        ssh: r.ssh,
        commands: [[CLOUDWATCH_AGENT_CTL, "-a", "fetch-config", "-m", "ec2", "-s", "-c", `file:${CLOUDWATCH_AGENT_CONFIG}`]],
    };
}

/** Where the apiserver reads the EncryptionConfiguration; the AWS program points --encryption-provider-config here. */
export const ENCRYPTION_CONFIG_PATH = configFile(kubeadmLayout(), "encryption");

export interface ControlPlaneArgs {
    r: ResolvedAwsOptions;
    nodes: ControlPlaneNode[];
    software: NodeSoftware[];
    imageId: pulumi.Input<string>;
    subnetIds: pulumi.Input<string>[];
    securityGroupId: pulumi.Input<string>;
    instanceProfileArns: pulumi.Input<string>[];
    clusterKeyArn: pulumi.Input<string>;
    secretsKeyArn: pulumi.Input<string>;
    auditLogGroupName: pulumi.Input<string>;
    backup: { stack: string; bucket: pulumi.Input<string>; prefix: string; retention: number; intervalMinutes: number };
    binaries?: PublishedBinaries<pulumi.Input<string>>;
    /** Created first, so a node never boots before its secrets exist. */
    dependsOn: pulumi.Input<pulumi.Resource>[];
    tags: Record<string, string>;
}

export class ControlPlane extends pulumi.ComponentResource {
    readonly instances: aws.ec2.Instance[];
    readonly launchTemplates: aws.ec2.LaunchTemplate[];

    constructor(name: string, args: ControlPlaneArgs, opts?: pulumi.ComponentResourceOptions) {
        super("hardened-cluster:aws:ControlPlane", name, {}, opts);
        const { r } = args;
        this.launchTemplates = [];
        this.instances = args.nodes.map((node, i) => {
            const software = args.software[i];
            const b = args.binaries;
            const userData = pulumi.all([args.secretsKeyArn, args.auditLogGroupName, pulumi.all(inlineContents(software)), args.backup.bucket, args.clusterKeyArn, b?.bucket ?? ""])
                .apply(([secretsKeyArn, auditLogGroupName, contents, bucket, clusterKeyArn, binaryBucket]) =>
                    renderCloudConfig(controlPlaneCloudConfig({
                        r, node: node.name, slot: { index: i, count: args.nodes.length }, software, secretsKeyArn, clusterKeyArn, auditLogGroupName, contents, backup: { ...args.backup, bucket, clusterKeyArn },
                        ...(b ? { binaries: { bucket: binaryBucket, published: b.published } } : {}),
                    })));
            const tags = { ...args.tags, Name: `${r.clusterName}-${node.name}`, [ROLE_TAG]: "control-plane" };
            const lt = hardenedLaunchTemplate(`${name}-${node.name}`, {
                instanceType: r.controlPlane.instanceType,
                imageId: args.imageId,
                instanceProfileArn: args.instanceProfileArns[i],
                securityGroupIds: [args.securityGroupId],
                userData,
                rootVolumeGiB: r.controlPlane.rootVolumeGiB,
                dataVolumes: [{ deviceName: ETCD_DEVICE, sizeGiB: r.controlPlane.etcdVolumeGiB }],
                kmsKeyArn: args.clusterKeyArn,
                tags,
            }, { parent: this });
            this.launchTemplates.push(lt);
            return new aws.ec2.Instance(`${name}-${node.name}`, {
                launchTemplate: { id: lt.id, version: lt.latestVersion.apply(String) },
                subnetId: args.subnetIds[node.azIndex],
                privateIp: node.privateIp,
                tags,
            }, {
                parent: this,
                dependsOn: args.dependsOn,
                // The fixed address can be held by one instance at a time.
                deleteBeforeReplace: true,
                // A new template version must not replace every etcd member at once; nodes are rolled one at a
                // time on purpose (README: "Rolling a control-plane node").
                ignoreChanges: ["launchTemplate"],
            });
        });
        this.registerOutputs({ instanceIds: this.instances.map((x) => x.id) });
    }
}
