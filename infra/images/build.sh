#!/usr/bin/env bash
# Builds Herd's four container images from Debian packages, with no registry anywhere:
#
#   herd/base      a bookworm root filesystem made by mmdebstrap on this host, `docker import`ed
#   herd/rabbitmq  base + rabbitmq-server (management plugin enabled)      FROM herd/base
#   herd/redis     base + redis-server                                     FROM herd/base
#   herd/control   base + this host's node binary + dist/ + production node_modules
#   herd/agent     control's layers + runc, rsync, iproute2, arping, CRIU 4 (copied from /opt/herd/criu)
#
# The extra Debian packages of each image are downloaded on the host (apt, resolved against the
# base's own dpkg status, so only what the base lacks) and installed with dpkg inside an image
# build that runs with --network none: nothing in a build reaches the network or needs privileges.
#
# Cached at two levels: every input (package lists, this directory, the node binary, dist/, the
# lock file, CRIU) goes into a hash per image and the image is tagged herd/<name>:<hash12>; an
# engine that already has that tag is left alone ("ok"), one that lacks it gets the saved archive
# (`docker load`, "loaded") or, the first time, a build ("built"). Rootfs, .debs and archives live
# in ${HERD_IMAGE_DIR:-${HERD_STATE_DIR:-/var/lib/herd}/images/compose}.
#
# Usage: build.sh [--docker-host HOST]... [--only NAME[,NAME]]    (default host: $DOCKER_HOST or the local engine)
# Needs: root, mmdebstrap, docker (CLI), node, an `npm run build` (dist/).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="${HERD_IMAGE_DIR:-${HERD_STATE_DIR:-/var/lib/herd}/images/compose}"
SUITE="${HERD_IMAGE_SUITE:-bookworm}"
SOURCES="${HERD_IMAGE_SOURCES:-}"
CRIU_PREFIX="${HERD_CRIU_PREFIX:-/opt/herd/criu}"
IMAGES=(rabbitmq redis control agent)
HOSTS=()
ONLY=""
while (($#)); do
  case "$1" in
    --docker-host) HOSTS+=("$2"); shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "images: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
((${#HOSTS[@]})) || HOSTS=("${DOCKER_HOST:-unix:///var/run/docker.sock}")
if [[ -n "$ONLY" ]]; then IFS=, read -r -a IMAGES <<<"$ONLY"; fi

say() { printf '%-16s %s\n' "$1:" "$2"; }
die() { echo "images: $*" >&2; exit 1; }

[[ "$(id -u)" == 0 ]] || die "must run as root (mmdebstrap, dpkg of the image's packages)"
command -v mmdebstrap >/dev/null || die "mmdebstrap is not installed (apt-get install mmdebstrap; infra/bootstrap.sh does it)"
command -v docker >/dev/null || die "the docker CLI is not installed"
NODE_BIN="$(readlink -f "$(command -v node)")" || die "node is not installed"
[[ -f "$REPO/dist/services/control/src/main.js" && -f "$REPO/dist/services/compute-agent/src/main.js" ]] \
  || die "dist/ is missing or incomplete: run npm run build first"
if [[ -z "$SOURCES" ]]; then
  for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
    [[ -s "$f" ]] && { SOURCES="$f"; break; }
  done
fi
[[ -n "$SOURCES" ]] || die "no apt sources found (set HERD_IMAGE_SOURCES)"
mkdir -p "$OUT"
chmod 0700 "$OUT"

sha() { sha256sum | cut -c1-64; }
# Packages every image has (in the base layer) and each image's own.
BASE_PACKAGES="ca-certificates,procps,tini"
declare -A PACKAGES=(
  [rabbitmq]="rabbitmq-server"
  [redis]="redis-server redis-tools"
  [control]=""
  [agent]="runc rsync iproute2 iputils-arping util-linux iptables"
)
# agent builds FROM control (node + app), the others FROM base.
declare -A PARENT=([rabbitmq]=base [redis]=base [control]=base [agent]=control)
# The files of entrypoints/ each image copies (so changing one image's script rebuilds only it).
declare -A SCRIPTS=(
  [rabbitmq]="install-debs herd-secret rabbitmq-entrypoint"
  [redis]="install-debs herd-secret redis-entrypoint redis-healthcheck redis-persistence.conf"
  [control]="herd-secret control-entrypoint"
  [agent]="install-debs agent-entrypoint"
)

# ------------------------------------------------------------------ base rootfs
BASE_HASH="$( { echo "$SUITE $BASE_PACKAGES"; sed 's/#.*//' "$SOURCES"; cat "$HERE/base-hook.sh"; mmdebstrap --version; } | sha)"
BASE_TAG="herd/base:${BASE_HASH:0:12}"
BASE_TAR="$OUT/base-${BASE_HASH:0:12}.tar"
ensure_base_rootfs() {
  if [[ -s "$BASE_TAR" ]]; then say "base rootfs" "ok"; return; fi
  local t0=$SECONDS tmp="$OUT/.base.$$.tar"
  rm -f "$OUT"/base-*.tar
  mmdebstrap --quiet --variant=minbase --include="$BASE_PACKAGES" --customize-hook="$HERE/base-hook.sh \"\$1\"" \
    "$SUITE" "$tmp" "$SOURCES" >"$OUT/mmdebstrap.log" 2>&1 || { tail -20 "$OUT/mmdebstrap.log" >&2; rm -f "$tmp"; die "mmdebstrap failed"; }
  mv "$tmp" "$BASE_TAR"
  say "base rootfs" "built in $((SECONDS - t0)) s ($(du -h "$BASE_TAR" | cut -f1))"
}

# ------------------------------------------------------------------ .debs per image
# Resolved against the base's dpkg status with the host's apt lists (same suite and sources).
DPKG_STATUS="$OUT/base-${BASE_HASH:0:12}.dpkg-status"
debs_dir() { echo "$OUT/debs-$1"; }
ensure_debs() {
  local name="$1" pkgs="${PACKAGES[$1]}" dir stamp
  dir="$(debs_dir "$name")"
  stamp="$(echo "$BASE_HASH $pkgs" | sha)"
  if [[ -z "$pkgs" ]]; then rm -rf "$dir"; mkdir -p "$dir"; echo "$stamp" >"$dir/.stamp"; return; fi
  [[ -f "$dir/.stamp" && "$(cat "$dir/.stamp")" == "$stamp" ]] && return
  [[ -s "$DPKG_STATUS" ]] || tar -xOf "$BASE_TAR" ./var/lib/dpkg/status >"$DPKG_STATUS"
  rm -rf "$dir" && mkdir -p "$dir/partial"
  local opts=(-o "Dir::State::status=$DPKG_STATUS" -o "Dir::Cache::archives=$dir" -o "APT::Sandbox::User=root"
    -o "APT::Install-Recommends=false" -o "Debug::NoLocking=true")
  # shellcheck disable=SC2086
  if ! apt-get "${opts[@]}" -qq -y --download-only install $pkgs >"$OUT/apt-$name.log" 2>&1; then
    # Stale host lists (a package moved on the mirror): refresh them once.
    apt-get update -qq >>"$OUT/apt-$name.log" 2>&1 || true
    # shellcheck disable=SC2086
    apt-get "${opts[@]}" -qq -y --download-only install $pkgs >>"$OUT/apt-$name.log" 2>&1 \
      || { tail -20 "$OUT/apt-$name.log" >&2; die "downloading $pkgs failed"; }
  fi
  rm -rf "$dir/partial" "$dir/lock"
  echo "$stamp" >"$dir/.stamp"
}

# ------------------------------------------------------------------ application files
APP_DIR="$OUT/app"
APP_HASH="$( { cd "$REPO" && find dist -type f \( -name '*.js' -o -name '*.html' -o -name '*.css' -o -name '*.svg' -o -name '*.json' \) -not -name '*.test.js' -not -path 'dist/test/*' -not -path 'dist/bench/*' -print0 | sort -z | xargs -0 sha256sum; sha256sum package.json package-lock.json; } | sha)"
ensure_app() {
  [[ -f "$APP_DIR/.stamp" && "$(cat "$APP_DIR/.stamp")" == "$APP_HASH" ]] && return
  local tmp="$OUT/.app.$$"
  rm -rf "$tmp" && mkdir -p "$tmp"
  (cd "$REPO" && find dist -type f -not -name '*.test.js' -not -name '*.map' -not -path 'dist/test/*' -not -path 'dist/bench/*' -print0 \
    | tar --null -T - -cf - | tar -xf - -C "$tmp")
  cp "$REPO/package.json" "$REPO/package-lock.json" "$tmp/"
  # Production dependencies only: a hard-linked copy of the repository's node_modules, pruned
  # (no registry call; `npm ci --omit=dev` would give the same tree).
  cp -al "$REPO/node_modules" "$tmp/node_modules"
  (cd "$tmp" && npm prune --omit=dev --no-audit --no-fund --loglevel=error >/dev/null)
  rm -rf "$APP_DIR" && mv "$tmp" "$APP_DIR"
  echo "$APP_HASH" >"$APP_DIR/.stamp"
}

# ------------------------------------------------------------------ per-image hash and context
declare -A HASH=()
image_hash() {
  local name="$1" parent="${PARENT[$1]}"
  {
    if [[ "$parent" == base ]]; then echo "$BASE_HASH"; else echo "${HASH[$parent]}"; fi
    echo "${PACKAGES[$name]}"
    cat "$HERE/$name.Dockerfile"
    for f in ${SCRIPTS[$name]}; do cat "$HERE/entrypoints/$f"; done
    case "$name" in
      control) echo "$APP_HASH"; sha256sum "$NODE_BIN" | cut -c1-64 ;;
      agent) (cd "$CRIU_PREFIX" && find . -type f -print0 | sort -z | xargs -0 sha256sum) ;;
    esac
  } | sha
}

context_for() {
  local name="$1" ctx="$OUT/ctx-$1"
  rm -rf "$ctx" && mkdir -p "$ctx"
  cp -al "$(debs_dir "$name")" "$ctx/debs"
  cp -a "$HERE/entrypoints" "$ctx/entrypoints"
  case "$name" in
    control)
      cp "$NODE_BIN" "$ctx/node"
      cp -al "$APP_DIR" "$ctx/app"
      rm -f "$ctx/app/.stamp"
      ;;
    agent)
      [[ -x "$CRIU_PREFIX/usr/sbin/criu" ]] || die "CRIU is not in $CRIU_PREFIX (infra/install-criu.sh installs it)"
      mkdir -p "$ctx/criu"
      cp -a "$CRIU_PREFIX/." "$ctx/criu/"
      ;;
  esac
  echo "$ctx"
}

