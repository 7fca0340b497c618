#!/usr/bin/env bash
# `make test-sanitize` (issue 9, items 1 and 6): the C ABI under valgrind, plus native checks.
#
#   scripts/sanitize.sh [memcheck-cycles]
#
# 1. native: 200 create/train/sample/save/load/free cycles over every handle kind, then 10,000
#    sampling calls on one sampler; RSS printed at start, middle and end, and the run fails
#    when it grows by more than RSS_BOUND_KIB after warm-up (tests/c/cycles.c);
# 2. native: a cancel from the progress callback stops training within one iteration and
#    sampling within one step (tests/c/cancel.c);
# 3. memcheck: the same cycles (as many as fit the ~6 minute budget: default 60; the 200
#    native cycles of step 1 run the same code) with
#    --error-exitcode, so any invalid read or write, use of uninitialised memory or definite
#    leak fails the target; scripts/valgrind.supp holds the only suppressions, for libtorch's
#    and OpenMP's one-time allocations;
# 4. helgrind: 8 threads with their own handles and 8 threads sharing one sampler
#    (tests/c/threads.c); reports whose stack lies wholly in libtorch / OpenMP / the C
#    library are suppressed (scripts/helgrind.supp, each entry says why), any other fails.
# ASan would need nightly -Zsanitizer and a rebuilt std for the Rust cdylib, and TSan an
# instrumented libtorch: valgrind checks the shipped library as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
REL=target/release
OUT=$REL/sanitize
MEMCHECK_CYCLES=${1:-${MEMCHECK_CYCLES:-60}}
NATIVE_CYCLES=200
SAMPLING_CALLS=10000
RSS_BOUND_KIB=${RSS_BOUND_KIB:-4096}
mkdir -p "$OUT"
# Sleeping OpenMP waiters (see the Makefile); one intra-op thread under valgrind, which
# serializes all threads anyway and would only add OpenMP's pool to every check.
export OMP_WAIT_POLICY=PASSIVE

cc_test() {
  ${CC:-cc} -std=c11 -O1 -g -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -Iinclude "tests/c/$1.c" \
    -L$REL -lscones -Wl,-rpath,"$PWD/$REL" -pthread -lm -o "$OUT/$1"
}
command -v valgrind >/dev/null || { echo "sanitize: valgrind is missing (apt-get install valgrind)" >&2; exit 1; }
for p in cycles cancel threads; do cc_test $p; done

t0=$(date +%s)
part() { echo "sanitize: $1: $(($(date +%s) - t0)) s"; t0=$(date +%s); }

"$OUT/cycles" "$OUT" $NATIVE_CYCLES $SAMPLING_CALLS $RSS_BOUND_KIB
part "native $NATIVE_CYCLES cycles + $SAMPLING_CALLS sampling calls"
"$OUT/cancel"
part "native cancellation"

VG=(valgrind --error-exitcode=99 --num-callers=40 --read-inline-info=no)
OMP_NUM_THREADS=1 "${VG[@]}" --tool=memcheck --leak-check=full --show-leak-kinds=definite \
  --errors-for-leak-kinds=definite --track-origins=no --suppressions=scripts/valgrind.supp \
  --log-file="$OUT/memcheck.log" "$OUT/cycles" "$OUT" "$MEMCHECK_CYCLES" 0 65536 ||
  { tail -n 80 "$OUT/memcheck.log" >&2; echo "sanitize: memcheck failed (full log: $OUT/memcheck.log)" >&2; exit 1; }
grep -E 'ERROR SUMMARY|definitely lost' "$OUT/memcheck.log"
part "memcheck, $MEMCHECK_CYCLES cycles"

OMP_NUM_THREADS=1 "${VG[@]}" --tool=helgrind --suppressions=scripts/helgrind.supp \
  --log-file="$OUT/helgrind.log" "$OUT/threads" "$OUT" ||
  { tail -n 120 "$OUT/helgrind.log" >&2; echo "sanitize: helgrind failed (full log: $OUT/helgrind.log)" >&2; exit 1; }
grep -E 'ERROR SUMMARY' "$OUT/helgrind.log"
part "helgrind, 2 x 8 threads"
echo "sanitize: all passed"
