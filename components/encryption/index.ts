// Encryption at rest for etcd: options and stage checks, the EncryptionConfiguration renderer, the posture
// and apiserver flags, the Pulumi component that generates the keys, and the rotation's day-two half: what etcd
// says about the keys (scan), every covered object rewritten (rewrite), every apiserver on the new file (reload).
export * from "./options";
export { resolveResources, ALWAYS_ENCRYPTED } from "./resources";
export * from "./render";
export * from "./posture";
export * from "./component";
export * from "./scan";
export * from "./rewrite";
export * from "./reload";
