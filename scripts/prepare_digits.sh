#!/usr/bin/env bash
# Runs scripts/prepare_digits.py OUT_DIR with the cached torch environment's python (installing
# that environment, and scikit-learn into it, on first use). Prints nothing on stdout.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
torch_dir="$("$here/setup-torch.sh")"
# torch_dir is VENV/lib/python3.X/site-packages/torch.
python="$(dirname "$(dirname "$(dirname "$(dirname "$torch_dir")")")")/bin/python"
exec "$python" "$here/prepare_digits.py" "$@"
