#!/usr/bin/env bash
# Builds vpnkeys_DEBVERSION_ARCH.deb with dpkg-deb alone: no download
# beyond the Go module proxy, no debhelper. A binary package straight
# from the tree, so this folder is packaging/ and not debian/ (a debian/
# folder at the top would announce a source package for dpkg-buildpackage).
#
#   packaging/build-deb.sh [ARCH...]      (default: amd64)
# Environment: UPSTREAM (default packaging/VERSION), DEBVERSION (default
# UPSTREAM-1), OUT (default dist), GO (default go), SOURCE_DATE_EPOCH,
# COMPRESS (default xz as Debian's archive uses; the tests take gzip, which
# is ten times faster on a 20 MB binary).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
GO=${GO:-go}
upstream=${UPSTREAM:-$(cat "$here/VERSION")}
debver=${DEBVERSION:-$upstream-1}
out=${OUT:-$top/dist}
commit=$(git -C "$top" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$top" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  commit="$commit-dirty"
fi
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$top" log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH=$epoch
pkg=github.com/vpnkeys/vpnkeys/internal/cli
ldflags="-s -w -X $pkg.version=$upstream -X $pkg.commit=$commit"
# PIE: address-space randomisation for the binary too (Debian's hardening
# default). Go links it itself, static-pie, with CGO_ENABLED=0.
buildmode=-buildmode=pie
mkdir -p "$out"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Man pages and completions come from a binary for this machine (the
# package's may be for another architecture), run in an empty environment
# so nothing of the build host's VPNKEYS_* or config leaks into them.
(cd "$top" && CGO_ENABLED=0 "$GO" build $buildmode -trimpath -ldflags "$ldflags" -o "$work/vpnkeys-host" ./cmd/vpnkeys)
host() { (cd "$work" && env -i PATH=/usr/bin:/bin HOME="$work" VPNKEYS_CONFIG=/dev/null "$work/vpnkeys-host" "$@"); }
host gen-man "$work/man"

for arch in "${@:-amd64}"; do
  root="$work/root-$arch"
  if [ "$arch" = "$("$GO" env GOARCH)" ]; then # the same build: link once
    install -D -m 0755 "$work/vpnkeys-host" "$root/usr/bin/vpnkeys"
  else
    (cd "$top" && CGO_ENABLED=0 GOOS=linux GOARCH="$arch" "$GO" build $buildmode -trimpath -ldflags "$ldflags" -o "$root/usr/bin/vpnkeys" ./cmd/vpnkeys)
  fi
  install -d "$root/usr/share/man/man1" "$root/usr/share/doc/vpnkeys" "$root/lib/systemd/system" "$root/etc/vpnkeys" \
    "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
    "$root/usr/share/fish/vendor_completions.d" "$root/usr/lib/tmpfiles.d" "$root/DEBIAN"
  for m in "$work"/man/*.1; do
    gzip -9n < "$m" > "$root/usr/share/man/man1/$(basename "$m").gz"
  done
  host completion bash > "$root/usr/share/bash-completion/completions/vpnkeys"
  host completion zsh > "$root/usr/share/zsh/vendor-completions/_vpnkeys"
  host completion fish > "$root/usr/share/fish/vendor_completions.d/vpnkeys.fish"
  install -m 0644 "$here/debian/vpnkeys.service" "$here/debian/vpnkeys-agent.service" "$root/lib/systemd/system/"
  install -m 0644 "$here/debian/vpnkeys-agent.tmpfiles" "$root/usr/lib/tmpfiles.d/vpnkeys-agent.conf"
  install -m 0644 "$here/debian/vpnkeys.toml" "$root/etc/vpnkeys/"
  install -m 0644 "$here/debian/README.Debian" "$here/debian/copyright" "$root/usr/share/doc/vpnkeys/"
  sed -e "s/@VERSION@/$debver/" -e "s/@UPSTREAM@/$upstream/" -e "s/@COMMIT@/$commit/" \
    -e "s/@DATE@/$(date -R -u -d "@$epoch")/" "$here/debian/changelog.in" |
    gzip -9n > "$root/usr/share/doc/vpnkeys/changelog.Debian.gz"
  install -m 0755 "$here/debian/postinst" "$here/debian/prerm" "$here/debian/postrm" "$root/DEBIAN/"
  echo /etc/vpnkeys/vpnkeys.toml > "$root/DEBIAN/conffiles"
  (cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum > DEBIAN/md5sums)
  size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
  sed -e "s/@VERSION@/$debver/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" "$here/debian/control.in" > "$root/DEBIAN/control"
  find "$root" -type d -exec chmod 0755 {} +
  find "$root" -type f ! -path '*/DEBIAN/p*' ! -path '*/usr/bin/*' -exec chmod 0644 {} +
  find "$root" -exec touch -h -d "@$epoch" {} +
  dpkg-deb --root-owner-group -Z"${COMPRESS:-xz}" --build "$root" "$out/vpnkeys_${debver}_${arch}.deb" >/dev/null
  echo "$out/vpnkeys_${debver}_${arch}.deb"
done
