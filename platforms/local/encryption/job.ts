// What an encryption rollout needs to know about a local stack: plain paths and URLs, no secret. The rollout
// runs as its own process (rollout.ts), so the job goes to it as a JSON file the stack plan decides.
import * as path from "node:path";
import { encryptionRefs } from "../../../components/encryption/scan";
import { controlPlaneFile, LocalStackPlan } from "../plan";
import { backupTarget, EtcdAccess } from "../backup/target";

export interface RolloutJob {
    stack: string;
    /** The API URL the rewrite goes through (the balancer in the ha topology). */
    server: string;
    /** Each apiserver's own origin: every one must report the new file before anything is rewritten. */
    apiservers: string[];
    /** The cluster CA: verifies the apiservers and signs the rewrite's short-lived identity. */
    caCertFile: string;
    caKeyFile: string;
    /** The EncryptionConfiguration file the apiservers read. */
    configFile: string;
    /** "<provider>:<name>" of the file's first key, which every covered object must end up under. */
    writer: string;
    /** A KMS v2 writer: the local plugin's current KEK id, which every value must be wrapped under too. */
    writerKeyId?: string;
    /** The file's resource list ("secrets", "configmaps", "*.apps"). */
    resources: string[];
    etcd: EtcdAccess;
    checkpointFile: string;
    /** Every key name this stack's file has held, and the keys its settings hold now (key-history.json). */
    historyFile: string;
    /** "<provider>:<name>" of every configured key, the old one of a rotation included. */
    keys: string[];
    reloadTimeoutSeconds: number;
}

/** The rollout's run files, beside the other stack run files. */
export function rolloutDir(plan: Pick<LocalStackPlan, "local">): string {
    return path.join(plan.local.runDir, "encryption");
}

/** Key names used before: written by each finished rollout, read by the gate (gate.ts). */
export function keyHistoryFile(plan: Pick<LocalStackPlan, "local">): string {
    return path.join(rolloutDir(plan), "key-history.json");
}

export interface KeyHistory {
    /** Every "<provider>:<name>" the file has held. */
    used: string[];
    /** The configured keys at the last finished rollout: a name here still has its material. */
    keys: string[];
}

export function rolloutJob(plan: LocalStackPlan): RolloutJob {
    const need = (suffix: string) => {
        const f = controlPlaneFile(plan, suffix);
        if (!f) throw new Error(`the stack plan has no ${suffix}`);
        return f;
    };
    const apiservers = plan.nodes.flatMap((n) => n.bundle.processes.filter((p) => p.name === "kube-apiserver"))
        .map((p) => (p.health.kind === "https" ? new URL(p.health.url).origin : undefined))
        .filter((u): u is string => u !== undefined);
    const enc = plan.cluster.resolved.encryptionResolved;
    const { toolchainBin, members, client } = backupTarget(plan);
    return {
        stack: plan.stack, server: plan.cluster.server, apiservers, caCertFile: need("/pki/ca.crt"), caKeyFile: need("/pki/ca.key"),
        configFile: encryptionConfigFile(plan), writer: encryptionRefs([enc.rendered[0]])[0], resources: enc.resources,
        ...(enc.rendered[0].provider === "kms" ? { writerKeyId: plan.local.kms.keyIds[plan.local.kms.keyIds.length - 1] } : {}),
        etcd: { toolchainBin, members, client }, checkpointFile: path.join(rolloutDir(plan), "rewrite-checkpoint.json"),
        historyFile: keyHistoryFile(plan), keys: encryptionRefs(enc.keys),
        // The apiserver polls the file once a minute.
        reloadTimeoutSeconds: 180,
    };
}

/** Where the apiservers read the EncryptionConfiguration from. */
export function encryptionConfigFile(plan: Pick<LocalStackPlan, "nodes">): string {
    const f = plan.nodes.flatMap((n) => n.bundle.files).find((x) => x.kind === "encryption");
    if (!f) throw new Error("the stack plan has no encryption config file");
    return f.path;
}
