// Turns a resolved model into everything a platform starts processes from: flag maps, sorted argv and
// the config file objects (with the paths the flags point at, so writer and reader cannot disagree).
import { configFile, toYaml } from "../common";
import { renderAdmissionConfiguration, renderEventRateLimitConfiguration } from "./admission";
import { apiServerFlags } from "./apiserver";
import { renderAuthenticationConfiguration } from "./authentication";
import { controllerManagerFlags } from "./controller-manager";
import { etcdMemberFlags } from "./etcd";
import { rendered, RenderedFlags } from "./flags";
import { kubeletConfiguration, kubeletFlags } from "./kubelet";
import { ResolvedControlPlane } from "./resolve";
import { schedulerFlags } from "./scheduler";

export interface RenderedEtcdMember extends RenderedFlags {
    name: string;
    ip: string;
}

export interface ControlPlaneFiles {
    /** AdmissionConfiguration (PodSecurity inline, EventRateLimit by path). */
    admission: Record<string, unknown>;
    eventRateLimit: Record<string, unknown>;
    /** Only when OIDC issuers are configured. */
    authentication?: Record<string, unknown>;
    kubeletConfig: Record<string, unknown>;
}

export type ControlPlaneFilePaths = { [K in keyof ControlPlaneFiles]-?: string };

export interface RenderedComponents {
    apiServer: RenderedFlags;
    controllerManager: RenderedFlags;
    scheduler: RenderedFlags;
    /** One entry per member, in network.etcdMembers order. */
    etcd: RenderedEtcdMember[];
    kubelet: RenderedFlags & { config: Record<string, unknown> };
    files: ControlPlaneFiles;
    filePaths: ControlPlaneFilePaths;
}

export function renderResolved(r: ResolvedControlPlane): RenderedComponents {
    const kubeletConfig = kubeletConfiguration(r);
    const filePaths: ControlPlaneFilePaths = {
        admission: configFile(r.layout, "admission"),
        eventRateLimit: configFile(r.layout, "eventRateLimit"),
        authentication: configFile(r.layout, "authentication"),
        kubeletConfig: configFile(r.layout, "kubeletConfig"),
    };
    const files: ControlPlaneFiles = {
        admission: renderAdmissionConfiguration(r.admission, filePaths.eventRateLimit),
        eventRateLimit: renderEventRateLimitConfiguration(r.admission.eventLimits),
        kubeletConfig,
    };
    if (r.jwt.length > 0) files.authentication = renderAuthenticationConfiguration(r.jwt);
    return {
        apiServer: rendered(apiServerFlags(r)),
        controllerManager: rendered(controllerManagerFlags(r)),
        scheduler: rendered(schedulerFlags(r)),
        etcd: r.network.etcdMembers.map((m) => ({ name: m.name, ip: m.ip, ...rendered(etcdMemberFlags(r, m)) })),
        kubelet: { config: kubeletConfig, ...rendered(kubeletFlags(r)) },
        files,
        filePaths,
    };
}

/** The files to write, as YAML, each at the path its flag names. */
export function controlPlaneFileList(c: { files: ControlPlaneFiles; filePaths: ControlPlaneFilePaths }): { path: string; content: string }[] {
    return (Object.keys(c.files) as (keyof ControlPlaneFiles)[])
        .filter((name) => c.files[name] !== undefined)
        .map((name) => ({ path: c.filePaths[name], content: toYaml(c.files[name]) }));
}
