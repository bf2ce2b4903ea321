#!/bin/bash
# herd-runc: installed as /usr/local/bin/runc by infra/bootstrap.sh, ahead of the distribution's
# runc on PATH (the engines' containerd shims and the agent find runc, and runc finds CRIU, there).
# It passes every call through unchanged, except one: a `restore` of a container for which Herd's
# agent left a marker file /run/herd/lazy-restore/<container id>. That restore gets
# `--lazy-pages --work-path <dir from the marker>`, so CRIU restores without the memory pages and
# hands the faults to the `criu lazy-pages` daemon the agent started in that work dir (its
# lazy-pages.socket is there). Why a wrapper: `docker start --checkpoint` (Docker 20.10) has no way
# to ask for lazy pages, runc's per-container CRIU config needs an OCI annotation Docker 20.10
# cannot set, and /etc/criu/runc.conf applies to every container on the host at once. Docker still
# does the whole start itself, so its view of the container stays true.
#
# Every restore (stop-and-copy and post-copy alike) also gets a TCP fence in the container's new
# network namespace while CRIU rebuilds it: Docker's prestart hook (libnetwork-setkey) brings the
# container's address up in the middle of the restore, before CRIU has put the established
# sockets back, and a peer's retransmission landing in that window was answered with a reset by
# the kernel (seen: a client on the destination node lost its kept connection). The wrapper puts
# its own prestart hook ahead of Docker's in the bundle's config.json; the hook drops incoming TCP
# that has no non-wildcard socket (i.e. everything but the restored connections) in the new
# namespace, and the wrapper takes the rule away as soon as runc restore returns. Best effort: a
# fence that cannot be set leaves the restore as it was.
REAL_RUNC="${HERD_REAL_RUNC:-@REAL_RUNC@}"
MARKERS="${HERD_LAZY_RESTORE_DIR:-/run/herd/lazy-restore}"
FENCE_COMMENT=herd-restore-fence
FENCE_LOG="${HERD_RESTORE_FENCE_LOG:-/run/herd/restore-fence.log}"
if [ "${1:-}" = "--herd-lazy-restore-check" ]; then
  echo "herd-runc 3 (real runc: $REAL_RUNC)"
  exit 0
fi

# fence_rule CHAIN ARGS...: one rule as an iptables-restore line (the comment quoted).
fence_rule() {
  local out="" a
  for a in "$@"; do
    if [ "$a" = "$FENCE_COMMENT" ]; then out+=" \"$a\""; else out+=" $a"; fi
  done
  echo "${out# }"
}

# restore_fence on|off NETNS-PATH
restore_fence() {
  local ns="$2" i
  [ -e "$ns" ] || return 0
  # Never the wrapper's own namespace (a container sharing the host's network).
  [ "$(stat -L -c %i "$ns" 2>/dev/null)" != "$(stat -L -c %i /proc/self/ns/net 2>/dev/null)" ] || return 0
  local accept=(INPUT -p tcp -m socket --nowildcard -m comment --comment "$FENCE_COMMENT" -j ACCEPT)
  local drop=(INPUT -p tcp ! -i lo -m comment --comment "$FENCE_COMMENT" -j DROP)
  if [ "$1" = on ]; then
    local how=set
    { timeout 5 nsenter --net="$ns" iptables -w 3 -I "${drop[@]}" && timeout 5 nsenter --net="$ns" iptables -w 3 -I "${accept[@]}"; } || how=failed
    # One line per restore, kept short (the file is truncated past 1 MB).
    { [ "$(stat -c %s "$FENCE_LOG" 2>/dev/null || echo 0)" -lt 1048576 ] || : >"$FENCE_LOG"; echo "$(date -u +%FT%T.%3NZ) fence $how $ns"; } >>"$FENCE_LOG" 2>/dev/null
  else
    # One iptables-restore call takes both rules away (the restore is not reported done to the
    # engine before this returns, so it counts in the frozen time: the four iptables calls this
    # used to take cost ~50 ms); only if that fails (a rule missing) the rules go one by one.
    if ! printf '*filter\n-D %s\n-D %s\nCOMMIT\n' "$(fence_rule "${accept[@]}")" "$(fence_rule "${drop[@]}")" |
      timeout 5 nsenter --net="$ns" iptables-restore -w 3 --noflush 2>/dev/null; then
      for i in 1 2 3 4; do timeout 5 nsenter --net="$ns" iptables -w 3 -D "${drop[@]}" 2>/dev/null || break; done
      for i in 1 2 3 4; do timeout 5 nsenter --net="$ns" iptables -w 3 -D "${accept[@]}" 2>/dev/null || break; done
    fi
    echo "$(date -u +%FT%T.%3NZ) fence lifted $ns" >>"$FENCE_LOG" 2>/dev/null
  fi
  return 0
}

