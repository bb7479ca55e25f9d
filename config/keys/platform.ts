// Which platform runs the control plane, and which Kubernetes it runs.
import { fail, oneOf } from "../../components/common";
import { ConfigEntry, Platform, PLATFORMS } from "../types";

/**
 * The binaries come from the pinned toolchain (scripts/lib/versions.sh), so the version is not a choice; the
 * key exists so a stack can state what it expects and fail loudly when the toolchain moves on without it.
 */
export const PINNED_KUBERNETES_VERSION = "v1.34.12";

export const platform: ConfigEntry<Platform> = {
    type: "string",
    description: 'Where the control plane runs: "local" (processes on this machine) or "aws" (self-managed on EC2).',
    default: '"local"',
    defaultValue: "local",
    example: "aws",
    validate: (value, ctx) => oneOf(ctx.key, value, PLATFORMS),
};

export const kubernetesVersion: ConfigEntry<string> = {
    type: "string",
    description: "The Kubernetes version the stack expects. The toolchain pins it, so any other value is refused rather than silently ignored.",
    default: `"${PINNED_KUBERNETES_VERSION}" (the pinned toolchain's)`,
    defaultValue: PINNED_KUBERNETES_VERSION,
    example: PINNED_KUBERNETES_VERSION,
    validate: (value, ctx) => {
        if (value !== PINNED_KUBERNETES_VERSION) {
            fail(ctx.key, value, `the toolchain builds ${PINNED_KUBERNETES_VERSION} (scripts/lib/versions.sh); use "${PINNED_KUBERNETES_VERSION}" or remove the key`);
        }
        return value;
    },
};
