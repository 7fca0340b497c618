/*
 * Leak and memory-safety workload for `make test-sanitize` (issue 9, item 1): full
 * create / train / sample / save / load / free cycles over every handle kind (SPOT's too), each one tiny, so
 * that valgrind memcheck can watch many of them; then a long loop of sampling calls whose
 * resident memory must stay flat.
 *
 *   cycles <scratch-dir> <cycles> <sampling-calls> <max-rss-growth-KiB>
 *
 * RSS is read from /proc/self/statm. It is measured from after the first cycle (and after the
 * first 100 sampling calls), because libtorch and OpenMP allocate their thread pools, kernels
 * and caches once, on first use; growth after that is what a per-call leak would show. The
 * program fails when either growth exceeds the bound given on the command line.
 */
#include <stdint.h>
#include <unistd.h>

#include "common.h"

#define N 16
#define D 2

static double g_x[N * D], g_y[N * D];
static char g_path[1024];

static long rss_kib(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long pages = 0, resident = 0;
  if (!f) return -1;
  if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = -1;
  fclose(f);
  return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* A host "simulator" for the callback measure: deterministic points from the seed. */
static int32_t grid_measure(void *user, size_t m, size_t d, uint64_t seed, double *out) {
  (void)user;
  for (size_t i = 0; i < m * d; i++) out[i] = (double)((seed + i * 7919) % 101) / 50.0 - 1.0;
  return 0;
}

static const char *in_dir(const char *dir, const char *name) {
  snprintf(g_path, sizeof g_path, "%s/%s", dir, name);
  return g_path;
}

/* The dual and everything hanging off it: potentials, save/load, the sampler with its scores,
   the barycentric map. */
static void dual_cycle(const char *dir, uint64_t seed) {
  scones_dual_options *o = NULL;
  scones_dual *dual = NULL, *loaded = NULL;
  size_t w[1] = {4};
  EXPECT_OK(scones_dual_options_new(&o, &err));
  EXPECT_OK(scones_dual_options_set_hidden(o, w, 1, &err));
  EXPECT_OK(scones_dual_options_set_batch(o, 8, SCONES_BATCH_ALL_PAIRS, &err));
  EXPECT_OK(scones_dual_options_set_iterations(o, 3, &err));
  EXPECT_OK(scones_dual_options_set_seed(o, seed, &err));
  scones_matrix x = scones_matrix_f64(g_x, N, D), y = scones_matrix_f64(g_y, N, D);
  EXPECT_OK(scones_dual_train(&x, &y, o, &dual, &err));
  scones_dual_options_free(o);
  if (!dual) return;
  EXPECT_OK(scones_dual_save(dual, in_dir(dir, "dual.safetensors"), &err));
  EXPECT_OK(scones_dual_load(g_path, "cpu", &loaded, &err));
  double phi[N];
  scones_matrix_mut mp = scones_matrix_mut_f64(phi, N, 1);
  EXPECT_OK(scones_dual_potential(loaded, SCONES_POTENTIAL_PHI, &x, &mp, &err));

  double mean[D] = {0, 0}, cov[D * D] = {1, 0, 0, 1};
  scones_matrix mu = scones_matrix_f64(mean, 1, D), c = scones_matrix_f64(cov, D, D);
  scones_score *gauss = NULL, *emp = NULL;
  scones_sampler_options *so = NULL;
  scones_sampler *s = NULL;
  EXPECT_OK(scones_score_new_gaussian(&mu, &c, &gauss, &err));
  EXPECT_OK(scones_score_new_empirical(&y, 0.5, &emp, &err));
  EXPECT_OK(scones_sampler_options_new(&so, &err));
  EXPECT_OK(scones_sampler_options_set_steps(so, 3, 0.01, &err));
  EXPECT_OK(scones_sampler_options_set_samples_per_source(so, 2, &err));
  double out[4 * 2 * D];
  scones_matrix x4 = scones_matrix_f64(g_x, 4, D);
  scones_matrix_mut mo = scones_matrix_mut_f64(out, 8, D);
  scones_score *scores[2] = {gauss, emp};
  for (int k = 0; k < 2; k++) {
    EXPECT_OK(scones_sampler_new(k ? dual : loaded, scores[k], so, &s, &err));
    EXPECT_OK(scones_sample_batch(s, &x4, &mo, &err));
    scones_sample_report rep;
    rep.struct_size = sizeof rep;
    EXPECT_OK(scones_sampler_report(s, &rep, &err));
    scones_sampler_free(s);
    s = NULL;
  }
  /* Chains from the targets resampled by M, annealed (the options own a copy of the targets). */
  EXPECT_OK(scones_sampler_options_set_annealing(so, 1.0, 0.1, 3, 1, &err));
  EXPECT_OK(scones_sampler_options_set_init_resample(so, &y, 0.0, &err));
  EXPECT_OK(scones_sampler_new(dual, gauss, so, &s, &err));
  EXPECT_OK(scones_sample_batch(s, &x4, &mo, &err));
  scones_sampler_free(s);
  s = NULL;

  /* The barycentric map between two point measures, trained a couple of steps. */
  scones_measure *mx = NULL, *my = NULL;
  scones_train_options *to = NULL;
  scones_barycentric *map = NULL, *map2 = NULL;
  EXPECT_OK(scones_measure_new_points(&x, &mx, &err));
  EXPECT_OK(scones_measure_new_points(&y, &my, &err));
  EXPECT_OK(scones_train_options_new(&to, &err));
  EXPECT_OK(scones_train_options_set_hidden(to, w, 1, &err));
  EXPECT_OK(scones_train_options_set_iterations(to, 2, &err));
  EXPECT_OK(scones_train_options_set_batch_size(to, 8, &err));
  EXPECT_OK(scones_barycentric_train(dual, mx, my, to, &map, &err));
  if (map) {
    EXPECT_OK(scones_barycentric_save(map, in_dir(dir, "map.safetensors"), &err));
    EXPECT_OK(scones_barycentric_load(g_path, &map2, &err));
    double t[4 * D];
    scones_matrix_mut mt = scones_matrix_mut_f64(t, 4, D);
    EXPECT_OK(scones_barycentric_map(map2, &x4, &mt, &err));
  }
  scones_barycentric_free(map);
  scones_barycentric_free(map2);
  scones_train_options_free(to);
  scones_measure_free(mx);
  scones_measure_free(my);
  scones_sampler_options_free(so);
  scones_score_free(gauss);
  scones_score_free(emp);
  scones_dual_free(loaded);
  scones_dual_free(dual);
}

/* A score network trained on a host-callback measure, saved, loaded and evaluated. */
static void score_cycle(const char *dir) {
  scones_measure *m = NULL;
  scones_train_options *to = NULL;
  scones_score *net = NULL, *loaded = NULL;
  size_t w[1] = {4};
  EXPECT_OK(scones_measure_new_callback(D, grid_measure, NULL, &m, &err));
  EXPECT_OK(scones_train_options_new(&to, &err));
  EXPECT_OK(scones_train_options_set_hidden(to, w, 1, &err));
  EXPECT_OK(scones_train_options_set_iterations(to, 2, &err));
  EXPECT_OK(scones_train_options_set_batch_size(to, 8, &err));
  EXPECT_OK(scones_train_options_set_noise_levels(to, 1.0, 0.1, 2, &err));
  EXPECT_OK(scones_score_train(m, to, &net, &err));
  if (net) {
    EXPECT_OK(scones_score_save(net, in_dir(dir, "score.safetensors"), &err));
    EXPECT_OK(scones_score_load(g_path, &loaded, &err));
    double s[4 * D];
    scones_matrix y4 = scones_matrix_f64(g_y, 4, D);
    scones_matrix_mut ms = scones_matrix_mut_f64(s, 4, D);
    EXPECT_OK(scones_score_eval(loaded, &y4, 0.1, &ms, &err));
  }
  scones_score_free(net);
  scones_score_free(loaded);
  scones_train_options_free(to);
  scones_measure_free(m);
}

/* A SPOT plan from two point sets and a host sampler (three marginals), 5 iterations of widths
   {4}: paired samples, the cost estimate, the report, save / load, and a cancelled run. */
static int32_t cancel_first(void *user, const scones_progress *p) {
  (void)user, (void)p;
  return 1;
}

static void spot_cycle(const char *dir, uint64_t seed) {
  scones_spot_options *o = NULL;
  scones_measure *mx = NULL, *my = NULL, *mc = NULL;
  scones_spot *plan = NULL, *loaded = NULL, *none = NULL;
  size_t w[1] = {4};
  scones_matrix x = scones_matrix_f64(g_x, N, D), y = scones_matrix_f64(g_y, N, D);
  EXPECT_OK(scones_spot_options_new(&o, &err));
  EXPECT_OK(scones_spot_options_set_hidden(o, w, 1, w, 1, &err));
  EXPECT_OK(scones_spot_options_set_batch(o, 4, 5, &err));
  EXPECT_OK(scones_spot_options_set_penalty(o, 0.0, 1, &err)); /* one critic step: memcheck time */
  EXPECT_OK(scones_spot_options_set_seed(o, seed, &err));
  EXPECT_OK(scones_measure_new_points(&x, &mx, &err));
  EXPECT_OK(scones_measure_new_points(&y, &my, &err));
  EXPECT_OK(scones_measure_new_callback(D, grid_measure, NULL, &mc, &err));
  const scones_measure *ms[3] = {mx, my, mc};
  EXPECT_OK(scones_spot_train_measures(ms, 3, o, &plan, &err));
  if (plan) {
    double a[4 * D], b[4 * D], c[4 * D], est = 0, se = 0;
    scones_matrix_mut outs[3] = {scones_matrix_mut_f64(a, 4, D), scones_matrix_mut_f64(b, 4, D),
                                 scones_matrix_mut_f64(c, 4, D)};
    EXPECT_OK(scones_spot_sample(plan, seed, outs, 3, &err));
    EXPECT_OK(scones_spot_cost_estimate(plan, 8, seed, &est, &se, &err));
    scones_spot_report rep;
    rep.struct_size = sizeof rep;
    EXPECT_OK(scones_spot_train_report(plan, &rep, &err));
    EXPECT_OK(scones_spot_save(plan, in_dir(dir, "spot.safetensors"), &err));
    EXPECT_OK(scones_spot_load(g_path, "cpu", &loaded, &err));
    size_t count = 0, dims[3];
    EXPECT_OK(scones_spot_dims(loaded, dims, 3, &count, &err));
  }
  EXPECT_OK(scones_spot_options_set_progress(o, cancel_first, NULL, 1, &err));
  EXPECT_STATUS(SCONES_STATUS_CANCELLED, scones_spot_train(&x, &y, o, &none, &err));
  scones_spot_free(plan);
  scones_spot_free(loaded);
  scones_spot_options_free(o);
  scones_measure_free(mx);
  scones_measure_free(my);
  scones_measure_free(mc);
}

/* c(x, y) = |x - y|^2 from the host, with its y-gradient when asked. */
static int32_t host_sq_cost(void *user, size_t m, size_t dx, size_t dy, const double *x, const double *y,
                            double *values, double *grad_y) {
  (void)user, (void)dy;
  for (size_t i = 0; i < m; i++) {
    values[i] = 0;
    for (size_t k = 0; k < dx; k++) {
      double t = y[i * dx + k] - x[i * dx + k];
      values[i] += t * t;
      if (grad_y) grad_y[i * dx + k] = 2 * t;
    }
  }
  return 0;
}

static int32_t host_failing_cost(void *user, size_t m, size_t dx, size_t dy, const double *x, const double *y,
                                 double *values, double *grad_y) {
  (void)user, (void)m, (void)dx, (void)dy, (void)x, (void)y, (void)values, (void)grad_y;
  return 1;
}

/* A dual trained with a host callback cost, a sampler following its y-gradient, the refused save
   and a failing callback's error object. */
static void callback_cost_cycle(const char *dir) {
  scones_dual_options *o = NULL;
  scones_dual *dual = NULL, *none = NULL;
  size_t w[1] = {4};
  EXPECT_OK(scones_dual_options_new(&o, &err));
  EXPECT_OK(scones_dual_options_set_hidden(o, w, 1, &err));
  EXPECT_OK(scones_dual_options_set_batch(o, 8, SCONES_BATCH_ALL_PAIRS, &err));
  EXPECT_OK(scones_dual_options_set_iterations(o, 3, &err));
  EXPECT_OK(scones_dual_options_set_callback_cost(o, host_sq_cost, NULL, D, D, 2.0, &err));
  scones_matrix x = scones_matrix_f64(g_x, N, D), y = scones_matrix_f64(g_y, N, D);
  EXPECT_OK(scones_dual_train(&x, &y, o, &dual, &err));
  if (dual) {
    EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_save(dual, in_dir(dir, "callback.safetensors"), &err));
    scones_score *emp = NULL;
    scones_sampler_options *so = NULL;
    scones_sampler *s = NULL;
    EXPECT_OK(scones_score_new_empirical(&y, 0.5, &emp, &err));
    EXPECT_OK(scones_sampler_options_new(&so, &err));
    EXPECT_OK(scones_sampler_options_set_steps(so, 2, 0.01, &err));
    EXPECT_OK(scones_sampler_new(dual, emp, so, &s, &err));
    double out[2 * D];
    scones_matrix x2 = scones_matrix_f64(g_x, 2, D);
    scones_matrix_mut mo = scones_matrix_mut_f64(out, 2, D);
    if (s) EXPECT_OK(scones_sample_batch(s, &x2, &mo, &err));
    scones_sampler_free(s);
    scones_sampler_options_free(so);
    scones_score_free(emp);
  }
  EXPECT_OK(scones_dual_options_set_callback_cost(o, host_failing_cost, NULL, D, D, 2.0, &err));
  EXPECT_STATUS(SCONES_STATUS_CALLBACK, scones_dual_train(&x, &y, o, &none, &err));
  scones_dual_free(dual);
  scones_dual_options_free(o);
}

