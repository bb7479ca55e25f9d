// etcd backups: how many bundles a stack keeps and where (components/backup resolves the value).
import { BackupOptions, resolveBackup } from "../../components/backup/options";
import { ConfigEntry } from "../types";
import { resolvedBy } from "./shared";

export const backup: ConfigEntry<BackupOptions> = {
    type: "object",
    description: "Where `npm run backup` writes sealed etcd snapshot bundles and how many it keeps; an `up` that drops an encryption key a kept bundle needs is refused.",
    default: "5 bundles kept in `<run dir>/backup/bundles`",
    example: { retention: 10, directory: "/var/backups/hardened-cluster" },
    platforms: ["local"],
    fields: {
        directory: "Absolute path bundles are written to and pruned from (default `<run dir>/backup/bundles`); keep the bundle key (`<run dir>/backup/bundle.key`) elsewhere too.",
        retention: "Bundles of this stack kept, 1 to 1000 (default 5); each new backup removes the oldest beyond it.",
    },
    validate: resolvedBy(resolveBackup),
};
