#!/usr/bin/env bash
# `make fuzz`: runs each cargo-fuzz target of fuzz/ for a bounded time (issue 9, item 2).
#
#   scripts/fuzz.sh [seconds-per-target] [target...]
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). The fuzz crate builds
# the library and torch-sys again, instrumented, under nightly in fuzz/target (several minutes
# the first time, at low priority). The loader corpora start from the seed model files in
# tests/fixtures/fuzz/seeds (written by the library), so mutations start past the header and
# checksum. A crash, panic, timeout or out-of-memory input is copied to
# tests/fixtures/fuzz/crashes/<target>/, where tests/fuzz_regressions.rs replays it in `cargo
# test`, and the script fails. Prints one line of statistics per target for docs/results/fuzz.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_PER_TARGET=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(dual_load score_load barycentric_load matrix_view)

command -v cargo-fuzz >/dev/null || { echo "fuzz: cargo-fuzz is missing: cargo install cargo-fuzz" >&2; exit 1; }
rustup toolchain list | grep -q '^nightly' || { echo "fuzz: the nightly toolchain is missing" >&2; exit 1; }
source scripts/env.sh
# The fuzz crate has its own target folder; a CARGO_TARGET_DIR from the caller would mix
# instrumented and plain builds.
unset CARGO_TARGET_DIR
# libtorch is not instrumented and keeps one-time allocations for the life of the process;
# leaks are memcheck's job (make test-sanitize). One intra-op thread keeps runs reproducible.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1}
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
# The fuzz binaries link libtorch without the rpath build.rs gives the cdylib.
export LD_LIBRARY_PATH="$LIBTORCH/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export SCONES_FUZZ_SCRATCH=$ROOT/fuzz/target/scratch
mkdir -p "$SCONES_FUZZ_SCRATCH"

nice -n 10 cargo +nightly fuzz build --release --debug-assertions 2>&1 | tail -5
failed=0
for t in "${TARGETS[@]}"; do
  corpus=fuzz/corpus/$t artifacts=fuzz/artifacts/$t
  mkdir -p "$corpus" "$artifacts"
  case $t in
    *_load) cp -n tests/fixtures/fuzz/seeds/*.safetensors "$corpus"/ ;;
  esac
  log=fuzz/target/$t.log
  start=$(date +%s)
  set +e
  nice -n 10 cargo +nightly fuzz run --release --debug-assertions "$t" "$corpus" -- \
    -max_total_time="$SECONDS_PER_TARGET" -max_len=4096 -timeout=10 -rss_limit_mb=4096 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1
  rc=$?
  set -e
  wall=$(($(date +%s) - start))
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
  found=$(find "$artifacts" -type f | wc -l)
  printf 'fuzz: %-17s %4ss (%ss wall) %9s execs %6s exec/s corpus %5s files, %s findings, exit %s\n' \
    "$t" "$SECONDS_PER_TARGET" "$wall" "${execs:-?}" "${rate:-?}" "$(find "$corpus" -type f | wc -l)" "$found" "$rc"
  if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
    failed=1
    mkdir -p "tests/fixtures/fuzz/crashes/$t"
    find "$artifacts" -type f -exec cp {} "tests/fixtures/fuzz/crashes/$t/" \;
    echo "fuzz: $t failed; its inputs are in tests/fixtures/fuzz/crashes/$t (log: $log)" >&2
    grep -m5 -A15 'panicked\|ERROR: AddressSanitizer\|ERROR: libFuzzer' "$log" >&2 || true
  fi
done
exit $failed
