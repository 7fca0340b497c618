#!/usr/bin/env bash
# `make install`: copies the built library, the headers, a pkg-config file and a CMake package
# config into PREFIX (staged under DESTDIR when set, for packagers).
#
#   scripts/install.sh PREFIX [LIBDIR] [INCLUDEDIR]
#
# Layout (LIBDIR defaults to PREFIX/lib, INCLUDEDIR to PREFIX/include):
#   LIBDIR/libscones.so.X.Y.Z, libscones.so.X -> (soname), libscones.so -> (link name)
#   LIBDIR/libscones.a
#   INCLUDEDIR/scones.h (C ABI), INCLUDEDIR/scones.hpp (header-only C++ wrapper)
#   LIBDIR/pkgconfig/scones.pc
#   LIBDIR/cmake/scones/sconesConfig.cmake, sconesConfigVersion.cmake
#
# rpath strategy: the library is installed as built. Its RUNPATH holds the libtorch lib folder
# it was built against (recorded by build.rs from torch-sys) and $ORIGIN, so it finds libtorch
# without LD_LIBRARY_PATH, or a libtorch copied next to it. Consumers' executables only need to
# find libscones itself: scones.pc adds -Wl,-rpath,LIBDIR and the CMake target carries the full
# path (CMake adds the build rpath).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=${1:?usage: install.sh PREFIX [LIBDIR] [INCLUDEDIR]}
libdir=${2:-$prefix/lib}
includedir=${3:-$prefix/include}
destdir=${DESTDIR:-}
case "$prefix$libdir$includedir" in *"@"*|*"|"*) echo "install.sh: '@' and '|' are not supported in paths" >&2; exit 2 ;; esac
for p in "$prefix" "$libdir" "$includedir"; do
  case "$p" in /*) ;; *) echo "install.sh: $p must be an absolute path" >&2; exit 2 ;; esac
done

rel=${CARGO_TARGET_DIR:-$root/target}/release
so="$rel/libscones.so"
[ -f "$so" ] || { echo "install.sh: $so is missing: run make build" >&2; exit 1; }
version=$(sed -n 's/^version *= *"\([0-9.]*\)".*/\1/p' "$root/Cargo.toml" | head -1)
IFS=. read -r major minor patch <<<"$version"
soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libscones.so.$major" ] || { echo "install.sh: $so has soname '$soname', expected libscones.so.$major" >&2; exit 1; }
# The libtorch lib folder recorded in the library's RUNPATH at build time.
libtorch_libdir=$(readelf -d "$so" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p' | tr ':' '\n' | grep -v '^\$ORIGIN' | head -1)
[ -n "$libtorch_libdir" ] || { echo "install.sh: $so has no RUNPATH to libtorch" >&2; exit 1; }

install -d "$destdir$libdir/pkgconfig" "$destdir$libdir/cmake/scones" "$destdir$includedir"
install -m 0755 "$so" "$destdir$libdir/libscones.so.$version"
ln -sfn "libscones.so.$version" "$destdir$libdir/libscones.so.$major"
ln -sfn "libscones.so.$major" "$destdir$libdir/libscones.so"
install -m 0644 "$rel/libscones.a" "$destdir$libdir/libscones.a"
install -m 0644 "$root/include/scones.h" "$destdir$includedir/scones.h"
install -m 0644 "$root/bindings/cpp/scones.hpp" "$destdir$includedir/scones.hpp"

relpath() { python3 -c 'import os,sys; print(os.path.relpath(sys.argv[1], sys.argv[2]))' "$1" "$2"; }
subst() {
  sed -e "s|@PREFIX@|$prefix|g" -e "s|@LIBDIR@|$libdir|g" -e "s|@INCLUDEDIR@|$includedir|g" \
      -e "s|@LIBTORCH_LIBDIR@|$libtorch_libdir|g" -e "s|@VERSION@|$version|g" \
      -e "s|@VERSION_MAJOR@|$major|g" -e "s|@VERSION_MINOR@|$minor|g" \
      -e "s|@CMAKE_TO_PREFIX@|$(relpath "$prefix" "$libdir/cmake/scones")|g" \
      -e "s|@LIB_REL@|$(relpath "$libdir" "$prefix")|g" \
      -e "s|@INCLUDE_REL@|$(relpath "$includedir" "$prefix")|g" "$1"
}
subst "$root/packaging/scones.pc.in" >"$destdir$libdir/pkgconfig/scones.pc"
subst "$root/packaging/sconesConfig.cmake.in" >"$destdir$libdir/cmake/scones/sconesConfig.cmake"
subst "$root/packaging/sconesConfigVersion.cmake.in" >"$destdir$libdir/cmake/scones/sconesConfigVersion.cmake"
chmod 0644 "$destdir$libdir/pkgconfig/scones.pc" "$destdir$libdir/cmake/scones/"*.cmake
echo "installed scones $version into $destdir$prefix (libtorch: $libtorch_libdir)"
