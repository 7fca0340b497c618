#!/usr/bin/env bash
# Writes target/release/pkgconfig/scones-uninstalled.pc for the build tree (run by `make build`):
# with PKG_CONFIG_PATH=<repo>/target/release/pkgconfig, `pkg-config scones` (and the Go
# binding's `#cgo pkg-config: scones`) compile against include/ and link target/release.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rel=${CARGO_TARGET_DIR:-$root/target}/release
version=$(sed -n 's/^version *= *"\([0-9.]*\)".*/\1/p' "$root/Cargo.toml" | head -1)
mkdir -p "$rel/pkgconfig"
libdir=$(cd "$rel" && pwd -P)
sed -e "s|@SRCDIR@|$root|g" -e "s|@LIBDIR@|$libdir|g" -e "s|@VERSION@|$version|g" \
  "$root/packaging/scones-uninstalled.pc.in" >"$rel/pkgconfig/scones-uninstalled.pc.tmp"
mv "$rel/pkgconfig/scones-uninstalled.pc.tmp" "$rel/pkgconfig/scones-uninstalled.pc"
