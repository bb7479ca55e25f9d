// The local platform: a hardened control plane as processes on this machine, from the same PKI,
// encryption, audit and settings components every platform uses. It writes the files, starts etcd,
// kube-apiserver, kube-controller-manager and kube-scheduler in order, bootstraps the admin group's
// binding, and hands back a Kubernetes provider for whatever the program applies next.
import * as fs from "node:fs";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { AuditLogOptions, auditLogFiles, auditPosture, renderAuditPolicy, renderAuditWebhookConfig } from "../../components/audit";
import { configFile, pkiFiles, pkiPair, toYaml } from "../../components/common";
import { controlPlaneFileList } from "../../components/control-plane";
import { EncryptionAtRest, EncryptionOptions } from "../../components/encryption";
import { AdminBootstrap, ClusterPki, pkiFileSet } from "../../components/pki";
import { LocalFile } from "./file";
import { kubeBenchConfig } from "./kube-bench";
import { LocalOptions } from "./options";
import { claimedDirs, LocalControlPlaneOptions, LocalPkiOptions, MARKER, planLocal, ProcessName } from "./plan";
import { HealthCheck, LocalProcess } from "./process";
import { servingPair } from "./serving";
import { LocalPurge } from "./purge";
import { SystemUser } from "./user";

export interface LocalClusterArgs {
    /** The stack name: keys the state directory and the system-layout markers. */
    stack: string;
    /** Directory holding etcd, kube-apiserver, kube-controller-manager and kube-scheduler. */
    toolchainBin: string;
    /** kube-bench's cfg directory; when given, a kube-bench config pointing at this cluster's files is written. */
    kubeBenchCfg?: string;
    local?: LocalOptions;
    pki?: LocalPkiOptions;
    encryption?: EncryptionOptions;
    audit?: AuditLogOptions;
    controlPlane?: LocalControlPlaneOptions;
    /** Roots of error keys, e.g. { local: "hardened-cluster:local" }. */
    configKeys?: { local?: string; pki?: string; encryption?: string; audit?: string; controlPlane?: string };
}

