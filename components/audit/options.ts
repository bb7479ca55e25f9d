// What a caller may set about API auditing, and the one place it is checked and defaulted. Options usually
// come from stack config (untyped JSON), so types are checked too and unknown keys are refused.
import { fail, parseHttpsUrl, isPlainObject, key, knownKeys, NOT_SHOWN, oneOf, positiveInt } from "../common";

export const AUDIT_PRESETS = ["minimal", "standard", "strict"] as const;
export type AuditPreset = (typeof AUDIT_PRESETS)[number];

export const AUDIT_WEBHOOK_MODES = ["batch", "blocking", "blocking-strict"] as const;
export type AuditWebhookMode = (typeof AUDIT_WEBHOOK_MODES)[number];

export interface AuditWebhookOptions {
    /** https URL of the audit sink. Plain http would hand every event to the network in clear. */
    server: string;
    /** PEM CA bundle that signs the sink's certificate; without it the host's trust store is used. */
    caPem?: string;
    /** Default "batch" (upstream's default): events are buffered, so a slow sink cannot stall the apiserver. */
    mode?: AuditWebhookMode;
    /**
     * Batch mode only: the longest an event waits in the buffer before its batch is sent, 1 to 300 seconds.
     * Default: upstream's 30 s. Shorter means the sink sees events sooner, in smaller batches.
     */
    batchMaxWaitSeconds?: number;
}

export interface AuditLogOptions {
    /** Default "standard". "minimal" is a weakening; "strict" adds response bodies for RBAC and workload writes. */
    preset?: AuditPreset;
    /** Days to keep rotated files. Default and minimum 30. */
    maxAge?: number;
    /** Rotated files to keep. Default and minimum 10. */
    maxBackup?: number;
    /** MB per file before rotation. Default and minimum 100. */
    maxSize?: number;
    /** A second, remote backend besides the log file (which is always written). */
    webhook?: AuditWebhookOptions;
    /** WEAKENING. Allow maxAge/maxBackup/maxSize below the CIS minimums, e.g. on a small test disk. */
    allowReducedRetention?: boolean;
}

/** The CIS Kubernetes Benchmark's minimums for the log backend, used as defaults. */
export const AUDIT_RETENTION_MINIMUMS = { maxAge: 30, maxBackup: 10, maxSize: 100 } as const;

export interface ResolvedAuditOptions {
    preset: AuditPreset;
    maxAge: number;
    maxBackup: number;
    maxSize: number;
    webhook?: Required<Omit<AuditWebhookOptions, "caPem" | "batchMaxWaitSeconds">> & { caPem?: string; batchMaxWaitSeconds?: number };
    allowReducedRetention: boolean;
}

const OPTION_KEYS = ["preset", "maxAge", "maxBackup", "maxSize", "webhook", "allowReducedRetention"];
const WEBHOOK_KEYS = ["server", "caPem", "mode", "batchMaxWaitSeconds"];
const MAX_BATCH_WAIT_SECONDS = 300;
const PEM_CERT = /-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----/g;

export function resolveAuditOptions(options: AuditLogOptions | undefined, configKey = "audit"): ResolvedAuditOptions {
    if (options !== undefined && !isPlainObject(options)) {
        fail(configKey, options, "use an object of audit options");
    }
    const o = options ?? {};
    knownKeys(configKey, o, OPTION_KEYS);

    if (o.allowReducedRetention !== undefined && typeof o.allowReducedRetention !== "boolean") {
        fail(key(configKey, "allowReducedRetention"), o.allowReducedRetention, "use true or false");
    }
    const reduced = o.allowReducedRetention === true;
    const retention = (name: keyof typeof AUDIT_RETENTION_MINIMUMS): number => {
        const min = AUDIT_RETENTION_MINIMUMS[name];
        const value = o[name] === undefined ? min : positiveInt(key(configKey, name), o[name]);
        if (value < min && !reduced) {
            fail(key(configKey, name), value, `use at least ${min} (CIS minimum), or set allowReducedRetention: true to accept less`);
        }
        return value;
    };

    const resolved: ResolvedAuditOptions = {
        preset: o.preset === undefined ? "standard" : oneOf(key(configKey, "preset"), o.preset, AUDIT_PRESETS),
        maxAge: retention("maxAge"),
        maxBackup: retention("maxBackup"),
        maxSize: retention("maxSize"),
        allowReducedRetention: reduced,
    };
    if (o.webhook !== undefined) resolved.webhook = resolveWebhook(o.webhook, key(configKey, "webhook"));
    return resolved;
}

export function resolveWebhook(webhook: unknown, k: string): NonNullable<ResolvedAuditOptions["webhook"]> {
    if (!isPlainObject(webhook)) {
        fail(k, webhook, "use an object such as { server: \"https://audit.example.com/events\" }");
    }
    knownKeys(k, webhook, WEBHOOK_KEYS);
    const w = webhook as Record<string, unknown>;

    const url = parseHttpsUrl(w.server);
    // The URL is never repeated in an error: a token in it would land in logs and CI output.
    if (!url) {
        fail(key(k, "server"), NOT_SHOWN, "use an https:// URL; audit events carry request details and must not cross the network in clear");
    }
    if (url.username !== "" || url.password !== "") {
        fail(key(k, "server"), NOT_SHOWN, "do not put credentials in the URL; it is written to a file in clear");
    }
    // A token in the query (or fragment) would be written to the webhook config file, and on AWS into EC2
    // user data, which anyone with ec2:DescribeInstanceAttribute reads. "?" alone counts: URL drops it.
    if ((w.server as string).includes("?") || (w.server as string).includes("#")) {
        fail(key(k, "server"), NOT_SHOWN, "remove the query and fragment; a token there would be stored in clear (the config file, and EC2 user data on AWS)");
    }

    const resolved: NonNullable<ResolvedAuditOptions["webhook"]> = {
        server: w.server as string,
        mode: w.mode === undefined ? "batch" : oneOf(key(k, "mode"), w.mode, AUDIT_WEBHOOK_MODES),
    };
    if (w.batchMaxWaitSeconds !== undefined) {
        const wait = positiveInt(key(k, "batchMaxWaitSeconds"), w.batchMaxWaitSeconds, MAX_BATCH_WAIT_SECONDS);
        if (resolved.mode !== "batch") fail(key(k, "batchMaxWaitSeconds"), wait, `remove it: it applies to mode "batch" only, and mode is "${resolved.mode}"`);
        resolved.batchMaxWaitSeconds = wait;
    }
    if (w.caPem !== undefined) {
        const pem = typeof w.caPem === "string" ? w.caPem.trim() : "";
        const certs = pem.match(PEM_CERT) ?? [];
        // Only certificates: anything else (a private key pasted by mistake) is refused rather than shipped.
        if (certs.length === 0 || pem.replace(PEM_CERT, "").trim() !== "") {
            fail(key(k, "caPem"), typeof w.caPem === "string" ? "(not a PEM certificate bundle)" : w.caPem,
                "use one or more PEM \"CERTIFICATE\" blocks and nothing else");
        }
        resolved.caPem = `${pem}\n`;
    }
    return resolved;
}
