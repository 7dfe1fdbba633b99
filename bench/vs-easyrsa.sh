#!/usr/bin/env bash
# Onboards the same users with easy-rsa (the gen.sh way: build-client-full,
# copy the files, tar czf) and with vpnkeys, on this machine in one run, and
# prints both times and the ratio.
#
#   bench/vs-easyrsa.sh            # 100 users, P-256
#   N=100 ALGO=rsa2048 bench/vs-easyrsa.sh
#
# Both CAs have a passphrase, read from a file, as an admin would run them.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100}
SINGLE=${SINGLE:-5}
ALGO=${ALGO:-p256}
EASYRSA=${EASYRSA:-/usr/share/easy-rsa/easyrsa}
[ -x "$EASYRSA" ] || { echo "easy-rsa not found at $EASYRSA (apt-get install easy-rsa)" >&2; exit 1; }
[ -x ./vpnkeys ] || go build -o vpnkeys ./cmd/vpnkeys
VPNKEYS=$PWD/vpnkeys

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'bench-passphrase\n' > "$work/pass"
cp "$work/pass" "$work/pass2" # openssl reads a second line when -passin and -passout name one file
chmod 600 "$work/pass" "$work/pass2"

now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }

# --- easy-rsa, as gen.sh drives it -------------------------------------
export EASYRSA_BATCH=1 EASYRSA_PKI="$work/pki"
case $ALGO in
  p256) export EASYRSA_ALGO=ec EASYRSA_CURVE=prime256v1 ;;
  p384) export EASYRSA_ALGO=ec EASYRSA_CURVE=secp384r1 ;;
  rsa2048) export EASYRSA_ALGO=rsa EASYRSA_KEY_SIZE=2048 ;;
  rsa3072) export EASYRSA_ALGO=rsa EASYRSA_KEY_SIZE=3072 ;;
  *) echo "ALGO must be p256, p384, rsa2048 or rsa3072" >&2; exit 2 ;;
esac
cd "$work"
"$EASYRSA" init-pki >/dev/null 2>&1
[ -d "$work/pki" ] || { echo "easyrsa init-pki failed" >&2; exit 1; }
EASYRSA_REQ_CN="bench CA" "$EASYRSA" --passout="file:$work/pass" --passin="file:$work/pass2" build-ca >/dev/null 2>&1
openvpn --genkey secret "$work/ta.key" 2>/dev/null || head -c 256 /dev/urandom > "$work/ta.key"
mkdir -p "$work/out"
easyrsa_user() {
  local u=$1
  "$EASYRSA" --passin="file:$work/pass" build-client-full "$u" nopass >/dev/null 2>&1
  mkdir -p "$work/out/$u"
  cp "$work/pki/private/$u.key" "$work/pki/issued/$u.crt" "$work/pki/ca.crt" "$work/ta.key" "$work/out/$u/"
  tar czf "$work/out/$u.tar.gz" -C "$work/out" "$u"
}
t0=$(now)
[ -f "$work/pki/ca.crt" ] || { echo "easyrsa build-ca failed" >&2; exit 1; }
for i in $(seq "$N"); do easyrsa_user "user$i"; done
[ -f "$work/pki/issued/user$N.crt" ] || { echo "easyrsa build-client-full failed" >&2; exit 1; }
t1=$(now)
for i in $(seq "$SINGLE"); do easyrsa_user "single$i"; done
t2=$(now)
e_bulk=$(ms "$t0" "$t1"); e_single=$(( $(ms "$t1" "$t2") / SINGLE ))
cd - >/dev/null

# --- vpnkeys -----------------------------------------------------------
data="$work/vpnkeys-data"
vk() { "$VPNKEYS" --data "$data" --passphrase-file "$work/pass" "$@"; }
vk init --algo "$ALGO" >/dev/null
vk server add dc1 --remote vpn1.example.com:1194/udp --subnet 10.8.0.0/16 >/dev/null # every user gets a fixed address
vk server add dc2 --remote vpn2.example.com:443/tcp --subnet 10.9.0.0/16 >/dev/null
users=(); for i in $(seq "$N"); do users+=("user$i"); done
t0=$(now)
vk add "${users[@]}" >/dev/null
t1=$(now)
for i in $(seq "$SINGLE"); do vk add "single$i" >/dev/null; done
t2=$(now)
v_bulk=$(ms "$t0" "$t1"); v_single=$(( $(ms "$t1" "$t2") / SINGLE ))

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) b = 1; printf "%.1fx", a / b }'; }
per() { awk -v t="$1" -v n="$2" 'BEGIN { printf "%.2f", t / n }'; }
echo "users: $N, algorithm: $ALGO, CPU: $(nproc) cores"
printf '%-34s %10s %12s\n' "" "total ms" "ms per user"
printf '%-34s %10s %12s\n' "easy-rsa, $N users (gen.sh way)" "$e_bulk" "$(per "$e_bulk" "$N")"
printf '%-34s %10s %12s\n' "vpnkeys add, $N users, one call" "$v_bulk" "$(per "$v_bulk" "$N")"
printf '%-34s %10s %12s\n' "easy-rsa, one user" "$e_single" "$e_single"
printf '%-34s %10s %12s\n' "vpnkeys add, one user, one process" "$v_single" "$v_single"
echo "bulk: vpnkeys is $(ratio "$e_bulk" "$v_bulk") faster; single user: $(ratio "$e_single" "$v_single") faster"
