// Every bad input is refused before anything exists, with the offending key in the message.
import { strict as assert } from "node:assert";
import { ConfigError } from "../../../components/common";
import { planSecureNamespace } from "../../../components/secure-namespace";

const ROOT = "hc:namespaces[3]";

const cases: [string, Record<string, unknown>, string][] = [
    ["a name that is not a DNS label", { name: "Team_A" }, `${ROOT}.name`],
    ["a name longer than 63 characters", { name: "a".repeat(64) }, `${ROOT}.name`],
    ["a built-in namespace", { name: "kube-system" }, `${ROOT}.name`],
    ["a reserved kube- prefix", { name: "kube-extra" }, `${ROOT}.name`],
    ["an unknown PSA level", { name: "a", podSecurity: { enforce: "strict" } }, `${ROOT}.podSecurity.enforce`],
    ["a version label without the v", { name: "a", podSecurity: { version: "1.34" } }, `${ROOT}.podSecurity.version`],
    ["a patch-level version label", { name: "a", podSecurity: { version: "v1.34.1" } }, `${ROOT}.podSecurity.version`],
    ["baseline without a named exception", { name: "a", podSecurity: { enforce: "baseline" } }, `${ROOT}.podSecurity.exception`],
    ["privileged without a named exception", { name: "a", podSecurity: { enforce: "privileged" } }, `${ROOT}.podSecurity.exception`],
    ["a weaker warn level without an exception", { name: "a", podSecurity: { warn: "privileged" } }, `${ROOT}.podSecurity.exception`],
    ["an exception where nothing is weaker", { name: "a", podSecurity: { exception: "why" } }, `${ROOT}.podSecurity.exception`],
    ["an unknown podSecurity key", { name: "a", podSecurity: { enforced: "restricted" } }, `${ROOT}.podSecurity.enforced`],
    ["a CIDR that does not parse", { name: "a", allowEgressTo: [{ cidr: "10.0.0/8" }] }, `${ROOT}.allowEgressTo[0].cidr`],
    ["egress to the metadata address alone", { name: "a", allowEgressTo: [{ cidr: "169.254.169.254/32" }] }, `${ROOT}.allowEgressTo[0].cidr`],
    ["a port out of range", { name: "a", allowEgressTo: [{ cidr: "10.0.0.0/8", ports: [{ port: 70000 }] }] }, `${ROOT}.allowEgressTo[0].ports[0].port`],
    ["an unknown protocol", { name: "a", allowEgressTo: [{ cidr: "10.0.0.0/8", ports: [{ port: 80, protocol: "HTTP" }] }] }, `${ROOT}.allowEgressTo[0].ports[0].protocol`],
    ["an empty namespace selector", { name: "a", allowIngressFromNamespaces: [{ namespaceLabels: {} }] }, `${ROOT}.allowIngressFromNamespaces[0].namespaceLabels`],
    ["a bad label value in a selector", { name: "a", allowIngressFromNamespaces: [{ namespaceLabels: { team: "a b" } }] }, `${ROOT}.allowIngressFromNamespaces[0].namespaceLabels.team`],
    ["a label that would override pod security", { name: "a", labels: { "pod-security.kubernetes.io/enforce": "privileged" } }, `${ROOT}.labels.pod-security.kubernetes.io/enforce`],
    ["a subject kind that does not exist", { name: "a", roleBindings: { developer: [{ kind: "Team", name: "x" }] } }, `${ROOT}.roleBindings.developer[0].kind`],
    ["a ServiceAccount name that is not a DNS subdomain", { name: "a", roleBindings: { developer: [{ kind: "ServiceAccount", name: "CI Bot" }] } }, `${ROOT}.roleBindings.developer[0].name`],
    ["a cluster persona bound in a namespace", { name: "a", roleBindings: { auditor: [{ kind: "User", name: "x" }] } }, `${ROOT}.roleBindings.auditor`],
    ["an unknown persona", { name: "a", roleBindings: { superuser: [{ kind: "User", name: "x" }] } }, `${ROOT}.roleBindings.superuser`],
    ["a quota value that is not a quantity", { name: "a", resourceQuota: { pods: "lots" } }, `${ROOT}.resourceQuota.pods`],
    ["an unknown limit range resource", { name: "a", limitRange: { default: { gpu: "1" } } }, `${ROOT}.limitRange.default.gpu`],
    ["a non-boolean allowDns", { name: "a", allowDns: "no" }, `${ROOT}.allowDns`],
    ["an unknown option", { name: "a", allowEgress: [] }, `${ROOT}.allowEgress`],
];

describe("secure-namespace validation", () => {
    for (const [what, config, k] of cases) {
        it(`refuses ${what}, naming ${k}`, () => {
            assert.throws(
                () => planSecureNamespace(ROOT, config),
                (e: unknown) => e instanceof ConfigError && e.key === k && e.message.includes(k),
            );
        });
    }

    it("refuses a PSA version from the caller that is not latest or vX.Y", () => {
        assert.throws(
            () => planSecureNamespace(ROOT, { name: "a" }, { podSecurityVersion: "v1" }),
            (e: unknown) => e instanceof ConfigError && e.message.includes(`${ROOT}.podSecurityVersion`),
        );
    });

    it("accepts the same shapes when they are valid", () => {
        const plan = planSecureNamespace(ROOT, {
            name: "team-a",
            podSecurity: { enforce: "privileged", audit: "baseline", warn: "baseline", exception: "node-agent", version: "v1.33" },
            allowEgressTo: [{ cidr: "10.0.0.0/8", ports: [{ port: 443 }, { port: 53, protocol: "UDP" }] }],
            allowIngressFromNamespaces: [{ namespaceLabels: { "kubernetes.io/metadata.name": "ingress" } }],
            roleBindings: { developer: [{ kind: "ServiceAccount", name: "ci.bot", namespace: "ci" }] },
            resourceQuota: { "requests.nvidia.com/gpu": "2", "limits.memory": "1.5Gi" },
        });
        assert.equal(plan.podSecurity.exception, "node-agent");
        assert.equal(plan.roleBindings[0].subjects[0].namespace, "ci");
    });
});
