#!/usr/bin/env bash
# `npm test`'s suites in parallel lanes: the unit suite and each e2e spec are queue items, taken longest first
# (by the durations the last run recorded, else the order below) by HC_TEST_LANES lanes (default 2, one per
# core), each lane in a scripts/sandbox.sh of its own so kubeadm's directories and `ps` stay private to it.
# Every spec already uses its own ports, stacks and state. A spec's output is printed whole when it ends; the
# last line adds up every spec's counts in the form CI reads ("mocha: N passed, N failed, N skipped").
#   bash scripts/test.sh        # unit + e2e
#   bash scripts/test.sh e2e    # e2e only
#   HC_TEST_ITEMS=$'test/e2e/ha.spec.ts\ntest/e2e/pki.spec.ts' bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
lanes=${HC_TEST_LANES:-2}
[[ $lanes =~ ^[1-8]$ ]] || { echo "test: HC_TEST_LANES must be 1 to 8" >&2; exit 2; }

# Items that must not overlap run as one: the two specs that start worker nodes set this machine's kernel
# sysctls, which each puts back only when it sees no other node (in its own sandbox) still up.
TOGETHER="test/e2e/local-worker.spec.ts test/e2e/new-user.spec.ts"
UNIT='test/unit/**/*.spec.ts'
# Longest first when no durations are recorded yet (estimates from earlier full runs).
FIRST=(test/e2e/ca-rotation.spec.ts test/e2e/ha.spec.ts "$TOGETHER" test/e2e/backup-restore.spec.ts test/e2e/sa-rotation.spec.ts
  test/e2e/encryption-rotation.spec.ts test/e2e/aws-boot.spec.ts "$UNIT")

items=("${FIRST[@]}")
for f in test/e2e/*.spec.ts; do
  case " ${items[*]} " in *" $f "*) ;; *) items+=("$f") ;; esac
done
case "${1:-all}" in
  all) ;;
  e2e) mapfile -t items < <(printf '%s\n' "${items[@]}" | grep -v -x -F "$UNIT") ;;
  *) echo "test: use no argument (unit and e2e) or e2e" >&2; exit 2 ;;
esac
# HC_TEST_ITEMS (one item a line) runs those instead: a subset, or the runner's own test.
if [ -n "${HC_TEST_ITEMS:-}" ]; then mapfile -t items <<< "$HC_TEST_ITEMS"; fi

cache=${XDG_CACHE_HOME:-$HOME/.cache}/hardened-cluster
timings=$cache/test-durations.tsv
mkdir -p "$cache"
if [ -f "$timings" ]; then
  # Known items by their last duration, longest first; unknown ones keep their place after them.
  mapfile -t items < <(printf '%s\n' "${items[@]}" |
    awk -F'\t' 'FILENAME == ARGV[1] {d[$1] = $2; next} {printf "%d\t%d\t%s\n", d[$0], FNR, $0}' "$timings" - |
    sort -t$'\t' -k1,1nr -k2,2n | cut -f3)
fi

q=$(mktemp -d /tmp/hc-test-XXXXXX)
trap 'rm -rf "$q"' EXIT
printf '%s\n' "${items[@]}" > "$q/items"
echo 0 > "$q/next"
: > "$q/counts"
: > "$q/durations"
echo "test: ${#items[@]} items in $lanes lanes"

lane() {
  local n=$1 i item t0 took rc log
  while :; do
    i=$(flock "$q/next" bash -c 'n=$(cat "$1"); echo $((n + 1)) > "$1"; echo "$n"' _ "$q/next")
    item=$(sed -n "$((i + 1))p" "$q/items")
    [ -n "$item" ] || return 0
    log=$q/log.$i
    t0=$SECONDS
    rc=0
    # $item is split into words on purpose (an item may name several spec files) but not globbed: mocha
    # expands the unit suite's ** itself.
    set -f
    # shellcheck disable=SC2086
    HC_TEST_COUNTS=$q/counts TS_NODE_TRANSPILE_ONLY=true bash scripts/sandbox.sh npx mocha $item > "$log" 2>&1 || rc=$?
    took=$((SECONDS - t0))
    flock "$q/items" bash -c 'echo "=== lane $1: $2 ($3 s, exit $4)"; cat "$5"' _ "$n" "$item" "$took" "$rc" "$log"
    printf '%s\t%s\n' "$item" "$took" >> "$q/durations"
    [ "$rc" = 0 ] || echo "$item" >> "$q/failed"
  done
}

t0=$SECONDS
pids=()
for n in $(seq 1 "$lanes"); do lane "$n" & pids+=($!); done
for p in "${pids[@]}"; do wait "$p"; done

# Remember this run's durations for the next one's order (only items that passed: a failure may end early).
touch "$q/failed" "$timings"
awk -F'\t' 'FILENAME == ARGV[1] {failed[$0] = 1; next} FILENAME == ARGV[2] {d[$1] = $2; next} !($1 in failed) {d[$1] = $2}
  END {for (k in d) printf "%s\t%s\n", k, d[k]}' "$q/failed" "$timings" "$q/durations" > "$q/timings.new"
mv "$q/timings.new" "$timings"
read -r passed failed skipped < <(awk '{p += $1; f += $2; s += $3} END {print p + 0, f + 0, s + 0}' "$q/counts")
# A spec that died before mocha could count (killed, out of memory) still counts as a failure.
items_failed=$(wc -l < "$q/failed")
[ "$failed" -ge "$items_failed" ] || failed=$items_failed
echo "test: ${#items[@]} items in $((SECONDS - t0)) s on $lanes lanes"
if [ -s "$q/failed" ]; then echo "test: failed: $(tr '\n' ' ' < "$q/failed")"; fi
echo
echo "mocha: $passed passed, $failed failed, $skipped skipped"
[ ! -s "$q/failed" ]
