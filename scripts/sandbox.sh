#!/usr/bin/env bash
# Runs a command (the test suite) so that a local control plane it starts cannot meet anyone else's:
# as root, in private mount and PID namespaces where kubeadm's directories (/etc/kubernetes, /etc/etcd,
# /var/lib/etcd, ...) are bind mounts of a scratch directory, `ps` shows only the namespace's processes
# (kube-bench finds components by process name), and every process still running when the command ends
# dies with the namespace. Without root it runs the command as is: the tests then use the user layout.
set -euo pipefail
if [ "$(id -u)" != 0 ] || [ -n "${HC_SANDBOXED:-}" ]; then exec "$@"; fi
command -v unshare >/dev/null || { echo "sandbox: unshare (util-linux) is required to run the tests as root" >&2; exit 1; }
command -v flock >/dev/null || { echo "sandbox: flock (util-linux) is required to run the tests as root" >&2; exit 1; }

dirs=(/etc/kubernetes /etc/etcd /var/lib/etcd /var/log/kubernetes /var/lib/hardened-cluster
  /var/lib/kubelet /var/lib/containerd /etc/containerd /etc/cni/net.d /var/log/pods /var/log/containers)
# Bind mounts need their mount points to exist on the host. Those this tool creates are recorded in a shared
# file and removed only by the last sandbox to leave: removing one while another sandbox still has a mount on
# it would make that sandbox's next `mkdir -p` create a real directory on the host, outside its scratch.
# The locks and that list live in a directory only root can touch: in a world-writable one such as /run/lock,
# anyone could plant a symlink at a lock name (opened for writing as root) or list directories to remove.
# HC_SANDBOX_LOCKDIR moves it (tests only); whatever it names must pass the same check.
lockdir=${HC_SANDBOX_LOCKDIR:-/run/hardened-cluster}
if [ ! -e "$lockdir" ] && [ ! -L "$lockdir" ]; then mkdir -m 0700 "$lockdir" 2>/dev/null || true; fi
if [ -L "$lockdir" ] || [ ! -d "$lockdir" ] || [ "$(stat -c %u:%a -- "$lockdir")" != 0:700 ] \
  || [ "$(stat -c %u -- "$(dirname -- "$lockdir")")" != 0 ] || [ $(( 0$(stat -c %a -- "$(dirname -- "$lockdir")") & 022 )) != 0 ]; then
  echo "sandbox: $lockdir must be a directory owned by root, mode 0700, in a root-owned directory nobody else can write; remove it and run again" >&2
  exit 1
fi
exec 8>"$lockdir/mountpoints.lock" 9>"$lockdir/running.lock"
# Creating mount points and joining the running set happen under one lock, so a sandbox that is leaving can
# never remove a mount point that another one is about to bind.
flock -x 8
for d in "${dirs[@]}"; do
  if [ ! -e "$d" ]; then mkdir -p "$d"; echo "$d" >> "$lockdir/created-mountpoints"; fi
done
flock -s 9 # held (shared) for the whole run
flock -u 8
scratch=$(mktemp -d /tmp/hc-sandbox-XXXXXX)
cleanup() {
  rm -rf "$scratch"
  flock -x 8
  # Exclusive on the running lock only when no other sandbox is inside: then nobody has a mount on them.
  if flock -n -x 9 && [ -f "$lockdir/created-mountpoints" ]; then
    while read -r d; do rmdir "$d" 2>/dev/null || true; done < "$lockdir/created-mountpoints"
    rm -f "$lockdir/created-mountpoints"
  fi
  flock -u 8
}
trap cleanup EXIT

# bash stays PID 1 (no exec) so orphaned daemons are reaped while the tests run. The locks' descriptors are
# closed inside, so no test process can keep them held after the sandbox ends.
# HC_SANDBOX_NET=private adds a network namespace of its own (loopback only), so two runs on one machine
# can use the same ports; it is off by default because a test that installs packages needs the registry.
net=()
if [ "${HC_SANDBOX_NET:-}" = private ]; then net=(--net); fi
HC_SANDBOXED=1 HC_SANDBOX_SCRATCH=$scratch unshare --mount --pid --fork --mount-proc --propagation private "${net[@]}" \
  bash -c 'set -e
    exec 8>&- 9>&-
    if [ -n "'"${net[*]}"'" ]; then ip link set lo up; fi
    for d in '"${dirs[*]}"'; do mkdir -p "$HC_SANDBOX_SCRATCH$d"; mount --bind "$HC_SANDBOX_SCRATCH$d" "$d"; done
    status=0; "$@" || status=$?; exit $status' sandbox "$@"
