// extraArgs is an allow-list: each attack from the security review is tried the way a stack file would
// write it, and must be refused (naming the key) or accepted only as a weakening the posture names.
import { strict as assert } from "node:assert";
import { ConfigError } from "../../../components/common";
import { COMPONENTS, ControlPlaneOptions, FREE_FLAGS, GUARDS, MANAGED_FLAGS } from "../../../components/control-plane";
import { renderControlPlane } from "../../../components/control-plane";
import { assertConfigError, LAYOUT, render, withOptions } from "./fixtures";

type Extra = Record<string, string | number | boolean>;
const ACK = "controlPlane.weakenings.acceptExtraArgs";

/** Each row: a component, a flag and value that loosen the control plane, and the check the posture must cite (if any). */
const LOOSENING: [keyof ControlPlaneOptions & string, string, string, RegExp?][] = [
    ["apiServer", "disable-admission-plugins", "ValidatingAdmissionPolicy"],
    ["apiServer", "disable-admission-plugins", "ResourceQuota"],
    ["apiServer", "disable-admission-plugins", "CertificateSubjectRestriction"],
    ["apiServer", "authorization-mode", "Node,RBAC,ABAC"],
    ["apiServer", "authorization-policy-file", "/etc/kubernetes/abac.jsonl"],
    ["apiServer", "authorization-webhook-config-file", "/etc/kubernetes/authz.conf"],
    ["apiServer", "authentication-token-webhook-config-file", "/etc/kubernetes/authn.conf"],
    ["apiServer", "feature-gates", "AllAlpha=true"],
    ["controllerManager", "feature-gates", "RotateKubeletServerCertificate=false", /CIS 1\.3\.6/],
    ["controllerManager", "feature-gates", "RotateKubeletServerCertificate=0", /CIS 1\.3\.6/],
    ["controllerManager", "controllers", "*,-csrsigning"],
    ["controllerManager", "cluster-signing-duration", "87600h"],
    ["etcd", "client-cert-auth", "false", /CIS 2\.2/],
    ["etcd", "unsafe-no-fsync", "true"],
    ["kubelet", "anonymous-auth", "true", /CIS 4\.2\.1/],
    ["kubelet", "feature-gates", "RotateKubeletServerCertificate=F", /CIS 4\.2\.11/],
    ["scheduler", "config", "/etc/kubernetes/scheduler-config.yaml"],
];

function withExtra(component: string, extra: Extra, acks?: string[]): ControlPlaneOptions {
    const o = withOptions({ [component]: { extraArgs: extra } } as Partial<ControlPlaneOptions>);
    if (acks) o.weakenings = { acceptExtraArgs: { [component]: acks } };
    return o;
}

