#!/usr/bin/env bash
# deps.sh - make sure the tools and -dev packages axon builds with are
# present; install the missing ones with apt-get (as root, or via sudo),
# or name them and fail.  Sourced by demo.sh and test.sh.
#   axon_need_packages PKG...    install Debian packages that are missing
set -u

axon_need_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "axon: installing missing packages: ${missing[*]}"
  local SUDO=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      echo "axon: missing packages ${missing[*]} and not root: run 'apt-get install ${missing[*]}' as root" >&2
      return 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "axon: no apt-get here; install these (or their equivalents): ${missing[*]}" >&2
    return 1
  fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || true
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
    echo "axon: apt-get install ${missing[*]} failed" >&2
    return 1
  }
}

# The base toolchain every build needs.
axon_base_deps() {
  axon_need_packages gcc make cmake pkg-config libcmocka-dev libssl-dev
}
