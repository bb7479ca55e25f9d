// What a namespace's configuration amounts to, for people: its Pod Security levels, its policies, who is
// bound in it, and every way it departs from the most restrictive defaults.
import type { RbacSubject } from "../rbac/subjects";
import { renderNetworkPolicies } from "./network";
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
    /** Departures from the restrictive defaults, each in one sentence. Empty for an untouched namespace. */
    weakenings: string[];
}

export function podSecurityWeakenings(ns: string, ps: PodSecurity): string[] {
    const out: string[] = [];
    const below = (["enforce", "audit", "warn"] as const).filter((m) => ps[m] !== "restricted");
    if (below.length > 0) {
        const what = below.map((m) => `${m}=${ps[m]}`).join(", ");
        out.push(`namespace ${ns}: pod security ${what}${ps.exception ? ` (exception "${ps.exception}")` : ""}`);
    }
    if (ps.version === "latest") out.push(`namespace ${ns}: pod security version "latest" follows every upgrade unpinned`);
    return out;
}

export function namespacePosture(plan: SecureNamespacePlan): NamespacePosture {
    const ns = plan.name;
    const n = plan.network;
    const weakenings = podSecurityWeakenings(ns, plan.podSecurity);
    if (n.allowSameNamespace) weakenings.push(`namespace ${ns}: pods may reach each other (allowSameNamespace)`);
    for (const r of n.ingressFromNamespaces) {
        weakenings.push(`namespace ${ns}: ingress from namespaces labelled ${JSON.stringify(r.namespaceLabels)}${r.ports ? ` on ${r.ports.map((p) => `${p.protocol}/${p.port}`).join(", ")}` : ""}`);
    }
    for (const r of n.egressTo) {
        weakenings.push(`namespace ${ns}: egress to ${r.cidr}${r.except.length ? ` except ${r.except.join(", ")}` : ""}${r.ports ? ` on ${r.ports.map((p) => `${p.protocol}/${p.port}`).join(", ")}` : ""}`);
    }
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
