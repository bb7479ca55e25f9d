// `platform: aws` as one call: the same PKI, control-plane, encryption and audit renderers as the local
// platform, executed on EC2. Order: the pure plan and the complete AwsCluster wiring are checked first (against
// a plan-only PKI), so bad input leaves nothing registered; then the PKI, the cluster, a gate that waits for
// the apiservers to answer, the admin group's binding (AdminBootstrap, no standing system:masters
// credential), the k8s provider, what workers need in the cluster to join, the serving-certificate
// approver's role, the NetworkPolicy enforcer's, and the cluster's DNS from the image the workers import.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { serviceAccountTokenSeconds, type ClusterMaterial } from "../../components/cluster";
import { AdminBootstrap, AuthenticationTrust, CaRotation, CaRotationReports, CLUSTER_ADMINS_GROUP, ClusterPki, kubeconfigNames } from "../../components/pki";
import type { NodeReportExpectation } from "../../components/pki/ca-rotation-reports";
import type { NodeSoftware } from "./node-software";
import { nodeReportPlan, reportExpectation, workerReportName, workerReportPlan } from "./report";
import { REPORTS_SCOPE } from "./secrets";
import { SYNC_INTERVAL_MINUTES } from "./sync";
import { ApiServerReady } from "./api-ready";
import { AwsCluster, AwsClusterArgs, planAwsCluster } from "./index";
import { controlPlaneSoftware, workerSoftware } from "./node-software-plan";
import { awsPosture } from "./posture";
import { AwsProgramPlan } from "./program-plan";
import { CLUSTER_TAG, ROLE_TAG } from "./options";
import { WORKER_ROLE } from "./workers";
import { applyClusterDns, applyNodeAccess } from "./in-cluster";
import { nodeImageRegistries } from "./node-images";
import type { PlatformRegistry } from "../../components/cluster-baseline";
import { key } from "../../components/common";

export type { AwsProgramInput, AwsProgramKeys } from "./program-plan";

export interface AwsProgramArgs {
    /** The stack plan (planAwsProgram): resolved settings and every node's bundle. */
    plan: AwsProgramPlan;
    /** Prefix of every Pulumi resource name. Default "aws". */
    name?: string;
    /** Clock for the worker join-token window; tests pin it. */
    nowMs?: number;
    /** How long to wait for the first /readyz. Default 30 minutes. */
    readyTimeoutSeconds?: number;
}

export interface AwsProgram {
    cluster: AwsCluster;
    pki: ClusterPki;
    /** The API URL in every kubeconfig; its host is in the apiserver certificate (see program-plan.ts). */
    server: pulumi.Output<string>;
    /** Admin kubeconfig (kubeadm:cluster-admins); secret. */
    kubeconfig: pulumi.Output<string>;
    /** Persona kubeconfigs by user name; secret. */
    userKubeconfigs: pulumi.Output<Record<string, string>>;
    caCertPem: pulumi.Output<string>;
    /** Usable once the admin group is bound; everything applied through it waits for that. */
    provider: k8s.Provider;
    posture: Record<string, unknown>;
    /** Registries the baseline's admission policy must also allow: the node images' (node-images.ts). */
    platformRegistries: PlatformRegistry[];
}

function clusterArgs(args: AwsProgramArgs, plan: AwsProgramPlan, material?: ClusterMaterial): AwsClusterArgs {
    const cp = controlPlaneSoftware(plan, material);
    const workers = workerSoftware(plan, material);
    return {
        options: plan.awsOptions,
        configKey: plan.keys.aws,
        controlPlane: cp.software,
        workers: workers.software,
        secrets: [...cp.secrets, ...workers.secrets],
        clusterCaPem: material?.pki.cas.kubernetes.trustPem ?? "",
        clusterSigningCaPem: material?.pki.cas.kubernetes.certPem ?? "",
        // Workers join at the same URL admins use: its host is a SAN of the apiserver certificate.
        apiServerUrl: plan.cluster.server,
        encryption: plan.cluster.resolved.encryption,
        backup: plan.backup,
        backupConfigKey: plan.keys.backup,
        nowMs: args.nowMs,
    };
}

/** What the gates expect of each worker running at `addresses`: the same files and endpoints, each under its address. */
export function workerExpectations(software: NodeSoftware, addresses: readonly string[]): NodeReportExpectation[] {
    const e = reportExpectation(workerReportPlan(software));
    return addresses.map((a) => ({ ...e, node: workerReportName(a) }));
}

/**
 * Whether the reports are read for a domain: while it rotates, and on every up after its first rotation, since the
 * step to steady is checked on them too and the stack cannot tell that step from a later steady up before its gate
 * reads its state.
 */
const rotated = (r: CaRotation) => r.phase !== "steady" || r.generation > 1;

/**
 * What each node reported after its last sync, with what the gates expect of each report. Workers hold the
 * cluster CA alone, so they are expected while it rotates: every worker instance running now (found by its tags,
 * not through the group's resource, which depends on the PKI being gated), each under its own address.
 */