# ------------------------------------------------------------------ per engine
dk() { docker -H "$HOST" "$@"; }
has_image() { dk image inspect "$1" >/dev/null 2>&1; }

ensure_base_image() {
  has_image "$BASE_TAG" && return
  dk import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' -c 'ENV LANG=C.UTF-8' \
    -c 'CMD ["/bin/bash"]' "$BASE_TAR" "$BASE_TAG" >/dev/null
  dk tag "$BASE_TAG" herd/base:latest
}

ensure_image() {
  local name="$1" tag="herd/$1:${HASH[$1]:0:12}" archive="$OUT/$1-${HASH[$1]:0:12}.docker.tar" t0=$SECONDS how
  if has_image "$tag"; then
    how=ok
  elif [[ -s "$archive" ]]; then
    dk load -q -i "$archive" >/dev/null
    how=loaded
  else
    local parent="${PARENT[$name]}" from ctx
    if [[ "$parent" == base ]]; then ensure_base_image; from="$BASE_TAG"; else from="herd/$parent:${HASH[$parent]:0:12}"; fi
    has_image "$from" || ensure_image "$parent"
    ctx="$(context_for "$name")"
    # Classic builder, no network, never pulls (FROM is the local image made above).
    DOCKER_BUILDKIT=0 dk build -q --network none --build-arg "FROM=$from" -t "$tag" -f "$HERE/$name.Dockerfile" "$ctx" >"$OUT/build-$name.log" 2>&1 \
      || { tail -30 "$OUT/build-$name.log" >&2; die "building herd/$name failed (log: $OUT/build-$name.log)"; }
    rm -rf "$ctx"
    rm -f "$OUT/$name"-*.docker.tar
    dk save -o "$archive.tmp" "$tag" && mv "$archive.tmp" "$archive"
    how="built in $((SECONDS - t0)) s"
  fi
  dk tag "$tag" "herd/$name:latest"
  # Older builds of this image go (an image a container still uses stays: rmi refuses it).
  local old
  for old in $(dk images "herd/$name" --format '{{.Tag}}'); do
    [[ "$old" == latest || "$old" == "${HASH[$name]:0:12}" ]] || dk rmi "herd/$name:$old" >/dev/null 2>&1 || true
  done
  say "herd/$name" "$how ($tag)"
}

ensure_base_rootfs
ensure_app
for name in rabbitmq redis control agent; do
  ensure_debs "$name"
  HASH[$name]="$(image_hash "$name")"
done
for HOST in "${HOSTS[@]}"; do
  dk version >/dev/null 2>&1 || die "no Docker engine answers at $HOST"
  for name in "${IMAGES[@]}"; do ensure_image "$name"; done
done
