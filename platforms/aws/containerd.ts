// The workers' container runtime on a stock AMI: the distribution's containerd, with the cgroup driver the kubelet
// uses. A mismatch lets the kubelet start and then fails every Pod sandbox, so the driver is read from the
// KubeletConfiguration the worker gets, never set a second time.
import * as path from "node:path";
import { fail, key } from "../../components/common";
import { CNI_PLUGINS, renderCniConfig } from "../node-network";
import { AWS_CNI_BIN_DIR } from "./binaries";
import { type UnitFile, wantsAfter } from "./systemd";

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

/**
 * The Pods' CNI configuration as a template: containerd writes it to CNI_CONF_DIR once the kubelet passes the
 * node's Pod range ({{.PodCIDR}}, the controller manager's allocation, which flannel routes between nodes).
 */
export const CNI_TEMPLATE_PATH = "/etc/containerd/cni.conflist.template";
export const CNI_CONF_DIR = "/etc/cni/net.d";
/**
 * The Pods' MTU: VXLAN adds 50 bytes, and 1500 is what every path of a VPC carries (9001 holds only within
 * one VPC, not through a VPN, a peering or the internet), so a Pod's full packet always fits once wrapped.
 */
export const POD_MTU = 1450;

export function renderCniTemplate(): string {
    return renderCniConfig("{{.PodCIDR}}", POD_MTU);
}

/** The plugins that configuration calls, where containerd looks for them (the stack publishes them there). */
export function cniPluginPaths(): string[] {
    return CNI_PLUGINS.map((p) => path.join(AWS_CNI_BIN_DIR, p));
}

/**
 * containerd's config (format version 2, which containerd 1.7 and 2 read): the CRI's runc runtime with the
 * kubelet's cgroup driver, its CNI from the published plugins and the template, and its Pod sandbox image
 * when the stack publishes one.
 */
export function renderContainerdConfig(driver: "systemd" | "cgroupfs", sandboxImage?: string): string {
    return [
        "# Written by hardened-cluster: the cgroup driver must match the kubelet's (cgroupDriver).",
        "version = 2",
        "",
        // The imported pause (node-images.ts), so no Pod waits on a registry; containerd 2 reads it as its pinned sandbox.
        ...(sandboxImage !== undefined ? ["[plugins.\"io.containerd.grpc.v1.cri\"]", `  sandbox_image = "${sandboxImage}"`, ""] : []),
        "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]",
        "  runtime_type = \"io.containerd.runc.v2\"",
        "",
        "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]",
        `  SystemdCgroup = ${driver === "systemd"}`,
        "",
        "[plugins.\"io.containerd.grpc.v1.cri\".cni]",
        `  bin_dir = "${AWS_CNI_BIN_DIR}"`,
        `  conf_dir = "${CNI_CONF_DIR}"`,
        `  conf_template = "${CNI_TEMPLATE_PATH}"`,
        "",
    ].join("\n");
}

/** The kubelet unit pulls containerd in and starts after it: the package installs the unit but enables nothing. */
export function withContainerd(unit: UnitFile): UnitFile {
    return wantsAfter(unit, CONTAINERD_UNIT);
}
