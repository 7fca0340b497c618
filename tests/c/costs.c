/*
 * Costs beyond squared Euclidean through the C ABI (issue 13 item 4):
 * - the linear-operator cost |A y - B x|^2 between a 1-d source and a 2-d target (dual training,
 *   its problem, a file round trip, refused operators, a sampler with dx != dy);
 * - a host callback computing |x - y|^2: the same dual as SCONES_COST_SQEUCLIDEAN with the same
 *   seed, its gradient used by the sampler, saving refused, a failing or NaN callback ending
 *   training with SCONES_STATUS_CALLBACK;
 * - a TorchScript cost module (tests/fixtures/cost_softplus.pt): its problem and a file round
 *   trip that needs no module file.
 *
 *   costs <scratch-dir> <cost_softplus.pt>
 */
#include <stddef.h>
#include <stdint.h>

#include "common.h"

enum { N = 400, NE = 8 };

static double g_x[N], g_y[N * 2], g_x2[N * 2];

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
  scones_matrix x = scones_matrix_f64(dx == 1 ? g_x : g_x2, NE, dx), y = scones_matrix_f64(g_y, NE, dy);
  scones_matrix_mut o = scones_matrix_mut_f64(out, NE, NE);
  EXPECT_OK(scones_dual_compatibility(d, &x, &y, &o, &err));
}

/* c(x, y) = |x - y|^2 evaluated by the host; `fail` makes the call after `calls_left` fail. */
struct host_cost {
  long calls, with_grad, calls_left;
  int nan_instead;
};

