#!/usr/bin/env bash
# Herd bootstrap: installs what is missing and starts what is stopped, on Debian/Ubuntu, as root,
# without systemd (daemons are started directly). Idempotent: every step checks before it acts
# and prints one line "<component>: ok|installed|started|configured|built".
#
# Usage: infra/bootstrap.sh [--services-only] [--no-build]
#   --services-only   only make sure RabbitMQ and Redis run (what `herd up` needs)
#   --no-build        skip npm ci / npm run build (e.g. when called from code that is already built)
#
# Env: HERD_STATE_DIR (default /var/lib/herd)
#
# Lockdown (see README "Security"): RabbitMQ's AMQP listener only on 127.0.0.1 and the broker
# address 10.77.0.1 (kept on `lo` so the broker can bind it whether or not a cluster's bridge
# exists), management, epmd and Erlang distribution on 127.0.0.1 only; Redis on loopback with an
# ACL user `herd` whose password is in /var/lib/herd/redis/herd.password (0600) and the default
# user switched off. A machine set up by an older bootstrap (wildcard listeners, Redis without
# password) is converged: the broker and Redis are restarted once with the new settings.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="${HERD_STATE_DIR:-/var/lib/herd}"
# Redis data stays in one place whichever cluster state dir a caller uses.
REDIS_DIR="${HERD_REDIS_DIR:-/var/lib/herd/redis}"
LOG_DIR="/var/log/herd"
# The host address the nodes reach the broker at (the default cluster's bridge address).
BROKER_ADDRESS="${HERD_BROKER_ADDRESS:-10.77.0.1}"
REDIS_USER=herd
REDIS_PASSWORD_FILE="${REDIS_DIR}/herd.password"
SERVICES_ONLY=0
BUILD=1
for arg in "$@"; do
  case "$arg" in
    --services-only) SERVICES_ONLY=1 ;;
    --no-build) BUILD=0 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "bootstrap: unknown argument $arg" >&2; exit 2 ;;
  esac
done

export DEBIAN_FRONTEND=noninteractive
say() { printf '%-16s %s\n' "$1:" "$2"; }
die() { echo "bootstrap: $*" >&2; exit 1; }

[[ "$(id -u)" == 0 ]] || die "must run as root"
mkdir -p "$STATE_DIR" "$LOG_DIR"
# State (cluster.json, journals, Redis data) is root's alone.
chmod 0700 "$STATE_DIR" "$LOG_DIR"

# ---------------------------------------------------------------- apt packages
SERVICE_PACKAGES=(rabbitmq-server redis-server redis-tools iproute2)
ALL_PACKAGES=(docker.io docker-compose mmdebstrap rsync rabbitmq-server redis-server redis-tools iproute2
  busybox-static gcc libc6-dev procps psmisc util-linux curl ca-certificates)
# Headless browser for the dashboard's integration test and bench:ui (driven by playwright-core; nothing downloads a browser).
ALL_PACKAGES+=(chromium)

