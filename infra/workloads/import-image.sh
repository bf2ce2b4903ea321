#!/usr/bin/env bash
# Imports the workload image into one Docker engine, idempotently (the cluster code does the same
# through dockerode: DockerdNodeEngine.ensureImage). Builds the tarball first if needed.
#
# Usage: import-image.sh [DOCKER_HOST]     e.g. unix:///run/herd/n1/docker.sock (default: $DOCKER_HOST)
# Prints "ok" (already there) or "imported"; tags herd/workload:src-<hash12> and herd/workload:latest.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE_DIR="${HERD_STATE_DIR:-/var/lib/herd}"
HOST="${1:-${DOCKER_HOST:-unix:///var/run/docker.sock}}"
HASH="$("$HERE/build-image.sh" --print-hash | tail -1)"
TAG="herd/workload:src-${HASH:0:12}"
if docker -H "$HOST" image inspect "$TAG" >/dev/null 2>&1; then
  echo "ok"
  exit 0
fi
docker -H "$HOST" import \
  -c 'ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' -c 'CMD ["/bin/sh"]' \
  "${STATE_DIR}/images/workload.tar" "$TAG" >/dev/null
docker -H "$HOST" tag "$TAG" herd/workload:latest
echo "imported"
