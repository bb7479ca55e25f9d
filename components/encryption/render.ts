// Typed options plus key material in, EncryptionConfiguration (apiserver.config.k8s.io/v1) out, as a plain
// object for toYaml(). Pure, so every rotation stage can be tested without Pulumi.
import { fail } from "../common";
import { EncryptionOptions, ResolvedEncryption, ResolvedKey, resolveEncryption } from "./options";

export interface KeyMaterial {
    name: string;
    /** base64 of exactly 32 random bytes. */
    secret: string;
}

interface KeyEntry {
    name: string;
    secret: string;
}

export type ProviderEntry =
    | { secretbox: { keys: KeyEntry[] } }
    | { aescbc: { keys: KeyEntry[] } }
    | { aesgcm: { keys: KeyEntry[] } }
    | { kms: { apiVersion: "v2"; name: string; endpoint: string; timeout?: string } }
    | { identity: Record<string, never> };

export interface EncryptionConfiguration {
    apiVersion: "apiserver.config.k8s.io/v1";
    kind: "EncryptionConfiguration";
    resources: { resources: string[]; providers: ProviderEntry[] }[];
}

export const KEY_BYTES = 32;

/** Strict base64 of exactly 32 bytes: 43 characters and one "=" pad. */
export function isKeyMaterial(secret: unknown): secret is string {
    return typeof secret === "string" && /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/.test(secret) &&
        Buffer.from(secret, "base64").length === KEY_BYTES;
}

export function renderEncryptionConfig(
    options: EncryptionOptions | undefined,
    keys: readonly KeyMaterial[],
    configKey = "encryption",
): EncryptionConfiguration {
    return renderResolved(resolveEncryption(options, configKey), keys);
}

export function renderResolved(r: ResolvedEncryption, keys: readonly KeyMaterial[]): EncryptionConfiguration {
    const providers: ProviderEntry[] = [];
    // Same-type keys share one provider entry, as upstream documents: the first key of the first entry
    // encrypts, and a ciphertext's prefix names the key that decrypts it.
    const byType = new Map<string, KeyEntry[]>();
    for (const k of r.rendered) {
        if (k.provider === "kms") {
            providers.push({ kms: kmsEntry(k) });
            continue;
        }
        const entry: KeyEntry = { name: k.name, secret: material(k, keys) };
        const list = byType.get(k.provider);
        if (list) {
            list.push(entry);
        } else {
            const fresh = [entry];
            byType.set(k.provider, fresh);
            providers.push(localEntry(k.provider, fresh));
        }
    }
    if (r.readUnencrypted) providers.push({ identity: {} });

    return {
        apiVersion: "apiserver.config.k8s.io/v1",
        kind: "EncryptionConfiguration",
        resources: [{ resources: [...r.resources], providers }],
    };
}

function kmsEntry(k: ResolvedKey): { apiVersion: "v2"; name: string; endpoint: string; timeout?: string } {
    // v2 only: KMS v1 is deprecated and disabled by default since Kubernetes 1.29.
    const entry: { apiVersion: "v2"; name: string; endpoint: string; timeout?: string } = {
        apiVersion: "v2",
        name: k.name,
        endpoint: k.endpoint!,
    };
    if (k.timeout !== undefined) entry.timeout = k.timeout;
    return entry;
}

function localEntry(provider: "secretbox" | "aescbc" | "aesgcm", keys: KeyEntry[]): ProviderEntry {
    switch (provider) {
        case "secretbox":
            return { secretbox: { keys } };
        case "aescbc":
            return { aescbc: { keys } };
        case "aesgcm":
            return { aesgcm: { keys } };
    }
}

function material(k: ResolvedKey, keys: readonly KeyMaterial[]): string {
    const found = keys.find((m) => m.name === k.name);
    // The value is never echoed: it is key material.
    if (!found) fail(k.path, k.name, "no key material was supplied for this key");
    if (!isKeyMaterial(found.secret)) fail(k.path, "[redacted]", `key material must be base64 of exactly ${KEY_BYTES} bytes`);
    return found.secret;
}
