#!/usr/bin/env bash
# Builds the pinned offline toolchain (Pulumi CLI + plugins, Kubernetes control plane, etcd, kube-bench, the
# project's KMS v2 plugins, local and AWS, and a local worker node's runtime and images) from Go modules into a
# cache directory keyed by the versions in scripts/lib/versions.sh, and unpacks Debian's haproxy (the local
# platform's load balancer) beside them.
#
#   scripts/toolchain.sh            build whatever is missing, then verify every binary
#   scripts/toolchain.sh --bin-dir  print the bin directory and exit (builds nothing)
#   scripts/toolchain.sh --check    verify only; exit 1 naming what is missing
#
# Release downloads are not reachable from this project's machines, so everything comes from the Go module
# proxy plus the three sources it does not serve (kept in ../shared/toolchain-src), and haproxy from Debian's
# mirror. Each step is skipped when its binaries already answer with the pinned version, so a second run takes
# seconds.
set -euo pipefail
. "$(dirname "$0")/lib/toolchain-paths.sh"
. "$(dirname "$0")/lib/progress.sh"

case "${1:-}" in
  --bin-dir) echo "$HC_TOOLCHAIN_BIN"; exit 0 ;;
  --check|"") mode=${1:-build} ;;
  *) echo "usage: $0 [--bin-dir|--check]" >&2; exit 2 ;;
esac

WRAPPERS=$HC_ROOT/toolchain/go
BUILD=$HC_TOOLCHAIN_DIR/build
TIMINGS=$HC_TOOLCHAIN_DIR/timings.txt
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
# The checksum database answers 404 for these modules; their hashes are pinned in the committed go.sum files.
export GONOSUMDB=k8s.io,sigs.k8s.io,github.com/pulumi/pulumi-kubernetes

log() { printf '[toolchain] %s\n' "$*" >&2; }
die() { printf '[toolchain] FAILED: %s\n' "$*" >&2; exit 1; }

# version_of BIN: the first line a binary prints about its own version (empty when it does not run).
version_of() {
  local b=$HC_TOOLCHAIN_BIN/$1
  case "$1" in cni-*) b=$HC_CNI_BIN/${1#cni-} ;; image-*) b=$HC_NODE_IMAGES/${1#image-}.tar ;; esac
  case "$1" in image-*) [ -s "$b" ] || return 0 ;; *) [ -x "$b" ] || return 0 ;; esac
  case "$1" in
    pulumi) "$b" version ;;
    pulumi-resource-pulumi-nodejs) [ -s "$b" ] && echo launcher ;;
    pulumi-language-nodejs) "$b" -version ;;
    # No version flag: prove it starts, then read the version of the schema it embeds (what it serves).
    pulumi-resource-kubernetes) "$b" -help >/dev/null 2>&1 && LC_ALL=C grep -a -o '}},"version":"[0-9][0-9.]*"}' "$b" ;;
    pulumi-resource-*) "$b" -version ;;
    kubectl) "$b" version --client ;;
    etcdctl|etcdutl) "$b" version ;;
    kube-bench) "$b" version ;;
    # No version flag either: prove it starts, then read the pulumi-yaml version Go recorded in the binary.
    pulumi-language-yaml) "$b" -help >/dev/null 2>&1 &&
      go version -m "$b" | awk '$2 == "github.com/pulumi/pulumi-yaml" { print $3 }' ;;
    # The wrapper must find the unpacked tree from its own place (the cache may be reached by another path).
    haproxy) grep -q '^here=' "$b" && "$b" -v ;;
    cni-*) "$b" --version 2>&1 ;;
    # It prints its version on stderr.
    kube-router) "$b" --version 2>&1 ;;
    flanneld) "$b" --version 2>&1 ;;
    containerd-shim-runc-v2) "$b" -v | sed -n 's/^ *Version: *//p' ;;
    # The images carry the hash of the sources they were built from in a file beside them.
    image-*) cat "${b%.tar}.version" ;;
    *) "$b" --version ;;
  esac 2>/dev/null | head -n 1 || true
}