describe("control plane: extraArgs is an allow-list", () => {
    describe("every loosening flag of the review is refused unless named, then reported", () => {
        assert.equal(LOOSENING.length, 17);
        for (const [component, flag, value, cis] of LOOSENING) {
            it(`${component} --${flag}=${value}`, () => {
                const k = `controlPlane.${component}.extraArgs.${flag}`;
                assertConfigError(() => renderControlPlane(withExtra(component, { [flag]: value }), LAYOUT), k, `${ACK}.${component}`);
                const r = renderControlPlane(withExtra(component, { [flag]: value }, [flag]), LAYOUT);
                const w = r.posture.weakenings.filter((x) => x.option === k);
                assert.equal(w.length, 1, JSON.stringify(r.posture.weakenings));
                assert.ok(w[0].effect.startsWith(`--${flag}=${value}: `), w[0].effect);
                if (cis) assert.match(w[0].effect, cis);
                assert.ok(r.posture.extraArgs.some((e) => e.option === k && e.value === value));
            });
        }
    });

    describe("files and keys the PKI owns cannot be swapped, not even when named", () => {
        const swaps: [string, string][] = [
            ["apiServer", "client-ca-file"],
            ["apiServer", "service-account-key-file"],
            ["apiServer", "service-account-signing-key-file"],
            ["apiServer", "requestheader-client-ca-file"],
            ["controllerManager", "service-account-private-key-file"],
            ["controllerManager", "cluster-signing-key-file"],
            ["etcd", "trusted-ca-file"],
            ["kubelet", "client-ca-file"],
        ];
        for (const [component, flag] of swaps) {
            it(`${component} --${flag}`, () => {
                const k = `controlPlane.${component}.extraArgs.${flag}`;
                assertConfigError(() => renderControlPlane(withExtra(component, { [flag]: "/tmp/attacker.pem" }, [flag]), LAYOUT), k, "PKI");
            });
        }
    });

    describe("flags a typed switch governs point at the switch", () => {
        const cases: [string, string, string][] = [
            ["apiServer", "anonymous-auth", "anonymousAuth"],
            ["apiServer", "allow-privileged", "privilegedContainers"],
            ["scheduler", "profiling", "profiling"],
            ["etcd", "enable-pprof", "profiling"],
            ["kubelet", "seccomp-default", "noSeccompDefault"],
        ];
        for (const [component, flag, sw] of cases) {
            it(`${component} --${flag} -> weakenings.${sw}`, () => {
                assertConfigError(() => renderControlPlane(withExtra(component, { [flag]: "true" }), LAYOUT), `controlPlane.${component}.extraArgs.${flag}`, `controlPlane.weakenings.${sw}`);
            });
        }
    });

    it("refuses every guarded flag without naming it, even with a value that passes the check", () => {
        let tried = 0;
        for (const c of COMPONENTS) {
            for (const flag of new Set(GUARDS[c].map((g) => g.flag))) {
                // "true" passes some guards ("client-cert-auth", "service-account-lookup") and fails others.
                assert.throws(() => renderControlPlane(withExtra(c, { [flag]: "true" }), LAYOUT), (e: unknown) => e instanceof ConfigError && e.key === `controlPlane.${c}.extraArgs.${flag}`);
                tried++;
            }
        }
        assert.ok(tried >= 60, `only ${tried} guarded flags`);
    });

    it("keeps every flag the blueprint sets by default off the free list", () => {
        const r = render();
        const defaults: [string, Record<string, string>][] = [
            ["apiServer", r.apiServer.flags], ["controllerManager", r.controllerManager.flags], ["scheduler", r.scheduler.flags],
            ["etcd", r.etcd[0].flags], ["kubelet", r.kubelet.flags],
        ];
        let n = 0;
        for (const [c, flags] of defaults) {
            for (const flag of Object.keys(flags)) {
                assert.ok(!FREE_FLAGS[c as keyof typeof FREE_FLAGS].includes(flag), `${c} --${flag} is a hardened default but free`);
                n++;
            }
        }
        assert.ok(n > 80, `only ${n} default flags`);
        for (const c of COMPONENTS) for (const f of FREE_FLAGS[c]) assert.equal(MANAGED_FLAGS[c][f], undefined, `${c} ${f}`);
    });

    it("reads feature-gate booleans as Go's strconv.ParseBool does", () => {
        // strconv.ParseBool: 1, t, T, TRUE, true, True are true; 0, f, F, FALSE, false, False are false.
        const falses = ["0", "f", "F", "FALSE", "false", "False"];
        const trues = ["1", "t", "T", "TRUE", "true", "True"];
        for (const v of [...falses, ...trues]) {
            const r = renderControlPlane(withExtra("controllerManager", { "feature-gates": `RotateKubeletServerCertificate=${v}` }, ["feature-gates"]), LAYOUT);
            const effect = r.posture.weakenings.find((w) => w.option.endsWith("controllerManager.extraArgs.feature-gates"))!.effect;
            assert.equal(/CIS 1\.3\.6/.test(effect), falses.includes(v), `${v}: ${effect}`);
        }
        // A spelling Go rejects fails the check too: the binary would not start, and it is not "on".
        const r = renderControlPlane(withExtra("controllerManager", { "feature-gates": "RotateKubeletServerCertificate=no" }, ["feature-gates"]), LAYOUT);
        assert.ok(r.posture.weakenings.some((w) => /CIS 1\.3\.6/.test(w.effect)));
    });

    it("summarises a named boolean override as the binary reads it", () => {
        // "0" is false to strconv.ParseBool: token lookup is off, whatever the spelling.
        const r = renderControlPlane(withExtra("apiServer", { "service-account-lookup": "0" }, ["service-account-lookup"]), LAYOUT);
        assert.equal(r.posture.apiServer.serviceAccountLookup, false);
        assert.match(r.posture.weakenings[0].effect, /CIS 1\.2\.21/);
        const cm = renderControlPlane(withExtra("controllerManager", { "use-service-account-credentials": "T" }, ["use-service-account-credentials"]), LAYOUT);
        assert.equal(cm.posture.controllerManager.useServiceAccountCredentials, true);
    });

    describe("log verbosity above 4 is a named weakening", () => {
        for (const c of ["apiServer", "controllerManager", "scheduler", "kubelet"]) {
            it(`${c} --v=5 needs weakenings.verboseLogs; --v=4 does not`, () => {
                assertConfigError(() => renderControlPlane(withExtra(c, { v: 5 }), LAYOUT), `controlPlane.${c}.extraArgs.v`, "controlPlane.weakenings.verboseLogs");
                assert.deepEqual(renderControlPlane(withExtra(c, { v: 4 }), LAYOUT).posture.weakenings, []);
                const o = withExtra(c, { v: "10" });
                o.weakenings = { verboseLogs: true };
                assert.deepEqual(renderControlPlane(o, LAYOUT).posture.weakenings.map((w) => w.option), ["controlPlane.weakenings.verboseLogs"]);
            });
        }
        it("etcd --log-level=debug needs it too", () => {
            assertConfigError(() => renderControlPlane(withExtra("etcd", { "log-level": "debug" }), LAYOUT), "controlPlane.etcd.extraArgs.log-level", "verboseLogs");
            assert.equal(renderControlPlane(withExtra("etcd", { "log-level": "warn" }), LAYOUT).etcd[0].flags["log-level"], "warn");
        });
        it("refuses a verbosity that is not a number", () => {
            assertConfigError(() => renderControlPlane(withExtra("apiServer", { v: "9x" }), LAYOUT), "controlPlane.apiServer.extraArgs.v");
        });
    });

    describe("etcd never gets a plain-text listener", () => {
        const bad = ["http://127.0.0.1:2382", "HTTP://127.0.0.1:2382", "https://127.0.0.1:2382,http://10.0.0.10:2382", "unix:///run/etcd.sock"];
        for (const flag of ["listen-client-http-urls", "listen-metrics-urls"]) {
            for (const url of bad) {
                it(`refuses ${flag}=${url}, even when named`, () => {
                    assertConfigError(() => renderControlPlane(withExtra("etcd", { [flag]: url }, [flag]), LAYOUT), `controlPlane.etcd.extraArgs.${flag}`, "https://");
                });
            }
            it(`accepts ${flag} over https, listed in the posture (and refuses http:// in any etcd flag)`, () => {
                assertConfigError(() => renderControlPlane(withExtra("etcd", { discovery: "http://discovery.example.com/abc" }, ["discovery"]), LAYOUT), "controlPlane.etcd.extraArgs.discovery", "https://");
                const r = renderControlPlane(withExtra("etcd", { [flag]: "https://127.0.0.1:2382" }), LAYOUT);
                assert.equal(r.etcd[0].flags[flag], "https://127.0.0.1:2382");
                assert.deepEqual(r.posture.extraArgs, [{ option: `controlPlane.etcd.extraArgs.${flag}`, value: "https://127.0.0.1:2382" }]);
            });
        }
    });

    it("renders every etcd URL of every member as https://, IPv4 and IPv6 alike", () => {
        let urls = 0;
        for (const r of [render(), render({ network: { advertiseAddress: "fd00::10", serviceCidr: "fd00:96::/108", podCidr: "fd00:244::/56", etcdMembers: [{ name: "v6", ip: "fd00::10" }] }, kubelet: { clusterDns: ["fd00:96::a"] } })]) {
            for (const m of r.etcd) {
                for (const [flag, value] of Object.entries(m.flags)) {
                    if (!/urls?$/.test(flag) && flag !== "initial-cluster") continue;
                    for (const item of value.split(",")) {
                        assert.match(item.replace(/^[a-z0-9-]+=/, ""), /^https:\/\//, `${m.name} --${flag}`);
                        urls++;
                    }
                }
            }
            assert.ok(r.apiServer.flags["etcd-servers"].split(",").every((u) => u.startsWith("https://")));
        }
        assert.ok(urls >= 20, `only ${urls} URLs`);
    });

    it("does not echo the value of a flag outside the allow-list", () => {
        assert.throws(
            () => renderControlPlane(withExtra("apiServer", { "oidc-client-secret-x": "s3cr3t-token" }), LAYOUT),
            (e: unknown) => e instanceof ConfigError && !e.message.includes("s3cr3t-token") && e.key === "controlPlane.apiServer.extraArgs.oidc-client-secret-x",
        );
        // Refused for their value even though the flag is named: whitespace, and a plain-text etcd URL.
        const cases: [string, string][] = [["kubelet", "s3cr3t-token and more"], ["etcd", "s3cr3t-token"], ["etcd", "http://user:s3cr3t-token@x:2382"]];
        for (const [c, value] of cases) {
            assert.throws(
                () => renderControlPlane(withExtra(c, { "made-up-flag-urls": value }, ["made-up-flag-urls"]), LAYOUT),
                (e: unknown) => e instanceof ConfigError && !e.message.includes("s3cr3t-token") && e.key === `controlPlane.${c}.extraArgs.made-up-flag-urls`,
                `${c} ${value}`,
            );
        }
    });

    it("answers flag names that are Object.prototype members with a ConfigError", () => {
        for (const c of COMPONENTS) {
            const o = withOptions({ [c]: { extraArgs: JSON.parse('{"constructor": "x"}') } });
            assertConfigError(() => renderControlPlane(o, LAYOUT), `controlPlane.${c}.extraArgs.constructor`, `${ACK}.${c}`);
        }
        const o = withOptions({ apiServer: { extraArgs: JSON.parse('{"__proto__": {"v": "9"}}') } });
        assertConfigError(() => renderControlPlane(o, LAYOUT), "controlPlane.apiServer.extraArgs.__proto__");
    });

    it("refuses a stale acknowledgement of a free flag", () => {
        assertConfigError(() => renderControlPlane(withExtra("apiServer", { v: 2 }, ["v"]), LAYOUT), `${ACK}.apiServer[0]`);
    });
});