apt_updated=0
ensure_packages() {
  local missing=()
  for p in "$@"; do
    [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" == "install ok installed" ]] || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    say "apt packages" "ok"
    return
  fi
  if ((apt_updated == 0)); then
    apt-get update -qq >"${LOG_DIR}/apt.log" 2>&1 || { cat "${LOG_DIR}/apt.log" >&2; die "apt-get update failed"; }
    apt_updated=1
  fi
  NEEDRESTART_MODE=a apt-get install -y -qq --no-install-recommends "${missing[@]}" >"${LOG_DIR}/apt.log" 2>&1 \
    || { cat "${LOG_DIR}/apt.log" >&2; die "apt-get install failed"; }
  say "apt packages" "installed ${missing[*]}"
}

# ---------------------------------------------------------------- docker daemon.json
# Herd never starts the system dockerd (it runs one engine per emulated node), but a real host's
# engine needs experimental mode for `docker checkpoint`.
ensure_docker_config() {
  local f=/etc/docker/daemon.json
  mkdir -p /etc/docker
  if [[ ! -s "$f" ]]; then
    printf '{\n  "experimental": true\n}\n' > "$f"
    say "docker config" "installed $f"
  elif grep -Eq '"experimental"[[:space:]]*:[[:space:]]*true' "$f"; then
    say "docker config" "ok"
  else
    node -e '
      const fs = require("fs"); const f = process.argv[1];
      const cfg = JSON.parse(fs.readFileSync(f, "utf8")); cfg.experimental = true;
      fs.writeFileSync(f, JSON.stringify(cfg, null, 2) + "\n");' "$f"
    say "docker config" "configured experimental=true in $f"
  fi
}

# ---------------------------------------------------------------- files
# Writes $2 to $1 with mode $3 unless it already has exactly that content; returns 0 if it wrote.
write_if_changed() {
  local f="$1" content="$2" mode="$3"
  if [[ -f "$f" ]] && [[ "$(cat "$f")" == "$content" ]]; then
    chmod "$mode" "$f"
    return 1
  fi
  mkdir -p "$(dirname "$f")"
  (umask 077 && printf '%s\n' "$content" >"${f}.tmp")
  chmod "$mode" "${f}.tmp"
  mv -f "${f}.tmp" "$f"
  return 0
}

# Replaces the block between "# >>> herd" and "# <<< herd" in $1 by $2 (appends it the first
# time), keeping everything else in the file; returns 0 if the file changed.
write_managed_block() {
  local f="$1" block="$2" rest
  rest="$(awk '/^# >>> herd/{skip=1} !skip{print} /^# <<< herd/{skip=0}' "$f" 2>/dev/null || true)"
  write_if_changed "$f" "${rest:+${rest}
}# >>> herd (infra/bootstrap.sh)
${block}
# <<< herd" 0644
}

# ---------------------------------------------------------------- broker address
# The broker listens on this address for the nodes. It lives on `lo` (as a /32) so it exists
# before any cluster's bridge and after `herd down` removed it; `herd up` adds the same address
# to its bridge herd0 (the kernel allows one address on two links) and nodes of any local cluster
# reach it through their bridge.
ensure_broker_address() {
  # (No `ip … | grep -q` under pipefail: grep quitting early can SIGPIPE ip and fail the test.)
  local addrs
  addrs="$(ip -o addr show dev lo)"
  if grep -q " inet ${BROKER_ADDRESS}/32 " <<<"$addrs"; then
    say "broker address" "ok"
  else
    ip addr add "${BROKER_ADDRESS}/32" dev lo
    say "broker address" "added ${BROKER_ADDRESS}/32 on lo"
  fi
}

