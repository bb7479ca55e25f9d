// All validation, in one pass, before anything is rendered: a resolved model either exists completely or a
// ConfigError names the first bad setting by its path under the caller's config key.
import { auditApiServerFlags, auditLogFiles, AuditLogOptions } from "../audit";
import { fail, FileLayout, isIp, isPlainObject, key, knownKeys, nthIPv4, oneOf, optionalObject, parseCidr, positiveInt } from "../common";
import { ResolvedAdmission, resolveAdmission } from "./admission";
import { ResolvedJwtIssuer, resolveAuthentication } from "./authentication";
import { AcceptedOverride, FlagMap, resolveExtraArgs } from "./flags";
import { nonZeroDuration } from "./guards";
import { ResolvedNetwork, resolveNetwork } from "./network";
import {
    API_SERVER_DEFAULTS,
    Component,
    COMPONENTS,
    CONTROLLER_MANAGER_DEFAULTS,
    ControlPlaneOptions,
    DEFAULT_CONFIG_KEY,
    KUBELET_DEFAULTS,
    KubeletServingFiles,
    WeakeningOptions,
    WeakeningSwitch,
} from "./options";
import { ResolvedTls, resolveTls } from "./tls";

export const WEAKENING_SWITCHES: readonly WeakeningSwitch[] = [
    "anonymousAuth",
    "profiling",
    "skipAlwaysPullImages",
    "extendServiceAccountTokens",
    "privilegedContainers",
    "nonLoopbackBind",
    "unprotectedKernelDefaults",
    "noSeccompDefault",
    "verboseLogs",
];

export interface ResolvedKubelet {
    servingCert: "bootstrap" | KubeletServingFiles;
    podPidsLimit: number;
    eventRecordQPS: number;
    streamingConnectionIdleTimeout: string;
    cgroupDriver: "systemd" | "cgroupfs";
    containerRuntimeEndpoint: string;
    clusterDns: string[];
}

export interface ResolvedControlPlane {
    configKey: string;
    layout: FileLayout;
    network: ResolvedNetwork;
    tls: ResolvedTls;
    weakenings: Record<WeakeningSwitch, boolean>;
    admission: ResolvedAdmission;
    jwt: ResolvedJwtIssuer[];
    audit: AuditLogOptions | undefined;
    /** What the audit block renders for this layout; its own validation has run. */
    auditFlags: FlagMap;
    apiServer: { serviceAccountMaxTokenHours: number };
    controllerManager: { terminatedPodGcThreshold: number; allocateNodeCidrs: boolean; nodeCidrMaskSize: number };
    etcd: { initialClusterState: "new" | "existing"; initialClusterToken: string };
    kubelet: ResolvedKubelet;
    extraArgs: Record<Component, FlagMap>;
    /** extraArgs values accepted through weakenings.acceptExtraArgs. */
    accepted: AcceptedOverride[];
}

const TOP_KEYS: (keyof ControlPlaneOptions)[] = [
    "network",
    "tls",
    "apiServer",
    "controllerManager",
    "scheduler",
    "etcd",
    "kubelet",
    "admission",
    "authentication",
    "audit",
    "weakenings",
];

