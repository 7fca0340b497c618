#!/usr/bin/env bash
# Idempotent: installs PyPI torch==2.11.0 (which carries libtorch 2.11.0, the version tch 0.24
# is built against) into a virtual environment cached outside the clone, and prints the path
# of its torch/ folder, which is what LIBTORCH must point at.
# A user with their own libtorch 2.11 sets LIBTORCH and this script does nothing.
set -euo pipefail
TORCH_VERSION=2.11.0
if [ -n "${LIBTORCH:-}" ]; then
  [ -f "$LIBTORCH/lib/libtorch_cpu.so" ] || { echo "LIBTORCH=$LIBTORCH has no lib/libtorch_cpu.so" >&2; exit 1; }
  echo "$LIBTORCH"; exit 0
fi
CACHE="${SCONES_CACHE:-$HOME/.cache/scones}"
VENV="$CACHE/torch-$TORCH_VERSION"
stamp="$VENV/.scones-ok"
if [ ! -f "$stamp" ]; then
  echo "scones: installing torch==$TORCH_VERSION into $VENV (one time, a few minutes)" >&2
  mkdir -p "$CACHE"
  rm -rf "$VENV.tmp"
  python3 -m venv "$VENV.tmp"
  "$VENV.tmp/bin/python" -m pip install -q --disable-pip-version-check --no-cache-dir "torch==$TORCH_VERSION" numpy >&2
  # venvs hard-code their own path in scripts; build in .tmp then move, and fix up the stamp
  # only once the move succeeded so an interrupted install is retried rather than trusted.
  rm -rf "$VENV"
  mv "$VENV.tmp" "$VENV"
  "$VENV/bin/python" -c 'import torch; assert torch.__version__.startswith("'$TORCH_VERSION'")' >&2 || true
  touch "$stamp"
fi
TORCH_DIR=$(ls -d "$VENV"/lib/python3*/site-packages/torch | head -1)
echo "$TORCH_DIR"