/* Every discrete solver on 8 points, with options and a report; a failing call's error object. */
static void discrete_cycle(void) {
  enum { M = 8 };
  scones_discrete_options *o = NULL;
  EXPECT_OK(scones_discrete_options_new(&o, &err));
  EXPECT_OK(scones_discrete_options_set_max_iterations(o, 50, &err));
  scones_matrix x = scones_matrix_f64(g_x, M, D), y = scones_matrix_f64(g_y, M, D);
  double f[M], g[M], plan[M * M];
  scones_matrix_mut fm = scones_matrix_mut_f64(f, M, 1), gm = scones_matrix_mut_f64(g, M, 1);
  scones_matrix_mut pm = scones_matrix_mut_f64(plan, M, M);
  scones_discrete_report rep;
  rep.struct_size = sizeof rep;
  EXPECT_OK(scones_sinkhorn(&x, &y, NULL, NULL, SCONES_COST_SQEUCLIDEAN, 0.5, o, &fm, &gm, &pm, &rep, &err));
  EXPECT_OK(scones_ipot(&x, &y, NULL, NULL, SCONES_COST_SQEUCLIDEAN, o, &pm, &rep, &err));
  EXPECT_OK(scones_discrete_fdual(&x, &y, NULL, NULL, SCONES_COST_SQEUCLIDEAN, SCONES_REGULARIZER_KL, 0.5, o, &fm,
                                  &gm, &pm, &rep, &err));
  double cost[4 * 4], total = 0;
  for (int i = 0; i < 16; i++) cost[i] = (double)((i * 5) % 7);
  size_t assignment[4];
  scones_matrix cm = scones_matrix_f64(cost, 4, 4);
  EXPECT_OK(scones_assignment(&cm, assignment, &total, NULL, NULL, &err));
  scones_discrete_options_free(o);
  scones_dual *none = NULL;
  EXPECT_STATUS(SCONES_STATUS_IO, scones_dual_load("/nonexistent/dual.safetensors", "cpu", &none, &err));
  scones_figure *fig = NULL;
  EXPECT_OK(scones_figure_new(64, 64, 1, 1, &fig, &err));
  EXPECT_OK(scones_figure_scatter(fig, 0, &x, 0x336699ff, 1.0, &err));
  scones_figure_free(fig);
}

