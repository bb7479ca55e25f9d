// Flag maps and the rules for user overrides. Like kubeadm, each component has a default argument map and
// `extraArgs` replaces entries by name. On top of that:
//   - flags derived from a typed option (addresses, ports, file locations, TLS policy) cannot be
//     overridden: the override would silently disagree with the other components or sibling blocks;
//   - an override that fails a hardening guard (guards.ts) is refused unless the weakening is named: the
//     typed switch in `weakenings` when the guard has one, otherwise the flag listed in
//     `weakenings.acceptExtraArgs.<component>`; accepted ones are reported in the posture by flag name.
import { fail, key } from "../common";
import { cisLabel, failedGuards, Guard } from "./guards";
import { Component, WeakeningOptions } from "./options";

export type FlagMap = Record<string, string>;

export interface RenderedFlags {
    flags: FlagMap;
    /** Sorted `--name=value`: the only form kube-bench parses from a process command line. */
    args: string[];
}

export function toArgs(flags: Readonly<FlagMap>): string[] {
    return Object.keys(flags)
        .sort()
        .map((name) => `--${name}=${flags[name]}`);
}

export function rendered(flags: FlagMap): RenderedFlags {
    return { flags, args: toArgs(flags) };
}

/** An extraArgs value that fails a guard and was accepted through weakenings.acceptExtraArgs. */
export interface AcceptedOverride {
    component: Component;
    flag: string;
    value: string;
    guards: Guard[];
}

export interface ResolvedExtraArgs {
    args: FlagMap;
    accepted: AcceptedOverride[];
}

/** Flags set from typed options, per component, and the option (below the config key) to use instead. */
export const MANAGED_FLAGS: Record<Component, Record<string, string>> = {
    apiServer: {
        "advertise-address": "network.advertiseAddress",
        "bind-address": "network.apiServerBindAddress",
        "secure-port": "network.apiServerPort",
        "service-cluster-ip-range": "network.serviceCidr",
        "etcd-servers": "network.etcdMembers",
        "service-account-issuer": "network.serviceAccountIssuer",
        "tls-min-version": "tls.minVersion",
        "tls-cipher-suites": "tls.cipherSuites",
        "admission-control-config-file": "admission",
        "authentication-config": "authentication.jwt",
        // --authorization-config replaces --authorization-mode, which CIS 1.2.6-1.2.8 read.
        "authorization-config": "the --authorization-mode defaults (Node,RBAC)",
        "audit-policy-file": "audit (the file is written at the layout's path)",
        "audit-log-path": "audit (the file is written at the layout's path)",
        "audit-webhook-config-file": "audit (the file is written at the layout's path)",
        "encryption-provider-config": "the encryption block (the file is written at the layout's path)",
    },
    controllerManager: {
        "bind-address": "network.controllerManagerBindAddress",
        "secure-port": "network.controllerManagerPort",
        "cluster-cidr": "network.podCidr",
        "service-cluster-ip-range": "network.serviceCidr",
        "cluster-name": "network.clusterName",
        "terminated-pod-gc-threshold": "controllerManager.terminatedPodGcThreshold",
        "allocate-node-cidrs": "controllerManager.allocateNodeCidrs",
        "node-cidr-mask-size": "controllerManager.nodeCidrMaskSize",
        "tls-min-version": "tls.minVersion",
        "tls-cipher-suites": "tls.cipherSuites",
    },
    scheduler: {
        "bind-address": "network.schedulerBindAddress",
        "secure-port": "network.schedulerPort",
        "tls-min-version": "tls.minVersion",
        "tls-cipher-suites": "tls.cipherSuites",
    },
    etcd: {
        name: "network.etcdMembers[].name",
        "data-dir": "network.etcdMembers[].dataDir",
        "listen-client-urls": "network.etcdMembers / network.etcdClientPort",
        "advertise-client-urls": "network.etcdMembers / network.etcdClientPort",
        "listen-peer-urls": "network.etcdMembers / network.etcdPeerPort",
        "initial-advertise-peer-urls": "network.etcdMembers / network.etcdPeerPort",
        "initial-cluster": "network.etcdMembers",
        "initial-cluster-state": "etcd.initialClusterState",
        "initial-cluster-token": "etcd.initialClusterToken",
        "tls-min-version": "tls.minVersion",
        "cipher-suites": "tls.cipherSuites",
    },
    kubelet: {
        config: "the kubelet configuration file (layout)",
        "tls-min-version": "tls.minVersion",
        "pod-max-pids": "kubelet.podPidsLimit",
        "event-qps": "kubelet.eventRecordQPS",
        "streaming-connection-idle-timeout": "kubelet.streamingConnectionIdleTimeout",
        "cgroup-driver": "kubelet.cgroupDriver",
        "container-runtime-endpoint": "kubelet.containerRuntimeEndpoint",
        "cluster-dns": "kubelet.clusterDns",
        "cluster-domain": "network.clusterDomain",
    },
};