# Expected version text per binary; a binary that runs but reports anything else is rebuilt.
expected_version() {
  case "$1" in
    pulumi) echo "v$PULUMI_VERSION" ;;
    pulumi-language-nodejs) echo "$PULUMI_VERSION" ;;
    pulumi-resource-pulumi-nodejs) echo launcher ;;
    pulumi-resource-tls) echo "$PULUMI_TLS_VERSION" ;;
    pulumi-resource-random) echo "$PULUMI_RANDOM_VERSION" ;;
    pulumi-resource-kubernetes) echo "$PULUMI_KUBERNETES_VERSION" ;;
    kube-apiserver|kube-controller-manager|kube-scheduler|kubectl|kubelet|kube-proxy) echo "v$KUBERNETES_VERSION" ;;
    etcd|etcdctl|etcdutl) echo "$ETCD_VERSION" ;;
    kube-bench) echo "$KUBE_BENCH_VERSION" ;;
    pulumi-language-yaml) echo "v$PULUMI_YAML_VERSION" ;;
    haproxy) echo "HAProxy version $HAPROXY_DEB_VERSION " ;;
    hc-kms-plugin) echo "hc-kms-plugin $KMS_PLUGIN_VERSION" ;;
    hc-aws-kms-plugin) echo "hc-aws-kms-plugin $AWS_KMS_PLUGIN_VERSION" ;;
    hc-csr-approver) echo "hc-csr-approver $CSR_APPROVER_VERSION" ;;
    containerd|containerd-shim-runc-v2|ctr) echo "v$CONTAINERD_VERSION" ;;
    kube-router) echo "version v$KUBE_ROUTER_VERSION," ;;
    flanneld) echo "v$FLANNEL_VERSION" ;;
    runc) echo "runc version $RUNC_VERSION" ;;
    cni-*) echo "v$CNI_PLUGINS_VERSION" ;;
    hc-registry|image-*) echo "$NODE_IMAGES_VERSION" ;;
  esac
}

# cold_seconds STEP: how long the step took in the measured cold build (2 cores, empty Go caches, downloads
# included; the README's table), so a user can tell a slow step from a stuck one. Empty for an unmeasured step.
cold_seconds() {
  case "$1" in
    etcd) echo 140 ;;
    etcdutl) echo 278 ;;
    pulumi-nodejs-launcher) echo 1 ;;
    pulumi) echo 475 ;;
    tls) echo 189 ;;
    random) echo 79 ;;
    kubernetes-provider) echo 767 ;;
    kubernetes) echo 586 ;;
    kubelet) echo 390 ;;
    kube-bench) echo 129 ;;
    pulumi-yaml) echo 981 ;;
    haproxy) echo 6 ;;
    kms-plugin) echo 30 ;;
    aws-kms-plugin) echo 60 ;;
    csr-approver) echo 5 ;;
    node-runtime) echo 255 ;;
    node-images) echo 5 ;;
    kube-router) echo 154 ;;
    flannel) echo 155 ;;
  esac
}
announced=0

is_current() { local v; v=$(version_of "$1"); [ -n "$v" ] && [[ "$v" == *"$(expected_version "$1")"* ]]; }

# step NAME FUNC BIN...: runs FUNC unless every BIN is current, times it, then verifies the BINs.
step() {
  local name=$1 fn=$2; shift 2
  local b missing=0
  for b in "$@"; do is_current "$b" || missing=1; done
  if [ "$name" = kube-bench ] && [ ! -d "$HC_KUBE_BENCH_CFG/cis-1.12" ]; then missing=1; fi
  if [ $missing = 0 ]; then log "$name: cached"; return 0; fi
  [ "$mode" = build ] || die "$name is missing or stale in $HC_TOOLCHAIN_BIN (run scripts/toolchain.sh)"
  if [ $announced = 0 ]; then
    announced=1
    log "building what is missing; the first build of everything took about 40 min on 2 cores (later runs: seconds)"
  fi
  local expected; expected=$(cold_seconds "$name")
  log "$name: building${expected:+ (about $(fmt_duration "$expected") cold on 2 cores)}"
  local t0=$SECONDS
  with_progress "$name" "$expected" "$fn" || die "$name: build failed (see the go output above)"
  local took=$((SECONDS - t0))
  for b in "$@"; do is_current "$b" || die "$name: $b does not report version $(expected_version "$b") (got: '$(version_of "$b")')"; done
  log "$name: built in ${took}s"
  printf '%s %ss %s\n' "$(date -u +%FT%TZ)" "$took" "$name" >> "$TIMINGS"
}

