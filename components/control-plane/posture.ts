// What the rendered settings amount to, for reviewers and for the program's outputs. The summary is read
// back from the rendered flags and files rather than from the options, so an override that slipped in any
// way shows up here; the weakenings list is what differs from the hardened defaults, and is empty for them.
import { kubeadmLayout, type Weakening } from "../common";
import { cisLabel, failedGuardsIn, Guard, listOf, parseGoBool } from "./guards";

// Booleans as the binaries read them (strconv.ParseBool), so "0" reads as off; a value Go rejects (the
// binary would not start) reads like an absent flag.
const notFalse = (v: string | undefined) => parseGoBool(v ?? "") !== false;
const isOn = (v: string | undefined) => parseGoBool(v ?? "") === true;
import { DEFAULT_CONFIG_KEY, Component, COMPONENTS, ControlPlaneOptions, WeakeningSwitch } from "./options";
import { renderResolved, RenderedComponents } from "./render";
import { ResolvedControlPlane, resolveControlPlane, WEAKENING_SWITCHES } from "./resolve";

export interface ControlPlanePosture {
    tlsMinVersion: string;
    cipherSuites: string[];
    apiServer: {
        anonymousAuth: boolean;
        authorizationModes: string[];
        admissionPlugins: string[];
        disabledAdmissionPlugins: string[];
        profiling: boolean;
        privilegedContainers: boolean;
        serviceAccountLookup: boolean;
        extendServiceAccountTokens: boolean;
        encryptionAtRest: boolean;
        auditLog: boolean;
    };
    controllerManager: { profiling: boolean; bindAddress: string; useServiceAccountCredentials: boolean };
    scheduler: { profiling: boolean; bindAddress: string };
    etcd: { members: string[]; clientCertAuth: boolean; peerClientCertAuth: boolean; profiling: boolean };
    kubelet: {
        anonymousAuth: boolean;
        authorizationMode: string;
        readOnlyPort: number;
        servingCertificate: "bootstrap" | "files";
        protectKernelDefaults: boolean;
        seccompDefault: boolean;
    };
    oidc: { enabled: boolean; issuers: string[] };
    podSecurity: {
        enforce: string;
        audit: string;
        warn: string;
        exemptions: { usernames: string[]; runtimeClasses: string[]; namespaces: string[] };
    };
    /** Every extraArgs flag in force, free or acknowledged, by the option that set it. */
    extraArgs: { option: string; value: string }[];
    weakenings: Weakening[];
}

/** What each typed weakening switch does, in posture wording. */
export const WEAKENING_EFFECTS: Record<WeakeningSwitch, string> = {
    anonymousAuth: "kube-apiserver --anonymous-auth=true: requests without credentials are served as system:anonymous (fails CIS 1.2.1)",
    profiling: "profiling endpoints on: --profiling=true (fails CIS 1.2.15, 1.3.2, 1.4.1), etcd --enable-pprof=true, kubelet enableProfilingHandler",
    skipAlwaysPullImages: "AlwaysPullImages admission off: pods can use images cached on a node without its pull credentials (fails CIS 1.2.11)",
    extendServiceAccountTokens: "--service-account-extend-token-expiration=true: projected tokens are valid for a year (fails CIS 1.2.30)",
    privilegedContainers: "--allow-privileged=true: privileged containers are admitted wherever Pod Security allows them",
    nonLoopbackBind: "controller manager / scheduler endpoints bind beyond 127.0.0.1 (fails CIS 1.3.7 / 1.4.2 when used)",
    unprotectedKernelDefaults: "kubelet protectKernelDefaults=false: starts on kernels whose tunables differ from what it expects",
    noSeccompDefault: "kubelet seccompDefault=false: containers without a seccomp profile run unconfined (fails CIS 4.2.14)",
    verboseLogs: "log verbosity above 4 (or etcd debug) may be set: bearer tokens and request bodies are written to the logs",
};

