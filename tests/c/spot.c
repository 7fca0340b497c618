/*
 * SPOT through the C ABI (ABI 0.3): a plan trained between N((-2.5, 0), I) and N((2.5, 0), I)
 * under c = |x - y| (W1 = 5, a translation is optimal), its paired samples in f32 and f64 views
 * of any strides, its cost estimate, report, progress and cancellation, save / load, three
 * marginals with a host sampler, the presets, entropy regularisation, and where
 * SCONES_COST_EUCLIDEAN is accepted (discrete solvers, dual training) and refused (the Langevin
 * sampler).
 *
 *   spot <scratch-dir>
 */
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common.h"

enum { N = 4000, D = 2, ITERS = 300, EVERY = 50, NS = 500, NE = 10000 };

struct progress_log {
  int calls, wrong_phase, bad_values, cancel_at;
  uint64_t last_iteration, total;
};

static int32_t on_progress(void *user, const scones_progress *p) {
  struct progress_log *s = (struct progress_log *)user;
  s->calls++;
  if (p->phase != SCONES_PHASE_SPOT_TRAINING) s->wrong_phase++;
  const int has_gap = p->struct_size >= offsetof(scones_progress, marginal_error) + sizeof(double);
  if (!isfinite(p->objective) || !has_gap || !isfinite(p->marginal_error) || p->iteration > p->total) s->bad_values++;
  s->last_iteration = p->iteration, s->total = p->total;
  return s->cancel_at > 0 && s->calls >= s->cancel_at;
}

/* A host sampler of N((0, 3), 0.25 I) drawn from the library's seed (Box-Muller on an LCG). */
struct sim {
  int calls;
};

static int32_t sim_sample(void *user, size_t m, size_t d, uint64_t seed, double *out) {
  ((struct sim *)user)->calls++;
  uint64_t state = seed;
  for (size_t i = 0; i < m * d; i++) {
    double u[2];
    for (int k = 0; k < 2; k++) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      u[k] = ((state >> 11) + 0.5) / 9007199254740992.0;
    }
    out[i] = (i % d == 1 ? 3.0 : 0.0) + 0.5 * sqrt(-2.0 * log(u[0])) * cos(6.283185307179586 * u[1]);
  }
  return 0;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void gaussian_points(double *out, double mx, uint64_t seed) {
  double mean[2] = {mx, 0.0}, cov[4] = {1, 0, 0, 1};
  scones_matrix m = scones_matrix_f64(mean, 1, 2), c = scones_matrix_f64(cov, 2, 2);
  scones_matrix_mut o = scones_matrix_mut_f64(out, N, D);
  EXPECT_OK(scones_gaussian_sample(&m, &c, N, seed, &o, &err));
}

static scones_spot_options *small_options(scones_cost cost, size_t width, size_t iterations) {
  scones_spot_options *o = NULL;
  size_t w[2] = {width, width};
  EXPECT_OK(scones_spot_options_new(&o, &err));
  EXPECT_OK(scones_spot_options_set_cost(o, cost, &err));
  EXPECT_OK(scones_spot_options_set_hidden(o, w, 2, w, 2, &err));
  EXPECT_OK(scones_spot_options_set_batch(o, 256, iterations, &err));
  return o;
}

/* n paired rows of a two-marginal plan into row-major f64 buffers. */
static void sample2(const scones_spot *s, uint64_t seed, double *a, double *b, size_t n) {
  scones_matrix_mut outs[2] = {scones_matrix_mut_f64(a, n, D), scones_matrix_mut_f64(b, n, D)};
  EXPECT_OK(scones_spot_sample(s, seed, outs, 2, &err));
}

static double row_distance(const double *a, const double *b, size_t i) {
  return hypot(a[i * D] - b[i * D], a[i * D + 1] - b[i * D + 1]);
}

