// The worker's NetworkPolicy enforcer: kube-router with its firewall controller only. Of the enforcers the Go
// module proxy serves, kube-router is the one this machine's kernel runs (iptables and ipset; no eBPF, no nft
// queue, no IPVS needed), and it programs every rule inside the node's own network namespace.
//
// Advisories against the pinned v2.1.0, and why they leave this node alone:
//  - GHSA-phqm-jgc3-qf8g (CVE-2026-32254, fixed in v2.8.0): the service proxy trusts Services' externalIPs and
//    loadBalancer IPs. Here the service proxy is off (kube-proxy serves Services).
//  - GHSA-v5mh-h5hx-7v92: the routing controller's GoBGP API listens on the node's address without
//    authentication. Here the routing controller is off, so GoBGP never starts.
// Both controllers are refused at the command line below, and the test suite checks that nothing listens on
// GoBGP's port. The Go standard library is this toolchain's own Go, not the one v2.1.0 shipped with.
import type { HealthCheck } from "../process";
import { UserRole, userClusterRole } from "../../user-role";

export const KUBE_ROUTER_KUBECONFIG_PATH = "/etc/kubernetes/kube-router.conf";
/** kube-router's health endpoint; it binds every address of the node's namespace (there is no flag for one). */
export const KUBE_ROUTER_HEALTH_PORT = 20244;
/** GoBGP's API port, which only the (disabled) routing controller opens. */
export const GOBGP_API_PORT = 50051;
/** The user the enforcer's client certificate names (pki.networkPolicyClient). */
export const NETWORK_POLICY_USER = "hardened-cluster:network-policy";

/**
 * kube-router's command line: the firewall controller and nothing else. Services stay kube-proxy's, routes
 * the node's own; IPv6 is off because the node has no IPv6 address.
 */
export function kubeRouterArgv(bin: string, node: string, serviceCidr: string): string[] {
    return [
        `${bin}/kube-router`,
        `--kubeconfig=${KUBE_ROUTER_KUBECONFIG_PATH}`,
        `--hostname-override=${node}`,
        "--run-firewall=true",
        "--run-router=false",
        "--run-service-proxy=false",
        "--run-loadbalancer=false",
        "--enable-ipv4=true",
        "--enable-ipv6=false",
        `--service-cluster-ip-range=${serviceCidr}`,
        `--health-port=${KUBE_ROUTER_HEALTH_PORT}`,
        "--metrics-port=0",
    ];
}

export function kubeRouterHealth(probe: (url: string) => HealthCheck): HealthCheck {
    return probe(`http://127.0.0.1:${KUBE_ROUTER_HEALTH_PORT}/healthz`);
}

/**
 * What the firewall controller reads, and nothing it could change: it watches Pods, Namespaces, Nodes,
 * Services, Endpoints and NetworkPolicies to build its rules. Granted to the enforcer's own user.
 */
export function networkPolicyRbac(): UserRole {
    const read = ["get", "list", "watch"];
    return userClusterRole("hardened-cluster:network-policy", NETWORK_POLICY_USER, [
        { apiGroups: [""], resources: ["pods", "namespaces", "nodes", "services", "endpoints"], verbs: read },
        { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: read },
        { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: read },
    ]);
}

export const NETWORK_POLICY_POSTURE = "kube-router (firewall controller only; its service proxy and BGP routing, which the advisories against the pinned version concern, are off): every node filters its Pods' traffic by the stored NetworkPolicies, and a node guard refuses a new Pod's packets until kube-router has programmed it";
