// What the AWS program applies in the cluster for its nodes once its provider works: the workers' join (the
// bootstrap-token Secret and its bindings), the serving-certificate approver's role, the NetworkPolicy
// enforcer's and the Pod network's read of every Node. One function, so the boot drill applies exactly what the program does.
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
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
