// etcd backup and restore for the local platform: sealed snapshot bundles and a restore that checks first.
export * from "./bundle";
export { takeBackup, preflight, RestoreRefused, defaultKeyFile, defaultBackupDir, BackupResult } from "./local";
export { restoreBackup, RestoreResult } from "./restore";
