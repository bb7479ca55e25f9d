// Encryption at rest for etcd: options and stage checks, the EncryptionConfiguration renderer, the posture
// and apiserver flags, and the Pulumi component that generates the keys.
export * from "./options";
export { resolveResources, ALWAYS_ENCRYPTED } from "./resources";
export * from "./render";
export * from "./posture";
export * from "./component";
