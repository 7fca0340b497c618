/* Data-parallel training over MPI through the library's collective hook (scones_collective):
 * the library never links MPI; this program hands it MPI_Allreduce.
 *
 *   mpirun -np 2 ./data_parallel                 trains duals, a score network and a barycentric
 *                                                map on two shards and checks them (below)
 *   mpirun -np 2 ./data_parallel cancel R K      rank R's progress callback cancels at iteration
 *                                                K: every rank must end with SCONES_STATUS_CANCELLED
 *   mpirun -np 2 ./data_parallel fail R K        rank R's host sampler fails at its call K: every
 *                                                rank must end with SCONES_STATUS_CALLBACK
 *   mpirun -np 2 ./data_parallel fail-score R K  the same during score training (call 0 is the
 *                                                data probe before the first iteration)
 *   mpirun -np P ./data_parallel bench T M I D W  I iterations of dual training, T threads per rank,
 *                                                paired batches of M per rank, d = D, widths W-W;
 *                                                rank 0 prints one JSON line
 *   mpirun -np P ./data_parallel allreduce N C   C all-reduces of N floats alone (one JSON line)
 *   mpirun -np P ./data_parallel bench-sample T N K S D W   sharded sampling of N sources x K
 *                                                samples, S Langevin steps, T threads per rank,
 *                                                d = D, psi widths W-W (one JSON line)
 *
 * The checks of the default mode:
 * (a) duals trained by P ranks with paired batches of m on their shards equal (to float
 *     rounding) duals trained by one process on the concatenated batches of P m. Both runs see
 *     the same pairs because the batches come from a host sampler that walks each shard in
 *     order, block after block, ignoring the seed: rank r's batch t is block t of shard r, and
 *     the single process's batch t is block t of every shard, concatenated. Paired batches make
 *     the mean of the ranks' gradients the gradient of the concatenated batch;
 * (b) every rank ends with bit-identical duals, score network and map (MPI_MAX == MPI_MIN over
 *     ranks of their outputs), since every rank applies the same Adam step to the same mean
 *     gradient;
 * (c) sharded sampling: the ranks sample disjoint ranges of the sources (scones_sample_batch_at
 *     with the global index of their first source) and the union equals, bit for bit, one
 *     process sampling every source in one call. */
#include <math.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scones.h"

#define D 2
#define SHARD 64   /* points per rank */
#define BLOCK 16   /* paired batch per rank */
#define ITERS 40
#define PROBE 32

static int g_rank = 0, g_size = 1, g_failures = 0;

#define CHECK(cond, ...)                                   \
  do {                                                     \
    if (!(cond)) {                                         \
      g_failures++;                                        \
      fprintf(stderr, "rank %d: FAIL line %d: ", g_rank, __LINE__); \
      fprintf(stderr, __VA_ARGS__);                        \
      fprintf(stderr, "\n");                               \
    }                                                      \
  } while (0)

