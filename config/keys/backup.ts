// etcd backups: how often, how many bundles a stack keeps and where (components/backup resolves the value).
import { BackupOptions, resolveBackup } from "../../components/backup/options";
import { ConfigEntry } from "../types";
import { resolvedBy } from "./shared";

export const backup: ConfigEntry<BackupOptions> = {
    type: "object",
    description: "Where sealed etcd snapshot bundles go (from `npm run backup` and the optional schedule) and how many are kept; an `up` that drops an encryption key a kept bundle needs is refused.",
    default: "on demand only; 5 bundles kept in `<run dir>/backup/bundles`",
    example: { retention: 10, directory: "/var/backups/hardened-cluster", intervalMinutes: 15 },
    platforms: ["local"],
    fields: {
        directory: "Absolute path bundles are written to and pruned from (default `<run dir>/backup/bundles`); keep the bundle key (`<run dir>/backup/bundle.key`) elsewhere too.",
        retention: "Bundles of this stack kept, 1 to 1000 (default 5); each new backup removes the oldest beyond it.",
        intervalMinutes: "Minutes between scheduled backups, 1 to 1440 (default: none, on demand only); a supervised `etcd-backup` process takes the first one interval after it starts and reports in `<run dir>/backup/schedule.json`.",
    },
    validate: resolvedBy(resolveBackup),
};
