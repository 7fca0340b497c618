/*
 * Regression tests for what the adversarial harness of issue 9 found: each case once crashed,
 * aborted, hung, deadlocked, panicked or was accepted though wrong. Every failing call must
 * return the exact status with a message and leave its sentinel-filled outputs untouched.
 *
 *   hostile
 */
#include <stdint.h>

#include "common.h"

#define SENTINEL 12345.0
#define BIG ((size_t)1 << 32)
#define HUGE ((size_t)1 << 40)

static double g_out[64];

static void fill_sentinel(void) {
  for (size_t i = 0; i < sizeof g_out / sizeof g_out[0]; i++) g_out[i] = SENTINEL;
}

static int untouched(void) {
  for (size_t i = 0; i < sizeof g_out / sizeof g_out[0]; i++)
    if (g_out[i] != SENTINEL) return 0;
  return 1;
}

/* A failing call with sentinel outputs: exact status, message, nothing written. */
#define EXPECT_FAIL_CLEAN(want, call)                                  \
  do {                                                                 \
    fill_sentinel();                                                   \
    EXPECT_STATUS(want, call);                                         \
    EXPECT(untouched(), "%s wrote its output on failure", #call);      \
  } while (0)

static double g_x[16 * 2], g_y[16 * 2];

static scones_matrix view(const double *p, size_t rows, size_t cols, ptrdiff_t rs, ptrdiff_t cs) {
  scones_matrix m = {p, rows, cols, rs, cs, SCONES_DTYPE_F64};
  return m;
}

static scones_matrix_mut out_view(size_t rows, size_t cols, ptrdiff_t rs, ptrdiff_t cs) {
  scones_matrix_mut m = {g_out, rows, cols, rs, cs, SCONES_DTYPE_F64};
  return m;
}

static scones_dual *tiny_dual(void) {
  scones_dual_options *o = NULL;
  scones_dual *d = NULL;
  size_t w[1] = {8};
  EXPECT_OK(scones_dual_options_new(&o, &err));
  EXPECT_OK(scones_dual_options_set_hidden(o, w, 1, &err));
  EXPECT_OK(scones_dual_options_set_batch(o, 8, SCONES_BATCH_ALL_PAIRS, &err));
  EXPECT_OK(scones_dual_options_set_iterations(o, 5, &err));
  scones_matrix x = scones_matrix_f64(g_x, 16, 2), y = scones_matrix_f64(g_y, 16, 2);
  EXPECT_OK(scones_dual_train(&x, &y, o, &d, &err));
  scones_dual_options_free(o);
  return d;
}

/* Views whose rows x cols overflow or exceed the element cap: once SIGSEGV (wrapped size) or an
   allocator abort (zero strides, broadcast rows). */
static void check_huge_views(void) {
  scones_matrix bad[] = {
      view(g_x, BIG, BIG, (ptrdiff_t)BIG, 1), /* rows x cols wraps to 0 */
      view(g_x, BIG, BIG, 0, 0),              /* same with zero strides */
      view(g_x, HUGE, 2, 0, 1),               /* broadcast rows */
      view(g_x, SIZE_MAX, SIZE_MAX, 1, 1),
  };
  scones_matrix ok = scones_matrix_f64(g_y, 16, 2);
  scones_matrix_mut o4 = out_view(4, 4, 4, 1);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    scones_measure *m = NULL;
    scones_score *s = NULL;
    EXPECT_FAIL_CLEAN(SCONES_STATUS_INVALID_ARGUMENT, scones_joint_covariance(&bad[i], &ok, &o4, &err));
    EXPECT_FAIL_CLEAN(SCONES_STATUS_INVALID_ARGUMENT, scones_sliced_w2(&bad[i], &ok, 10, 0, g_out, &err));
    EXPECT_FAIL_CLEAN(SCONES_STATUS_INVALID_ARGUMENT, scones_bw_uvp(&bad[i], &ok, g_out, &err));
    EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_measure_new_points(&bad[i], &m, &err));
    EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_score_new_empirical(&bad[i], 0.1, &s, &err));
    EXPECT(m == NULL && s == NULL, "handle written on failure");
  }
  /* Huge outputs: gaussian_sample with n = 2^40 aborted in the allocator. */
  double mean[2] = {0, 0}, cov[4] = {1, 0, 0, 1};
  scones_matrix mu = scones_matrix_f64(mean, 1, 2), c = scones_matrix_f64(cov, 2, 2);
  scones_matrix_mut big_out = out_view(HUGE, 2, 2, 1);
  EXPECT_FAIL_CLEAN(SCONES_STATUS_INVALID_ARGUMENT, scones_gaussian_sample(&mu, &c, HUGE, 0, &big_out, &err));
  scones_matrix_mut small = out_view(4, 2, 2, 1);
  EXPECT_FAIL_CLEAN(SCONES_STATUS_SHAPE_MISMATCH, scones_gaussian_sample(&mu, &c, HUGE, 0, &small, &err));
  EXPECT_FAIL_CLEAN(SCONES_STATUS_INVALID_ARGUMENT, scones_toy_sample(SCONES_TOY_MOONS, HUGE, 0, &big_out, &err));
  /* Byte extent beyond the address space. */
  scones_matrix far = view(g_x, 2, 2, PTRDIFF_MAX / 2, 1);
  EXPECT_FAIL_CLEAN(SCONES_STATUS_INVALID_ARGUMENT, scones_bw_uvp(&far, &c, g_out, &err));
}

