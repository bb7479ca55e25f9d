# Sourced by the scripts that build or use the toolchain: computes where it lives.
# HC_TOOLCHAIN_DIR overrides the whole location; otherwise it is keyed by the pinned versions.
_hc_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=versions.sh
. "$_hc_root/scripts/lib/versions.sh"
HC_ROOT=$_hc_root
# Every binary is checked against its own pinned version and rebuilt alone when it differs, so the directory
# key only names the core versions and the recipe: adding or bumping one tool does not rebuild the others.
HC_TOOLCHAIN_KEY="p${PULUMI_VERSION}-k${KUBERNETES_VERSION}-e${ETCD_VERSION}-r${TOOLCHAIN_RECIPE}"
HC_TOOLCHAIN_DIR=${HC_TOOLCHAIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hardened-cluster/toolchain/$HC_TOOLCHAIN_KEY}
HC_TOOLCHAIN_BIN=$HC_TOOLCHAIN_DIR/bin
HC_KUBE_BENCH_CFG=$HC_TOOLCHAIN_DIR/kube-bench/cfg
# A worker node's CNI plugins (kept apart: the node's runtime looks them up by plugin name) and image archives.
HC_CNI_BIN=$HC_TOOLCHAIN_DIR/cni/bin
HC_NODE_IMAGES=$HC_TOOLCHAIN_DIR/images
HC_SHARED_DIR=${HC_SHARED_DIR:-$_hc_root/../shared}
unset _hc_root
