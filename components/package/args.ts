// Argument types of the package's components, in the shapes Pulumi's schema analyzer accepts: interfaces,
// strings, numbers, booleans, arrays and string-keyed maps; no unions, no literal types. Values are not
// checked here: each wrapper hands them to its library component, whose resolver is the one place that
// validates them (a bad level or a missing exception name is a ConfigError naming the key).

/** Pod Security Admission levels of a namespace. */
export interface PodSecurityArgs {
    /** privileged, baseline or restricted (default restricted). */
    enforce?: string;
    audit?: string;
    warn?: string;
    /** "vX.Y" or "latest"; defaults to the cluster minor. */
    version?: string;
    /** Required (a DNS-label name) when any mode is below restricted, so the weakening is named. */
    exception?: string;
}

/** A port of a network policy rule. */
export interface PortArgs {
    port: number;
    /** TCP (default), UDP or SCTP. */
    protocol?: string;
}

/** Ingress from the namespaces that carry all these labels. */
export interface IngressFromArgs {
    namespaceLabels: { [label: string]: string };
    ports?: PortArgs[];
}

/** Egress to a CIDR; the cloud metadata address is always excepted. */
export interface EgressArgs {
    cidr: string;
    ports?: PortArgs[];
}

/** An RBAC subject bound to a persona. */
export interface SubjectArgs {
    /** User, Group or ServiceAccount. */
    kind: string;
    name: string;
    /** ServiceAccount subjects only. */
    namespace?: string;
}

/** LimitRange values for containers, each a map of cpu, memory or ephemeral-storage to a quantity. */
export interface LimitRangeArgs {
    default?: { [resource: string]: string };
    defaultRequest?: { [resource: string]: string };
    max?: { [resource: string]: string };
}

/** One tenant namespace: restricted Pod Security, default-deny ingress and egress, quotas, persona bindings. */
export interface TenantArgs {
    /** The namespace's name (a DNS label, not a built-in namespace, not starting "kube-"). */
    name: string;
    labels?: { [label: string]: string };
    podSecurity?: PodSecurityArgs;
    /** Egress to CoreDNS on port 53 (default true). */
    allowDns?: boolean;
    /** Pods of this namespace may talk to each other (default false). */
    allowSameNamespace?: boolean;
    allowIngressFromNamespaces?: IngressFromArgs[];
    allowEgressTo?: EgressArgs[];
    /** Overrides of the default quota, key by key. */
    resourceQuota?: { [resource: string]: string };
    limitRange?: LimitRangeArgs;
    /** Subjects of each namespace persona, e.g. developer: [{ kind: Group, name: team-a }]. */
    roleBindings?: { [persona: string]: SubjectArgs[] };
}

export interface SecureNamespaceArgs extends TenantArgs {
    /** PSA version when podSecurity sets none; defaults to the cluster minor. */
    podSecurityVersion?: string;
}

/** Custom persona rules are not offered here: a persona's rules need the library's validator inputs. */
export interface RbacArgs {
    /** Subjects of each cluster persona (cluster-admin, platform-admin, auditor). */
    clusterBindings?: { [persona: string]: SubjectArgs[] };
    /** Bind kubeadm:cluster-admins (the admin credential's group) to cluster-admin (default true). */
    bindKubeadmClusterAdmins?: boolean;
}

export interface AdmissionArgs {
    /** Registries images may come from (default registry.k8s.io only). */
    allowedRegistries?: string[];
    nodePortNamespaces?: string[];
    loadBalancerNamespaces?: string[];
    /** Namespaces the workload guard does not apply to at all. */
    exemptNamespaces?: string[];
}

export interface ClusterBaselineArgs {
    /** PSA version for every namespace that sets none; defaults to the cluster minor. */
    podSecurityVersion?: string;
    tenants?: TenantArgs[];
    rbac?: RbacArgs;
    admission?: AdmissionArgs;
}
