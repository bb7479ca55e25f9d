// A node agent's permissions: a ClusterRole bound to the user its own client certificate names (no group), so
// the agent gets exactly these rules and nothing a group would add.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export interface UserRole {
    clusterRole: Record<string, unknown>;
    binding: Record<string, unknown>;
}

export function userClusterRole(name: string, user: string, rules: Record<string, unknown>[]): UserRole {
    return boundClusterRole(name, { kind: "User", name: user }, rules);
}

/** A ClusterRole bound to a group, for what every member needs alike (every node's kubelet credential, say). */
export function groupClusterRole(name: string, group: string, rules: Record<string, unknown>[]): UserRole {
    return boundClusterRole(name, { kind: "Group", name: group }, rules);
}

function boundClusterRole(name: string, subject: { kind: "User" | "Group"; name: string }, rules: Record<string, unknown>[]): UserRole {
    const labels = { "app.kubernetes.io/managed-by": "hardened-cluster" };
    return {
        clusterRole: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name, labels }, rules },
        binding: {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "ClusterRoleBinding",
            metadata: { name, labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
            subjects: [{ apiGroup: "rbac.authorization.k8s.io", ...subject }],
        },
    };
}

/** The role and its binding through `provider`, both named `name`; the binding waits for the role. */
export function applyUserRole(name: string, rbac: UserRole, provider: k8s.Provider, opts: pulumi.CustomResourceOptions): pulumi.Resource[] {
    const o = { ...opts, provider };
    const role = new k8s.rbac.v1.ClusterRole(name, rbac.clusterRole as unknown as k8s.rbac.v1.ClusterRoleArgs, o);
    return [role, new k8s.rbac.v1.ClusterRoleBinding(name, rbac.binding as unknown as k8s.rbac.v1.ClusterRoleBindingArgs, { ...o, dependsOn: [role] })];
}