/* Samples, dims, cost estimate and report of the plan trained in main. */
static void check_plan(const scones_spot *plan, const struct progress_log *log) {
  EXPECT(log->calls == ITERS / EVERY && log->wrong_phase == 0 && log->bad_values == 0 &&
             log->last_iteration == ITERS && log->total == ITERS,
         "progress: %d calls (%d under another phase, %d with bad values), last %llu of %llu", log->calls,
         log->wrong_phase, log->bad_values, (unsigned long long)log->last_iteration,
         (unsigned long long)log->total);

  size_t count = 0, dims[4] = {77, 77, 77, 77};
  EXPECT_OK(scones_spot_dims(plan, NULL, 0, &count, &err));
  EXPECT(count == 2, "count %zu", count);
  EXPECT_OK(scones_spot_dims(plan, dims, 1, &count, &err));
  EXPECT(dims[0] == 2 && dims[1] == 77, "capacity 1 wrote dims {%zu, %zu}", dims[0], dims[1]);
  EXPECT_OK(scones_spot_dims(plan, dims, 4, &count, &err));
  EXPECT(count == 2 && dims[0] == 2 && dims[1] == 2 && dims[2] == 77, "dims {%zu, %zu, %zu}", dims[0], dims[1],
         dims[2]);

  /* The same seed gives the same bytes; another seed other rows. */
  static double a[NS * D], b[NS * D], a2[NS * D], b2[NS * D];
  sample2(plan, 11, a, b, NS);
  sample2(plan, 11, a2, b2, NS);
  EXPECT(memcmp(a, a2, sizeof a) == 0 && memcmp(b, b2, sizeof b) == 0, "seed 11 twice gave different samples");
  sample2(plan, 12, a2, b2, NS);
  EXPECT(memcmp(a, a2, sizeof a) != 0, "seeds 11 and 12 gave the same samples");

  /* f32 column-major for the first marginal, f64 with a padding column for the second: the same
     values (the library computes in float32, so f32 is exact and f64 is the float widened). */
  static float fa[NS * D];
  static double pb[NS * 3];
  for (size_t i = 0; i < NS * 3; i++) pb[i] = 12345.0;
  scones_matrix_mut strided[2] = {{fa, NS, D, 1, NS, SCONES_DTYPE_F32}, {pb, NS, D, 3, 1, SCONES_DTYPE_F64}};
  EXPECT_OK(scones_spot_sample(plan, 11, strided, 2, &err));
  int same = 1, pad = 1;
  for (size_t i = 0; i < NS; i++) {
    for (size_t k = 0; k < D; k++) same &= (double)fa[k * NS + i] == a[i * D + k] && pb[i * 3 + k] == b[i * D + k];
    pad &= pb[i * 3 + 2] == 12345.0;
  }
  EXPECT(same && pad, "strided f32 / f64 views: same values %d, padding untouched %d", same, pad);
  /* Views of different rows, or a count other than the plan's, write nothing. */
  scones_matrix_mut uneven[2] = {scones_matrix_mut_f64(a2, NS, D), scones_matrix_mut_f64(b2, NS - 1, D)};
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_spot_sample(plan, 11, uneven, 2, &err));
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_spot_sample(plan, 11, uneven, 3, &err));

  /* The cost estimate: W1 = 5. Its standard error at NE draws is ~0.01; the tolerance on the
     estimate is the training error 300 iterations leave (the doc example of api::Spot), not the
     sampling error. */
  double est = NAN, se = NAN, est2 = NAN, se2 = NAN;
  EXPECT_OK(scones_spot_cost_estimate(plan, NE, 3, &est, &se, &err));
  EXPECT(isfinite(est) && se > 0 && se < 0.1 && fabs(est - 5.0) < 1.0, "W1 estimate %.4f +- %.4f, expected 5", est, se);
  EXPECT_OK(scones_spot_cost_estimate(plan, NE, 3, &est2, &se2, &err));
  EXPECT(est == est2 && se == se2, "cost estimate not reproducible: %.17g vs %.17g", est, est2);
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_spot_cost_estimate(plan, 1, 3, &est, &se, &err));
  printf("W1 estimate %.4f +- %.4f (exact 5)\n", est, se);

  /* Paired rows: the mean of |x_i - y_i| over the rows of a sample is the library's estimate
     from the same (n, seed), up to float32 rounding of each row's cost (~1e-7 relative). Rows
     taken out of pairing (x_i, y_{i+1}) miss that 1e-4 tolerance by far (W1's couplings are not
     unique, so an unpaired mean need not be larger, only different). */
  static double ea[NE * D], eb[NE * D];
  sample2(plan, 3, ea, eb, NE);
  double sum = 0, sq = 0, shifted = 0;
  for (size_t i = 0; i < NE; i++) {
    double c = row_distance(ea, eb, i);
    sum += c, sq += c * c;
    shifted += hypot(ea[i * D] - eb[((i + 1) % NE) * D], ea[i * D + 1] - eb[((i + 1) % NE) * D + 1]);
  }
  double mean = sum / NE, sd = sqrt((sq - NE * mean * mean) / (NE - 1));
  EXPECT(fabs(mean - est) < 1e-4 && fabs(sd / sqrt((double)NE) - se) < 1e-5,
         "rows' mean cost %.6f +- %.6f vs the library's %.6f +- %.6f", mean, sd / sqrt((double)NE), est, se);
  EXPECT(fabs(shifted / NE - est) > 1e-3, "unpaired rows' mean %.6f matches the estimate %.6f", shifted / NE, est);

  /* Report: whole struct, a 0.x-style shorter struct (only the fields that fit), struct_size 0. */
  struct {
    scones_spot_report r;
    unsigned char guard[16];
  } rep;
  memset(&rep, 0xAB, sizeof rep);
  rep.r.struct_size = sizeof rep.r;
  EXPECT_OK(scones_spot_train_report(plan, &rep.r, &err));
  EXPECT(rep.r.struct_size == sizeof rep.r && rep.r.iterations == ITERS && isfinite(rep.r.cost) &&
             isfinite(rep.r.marginal_gap) && rep.r.seconds > 0 && rep.r.iterations_per_second > 0,
         "report: %llu iterations, cost %g, gap %g, %g s, %g it/s", (unsigned long long)rep.r.iterations, rep.r.cost,
         rep.r.marginal_gap, rep.r.seconds, rep.r.iterations_per_second);
  int guard = 1;
  for (size_t i = 0; i < sizeof rep.guard; i++) guard &= rep.guard[i] == 0xAB;
  EXPECT(guard, "the report wrote past its struct");
  printf("training: %.2f s, %.0f iterations/s, batch cost %.3f, critics' gap %.4f\n", rep.r.seconds,
         rep.r.iterations_per_second, rep.r.cost, rep.r.marginal_gap);
  memset(&rep, 0xAB, sizeof rep);
  rep.r.struct_size = offsetof(scones_spot_report, cost);
  EXPECT_OK(scones_spot_train_report(plan, &rep.r, &err));
  const unsigned char *tail = (const unsigned char *)&rep.r + offsetof(scones_spot_report, cost);
  int untouched = 1;
  for (size_t i = 0; i < sizeof rep.r - offsetof(scones_spot_report, cost); i++) untouched &= tail[i] == 0xAB;
  EXPECT(rep.r.iterations == ITERS && untouched, "short report: iterations %llu, fields past struct_size untouched %d",
         (unsigned long long)rep.r.iterations, untouched);
  rep.r.struct_size = 0;
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_spot_train_report(plan, &rep.r, &err));
}

