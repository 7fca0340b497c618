# Sourced by the Makefile's recipes: LIBTORCH for torch-sys (installing the cached torch
# environment on first use).
LIBTORCH="$("$(dirname "${BASH_SOURCE[0]}")/setup-torch.sh")" || exit 1
export LIBTORCH
