// Hostile inputs for the rbac key family (personas, subjects, bindings, Pod Security levels and versions);
// run by hostile-input.spec.ts. Each escalation route is written the way a user would try to sneak it in.
import { clusterPosture, planClusterBaseline } from "../../../components/cluster-baseline";
import type { HostileRow } from "./row";

const B = "hardened-cluster:baseline";

/** A custom persona of the default (standard) tier holding one rule. */
function persona(scope: "cluster" | "namespace", rule: Record<string, unknown>, tier?: string) {
    return { baseline: { rbac: { personas: [{ name: "sneaky", scope, rules: [rule], ...(tier ? { tier } : {}) }] } } };
}

function standardRefuses(name: string, scope: "cluster" | "namespace", rule: Record<string, unknown>, mentions: RegExp): HostileRow {
    return { name, config: persona(scope, rule), rejects: { key: `${B}.rbac.personas[0].rules[0]`, mentions } };
}

function clusterBinding(name: string, group: string): HostileRow {
    return {
        name,
        config: { baseline: { rbac: { clusterBindings: { auditor: [{ kind: "Group", name: group }] } } } },
        rejects: { key: `${B}.rbac.clusterBindings.auditor[0].name`, mentions: /bind a named Group/ },
    };
}

const posture = (cfg: { baseline?: unknown }) => clusterPosture(planClusterBaseline(B, (cfg.baseline ?? {}) as never));

export const rows: HostileRow[] = [
    // Personas: the good-practices escalation routes in a tier that claims not to escalate.
    standardRefuses("standard persona creating pods cluster-wide (kube-system)", "cluster", { apiGroups: [""], resources: ["pods"], verbs: ["create"] }, /cluster-wide runs pods/),
    standardRefuses("standard persona creating DaemonSets cluster-wide", "cluster", { apiGroups: ["apps"], resources: ["daemonsets"], verbs: ["create"] }, /cluster-wide runs pods/),
    standardRefuses("standard persona creating PersistentVolumes (hostPath)", "cluster", { apiGroups: [""], resources: ["persistentvolumes"], verbs: ["create"] }, /host path/),
    standardRefuses("standard persona patching namespaces (PSA relabel)", "cluster", { apiGroups: [""], resources: ["namespaces"], verbs: ["patch"] }, /Pod Security/),
    standardRefuses("standard persona creating CSRs", "cluster", { apiGroups: ["certificates.k8s.io"], resources: ["certificatesigningrequests"], verbs: ["create"] }, /client certificates/),
    standardRefuses("standard persona approving CSRs", "cluster", { apiGroups: ["certificates.k8s.io"], resources: ["certificatesigningrequests/approval"], verbs: ["patch"] }, /issues certificates/),
    standardRefuses("standard persona approving for a signer", "cluster", { apiGroups: ["certificates.k8s.io"], resources: ["signers"], verbs: ["approve"] }, /signers/),
    standardRefuses("standard persona deleting admission policies", "cluster", { apiGroups: ["admissionregistration.k8s.io"], resources: ["validatingadmissionpolicybindings"], verbs: ["delete"] }, /admission/),
    standardRefuses("standard persona proxying to Services", "namespace", { apiGroups: [""], resources: ["services/proxy"], verbs: ["get"] }, /services\/proxy/),
    standardRefuses("standard persona creating Secrets cluster-wide (token Secrets)", "cluster", { apiGroups: [""], resources: ["secrets"], verbs: ["create"] }, /token Secret/),
    standardRefuses("standard persona minting ServiceAccount tokens", "namespace", { apiGroups: [""], resources: ["serviceaccounts/token"], verbs: ["create"] }, /mints credentials/),
    standardRefuses("standard persona with escalate on ClusterRoles", "cluster", { apiGroups: ["rbac.authorization.k8s.io"], resources: ["clusterroles"], verbs: ["escalate"] }, /escalate/),
    standardRefuses("standard persona reading Secrets through list", "namespace", { apiGroups: [""], resources: ["secrets"], verbs: ["list"] }, /Secret data/),
    {
        name: "custom persona claiming the break-glass tier",
        config: persona("cluster", { apiGroups: ["*"], resources: ["*"], verbs: ["*"] }, "break-glass"),
        rejects: { key: `${B}.rbac.personas[0].tier` },
    },
    {
        name: "admin-tier custom persona (allowed, named)",
        config: persona("cluster", { apiGroups: [""], resources: ["persistentvolumes"], verbs: ["create"] }, "admin"),
        weakens: { named: "custom persona sneaky is admin-tier", posture },
    },
    // Subjects of cluster-wide bindings that stand for every workload, node or joining machine.
    clusterBinding("cluster binding to every ServiceAccount of kube-system", "system:serviceaccounts:kube-system"),
    clusterBinding("cluster binding to every ServiceAccount", "system:serviceaccounts"),
    clusterBinding("cluster binding to bootstrap-token holders", "system:bootstrappers:kubeadm:default-node-token"),
    clusterBinding("cluster binding to bootstrappers", "system:bootstrappers"),
    clusterBinding("cluster binding to every node", "system:nodes"),
    clusterBinding("cluster binding to every authenticated caller", "system:authenticated"),
    clusterBinding("cluster binding to unauthenticated callers", "system:unauthenticated"),
    {
        name: "kubeadm admin binding switched off (the program's own credential)",
        config: { baseline: { rbac: { bindKubeadmClusterAdmins: false } } },
        rejects: { key: `${B}.rbac.bindKubeadmClusterAdmins`, mentions: /admin credential/ },
    },
    // Pod Security versions and levels.
    {
        name: "cluster PSA version pinned before the restricted runAsUser check",
        config: { baseline: { podSecurityVersion: "v1.22" } },
        rejects: { key: `${B}.podSecurityVersion`, mentions: /v1\.23/ },
    },
    {
        name: "tenant PSA version pinned to v1.0",
        config: { baseline: { tenants: [{ name: "team-a", podSecurity: { version: "v1.0" } }] } },
        rejects: { key: `${B}.tenants[0].podSecurity.version`, mentions: /v1\.23/ },
    },
    {
        name: "tenant enforcing privileged without a named exception",
        config: { baseline: { tenants: [{ name: "team-a", podSecurity: { enforce: "privileged" } }] } },
        rejects: { key: `${B}.tenants[0].podSecurity.exception`, mentions: /below restricted/ },
    },
    {
        name: "tenant at baseline with a named exception (allowed, named)",
        config: { baseline: { tenants: [{ name: "team-a", podSecurity: { enforce: "baseline", exception: "legacy-app" } }] } },
        weakens: { named: "namespace team-a: pod security enforce=baseline", posture },
    },
    // Allow-lists of the tenant guard.
    {
        name: "ServiceAccount allow-list for kube-system",
        config: { baseline: { tenants: [{ name: "team-a" }], admission: { serviceAccounts: { "kube-system": ["clusterrole-aggregation-controller"] } } } },
        rejects: { key: `${B}.admission.serviceAccounts.kube-system`, mentions: /not a tenant/ },
    },
    {
        name: "Secret allow-list for a tenant (allowed, named)",
        config: { baseline: { tenants: [{ name: "team-a" }], admission: { workloadSecrets: { "team-a": ["db-password"] } } } },
        weakens: { named: "pods in team-a may read Secrets db-password", posture },
    },
];
