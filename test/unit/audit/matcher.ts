// Test-only model of how kube-apiserver picks an audit level: the first rule whose every set field matches
// the request wins; no match means None. Semantics follow k8s.io/apiserver's policy checker (v1.34): users
// and userGroups filter by identity; a rule naming namespaces or resources matches only resource requests;
// one naming only nonResourceURLs matches only non-resource requests; a rule naming neither matches all.
import { AuditLevel, AuditPolicy, AuditPolicyRule } from "../../../components/audit";

export interface AuditRequest {
    user: string;
    groups?: string[];
    verb: string;
    /** Resource request; leave out for a non-resource request. */
    resource?: { group: string; resource: string; subresource?: string; namespace?: string; name?: string };
    /** Non-resource path, e.g. "/healthz/etcd". */
    path?: string;
}

function pathMatches(path: string, spec: string): boolean {
    if (spec === "*" || spec === path) return true;
    return spec.endsWith("*") && path.startsWith(spec.replace(/\*+$/, ""));
}

function resourceMatches(rule: AuditPolicyRule, r: NonNullable<AuditRequest["resource"]>): boolean {
    if (rule.namespaces?.length && !rule.namespaces.includes(r.namespace ?? "")) return false;
    if (!rule.resources?.length) return true;
    const combined = r.subresource ? `${r.resource}/${r.subresource}` : r.resource;
    return rule.resources.some((gr) => {
        if (gr.group !== r.group) return false;
        if (!gr.resources?.length) return true;
        return gr.resources.some((res) =>
            res === combined ||
            res === "*" ||
            (r.subresource !== undefined && res.startsWith("*/") && res.slice(2) === r.subresource) ||
            (res.endsWith("/*") && res.slice(0, -2) === r.resource));
    });
}

export function ruleMatches(rule: AuditPolicyRule, req: AuditRequest): boolean {
    if (rule.users?.length && !rule.users.includes(req.user)) return false;
    if (rule.userGroups?.length && !(req.groups ?? []).some((g) => rule.userGroups!.includes(g))) return false;
    if (rule.verbs?.length && !rule.verbs.includes(req.verb)) return false;
    if (rule.namespaces?.length || rule.resources?.length) return req.resource !== undefined && resourceMatches(rule, req.resource);
    if (rule.nonResourceURLs?.length) return req.resource === undefined && rule.nonResourceURLs.some((s) => pathMatches(req.path ?? "", s));
    return true;
}

/** The level the apiserver would log `req` at, and the index of the rule that decided it (-1: none). */
export function evaluate(policy: AuditPolicy, req: AuditRequest): { level: AuditLevel; rule: number } {
    const i = policy.rules.findIndex((rule) => ruleMatches(rule, req));
    return { level: i < 0 ? "None" : policy.rules[i].level, rule: i };
}

/**
 * Whether a rule could match SOME request for group/resource, whoever sends it with whatever verb in
 * whatever namespace: identity, verb and namespace filters are treated as satisfiable.
 */
export function couldMatchResource(rule: AuditPolicyRule, group: string, resource: string): boolean {
    if (rule.namespaces?.length || rule.resources?.length) {
        return resourceMatches({ ...rule, namespaces: undefined }, { group, resource });
    }
    return !rule.nonResourceURLs?.length;
}

/** Whether a rule matches EVERY request for group/resource: no identity, verb or namespace filter. */
export function matchesAllOf(rule: AuditPolicyRule, group: string, resource: string): boolean {
    return !rule.users?.length && !rule.userGroups?.length && !rule.verbs?.length && !rule.namespaces?.length &&
        couldMatchResource(rule, group, resource);
}

export const LEVEL_RANK: Record<AuditLevel, number> = { None: 0, Metadata: 1, Request: 2, RequestResponse: 3 };
