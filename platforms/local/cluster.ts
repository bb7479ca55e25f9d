// The local platform's delivery: the cluster plan's node bundles as files and supervised processes on this
// machine (node.ts), plus what spans nodes: markers, the apiservers' rolling order and, in the ha topology,
// the balancer. What each file holds and which process reads it comes from components/cluster. Hands back a Kubernetes provider for the in-cluster half.
import * as fs from "node:fs";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { serviceAccountTokenSeconds } from "../../components/cluster";
import { configFile } from "../../components/common";
import { EncryptionAtRest } from "../../components/encryption";
import { AdminBootstrap, AuthenticationTrust, CLUSTER_ADMINS_GROUP, ClusterPki, kubeconfigNames } from "../../components/pki";
import { rotationProbes } from "./certs";
import { deliverBackupSchedule } from "./backup/schedule-process";
import { deliverEncryptionRollout } from "./encryption/rollout-resource";
import { balancerBinary, deliverBalancer } from "./balancer-process";
import { LocalFile } from "./file";
import { deliverKmsPlugin, kmsPluginBinary, usesKms } from "./kms";
import { deliverNode, fileSpec, sourceBinary } from "./node";
import { HA_SETTLE_SECONDS } from "./options";
import { claimedDirs, haNodesDir, LocalStackPlan, MARKER } from "./plan";
import { LocalProcess } from "./process";
import { LocalPurge } from "./purge";
import { deliverWorkers } from "./worker/deliver";
import { workerPosture, workerSources } from "./worker/plan";
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
    /** What the last encryption rollout found in etcd: values not under the file's first key, and keys in use. */
    readonly encryption: Record<string, pulumi.Output<unknown>>;

    constructor(name: string, args: LocalClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        const { plan } = args;
        const { local, cluster } = plan;
        const { resolved } = cluster;
        // A missing binary or kube-bench config fails here, before the component registers anything.
        const sources = [...new Set(cluster.nodes.flatMap((b) => b.processes.map((p) => sourceBinary(plan, p))))];
        if (local.topology === "ha") sources.push(balancerBinary(plan));
        if (usesKms(plan)) sources.push(kmsPluginBinary(plan));
        if (plan.workers.length > 0) sources.push(...workerSources(plan));
        for (const source of sources) {
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
        this.pki = new ClusterPki(`${name}-pki`, {
            options: resolved.pki, servers: { external: cluster.server }, configKey: resolved.keys.pki,
            serviceAccountTokenLifetimeSeconds: serviceAccountTokenSeconds(resolved),
            rotationProbes: rotationProbes(plan),
        }, child);
        const encryption = new EncryptionAtRest(`${name}-encryption`, { options: resolved.encryption, configKey: resolved.keys.encryption, platformKmsEndpoint: resolved.facts.encryption.kmsEndpoint }, child);
        const material = { pki: this.pki, encryptionConfig: encryption.configYaml };

        // etcd's own user must exist before the files it owns are written.
        const etcdUser = system ? new SystemUser(`${name}-etcd-user`, { name: local.etcdUser! }, child) : undefined;
        const ha = local.topology === "ha";

        // Markers first: they are what lets a later run of this stack reuse its directories. Unless destroy
        // purges, the data outlives the stack, so its markers do too: only this stack may reuse it.
        const etcdDir = plan.nodes[0].bundle.files.find((f) => f.path.startsWith(local.etcdServerPkiDir + "/") && f.dir)?.dir;
        const markers = claimedDirs(local).map((dir) => {
            // The ha nodes' directory must stay traversable: etcd reaches its data and keys below it as its own user.
            const dirPlacement = dir === local.etcdServerPkiDir ? etcdDir : dir === haNodesDir(local) ? { mode: 0o711 } : undefined;
            return new LocalFile(`${name}-marker${dir.replace(/\//g, "-")}`, fileSpec(path.join(dir, MARKER), plan.stack, 0o600, root, dirPlacement),
                { ...child, dependsOn: etcdUser && dirPlacement && "owner" in dirPlacement && dirPlacement.owner ? [etcdUser] : [], retainOnDelete: !local.purgeOnDestroy });
        });
        // Deleted after every process has stopped (they depend on it); purges only with local.purgeOnDestroy.
        const purgeDirs = plan.nodes.flatMap((n) => [n.node.layout.etcdDataDir, ...(n.node.etcdOnly ? [] : [n.node.layout.auditLogDir])]);
        const purge = new LocalPurge(`${name}-purge`, { enabled: local.purgeOnDestroy, dirs: purgeDirs }, child);

        const installed = plan.installedEtcd
            ? new LocalFile(`${name}-bin-etcd`, { path: plan.installedEtcd, source: sourceBinary(plan, plan.nodes[0].bundle.processes[0]), mode: 0o755, dirMode: 0o755, owner: "root:root" }, child)
            : undefined;
        const base = [...markers, purge, ...(etcdUser ? [etcdUser] : [])];
        const nodes = plan.nodes.map((n) => deliverNode(name, n, { plan, material, stock, root, etcdUser, installed, ha, base, parent: this, ...(ha ? { apiServerSettleSeconds: HA_SETTLE_SECONDS } : {}) }));
        if (stock) this.kubeBenchConfigPath = plan.nodes[0].kubeBenchConfig;
        // Each apiserver restarts only once the one before it is ready again: a change never takes them all down.
        const kmsPlugin = deliverKmsPlugin(name, plan, root, base, child);
        const apiservers: LocalProcess[] = [];
        for (const n of nodes) {
            const p = n.start("kube-apiserver", [...apiservers.slice(-1), ...(kmsPlugin ? [kmsPlugin] : [])]);
            if (p) apiservers.push(p);
        }
        const controllers = nodes.flatMap((n) => (["kube-controller-manager", "kube-scheduler"] as const).map((c) => n.start(c, [])).filter((p): p is LocalProcess => p !== undefined));
        const balancer = ha ? deliverBalancer(name, plan, this.pki, root, child) : undefined;
        const serving = [...apiservers, ...(balancer ? [balancer] : [])];
        const schedule = deliverBackupSchedule(name, plan, root, serving, child);
        const bootstrap = new AdminBootstrap(`${name}-admin-bootstrap`, {
            server: cluster.server,
            caCertPem: this.pki.cas.kubernetes.certPem,
            caKeyPem: this.pki.cas.kubernetes.keyPem,
        }, { ...child, dependsOn: serving });

        // After every apiserver restarted with the current trust files: what they publish loses any CA dropped.
        const trust = new AuthenticationTrust(`${name}-authentication-trust`, {
            server: cluster.server, signerCertPem: this.pki.cas.kubernetes.certPem, signerKeyPem: this.pki.cas.kubernetes.keyPem,
            clusterTrustPem: this.pki.cas.kubernetes.trustPem, frontProxyTrustPem: this.pki.cas.frontProxy.trustPem, adminGroup: CLUSTER_ADMINS_GROUP,
        }, { ...child, dependsOn: [bootstrap, ...serving] });

        this.kubeconfigPath = configFile(plan.nodes[0].node.layout, "admin");
        this.kubeconfig = pulumi.secret(this.pki.kubeconfigs.admin);
        this.caCertPem = this.pki.cas.kubernetes.trustPem;
        const users = this.pki.kubeconfigSpecs.filter((s) => s.name.startsWith(kubeconfigNames.user("")));
        this.userKubeconfigs = pulumi.secret(pulumi.all(users.map((s) => this.pki.kubeconfigs[s.name]))
            .apply((yamls) => Object.fromEntries(users.map((s, i) => [s.name.slice(kubeconfigNames.user("").length), yamls[i]]))));
        const rollout = deliverEncryptionRollout(name, plan, encryption.configYaml, root, [bootstrap, ...serving], child);
        this.encryption = { staleValues: rollout.staleValues, keyRefs: rollout.keyRefs, kmsKeyIds: rollout.kmsKeyIds, rewritten: rollout.rewritten, rewritePerSecond: rollout.rewritePerSecond, resumedAt: rollout.resumedAt };
        this.ready = pulumi.all([bootstrap.id, trust.id, rollout.id, ...controllers.map((c) => c.id), ...(schedule ? [schedule.id] : [])]).apply(() => cluster.server);
        // In-cluster objects are deleted through this provider before the controllers stop (they depend on it),
        // so the garbage collector is still there to finish foreground deletions.
        // A CA rotation changes the kubeconfig's CA data, which the provider would otherwise take for another
        // cluster and replace, and every object with it; the identifier says it is the same cluster.
        this.provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: this.kubeconfig, enableServerSideApply: true, clusterIdentifier: plan.stack },
            { ...child, dependsOn: [bootstrap, ...controllers] });
        if (local.noWorkerWarning) pulumi.log.warn(local.noWorkerWarning, this);
        const workers = deliverWorkers(name, plan, { pki: this.pki, provider: this.provider, serving, stock, parent: this });
        this.ready = pulumi.all([this.ready, workers]).apply(([server]) => server);
        this.posture = {
            ...cluster.posture,
            platform: { ...cluster.posture.platform, layout: local.layoutKind, purgeOnDestroy: local.purgeOnDestroy, topology: local.topology, workers: workerPosture(plan) },
            backup: { schedule: plan.backup.intervalMinutes ? `every ${plan.backup.intervalMinutes} min` : "on demand", retention: plan.backup.retention },
        };
        this.registerOutputs({ server: this.server, kubeconfigPath: this.kubeconfigPath, kubeconfig: this.kubeconfig, ready: this.ready });
    }
}
