// Local worker nodes delivered: the join token and what TLS bootstrapping needs in the cluster (the same objects
// as on AWS), then per node its sandbox, its files (under the node's root, seen by the node at the standard
// paths), the API relay on the node's link, and its supervised processes, entered into the node's namespaces.
import { createHash } from "node:crypto";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { toYaml } from "../../../components/common";
import { clientPairKubeconfig, ClusterPki, IssuedCert, kubeProxyClientPair, networkPolicyClientPair, servingApproverClientPair } from "../../../components/pki";
import { applyWorkerJoin, bootstrapKubeconfig, bootstrapTokenSecret, CLUSTER_CA_PATH, joinToken } from "../../worker-join";
import { balancerArgv } from "../balancer";
import { LocalFileSet } from "../file-set";
import { fileSpec } from "../node";
import { LocalStackPlan } from "../plan";
import { LocalProcess } from "../process";
import { IMAGE_HOST, KUBE_BENCH_NODE_CONFIG_PATH, kubeBenchNodeConfig, KUBELET_ARGS_PATH, LocalWorkerPlan, NSENTER, nodeArgv, nodeSandboxSpec, WorkerContent, WorkerProcessName } from "./plan";
import { NodeSandbox } from "./sandbox";
import { ClusterDns } from "../../../components/cluster-dns";
import { NETWORK_POLICY_USER, networkPolicyRbac } from "../../node-network";
import { applyServingApprover } from "../../serving-approver";
import { planServingApprover } from "./serving-approver";
import { applyUserRole } from "../../user-role";

/** A join token is minted per day; the kubelet needs it only until it holds a client certificate. */
const JOIN_TOKEN_TTL_HOURS = 24;

export interface WorkerDeliveryContext {
    pki: ClusterPki;
    provider: k8s.Provider;
    /** What serves the API (the apiservers, or the balancer): the relays and kubelets start after them. */
    serving: pulumi.Resource[];
    /** kube-bench's stock config, when a kube-bench config is to be written for each node. */
    stock?: Record<string, unknown>;
    parent: pulumi.Resource;
}

/** Resolves once every worker's processes are healthy and the cluster's DNS answers. */
export function deliverWorkers(name: string, plan: LocalStackPlan, ctx: WorkerDeliveryContext): pulumi.Output<string[]> {
    if (plan.workers.length === 0) return pulumi.output([]);
    const child = { parent: ctx.parent };
    const token = joinToken(`${name}-join-token`, JOIN_TOKEN_TTL_HOURS, Date.now(), child);
    const tokenSecret = pulumi.all([token.id, token.secret]).apply(([id, secret]) => toYaml(bootstrapTokenSecret(id, secret, token.expiration, plan.stack)));
    const join = applyWorkerJoin(`${name}-workers`, pulumi.secret(tokenSecret), ctx.provider, child);
    const bearer = pulumi.secret(pulumi.interpolate`${token.id}.${token.secret}`);
    const networkPolicy = applyUserRole(`${name}-network-policy`, networkPolicyRbac(), ctx.provider, { parent: ctx.parent });
    const approver = deliverServingApprover(name, plan, ctx);
    // Each node's sandbox comes after the previous one's, so destroy removes them one at a time, the first last:
    // the last node down sees no other and puts this machine's sysctls back (two at once would each see the other).
    const sandboxes: NodeSandbox[] = [];
    const nodes = plan.workers.flatMap((w) => deliverWorker(`${name}-${w.name}`, plan, w, { ...ctx, join, bearer, networkPolicy, sandboxes }));
    // The cluster's DNS runs as Pods, so it comes once a node can run them; the engine waits until it answers.
    const kubelet = plan.workers[0].kubeletConfig as { clusterDNS: string[]; clusterDomain: string };
    const dns = new ClusterDns(`${name}-dns`, {
        image: `${IMAGE_HOST}/hardened-cluster/coredns:${plan.nodeToolchain.imageTag}`,
        clusterIp: kubelet.clusterDNS[0], clusterDomain: kubelet.clusterDomain, replicas: plan.workers.length, configKey: "local",
    }, { ...child, providers: { kubernetes: ctx.provider }, dependsOn: nodes });
    return pulumi.all([...nodes.map((k) => k.id), dns.deployment.id, approver.id]);
}

