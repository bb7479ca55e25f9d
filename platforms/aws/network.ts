// The VPC: private subnets for every node, public subnets only for NAT gateways and an internet-facing NLB,
// a NAT gateway per zone (losing one zone must not cut the others off from the AWS APIs), and flow logs of
// all traffic into a KMS-encrypted log group. The VPC's default security group is emptied (CIS AWS 5.4), so
// nothing launched without an explicit group gets the default allow-within-group rules.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { assumeRolePolicy, flowLogsPolicy } from "./iam";

export interface NetworkArgs {
    clusterName: string;
    vpcCidr: string;
    privateSubnets: string[];
    publicSubnets: string[];
    availabilityZones: pulumi.Input<string[]>;
    clusterKeyArn: pulumi.Input<string>;
    logRetentionDays: number;
    accountId: pulumi.Input<string>;
    tags: Record<string, string>;
}

export class Network extends pulumi.ComponentResource {
    readonly vpcId: pulumi.Output<string>;
    readonly privateSubnetIds: pulumi.Output<string>[];
    readonly publicSubnetIds: pulumi.Output<string>[];
    readonly flowLogGroup: aws.cloudwatch.LogGroup;

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("hardened-cluster:aws:Network", name, {}, opts);
        const parent = { parent: this };
        const tags = (n: string, extra: Record<string, string> = {}) => ({ ...args.tags, ...extra, Name: n });
        const az = (i: number) => pulumi.output(args.availabilityZones).apply((zones) => {
            if (zones.length <= i) throw new Error(`${args.clusterName}: the region offers only ${zones.length} available zones, ${i + 1} are needed`);
            return zones[i];
        });

        const vpc = new aws.ec2.Vpc(name, { cidrBlock: args.vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, tags: tags(name) }, parent);
        this.vpcId = vpc.id;
        new aws.ec2.DefaultSecurityGroup(`${name}-default`, { vpcId: vpc.id, tags: tags(`${name}-default-unused`) }, parent);

        const igw = new aws.ec2.InternetGateway(name, { vpcId: vpc.id, tags: tags(name) }, parent);
        const publicRoutes = new aws.ec2.RouteTable(`${name}-public`, { vpcId: vpc.id, tags: tags(`${name}-public`) }, parent);
        new aws.ec2.Route(`${name}-public-default`, { routeTableId: publicRoutes.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: igw.id }, parent);

        const publicSubnets = args.publicSubnets.map((cidr, i) => {
            const subnet = new aws.ec2.Subnet(`${name}-public-${i}`, {
                vpcId: vpc.id,
                cidrBlock: cidr,
                availabilityZone: az(i),
                // Nothing here gets a public address unless it asks for one (NAT gateways and the NLB do, through EIPs).
                mapPublicIpOnLaunch: false,
                tags: tags(`${name}-public-${i}`, { "kubernetes.io/role/elb": "1" }),
            }, parent);
            new aws.ec2.RouteTableAssociation(`${name}-public-${i}`, { subnetId: subnet.id, routeTableId: publicRoutes.id }, parent);
            return subnet;
        });
        this.publicSubnetIds = publicSubnets.map((s) => s.id);

        this.privateSubnetIds = args.privateSubnets.map((cidr, i) => {
            const subnet = new aws.ec2.Subnet(`${name}-private-${i}`, {
                vpcId: vpc.id,
                cidrBlock: cidr,
                availabilityZone: az(i),
                mapPublicIpOnLaunch: false,
                tags: tags(`${name}-private-${i}`, { "kubernetes.io/role/internal-elb": "1" }),
            }, parent);
            const eip = new aws.ec2.Eip(`${name}-nat-${i}`, { domain: "vpc", tags: tags(`${name}-nat-${i}`) }, { parent: this, dependsOn: [igw] });
            const nat = new aws.ec2.NatGateway(`${name}-${i}`, { allocationId: eip.id, subnetId: publicSubnets[i].id, tags: tags(`${name}-${i}`) }, parent);
            const routes = new aws.ec2.RouteTable(`${name}-private-${i}`, { vpcId: vpc.id, tags: tags(`${name}-private-${i}`) }, parent);
            new aws.ec2.Route(`${name}-private-${i}-default`, { routeTableId: routes.id, destinationCidrBlock: "0.0.0.0/0", natGatewayId: nat.id }, parent);
            new aws.ec2.RouteTableAssociation(`${name}-private-${i}`, { subnetId: subnet.id, routeTableId: routes.id }, parent);
            return subnet.id;
        });

        this.flowLogGroup = new aws.cloudwatch.LogGroup(`${name}-flow-logs`, {
            name: `/${args.clusterName}/vpc-flow-logs`,
            kmsKeyId: args.clusterKeyArn,
            retentionInDays: args.logRetentionDays,
            tags: args.tags,
        }, parent);
        const role = new aws.iam.Role(`${name}-flow-logs`, {
            assumeRolePolicy: pulumi.output(args.accountId).apply((a) => JSON.stringify(assumeRolePolicy("vpc-flow-logs.amazonaws.com", a))),
            tags: args.tags,
        }, parent);
        const policy = new aws.iam.RolePolicy(`${name}-flow-logs`, {
            role: role.id,
            policy: this.flowLogGroup.arn.apply((arn) => JSON.stringify(flowLogsPolicy(arn))),
        }, parent);
        new aws.ec2.FlowLog(name, {
            vpcId: vpc.id,
            trafficType: "ALL",
            logDestinationType: "cloud-watch-logs",
            logDestination: this.flowLogGroup.arn,
            iamRoleArn: role.arn,
            maxAggregationInterval: 60,
            tags: args.tags,
        }, { parent: this, dependsOn: [policy] });

        this.registerOutputs({ vpcId: this.vpcId, privateSubnetIds: this.privateSubnetIds, publicSubnetIds: this.publicSubnetIds });
    }
}
