#!/bin/sh
# mmdebstrap customize hook for herd/base ($1 = the root filesystem being built): no service is
# started by a package's postinst inside an image build, no documentation, no apt lists.
set -eu
ROOT="$1"
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
printf 'path-exclude /usr/share/doc/*\npath-exclude /usr/share/man/*\npath-exclude /usr/share/locale/*\npath-include /usr/share/locale/locale.alias\n' \
  >"$ROOT/etc/dpkg/dpkg.cfg.d/herd-nodoc"
rm -rf "$ROOT/usr/share/doc/"* "$ROOT/usr/share/man/"* "$ROOT/var/lib/apt/lists/"* "$ROOT/var/cache/apt/"*.bin
