// Names other tools (the e2e suite, kubectl users, auditors) look objects up by. Kept in one place so a
// renderer and a test can never disagree about them.
import { CLUSTER_ADMINS_GROUP } from "../common";

/** Prefix of every persona ClusterRole and binding we render. Built-in ClusterRoles ("cluster-admin", "admin",
 * "edit", "view", "system:*") already exist in every cluster; a prefix keeps ours from overwriting them. */
const PERSONA_PREFIX = "hardened:";

export function personaClusterRoleName(persona: string): string {
    return `${PERSONA_PREFIX}${persona}`;
}

/** Name of the ClusterRoleBinding (cluster personas) or RoleBinding (namespace personas) of a persona. */
export function personaBindingName(persona: string): string {
    return `${PERSONA_PREFIX}${persona}`;
}

/** The binding kubeadm gives the admin credential's group; kubeadm names it after the group. */
export const KUBEADM_ADMINS_BINDING = CLUSTER_ADMINS_GROUP;
export const BUILT_IN_CLUSTER_ADMIN_ROLE = "cluster-admin";

export const BUILT_IN_PERSONA_NAMES = [
    "cluster-admin",
    "platform-admin",
    "namespace-admin",
    "developer",
    "viewer",
    "auditor",
    "ci-deployer",
] as const;
export type BuiltInPersonaName = (typeof BUILT_IN_PERSONA_NAMES)[number];

/** ClusterRole each built-in persona is bound to (cluster-admin reuses the built-in role rather than copying it). */
export const PERSONA_CLUSTER_ROLES: Readonly<Record<BuiltInPersonaName, string>> = {
    "cluster-admin": BUILT_IN_CLUSTER_ADMIN_ROLE,
    "platform-admin": personaClusterRoleName("platform-admin"),
    "namespace-admin": personaClusterRoleName("namespace-admin"),
    developer: personaClusterRoleName("developer"),
    viewer: personaClusterRoleName("viewer"),
    auditor: personaClusterRoleName("auditor"),
    "ci-deployer": personaClusterRoleName("ci-deployer"),
};

/** Labels on everything the in-cluster blocks create, so `kubectl get -l` finds all of it. */
export const PART_OF_LABELS: Readonly<Record<string, string>> = {
    "app.kubernetes.io/part-of": "hardened-cluster",
    "app.kubernetes.io/managed-by": "pulumi",
};

export const PERSONA_LABEL = "hardened-cluster/persona";
