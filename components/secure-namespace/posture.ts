// What a namespace's configuration amounts to, for people: its Pod Security levels, its policies, who is
// bound in it, and every way it departs from the most restrictive defaults.
import { key, PSA_MODES, type Weakening } from "../common";
import type { RbacSubject } from "../rbac/subjects";
import { renderNetworkPolicies, type NetworkPort } from "./network";
import type { SecureNamespacePlan } from "./plan";
import type { PodSecurity } from "./pod-security";

export interface NamespacePosture {
    name: string;
    /** Created by Kubernetes, only labelled by us. */
    builtIn: boolean;
    podSecurity: PodSecurity;
    networkPolicies: string[];
    egressTo: { cidr: string; except: string[] }[];
    ingressFromNamespaces: Record<string, string>[];
    defaultServiceAccountAutomount: boolean | "unmanaged";
    resourceQuota?: Record<string, string>;
    roleBindings: Record<string, RbacSubject[]>;
    /** Departures from the restrictive defaults. Empty for an untouched namespace. */
    weakenings: Weakening[];
}

/** Where the levels and the version were set: a tenant's podSecurity key, or its block's key for a built-in. */
export interface PodSecurityKeys {
    levels: string;
    version: string;
}

export function podSecurityWeakenings(ns: string, ps: PodSecurity, keys: PodSecurityKeys): Weakening[] {
    const out: Weakening[] = [];
    const below = PSA_MODES.filter((m) => ps[m] !== "restricted");
    if (below.length > 0) {
        const what = below.map((m) => `${m}=${ps[m]}`).join(", ");
        out.push({ option: keys.levels, effect: `namespace ${ns}: pod security ${what}${ps.exception ? ` (exception "${ps.exception}")` : ""}` });
    }
    if (ps.version === "latest") out.push({ option: keys.version, effect: `namespace ${ns}: pod security version "latest" follows every upgrade unpinned` });
    return out;
}

function ports(list: NetworkPort[] | undefined): string {
    return list ? ` on ${list.map((p) => `${p.protocol}/${p.port}`).join(", ")}` : "";
}

export function namespacePosture(plan: SecureNamespacePlan): NamespacePosture {
    const ns = plan.name;
    const k = plan.configKey;
    const n = plan.network;
    const weakenings = podSecurityWeakenings(ns, plan.podSecurity, { levels: key(k, "podSecurity"), version: plan.podSecurityVersionKey });
    if (n.allowSameNamespace) weakenings.push({ option: key(k, "allowSameNamespace"), effect: `namespace ${ns}: pods may reach each other` });
    n.ingressFromNamespaces.forEach((r, i) => {
        weakenings.push({
            option: key(k, "allowIngressFromNamespaces", i),
            effect: `namespace ${ns}: ingress from namespaces labelled ${JSON.stringify(r.namespaceLabels)}${ports(r.ports)}`,
        });
    });
    n.egressTo.forEach((r, i) => {
        weakenings.push({
            option: key(k, "allowEgressTo", i),
            effect: `namespace ${ns}: egress to ${r.cidr}${r.except.length ? ` except ${r.except.join(", ")}` : ""}${ports(r.ports)}`,
        });
    });
    return {
        name: ns,
        builtIn: false,
        podSecurity: { ...plan.podSecurity },
        networkPolicies: renderNetworkPolicies(ns, n).map((p) => p.metadata.name),
        egressTo: n.egressTo.map((r) => ({ cidr: r.cidr, except: [...r.except] })),
        ingressFromNamespaces: n.ingressFromNamespaces.map((r) => ({ ...r.namespaceLabels })),
        defaultServiceAccountAutomount: false,
        resourceQuota: { ...plan.quota },
        roleBindings: Object.fromEntries(plan.roleBindings.map((b) => [b.persona.name, b.subjects.map((s) => ({ ...s }))])),
        weakenings,
    };
}
