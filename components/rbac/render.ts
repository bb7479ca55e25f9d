// Pure renderers: personas and subjects in, rbac.authorization.k8s.io/v1 objects out.
import { CLUSTER_ADMINS_GROUP } from "../common";
import type { Persona, PolicyRule } from "./personas";
import {
    BUILT_IN_CLUSTER_ADMIN_ROLE,
    KUBEADM_ADMINS_BINDING,
    PART_OF_LABELS,
    PERSONA_LABEL,
    personaBindingName,
} from "./names";
import type { RbacSubject } from "./subjects";

const RBAC_API = "rbac.authorization.k8s.io/v1";

export interface RoleRef {
    apiGroup: "rbac.authorization.k8s.io";
    kind: "ClusterRole";
    name: string;
}

export interface ClusterRoleObject {
    apiVersion: typeof RBAC_API;
    kind: "ClusterRole";
    metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
    rules: PolicyRule[];
}

export interface BindingObject<K extends "ClusterRoleBinding" | "RoleBinding"> {
    apiVersion: typeof RBAC_API;
    kind: K;
    metadata: { name: string; namespace?: string; labels: Record<string, string> };
    roleRef: RoleRef;
    subjects: RbacSubject[];
}

function labels(persona: string): Record<string, string> {
    return { ...PART_OF_LABELS, [PERSONA_LABEL]: persona };
}

function roleRef(p: Persona): RoleRef {
    return { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: p.clusterRole };
}

/** The ClusterRole of a persona, or undefined when it binds a role that already exists (cluster-admin). */
export function renderClusterRole(p: Persona): ClusterRoleObject | undefined {
    if (!p.renderRole) return undefined;
    return {
        apiVersion: RBAC_API,
        kind: "ClusterRole",
        metadata: {
            name: p.clusterRole,
            labels: labels(p.name),
            annotations: { "hardened-cluster/persona-tier": p.tier, "hardened-cluster/description": p.description },
        },
        rules: p.rules.map((r) => structuredClone(r)),
    };
}

export function renderClusterRoleBinding(p: Persona, subjects: RbacSubject[]): BindingObject<"ClusterRoleBinding"> {
    return {
        apiVersion: RBAC_API,
        kind: "ClusterRoleBinding",
        metadata: { name: personaBindingName(p.name), labels: labels(p.name) },
        roleRef: roleRef(p),
        subjects: subjects.map((s) => ({ ...s })),
    };
}

/** A namespace persona bound in one namespace: a RoleBinding to the persona's ClusterRole. */
export function renderRoleBinding(p: Persona, namespace: string, subjects: RbacSubject[]): BindingObject<"RoleBinding"> {
    return {
        apiVersion: RBAC_API,
        kind: "RoleBinding",
        metadata: { name: personaBindingName(p.name), namespace, labels: labels(p.name) },
        roleRef: roleRef(p),
        subjects: subjects.map((s) => ({ ...s })),
    };
}

/** kubeadm's binding of its admin group to cluster-admin, under kubeadm's name so both tools agree on it. */
export function renderKubeadmAdminsBinding(): BindingObject<"ClusterRoleBinding"> {
    return {
        apiVersion: RBAC_API,
        kind: "ClusterRoleBinding",
        metadata: { name: KUBEADM_ADMINS_BINDING, labels: labels("cluster-admin") },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: BUILT_IN_CLUSTER_ADMIN_ROLE },
        subjects: [{ kind: "Group", name: CLUSTER_ADMINS_GROUP, apiGroup: "rbac.authorization.k8s.io" }],
    };
}