# fresh_copy SRC DST: a writable copy of a source tree (module cache files are read-only).
fresh_copy() { rm -rf "$2"; mkdir -p "$(dirname "$2")"; cp -r "$1" "$2"; chmod -R u+w "$2"; }

# wrapper NAME: a writable copy of the committed wrapper module toolchain/go/NAME.
wrapper() { fresh_copy "$WRAPPERS/$1" "$BUILD/$1"; cd "$BUILD/$1"; }

# embed_schema DIR VERSION: writes the versioned schema the provider's main.go embeds (what its go generate does).
embed_schema() {
  node -e 'const fs=require("fs");const [d,v]=process.argv.slice(1);
    const s=JSON.parse(fs.readFileSync(d+"/schema.json","utf8"));s.version=v;
    fs.writeFileSync(d+"/schema-embed.json",JSON.stringify(s));
    if(fs.existsSync(d+"/terraform-mapping.json"))
      fs.writeFileSync(d+"/terraform-mapping-embed.json",JSON.stringify(JSON.parse(fs.readFileSync(d+"/terraform-mapping.json","utf8"))));' "$1" "$2"
}

# The project's own KMS v2 plugin (toolchain/go/kms-plugin): versioned by a hash of its source, so any change
# to it rebuilds it and nothing else.
KMS_PLUGIN_VERSION=$(cat "$WRAPPERS/kms-plugin/main.go" "$WRAPPERS/kms-plugin/go.mod" "$WRAPPERS/kms-plugin/go.sum" | sha256sum | cut -c1-12)
build_kms_plugin() {
  wrapper kms-plugin
  go build -trimpath -ldflags "-s -w -X main.version=$KMS_PLUGIN_VERSION" -o "$HC_TOOLCHAIN_BIN/hc-kms-plugin" .
}

# The AWS nodes' KMS v2 plugin (toolchain/go/aws-kms-plugin; aws-encryption-provider's flags): the Go module proxy
# serves no aws-encryption-provider, so the nodes run this one. Versioned by a hash of its source, like the above.
AWS_KMS_PLUGIN_VERSION=$(cat "$WRAPPERS/aws-kms-plugin/main.go" "$WRAPPERS/aws-kms-plugin/go.mod" "$WRAPPERS/aws-kms-plugin/go.sum" | sha256sum | cut -c1-12)
build_aws_kms_plugin() {
  wrapper aws-kms-plugin
  go build -trimpath -ldflags "-s -w -X main.version=$AWS_KMS_PLUGIN_VERSION" -o "$HC_TOOLCHAIN_BIN/hc-aws-kms-plugin" .
}

# The kubelet serving-certificate approver (toolchain/go/csr-approver, standard library only): it approves a
# node's request only for names the Node reports. Versioned by a hash of its source, like the above.
CSR_APPROVER_VERSION=$(cat "$WRAPPERS/csr-approver/main.go" "$WRAPPERS/csr-approver/go.mod" | sha256sum | cut -c1-12)
build_csr_approver() {
  wrapper csr-approver
  go build -trimpath -ldflags "-s -w -X main.version=$CSR_APPROVER_VERSION" -o "$HC_TOOLCHAIN_BIN/hc-csr-approver" .
}

