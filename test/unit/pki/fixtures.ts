// Shared inputs for the PKI specs: a small but complete control plane (two control-plane nodes, one worker,
// three etcd members, two persona users), returned fresh each call so a spec can mutate its copy.
import { PkiOptions } from "../../../components/pki";

export function baseOptions(): PkiOptions {
    return {
        serviceCidr: "10.96.0.0/12",
        clusterDomain: "cluster.local",
        endpoint: { dnsNames: ["api.example.test"], ipAddresses: ["203.0.113.10"] },
        controlPlaneNodes: [
            { name: "cp-1", ipAddresses: ["192.0.2.11"], dnsNames: ["cp-1.example.test"] },
            { name: "cp-2", ipAddresses: ["192.0.2.12"] },
        ],
        workerNodes: [{ name: "worker-1", ipAddresses: ["192.0.2.21"] }],
        etcdMembers: [
            { name: "etcd-a", ipAddresses: ["192.0.2.31"] },
            { name: "etcd-b", ipAddresses: ["192.0.2.32", "2001:db8::32"] },
            { name: "etcd-c", ipAddresses: ["192.0.2.33"] },
        ],
        users: [
            { name: "alice", groups: ["kubeadm:cluster-admins"] },
            { name: "bob", groups: ["developers"] },
        ],
    };
}

/** The smallest valid options: one node that is also the only etcd member. */
export function singleNodeOptions(): PkiOptions {
    return {
        serviceCidr: "10.43.0.0/16",
        controlPlaneNodes: [{ name: "node-0", ipAddresses: ["127.0.0.1"] }],
        etcdMembers: [{ name: "node-0", ipAddresses: ["127.0.0.1"] }],
    };
}
