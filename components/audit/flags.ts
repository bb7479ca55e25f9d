// Where the audit files live, the kube-apiserver flags that use them, and the posture summary.
import * as path from "node:path";
import { FileLayout, configFile, type Weakening } from "../common";
import { AUDIT_RETENTION_MINIMUMS, AuditLogOptions, AuditPreset, resolveAuditOptions } from "./options";

export interface AuditLogFiles {
    policyFile: string;
    logFile: string;
    webhookConfigFile?: string;
}

/** Not in common/layout's configFiles, so named here; it lives next to the policy file. */
export const AUDIT_WEBHOOK_CONFIG_FILE = "audit-webhook.conf";

export function auditLogFiles(layout: FileLayout): Required<AuditLogFiles> {
    return {
        policyFile: configFile(layout, "auditPolicy"),
        logFile: path.join(layout.auditLogDir, "audit.log"),
        webhookConfigFile: path.join(layout.configDir, AUDIT_WEBHOOK_CONFIG_FILE),
    };
}

/** kube-apiserver flags, names without dashes. */
export function auditApiServerFlags(options: AuditLogOptions | undefined, files: AuditLogFiles, configKey = "audit"): Record<string, string> {
    const o = resolveAuditOptions(options, configKey);
    const flags: Record<string, string> = {
        "audit-policy-file": files.policyFile,
        "audit-log-path": files.logFile,
        "audit-log-maxage": String(o.maxAge),
        "audit-log-maxbackup": String(o.maxBackup),
        "audit-log-maxsize": String(o.maxSize),
        "audit-log-format": "json",
    };
    if (o.webhook) {
        // A wiring mistake in the caller, not a setting the user can fix, hence a plain Error.
        if (!files.webhookConfigFile) throw new Error("auditApiServerFlags: a webhook is configured but files.webhookConfigFile is not set");
        flags["audit-webhook-config-file"] = files.webhookConfigFile;
        flags["audit-webhook-mode"] = o.webhook.mode;
        if (o.webhook.batchMaxWaitSeconds !== undefined) flags["audit-webhook-batch-max-wait"] = `${o.webhook.batchMaxWaitSeconds}s`;
    }
    return flags;
}

export interface AuditPosture {
    preset: AuditPreset;
    maxAge: number;
    maxBackup: number;
    maxSize: number;
    webhook: boolean;
    weakenings: Weakening[];
}

export function auditPosture(options: AuditLogOptions | undefined, configKey = "audit"): AuditPosture {
    const o = resolveAuditOptions(options, configKey);
    const weakenings: Weakening[] = [];
    if (o.preset === "minimal") {
        weakenings.push({
            option: `${configKey}.preset`,
            effect: "writes are logged without their request bodies: the log shows who changed what, not how",
        });
    }
    if (o.allowReducedRetention) {
        const below = (Object.keys(AUDIT_RETENTION_MINIMUMS) as (keyof typeof AUDIT_RETENTION_MINIMUMS)[])
            .filter((n) => o[n] < AUDIT_RETENTION_MINIMUMS[n])
            .map((n) => `${n} ${o[n]} < ${AUDIT_RETENTION_MINIMUMS[n]}`);
        weakenings.push({
            option: `${configKey}.allowReducedRetention`,
            effect: below.length > 0
                ? `audit log retention below the CIS minimums (${below.join(", ")}): evidence is rotated away sooner`
                : "retention may be lowered below the CIS minimums without an error (no value is below them now)",
        });
    }
    return { preset: o.preset, maxAge: o.maxAge, maxBackup: o.maxBackup, maxSize: o.maxSize, webhook: o.webhook !== undefined, weakenings };
}
