import { strict as assert } from "node:assert";
import { FileLayout, stateDirLayout } from "../../../components/common";
import { ControlPlaneOptions, controlPlanePosture, renderControlPlane } from "../../../components/control-plane";
import { assertConfigError, baseOptions, LAYOUT } from "./fixtures";

type Patch = (o: ControlPlaneOptions) => void;

interface BadCase {
    name: string;
    patch: Patch;
    key: string;
    /** Further text the message must contain (the value, what is allowed). */
    says?: string[];
    layout?: FileLayout;
}

const net = (o: ControlPlaneOptions, n: Partial<ControlPlaneOptions["network"]>) => (o.network = { ...o.network, ...n });

const CASES: BadCase[] = [
    {
        name: "a switch-governed flag in extraArgs",
        patch: (o) => (o.apiServer = { extraArgs: { "anonymous-auth": "true" } }),
        key: "controlPlane.apiServer.extraArgs.anonymous-auth",
        says: ["CIS 1.2.1", "controlPlane.weakenings.anonymousAuth"],
    },
    {
        name: "a boolean spelling kube-bench cannot read",
        patch: (o) => (o.etcd = { extraArgs: { "client-cert-auth": "1" } }),
        key: "controlPlane.etcd.extraArgs.client-cert-auth",
        says: ["CIS 2.2"],
    },
    {
        name: "a flag CIS wants unset, without acceptExtraArgs",
        patch: (o) => (o.apiServer = { extraArgs: { "token-auth-file": "/etc/kubernetes/tokens.csv" } }),
        key: "controlPlane.apiServer.extraArgs.token-auth-file",
        says: ["CIS 1.2.2", "controlPlane.weakenings.acceptExtraArgs.apiServer"],
    },
    {
        name: "an etcd override that turns client certificates off",
        patch: (o) => (o.etcd = { extraArgs: { "client-cert-auth": false } }),
        key: "controlPlane.etcd.extraArgs.client-cert-auth",
        says: ["CIS 2.2"],
    },
    {
        name: "a kubelet override that opens the read-only port",
        patch: (o) => (o.kubelet = { extraArgs: { "read-only-port": 10255 } }),
        key: "controlPlane.kubelet.extraArgs.read-only-port",
        says: ["CIS 4.2.4"],
    },
    {
        name: "an acknowledged flag that extraArgs does not set",
        patch: (o) => (o.weakenings = { acceptExtraArgs: { apiServer: ["token-auth-file"] } }),
        key: "controlPlane.weakenings.acceptExtraArgs.apiServer[0]",
    },
    {
        name: "an extraArgs flag that a typed option owns",
        patch: (o) => (o.apiServer = { extraArgs: { "secure-port": "7443" } }),
        key: "controlPlane.apiServer.extraArgs.secure-port",
        says: ["controlPlane.network.apiServerPort"],
    },
    {
        name: "legacy OIDC flags instead of authentication.jwt",
        patch: (o) => (o.apiServer = { extraArgs: { "oidc-issuer-url": "https://idp.example.com" } }),
        key: "controlPlane.apiServer.extraArgs.oidc-issuer-url",
        says: ["controlPlane.authentication.jwt"],
    },
    {
        name: "a flag name written with dashes",
        patch: (o) => (o.scheduler = { extraArgs: { "--v": "2" } }),
        key: "controlPlane.scheduler.extraArgs.--v",
    },
    {
        name: "a flag value with a space-separated second token",
        patch: (o) => (o.apiServer = { extraArgs: { "request-timeout": "300s --profiling=true" } }),
        key: "controlPlane.apiServer.extraArgs.request-timeout",
        says: ["whitespace"],
    },
    {
        name: "an admission plugin kube-apiserver does not know",
        patch: (o) => (o.apiServer = { extraArgs: { "disable-admission-plugins": "PodSecurityPolicy" } }),
        key: "controlPlane.apiServer.extraArgs.disable-admission-plugins",
        says: ['"PodSecurityPolicy"'],
    },
    {
        name: "AlwaysAdmit as an extra plugin",
        patch: (o) => (o.admission = { extraPlugins: ["AlwaysAdmit"] }),
        key: "controlPlane.admission.extraPlugins[0]",
    },
    { name: "a CIDR with a prefix over 32", patch: (o) => net(o, { serviceCidr: "10.96.0.0/33" }), key: "controlPlane.network.serviceCidr", says: ['"10.96.0.0/33"'] },
    { name: "a pod CIDR that is not a CIDR", patch: (o) => net(o, { podCidr: "10.244.0.0" }), key: "controlPlane.network.podCidr" },
    { name: "a fractional watch drain", patch: (o) => net(o, { apiServerWatchDrainSeconds: 2.5 }), key: "controlPlane.network.apiServerWatchDrainSeconds", says: ["0 to 60"] },
    { name: "a watch drain past the request timeout", patch: (o) => net(o, { apiServerWatchDrainSeconds: 61 }), key: "controlPlane.network.apiServerWatchDrainSeconds", says: ["61"] },
    { name: "a Service range wider than 20 host bits", patch: (o) => net(o, { serviceCidr: "10.0.0.0/8" }), key: "controlPlane.network.serviceCidr", says: ["20 host bits"] },
    { name: "a CIDR with host bits set", patch: (o) => net(o, { podCidr: "10.244.1.0/16" }), key: "controlPlane.network.podCidr", says: ["10.244.0.0/16"] },
    { name: "a pod CIDR overlapping the Service CIDR", patch: (o) => net(o, { podCidr: "10.100.0.0/16" }), key: "controlPlane.network.podCidr", says: ["10.96.0.0/12"] },
    // IPv6 alike: fd00::/16 contains fd00:96::/108, and host bits in an IPv6 prefix are the same typo as in IPv4.
    {
        name: "an IPv6 pod CIDR overlapping the IPv6 Service CIDR",
        patch: (o) => net(o, { advertiseAddress: "fd00::10", etcdMembers: [{ name: "v6", ip: "fd00::10" }], serviceCidr: "fd00:96::/108", podCidr: "fd00::/16" }),
        key: "controlPlane.network.podCidr",
        says: ["fd00:96::/108"],
    },
    {
        name: "an IPv6 Service CIDR with host bits set",
        patch: (o) => net(o, { advertiseAddress: "fd00::10", etcdMembers: [{ name: "v6", ip: "fd00::10" }], serviceCidr: "fd00:96::1/108", podCidr: "fd00:244::/56" }),
        key: "controlPlane.network.serviceCidr",
        says: ["fd00:96::/108"],
    },
    {
        name: "an IPv6 pod CIDR with host bits set",
        patch: (o) => net(o, { advertiseAddress: "fd00::10", etcdMembers: [{ name: "v6", ip: "fd00::10" }], serviceCidr: "fd00:96::/108", podCidr: "fd00:244::1:0/56" }),
        key: "controlPlane.network.podCidr",
        says: ["fd00:244::/56"],
    },
    { name: "a CIDR with a zero-padded prefix", patch: (o) => net(o, { podCidr: "10.244.0.0/016" }), key: "controlPlane.network.podCidr" },
    { name: "a port out of range", patch: (o) => net(o, { apiServerPort: 70000 }), key: "controlPlane.network.apiServerPort", says: ["65535"] },
    { name: "a port of 0", patch: (o) => net(o, { etcdPeerPort: 0 }), key: "controlPlane.network.etcdPeerPort" },
    { name: "two listeners on one port", patch: (o) => net(o, { schedulerPort: 6443 }), key: "controlPlane.network.schedulerPort", says: ["controlPlane.network.apiServerPort"] },
    { name: "an unspecified advertise address", patch: (o) => net(o, { advertiseAddress: "0.0.0.0" }), key: "controlPlane.network.advertiseAddress" },
    { name: "a bind address that is not an IP", patch: (o) => net(o, { apiServerBindAddress: "localhost" }), key: "controlPlane.network.apiServerBindAddress" },
    {
        name: "a non-loopback controller-manager bind without nonLoopbackBind",
        patch: (o) => net(o, { controllerManagerBindAddress: "0.0.0.0" }),
        key: "controlPlane.network.controllerManagerBindAddress",
        says: ["CIS 1.3.7", "controlPlane.weakenings.nonLoopbackBind"],
    },
    {
        name: "duplicate etcd member names",
        patch: (o) => net(o, { etcdMembers: [{ name: "etcd-a", ip: "10.0.0.10" }, { name: "etcd-a", ip: "10.0.0.11" }] }),
        key: "controlPlane.network.etcdMembers[1].name",
        says: ['"etcd-a"'],
    },
    { name: "no etcd members", patch: (o) => net(o, { etcdMembers: [] }), key: "controlPlane.network.etcdMembers" },
    {
        name: "two etcd members on one address",
        patch: (o) => net(o, { etcdMembers: [{ name: "a", ip: "10.0.0.10" }, { name: "b", ip: "10.0.0.10" }] }),
        key: "controlPlane.network.etcdMembers[1].ip",
    },
    {
        name: "an etcd member name that would corrupt --initial-cluster",
        patch: (o) => net(o, { etcdMembers: [{ name: "a=b", ip: "10.0.0.10" }] }),
        key: "controlPlane.network.etcdMembers[0].name",
    },
    { name: "an http service-account issuer", patch: (o) => net(o, { serviceAccountIssuer: "http://kubernetes.default.svc" }), key: "controlPlane.network.serviceAccountIssuer", says: ["https://"] },
    {
        name: "an unknown Pod Security level",
        patch: (o) => (o.admission = { podSecurity: { defaults: { enforce: "strict" as never } } }),
        key: "controlPlane.admission.podSecurity.defaults.enforce",
        says: ['"strict"', "privileged, baseline, restricted"],
    },
    {
        name: "a Pod Security version that is neither latest nor v1.minor",
        patch: (o) => (o.admission = { podSecurity: { defaults: { auditVersion: "1.34" } } }),
        key: "controlPlane.admission.podSecurity.defaults.auditVersion",
        says: ['"latest"'],
    },
    {
        name: "a Pod Security version of another major",
        patch: (o) => (o.admission = { podSecurity: { defaults: { enforceVersion: "v2.0" } } }),
        key: "controlPlane.admission.podSecurity.defaults.enforceVersion",
    },
    {
        name: "a namespace exemption that is not a namespace name",
        patch: (o) => (o.admission = { podSecurity: { exemptions: { namespaces: ["Kube_System"] } } }),
        key: "controlPlane.admission.podSecurity.exemptions.namespaces[0]",
    },
    {
        name: "a cache size on the Server event limit",
        patch: (o) => (o.admission = { eventRateLimit: { limits: [{ type: "Server", qps: 10, burst: 20, cacheSize: 5 }] } }),
        key: "controlPlane.admission.eventRateLimit.limits[0].cacheSize",
    },
    {
        name: "an http OIDC issuer",
        patch: (o) => (o.authentication = { jwt: [{ url: "http://idp.example.com", audiences: ["kubernetes"] }] }),
        key: "controlPlane.authentication.jwt[0].url",
        says: ['"http://idp.example.com"', "https://"],
    },
    {
        name: "an OIDC issuer with a query",
        patch: (o) => (o.authentication = { jwt: [{ url: "https://idp.example.com/?tenant=x", audiences: ["kubernetes"] }] }),
        key: "controlPlane.authentication.jwt[0].url",
    },
    {
        name: "an OIDC issuer equal to the service-account issuer",
        patch: (o) => (o.authentication = { jwt: [{ url: "https://kubernetes.default.svc.cluster.local", audiences: ["kubernetes"] }] }),
        key: "controlPlane.authentication.jwt[0].url",
    },
    {
        name: "an OIDC issuer without audiences",
        patch: (o) => (o.authentication = { jwt: [{ url: "https://idp.example.com", audiences: [] }] }),
        key: "controlPlane.authentication.jwt[0].audiences",
    },
    {
        name: "an OIDC claim mapping without a prefix",
        patch: (o) => (o.authentication = { jwt: [{ url: "https://idp.example.com", audiences: ["k"], claimMappings: { groups: { claim: "groups" } as never } }] }),
        key: "controlPlane.authentication.jwt[0].claimMappings.groups.prefix",
    },
    { name: "an unknown TLS version", patch: (o) => (o.tls = { minVersion: "VersionTLS11" as never }), key: "controlPlane.tls.minVersion", says: ["VersionTLS12, VersionTLS13"] },
    { name: "a weak cipher suite", patch: (o) => (o.tls = { cipherSuites: ["TLS_RSA_WITH_AES_128_CBC_SHA"] }), key: "controlPlane.tls.cipherSuites[0]" },
    { name: "a zero streaming idle timeout", patch: (o) => (o.kubelet = { streamingConnectionIdleTimeout: "0s" }), key: "controlPlane.kubelet.streamingConnectionIdleTimeout", says: ["CIS 4.2.5"] },
    { name: "a relative kubelet serving certificate path", patch: (o) => (o.kubelet = { servingCert: { certFile: "kubelet.crt", keyFile: "/k.key" } }), key: "controlPlane.kubelet.servingCert.certFile" },
    { name: "a zero service-account token lifetime", patch: (o) => (o.apiServer = { serviceAccountMaxTokenHours: 0 }), key: "controlPlane.apiServer.serviceAccountMaxTokenHours" },
    { name: "a service-account token lifetime over a year", patch: (o) => (o.apiServer = { serviceAccountMaxTokenHours: 8761 }), key: "controlPlane.apiServer.serviceAccountMaxTokenHours" },
    {
        name: "the token lifetime flag in extraArgs",
        patch: (o) => (o.apiServer = { extraArgs: { "service-account-max-token-expiration": "48h" } }),
        key: "controlPlane.apiServer.extraArgs.service-account-max-token-expiration",
        says: ["apiServer.serviceAccountMaxTokenHours"],
    },
    { name: "a node CIDR mask wider than the pod range", patch: (o) => (o.controllerManager = { nodeCidrMaskSize: 8 }), key: "controlPlane.controllerManager.nodeCidrMaskSize" },
    { name: "a misspelt top-level section", patch: (o) => ((o as unknown as Record<string, unknown>).apiserver = {}), key: "controlPlane.apiserver" },
    { name: "an unknown weakening switch", patch: (o) => (o.weakenings = { insecure: true } as never), key: "controlPlane.weakenings.insecure" },
    { name: "a weakening switch that is not a boolean", patch: (o) => (o.weakenings = { profiling: "yes" as never }), key: "controlPlane.weakenings.profiling" },
    { name: "bad audit options, rooted under this block's key", patch: (o) => (o.audit = { maxAge: 7 }), key: "controlPlane.audit.maxAge" },
    {
        name: "a layout whose etcd PKI directory is the cluster PKI directory",
        patch: () => undefined,
        layout: { ...LAYOUT, etcdPkiDir: LAYOUT.pkiDir },
        key: "controlPlane.layout.etcdPkiDir",
    },
];

