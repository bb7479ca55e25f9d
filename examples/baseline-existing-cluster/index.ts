// The hardened in-cluster baseline on a cluster you already run (kubeadm, a managed service, ...): given only
// its kubeconfig, apply the RBAC personas, Pod Security labels, the workload guard and one secure namespace
// per tenant; then compose one more SecureNamespace on its own, bound to the same personas.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterBaseline, SecureNamespace, type SecureNamespaceConfig } from "hardened-cluster";

const config = new pulumi.Config();

// The cluster's admin kubeconfig is a credential: the program only accepts it as a secret.
const provider = new k8s.Provider("existing-cluster", {
    kubeconfig: config.requireSecret("kubeconfig"),
    // The baseline patches objects the cluster already has (kube-system's labels, the admin binding), which
    // only server-side apply can do without taking the whole object over.
    enableServerSideApply: true,
});

// Every tenant is validated before anything is created; an error names e.g. `<project>.tenants[1].name`.
const tenants = config.requireObject<SecureNamespaceConfig[]>("tenants");
const baseline = new ClusterBaseline("baseline", { tenants, configKey: pulumi.getProject() }, { provider });

// A block used on its own. It gets the baseline's personas (custom ones included) so its role bindings are
// checked against the same set, and waits for their ClusterRoles: a RoleBinding to a missing role grants nothing.
const shared = new SecureNamespace("shared-services", {
    name: "shared-services",
    roleBindings: { "namespace-admin": [{ kind: "Group", name: "platform-team" }] },
    personas: baseline.rbac.personas,
    configKey: "shared-services",
}, { provider, dependsOn: [baseline.rbac] });

export const posture = baseline.posture;
export const namespaces = pulumi.all([...Object.values(baseline.namespaces), shared].map((ns) => ns.namespaceName));
