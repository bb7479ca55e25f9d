// The escalation routes of the Kubernetes RBAC good-practices page (kubernetes.io/docs/concepts/security/
// rbac-good-practices), one persona rule set per route, each tried as a custom persona of the tier that
// claims not to escalate. Every one of these was accepted by the validator before the routes were modelled.
import { strict as assert } from "node:assert";
import { builtInPersonas, resolvePersonas, type PersonaScope, type PolicyRule } from "../../../components/rbac";
import { refusal } from "../config-error";

interface Route {
    route: string;
    scope: PersonaScope;
    rule: PolicyRule;
    /** A word the refusal must contain. */
    names: string;
}

const r = (apiGroup: string, resources: string[], verbs: string[]): PolicyRule => ({ apiGroups: [apiGroup], resources, verbs });

// From the good-practices list: workload creation, PV creation, namespace modification, CSR and certificate
// issuing, admission control, proxy subresources, token Secrets (via Secret create where any SA lives).
const ROUTES: Route[] = [
    { route: "pod create cluster-wide (kube-system Secrets and SAs)", scope: "cluster", rule: r("", ["pods"], ["create"]), names: '"pods" cluster-wide' },
    { route: "Deployment create cluster-wide", scope: "cluster", rule: r("apps", ["deployments"], ["create", "patch"]), names: '"deployments" cluster-wide' },
    { route: "CronJob update cluster-wide", scope: "cluster", rule: r("batch", ["cronjobs"], ["update"]), names: '"cronjobs" cluster-wide' },
    { route: "hostPath PersistentVolume create", scope: "cluster", rule: r("", ["persistentvolumes"], ["create"]), names: "host path" },
    { route: "namespace update (PSA relabel)", scope: "cluster", rule: r("", ["namespaces"], ["update"]), names: "Pod Security" },
    { route: "namespace patch (PSA relabel)", scope: "cluster", rule: r("", ["namespaces"], ["patch"]), names: "Pod Security" },
    { route: "CSR create", scope: "cluster", rule: r("certificates.k8s.io", ["certificatesigningrequests"], ["create"]), names: "client certificates" },
    { route: "CSR approval", scope: "cluster", rule: r("certificates.k8s.io", ["certificatesigningrequests/approval"], ["update"]), names: "issues certificates" },
    { route: "signer approve", scope: "cluster", rule: { apiGroups: ["certificates.k8s.io"], resources: ["signers"], resourceNames: ["kubernetes.io/kube-apiserver-client"], verbs: ["approve"] }, names: "signers" },
    { route: "admission policy delete", scope: "cluster", rule: r("admissionregistration.k8s.io", ["validatingadmissionpolicies"], ["delete"]), names: "admission" },
    { route: "mutating webhook create", scope: "cluster", rule: r("admissionregistration.k8s.io", ["mutatingwebhookconfigurations"], ["create"]), names: "admission" },
    { route: "services/proxy", scope: "namespace", rule: r("", ["services/proxy"], ["get"]), names: "services/proxy" },
    { route: "pods/proxy", scope: "namespace", rule: r("", ["pods/proxy"], ["create"]), names: "pods/proxy" },
    { route: "token Secret create cluster-wide", scope: "cluster", rule: r("", ["secrets"], ["create"]), names: "token Secret" },
];

describe("rbac invariants: the good-practices escalation routes", () => {
    it("refuses each route in a standard persona, naming the rule's key and the route", () => {
        assert.equal(ROUTES.length, 14);
        let refused = 0;
        for (const { route, scope, rule, names } of ROUTES) {
            const input = [{ name: "custom", scope, rules: [r("", ["configmaps"], ["get"]), rule] }];
            const e = refusal(() => resolvePersonas("hc:rbac.personas", input));
            assert.equal(e.key, "hc:rbac.personas[0].rules[1]", route);
            assert.ok(e.message.includes(names), `${route}: ${e.message}`);
            assert.ok(e.message.includes('(standard)'), `${route}: ${e.message}`);
            refused++;
        }
        assert.equal(refused, ROUTES.length);
    });

    it("accepts each route in an admin persona, which is listed as a weakening instead", () => {
        let accepted = 0;
        for (const { scope, rule } of ROUTES) {
            const got = resolvePersonas("k", [{ name: "ops", tier: "admin", scope, rules: [rule] }]);
            assert.equal(got.at(-1)!.tier, "admin");
            accepted++;
        }
        assert.equal(accepted, ROUTES.length);
    });

    it("lets a standard namespace persona create workloads and Secrets, since the tenant guard bounds what its pods use", () => {
        const rules = [r("", ["pods", "secrets"], ["create"]), r("apps", ["deployments"], ["create", "update", "patch"])];
        const got = resolvePersonas("k", [{ name: "deployer", scope: "namespace", rules }]);
        assert.equal(got.at(-1)!.tier, "standard");
    });

    it("built-in platform-admin holds none of the routes and is of the tier that claims not to escalate", () => {
        const p = builtInPersonas().find((x) => x.name === "platform-admin")!;
        assert.equal(p.tier, "standard");
        assert.equal(p.scope, "cluster");
        const grants = (group: string, resource: string, verb: string) =>
            p.rules.some((x) => (x.apiGroups ?? []).includes(group) && (x.resources ?? []).includes(resource) && x.verbs.includes(verb));
        const forbidden: [string, string, string][] = [
            ["", "pods", "create"], ["", "pods/exec", "create"], ["", "secrets", "create"], ["", "secrets", "get"],
            ["", "serviceaccounts", "create"], ["", "persistentvolumes", "create"], ["", "namespaces", "update"],
            ["", "namespaces", "patch"], ["apps", "deployments", "create"], ["batch", "jobs", "create"],
            ["certificates.k8s.io", "certificatesigningrequests", "create"],
            ["admissionregistration.k8s.io", "validatingadmissionpolicies", "delete"],
        ];
        for (const [g, res, v] of forbidden) assert.ok(!grants(g, res, v), `platform-admin: ${v} ${g}/${res}`);
        assert.ok(grants("rbac.authorization.k8s.io", "clusterroles", "create"), "still manages RBAC within what it holds");
    });
});
