#!/usr/bin/env bash
# Idempotent, quiet on success: installs the host toolchains the binding tests need when they
# are absent (CI machines start without them): Go (cgo, Debian's golang-go, Go 1.19 on
# bookworm), CMake (for the find_package(scones) install test), pkg-config, and g++.
#   scripts/setup-tools.sh [go] [cmake] [pkg-config] [g++]    (no argument: all of them)
set -euo pipefail
want=("$@")
[ ${#want[@]} -gt 0 ] || want=(go cmake pkg-config g++)
missing=()
for tool in "${want[@]}"; do
  case "$tool" in
    go) command -v go >/dev/null 2>&1 || missing+=(golang-go) ;;
    cmake) command -v cmake >/dev/null 2>&1 || missing+=(cmake) ;;
    pkg-config) command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config) ;;
    g++) command -v g++ >/dev/null 2>&1 || missing+=(g++) ;;
    *) echo "setup-tools: unknown tool $tool" >&2; exit 2 ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "scones: installing ${missing[*]} from Debian (one time)" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# apt-get update only when the package lists are missing or the install fails on stale lists.
if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
  $SUDO apt-get update -q >>"$log" 2>&1 || { cat "$log" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$log" 2>&1 \
    || { cat "$log" >&2; exit 1; }
fi