# A worker node's runtime, each from its own committed wrapper: runc with seccomp (cgo and libseccomp, which
# restricted Pods' RuntimeDefault profile needs), containerd with its runc shim and ctr, and the CNI plugins the
# node's bridge network calls.
build_node_runtime() {
  wrapper runc
  CGO_ENABLED=1 go build -trimpath -tags seccomp -ldflags "-s -w -X main.version=$RUNC_VERSION" -o "$HC_TOOLCHAIN_BIN/runc" github.com/opencontainers/runc
  wrapper containerd
  local c
  for c in containerd containerd-shim-runc-v2 ctr; do
    go build -trimpath -tags no_btrfs,no_devmapper,no_zfs -ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=v$CONTAINERD_VERSION" \
      -o "$HC_TOOLCHAIN_BIN/$c" "github.com/containerd/containerd/v2/cmd/$c"
  done
  wrapper cni-plugins
  mkdir -p "$HC_CNI_BIN"
  for c in main/bridge ipam/host-local main/loopback meta/portmap; do
    go build -trimpath -ldflags "-s -w -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=v$CNI_PLUGINS_VERSION" \
      -o "$HC_CNI_BIN/$(basename "$c")" "github.com/containernetworking/plugins/plugins/$c"
  done
}

# A worker node's NetworkPolicy enforcer: kube-router, run with its firewall controller only (see
# platforms/local/worker/network-policy.ts for why, and which advisories that leaves out).
build_kube_router() {
  wrapper kube-router
  go build -trimpath -ldflags "-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=v$KUBE_ROUTER_VERSION" \
    -o "$HC_TOOLCHAIN_BIN/kube-router" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router
}

# The AWS workers' Pod network (platforms/aws/pod-network.ts): flanneld as its release is built, with cgo for its
# UDP backend and linked statically, so it runs on any distribution's C library.
build_flannel() {
  wrapper flannel
  CGO_ENABLED=1 go build -trimpath -ldflags "-s -w -X github.com/flannel-io/flannel/pkg/version.Version=v$FLANNEL_VERSION -extldflags -static" \
    -o "$HC_TOOLCHAIN_BIN/flanneld" github.com/flannel-io/flannel
}

# The node's images (toolchain/go/node-images): no registry is reachable, so the Pod sandbox's pause image, the
# tests' workload and the cluster's DNS (CoreDNS with the plugins a cluster domain needs, toolchain/go/coredns)
# are static binaries packed into OCI archives here, and served to the node's containerd by hc-registry.
# Versioned by a hash of their sources, like the KMS plugins.
NODE_IMAGES_VERSION=$(cd "$WRAPPERS" && find node-images coredns -type f | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-12)
build_node_images() {
  wrapper coredns
  local tmp=$BUILD/node-images-out i
  mkdir -p "$tmp" "$HC_NODE_IMAGES"
  go build -trimpath -ldflags "-s -w" -o "$tmp/coredns" .
  wrapper node-images
  for i in pause echo mkimage; do go build -trimpath -ldflags "-s -w" -o "$tmp/$i" "./$i"; done
  go build -trimpath -ldflags "-s -w -X main.buildVersion=$NODE_IMAGES_VERSION" -o "$HC_TOOLCHAIN_BIN/hc-registry" ./registry
  for i in pause echo coredns; do
    "$tmp/mkimage" -binary "$tmp/$i" -path "/$i" -name "localhost/hardened-cluster/$i:$NODE_IMAGES_VERSION" -out "$HC_NODE_IMAGES/$i.tar"
    echo "$NODE_IMAGES_VERSION" > "$HC_NODE_IMAGES/$i.version"
  done
}

need_shared() { [ -d "$HC_SHARED_DIR/toolchain-src/$1" ] || die "missing $HC_SHARED_DIR/toolchain-src/$1 (set HC_SHARED_DIR to the shared/ folder)"; }

build_etcd() {
  wrapper etcd
  go build -trimpath -o "$HC_TOOLCHAIN_BIN/etcd" go.etcd.io/etcd/server/v3
  go build -trimpath -o "$HC_TOOLCHAIN_BIN/etcdctl" go.etcd.io/etcd/etcdctl/v3
}

