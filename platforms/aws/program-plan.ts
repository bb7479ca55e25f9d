// The AWS platform's facts and its stack plan: each node's fixed private address, every node an etcd member,
// the internal NLB's fixed addresses as API server SANs, KMS v2 through the plugin it runs, and the settings it
// decides itself. Everything else is the cluster plan's (components/cluster). Nothing here creates a
// resource, so every ConfigError is thrown before the first one is registered.
import * as path from "node:path";
import { ClusterKeys, ClusterPlan, ClusterSettings, DEFAULT_CLUSTER_KEYS, planCluster, PlatformFacts, resolveCluster } from "../../components/cluster";
import { cidrsOverlap, ConfigErrorList, fail, FileLayout, isPlainObject, key, kubeadmLayout } from "../../components/common";
import { NETWORK_DEFAULTS, renderControlPlane } from "../../components/control-plane";
import type { BackupOptions } from "../../components/backup";
import { resolveAwsBackup } from "./backup";
import { AWS_BIN_DIR } from "./binaries";
import { awsEncryptionOptions, controlPlaneNodes, KMS_KEY_NAME, KMS_PLUGIN_ENDPOINT } from "./control-plane";
import { API_PORT, internalNlbAddresses } from "./nlb";
import { AwsOptions, ResolvedAwsOptions, resolveAwsOptions } from "./options";
import { BOOTSTRAP_KUBECONFIG_PATH, KUBELET_CONFIG_PATH } from "./workers";

export { AWS_BIN_DIR };
/**
 * The files only etcd reads (its CA, serving and peer pairs) live outside /etc/kubernetes/pki: CIS 1.1.19 wants
 * /etc/kubernetes/pki root-owned, and etcd runs as its own user.
 */
export const ETCD_OWN_PKI_DIR = "/etc/etcd/pki";
export const ETCD_USER = "etcd";
/** How the controller manager and scheduler reach their apiserver: an NLB does not hairpin a node to itself. */
export const LOCAL_API_SERVER = `https://127.0.0.1:${API_PORT}`;

export type AwsProgramKeys = ClusterKeys & { aws: string; backup: string };

export interface AwsProgramInput {
    stack: string;
    aws: AwsOptions;
    settings?: ClusterSettings;
    /** hardened-cluster:backup: on AWS a timer on every control-plane node, bundles to the cluster's bucket. */
    backup?: BackupOptions;
    keys?: Partial<AwsProgramKeys>;
    /** The AWS provider's configured region (aws:region), when set: the cluster must be built there. */
    providerRegion?: string;
    /** The toolchain's bin directory: aws.binaries.directory unless set. Asked for only when the stack publishes binaries. */
    toolchainBin?: () => string;
}

export interface AwsProgramPlan {
    /** The stack's AWS options plus a tag naming the Pulumi stack, as AwsCluster gets them. */
    awsOptions: AwsOptions;
    r: ResolvedAwsOptions;
    /** As given: AwsCluster resolves it (checked here first, with the other keys' errors). */
    backup?: BackupOptions;
    keys: AwsProgramKeys;
    layout: FileLayout;
    cluster: ClusterPlan;
    /** The workers' kubelet (the shared renderer) and the cluster ranges their kube-proxy and enforcer need. */
    worker: { args: string[]; config: Record<string, unknown>; podCidr: string; serviceCidr: string };
}

