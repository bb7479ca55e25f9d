import { strict as assert } from "node:assert";
import {
    EXPLICIT_REGISTRY_PATTERN,
    WORKLOAD_POLICY_BINDING_NAME,
    WORKLOAD_POLICY_NAME,
    celImages,
    celPodSpec,
    celRegistryOf,
    celString,
    celStringList,
    renderWorkloadPolicy,
    renderWorkloadPolicyBinding,
    validateAdmission,
} from "../../../components/cluster-baseline";
import { evaluate, evaluateMessage } from "./cel-subset";
import { IMAGE_TABLE } from "./image-table";

const settings = (over: Record<string, unknown> = {}) => validateAdmission("k", over);

const container = (image: string) => ({ name: "c", image });
const podSpec = (images: string[], init: string[] = [], ephemeral: string[] = []) => ({
    containers: images.map(container),
    ...(init.length ? { initContainers: init.map(container) } : {}),
    ...(ephemeral.length ? { ephemeralContainers: ephemeral.map(container) } : {}),
});
const template = (spec: unknown) => ({ metadata: { labels: { app: "x" } }, spec });
const workloads = (spec: ReturnType<typeof podSpec>): Record<string, unknown> => ({
    Pod: { apiVersion: "v1", kind: "Pod", spec },
    ReplicationController: { apiVersion: "v1", kind: "ReplicationController", spec: { template: template(spec) } },
    Deployment: { apiVersion: "apps/v1", kind: "Deployment", spec: { template: template(spec) } },
    StatefulSet: { apiVersion: "apps/v1", kind: "StatefulSet", spec: { template: template(spec) } },
    DaemonSet: { apiVersion: "apps/v1", kind: "DaemonSet", spec: { template: template(spec) } },
    ReplicaSet: { apiVersion: "apps/v1", kind: "ReplicaSet", spec: { template: template(spec) } },
    Job: { apiVersion: "batch/v1", kind: "Job", spec: { template: template(spec) } },
    CronJob: { apiVersion: "batch/v1", kind: "CronJob", spec: { schedule: "* * * * *", jobTemplate: { spec: { template: template(spec) } } } },
});
const service = (type: string | undefined) => ({ apiVersion: "v1", kind: "Service", spec: { ...(type ? { type } : {}), ports: [{ port: 80 }] } });

describe("cluster-baseline admission policy: rendered object", () => {
    it("is an admissionregistration.k8s.io/v1 policy that fails closed and matches every pod-bearing kind", () => {
        const p = renderWorkloadPolicy(settings());
        assert.equal(p.apiVersion, "admissionregistration.k8s.io/v1");
        assert.equal(p.kind, "ValidatingAdmissionPolicy");
        assert.equal(p.metadata.name, WORKLOAD_POLICY_NAME);
        assert.equal(p.spec.failurePolicy, "Fail");
        const matched = p.spec.matchConstraints.resourceRules.flatMap((r) => r.resources.map((res) => `${r.apiGroups[0]}/${r.apiVersions[0]}/${res}`));
        for (const want of ["/v1/pods", "/v1/pods/ephemeralcontainers", "/v1/services", "apps/v1/deployments", "apps/v1/statefulsets", "apps/v1/daemonsets", "apps/v1/replicasets", "batch/v1/jobs", "batch/v1/cronjobs"]) {
            assert.ok(matched.includes(want), want);
        }
        for (const r of p.spec.matchConstraints.resourceRules) assert.deepEqual(r.operations, ["CREATE", "UPDATE"]);
        for (const v of p.spec.validations) {
            assert.ok(v.expression.length > 0 && v.message.length > 0);
            assert.ok(!v.message.includes("\n"), "messages are single-line");
        }
    });

    it("binds the policy with Deny, cluster-wide unless namespaces are exempted", () => {
        const b = renderWorkloadPolicyBinding(settings());
        assert.equal(b.apiVersion, "admissionregistration.k8s.io/v1");
        assert.equal(b.kind, "ValidatingAdmissionPolicyBinding");
        assert.equal(b.metadata.name, WORKLOAD_POLICY_BINDING_NAME);
        assert.equal(b.spec.policyName, WORKLOAD_POLICY_NAME);
        assert.deepEqual(b.spec.validationActions, ["Deny"]);
        assert.equal(b.spec.matchResources, undefined);
        const exempt = renderWorkloadPolicyBinding(settings({ exemptNamespaces: ["legacy"] }));
        assert.deepEqual(exempt.spec.matchResources, {
            namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["legacy"] }] },
        });
    });
});

