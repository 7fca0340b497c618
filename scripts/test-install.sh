#!/usr/bin/env bash
# make test-install: `make install` into a temporary prefix, then C and C++ consumers built
# against it with nothing but `pkg-config --cflags --libs scones` and CMake's
# find_package(scones) (shared and static), run without LD_LIBRARY_PATH. Checks the layout,
# the soname and its links, that the library and the programs resolve libtorch (ldd), and
# that Cargo.toml, the header macros, scones_version(), pkg-config and CMake agree on the
# version.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/scones-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
unset LD_LIBRARY_PATH
fail() { echo "test-install: FAIL: $*" >&2; exit 1; }
version=$(sed -n 's/^version *= *"\([0-9.]*\)".*/\1/p' "$root/Cargo.toml" | head -1)
major=${version%%.*}

make --no-print-directory -s -C "$root" install PREFIX="$prefix" >"$tmp/install.log" || { cat "$tmp/install.log"; fail "make install"; }

# Layout and soname.
for f in lib/libscones.so.$version lib/libscones.a include/scones.h include/scones.hpp lib/pkgconfig/scones.pc \
         lib/cmake/scones/sconesConfig.cmake lib/cmake/scones/sconesConfigVersion.cmake; do
  [ -f "$prefix/$f" ] || fail "$f not installed"
done
[ "$(readlink "$prefix/lib/libscones.so.$major")" = "libscones.so.$version" ] || fail "libscones.so.$major link"
[ "$(readlink "$prefix/lib/libscones.so")" = "libscones.so.$major" ] || fail "libscones.so link"
soname=$(readelf -d "$prefix/lib/libscones.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libscones.so.$major" ] || fail "soname '$soname'"
cmp -s "$root/include/scones.h" "$prefix/include/scones.h" || fail "installed scones.h differs"
ldd "$prefix/lib/libscones.so" >"$tmp/ldd.txt"
! grep -q "not found" "$tmp/ldd.txt" || { cat "$tmp/ldd.txt"; fail "the installed library does not find its dependencies"; }
grep -q "libtorch_cpu.so => /" "$tmp/ldd.txt" || fail "libtorch_cpu not resolved by the installed library"

# pkg-config.
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
export PKG_CONFIG_DISABLE_UNINSTALLED=1
[ "$(pkg-config --modversion scones)" = "$version" ] || fail "pkg-config version $(pkg-config --modversion scones)"
cc=${CC:-cc}
cxx=${CXX:-g++}
# shellcheck disable=SC2046  # word splitting of pkg-config output is the point
$cc -std=c11 -Wall -Wextra -Werror "$root/tests/install/consumer.c" $(pkg-config --cflags --libs scones) -o "$tmp/pc_c"
# shellcheck disable=SC2046
$cxx -std=c++17 -Wall -Wextra -Werror "$root/tests/install/consumer.cpp" $(pkg-config --cflags --libs scones) -o "$tmp/pc_cpp"
for exe in pc_c pc_cpp; do
  ldd "$tmp/$exe" >"$tmp/ldd.txt"
  ! grep -q "not found" "$tmp/ldd.txt" || { cat "$tmp/ldd.txt"; fail "$exe: unresolved libraries"; }
  grep -q "libscones.so.$major => $prefix/lib/" "$tmp/ldd.txt" || fail "$exe does not load the installed libscones"
  "$tmp/$exe" "$version"
done

# CMake: find_package(scones), shared and static; a version it cannot satisfy is refused.
cmake -S "$root/tests/install" -B "$tmp/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DSCONES_STATIC=ON \
  -DCMAKE_BUILD_TYPE=Release >"$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log"; fail "cmake configure"; }
grep -q "found scones $version" "$tmp/cmake.log" || { cat "$tmp/cmake.log"; fail "CMake package version"; }
cmake --build "$tmp/cmake" -j 2 >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; fail "cmake build"; }
for exe in consumer_c consumer_cpp consumer_static; do
  ldd "$tmp/cmake/$exe" >"$tmp/ldd.txt"
  ! grep -q "not found" "$tmp/ldd.txt" || { cat "$tmp/ldd.txt"; fail "$exe: unresolved libraries"; }
  "$tmp/cmake/$exe" "$version"
done
! grep -q "libscones" <(ldd "$tmp/cmake/consumer_static") || fail "consumer_static loads libscones.so"
# Versions the package must refuse: a later minor and another major. An earlier minor of the
# same major is accepted (minors only append to the ABI, docs/ABI.md): checked below.
minor=$(echo "$version" | cut -d. -f2)
bad=("$((major + 1)).0" "$major.$((minor + 1))")
[ "$major" -eq 0 ] || bad+=("$((major - 1)).0")
for want in "${bad[@]}"; do
  if cmake -S "$root/tests/install" -B "$tmp/cmake-bad" -DCMAKE_PREFIX_PATH="$prefix" \
       -DSCONES_REQUIRE_VERSION="$want" >"$tmp/bad.log" 2>&1; then
    fail "find_package(scones $want) accepted version $version"
  fi
  rm -rf "$tmp/cmake-bad"
done
if [ "$minor" -gt 0 ]; then
  cmake -S "$root/tests/install" -B "$tmp/cmake-old" -DCMAKE_PREFIX_PATH="$prefix" \
    -DSCONES_REQUIRE_VERSION="$major.$((minor - 1))" >"$tmp/old.log" 2>&1 ||
    { cat "$tmp/old.log"; fail "find_package(scones $major.$((minor - 1))) refused version $version"; }
  rm -rf "$tmp/cmake-old"
fi
echo "test-install: all checks passed (scones $version: make install, pkg-config C and C++, CMake shared and static)"
