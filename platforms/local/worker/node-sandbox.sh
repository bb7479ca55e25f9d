#!/usr/bin/env bash
# A local worker node's sandbox, as root: `up` makes it, `down` removes it and everything the node left.
#   network:  namespace $HC_NETNS, joined to this machine by veth $HC_VETH_HOST ($HC_HOST_IP/30) <->
#             $HC_VETH_NODE ($HC_NODE_IP/30); this machine routes only the node's Pod range to it, accepts only the
#             API relays' port from it ($HC_HOST_IP, and $HC_API_ADDRESS, the first worker's relay, which the
#             `kubernetes` Service points at) and forwards from it only Pod-to-Pod packets to another node of
#             the stack ($HC_CLUSTER_POD_CIDR, out of a $HC_LINK_PREFIX* link), so no Pod packet leaves this machine.
#   mounts:   a mount namespace kept by $HC_ROOT/mnt.ns in which each of the node's own directories
#             ($HC_ROOT/<path>) sits at its standard path, and /run is the node's own tmpfs.
#   cgroups:  $HC_CGROUP_ROOT in every hierarchy (the kubelet's cgroupRoot).
#   sysctls:  the values the kubelet requires (protectKernelDefaults), restored by `down` when still ours.
# Every step tolerates what a killed earlier run left, so `up` after a crash and `down` twice both work.
set -euo pipefail
: "${HC_NETNS:?}" "${HC_ROOT:?}" "${HC_VETH_HOST:?}" "${HC_VETH_NODE:?}" "${HC_HOST_IP:?}" "${HC_NODE_IP:?}" "${HC_POD_CIDR:?}" "${HC_CLUSTER_POD_CIDR:?}" "${HC_LINK_PREFIX:?}"
: "${HC_SERVICE_CIDR:?}" "${HC_CGROUP_ROOT:?}" "${HC_API_PORT:?}" "${HC_API_ADDRESS:?}" "${HC_NODE_DIRS:?}" "${HC_SYSCTLS:?}"
chain="HC-${HC_VETH_HOST^^}"
# The one packet this machine forwards from a node: Pod to Pod, into another node of the stack.
pod_to_pod=(-i "$HC_VETH_HOST" -o "$HC_LINK_PREFIX+" -s "$HC_CLUSTER_POD_CIDR" -d "$HC_CLUSTER_POD_CIDR" -j ACCEPT)
mnt=$HC_ROOT/mnt.ns

die() { echo "node sandbox: $*" >&2; exit 1; }

