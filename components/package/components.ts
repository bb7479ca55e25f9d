// Thin wrappers that give the library's components analyzable Args for the component package. They add no
// rule: the library's planners validate (before anything is registered) and its components create the objects.
import * as pulumi from "@pulumi/pulumi";
import { describeWeakening } from "../common/posture";
import { ClusterBaseline as BaselineComponent } from "../cluster-baseline/component";
import { planClusterBaseline, type ClusterBaselineConfig } from "../cluster-baseline/plan";
import { SecureNamespace as NamespaceComponent } from "../secure-namespace/component";
import { planSecureNamespace, type SecureNamespaceConfig } from "../secure-namespace/plan";
import type { ClusterBaselineArgs, SecureNamespaceArgs } from "./args";

/** A tenant namespace: restricted Pod Security, default-deny ingress and egress with DNS-only egress,
 * quotas, limits and persona RoleBindings. Validation errors name keys under the resource's name. */
export class SecureNamespace extends pulumi.ComponentResource {
    /** The namespace created. */
    namespaceName: pulumi.Output<string>;
    /** Departures from the restrictive defaults, one "<key path>: <effect>" line each; empty for an untouched namespace. */
    weakenings: pulumi.Output<string[]>;
    /** The namespace's posture as the library reports it. */
    posture: pulumi.Output<any>;

    constructor(name: string, args: SecureNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
        const { podSecurityVersion, ...config } = args;
        // The library's shapes are narrower (literal unions) than the schema's strings; its planner checks them.
        planSecureNamespace(name, config as unknown as SecureNamespaceConfig, { podSecurityVersion });
        super("hardened-cluster:index:SecureNamespace", name, {}, opts);
        const inner = new NamespaceComponent(name, { ...(config as unknown as SecureNamespaceConfig), configKey: name, podSecurityVersion }, { parent: this });
        this.namespaceName = inner.namespaceName;
        this.posture = inner.posture;
        this.weakenings = inner.posture.apply((p) => p.weakenings.map(describeWeakening));
        this.registerOutputs({ namespaceName: this.namespaceName, weakenings: this.weakenings, posture: this.posture });
    }
}

/** The in-cluster baseline: persona ClusterRoles and bindings, Pod Security labels on the built-in
 * namespaces, a SecureNamespace per tenant and the registry/Service admission policy. */
export class ClusterBaseline extends pulumi.ComponentResource {
    /** The tenant namespaces created. */
    namespaces: pulumi.Output<string[]>;
    /** The Pod Security version every namespace is pinned to. */
    podSecurityVersion: pulumi.Output<string>;
    /** Every weakening taken, one sentence each. */
    weakenings: pulumi.Output<string[]>;
    /** The baseline's posture as the library reports it. */
    posture: pulumi.Output<any>;

    constructor(name: string, args: ClusterBaselineArgs, opts?: pulumi.ComponentResourceOptions) {
        const config = args as unknown as ClusterBaselineConfig;
        planClusterBaseline(name, config);
        super("hardened-cluster:index:ClusterBaseline", name, {}, opts);
        const inner = new BaselineComponent(name, { ...config, configKey: name }, { parent: this });
        this.namespaces = pulumi.all(Object.values(inner.namespaces).map((n) => n.namespaceName));
        this.podSecurityVersion = pulumi.output(inner.podSecurityVersion);
        this.posture = inner.posture;
        this.weakenings = inner.posture.apply((p) => p.weakenings.map(describeWeakening));
        this.registerOutputs({ namespaces: this.namespaces, podSecurityVersion: this.podSecurityVersion, weakenings: this.weakenings, posture: this.posture });
    }
}