export function resolveControlPlane(options: ControlPlaneOptions, layout: FileLayout, configKey = DEFAULT_CONFIG_KEY): ResolvedControlPlane {
    if (!isPlainObject(options)) fail(configKey, options, "use an object with at least network settings");
    knownKeys(configKey, options, TOP_KEYS);
    // Every section is optional but, when given, a mapping: `apiServer: null` is named, never a TypeError.
    for (const name of TOP_KEYS) if (name !== "network") optionalObject(key(configKey, name), options[name]);
    checkLayout(layout, key(configKey, "layout"));
    const k = (...parts: (string | number)[]) => key(configKey, ...parts);

    const weakeningOptions = resolveWeakenings(options.weakenings, k("weakenings"));
    const weakenings = Object.fromEntries(WEAKENING_SWITCHES.map((s) => [s, weakeningOptions[s] === true])) as Record<WeakeningSwitch, boolean>;
    const network = resolveNetwork(options.network, k("network"));
    for (const [name, addr] of [
        ["controllerManagerBindAddress", network.controllerManagerBindAddress],
        ["schedulerBindAddress", network.schedulerBindAddress],
    ] as const) {
        if (addr !== "127.0.0.1" && !weakenings.nonLoopbackBind) {
            fail(k("network", name), addr, `use 127.0.0.1 (CIS ${name.startsWith("controller") ? "1.3.7" : "1.4.2"}); to accept the weakening set ${k("weakenings", "nonLoopbackBind")}: true`);
        }
    }
    const tls = resolveTls(options.tls, k("tls"));
    const admission = resolveAdmission(options.admission, weakenings.skipAlwaysPullImages, k("admission"));
    const jwt = resolveAuthentication(options.authentication, network.serviceAccountIssuer, k("authentication"));

    const componentKeys = { apiServer: ["extraArgs", "serviceAccountMaxTokenHours"], controllerManager: ["extraArgs", "terminatedPodGcThreshold", "allocateNodeCidrs", "nodeCidrMaskSize"], scheduler: ["extraArgs"] };
    for (const c of ["apiServer", "controllerManager", "scheduler"] as const) knownKeys(k(c), options[c], componentKeys[c]);
    knownKeys(k("etcd"), options.etcd, ["extraArgs", "initialClusterState", "initialClusterToken"]);
    knownKeys(k("kubelet"), options.kubelet, ["extraArgs", "servingCert", "podPidsLimit", "eventRecordQPS", "streamingConnectionIdleTimeout", "cgroupDriver", "containerRuntimeEndpoint", "clusterDns"]);

    const resolvedExtra = COMPONENTS.map((c) => resolveExtraArgs(c, options[c]?.extraArgs, weakeningOptions, k(c, "extraArgs"), configKey));
    const extraArgs = Object.fromEntries(COMPONENTS.map((c, i) => [c, resolvedExtra[i].args])) as Record<Component, FlagMap>;

    // The audit block validates its own options; calling it here surfaces its errors before rendering.
    const auditFlags = auditApiServerFlags(options.audit, auditLogFiles(layout), k("audit"));

    return {
        configKey,
        layout,
        network,
        tls,
        weakenings,
        admission,
        jwt,
        audit: options.audit,
        auditFlags,
        apiServer: { serviceAccountMaxTokenHours: positiveInt(k("apiServer", "serviceAccountMaxTokenHours"), options.apiServer?.serviceAccountMaxTokenHours ?? API_SERVER_DEFAULTS.serviceAccountMaxTokenHours, 8760) },
        controllerManager: resolveControllerManager(options.controllerManager, network, k("controllerManager")),
        etcd: resolveEtcd(options.etcd, network.clusterName, k("etcd")),
        kubelet: resolveKubelet(options.kubelet, network, k("kubelet")),
        extraArgs,
        accepted: resolvedExtra.flatMap((r) => r.accepted),
    };
}

function checkLayout(layout: FileLayout, k: string): void {
    if (!isPlainObject(layout)) fail(k, layout, "pass a FileLayout (components/common/layout.ts)");
    for (const name of ["configDir", "pkiDir", "etcdPkiDir", "etcdDataDir", "auditLogDir"] as const) {
        const v = layout[name];
        if (typeof v !== "string" || !v.startsWith("/") || /\s/.test(v)) fail(key(k, name), v, "use an absolute path without whitespace");
    }
    // Both CAs are named ca.crt; one directory would make etcd trust the cluster CA (CIS 2.7 wants its own).
    if (layout.etcdPkiDir.replace(/\/+$/, "") === layout.pkiDir.replace(/\/+$/, "")) {
        fail(key(k, "etcdPkiDir"), layout.etcdPkiDir, `use a directory other than pkiDir (${layout.pkiDir}) so etcd keeps its own CA`);
    }
}

function resolveWeakenings(w: WeakeningOptions | undefined, k: string): WeakeningOptions {
    if (optionalObject(k, w) === undefined || w === undefined) return {};
    knownKeys(k, w, [...WEAKENING_SWITCHES, "acceptExtraArgs"]);
    for (const s of WEAKENING_SWITCHES) {
        if (w[s] !== undefined && typeof w[s] !== "boolean") fail(key(k, s), w[s], "use true or false");
    }
    const ak = key(k, "acceptExtraArgs");
    knownKeys(ak, w.acceptExtraArgs, COMPONENTS);
    for (const c of COMPONENTS) {
        const list = w.acceptExtraArgs?.[c];
        if (list === undefined) continue;
        if (!Array.isArray(list) || list.some((f) => typeof f !== "string")) fail(key(ak, c), list, "list flag names (without dashes)");
    }
    return w;
}

function resolveControllerManager(o: ControlPlaneOptions["controllerManager"], network: ResolvedNetwork, k: string) {
    const terminatedPodGcThreshold = positiveInt(key(k, "terminatedPodGcThreshold"), o?.terminatedPodGcThreshold ?? CONTROLLER_MANAGER_DEFAULTS.terminatedPodGcThreshold);
    const allocateNodeCidrs = o?.allocateNodeCidrs ?? CONTROLLER_MANAGER_DEFAULTS.allocateNodeCidrs;
    if (typeof allocateNodeCidrs !== "boolean") fail(key(k, "allocateNodeCidrs"), allocateNodeCidrs, "use true or false");
    const pod = parseCidr(network.podCidr)!;
    const bits = pod.family === 4 ? 32 : 128;
    const nodeCidrMaskSize = o?.nodeCidrMaskSize ?? (pod.family === 4 ? 24 : 64);
    if (typeof nodeCidrMaskSize !== "number" || !Number.isInteger(nodeCidrMaskSize) || nodeCidrMaskSize < pod.prefix || nodeCidrMaskSize > bits) {
        fail(key(k, "nodeCidrMaskSize"), nodeCidrMaskSize, `use a prefix length from ${pod.prefix} (network.podCidr's) to ${bits}`);
    }
    return { terminatedPodGcThreshold, allocateNodeCidrs, nodeCidrMaskSize };
}

