import { strict as assert } from "node:assert";
import { parse } from "yaml";
import { toYaml } from "../../../components/common";
import { AUDIT_PRESETS, AuditPolicy, AuditPreset, renderAuditPolicy } from "../../../components/audit";
import { AuditRequest, LEVEL_RANK, couldMatchResource, evaluate, matchesAllOf } from "./matcher";

const policies = Object.fromEntries(AUDIT_PRESETS.map((p) => [p, renderAuditPolicy({ preset: p })])) as Record<AuditPreset, AuditPolicy>;

const VERBS = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"];
const WRITES = ["create", "update", "patch", "delete", "deletecollection"];
// Identities that the noise rules single out, plus ordinary ones.
const IDENTITIES: Pick<AuditRequest, "user" | "groups">[] = [
    { user: "alice", groups: ["system:authenticated"] },
    { user: "kubernetes-admin", groups: ["kubeadm:cluster-admins", "system:authenticated"] },
    { user: "system:serviceaccount:default:app", groups: ["system:serviceaccounts", "system:authenticated"] },
    { user: "system:node:worker-1", groups: ["system:nodes", "system:authenticated"] },
    { user: "system:kube-proxy", groups: ["system:authenticated"] },
    { user: "system:kube-controller-manager", groups: ["system:authenticated"] },
    { user: "system:apiserver", groups: ["system:masters"] },
];
const NAMESPACES = ["default", "kube-system", "kube-node-lease", ""];

// Resources whose bodies may carry key material: never logged above Metadata, and always logged.
const SENSITIVE: { group: string; resource: string; subresource?: string }[] = [
    { group: "", resource: "secrets" },
    { group: "", resource: "configmaps" },
    { group: "", resource: "serviceaccounts", subresource: "token" },
    { group: "authentication.k8s.io", resource: "tokenreviews" },
    { group: "authentication.k8s.io", resource: "selfsubjectreviews" },
];

const level = (preset: AuditPreset, req: AuditRequest) => evaluate(policies[preset], req).level;
const write = (verb: string, group: string, resource: string, subresource?: string): AuditRequest =>
    ({ user: "alice", groups: ["system:authenticated"], verb, resource: { group, resource, subresource, namespace: "default" } });

