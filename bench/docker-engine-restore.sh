#!/usr/bin/env bash
# Docker's own checkpoint/restore on a scratch engine, to compare Docker Engine versions (issue 10:
# "a newer Docker Engine (Debian forky carries 28.x) if its restore is faster"). Starts its own
# dockerd (own data root, exec root and socket; no bridge, no iptables), runs herd-counter holding
# N MB (the integration tests' rootfs, /tmp/herd-rt-cache/rootfs.tar, built by the runtime tests or
# bench/migration-restore-paths), then per repetition `docker checkpoint create` and
# `docker start --checkpoint`, and checks the counter went on and its memory is intact. Stops and
# removes everything it started. Run it under the machine's cluster lock:
#
#   flock -o /tmp/herd-cluster.lock bench/docker-engine-restore.sh LABEL BIN_DIRS [MB...]
#
# BIN_DIRS: where dockerd, containerd and containerd-shim-runc-v2 are looked up first (a colon
# list); then /usr/local/bin (Herd's criu and runc wrapper), then the system's. Examples:
#   system Docker 20.10:  bench/docker-engine-restore.sh docker-20.10 /usr/sbin:/usr/bin 1 128
#   forky's Docker 28.x, unpacked with `dpkg -x` into a prefix (never installed; see the note in
#   bench/results/migration-restore-paths.md for the commands):
#                         bench/docker-engine-restore.sh docker-28 /tmp/d28/usr/sbin:/tmp/d28/usr/bin 1 128
# Env: REPS (default 3). Prints one line per repetition and a median line per size.
set -euo pipefail

label="${1:?label}"
bindirs="${2:?bin dirs}"
shift 2
sizes=(1 128)
[ "$#" -eq 0 ] || sizes=("$@")
reps="${REPS:-3}"
rootfs=/tmp/herd-rt-cache/rootfs.tar
[ -s "$rootfs" ] || { echo "no $rootfs: run the runtime integration tests or bench/migration-restore-paths first" >&2; exit 1; }

export PATH="$bindirs:/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"
base="/tmp/herd-der-$$"
run="/run/herd-der-$$"
sock="unix://$run/docker.sock"
mkdir -p "$base/data" "$run"
echo '{}' > "$base/daemon.json"
dpid=""
d() { timeout 120 docker -H "$sock" "$@"; }

cleanup() {
  set +e
  if [ -n "$dpid" ]; then
    for c in $(d ps -aq 2>/dev/null); do d rm -f "$c" >/dev/null 2>&1; done
    kill "$dpid" 2>/dev/null
    for _ in $(seq 200); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$dpid" 2>/dev/null
  fi
  for m in $(awk -v b="$base/" -v r="$run/" 'index($2, b) == 1 || index($2, r) == 1 { print $2 }' /proc/self/mounts | sort -r); do
    umount -l "$m" 2>/dev/null
  done
  rm -rf "$base" "$run"
}
trap cleanup EXIT

dockerd --data-root "$base/data" --exec-root "$run/exec" --host "$sock" --pidfile "$run/docker.pid" \
  --bridge=none --iptables=false --ip-masq=false --experimental --storage-driver=overlay2 \
  --config-file "$base/daemon.json" > "$base/dockerd.log" 2>&1 &
dpid=$!
for _ in $(seq 300); do d version >/dev/null 2>&1 && break; kill -0 "$dpid" 2>/dev/null || { tail -20 "$base/dockerd.log" >&2; exit 1; }; sleep 0.1; done
server="$(d version -f '{{.Server.Version}}') / containerd $(d version -f '{{range .Server.Components}}{{if eq .Name "containerd"}}{{.Version}}{{end}}{{end}}') / runc $(d version -f '{{range .Server.Components}}{{if eq .Name "runc"}}{{.Version}}{{end}}{{end}}')"
echo "# $label: Docker $server; kdat cache: $(readlink /run/criu.kdat 2>/dev/null || echo none)"
d import -c 'CMD ["/usr/local/bin/herd-counter","1"]' "$rootfs" herd/rt-test:1 >/dev/null

counts() { d logs "$1" 2>&1 | grep -c '^count=' || true; }
last_count() { d logs "$1" 2>&1 | sed -n 's/^count=//p' | tail -1; }
ms_now() { date +%s%3N; }

for mb in "${sizes[@]}"; do
  starts=()
  frozens=()
  for i in $(seq "$reps"); do
    c="der-$mb-$i"
    d run -d --network none --name "$c" herd/rt-test:1 /usr/local/bin/herd-counter "$mb" 50 >/dev/null
    for _ in $(seq 600); do [ "$(counts "$c")" -ge 3 ] && break; sleep 0.1; done
    t0=$(ms_now)
    d checkpoint create "$c" cp >/dev/null
    t1=$(ms_now)
    before=$(last_count "$c")
    t2=$(ms_now)
    retry_wait=0
    if ! err=$(d start --checkpoint cp "$c" 2>&1 >/dev/null); then
      # containerd may still hold the blob of the checkpoint (Docker deletes its image, the GC frees
      # the blob later) and refuses the identical upload: wait, retry once, count only the retry
      # (as bench/migration.ts does).
      case "$err" in *"already exists"*) ;; *) echo "$err" >&2; exit 1 ;; esac
      echo "$label $mb MB rep $i: first start refused ($err); retrying in 2 s" >&2
      sleep 2
      t2b=$(ms_now)
      retry_wait=$((t2b - t2))
      t2=$t2b
      d start --checkpoint cp "$c" >/dev/null
    fi
    t3=$(ms_now)
    started=$(date -d "$(d inspect -f '{{.State.StartedAt}}' "$c")" +%s%3N)
    ok=no
    for _ in $(seq 300); do [ "$(last_count "$c")" -gt "$before" ] && break; sleep 0.1; done
    d kill -s USR1 "$c" >/dev/null
    for _ in $(seq 600); do
      v=$(d logs "$c" 2>&1 | sed -n 's/^verify=\([a-z]*\).*/\1/p' | tail -1)
      [ -n "$v" ] && break
      sleep 0.1
    done
    first_after=$(d logs "$c" 2>&1 | sed -n 's/^count=//p' | awk -v b="$before" '$1 > b { print; exit }')
    [ "${v:-}" = ok ] && [ "$first_after" = "$((before + 1))" ] && ok=yes
    frozen=$((started - t0 - (t2 - t1) - retry_wait))
    echo "$label $mb MB rep $i: checkpoint $((t1 - t0)) ms, start --checkpoint $((t3 - t2)) ms, frozen (checkpoint start -> StartedAt) $frozen ms, verified $ok"
    starts+=("$((t3 - t2))")
    frozens+=("$frozen")
    d rm -f "$c" >/dev/null
  done
  med() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
  echo "$label $mb MB median: start --checkpoint $(med "${starts[@]}") ms, frozen $(med "${frozens[@]}") ms ($reps reps)"
done