/** The AWS platform's facts; settings it decides itself are refused with where they come from. */
export function awsFacts(r: ResolvedAwsOptions, settings: ClusterSettings, keys: AwsProgramKeys): PlatformFacts {
    const nodes = controlPlaneNodes(r);
    // Certificate SANs must be plain values when planned, so the endpoint cannot be the NLB's DNS name (AWS
    // makes it up on creation). A private NLB has fixed addresses, which go into the certificate; the URL is
    // the first configured DNS name, else the first NLB address. A public NLB needs a DNS name.
    const nlb = r.endpoint === "private" ? internalNlbAddresses(r.privateSubnets) : [];
    const dnsNames = settings.pki?.endpoint?.dnsNames;
    const host = (Array.isArray(dnsNames) ? dnsNames[0] : undefined) ?? nlb[0];
    if (host === undefined) {
        fail(key(keys.pki, "endpoint", "dnsNames"), dnsNames, `a public NLB (${key(r.configKey, "endpoint")}: "public") has no address before it exists; name the DNS name you will point at the cluster's apiDnsName`);
    }
    return {
        platform: "aws",
        layout: kubeadmLayout(),
        etcdOwnPkiDir: ETCD_OWN_PKI_DIR,
        members: nodes.map((n) => ({ name: n.name, ip: n.privateIp })),
        endpoint: { ipAddresses: nlb, dnsNames: [] },
        serverUrl: `https://${host}:${API_PORT}`,
        localApiServer: LOCAL_API_SERVER,
        binary: (p) => path.join(AWS_BIN_DIR, p),
        etcdUser: ETCD_USER,
        operatorOnNode: false,
        // Every control-plane node runs hc-csr-approver (serving-approver.ts), with the client pair this issues.
        servingApprover: true,
        // Every worker runs kube-proxy and the NetworkPolicy enforcer as units (node-software-plan.ts), each with
        // a client pair of its own, so no Pod needs host networking or privileges for either.
        nodeProxy: true,
        nodeNetworkPolicy: true,
        // A local provider would put the data key itself into an SSM parameter readable by every control-plane
        // role, which is exactly what the separate secrets key exists to avoid.
        encryption: { providers: ["kms"], kmsEndpoint: KMS_PLUGIN_ENDPOINT, defaults: awsEncryptionOptions(), why: "a local key would sit in an SSM parameter every control-plane role can read" },
        refused: [
            { key: "pki", path: ["workerNodes"], reason: "AWS workers join with bootstrap tokens; no per-worker certificate is issued" },
            { key: "controlPlane", path: ["kubelet", "extraArgs", "bootstrap-kubeconfig"], reason: `the AWS platform sets it to ${BOOTSTRAP_KUBECONFIG_PATH}` },
        ],
    };
}

export function planAwsProgram(input: AwsProgramInput): AwsProgramPlan {
    const keys: AwsProgramKeys = { ...DEFAULT_CLUSTER_KEYS, aws: "aws", backup: "backup", ...input.keys };
    if (typeof input.stack !== "string" || input.stack === "") throw new Error("aws program: pass the Pulumi stack name as stack");
    const settings = input.settings ?? {};
    const errors = new ConfigErrorList();
    // Every taggable resource then says which stack owns it, besides which cluster.
    const awsOptions: AwsOptions = { ...input.aws, ...binariesDefault(input), tags: { "hardened-cluster/stack": input.stack, ...input.aws?.tags } };
    let r: ResolvedAwsOptions | undefined;
    errors.attempt(() => (r = resolveAwsOptions(awsOptions, keys.aws)));
    if (r === undefined) {
        errors.throwIfAny();
        throw new Error("unreachable");
    }
    const ra = r;
    if (input.providerRegion !== undefined && input.providerRegion !== ra.region) {
        errors.attempt(() => fail(key(keys.aws, "region"), ra.region, `the AWS provider is configured for aws:region "${input.providerRegion}"; the cluster must be built in the provider's region, so use the same region in both`));
    }
    errors.attempt(() => checkRanges(settings, ra, keys));
    errors.attempt(() => resolveAwsBackup(input.backup, keys.backup));
    const servingCert = settings.controlPlane?.kubelet?.servingCert;
    if (servingCert !== undefined && servingCert !== "bootstrap") {
        // Workers are an Auto Scaling group: no per-node certificate exists to point the kubelet at.
        errors.attempt(() => fail(key(keys.controlPlane, "kubelet", "servingCert"), servingCert, "AWS workers get serving certificates through serverTLSBootstrap; remove it or use \"bootstrap\""));
    }
    if (settings.controlPlane?.controllerManager?.allocateNodeCidrs === false) {
        // flannel's lease on each worker is its Node's podCIDR (pod-network.ts); without it no worker gets a Pod network.
        errors.attempt(() => fail(key(keys.controlPlane, "controllerManager", "allocateNodeCidrs"), false, "the AWS workers' Pod network takes each node's range from the podCIDR the controller manager allocates; remove it or set true"));
    }
    let cluster: ClusterPlan | undefined;
    errors.attempt(() => (cluster = planCluster(resolveCluster(settings, awsFacts(ra, settings, keys), keys))));
    if (cluster) errors.attempt(() => keepKmsKeyName(cluster!, keys));
    errors.throwIfAny();
    const c = cluster!;

    // The workers' kubelet: the same renderer, the first node's view of the network, the platform's bootstrap.
    const layout = kubeadmLayout();
    const cp = settings.controlPlane ?? {};
    const workerRender = renderControlPlane({
        ...cp,
        audit: settings.audit,
        network: { ...cp.network, advertiseAddress: c.resolved.facts.members[0].ip, etcdMembers: c.resolved.facts.members },
        kubelet: { ...cp.kubelet, extraArgs: { ...cp.kubelet?.extraArgs, "bootstrap-kubeconfig": BOOTSTRAP_KUBECONFIG_PATH } },
    }, layout, keys.controlPlane);
    if (workerRender.filePaths.kubeletConfig !== KUBELET_CONFIG_PATH) {
        throw new Error(`aws program: the kubelet reads ${workerRender.filePaths.kubeletConfig}, the platform writes ${KUBELET_CONFIG_PATH}`);
    }
    return { awsOptions, r: ra, backup: input.backup, keys, layout, cluster: c, worker: {
        args: workerRender.kubelet.args, config: workerRender.kubelet.config,
        podCidr: cp.network?.podCidr ?? NETWORK_DEFAULTS.podCidr, serviceCidr: cp.network?.serviceCidr ?? NETWORK_DEFAULTS.serviceCidr,
    } };
}

