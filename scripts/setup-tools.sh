#!/usr/bin/env bash
# Idempotent, quiet on success: installs the host toolchains the binding tests need when they
# are absent (CI machines start without them): Go (cgo, Debian's golang-go, Go 1.19 on
# bookworm), CMake (for the find_package(scones) install test), pkg-config, g++, valgrind (for
# make test-sanitize), Open MPI (openmpi-bin + libopenmpi-dev: mpicc, mpicxx, mpirun for the
# data-parallel tests of make test-mpi; the library itself never links MPI), and for the
# Julia binding checker a small virtual environment with PyPI tree-sitter + tree-sitter-julia
# (a Julia parser; Julia itself cannot be installed here), cached beside the torch one.
#   scripts/setup-tools.sh [go] [cmake] [pkg-config] [g++] [valgrind] [mpi] [julia-check]   (none: all)
#   scripts/setup-tools.sh --python    prints the checker's Python interpreter
set -euo pipefail
TOOLS_VENV="${SCONES_CACHE:-$HOME/.cache/scones}/tools-venv"
TREE_SITTER="tree-sitter==0.26.1 tree-sitter-julia==0.23.1"
if [ "${1:-}" = "--python" ]; then
  echo "$TOOLS_VENV/bin/python"; exit 0
fi
want=("$@")
[ ${#want[@]} -gt 0 ] || want=(go cmake pkg-config g++ valgrind mpi julia-check)
missing=()
for tool in "${want[@]}"; do
  case "$tool" in
    julia-check)
      if [ ! -f "$TOOLS_VENV/.scones-ok" ]; then
        echo "scones: installing $TREE_SITTER into $TOOLS_VENV (one time)" >&2
        rm -rf "$TOOLS_VENV"
        python3 -m venv "$TOOLS_VENV" >&2
        # shellcheck disable=SC2086
        "$TOOLS_VENV/bin/python" -m pip install -q --disable-pip-version-check $TREE_SITTER >&2
        "$TOOLS_VENV/bin/python" -c 'import tree_sitter, tree_sitter_julia' >&2
        touch "$TOOLS_VENV/.scones-ok"
      fi ;;
    go) command -v go >/dev/null 2>&1 || missing+=(golang-go) ;;
    cmake) command -v cmake >/dev/null 2>&1 || missing+=(cmake) ;;
    pkg-config) command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config) ;;
    g++) command -v g++ >/dev/null 2>&1 || missing+=(g++) ;;
    valgrind) command -v valgrind >/dev/null 2>&1 || missing+=(valgrind) ;;
    mpi) { command -v mpicc && command -v mpicxx && command -v mpirun; } >/dev/null 2>&1 \
      || missing+=(openmpi-bin libopenmpi-dev) ;;
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