/* Save, load (the same samples, no report), and model kinds that do not mix. */
static void check_files(const scones_spot *plan, const scones_dual *dual, const char *dir) {
  char spot_path[600], dual_path[600];
  snprintf(spot_path, sizeof spot_path, "%s/plan.scones", dir);
  snprintf(dual_path, sizeof dual_path, "%s/dual.scones", dir);
  EXPECT_OK(scones_spot_save(plan, spot_path, &err));
  EXPECT_OK(scones_dual_save(dual, dual_path, &err));
  scones_spot *loaded = NULL, *on_cpu = NULL;
  EXPECT_OK(scones_spot_load(spot_path, NULL, &loaded, &err));
  EXPECT_OK(scones_spot_load(spot_path, "cpu", &on_cpu, &err));
  static double a[NS * D], b[NS * D], la[NS * D], lb[NS * D];
  sample2(plan, 11, a, b, NS);
  sample2(loaded, 11, la, lb, NS);
  EXPECT(memcmp(a, la, sizeof a) == 0 && memcmp(b, lb, sizeof b) == 0, "the loaded plan samples differently");
  sample2(on_cpu, 11, la, lb, NS);
  EXPECT(memcmp(a, la, sizeof a) == 0 && memcmp(b, lb, sizeof b) == 0, "the plan loaded on \"cpu\" differs");
  double e1 = NAN, s1 = NAN, e2 = NAN, s2 = NAN;
  EXPECT_OK(scones_spot_cost_estimate(plan, 2000, 5, &e1, &s1, &err));
  EXPECT_OK(scones_spot_cost_estimate(loaded, 2000, 5, &e2, &s2, &err));
  EXPECT(e1 == e2 && s1 == s2, "loaded cost estimate %.17g vs %.17g", e2, e1);
  scones_spot_report r;
  r.struct_size = sizeof r;
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_spot_train_report(loaded, &r, &err));
  scones_spot_free(loaded);
  scones_spot_free(on_cpu);

  scones_spot *wrong = (scones_spot *)0x1;
  EXPECT_STATUS(SCONES_STATUS_FORMAT, scones_spot_load(dual_path, NULL, &wrong, &err));
  EXPECT(wrong == (scones_spot *)0x1, "a failed load wrote its output");
  scones_dual *wrong_dual = NULL;
  EXPECT_STATUS(SCONES_STATUS_FORMAT, scones_dual_load(spot_path, NULL, &wrong_dual, &err));
  char missing[620];
  snprintf(missing, sizeof missing, "%s/none.scones", dir);
  EXPECT_STATUS(SCONES_STATUS_IO, scones_spot_load(missing, NULL, &wrong, &err));
}

