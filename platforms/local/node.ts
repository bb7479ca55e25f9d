// One node's bundle delivered on this machine: its files, one resource per set of files that restart the
// same processes, and its supervised processes in the order the control plane needs them. The cluster
// (cluster.ts) decides what spans nodes: markers, the shared etcd binary, the apiservers' rolling order.
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ClusterMaterial, contentOf, PlannedProcess, ProcessName } from "../../components/cluster";
import { configFile, toYaml } from "../../components/common";
import { FileSpec, LocalFile } from "./file";
import { LocalFileSet } from "./file-set";
import { kubeBenchConfig } from "./kube-bench";
import { LocalNodePlan, LocalStackPlan } from "./plan";
import { LocalProcess } from "./process";
import { SystemUser } from "./user";

export interface NodeDeliveryContext {
    plan: LocalStackPlan;
    material: ClusterMaterial;
    /** kube-bench's stock config, when a kube-bench config is to be written. */
    stock?: Record<string, unknown>;
    /** The owner of root's files in the system layout; undefined in a user layout. */
    root?: string;
    etcdUser?: SystemUser;
    /** The installed etcd binary (system layout). */
    installed?: LocalFile;
    /** Resource names carry the node's name (ha); the single topology keeps the names it always had. */
    ha: boolean;
    /** Seconds an apiserver waits once ready before the next one may restart (the balancer's rise time). */
    apiServerSettleSeconds?: number;
    /** What every node's first process waits for (markers, purge, etcd's user). */
    base: pulumi.Resource[];
    parent: pulumi.Resource;
}

export interface DeliveredNode {
    /** Starts one of the node's processes (after its planned predecessors and `after`); undefined when the node runs none. */
    start(process: ProcessName, after: pulumi.Resource[]): LocalProcess | undefined;
}

export function deliverNode(name: string, n: LocalNodePlan, ctx: NodeDeliveryContext): DeliveredNode {
    const { bundle } = n;
    const { root } = ctx;
    const child = { parent: ctx.parent };
    const prefix = ctx.ha ? `${name}-${bundle.node.name}` : name;
    const hashes = new Map<ProcessName, pulumi.Output<string>[]>();
    const hash = (p: ProcessName) => hashes.get(p) ?? hashes.set(p, []).get(p)!;

    const groups = new Map<string, { restarts: ProcessName[]; files: pulumi.Input<FileSpec>[] }>();
    const add = (restarts: ProcessName[], spec: pulumi.Input<FileSpec>) => {
        const sorted = [...restarts].sort();
        const id = sorted.length > 0 ? sorted.join("+") : "no-restart";
        const g = groups.get(id) ?? { restarts: sorted, files: [] };
        g.files.push(spec);
        groups.set(id, g);
    };
    // Each process starts from its argument file, the file kube-bench's checks inspect; the encryption config
    // is reloaded, so it restarts nothing.
    for (const f of bundle.files) {
        const spec = pulumi.output(contentOf(f, ctx.material)).apply((content) => fileSpec(f.path, content, f.mode, f.owner ?? root, f.dir));
        add(f.onChange === "restart" ? f.readers : [], spec);
    }
    for (const p of bundle.processes) add([p.name], fileSpec(n.argsFiles[p.name], `${p.argv.join("\n")}\n`, 0o600, root));
    if (ctx.stock) {
        const layout = n.node.layout;
        const targets = {
            apiServerArgs: n.argsFiles["kube-apiserver"],
            controllerManagerArgs: n.argsFiles["kube-controller-manager"],
            controllerManagerKubeconfig: configFile(layout, "controllerManager"),
            schedulerArgs: n.argsFiles["kube-scheduler"],
            schedulerKubeconfig: configFile(layout, "scheduler"),
            etcdArgs: n.argsFiles.etcd,
            etcdDataDir: layout.etcdDataDir,
        };
        add([], fileSpec(n.kubeBenchConfig, toYaml(kubeBenchConfig(ctx.stock, targets)), 0o600, root));
    }
    const sets: pulumi.Resource[] = [];
    for (const [id, g] of groups) {
        const set = new LocalFileSet(`${prefix}-files-${id}`, { files: g.files }, { ...child, dependsOn: ctx.etcdUser ? [ctx.etcdUser] : [] });
        sets.push(set);
        for (const r of g.restarts) hash(r).push(set.sha256);
    }
    if (ctx.installed) hash("etcd").push(ctx.installed.sha256);

    const started = new Map<ProcessName, LocalProcess>();
    const launch = (p: PlannedProcess, dependsOn: pulumi.Resource[]) => {
        const proc = new LocalProcess(`${prefix}-${p.name}`, {
            name: p.name,
            command: p.command,
            // The supervisor starts it from the argument file; the argv here only marks a change.
            args: p.argv,
            argsFile: n.argsFiles[p.name],
            logFile: n.logFiles[p.name],
            health: p.health,
            inputsDigest: pulumi.all(hash(p.name)).apply((h) => h.join(",")),
            startTimeoutSeconds: 90,
            stopTimeoutSeconds: 20,
            ...(p.retriesStart ? { startAttempts: 3 } : {}),
            ...(p.name === "kube-apiserver" && ctx.apiServerSettleSeconds ? { settleSeconds: ctx.apiServerSettleSeconds } : {}),
            // Members start together (none is healthy before a quorum) but restart one at a time, each back in
            // its quorum before the next goes: a new CA file or certificate never takes the quorum down.
            ...(p.name === "etcd" ? { restartLock: path.join(ctx.plan.local.runDir, "etcd-restart.lock") } : {}),
            ...(p.user ? { user: p.user } : {}),
            dirs: p.dirs.map((d) => ({ path: d.path, mode: d.mode, ...(d.owner ? { owner: d.owner } : root ? { owner: root } : {}) })),
        }, { ...child, dependsOn: [...dependsOn, ...p.after.map((a) => started.get(a)!), ...(p.name === "etcd" && ctx.installed ? [ctx.installed] : [])] });
        started.set(p.name, proc);
        return proc;
    };
    const planned = (p: ProcessName) => bundle.processes.find((x) => x.name === p);
    // etcd first, with nothing running yet: every member starts at once, since none is healthy before a quorum.
    launch(planned("etcd")!, [...ctx.base, ...sets]);
    return {
        start(p, after) {
            const spec = planned(p);
            return spec ? launch(spec, [...ctx.base, ...sets, ...after]) : undefined;
        },
    };
}

export function fileSpec(path: string, content: string, mode: number, owner: string | undefined, dir?: { mode: number; owner?: string }): FileSpec {
    // Unset fields are left out, not undefined: the engine's encoding has no undefined.
    return { path, content, mode, dirMode: dir?.mode ?? 0o700, ...(owner ? { owner } : {}), ...(dir?.owner ? { dirOwner: dir.owner } : {}) };
}

/** Where a process's binary comes from: the toolchain, even when the system layout runs an installed copy. */
export function sourceBinary(plan: Pick<LocalStackPlan, "installedEtcd" | "toolchainBin">, p: PlannedProcess): string {
    return p.command === plan.installedEtcd ? path.join(plan.toolchainBin, p.name) : p.command;
}
