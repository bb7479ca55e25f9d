// etcd backups: how often, how many bundles a stack keeps and where (components/backup resolves the value).
import { BackupOptions, resolveBackup } from "../../components/backup/options";
import { ConfigEntry } from "../types";
import { resolvedBy } from "./shared";

export const backup: ConfigEntry<BackupOptions> = {
    type: "object",
    description: "How often etcd snapshot bundles are taken, how many are kept and (local platform) where they go. Local: sealed bundles from `npm run backup` and the optional schedule, and an `up` that drops an encryption key a kept bundle needs is refused; AWS: a timer on every control-plane node, the etcd leader's node uploading to the stack's S3 bucket (output `backupBucket`), with an alarm after two intervals without one.",
    default: "local: on demand only, 5 bundles kept in `<run dir>/backup/bundles`; AWS: every 15 minutes, 5 bundles kept",
    example: { retention: 10, directory: "/var/backups/hardened-cluster", intervalMinutes: 15 },
    platforms: ["local", "aws"],
    fields: {
        directory: "Local only: absolute path bundles are written to and pruned from (default `<run dir>/backup/bundles`); keep the bundle key (`<run dir>/backup/bundle.key`) elsewhere too. Refused on AWS (bundles go to the bucket).",
        retention: "Bundles of this stack kept, 1 to 1000 (default 5); each new backup removes the oldest beyond it (on AWS the bucket keeps removed ones 7 more days as noncurrent versions).",
        intervalMinutes: "Minutes between scheduled backups, 1 to 1440. Local default: none, on demand only; a supervised `etcd-backup` process takes the first one interval after it starts and reports in `<run dir>/backup/schedule.json`. AWS default: 15.",
    },
    validate: resolvedBy(resolveBackup),
};
