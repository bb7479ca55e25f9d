// Pods and pod templates against the Pod Security Standards' restricted profile (v1.34), field by field as
// the standard lists them, so a workload the program renders fails before the admission controller sees it.
import { pss, honour, exceptionsOf, isObj, arr, resourceRule } from "./common";

/** Where each workload kind keeps its pod spec. */
const POD_SPEC_PATHS: Record<string, string[]> = {
    "kubernetes:core/v1:Pod": ["spec"],
    "kubernetes:core/v1:ReplicationController": ["spec", "template", "spec"],
    "kubernetes:apps/v1:Deployment": ["spec", "template", "spec"],
    "kubernetes:apps/v1:StatefulSet": ["spec", "template", "spec"],
    "kubernetes:apps/v1:DaemonSet": ["spec", "template", "spec"],
    "kubernetes:apps/v1:ReplicaSet": ["spec", "template", "spec"],
    "kubernetes:batch/v1:Job": ["spec", "template", "spec"],
    "kubernetes:batch/v1:CronJob": ["spec", "jobTemplate", "spec", "template", "spec"],
};
const ALLOWED_VOLUMES = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];
const SAFE_SYSCTLS = ["kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"];
const SELINUX_TYPES = ["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"];

/** The restricted profile's findings for one pod spec (empty when it complies). */
export function restrictedFindings(spec: Record<string, any>): string[] {
    const out: string[] = [];
    for (const f of ["hostNetwork", "hostPID", "hostIPC"]) if (spec[f] === true) out.push(`${f}: true`);
    for (const v of arr(spec.volumes).filter(isObj)) {
        const kind = Object.keys(v).find((k) => k !== "name");
        if (kind !== undefined && !ALLOWED_VOLUMES.includes(kind)) out.push(`volume ${v.name} of type ${kind}`);
    }
    const podSc = isObj(spec.securityContext) ? spec.securityContext : {};
    for (const s of arr(podSc.sysctls).filter(isObj)) if (!SAFE_SYSCTLS.includes(s.name)) out.push(`unsafe sysctl ${s.name}`);
    if (podSc.runAsUser === 0) out.push("pod runAsUser: 0");
    const podSeccomp = podSc.seccompProfile?.type;
    if (podSeccomp !== undefined && !["RuntimeDefault", "Localhost"].includes(podSeccomp)) out.push(`pod seccompProfile ${podSeccomp}`);
    if (podSc.appArmorProfile?.type === "Unconfined") out.push("pod appArmorProfile Unconfined");
    if (isObj(podSc.seLinuxOptions) && (!SELINUX_TYPES.includes(podSc.seLinuxOptions.type ?? "") || podSc.seLinuxOptions.user || podSc.seLinuxOptions.role)) out.push("pod seLinuxOptions");
    const containers = [...arr(spec.containers), ...arr(spec.initContainers), ...arr(spec.ephemeralContainers)].filter(isObj);
    for (const c of containers) {
        const sc = isObj(c.securityContext) ? c.securityContext : {};
        const who = `container ${c.name}`;
        if (sc.privileged === true) out.push(`${who} privileged`);
        if (sc.allowPrivilegeEscalation !== false) out.push(`${who} does not set allowPrivilegeEscalation: false`);
        if (sc.runAsNonRoot !== true && !(podSc.runAsNonRoot === true && sc.runAsNonRoot !== false)) out.push(`${who} does not run as non-root (runAsNonRoot)`);
        if (sc.runAsUser === 0) out.push(`${who} runAsUser: 0`);
        const seccomp = sc.seccompProfile?.type ?? podSeccomp;
        if (!["RuntimeDefault", "Localhost"].includes(seccomp)) out.push(`${who} has no RuntimeDefault or Localhost seccomp profile`);
        const caps = isObj(sc.capabilities) ? sc.capabilities : {};
        if (!arr(caps.drop).includes("ALL")) out.push(`${who} does not drop ALL capabilities`);
        for (const a of arr(caps.add)) if (a !== "NET_BIND_SERVICE") out.push(`${who} adds capability ${a}`);
        for (const p of arr(c.ports).filter(isObj)) if (p.hostPort !== undefined && p.hostPort !== 0) out.push(`${who} uses hostPort ${p.hostPort}`);
        if (sc.procMount !== undefined && sc.procMount !== "Default") out.push(`${who} procMount ${sc.procMount}`);
        if (sc.appArmorProfile?.type === "Unconfined") out.push(`${who} appArmorProfile Unconfined`);
        if (isObj(sc.seLinuxOptions) && (!SELINUX_TYPES.includes(sc.seLinuxOptions.type ?? "") || sc.seLinuxOptions.user || sc.seLinuxOptions.role)) out.push(`${who} seLinuxOptions`);
    }
    return out;
}

export function podSpecOf(type: string, props: Record<string, any>): Record<string, any> | undefined {
    const path = POD_SPEC_PATHS[type];
    if (!path) return undefined;
    let v: any = props;
    for (const p of path) v = isObj(v) ? v[p] : undefined;
    return isObj(v) ? v : undefined;
}

export const podRestricted = resourceRule({
    name: "pod-restricted-profile",
    description: "Pods and pod templates (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, ReplicationController) meet the Pod Security Standards' restricted profile.",
    severity: "high",
    framework: pss("restricted", "Restricted profile: no host namespaces, ports or hostPath, no privilege escalation, non-root, seccomp RuntimeDefault/Localhost, drop ALL capabilities"),
    remediation: "Set securityContext: runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities.drop: [ALL], seccompProfile.type: RuntimeDefault; drop hostNetwork/hostPID/hostIPC, hostPath volumes and hostPorts. A namespace declared as a Pod Security exception is listed in this rule's exceptions.",
    exceptions: { type: "array", items: { type: "string" } },
}, (args, report) => {
    const spec = podSpecOf(args.type, args.props);
    if (!spec) return;
    const findings = restrictedFindings(spec);
    if (findings.length === 0) return;
    const ns = args.props.metadata?.namespace;
    if (typeof ns === "string" && exceptionsOf<string[]>(args, []).includes(ns)) {
        honour("pod-restricted-profile", args.urn, `${args.name} in namespace ${ns} is outside the restricted profile (declared exception)`);
        return;
    }
    report(`${args.name} is outside the Pod Security restricted profile: ${findings.join("; ")}`);
});
