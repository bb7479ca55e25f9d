// The local platform's own key, and the PKI settings a stack may choose (the platform fills in the hosts).
import type { StackPkiOptions } from "../../components/cluster";
import type { LocalOptions } from "../../platforms/local/options";
import { ConfigEntry } from "../types";
import { objectValue } from "./shared";

export const local: ConfigEntry<LocalOptions> = {
    type: "object",
    description: "Where the local platform keeps its files and which loopback ports its processes listen on.",
    default: 'layout "auto" (kubeadm paths when run as root, else `~/.local/state/hardened-cluster/<stack>`), ports 6443/2379/2380/10257/10259, one worker node as root (none without)',
    example: { layout: "user", ports: { apiServer: 16443, etcdClient: 12379, etcdPeer: 12380 } },
    platforms: ["local"],
    fields: {
        layout: '"auto" (system when root, user otherwise), "user" (one state directory per stack) or "system" (kubeadm\'s paths; needs root).',
        stateDir: "User layout only: absolute path of the state directory (default `~/.local/state/hardened-cluster/<stack>`); only you and root may be able to write it and every directory above it (a sticky one such as /tmp excepted), it is not / or /tmp, and it is empty or already this stack's.",
        ports: "Any of apiServer, etcdClient, etcdPeer, controllerManager, scheduler; all must differ, so two stacks can run side by side.",
        etcdUser: 'System layout only: the user etcd runs as, created if missing and removed with the last stack that uses it (default "etcd"); never root.',
        purgeOnDestroy: "Destroy also deletes etcd's data and the audit logs (default false: both survive a destroy).",
        topology: '"single" (default: one node on 127.0.0.1) or "ha": two control-plane nodes and an etcd-only member on 127.0.0.11-13 (three etcd members, two apiservers) behind haproxy on 127.0.0.1; the second node\'s controller-manager and scheduler use the next port up.',
        kmsKeyIds: 'Key-encryption key ids of the local KMS v2 plugin (hc-kms-plugin), oldest first, the last one current (default ["kek1"]). It runs only when an encryption key has provider "kms" (its endpoint is then the plugin\'s socket); appending an id rotates the KEK without a restart, and that up rewrites every value under it.',
        workers: "Worker nodes, 0 to 4, with the single topology; root and the system layout only. Default 1 where a node can run, else 0 with a warning naming this key. Pods on different workers reach each other through this machine, which forwards nothing else from a node. Each is a kubelet and kube-proxy with containerd and runc from the toolchain in network and mount namespaces of its own, joining with a bootstrap token, with its images served by the node's own registry, kube-router enforcing NetworkPolicies, CoreDNS as the cluster's DNS and hc-csr-approver approving each kubelet's own serving certificate.",
    },
    // Resolved once, with the stack's other settings, by the local platform (planLocalStack).
    validate: (value, ctx) => objectValue(ctx.key, value) as LocalOptions,
};

export const pki: ConfigEntry<StackPkiOptions> = {
    type: "object",
    description: "Key algorithm, certificate lifetimes and persona client certificates of the cluster PKI; the platform adds every node, etcd member and endpoint.",
    default: "ECDSA-P256 keys, CAs for 10 years, leaves for 1 year renewed 30 days early, no persona users, no break-glass credential",
    example: { algorithm: "ECDSA-P384", leafValidityHours: 2160, earlyRenewalHours: 360, users: [{ name: "alice", groups: ["platform-admins"] }] },
    fields: {
        algorithm: "Key type of every generated key: ECDSA-P256, ECDSA-P384, RSA-2048, RSA-3072 or RSA-4096.",
        caValidityHours: "CA lifetime in hours (default 87600).",
        caEarlyRenewalHours: "Hours before expiry a `pulumi up` replaces a CA (default 0).",
        leafValidityHours: "Leaf certificate lifetime in hours, at most caValidityHours (default 8760).",
        earlyRenewalHours: "Hours before expiry a `pulumi up` re-issues a leaf (default 720).",
        clusterDomain: "Must equal the domain the control plane serves; set controlPlane.network.clusterDomain instead.",
        workerNodes: "Nodes that only run a kubelet: [{ name, ipAddresses?, dnsNames? }].",
        users: "Persona users that get a client certificate: [{ name, groups? }] (one group; never system:masters).",
        breakGlass: "WEAKENING. Also issue a system:masters credential that bypasses RBAC (default false).",
        endpoint: "AWS only: { dnsNames: [...] }, the names clients use for the API server, put in its certificate; required with a public endpoint (the NLB has no address before it exists). The platform adds every IP itself.",
        serviceAccountKeys: 'Names of the service-account signing keys, the signer first, all verifying (1 to 3; default ["sa"]). Rotate in three ups: append a new name, move it first, drop the old one once its tokens expired (the preview refuses earlier, naming the time).',
        rotation: 'CA rotation per trust domain: { kubernetes?, etcd?, frontProxy? }, each { generation, phase } (default { generation: 1, phase: steady }). Rotate in four ups, one phase each: { generation: 2, phase: trust-both }, issue-new, distrust-old, steady. Each step forward is checked against the live cluster first (on AWS, against what each node reports after its sync, and the step to steady too); one phase back is always allowed.',
    },
    // Resolved once, against the platform's nodes and endpoint, by components/cluster (resolveCluster).
    validate: (value, ctx) => objectValue(ctx.key, value) as StackPkiOptions,
};