/* The 10,000-call loop: the same sampler, 2 sources x 2 samples, 2 Langevin steps a call. */
static void sampling_loop(long calls, long bound_kib) {
  scones_dual_options *o = NULL;
  scones_dual *dual = NULL;
  size_t w[1] = {4};
  EXPECT_OK(scones_dual_options_new(&o, &err));
  EXPECT_OK(scones_dual_options_set_hidden(o, w, 1, &err));
  EXPECT_OK(scones_dual_options_set_iterations(o, 2, &err));
  EXPECT_OK(scones_dual_options_set_batch(o, 8, SCONES_BATCH_ALL_PAIRS, &err));
  scones_matrix x = scones_matrix_f64(g_x, N, D), y = scones_matrix_f64(g_y, N, D);
  EXPECT_OK(scones_dual_train(&x, &y, o, &dual, &err));
  scones_dual_options_free(o);
  scones_score *emp = NULL;
  scones_sampler_options *so = NULL;
  scones_sampler *s = NULL;
  EXPECT_OK(scones_score_new_empirical(&y, 0.5, &emp, &err));
  EXPECT_OK(scones_sampler_options_new(&so, &err));
  EXPECT_OK(scones_sampler_options_set_steps(so, 2, 0.01, &err));
  EXPECT_OK(scones_sampler_options_set_samples_per_source(so, 2, &err));
  EXPECT_OK(scones_sampler_new(dual, emp, so, &s, &err));
  if (!s) return;
  double out[2 * 2 * D];
  scones_matrix x2 = scones_matrix_f64(g_x, 2, D);
  scones_matrix_mut mo = scones_matrix_mut_f64(out, 4, D);
  const long warmup = 100;
  long base = 0, failed = 0;
  for (long i = 0; i < warmup + calls; i++) {
    if (i == warmup) {
      base = rss_kib();
      printf("sampling: RSS after %ld warm-up calls: %ld KiB\n", warmup, base);
    }
    if (i == warmup + calls / 2) printf("sampling: RSS after %ld calls: %ld KiB\n", calls / 2, rss_kib());
    failed += scones_sample_batch(s, &x2, &mo, NULL) != SCONES_STATUS_OK;
  }
  long end = rss_kib();
  printf("sampling: RSS after %ld calls: %ld KiB (growth %ld KiB, bound %ld KiB)\n", calls, end, end - base,
         bound_kib);
  EXPECT(failed == 0, "%ld of %ld sampling calls failed", failed, calls);
  EXPECT(end - base <= bound_kib, "RSS grew by %ld KiB over %ld sampling calls (bound %ld KiB)", end - base, calls,
         bound_kib);
  scones_sampler_free(s);
  scones_sampler_options_free(so);
  scones_score_free(emp);
  scones_dual_free(dual);
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: cycles <scratch-dir> <cycles> <sampling-calls> <max-rss-growth-KiB>\n");
    return 2;
  }
  const char *dir = argv[1];
  long cycles = atol(argv[2]), calls = atol(argv[3]), bound = atol(argv[4]);
  for (int i = 0; i < N * D; i++) {
    g_x[i] = 0.1 * (i % 7) - 0.3 + 0.01 * i;
    g_y[i] = 0.2 * (i % 5) + 0.5 - 0.02 * i;
  }
  long base = 0;
  for (long c = 0; c < cycles; c++) {
    dual_cycle(dir, (uint64_t)c);
    score_cycle(dir);
    spot_cycle(dir, (uint64_t)c);
    callback_cost_cycle(dir);
    discrete_cycle();
    if (c == 0) {
      base = rss_kib();
      printf("cycles: RSS after the first cycle: %ld KiB\n", base);
    }
    if (c == cycles / 2 && c > 0) printf("cycles: RSS after %ld cycles: %ld KiB\n", c + 1, rss_kib());
  }
  if (cycles > 1) {
    long end = rss_kib();
    printf("cycles: RSS after %ld cycles: %ld KiB (growth %ld KiB, bound %ld KiB)\n", cycles, end, end - base, bound);
    EXPECT(end - base <= bound, "RSS grew by %ld KiB over %ld cycles (bound %ld KiB)", end - base, cycles, bound);
  }
  if (calls > 0) sampling_loop(calls, bound);
  return finish("cycles");
}
