#!/usr/bin/env bash
# Installs the real components the tests run against, when missing:
# OpenVPN 2.6, easy-rsa 3.1, PostgreSQL 15, Chromium (and a font), openssl,
# iproute2, util-linux, nftables; for the Debian package tests dpkg, lintian,
# systemd (systemd-analyze), adduser, man-db, bash-completion.
# Debian 12; runs apt-get update once, then apt-get install -y.
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1 || [ -x "$1" ]; }
have openvpn || have /usr/sbin/openvpn || need+=(openvpn)
have /usr/share/easy-rsa/easyrsa || need+=(easy-rsa)
have openssl || need+=(openssl)
have ip || have /usr/sbin/ip || need+=(iproute2)
have unshare || need+=(util-linux)
have nft || have /usr/sbin/nft || need+=(nftables) # the firewall tests load rulesets into the kernel
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
have chromium || need+=(chromium)
[ -d /usr/share/fonts/truetype/dejavu ] || need+=(fonts-dejavu-core) # so screenshots show text
have update-ca-certificates || need+=(ca-certificates)
have dpkg-deb || need+=(dpkg)
have lintian || need+=(lintian)
have systemd-analyze || need+=(systemd)
have deb-systemd-helper || need+=(init-system-helpers)
have adduser || have /usr/sbin/adduser || need+=(adduser)
have man || need+=(man-db) # systemd-analyze verify checks Documentation=man:...
[ -f /usr/share/bash-completion/bash_completion ] || need+=(bash-completion) # the completion test sources it

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${need[*]}"
sudo=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "missing ${need[*]}: install them (apt-get install -y ${need[*]}) or run as root" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
