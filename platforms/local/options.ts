// Where the local platform puts things and which loopback ports it uses: everything else comes from the
// components. Two layouts: "system" uses kubeadm's paths (/etc/kubernetes, /var/lib/etcd) and runs etcd as a
// dedicated user, which the CIS file checks expect; "user" keeps everything in one state directory per stack
// for an unprivileged user. "auto" picks "system" when running as root.
import * as os from "node:os";
import * as path from "node:path";
import { fail, FileLayout, key, knownKeys, kubeadmLayout, oneOf, port, stateDirLayout } from "../../components/common";

export const LAYOUTS = ["auto", "user", "system"] as const;

export interface LocalPorts {
    apiServer: number;
    etcdClient: number;
    etcdPeer: number;
    controllerManager: number;
    scheduler: number;
}

export const DEFAULT_PORTS: LocalPorts = {
    apiServer: 6443,
    etcdClient: 2379,
    etcdPeer: 2380,
    controllerManager: 10257,
    scheduler: 10259,
};

export interface LocalOptions {
    layout?: (typeof LAYOUTS)[number];
    /** User layout: the state directory (default ~/.local/state/hardened-cluster/<stack>). */
    stateDir?: string;
    ports?: Partial<LocalPorts>;
    /** System layout: the user etcd runs as (created if missing). */
    etcdUser?: string;
}

export interface ResolvedLocal {
    layoutKind: "user" | "system";
    layout: FileLayout;
    /** Per-stack working files that are not part of the kubeadm layout: logs, pid files, process args. */
    runDir: string;
    /** Directory of the files only etcd reads (owned by the etcd user in the system layout). */
    etcdServerPkiDir: string;
    ports: LocalPorts;
    etcdUser?: string;
    address: string;
}

const KNOWN = ["layout", "stateDir", "ports", "etcdUser"];

export function resolveLocal(options: LocalOptions | undefined, stack: string, configKey = "local", isRoot = isRunningAsRoot()): ResolvedLocal {
    const o = options ?? {};
    knownKeys(configKey, o, KNOWN);
    const wanted = oneOf(key(configKey, "layout"), o.layout ?? "auto", LAYOUTS);
    const layoutKind = wanted === "auto" ? (isRoot ? "system" : "user") : wanted;
    if (layoutKind === "system" && !isRoot) {
        fail(key(configKey, "layout"), "system", "the system layout writes /etc/kubernetes and needs root; use \"user\" or \"auto\"");
    }
    if (layoutKind === "system" && o.stateDir !== undefined) {
        fail(key(configKey, "stateDir"), o.stateDir, "stateDir applies to the user layout only; remove it or set layout: user");
    }
    knownKeys(key(configKey, "ports"), o.ports, Object.keys(DEFAULT_PORTS));
    const ports = { ...DEFAULT_PORTS };
    for (const [name, value] of Object.entries(o.ports ?? {})) ports[name as keyof LocalPorts] = port(key(configKey, "ports", name), value);
    const seen = new Map<number, string>();
    for (const [name, value] of Object.entries(ports)) {
        const other = seen.get(value);
        if (other) fail(key(configKey, "ports", name), value, `each port must differ; ${other} uses it too`);
        seen.set(value, name);
    }
    if (o.stateDir !== undefined && (typeof o.stateDir !== "string" || !path.isAbsolute(o.stateDir))) {
        fail(key(configKey, "stateDir"), o.stateDir, "use an absolute path");
    }
    const etcdUser = o.etcdUser ?? "etcd";
    if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(etcdUser)) fail(key(configKey, "etcdUser"), etcdUser, "use a system user name such as etcd");

    if (layoutKind === "system") {
        const layout = kubeadmLayout("/");
        return {
            layoutKind, layout, ports, etcdUser, address: "127.0.0.1",
            runDir: path.join("/var/lib/hardened-cluster", stack),
            // CIS 1.1.19 wants everything under /etc/kubernetes/pki owned by root, and etcd runs as its own user,
            // so the files only etcd reads live in a directory that user owns.
            etcdServerPkiDir: "/etc/etcd/pki",
        };
    }
    const stateDir = o.stateDir ?? path.join(process.env.XDG_STATE_HOME ?? path.join(os.homedir(), ".local/state"), "hardened-cluster", stack);
    const layout = stateDirLayout(stateDir);
    return { layoutKind, layout, ports, address: "127.0.0.1", runDir: path.join(stateDir, "run"), etcdServerPkiDir: layout.etcdPkiDir };
}

export function isRunningAsRoot(): boolean {
    return typeof process.getuid === "function" && process.getuid() === 0;
}