/** The toolchain's directory as aws.binaries.directory when the stack publishes binaries and names none. */
function binariesDefault(input: AwsProgramInput): Pick<AwsOptions, "binaries"> {
    const b: unknown = input.aws?.binaries;
    if (!input.toolchainBin || (b !== undefined && !isPlainObject(b))) return {};
    const given = (b ?? {}) as Record<string, unknown>;
    if ((given.source ?? "bucket") !== "bucket" || given.directory !== undefined) return {};
    return { binaries: { ...given, directory: input.toolchainBin() } };
}

/**
 * Every value in etcd and every backup bundle in the bucket was written under the KMS v2 provider name, so it must
 * stay configured: dropping it would leave both unreadable, and the bucket cannot be read at plan time to check
 * which bundles still need it. Nothing is lost by keeping it: KMS rotates the key material behind the name.
 */
function keepKmsKeyName(cluster: ClusterPlan, keys: AwsProgramKeys): void {
    const names = cluster.resolved.encryptionResolved.keys.map((k) => k.name);
    if (!names.includes(KMS_KEY_NAME)) {
        fail(key(keys.encryption, "keys"), names, `keep a KMS key named "${KMS_KEY_NAME}" on AWS: the Secrets in etcd and the values in every backup bundle name it; KMS rotates its material (aws.kmsKeyRotationDays)`);
    }
}

/**
 * A range shared with the VPC would make node and Service or pod addresses ambiguous to every route table.
 * The defaults count too: a VPC in 10.96.0.0/12 collides with the default Service range.
 */
function checkRanges(settings: ClusterSettings, r: ResolvedAwsOptions, keys: AwsProgramKeys): void {
    const n = settings.controlPlane?.network ?? {};
    for (const name of ["serviceCidr", "podCidr"] as const) {
        const v = n[name] ?? NETWORK_DEFAULTS[name];
        if (typeof v === "string" && cidrsOverlap(v, r.vpcCidr)) {
            fail(key(keys.controlPlane, "network", name), v, `use a range outside the VPC (${key(r.configKey, "network", "vpcCidr")}: ${r.vpcCidr})`);
        }
    }
}
