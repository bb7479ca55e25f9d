// What a caller may set about encryption at rest, and the one place it is checked and defaulted.
// Options usually arrive as untyped stack config, so every field is checked for type as well as meaning and
// unknown keys are refused: a misspelt `readUnencrypted` must not quietly leave plaintext readable.
import * as path from "node:path";
import { fail, isDnsLabel, isPlainObject, key, knownKeys, oneOf } from "../common";
import { resolveResources } from "./resources";

export const ENCRYPTION_PROVIDERS = ["secretbox", "aescbc", "aesgcm", "kms"] as const;
export type EncryptionProvider = (typeof ENCRYPTION_PROVIDERS)[number];

/**
 * Rotation is a sequence of `pulumi up`s, one per stage, because an HA control plane reloads the file on each
 * apiserver at a different moment; see README.md for the runbook.
 */
export const ROTATION_STAGES = ["steady", "add", "promote", "retire"] as const;
export type RotationStage = (typeof ROTATION_STAGES)[number];

export interface EncryptionKeyOptions {
    /** Unique RFC 1123 label. It is stored in every ciphertext's prefix, so it must never be reused for new material. */
    name: string;
    /** Defaults to the block's `provider`. Differing types let a rotation move from a local key to KMS. */
    provider?: EncryptionProvider;
    /** KMS only: the plugin's gRPC socket, "unix:///path.sock" (the apiserver accepts nothing else). */
    endpoint?: string;
    /** KMS only: per-call timeout such as "3s" or "500ms"; the apiserver defaults to 3s. */
    timeout?: string;
}

export interface EncryptionOptions {
    /** Default provider type of every key. Default "secretbox". */
    provider?: EncryptionProvider;
    /** `[current]` in stage "steady", `[old, new]` in every other stage. Default `[{ name: "key1" }]`. */
    keys?: EncryptionKeyOptions[];
    /** Default "steady". */
    stage?: RotationStage;
    /**
     * Resources encrypted besides `secrets`, which always is: "configmaps", "<resource>.<group>" or group
     * wildcards "*.<group>", "*." (core group) and "*.*" (everything).
     */
    resources?: string[];
    /**
     * WEAKENING. Append the identity provider last, so objects written before encryption was enabled stay
     * readable while they are being rewritten. Identity is never first: that would store new writes in clear.
     */
    readUnencrypted?: boolean;
}

export interface ResolvedKey {
    name: string;
    provider: EncryptionProvider;
    endpoint?: string;
    timeout?: string;
    /** Where the key was configured, for error messages. */
    path: string;
    /** The setting that chose its provider type, for the posture. */
    providerOption: string;
}

export interface ResolvedEncryption {
    stage: RotationStage;
    /** As configured: `[current]` or `[old, new]`. Every non-KMS key here needs material. */
    keys: ResolvedKey[];
    /** In the order the apiserver sees them: the first one encrypts writes, all of them decrypt. */
    rendered: ResolvedKey[];
    /** The list that goes into the file's `resources` (secrets first unless a wildcard covers it). */
    resources: string[];
    readUnencrypted: boolean;
    configKey: string;
}

export const ENCRYPTION_DEFAULTS = {
    provider: "secretbox" as EncryptionProvider,
    stage: "steady" as RotationStage,
    keyName: "key1",
} as const;

const OPTION_KEYS = ["provider", "keys", "stage", "resources", "readUnencrypted"];
const KEY_KEYS = ["name", "provider", "endpoint", "timeout"];

/**
 * `platformKmsEndpoint`: the socket of the KMS v2 plugin the platform runs itself, the endpoint of every kms key
 * that names none (the local platform's plugin; on AWS, aws-encryption-provider's).
 */
export function resolveEncryption(options: EncryptionOptions | undefined, configKey = "encryption", platformKmsEndpoint?: string): ResolvedEncryption {
    if (options !== undefined && !isPlainObject(options)) {
        fail(configKey, options, "use an object of encryption options");
    }
    const o = options ?? {};
    knownKeys(configKey, o, OPTION_KEYS);

    const provider = o.provider === undefined ? ENCRYPTION_DEFAULTS.provider : providerType(key(configKey, "provider"), o.provider);
    const stage = o.stage === undefined ? ENCRYPTION_DEFAULTS.stage : oneOf(key(configKey, "stage"), o.stage, ROTATION_STAGES);
    if (o.readUnencrypted !== undefined && typeof o.readUnencrypted !== "boolean") {
        fail(key(configKey, "readUnencrypted"), o.readUnencrypted, "use true or false");
    }
    const keys = resolveKeys(configKey, o.keys, provider, platformKmsEndpoint);
    checkStage(configKey, stage, keys);

    return {
        stage,
        keys,
        rendered: stageOrder(stage, keys),
        resources: resolveResources(key(configKey, "resources"), o.resources),
        readUnencrypted: o.readUnencrypted === true,
        configKey,
    };
}

/** Which keys the apiserver gets, writer first. The old key of "retire" stays in `keys` (and in state) for rollback. */
export function stageOrder(stage: RotationStage, keys: readonly ResolvedKey[]): ResolvedKey[] {
    switch (stage) {
        case "steady":
            return [keys[0]];
        case "add":
            // Every apiserver must be able to read the new key before any of them writes with it.
            return [keys[0], keys[1]];
        case "promote":
            return [keys[1], keys[0]];
        case "retire":
            return [keys[1]];
    }
}

