// The local platform's KMS v2 plugin: hc-kms-plugin (built by the toolchain from toolchain/go/kms-plugin) as a
// supervised process serving every apiserver of the stack on one unix socket in a 0700 directory. It runs only
// when an encryption key has provider "kms". Its key-encryption keys come from @pulumi/random, one per id in
// local.kmsKeyIds (current last), in a 0600 keys file it reads again on change: adding an id rotates the KEK
// with no restart of the plugin or of any apiserver.
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { LocalFileSet } from "./file-set";
import { fileSpec } from "./node";
import { LocalStackPlan, usesKms } from "./plan";
import { LocalProcess } from "./process";

export { usesKms };
export const KMS_PLUGIN_BINARY = "hc-kms-plugin";

export function kmsPluginBinary(plan: Pick<LocalStackPlan, "toolchainBin">): string {
    return path.join(plan.toolchainBin, KMS_PLUGIN_BINARY);
}

/** The keys file: ids in order, the last one current. */
export function kmsKeysFile(keyIds: readonly string[], material: readonly string[]): string {
    return JSON.stringify({ current: keyIds[keyIds.length - 1], keys: Object.fromEntries(keyIds.map((id, i) => [id, material[i]])) }, null, 2) + "\n";
}

/** Started before the apiservers (they dial it at start); undefined when no encryption key uses it. */
export function deliverKmsPlugin(name: string, plan: LocalStackPlan, root: string | undefined, after: pulumi.Resource[], opts: pulumi.CustomResourceOptions): LocalProcess | undefined {
    if (!usesKms(plan)) return undefined;
    const { kms, runDir } = plan.local;
    const material = kms.keyIds.map((id) => pulumi.secret(new random.RandomBytes(`${name}-kms-${id}`, { length: 32 }, opts).base64));
    const keysFile = pulumi.secret(pulumi.all(material).apply((m) => fileSpec(kms.keysFile, kmsKeysFile(kms.keyIds, m), 0o600, root)));
    const keys = new LocalFileSet(`${name}-kms-keys`, { files: [keysFile] }, { ...opts, dependsOn: after });
    return new LocalProcess(`${name}-kms-plugin`, {
        name: "kms-plugin",
        command: kmsPluginBinary(plan),
        args: [`--listen=${kms.socket}`, `--keys-file=${kms.keysFile}`],
        logFile: path.join(runDir, "kms", "kms-plugin.log"),
        health: { kind: "unix", path: kms.socket },
        // Not the keys file's hash: the plugin reloads it, and a restart is what a KEK rotation must not need.
        startTimeoutSeconds: 30,
        stopTimeoutSeconds: 10,
        dirs: [{ path: path.dirname(kms.socket), mode: 0o700, ...(root ? { owner: root } : {}) }],
    }, { ...opts, dependsOn: [keys, ...after] });
}
