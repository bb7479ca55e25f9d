// What the AWS settings mean for security, as data a report or a test can read. Every option that loosens
// the default posture appears in `weakenings`, by its config path.
import { coversWorld, key, type Weakening } from "../../components/common";
import { AwsOptions, Environment, EndpointVisibility, resolveAwsOptions } from "./options";
import type { PlannedParameter } from "./secrets";
import { SERVING_APPROVER_POSTURE } from "../serving-approver";
import { NETWORK_POLICY_POSTURE } from "../node-network";

export interface AwsPosture {
    environment: Environment;
    endpoint: EndpointVisibility;
    apiAllowedCidrs: string[];
    etcdMembers: number;
    sshEnabled: boolean;
    /** "bucket": published by the stack and checked against its digest at every boot; "ami": whatever the AMI holds. */
    binaries: "bucket" | "ami";
    /**
     * Which role reads which secret: node name (or "workers") to the SSM parameters its role may read and
     * decrypt, from the same plan the IAM and key policies are rendered from. Present when the plan is known.
     */
    secretReaders?: Record<string, string[]>;
    /** Constant facts of this platform, so a report can state them without reading the code. */
    guarantees: string[];
    weakenings: Weakening[];
}

const AWS_GUARANTEES = [
    "IMDSv2 required with hop limit 1 on every launch template",
    "every EBS volume, log group, SSM parameter a node fetches and the alarm topic encrypted with the cluster's KMS key (rotation on)",
    "Kubernetes Secrets encrypted with KMS v2 through a key only the control-plane roles may use",
    "no secret material in user data; secrets are SSM SecureStrings: each etcd member's server and peer keys and each node's apiserver serving key are readable by its own node only, the cluster-wide ones (the Kubernetes CA key, the apiserver's client keys, the service-account key, the encryption config, the controller-manager and scheduler client keys and kubeconfigs, the serving-certificate approver's key) by every control-plane node, the worker join kubeconfig and the kubeconfigs of kube-proxy and the NetworkPolicy enforcer by every worker (secretReaders lists each)",
    "certificates and public keys are SSM SecureStrings too, each node's own copy (the workers' cluster CA and signing CA shared by every worker), so that a renewed certificate or a new trust bundle reaches a running node: every node syncs its parameters every 15 minutes (control-plane nodes each at a minute of their own), replacing only the files that changed and restarting only the units that read them",
    "after each sync a worker makes its kubelet join again when its client or serving certificate is not from the CA the controller manager signs with, keeping its credential while the bootstrap token is refused",
    "after every sync each control-plane node reports its trust files' certificate fingerprints, the CA that verifies each leaf it serves and the units awaiting a restart to a String parameter of its own (public facts only; its role may write that one parameter); each CA rotation's gates (cluster, etcd, front-proxy) read those reports, the workers' too for the cluster CA, before issue-new, distrust-old and steady",
    "while a CA rotates, the program's own API clients (its readiness gate, the admin bootstrap and the Kubernetes provider) verify the apiservers with every cluster CA trusted in that phase, since nodes take a phase up at their next sync; what the apiservers publish as their client CAs (extension-apiserver-authentication) is pruned to the CAs trusted now at each step, and for good at the step to steady, which waits until every node's trust files hold the new CA alone",
    "after every sync each worker reports its cluster CA file's and its kubeconfigs' CAs and the CA of its kubelet's serving and client certificates under its primary private address, from IMDSv2; its role may put only the parameter named by the address EC2 issued its credentials to (aws:EC2InstanceSourcePrivateIPv4)",
    "the cluster key decrypts a parameter through SSM only for the role whose path holds it (encryption context PARAMETER_ARN) and for the deploying principal under the cluster's path",
    "etcd (2379-2380) reachable only between control-plane nodes; kubelets (10250) only from the control plane",
    "no EC2 key pair; nodes in private subnets; VPC flow logs to an encrypted log group",
    "with binaries from the stack (the default), every boot fetches them from a private, versioned, TLS-only bucket that only the deployer writes (SSE-KMS by the cluster key) and runs nothing unless each one has the SHA-256 the stack published in its user data",
    `${SERVING_APPROVER_POSTURE}; it runs on every control-plane node as its own user`,
    `kube-proxy (nftables mode, client certificate system:kube-proxy) and ${NETWORK_POLICY_POSTURE}; both run on every worker as units, not as privileged Pods, so no namespace needs to admit privileged or host-network Pods for them`,
    "the Pod network: flanneld (VXLAN on UDP 8472, which only other workers may reach; not encrypted) runs on every worker as a unit with the kubelet's own credential, so it can annotate only its own Node (the nodes' group may read every Node, which the enforcer's credential can already); Pods' packets are masqueraded only when they leave the Pod range",
    "with binaries from the stack, the Pod sandbox (pause) and the cluster's DNS (CoreDNS, as a non-root user, labelled k8s-app: kube-dns for the DNS-allow policies, forwarding nothing outside the cluster domain) come from image archives published and digest-checked with them; each worker imports and pins them in containerd before its kubelet starts, so no registry is contacted for either",
    "etcd snapshots uploaded by the leading member's node every backup interval to a versioned, private, TLS-only bucket that accepts only SSE-KMS by the cluster key; node roles cannot read them back; an alarm after two intervals without one",
];