/** The serving-certificate approver: its role, its client pair and the cluster CA in files, and its process on this machine. */
function deliverServingApprover(name: string, plan: LocalStackPlan, ctx: WorkerDeliveryContext): LocalProcess {
    const root = "root:root";
    const a = planServingApprover(plan.local.runDir, plan.toolchainBin, `https://${plan.local.address}:${plan.local.ports.apiServer}`);
    const pair = servingApproverClientPair(ctx.pki);
    const set = new LocalFileSet(`${name}-csr-approver-files`, {
        files: [
            ctx.pki.cas.kubernetes.trustPem.apply((t) => fileSpec(a.caFile, t, 0o644, root)),
            pair.certPem.apply((t) => fileSpec(a.certFile, t, 0o644, root)),
            pulumi.secret(pair.keyPem).apply((t) => fileSpec(a.keyFile, t, 0o600, root)),
        ],
    }, { parent: ctx.parent });
    return new LocalProcess(`${name}-csr-approver`, {
        name: "csr-approver",
        command: a.argv[0],
        args: a.argv.slice(1),
        logFile: path.join(a.dir, "csr-approver.log"),
        health: a.health,
        inputsDigest: set.sha256,
        startTimeoutSeconds: 60,
        stopTimeoutSeconds: 10,
        dirs: [{ path: path.dirname(a.statusFile), mode: 0o700, owner: root }],
    }, { parent: ctx.parent, dependsOn: [set, ...ctx.serving, ...applyServingApprover(name, ctx.provider, { parent: ctx.parent })] });
}

