// What the AWS program applies in the cluster for its nodes once its provider works: the workers' join (the
// bootstrap-token Secret and its bindings), the serving-certificate approver's role, the NetworkPolicy
// enforcer's and the Pod network's read of every Node, and the cluster's DNS. Functions of their own, so the
// boot drill applies exactly what the program does.
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { ClusterDns } from "../../components/cluster-dns";
import { networkPolicyRbac } from "../node-network";
import { applyServingApprover } from "../serving-approver";
import { applyUserRole } from "../user-role";
import { applyWorkerJoin } from "../worker-join";
import { podNetworkRbac } from "./pod-network";

export function applyNodeAccess(name: string, joinTokenSecret: pulumi.Output<string>, provider: k8s.Provider, opts: pulumi.CustomResourceOptions): pulumi.Resource[] {
    return [
        ...applyWorkerJoin(name, joinTokenSecret, provider, opts),
        ...applyServingApprover(name, provider, opts),
        ...applyUserRole(`${name}-network-policy`, networkPolicyRbac(), provider, opts),
        ...applyUserRole(`${name}-pod-network`, podNetworkRbac(), provider, opts),
    ];
}

/** The kubelet settings the cluster's DNS must agree with: its Service takes the address Pods are told to ask. */
export interface ClusterDnsTarget {
    /** The CoreDNS image the workers imported (node-images.ts). */
    image: string;
    clusterDNS: string[];
    clusterDomain: string;
}

/**
 * CoreDNS, labelled as the DNS-allow NetworkPolicies select it. The up does not wait for its Pods: the workers
 * that run them join after it, as the Auto Scaling group launches them.
 */
export function applyClusterDns(name: string, target: ClusterDnsTarget, provider: k8s.Provider, opts: pulumi.ComponentResourceOptions): ClusterDns {
    return new ClusterDns(`${name}-dns`, {
        image: target.image, clusterIp: target.clusterDNS[0], clusterDomain: target.clusterDomain, configKey: "aws.clusterDns", awaitReady: false,
    }, { ...opts, providers: { kubernetes: provider } });
}