function managedBy(component: Component, flag: string): string | undefined {
    // The legacy OIDC flags cannot be combined with --authentication-config; one way in keeps one validator.
    if (component === "apiServer" && flag.startsWith("oidc-")) return "authentication.jwt";
    return MANAGED_FLAGS[component][flag];
}

const FLAG_NAME = /^[a-z0-9][a-z0-9.-]*$/;

/**
 * Validates one component's extraArgs. `k` is the extraArgs key path; `configKey` roots the pointers to the
 * options that must be used instead. `check` adds component-specific value rules.
 */
export function resolveExtraArgs(
    component: Component,
    extraArgs: unknown,
    weakenings: WeakeningOptions,
    k: string,
    configKey: string,
    check?: (flag: string, value: string, k: string) => void,
): ResolvedExtraArgs {
    const args: FlagMap = {};
    const accepted: AcceptedOverride[] = [];
    const ackKey = key(configKey, "weakenings", "acceptExtraArgs", component);
    const acks = weakenings.acceptExtraArgs?.[component] ?? [];
    if (extraArgs === undefined) {
        if (acks.length > 0) fail(key(ackKey, 0), acks[0], `only list flags set in ${k}`);
        return { args, accepted };
    }
    if (typeof extraArgs !== "object" || extraArgs === null || Array.isArray(extraArgs)) {
        fail(k, extraArgs, 'use a map of flag name (without "--") to value');
    }
    for (const [flag, raw] of Object.entries(extraArgs as Record<string, unknown>)) {
        const fk = key(k, flag);
        if (!FLAG_NAME.test(flag)) fail(fk, raw, 'write the flag name without leading "--" or "=", e.g. "v" for --v');
        const owner = managedBy(component, flag);
        if (owner !== undefined) fail(fk, raw, `this flag is set from ${owner.includes(" ") ? owner : key(configKey, owner)}; change that instead`);
        if (typeof raw !== "string" && typeof raw !== "number" && typeof raw !== "boolean") fail(fk, raw, "use a string, number or boolean");
        const value = String(raw);
        // kube-bench reads a value up to the first whitespace, and ps shows argv joined by spaces.
        if (/\s/.test(value)) fail(fk, raw, "use a value without whitespace");
        check?.(flag, value, fk);

        const failing = failedGuards(component, flag, value);
        const needAck: Guard[] = [];
        for (const g of failing) {
            if (g.weakening !== undefined) {
                if (weakenings[g.weakening] !== true) {
                    fail(fk, raw, `${flag} must ${g.requirement} (${cisLabel(g)}); to accept the weakening set ${key(configKey, "weakenings", g.weakening)}: true`);
                }
            } else {
                needAck.push(g);
            }
        }
        if (needAck.length > 0) {
            const g = needAck[0];
            if (!acks.includes(flag)) {
                fail(fk, raw, `${flag} must ${g.requirement} (${cisLabel(g)}); to accept the weakening list "${flag}" in ${ackKey}`);
            }
            accepted.push({ component, flag, value, guards: needAck });
        }
        args[flag] = value;
    }
    acks.forEach((flag, i) => {
        if (!accepted.some((a) => a.flag === flag)) {
            fail(key(ackKey, i), flag, `only list flags whose value in ${k} fails a hardening check`);
        }
    });
    return { args, accepted };
}
