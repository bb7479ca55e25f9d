// The hardened in-cluster baseline on a cluster you already run: apply the RBAC personas, Pod Security labels,
// the workload guard and one secure namespace per tenant; then compose one more SecureNamespace on its own,
// bound to the same personas. The cluster is reached through its admin kubeconfig, read from the stack that
// built it (a StackReference to e.g. the blueprint's own stack), or, for a cluster Pulumi did not build
// (kubeadm, a managed service, ...), given as a secret config value.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterBaseline, ConfigError, SecureNamespace, type SecureNamespaceConfig } from "hardened-cluster";

const config = new pulumi.Config();

/** The admin kubeconfig, a credential: it stays a secret either way (a stack output of it is one already). */
function clusterKubeconfig(): pulumi.Output<string> {
    const clusterStack = config.get("clusterStack"); // e.g. "organization/hardened-cluster/local"
    if (clusterStack === undefined) return config.requireSecret("kubeconfig");
    const project = pulumi.getProject();
    if (config.getSecret("kubeconfig") !== undefined) {
        // The value is a credential and is never echoed.
        throw new ConfigError(`${project}:kubeconfig`, "(value not shown)", `set either ${project}:clusterStack or ${project}:kubeconfig, not both`);
    }
    const cluster = new pulumi.StackReference("cluster", { name: clusterStack });
    return pulumi.secret(cluster.requireOutput("kubeconfig").apply((k) => {
        if (typeof k !== "string" || k === "") {
            throw new ConfigError(`${project}:clusterStack`, clusterStack, "name a stack whose kubeconfig output is a kubeconfig string");
        }
        return k;
    }));
}

const provider = new k8s.Provider("existing-cluster", {
    kubeconfig: clusterKubeconfig(),
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
