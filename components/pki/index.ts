// The cluster PKI block: certificate table (certlist), options and validation (options), kubeconfigs
// (kubeconfig), posture (posture), the Pulumi component (cluster-pki) and on-disk layout (files).
export * from "./options";
export * from "./certlist";
export * from "./kubeconfig";
export * from "./posture";
export * from "./cluster-pki";
export * from "./files";
export * from "./ephemeral";
export * from "./admin-bootstrap";
export * from "./inventory";
export * from "./service-account-keys";
export * from "./ca-rotation";
export * from "./ca-rotation-gate";
export * from "./ca-rotation-reports";
export * from "./trust-sync";