# ---------------------------------------------------------------- RabbitMQ
rabbit_running() { rabbitmqctl -q ping >/dev/null 2>&1 || rabbitmq-diagnostics -q ping >/dev/null 2>&1; }
rabbit_process() { pgrep -u rabbitmq -f 'beam.*rabbit' >/dev/null 2>&1; }
systemd_active() { command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$1" 2>/dev/null; }
# Broker/Erlang listeners on a wildcard address (what an older bootstrap left running).
wildcard_listeners() {
  ss -Hltn 2>/dev/null | awk '{print $4}' | grep -E '^(0\.0\.0\.0|\*|\[::\]):(5672|15672|25672|4369)$' || true
}

start_rabbit() {
  mkdir -p /var/log/rabbitmq && chown rabbitmq:rabbitmq /var/log/rabbitmq
  # epmd first, on loopback: the node would otherwise start one on every interface.
  ERL_EPMD_ADDRESS=127.0.0.1 epmd -daemon >/dev/null 2>&1 || true
  ERL_EPMD_ADDRESS=127.0.0.1 rabbitmq-server -detached >/dev/null 2>&1 || true
}

stop_rabbit() {
  if systemd_active rabbitmq-server; then
    systemctl stop rabbitmq-server >/dev/null 2>&1 || true
  fi
  timeout 120 rabbitmqctl -q stop >/dev/null 2>&1 || true
  local deadline=$((SECONDS + 60))
  while rabbit_process && ((SECONDS < deadline)); do sleep 1; done
  rabbit_process && die "RabbitMQ did not stop within 60 s"
  # An epmd started on every interface by an older setup: with no node left registered it can go.
  if grep -Eq ':4369$' <<<"$(wildcard_listeners)"; then
    epmd -kill >/dev/null 2>&1 || true
    deadline=$((SECONDS + 10))
    while grep -Eq ':4369$' <<<"$(ss -Hltn 2>/dev/null | awk '{print $4}')" && ((SECONDS < deadline)); do sleep 0.2; done
  fi
}

# File descriptors for the broker: every agent holds one AMQP connection (one socket), and RabbitMQ
# allows about 90 % of its descriptor limit as sockets. Started without systemd, the broker runs
# under `su rabbitmq`, whose pam_limits session gives it a soft limit of 1024 (~830 sockets) unless
# limits.d says otherwise. We ask for 65536, capped at the hard limit this process may grant
# (a container without CAP_SYS_RESOURCE cannot raise it, and pam_limits ignores the whole entry if
# one value is out of reach). On a systemd host the unit's LimitNOFILE decides instead (README).
RABBIT_NOFILE_WANTED=65536
rabbit_nofile_target() {
  local hard
  hard="$(ulimit -Hn)"
  if [[ "$hard" == unlimited ]] || ((hard >= RABBIT_NOFILE_WANTED)); then
    echo "$RABBIT_NOFILE_WANTED"
  else
    echo "$hard"
  fi
}
# The running broker's soft descriptor limit ("" when it is not running).
rabbit_nofile_now() {
  local pid
  pid="$(pgrep -u rabbitmq -f 'beam.*rabbit' | head -1 || true)"
  [[ -n "$pid" ]] || return 0
  awk '/^Max open files/{print $4}' "/proc/${pid}/limits" 2>/dev/null || true
}

# Whether the running broker started before the limits.d entry was last written.
rabbit_started_before_limits() {
  local pid elapsed written
  pid="$(pgrep -u rabbitmq -f 'beam.*rabbit' | head -1 || true)"
  [[ -n "$pid" ]] || return 1
  elapsed="$(ps -o etimes= -p "$pid" 2>/dev/null | tr -d ' ')"
  written="$(stat -c %Y /etc/security/limits.d/90-herd-rabbitmq.conf 2>/dev/null || echo 0)"
  [[ -n "$elapsed" ]] && (($(date +%s) - elapsed <= written))
}

# Listener and limits configuration; returns 0 if anything changed.
configure_rabbit() {
  local changed=1 nofile
  nofile="$(rabbit_nofile_target)"
  write_if_changed /etc/security/limits.d/90-herd-rabbitmq.conf "# Written by Herd's infra/bootstrap.sh: one AMQP connection per node needs a descriptor each.
rabbitmq soft nofile ${nofile}
rabbitmq hard nofile ${nofile}" 0644 && changed=0
  write_if_changed /etc/rabbitmq/conf.d/90-herd.conf "# Written by Herd's infra/bootstrap.sh: listeners on loopback and the nodes' broker address only.
listeners.tcp.1 = 127.0.0.1:5672
listeners.tcp.2 = ${BROKER_ADDRESS}:5672
management.tcp.ip = 127.0.0.1
management.tcp.port = 15672" 0644 && changed=0
  # Erlang distribution (25672) and epmd (4369) on loopback; the CLI tools' own distribution too.
  write_managed_block /etc/rabbitmq/rabbitmq-env.conf "export ERL_EPMD_ADDRESS=127.0.0.1
SERVER_ADDITIONAL_ERL_ARGS=\"-kernel inet_dist_use_interface {127,0,0,1}\"
CTL_ERL_ARGS=\"-kernel inet_dist_use_interface {127,0,0,1}\"" && changed=0
  return "$changed"
}

ensure_rabbitmq() {
  local changed=()
  if ! grep -qs rabbitmq_management /etc/rabbitmq/enabled_plugins; then
    rabbitmq-plugins enable --offline rabbitmq_management >/dev/null
    changed+=("enabled management")
  fi
  local reconfigured=0
  if configure_rabbit; then reconfigured=1; fi
  # Running with other listeners than configured: restart once (users and vhosts are on disk).
  if rabbit_process && { ((reconfigured)) || [[ -n "$(wildcard_listeners)" ]]; }; then
    stop_rabbit
    changed+=("restarted (listeners on loopback + ${BROKER_ADDRESS}, $(rabbit_nofile_target) file descriptors)")
  fi
  # Running with fewer descriptors than configured and started before the limits.d entry was
  # written: restart once. (Started after it and still short, a restart would not help: warned below.)
  local nofile_now
  nofile_now="$(rabbit_nofile_now)"
  if [[ -n "$nofile_now" && "$nofile_now" != unlimited ]] && ((nofile_now < $(rabbit_nofile_target))) && rabbit_started_before_limits; then
    stop_rabbit
    changed+=("restarted for ${nofile_now} -> $(rabbit_nofile_target) file descriptors")
  fi
  # Not running: start it. The node name defaults to rabbit@<hostname>; its data lives in
  # /var/lib/rabbitmq, so users/vhosts survive a restart.
  local started=0
  if ! rabbit_process || ! rabbit_running; then
    start_rabbit
    started=1
  fi
  # A freshly started node is not registered with epmd for a second or two, and `await_startup`
  # fails at once ("not running at all") until it is: retry until the node answers or 120 s pass.
  # A node that was still shutting down when we looked is gone by then: start it again.
  local deadline=$((SECONDS + 120))
  until timeout 60 rabbitmqctl -q await_startup >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "RabbitMQ did not start within 120 s (see /var/log/rabbitmq/)"
    if ! rabbit_process; then
      start_rabbit
      started=1
    fi
    sleep 1
  done
  ((started == 0)) || changed+=("started")
  local wild
  wild="$(wildcard_listeners)"
  [[ -z "$wild" ]] || die "RabbitMQ/epmd still listen on a wildcard address: $(tr '\n' ' ' <<<"$wild")"
  local users
  users="$(rabbitmqctl -q list_users --no-table-headers 2>/dev/null | awk '{print $1}')"
  if grep -qx guest <<<"$users"; then
    rabbitmqctl -q delete_user guest >/dev/null
    changed+=("deleted guest")
  fi
  nofile_now="$(rabbit_nofile_now)"
  if [[ -n "$nofile_now" && "$nofile_now" != unlimited ]] && ((nofile_now < $(rabbit_nofile_target))); then
    changed+=("WARNING: runs with ${nofile_now} file descriptors, not $(rabbit_nofile_target) (about 0.9 x that many connections)")
  fi
  if ((${#changed[@]} == 0)); then say "rabbitmq" "ok (${nofile_now:-?} file descriptors)"; else say "rabbitmq" "$(IFS=,; echo "${changed[*]}")"; fi
}

# ---------------------------------------------------------------- Redis
# Answer of PING as herd (auth) or as the default user (noauth); "" when nothing listens.
redis_ping() {
  if [[ "$1" == auth ]]; then
    REDISCLI_AUTH="$(cat "$REDIS_PASSWORD_FILE")" timeout 5 redis-cli --no-auth-warning --user "$REDIS_USER" -h 127.0.0.1 -p 6379 ping 2>&1 || true
  else
    timeout 5 redis-cli -h 127.0.0.1 -p 6379 ping 2>&1 || true
  fi
}
redis_herd() { REDISCLI_AUTH="$(cat "$REDIS_PASSWORD_FILE")" timeout 10 redis-cli --no-auth-warning --user "$REDIS_USER" -h 127.0.0.1 -p 6379 "$@"; }

start_redis() {
  (umask 077 && redis-server "${REDIS_DIR}/redis.conf" >/dev/null)
  for _ in $(seq 1 100); do
    [[ "$(redis_ping auth)" == "PONG" ]] && return 0
    sleep 0.1
  done
  die "Redis did not start (see ${LOG_DIR}/redis.log)"
}

ensure_redis() {
  local changed=()
  mkdir -p "$REDIS_DIR"
  chmod 0700 "$REDIS_DIR"
  if [[ ! -s "$REDIS_PASSWORD_FILE" ]]; then
    (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$REDIS_PASSWORD_FILE")
    changed+=("generated password")
  fi
  chmod 0600 "$REDIS_PASSWORD_FILE"
  local password reconfigured=0
  password="$(cat "$REDIS_PASSWORD_FILE")"
  # The default user is off: no connection can authenticate as it, so without Herd's password
  # every command is refused (NOAUTH). It keeps its permissions because Redis 7.0 replays the AOF
  # as the default user and checks them at each EXEC: without them every transaction in the AOF
  # would be dropped on restart.
  write_if_changed "${REDIS_DIR}/users.acl" "user default off ~* &* +@all
user ${REDIS_USER} on >${password} ~* &* +@all" 0600 && reconfigured=1
  write_if_changed "${REDIS_DIR}/redis.conf" "# Written by Herd's infra/bootstrap.sh.
bind 127.0.0.1 -::1
port 6379
protected-mode yes
daemonize yes
$(cat "${REPO_ROOT}/infra/images/entrypoints/redis-persistence.conf")
dir ${REDIS_DIR}
aclfile ${REDIS_DIR}/users.acl
pidfile ${REDIS_DIR}/redis.pid
logfile ${LOG_DIR}/redis.log" 0600 && reconfigured=1
  # A Debian service started by the package would come back with its own (open) config.
  if systemd_active redis-server; then
    systemctl stop redis-server >/dev/null 2>&1 || true
    systemctl disable redis-server >/dev/null 2>&1 || true
    changed+=("stopped the system redis-server service")
  fi
  local as_herd as_default
  as_herd="$(redis_ping auth)"
  as_default="$(redis_ping noauth)"
  if [[ "$as_default" == "PONG" ]]; then
    # Open to anyone (an older bootstrap's or the package's Redis): restart it with the ACL. AOF
    # and the RDB written on shutdown keep the data.
    timeout 60 redis-cli -h 127.0.0.1 -p 6379 shutdown >/dev/null 2>&1 || true
    for _ in $(seq 1 100); do [[ -z "$(redis_ping noauth | grep -v 'Connection refused')" ]] && break; sleep 0.1; done
    start_redis
    changed+=("restarted with ACL user ${REDIS_USER}, default user off")
  elif [[ "$as_herd" == "PONG" ]]; then
    if ((reconfigured)) || [[ "$(redis_herd config get aclfile | tail -1)" != "${REDIS_DIR}/users.acl" ]]; then
      redis_herd shutdown >/dev/null 2>&1 || true
      for _ in $(seq 1 100); do [[ "$(redis_ping auth)" == "PONG" ]] || break; sleep 0.1; done
      start_redis
      changed+=("restarted with new config")
    fi
  elif grep -q "Connection refused\|Could not connect" <<<"$as_default"; then
    start_redis
    changed+=("started")
  else
    die "a Redis on 127.0.0.1:6379 refuses Herd's user (${as_herd}); stop it or give it the ACL in ${REDIS_DIR}/users.acl"
  fi
  # Files from before the lockdown (AOF, dump, logs) become root-only.
  chmod -R go-rwx "$REDIS_DIR"
  [[ ! -f "${LOG_DIR}/redis.log" ]] || chmod 0600 "${LOG_DIR}/redis.log"
  [[ "$(redis_ping noauth)" != "PONG" ]] || die "Redis still answers without a password"
  if [[ "$(redis_herd config get appendonly | tail -1)" != "yes" ]]; then
    redis_herd config set appendonly yes >/dev/null
    changed+=("configured appendonly=yes")
  fi
  if ((${#changed[@]} == 0)); then say "redis" "ok"; else say "redis" "$(IFS=,; echo "${changed[*]}")"; fi
}

# ---------------------------------------------------------------- CRIU (another script owns it)
ensure_criu() {
  if [[ -x "${REPO_ROOT}/infra/install-criu.sh" ]]; then
    "${REPO_ROOT}/infra/install-criu.sh"
  else
    say "criu" "skipped (infra/install-criu.sh not present)"
  fi
}

# ---------------------------------------------------------------- post-copy (CRIU lazy pages)
# CRIU's page server (the source side of a post-copy migration) sizes its pipes to 819 pages
# (3.35 MB) and fails every page request ("page-pipe: splice: -1: Bad file descriptor") when
# fs.pipe-max-size is below that and it lacks CAP_SYS_RESOURCE. Raise it to 4 MiB; where the
# kernel or a sandbox refuses, warn only: the agent then reports post-copy as unavailable and
# `herd migrate --mode post-copy` is refused with the reason.
PIPE_MAX_MIN=4194304
ensure_pipe_max_size() {
  local cur
  cur="$(cat /proc/sys/fs/pipe-max-size 2>/dev/null || echo 0)"
  if ((cur >= PIPE_MAX_MIN)); then say "pipe-max-size" "ok (${cur})"; return; fi
  if sysctl -q -w fs.pipe-max-size="$PIPE_MAX_MIN" >/dev/null 2>&1; then
    say "pipe-max-size" "configured ${cur} -> ${PIPE_MAX_MIN}"
  else
    say "pipe-max-size" "WARNING: cannot raise fs.pipe-max-size from ${cur} (post-copy migration unavailable)"
  fi
}

# The runc pass-through that lets `docker start --checkpoint` restore with lazy pages (see
# infra/herd-runc.sh). Installed where the CRIU wrapper is, ahead of the system runc on PATH; an
# unrelated /usr/local/bin/runc is left alone (post-copy is then reported unavailable).
RUNC_WRAPPER=/usr/local/bin/runc
ensure_runc_wrapper() {
  local real="" c
  for c in /usr/sbin/runc /usr/bin/runc; do [[ -x "$c" ]] && { real="$c"; break; }; done
  if [[ -z "$real" ]]; then say "runc wrapper" "skipped (no runc in /usr/sbin or /usr/bin)"; return; fi
  if [[ -e "$RUNC_WRAPPER" ]] && ! grep -q '^# herd-runc:' "$RUNC_WRAPPER" 2>/dev/null; then
    say "runc wrapper" "WARNING: ${RUNC_WRAPPER} exists and is not Herd's; left alone (post-copy unavailable)"
    return
  fi
  local tmp
  tmp="$(mktemp "${RUNC_WRAPPER}.XXXXXX")"
  sed "s|@REAL_RUNC@|${real}|" "${REPO_ROOT}/infra/herd-runc.sh" > "$tmp"
  chmod 0755 "$tmp"
  if cmp -s "$tmp" "$RUNC_WRAPPER"; then rm -f "$tmp"; say "runc wrapper" "ok"; return; fi
  mv -f "$tmp" "$RUNC_WRAPPER"
  mkdir -p /run/herd/lazy-restore && chmod 0700 /run/herd/lazy-restore
  say "runc wrapper" "installed (${RUNC_WRAPPER} -> ${real})"
}

# ---------------------------------------------------------------- Node deps + build
ensure_node() {
  command -v node >/dev/null || die "node (>= 20) is not installed"
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  ((major >= 20)) || die "node >= 20 required, found $(node -v)"
}

ensure_npm_deps() {
  cd "$REPO_ROOT"
  # `npm ls` exits non-zero when anything in package.json/lock is missing or at the wrong version.
  if [[ -d node_modules ]] && npm ls --all >/dev/null 2>&1; then
    say "npm deps" "ok"
  elif [[ -f package-lock.json ]]; then
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
    say "npm deps" "installed (npm ci)"
  else
    npm install --no-audit --no-fund --loglevel=error >/dev/null
    say "npm deps" "installed (npm install)"
  fi
}

ensure_build() {
  cd "$REPO_ROOT"
  local stamp=dist/.herd-build-stamp
  # Rebuild when any TypeScript source or the config is newer than the last successful build.
  if [[ -f "$stamp" ]] && [[ -z "$(find shared services test bench tsconfig.json package.json -newer "$stamp" \
      \( -name '*.ts' -o -name '*.json' \) -not -path '*/node_modules/*' -print -quit 2>/dev/null)" ]]; then
    say "build" "ok"
    return
  fi
  if npm run -s build >"${LOG_DIR}/build.log" 2>&1; then
    touch "$stamp"
    say "build" "built"
  else
    say "build" "FAILED (see ${LOG_DIR}/build.log)"
    return 1
  fi
}

ensure_workload_image() {
  local out
  out="$(HERD_STATE_DIR="$STATE_DIR" "${REPO_ROOT}/infra/workloads/build-image.sh")"
  say "workload image" "$out (${STATE_DIR}/images/workload.tar)"
}

# ---------------------------------------------------------------- main
if ((SERVICES_ONLY)); then
  ensure_packages "${SERVICE_PACKAGES[@]}"
  ensure_broker_address
  ensure_rabbitmq
  ensure_redis
  exit 0
fi

ensure_packages "${ALL_PACKAGES[@]}"
ensure_docker_config
ensure_broker_address
ensure_rabbitmq
ensure_redis
ensure_criu
ensure_pipe_max_size
ensure_runc_wrapper
ensure_workload_image
status=0
if ((BUILD)); then
  ensure_node
  ensure_npm_deps
  ensure_build || status=1
fi
exit "$status"