function providerType(k: string, value: unknown): EncryptionProvider {
    if (value === "identity") {
        fail(k, value, `identity stores new writes unencrypted; use one of ${ENCRYPTION_PROVIDERS.join(", ")} ` +
            `(to keep reading pre-existing plaintext, set readUnencrypted: true, which appends identity last)`);
    }
    return oneOf(k, value, ENCRYPTION_PROVIDERS);
}

function resolveKeys(configKey: string, value: unknown, defaultProvider: EncryptionProvider, platformKmsEndpoint?: string): ResolvedKey[] {
    const k = key(configKey, "keys");
    if (value === undefined) {
        const only: ResolvedKey = {
            name: ENCRYPTION_DEFAULTS.keyName, provider: defaultProvider, path: key(k, 0), providerOption: key(configKey, "provider"),
        };
        if (defaultProvider === "kms") {
            if (platformKmsEndpoint === undefined) fail(key(k, 0, "endpoint"), undefined, "a kms key needs its plugin's endpoint; list keys explicitly");
            only.endpoint = kmsEndpoint(key(k, 0, "endpoint"), platformKmsEndpoint);
        }
        return [only];
    }
    if (!Array.isArray(value) || value.length === 0) fail(k, value, "use a list of one key ([current]) or two ([old, new])");

    const seen = new Map<string, number>();
    return value.map((raw: unknown, i): ResolvedKey => {
        const p = key(k, i);
        if (!isPlainObject(raw)) fail(p, raw, "use an object such as { name: \"key2\" }");
        knownKeys(p, raw, KEY_KEYS);
        const spec = raw as Record<string, unknown>;

        if (typeof spec.name !== "string" || !isDnsLabel(spec.name)) {
            fail(key(p, "name"), spec.name, "use an RFC 1123 label (lower-case letters, digits, '-', at most 63)");
        }
        if (seen.has(spec.name)) {
            fail(key(p, "name"), spec.name, `already used by ${key(k, seen.get(spec.name)!)}; every key needs its own name`);
        }
        seen.set(spec.name, i);

        const own = spec.provider !== undefined;
        const provider = own ? providerType(key(p, "provider"), spec.provider) : defaultProvider;
        const providerOption = own ? key(p, "provider") : key(configKey, "provider");
        const resolved: ResolvedKey = { name: spec.name, provider, path: p, providerOption };
        if (provider === "kms") {
            resolved.endpoint = kmsEndpoint(key(p, "endpoint"), spec.endpoint ?? platformKmsEndpoint);
            if (spec.timeout !== undefined) resolved.timeout = kmsTimeout(key(p, "timeout"), spec.timeout);
        } else {
            for (const f of ["endpoint", "timeout"]) {
                if (spec[f] !== undefined) fail(key(p, f), spec[f], `only a kms key takes ${f}; this key is ${provider}`);
            }
        }
        return resolved;
    });
}

/**
 * Directories any local user may create entries in (mode 1777 on common distributions). A socket there can be
 * squatted before the plugin starts: the squatter then sees every DEK the apiserver asks it to wrap.
 */
export const WORLD_WRITABLE_DIRS = ["/tmp", "/var/tmp", "/dev/shm", "/run/shm", "/run/lock", "/var/lock", "/dev/mqueue"] as const;

function kmsEndpoint(k: string, value: unknown): string {
    // The apiserver only dials unix sockets for KMS; an absolute path keeps it independent of its working dir.
    if (typeof value !== "string" || !/^unix:\/\/\/[^\s]+$/.test(value)) {
        fail(k, value, "use the plugin's unix socket, e.g. \"unix:///var/run/kmsplugin/socket.sock\"");
    }
    const socket = value.slice("unix://".length);
    // "/var/run/../../tmp/x" must not slip past the directory check, so only normalized paths are taken.
    if (path.posix.normalize(socket) !== socket || socket.endsWith("/")) {
        fail(k, value, `use a normalized path to the socket file, without "..", "." or repeated "/"`);
    }
    const dir = WORLD_WRITABLE_DIRS.find((d) => socket.startsWith(`${d}/`));
    if (dir !== undefined) {
        fail(k, value, `${dir} is writable by every local user, who could create the socket first and receive the data keys; ` +
            `put the plugin's socket in a root-owned directory such as /var/run/kmsplugin`);
    }
    return value;
}

function kmsTimeout(k: string, value: unknown): string {
    const m = typeof value === "string" ? /^(\d+)(ms|s|m)$/.exec(value) : null;
    if (!m || Number(m[1]) === 0) fail(k, value, "use a positive duration such as \"3s\", \"500ms\" or \"1m\"");
    return value as string;
}

function checkStage(configKey: string, stage: RotationStage, keys: ResolvedKey[]): void {
    const k = key(configKey, "keys");
    if (stage === "steady") {
        if (keys.length > 1) {
            fail(key(k, 1), keys[1].name, `stage "steady" uses exactly one key; to rotate to it set stage "add", or remove it`);
        }
        return;
    }
    if (keys.length < 2) {
        fail(key(k, 1), undefined, `stage "${stage}" needs the new key here (keys: [old, new]); add e.g. { name: "key2" }`);
    }
    if (keys.length > 2) {
        fail(key(k, 2), keys[2].name, `stage "${stage}" rotates between exactly two keys [old, new]; finish this rotation first`);
    }
}
