// The local platform's delivery: the cluster plan's node bundle as files and supervised processes on this
// machine. It decides only how (owners, markers, argument files, order); what each file holds and which
// process reads it comes from components/cluster. Hands back a Kubernetes provider for the in-cluster half.
import * as fs from "node:fs";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { contentOf, PlannedProcess, ProcessName, PROCESSES } from "../../components/cluster";
import { configFile, toYaml } from "../../components/common";
import { EncryptionAtRest } from "../../components/encryption";
import { AdminBootstrap, ClusterPki, kubeconfigNames } from "../../components/pki";
import { FileSpec, LocalFile } from "./file";
import { LocalFileSet } from "./file-set";
import { kubeBenchConfig } from "./kube-bench";
import { claimedDirs, LocalStackPlan, MARKER } from "./plan";
import { LocalProcess } from "./process";
import { LocalPurge } from "./purge";
import { SystemUser } from "./user";

export interface LocalClusterArgs {
    /** The stack plan (planLocalStack): resolved settings and the node's bundle. */
    plan: LocalStackPlan;
    /** kube-bench's cfg directory; when given, a kube-bench config pointing at this cluster's files is written. */
    kubeBenchCfg?: string;
}

export class LocalCluster extends pulumi.ComponentResource {
    readonly server: string;
    readonly kubeconfigPath: string;
    /** Secret. */
    readonly kubeconfig: pulumi.Output<string>;
    readonly caCertPem: pulumi.Output<string>;
    /** Secret: kubeconfigs of the persona users in pki.users, by user name. */
    readonly userKubeconfigs: pulumi.Output<Record<string, string>>;
    readonly provider: k8s.Provider;
    readonly stateDir: string;
    readonly kubeBenchConfigPath?: string;
    readonly posture: Record<string, unknown>;
    /** Resolves once every process is healthy and the admin group is bound. */
    readonly ready: pulumi.Output<string>;
    readonly pki: ClusterPki;

