#!/usr/bin/env bash
# Installs the Debian packages ustack needs, when they are missing:
#   install-deps.sh build   what building (and `make demo`) needs
#   install-deps.sh [all]   that, and what the tests use (Linux peers,
#                           tshark, xmllint, headless Chromium for the demo's
#                           pictures)
# Root only; as another user it only reports what is missing.
set -euo pipefail

pkgs=(cmake make gcc clang libclang-rt-14-dev pkg-config libcmocka-dev)
if [ "${1:-all}" != build ]; then
  pkgs+=(iproute2 iputils-ping socat tshark curl python3 libxml2-utils chromium
         fonts-dejavu-core python3-scapy)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing Debian packages: ${missing[*]} (run as root, or install them)" >&2
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