function nodeReports(plan: AwsProgramPlan, clusterPlan: ReturnType<typeof planAwsCluster>, opts: pulumi.ComponentResourceOptions): pulumi.Output<CaRotationReports> {
    const under = `/${plan.r.clusterName}/${REPORTS_SCOPE}`;
    const expected = clusterPlan.nodes.map((n, i) => reportExpectation(nodeReportPlan(n.name, clusterPlan.cpSoftware[i])));
    const only = { parent: opts.parent };
    const workers = !rotated(plan.cluster.resolved.pkiResolved.rotation.kubernetes)
        ? pulumi.output([] as string[])
        : aws.ec2.getInstancesOutput({
            instanceTags: { [CLUSTER_TAG]: plan.r.clusterName, [ROLE_TAG]: WORKER_ROLE },
            instanceStateNames: ["running"],
        }, only).apply((found) => [...found.privateIps].sort());
    // Those that exist, workers' included: a node that never reported has only the stack's empty value, or none.
    return pulumi.all([aws.ssm.getParametersByPathOutput({ path: under, recursive: true, withDecryption: false }, only), workers])
        .apply(([found, addresses]) => ({
            expected: [...expected, ...workerExpectations(clusterPlan.workerSoftware, addresses)],
            reports: Object.fromEntries((found.names ?? []).map((n, i) => [n.slice(under.length + 1), found.values?.[i] ?? ""])),
            schedule: `every ${SYNC_INTERVAL_MINUTES} minutes, at a minute of each node's own`,
            // The URL this program already reaches the API at: kube-root-ca.crt is read through it.
            api: plan.cluster.server,
        }));
}

export function awsProgram(args: AwsProgramArgs, opts: pulumi.ComponentResourceOptions = {}): AwsProgram {
    const { plan } = args;
    // AwsCluster's own checks (units, files, parameter scopes, worker kubelet) on the full wiring, still
    // before the first resource: the file list is the plan's, contents are bound later.
    const clusterPlan = planAwsCluster(clusterArgs(args, plan));
    const { cluster: cp } = plan;
    const posture = {
        ...cp.posture,
        platform: { ...cp.posture.platform, aws: awsPosture(plan.awsOptions, plan.keys.aws, clusterPlan.parameters) },
    };

    const name = args.name ?? "aws";
    const facts = cp.resolved.facts;
    const rotating = Object.values(cp.resolved.pkiResolved.rotation).some(rotated);
    const pki = new ClusterPki(`${name}-pki`, {
        options: cp.resolved.pki,
        // The controller manager and scheduler talk to the apiserver on their own node.
        servers: { external: cp.server, ...(facts.localApiServer ? { local: facts.localApiServer } : {}) },
        clusterName: plan.r.clusterName,
        configKey: plan.keys.pki,
        serviceAccountTokenLifetimeSeconds: serviceAccountTokenSeconds(cp.resolved),
        // Read only while a rotation runs: the gates need them then alone.
        ...(rotating ? { rotationReports: nodeReports(plan, clusterPlan, opts) } : {}),
    }, opts);
    // AwsCluster creates the encryption keys itself and delivers their config as its own parameter.
    const cluster = new AwsCluster(name, clusterArgs(args, plan, { pki, encryptionConfig: "" }), opts);

    const ca = pki.cas.kubernetes;
    const only = { parent: opts.parent };
    const ready = new ApiServerReady(`${name}-api-ready`, {
        server: cp.server, caCertPem: ca.certPem, caKeyPem: ca.keyPem, trustPem: ca.trustPem, timeoutSeconds: args.readyTimeoutSeconds,
    }, { ...only, dependsOn: [cluster] });
    // Both verify the apiserver with the trust bundle: in a rotation's phase the nodes have not synced yet, an
    // apiserver still serves the leaf of the phase before, which the bundle verifies and the signer alone may not.
    const bootstrap = new AdminBootstrap(`${name}-admin-bootstrap`, {
        server: cp.server, caCertPem: ca.certPem, caKeyPem: ca.keyPem, trustPem: ca.trustPem,
    }, { ...only, dependsOn: [ready] });
    // What the apiservers publish as their client CAs, kept to what they trust (see trust-sync.ts): pruned at each
    // change of trust, and again at each rotation step, the step to steady once every node took distrust-old up.
    new AuthenticationTrust(`${name}-authentication-trust`, {
        server: cp.server, signerCertPem: ca.certPem, signerKeyPem: ca.keyPem, clusterTrustPem: ca.trustPem, frontProxyTrustPem: pki.cas.frontProxy.trustPem,
        adminGroup: CLUSTER_ADMINS_GROUP, positions: JSON.stringify(cp.resolved.pkiResolved.rotation),
    }, { ...only, dependsOn: [bootstrap] });
    const kubeconfig = pulumi.secret(pki.kubeconfigs.admin);
    // The same cluster whatever CA its kubeconfig holds: a CA rotation updates the provider instead of replacing it.
    const provider = new k8s.Provider(`${name}-k8s`, { kubeconfig, enableServerSideApply: true, clusterIdentifier: plan.r.clusterName }, { ...only, dependsOn: [bootstrap] });
    applyNodeAccess(name, cluster.joinTokenSecret, provider, only);
    const images = clusterPlan.images;
    if (images) {
        const kubelet = plan.worker.config as { clusterDNS: string[]; clusterDomain: string };
        applyClusterDns(name, { image: images.coredns, clusterDNS: kubelet.clusterDNS, clusterDomain: kubelet.clusterDomain }, provider, only);
    }
    const platformRegistries = images ? nodeImageRegistries(Object.values(images), key(plan.keys.aws, "binaries")) : [];

    const users = pki.kubeconfigSpecs.filter((s) => s.name.startsWith(kubeconfigNames.user("")));
    const userKubeconfigs = pulumi.secret(pulumi.all(Object.fromEntries(users.map((s) => [s.name.slice(kubeconfigNames.user("").length), pki.kubeconfigs[s.name]]))));
    return { cluster, pki, server: pulumi.output(cp.server), kubeconfig, userKubeconfigs, caCertPem: ca.trustPem, provider, posture, platformRegistries };
}
