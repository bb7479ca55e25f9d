// Configuration of the RBAC block -> everything it will create, validated and rendered, with no Pulumi
// involved (the component only hands these objects to @pulumi/kubernetes).
import { fail, isPlainObject, key, knownKeys } from "../common";
import type { Persona, PersonaScope, PersonaTier } from "./personas";
import { renderClusterRole, renderClusterRoleBinding, renderKubeadmAdminsBinding, type BindingObject, type ClusterRoleObject } from "./render";
import { validateSubjects, type RbacSubject, type SubjectInput } from "./subjects";
import { personaForBinding, resolvePersonas, type PersonaInput } from "./validate";

export interface RbacConfig {
    /** Custom personas, added to the built-in ones. */
    personas?: PersonaInput[];
    /** Subjects of each cluster persona (cluster-admin, platform-admin, auditor, custom cluster personas),
     * bound with one ClusterRoleBinding per persona. Namespace personas are bound per namespace instead. */
    clusterBindings?: Record<string, SubjectInput[]>;
    /** Bind group "kubeadm:cluster-admins" (the admin credential's group) to cluster-admin. Default true:
     * the admin kubeconfig has no other permission. */
    bindKubeadmClusterAdmins?: boolean;
}

const RBAC_CONFIG_KEYS = ["personas", "clusterBindings", "bindKubeadmClusterAdmins"] as const;

export interface PersonaSummary {
    name: string;
    tier: PersonaTier;
    scope: PersonaScope;
    clusterRole: string;
    description: string;
    /** Subjects of its cluster-wide binding(s); namespace bindings are listed per namespace. */
    clusterSubjects: RbacSubject[];
}

export interface RbacPlan {
    personas: Persona[];
    clusterRoles: ClusterRoleObject[];
    clusterRoleBindings: BindingObject<"ClusterRoleBinding">[];
    /** Rendered separately: it is applied as a patch that survives this stack (see component.ts). */
    kubeadmAdminsBinding?: BindingObject<"ClusterRoleBinding">;
    summary: PersonaSummary[];
    /** Every identity that holds cluster-admin power, the ones no binding of ours names included. */
    clusterAdmins: string[];
}

/** system:masters bypasses RBAC entirely; it is held by whoever holds the cluster CA key (AdminBootstrap
 * mints one for minutes per call), so the posture always lists it. */
const SYSTEM_MASTERS_NOTE = "Group system:masters (bypasses RBAC; any holder of the cluster CA key can mint it)";

function describeSubject(s: RbacSubject): string {
    const name = typeof s.name === "string" ? s.name : "(computed)";
    return s.kind === "ServiceAccount" ? `ServiceAccount ${s.namespace}/${name}` : `${s.kind} ${name}`;
}

/**
 * The blueprint applies the baseline with the admin credential, whose only right is the kubeadm binding; a
 * program that does so calls this so `bindKubeadmClusterAdmins: false` is refused instead of ignored.
 */
export function assertKubeadmBindingKept(configKey: string, config: RbacConfig = {}): void {
    if (config.bindKubeadmClusterAdmins === false) {
        fail(
            key(configKey, "bindKubeadmClusterAdmins"),
            false,
            "this program applies the baseline with the admin credential, which has no right but this binding; keep it true, or use the ClusterBaseline component with your own cluster-admin credential",
        );
    }
}

export function planRbac(configKey: string, config: RbacConfig = {}): RbacPlan {
    knownKeys(configKey, config, RBAC_CONFIG_KEYS);
    const personas = resolvePersonas(key(configKey, "personas"), config.personas);
    const bindKubeadm = config.bindKubeadmClusterAdmins ?? true;
    if (typeof bindKubeadm !== "boolean") fail(key(configKey, "bindKubeadmClusterAdmins"), bindKubeadm, "use true or false");

    const bindingsKey = key(configKey, "clusterBindings");
    const raw = config.clusterBindings ?? {};
    if (!isPlainObject(raw)) fail(bindingsKey, raw, "use a map of persona name to subjects");
    const subjectsOf = new Map<string, RbacSubject[]>();
    for (const [name, list] of Object.entries(raw)) {
        const k = key(bindingsKey, name);
        personaForBinding(k, personas, name, "cluster");
        subjectsOf.set(name, validateSubjects(k, list));
    }

    const clusterRoles = personas.map(renderClusterRole).filter((r): r is ClusterRoleObject => r !== undefined);
    const clusterRoleBindings = personas
        .filter((p) => (subjectsOf.get(p.name) ?? []).length > 0)
        .map((p) => renderClusterRoleBinding(p, subjectsOf.get(p.name)!));
    const kubeadmAdminsBinding = bindKubeadm ? renderKubeadmAdminsBinding() : undefined;

    const summary = personas.map((p): PersonaSummary => {
        const subjects = [...(subjectsOf.get(p.name) ?? [])];
        if (p.name === "cluster-admin" && kubeadmAdminsBinding) subjects.push(...kubeadmAdminsBinding.subjects);
        return { name: p.name, tier: p.tier, scope: p.scope, clusterRole: p.clusterRole, description: p.description, clusterSubjects: subjects };
    });
    const clusterAdmins = [
        ...(kubeadmAdminsBinding?.subjects ?? []).map(describeSubject),
        ...(subjectsOf.get("cluster-admin") ?? []).map(describeSubject),
        SYSTEM_MASTERS_NOTE,
    ];
    return { personas, clusterRoles, clusterRoleBindings, kubeadmAdminsBinding, summary, clusterAdmins };
}