# etcdutl (offline snapshot status/restore; etcdctl 3.6 no longer restores) is its own module, which the etcd
# wrapper does not require: it is added to a scratch copy of that wrapper, so the etcd and etcdctl dependency
# versions it shares stay the pinned ones and the committed etcd wrapper is unchanged.
build_etcdutl() {
  wrapper etcd
  go get "go.etcd.io/etcd/etcdutl/v3@v$ETCD_VERSION"
  go build -trimpath -o "$HC_TOOLCHAIN_BIN/etcdutl" go.etcd.io/etcd/etcdutl/v3
}

# kube_build CMD...: the Kubernetes commands from the committed wrapper, stamped with the pinned version.
kube_build() {
  wrapper kubernetes
  local c flags="" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $p.gitVersion=v$KUBERNETES_VERSION -X $p.gitMajor=${KUBERNETES_VERSION%%.*}"
    flags+=" -X $p.gitMinor=$(echo "$KUBERNETES_VERSION" | cut -d. -f2) -X $p.gitTreeState=clean"
  done
  for c in "$@"; do
    go build -trimpath -ldflags "-s -w $flags" -o "$HC_TOOLCHAIN_BIN/$c" "k8s.io/kubernetes/cmd/$c"
  done
}
build_kubernetes() { kube_build kube-apiserver kube-controller-manager kube-scheduler kubectl; }
# The node binaries: the kubelet (AWS stacks publish it to their bucket; local workers run it) and kube-proxy
# (local workers). Their own step, so adding them rebuilt nothing else.
build_kubelet() { kube_build kubelet kube-proxy; }

build_pulumi() {
  need_shared "pulumi-language-nodejs-v$PULUMI_VERSION"
  wrapper pulumi
  fresh_copy "$HC_SHARED_DIR/toolchain-src/pulumi-language-nodejs-v$PULUMI_VERSION" "$BUILD/pulumi/lang-nodejs"
  local ld="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"
  go build -trimpath -tags osusergo,grpcnotrace -ldflags "$ld" -o "$HC_TOOLCHAIN_BIN/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  go build -trimpath -tags osusergo,grpcnotrace -ldflags "$ld" -o "$HC_TOOLCHAIN_BIN/pulumi-language-nodejs" \
    github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3
}

# The dynamic-provider launcher the Pulumi distribution ships: the engine starts it in the program's
# directory, so it runs that program's own copy of @pulumi/pulumi.
build_dynamic_launcher() {
  mkdir -p "$HC_TOOLCHAIN_BIN"
  printf '#!/bin/sh\nexec node ./node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js "$@"\n' \
    > "$HC_TOOLCHAIN_BIN/pulumi-resource-pulumi-nodejs"
  chmod 0755 "$HC_TOOLCHAIN_BIN/pulumi-resource-pulumi-nodejs"
}

# build_bridged NAME VERSION MAJOR: the tls/random providers from their shared source trees.
build_bridged() {
  local name=$1 version=$2 major=$3 dir=pulumi-$1-provider-v$2
  need_shared "$dir"
  fresh_copy "$HC_SHARED_DIR/toolchain-src/$dir" "$BUILD/$name"
  cd "$BUILD/$name"
  embed_schema "cmd/pulumi-resource-$name" "$version"
  go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi-$name/provider/$major/pkg/version.Version=$version" \
    -o "$HC_TOOLCHAIN_BIN/pulumi-resource-$name" "./cmd/pulumi-resource-$name"
}
build_tls() { build_bridged tls "$PULUMI_TLS_VERSION" v5; }
build_random() { build_bridged random "$PULUMI_RANDOM_VERSION" v4; }

