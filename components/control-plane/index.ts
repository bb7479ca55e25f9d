// The control plane's settings: one typed model, validated once, rendered to the flags and files every
// platform starts kube-apiserver, kube-controller-manager, kube-scheduler, etcd and the kubelet with.
import { FileLayout } from "../common";
import { DEFAULT_CONFIG_KEY, ControlPlaneOptions } from "./options";
import { ControlPlanePosture, postureOf } from "./posture";
import { RenderedComponents, renderResolved } from "./render";
import { resolveControlPlane } from "./resolve";

export * from "./options";
export { STRONG_CIPHER_SUITES, CONTROL_PLANE_ACCEPTED_SUITES } from "./tls";
export { KNOWN_ADMISSION_PLUGINS, HARDENED_ADMISSION_PLUGINS, DEFAULT_EVENT_LIMITS } from "./admission";
export { GUARDS } from "./guards";
export type { Guard } from "./guards";
export { toArgs } from "./flags";
export { MANAGED_FLAGS, FREE_FLAGS, MAX_SAFE_VERBOSITY } from "./overridable";
export type { FlagMap, RenderedFlags } from "./flags";
export { controlPlaneFileList } from "./render";
export { KUBELET_SYSCTLS } from "./kubelet";
import { longestServiceAccountTokenSeconds } from "./apiserver";
export { longestServiceAccountTokenSeconds };
export type { RenderedEtcdMember, ControlPlaneFiles, ControlPlaneFilePaths, RenderedComponents } from "./render";
export { WEAKENING_EFFECTS, controlPlanePosture } from "./posture";
export type { ControlPlanePosture } from "./posture";
// Part of this block's public API since before the shape was shared; defined in common.
export type { Weakening } from "../common";
export { resolveControlPlane } from "./resolve";
export type { ResolvedControlPlane } from "./resolve";

export interface RenderedControlPlane extends RenderedComponents {
    posture: ControlPlanePosture;
    /** The longest a service-account token from this apiserver stays valid, in seconds. */
    serviceAccountTokenSeconds: number;
}

/**
 * Validates `options` (ConfigError keys are rooted at configKey) and renders every component for the
 * given file layout. Pure: no I/O, same input gives the same output.
 */
export function renderControlPlane(options: ControlPlaneOptions, layout: FileLayout, configKey = DEFAULT_CONFIG_KEY): RenderedControlPlane {
    const resolved = resolveControlPlane(options, layout, configKey);
    const components = renderResolved(resolved);
    return { ...components, posture: postureOf(resolved, components), serviceAccountTokenSeconds: longestServiceAccountTokenSeconds(resolved) };
}
