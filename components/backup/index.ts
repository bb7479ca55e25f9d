// etcd backup bundles, platform-neutral: sealing, the manifest and its checks, the encryption key names a
// snapshot's values reference, the arguments of a restore, the backup settings, and which bundles are kept and
// what they still need from the stack. Taking and restoring one on the local platform is platforms/local/backup.
export * from "./bundle";
export * from "./options";
export * from "./retention";