build_kubernetes_provider() {
  local mod=github.com/pulumi/pulumi-kubernetes/provider/v4 src
  src=$(cd /tmp && go mod download -json "$mod@$PULUMI_KUBERNETES_MODULE_VERSION" | node -e \
    'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);if(j.Error){console.error(j.Error);process.exit(1)}console.log(j.Dir)})')
  fresh_copy "$src" "$BUILD/kubernetes-provider"
  cd "$BUILD/kubernetes-provider"
  # Its go.mod points the SDK at a sibling folder of the monorepo; the pinned SDK version is served.
  go mod edit -dropreplace github.com/pulumi/pulumi-kubernetes/sdk/v4
  embed_schema cmd/pulumi-resource-kubernetes "$PULUMI_KUBERNETES_VERSION"
  go build -trimpath -ldflags "-s -w -X $mod/pkg/version.Version=$PULUMI_KUBERNETES_VERSION" \
    -o "$HC_TOOLCHAIN_BIN/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes
}

build_kube_bench() {
  wrapper kube-bench
  go build -trimpath -ldflags "-s -w -X github.com/aquasecurity/kube-bench/cmd.KubeBenchVersion=$KUBE_BENCH_VERSION" \
    -o "$HC_TOOLCHAIN_BIN/kube-bench" github.com/aquasecurity/kube-bench
  local dir
  dir=$(go list -m -f '{{.Dir}}' github.com/aquasecurity/kube-bench)
  rm -rf "$HC_KUBE_BENCH_CFG"; mkdir -p "$(dirname "$HC_KUBE_BENCH_CFG")"
  cp -r "$dir/cfg" "$HC_KUBE_BENCH_CFG"; chmod -R u+w "$HC_KUBE_BENCH_CFG"
}

# The YAML language host: pulumi-yaml's server at the pinned tag, started by the wrapper's own main.go so that
# it loads packages through the engine (see that file for why the upstream command cannot serve them).
build_pulumi_yaml() {
  wrapper pulumi-yaml
  go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi-yaml/pkg/version.Version=v$PULUMI_YAML_VERSION" \
    -o "$HC_TOOLCHAIN_BIN/pulumi-language-yaml" .
}

# haproxy_debs: the pinned packages as apt names them (the binary, then the libraries a Debian host lacks).
haproxy_debs() {
  echo "haproxy=$HAPROXY_DEB_VERSION" "liblua5.3-0=$LIBLUA53_DEB_VERSION" \
    "libopentracing-c-wrapper0=$LIBOPENTRACING_C_WRAPPER_DEB_VERSION" "libopentracing1=$LIBOPENTRACING_DEB_VERSION"
}

# unlisted_debs NAME=VERSION...: the ones the local package lists do not offer, each after a space. (apt-cache
# show exits 0 with no output for an unknown version of a known package, so the answer's Version line decides.)
unlisted_debs() {
  local d out
  for d in "$@"; do
    out=$(apt-cache show "$d" 2>/dev/null || true)
    grep -qxF "Version: ${d#*=}" <<< "$out" || printf ' %s' "$d"
  done
}

