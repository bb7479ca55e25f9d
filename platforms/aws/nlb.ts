// The API endpoint: a TCP pass-through NLB. TLS is not terminated here because the apiserver authenticates
// clients by their certificates, which a terminating balancer would strip. The NLB has its own security group,
// the only source the control-plane group admits on 6443, and client addresses are preserved for the audit log.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { hostAddress } from "./network-plan";
import { NLB_ADDRESS_OFFSET } from "./control-plane";
import { EndpointVisibility } from "./options";

export const API_PORT = 6443;

/** Fixed addresses of an internal NLB, one per private subnet, so certificates can name them before it exists. */
export function internalNlbAddresses(privateSubnets: readonly string[]): string[] {
    return privateSubnets.map((s) => hostAddress(s, NLB_ADDRESS_OFFSET));
}

export interface ApiLoadBalancerArgs {
    clusterName: string;
    endpoint: EndpointVisibility;
    privateSubnets: string[];
    privateSubnetIds: pulumi.Input<string>[];
    publicSubnetIds: pulumi.Input<string>[];
    vpcId: pulumi.Input<string>;
    securityGroupId: pulumi.Input<string>;
    instanceIds: pulumi.Input<string>[];
    deletionProtection: boolean;
    tags: Record<string, string>;
}

export class ApiLoadBalancer extends pulumi.ComponentResource {
    /** AWS's name for the NLB. Not a SAN of the apiserver certificate: point a DNS record at it, never a client. */
    readonly dnsName: pulumi.Output<string>;
    readonly arn: pulumi.Output<string>;

    constructor(name: string, args: ApiLoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("hardened-cluster:aws:ApiLoadBalancer", name, {}, opts);
        const parent = { parent: this };
        const internal = args.endpoint === "private";
        const addresses = internalNlbAddresses(args.privateSubnets);
        const lb = new aws.lb.LoadBalancer(name, {
            name: `${args.clusterName}-api`,
            loadBalancerType: "network",
            internal,
            securityGroups: [args.securityGroupId],
            subnetMappings: internal
                ? args.privateSubnetIds.map((subnetId, i) => ({ subnetId, privateIpv4Address: addresses[i] }))
                : args.publicSubnetIds.map((subnetId) => ({ subnetId })),
            enableCrossZoneLoadBalancing: true,
            enableDeletionProtection: args.deletionProtection,
            tags: args.tags,
        }, parent);
        const tg = new aws.lb.TargetGroup(name, {
            name: `${args.clusterName}-api`,
            port: API_PORT,
            protocol: "TCP",
            targetType: "instance",
            vpcId: args.vpcId,
            preserveClientIp: "true",
            // A TCP check: with anonymous auth off, /readyz may answer 401 to an unauthenticated balancer.
            healthCheck: { protocol: "TCP", port: String(API_PORT), interval: 10, healthyThreshold: 2, unhealthyThreshold: 2 },
            deregistrationDelay: 30,
            tags: args.tags,
        }, parent);
        new aws.lb.Listener(name, {
            loadBalancerArn: lb.arn,
            port: API_PORT,
            protocol: "TCP",
            defaultActions: [{ type: "forward", targetGroupArn: tg.arn }],
            tags: args.tags,
        }, parent);
        args.instanceIds.forEach((targetId, i) => {
            new aws.lb.TargetGroupAttachment(`${name}-${i}`, { targetGroupArn: tg.arn, targetId, port: API_PORT }, parent);
        });
        this.dnsName = lb.dnsName;
        this.arn = lb.arn;
        this.registerOutputs({ dnsName: this.dnsName });
    }
}