export function controlPlanePosture(options: ControlPlaneOptions, configKey = DEFAULT_CONFIG_KEY): ControlPlanePosture {
    // File locations do not change the summary, so kubeadm's stand in for the platform's.
    const r = resolveControlPlane(options, kubeadmLayout(), configKey);
    return postureOf(r, renderResolved(r));
}

export function postureOf(r: ResolvedControlPlane, c: RenderedComponents): ControlPlanePosture {
    const api = c.apiServer.flags;
    const cm = c.controllerManager.flags;
    const sch = c.scheduler.flags;
    const etcd = c.etcd[0].flags;
    const kubelet = kubeletEquivalentFlags(c);
    const ps = r.admission.podSecurity;
    return {
        tlsMinVersion: r.tls.minVersion,
        cipherSuites: [...r.tls.cipherSuites],
        apiServer: {
            anonymousAuth: notFalse(api["anonymous-auth"]),
            authorizationModes: listOf(api["authorization-mode"] ?? ""),
            admissionPlugins: listOf(api["enable-admission-plugins"] ?? ""),
            disabledAdmissionPlugins: listOf(api["disable-admission-plugins"] ?? ""),
            profiling: notFalse(api.profiling),
            privilegedContainers: isOn(api["allow-privileged"]),
            serviceAccountLookup: notFalse(api["service-account-lookup"]),
            extendServiceAccountTokens: notFalse(api["service-account-extend-token-expiration"]),
            encryptionAtRest: (api["encryption-provider-config"] ?? "") !== "",
            auditLog: (api["audit-log-path"] ?? "") !== "",
        },
        controllerManager: {
            profiling: notFalse(cm.profiling),
            bindAddress: cm["bind-address"],
            useServiceAccountCredentials: isOn(cm["use-service-account-credentials"]),
        },
        scheduler: { profiling: notFalse(sch.profiling), bindAddress: sch["bind-address"] },
        etcd: {
            members: c.etcd.map((m) => m.name),
            clientCertAuth: isOn(etcd["client-cert-auth"]),
            peerClientCertAuth: isOn(etcd["peer-client-cert-auth"]),
            profiling: isOn(etcd["enable-pprof"]),
        },
        kubelet: {
            anonymousAuth: notFalse(kubelet["anonymous-auth"]),
            authorizationMode: kubelet["authorization-mode"],
            readOnlyPort: Number(kubelet["read-only-port"]),
            servingCertificate: r.kubelet.servingCert === "bootstrap" ? "bootstrap" : "files",
            protectKernelDefaults: isOn(kubelet["protect-kernel-defaults"]),
            seccompDefault: isOn(kubelet["seccomp-default"]),
        },
        oidc: { enabled: r.jwt.length > 0, issuers: r.jwt.map((j) => j.url) },
        podSecurity: {
            enforce: `${ps.enforce}:${ps.enforceVersion}`,
            audit: `${ps.audit}:${ps.auditVersion}`,
            warn: `${ps.warn}:${ps.warnVersion}`,
            exemptions: {
                usernames: [...ps.exemptions.usernames],
                runtimeClasses: [...ps.exemptions.runtimeClasses],
                namespaces: [...ps.exemptions.namespaces],
            },
        },
        extraArgs: COMPONENTS.flatMap((component) =>
            Object.keys(r.extraArgs[component])
                .sort()
                .map((flag) => ({ option: `${r.configKey}.${component}.extraArgs.${flag}`, value: r.extraArgs[component][flag] })),
        ),
        weakenings: weakeningsOf(r, c),
    };
}

