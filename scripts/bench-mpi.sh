#!/usr/bin/env bash
# Data-parallel dual training and sharded sampling throughput on this host: 1 rank x 2 threads
# against 2 ranks x 1 thread (and 1 x 1 as the base), for the benchmark shapes of
# examples/bench.rs (d = 2 with widths 64-64, d = 16 with 256-256): training with paired batches
# of the same global batch, sampling the same sources split between the ranks. Repeats are
# interleaved so that the shared host's load falls on every configuration alike; each line
# records the load average before the run. Writes docs/results/scaling_mpi.json (JSON lines).
#   scripts/bench-mpi.sh [repeats] [iterations]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rel=${CARGO_TARGET_DIR:-$root/target}/release
repeats=${1:-3}
iters=${2:-300}
"$root/scripts/setup-tools.sh" mpi
mkdir -p "$rel/mpi"
exe="$rel/mpi/data_parallel"
mpicc -std=c11 -O2 -Wall -Wextra -Werror -I"$root/include" "$root/examples/mpi/data_parallel.c" \
  -L"$rel" -lscones -Wl,-rpath,"$rel" -lm -o "$exe"
flags=(--oversubscribe --bind-to none)
[ "$(id -u)" -ne 0 ] || flags+=(--allow-run-as-root)
export OMP_WAIT_POLICY=PASSIVE
out="$root/docs/results/scaling_mpi.json"
: >"$out"
for r in $(seq "$repeats"); do
  for shape in "2 64 250" "16 256 500"; do
    read -r d w m <<<"$shape"
    for cfg in "1 2" "2 1" "1 1"; do
      read -r ranks threads <<<"$cfg"
      load=$(cut -d' ' -f1 /proc/loadavg)
      line=$(mpirun "${flags[@]}" -np "$ranks" "$exe" bench "$threads" $((m / ranks)) "$iters" "$d" "$w")
      echo "${line%\}}, \"repeat\": $r, \"load_average_1min\": $load, \"host_cores\": $(nproc)}" | tee -a "$out"
    done
  done
done
# Sharded sampling (scones_sample_batch_at, no collective): each rank samples its range of the
# sources; untrained psi of the shape, the exact Gaussian score, no annealing.
for r in $(seq "$repeats"); do
  for shape in "2 64 2000 200" "16 256 1000 100"; do
    read -r d w n steps <<<"$shape"
    for cfg in "1 2" "2 1" "1 1"; do
      read -r ranks threads <<<"$cfg"
      load=$(cut -d' ' -f1 /proc/loadavg)
      line=$(mpirun "${flags[@]}" -np "$ranks" "$exe" bench-sample "$threads" "$n" 4 "$steps" "$d" "$w")
      echo "${line%\}}, \"repeat\": $r, \"load_average_1min\": $load, \"host_cores\": $(nproc)}" | tee -a "$out"
    done
  done
done
# The all-reduce alone, at the two shapes' buffer sizes (parameters + 14 floats): what a step
# pays for the exchange when no rank is late.
for floats in 8848 140816; do
  load=$(cut -d' ' -f1 /proc/loadavg)
  line=$(mpirun "${flags[@]}" -np 2 "$exe" allreduce "$floats" 2000)
  echo "${line%\}}, \"load_average_1min\": $load, \"host_cores\": $(nproc)}" | tee -a "$out"
done