/* A cancel from the progress callback stops training with CANCELLED and no plan. */
static void check_cancel(const scones_matrix *x, const scones_matrix *y) {
  scones_spot_options *o = small_options(SCONES_COST_EUCLIDEAN, 16, ITERS);
  struct progress_log log = {0, 0, 0, 2, 0, 0};
  EXPECT_OK(scones_spot_options_set_progress(o, on_progress, &log, 10, &err));
  scones_spot *s = NULL;
  EXPECT_STATUS(SCONES_STATUS_CANCELLED, scones_spot_train(x, y, o, &s, &err));
  EXPECT(s == NULL && log.calls == 2 && log.last_iteration == 20 && log.wrong_phase == 0,
         "cancel at the 2nd report: plan %p, %d reports, last at iteration %llu", (void *)s, log.calls,
         (unsigned long long)log.last_iteration);
  /* Removing the callback (NULL) lets the same options train. */
  EXPECT_OK(scones_spot_options_set_progress(o, NULL, NULL, 10, &err));
  EXPECT_OK(scones_spot_options_set_batch(o, 64, 3, &err));
  EXPECT_OK(scones_spot_train(x, y, o, &s, &err));
  EXPECT(log.calls == 2, "a removed callback was called");
  scones_spot_free(s);
  scones_spot_options_free(o);
}

