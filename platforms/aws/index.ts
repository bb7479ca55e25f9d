// The AWS platform as one ComponentResource. Every input is checked before super(), so a bad option or a
// wiring mistake leaves nothing registered; then the children are created in dependency order: roles, keys,
// network, groups, logs, secrets, control plane, load balancer, join token, workers.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { SYNC_UNIT } from "./sync";
import { CLUSTER_SIGNING_CA_FILE_ID, CLUSTER_SIGNING_CA_PATH } from "./kubelet-rejoin";
import { reportParameterName } from "./report";
import type { BackupOptions, ResolvedBackup } from "../../components/backup";
import { fail, parseHttpsUrl, key, toYaml } from "../../components/common";
import { EncryptionAtRest, EncryptionOptions, resolveEncryption } from "../../components/encryption";
import {
    ControlPlane, ControlPlaneNode, ENCRYPTION_CONFIG_PATH, KMS_PLUGIN_ENDPOINT, KMS_PLUGIN_UNIT, awsEncryptionOptions, controlPlaneBinaryPaths, controlPlaneNodes,
    nodeBackupSources,
} from "./control-plane";
import { backupObjectArns, backupPrefix, resolveAwsBackup } from "./backup";
import { BackupBucketSettings, backupBucket } from "./backup-store";
import { binaryObjectArns, checkArchitectures, PublishedBinary, publishedBinaries } from "./binaries";
import { BinaryStore, binaryBucket } from "./binaries-store";
import { checkRuntimeSettings, renderContainerdConfig } from "./containerd";
import { NODE_IMAGES_UNIT, nodeImageNames, type NodeImageNames } from "./node-images";
import { ArnContext, controlPlaneNodePolicy, ec2Role, nodeRole, workerNodePolicy } from "./iam";
import { ClusterKeys } from "./kms";
import { Monitoring, securityEvents } from "./monitoring";
import { Network } from "./network";
import { ApiLoadBalancer, internalNlbAddresses } from "./nlb";
import { NodeSoftware, checkNodeSoftware } from "./node-software";
import { AwsOptions, CLUSTER_TAG, ResolvedAwsOptions, resolveAwsOptions } from "./options";
import {
    CONTROL_PLANE_SCOPE, FETCH_UNIT, PlannedParameter, SecretValue, WORKERS_SCOPE, checkNodeName, controlPlaneReadPrefixes, createSecretParameters,
    secretParameters, specFromName, workerReadPrefixes,
} from "./secrets";
import { SecurityGroups } from "./security-groups";
import { KUBELET_SYSCTL_PATH, renderKubeletSysctls } from "./sysctl";
import {
    BOOTSTRAP_KUBECONFIG_FILE_ID, BOOTSTRAP_KUBECONFIG_PATH, CLUSTER_CA_FILE_ID, CLUSTER_CA_PATH, KUBELET_CONFIG_PATH, KUBELET_UNIT, Workers, bootstrapKubeconfig,
    bootstrapTokenSecret, checkKubeletConfiguration, clusterCaReaders, joinToken, workerBinaryPaths,
} from "./workers";

export * from "./options";
export * from "./posture";
export { controlPlaneNodes, awsEncryptionOptions, kmsPluginUnit, ENCRYPTION_CONFIG_PATH, KMS_PLUGIN_ENDPOINT } from "./control-plane";
export type { ControlPlaneNode } from "./control-plane";
export { secretParameters, parameterName, CONTROL_PLANE_SCOPE, WORKERS_SCOPE } from "./secrets";
export type { SecretSpec, SecretScope, PlannedParameter, SecretValue } from "./secrets";
export type { NodeFile, NodeSoftware } from "./node-software";
export type { UnitSpec } from "./systemd";
export { securityGroupRules } from "./security-groups";
export { securityEvents, cloudWatchAgentConfig } from "./monitoring";
export { internalNlbAddresses } from "./nlb";
export { KUBELET_SYSCTLS, KUBELET_SYSCTL_PATH } from "./sysctl";
export { bootstrapTokenSecret, joinTokenWindow, WORKER_BOOTSTRAP_GROUP, BOOTSTRAP_KUBECONFIG_PATH, KUBELET_CONFIG_PATH, CLUSTER_CA_PATH } from "./workers";
export { renderSshdConfig } from "./sshd";
export { AWS_BIN_DIR, BINARY_PREFIX, binaryKey } from "./binaries";
export type { BinariesOptions, PublishedBinary } from "./binaries";