/* Ends the program on an unexpected status. */
static void ok(scones_status st, scones_error *err, const char *what) {
  if (st != SCONES_STATUS_OK) {
    fprintf(stderr, "rank %d: %s failed: %s: %s\n", g_rank, what, scones_status_name(st), scones_error_message(err));
    scones_error_free(err);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
}

/* --- the collective: MPI_Allreduce in place, in chunks that fit MPI's int counts ----------- */
static double g_allreduce_seconds = 0; /* time inside MPI_Allreduce, waiting included */

static int32_t mpi_allreduce(void *user_data, float *buffer, size_t count) {
  MPI_Comm comm = *(MPI_Comm *)user_data;
  double t0 = MPI_Wtime();
  while (count > 0) {
    int n = count > (size_t)(1 << 30) ? (1 << 30) : (int)count;
    if (MPI_Allreduce(MPI_IN_PLACE, buffer, n, MPI_FLOAT, MPI_SUM, comm) != MPI_SUCCESS) return 1;
    buffer += n;
    count -= (size_t)n;
  }
  g_allreduce_seconds += MPI_Wtime() - t0;
  return 0;
}

static MPI_Comm g_comm;

static scones_collective world(void) {
  scones_collective c;
  memset(&c, 0, sizeof c);
  c.struct_size = sizeof c;
  c.rank = (size_t)g_rank;
  c.size = (size_t)g_size;
  c.allreduce_sum = mpi_allreduce;
  c.user_data = &g_comm;
  return c;
}

/* --- data: the same deterministic points on every rank; each rank uses its shard ----------- */
static uint64_t g_state;
static double uniform(void) {
  g_state ^= g_state << 13, g_state ^= g_state >> 7, g_state ^= g_state << 17;
  return ((g_state >> 11) + 0.5) / 9007199254740992.0;
}
static double normal(void) { return sqrt(-2 * log(uniform())) * cos(6.283185307179586 * uniform()); }

/* A shard walker: `count` shards of `rows` points starting at shard `first`; batch t is block t
 * of each of them, concatenated. Call `fail_at` (>= 0) returns an error. */
typedef struct {
  const double *points;
  size_t rows, first, count;
  long calls, fail_at;
} walker;

static int32_t walk(void *user_data, size_t m, size_t d, uint64_t seed, double *out) {
  walker *w = user_data;
  (void)seed;
  if (w->calls == w->fail_at) return -1;
  size_t block = m / w->count;
  for (size_t q = 0; q < w->count; q++)
    for (size_t i = 0; i < block; i++) {
      size_t row = ((size_t)w->calls * block + i) % w->rows;
      memcpy(out + (q * block + i) * d, w->points + ((w->first + q) * w->rows + row) * d, d * sizeof(double));
    }
  w->calls++;
  return 0;
}

static scones_measure *walker_measure(walker *w) {
  scones_measure *m = NULL;
  scones_error *err = NULL;
  ok(scones_measure_new_callback(D, walk, w, &m, &err), err, "scones_measure_new_callback");
  return m;
}

static scones_matrix view(const double *p, size_t rows, size_t cols) {
  scones_matrix v = {p, rows, cols, (ptrdiff_t)cols, 1, SCONES_DTYPE_F64};
  return v;
}
static scones_matrix_mut view_mut(double *p, size_t rows, size_t cols) {
  scones_matrix_mut v = {p, rows, cols, (ptrdiff_t)cols, 1, SCONES_DTYPE_F64};
  return v;
}

/* --- progress: each rank reports locally; `cancel_at` > 0 cancels there -------------------- */
typedef struct {
  uint64_t cancel_at;
  int verbose;
} progress_state;

static int32_t on_progress(void *user_data, const scones_progress *p) {
  progress_state *s = user_data;
  if (s->verbose && g_rank == 0)
    printf("  rank 0: iteration %llu/%llu objective %.5f\n", (unsigned long long)p->iteration,
           (unsigned long long)p->total, p->objective);
  return s->cancel_at > 0 && p->iteration >= s->cancel_at;
}

static scones_dual_options *dual_options(int collective, size_t batch, size_t iters, size_t width, size_t threads,
                                         progress_state *progress) {
  scones_dual_options *o = NULL;
  scones_error *err = NULL;
  size_t widths[2] = {width, width};
  ok(scones_dual_options_new(&o, &err), err, "options");
  ok(scones_dual_options_set_hidden(o, widths, 2, &err), err, "hidden");
  ok(scones_dual_options_set_batch(o, batch, SCONES_BATCH_PAIRED, &err), err, "batch");
  ok(scones_dual_options_set_iterations(o, iters, &err), err, "iterations");
  ok(scones_dual_options_set_seed(o, 5, &err), err, "seed");
  if (threads) ok(scones_dual_options_set_threads(o, threads, &err), err, "threads");
  if (progress) ok(scones_dual_options_set_progress(o, on_progress, progress, 5, &err), err, "progress");
  if (collective) {
    scones_collective c = world();
    ok(scones_dual_options_set_collective(o, &c, &err), err, "collective");
  }
  return o;
}

/* phi then psi on the probe points. */
static void potentials(const scones_dual *dual, const double *probe, double *out) {
  scones_error *err = NULL;
  scones_matrix p = view(probe, PROBE, D);
  scones_matrix_mut o1 = view_mut(out, PROBE, 1), o2 = view_mut(out + PROBE, PROBE, 1);
  ok(scones_dual_potential(dual, SCONES_POTENTIAL_PHI, &p, &o1, &err), err, "phi");
  ok(scones_dual_potential(dual, SCONES_POTENTIAL_PSI, &p, &o2, &err), err, "psi");
}

/* Whether `n` values are bit-identical on every rank. */
static int same_on_all_ranks(const double *v, int n) {
  double *hi = malloc(n * sizeof *hi), *lo = malloc(n * sizeof *lo);
  MPI_Allreduce(v, hi, n, MPI_DOUBLE, MPI_MAX, g_comm);
  MPI_Allreduce(v, lo, n, MPI_DOUBLE, MPI_MIN, g_comm);
  int same = memcmp(hi, lo, n * sizeof *hi) == 0;
  free(hi), free(lo);
  return same;
}

static double *make_data(size_t n, int target) {
  double *p = malloc(n * D * sizeof *p);
  g_state = target ? 0x5eed2 : 0x5eed1;
  for (size_t i = 0; i < n; i++) {
    double a = normal(), b = normal();
    p[i * D] = target ? 2 * a + 1 : a;
    p[i * D + 1] = target ? 0.5 * b - 1 + 0.3 * a : b;
  }
  return p;
}

/* (c) Sharded sampling: each rank samples its own range of N sources with
 * scones_sample_batch_at (global index of its first source) and a chain batch of its own; rank 0
 * gathers the ranges and compares them with one process sampling all N sources in one call (a
 * fresh sampler, another chain batch): the samples must be equal bit for bit (every rank runs
 * 1 thread; the ranks' duals and score networks are bit-identical, checked above). */
#define NSRC 10
#define KPER 3
static scones_sampler *make_sampler(const scones_dual *dual, const scones_score *score, size_t chain_batch) {
  scones_sampler_options *o = NULL;
  scones_sampler *s = NULL;
  scones_error *err = NULL;
  ok(scones_sampler_options_new(&o, &err), err, "sampler options");
  ok(scones_sampler_options_set_annealing(o, 1.0, 0.1, 3, 0, &err), err, "annealing");
  ok(scones_sampler_options_set_steps(o, 10, 0.01, &err), err, "steps");
  ok(scones_sampler_options_set_samples_per_source(o, KPER, &err), err, "K");
  ok(scones_sampler_options_set_chain_batch(o, chain_batch, &err), err, "chain batch");
  ok(scones_sampler_options_set_seed(o, 17, &err), err, "seed");
  ok(scones_sampler_options_set_threads(o, 1, &err), err, "threads");
  ok(scones_sampler_new(dual, score, o, &s, &err), err, "sampler");
  scones_sampler_options_free(o);
  return s;
}

static void check_sharded_sampling(const scones_dual *dual, const scones_score *score, const double *sources) {
  scones_error *err = NULL;
  size_t first = (size_t)g_rank * NSRC / (size_t)g_size, last = (size_t)(g_rank + 1) * NSRC / (size_t)g_size;
  size_t n = last - first;
  double *mine = malloc((n ? n : 1) * KPER * D * sizeof *mine);
  scones_sampler *s = make_sampler(dual, score, 2 + (size_t)g_rank);
  if (n > 0) {
    scones_matrix src = view(sources + first * D, n, D);
    scones_matrix_mut out = view_mut(mine, n * KPER, D);
    ok(scones_sample_batch_at(s, first, &src, &out, &err), err, "sharded sampling");
  }
  int *counts = malloc(g_size * sizeof *counts), *offsets = malloc(g_size * sizeof *offsets);
  for (int r = 0; r < g_size; r++) {
    size_t a = (size_t)r * NSRC / (size_t)g_size, b = (size_t)(r + 1) * NSRC / (size_t)g_size;
    counts[r] = (int)((b - a) * KPER * D);
    offsets[r] = (int)(a * KPER * D);
  }
  double gathered[NSRC * KPER * D], whole[NSRC * KPER * D];
  MPI_Gatherv(mine, (int)(n * KPER * D), MPI_DOUBLE, gathered, counts, offsets, MPI_DOUBLE, 0, g_comm);
  if (g_rank == 0) {
    scones_sampler *one = make_sampler(dual, score, 64);
    scones_matrix src = view(sources, NSRC, D);
    scones_matrix_mut out = view_mut(whole, NSRC * KPER, D);
    ok(scones_sample_batch(one, &src, &out, &err), err, "single-process sampling");
    int same = memcmp(gathered, whole, sizeof whole) == 0;
    CHECK(same, "%d ranks' sharded samples differ from one process's", g_size);
    printf("(c) sharded sampling: %d sources x %d samples from %d rank(s) %s the single call bit for bit\n", NSRC,
           KPER, g_size, same ? "equal" : "DIFFER from");
    scones_sampler_free(one);
  }
  scones_sampler_free(s);
  free(mine), free(counts), free(offsets);
}

static int check_mode(void) {
  size_t n = (size_t)g_size * SHARD;
  double *x = make_data(n, 0), *y = make_data(n, 1), probe[PROBE * D];
  for (int i = 0; i < PROBE * D; i++) probe[i] = 3 * (uniform() - 0.5);
  scones_error *err = NULL;

  /* (a) P ranks, paired batches of BLOCK on their shards ... */
  walker ws = {x, SHARD, (size_t)g_rank, 1, 0, -1}, wt = {y, SHARD, (size_t)g_rank, 1, 0, -1};
  scones_measure *ms = walker_measure(&ws), *mt = walker_measure(&wt);
  progress_state quiet = {0, 1};
  scones_dual_options *o = dual_options(1, BLOCK, ITERS, 32, 1, &quiet);
  scones_dual *dual = NULL;
  double t0 = MPI_Wtime();
  ok(scones_dual_train_measures(ms, mt, o, &dual, &err), err, "data-parallel dual training");
  double t_parallel = MPI_Wtime() - t0;
  double values[2 * PROBE];
  potentials(dual, probe, values);
  CHECK(same_on_all_ranks(values, 2 * PROBE), "the ranks' duals differ");

  /* ... against one process on the concatenated batches of P x BLOCK (every rank runs it). */
  walker all_s = {x, SHARD, 0, (size_t)g_size, 0, -1}, all_t = {y, SHARD, 0, (size_t)g_size, 0, -1};
  scones_measure *as = walker_measure(&all_s), *at = walker_measure(&all_t);
  scones_dual_options *alone = dual_options(0, (size_t)g_size * BLOCK, ITERS, 32, 1, NULL);
  scones_dual *ref = NULL;
  ok(scones_dual_train_measures(as, at, alone, &ref, &err), err, "single-process dual training");
  double expect[2 * PROBE], diff = 0, scale = 0;
  potentials(ref, probe, expect);
  for (int i = 0; i < 2 * PROBE; i++) {
    diff = fmax(diff, fabs(values[i] - expect[i]));
    scale = fmax(scale, fabs(expect[i]));
  }
  /* The runs differ only in the order of float32 sums (the ranks' partial gradients, then the
   * all-reduce): about 1e-7 relative per step. Adam divides each update by the gradient's own
   * scale, so such a difference moves a weight by about 1e-7 x the learning rate (1e-3) per
   * step: after 40 steps far below 1e-5 of the potentials' scale, while one step of training
   * moves them by about 1e-3 of it (checked below: the duals did train). */
  double initial[2 * PROBE];
  {
    scones_dual_options *none = dual_options(0, BLOCK, 0, 32, 1, NULL);
    scones_dual *init = NULL;
    walker s0 = ws, t0w = wt;
    scones_measure *m0 = walker_measure(&s0), *m1 = walker_measure(&t0w);
    ok(scones_dual_train_measures(m0, m1, none, &init, &err), err, "initial duals");
    potentials(init, probe, initial);
    scones_dual_free(init), scones_measure_free(m0), scones_measure_free(m1), scones_dual_options_free(none);
  }
  double moved = 0;
  for (int i = 0; i < 2 * PROBE; i++) moved = fmax(moved, fabs(expect[i] - initial[i]));
  CHECK(diff <= 1e-5 * scale, "%d ranks vs 1 process on the concatenated batches: max |difference| %.3e, scale %.3e",
        g_size, diff, scale);
  CHECK(moved > 100 * diff && moved > 1e-3 * scale, "training moved the potentials by only %.3e", moved);
  if (g_rank == 0)
    printf("(a) duals, %d rank(s) x paired batches of %d vs 1 process x %d, %d iterations: max |difference| %.2e "
           "(scale %.2e, training moved them %.2e); %.2f s\n",
           g_size, BLOCK, g_size * BLOCK, ITERS, diff, scale, moved, t_parallel);

  /* (b) a score network and a barycentric map, data-parallel: identical on every rank. */
  scones_train_options *to = NULL;
  size_t widths[2] = {32, 32};
  scones_collective c = world();
  ok(scones_train_options_new(&to, &err), err, "train options");
  ok(scones_train_options_set_hidden(to, widths, 2, &err), err, "hidden");
  ok(scones_train_options_set_batch_size(to, 32, &err), err, "batch");
  ok(scones_train_options_set_iterations(to, 30, &err), err, "iterations");
  ok(scones_train_options_set_collective(to, &c, &err), err, "collective");
  walker wy = {y, SHARD, (size_t)g_rank, 1, 0, -1};
  scones_measure *my = walker_measure(&wy);
  scones_score *score = NULL;
  ok(scones_score_train(my, to, &score, &err), err, "data-parallel score training");
  double s[PROBE * D];
  scones_matrix p = view(probe, PROBE, D);
  scones_matrix_mut so = view_mut(s, PROBE, D);
  ok(scones_score_eval(score, &p, 0.5, &so, &err), err, "score eval");
  CHECK(same_on_all_ranks(s, PROBE * D), "the ranks' score networks differ");
  int finite = 1;
  for (int i = 0; i < PROBE * D; i++) finite &= isfinite(s[i]);
  CHECK(finite, "the score network gave a non-finite score");

  scones_barycentric *map = NULL;
  ws.calls = wt.calls = 0;
  ok(scones_barycentric_train(dual, ms, mt, to, &map, &err), err, "data-parallel barycentric training");
  double t[PROBE * D];
  scones_matrix_mut mo = view_mut(t, PROBE, D);
  ok(scones_barycentric_map(map, &p, &mo, &err), err, "map");
  CHECK(same_on_all_ranks(t, PROBE * D), "the ranks' barycentric maps differ");
  if (g_rank == 0) printf("(b) score network and barycentric map: identical on all %d rank(s)\n", g_size);

  check_sharded_sampling(dual, score, probe);

  scones_barycentric_free(map), scones_score_free(score), scones_measure_free(my);
  scones_train_options_free(to), scones_dual_free(ref), scones_dual_free(dual);
  scones_dual_options_free(alone), scones_dual_options_free(o);
  scones_measure_free(as), scones_measure_free(at), scones_measure_free(ms), scones_measure_free(mt);
  free(x), free(y);
  return g_failures != 0;
}

/* One rank stops (cancel or a failing sampler); every rank must end with `want`, promptly. */
static int stop_mode(const char *mode, int who, long at) {
  size_t n = (size_t)g_size * SHARD;
  double *x = make_data(n, 0), *y = make_data(n, 1);
  int cancel = strcmp(mode, "cancel") == 0, score = strcmp(mode, "fail-score") == 0;
  walker ws = {x, SHARD, (size_t)g_rank, 1, 0, -1}, wt = {y, SHARD, (size_t)g_rank, 1, 0, -1};
  if (!cancel && g_rank == who) (score ? &wt : &ws)->fail_at = at;
  scones_measure *ms = walker_measure(&ws), *mt = walker_measure(&wt);
  progress_state ps = {cancel && g_rank == who ? (uint64_t)at : 0, 0};
  scones_status want = cancel ? SCONES_STATUS_CANCELLED : SCONES_STATUS_CALLBACK, st;
  scones_error *err = NULL;
  double t0 = MPI_Wtime();
  if (score) {
    scones_train_options *to = NULL;
    scones_collective c = world();
    size_t widths[1] = {16};
    ok(scones_train_options_new(&to, &err), err, "train options");
    ok(scones_train_options_set_hidden(to, widths, 1, &err), err, "hidden");
    ok(scones_train_options_set_batch_size(to, 16, &err), err, "batch");
    ok(scones_train_options_set_iterations(to, ITERS, &err), err, "iterations");
    ok(scones_train_options_set_collective(to, &c, &err), err, "collective");
    scones_score *out = NULL;
    st = scones_score_train(mt, to, &out, &err);
    scones_score_free(out);
    scones_train_options_free(to);
  } else {
    scones_dual_options *o = dual_options(1, BLOCK, ITERS, 16, 1, &ps);
    scones_dual *out = NULL;
    st = scones_dual_train_measures(ms, mt, o, &out, &err);
    scones_dual_free(out);
    scones_dual_options_free(o);
  }
  printf("rank %d: %s after %.2f s: %s\n", g_rank, scones_status_name(st), MPI_Wtime() - t0,
         st ? scones_error_message(err) : "");
  fflush(stdout);
  CHECK(st == want, "%s on rank %d at %ld: got %s, expected %s", mode, who, at, scones_status_name(st),
        scones_status_name(want));
  scones_error_free(err);
  scones_measure_free(ms), scones_measure_free(mt);
  free(x), free(y);
  return g_failures != 0;
}

/* Throughput of data-parallel dual training: paired batches of m per rank. */
static int32_t gaussian(void *user_data, size_t m, size_t d, uint64_t seed, double *out) {
  (void)user_data;
  g_state = seed | 1;
  for (size_t i = 0; i < m * d; i++) out[i] = normal();
  return 0;
}

static int bench_mode(size_t threads, size_t m, size_t iters, size_t d, size_t width) {
  scones_error *err = NULL;
  scones_measure *ms = NULL, *mt = NULL;
  ok(scones_measure_new_callback(d, gaussian, NULL, &ms, &err), err, "measure");
  ok(scones_measure_new_callback(d, gaussian, NULL, &mt, &err), err, "measure");
  scones_dual_options *o = dual_options(1, m, iters, width, threads, NULL);
  scones_dual *dual = NULL;
  MPI_Barrier(g_comm);
  double t0 = MPI_Wtime();
  ok(scones_dual_train_measures(ms, mt, o, &dual, &err), err, "bench training");
  double local = MPI_Wtime() - t0, seconds, in_allreduce;
  MPI_Allreduce(&local, &seconds, 1, MPI_DOUBLE, MPI_MAX, g_comm);
  MPI_Allreduce(&g_allreduce_seconds, &in_allreduce, 1, MPI_DOUBLE, MPI_MAX, g_comm);
  size_t params = 2 * ((d + 1) * width + (width + 1) * width + width + 1);
  if (g_rank == 0)
    printf("{\"bench\": \"dual_training_data_parallel\", \"ranks\": %d, \"threads_per_rank\": %zu, \"d\": %zu, "
           "\"width\": %zu, \"depth\": 2, \"batch_mode\": \"paired\", \"batch_per_rank\": %zu, \"global_batch\": %zu, "
           "\"iterations\": %zu, \"seconds\": %.3f, \"iterations_per_second\": %.1f, \"samples_per_second\": %.0f, "
           "\"parameters\": %zu, \"allreduce_bytes_per_step\": %zu, \"allreduce_seconds_max_rank\": %.3f}\n",
           g_size, threads, d, width, m, m * (size_t)g_size, iters, seconds, iters / seconds,
           iters * m * (double)g_size / seconds, params, (params + 4 + 10) * 4, in_allreduce);
  scones_dual_free(dual), scones_dual_options_free(o), scones_measure_free(ms), scones_measure_free(mt);
  return 0;
}

/* Throughput of sharded sampling: each rank samples its range of n sources (K samples each,
 * `steps` unannealed Langevin steps) with scones_sample_batch_at; no collective is involved. */
static int bench_sample_mode(size_t threads, size_t n, size_t k, size_t steps, size_t d, size_t width) {
  scones_error *err = NULL;
  scones_dual_options *o = dual_options(0, 8, 0, width, threads, NULL);
  double *pts = calloc(8 * d, sizeof *pts), *mean = calloc(d, sizeof *mean), *cov = calloc(d * d, sizeof *cov);
  for (size_t i = 0; i < d; i++) cov[i * d + i] = 1;
  scones_matrix pv = view(pts, 8, d), mv = view(mean, 1, d), cv = view(cov, d, d);
  scones_dual *dual = NULL;
  scones_score *score = NULL;
  ok(scones_dual_train(&pv, &pv, o, &dual, &err), err, "untrained dual");
  ok(scones_score_new_gaussian(&mv, &cv, &score, &err), err, "gaussian score");
  scones_sampler_options *so = NULL;
  scones_sampler *s = NULL;
  ok(scones_sampler_options_new(&so, &err), err, "sampler options");
  ok(scones_sampler_options_set_annealing(so, 1.0, 1.0, 0, 0, &err), err, "no annealing");
  ok(scones_sampler_options_set_steps(so, steps, 0.01, &err), err, "steps");
  ok(scones_sampler_options_set_samples_per_source(so, k, &err), err, "K");
  ok(scones_sampler_options_set_threads(so, threads, &err), err, "threads");
  ok(scones_sampler_new(dual, score, so, &s, &err), err, "sampler");
  size_t first = (size_t)g_rank * n / (size_t)g_size, rows = (size_t)(g_rank + 1) * n / (size_t)g_size - first;
  double *src = calloc(rows * d, sizeof *src), *out = malloc(rows * k * d * sizeof *out);
  g_state = 99 + first;
  for (size_t i = 0; i < rows * d; i++) src[i] = normal();
  scones_matrix sv = view(src, rows, d);
  scones_matrix_mut ov = view_mut(out, rows * k, d);
  MPI_Barrier(g_comm);
  double t0 = MPI_Wtime();
  ok(scones_sample_batch_at(s, first, &sv, &ov, &err), err, "sampling");
  double local = MPI_Wtime() - t0, seconds;
  MPI_Allreduce(&local, &seconds, 1, MPI_DOUBLE, MPI_MAX, g_comm);
  if (g_rank == 0)
    printf("{\"bench\": \"sharded_sampling\", \"ranks\": %d, \"threads_per_rank\": %zu, \"d\": %zu, "
           "\"psi_width\": %zu, \"psi_depth\": 2, \"sources\": %zu, \"samples_per_source\": %zu, \"steps\": %zu, "
           "\"seconds\": %.3f, \"chain_steps_per_second\": %.4e}\n",
           g_size, threads, d, width, n, k, steps, seconds, n * k * (double)steps / seconds);
  scones_sampler_free(s), scones_sampler_options_free(so), scones_score_free(score), scones_dual_free(dual);
  scones_dual_options_free(o);
  free(pts), free(mean), free(cov), free(src), free(out);
  return 0;
}

/* The all-reduce alone: `calls` in-place sums of `count` floats, no training between them. */
static int allreduce_mode(size_t count, int calls) {
  float *buf = calloc(count, sizeof *buf);
  MPI_Barrier(g_comm);
  double t0 = MPI_Wtime();
  for (int i = 0; i < calls; i++) mpi_allreduce(&g_comm, buf, count);
  double local = (MPI_Wtime() - t0) / calls, per_call;
  MPI_Allreduce(&local, &per_call, 1, MPI_DOUBLE, MPI_MAX, g_comm);
  if (g_rank == 0)
    printf("{\"bench\": \"mpi_allreduce\", \"ranks\": %d, \"floats\": %zu, \"bytes\": %zu, \"calls\": %d, "
           "\"seconds_per_call\": %.3e, \"bytes_per_second\": %.3e}\n",
           g_size, count, count * 4, calls, per_call, count * 4 / per_call);
  free(buf);
  return 0;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_dup(MPI_COMM_WORLD, &g_comm);
  MPI_Comm_rank(g_comm, &g_rank);
  MPI_Comm_size(g_comm, &g_size);
  g_state = 0x1234 + (uint64_t)g_rank;
  int rc;
  if (argc >= 4 && (!strcmp(argv[1], "cancel") || !strcmp(argv[1], "fail") || !strcmp(argv[1], "fail-score")))
    rc = stop_mode(argv[1], atoi(argv[2]), atol(argv[3]));
  else if (argc >= 7 && !strcmp(argv[1], "bench"))
    rc = bench_mode(strtoul(argv[2], 0, 10), strtoul(argv[3], 0, 10), strtoul(argv[4], 0, 10),
                    strtoul(argv[5], 0, 10), strtoul(argv[6], 0, 10));
  else if (argc >= 8 && !strcmp(argv[1], "bench-sample"))
    rc = bench_sample_mode(strtoul(argv[2], 0, 10), strtoul(argv[3], 0, 10), strtoul(argv[4], 0, 10),
                           strtoul(argv[5], 0, 10), strtoul(argv[6], 0, 10), strtoul(argv[7], 0, 10));
  else if (argc >= 4 && !strcmp(argv[1], "allreduce"))
    rc = allreduce_mode(strtoul(argv[2], 0, 10), atoi(argv[3]));
  else if (argc == 1)
    rc = check_mode();
  else {
    if (g_rank == 0) fprintf(stderr, "usage: see the comment at the top of data_parallel.c\n");
    rc = 2;
  }
  int any = 0;
  MPI_Allreduce(&rc, &any, 1, MPI_INT, MPI_MAX, g_comm);
  if (g_rank == 0 && argc == 1) printf(any ? "data_parallel: FAILED\n" : "data_parallel: all checks passed\n");
  MPI_Comm_free(&g_comm);
  MPI_Finalize();
  return rc;
}
