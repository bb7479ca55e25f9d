// The ha topology's cluster endpoint: haproxy on 127.0.0.1 in front of the control-plane nodes' apiservers,
// supervised like the other processes. It passes TLS through (clients keep authenticating to the apiserver
// with their own certificates) and checks each apiserver's /readyz with a client identity that has no rights
// beyond the built-in public-info viewer, so an apiserver shutting down leaves the rotation before it closes.
import { createHash } from "node:crypto";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { apiServerHealthClientPair, ClusterPki } from "../../components/pki";
import { balancerArgv, renderBalancerConfig } from "./balancer";
import { LocalFileSet } from "./file-set";
import { fileSpec } from "./node";
import { HA_BALANCER_CHECK } from "./options";
import { LocalStackPlan } from "./plan";
import { LocalProcess } from "./process";

export function balancerBinary(plan: Pick<LocalStackPlan, "toolchainBin">): string {
    return path.join(plan.toolchainBin, "haproxy");
}

/** Where the balancer keeps its files: a directory of its own in the stack's run directory. */
export function balancerDir(plan: Pick<LocalStackPlan, "local">): string {
    return path.join(plan.local.runDir, "balancer");
}

export function deliverBalancer(name: string, plan: LocalStackPlan, pki: ClusterPki, root: string | undefined, opts: pulumi.CustomResourceOptions): LocalProcess {
    const { local } = plan;
    const dir = balancerDir(plan);
    const files = { config: path.join(dir, "haproxy.cfg"), ca: path.join(dir, "ca.crt"), health: path.join(dir, "health-client.pem"), admin: path.join(dir, "haproxy.sock") };
    const backends = plan.nodes.filter((n) => !n.node.etcdOnly).map((n) => ({ name: n.node.name, address: n.node.ip, port: local.ports.apiServer }));
    const config = renderBalancerConfig({
        listen: local.balancer!,
        backends,
        caFile: files.ca,
        healthClientPem: files.health,
        adminSocket: files.admin,
        healthIntervalMs: HA_BALANCER_CHECK.intervalMs, fall: HA_BALANCER_CHECK.fall, rise: HA_BALANCER_CHECK.rise,
        // As root it reads its files, binds, then drops to an account that owns nothing.
        ...(root ? { user: { user: "nobody", group: "nogroup" } } : {}),
    });
    const health = apiServerHealthClientPair(pki);
    const healthPem = pulumi.secret(pulumi.all([health.certPem, health.keyPem])).apply(([cert, key]) => `${cert.trim()}\n${key.trim()}\n`);
    const set = new LocalFileSet(`${name}-balancer-files`, {
        files: [
            fileSpec(files.config, config, 0o600, root),
            pulumi.output(pki.cas.kubernetes.trustPem).apply((pem) => fileSpec(files.ca, pem, 0o644, root)),
            healthPem.apply((pem) => fileSpec(files.health, pem, 0o600, root)),
        ],
    }, opts);
    // A new CA bundle or health pair (renewal, CA rotation) reloads haproxy, which keeps its listeners: the
    // endpoint never refuses a connection. Only the config or the arguments restart it.
    const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
    const args = path.join(dir, "haproxy.args");
    const argv = balancerArgv(files.config);
    const argsSet = new LocalFileSet(`${name}-balancer-args`, { files: [fileSpec(args, `${argv.join("\n")}\n`, 0o600, root)] }, opts);
    return new LocalProcess(`${name}-balancer`, {
        name: "balancer",
        command: balancerBinary(plan),
        args: argv,
        argsFile: args,
        logFile: path.join(dir, "balancer.log"),
        health: { kind: "tcp", host: local.balancer!.address, port: local.balancer!.port },
        inputsDigest: argsSet.sha256.apply((h) => `${sha256(config)},${h}`),
        reloadDigest: pulumi.all([pki.cas.kubernetes.trustPem, healthPem]).apply(([ca, pem]) => sha256(`${ca}\0${pem}`)),
        startTimeoutSeconds: 30,
        stopTimeoutSeconds: 10,
        dirs: [],
    }, { ...opts, dependsOn: [set, argsSet] });
}