export interface AwsWorkerSoftware extends NodeSoftware {
    /** The object from the shared KubeletConfiguration renderer; written to KUBELET_CONFIG_PATH. */
    kubeletConfiguration: Record<string, unknown>;
}

export interface AwsClusterArgs {
    /** Plain values: they decide which resources exist. */
    options: AwsOptions;
    /** Root of error key paths. Default "aws". */
    configKey?: string;
    /** Units and files of one control-plane node (argv from the shared flag renderer, PKI files as SSM references). */
    controlPlane: (node: ControlPlaneNode) => NodeSoftware;
    workers: AwsWorkerSoftware;
    /** Values of the parameters planned with secretParameters(). */
    secrets?: SecretValue[];
    /**
     * The cluster CAs kept now (public): a workers' parameter, so a new trust bundle reaches running workers
     * through their sync instead of rolling the group. Their kubelets verify the API and its clients with it.
     */
    clusterCaPem: pulumi.Input<string>;
    /** The one CA the controller manager signs kubelet certificates with now (public): workers compare their kubelet's with it (kubelet-rejoin.ts). */
    clusterSigningCaPem: pulumi.Input<string>;
    /**
     * The URL nodes dial the API at (the workers' bootstrap kubeconfig, and the kubeconfig the kubelet writes
     * from it). Its host must be a SAN of the apiserver certificate, which is planned before the NLB exists:
     * so never the NLB's DNS name, but a fixed internal NLB address or a DNS name the certificate names.
     */
    apiServerUrl: string;
    /** Default awsEncryptionOptions(): KMS v2 through the plugin. Local providers remain possible for a migration. */
    encryption?: EncryptionOptions;
    /** etcd backups (the stack's hardened-cluster:backup): every 15 minutes to the cluster's bucket unless set. */
    backup?: BackupOptions;
    /** Root of the backup option's error key paths. Default "backup". */
    backupConfigKey?: string;
    /** Clock for the join-token window; tests pin it. */
    nowMs?: number;
}

interface Plan {
    r: ResolvedAwsOptions;
    nodes: ControlPlaneNode[];
    cpSoftware: NodeSoftware[];
    workerSoftware: NodeSoftware;
    encryption: EncryptionOptions;
    encryptionParameter: string;
    bootstrapParameter: string;
    clusterCaParameter: string;
    signingCaParameter: string;
    apiServerUrl: string;
    /** Every SSM parameter the cluster will hold, with the roles that may read it. */
    parameters: PlannedParameter[];
    backup: ResolvedBackup & { intervalMinutes: number };
    /** What the stack publishes to its bucket for the nodes; empty when the AMI has the binaries. */
    binaries: PublishedBinary[];
    /** The workers' containerd config, with the kubelet's cgroup driver and the published pause image. */
    containerdConfig: string;
    /** The published node images' names (node-images.ts); undefined when the AMI has the binaries. */
    images?: NodeImageNames;
}

