// The workers' container runtime on a stock AMI: the distribution's containerd, with the cgroup driver the kubelet
// uses. A mismatch lets the kubelet start and then fails every Pod sandbox, so the driver is read from the
// KubeletConfiguration the worker gets, never set a second time.
import { fail, key } from "../../components/common";
import type { UnitFile } from "./systemd";

export const CONTAINERD_PACKAGE = "containerd";
export const CONTAINERD_UNIT = "containerd.service";
export const CONTAINERD_CONFIG_PATH = "/etc/containerd/config.toml";
/** The kubelet's containerRuntimeEndpoint must be this: the socket the packaged unit listens on. */
export const CONTAINERD_ENDPOINT = "unix:///run/containerd/containerd.sock";
const DRIVERS = ["systemd", "cgroupfs"];

/** The kubelet settings containerd must agree with; throws on `k` (the KubeletConfiguration's key path) otherwise. */
export function checkRuntimeSettings(k: string, cfg: Record<string, unknown>): "systemd" | "cgroupfs" {
    const endpoint = cfg.containerRuntimeEndpoint ?? CONTAINERD_ENDPOINT;
    if (endpoint !== CONTAINERD_ENDPOINT) fail(key(k, "containerRuntimeEndpoint"), endpoint, `AWS workers run containerd on ${CONTAINERD_ENDPOINT}; use it`);
    const driver = cfg.cgroupDriver ?? "cgroupfs";
    if (!DRIVERS.includes(driver as string)) fail(key(k, "cgroupDriver"), driver, `use one of: ${DRIVERS.join(", ")}`);
    return driver as "systemd" | "cgroupfs";
}

/** containerd's config (format version 2, containerd 1.7): the CRI's runc runtime with the kubelet's cgroup driver. */
export function renderContainerdConfig(driver: "systemd" | "cgroupfs"): string {
    return [
        "# Written by hardened-cluster: the cgroup driver must match the kubelet's (cgroupDriver).",
        "version = 2",
        "",
        "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]",
        "  runtime_type = \"io.containerd.runc.v2\"",
        "",
        "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]",
        `  SystemdCgroup = ${driver === "systemd"}`,
        "",
    ].join("\n");
}

/** The kubelet unit pulls containerd in and starts after it: the package installs the unit but enables nothing. */
export function withContainerd(unit: UnitFile): UnitFile {
    const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)]);
    const add = (v: unknown) => [...list(v).filter((x) => x !== CONTAINERD_UNIT), CONTAINERD_UNIT];
    return { ...unit, Unit: { ...unit.Unit, Wants: add(unit.Unit.Wants), After: add(unit.Unit.After) } };
}
