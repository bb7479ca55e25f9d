// Bad input anywhere in the baseline is refused up front, with the key path from the caller's root.
import { strict as assert } from "node:assert";
import { ConfigError } from "../../../components/common";
import { planClusterBaseline, type ClusterBaselineConfig } from "../../../components/cluster-baseline";

const ROOT = "hardened-cluster:baseline";

const cases: [string, unknown, string][] = [
    ["a tenant name that is not a DNS label", { tenants: [{ name: "ok" }, { name: "Bad.Name" }] }, `${ROOT}.tenants[1].name`],
    ["two tenants with one name", { tenants: [{ name: "a" }, { name: "b" }, { name: "a" }] }, `${ROOT}.tenants[2].name`],
    ["a tenant named like a built-in namespace", { tenants: [{ name: "default" }] }, `${ROOT}.tenants[0].name`],
    ["an unknown PSA level", { tenants: [{ name: "a", podSecurity: { audit: "loose" } }] }, `${ROOT}.tenants[0].podSecurity.audit`],
    ["a privileged tenant without a named exception", { tenants: [{ name: "a", podSecurity: { enforce: "privileged" } }] }, `${ROOT}.tenants[0].podSecurity.exception`],
    ["a baseline tenant without a named exception", { tenants: [{ name: "a" }, { name: "b", podSecurity: { enforce: "baseline" } }] }, `${ROOT}.tenants[1].podSecurity.exception`],
    ["a version label that is not latest or vX.Y", { podSecurityVersion: "1.34" }, `${ROOT}.podSecurityVersion`],
    ["a tenant version label that is not latest or vX.Y", { tenants: [{ name: "a", podSecurity: { version: "v1.x" } }] }, `${ROOT}.tenants[0].podSecurity.version`],
    ["a CIDR that does not parse", { tenants: [{ name: "a", allowEgressTo: [{ cidr: "10.0.0.0/40" }] }] }, `${ROOT}.tenants[0].allowEgressTo[0].cidr`],
    ["a subject kind that does not exist", { tenants: [{ name: "a", roleBindings: { viewer: [{ kind: "Bot", name: "x" }] } }] }, `${ROOT}.tenants[0].roleBindings.viewer[0].kind`],
    ["a cluster binding subject kind that does not exist", { rbac: { clusterBindings: { auditor: [{ kind: "user", name: "x" }] } } }, `${ROOT}.rbac.clusterBindings.auditor[0].kind`],
    ["a custom persona rule with a wildcard verb", { rbac: { personas: [{ name: "x", scope: "cluster", rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["*"] }] }] } }, `${ROOT}.rbac.personas[0].rules[0]`],
    ["a custom standard persona with pods/exec", { rbac: { personas: [{ name: "x", scope: "namespace", rules: [{ apiGroups: [""], resources: ["pods/exec"], verbs: ["create"] }] }] } }, `${ROOT}.rbac.personas[0].rules[0]`],
    ["a registry with a scheme", { admission: { allowedRegistries: ["https://ghcr.io"] } }, `${ROOT}.admission.allowedRegistries[0]`],
    ["an empty registry allow-list", { admission: { allowedRegistries: [] } }, `${ROOT}.admission.allowedRegistries`],
    ["a NodePort namespace that is not a DNS label", { admission: { nodePortNamespaces: ["Edge"] } }, `${ROOT}.admission.nodePortNamespaces[0]`],
    ["an unknown admission option", { admission: { allowNodePort: true } }, `${ROOT}.admission.allowNodePort`],
    ["an unknown top-level option", { tenant: [] }, `${ROOT}.tenant`],
    ["tenants that are not a list", { tenants: { name: "a" } }, `${ROOT}.tenants`],
];

describe("cluster-baseline validation", () => {
    for (const [what, config, k] of cases) {
        it(`refuses ${what}, naming ${k}`, () => {
            assert.throws(
                () => planClusterBaseline(ROOT, config as ClusterBaselineConfig),
                (e: unknown) => e instanceof ConfigError && e.key === k && e.message.includes(k),
            );
        });
    }

    it("says what is allowed, not only what is wrong", () => {
        assert.throws(
            () => planClusterBaseline(ROOT, { tenants: [{ name: "a", podSecurity: { enforce: "loose" as never } }] }),
            (e: unknown) => e instanceof ConfigError && /"loose"/.test(e.message) && /privileged, baseline, restricted/.test(e.message),
        );
        assert.throws(
            () => planClusterBaseline(ROOT, { tenants: [{ name: "a", roleBindings: { viewer: [{ kind: "Bot" as never, name: "x" }] } }] }),
            (e: unknown) => e instanceof ConfigError && /User, Group, ServiceAccount/.test(e.message),
        );
    });
});