/** Everything that can be wrong with the inputs, checked without creating anything. */
export function planAwsCluster(args: AwsClusterArgs): Plan {
    const configKey = args.configKey ?? "aws";
    const r = resolveAwsOptions(args.options, configKey);
    const backup = resolveAwsBackup(args.backup, args.backupConfigKey ?? "backup");
    const nodes = controlPlaneNodes(r);
    const names = nodes.map((n) => n.name);
    nodes.forEach((n, i) => checkNodeName(key(configKey, "controlPlaneNodes", i), n.name));

    const apiServerUrl = checkApiServerUrl(key(configKey, "apiServerUrl"), args.apiServerUrl, r);

    const encryption = args.encryption ?? awsEncryptionOptions();
    const ek = key(configKey, "encryption");
    resolveEncryption(encryption, ek, KMS_PLUGIN_ENDPOINT).keys.forEach((k, i) => {
        if (k.provider === "kms" && k.endpoint !== KMS_PLUGIN_ENDPOINT) {
            fail(key(ek, "keys", i, "endpoint"), k.endpoint, `the AWS platform runs aws-encryption-provider on ${KMS_PLUGIN_ENDPOINT}`);
        }
    });

    const [enc, boot, ca, signing] = secretParameters(r.clusterName, names, [
        { fileId: "encryption-config.yaml", scope: CONTROL_PLANE_SCOPE },
        { fileId: BOOTSTRAP_KUBECONFIG_FILE_ID, scope: WORKERS_SCOPE },
        { fileId: CLUSTER_CA_FILE_ID, scope: WORKERS_SCOPE },
        { fileId: CLUSTER_SIGNING_CA_FILE_ID, scope: WORKERS_SCOPE },
    ], configKey);
    const callerSpecs = (args.secrets ?? []).map((s, i) => specFromName(r.clusterName, names, s?.name, key(configKey, "secrets", i, "name")));
    // Planned together with the platform's own parameters, so a caller cannot shadow them.
    const parameters = secretParameters(r.clusterName, names, [...callerSpecs, ...[enc, boot, ca, signing].map((p) => ({ fileId: p.fileId, scope: p.scope }))], configKey);
    const planned = new Set(parameters.map((p) => p.name));

    const cpSoftware = nodes.map((node) => {
        const k = `${key(configKey, "controlPlane")}(${node.name})`;
        const s = args.controlPlane(node);
        const apiserverUser = s?.units?.find((u) => u.name === "kube-apiserver")?.user;
        const withEncryption: NodeSoftware = {
            units: s?.units,
            files: [...(s?.files ?? []), { path: ENCRYPTION_CONFIG_PATH, ssmParameter: enc.name, mode: 0o600, owner: apiserverUser }],
        };
        checkNodeSoftware(k, withEncryption, controlPlaneReadPrefixes(r.clusterName, node.name), planned, [KMS_PLUGIN_UNIT, FETCH_UNIT.replace(/\.service$/, ""), SYNC_UNIT]);
        try {
            nodeBackupSources(node.name, withEncryption);
        } catch (e) {
            fail(k, undefined, `etcd backups need it: ${(e as Error).message}`);
        }
        return withEncryption;
    });

    const wk = key(configKey, "workers");
    const w = args.workers;
    checkKubeletConfiguration(key(wk, "kubeletConfiguration"), w?.kubeletConfiguration);
    const driver = checkRuntimeSettings(key(wk, "kubeletConfiguration"), w.kubeletConfiguration);
    const workerSoftware: NodeSoftware = {
        units: w.units,
        files: [
            ...(w.files ?? []),
            { path: BOOTSTRAP_KUBECONFIG_PATH, ssmParameter: boot.name, mode: 0o600 },
            // CIS 4.1.9/4.1.10: the kubelet config root:root 0600, like the kubeconfigs next to it.
            { path: KUBELET_CONFIG_PATH, content: toYaml(w.kubeletConfiguration), mode: 0o600 },
            { path: CLUSTER_CA_PATH, ssmParameter: ca.name, public: true, mode: 0o644 },
            // Read by no unit: the sync's kubelet rejoin compares the kubelet's certificates with it.
            { path: CLUSTER_SIGNING_CA_PATH, ssmParameter: signing.name, public: true, mode: 0o644 },
            { path: KUBELET_SYSCTL_PATH, content: renderKubeletSysctls(), mode: 0o644 },
        ],
    };
    checkNodeSoftware(wk, workerSoftware, workerReadPrefixes(r.clusterName), planned, [FETCH_UNIT.replace(/\.service$/, ""), NODE_IMAGES_UNIT, SYNC_UNIT]);
    if (!w.units.some((u) => u.name === KUBELET_UNIT)) {
        fail(key(wk, "units"), w.units.map((u) => u.name), `name the kubelet's unit "${KUBELET_UNIT}": the platform applies its kernel settings before it starts`);
    }
    // Checked above as a unit list with a kubelet: now its readers can be named.
    const caReaders = clusterCaReaders(key(wk, "units"), w.units);
    workerSoftware.files = workerSoftware.files.map((f) => (f.path === CLUSTER_CA_PATH ? { ...f, restarts: caReaders } : f));
    securityEvents(r.secretReaders, configKey);
    const cpPaths = nodes.flatMap((n, i) => controlPlaneBinaryPaths(r, n.name, cpSoftware[i]));
    const workerPaths = workerBinaryPaths(workerSoftware, true);
    const binaries = publishedBinaries(key(configKey, "binaries"), r.binaries, [...cpPaths, ...workerPaths]);
    checkArchitectures(key(configKey, "binaries"), binaries, [
        { key: key(configKey, "controlPlane", "instanceType"), instanceType: r.controlPlane.instanceType, nodePaths: cpPaths },
        { key: key(configKey, "workers", "instanceType"), instanceType: r.workers.instanceType, nodePaths: workerPaths },
    ]);
    const images = nodeImageNames(key(configKey, "binaries", "directory"), binaries);
    const containerdConfig = renderContainerdConfig(driver, images?.pause);
    return {
        r, nodes, cpSoftware, workerSoftware, encryption, encryptionParameter: enc.name, bootstrapParameter: boot.name, clusterCaParameter: ca.name, signingCaParameter: signing.name, apiServerUrl, parameters, backup, binaries, containerdConfig,
        ...(images ? { images } : {}),
    };
}