describe("audit: renderAuditPolicy", () => {
    for (const preset of AUDIT_PRESETS) {
        describe(preset, () => {
            const policy = policies[preset];

            it("is an audit.k8s.io/v1 Policy that round-trips through YAML", () => {
                assert.equal(policy.apiVersion, "audit.k8s.io/v1");
                assert.equal(policy.kind, "Policy");
                assert.deepEqual(parse(toYaml(policy)), policy);
            });

            it("omits the RequestReceived stage", () => {
                assert.ok(policy.omitStages.includes("RequestReceived"));
            });

            it("logs secrets, configmaps, token requests and token reviews at exactly Metadata, for anyone and any verb", () => {
                for (const s of SENSITIVE) {
                    for (const verb of VERBS) {
                        for (const id of IDENTITIES) {
                            for (const namespace of NAMESPACES) {
                                const req: AuditRequest = { ...id, verb, resource: { ...s, namespace } };
                                assert.equal(level(preset, req), "Metadata", JSON.stringify(req));
                            }
                        }
                    }
                }
            });

            it("has no rule that could log bodies ahead of the unconditional Metadata rule for each sensitive resource", () => {
                for (const s of SENSITIVE) {
                    const resource = s.subresource ? `${s.resource}/${s.subresource}` : s.resource;
                    const guard = policy.rules.findIndex((r) => r.level === "Metadata" && matchesAllOf(r, s.group, resource));
                    assert.ok(guard >= 0, `${resource}: no Metadata rule covers every request`);
                    policy.rules.slice(0, guard).forEach((rule, i) => {
                        if (couldMatchResource(rule, s.group, resource)) {
                            assert.ok(LEVEL_RANK[rule.level] <= LEVEL_RANK.Metadata, `rule ${i} (${rule.level}) could log ${resource} bodies`);
                        }
                    });
                }
            });

            it("drops health, readiness and version probes", () => {
                for (const path of ["/healthz", "/healthz/etcd", "/livez", "/livez/ping", "/readyz", "/readyz/shutdown", "/version"]) {
                    assert.equal(level(preset, { user: "system:anonymous", verb: "get", path }), "None", path);
                }
            });

            it("still logs other non-resource requests, e.g. /metrics", () => {
                assert.equal(level(preset, { user: "prometheus", verb: "get", path: "/metrics" }), "Metadata");
            });

            it("drops kube-proxy's watches and node heartbeats, but not the same requests from anyone else", () => {
                const proxyWatch: AuditRequest = {
                    user: "system:kube-proxy", verb: "watch", resource: { group: "discovery.k8s.io", resource: "endpointslices", namespace: "" },
                };
                assert.equal(level(preset, proxyWatch), "None");
                assert.equal(level(preset, { ...proxyWatch, user: "alice" }), "Metadata");

                const heartbeat: AuditRequest = {
                    user: "system:node:worker-1", groups: ["system:nodes"], verb: "update",
                    resource: { group: "coordination.k8s.io", resource: "leases", namespace: "kube-node-lease", name: "worker-1" },
                };
                assert.equal(level(preset, heartbeat), "None");
                assert.notEqual(level(preset, { ...heartbeat, user: "mallory", groups: ["system:authenticated"] }), "None");
            });

            it("drops the control plane's and the nodes' events, and nobody else's", () => {
                const system: Pick<AuditRequest, "user" | "groups">[] = [
                    { user: "system:node:worker-1", groups: ["system:nodes", "system:authenticated"] },
                    { user: "system:kube-scheduler", groups: ["system:authenticated"] },
                    { user: "system:kube-controller-manager", groups: ["system:authenticated"] },
                    { user: "system:serviceaccount:kube-system:replicaset-controller", groups: ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"] },
                ];
                const people: Pick<AuditRequest, "user" | "groups">[] = [
                    { user: "alice", groups: ["system:authenticated"] },
                    { user: "kubernetes-admin", groups: ["kubeadm:cluster-admins", "system:authenticated"] },
                    { user: "system:serviceaccount:default:app", groups: ["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"] },
                ];
                let n = 0;
                for (const group of ["", "events.k8s.io"]) {
                    for (const verb of WRITES) {
                        for (const id of system) {
                            assert.equal(level(preset, { ...write(verb, group, "events"), ...id }), "None", `${id.user} ${verb}`);
                            n++;
                        }
                        for (const id of people) {
                            // A forged or deleted event is a write like any other: it must reach the log.
                            assert.notEqual(level(preset, { ...write(verb, group, "events"), ...id }), "None", `${id.user} ${verb}`);
                            n++;
                        }
                    }
                }
                assert.equal(n, 2 * WRITES.length * (system.length + people.length));
            });

            it("logs every read of an ordinary resource at Metadata", () => {
                for (const verb of ["get", "list", "watch"]) {
                    assert.equal(level(preset, { ...write(verb, "apps", "deployments"), verb }), "Metadata");
                    assert.equal(level(preset, { ...write(verb, "rbac.authorization.k8s.io", "clusterroles"), verb }), "Metadata");
                }
            });
        });
    }

    it("defaults to the standard preset", () => {
        assert.deepEqual(renderAuditPolicy(undefined), policies.standard);
    });

    it("minimal logs writes at Metadata only", () => {
        for (const verb of WRITES) {
            assert.equal(level("minimal", write(verb, "apps", "deployments")), "Metadata");
            assert.equal(level("minimal", write(verb, "rbac.authorization.k8s.io", "rolebindings")), "Metadata");
        }
    });

    it("standard logs writes with their request body", () => {
        for (const verb of WRITES) {
            assert.equal(level("standard", write(verb, "apps", "deployments")), "Request");
            assert.equal(level("standard", write(verb, "rbac.authorization.k8s.io", "clusterrolebindings")), "Request");
            assert.equal(level("standard", write(verb, "networking.k8s.io", "networkpolicies")), "Request");
        }
    });

    it("strict logs RBAC and workload writes with request and response", () => {
        const targets: [string, string, string?][] = [
            ["rbac.authorization.k8s.io", "roles"], ["rbac.authorization.k8s.io", "rolebindings"],
            ["rbac.authorization.k8s.io", "clusterroles"], ["rbac.authorization.k8s.io", "clusterrolebindings"],
            ["", "pods"], ["", "pods", "exec"], ["", "pods", "attach"], ["", "pods", "portforward"], ["", "pods", "ephemeralcontainers"],
            ["apps", "deployments"], ["apps", "replicasets"], ["apps", "statefulsets"], ["apps", "daemonsets"],
            ["batch", "jobs"], ["batch", "cronjobs"],
            ["admissionregistration.k8s.io", "validatingwebhookconfigurations"],
        ];
        for (const verb of WRITES) {
            for (const [group, resource, sub] of targets) {
                assert.equal(level("strict", write(verb, group, resource, sub)), "RequestResponse", `${verb} ${group}/${resource}/${sub ?? ""}`);
            }
        }
        // WebSocket exec/attach/port-forward arrive as "get".
        for (const sub of ["exec", "attach", "portforward"]) {
            assert.equal(level("strict", write("get", "", "pods", sub)), "RequestResponse", `get pods/${sub}`);
            assert.equal(level("standard", write("get", "", "pods", sub)), "Metadata", `standard get pods/${sub}`);
        }
        // Other writes keep the standard level, and status updates are not workload definitions.
        assert.equal(level("strict", write("create", "networking.k8s.io", "networkpolicies")), "Request");
        assert.equal(level("strict", write("patch", "", "pods", "status")), "Request");
    });

    it("strict never logs a response body for secrets, even for writes", () => {
        assert.equal(level("strict", write("create", "", "secrets")), "Metadata");
        assert.equal(level("strict", write("create", "", "serviceaccounts", "token")), "Metadata");
    });

    it("returns a fresh object on every call", () => {
        const a = renderAuditPolicy({ preset: "strict" });
        a.rules[0].level = "RequestResponse";
        assert.equal(renderAuditPolicy({ preset: "strict" }).rules[0].level, "None");
    });
});
