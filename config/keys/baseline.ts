// The in-cluster baseline: tenant namespaces, RBAC personas and the workload admission policy.
import { ClusterBaselineConfig, planClusterBaseline } from "../../components/cluster-baseline/plan";
import { key } from "../../components/common";
import { assertKubeadmBindingKept } from "../../components/rbac/plan";
import { ConfigEntry } from "../types";
import { objectValue } from "./shared";

export const baseline: ConfigEntry<ClusterBaselineConfig> = {
    type: "object",
    description: "What the cluster holds once it is up: one locked-down namespace per tenant, RBAC personas and who is bound to them, and which registries images may come from.",
    default: "no tenants; built-in personas with only the admin credential's group bound; images from registry.k8s.io only; PSA pinned to v1.34",
    example: {
        tenants: [{ name: "team-a", allowSameNamespace: true, roleBindings: { developer: [{ kind: "Group", name: "team-a-devs" }] } }],
        rbac: { clusterBindings: { auditor: [{ kind: "Group", name: "security-auditors" }] } },
        admission: { allowedRegistries: ["registry.k8s.io", "ghcr.io"] },
    },
    fields: {
        podSecurityVersion: 'Pod Security Admission version for namespaces that set none: "vX.Y" (v1.23 or later: older pins lack restricted checks) or "latest" (default the cluster minor).',
        tenants: "Namespaces: [{ name, podSecurity?, allowSameNamespace?, allowEgressTo?, resourceQuota?, roleBindings?, ... }]; below-restricted PSA needs a named exception.",
        rbac: "personas (custom ones), clusterBindings (persona -> subjects), bindKubeadmClusterAdmins (must stay true here: the program applies the baseline with the admin credential).",
        admission: "allowedRegistries, nodePortNamespaces, loadBalancerNamespaces, exemptNamespaces of the workload guard policy; serviceAccounts and workloadSecrets (tenant -> names) allow-list what tenant pods may run as and read (each a named weakening).",
    },
    validate: (value, ctx) => {
        const o = objectValue(ctx.key, value) as ClusterBaselineConfig;
        planClusterBaseline(ctx.key, o);
        assertKubeadmBindingKept(key(ctx.key, "rbac"), o.rbac);
        return o;
    },
};
