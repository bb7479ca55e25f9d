import { strict as assert } from "node:assert";
import { controlPlanePosture, WEAKENING_EFFECTS } from "../../../components/control-plane";
import { baseOptions, render, withOptions } from "./fixtures";

describe("control plane: posture", () => {
    it("summarises the hardened defaults with no weakenings", () => {
        const p = controlPlanePosture(baseOptions());
        assert.equal(p.tlsMinVersion, "VersionTLS12");
        assert.deepEqual(p.apiServer.authorizationModes, ["Node", "RBAC"]);
        assert.deepEqual(p.apiServer.admissionPlugins, ["NodeRestriction", "PodSecurity", "EventRateLimit", "AlwaysPullImages", "DenyServiceExternalIPs"]);
        assert.equal(p.apiServer.anonymousAuth, false);
        assert.equal(p.apiServer.profiling, false);
        assert.equal(p.apiServer.encryptionAtRest, true);
        assert.equal(p.apiServer.auditLog, true);
        assert.deepEqual(p.controllerManager, { profiling: false, bindAddress: "127.0.0.1", useServiceAccountCredentials: true });
        assert.deepEqual(p.scheduler, { profiling: false, bindAddress: "127.0.0.1" });
        assert.deepEqual(p.etcd, { members: ["etcd-a", "etcd-b", "etcd-c"], clientCertAuth: true, peerClientCertAuth: true, profiling: false });
        assert.deepEqual(p.kubelet, { anonymousAuth: false, authorizationMode: "Webhook", readOnlyPort: 0, servingCertificate: "bootstrap", protectKernelDefaults: true, seccompDefault: true });
        assert.deepEqual(p.oidc, { enabled: false, issuers: [] });
        assert.deepEqual(p.podSecurity, { enforce: "restricted:latest", audit: "restricted:latest", warn: "restricted:latest", exemptions: { usernames: [], runtimeClasses: [], namespaces: [] } });
        assert.deepEqual(p.weakenings, []);
        assert.deepEqual(p.extraArgs, []);
    });

    it("is the same summary renderControlPlane returns", () => {
        assert.deepEqual(controlPlanePosture(baseOptions()), render().posture);
    });

    it("lists every weakening switch that is on, with its effect", () => {
        const p = controlPlanePosture(
            withOptions({
                weakenings: {
                    anonymousAuth: true,
                    profiling: true,
                    skipAlwaysPullImages: true,
                    extendServiceAccountTokens: true,
                    privilegedContainers: true,
                    nonLoopbackBind: true,
                    unprotectedKernelDefaults: true,
                    noSeccompDefault: true,
                    verboseLogs: true,
                },
            }),
        );
        assert.deepEqual(
            p.weakenings.map((w) => w.option).sort(),
            Object.keys(WEAKENING_EFFECTS)
                .map((s) => `controlPlane.weakenings.${s}`)
                .sort(),
        );
        assert.ok(p.weakenings.every((w) => w.effect === WEAKENING_EFFECTS[w.option.split(".").pop() as keyof typeof WEAKENING_EFFECTS]));
        assert.equal(p.apiServer.anonymousAuth, true);
        assert.equal(p.apiServer.profiling, true);
        assert.equal(p.apiServer.privilegedContainers, true);
        assert.equal(p.apiServer.extendServiceAccountTokens, true);
        assert.ok(!p.apiServer.admissionPlugins.includes("AlwaysPullImages"));
        assert.equal(p.etcd.profiling, true);
        assert.equal(p.kubelet.protectKernelDefaults, false);
        assert.equal(p.kubelet.seccompDefault, false);
    });

    it("applies the profiling switch to every component", () => {
        const r = render({ weakenings: { profiling: true } });
        assert.equal(r.apiServer.flags.profiling, "true");
        assert.equal(r.controllerManager.flags.profiling, "true");
        assert.equal(r.scheduler.flags.profiling, "true");
        assert.ok(r.etcd.every((m) => m.flags["enable-pprof"] === "true"));
        assert.equal(r.kubelet.config.enableProfilingHandler, true);
    });

    it("lets the controller manager and scheduler bind elsewhere only with nonLoopbackBind, and says so", () => {
        const o = baseOptions();
        o.network = { ...o.network, controllerManagerBindAddress: "0.0.0.0", schedulerBindAddress: "10.0.0.10" };
        o.weakenings = { nonLoopbackBind: true };
        const r = render(o);
        assert.equal(r.controllerManager.flags["bind-address"], "0.0.0.0");
        assert.equal(r.scheduler.flags["bind-address"], "10.0.0.10");
        assert.deepEqual(
            r.posture.weakenings.map((w) => w.option),
            ["controlPlane.weakenings.nonLoopbackBind"],
        );
    });

    it("reports Pod Security defaults below restricted and every exemption", () => {
        const p = controlPlanePosture(
            withOptions({
                admission: { podSecurity: { defaults: { enforce: "baseline", warnVersion: "v1.33" }, exemptions: { namespaces: ["kube-system"], usernames: ["system:serviceaccount:ci:deployer"] } } },
            }),
        );
        assert.equal(p.podSecurity.enforce, "baseline:latest");
        assert.equal(p.podSecurity.warn, "restricted:v1.33");
        assert.deepEqual(
            p.weakenings.map((w) => w.option),
            ["controlPlane.admission.podSecurity.defaults.enforce", "controlPlane.admission.podSecurity.exemptions.usernames", "controlPlane.admission.podSecurity.exemptions.namespaces"],
        );
        assert.match(p.weakenings[2].effect, /kube-system/);
    });

    it("reports OIDC as on, and an unprefixed claim mapping as a weakening", () => {
        const p = controlPlanePosture(
            withOptions({ authentication: { jwt: [{ url: "https://idp.example.com", audiences: ["kubernetes"], claimMappings: { username: { claim: "email", prefix: "" } } }] } }),
        );
        assert.deepEqual(p.oidc, { enabled: true, issuers: ["https://idp.example.com"] });
        assert.deepEqual(
            p.weakenings.map((w) => w.option),
            ["controlPlane.authentication.jwt[0].claimMappings.username.prefix"],
        );
    });

    it("reports audit retention below the CIS minimums, which come from the audit block", () => {
        const p = controlPlanePosture(withOptions({ audit: { maxAge: 7, allowReducedRetention: true } }));
        assert.equal(p.weakenings.length, 1);
        assert.equal(p.weakenings[0].option, "controlPlane.audit");
        assert.match(p.weakenings[0].effect, /--audit-log-maxage=7/);
        assert.match(p.weakenings[0].effect, /CIS 1\.2\.17/);
    });
});