/* Counts that drive allocation or loops: once panics (INTERNAL), aborts, hangs or silent
   acceptance. */
static void check_counts(void) {
  scones_dual_options *d = NULL;
  scones_sampler_options *s = NULL;
  scones_train_options *t = NULL;
  scones_discrete_options *q = NULL;
  EXPECT_OK(scones_dual_options_new(&d, &err));
  EXPECT_OK(scones_sampler_options_new(&s, &err));
  EXPECT_OK(scones_train_options_new(&t, &err));
  EXPECT_OK(scones_discrete_options_new(&q, &err));
  size_t bad_threads[] = {(size_t)1 << 31, SIZE_MAX, BIG + 1, 1025};
  for (size_t i = 0; i < 4; i++) {
    EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_threads(d, bad_threads[i], &err));
    EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sampler_options_set_threads(s, bad_threads[i], &err));
    EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_train_options_set_threads(t, bad_threads[i], &err));
  }
  EXPECT_OK(scones_dual_options_set_threads(d, 0, &err));
  EXPECT_OK(scones_dual_options_set_threads(d, 1024, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_batch(d, BIG, SCONES_BATCH_ALL_PAIRS, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_batch(d, 20000, SCONES_BATCH_ALL_PAIRS, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_batch(d, SIZE_MAX, SCONES_BATCH_PAIRED, &err));
  EXPECT_OK(scones_dual_options_set_batch(d, 20000, SCONES_BATCH_PAIRED, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_iterations(d, SIZE_MAX, &err));
  size_t wide[1] = {1000000000}, deep[3] = {65536, 65536, 65536};
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_hidden(d, wide, 1, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_hidden(d, deep, 3, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_train_options_set_hidden(t, wide, 1, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_train_options_set_batch_size(t, SIZE_MAX, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_train_options_set_noise_levels(t, 10.0, 0.01, SIZE_MAX, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sampler_options_set_annealing(s, 10.0, 0.01, SIZE_MAX, 0, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sampler_options_set_samples_per_source(s, HUGE, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sampler_options_set_steps(s, SIZE_MAX, 0.01, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sampler_options_set_chain_batch(s, SIZE_MAX, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_discrete_options_set_max_iterations(q, UINT64_MAX, &err));
  /* sliced_w2 with 2^40 projections ran unbounded. */
  scones_matrix a = scones_matrix_f64(g_x, 16, 2), b = scones_matrix_f64(g_y, 16, 2);
  EXPECT_FAIL_CLEAN(SCONES_STATUS_INVALID_ARGUMENT, scones_sliced_w2(&a, &b, HUGE, 0, g_out, &err));
  EXPECT_FAIL_CLEAN(SCONES_STATUS_INVALID_ARGUMENT, scones_sliced_w2(&a, &b, SIZE_MAX, 0, g_out, &err));
  /* Loops without a cancellation point: a 70,000 x 70,000 Sinkhorn sweep from broadcast views
     and an O(n^3) assignment of n = 16,385, both refused before any work. */
  scones_matrix broad = view(g_x, 70000, 2, 0, 1);
  double f[4], g[4];
  scones_matrix_mut fv = scones_matrix_mut_f64(f, 4, 1), gv = scones_matrix_mut_f64(g, 4, 1);
  EXPECT_FAIL_CLEAN(SCONES_STATUS_INVALID_ARGUMENT,
                    scones_sinkhorn(&broad, &broad, NULL, NULL, SCONES_COST_SQEUCLIDEAN, 1.0, NULL, &fv, &gv, NULL, NULL, &err));
  scones_matrix square = view(g_x, 16385, 16385, 0, 0);
  size_t assignment[4] = {7, 7, 7, 7};
  EXPECT_FAIL_CLEAN(SCONES_STATUS_INVALID_ARGUMENT, scones_assignment(&square, assignment, g_out, NULL, NULL, &err));
  EXPECT(assignment[0] == 7 && assignment[3] == 7, "assignment written on failure");
  scones_dual_options_free(d);
  scones_sampler_options_free(s);
  scones_train_options_free(t);
  scones_discrete_options_free(q);
}

static void check_devices(void) {
  scones_dual_options *d = NULL;
  scones_dual *loaded = NULL;
  EXPECT_OK(scones_dual_options_new(&d, &err));
  const char *bad[] = {"", " cpu", "cpu\n", "CPU", "cuda: 0", "cuda:", "cuda:-1", "cpu ", "gpu"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_device(d, bad[i], &err));
    EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_load("/nonexistent/dual.scones", bad[i], &loaded, &err));
  }
  EXPECT_OK(scones_dual_options_set_device(d, "cpu", &err));
  EXPECT_OK(scones_dual_options_set_device(d, "auto", &err));
  scones_dual_options_free(d);
}

/* Output views whose elements share addresses were accepted by 12 functions. */
static void check_self_overlap(scones_dual *dual) {
  double mean[2] = {0, 0}, cov[4] = {1, 0, 0, 1}, npsd[4] = {1, 0, 0, -1};
  scones_matrix mu = scones_matrix_f64(mean, 1, 2), c = scones_matrix_f64(cov, 2, 2);
  scones_matrix x = scones_matrix_f64(g_x, 4, 2), y = scones_matrix_f64(g_y, 4, 2);
  scones_matrix_mut o22 = out_view(2, 2, 1, 1), o42 = out_view(4, 2, 1, 1), o44 = out_view(4, 4, 1, 1),
                    o41 = out_view(4, 1, 0, 1), o88 = out_view(4, 4, 2, 3);
  EXPECT_FAIL_CLEAN(SCONES_STATUS_INVALID_ARGUMENT, scones_gaussian_random_covariance(2, SCONES_SPECTRUM_GEOMETRIC, 0, &o22, &err));
  EXPECT_FAIL_CLEAN(SCONES_STATUS_INVALID_ARGUMENT, scones_gaussian_sample(&mu, &c, 4, 0, &o42, &err));
  EXPECT_FAIL_CLEAN(SCONES_STATUS_INVALID_ARGUMENT, scones_gaussian_entropic_coupling(&c, &c, 1.0, &o44, &err));
  EXPECT_FAIL_CLEAN(SCONES_STATUS_INVALID_ARGUMENT, scones_gaussian_entropic_coupling(&c, &c, 1.0, &o88, &err));
  EXPECT_FAIL_CLEAN(SCONES_STATUS_INVALID_ARGUMENT, scones_joint_covariance(&x, &y, &o44, &err));
  EXPECT_FAIL_CLEAN(SCONES_STATUS_INVALID_ARGUMENT, scones_toy_sample(SCONES_TOY_MOONS, 4, 0, &o42, &err));
  EXPECT_FAIL_CLEAN(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_potential(dual, SCONES_POTENTIAL_PHI, &x, &o41, &err));
  EXPECT_FAIL_CLEAN(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_compatibility(dual, &x, &y, &o44, &err));
  double fb[4], gb[4];
  scones_matrix_mut fv = scones_matrix_mut_f64(fb, 4, 1), gv = scones_matrix_mut_f64(gb, 4, 1);
  EXPECT_FAIL_CLEAN(SCONES_STATUS_INVALID_ARGUMENT, scones_sinkhorn(&x, &y, NULL, NULL, SCONES_COST_SQEUCLIDEAN, 1.0, NULL, &fv, &gv, &o44, NULL, &err));
  EXPECT_FAIL_CLEAN(SCONES_STATUS_INVALID_ARGUMENT, scones_ipot(&x, &y, NULL, NULL, SCONES_COST_SQEUCLIDEAN, NULL, &o44, NULL, &err));
  EXPECT_FAIL_CLEAN(SCONES_STATUS_INVALID_ARGUMENT, scones_discrete_fdual(&x, &y, NULL, NULL, SCONES_COST_SQEUCLIDEAN, SCONES_REGULARIZER_KL, 1.0, NULL, &fv, &gv, &o44, NULL, &err));
  scones_score *g = NULL;
  EXPECT_OK(scones_score_new_gaussian(&mu, &c, &g, &err));
  EXPECT_FAIL_CLEAN(SCONES_STATUS_INVALID_ARGUMENT, scones_score_eval(g, &y, 0.0, &o42, &err));
  scones_score_free(g);
  /* Reversed and padded layouts remain fine. */
  scones_matrix_mut rev = {g_out + 7, 4, 2, -2, -1, SCONES_DTYPE_F64};
  EXPECT_OK(scones_toy_sample(SCONES_TOY_MOONS, 4, 0, &rev, &err));
  /* bw_uvp of a covariance that is not positive semi-definite was accepted. */
  scones_matrix bad = scones_matrix_f64(npsd, 2, 2);
  EXPECT_FAIL_CLEAN(SCONES_STATUS_INVALID_ARGUMENT, scones_bw_uvp(&bad, &c, g_out, &err));
  EXPECT_FAIL_CLEAN(SCONES_STATUS_INVALID_ARGUMENT, scones_bw_uvp(&c, &bad, g_out, &err));
}

/* Score callbacks: one that writes nothing, one that re-enters the sampler calling it. */
static scones_sampler *g_reenter = NULL, *g_other = NULL;
static int g_reentry_status = -1, g_other_status = -1;
static char g_reentry_message[256];

static int32_t score_writes_nothing(void *u, const double *y, size_t n, size_t d, double sigma, double *out) {
  (void)u, (void)y, (void)n, (void)d, (void)sigma, (void)out;
  return 0;
}

static int32_t score_reenters(void *u, const double *y, size_t n, size_t d, double sigma, double *out) {
  (void)u, (void)sigma;
  for (size_t i = 0; i < n * d; i++) out[i] = -y[i];
  if (g_reenter && g_reentry_status == -1) {
    double src[2] = {0, 0}, dst[2];
    scones_matrix s = scones_matrix_f64(src, 1, 2);
    scones_matrix_mut o = scones_matrix_mut_f64(dst, 1, 2);
    scones_error *err = NULL;
    g_reentry_status = scones_sample_batch(g_reenter, &s, &o, &err);
    snprintf(g_reentry_message, sizeof g_reentry_message, "%s", scones_error_message(err));
    scones_error_free(err);
    g_other_status = scones_sample_batch(g_other, &s, &o, NULL);
  }
  return 0;
}


static int32_t measure_writes_nothing(void *u, size_t m, size_t d, uint64_t seed, double *out) {
  (void)u, (void)m, (void)d, (void)seed, (void)out;
  return 0;
}

/* A progress callback asking its own sampler for its shape: re-entry on a busy handle. */
static int g_progress_reentry = -1;

static int32_t progress_reenters(void *user, const scones_progress *p) {
  (void)p;
  size_t dx, dy, k;
  if (g_progress_reentry == -1) g_progress_reentry = scones_sampler_shape((scones_sampler *)user, &dx, &dy, &k, NULL);
  return 0;
}

static void check_callbacks(scones_dual *dual) {
  scones_score *none = NULL, *reenter = NULL, *emp = NULL;
  scones_sampler_options *so = NULL;
  EXPECT_OK(scones_score_new_callback(2, score_writes_nothing, NULL, &none, &err));
  EXPECT_OK(scones_score_new_callback(2, score_reenters, NULL, &reenter, &err));
  EXPECT_OK(scones_sampler_options_new(&so, &err));
  EXPECT_OK(scones_sampler_options_set_steps(so, 3, 0.01, &err));
  scones_matrix y = scones_matrix_f64(g_y, 4, 2);
  scones_matrix_mut o42 = out_view(4, 2, 2, 1);
  EXPECT_FAIL_CLEAN(SCONES_STATUS_CALLBACK, scones_score_eval(none, &y, 0.0, &o42, &err));
  scones_sampler *s = NULL;
  EXPECT_OK(scones_sampler_new(dual, none, so, &s, &err));
  EXPECT_FAIL_CLEAN(SCONES_STATUS_CALLBACK, scones_sample_batch(s, &y, &o42, &err));
  scones_sampler_free(s);
  /* Re-entry on the same sampler deadlocked; on another sampler it must keep working. */
  EXPECT_OK(scones_sampler_new(dual, reenter, so, &g_reenter, &err));
  EXPECT_OK(scones_sampler_new(dual, reenter, so, &g_other, &err));
  EXPECT_OK(scones_sample_batch(g_reenter, &y, &o42, &err));
  EXPECT(g_reentry_status == SCONES_STATUS_INVALID_ARGUMENT, "re-entry returned %d", g_reentry_status);
  EXPECT(strstr(g_reentry_message, "re-entrant") != NULL, "re-entry message: %s", g_reentry_message);
  EXPECT(g_other_status == SCONES_STATUS_OK, "other sampler from the callback returned %d", g_other_status);
  EXPECT_OK(scones_sampler_set_progress(g_other, progress_reenters, g_other, 1, &err));
  EXPECT_OK(scones_sample_batch(g_other, &y, &o42, &err));
  EXPECT(g_progress_reentry == SCONES_STATUS_INVALID_ARGUMENT, "progress re-entry returned %d", g_progress_reentry);
  scones_sampler_free(g_reenter);
  scones_sampler_free(g_other);
  /* Metropolis needs a log-density: the callback score has none, the empirical one has. */
  EXPECT_OK(scones_sampler_options_set_metropolis(so, 1, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sampler_new(dual, reenter, so, &s, &err));
  EXPECT_OK(scones_score_new_empirical(&y, 0.5, &emp, &err));
  EXPECT_OK(scones_sampler_new(dual, emp, so, &s, &err));
  scones_sampler_free(s);
  /* Non-finite scores were returned with OK. */
  double mean[2] = {0, 0}, cov[4] = {1, 0, 0, 1};
  scones_matrix mu = scones_matrix_f64(mean, 1, 2), c = scones_matrix_f64(cov, 2, 2);
  scones_score *gauss = NULL;
  EXPECT_OK(scones_score_new_gaussian(&mu, &c, &gauss, &err));
  EXPECT_FAIL_CLEAN(SCONES_STATUS_NON_FINITE, scones_score_eval(gauss, &y, 1e300, &o42, &err));
  scones_score_free(gauss);
  scones_score *tiny = NULL;
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_score_new_empirical(&y, 1e-300, &tiny, &err));
  EXPECT(tiny == NULL, "score handle written on failure");
  /* A measure callback that writes nothing fails the training call instead of training on
     whatever the buffer held. */
  scones_measure *silent = NULL;
  scones_train_options *to = NULL;
  scones_score *trained = NULL;
  size_t w[1] = {8};
  EXPECT_OK(scones_measure_new_callback(2, measure_writes_nothing, NULL, &silent, &err));
  EXPECT_OK(scones_train_options_new(&to, &err));
  EXPECT_OK(scones_train_options_set_hidden(to, w, 1, &err));
  EXPECT_OK(scones_train_options_set_iterations(to, 3, &err));
  EXPECT_OK(scones_train_options_set_noise_levels(to, 1.0, 0.1, 2, &err));
  EXPECT_STATUS(SCONES_STATUS_CALLBACK, scones_score_train(silent, to, &trained, &err));
  EXPECT(trained == NULL, "score written on failure");
  scones_train_options_free(to);
  scones_measure_free(silent);
  scones_score_free(emp);
  scones_score_free(none);
  scones_score_free(reenter);
  scones_sampler_options_free(so);
}

/* Report structs: struct_size is the caller's, and only whole fields inside it are written. */
static void check_reports(scones_dual *dual) {
  union {
    scones_train_report r;
    unsigned char bytes[sizeof(scones_train_report) + 32];
  } u;
  memset(&u, 0xAB, sizeof u);
  u.r.struct_size = 12;
  EXPECT_OK(scones_dual_train_report(dual, &u.r, &err));
  EXPECT(u.r.struct_size == 12, "struct_size overwritten with %zu", u.r.struct_size);
  for (size_t i = sizeof(size_t); i < sizeof u.bytes; i++)
    EXPECT(u.bytes[i] == 0xAB, "byte %zu written with struct_size 12", i);
  memset(&u, 0xAB, sizeof u);
  u.r.struct_size = sizeof u.bytes;
  EXPECT_OK(scones_dual_train_report(dual, &u.r, &err));
  EXPECT(u.r.struct_size == sizeof u.bytes, "struct_size overwritten with %zu", u.r.struct_size);
  EXPECT(u.r.iterations == 5, "iterations %llu", (unsigned long long)u.r.iterations);
  for (size_t i = sizeof(scones_train_report); i < sizeof u.bytes; i++)
    EXPECT(u.bytes[i] == 0xAB, "byte %zu past the library's struct written", i);
  memset(&u, 0xAB, sizeof u);
  u.r.struct_size = 0;
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_train_report(dual, &u.r, &err));
  for (size_t i = sizeof(size_t); i < sizeof u.bytes; i++) EXPECT(u.bytes[i] == 0xAB, "byte %zu written", i);
  /* The discrete report ends in an int32 field: struct_size up to just before its end. */
  scones_discrete_report dr;
  memset(&dr, 0xAB, sizeof dr);
  dr.struct_size = offsetof(scones_discrete_report, converged) + 2;
  scones_matrix x = scones_matrix_f64(g_x, 4, 2), y = scones_matrix_f64(g_y, 4, 2);
  double f[4], g[4];
  scones_matrix_mut fv = scones_matrix_mut_f64(f, 4, 1), gv = scones_matrix_mut_f64(g, 4, 1);
  EXPECT_OK(scones_sinkhorn(&x, &y, NULL, NULL, SCONES_COST_SQEUCLIDEAN, 1.0, NULL, &fv, &gv, NULL, &dr, &err));
  unsigned char conv[4];
  memcpy(conv, &dr.converged, 4);
  EXPECT(conv[0] == 0xAB && conv[3] == 0xAB, "half of converged written");
  EXPECT(dr.iterations > 0, "iterations not written");
}

int main(void) {
  for (int i = 0; i < 32; i++) {
    g_x[i] = 0.1 * (i % 7) - 0.3 + 0.01 * i;
    g_y[i] = 0.2 * (i % 5) + 0.5 - 0.02 * i;
  }
  scones_dual *dual = tiny_dual();
  check_huge_views();
  check_counts();
  check_devices();
  check_self_overlap(dual);
  check_callbacks(dual);
  check_reports(dual);
  scones_dual_free(dual);
  return finish("hostile");
}
