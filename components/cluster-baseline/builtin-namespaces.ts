// Pod Security labels for the namespaces every cluster has. They exist before we run, so they are patched
// (server-side apply of just these labels), never created or deleted by us.
import { key } from "../common";
import { podSecurityLabels, type PodSecurity } from "../secure-namespace/pod-security";
import { PSA_EXCEPTION_ANNOTATION, type NamespaceObject } from "../secure-namespace/plan";
import { podSecurityWeakenings, type NamespacePosture } from "../secure-namespace/posture";
import { NETWORK_POLICY_NAMES, renderDenyAll, type NetworkPolicyObject } from "../secure-namespace/network";

type Levels = Pick<PodSecurity, "enforce" | "audit" | "warn" | "exception">;

const RESTRICTED: Levels = { enforce: "restricted", audit: "restricted", warn: "restricted" };

/** kube-system runs the node agents (CNI, kube-proxy) that need host namespaces and privileges, so it cannot
 * enforce more than privileged; audit and warn stay restricted so anything new there is still reported. */
const BUILT_IN_NAMESPACE_LEVELS: Readonly<Record<string, Levels>> = {
    "kube-system": { enforce: "privileged", audit: "restricted", warn: "restricted", exception: "system-components" },
    default: RESTRICTED,
    "kube-public": RESTRICTED,
    "kube-node-lease": RESTRICTED,
};

function podSecurity(name: string, version: string): PodSecurity {
    return { ...BUILT_IN_NAMESPACE_LEVELS[name], version };
}

/** Built-in namespaces that get the tenants' default deny. kube-system is left out: CoreDNS and the node
 * agents there must answer every namespace, and no tenant persona can create pods in it. */
const DENY_ALL_BUILT_IN_NAMESPACES: readonly string[] = ["default", "kube-public", "kube-node-lease"];

export function renderBuiltInDenyAll(): NetworkPolicyObject[] {
    return DENY_ALL_BUILT_IN_NAMESPACES.map(renderDenyAll);
}

/** The patch body for each built-in namespace: name, PSA labels, and the exception annotation if any. */
export function renderBuiltInNamespacePatches(version: string): NamespaceObject[] {
    return Object.keys(BUILT_IN_NAMESPACE_LEVELS).map((name) => {
        const ps = podSecurity(name, version);
        const obj: NamespaceObject = { apiVersion: "v1", kind: "Namespace", metadata: { name, labels: podSecurityLabels(ps) } };
        if (ps.exception) obj.metadata.annotations = { [PSA_EXCEPTION_ANNOTATION]: ps.exception };
        return obj;
    });
}

/** `configKey` is the baseline's: the levels here are fixed by the block, the version is its podSecurityVersion. */
export function builtInNamespacePostures(version: string, configKey: string): NamespacePosture[] {
    return Object.keys(BUILT_IN_NAMESPACE_LEVELS).map((name) => {
        const ps = podSecurity(name, version);
        return {
            name,
            builtIn: true,
            podSecurity: ps,
            networkPolicies: DENY_ALL_BUILT_IN_NAMESPACES.includes(name) ? [NETWORK_POLICY_NAMES.denyAll] : [],
            egressTo: [],
            ingressFromNamespaces: [],
            defaultServiceAccountAutomount: "unmanaged",
            roleBindings: {},
            weakenings: podSecurityWeakenings(name, ps, { levels: configKey, version: key(configKey, "podSecurityVersion") }),
        };
    });
}
