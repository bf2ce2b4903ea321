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
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="${HERD_STATE_DIR:-/var/lib/herd}"
# Redis data stays in one place whichever cluster state dir a caller uses.
REDIS_DIR="${HERD_REDIS_DIR:-/var/lib/herd/redis}"
LOG_DIR="/var/log/herd"
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

# ---------------------------------------------------------------- apt packages
SERVICE_PACKAGES=(rabbitmq-server redis-server redis-tools)
ALL_PACKAGES=(docker.io docker-compose rsync rabbitmq-server redis-server redis-tools iproute2
  busybox-static gcc libc6-dev procps psmisc util-linux curl ca-certificates)

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

# ---------------------------------------------------------------- RabbitMQ
rabbit_running() { rabbitmqctl -q ping >/dev/null 2>&1 || rabbitmq-diagnostics -q ping >/dev/null 2>&1; }
rabbit_process() { pgrep -u rabbitmq -f 'beam.*rabbit' >/dev/null 2>&1; }

start_rabbit() {
  mkdir -p /var/log/rabbitmq && chown rabbitmq:rabbitmq /var/log/rabbitmq
  rabbitmq-server -detached >/dev/null 2>&1 || true
}

ensure_rabbitmq() {
  local changed=()
  if ! grep -qs rabbitmq_management /etc/rabbitmq/enabled_plugins; then
    rabbitmq-plugins enable --offline rabbitmq_management >/dev/null
    changed+=("enabled management")
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
  local users
  users="$(rabbitmqctl -q list_users --no-table-headers 2>/dev/null | awk '{print $1}')"
  if grep -qx guest <<<"$users"; then
    rabbitmqctl -q delete_user guest >/dev/null
    changed+=("deleted guest")
  fi
  if ((${#changed[@]} == 0)); then say "rabbitmq" "ok"; else say "rabbitmq" "$(IFS=,; echo "${changed[*]}")"; fi
}

# ---------------------------------------------------------------- Redis
ensure_redis() {
  mkdir -p "$REDIS_DIR"
  if [[ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" != "PONG" ]]; then
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 \
      --appendonly yes --dir "$REDIS_DIR" \
      --pidfile "${REDIS_DIR}/redis.pid" --logfile "${LOG_DIR}/redis.log" >/dev/null
    for _ in $(seq 1 50); do
      [[ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" == "PONG" ]] && break
      sleep 0.1
    done
    [[ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" == "PONG" ]] || die "Redis did not start (see ${LOG_DIR}/redis.log)"
    say "redis" "started"
    return
  fi
  # Someone else's Redis answers: make sure a restart loses nothing anyway.
  if [[ "$(redis-cli -h 127.0.0.1 -p 6379 config get appendonly 2>/dev/null | tail -1)" != "yes" ]]; then
    redis-cli -h 127.0.0.1 -p 6379 config set appendonly yes >/dev/null
    say "redis" "configured appendonly=yes"
  else
    say "redis" "ok"
  fi
}

# ---------------------------------------------------------------- CRIU (another script owns it)
ensure_criu() {
  if [[ -x "${REPO_ROOT}/infra/install-criu.sh" ]]; then
    "${REPO_ROOT}/infra/install-criu.sh"
  else
    say "criu" "skipped (infra/install-criu.sh not present)"
  fi
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
  ensure_rabbitmq
  ensure_redis
  exit 0
fi

ensure_packages "${ALL_PACKAGES[@]}"
ensure_docker_config
ensure_rabbitmq
ensure_redis
ensure_criu
ensure_workload_image
status=0
if ((BUILD)); then
  ensure_node
  ensure_npm_deps
  ensure_build || status=1
fi
exit "$status"