/** The node's processes, started in order. */
function deliverWorker(prefix: string, plan: LocalStackPlan, w: LocalWorkerPlan, ctx: WorkerDeliveryContext & { join: pulumi.Resource[]; bearer: pulumi.Output<string>; networkPolicy: pulumi.Resource[]; sandboxes: NodeSandbox[] }): LocalProcess[] {
    const child = { parent: ctx.parent };
    const root = "root:root";
    const sandbox = new NodeSandbox(`${prefix}-sandbox`, nodeSandboxSpec(w, plan.local.ports.apiServer), { ...child, dependsOn: ctx.sandboxes.slice(-1) });
    ctx.sandboxes.push(sandbox);

    const content = (c: WorkerContent): pulumi.Output<string> => {
        if ("text" in c) return pulumi.output(c.text);
        if ("clusterCa" in c) return pulumi.output(ctx.pki.cas.kubernetes.trustPem);
        const clientKubeconfig = (pair: IssuedCert, userName: string) => clientPairKubeconfig(ctx.pki, pair, plan.stack, w.server, userName);
        if ("kubeProxyKubeconfig" in c) return clientKubeconfig(kubeProxyClientPair(ctx.pki), "system:kube-proxy");
        if ("networkPolicyKubeconfig" in c) return clientKubeconfig(networkPolicyClientPair(ctx.pki), NETWORK_POLICY_USER);
        // The CA by path, the file beside it in the node: the kubeconfig the kubelet writes names it too.
        return pulumi.secret(ctx.bearer.apply((bearer) => toYaml(bootstrapKubeconfig(w.server, CLUSTER_CA_PATH, bearer, plan.stack))));
    };
    // The bootstrap kubeconfig is read only until the kubelet holds a client certificate: a new day's token
    // rewrites it without restarting anything.
    // One file set per group of readers, named after them, so a change restarts exactly those processes.
    const groups = new Map<string, { readers: WorkerProcessName[]; files: pulumi.Input<ReturnType<typeof fileSpec>>[] }>();
    const add = (readers: WorkerProcessName[], spec: pulumi.Input<ReturnType<typeof fileSpec>>) => {
        const id = readers.length > 0 ? [...readers].sort().join("+") : "no-restart";
        const g = groups.get(id) ?? { readers, files: [] };
        g.files.push(spec);
        groups.set(id, g);
    };
    for (const f of w.files) {
        add("bootstrapKubeconfig" in f.content ? [] : f.readers, content(f.content).apply((text) => fileSpec(path.join(w.root, f.path), text, f.mode, root)));
    }
    const kubelet = w.processes.find((p) => p.name === "kubelet")!;
    add(["kubelet"], fileSpec(path.join(w.root, KUBELET_ARGS_PATH), `${nodeArgv(w, kubelet.argv).slice(1).join("\n")}\n`, 0o600, root));
    if (ctx.stock) add([], fileSpec(path.join(w.root, KUBE_BENCH_NODE_CONFIG_PATH), toYaml(kubeBenchNodeConfig(ctx.stock)), 0o600, root));
    const digests = new Map<WorkerProcessName, pulumi.Output<string>[]>();
    const sets = [...groups].map(([id, g]) => {
        const set = new LocalFileSet(`${prefix}-files-${id}`, { files: g.files }, { ...child, dependsOn: [sandbox] });
        for (const r of g.readers) digests.set(r, [...(digests.get(r) ?? []), set.sha256]);
        return set;
    });

    // The API as the node reaches it: haproxy on this machine's end of the node's link, passing TLS through to
    // the cluster endpoint on loopback. The API server's certificate names that address.
    const relayDir = path.join(w.root, "relay");
    const relayConfig = renderRelayConfig(w.hostIp, plan.local.ports.apiServer, plan.local.address);
    const relaySet = new LocalFileSet(`${prefix}-relay-files`, { files: [fileSpec(path.join(relayDir, "haproxy.cfg"), relayConfig, 0o600, root)] }, { ...child, dependsOn: [sandbox] });
    const relay = new LocalProcess(`${prefix}-relay`, {
        name: `${w.name}-relay`,
        command: path.join(plan.toolchainBin, "haproxy"),
        args: balancerArgv(path.join(relayDir, "haproxy.cfg")),
        logFile: path.join(relayDir, "relay.log"),
        health: { kind: "tcp", host: w.hostIp, port: plan.local.ports.apiServer },
        inputsDigest: relaySet.sha256,
        startTimeoutSeconds: 30,
        stopTimeoutSeconds: 10,
        dirs: [],
    }, { ...child, dependsOn: [relaySet, ...ctx.serving] });

    const started = new Map<WorkerProcessName, LocalProcess>();
    for (const p of w.processes) {
        const after = p.after.map((a) => started.get(a)!);
        const extra = p.name === "kubelet" ? [relay, ...ctx.join] : p.name === "kube-router" ? ctx.networkPolicy : [];
        const proc = new LocalProcess(`${prefix}-${p.name}`, {
            name: `${w.name}-${p.name}`,
            command: NSENTER,
            args: nodeArgv(w, p.argv).slice(1),
            ...(p.name === "kubelet" ? { argsFile: path.join(w.root, KUBELET_ARGS_PATH) } : {}),
            // containerd finds its runc shim on PATH.
            env: { PATH: `${plan.toolchainBin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` },
            logFile: path.join(w.root, "logs", `${p.name}.log`),
            health: p.health,
            inputsDigest: pulumi.all(digests.get(p.name) ?? []).apply((h) => createHash("sha256").update(h.join(",")).digest("hex")),
            startTimeoutSeconds: 90,
            stopTimeoutSeconds: 20,
            dirs: [{ path: path.join(w.root, "logs"), mode: 0o700, owner: root }],
        }, { ...child, dependsOn: [sandbox, ...sets, ...after, ...extra] });
        started.set(p.name, proc);
    }
    return [...started.values()];
}

/** haproxy passing TCP through from the node's link to the cluster endpoint; nothing else listens there. */
export function renderRelayConfig(listen: string, port: number, target: string): string {
    return [
        "# Written by hardened-cluster: the API server as a local worker node reaches it.",
        "global",
        "  maxconn 512",
        "defaults",
        "  mode tcp",
        "  timeout connect 5s",
        "  timeout client 1h",
        "  timeout server 1h",
        "frontend api",
        `  bind ${listen}:${port}`,
        "  default_backend api",
        "backend api",
        `  server endpoint ${target}:${port}`,
        "",
    ].join("\n");
}
