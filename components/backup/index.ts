// etcd backup and restore for the local platform: sealed snapshot bundles and a restore that checks first.
export * from "./bundle";
export { takeBackup, preflight, RestoreRefused, defaultKeyFile, defaultBackupDir } from "./local";
export type { BackupResult, Verified } from "./local";
export { restoreBackup } from "./restore";
export type { RestoreResult } from "./restore";
