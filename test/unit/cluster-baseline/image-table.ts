// Shared by the TypeScript and the CEL checks of registry derivation, so both are held to the same table.

/** Image reference -> the registry it is pulled from, as container runtimes resolve it. */
export const IMAGE_TABLE: [string, string][] = [
    ["nginx", "docker.io"],
    ["nginx:1.27", "docker.io"],
    ["nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "docker.io"],
    ["library/nginx:1.27", "docker.io"],
    ["bitnami/redis", "docker.io"],
    ["bitnami/redis/extra/path:7", "docker.io"],
    ["docker.io/library/nginx", "docker.io"],
    ["index.docker.io/library/nginx", "index.docker.io"],
    ["registry.k8s.io/pause:3.10", "registry.k8s.io"],
    ["registry.k8s.io/coredns/coredns:v1.12.0", "registry.k8s.io"],
    ["quay.io/cilium/cilium:v1.18.0", "quay.io"],
    ["ghcr.io/org/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "ghcr.io"],
    ["localhost/app", "localhost"],
    ["localhost:5000/app:dev", "localhost:5000"],
    ["registry:5000/app", "registry:5000"],
    ["10.0.0.5:5000/team/app", "10.0.0.5:5000"],
    ["Registry/app", "Registry"],
    ["evil.com/registry.k8s.io/pause", "evil.com"],
    ["registry.k8s.io.evil.com/pause", "registry.k8s.io.evil.com"],
    ["localhostx/app", "docker.io"],
];
