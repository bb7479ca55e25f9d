// The local worker's side of the NetworkPolicy enforcer (platforms/node-network.ts): how its health is probed
// from this machine, and what the posture says, which here includes the node's guard for new Pods.
import type { HealthCheck } from "../process";
import { KUBE_ROUTER_HEALTH_PORT, NETWORK_POLICY_POSTURE as SHARED_POSTURE } from "../../node-network";

export function kubeRouterHealth(probe: (url: string) => HealthCheck): HealthCheck {
    return probe(`http://127.0.0.1:${KUBE_ROUTER_HEALTH_PORT}/healthz`);
}

export const NETWORK_POLICY_POSTURE = `${SHARED_POSTURE}, and a node guard refuses a new Pod's packets until kube-router has programmed it`;
