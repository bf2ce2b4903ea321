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
REAL_RUNC="${HERD_REAL_RUNC:-@REAL_RUNC@}"
MARKERS="${HERD_LAZY_RESTORE_DIR:-/run/herd/lazy-restore}"
if [ "${1:-}" = "--herd-lazy-restore-check" ]; then
  echo "herd-runc 1 (real runc: $REAL_RUNC)"
  exit 0
fi
if [ $# -gt 0 ]; then
  id="${!#}"
  marker="$MARKERS/$id"
  if [ -f "$marker" ] && [ -O "$marker" ] && [[ "$id" =~ ^[0-9a-f]{64}$ ]]; then
    is_restore=0
    for a in "$@"; do [ "$a" = restore ] && is_restore=1 && break; done
    if [ "$is_restore" = 1 ]; then
      work="$(head -n1 "$marker")"
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
      exec "$REAL_RUNC" "${out[@]}" --lazy-pages --work-path "$work" "$id"
    fi
  fi
fi
exec "$REAL_RUNC" "$@"
