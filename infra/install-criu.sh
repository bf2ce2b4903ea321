#!/usr/bin/env bash
# Installs CRIU 4.x for Herd's live migration on Debian 12, idempotently. Run as root.
#
# Why not Debian 12's own criu: 3.17 fails on recent kernels ("vdso: Unexpected rt vDSO area
# bounds"). Debian 13's criu 4.1.1 passes `criu check` but cannot dump any INET socket on kernels
# >= 6.16 (`sockets: Can't get 1:16 opt: Operation not supported`: the kernel now refuses
# SO_PASSCRED/SO_PASSSEC on INET sockets; criu issues #2705/#2718), so a container that listens or
# holds a TCP connection cannot be checkpointed. criu 4.2.x (Debian forky) can. It needs a newer
# glibc than Debian 12's, so we fetch it and its library closure from forky with a PRIVATE apt state (the system's sources, lists and dpkg status stay
# untouched), unpack the .debs with `dpkg -x` into a private prefix, and run criu through that
# prefix's own dynamic loader. The system libc is never replaced.
#
# Upgrade path: a machine that has an older criu in the prefix (e.g. trixie's 4.1.1 from an earlier
# version of this script) fails the version check below and gets the new one swapped in.
#
# Env: HERD_CRIU_PREFIX (default /opt/herd/criu), HERD_CRIU_WRAPPER (default /usr/local/bin/criu),
#      HERD_CRIU_MIRROR (default http://deb.debian.org/debian), HERD_CRIU_SUITE (default forky),
#      HERD_CRIU_MIN_VERSION (default 4.2), HERD_CRIU_FORCE=1 to reinstall,
#      HERD_CRIU_RUNC_CONF (default /etc/criu/runc.conf).
set -euo pipefail

PREFIX="${HERD_CRIU_PREFIX:-/opt/herd/criu}"
WRAPPER="${HERD_CRIU_WRAPPER:-/usr/local/bin/criu}"
MIRROR="${HERD_CRIU_MIRROR:-http://deb.debian.org/debian}"
SUITE="${HERD_CRIU_SUITE:-forky}"
MIN_VERSION="${HERD_CRIU_MIN_VERSION:-4.2}"
APTDIR="$PREFIX.apt"

log() { echo "install-criu: $*" >&2; }

[ "$(id -u)" -eq 0 ] || { log "must run as root"; exit 1; }

criu_ok() {
  local v
  v="$("$WRAPPER" --version 2>/dev/null | sed -n 's/^Version: *//p')" || return 1
  [ -n "$v" ] || return 1
  # version >= MIN_VERSION (sort -V puts the smaller first)
  [ "$(printf '%s\n%s\n' "$MIN_VERSION" "$v" | sort -V | head -1)" = "$MIN_VERSION" ] || return 1
  "$WRAPPER" check >/dev/null 2>&1
}

check_docker_sees_it() {
  # runc (called by dockerd) execs plain `criu` from PATH; make sure that is our wrapper.
  local found
  found="$(command -v criu || true)"
  if [ "$found" != "$WRAPPER" ]; then
    log "WARNING: 'criu' on PATH is '$found', not $WRAPPER; runc/docker would use the wrong one"
    return 1
  fi
}

# runc hands CRIU this file on every checkpoint and restore (Docker's `start --checkpoint` has no
# flag for it), and its options override runc's: `tcp-established` lets a container keep its
# established TCP connections across a move (TCP repair). Other lines (e.g. a test's
# action-script) are left alone; only a missing line is appended.
RUNC_CONF="${HERD_CRIU_RUNC_CONF:-/etc/criu/runc.conf}"
ensure_runc_conf() {
  mkdir -p "$(dirname "$RUNC_CONF")"
  if ! grep -qx 'tcp-established' "$RUNC_CONF" 2>/dev/null; then
    if [ -s "$RUNC_CONF" ] && [ -n "$(tail -c1 "$RUNC_CONF")" ]; then echo >> "$RUNC_CONF"; fi
    echo 'tcp-established' >> "$RUNC_CONF"
    log "added tcp-established to $RUNC_CONF"
  fi
}
ensure_runc_conf

