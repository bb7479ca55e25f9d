// pod-restricted-profile against the Pod Security Standards' restricted profile (v1.34): one compliant pod,
// and one violation per control the standard lists, in a Pod and in each kind of pod template.
import { strict as assert } from "node:assert";
import { checkResource } from "./policy-harness";

const container = (sc: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
    name: "app", image: "registry.example/app:1",
    securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" }, ...sc },
    ...extra,
});
const podSpec = (over: Record<string, unknown> = {}, c = container()) => ({ containers: [c], ...over });

describe("policy pack: pod-restricted-profile", () => {
    it("accepts a pod that meets the restricted profile, in every workload kind", async () => {
        const kinds: [string, (s: object) => object][] = [
            ["kubernetes:core/v1:Pod", (s) => ({ spec: s })],
            ["kubernetes:apps/v1:Deployment", (s) => ({ spec: { template: { spec: s } } })],
            ["kubernetes:apps/v1:DaemonSet", (s) => ({ spec: { template: { spec: s } } })],
            ["kubernetes:batch/v1:CronJob", (s) => ({ spec: { jobTemplate: { spec: { template: { spec: s } } } } })],
        ];
        for (const [type, wrap] of kinds) assert.deepEqual((await checkResource("pod-restricted-profile", type, wrap(podSpec()))).violations, [], type);
        // runAsNonRoot and seccomp may sit on the pod instead of each container.
        const podLevel = podSpec({ securityContext: { runAsNonRoot: true, seccompProfile: { type: "Localhost", localhostProfile: "p.json" } } },
            { name: "app", securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } } } as any);
        assert.deepEqual((await checkResource("pod-restricted-profile", "kubernetes:core/v1:Pod", { spec: podLevel })).violations, []);
    });

    const refused: [string, object][] = [
        ["hostNetwork", podSpec({ hostNetwork: true })],
        ["hostPID", podSpec({ hostPID: true })],
        ["hostPath", podSpec({ volumes: [{ name: "h", hostPath: { path: "/" } }] })],
        ["privileged", podSpec({}, container({ privileged: true }))],
        ["allowPrivilegeEscalation", podSpec({}, container({ allowPrivilegeEscalation: true }))],
        ["non-root", podSpec({}, container({ runAsNonRoot: false }))],
        ["runAsUser: 0", podSpec({}, container({ runAsUser: 0 }))],
        ["seccomp", podSpec({}, container({ seccompProfile: { type: "Unconfined" } }))],
        ["drop ALL", podSpec({}, container({ capabilities: { drop: ["NET_RAW"] } }))],
        ["adds capability SYS_ADMIN", podSpec({}, container({ capabilities: { drop: ["ALL"], add: ["SYS_ADMIN"] } }))],
        ["hostPort", podSpec({}, container({}, { ports: [{ containerPort: 80, hostPort: 80 }] }))],
        ["unsafe sysctl", podSpec({ securityContext: { sysctls: [{ name: "kernel.msgmax", value: "1" }] } })],
    ];
    for (const [what, spec] of refused) {
        it(`refuses ${what}`, async () => {
            const o = await checkResource("pod-restricted-profile", "kubernetes:apps/v1:Deployment", { metadata: { namespace: "a" }, spec: { template: { spec } } });
            assert.equal(o.violations.length, 1);
            assert.match(o.violations[0], new RegExp(what.split(" ")[0]));
        });
    }

    it("honours a namespace listed as an exception", async () => {
        const o = await checkResource("pod-restricted-profile", "kubernetes:core/v1:Pod", { metadata: { namespace: "legacy" }, spec: podSpec({ hostNetwork: true }) }, { exceptions: ["legacy"] });
        assert.deepEqual(o.violations, []);
        assert.equal(o.honoured.length, 1);
    });
});
