// The encryption rollout as a Pulumi resource: each `pulumi up` that changes the encryption file runs
// rollout.ts once every apiserver is up, and the up succeeds only when every apiserver runs on the new file
// and etcd holds no value the file's first key did not write. A run that fails (or is killed) leaves the
// resource's previous state, so the next up runs it again and the rewrite resumes from its checkpoint.
//
// The provider is serialized into the state (see process.ts): modules are required inside its methods.
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { configHash } from "../../../components/encryption/reload";
import { LocalFileSet } from "../file-set";
import { fileSpec } from "../node";
import type { LocalStackPlan } from "../plan";
import { rolloutDir, rolloutJob } from "./job";

interface RolloutInputs {
    /** node's command line for rollout.ts, and its environment. */
    argv: string[];
    env: Record<string, string>;
    jobFile: string;
    jobDigest: string;
    /** The file's hash as the apiservers report it: a changed file runs the rollout again. */
    configHash: string;
    writer: string;
    logFile: string;
    /** A rewrite's checkpoint: while it exists the rollout has work left, whatever else changed. */
    checkpointFile: string;
}

interface RolloutProvider extends pulumi.dynamic.ResourceProvider {
    run(i: RolloutInputs): Promise<Record<string, unknown>>;
}

const rolloutProvider: RolloutProvider = {
    async create(i: RolloutInputs) {
        return { id: "rollout", outs: { ...i, ...(await rolloutProvider.run(i)) } };
    },
    async diff(_id: string, olds: RolloutInputs, news: RolloutInputs) {
        const fs: typeof import("node:fs") = require("node:fs");
        const changes = (["configHash", "writer", "jobDigest"] as const).some((k) => olds[k] !== news[k]) || fs.existsSync(news.checkpointFile);
        return { changes, replaces: [] };
    },
    async update(_id: string, _olds: RolloutInputs, news: RolloutInputs) {
        return { outs: { ...news, ...(await rolloutProvider.run(news)) } };
    },
    async run(i: RolloutInputs) {
        const cp: typeof import("node:child_process") = require("node:child_process");
        const fs: typeof import("node:fs") = require("node:fs");
        const log = fs.openSync(i.logFile, "a", 0o600);
        try {
            const child = cp.spawn(i.argv[0], [...i.argv.slice(1), i.jobFile], { env: { ...process.env, ...i.env }, stdio: ["ignore", "pipe", log] });
            let out = "";
            child.stdout!.on("data", (d: Buffer) => (out += d));
            const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
                child.on("error", reject);
                child.on("exit", (c, s) => resolve([c, s]));
            });
            if (code !== 0) {
                const tail = fs.readFileSync(i.logFile, "utf8").trim().split("\n").slice(-5).join("\n");
                throw new Error(`encryption rollout ${signal ? `killed by ${signal}` : `exited ${code}`}; the next pulumi up resumes it. ${i.logFile} (tail):\n${tail}`);
            }
            const result = JSON.parse(out.trim().split("\n").pop() ?? "{}");
            return {
                staleValues: result.after?.stale ?? -1,
                scannedValues: result.after?.scanned ?? -1,
                keyRefs: result.after?.refs ?? {},
                kmsKeyIds: result.after?.kmsKeyIds ?? {},
                loadedAfterSeconds: result.loadedAfterSeconds,
                rewritten: result.rewrite?.rewritten ?? 0,
                rewriteSeconds: result.rewrite?.seconds ?? 0,
                rewritePerSecond: result.rewrite?.perSecond ?? 0,
                resumedAt: result.rewrite?.resumedAt ?? 0,
            };
        } finally {
            fs.closeSync(log);
        }
    },
};

export class EncryptionRollout extends pulumi.dynamic.Resource {
    declare readonly staleValues: pulumi.Output<number>;
    declare readonly keyRefs: pulumi.Output<Record<string, number>>;
    /** KMS v2 values by the KEK id that wrapped their data key. */
    declare readonly kmsKeyIds: pulumi.Output<Record<string, number>>;
    declare readonly rewritten: pulumi.Output<number>;
    declare readonly rewritePerSecond: pulumi.Output<number>;
    /** Objects the last rewrite found already done in its checkpoint (0: it started afresh). */
    declare readonly resumedAt: pulumi.Output<number>;

    constructor(name: string, args: { [K in keyof RolloutInputs]: pulumi.Input<RolloutInputs[K]> }, opts?: pulumi.CustomResourceOptions) {
        super(rolloutProvider, name, {
            ...args, staleValues: undefined, scannedValues: undefined, keyRefs: undefined, kmsKeyIds: undefined, loadedAfterSeconds: undefined,
            rewritten: undefined, rewriteSeconds: undefined, rewritePerSecond: undefined, resumedAt: undefined,
        }, opts, "hardened-cluster", "EncryptionRollout");
    }
}

/** node's command line for rollout.ts: compiled, it runs as is; from source, through ts-node's transpiler. */
export function rolloutArgv(entry = path.join(__dirname, `rollout${path.extname(__filename)}`)): string[] {
    return entry.endsWith(".ts") ? [process.execPath, "-r", require.resolve("ts-node/register/transpile-only"), entry] : [process.execPath, entry];
}

/** Runs after `after` (every serving apiserver) on each up that changes the encryption file. */
export function deliverEncryptionRollout(name: string, plan: LocalStackPlan, configYaml: pulumi.Output<string>, root: string | undefined,
    after: pulumi.Resource[], opts: pulumi.CustomResourceOptions): EncryptionRollout {
    const job = rolloutJob(plan);
    const dir = rolloutDir(plan);
    const jobFile = path.join(dir, "rollout-job.json");
    const set = new LocalFileSet(`${name}-encryption-rollout-job`, { files: [fileSpec(jobFile, JSON.stringify(job, null, 2) + "\n", 0o600, root)] }, opts);
    return new EncryptionRollout(`${name}-encryption-rollout`, {
        argv: rolloutArgv(),
        env: { TS_NODE_PROJECT: path.resolve(__dirname, "../../../tsconfig.json") },
        jobFile,
        jobDigest: set.sha256,
        // A hash of the file's bytes: it names the file without revealing a key.
        configHash: pulumi.unsecret(configYaml.apply((y) => configHash(y))),
        writer: job.writer,
        logFile: path.join(dir, "rollout.log"),
        checkpointFile: job.checkpointFile,
    }, { ...opts, dependsOn: [set, ...after] });
}
