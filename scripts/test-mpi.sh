#!/usr/bin/env bash
# make test-mpi: data-parallel training over real MPI (Open MPI from Debian, installed by
# scripts/setup-tools.sh mpi when mpicc is absent). examples/mpi/data_parallel.c is built with
# mpicc against the build tree's libscones.so (which links no MPI) and run on 2 ranks:
#   - the checks: 2 ranks with paired batches of 16 on their shards match 1 process on the
#     concatenated batches of 32 after 40 steps; duals, score network and barycentric map are
#     bit-identical on both ranks; the ranks sample disjoint ranges of 10 sources
#     (scones_sample_batch_at) whose union equals one process's samples bit for bit;
#   - coherent stops: a cancel (mid-run, and at the last report, which has no later iteration)
#     and a failing host sampler (dual training, score training's data probe and its loop) on one
#     rank end the call on both ranks with the right status. `timeout` bounds each run, so a rank
#     left waiting in a collective fails the test instead of hanging it.
# Each run takes 1-3 s on the busy 2-core host. As root, mpirun needs --allow-run-as-root;
# --oversubscribe lets 2 ranks share fewer cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rel=${CARGO_TARGET_DIR:-$root/target}/release
"$root/scripts/setup-tools.sh" mpi
mkdir -p "$rel/mpi"
exe="$rel/mpi/data_parallel"
mpicc -std=c11 -O2 -Wall -Wextra -Werror -I"$root/include" "$root/examples/mpi/data_parallel.c" \
  -L"$rel" -lscones -Wl,-rpath,"$rel" -lm -o "$exe"
flags=(--oversubscribe)
[ "$(id -u)" -ne 0 ] || flags+=(--allow-run-as-root)
export OMPI_MCA_rmaps_base_oversubscribe=1 OMP_WAIT_POLICY=PASSIVE
run() {
  echo "mpirun -np $1 data_parallel ${*:2}"
  timeout 120 mpirun "${flags[@]}" -np "$1" "$exe" "${@:2}"
}
run 2
run 1
run 2 cancel 0 10
run 2 cancel 1 40
run 2 fail 1 7
run 2 fail 0 0
run 2 fail-score 1 0
run 2 fail-score 0 12
echo "test-mpi: all runs passed"
