// The AWS program's decisions, as a pure plan: which options the shared components get (each node's fixed
// private address, every node as an etcd member, the internal NLB's fixed addresses as API server SANs), and
// which stack settings the platform refuses because it decides them itself. Nothing here creates a resource,
// so every ConfigError is thrown before the first one is registered; program.ts only executes the plan.
import { AuditLogOptions, auditLogFiles, auditPosture, renderAuditPolicy, renderAuditWebhookConfig, resolveAuditOptions } from "../../components/audit";
import { cidrsOverlap, fail, FileLayout, key, knownKeys, kubeadmLayout, toYaml } from "../../components/common";
import type { ControlPlaneOptions, NetworkOptions, RenderedControlPlane, RenderedEtcdMember } from "../../components/control-plane";
import { controlPlaneFileList, NETWORK_DEFAULTS, renderControlPlane } from "../../components/control-plane";
import { EncryptionOptions, encryptionPosture, resolveEncryption } from "../../components/encryption";
import type { PkiOptions } from "../../components/pki";
import { resolvePkiOptions } from "../../components/pki";
import { awsEncryptionOptions, ControlPlaneNode, controlPlaneNodes, KMS_PLUGIN_ENDPOINT } from "./control-plane";
import { API_PORT, internalNlbAddresses } from "./nlb";
import { AwsOptions, ResolvedAwsOptions, resolveAwsOptions } from "./options";
import { BOOTSTRAP_KUBECONFIG_PATH, KUBELET_CONFIG_PATH } from "./workers";

/** What a stack may set about the PKI on AWS: addresses, nodes and members come from the AWS plan. */
export type AwsPkiOptions = Omit<PkiOptions, "serviceCidr" | "controlPlaneNodes" | "workerNodes" | "etcdMembers" | "endpoint"> & {
    /** Extra API server names, e.g. a Route 53 record for the NLB. The first one becomes the server URL. */
    endpoint?: { dnsNames?: string[] };
};
/** The network settings that are not addresses or ports: those the platform fixes (NLB, security groups). */
export type AwsNetworkOptions = Pick<NetworkOptions, "serviceCidr" | "podCidr" | "clusterDomain" | "clusterName" | "serviceAccountIssuer">;
export type AwsControlPlaneOptions = Omit<ControlPlaneOptions, "network" | "audit"> & { network?: AwsNetworkOptions };

export interface AwsConfigKeys {
    aws?: string;
    pki?: string;
    encryption?: string;
    audit?: string;
    controlPlane?: string;
}

export interface AwsProgramInput {
    stack: string;
    aws: AwsOptions;
    pki?: AwsPkiOptions;
    /** Default awsEncryptionOptions(); only kms keys on the platform's plugin socket are accepted. */
    encryption?: EncryptionOptions;
    audit?: AuditLogOptions;
    controlPlane?: AwsControlPlaneOptions;
    configKeys?: AwsConfigKeys;
}

/** Where the AMI must provide the binaries; the KMS plugin's path is aws.kmsPluginPath. */
export const AWS_BIN_DIR = "/usr/local/bin";
/**
 * The files only etcd reads (its CA, serving and peer pairs) live outside /etc/kubernetes/pki, in a directory
 * the etcd user owns, as the local platform's system layout does: CIS 1.1.19 wants /etc/kubernetes/pki
 * root-owned, and etcd runs as its own user.
 */
export const ETCD_OWN_PKI_DIR = "/etc/etcd/pki";
export const ETCD_USER = "etcd";
/** How the controller manager and scheduler reach their apiserver: an NLB does not hairpin a node to itself. */
export const LOCAL_API_SERVER = `https://127.0.0.1:${API_PORT}`;

const NETWORK_KEYS: (keyof AwsNetworkOptions)[] = ["serviceCidr", "podCidr", "clusterDomain", "clusterName", "serviceAccountIssuer"];
const PKI_KEYS = ["algorithm", "caValidityHours", "caEarlyRenewalHours", "leafValidityHours", "earlyRenewalHours", "clusterDomain", "endpoint", "users", "breakGlass"];