# haproxy comes from Debian's packages rather than a Go module: the .debs are downloaded (any user may) and
# unpacked into the cache, never installed, and bin/haproxy is a wrapper that points the loader at the libraries
# unpacked beside it. No root needed, and the host's own packages are left alone.
install_haproxy() {
  command -v apt-get >/dev/null && command -v dpkg >/dev/null ||
    die "haproxy: apt-get and dpkg are needed to fetch Debian's haproxy $HAPROXY_DEB_VERSION"
  local debs dl=$BUILD/haproxy-debs dst=$HC_TOOLCHAIN_DIR/haproxy tmp=$HC_TOOLCHAIN_DIR/haproxy.new
  read -r -a debs <<< "$(haproxy_debs)"
  # Stale package lists (a security update replaced the version) are refreshed once, which only root may do.
  local missing
  missing=$(unlisted_debs "${debs[@]}")
  if [ -n "$missing" ] && [ "$(id -u)" = 0 ]; then
    log "haproxy: the package lists lack$missing; refreshing them (apt-get update)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "haproxy: apt-get update failed"
    missing=$(unlisted_debs "${debs[@]}")
  fi
  if [ -n "$missing" ]; then
    [ "$(id -u)" = 0 ] && die "haproxy: no configured Debian mirror offers$missing (haproxy $HAPROXY_DEB_VERSION is pinned in scripts/lib/versions.sh)"
    die "haproxy: the package lists lack$missing; as root run apt-get update, then scripts/toolchain.sh again"
  fi
  rm -rf "$dl"; mkdir -p "$dl"
  # As root apt would hand the download to its _apt user, who cannot enter root's cache; it then falls back to
  # root with a warning. Saying so up front keeps the log clean.
  local as=()
  [ "$(id -u)" = 0 ] && as=(-o APT::Sandbox::User=root)
  (cd "$dl" && apt-get download -qq "${as[@]}" "${debs[@]}" >&2) || die "haproxy: apt-get download ${debs[*]} failed (is the mirror reachable?)"
  # Unpacked into a fresh directory and swapped in whole, so a failed run never leaves half a tree behind.
  rm -rf "$tmp"; mkdir -p "$tmp"
  local f n=0
  for f in "$dl"/*.deb; do dpkg -x "$f" "$tmp" || die "haproxy: dpkg -x $f failed"; n=$((n + 1)); done
  [ "$n" = "${#debs[@]}" ] || die "haproxy: expected ${#debs[@]} packages, got $n in $dl"
  local lib
  lib=$(find "$tmp/usr/lib" -name 'liblua5.3.so.0*' -print -quit 2>/dev/null)
  [ -x "$tmp/usr/sbin/haproxy" ] && [ -n "$lib" ] || die "haproxy: the packages did not hold usr/sbin/haproxy and liblua5.3"
  lib=$(dirname "${lib#"$tmp/"}")
  rm -rf "$dst"; mv "$tmp" "$dst" || die "haproxy: could not move the unpacked tree to $dst"
  mkdir -p "$HC_TOOLCHAIN_BIN"
  # Paths are taken from the wrapper's own place, so the cache works wherever it is reached from (another
  # user's view of it, a copy). The loader path is replaced, not extended: the unpacked libraries plus the system's.
  printf '#!/bin/sh\n# Debian haproxy %s, unpacked by scripts/toolchain.sh\nhere=$(cd "$(dirname "$0")/../%s" && pwd) || exit 1\nLD_LIBRARY_PATH="$here/%s"\nexport LD_LIBRARY_PATH\nexec "$here/usr/sbin/haproxy" "$@"\n' \
    "$HAPROXY_DEB_VERSION" "$(basename "$dst")" "$lib" > "$HC_TOOLCHAIN_BIN/haproxy"
  chmod 0755 "$HC_TOOLCHAIN_BIN/haproxy"
}

# Host tools the tests and platforms call, from Debian's packages: cloud-init, sshd and systemd-analyze validate
# the AWS user data, units and sshd config; openssl, ps and unshare serve the local platform and its tests;
# iptables, ipset, ip and nsenter a local worker node (kube-router keeps its policies' address sets in ipset).
ensure_host_tools() {
  local wanted=(cloud-init:cloud-init /usr/sbin/sshd:openssh-server systemd-analyze:systemd openssl:openssl ps:procps unshare:util-linux
    /usr/include/seccomp.h:libseccomp-dev iptables:iptables ipset:ipset ip:iproute2 nsenter:util-linux nft:nftables)
  local missing=() pair
  for pair in "${wanted[@]}"; do
    case "${pair%%:*}" in
      /usr/include/*) [ -e "${pair%%:*}" ] || missing+=("${pair##*:}") ;;
      *) command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair##*:}") ;;
    esac
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  # Without root no worker node can run and `npm start` needs none of them (the control plane uses coreutils
  # only), so a user who cannot install packages is told which tests will fail instead of being stopped.
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    log "note: host packages missing: ${missing[*]}; \`npm start\` without root does not need them, but the tests do (the AWS specs validate with cloud-init, systemd-analyze and sshd; as root on Debian: apt-get install ${missing[*]})"
    return 0
  fi
  [ "$mode" = build ] || die "host packages missing: ${missing[*]} (run scripts/toolchain.sh)"
  log "installing host packages: ${missing[*]}"
  # A policy-rc.d keeps the packages' services (sshd) from being started; one the host has is left alone.
  local own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d && own_policy=1
  fi
  local rc=0
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 || rc=$?
  if [ $own_policy = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
  [ $rc = 0 ] || die "installing ${missing[*]} failed"
}

command -v go >/dev/null || die "go is not on PATH (the toolchain is built from Go modules)"
command -v node >/dev/null || die "node is not on PATH"
mkdir -p "$HC_TOOLCHAIN_BIN"
log "cache: $HC_TOOLCHAIN_DIR"
start=$SECONDS
ensure_host_tools
# Cheapest first, so a broken environment fails fast; the Kubernetes provider and binaries share a build cache.
step etcd build_etcd etcd etcdctl
step etcdutl build_etcdutl etcdutl
step pulumi-nodejs-launcher build_dynamic_launcher pulumi-resource-pulumi-nodejs
step pulumi build_pulumi pulumi pulumi-language-nodejs
step tls build_tls pulumi-resource-tls
step random build_random pulumi-resource-random
step kubernetes-provider build_kubernetes_provider pulumi-resource-kubernetes
step kubernetes build_kubernetes kube-apiserver kube-controller-manager kube-scheduler kubectl
step kubelet build_kubelet kubelet kube-proxy
step kms-plugin build_kms_plugin hc-kms-plugin
step aws-kms-plugin build_aws_kms_plugin hc-aws-kms-plugin
step csr-approver build_csr_approver hc-csr-approver
step kube-bench build_kube_bench kube-bench
step pulumi-yaml build_pulumi_yaml pulumi-language-yaml
step haproxy install_haproxy haproxy
# Worker nodes need root, which installs libseccomp-dev above; without it (an unprivileged user) runc cannot be
# built, and nothing that user can run needs it: the control plane alone comes up.
if [ -e /usr/include/seccomp.h ]; then
  step node-runtime build_node_runtime containerd containerd-shim-runc-v2 ctr runc cni-bridge cni-host-local cni-loopback cni-portmap
else
  log "node-runtime: not built: runc needs libseccomp-dev (as root: apt-get install libseccomp-dev); only local.workers needs it"
fi
if [ -e /usr/include/seccomp.h ]; then step kube-router build_kube_router kube-router; fi
# flanneld runs only on AWS workers, which the stack publishes from here; built where the worker tools are.
if [ -e /usr/include/seccomp.h ]; then step flannel build_flannel flanneld; fi
step node-images build_node_images hc-registry image-pause image-echo image-coredns
# The AWS stack finds what it publishes beside the binaries under its binaries directory: the CNI plugins in
# cni/, the node images in images/. Linked once, like a step's binaries: a cache another user (or a read-only
# view of it) shares is only read.
link_beside_bin() {
  local name=$1 target=$2
  [ -d "$HC_TOOLCHAIN_BIN/$target" ] || return 0
  [ "$(readlink "$HC_TOOLCHAIN_BIN/$name" 2>/dev/null)" = "$target" ] && return 0
  [ "$mode" = build ] || die "$HC_TOOLCHAIN_BIN/$name is missing (run scripts/toolchain.sh)"
  ln -sfn "$target" "$HC_TOOLCHAIN_BIN/$name"
}
link_beside_bin cni ../cni/bin
link_beside_bin images ../images
cd "$HC_ROOT"; rm -rf "$BUILD"
for b in "$HC_TOOLCHAIN_BIN"/*; do [ -d "$b" ] && continue; printf '[toolchain]   %-32s %s\n' "$(basename "$b")" "$(version_of "$(basename "$b")")" >&2; done
log "ready in $((SECONDS - start))s: $HC_TOOLCHAIN_BIN"
