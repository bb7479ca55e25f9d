# Sourced by scripts/toolchain.sh. A Go build is silent for minutes at a time once its modules are downloaded,
# so a long step reports itself on stderr at a fixed interval (HC_PROGRESS_INTERVAL seconds, default 30).

# fmt_duration SECONDS: "45s", "7m55s".
fmt_duration() {
  local s=$1
  if [ "$s" -ge 60 ]; then printf '%dm%02ds' $((s / 60)) $((s % 60)); else printf '%ds' "$s"; fi
}

# with_progress NAME EXPECTED_SECONDS CMD...: runs CMD in this shell (a build function may cd) and, while it
# runs, prints "NAME: still building, <elapsed> elapsed of about <expected> ..." every interval. EXPECTED_SECONDS
# is the step's pinned cold-build timing, or empty when none was measured. Returns CMD's status.
with_progress() {
  local name=$1 expected=$2; shift 2
  local interval=${HC_PROGRESS_INTERVAL:-30} main=$$ t0=$SECONDS rc=0
  (
    # The sleep runs in the background so a TERM ends the reporter at once rather than after the interval,
    # and the loop stops by itself should the script die without stopping it (a `die` inside a step).
    nap=""
    trap '[ -z "$nap" ] || kill "$nap" 2>/dev/null; exit 0' TERM
    while kill -0 "$main" 2>/dev/null; do
      sleep "$interval" & nap=$!
      wait "$nap"
      kill -0 "$main" 2>/dev/null || exit 0
      elapsed=$((SECONDS - t0))
      if [ -z "$expected" ]; then
        about="no measured timing for this step"
      elif [ "$elapsed" -le "$expected" ]; then
        about="of about $(fmt_duration "$expected") measured for a cold build on 2 cores"
      else
        about="past the $(fmt_duration "$expected") measured for a cold build on 2 cores; a busy machine takes longer"
      fi
      printf '[toolchain] %s: still building, %s elapsed %s\n' "$name" "$(fmt_duration "$elapsed")" "$about" >&2
    done
  ) &
  _hc_progress_pid=$!
  trap '_hc_progress_stop' EXIT
  "$@" || rc=$?
  _hc_progress_stop
  return "$rc"
}

_hc_progress_stop() {
  if [ -n "${_hc_progress_pid:-}" ]; then
    kill "$_hc_progress_pid" 2>/dev/null || true
    wait "$_hc_progress_pid" 2>/dev/null || true
    _hc_progress_pid=""
  fi
}
