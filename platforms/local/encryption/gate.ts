// The rotation's guards, checked while the stack is planned (so at preview, before any resource changes):
// - a setting that takes a key out of the encryption file is refused while etcd still holds a value written
//   with it, or when etcd cannot be read to tell: once the file has lost a key, every value it wrote is unreadable;
// - a key name this stack used before and has since deleted is refused: the name is in every old ciphertext's
//   prefix (in backups too), and new material under it would be taken for the old;
// - a KEK id of the local KMS plugin that leaves local.kmsKeyIds while etcd holds values it wrapped is refused.
import * as fs from "node:fs";
import { fail, key } from "../../../components/common";
import { configuredKeys, encryptionRefs, EtcdKv, valuesUsing, valuesWrappedWith } from "../../../components/encryption/scan";
import { backupTarget, EtcdAccess, registryValues } from "../backup/target";
import { LocalStackPlan, usesKms } from "../plan";
import { encryptionConfigFile, KeyHistory, keyHistoryFile } from "./job";

export interface GateDeps {
    /** The file as the apiservers read it now; undefined when there is none yet. */
    readConfig(file: string): string | undefined;
    values(etcd: EtcdAccess): EtcdKv[];
    /** The key history the last finished rollout wrote; undefined when there is none. */
    readHistory(file: string): KeyHistory | undefined;
}

const liveDeps: GateDeps = {
    readConfig(file) {
        try {
            return fs.readFileSync(file, "utf8");
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
            throw new Error(`cannot read ${file}: ${(e as Error).message}`);
        }
    },
    values: (etcd) => registryValues(etcd),
    readHistory(file) {
        const text = liveDeps.readConfig(file);
        return text === undefined ? undefined : (JSON.parse(text) as KeyHistory);
    },
};

/** The keys the current file holds that the planned one drops. */
export function droppedKeys(currentYaml: string, planned: readonly { provider: string; name: string }[]): string[] {
    const next = encryptionRefs(planned);
    return configuredKeys(currentYaml).filter((k) => !next.includes(k));
}

/** The KEK ids the plugin's keys file on disk holds (names only; the file's key material is not kept). */
function kekIdsOnDisk(plan: LocalStackPlan, deps: GateDeps): string[] {
    const text = deps.readConfig(plan.local.kms.keysFile);
    if (text === undefined) return [];
    return Object.keys((JSON.parse(text) as { keys?: Record<string, unknown> }).keys ?? {});
}

export function checkKekChanges(plan: LocalStackPlan, localKey: string, deps: GateDeps = liveDeps): void {
    if (!usesKms(plan)) return;
    const dropped = kekIdsOnDisk(plan, deps).filter((id) => !plan.local.kms.keyIds.includes(id));
    if (dropped.length === 0) return;
    const setting = key(localKey, "kmsKeyIds");
    const { toolchainBin, members, client } = backupTarget(plan);
    let kvs: EtcdKv[];
    try {
        kvs = deps.values({ toolchainBin, members, client });
    } catch (e) {
        fail(setting, plan.local.kms.keyIds, `it drops KEK ${dropped.join(", ")}, and etcd cannot be read to check that no value still needs it (${(e as Error).message})`);
    }
    const { count, sample } = valuesWrappedWith(kvs, dropped);
    if (count > 0) fail(setting, plan.local.kms.keyIds, `it drops KEK ${dropped.join(", ")} while etcd still holds ${count} values wrapped with it (e.g. ${sample[0]}); keep it until an up with the new KEK has rewritten them`);
}

export function checkKeyChanges(plan: LocalStackPlan, configKey: string, deps: GateDeps = liveDeps): void {
    const enc = plan.cluster.resolved.encryptionResolved;
    const current = deps.readConfig(encryptionConfigFile(plan));
    const history = deps.readHistory(keyHistoryFile(plan));
    if (history) {
        const inFile = current === undefined ? [] : configuredKeys(current);
        enc.keys.forEach((k, i) => {
            const ref = encryptionRefs([k])[0];
            if (history.used.includes(ref) && !history.keys.includes(ref) && !inFile.includes(ref)) {
                fail(key(configKey, "keys", i, "name"), k.name, `this stack used ${ref} before and has deleted its material; old ciphertexts (in etcd backups too) name it, so a new key needs a name never used`);
            }
        });
    }
    if (current === undefined) return;
    const dropped = droppedKeys(current, enc.rendered);
    if (dropped.length === 0) return;
    const [setting, value] = enc.stage === "retire" ? [key(configKey, "stage"), enc.stage] : [key(configKey, "keys"), enc.keys.map((k) => k.name)];
    const { toolchainBin, members, client } = backupTarget(plan);
    let kvs: EtcdKv[];
    try {
        kvs = deps.values({ toolchainBin, members, client });
    } catch (e) {
        fail(setting, value, `it drops ${dropped.join(", ")} from the encryption config, and etcd cannot be read to check that no value still needs ${dropped.length > 1 ? "them" : "it"} (${(e as Error).message}); bring the cluster up with the current settings first`);
    }
    const { count, sample } = valuesUsing(kvs, dropped);
    if (count > 0) {
        fail(setting, value, `it drops ${dropped.join(", ")} from the encryption config while etcd still holds ${count} values written with ${dropped.length > 1 ? "them" : "it"} (e.g. ${sample[0]}); run pulumi up in the previous stage until its rewrite finishes (details.encryption.staleValues reads 0)`);
    }
}