static int32_t sq_cost(void *user, size_t m, size_t dx, size_t dy, const double *x, const double *y, double *values,
                       double *grad_y) {
  struct host_cost *h = (struct host_cost *)user;
  h->calls++;
  h->with_grad += grad_y != NULL;
  if (dx != dy) return 2;
  if (h->calls_left >= 0 && h->calls_left-- == 0) {
    if (!h->nan_instead) return 7;
    values[0] = NAN;
  }
  for (size_t i = 0; i < m; i++) {
    double s = 0;
    for (size_t k = 0; k < dx; k++) {
      double t = y[i * dy + k] - x[i * dx + k];
      s += t * t;
      if (grad_y) grad_y[i * dy + k] = 2 * t;
    }
    if (!(h->nan_instead && i == 0 && isnan(values[0]))) values[i] = s;
  }
  return 0;
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
  scones_matrix x = scones_matrix_f64(dx == 1 ? g_x : g_x2, NE, dx);
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

static scones_cost problem_cost(const scones_dual *d) {
  scones_regularizer r = -1;
  double lambda = 0;
  scones_cost cost = -1;
  EXPECT_OK(scones_dual_problem(d, &r, &lambda, &cost, &err));
  return cost;
}

static void callback_cost(const char *dir) {
  enum { ITERS = 100 };
  scones_matrix xs = scones_matrix_f64(g_x2, N, 2), ys = scones_matrix_f64(g_y, N, 2);
  struct host_cost h = {0, 0, -1, 0};
  scones_dual_options *ob = small_options(ITERS, 5), *oc = small_options(ITERS, 5);
  EXPECT_OK(scones_dual_options_set_cost(ob, SCONES_COST_SQEUCLIDEAN, &err));
  EXPECT_OK(scones_dual_options_set_callback_cost(oc, sq_cost, &h, 2, 2, 2.0, &err));
  scones_dual *builtin = NULL, *hosted = NULL;
  EXPECT_OK(scones_dual_train(&xs, &ys, ob, &builtin, &err));
  EXPECT_OK(scones_dual_train(&xs, &ys, oc, &hosted, &err));
  EXPECT(h.calls >= ITERS && h.with_grad == 0, "training: %ld calls, %ld with grad_y", h.calls, h.with_grad);
  EXPECT(problem_cost(hosted) == SCONES_COST_CALLBACK, "problem of a callback-cost dual");
  /* Same seed, same batches, the same cost up to float32 rounding of the pair values. */
  double cb[NE * NE], cc[NE * NE], worst = 0;
  compat(builtin, 2, 2, cb);
  compat(hosted, 2, 2, cc);
  for (int i = 0; i < NE * NE; i++) worst = fmax(worst, fabs(cb[i] - cc[i]) / fmax(1.0, fabs(cb[i])));
  EXPECT(worst < 1e-4, "compatibilities of the callback and built-in duals differ by %g", worst);
  printf("callback vs built-in |x - y|^2 after %d iterations: max relative difference %.2e\n", ITERS, worst);

  /* The sampler follows the callback's y-gradient. */
  long before = h.with_grad;
  sample_works(hosted, 2, "callback cost");
  EXPECT(h.with_grad > before, "the sampler never asked for grad_y");

  /* Saving is refused; nothing is written. */
  char path[1024];
  snprintf(path, sizeof path, "%s/callback.scones", dir);
  remove(path);
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_save(hosted, path, &err));
  FILE *f = fopen(path, "rb");
  EXPECT(f == NULL, "a refused save wrote %s", path);
  if (f) fclose(f);

  /* A failing callback, and one that returns NaN, end training with SCONES_STATUS_CALLBACK. */
  scones_dual *none = NULL;
  struct host_cost fail = {0, 0, 3, 0}, nan = {0, 0, 3, 1};
  EXPECT_OK(scones_dual_options_set_callback_cost(oc, sq_cost, &fail, 2, 2, 2.0, &err));
  EXPECT_STATUS(SCONES_STATUS_CALLBACK, scones_dual_train(&xs, &ys, oc, &none, &err));
  EXPECT(fail.calls == 4, "training went on after a failing callback (%ld calls)", fail.calls);
  EXPECT_OK(scones_dual_options_set_callback_cost(oc, sq_cost, &nan, 2, 2, 2.0, &err));
  EXPECT_STATUS(SCONES_STATUS_CALLBACK, scones_dual_train(&xs, &ys, oc, &none, &err));
  EXPECT(none == NULL, "a failed training wrote a dual");
  /* Dimensions the callback does not take, a NULL callback, a bad curvature bound. */
  struct host_cost ok = {0, 0, -1, 0};
  EXPECT_OK(scones_dual_options_set_callback_cost(oc, sq_cost, &ok, 1, 2, 2.0, &err));
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_dual_train(&xs, &ys, oc, &none, &err));
  EXPECT(ok.calls == 0, "a refused training called the cost");
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_callback_cost(oc, NULL, &ok, 2, 2, 2.0, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_callback_cost(oc, sq_cost, &ok, 2, 2, 0.0, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT,
                scones_dual_options_set_callback_cost(oc, sq_cost, &ok, 2, 2, NAN, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_cost(oc, SCONES_COST_CALLBACK, &err));
  scones_dual_free(builtin);
  scones_dual_free(hosted);
  scones_dual_options_free(ob);
  scones_dual_options_free(oc);
}

static void torchscript_cost(const char *dir, const char *module) {
  scones_matrix xs = scones_matrix_f64(g_x2, N, 2), ys = scones_matrix_f64(g_y, N, 2);
  scones_dual_options *o = small_options(30, 2);
  EXPECT_OK(scones_dual_options_set_torchscript_cost(o, module, 2, 2, 4.0, &err));
  scones_dual *dual = NULL, *back = NULL;
  EXPECT_OK(scones_dual_train(&xs, &ys, o, &dual, &err));
  EXPECT(problem_cost(dual) == SCONES_COST_TORCHSCRIPT, "problem of a TorchScript-cost dual");
  char path[1024];
  snprintf(path, sizeof path, "%s/torchscript.scones", dir);
  EXPECT_OK(scones_dual_save(dual, path, &err));
  EXPECT_OK(scones_dual_load(path, NULL, &back, &err));
  EXPECT(problem_cost(back) == SCONES_COST_TORCHSCRIPT, "the loaded dual lost its cost");
  double c1[NE * NE], c2[NE * NE];
  compat(dual, 2, 2, c1);
  compat(back, 2, 2, c2);
  EXPECT(memcmp(c1, c2, sizeof c1) == 0, "compatibilities changed through a file");
  sample_works(back, 2, "TorchScript cost");
  /* Dimensions the module does not take fail when it is checked; a missing file is IO. */
  EXPECT_STATUS(SCONES_STATUS_CALLBACK, scones_dual_options_set_torchscript_cost(o, module, 3, 2, 4.0, &err));
  EXPECT_STATUS(SCONES_STATUS_IO, scones_dual_options_set_torchscript_cost(o, "/nonexistent/c.pt", 2, 2, 4.0, &err));
  scones_spot_options *so = NULL;
  EXPECT_OK(scones_spot_options_new(&so, &err));
  EXPECT_OK(scones_spot_options_set_torchscript_cost(so, module, 2, 2, 4.0, &err));
  scones_spot_options_free(so);
  scones_dual_free(back);
  scones_dual_free(dual);
  scones_dual_options_free(o);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: costs <scratch-dir> <cost_softplus.pt>\n");
    return 2;
  }
  const char *dir = argv[1];
  draw(g_x, N, 1, 11);
  draw(g_y, N, 2, 12);
  draw(g_x2, N, 2, 13);
  linear_cost(dir);
  callback_cost(dir);
  torchscript_cost(dir, argv[2]);
  return finish("costs");
}