/* Three marginals: two point sets and a host sampler; paired rows in three views. */
static void check_three_marginals(const scones_matrix *x, const scones_matrix *y) {
  struct sim sim = {0};
  scones_measure *mx = NULL, *my = NULL, *mc = NULL, *m3 = NULL;
  EXPECT_OK(scones_measure_new_points(x, &mx, &err));
  EXPECT_OK(scones_measure_new_points(y, &my, &err));
  EXPECT_OK(scones_measure_new_callback(D, sim_sample, &sim, &mc, &err));
  scones_spot_options *o = small_options(SCONES_COST_SQEUCLIDEAN, 8, 20);
  const scones_measure *ms[3] = {mx, my, mc};
  scones_spot *s = NULL;
  EXPECT_OK(scones_spot_train_measures(ms, 3, o, &s, &err));
  EXPECT(sim.calls >= 20, "the host sampler was called %d times in 20 iterations", sim.calls);
  size_t count = 0, dims[3] = {0, 0, 0};
  EXPECT_OK(scones_spot_dims(s, dims, 3, &count, &err));
  EXPECT(count == 3 && dims[0] == 2 && dims[1] == 2 && dims[2] == 2, "three marginals: %zu {%zu, %zu, %zu}", count,
         dims[0], dims[1], dims[2]);
  static double p[3][64 * D];
  scones_matrix_mut outs[3] = {scones_matrix_mut_f64(p[0], 64, D), scones_matrix_mut_f64(p[1], 64, D),
                               scones_matrix_mut_f64(p[2], 64, D)};
  EXPECT_OK(scones_spot_sample(s, 1, outs, 3, &err));
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_spot_sample(s, 1, outs, 2, &err));
  double est = NAN, se = NAN;
  EXPECT_OK(scones_spot_cost_estimate(s, 1000, 1, &est, &se, &err));
  EXPECT(isfinite(est) && est > 0 && se > 0, "three-marginal cost %g +- %g", est, se);
  scones_spot_free(s);
  /* One marginal is no plan; a measure of another dimension does not pair under |x - y|^2. */
  s = NULL;
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_spot_train_measures(ms, 1, o, &s, &err));
  static double three[8 * 3];
  for (int i = 0; i < 24; i++) three[i] = 0.1 * i;
  scones_matrix t3 = scones_matrix_f64(three, 8, 3);
  EXPECT_OK(scones_measure_new_points(&t3, &m3, &err));
  const scones_measure *mixed[2] = {mx, m3};
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_spot_train_measures(mixed, 2, o, &s, &err));
  EXPECT(s == NULL, "a failed training wrote its output");
  scones_spot_options_free(o);
  scones_measure_free(mx);
  scones_measure_free(my);
  scones_measure_free(mc);
  scones_measure_free(m3);
}

