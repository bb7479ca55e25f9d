// Security groups as a rule table: each rule names its peer (a CIDR or another group) and why it exists, so
// least privilege can be read, and tested, without AWS. Control-plane nodes accept 6443 from the NLB's group;
// AWS documents that a rule referencing the NLB's group admits load-balanced traffic even with client IP
// preservation on, which is kept on so the audit log records real client addresses. They accept it from the
// workers too: Pods reach the API at the `kubernetes` Service, whose endpoints are the apiservers' own
// addresses (the apiserver publishes its advertise address there), not the NLB's.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

export const GROUPS = ["nlb", "controlPlane", "workers"] as const;
export type GroupName = (typeof GROUPS)[number];

export const PORTS = { ssh: 22, apiserver: 6443, etcdClient: 2379, etcdPeer: 2380, kubelet: 10250, https: 443 } as const;

export interface SgRule {
    group: GroupName;
    direction: "ingress" | "egress";
    protocol: "tcp" | "udp" | "-1";
    fromPort: number;
    toPort: number;
    cidr?: string;
    peer?: GroupName;
    description: string;
}

export interface SgPlanInput {
    apiAllowedCidrs: readonly string[];
    ssh: { enabled: boolean; allowedCidrs: readonly string[] };
}

const ANYWHERE = "0.0.0.0/0";

export function securityGroupRules(p: SgPlanInput): SgRule[] {
    const tcp = (group: GroupName, direction: SgRule["direction"], port: number | [number, number], peer: { cidr?: string; peer?: GroupName }, description: string): SgRule => {
        const [fromPort, toPort] = typeof port === "number" ? [port, port] : port;
        return { group, direction, protocol: "tcp", fromPort, toPort, ...peer, description };
    };
    const rules: SgRule[] = [
        ...p.apiAllowedCidrs.map((cidr) => tcp("nlb", "ingress", PORTS.apiserver, { cidr }, "API clients (apiAllowedCidrs)")),
        tcp("nlb", "ingress", PORTS.apiserver, { peer: "workers" }, "kubelets and pods reach the API through the NLB"),
        tcp("nlb", "egress", PORTS.apiserver, { peer: "controlPlane" }, "forward to the apiservers, and health checks"),

        tcp("controlPlane", "ingress", PORTS.apiserver, { peer: "nlb" }, "API traffic through the NLB"),
        tcp("controlPlane", "ingress", PORTS.apiserver, { peer: "workers" }, "pods to the API at the kubernetes Service's endpoints, the apiservers' own addresses"),
        tcp("controlPlane", "ingress", [PORTS.etcdClient, PORTS.etcdPeer], { peer: "controlPlane" }, "etcd client and peer traffic between control-plane nodes"),
        tcp("controlPlane", "egress", [PORTS.etcdClient, PORTS.etcdPeer], { peer: "controlPlane" }, "etcd client and peer traffic between control-plane nodes"),
        tcp("controlPlane", "egress", PORTS.kubelet, { peer: "workers" }, "apiserver to kubelets (logs, exec, port-forward)"),
        // AWS APIs (SSM, KMS, CloudWatch) through the NAT gateways; the VPC resolver and time service are not filtered by groups.
        tcp("controlPlane", "egress", PORTS.https, { cidr: ANYWHERE }, "AWS APIs over TLS"),

        tcp("workers", "ingress", PORTS.kubelet, { peer: "controlPlane" }, "kubelet API only from the apiservers"),
        { group: "workers", direction: "ingress", protocol: "-1", fromPort: -1, toPort: -1, peer: "workers", description: "pod network between workers (CNI)" },
        { group: "workers", direction: "egress", protocol: "-1", fromPort: -1, toPort: -1, peer: "workers", description: "pod network between workers (CNI)" },
        tcp("workers", "egress", PORTS.apiserver, { peer: "nlb" }, "kubelet and pods to the API through the NLB"),
        tcp("workers", "egress", PORTS.apiserver, { peer: "controlPlane" }, "pods to the API at the kubernetes Service's endpoints, the apiservers' own addresses"),
        tcp("workers", "egress", PORTS.https, { cidr: ANYWHERE }, "image registries and AWS APIs over TLS"),
    ];
    if (p.ssh.enabled) {
        for (const group of ["controlPlane", "workers"] as const) {
            for (const cidr of p.ssh.allowedCidrs) rules.push(tcp(group, "ingress", PORTS.ssh, { cidr }, "SSH from the listed admin networks (ssh.enabled)"));
        }
    }
    return rules;
}

/** Stable resource name for a rule, so adding one rule never renames (and replaces) another. */
export function ruleName(r: SgRule): string {
    const peer = r.peer ?? r.cidr!.replace(/[./]/g, "-");
    const ports = r.protocol === "-1" ? "all" : `${r.protocol}${r.fromPort}${r.toPort !== r.fromPort ? `-${r.toPort}` : ""}`;
    return `${r.group}-${r.direction === "ingress" ? "in" : "out"}-${ports}-${peer}`;
}

export interface SecurityGroupsArgs {
    vpcId: pulumi.Input<string>;
    plan: SgPlanInput;
    tags: Record<string, string>;
}

export class SecurityGroups extends pulumi.ComponentResource {
    readonly ids: Record<GroupName, pulumi.Output<string>>;
    readonly rules: SgRule[];

    constructor(name: string, args: SecurityGroupsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("hardened-cluster:aws:SecurityGroups", name, {}, opts);
        const groups = {} as Record<GroupName, aws.ec2.SecurityGroup>;
        for (const g of GROUPS) {
            // No inline rules: AWS's default allow-all egress is dropped because the separate rule resources own the group.
            groups[g] = new aws.ec2.SecurityGroup(`${name}-${g}`, {
                vpcId: args.vpcId,
                description: `hardened-cluster ${g}`,
                revokeRulesOnDelete: true,
                tags: { ...args.tags, Name: `${name}-${g}` },
            }, { parent: this });
        }
        this.rules = securityGroupRules(args.plan);
        for (const r of this.rules) {
            const common = {
                securityGroupId: groups[r.group].id,
                ipProtocol: r.protocol,
                fromPort: r.protocol === "-1" ? undefined : r.fromPort,
                toPort: r.protocol === "-1" ? undefined : r.toPort,
                description: r.description,
                tags: args.tags,
            };
            const n = `${name}-${ruleName(r)}`;
            if (r.direction === "ingress") {
                new aws.vpc.SecurityGroupIngressRule(n, { ...common, cidrIpv4: r.cidr, referencedSecurityGroupId: r.peer && groups[r.peer].id }, { parent: this });
            } else {
                new aws.vpc.SecurityGroupEgressRule(n, { ...common, cidrIpv4: r.cidr, referencedSecurityGroupId: r.peer && groups[r.peer].id }, { parent: this });
            }
        }
        this.ids = { nlb: groups.nlb.id, controlPlane: groups.controlPlane.id, workers: groups.workers.id };
        this.registerOutputs({ ids: this.ids });
    }
}
