// Which registry an image reference comes from. The admission policy computes this in CEL; the same rule
// is written here in TypeScript, from the same pattern, so it can be tested on a table of references.
//
// The rule (the one container runtimes use to resolve a reference):
//   an image names its registry only when it has a "/" and the part before the first "/" looks like a
//   host: it contains "." or ":" or an upper-case letter, or it is "localhost". That part is the registry,
//   kept exactly as written (with any port). Every other image is from Docker Hub, "docker.io":
//   "nginx", "nginx:1.27", "library/nginx", "bitnami/redis@sha256:...".
// Aliases of Docker Hub ("index.docker.io", "registry-1.docker.io") are not folded into "docker.io" and
// hosts are compared case-sensitively, so any unusual spelling is refused unless listed: it fails closed.
import { fail, isDnsLabel, port } from "../common";

export const DOCKER_HUB = "docker.io";

/** Matches (anywhere, as CEL's matches() and RegExp.test do) images whose first component is a host. */
export const EXPLICIT_REGISTRY_PATTERN = "^(localhost|[^/]*[.:A-Z][^/]*)/";
const EXPLICIT_REGISTRY = new RegExp(EXPLICIT_REGISTRY_PATTERN);

export function imageRegistry(image: string): string {
    return EXPLICIT_REGISTRY.test(image) ? image.split("/")[0] : DOCKER_HUB;
}

export function imageAllowed(image: string, allowedRegistries: readonly string[]): boolean {
    return allowedRegistries.includes(imageRegistry(image));
}

/** A registry as the allow-list takes it: a lower-case host, optionally with a port ("localhost:5000"). */
export function validateRegistry(k: string, v: unknown): string {
    if (typeof v !== "string") fail(k, v, 'use a registry host such as "registry.k8s.io" or "localhost:5000"');
    const [host, p, ...rest] = v.split(":");
    if (rest.length > 0 || host.length > 253 || !host.split(".").every(isDnsLabel)) {
        fail(k, v, 'use a lower-case registry host, optionally with a port, without scheme or path (e.g. "ghcr.io", "localhost:5000")');
    }
    if (p !== undefined) port(k, /^\d+$/.test(p) ? Number(p) : p);
    return v;
}
