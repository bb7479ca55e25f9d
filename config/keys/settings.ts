// Encryption at rest and API auditing: each component resolves its own options, so the entries only document them.
import { AuditLogOptions, resolveAuditOptions } from "../../components/audit/options";
import { EncryptionOptions, resolveEncryption } from "../../components/encryption/options";
import { ConfigEntry } from "../types";
import { resolvedBy } from "./shared";

/** Stands in for whichever socket the platform's KMS plugin uses, while the platform is not known yet. */
const PLATFORM_PLUGIN_SOCKET = "unix:///run/hardened-cluster/platform-kms-plugin.sock";

export const encryption: ConfigEntry<EncryptionOptions> = {
    type: "object",
    description: "How the API server encrypts Secrets (and any listed resources) in etcd, and which stage of a key rotation the stack is in.",
    default: 'secretbox with one generated key "key1", stage "steady", Secrets only, no plaintext reads',
    // Not a rotation: copying a rotation stage into a running stack would start one.
    example: { provider: "secretbox", resources: ["configmaps"] },
    exampleFor: { aws: { keys: [{ name: "aws", provider: "kms", endpoint: "unix:///var/run/kmsplugin/socket.sock" }], resources: ["configmaps"] } },
    fields: {
        provider: "Default provider of every key: secretbox, aescbc, aesgcm or kms (identity is refused).",
        keys: "[current] in stage steady, [old, new] during a rotation; each { name, provider?, endpoint?, timeout? } (a kms key's endpoint defaults to the platform's own plugin socket: local hc-kms-plugin, AWS hc-aws-kms-plugin).",
        stage: "Rotation stage: steady, add, promote or retire; one `pulumi up` per stage (see components/encryption/README.md).",
        resources: "Resources encrypted besides secrets, e.g. `configmaps`, `<resource>.<group>` or `*.<group>`.",
        readUnencrypted: "WEAKENING. Keep reading objects written before encryption was enabled (identity appended last).",
    },
    // A kms key may leave its endpoint to the platform, which resolves these options again with its own socket.
    validate: resolvedBy((o: EncryptionOptions | undefined, k: string) => resolveEncryption(o, k, PLATFORM_PLUGIN_SOCKET)),
};

export const audit: ConfigEntry<AuditLogOptions> = {
    type: "object",
    description: "Which API requests are recorded and how long the audit log is kept, with an optional https webhook as a second backend.",
    default: 'preset "standard"; files kept 30 days, 10 backups, 100 MB each (the CIS minimums); no webhook',
    example: { preset: "strict", maxAge: 90, webhook: { server: "https://audit.example.com/events" } },
    fields: {
        preset: 'minimal (a weakening), standard or strict ("strict" also records response bodies of RBAC and workload writes).',
        maxAge: "Days to keep rotated log files; at least 30.",
        maxBackup: "Rotated files to keep; at least 10.",
        maxSize: "MB per file before rotation; at least 100.",
        webhook: '{ server: "https://...", caPem?, mode?: batch | blocking | blocking-strict, batchMaxWaitSeconds?: 1 to 300 (batch only; upstream default 30) }.',
        allowReducedRetention: "WEAKENING. Accept retention below the CIS minimums, e.g. on a small test disk.",
    },
    validate: resolvedBy(resolveAuditOptions),
};