# The prestart hook (runc runs it with the container's state on stdin, in the middle of a restore).
if [ "${1:-}" = "--herd-restore-fence-hook" ]; then
  state="$(timeout 5 cat)"
  [[ "$state" =~ \"pid\":[[:space:]]*([0-9]+) ]] && restore_fence on "/proc/${BASH_REMATCH[1]}/ns/net" >/dev/null 2>&1
  exit 0
fi

# run_real ARGS...: runc itself; a restore runs under the fence described above.
run_real() {
  local is_restore=0 bundle="" pidfile="" prev="" a
  for a in "$@"; do
    case "$prev" in
      --bundle|-b) bundle="$a" ;;
      --pid-file) pidfile="$a" ;;
    esac
    case "$a" in
      restore) is_restore=1 ;;
      --bundle=*) bundle="${a#--bundle=}" ;;
      --pid-file=*) pidfile="${a#--pid-file=}" ;;
    esac
    prev="$a"
  done
  local config="$bundle/config.json"
  # Only a restore whose network namespace runc creates (no path: Docker configures it through its
  # prestart hook), with that hook present.
  if [ "$is_restore" != 1 ] || [ -z "$bundle" ] || [ ! -f "$config" ] ||
    grep -q '"type":"network","path"' "$config" || ! grep -q '"prestart":\[{' "$config"; then
    exec "$REAL_RUNC" "$@"
  fi
  if ! grep -q -- "--herd-restore-fence-hook" "$config"; then
    local self tmp
    self="$(readlink -f "${BASH_SOURCE[0]}")"
    tmp="$config.herd-tmp"
    sed "s|\"prestart\":\[{|\"prestart\":[{\"path\":\"$self\",\"args\":[\"runc\",\"--herd-restore-fence-hook\"],\"timeout\":10},{|" "$config" > "$tmp" && mv -f "$tmp" "$config"
  fi
  local rc=0
  "$REAL_RUNC" "$@" || rc=$?
  if [ -n "$pidfile" ] && [ -s "$pidfile" ]; then
    restore_fence off "/proc/$(head -c 20 "$pidfile" | tr -dc 0-9)/ns/net" >/dev/null 2>&1
  fi
  exit "$rc"
}
if [ $# -gt 0 ]; then
  id="${!#}"
  marker="$MARKERS/$id"
  if [ -f "$marker" ] && [ -O "$marker" ] && [[ "$id" =~ ^[0-9a-f]{64}$ ]]; then
    is_restore=0
    for a in "$@"; do [ "$a" = restore ] && is_restore=1 && break; done
    if [ "$is_restore" = 1 ]; then
      work="$(head -n1 "$marker")"
      # The agent starts the lazy-pages daemon and the engine's start side by side (herd-runc 3):
      # CRIU connects to the daemon's socket, so wait for it here (the daemon's start, ~0.1 s of
      # CRIU's kernel probes, then overlaps the engine's own work before this call). If the daemon
      # ended (the agent leaves daemon-ended in the work dir) or 20 s passed, the restore goes on
      # without the socket and CRIU fails it at once: never a restore without lazy pages here.
      for ((n = 0; n < 2000; n++)); do
        [ -S "$work/lazy-pages.socket" ] || [ -e "$work/daemon-ended" ] && break
        sleep 0.01
      done
      args=("$@")
      out=()
      skip=0
      for ((i = 0; i < $# - 1; i++)); do
        a="${args[$i]}"
        if [ "$skip" = 1 ]; then skip=0; continue; fi
        case "$a" in
          --work-path) skip=1; continue ;;
          --work-path=*|--lazy-pages) continue ;;
        esac
        out+=("$a")
      done
      run_real "${out[@]}" --lazy-pages --work-path "$work" "$id"
    fi
  fi
fi
run_real "$@"
