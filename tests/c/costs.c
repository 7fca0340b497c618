/*
 * Costs beyond squared Euclidean through the C ABI (issue 13 item 4): the linear-operator cost
 * |A y - B x|^2 between a 1-d source and a 2-d target (dual training, its problem, a file round
 * trip, refused operators, a sampler with dx != dy).
 *
 *   costs <scratch-dir>
 */
#include <stddef.h>
#include <stdint.h>

#include "common.h"

enum { N = 400, NE = 8 };

static double g_x[N], g_y[N * 2];

static void draw(double *out, size_t n, size_t d, uint64_t seed) {
  double mean[2] = {0, 0}, cov[4] = {1, 0, 0, 1}; /* d = 1 reads cov[0] */
  scones_matrix m = scones_matrix_f64(mean, 1, d), c = scones_matrix_f64(cov, d, d);
  scones_matrix_mut o = scones_matrix_mut_f64(out, n, d);
  EXPECT_OK(scones_gaussian_sample(&m, &c, n, seed, &o, &err));
}

/* Small, quick settings shared by every dual below. */
static scones_dual_options *small_options(size_t iterations, uint64_t seed) {
  scones_dual_options *o = NULL;
  size_t w[1] = {16};
  EXPECT_OK(scones_dual_options_new(&o, &err));
  EXPECT_OK(scones_dual_options_set_hidden(o, w, 1, &err));
  EXPECT_OK(scones_dual_options_set_batch(o, 64, SCONES_BATCH_ALL_PAIRS, &err));
  EXPECT_OK(scones_dual_options_set_iterations(o, iterations, &err));
  EXPECT_OK(scones_dual_options_set_seed(o, seed, &err));
  EXPECT_OK(scones_dual_options_set_threads(o, 1, &err));
  return o;
}

/* M(V(x_i, y_j)) on the first NE points of each set. */
static void compat(const scones_dual *d, size_t dx, size_t dy, double *out) {
  scones_matrix x = scones_matrix_f64(g_x, NE, dx), y = scones_matrix_f64(g_y, NE, dy);
  scones_matrix_mut o = scones_matrix_mut_f64(out, NE, NE);
  EXPECT_OK(scones_dual_compatibility(d, &x, &y, &o, &err));
}

/* A finite NE x 2 sample of pi(y | x) from a standard-normal target score. */
static void sample_works(const scones_dual *dual, size_t dx, const char *what) {
  double mean[2] = {0, 0}, cov[4] = {1, 0, 0, 1}, out[NE * 2];
  scones_matrix m = scones_matrix_f64(mean, 1, 2), c = scones_matrix_f64(cov, 2, 2);
  scones_score *score = NULL;
  scones_sampler_options *so = NULL;
  scones_sampler *s = NULL;
  EXPECT_OK(scones_score_new_gaussian(&m, &c, &score, &err));
  EXPECT_OK(scones_sampler_options_new(&so, &err));
  EXPECT_OK(scones_sampler_options_set_steps(so, 30, 0.05, &err));
  EXPECT_OK(scones_sampler_options_set_threads(so, 1, &err));
  EXPECT_OK(scones_sampler_new(dual, score, so, &s, &err));
  scones_matrix x = scones_matrix_f64(g_x, NE, dx);
  scones_matrix_mut o = scones_matrix_mut_f64(out, NE, 2);
  for (size_t i = 0; i < NE * 2; i++) out[i] = NAN;
  EXPECT_OK(scones_sample_batch(s, &x, &o, &err));
  int finite = 1;
  for (size_t i = 0; i < NE * 2; i++) finite &= isfinite(out[i]) != 0;
  EXPECT(finite, "%s: non-finite samples", what);
  scones_sampler_free(s);
  scones_sampler_options_free(so);
  scones_score_free(score);
}

static void linear_cost(const char *dir) {
  /* A (1 x 2) averages y, B (1 x 1) is 1: c(x, y) = ((y1 + y2) / 2 - x)^2. */
  double a[2] = {0.5, 0.5}, b[1] = {1.0}, a22[4] = {1, 0, 0, 1}, nan_a[2] = {NAN, 1}, zero_a[2] = {0, 0};
  scones_matrix am = scones_matrix_f64(a, 1, 2), bm = scones_matrix_f64(b, 1, 1);
  scones_matrix xs = scones_matrix_f64(g_x, N, 1), ys = scones_matrix_f64(g_y, N, 2);
  scones_dual_options *o = small_options(50, 1);
  EXPECT_OK(scones_dual_options_set_linear_cost(o, &am, &bm, &err));
  scones_dual *dual = NULL;
  EXPECT_OK(scones_dual_train(&xs, &ys, o, &dual, &err));
  scones_regularizer r = -1;
  double lambda = 0;
  scones_cost cost = -1;
  EXPECT_OK(scones_dual_problem(dual, &r, &lambda, &cost, &err));
  EXPECT(cost == SCONES_COST_LINEAR, "problem reports cost %d", (int)cost);

  char path[1024];
  snprintf(path, sizeof path, "%s/linear.scones", dir);
  EXPECT_OK(scones_dual_save(dual, path, &err));
  scones_dual *back = NULL;
  EXPECT_OK(scones_dual_load(path, NULL, &back, &err));
  cost = -1;
  EXPECT_OK(scones_dual_problem(back, &r, &lambda, &cost, &err));
  EXPECT(cost == SCONES_COST_LINEAR, "loaded problem reports cost %d", (int)cost);
  double c1[NE * NE], c2[NE * NE];
  compat(dual, 1, 2, c1);
  compat(back, 1, 2, c2);
  EXPECT(memcmp(c1, c2, sizeof c1) == 0, "compatibilities changed through a file");
  sample_works(back, 1, "linear cost, dx 1, dy 2");

  /* Refused operators: rows of A and B differ, NaN in A, A zero; the options keep the cost. */
  scones_matrix a2 = scones_matrix_f64(a22, 2, 2), an = scones_matrix_f64(nan_a, 1, 2),
                az = scones_matrix_f64(zero_a, 1, 2);
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_dual_options_set_linear_cost(o, &a2, &bm, &err));
  EXPECT_STATUS(SCONES_STATUS_NON_FINITE, scones_dual_options_set_linear_cost(o, &an, &bm, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_linear_cost(o, &az, &bm, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_cost(o, SCONES_COST_LINEAR, &err));
  scones_spot_options *so = NULL;
  EXPECT_OK(scones_spot_options_new(&so, &err));
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_spot_options_set_linear_cost(so, &a2, &bm, &err));
  EXPECT_STATUS(SCONES_STATUS_NON_FINITE, scones_spot_options_set_linear_cost(so, &an, &bm, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_spot_options_set_linear_cost(so, &az, &bm, &err));
  EXPECT_OK(scones_spot_options_set_linear_cost(so, &am, &bm, &err));
  scones_spot_options_free(so);
  /* Source and target dimensions must match the operators'. */
  scones_matrix ys1 = scones_matrix_f64(g_y, N, 1);
  scones_dual *none = NULL;
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_dual_train(&xs, &ys1, o, &none, &err));
  EXPECT(none == NULL, "a refused training wrote a dual");

  scones_dual_free(back);
  scones_dual_free(dual);
  scones_dual_options_free(o);
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : ".";
  draw(g_x, N, 1, 11);
  draw(g_y, N, 2, 12);
  linear_cost(dir);
  return finish("costs");
}