export interface NodePlan {
    node: ControlPlaneNode;
    /** The options this node's flags are rendered from (kubeadm layout). */
    options: ControlPlaneOptions;
    controlPlane: RenderedControlPlane;
    /** This node's etcd member, rendered with etcd's own key directory. */
    etcd: RenderedEtcdMember;
}

export interface AwsProgramPlan {
    /** The stack's AWS options plus a tag naming the Pulumi stack, as AwsCluster gets them. */
    awsOptions: AwsOptions;
    r: ResolvedAwsOptions;
    keys: Required<AwsConfigKeys>;
    layout: FileLayout;
    etcdLayout: FileLayout;
    /** The URL admins, AdminBootstrap and the k8s provider use; its host is a SAN of the apiserver certificate. */
    server: string;
    pki: PkiOptions;
    encryption: EncryptionOptions;
    nodes: NodePlan[];
    worker: { args: string[]; config: Record<string, unknown> };
    /** Public settings files every control-plane node gets (audit policy, admission, ...), as YAML. */
    settingsFiles: { path: string; content: string }[];
    posture: Record<string, unknown>;
}

export function planAwsProgram(input: AwsProgramInput): AwsProgramPlan {
    const keys: Required<AwsConfigKeys> = { aws: "aws", pki: "pki", encryption: "encryption", audit: "audit", controlPlane: "controlPlane", ...input.configKeys };
    if (typeof input.stack !== "string" || input.stack === "") throw new Error("aws program: pass the Pulumi stack name as stack");
    resolveAwsOptions(input.aws, keys.aws);
    // Every taggable resource then says which stack owns it, besides which cluster.
    const awsOptions: AwsOptions = { ...input.aws, tags: { "hardened-cluster/stack": input.stack, ...input.aws.tags } };
    const r = resolveAwsOptions(awsOptions, keys.aws);
    const nodes = controlPlaneNodes(r);
    const layout = kubeadmLayout();
    const etcdLayout: FileLayout = { ...layout, etcdPkiDir: ETCD_OWN_PKI_DIR };

    // The audit block owns its checks; running them here names its own key rather than controlPlane.audit.
    resolveAuditOptions(input.audit, keys.audit);
    const auditPolicy = renderAuditPolicy(input.audit, keys.audit);

    const cp = input.controlPlane ?? {};
    const cpKey = keys.controlPlane;
    if (cp === null || typeof cp !== "object" || Array.isArray(cp)) fail(cpKey, cp, "use an object of control-plane settings");
    if ("audit" in cp) fail(key(cpKey, "audit"), (cp as { audit?: unknown }).audit, `set audit logging in ${keys.audit}; it is passed to the control plane from there`);
    const network = checkNetwork(key(cpKey, "network"), cp.network, r);
    const servingCert = cp.kubelet?.servingCert;
    if (servingCert !== undefined && servingCert !== "bootstrap") {
        // Workers are an Auto Scaling group: no per-node certificate exists to point the kubelet at.
        fail(key(cpKey, "kubelet", "servingCert"), servingCert, "AWS workers get serving certificates through serverTLSBootstrap; remove it or use \"bootstrap\"");
    }
    if (cp.kubelet?.extraArgs?.["bootstrap-kubeconfig"] !== undefined) {
        fail(key(cpKey, "kubelet", "extraArgs", "bootstrap-kubeconfig"), cp.kubelet.extraArgs["bootstrap-kubeconfig"], `the AWS platform sets it to ${BOOTSTRAP_KUBECONFIG_PATH}`);
    }
    const members = nodes.map((n) => ({ name: n.name, ip: n.privateIp }));
    const optionsFor = (n: ControlPlaneNode): ControlPlaneOptions => ({
        ...cp,
        audit: input.audit,
        network: { ...network, advertiseAddress: n.privateIp, etcdMembers: members },
    });
    const nodePlans: NodePlan[] = nodes.map((node, i) => {
        const options = optionsFor(node);
        return {
            node,
            options,
            controlPlane: renderControlPlane(options, layout, cpKey),
            etcd: renderControlPlane(options, etcdLayout, cpKey).etcd[i],
        };
    });
    const workerRender = renderControlPlane({
        ...optionsFor(nodes[0]),
        kubelet: { ...cp.kubelet, extraArgs: { ...cp.kubelet?.extraArgs, "bootstrap-kubeconfig": BOOTSTRAP_KUBECONFIG_PATH } },
    }, layout, cpKey);
    if (workerRender.filePaths.kubeletConfig !== KUBELET_CONFIG_PATH) {
        throw new Error(`aws program: the kubelet reads ${workerRender.filePaths.kubeletConfig}, the platform writes ${KUBELET_CONFIG_PATH}`);
    }

    const encryption = checkEncryption(keys.encryption, input.encryption);
    const { pki, server } = pkiPlan(keys.pki, input.pki, r, nodes, network);

    const first = nodePlans[0].controlPlane;
    const audit = auditLogFiles(layout);
    const settingsFiles = [
        { path: audit.policyFile, content: toYaml(auditPolicy) },
        ...controlPlaneFileList(first).filter((f) => f.path !== first.filePaths.kubeletConfig),
    ];
    if (input.audit?.webhook) settingsFiles.push({ path: audit.webhookConfigFile, content: toYaml(renderAuditWebhookConfig(input.audit.webhook, keys.audit)) });

    return {
        awsOptions,
        r,
        keys,
        layout,
        etcdLayout,
        server,
        pki,
        encryption,
        nodes: nodePlans,
        worker: { args: workerRender.kubelet.args, config: workerRender.kubelet.config },
        settingsFiles,
        posture: {
            platform: "aws",
            endpoint: server,
            controlPlane: first.posture,
            encryption: encryptionPosture(encryption, keys.encryption),
            audit: auditPosture(input.audit, keys.audit),
        },
    };
}

