#!/usr/bin/env bash
# Runs a command (the test suite) so that a local control plane it starts cannot meet anyone else's:
# as root, in private mount and PID namespaces where kubeadm's directories (/etc/kubernetes, /etc/etcd,
# /var/lib/etcd, ...) are bind mounts of a scratch directory, `ps` shows only the namespace's processes
# (kube-bench finds components by process name), and every process still running when the command ends
# dies with the namespace. Without root it runs the command as is: the tests then use the user layout.
set -euo pipefail
if [ "$(id -u)" != 0 ] || [ -n "${HC_SANDBOXED:-}" ]; then exec "$@"; fi
command -v unshare >/dev/null || { echo "sandbox: unshare (util-linux) is required to run the tests as root" >&2; exit 1; }

dirs=(/etc/kubernetes /etc/etcd /var/lib/etcd /var/log/kubernetes /var/lib/hardened-cluster)
scratch=$(mktemp -d /tmp/hc-sandbox-XXXXXX)
created=()
for d in "${dirs[@]}"; do
  if [ ! -e "$d" ]; then mkdir -p "$d"; created+=("$d"); fi
done
cleanup() {
  for d in "${created[@]}"; do rmdir "$d" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT

# bash stays PID 1 (no exec) so orphaned daemons are reaped while the tests run.
HC_SANDBOXED=1 HC_SANDBOX_SCRATCH=$scratch unshare --mount --pid --fork --mount-proc --propagation private \
  bash -c 'set -e
    for d in '"${dirs[*]}"'; do mkdir -p "$HC_SANDBOX_SCRATCH$d"; mount --bind "$HC_SANDBOX_SCRATCH$d" "$d"; done
    status=0; "$@" || status=$?; exit $status' sandbox "$@"