    constructor(name: string, args: LocalClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        const { plan } = args;
        const { local, cluster } = plan;
        const [bundle] = cluster.nodes;
        const { resolved } = cluster;
        // A missing binary or kube-bench config fails here, before the component registers anything.
        for (const p of bundle.processes) {
            const source = sourceBinary(plan, p);
            if (!fs.existsSync(source)) throw new Error(`local platform: ${path.basename(source)} is not in ${path.dirname(source)} (build the toolchain: npm run toolchain)`);
        }
        let stock: Record<string, unknown> | undefined;
        if (args.kubeBenchCfg) {
            const stockFile = path.join(args.kubeBenchCfg, "config.yaml");
            if (!fs.existsSync(stockFile)) throw new Error(`local platform: ${stockFile} is missing (build the toolchain: npm run toolchain)`);
            stock = parse(fs.readFileSync(stockFile, "utf8"));
        }
        super("hardened-cluster:local:LocalCluster", name, {}, opts);
        const layout = local.layout;
        const system = local.layoutKind === "system";
        const child = { parent: this };
        const root = system ? "root:root" : undefined;

        this.server = cluster.server;
        this.stateDir = system ? layout.configDir : path.dirname(local.runDir);
        this.pki = new ClusterPki(`${name}-pki`, { options: resolved.pki, servers: { external: cluster.server }, configKey: resolved.keys.pki }, child);
        const encryption = new EncryptionAtRest(`${name}-encryption`, { options: resolved.encryption, configKey: resolved.keys.encryption }, child);
        const material = { pki: this.pki, encryptionConfig: encryption.configYaml };

        const hashes: Record<ProcessName, pulumi.Output<string>[]> = { etcd: [], "kube-apiserver": [], "kube-controller-manager": [], "kube-scheduler": [] };
        // etcd's own user must exist before the files it owns are written.
        const etcdUser = system ? new SystemUser(`${name}-etcd-user`, { name: local.etcdUser! }, child) : undefined;

        // Markers first: they are what lets a later run of this stack reuse its directories. Unless destroy
        // purges, the data outlives the stack, so its markers do too: only this stack may reuse it.
        const etcdDir = bundle.files.find((f) => f.path.startsWith(local.etcdServerPkiDir + "/") && f.dir)?.dir;
        const markers = claimedDirs(local).map((dir) => {
            const dirPlacement = dir === local.etcdServerPkiDir ? etcdDir : undefined;
            return new LocalFile(`${name}-marker${dir.replace(/\//g, "-")}`, fileSpec(path.join(dir, MARKER), plan.stack, 0o600, root, dirPlacement),
                { ...child, dependsOn: etcdUser && dirPlacement?.owner ? [etcdUser] : [], retainOnDelete: !local.purgeOnDestroy });
        });
        // Deleted after every process has stopped (they depend on it); purges only with local.purgeOnDestroy.
        const purge = new LocalPurge(`${name}-purge`, { enabled: local.purgeOnDestroy, dirs: [layout.etcdDataDir, layout.auditLogDir] }, child);

        // The bundle, one resource per set of files that restart the same processes (the restart semantics
        // of one resource per file, with far fewer resources): each process starts from its argument file,
        // the file kube-bench's checks inspect; the encryption config is reloaded, so it restarts nothing.
        const groups = new Map<string, { restarts: ProcessName[]; files: pulumi.Input<FileSpec>[] }>();
        const add = (restarts: ProcessName[], spec: pulumi.Input<FileSpec>) => {
            const sorted = [...restarts].sort();
            const id = sorted.length > 0 ? sorted.join("+") : "no-restart";
            const g = groups.get(id) ?? { restarts: sorted, files: [] };
            g.files.push(spec);
            groups.set(id, g);
        };
        for (const f of bundle.files) {
            const spec = pulumi.output(contentOf(f, material)).apply((content) => fileSpec(f.path, content, f.mode, f.owner ?? root, f.dir));
            add(f.onChange === "restart" ? f.readers : [], spec);
        }
        for (const p of bundle.processes) add([p.name], fileSpec(plan.argsFiles[p.name], `${p.argv.join("\n")}\n`, 0o600, root));
        if (stock) {
            const targets = {
                apiServerArgs: plan.argsFiles["kube-apiserver"],
                controllerManagerArgs: plan.argsFiles["kube-controller-manager"],
                controllerManagerKubeconfig: configFile(layout, "controllerManager"),
                schedulerArgs: plan.argsFiles["kube-scheduler"],
                schedulerKubeconfig: configFile(layout, "scheduler"),
                etcdArgs: plan.argsFiles.etcd,
                etcdDataDir: layout.etcdDataDir,
            };
            add([], fileSpec(plan.kubeBenchConfig, toYaml(kubeBenchConfig(stock, targets)), 0o600, root));
            this.kubeBenchConfigPath = plan.kubeBenchConfig;
        }
        const sets: pulumi.Resource[] = [];
        for (const [id, g] of groups) {
            const set = new LocalFileSet(`${name}-files-${id}`, { files: g.files }, { ...child, dependsOn: etcdUser ? [etcdUser] : [] });
            sets.push(set);
            for (const r of g.restarts) hashes[r].push(set.sha256);
        }

        const installed: Partial<Record<ProcessName, LocalFile>> = {};
        if (plan.installedEtcd) {
            const f = new LocalFile(`${name}-bin-etcd`, { path: plan.installedEtcd, source: sourceBinary(plan, bundle.processes[0]), mode: 0o755, dirMode: 0o755, owner: "root:root" }, child);
            hashes.etcd.push(f.sha256);
            installed.etcd = f;
        }

        const started: Partial<Record<ProcessName, LocalProcess>> = {};
        const start = (p: PlannedProcess, dependsOn: pulumi.Resource[]) => {
            const proc = new LocalProcess(`${name}-${p.name}`, {
                name: p.name,
                command: p.command,
                // The supervisor starts it from the argument file; the argv here only marks a change.
                args: p.argv,
                argsFile: plan.argsFiles[p.name],
                logFile: plan.logFiles[p.name],
                health: p.health,
                inputsDigest: pulumi.all(hashes[p.name]).apply((h) => h.join(",")),
                startTimeoutSeconds: 90,
                stopTimeoutSeconds: 20,
                ...(p.retriesStart ? { startAttempts: 3 } : {}),
                ...(p.user ? { user: p.user } : {}),
                dirs: p.dirs.map((d) => ({ path: d.path, mode: d.mode, ...(d.owner ? { owner: d.owner } : root ? { owner: root } : {}) })),
            }, { ...child, dependsOn: [...dependsOn, ...p.after.map((a) => started[a]!), ...(installed[p.name] ? [installed[p.name]!] : [])] });
            started[p.name] = proc;
            return proc;
        };
        // In the order the control plane needs them; those with the same predecessors start in parallel.
        const ordered = PROCESSES.map((n) => bundle.processes.find((p) => p.name === n)!);
        for (const p of ordered) start(p, p.after.length === 0 ? [...markers, ...sets, purge, ...(etcdUser ? [etcdUser] : [])] : [purge]);
        const apiserver = started["kube-apiserver"]!;
        const bootstrap = new AdminBootstrap(`${name}-admin-bootstrap`, {
            server: cluster.server,
            caCertPem: this.pki.cas.kubernetes.certPem,
            caKeyPem: this.pki.cas.kubernetes.keyPem,
        }, { ...child, dependsOn: [apiserver] });
        const controllers = [started["kube-controller-manager"]!, started["kube-scheduler"]!];

        this.kubeconfigPath = configFile(layout, "admin");
        this.kubeconfig = pulumi.secret(this.pki.kubeconfigs.admin);
        this.caCertPem = this.pki.cas.kubernetes.certPem;
        const users = this.pki.kubeconfigSpecs.filter((s) => s.name.startsWith(kubeconfigNames.user("")));
        this.userKubeconfigs = pulumi.secret(pulumi.all(users.map((s) => this.pki.kubeconfigs[s.name]))
            .apply((yamls) => Object.fromEntries(users.map((s, i) => [s.name.slice(kubeconfigNames.user("").length), yamls[i]]))));
        this.ready = pulumi.all([bootstrap.id, ...controllers.map((c) => c.id)]).apply(() => cluster.server);
        // In-cluster objects are deleted through this provider before the controllers stop (they depend on it),
        // so the garbage collector is still there to finish foreground deletions.
        this.provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: this.kubeconfig, enableServerSideApply: true }, { ...child, dependsOn: [bootstrap, ...controllers] });
        this.posture = {
            ...cluster.posture,
            platform: { ...cluster.posture.platform, layout: local.layoutKind, purgeOnDestroy: local.purgeOnDestroy },
        };
        this.registerOutputs({ server: this.server, kubeconfigPath: this.kubeconfigPath, kubeconfig: this.kubeconfig, ready: this.ready });
    }
}

function fileSpec(path: string, content: string, mode: number, owner: string | undefined, dir?: { mode: number; owner?: string }): FileSpec {
    // Unset fields are left out, not undefined: the engine's encoding has no undefined.
    return { path, content, mode, dirMode: dir?.mode ?? 0o700, ...(owner ? { owner } : {}), ...(dir?.owner ? { dirOwner: dir.owner } : {}) };
}

/** Where a process's binary comes from: the toolchain, even when the system layout runs an installed copy. */
function sourceBinary(plan: LocalStackPlan, p: PlannedProcess): string {
    return p.command === plan.installedEtcd ? path.join(plan.toolchainBin, p.name) : p.command;
}
