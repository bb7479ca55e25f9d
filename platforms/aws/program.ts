// `platform: aws` as one call: the same PKI, control-plane, encryption and audit renderers as the local
// platform, executed on EC2. Order: the pure plan and the complete AwsCluster wiring are checked first (against
// a plan-only PKI), so bad input leaves nothing registered; then the PKI, the cluster, a gate that waits for
// the apiservers to answer, the admin group's binding (AdminBootstrap, no standing system:masters
// credential), the k8s provider, and what workers need in the cluster to join.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AdminBootstrap, ClusterPki, kubeconfigNames, PkiMaterial, pkiPosture } from "../../components/pki";
import { ApiServerReady } from "./api-ready";
import { AwsCluster, AwsClusterArgs, planAwsCluster } from "./index";
import { controlPlaneSoftware, plannedPkiMaterial, workerSoftware } from "./node-software-plan";
import { awsPosture } from "./posture";
import { AwsProgramInput, AwsProgramPlan, LOCAL_API_SERVER, planAwsProgram } from "./program-plan";
import { applyWorkerJoin } from "./worker-join";

export type { AwsProgramInput, AwsPkiOptions, AwsControlPlaneOptions, AwsNetworkOptions, AwsConfigKeys } from "./program-plan";

export interface AwsProgramArgs extends AwsProgramInput {
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
}

function clusterArgs(args: AwsProgramArgs, plan: AwsProgramPlan, pki: PkiMaterial): AwsClusterArgs {
    const cp = controlPlaneSoftware(plan, pki);
    return {
        options: plan.awsOptions,
        configKey: plan.keys.aws,
        controlPlane: cp.software,
        workers: workerSoftware(plan),
        secrets: cp.secrets,
        clusterCaPem: pki.cas.kubernetes.certPem,
        // Workers join at the same URL admins use: its host is a SAN of the apiserver certificate.
        apiServerUrl: plan.server,
        encryption: plan.encryption,
        nowMs: args.nowMs,
    };
}

export function awsProgram(args: AwsProgramArgs, opts: pulumi.ComponentResourceOptions = {}): AwsProgram {
    const plan = planAwsProgram(args);
    // AwsCluster's own checks (units, files, parameter scopes, worker kubelet) on the full wiring, still
    // before the first resource: the file list depends only on the PKI tables, not on any key.
    const clusterPlan = planAwsCluster(clusterArgs(args, plan, plannedPkiMaterial(plan)));
    const posture = {
        ...plan.posture,
        aws: awsPosture(plan.awsOptions, plan.keys.aws, clusterPlan.parameters),
        pki: pkiPosture(plan.pki, plan.keys.pki),
    };

    const name = args.name ?? "aws";
    const pki = new ClusterPki(`${name}-pki`, {
        options: plan.pki,
        // The controller manager and scheduler talk to the apiserver on their own node (LOCAL_API_SERVER).
        servers: { external: plan.server, local: LOCAL_API_SERVER },
        clusterName: plan.r.clusterName,
        configKey: plan.keys.pki,
    }, opts);
    const cluster = new AwsCluster(name, clusterArgs(args, plan, pki), opts);

    const ca = pki.cas.kubernetes;
    const only = { parent: opts.parent };
    const ready = new ApiServerReady(`${name}-api-ready`, {
        server: plan.server, caCertPem: ca.certPem, caKeyPem: ca.keyPem, timeoutSeconds: args.readyTimeoutSeconds,
    }, { ...only, dependsOn: [cluster] });
    const bootstrap = new AdminBootstrap(`${name}-admin-bootstrap`, {
        server: plan.server, caCertPem: ca.certPem, caKeyPem: ca.keyPem,
    }, { ...only, dependsOn: [ready] });
    const kubeconfig = pulumi.secret(pki.kubeconfigs.admin);
    const provider = new k8s.Provider(`${name}-k8s`, { kubeconfig, enableServerSideApply: true }, { ...only, dependsOn: [bootstrap] });
    applyWorkerJoin(name, cluster.joinTokenSecret, provider, only);

    const users = pki.kubeconfigSpecs.filter((s) => s.name.startsWith(kubeconfigNames.user("")));
    const userKubeconfigs = pulumi.secret(pulumi.all(Object.fromEntries(users.map((s) => [s.name.slice(kubeconfigNames.user("").length), pki.kubeconfigs[s.name]]))));
    return { cluster, pki, server: pulumi.output(plan.server), kubeconfig, userKubeconfigs, caCertPem: ca.certPem, provider, posture };
}
