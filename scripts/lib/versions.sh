# Pinned toolchain versions: the one place they are set. scripts/toolchain.sh rebuilds any binary that does
# not report its pinned version; the Pulumi, Kubernetes and etcd versions and the recipe also key the cache
# directory (scripts/lib/toolchain-paths.sh).
PULUMI_VERSION=3.259.0
PULUMI_TLS_VERSION=5.3.0
PULUMI_RANDOM_VERSION=4.19.1
PULUMI_KUBERNETES_VERSION=4.25.0
# The v4.25.0 tag commit, as the module proxy serves it (the tag itself is not served).
PULUMI_KUBERNETES_MODULE_VERSION=v4.0.0-20260115033456-f47bc2d6f199
KUBERNETES_VERSION=1.34.12
ETCD_VERSION=3.6.14
KUBE_BENCH_VERSION=0.15.6
# A local worker node's runtime (platforms/local/worker): containerd, runc (built with seccomp) and the CNI
# plugins the node's bridge network uses, all from the Go module proxy.
CONTAINERD_VERSION=2.4.2
RUNC_VERSION=1.5.3
CNI_PLUGINS_VERSION=1.10.0
# The worker's NetworkPolicy enforcer (firewall controller only) and the cluster's DNS server image.
KUBE_ROUTER_VERSION=2.1.0
# The AWS workers' Pod network between nodes (VXLAN).
FLANNEL_VERSION=0.27.4
COREDNS_VERSION=1.15.0
# The YAML language host, so Pulumi YAML programs can consume the components as a package.
PULUMI_YAML_VERSION=1.25.0
# Bump when a recipe changes in a way that needs a rebuild with the same versions.
TOOLCHAIN_RECIPE=1
# haproxy, the local platform's load balancer in front of several API servers: Debian bookworm's package and the
# three libraries it links that a Debian host lacks by default, unpacked without installing (no root needed).
HAPROXY_DEB_VERSION=2.6.12-1+deb12u4
LIBLUA53_DEB_VERSION=5.3.6-2
LIBOPENTRACING_C_WRAPPER_DEB_VERSION=1.1.3-3+b1
LIBOPENTRACING_DEB_VERSION=1.6.0-4