# CRIU probes the kernel's features (~45 ms here) at the start of every run (dump, restore, the
# lazy-pages daemon, runc's feature checks) unless it can load its cache, /run/criu.kdat (the path
# is built in: KDAT_RUNDIR; no option or env moves it for root). CRIU checks nothing in that file
# but its own build stamp, so it only ever *writes* the cache on a tmpfs (gone at reboot, hence
# never older than the kernel): open("/run/criu.kdat.tmp", O_CREAT|O_EXCL), fstatfs == tmpfs, then
# rename. Hosts without systemd (like ours) have /run on disk, so CRIU probes on every run.
#
# Here the cache lives in a small root-only tmpfs of its own, $KDAT_DIR, and /run/criu.kdat is a
# symlink into it; CRIU's open() for loading follows it. /run/criu.kdat.tmp is a symlink too, so
# CRIU's O_EXCL save always fails with EEXIST and CRIU never writes (or unlinks) anything there:
# it only reads. The file is made by one `criu check` in a private mount namespace in which
# $KDAT_DIR is bound over /run (only that check sees the tmpfs as /run), so CRIU writes it itself.
# After a reboot the tmpfs is gone, the symlink dangles and CRIU probes as before until this script
# runs again. A new CRIU build has a new stamp: CRIU calls the cache stale and unlinks the symlink
# (this script makes a new one after installing). Nothing in /run is hidden from CRIU or runc; the
# engines' shims and runc run in the host's mount namespace, so they read the same file.
# HERD_CRIU_KDAT_DIR (default /run/herd-criu-kdat); HERD_CRIU_KDAT=0 leaves CRIU to probe.
KDAT_DIR="${HERD_CRIU_KDAT_DIR:-/run/herd-criu-kdat}"
KDAT_RUNDIR=/run
ensure_kdat_cache() {
  [ "${HERD_CRIU_KDAT:-1}" != 0 ] || return 0
  local cache="$KDAT_RUNDIR/criu.kdat"
  if [ "$(stat -f -c %T "$KDAT_RUNDIR")" = tmpfs ]; then
    # CRIU keeps its cache itself; a symlink of ours from a disk-backed past would keep it from it
    [ -L "$cache" ] && rm -f "$cache" "$cache.tmp"
    echo "criu kdat cache: CRIU's own ($KDAT_RUNDIR is tmpfs)"
    return 0
  fi
  if ! grep -qaF "$cache" "$PREFIX/usr/sbin/criu"; then
    log "WARNING: this criu does not keep its kdat cache at $cache; not set up"
    return 0
  fi
  mkdir -p "$KDAT_DIR"
  if ! mountpoint -q "$KDAT_DIR"; then
    mount -t tmpfs -o size=64k,mode=0700,nosuid,nodev,noexec herd-criu-kdat "$KDAT_DIR"
  fi
  [ "$(stat -f -c %T "$KDAT_DIR")" = tmpfs ] || { log "WARNING: $KDAT_DIR is not a tmpfs; kdat cache not set up"; return 0; }
  # ln -sfn replaces a leftover regular file (CRIU leaves criu.kdat.tmp behind after a failed save).
  [ "$(readlink "$cache" 2>/dev/null)" = "$KDAT_DIR/criu.kdat" ] || ln -sfn "$KDAT_DIR/criu.kdat" "$cache"
  [ "$(readlink "$cache.tmp" 2>/dev/null)" = "$KDAT_DIR/criu.kdat.tmp" ] || ln -sfn "$KDAT_DIR/criu.kdat.tmp" "$cache.tmp"
  # Loads a valid cache as it is; a missing or stale one is probed and written anew.
  unshare --mount --propagation private sh -c 'mount --bind "$1" "$2" && exec "$3" check' sh \
    "$KDAT_DIR" "$KDAT_RUNDIR" "$WRAPPER" >/dev/null 2>&1 || true
  if [ -s "$KDAT_DIR/criu.kdat" ]; then
    echo "criu kdat cache: ok ($cache -> $KDAT_DIR, tmpfs)"
  else
    log "WARNING: criu did not write its kdat cache into $KDAT_DIR; CRIU will probe the kernel on every run"
  fi
}

if [ "${HERD_CRIU_FORCE:-0}" != 1 ] && [ -x "$WRAPPER" ] && criu_ok; then
  check_docker_sees_it || true
  ensure_kdat_cache
  echo "criu ok ($("$WRAPPER" --version | sed -n 's/^Version: *//p'))"
  exit 0
fi