describe("cluster-baseline admission policy: CEL generation", () => {
    it("quotes strings and lists as CEL literals", () => {
        assert.equal(celString("registry.k8s.io"), "'registry.k8s.io'");
        assert.equal(celString("it's"), "'it\\'s'");
        assert.equal(celString("a\\b"), "'a\\\\b'");
        assert.equal(celStringList(["a", "b"]), "['a', 'b']");
        assert.equal(celStringList([]), "[]");
    });

    it("reaches the pod spec of a Pod, a template-bearing controller and a CronJob", () => {
        const expr = celPodSpec("object");
        assert.ok(expr.includes("object.kind == 'Pod' ? object.spec"));
        assert.ok(expr.includes("object.kind == 'CronJob' ? object.spec.jobTemplate.spec.template.spec"));
        assert.ok(expr.endsWith("object.spec.template.spec)"));
    });

    it("collects images from containers, initContainers and ephemeralContainers, guarding each with has()", () => {
        const expr = celImages("variables.podSpec");
        for (const f of ["containers", "initContainers", "ephemeralContainers"]) {
            assert.ok(expr.includes(`has(variables.podSpec.${f}) ? variables.podSpec.${f}.map(c, c.image) : []`), f);
        }
    });

    it("derives the registry in CEL from the same pattern, split and default as imageRegistry()", () => {
        const expr = celRegistryOf("i");
        const m = /^i\.matches\('(.+)'\) \? i\.split\('(.)'\)\[0\] : '([^']+)'$/.exec(expr);
        assert.ok(m, expr);
        const [, pattern, sep, fallback] = m;
        assert.equal(pattern, EXPLICIT_REGISTRY_PATTERN);
        // The CEL, read back as a function, reproduces the reference table.
        const registryOf = (image: string) => (new RegExp(pattern).test(image) ? image.split(sep)[0] : fallback);
        for (const [image, registry] of IMAGE_TABLE) assert.equal(registryOf(image), registry, image);
    });
});

describe("cluster-baseline admission policy: evaluated on sample objects", () => {
    const policy = renderWorkloadPolicy(settings({ allowedRegistries: ["registry.k8s.io", "ghcr.io"], nodePortNamespaces: ["edge"], loadBalancerNamespaces: ["public"] }));

    it("admits every workload kind whose images all come from allowed registries", () => {
        for (const [kind, obj] of Object.entries(workloads(podSpec(["registry.k8s.io/pause:3.10"], ["ghcr.io/org/init:1"])))) {
            assert.deepEqual(evaluate(policy, obj, "team-a").denied, [], kind);
        }
    });

    it("refuses every workload kind with an image from elsewhere, in any container list", () => {
        const specs = [podSpec(["nginx"]), podSpec(["registry.k8s.io/pause"], ["quay.io/x/init"]), podSpec(["registry.k8s.io/pause"], [], ["docker.io/busybox"])];
        for (const spec of specs) {
            for (const [kind, obj] of Object.entries(workloads(spec))) {
                const { denied } = evaluate(policy, obj, "team-a");
                assert.equal(denied.length, 1, `${kind} ${JSON.stringify(spec)}`);
                assert.match(denied[0], /allowed registry/);
            }
        }
    });

    it("agrees with the reference table for every image, allowed and not", () => {
        for (const [image, registry] of IMAGE_TABLE) {
            const pod = { kind: "Pod", spec: podSpec([image]) };
            // The allow-list only takes lower-case hosts, so an upper-case registry can never be admitted.
            if (registry === registry.toLowerCase()) {
                assert.deepEqual(evaluate(renderWorkloadPolicy(settings({ allowedRegistries: [registry] })), pod, "ns").denied, [], image);
            }
            assert.equal(evaluate(renderWorkloadPolicy(settings({ allowedRegistries: ["example.org"] })), pod, "ns").denied.length, 1, image);
        }
    });

    it("names the refused registries in the message", () => {
        const pod = { kind: "Pod", spec: podSpec(["nginx", "registry.k8s.io/pause", "quay.io/a/b"]) };
        const msg = evaluateMessage(policy, 0, pod, "team-a");
        assert.ok(msg.startsWith("images from registries outside the allow-list: docker.io, quay.io;"), msg);
    });

    it("refuses NodePort and LoadBalancer Services outside their namespaces, and nothing else about Services", () => {
        assert.deepEqual(evaluate(policy, service("ClusterIP"), "team-a").denied, []);
        assert.deepEqual(evaluate(policy, service(undefined), "team-a").denied, []);
        assert.deepEqual(evaluate(policy, service("NodePort"), "edge").denied, []);
        assert.deepEqual(evaluate(policy, service("LoadBalancer"), "public").denied, []);
        const np = evaluate(policy, service("NodePort"), "team-a").denied;
        assert.equal(np.length, 1);
        assert.match(np[0], /NodePort .* edge/);
        const lb = evaluate(policy, service("LoadBalancer"), "edge").denied;
        assert.equal(lb.length, 1);
        assert.match(lb[0], /LoadBalancer .* public/);
    });

    it("refuses both Service types everywhere by default", () => {
        const strict = renderWorkloadPolicy(settings());
        for (const ns of ["default", "team-a", "kube-system"]) {
            assert.equal(evaluate(strict, service("NodePort"), ns).denied.length, 1);
            assert.equal(evaluate(strict, service("LoadBalancer"), ns).denied.length, 1);
        }
        assert.deepEqual(strict.spec.variables.find((v) => v.name === "allowedRegistries")!.expression, "['registry.k8s.io']");
    });
});
