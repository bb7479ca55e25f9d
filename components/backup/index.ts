// etcd backup bundles, platform-neutral: sealing, the manifest and its checks, the encryption key names a
// snapshot's values reference, and the arguments of a restore. Taking and restoring one on the local platform
// is platforms/local/backup.
export * from "./bundle";
