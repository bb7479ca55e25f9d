import { strict as assert } from "node:assert";
import { parse } from "yaml";
import { configFile, pkiPair, toYaml } from "../../../components/common";
import { controlPlaneFileList, STRONG_CIPHER_SUITES } from "../../../components/control-plane";
import { LAYOUT, render } from "./fixtures";

// Field names of KubeletConfiguration v1beta1 this renderer may use (k8s.io/kubelet config/v1beta1 types.go).
const KUBELET_FIELDS = [
    "apiVersion",
    "kind",
    "authentication",
    "authorization",
    "readOnlyPort",
    "serverTLSBootstrap",
    "tlsCertFile",
    "tlsPrivateKeyFile",
    "rotateCertificates",
    "tlsMinVersion",
    "tlsCipherSuites",
    "streamingConnectionIdleTimeout",
    "protectKernelDefaults",
    "makeIPTablesUtilChains",
    "eventRecordQPS",
    "podPidsLimit",
    "seccompDefault",
    "enableProfilingHandler",
    "cgroupDriver",
    "containerRuntimeEndpoint",
    "clusterDomain",
    "clusterDNS",
];

const roundTrip = (x: unknown) => parse(toYaml(x));

describe("control plane: config files", () => {
    describe("KubeletConfiguration", () => {
        const r = render();
        const c = r.files.kubeletConfig as Record<string, any>;

        it("is kubelet.config.k8s.io/v1beta1 and survives YAML unchanged", () => {
            assert.equal(c.apiVersion, "kubelet.config.k8s.io/v1beta1");
            assert.equal(c.kind, "KubeletConfiguration");
            assert.deepEqual(roundTrip(c), c);
            assert.equal(r.kubelet.config, c);
        });

        it("uses only upstream field names", () => {
            assert.deepEqual(Object.keys(c).filter((k) => !KUBELET_FIELDS.includes(k)), []);
            assert.deepEqual(Object.keys(c.authentication).sort(), ["anonymous", "webhook", "x509"]);
            assert.deepEqual(Object.keys(c.authorization).sort(), ["mode", "webhook"]);
        });

        it("locks down the kubelet API", () => {
            assert.equal(c.authentication.anonymous.enabled, false);
            assert.equal(c.authentication.webhook.enabled, true);
            assert.equal(c.authentication.x509.clientCAFile, pkiPair(LAYOUT, "ca").cert);
            assert.equal(c.authorization.mode, "Webhook");
            assert.equal(c.readOnlyPort, 0);
            assert.equal(c.serverTLSBootstrap, true);
            assert.equal(c.tlsCertFile, undefined);
            assert.deepEqual(c.tlsCipherSuites, [...STRONG_CIPHER_SUITES]);
            assert.equal(c.clusterDNS[0], "10.96.0.10");
        });

        it("points at PKI-issued serving files instead of bootstrapping when given", () => {
            const files = { certFile: "/etc/kubernetes/pki/kubelet-serving.crt", keyFile: "/etc/kubernetes/pki/kubelet-serving.key" };
            const k = render({ kubelet: { servingCert: files } }).files.kubeletConfig;
            assert.equal(k.tlsCertFile, files.certFile);
            assert.equal(k.tlsPrivateKeyFile, files.keyFile);
            assert.equal(k.serverTLSBootstrap, undefined);
        });
    });

    describe("AdmissionConfiguration", () => {
        const r = render({ admission: { podSecurity: { exemptions: { runtimeClasses: ["gvisor"] } }, eventRateLimit: { limits: [{ type: "Namespace", qps: 10, burst: 20, cacheSize: 100 }] } } });
        const a = r.files.admission as Record<string, any>;

        it("is apiserver.config.k8s.io/v1 and survives YAML unchanged", () => {
            assert.equal(a.apiVersion, "apiserver.config.k8s.io/v1");
            assert.equal(a.kind, "AdmissionConfiguration");
            assert.deepEqual(roundTrip(a), a);
            assert.deepEqual(
                a.plugins.map((p: { name: string }) => p.name),
                ["PodSecurity", "EventRateLimit"],
            );
        });

        it("configures PodSecurity inline: restricted/latest in every mode, exemptions as given", () => {
            const ps = a.plugins[0].configuration;
            assert.equal(ps.apiVersion, "pod-security.admission.config.k8s.io/v1");
            assert.equal(ps.kind, "PodSecurityConfiguration");
            assert.deepEqual(ps.defaults, {
                enforce: "restricted",
                "enforce-version": "latest",
                audit: "restricted",
                "audit-version": "latest",
                warn: "restricted",
                "warn-version": "latest",
            });
            assert.deepEqual(ps.exemptions, { usernames: [], runtimeClasses: ["gvisor"], namespaces: [] });
        });

        it("points EventRateLimit at its own file, which the API server flag's directory also holds", () => {
            assert.equal(a.plugins[1].path, configFile(LAYOUT, "eventRateLimit"));
            assert.equal(r.filePaths.eventRateLimit, a.plugins[1].path);
            assert.equal(r.filePaths.admission, r.apiServer.flags["admission-control-config-file"]);
        });

        it("renders EventRateLimit as eventratelimit.admission.k8s.io/v1alpha1 Configuration", () => {
            const e = r.files.eventRateLimit as Record<string, any>;
            assert.equal(e.apiVersion, "eventratelimit.admission.k8s.io/v1alpha1");
            assert.equal(e.kind, "Configuration");
            assert.deepEqual(e.limits, [{ type: "Namespace", qps: 10, burst: 20, cacheSize: 100 }]);
            assert.deepEqual(roundTrip(e), e);
        });

        it("limits events per server, namespace and user by default", () => {
            const e = render().files.eventRateLimit as { limits: { type: string; qps: number; burst: number }[] };
            assert.deepEqual(
                e.limits.map((l) => l.type),
                ["Server", "Namespace", "User"],
            );
            assert.ok(e.limits.every((l) => l.qps > 0 && l.burst >= l.qps));
        });
    });

    describe("AuthenticationConfiguration", () => {
        it("is written only when OIDC issuers are configured", () => {
            const r = render();
            assert.equal(r.files.authentication, undefined);
            assert.equal(r.apiServer.flags["authentication-config"], undefined);
            assert.deepEqual(
                controlPlaneFileList(r).map((f) => f.path),
                [configFile(LAYOUT, "admission"), configFile(LAYOUT, "eventRateLimit"), configFile(LAYOUT, "kubeletConfig")],
            );
        });

        it("is apiserver.config.k8s.io/v1 with one jwt authenticator per issuer and prefixed claims", () => {
            const r = render({
                authentication: {
                    jwt: [
                        { url: "https://idp.example.com/realms/k8s", audiences: ["kubernetes"] },
                        { url: "https://login.example.org", audiences: ["a", "b"], claimMappings: { username: { claim: "email", prefix: "corp:" }, groups: { claim: "roles", prefix: "corp:" } } },
                    ],
                },
            });
            const a = r.files.authentication as Record<string, any>;
            assert.equal(a.apiVersion, "apiserver.config.k8s.io/v1");
            assert.equal(a.kind, "AuthenticationConfiguration");
            assert.deepEqual(roundTrip(a), a);
            assert.equal(a.anonymous, undefined);
            assert.deepEqual(a.jwt[0], {
                issuer: { url: "https://idp.example.com/realms/k8s", audiences: ["kubernetes"] },
                claimMappings: { username: { claim: "sub", prefix: "oidc:" }, groups: { claim: "groups", prefix: "oidc:" } },
            });
            assert.equal(a.jwt[1].issuer.audienceMatchPolicy, "MatchAny");
            assert.deepEqual(a.jwt[1].claimMappings.username, { claim: "email", prefix: "corp:" });
            assert.equal(r.apiServer.flags["authentication-config"], configFile(LAYOUT, "authentication"));
            assert.ok(controlPlaneFileList(r).some((f) => f.path === configFile(LAYOUT, "authentication") && parse(f.content).kind === "AuthenticationConfiguration"));
        });
    });
});
