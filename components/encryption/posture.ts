// What this block's settings mean for security, as data a report or test can read, and the apiserver flags
// that switch it on.
import type { Weakening } from "../common";
import { EncryptionOptions, EncryptionProvider, RotationStage, resolveEncryption } from "./options";

export interface EncryptionPosture {
    /** Provider that encrypts new writes. */
    writeProvider: EncryptionProvider;
    writeKey: string;
    stage: RotationStage;
    /** Keys the apiserver can decrypt with, writer first. */
    keyNames: string[];
    resources: string[];
    readUnencrypted: boolean;
    weakenings: Weakening[];
}

// Upstream's own guidance on the local AES modes (kubernetes.io, "Encrypting Confidential Data at Rest").
const WEAK_PROVIDERS: Partial<Record<EncryptionProvider, string>> = {
    aescbc: "AES-CBC is open to padding-oracle attacks; upstream recommends secretbox or KMS v2 instead",
    aesgcm: "AES-GCM uses random nonces, so each key must be rotated before about 200,000 writes; " +
        "this block rotates only when you run the stages",
};

export function encryptionPosture(options: EncryptionOptions | undefined, configKey = "encryption", platformKmsEndpoint?: string): EncryptionPosture {
    const r = resolveEncryption(options, configKey, platformKmsEndpoint);
    const weakenings: Weakening[] = [];
    for (const k of r.rendered) {
        const effect = WEAK_PROVIDERS[k.provider];
        if (effect && !weakenings.some((w) => w.option === k.providerOption)) {
            weakenings.push({ option: k.providerOption, effect: `${k.provider}: ${effect}` });
        }
    }
    if (r.readUnencrypted) {
        weakenings.push({
            option: `${configKey}.readUnencrypted`,
            effect: "identity is the last provider: plaintext objects in etcd are served as if they were encrypted; " +
                "rewrite every covered object, then turn this off",
        });
    }
    return {
        writeProvider: r.rendered[0].provider,
        writeKey: r.rendered[0].name,
        stage: r.stage,
        keyNames: r.rendered.map((k) => k.name),
        resources: r.resources,
        readUnencrypted: r.readUnencrypted,
        weakenings,
    };
}

/**
 * kube-apiserver flags (names without dashes). Automatic reload lets each rotation stage take effect by
 * rewriting the file, without an apiserver restart; upstream notes it also stops KMS plugins from being told
 * apart in /healthz, which matters only with several KMS plugins.
 */
export function encryptionApiServerFlags(configFilePath: string): Record<string, string> {
    return {
        "encryption-provider-config": configFilePath,
        "encryption-provider-config-automatic-reload": "true",
    };
}