/** The kubelet's effective settings under their flag names: config file first, command line on top. */
function kubeletEquivalentFlags(c: RenderedComponents): Record<string, string> {
    const cfg = c.kubelet.config as {
        authentication: { anonymous: { enabled: boolean }; x509: { clientCAFile: string } };
        authorization: { mode: string };
        [k: string]: unknown;
    };
    const out: Record<string, string> = {
        "anonymous-auth": String(cfg.authentication.anonymous.enabled),
        "authorization-mode": cfg.authorization.mode,
        "client-ca-file": cfg.authentication.x509.clientCAFile,
    };
    const fields: Record<string, string> = {
        "read-only-port": "readOnlyPort",
        "streaming-connection-idle-timeout": "streamingConnectionIdleTimeout",
        "make-iptables-util-chains": "makeIPTablesUtilChains",
        "event-qps": "eventRecordQPS",
        "tls-cert-file": "tlsCertFile",
        "tls-private-key-file": "tlsPrivateKeyFile",
        "rotate-certificates": "rotateCertificates",
        "pod-max-pids": "podPidsLimit",
        "seccomp-default": "seccompDefault",
        "protect-kernel-defaults": "protectKernelDefaults",
    };
    for (const [flag, field] of Object.entries(fields)) {
        if (cfg[field] !== undefined) out[flag] = String(cfg[field]);
    }
    if (Array.isArray(cfg.tlsCipherSuites)) out["tls-cipher-suites"] = cfg.tlsCipherSuites.join(",");
    return { ...out, ...c.kubelet.flags };
}

function weakeningsOf(r: ResolvedControlPlane, c: RenderedComponents): Weakening[] {
    const k = r.configKey;
    const out: Weakening[] = WEAKENING_SWITCHES.filter((s) => r.weakenings[s]).map((s) => ({ option: `${k}.weakenings.${s}`, effect: WEAKENING_EFFECTS[s] }));

    for (const a of r.accepted) {
        const why = a.guards.length > 0
            ? describeGuards(a.guards)
            : "not on the allow-list of flags that change no security property; accepted by name, its effect is not checked";
        out.push({ option: `${k}.${a.component}.extraArgs.${a.flag}`, effect: `--${a.flag}=${a.value}: ${why}` });
    }

    // Anything else that fails a guard came from outside this block's options (the audit block's flags).
    const finals: [Component, Record<string, string>][] = [
        ["apiServer", c.apiServer.flags],
        ["controllerManager", c.controllerManager.flags],
        ["scheduler", c.scheduler.flags],
        ...c.etcd.map((m): [Component, Record<string, string>] => ["etcd", m.flags]),
        ["kubelet", kubeletEquivalentFlags(c)],
    ];
    const seen = new Set<string>();
    for (const [component, flags] of finals) {
        const unexplained = failedGuardsIn(component, flags).filter(
            (g) => !(g.weakening !== undefined && r.weakenings[g.weakening]) && !(g.flag in r.extraArgs[component]),
        );
        for (const g of unexplained) {
            const option = g.flag.startsWith("audit-") ? `${k}.audit` : `${k}.${component}`;
            const effect = `--${g.flag}=${flags[g.flag] ?? "(unset)"}: ${describeGuards([g])}`;
            if (seen.has(option + effect)) continue;
            seen.add(option + effect);
            out.push({ option, effect });
        }
    }

    const ps = r.admission.podSecurity;
    for (const mode of ["enforce", "audit", "warn"] as const) {
        if (ps[mode] !== "restricted") {
            out.push({ option: `${k}.admission.podSecurity.defaults.${mode}`, effect: `Pod Security ${mode} level is ${ps[mode]}, below restricted, for namespaces without their own label` });
        }
    }
    for (const kind of ["usernames", "runtimeClasses", "namespaces"] as const) {
        if (ps.exemptions[kind].length > 0) {
            out.push({ option: `${k}.admission.podSecurity.exemptions.${kind}`, effect: `Pod Security is not evaluated for ${kind}: ${ps.exemptions[kind].join(", ")}` });
        }
    }
    r.jwt.forEach((j, i) => {
        for (const m of ["username", "groups"] as const) {
            if (j[m].prefix === "") {
                out.push({
                    option: `${k}.authentication.jwt[${i}].claimMappings.${m}.prefix`,
                    effect: `${m} from ${j.url} are taken unprefixed, so the issuer can name users or groups that RBAC already grants (e.g. system:masters)`,
                });
            }
        }
    });
    return out;
}

function describeGuards(guards: Guard[]): string {
    return guards.map((g) => `should ${g.requirement} (${cisLabel(g)}); ${g.risk}`).join("; ");
}
