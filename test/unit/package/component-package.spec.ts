// The components as a Pulumi component package (components/package): what the Node.js language host loads,
// the schema Pulumi's analyzer derives from the TypeScript source, and the wrappers' behaviour under mocks.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { getPulumiComponents, ComponentProvider } from "@pulumi/pulumi/provider/experimental/provider";
import { ConfigError } from "../../../components/common";
import { ClusterBaseline, SecureNamespace } from "../../../components/package";
import { installMocks, ofType, outputValue, registrations, settle } from "../rbac/pulumi-mocks";

const packageDir = path.resolve(__dirname, "../../../components/package");

describe("component package: what the language host loads", function () {
    it("declares a Node.js plugin and names the package hardened-cluster", function () {
        assert.match(fs.readFileSync(path.join(packageDir, "PulumiPlugin.yaml"), "utf8"), /^runtime: nodejs$/m);
        const pkg = JSON.parse(fs.readFileSync(path.join(packageDir, "package.json"), "utf8"));
        assert.equal(pkg.name, "hardened-cluster");
        assert.ok(fs.existsSync(path.join(packageDir, pkg.main)), pkg.main);
    });

    it("exports exactly the two components from its entry point (run-plugin serves what it exports)", function () {
        const components = getPulumiComponents(require(packageDir));
        assert.deepEqual(components.map((c) => c.name).sort(), ["ClusterBaseline", "SecureNamespace"]);
    });
});

describe("component package: the schema Pulumi's analyzer derives", function () {
    this.timeout(300_000); // the analyzer type-checks the package with the Kubernetes typings
    let schema: any;
    before(async function () {
        const provider = new ComponentProvider({ name: "hardened-cluster", components: [SecureNamespace, ClusterBaseline], dirname: packageDir });
        schema = JSON.parse(await provider.getSchema());
    });

    it("has both components, as components, under the index module", function () {
        assert.deepEqual(Object.keys(schema.resources).sort(), ["hardened-cluster:index:ClusterBaseline", "hardened-cluster:index:SecureNamespace"]);
        for (const r of Object.values<any>(schema.resources)) assert.equal(r.isComponent, true);
    });

    it("requires only the namespace's name, and types every SecureNamespace input", function () {
        const ns = schema.resources["hardened-cluster:index:SecureNamespace"];
        assert.deepEqual(ns.requiredInputs, ["name"]);
        assert.deepEqual(Object.keys(ns.inputProperties).sort(), [
            "allowDns", "allowEgressTo", "allowIngressFromNamespaces", "allowSameNamespace", "labels", "limitRange",
            "name", "podSecurity", "podSecurityVersion", "resourceQuota", "roleBindings",
        ]);
        assert.equal(ns.inputProperties.podSecurity.$ref, "#/types/hardened-cluster:index:PodSecurityArgs");
        assert.equal(ns.inputProperties.roleBindings.additionalProperties.items.$ref, "#/types/hardened-cluster:index:SubjectArgs");
        assert.deepEqual(schema.types["hardened-cluster:index:SubjectArgs"].required.sort(), ["kind", "name"]);
    });

    it("outputs the namespace name and the weakenings of each component", function () {
        const ns = schema.resources["hardened-cluster:index:SecureNamespace"].properties;
        assert.equal(ns.namespaceName.type, "string");
        assert.deepEqual(ns.weakenings, { type: "array", items: { type: "string" }, description: ns.weakenings.description });
        const baseline = schema.resources["hardened-cluster:index:ClusterBaseline"];
        assert.equal(baseline.properties.namespaces.items.type, "string");
        assert.equal(baseline.inputProperties.tenants.items.$ref, "#/types/hardened-cluster:index:TenantArgs");
        assert.deepEqual(baseline.requiredInputs ?? [], []);
    });
});

describe("component package: the wrappers", function () {
    beforeEach(installMocks);

    it("SecureNamespace creates the library's namespace with default-deny under the wrapper", async function () {
        const ns = new SecureNamespace("team-a", { name: "team-a", roleBindings: { developer: [{ kind: "Group", name: "devs" }] } });
        await settle();
        assert.deepEqual(ofType("kubernetes:core/v1:Namespace").map((r) => r.inputs.metadata.name), ["team-a"]);
        const policies = ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy").map((r) => r.inputs);
        assert.deepEqual(policies.map((p) => p.metadata.name), ["hardened-deny-all", "hardened-allow-dns"]);
        assert.deepEqual([...policies[0].spec.policyTypes].sort(), ["Egress", "Ingress"]);
        assert.equal(ofType("hardened-cluster:index:SecureNamespace").length, 1);
        assert.equal(ofType("hardened-cluster:secure-namespace:SecureNamespace").length, 1);
        assert.equal(await outputValue(ns.namespaceName), "team-a");
        assert.deepEqual(await outputValue(ns.weakenings), []);
    });

    it("SecureNamespace reports a Pod Security exception among its weakenings", async function () {
        const ns = new SecureNamespace("legacy", { name: "legacy", podSecurity: { enforce: "baseline", exception: "legacy-agent" } });
        await settle();
        const weakenings = await outputValue(ns.weakenings);
        assert.equal(weakenings.length, 1);
        assert.match(weakenings[0], /legacy/);
        assert.match(weakenings[0], /baseline/);
    });

    // What another language's program can send: any string where the library expects a level.
    for (const [what, args, keyPath] of [
        ["an unknown Pod Security level", { name: "t", podSecurity: { enforce: "none" } }, "bad.podSecurity.enforce"],
        ["privileged without a named exception", { name: "t", podSecurity: { enforce: "privileged" } }, "bad.podSecurity.exception"],
        ["a built-in namespace", { name: "kube-system" }, "bad.name"],
        ["an unknown subject kind", { name: "t", roleBindings: { developer: [{ kind: "Robot", name: "x" }] } }, "bad.roleBindings.developer[0].kind"],
    ] as const) {
        it(`SecureNamespace refuses ${what} with a ConfigError naming ${keyPath}, registering nothing`, async function () {
            assert.throws(() => new SecureNamespace("bad", args as any), (e: unknown) => e instanceof ConfigError && e.key === keyPath);
            await settle();
            assert.deepEqual(registrations.map((r) => r.type), []);
        });
    }

    it("ClusterBaseline creates a SecureNamespace per tenant, the workload guard and the privilege and tenant guards", async function () {
        const b = new ClusterBaseline("baseline", { tenants: [{ name: "team-a" }, { name: "team-b" }] });
        await settle();
        assert.deepEqual(ofType("hardened-cluster:secure-namespace:SecureNamespace").length, 2);
        assert.deepEqual(
            ofType("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy").map((r) => r.inputs.metadata.name).sort(),
            ["hardened-privilege-guard", "hardened-tenant-guard", "hardened-workload-guard"],
        );
        assert.deepEqual(await outputValue(b.namespaces), ["team-a", "team-b"]);
        assert.equal(await outputValue(b.podSecurityVersion), "v1.34");
    });

    it("ClusterBaseline refuses a bad tenant before registering anything", async function () {
        assert.throws(
            () => new ClusterBaseline("baseline", { tenants: [{ name: "ok" }, { name: "Not_A_Label" }] }),
            (e: unknown) => e instanceof ConfigError && e.key === "baseline.tenants[1].name",
        );
        await settle();
        assert.deepEqual(registrations.map((r) => r.type), []);
    });
});