describe("control plane: bad input", () => {
    for (const c of CASES) {
        it(`rejects ${c.name} at ${c.key}`, () => {
            const o = baseOptions();
            c.patch(o);
            assertConfigError(() => renderControlPlane(o, c.layout ?? LAYOUT), c.key, ...(c.says ?? []));
        });
    }

    it("roots every key at the caller's config key", () => {
        const o = baseOptions();
        o.network = { ...o.network, podCidr: "10.96.0.0/16" };
        assertConfigError(() => renderControlPlane(o, stateDirLayout("/srv/hc"), "hardened-cluster:controlPlane"), "hardened-cluster:controlPlane.network.podCidr");
    });

    it("validates before rendering anything: the posture fails the same way", () => {
        const o = baseOptions();
        o.tls = { minVersion: "VersionTLS10" as never };
        assertConfigError(() => controlPlanePosture(o), "controlPlane.tls.minVersion");
    });

    it("accepts each rejected extraArgs weakening once it is named", () => {
        const o = baseOptions();
        o.apiServer = { extraArgs: { "token-auth-file": "/etc/kubernetes/tokens.csv" } };
        o.weakenings = { anonymousAuth: true, acceptExtraArgs: { apiServer: ["token-auth-file"] } };
        const r = renderControlPlane(o, LAYOUT);
        assert.equal(r.apiServer.flags["token-auth-file"], "/etc/kubernetes/tokens.csv");
        assert.deepEqual(
            r.posture.weakenings.map((w) => w.option),
            ["controlPlane.weakenings.anonymousAuth", "controlPlane.apiServer.extraArgs.token-auth-file"],
        );
    });
});