/**
 * Only the shape and what can be known here: https with a port, and a host nodes can have in the certificate.
 * A public NLB's addresses do not exist before it does, so its URL needs a DNS name; a private one's host is
 * a DNS name or one of its fixed addresses (a node's own address would bypass the NLB and its failover).
 */
function checkApiServerUrl(k: string, value: unknown, r: ResolvedAwsOptions): string {
    const url = parseHttpsUrl(value);
    if (!url || url.port === "" || url.pathname !== "/" || url.search !== "" || url.username !== "" || value !== `https://${url.host}`) {
        fail(k, value, "use https://<host>:<port>, with a host the apiserver certificate names (the program plan's server)");
    }
    const isIp = /^\d{1,3}(\.\d{1,3}){3}$/.test(url.hostname);
    const nlb = internalNlbAddresses(r.privateSubnets);
    if (isIp && r.endpoint === "public") fail(k, value, "a public NLB's addresses are unknown until it exists; use the DNS name the certificate names");
    if (isIp && !nlb.includes(url.hostname)) fail(k, value, `use a DNS name or one of the internal NLB's fixed addresses (${nlb.join(", ")})`);
    return value as string;
}

export class AwsCluster extends pulumi.ComponentResource {
    /** args.apiServerUrl: the URL clients and nodes use. */
    readonly apiUrl: pulumi.Output<string>;
    /** The NLB's own name, to point the DNS record of apiServerUrl at; not in the certificate. */
    readonly apiDnsName: pulumi.Output<string>;
    readonly controlPlaneNodes: ControlPlaneNode[];
    readonly vpcId: pulumi.Output<string>;
    readonly clusterKeyArn: pulumi.Output<string>;
    readonly secretsKeyArn: pulumi.Output<string>;
    readonly auditLogGroupName: pulumi.Output<string>;
    readonly alarmTopicArn: pulumi.Output<string>;
    /** Where etcd bundles land, under backupPrefix(clusterName). */
    readonly backupBucket: pulumi.Output<string>;
    /** Where the nodes' binaries are published ("" when the AMI has them). */
    readonly binaryBucket: pulumi.Output<string>;
    /** Identifiers an operator looks for first: the control-plane instances, the NLB, the worker group. */
    readonly controlPlaneInstanceIds: pulumi.Output<string[]>;
    readonly apiLoadBalancerArn: pulumi.Output<string>;
    readonly workerGroupName: pulumi.Output<string>;
    /** The bootstrap-token Secret for kube-system as YAML (a Pulumi secret); the AWS program (`awsProgram`) applies it through the k8s provider. */
    readonly joinTokenSecret: pulumi.Output<string>;
    readonly joinTokenExpiration: string;

