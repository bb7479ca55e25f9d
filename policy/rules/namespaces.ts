// Namespaces: Pod Security Admission labels, and a default deny for ingress and egress in each of them.
import { pss, k8sDocs, honour, exceptionsOf, isObj, arr, resourceRule, stackRule, defer } from "./common";

/** Namespaces the control plane runs in or Kubernetes itself manages; the pack leaves their labels alone. */
export const SYSTEM_NAMESPACES = ["kube-system", "kube-public", "kube-node-lease"];
export const NAMESPACE_TYPES = ["kubernetes:core/v1:Namespace", "kubernetes:core/v1:NamespacePatch"];
const LEVELS = ["privileged", "baseline", "restricted"];
const PSA = "pod-security.kubernetes.io/";

export const namespacePodSecurity = resourceRule({
    name: "namespace-pod-security",
    description: "Every non-system namespace enforces the Pod Security 'restricted' level (or the weaker level declared for it as an exception), pinned to a Kubernetes minor version.",
    severity: "high",
    framework: pss("restricted", "Pod Security Admission labels pod-security.kubernetes.io/enforce and enforce-version on the namespace"),
    remediation: "Label the namespace pod-security.kubernetes.io/enforce=restricted and pod-security.kubernetes.io/enforce-version=v1.<minor> (hardened-cluster's SecureNamespace does both); to allow a weaker level, list the namespace in this rule's exceptions.",
    exceptions: { type: "object", additionalProperties: { enum: ["baseline", "privileged"] } },
}, (args, report) => {
    if (!NAMESPACE_TYPES.includes(args.type)) return;
    const metadata = args.props.metadata;
    // A Namespace without a name gets an auto-generated one, never a system namespace's.
    const name = isObj(metadata) && typeof metadata.name === "string" ? metadata.name : undefined;
    if (name !== undefined && SYSTEM_NAMESPACES.includes(name)) return;
    const labels = isObj(metadata) && isObj(metadata.labels) ? metadata.labels : {};
    const enforce = labels[`${PSA}enforce`];
    const version = labels[`${PSA}enforce-version`];
    const allowed: Record<string, string> = exceptionsOf(args, {});
    const declared = name !== undefined ? allowed[name] : undefined;
    const label = name ?? args.name;
    if (typeof enforce !== "string" || !LEVELS.includes(enforce)) {
        report(`namespace ${label} has no Pod Security enforce label (${PSA}enforce)`);
    } else if (enforce !== "restricted") {
        if (declared === undefined || LEVELS.indexOf(declared) > LEVELS.indexOf(enforce)) {
            report(`namespace ${label} enforces Pod Security '${enforce}', not 'restricted', and is not a declared exception`);
        } else {
            honour("namespace-pod-security", args.urn, `namespace ${label} enforces '${enforce}' (declared exception '${declared}')`);
        }
    }
    if (typeof version !== "string" || !/^v1\.\d+$/.test(version)) {
        report(`namespace ${label} does not pin its Pod Security version (${PSA}enforce-version is ${version === undefined ? "missing" : `'${version}'`}, want v1.<minor>)`);
    }
});

/** Whether a NetworkPolicy selects every pod of its namespace and allows nothing of the given direction. */
function deniesAll(spec: Record<string, any>, direction: "Ingress" | "Egress"): boolean {
    const sel = spec.podSelector;
    const everyPod = isObj(sel) && Object.keys(sel.matchLabels ?? {}).length === 0 && arr(sel.matchExpressions).length === 0;
    const types = arr(spec.policyTypes);
    // Without policyTypes, Egress is in force only when egress rules are listed (upstream's defaulting).
    const inForce = types.length > 0 ? types.includes(direction) : direction === "Ingress";
    const rules = direction === "Ingress" ? arr(spec.ingress) : arr(spec.egress);
    return everyPod && inForce && rules.length === 0;
}

export const namespaceDefaultDeny = stackRule({
    name: "namespace-default-deny",
    description: "Every non-system namespace the program creates has a NetworkPolicy that selects all its pods and denies all ingress and all egress (allows are added by further policies).",
    severity: "high",
    framework: k8sDocs("network-policies#default-policies", "Default deny all ingress and all egress traffic in every namespace"),
    remediation: "Add a NetworkPolicy in the namespace with podSelector: {} and policyTypes: [Ingress, Egress] and no rules (hardened-cluster's SecureNamespace renders 'hardened-default-deny'); to exempt a namespace, list it in this rule's exceptions.",
    exceptions: { type: "array", items: { type: "string" } },
}, (args, report) => {
    const exempt: string[] = exceptionsOf(args, []);
    const covered = { Ingress: new Set<string>(), Egress: new Set<string>() };
    // Outputs not known at preview (a provider whose configuration is unknown plans nothing): such a policy
    // may be the missing deny, and such a namespace may lack one, so neither may pass nor fail the check.
    let unknownPolicies = false;
    for (const r of args.resources) {
        if (r.type !== "kubernetes:networking.k8s.io/v1:NetworkPolicy") continue;
        const ns = r.props.metadata?.namespace;
        if (typeof ns !== "string" || !isObj(r.props.spec)) {
            unknownPolicies = true;
            continue;
        }
        for (const d of ["Ingress", "Egress"] as const) if (deniesAll(r.props.spec, d)) covered[d].add(ns);
    }
    const undecided: string[] = [];
    for (const r of args.resources) {
        if (r.type !== "kubernetes:core/v1:Namespace") continue;
        const name = r.props.metadata?.name;
        if (typeof name !== "string") {
            undecided.push(r.name);
            continue;
        }
        if (SYSTEM_NAMESPACES.includes(name)) continue;
        if (exempt.includes(name)) {
            honour("namespace-default-deny", r.urn, `namespace ${name} is exempt from the default deny`);
            continue;
        }
        const missing = (["Ingress", "Egress"] as const).filter((d) => !covered[d].has(name));
        if (missing.length === 0) continue;
        if (unknownPolicies) undecided.push(name);
        else report(`namespace ${name} has no default-deny NetworkPolicy for ${missing.join(" and ")}`, r.urn);
    }
    if (undecided.length > 0) defer(`namespaces ${undecided.join(", ")}`);
});