cgroup_dirs() {
  local h
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then echo "/sys/fs/cgroup$HC_CGROUP_ROOT"; return; fi
  for h in /sys/fs/cgroup/*/; do [ -L "${h%/}" ] || echo "${h%/}$HC_CGROUP_ROOT"; done
}

# Pids of everything the node runs: in its network namespace (containerd, its shims, the kubelet, the registry)
# or in its cgroup subtree (the Pods' processes, each in namespaces of its own).
node_pids() {
  { ip netns pids "$HC_NETNS" 2>/dev/null || true
    local d
    for d in $(cgroup_dirs); do if [ -d "$d" ]; then find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null || true; fi; done
  } | sort -un
}

down() {
  local i pids
  for i in $(seq 1 50); do
    pids=$(node_pids)
    [ -z "$pids" ] && break
    kill -KILL $pids 2>/dev/null || true
    sleep 0.2
  done
  [ -z "$(node_pids)" ] || die "processes of $HC_NETNS survived SIGKILL: $(node_pids | tr '\n' ' ')"
  if mountpoint -q "$mnt" 2>/dev/null || grep -qs " $mnt " /proc/self/mountinfo; then umount "$mnt"; fi
  if grep -qs " $HC_ROOT $HC_ROOT " /proc/self/mountinfo || mountpoint -q "$HC_ROOT" 2>/dev/null; then umount "$HC_ROOT" 2>/dev/null || umount -l "$HC_ROOT"; fi
  rm -f "$mnt"
  local d
  for d in $(cgroup_dirs); do if [ -d "$d" ]; then find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true; fi; done
  for d in $(cgroup_dirs); do [ ! -d "$d" ] || die "cgroup $d could not be removed"; done
  if iptables -n -L "$chain" >/dev/null 2>&1; then
    iptables -D INPUT -i "$HC_VETH_HOST" -j "$chain" 2>/dev/null || true
    iptables -D FORWARD -i "$HC_VETH_HOST" -j DROP 2>/dev/null || true
    iptables -D FORWARD "${pod_to_pod[@]}" 2>/dev/null || true
    iptables -F "$chain"; iptables -X "$chain"
  fi
  if [ -e "/run/netns/$HC_NETNS" ]; then ip netns del "$HC_NETNS" 2>/dev/null || rm -f "/run/netns/$HC_NETNS"; fi
  ip link del "$HC_VETH_HOST" 2>/dev/null || true
  if [ -f "$HC_ROOT/sysctl.before" ]; then
    local k v before now
    while read -r k before; do
      v=$(sysctl_wanted "$k"); now=$(sysctl -n "$k" 2>/dev/null || true)
      # Another stack's node may still need the value: only one this node set, and still holds, goes back.
      if [ "$now" = "$v" ] && ! other_nodes_up; then sysctl -q -w "$k=$before" >/dev/null || true; fi
    done < "$HC_ROOT/sysctl.before"
  fi
  # Everything the node held (images, snapshots, Pod directories, its certificates, logs) goes with it. Its root
  # is root's alone and no longer a mount point, so nothing below it can lead elsewhere.
  if [ -d "$HC_ROOT" ] && [ ! -L "$HC_ROOT" ]; then
    find "$HC_ROOT" -mindepth 1 -maxdepth 1 -exec rm -rf --one-file-system {} +
  fi
}

# keep_mount_ns BINDS: a new mount namespace with BINDS run in it, kept alive by a bind of it on $mnt.
keep_mount_ns() {
  rm -f "$HC_ROOT/.ns-ready"
  unshare --mount --propagation private sh -ec "$1; touch $HC_ROOT/.ns-ready; exec sleep 60" &
  local keeper=$! i rc=0
  for i in $(seq 1 100); do [ -e "$HC_ROOT/.ns-ready" ] && break; kill -0 "$keeper" 2>/dev/null || break; sleep 0.05; done
  if [ -e "$HC_ROOT/.ns-ready" ]; then mount --bind "/proc/$keeper/ns/mnt" "$mnt" || rc=1; else rc=1; fi
  kill "$keeper" 2>/dev/null || true
  wait "$keeper" 2>/dev/null || true
  rm -f "$HC_ROOT/.ns-ready"
  return $rc
}

sysctl_wanted() { tr ' ' '\n' <<< "$HC_SYSCTLS" | sed -n "s/^$1=//p"; }
# Another local node is up when its network namespace is still mounted (a file alone is what a dead one leaves).
other_nodes_up() {
  local f
  for f in /run/netns/hc-*; do
    [ "$f" != "/run/netns/$HC_NETNS" ] && mountpoint -q "$f" && return 0
  done
  return 1
}

up() {
  [ "$(id -u)" = 0 ] || die "a worker node needs root"
  down
  # A failed create is not recorded, so nothing would ever delete what it made: it removes it itself.
  trap 'status=$?; if [ $status != 0 ]; then down >/dev/null 2>&1 || true; fi' EXIT
  if ip -o addr show | awk '{print $4}' | grep -q "^$HC_HOST_IP/"; then
    die "this machine already has $HC_HOST_IP (another stack's node link?)"
  fi
  # Stacks on one machine share its routing table: two clusters with the same Pod range cannot both route it.
  local taken
  taken=$({ ip -4 route show root "$HC_POD_CIDR"; ip -4 route show match "$HC_POD_CIDR"; } | awk '$1 != "default" {print $1, $2, $3}' | head -n 1)
  if [ -n "$taken" ]; then
    die "this machine already routes $taken, which overlaps this node's Pod range $HC_POD_CIDR (another stack's node?): give this stack its own controlPlane.network.podCidr"
  fi
  ip netns add "$HC_NETNS"
  ip link add "$HC_VETH_HOST" type veth peer name "$HC_VETH_NODE" netns "$HC_NETNS"
  ip addr add "$HC_HOST_IP/30" dev "$HC_VETH_HOST"
  ip link set "$HC_VETH_HOST" up
  ip -n "$HC_NETNS" link set lo up
  ip -n "$HC_NETNS" addr add "$HC_NODE_IP/30" dev "$HC_VETH_NODE"
  ip -n "$HC_NETNS" link set "$HC_VETH_NODE" up
  # The node routes between its Pods and its link; it has no default route, so nothing else is reachable. The
  # Service range goes to this machine's end, which drops it: a node's own connection to a Service needs a route
  # before kube-proxy's rules rewrite it to a Pod.
  ip -n "$HC_NETNS" route add "$HC_SERVICE_CIDR" via "$HC_HOST_IP"
  # The `kubernetes` Service's endpoint is the first worker's relay; another node reaches it through its own link.
  if [ "$HC_API_ADDRESS" != "$HC_HOST_IP" ]; then ip -n "$HC_NETNS" route add "$HC_API_ADDRESS/32" via "$HC_HOST_IP"; fi
  # Other nodes' Pods are reached through this machine (the node's own /24, on its bridge, is more specific).
  ip -n "$HC_NETNS" route add "$HC_CLUSTER_POD_CIDR" via "$HC_HOST_IP"
  ip netns exec "$HC_NETNS" sysctl -q -w net.ipv4.ip_forward=1 >/dev/null
  # Pod-to-Service traffic between two Pods of one bridge must pass kube-proxy's rules both ways.
  ip netns exec "$HC_NETNS" sysctl -q -w net.bridge.bridge-nf-call-iptables=1 >/dev/null
  # kube-router filters a Pod only once its sync has given the Pod a chain of its own; until then (about a
  # second) the Pod's packets would pass unfiltered. kube-router's jumps come first in INPUT and FORWARD and
  # accept what its chains passed, so what reaches this guard, from or to a Pod address, is a Pod it has not
  # programmed yet: refused, bar replies and the node's own traffic (the kubelet's probes).
  local nsx=(ip netns exec "$HC_NETNS" iptables)
  "${nsx[@]}" -N HC-POD-GUARD
  "${nsx[@]}" -A HC-POD-GUARD -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN
  "${nsx[@]}" -A HC-POD-GUARD -m addrtype --src-type LOCAL -j RETURN
  "${nsx[@]}" -A HC-POD-GUARD -s "$HC_POD_CIDR" -j REJECT
  "${nsx[@]}" -A HC-POD-GUARD -d "$HC_POD_CIDR" -j REJECT
  "${nsx[@]}" -A INPUT -s "$HC_POD_CIDR" -j HC-POD-GUARD
  "${nsx[@]}" -A FORWARD -j HC-POD-GUARD
  ip route add "$HC_POD_CIDR" via "$HC_NODE_IP" dev "$HC_VETH_HOST"
  iptables -N "$chain"
  iptables -A "$chain" -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  iptables -A "$chain" -p tcp -d "$HC_HOST_IP" --dport "$HC_API_PORT" -j ACCEPT
  iptables -A "$chain" -p tcp -d "$HC_API_ADDRESS" --dport "$HC_API_PORT" -j ACCEPT
  iptables -A "$chain" -j DROP
  iptables -I INPUT -i "$HC_VETH_HOST" -j "$chain"
  iptables -I FORWARD -i "$HC_VETH_HOST" -j DROP
  iptables -I FORWARD "${pod_to_pod[@]}"
  # Forwarding is switched on for packets arriving on this link only (IPv4 decides by the incoming interface):
  # this machine's other interfaces keep whatever they had, and the setting goes with the link.
  sysctl -q -w "net.ipv4.conf.$HC_VETH_HOST.forwarding=1" >/dev/null

  local d
  for d in $HC_NODE_DIRS; do mkdir -p "$HC_ROOT$d"; chmod 0700 "$HC_ROOT$d"; done
  for d in $HC_NODE_DIRS; do case "$d" in /run/*) ;; *) [ -d "$d" ] || mkdir -p "$d" ;; esac; done
  # The namespace file must sit on a private mount, or the bind that keeps the namespace would propagate.
  mount --bind "$HC_ROOT" "$HC_ROOT"
  mount --make-private "$HC_ROOT"
  touch "$mnt"
  local binds="mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run"
  for d in $HC_NODE_DIRS; do
    case "$d" in /run/*) binds+="; mkdir -p $d" ;; esac
    binds+="; mount --bind $HC_ROOT$d $d"
  done
  # A keeper process makes the namespace and mounts the node's directories in it; its namespace file is then
  # bound to $mnt, which keeps the namespace after the keeper exits. The kernel refuses (EINVAL) to bind a
  # namespace whose id is not above the caller's, to prevent loops, and this kernel hands ids out in per-CPU
  # batches: inside another new namespace (the test sandbox) a fresh one can get a lower id. A new keeper gets a
  # new id, so it is tried again; from the machine's first namespace the first try always works.
  local try ok=0
  for try in $(seq 1 12); do
    keep_mount_ns "$binds" && { ok=1; break; }
    sleep 0.2
  done
  [ $ok = 1 ] || die "could not keep the node's mount namespace at $mnt (see the mount errors above)"

  for d in $(cgroup_dirs); do mkdir -p "$d"; done
  : > "$HC_ROOT/sysctl.before"
  local kv k v
  for kv in $HC_SYSCTLS; do
    k=${kv%%=*}; v=${kv#*=}
    echo "$k $(sysctl -n "$k")" >> "$HC_ROOT/sysctl.before"
    sysctl -q -w "$k=$v" >/dev/null || die "could not set $k=$v, which the kubelet requires (protectKernelDefaults)"
  done
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) die "usage: node-sandbox.sh up|down (settings in HC_* variables)" ;;
esac
