// What a stack may set about its etcd backups, checked and defaulted once. The bundle format and its checks
// are bundle.ts; which bundles are kept, and what they still need from the stack, is retention.ts.
import * as path from "node:path";
import { fail, isPlainObject, key, knownKeys } from "../common";

export interface BackupOptions {
    /** Where bundles are written and pruned: an absolute path. Default: the platform's (local: <run dir>/backup/bundles). */
    directory?: string;
    /** How many bundles of the stack are kept; a new one prunes the oldest beyond it. Default 5 (RKE2 keeps 5). */
    retention?: number;
    /**
     * Minutes between scheduled backups, 1 to 1440; the first comes one interval after the schedule starts.
     * Default: none on the local platform (`npm run backup` on demand).
     */
    intervalMinutes?: number;
}

export interface ResolvedBackup {
    /** Absent when the platform decides. */
    directory?: string;
    retention: number;
    /** Absent: no schedule, backups on demand only. */
    intervalMinutes?: number;
}

export const BACKUP_DEFAULTS = { retention: 5 } as const;
const MAX_RETENTION = 1000;
const MAX_INTERVAL_MINUTES = 24 * 60;
const OPTION_KEYS: readonly (keyof BackupOptions)[] = ["directory", "retention", "intervalMinutes"];

export function resolveBackup(options: BackupOptions | undefined, configKey: string): ResolvedBackup {
    const raw: unknown = options ?? {};
    if (!isPlainObject(raw)) fail(configKey, raw, "use an object with the fields directory, retention and intervalMinutes");
    knownKeys(configKey, raw, OPTION_KEYS);
    const o = raw as BackupOptions;
    const retention: number = o.retention ?? BACKUP_DEFAULTS.retention;
    if (!Number.isInteger(retention) || retention < 1 || retention > MAX_RETENTION) {
        fail(key(configKey, "retention"), retention, `use a whole number of bundles from 1 to ${MAX_RETENTION}`);
    }
    const out: ResolvedBackup = { retention };
    if (o.intervalMinutes !== undefined) {
        const m = o.intervalMinutes;
        if (!Number.isInteger(m) || m < 1 || m > MAX_INTERVAL_MINUTES) {
            fail(key(configKey, "intervalMinutes"), m, `use a whole number of minutes from 1 to ${MAX_INTERVAL_MINUTES} (kOps backs up every 15)`);
        }
        out.intervalMinutes = m;
    }
    if (o.directory !== undefined) {
        const d = o.directory;
        if (typeof d !== "string" || !path.isAbsolute(d) || path.normalize(d) !== d || (d.length > 1 && d.endsWith("/"))) {
            fail(key(configKey, "directory"), d, "use a normalised absolute path, e.g. /var/backups/hardened-cluster");
        }
        if (d === "/") fail(key(configKey, "directory"), d, "use a directory of its own: pruning removes old bundles from it");
        out.directory = d;
    }
    return out;
}
