// Kernel settings the workers' kubelet insists on. The shared KubeletConfiguration sets protectKernelDefaults
// (CIS 4.2.6): the kubelet then checks these sysctls at start and exits if one differs, instead of changing
// them itself. So the node must set them first: a sysctl.d file for every later boot, applied again right
// before each kubelet start, because cloud-init writes it after systemd-sysctl has already run on the first.
import { KUBELET_SYSCTLS } from "../../components/control-plane";
import { UnitFile, execLine } from "./systemd";

export { KUBELET_SYSCTLS };

export const KUBELET_SYSCTL_PATH = "/etc/sysctl.d/90-kubelet.conf";
/** procps' sysctl, at this path on Amazon Linux 2023 and Debian; `-p FILE` fails if a value cannot be set. */
export const SYSCTL_BIN = "/usr/sbin/sysctl";

/** A sysctl.d file: what it is for, then each setting under a comment saying why. */
export function renderSysctlFile(purpose: string, settings: readonly (readonly [string, string, string])[]): string {
    return [`# Written by hardened-cluster: ${purpose}`, ...settings.flatMap(([k, v, why]) => [`# ${why}`, `${k} = ${v}`]), ""].join("\n");
}

export function renderKubeletSysctls(): string {
    return renderSysctlFile("the kubelet runs with protectKernelDefaults and refuses other values.", KUBELET_SYSCTLS);
}

/** The unit with the file applied before every start (and so on first boot, after cloud-init wrote it). */
export function withKubeletSysctls(unit: UnitFile): UnitFile {
    return { ...unit, Service: { ExecStartPre: execLine([SYSCTL_BIN, "-p", KUBELET_SYSCTL_PATH]), ...unit.Service } };
}