function checkNetwork(k: string, options: AwsNetworkOptions | undefined, r: ResolvedAwsOptions): AwsNetworkOptions {
    const n = options === undefined ? {} : options;
    if (n === null || typeof n !== "object" || Array.isArray(n)) fail(k, n, "use an object");
    // Addresses and ports are the platform's: the NLB listens on 6443 and the security groups open etcd's ports.
    for (const name of Object.keys(n)) {
        if (!(NETWORK_KEYS as string[]).includes(name)) {
            fail(key(k, name), (n as Record<string, unknown>)[name], `the AWS platform sets addresses and ports itself; known keys: ${NETWORK_KEYS.join(", ")}`);
        }
    }
    // A range shared with the VPC would make node and Service or pod addresses ambiguous to every route table.
    // The defaults count too: a VPC in 10.96.0.0/12 collides with the default Service range.
    for (const name of ["serviceCidr", "podCidr"] as const) {
        const v = n[name] ?? NETWORK_DEFAULTS[name];
        if (typeof v === "string" && cidrsOverlap(v, r.vpcCidr)) fail(key(k, name), v, `use a range outside the VPC (${key(r.configKey, "network", "vpcCidr")}: ${r.vpcCidr})`);
    }
    return n;
}

/**
 * KMS v2 through the plugin the platform runs, or nothing. A local provider (secretbox, aescbc, aesgcm) would
 * put the data key itself into an SSM parameter readable by every control-plane role, which is exactly what
 * the separate secrets key exists to avoid; a cluster this program creates starts on KMS, so there is nothing
 * to migrate from.
 */
