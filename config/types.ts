// The shape of the blueprint's stack configuration and of one schema entry. Entries validate by calling the
// owning component's resolver, so this folder describes keys but never re-implements a component's rules.
import type { AuditLogOptions } from "../components/audit";
import type { BackupOptions } from "../components/backup/options";
import type { ClusterBaselineConfig } from "../components/cluster-baseline";
import type { EncryptionOptions } from "../components/encryption";
import type { AwsOptions } from "../platforms/aws/options";
import type { StackControlPlaneOptions, StackPkiOptions } from "../components/cluster";
import type { LocalOptions } from "../platforms/local/options";

/** Pulumi's project config namespace: stack files say `hardened-cluster:<key>`. */
export const NAMESPACE = "hardened-cluster";

export const PLATFORMS = ["local", "aws"] as const;
export type Platform = (typeof PLATFORMS)[number];

/** The value types Pulumi.yaml accepts for a project config key. */
export type ConfigType = "string" | "integer" | "boolean" | "array" | "object";

/** What a validator gets besides the value: its full key and the facts some components decide with. */
export interface EntryContext {
    /** The full key, e.g. "hardened-cluster:baseline", for ConfigError paths. */
    key: string;
    stack: string;
    /** Whether the program runs as root; the local layout "auto" depends on it. */
    isRoot: boolean;
}

export interface ConfigEntry<T = unknown> {
    type: ConfigType;
    /** Element type, for arrays only (Pulumi.yaml requires it). */
    items?: Exclude<ConfigType, "array" | "object">;
    /** One or two sentences for a platform engineer. */
    description: string;
    /** The default, described: what happens when the key is not set. */
    default: string;
    /** Scalars only: the default as Pulumi.yaml declares it. */
    defaultValue?: string | number | boolean;
    /** A value that validates; the docs show it and a test checks it. */
    example: T;
    /** Where a platform's rules differ (AWS encrypts with KMS only), that platform's example instead. */
    exampleFor?: Partial<Record<Platform, T>>;
    /** Object keys: each top-level field with a one-line meaning (docs and typo suggestions). */
    fields?: Readonly<Record<string, string>>;
    /** Platforms that read the key; absent means every platform. */
    platforms?: readonly Platform[];
    /** Throws a ConfigError rooted at ctx.key, or returns the value typed. */
    validate(value: unknown, ctx: EntryContext): T;
}

/** The validated configuration. Object keys left unset (or `{}`, Pulumi's declared default) are undefined. */
export interface BlueprintConfig {
    platform: Platform;
    kubernetesVersion: string;
    local?: LocalOptions;
    pki?: StackPkiOptions;
    encryption?: EncryptionOptions;
    audit?: AuditLogOptions;
    controlPlane?: StackControlPlaneOptions;
    baseline?: ClusterBaselineConfig;
    backup?: BackupOptions;
    aws?: AwsOptions;
}

export type BlueprintKey = keyof BlueprintConfig;