/** Reader (node name or "workers") to the parameters it may read, each list sorted. */
function secretReadersOf(parameters: readonly PlannedParameter[]): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const p of parameters) for (const reader of p.readers) (out[reader] ??= []).push(p.name);
    for (const list of Object.values(out)) list.sort();
    return out;
}

export function awsPosture(options: AwsOptions | undefined, configKey = "aws", parameters?: readonly PlannedParameter[]): AwsPosture {
    const r = resolveAwsOptions(options, configKey);
    const weakenings: Weakening[] = [];
    if (r.endpoint === "public") {
        weakenings.push({
            option: key(configKey, "endpoint"),
            effect: `the API has an internet-facing address (reachable from ${r.apiAllowedCidrs.join(", ")})`,
        });
    }
    if (r.allowWorldApiAccess) {
        weakenings.push({
            option: key(configKey, "allowWorldApiAccess"),
            effect: coversWorld(r.apiAllowedCidrs, 4)
                ? "6443 accepts connections from any address; only authentication stands between the internet and the API"
                : "CIDRs covering every address (0.0.0.0/0, or blocks that add up to it) would be accepted in apiAllowedCidrs without an error (none is listed now)",
        });
    }
    if (r.controlPlane.etcdMembers === 1) {
        weakenings.push({
            option: key(configKey, "allowSingleEtcdMember"),
            effect: "one etcd member: losing its node or zone loses the cluster state until restored from backup",
        });
    }
    if (r.ssh.enabled) {
        weakenings.push({
            option: key(configKey, "ssh", "enabled"),
            effect: `sshd listens on 22 for ${r.ssh.allowedCidrs.join(", ")} (keys only, no root): a second way in besides SSM, and one SSM does not log`,
        });
    }
    if (r.binaries.source === "ami") {
        weakenings.push({
            option: key(configKey, "binaries", "source"),
            effect: "the nodes run whatever the AMI holds in /usr/local/bin: the stack neither publishes those binaries nor checks their digests at boot",
        });
    }
    return {
        environment: r.environment,
        endpoint: r.endpoint,
        apiAllowedCidrs: r.apiAllowedCidrs,
        etcdMembers: r.controlPlane.etcdMembers,
        sshEnabled: r.ssh.enabled,
        binaries: r.binaries.source,
        ...(parameters ? { secretReaders: secretReadersOf(parameters) } : {}),
        guarantees: [...AWS_GUARANTEES],
        weakenings,
    };
}
