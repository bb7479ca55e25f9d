// The npm library entry ("hardened-cluster"). Each block is a namespace, so helpers that share a name across
// blocks (PSA_LEVELS, renderResolved, ...) never collide; the classes and functions most callers start from
// are repeated at the top level. See components/README.md for an example per block.
export * as common from "./common";
export * as pki from "./pki";
export * as encryption from "./encryption";
export * as audit from "./audit";
export * as controlPlane from "./control-plane";
export * as rbac from "./rbac";
export * as secureNamespace from "./secure-namespace";
export * as clusterBaseline from "./cluster-baseline";
export * as cluster from "./cluster";
export * as clusterDns from "./cluster-dns";

export { ConfigError, kubeadmLayout, stateDirLayout, toYaml } from "./common";
export type { FileLayout } from "./common";

export { ClusterPki, AdminBootstrap, resolvePkiOptions, pkiFileSet, renderKubeconfig } from "./pki";
export type { PkiOptions, ClusterPkiArgs, AdminBootstrapArgs } from "./pki";

export { EncryptionAtRest, renderEncryptionConfig, resolveEncryption, encryptionApiServerFlags } from "./encryption";
export type { EncryptionOptions, EncryptionAtRestArgs } from "./encryption";

export { renderAuditPolicy, resolveAuditOptions, auditApiServerFlags, auditLogFiles } from "./audit";
export type { AuditLogOptions } from "./audit";

export { renderControlPlane, resolveControlPlane, controlPlaneFileList } from "./control-plane";
export type { ControlPlaneOptions, RenderedControlPlane } from "./control-plane";

export { RbacPersonas, planRbac } from "./rbac";
export type { RbacConfig, RbacPersonasArgs } from "./rbac";

export { SecureNamespace, planSecureNamespace, renderSecureNamespace } from "./secure-namespace";
export type { SecureNamespaceConfig, SecureNamespaceArgs } from "./secure-namespace";

export { ClusterBaseline, planClusterBaseline, renderClusterBaseline } from "./cluster-baseline";
export type { ClusterBaselineConfig, ClusterBaselineArgs } from "./cluster-baseline";

export { resolveCluster, planCluster, contentOf, clusterPosture } from "./cluster";
export type { ClusterSettings, PlatformFacts, ClusterPlan, NodeBundle, PlannedFile, PlannedProcess } from "./cluster";
