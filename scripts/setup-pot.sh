#!/usr/bin/env bash
# Idempotent: installs POT (Python Optimal Transport, the discrete Sinkhorn peer of
# benches/side_by_side.py) into the cached torch environment of setup-torch.sh, and prints the
# path of that environment's python. Quiet unless it has to install.
set -euo pipefail
# The cached environment even when the caller points LIBTORCH at a libtorch of its own.
TORCH_DIR="$(env -u LIBTORCH "$(dirname "${BASH_SOURCE[0]}")/setup-torch.sh")"
PY="$(cd "$TORCH_DIR/../../../.." && pwd)/bin/python"
POT_VERSION=0.9.6
if ! "$PY" -c 'import ot' >/dev/null 2>&1; then
  echo "scones: installing pot==$POT_VERSION into $(dirname "$(dirname "$PY")") (one time)" >&2
  "$PY" -m pip install -q --disable-pip-version-check --no-cache-dir "pot==$POT_VERSION" >&2
fi
echo "$PY"
