#!/bin/sh
# Install everything irnet needs to build, test, fuzz and run its demo on
# Debian 12. Idempotent; needs root (or sudo) and the Debian package mirror.
set -eu
PKGS="build-essential cmake pkg-config git ca-certificates
 libzmq3-dev libsodium-dev libprotobuf-c-dev protobuf-c-compiler
 libsqlite3-dev sqlite3 libjansson-dev libinih-dev libcmocka-dev
 gettext tzdata locales clang libclang-rt-14-dev llvm
 python3 python3-zmq python3-nacl procps strace gdb"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# Vietnamese and English UTF-8 locales for gettext catalogs.
if command -v locale-gen >/dev/null 2>&1 && ! locale -a 2>/dev/null | grep -qi '^vi_VN.utf8$'; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  for l in "vi_VN.UTF-8 UTF-8" "en_US.UTF-8 UTF-8"; do
    grep -q "^$l" /etc/locale.gen 2>/dev/null || echo "$l" | $SUDO tee -a /etc/locale.gen >/dev/null
  done
  $SUDO locale-gen >/dev/null 2>&1 || true
fi