function checkEncryption(k: string, options: EncryptionOptions | undefined): EncryptionOptions {
    const encryption = options ?? awsEncryptionOptions();
    resolveEncryption(encryption, k).keys.forEach((ek, i) => {
        if (ek.provider !== "kms") {
            fail(ek.providerOption, ek.provider, `the AWS platform encrypts Secrets with KMS v2 only; remove ${k} to use the default, or use provider "kms"`);
        }
        if (ek.endpoint !== KMS_PLUGIN_ENDPOINT) {
            fail(key(k, "keys", i, "endpoint"), ek.endpoint, `the AWS platform runs aws-encryption-provider on ${KMS_PLUGIN_ENDPOINT}`);
        }
    });
    return encryption;
}

/**
 * API server SANs must be plain values when the certificates are planned, so the endpoint cannot be the NLB's
 * DNS name (AWS makes it up on creation). A private NLB has fixed addresses (internalNlbAddresses), which go
 * into the certificate; the URL is the first configured DNS name (point a Route 53 record at those addresses
 * before the first `pulumi up`), else the first NLB address. A public NLB has no address known in advance,
 * so it needs a DNS name the operator points at the cluster's apiDnsName.
 */
function pkiPlan(k: string, o: AwsPkiOptions | undefined, r: ResolvedAwsOptions, nodes: ControlPlaneNode[], network: AwsNetworkOptions): { pki: PkiOptions; server: string } {
    const opts = o ?? {};
    if (opts === null || typeof opts !== "object" || Array.isArray(opts)) fail(k, opts, "use an object");
    for (const name of Object.keys(opts)) {
        if (name === "workerNodes") fail(key(k, name), (opts as any)[name], "AWS workers join with bootstrap tokens; no per-worker certificate is issued");
        if (name === "serviceCidr" || name === "controlPlaneNodes" || name === "etcdMembers") {
            fail(key(k, name), (opts as any)[name], "the AWS platform fills this in from its own plan (controlPlane.network, aws.controlPlane)");
        }
    }
    knownKeys(k, opts, PKI_KEYS);
    if (opts.endpoint !== undefined && (opts.endpoint === null || typeof opts.endpoint !== "object" || Array.isArray(opts.endpoint))) {
        fail(key(k, "endpoint"), opts.endpoint, "use { dnsNames: [...] }");
    }
    knownKeys(key(k, "endpoint"), opts.endpoint, ["dnsNames"]);
    const clusterDomain = network.clusterDomain ?? opts.clusterDomain;
    if (network.clusterDomain !== undefined && opts.clusterDomain !== undefined && opts.clusterDomain !== network.clusterDomain) {
        fail(key(k, "clusterDomain"), opts.clusterDomain, `the API server certificate must name the cluster's domain; remove it or make it equal controlPlane.network.clusterDomain (${network.clusterDomain})`);
    }
    const nlb = r.endpoint === "private" ? internalNlbAddresses(r.privateSubnets) : [];
    const pki: PkiOptions = {
        ...opts,
        serviceCidr: network.serviceCidr ?? NETWORK_DEFAULTS.serviceCidr,
        endpoint: { dnsNames: opts.endpoint?.dnsNames ?? [], ipAddresses: nlb },
        controlPlaneNodes: nodes.map((n) => ({ name: n.name, ipAddresses: [n.privateIp] })),
        etcdMembers: nodes.map((n) => ({ name: n.name, ipAddresses: [n.privateIp] })),
    };
    if (clusterDomain === undefined) delete pki.clusterDomain;
    else pki.clusterDomain = clusterDomain;
    const resolved = resolvePkiOptions(pki, k);
    const host = resolved.endpoint.dnsNames[0] ?? nlb[0];
    if (host === undefined) {
        fail(key(k, "endpoint", "dnsNames"), opts.endpoint?.dnsNames, `a public NLB (${key(r.configKey, "endpoint")}: "public") has no address before it exists; name the DNS name you will point at the cluster's apiDnsName`);
    }
    return { pki, server: `https://${host}:${API_PORT}` };
}