type Readers = ProcessName[];

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
        // Everything that can be wrong with the input fails here, before the component registers.
        const plan = planLocal({ ...args, configKeys: args.configKeys });
        for (const p of ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"]) {
            if (!fs.existsSync(path.join(args.toolchainBin, p))) {
                throw new Error(`local platform: ${p} is not in ${args.toolchainBin} (build the toolchain: npm run toolchain)`);
            }
        }
        let stock: Record<string, unknown> | undefined;
        if (args.kubeBenchCfg) {
            const stockFile = path.join(args.kubeBenchCfg, "config.yaml");
            if (!fs.existsSync(stockFile)) throw new Error(`local platform: ${stockFile} is missing (build the toolchain: npm run toolchain)`);
            stock = parse(fs.readFileSync(stockFile, "utf8"));
        }
        super("hardened-cluster:local:LocalCluster", name, {}, opts);
        const { local, controlPlane } = plan;
        const layout = local.layout;
        const system = local.layoutKind === "system";
        const child = { parent: this };

        this.server = plan.server;
        this.stateDir = system ? layout.configDir : path.dirname(local.runDir);
        this.pki = new ClusterPki(`${name}-pki`, {
            options: plan.pki,
            servers: { external: plan.server },
            configKey: args.configKeys?.pki ?? "pki",
        }, child);
        const encryption = new EncryptionAtRest(`${name}-encryption`, {
            options: args.encryption,
            configKey: args.configKeys?.encryption ?? "encryption",
        }, child);

        const argv = plan.args;
        // A process reads a file exactly when its command line names it; a renewed certificate then restarts
        // only its readers. (Files named only inside other files, such as the EventRateLimit config, say so.)
        const readersOf = (filePath: string): Readers =>
            (Object.keys(argv) as ProcessName[]).filter((p) => argv[p].some((a) => a.endsWith(`=${filePath}`) || a.includes(`=${filePath},`)));
        const hashes: Record<ProcessName, pulumi.Output<string>[]> = {
            etcd: [], "kube-apiserver": [], "kube-controller-manager": [], "kube-scheduler": [],
        };
        const files: LocalFile[] = [];
        // etcd's own user must exist before the files it owns are written.
        const etcdUser = system ? new SystemUser(`${name}-etcd-user`, { name: local.etcdUser! }, child) : undefined;
        interface Placement { owner?: string; dirOwner?: string; dirMode?: number; retain?: boolean }
        const write = (id: string, filePath: string, content: pulumi.Input<string>, mode: number, readers: Readers, where: Placement = {}) => {
            const f = new LocalFile(`${name}-${id}`, {
                path: filePath, content, mode, dirMode: where.dirMode ?? 0o700, owner: where.owner ?? plan.owner?.root,
                ...(where.dirOwner ? { dirOwner: where.dirOwner } : {}),
            }, { ...child, dependsOn: etcdUser && (where.owner ?? where.dirOwner) ? [etcdUser] : [], retainOnDelete: where.retain });
            files.push(f);
            for (const r of readers) hashes[r].push(f.sha256);
            return f;
        };
        // etcd's key directory stays root's: etcd may read it through its group, never write it, so nothing it
        // plants there can redirect a write made as root.
        const etcdKeyDir: Placement = system ? { dirOwner: plan.owner!.etcdReader, dirMode: 0o750 } : {};

        // Markers first: they are what lets a later run of this stack reuse its directories. The data directory's
        // marker is written while root still owns the directory; once etcd owns it, root never writes there again.
        // Unless destroy purges, the data outlives the stack, so its markers do too: only this stack may reuse it.
        for (const dir of claimedDirs(local)) {
            write(`marker${dir.replace(/\//g, "-")}`, path.join(dir, MARKER), args.stack, 0o600, [],
                { ...(dir === local.etcdServerPkiDir ? etcdKeyDir : {}), retain: !local.purgeOnDestroy });
        }
        // Deleted after every process has stopped (they depend on it); purges only with local.purgeOnDestroy.
        const purge = new LocalPurge(`${name}-purge`, { enabled: local.purgeOnDestroy, dirs: [layout.etcdDataDir, layout.auditLogDir] }, child);

        // PKI. In the system layout the etcd server and peer pairs go to etcd's key directory, root:etcd 0750 with
        // files root:etcd 0640 (CIS 1.1.19 wants /etc/kubernetes/pki root-owned, and etcd only needs to read
        // them); the API server keeps the etcd CA and its client pair.
        const etcdOwnFiles = new Set([pkiFiles.etcdCa, pkiFiles.etcdServer, pkiFiles.etcdPeer].flatMap((b) => Object.values(pkiPair(plan.etcdLayout, b, true))));
        const etcdServerOnly = new Set([pkiFiles.etcdServer, pkiFiles.etcdPeer].flatMap((b) => Object.values(pkiPair(layout, b, true))));
        const kubeletConf = configFile(layout, "kubelet"); // no kubelet on this platform
        for (const f of pkiFileSet(this.pki, layout)) {
            if ((system && etcdServerOnly.has(f.path)) || f.path === kubeletConf) continue;
            write(fileId(f.path, layout.configDir), f.path, f.content, f.mode, readersOf(f.path));
        }
        if (system) {
            for (const f of pkiFileSet(this.pki, plan.etcdLayout)) {
                if (!etcdOwnFiles.has(f.path)) continue;
                write(`etcd-own-${path.basename(f.path)}`, f.path, f.content, f.mode | 0o040, readersOf(f.path), { ...etcdKeyDir, owner: plan.owner!.etcdReader });
            }
        }

        for (const component of ["kube-controller-manager", "kube-scheduler"] as const) {
            const pair = servingPair(name, component, this.pki.cas.kubernetes, plan.pki, child);
            const paths = plan.serving[component];
            write(fileId(paths.cert, layout.configDir), paths.cert, pair.certPem, 0o644, readersOf(paths.cert));
            write(fileId(paths.key, layout.configDir), paths.key, pair.keyPem, 0o600, readersOf(paths.key));
        }

        // Settings files. The encryption config is not a restart trigger: the API server reloads it itself
        // (--encryption-provider-config-automatic-reload), which is what makes staged key rotation work.
        write("encryption-config", configFile(layout, "encryption"), encryption.configYaml, 0o600, []);
        const audit = auditLogFiles(layout);
        write("audit-policy", audit.policyFile, toYaml(renderAuditPolicy(args.audit)), 0o600, readersOf(audit.policyFile));
        const auditKey = args.configKeys?.audit ?? "audit";
        if (args.audit?.webhook) {
            write("audit-webhook-config", audit.webhookConfigFile, toYaml(renderAuditWebhookConfig(args.audit.webhook, auditKey)), 0o600, readersOf(audit.webhookConfigFile));
        }
        for (const f of controlPlaneFileList(controlPlane)) {
            if (f.path === controlPlane.filePaths.kubeletConfig) continue; // no kubelet on this platform
            // The EventRateLimit config is named by the admission config, not by a flag.
            const readers = f.path === controlPlane.filePaths.eventRateLimit ? ["kube-apiserver" as const] : readersOf(f.path);
            write(fileId(f.path, layout.configDir), f.path, f.content, 0o600, readers);
        }

        // Args files: the record of each process's command line (what kube-bench's file checks look at).
        for (const p of Object.keys(argv) as ProcessName[]) {
            write(`args-${p}`, plan.argsFiles[p], `${argv[p].join("\n")}\n`, 0o600, []);
        }
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
            write("kube-bench-config", plan.kubeBenchConfig, toYaml(kubeBenchConfig(stock, targets)), 0o600, []);
            this.kubeBenchConfigPath = plan.kubeBenchConfig;
        }

        // etcd runs as its own user, who cannot reach the toolchain cache under root's home: the system layout
        // installs the binary root-owned next to the stack's other run files.
        const binary = (p: ProcessName): { command: string; installed?: LocalFile } => {
            if (!(system && p === "etcd")) return { command: path.join(args.toolchainBin, p) };
            const target = path.join(local.runDir, "bin", p);
            const f = new LocalFile(`${name}-bin-${p}`, { path: target, source: path.join(args.toolchainBin, p), mode: 0o755, dirMode: 0o755, owner: "root:root" }, child);
            hashes[p].push(f.sha256);
            return { command: target, installed: f };
        };

        // Processes, in the order the control plane needs them.
        const digest = (p: ProcessName) => pulumi.all(hashes[p]).apply((h) => h.join(","));
        const start = (p: ProcessName, health: HealthCheck, dependsOn: pulumi.Resource[], extra: { user?: string; startAttempts?: number; dirs?: { path: string; mode: number; owner?: string }[] } = {}) => {
            const bin = binary(p);
            return new LocalProcess(`${name}-${p}`, {
                name: p,
                command: bin.command,
                args: argv[p],
                logFile: plan.logFiles[p],
                health,
                inputsDigest: digest(p),
                startTimeoutSeconds: 90,
                stopTimeoutSeconds: 20,
                ...extra,
            }, { ...child, dependsOn: bin.installed ? [...dependsOn, bin.installed] : dependsOn });
        };

        const etcd = start("etcd", plan.health.etcd, etcdUser ? [...files, etcdUser, purge] : [...files, purge], {
            user: system ? local.etcdUser : undefined,
            dirs: [{ path: layout.etcdDataDir, mode: 0o700, owner: plan.owner?.etcd }],
        });
        const apiserver = start("kube-apiserver", plan.health["kube-apiserver"], [etcd, purge], { dirs: [{ path: layout.auditLogDir, mode: 0o700, owner: plan.owner?.root }] });
        const bootstrap = new AdminBootstrap(`${name}-admin-bootstrap`, {
            server: plan.server,
            caCertPem: this.pki.cas.kubernetes.certPem,
            caKeyPem: this.pki.cas.kubernetes.keyPem,
        }, { ...child, dependsOn: [apiserver] });
        // Both exit for good when they cannot renew their leader lease, which a restarting API server causes:
        // a new API server (new id) restarts them too, after it is healthy.
        for (const p of ["kube-controller-manager", "kube-scheduler"] as const) hashes[p].push(apiserver.id);
        // The controller manager exits when the RBAC bootstrap roles do not exist yet, hence after /readyz
        // and with more than one attempt.
        const kcm = start("kube-controller-manager", plan.health["kube-controller-manager"], [apiserver], { startAttempts: 3 });
        const scheduler = start("kube-scheduler", plan.health["kube-scheduler"], [apiserver], { startAttempts: 3 });

        this.kubeconfigPath = configFile(layout, "admin");
        this.kubeconfig = pulumi.secret(this.pki.kubeconfigs.admin);
        this.caCertPem = this.pki.cas.kubernetes.certPem;
        const users = this.pki.kubeconfigSpecs.filter((k) => k.name.startsWith("user-"));
        this.userKubeconfigs = pulumi.secret(pulumi.all(users.map((k) => this.pki.kubeconfigs[k.name]))
            .apply((yamls) => Object.fromEntries(users.map((k, i) => [k.name.slice("user-".length), yamls[i]]))));
        this.ready = pulumi.all([bootstrap.id, kcm.id, scheduler.id]).apply(() => plan.server);
        this.provider = new k8s.Provider(`${name}-k8s`, {
            kubeconfig: this.kubeconfig,
            enableServerSideApply: true,
        }, { ...child, dependsOn: [bootstrap, kcm, scheduler] });
        this.posture = {
            platform: "local",
            layout: local.layoutKind,
            purgeOnDestroy: local.purgeOnDestroy,
            endpoint: plan.server,
            controlPlane: controlPlane.posture,
            pki: this.pki.posture,
            audit: auditPosture(args.audit, auditKey),
        };
        this.registerOutputs({ server: this.server, kubeconfigPath: this.kubeconfigPath, kubeconfig: this.kubeconfig, ready: this.ready });
    }
}

/** A stable resource name from a path under the state directory, e.g. "pki-etcd-ca.crt". */
function fileId(filePath: string, root: string): string {
    const rel = path.relative(root, filePath);
    return (rel.startsWith("..") ? filePath : rel).replace(/^\/+/, "").replace(/\//g, "-");
}
