import { strict as assert } from "node:assert";
import { configFile, pkiPair, serviceAccountKeys } from "../../../components/common";
import { renderControlPlane, STRONG_CIPHER_SUITES, toArgs } from "../../../components/control-plane";
import { baseOptions, LAYOUT, render } from "./fixtures";

const COMPONENT_ARGS = (r: ReturnType<typeof render>) => ({
    apiServer: r.apiServer,
    controllerManager: r.controllerManager,
    scheduler: r.scheduler,
    kubelet: r.kubelet,
    ...Object.fromEntries(r.etcd.map((m) => [`etcd ${m.name}`, m])),
});

describe("control plane: flags", () => {
    describe("argv form", () => {
        for (const [name, c] of Object.entries(COMPONENT_ARGS(render()))) {
            it(`${name}: one sorted --name=value per flag, values without whitespace`, () => {
                assert.equal(c.args.length, Object.keys(c.flags).length);
                const names = c.args.map((a) => a.slice(2, a.indexOf("=")));
                assert.deepEqual(names, [...names].sort());
                for (const a of c.args) {
                    assert.match(a, /^--[a-z0-9][a-z0-9.-]*=\S*$/, a);
                    const name = a.slice(2, a.indexOf("="));
                    assert.equal(a, `--${name}=${c.flags[name]}`);
                }
            });
        }

        it("toArgs sorts by name and never separates name and value with a space", () => {
            assert.deepEqual(toArgs({ v: "2", "a-b": "x,y", profiling: "false" }), ["--a-b=x,y", "--profiling=false", "--v=2"]);
        });
    });

    describe("defaults", () => {
        const r = render();

        it("kube-apiserver: network, PKI, etcd and sibling-block files", () => {
            const f = r.apiServer.flags;
            assert.equal(f["advertise-address"], "10.0.0.10");
            assert.equal(f["secure-port"], "6443");
            assert.equal(f["service-cluster-ip-range"], "10.96.0.0/12");
            assert.equal(f["etcd-servers"], "https://10.0.0.10:2379,https://10.0.0.11:2379,https://10.0.0.12:2379");
            assert.equal(f["tls-cert-file"], pkiPair(LAYOUT, "apiserver").cert);
            assert.equal(f["etcd-certfile"], pkiPair(LAYOUT, "apiserver-etcd-client").cert);
            assert.equal(f["service-account-key-file"], serviceAccountKeys(LAYOUT).publicKey);
            assert.equal(f["service-account-signing-key-file"], serviceAccountKeys(LAYOUT).privateKey);
            assert.equal(f["service-account-issuer"], "https://kubernetes.default.svc.cluster.local");
            // Without it a TokenRequest may ask for any lifetime, and no retired signing key could ever be dropped safely.
            assert.equal(f["service-account-max-token-expiration"], "24h");
            assert.equal(f["requestheader-client-ca-file"], pkiPair(LAYOUT, "front-proxy-ca").cert);
            assert.equal(f["admission-control-config-file"], configFile(LAYOUT, "admission"));
            assert.equal(f["audit-policy-file"], configFile(LAYOUT, "auditPolicy"));
            assert.equal(f["audit-log-path"], `${LAYOUT.auditLogDir}/audit.log`);
            assert.equal(f["encryption-provider-config"], configFile(LAYOUT, "encryption"));
            assert.equal(f["enable-admission-plugins"], "NodeRestriction,PodSecurity,EventRateLimit,AlwaysPullImages,DenyServiceExternalIPs");
            assert.equal(f["allow-privileged"], "false");
            assert.equal(f["tls-min-version"], "VersionTLS12");
            assert.equal(f["tls-cipher-suites"], STRONG_CIPHER_SUITES.join(","));
            assert.equal(f["bind-address"], "0.0.0.0");
            assert.equal(f["authentication-config"], undefined);
            assert.equal(f["disable-admission-plugins"], undefined);
            // Watches are closed within a window on shutdown (upstream's 0 keeps them open ~60 s); no balancer, no delay.
            assert.equal(f["shutdown-watch-termination-grace-period"], "3s");
            assert.equal(f["shutdown-delay-duration"], undefined);
        });

        it("kube-controller-manager: its kubeconfig three times, signing CA, controllers, loopback port 10257", () => {
            const f = r.controllerManager.flags;
            const kc = configFile(LAYOUT, "controllerManager");
            assert.deepEqual([f.kubeconfig, f["authentication-kubeconfig"], f["authorization-kubeconfig"]], [kc, kc, kc]);
            assert.equal(f["bind-address"], "127.0.0.1");
            assert.equal(f["secure-port"], "10257");
            // The signer alone: ca.crt holds every trusted CA during a rotation, and the kcm's signer takes one certificate.
            assert.equal(f["cluster-signing-cert-file"], pkiPair(LAYOUT, "cluster-signing-ca").cert);
            assert.equal(f["root-ca-file"], pkiPair(LAYOUT, "ca").cert);
            assert.equal(f["cluster-signing-key-file"], pkiPair(LAYOUT, "ca").key);
            assert.equal(f["requestheader-client-ca-file"], pkiPair(LAYOUT, "front-proxy-ca").cert);
            assert.equal(f.controllers, "*,bootstrapsigner,tokencleaner,-serviceaccount-token");
            assert.equal(f["leader-elect"], "true");
            assert.equal(f["cluster-cidr"], "10.244.0.0/16");
            assert.equal(f["terminated-pod-gc-threshold"], "12500");
            assert.equal(f["feature-gates"], undefined);
        });

        it("kube-scheduler: its kubeconfig three times, loopback port 10259, no config file", () => {
            const f = r.scheduler.flags;
            const kc = configFile(LAYOUT, "scheduler");
            assert.deepEqual([f.kubeconfig, f["authentication-kubeconfig"], f["authorization-kubeconfig"]], [kc, kc, kc]);
            assert.equal(f["bind-address"], "127.0.0.1");
            assert.equal(f["secure-port"], "10259");
            assert.equal(f.config, undefined);
        });

        it("etcd: one flag set per member, all members in --initial-cluster, mutual TLS on both ports", () => {
            assert.deepEqual(
                r.etcd.map((m) => m.name),
                ["etcd-a", "etcd-b", "etcd-c"],
            );
            const b = r.etcd[1].flags;
            assert.equal(b.name, "etcd-b");
            assert.equal(b["listen-client-urls"], "https://127.0.0.1:2379,https://10.0.0.11:2379");
            assert.equal(b["advertise-client-urls"], "https://10.0.0.11:2379");
            assert.equal(b["listen-peer-urls"], "https://10.0.0.11:2380");
            assert.equal(b["initial-cluster"], "etcd-a=https://10.0.0.10:2380,etcd-b=https://10.0.0.11:2380,etcd-c=https://10.0.0.12:2380");
            assert.equal(b["initial-cluster-state"], "new");
            assert.equal(b["data-dir"], LAYOUT.etcdDataDir);
            assert.equal(b["cert-file"], pkiPair(LAYOUT, "server", true).cert);
            assert.equal(b["peer-cert-file"], pkiPair(LAYOUT, "peer", true).cert);
            assert.equal(b["tls-min-version"], "TLS1.2");
            assert.equal(b["enable-pprof"], "false");
        });

        it("kubelet: only the config file and kubeconfig on the command line", () => {
            assert.deepEqual(r.kubelet.args, [`--config=${configFile(LAYOUT, "kubeletConfig")}`, `--kubeconfig=${configFile(LAYOUT, "kubelet")}`]);
        });
    });

    describe("network overrides", () => {
        it("moves every listener to the chosen ports (e2e runs beside other clusters)", () => {
            const o = baseOptions();
            o.network = { ...o.network, apiServerPort: 16443, controllerManagerPort: 20257, schedulerPort: 20259, etcdClientPort: 22379, etcdPeerPort: 22380 };
            const r = renderControlPlane(o, LAYOUT);
            assert.equal(r.apiServer.flags["secure-port"], "16443");
            assert.equal(r.controllerManager.flags["secure-port"], "20257");
            assert.equal(r.scheduler.flags["secure-port"], "20259");
            assert.ok(r.apiServer.flags["etcd-servers"].split(",").every((u) => u.endsWith(":22379")));
            assert.equal(r.etcd[0].flags["listen-peer-urls"], "https://10.0.0.10:22380");
        });

        it("does not add a 127.0.0.1 listener for members that already live on loopback addresses", () => {
            const o = baseOptions();
            o.network = { ...o.network, advertiseAddress: "127.0.0.1", etcdMembers: [1, 2, 3].map((i) => ({ name: `m${i}`, ip: `127.0.0.${i}`, dataDir: `/tmp/etcd-${i}` })) };
            const r = renderControlPlane(o, LAYOUT);
            assert.deepEqual(
                r.etcd.map((m) => m.flags["listen-client-urls"]),
                ["https://127.0.0.1:2379", "https://127.0.0.2:2379", "https://127.0.0.3:2379"],
            );
            assert.deepEqual(
                r.etcd.map((m) => m.flags["data-dir"]),
                ["/tmp/etcd-1", "/tmp/etcd-2", "/tmp/etcd-3"],
            );
        });

        it("brackets IPv6 addresses in URLs and binds the API server to the IPv6 wildcard", () => {
            const r = render({
                network: { advertiseAddress: "fd00::10", serviceCidr: "fd00:96::/108", podCidr: "fd00:244::/56", etcdMembers: [{ name: "v6", ip: "fd00::10" }] },
                kubelet: { clusterDns: ["fd00:96::a"] },
            });
            assert.equal(r.apiServer.flags["etcd-servers"], "https://[fd00::10]:2379");
            assert.equal(r.apiServer.flags["bind-address"], "::");
            assert.equal(r.etcd[0].flags["initial-cluster"], "v6=https://[fd00::10]:2380");
            assert.equal(r.controllerManager.flags["node-cidr-mask-size"], "64");
        });
    });

    describe("TLS 1.3 only", () => {
        const r = render({ tls: { minVersion: "VersionTLS13" } });
        it("sets VersionTLS13 on the Kubernetes binaries and the kubelet", () => {
            for (const c of [r.apiServer, r.controllerManager, r.scheduler]) assert.equal(c.flags["tls-min-version"], "VersionTLS13");
            assert.equal(r.kubelet.config.tlsMinVersion, "VersionTLS13");
        });
        it("leaves etcd's cipher list out, which etcd refuses next to TLS1.3", () => {
            assert.equal(r.etcd[0].flags["tls-min-version"], "TLS1.3");
            assert.equal(r.etcd[0].flags["cipher-suites"], undefined);
        });
    });

    describe("extraArgs", () => {
        it("adds free flags, keeping every default, and lists each one in the posture", () => {
            const base = render();
            const r = render({ apiServer: { extraArgs: { v: 2, "request-timeout": "300s", "event-ttl": "2h0m0s" } } });
            assert.equal(r.apiServer.flags.v, "2");
            assert.equal(r.apiServer.flags["request-timeout"], "300s");
            for (const [k, v] of Object.entries(base.apiServer.flags)) assert.equal(r.apiServer.flags[k], v, k);
            assert.ok(r.apiServer.args.includes("--event-ttl=2h0m0s"));
            assert.deepEqual(r.posture.weakenings, []);
            assert.deepEqual(r.posture.extraArgs, [
                { option: "controlPlane.apiServer.extraArgs.event-ttl", value: "2h0m0s" },
                { option: "controlPlane.apiServer.extraArgs.request-timeout", value: "300s" },
                { option: "controlPlane.apiServer.extraArgs.v", value: "2" },
            ]);
        });

        it("passes each component's extraArgs to that component only", () => {
            const r = render({ scheduler: { extraArgs: { v: "4" } }, etcd: { extraArgs: { "snapshot-count": "10000" } }, kubelet: { extraArgs: { "node-ip": "10.0.0.20" } } });
            assert.equal(r.scheduler.flags.v, "4");
            assert.equal(r.controllerManager.flags.v, undefined);
            assert.ok(r.etcd.every((m) => m.flags["snapshot-count"] === "10000"));
            assert.ok(r.kubelet.args.includes("--node-ip=10.0.0.20"));
        });

        it("takes a flag outside the allow-list once it is named, and reports it even when no check fails", () => {
            const r = render({
                apiServer: { extraArgs: { "authorization-webhook-config-file": "/etc/kubernetes/authz-webhook.conf" } },
                weakenings: { acceptExtraArgs: { apiServer: ["authorization-webhook-config-file"] } },
            });
            assert.equal(r.apiServer.flags["authorization-webhook-config-file"], "/etc/kubernetes/authz-webhook.conf");
            assert.deepEqual(r.posture.weakenings.map((w) => w.option), ["controlPlane.apiServer.extraArgs.authorization-webhook-config-file"]);
            assert.match(r.posture.weakenings[0].effect, /allow-list/);
        });

        it("reports an accepted override that fails a check, naming the flag and the check", () => {
            const r = render({
                apiServer: { extraArgs: { "disable-admission-plugins": "DenyServiceExternalIPs" } },
                weakenings: { acceptExtraArgs: { apiServer: ["disable-admission-plugins"] } },
            });
            assert.equal(r.apiServer.flags["disable-admission-plugins"], "DenyServiceExternalIPs");
            assert.equal(r.posture.weakenings.length, 1);
            const w = r.posture.weakenings[0];
            assert.equal(w.option, "controlPlane.apiServer.extraArgs.disable-admission-plugins");
            assert.match(w.effect, /DenyServiceExternalIPs/);
            assert.deepEqual(r.posture.apiServer.disabledAdmissionPlugins, ["DenyServiceExternalIPs"]);
        });

        it("reports a kubelet override that sets a flag CIS wants unset", () => {
            const r = render({ kubelet: { extraArgs: { "hostname-override": "node-a" } }, weakenings: { acceptExtraArgs: { kubelet: ["hostname-override"] } } });
            assert.ok(r.kubelet.args.includes("--hostname-override=node-a"));
            assert.deepEqual(
                r.posture.weakenings.map((w) => w.option),
                ["controlPlane.kubelet.extraArgs.hostname-override"],
            );
            assert.match(r.posture.weakenings[0].effect, /4\.2\.7/);
        });

        it("sets a switch-governed flag only through its switch, reported once under the switch", () => {
            const r = render({ weakenings: { anonymousAuth: true } });
            assert.equal(r.apiServer.flags["anonymous-auth"], "true");
            assert.deepEqual(
                r.posture.weakenings.map((w) => w.option),
                ["controlPlane.weakenings.anonymousAuth"],
            );
            assert.equal(r.posture.apiServer.anonymousAuth, true);
        });

        it("roots weakening option names at the caller's config key", () => {
            const r = render({ weakenings: { profiling: true } }, "hardened-cluster:controlPlane");
            assert.deepEqual(
                r.posture.weakenings.map((w) => w.option),
                ["hardened-cluster:controlPlane.weakenings.profiling"],
            );
        });
    });
});