    constructor(name: string, args: AwsClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        const plan = planAwsCluster(args);
        super("hardened-cluster:aws:AwsCluster", name, {}, opts);
        const { r, nodes } = plan;
        const parent = { parent: this };
        const tags = { [CLUSTER_TAG]: r.clusterName, ...r.tags };

        const identity = aws.getCallerIdentityOutput({}, parent);
        const partition = aws.getPartitionOutput({}, parent);
        const ctx: pulumi.Output<ArnContext> = pulumi.all([identity.accountId, partition.partition, partition.dnsSuffix])
            .apply(([accountId, p, dnsSuffix]) => ({ partition: p, region: r.region, accountId, dnsSuffix }));
        const zones = r.availabilityZones ?? aws.getAvailabilityZonesOutput({
            state: "available",
            // Regular zones only: Local and Wavelength Zones lack NAT gateways and most instance types.
            filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }],
        }, parent).names.apply((n) => n.slice(0, r.azCount));
        const imageId = "id" in r.ami ? pulumi.output(r.ami.id) : aws.ssm.getParameterOutput({ name: r.ami.ssmParameter }, parent).value;

        // Roles first: the keys' policies name them. Their policies come after the keys and log group they name.
        const cpRoles = nodes.map((n) => ec2Role(`${name}-${n.name}`, tags, parent));
        const workerRole = ec2Role(`${name}-workers`, tags, parent);
        const prefix = backupPrefix(r.clusterName);
        const bucket = backupBucket(`${name}-backups`, r.clusterName, r.environment === "prod", tags, parent);
        const binBucket = r.binaries.source === "bucket" ? binaryBucket(`${name}-binaries`, r.clusterName, tags, parent) : undefined;
        const keys = new ClusterKeys(`${name}-keys`, {
            clusterName: r.clusterName,
            ctx,
            controlPlaneRoleArns: cpRoles.map((x) => x.arn),
            deployerArn: identity.arn,
            parameterReaders: [
                ...nodes.map((n, i) => ({ roleArn: cpRoles[i].arn, prefixes: controlPlaneReadPrefixes(r.clusterName, n.name) })),
                { roleArn: workerRole.arn, prefixes: workerReadPrefixes(r.clusterName) },
            ],
            backupObjectArns: pulumi.all([ctx, bucket.bucket]).apply(([c, b]) => backupObjectArns(c, b, prefix)),
            ...(binBucket ? { binaryObjectArns: pulumi.all([ctx, binBucket.bucket]).apply(([c, b]) => binaryObjectArns(c, b)) } : {}),
            deletionWindowInDays: r.environment === "prod" ? 30 : 7,
            rotationPeriodInDays: r.kmsKeyRotationDays,
            tags,
        }, parent);
        const network = new Network(`${name}-net`, {
            clusterName: r.clusterName,
            vpcCidr: r.vpcCidr,
            privateSubnets: r.privateSubnets,
            publicSubnets: r.publicSubnets,
            availabilityZones: zones,
            clusterKeyArn: keys.clusterKey.arn,
            logRetentionDays: r.logRetentionDays,
            accountId: identity.accountId,
            tags,
        }, parent);
        const groups = new SecurityGroups(`${name}-sg`, { vpcId: network.vpcId, plan: r, tags }, parent);
        const monitoring = new Monitoring(`${name}-mon`, {
            clusterName: r.clusterName,
            clusterKeyArn: keys.clusterKey.arn,
            logRetentionDays: r.logRetentionDays,
            events: securityEvents(r.secretReaders, r.configKey),
            backupIntervalMinutes: plan.backup.intervalMinutes,
            tags,
        }, parent);
        new BackupBucketSettings(`${name}-backups`, { bucket, ctx, clusterKeyArn: keys.clusterKey.arn }, parent);
        const store = binBucket
            ? new BinaryStore(`${name}-binaries`, { bucket: binBucket, ctx, clusterKeyArn: keys.clusterKey.arn, deployerArn: identity.arn, binaries: plan.binaries }, parent)
            : undefined;
        const binaries = binBucket ? { bucket: binBucket.bucket, published: plan.binaries } : undefined;
        const binaryBucketName = binBucket?.bucket ?? pulumi.output("");

        const cpProfiles = nodes.map((n, i) => {
            const policy = pulumi.all([ctx, keys.clusterKey.arn, keys.secretsKey.arn, monitoring.auditLogGroup.arn, bucket.bucket, binaryBucketName])
                .apply(([c, clusterKeyArn, secretsKeyArn, auditLogGroupArn, b, bin]) => controlPlaneNodePolicy(c, {
                    clusterName: r.clusterName, node: n.name, clusterKeyArn, secretsKeyArn, auditLogGroupArn, backup: { bucket: b, prefix }, ...(bin ? { binaryBucket: bin } : {}),
                }));
            return nodeRole(`${name}-${n.name}`, cpRoles[i], policy, tags, parent).profile;
        });
        const workerProfile = nodeRole(`${name}-workers`, workerRole,
            pulumi.all([ctx, keys.clusterKey.arn, binaryBucketName]).apply(([c, arn, bin]) => workerNodePolicy(c, r.clusterName, arn, bin || undefined)), tags, parent).profile;

        const encryption = new EncryptionAtRest(`${name}-encryption`, { options: plan.encryption, configKey: key(r.configKey, "encryption"), platformKmsEndpoint: KMS_PLUGIN_ENDPOINT }, parent);
        const cpSecrets = createSecretParameters(name, [
            ...(args.secrets ?? []),
            { name: plan.encryptionParameter, value: encryption.configYaml },
        ], keys.clusterKey.arn, tags, parent);
        // Each node's report for the CA rotation's gates starts empty and is the node's to write (report.ts): the
        // stack owns the parameter, so it goes with the stack, but never puts its own value back.
        const reports = nodes.map((n) => new aws.ssm.Parameter(`${name}-report-${n.name}`, {
            name: reportParameterName(r.clusterName, n.name), type: "String", value: "{}", tags,
        }, { ...parent, ignoreChanges: ["value"] }));

        const controlPlane = new ControlPlane(`${name}-cp`, {
            r,
            nodes,
            software: plan.cpSoftware,
            imageId,
            subnetIds: network.privateSubnetIds,
            securityGroupId: groups.ids.controlPlane,
            instanceProfileArns: cpProfiles.map((p) => p.arn),
            clusterKeyArn: keys.clusterKey.arn,
            secretsKeyArn: keys.secretsKey.arn,
            auditLogGroupName: monitoring.auditLogGroup.name,
            backup: { stack: pulumi.getStack(), bucket: bucket.bucket, prefix, retention: plan.backup.retention, intervalMinutes: plan.backup.intervalMinutes },
            binaries,
            dependsOn: [...cpSecrets, ...reports, ...(store?.objects ?? [])],
            tags,
        }, parent);
        const lb = new ApiLoadBalancer(`${name}-api`, {
            clusterName: r.clusterName,
            endpoint: r.endpoint,
            privateSubnets: r.privateSubnets,
            privateSubnetIds: network.privateSubnetIds,
            publicSubnetIds: network.publicSubnetIds,
            vpcId: network.vpcId,
            securityGroupId: groups.ids.nlb,
            instanceIds: controlPlane.instances.map((x) => x.id),
            deletionProtection: r.environment === "prod",
            tags,
        }, parent);

        const token = joinToken(`${name}-join`, r.workers.joinTokenTtlHours, args.nowMs ?? Date.now(), parent);
        // apiServerUrl, not the NLB's DNS name: that name is in no SAN, so the kubelet would refuse the server.
        // The CA by path: a new trust bundle changes neither this kubeconfig nor the one the kubelet writes from it.
        const kubeconfig = pulumi.all([token.id, token.secret])
            .apply(([id, secret]) => toYaml(bootstrapKubeconfig(plan.apiServerUrl, CLUSTER_CA_PATH, `${id}.${secret}`, r.clusterName)));
        const workerSecrets = createSecretParameters(name, [
            { name: plan.bootstrapParameter, value: kubeconfig },
            { name: plan.clusterCaParameter, value: args.clusterCaPem },
            { name: plan.signingCaParameter, value: args.clusterSigningCaPem },
        ], keys.clusterKey.arn, tags, parent);
        const workers = new Workers(`${name}-workers`, {
            r,
            software: plan.workerSoftware,
            imageId,
            subnetIds: network.privateSubnetIds,
            securityGroupId: groups.ids.workers,
            instanceProfileArn: workerProfile.arn,
            clusterKeyArn: keys.clusterKey.arn,
            binaries,
            containerdConfig: plan.containerdConfig,
            ...(plan.images ? { images: plan.images } : {}),
            dependsOn: [...workerSecrets, ...(store?.objects ?? [])],
            tags,
        }, parent);

        this.apiUrl = pulumi.output(plan.apiServerUrl);
        this.apiDnsName = lb.dnsName;
        this.controlPlaneNodes = nodes;
        this.vpcId = network.vpcId;
        this.clusterKeyArn = keys.clusterKey.arn;
        this.secretsKeyArn = keys.secretsKey.arn;
        this.auditLogGroupName = monitoring.auditLogGroup.name;
        this.alarmTopicArn = monitoring.alarmTopic.arn;
        this.backupBucket = bucket.bucket;
        this.binaryBucket = binaryBucketName;
        this.controlPlaneInstanceIds = pulumi.all(controlPlane.instances.map((x) => x.id));
        this.apiLoadBalancerArn = lb.arn;
        this.workerGroupName = workers.group.name;
        this.joinTokenExpiration = token.expiration;
        this.joinTokenSecret = pulumi.secret(pulumi.all([token.id, token.secret])
            .apply(([id, secret]) => toYaml(bootstrapTokenSecret(id, secret, token.expiration, r.clusterName))));
        this.registerOutputs({
            apiUrl: this.apiUrl,
            apiDnsName: this.apiDnsName,
            vpcId: this.vpcId,
            clusterKeyArn: this.clusterKeyArn,
            secretsKeyArn: this.secretsKeyArn,
            auditLogGroupName: this.auditLogGroupName,
            alarmTopicArn: this.alarmTopicArn,
            backupBucket: this.backupBucket,
            binaryBucket: this.binaryBucket,
            controlPlaneInstanceIds: this.controlPlaneInstanceIds,
            apiLoadBalancerArn: this.apiLoadBalancerArn,
            workerGroupName: this.workerGroupName,
            joinTokenSecret: this.joinTokenSecret,
        });
    }
}
