#!/usr/bin/env bash
# Builds the workload rootfs tarball (busybox-static + Herd's static test programs) without any
# registry. Rebuilt only when an input changes: the tarball's name is fixed
# (${HERD_STATE_DIR}/images/workload.tar) and the hash of its inputs sits beside it in
# workload.sha256; the cluster code tags the imported image herd/workload:src-<hash12> so engines
# can tell whether they already hold this exact build.
#
# Usage: build-image.sh [--print-hash]      prints "ok" or "built" (and the hash with --print-hash)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE_DIR="${HERD_STATE_DIR:-/var/lib/herd}"
OUT_DIR="${STATE_DIR}/images"
TARBALL="${OUT_DIR}/workload.tar"
HASH_FILE="${OUT_DIR}/workload.sha256"
PROGRAMS=(counter memhold cpuburn diskwrite netecho cpusteps)
BUSYBOX="$(command -v busybox || true)"

[[ -n "$BUSYBOX" ]] || { echo "build-image: busybox not found (apt-get install busybox-static)" >&2; exit 1; }
# busybox-static must be static: the image has no libc.
if ldd "$BUSYBOX" >/dev/null 2>&1; then
  echo "build-image: $BUSYBOX is dynamically linked; install busybox-static" >&2
  exit 1
fi

inputs_hash() {
  {
    for p in "${PROGRAMS[@]}"; do sha256sum "${HERE}/${p}.c"; done
    sha256sum "${HERE}/build-image.sh" "$BUSYBOX"
    gcc -dumpfullversion
  } | sed 's#  .*/#  #' | sha256sum | cut -c1-64
}

HASH="$(inputs_hash)"
if [[ -f "$TARBALL" && -f "$HASH_FILE" && "$(cat "$HASH_FILE")" == "$HASH" ]]; then
  echo "ok"
  [[ "${1:-}" == "--print-hash" ]] && echo "$HASH"
  exit 0
fi

mkdir -p "$OUT_DIR"
WORK="$(mktemp -d "${OUT_DIR}/.build.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
ROOT="${WORK}/rootfs"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,etc,data,tmp,proc,sys,dev,root,var/tmp}
chmod 1777 "$ROOT/tmp" "$ROOT/var/tmp"

cp "$BUSYBOX" "$ROOT/bin/busybox"
# Same as `busybox --install -s` run inside the image, but done from the host (no chroot needed).
while read -r applet; do
  [[ -z "$applet" || "$applet" == "bin/busybox" ]] && continue
  [[ -e "$ROOT/$applet" ]] || ln -s /bin/busybox "$ROOT/$applet"
done < <("$BUSYBOX" --list-full)

for p in "${PROGRAMS[@]}"; do
  gcc -static -O2 -Wall -Wextra -o "$ROOT/usr/local/bin/$p" "${HERE}/${p}.c" -lpthread
  strip "$ROOT/usr/local/bin/$p"
done

printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$ROOT/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$ROOT/etc/group"
printf '127.0.0.1 localhost\n' > "$ROOT/etc/hosts"
echo "$HASH" > "$ROOT/etc/herd-workload-version"

# Deterministic archive: same inputs, same bytes.
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$ROOT" -cf "${WORK}/workload.tar" .
mv "${WORK}/workload.tar" "$TARBALL"
echo "$HASH" > "$HASH_FILE"
echo "built"
[[ "${1:-}" == "--print-hash" ]] && echo "$HASH"
exit 0