command -v apt-get >/dev/null || { log "apt-get not found (Debian only)"; exit 1; }
# forky (testing) is signed with the trixie archive keys, which Debian 12's debian-archive-keyring
# ships (bookworm-updates).
for kr in /usr/share/keyrings/debian-archive-trixie-automatic.gpg /etc/apt/trusted.gpg.d/debian-archive-trixie-automatic.asc; do
  [ -e "$kr" ] && HAVE_KEY=1
done
[ "${HAVE_KEY:-0}" = 1 ] || { log "trixie archive key missing: apt-get install debian-archive-keyring"; exit 1; }
if [ -x "$WRAPPER" ]; then
  log "upgrading: found criu $("$WRAPPER" --version 2>/dev/null | sed -n 's/^Version: *//p' || true), want >= $MIN_VERSION from $SUITE"
fi

# --- private apt state: nothing here touches /etc/apt or /var/lib/apt or /var/lib/dpkg
mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial" "$APTDIR/sourceparts" "$APTDIR/debs"
: > "$APTDIR/status" # empty dpkg status: apt resolves the whole closure as if nothing were installed
echo "deb $MIRROR $SUITE main" > "$APTDIR/sources.list"
APT_OPTS=(
  -o "Dir::Etc::sourcelist=$APTDIR/sources.list"
  -o "Dir::Etc::sourceparts=$APTDIR/sourceparts"
  -o "Dir::State::Lists=$APTDIR/lists"
  -o "Dir::Cache=$APTDIR/cache"
  -o "Dir::State::status=$APTDIR/status"
  -o "APT::Architecture=amd64"
  -o "APT::Architectures::=amd64"
  -o "APT::Sandbox::User=root" # the private dirs are root-only; skip the _apt download sandbox
)
log "fetching $SUITE package lists (private apt state in $APTDIR)"
apt-get "${APT_OPTS[@]}" -qq update

# The closure of criu's run-time dependencies (no recommends: crit/python are not needed).
mapfile -t PKGS < <(apt-cache "${APT_OPTS[@]}" depends --recurse --no-recommends --no-suggests \
  --no-conflicts --no-breaks --no-replaces --no-enhances criu | grep -v '^ ' | grep -v '^<' | sort -u)
[ "${#PKGS[@]}" -gt 3 ] || { log "could not resolve criu's dependencies: ${PKGS[*]:-none}"; exit 1; }
log "downloading ${#PKGS[@]} packages: ${PKGS[*]}"
rm -f "$APTDIR/debs"/*.deb
(cd "$APTDIR/debs" && apt-get "${APT_OPTS[@]}" -qq download "${PKGS[@]}")

# --- unpack into a fresh prefix, then swap it in (a half-written prefix is never live)
STAGE="$PREFIX.new"
rm -rf "$STAGE"
mkdir -p "$STAGE"
for deb in "$APTDIR/debs"/*.deb; do dpkg -x "$deb" "$STAGE"; done
LOADER=""
for cand in "$STAGE/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" "$STAGE/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" "$STAGE/usr/lib64/ld-linux-x86-64.so.2"; do
  [ -e "$cand" ] && { LOADER="${cand#"$STAGE"}"; break; }
done
[ -n "$LOADER" ] || { log "no ld-linux-x86-64.so.2 in the unpacked libc6"; exit 1; }
[ -x "$STAGE/usr/sbin/criu" ] || { log "criu binary missing after unpack"; exit 1; }
rm -rf "$PREFIX.old"
[ -d "$PREFIX" ] && mv "$PREFIX" "$PREFIX.old"
mv "$STAGE" "$PREFIX"
rm -rf "$PREFIX.old"

LIBPATH="$PREFIX/usr/lib/x86_64-linux-gnu:$PREFIX/lib/x86_64-linux-gnu"
mkdir -p "$(dirname "$WRAPPER")"
TMPW="$(mktemp "$WRAPPER.XXXXXX")"
cat > "$TMPW" <<WRAP
#!/bin/sh
# Generated by Herd's infra/install-criu.sh: criu $SUITE from a private prefix, run through the
# prefix's own loader so the system libc is never involved.
exec "$PREFIX$LOADER" --library-path "$LIBPATH" "$PREFIX/usr/sbin/criu" "\$@"
WRAP
chmod 0755 "$TMPW"
mv "$TMPW" "$WRAPPER"

if ! criu_ok; then
  log "criu installed but 'criu check' fails:"
  "$WRAPPER" check || true
  exit 1
fi
check_docker_sees_it || true
ensure_kdat_cache
echo "criu ok ($("$WRAPPER" --version | sed -n 's/^Version: *//p'))"
