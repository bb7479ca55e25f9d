// A node agent's permissions: a ClusterRole bound to the user its own client certificate names (no group), so
// the agent gets exactly these rules and nothing a group would add.
export interface UserRole {
    clusterRole: Record<string, unknown>;
    binding: Record<string, unknown>;
}

export function userClusterRole(name: string, user: string, rules: Record<string, unknown>[]): UserRole {
    const labels = { "app.kubernetes.io/managed-by": "hardened-cluster" };
    return {
        clusterRole: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name, labels }, rules },
        binding: {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "ClusterRoleBinding",
            metadata: { name, labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
            subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: user }],
        },
    };
}