function resolveEtcd(o: ControlPlaneOptions["etcd"], clusterName: string, k: string) {
    const initialClusterState = o?.initialClusterState === undefined ? "new" : oneOf(key(k, "initialClusterState"), o.initialClusterState, ["new", "existing"] as const);
    const initialClusterToken = o?.initialClusterToken ?? `${clusterName}-etcd`;
    if (typeof initialClusterToken !== "string" || !/^[A-Za-z0-9._-]+$/.test(initialClusterToken)) {
        fail(key(k, "initialClusterToken"), initialClusterToken, "use letters, digits, '.', '_' or '-'");
    }
    return { initialClusterState, initialClusterToken };
}

function resolveKubelet(o: ControlPlaneOptions["kubelet"], network: ResolvedNetwork, k: string): ResolvedKubelet {
    let servingCert: ResolvedKubelet["servingCert"] = "bootstrap";
    if (o?.servingCert !== undefined && o.servingCert !== "bootstrap") {
        const sk = key(k, "servingCert");
        const s = o.servingCert;
        if (!isPlainObject(s)) fail(sk, s, 'use "bootstrap" or { certFile, keyFile }');
        knownKeys(sk, s, ["certFile", "keyFile"]);
        for (const f of ["certFile", "keyFile"] as const) {
            if (typeof s[f] !== "string" || !s[f].startsWith("/")) fail(key(sk, f), s[f], "use an absolute path");
        }
        servingCert = { certFile: s.certFile, keyFile: s.keyFile };
    }
    const podPidsLimit = positiveInt(key(k, "podPidsLimit"), o?.podPidsLimit ?? KUBELET_DEFAULTS.podPidsLimit);
    const eventRecordQPS = o?.eventRecordQPS ?? KUBELET_DEFAULTS.eventRecordQPS;
    if (typeof eventRecordQPS !== "number" || !Number.isInteger(eventRecordQPS) || eventRecordQPS < 0 || eventRecordQPS > 2 ** 31 - 1) {
        fail(key(k, "eventRecordQPS"), eventRecordQPS, "use a whole number from 0 (unlimited) upwards");
    }
    const idle = o?.streamingConnectionIdleTimeout ?? KUBELET_DEFAULTS.streamingConnectionIdleTimeout;
    if (typeof idle !== "string" || !nonZeroDuration(idle)) {
        fail(key(k, "streamingConnectionIdleTimeout"), idle, 'use a non-zero Go duration such as "5m0s" (CIS 4.2.5)');
    }
    const cgroupDriver = oneOf(key(k, "cgroupDriver"), o?.cgroupDriver ?? KUBELET_DEFAULTS.cgroupDriver, ["systemd", "cgroupfs"] as const);
    const endpoint = o?.containerRuntimeEndpoint ?? KUBELET_DEFAULTS.containerRuntimeEndpoint;
    if (typeof endpoint !== "string" || !/^unix:\/\/\/\S+$/.test(endpoint)) fail(key(k, "containerRuntimeEndpoint"), endpoint, "use a unix:///path socket URL");
    let clusterDns: string[];
    if (o?.clusterDns === undefined) {
        // kubeadm's convention: the DNS Service takes the tenth address of the Service range.
        if (parseCidr(network.serviceCidr)!.family !== 4) fail(key(k, "clusterDns"), undefined, "set the DNS Service IP explicitly for an IPv6 serviceCidr");
        clusterDns = [nthIPv4(network.serviceCidr, 10)];
    } else {
        if (!Array.isArray(o.clusterDns) || o.clusterDns.length === 0) fail(key(k, "clusterDns"), o.clusterDns, "list at least one DNS server IP");
        o.clusterDns.forEach((a, i) => {
            if (typeof a !== "string" || !isIp(a)) fail(key(k, "clusterDns", i), a, "use an IP address");
        });
        clusterDns = [...o.clusterDns];
    }
    return { servingCert, podPidsLimit, eventRecordQPS, streamingConnectionIdleTimeout: idle, cgroupDriver, containerRuntimeEndpoint: endpoint, clusterDns };
}