/* Presets replace Algorithm 3's settings and keep seed and progress callback. */
static void check_presets(const scones_matrix *x, const scones_matrix *y) {
  scones_spot_options *o = NULL, *p = NULL;
  struct progress_log log = {0, 0, 0, 0, 0, 0};
  EXPECT_OK(scones_spot_options_new(&o, &err));
  EXPECT_OK(scones_spot_options_new(&p, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_spot_options_set_preset(o, 2, &err));
  /* o: seed and callback first, then the preset; p: the preset, then the seed. */
  EXPECT_OK(scones_spot_options_set_seed(o, 9, &err));
  EXPECT_OK(scones_spot_options_set_progress(o, on_progress, &log, 1, &err));
  EXPECT_OK(scones_spot_options_set_preset(o, SCONES_SPOT_PRESET_THESIS, &err));
  EXPECT_OK(scones_spot_options_set_batch(o, 100, 5, &err));
  EXPECT_OK(scones_spot_options_set_preset(p, SCONES_SPOT_PRESET_THESIS, &err));
  EXPECT_OK(scones_spot_options_set_seed(p, 9, &err));
  EXPECT_OK(scones_spot_options_set_batch(p, 100, 5, &err));
  scones_spot *plan_o = NULL, *plan_p = NULL, *plan_t = NULL;
  EXPECT_OK(scones_spot_train(x, y, o, &plan_o, &err));
  EXPECT_OK(scones_spot_train(x, y, p, &plan_p, &err));
  EXPECT(log.calls == 5 && log.wrong_phase == 0, "the preset dropped the callback: %d reports", log.calls);
  static double a[100 * D], b[100 * D], c[100 * D], d[100 * D];
  sample2(plan_o, 4, a, b, 100);
  sample2(plan_p, 4, c, d, 100);
  EXPECT(memcmp(a, c, sizeof a) == 0 && memcmp(b, d, sizeof b) == 0, "the preset dropped the seed");
  /* Back to the tuned preset: other networks, other samples from the same seed. */
  EXPECT_OK(scones_spot_options_set_preset(p, SCONES_SPOT_PRESET_TUNED, &err));
  EXPECT_OK(scones_spot_options_set_batch(p, 100, 5, &err));
  EXPECT_OK(scones_spot_train(x, y, p, &plan_t, &err));
  sample2(plan_t, 4, c, d, 100);
  EXPECT(memcmp(a, c, sizeof a) != 0, "the tuned and thesis presets gave the same plan");
  scones_spot_free(plan_o);
  scones_spot_free(plan_p);
  scones_spot_free(plan_t);
  scones_spot_options_free(o);
  scones_spot_options_free(p);
}

/* Entropy regularisation (a neural-ODE generator): a short run, its samples through a file. */
static void check_entropy(const scones_matrix *x, const scones_matrix *y, const char *dir) {
  scones_spot_options *o = small_options(SCONES_COST_SQEUCLIDEAN, 8, 10);
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_spot_options_set_entropy(o, -1.0, 4, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_spot_options_set_entropy(o, 0.5, 0, &err));
  EXPECT_OK(scones_spot_options_set_entropy(o, 0.5, 4, &err));
  scones_spot *s = NULL, *loaded = NULL;
  EXPECT_OK(scones_spot_train(x, y, o, &s, &err));
  char path[600];
  snprintf(path, sizeof path, "%s/entropic.scones", dir);
  EXPECT_OK(scones_spot_save(s, path, &err));
  EXPECT_OK(scones_spot_load(path, NULL, &loaded, &err));
  static double a[64 * D], b[64 * D], c[64 * D], d[64 * D];
  sample2(s, 2, a, b, 64);
  sample2(loaded, 2, c, d, 64);
  EXPECT(memcmp(a, c, sizeof a) == 0 && memcmp(b, d, sizeof b) == 0, "the loaded entropic plan samples differently");
  scones_spot_free(s);
  scones_spot_free(loaded);
  scones_spot_options_free(o);
}

/* SCONES_COST_EUCLIDEAN elsewhere: accepted by dual training and the discrete solvers, refused
   by the Langevin sampler with a message naming the cost. Returns the dual for check_files. */
static scones_dual *check_euclidean_elsewhere(const double *x, const double *y) {
  scones_matrix xs = scones_matrix_f64(x, 500, D), ys = scones_matrix_f64(y, 500, D);
  scones_dual_options *o = NULL;
  size_t w[1] = {16};
  EXPECT_OK(scones_dual_options_new(&o, &err));
  EXPECT_OK(scones_dual_options_set_cost(o, SCONES_COST_EUCLIDEAN, &err));
  EXPECT_OK(scones_dual_options_set_hidden(o, w, 1, &err));
  EXPECT_OK(scones_dual_options_set_batch(o, 64, SCONES_BATCH_ALL_PAIRS, &err));
  EXPECT_OK(scones_dual_options_set_iterations(o, 20, &err));
  scones_dual *dual = NULL;
  EXPECT_OK(scones_dual_train(&xs, &ys, o, &dual, &err));
  scones_regularizer reg = -1;
  scones_cost cost = -1;
  double lambda = 0;
  EXPECT_OK(scones_dual_problem(dual, &reg, &lambda, &cost, &err));
  EXPECT(cost == SCONES_COST_EUCLIDEAN, "dual_problem reports cost %d", (int)cost);

  double mean[2] = {2.5, 0}, cov[4] = {1, 0, 0, 1};
  scones_matrix m = scones_matrix_f64(mean, 1, 2), c = scones_matrix_f64(cov, 2, 2);
  scones_score *score = NULL;
  EXPECT_OK(scones_score_new_gaussian(&m, &c, &score, &err));
  scones_sampler *sampler = (scones_sampler *)0x1;
  scones_error *serr = NULL;
  scones_status st = scones_sampler_new(dual, score, NULL, &sampler, &serr);
  const char *msg = serr ? scones_error_message(serr) : "";
  EXPECT(st == SCONES_STATUS_INVALID_ARGUMENT && strstr(msg, "euclidean") && sampler == (scones_sampler *)0x1,
         "sampler on a Euclidean-cost dual: %s, '%s'", scones_status_name(st), msg);
  if (getenv("SCONES_TEST_VERBOSE")) printf("  ok %-28s %s\n", scones_status_name(st), msg);
  scones_error_free(serr);
  scones_score_free(score);
  scones_dual_options_free(o);

  /* IPOT is exact: W1 between points and their translate by (5, 0) is 5 (any coupling has
     E|x - y| >= |E(x - y)| = 5, and the translation attains it). */
  enum { M = 20 };
  static double p[M * D], q[M * D], plan[M * M];
  for (int i = 0; i < M * D; i++) p[i] = x[i], q[i] = x[i] + (i % D == 0 ? 5.0 : 0.0);
  scones_matrix pm = scones_matrix_f64(p, M, D), qm = scones_matrix_f64(q, M, D);
  scones_matrix_mut pl = scones_matrix_mut_f64(plan, M, M);
  scones_discrete_report rep;
  rep.struct_size = sizeof rep;
  EXPECT_OK(scones_ipot(&pm, &qm, NULL, NULL, SCONES_COST_EUCLIDEAN, NULL, &pl, &rep, &err));
  EXPECT(fabs(rep.transport_cost - 5.0) < 1e-3, "IPOT W1 %.6f, expected 5", rep.transport_cost);
  static double fg[2 * M];
  scones_matrix_mut f = scones_matrix_mut_f64(fg, M, 1), g = scones_matrix_mut_f64(fg + M, M, 1);
  EXPECT_OK(scones_sinkhorn(&pm, &qm, NULL, NULL, SCONES_COST_EUCLIDEAN, 0.05, NULL, &f, &g, &pl, &rep, &err));
  EXPECT(rep.transport_cost >= 5.0 - 1e-6 && rep.transport_cost < 5.5, "Sinkhorn W1 cost %.6f, expected >= 5",
         rep.transport_cost);
  scones_matrix_mut phi = scones_matrix_mut_f64(fg, M, 1), psi = scones_matrix_mut_f64(fg + M, M, 1);
  EXPECT_OK(scones_discrete_fdual(&pm, &qm, NULL, NULL, SCONES_COST_EUCLIDEAN, SCONES_REGULARIZER_KL, 0.05, NULL,
                                  &phi, &psi, NULL, &rep, &err));
  EXPECT(isfinite(rep.transport_cost), "f-divergence dual under |x - y|: cost %g", rep.transport_cost);
  return dual;
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : ".";
  static double x[N * D], y[N * D];
  gaussian_points(x, -2.5, 1);
  gaussian_points(y, 2.5, 2);
  scones_matrix xm = scones_matrix_f64(x, N, D), ym = scones_matrix_f64(y, N, D);

  scones_spot_options *o = small_options(SCONES_COST_EUCLIDEAN, 16, ITERS);
  struct progress_log log = {0, 0, 0, 0, 0, 0};
  EXPECT_OK(scones_spot_options_set_progress(o, on_progress, &log, EVERY, &err));
  scones_spot *plan = NULL;
  double t0 = now();
  EXPECT_OK(scones_spot_train(&xm, &ym, o, &plan, &err));
  printf("trained %d iterations in %.2f s\n", ITERS, now() - t0);
  scones_spot_options_free(o);
  if (!plan) return finish("spot");

  check_plan(plan, &log);
  scones_dual *dual = check_euclidean_elsewhere(x, y);
  check_files(plan, dual, dir);
  check_cancel(&xm, &ym);
  check_three_marginals(&xm, &ym);
  check_presets(&xm, &ym);
  check_entropy(&xm, &ym, dir);
  scones_dual_free(dual);
  scones_spot_free(plan);
  return finish("spot");
}
