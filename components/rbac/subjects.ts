// Who a persona is bound to. Names may be pulumi.Inputs (a group name from an identity provider resource,
// say); they are checked here when they are already known, and passed through otherwise.
import type * as pulumi from "@pulumi/pulumi";
import { fail, isDnsLabel, isPlainObject, key, knownKeys, oneOf } from "../common";

const SUBJECT_KINDS = ["User", "Group", "ServiceAccount"] as const;
export type SubjectKind = (typeof SUBJECT_KINDS)[number];

/** A subject as configured. `namespace` is for ServiceAccounts only. */
export interface SubjectInput {
    kind: SubjectKind;
    name: pulumi.Input<string>;
    namespace?: string;
}

/** An RBAC subject, field names as in rbac.authorization.k8s.io/v1. */
export interface RbacSubject {
    kind: SubjectKind;
    name: pulumi.Input<string>;
    apiGroup?: string;
    namespace?: string;
}

/** Identities that stand for everyone (or every workload); binding a persona to them grants it to all. */
const EVERYONE_IDENTITIES: readonly string[] = [
    "system:anonymous",
    "system:unauthenticated",
    "system:authenticated",
    "system:serviceaccounts",
];

/** Groups that hold every workload, node or joining machine of the cluster. A cluster-wide binding to one of
 * them hands the persona to anything that can run a pod, compromise a node or present a bootstrap token.
 * Prefixes: "system:serviceaccounts:<ns>" and "system:bootstrappers:<name>" are covered too. */
const BROAD_SYSTEM_GROUP_PREFIXES: readonly string[] = ["system:serviceaccounts", "system:bootstrappers", "system:nodes"];

function isBroadSystemGroup(name: string): boolean {
    return BROAD_SYSTEM_GROUP_PREFIXES.some((p) => name === p || name.startsWith(`${p}:`));
}

function isDnsSubdomain(s: string): boolean {
    return s.length <= 253 && s.split(".").every(isDnsLabel);
}

/**
 * Validates one configured subject. `bindingNamespace` is the namespace of the RoleBinding it goes into:
 * a ServiceAccount without a namespace defaults to it. Cluster bindings pass undefined and then require one.
 */
function validateSubject(k: string, s: unknown, bindingNamespace?: string): RbacSubject {
    if (!isPlainObject(s)) fail(k, s, "use an object { kind, name, namespace? }");
    const raw = s as Record<string, unknown>;
    knownKeys(k, raw, ["kind", "name", "namespace"]);
    const kind = oneOf(key(k, "kind"), raw.kind, SUBJECT_KINDS);
    const name = raw.name;
    if (typeof name === "string") {
        if (name.length === 0) fail(key(k, "name"), name, "use a non-empty name");
        if (EVERYONE_IDENTITIES.includes(name)) {
            fail(key(k, "name"), name, `${EVERYONE_IDENTITIES.join(", ")} stand for every caller; bind a named ${kind} instead`);
        }
        if (bindingNamespace === undefined && isBroadSystemGroup(name)) {
            fail(key(k, "name"), name, `${BROAD_SYSTEM_GROUP_PREFIXES.join(", ")} (and their sub-groups) stand for every workload, node or joining machine; bind a named ${kind} instead`);
        }
        if (kind === "ServiceAccount" && !isDnsSubdomain(name)) {
            fail(key(k, "name"), name, "a ServiceAccount name is a DNS subdomain (lower-case letters, digits, '-', '.')");
        }
    } else if (name === undefined || name === null) {
        fail(key(k, "name"), name, "name the subject");
    }
    if (kind !== "ServiceAccount") {
        if (raw.namespace !== undefined) fail(key(k, "namespace"), raw.namespace, `only ServiceAccount subjects have a namespace, not ${kind}`);
        return { kind, name: name as pulumi.Input<string>, apiGroup: "rbac.authorization.k8s.io" };
    }
    const ns = raw.namespace ?? bindingNamespace;
    if (ns === undefined) fail(key(k, "namespace"), ns, "a ServiceAccount in a cluster-wide binding needs its namespace");
    if (typeof ns !== "string" || !isDnsLabel(ns)) fail(key(k, "namespace"), ns, "use a namespace name (a DNS label)");
    return { kind, name: name as pulumi.Input<string>, namespace: ns };
}

export function validateSubjects(k: string, list: unknown, bindingNamespace?: string): RbacSubject[] {
    if (!Array.isArray(list)) fail(k, list, "use a list of subjects");
    return list.map((s, i) => validateSubject(key(k, i), s, bindingNamespace));
}
