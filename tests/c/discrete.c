/*
 * The discrete OT entry points: Sinkhorn at small lambda, IPOT and the optimal assignment must
 * agree on a small problem; the f-divergence dual must meet its marginals for every regularizer
 * and give Sinkhorn's plan for KL; and every error path (NULL, shapes, NaN, lambda <= 0, unknown
 * enums, unset report size, cancellation through the progress callback) must return its status
 * with a message and write no output.
 */
#include "common.h"

#define N 7
#define M 9
static double g_x[N * 2], g_y[N * 2], g_z[M * 2];

static double sqdist(const double *p, const double *q) {
  return (p[0] - q[0]) * (p[0] - q[0]) + (p[1] - q[1]) * (p[1] - q[1]);
}

static int32_t cancel_at_second_report(void *user, const scones_progress *p) {
  int *calls = (int *)user;
  (*calls)++;
  EXPECT(p->struct_size >= sizeof(scones_progress), "progress struct_size %zu", p->struct_size);
  return *calls >= 2;
}

static int32_t count_reports(void *user, const scones_progress *p) {
  (void)p;
  (*(int *)user)++;
  return 0;
}

static void check_agreement(void) {
  double c[N * N], maxc = 0.0;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) {
      c[i * N + j] = sqdist(g_x + 2 * i, g_y + 2 * j);
      if (c[i * N + j] > maxc) maxc = c[i * N + j];
    }
  /* Exact optimum. */
  size_t perm[N];
  double total = 0.0, u[N], v[N];
  scones_matrix cm = scones_matrix_f64(c, N, N);
  scones_matrix_mut um = scones_matrix_mut_f64(u, N, 1), vm = scones_matrix_mut_f64(v, N, 1);
  EXPECT_OK(scones_assignment(&cm, perm, &total, &um, &vm, &err));
  double opt = total / N, dual = 0.0;
  for (int i = 0; i < N; i++) {
    dual += u[i] + v[i];
    EXPECT(fabs(c[i * N + perm[i]] - u[i] - v[perm[i]]) < 1e-12, "assigned pair %d not tight", i);
    for (int j = 0; j < N; j++) EXPECT(u[i] + v[j] <= c[i * N + j] + 1e-12, "dual infeasible at (%d, %d)", i, j);
  }
  EXPECT(fabs(dual - total) < 1e-12, "assignment duality gap %g", dual - total);
  EXPECT_OK(scones_assignment(&cm, perm, NULL, NULL, NULL, &err));

  scones_matrix x = scones_matrix_f64(g_x, N, 2), y = scones_matrix_f64(g_y, N, 2);
  scones_discrete_options *o = NULL;
  EXPECT_OK(scones_discrete_options_new(&o, &err));

  /* Sinkhorn at lambda = 1e-8 max C: the plan collapses onto the optimal permutation. */
  double f[N], g[N], plan[N * N];
  scones_matrix_mut fm = scones_matrix_mut_f64(f, N, 1), gm = scones_matrix_mut_f64(g, N, 1);
  scones_matrix_mut pm = scones_matrix_mut_f64(plan, N, N);
  scones_discrete_report rep;
  rep.struct_size = sizeof rep;
  int reports = 0;
  EXPECT_OK(scones_discrete_options_set_tolerance(o, 1e-9, &err));
  EXPECT_OK(scones_discrete_options_set_progress(o, count_reports, &reports, 5, &err));
  EXPECT_OK(scones_sinkhorn(&x, &y, NULL, NULL, SCONES_COST_SQEUCLIDEAN, 1e-8 * maxc, o, &fm, &gm, &pm, &rep, &err));
  EXPECT(rep.converged == 1 && rep.marginal_error <= 1e-9, "sinkhorn: converged %d, error %g", rep.converged, rep.marginal_error);
  EXPECT(fabs(rep.transport_cost - opt) <= 1e-6 * opt, "sinkhorn cost %.12g vs optimum %.12g", rep.transport_cost, opt);
  EXPECT(reports > 0 && reports <= (int)rep.iterations / 5 + 1, "%d progress reports for %llu iterations", reports,
         (unsigned long long)rep.iterations);
  for (int i = 0; i < N; i++) EXPECT(fabs(plan[i * N + perm[i]] - 1.0 / N) < 1e-6, "sinkhorn plan off the permutation at row %d", i);
  printf("sinkhorn: cost %.12g, optimum %.12g, %llu iterations\n", rep.transport_cost, opt, (unsigned long long)rep.iterations);
  /* Without a plan and without a report. */
  EXPECT_OK(scones_sinkhorn(&x, &y, NULL, NULL, SCONES_COST_SQEUCLIDEAN, 0.1, NULL, &fm, &gm, NULL, NULL, &err));

  /* IPOT converges to the unregularized optimum. */
  double iplan[N * N];
  scones_matrix_mut ipm = scones_matrix_mut_f64(iplan, N, N);
  EXPECT_OK(scones_discrete_options_set_ipot(o, 0.002, 1, &err));
  EXPECT_OK(scones_discrete_options_set_max_iterations(o, 2000, &err));
  EXPECT_OK(scones_ipot(&x, &y, NULL, NULL, SCONES_COST_SQEUCLIDEAN, o, &ipm, &rep, &err));
  EXPECT(fabs(rep.transport_cost - opt) <= 1e-6 * opt, "ipot cost %.12g vs optimum %.12g", rep.transport_cost, opt);
  EXPECT(rep.marginal_error < 1e-8, "ipot marginal error %g", rep.marginal_error);
  printf("ipot: cost %.12g after %llu steps\n", rep.transport_cost, (unsigned long long)rep.iterations);
  scones_discrete_options_free(o);

  /* f-divergence dual: KL gives Sinkhorn's plan; every regularizer meets its marginals. Source
     and target of different sizes, non-uniform source weights given as an f32 column view. */
  float wa32[N];
  double wa[N], s = 0.0;
  for (int i = 0; i < N; i++) s += (wa[i] = 1.0 + 0.1 * i);
  for (int i = 0; i < N; i++) wa32[i] = (float)(wa[i] / s), wa[i] = wa32[i];
  s = 0.0;
  for (int i = 0; i < N; i++) s += wa[i];
  for (int i = 0; i < N; i++) wa[i] /= s; /* what the library normalizes to */
  scones_matrix a = {wa32, N, 1, 1, 0, SCONES_DTYPE_F32};
  scones_matrix z = scones_matrix_f64(g_z, M, 2);
  double sf[N], sg[M], splan[N * M], phi[N], psi[M], fplan[N * M];
  scones_matrix_mut sfm = scones_matrix_mut_f64(sf, N, 1), sgm = scones_matrix_mut_f64(sg, M, 1), spm = scones_matrix_mut_f64(splan, N, M);
  scones_matrix_mut phim = scones_matrix_mut_f64(phi, N, 1), psim = scones_matrix_mut_f64(psi, M, 1), fpm = scones_matrix_mut_f64(fplan, N, M);
  EXPECT_OK(scones_discrete_options_new(&o, &err));
  EXPECT_OK(scones_discrete_options_set_tolerance(o, 1e-12, &err));
  EXPECT_OK(scones_sinkhorn(&x, &z, &a, NULL, SCONES_COST_SQEUCLIDEAN, 0.05, o, &sfm, &sgm, &spm, NULL, &err));
  scones_discrete_options_free(o);
  for (scones_regularizer r = SCONES_REGULARIZER_KL; r <= SCONES_REGULARIZER_GAN; r++) {
    EXPECT_OK(scones_discrete_fdual(&x, &z, &a, NULL, SCONES_COST_SQEUCLIDEAN, r, 0.05, NULL, &phim, &psim, &fpm, &rep, &err));
    EXPECT(rep.converged == 1 && rep.marginal_error <= 1e-9, "fdual %d: gradient norm %g", r, rep.marginal_error);
    double worst = 0.0;
    for (int i = 0; i < N; i++) {
      double row = 0.0;
      for (int j = 0; j < M; j++) row += fplan[i * M + j];
      worst = fmax(worst, fabs(row - wa[i]));
    }
    for (int j = 0; j < M; j++) {
      double col = 0.0;
      for (int i = 0; i < N; i++) col += fplan[i * M + j];
      worst = fmax(worst, fabs(col - 1.0 / M));
    }
    EXPECT(worst < 1e-8, "fdual %d: marginal error %g", r, worst);
    if (r == SCONES_REGULARIZER_KL || r == SCONES_REGULARIZER_KL_CUTURI) {
      double d = 0.0;
      for (int k = 0; k < N * M; k++) d = fmax(d, fabs(fplan[k] - splan[k]));
      EXPECT(d < 1e-6, "fdual %d plan differs from Sinkhorn's by %g", r, d);
    }
  }
}

static void check_errors(void) {
  scones_matrix x = scones_matrix_f64(g_x, N, 2), y = scones_matrix_f64(g_y, N, 2), z = scones_matrix_f64(g_z, M, 2);
  double f[N], g[N], plan[N * N], big[M];
  for (int i = 0; i < N; i++) f[i] = 12345.0;
  scones_matrix_mut fm = scones_matrix_mut_f64(f, N, 1), gm = scones_matrix_mut_f64(g, N, 1);
  scones_matrix_mut pm = scones_matrix_mut_f64(plan, N, N), bigm = scones_matrix_mut_f64(big, M, 1);
  const int32_t C = SCONES_COST_SQEUCLIDEAN;
#define SK(st, xs, ys, wa, lam, opts, fo, go, po, rp) \
  EXPECT_STATUS(st, scones_sinkhorn(xs, ys, wa, NULL, C, lam, opts, fo, go, po, rp, &err))
  /* NULL inputs and outputs. */
  SK(SCONES_STATUS_INVALID_ARGUMENT, NULL, &y, NULL, 0.1, NULL, &fm, &gm, NULL, NULL);
  SK(SCONES_STATUS_INVALID_ARGUMENT, &x, NULL, NULL, 0.1, NULL, &fm, &gm, NULL, NULL);
  SK(SCONES_STATUS_INVALID_ARGUMENT, &x, &y, NULL, 0.1, NULL, NULL, &gm, NULL, NULL);
  SK(SCONES_STATUS_INVALID_ARGUMENT, &x, &y, NULL, 0.1, NULL, &fm, NULL, NULL, NULL);
  /* Shapes: output rows, plan shape, weights length, point dimensions. */
  SK(SCONES_STATUS_SHAPE_MISMATCH, &x, &y, NULL, 0.1, NULL, &bigm, &gm, NULL, NULL);
  SK(SCONES_STATUS_SHAPE_MISMATCH, &x, &z, NULL, 0.1, NULL, &fm, &gm, NULL, NULL);
  SK(SCONES_STATUS_SHAPE_MISMATCH, &x, &y, NULL, 0.1, NULL, &fm, &gm, &bigm, NULL);
  double w[M];
  for (int i = 0; i < M; i++) w[i] = 1.0 / M;
  scones_matrix wm = scones_matrix_f64(w, 1, M);
  SK(SCONES_STATUS_SHAPE_MISMATCH, &x, &y, &wm, 0.1, NULL, &fm, &gm, NULL, NULL);
  scones_matrix wbad = scones_matrix_f64(w, 1, N); /* N entries of 1/M: do not sum to 1 */
  SK(SCONES_STATUS_INVALID_ARGUMENT, &x, &y, &wbad, 0.1, NULL, &fm, &gm, NULL, NULL);
  double y3[N * 3] = {0};
  scones_matrix y3m = scones_matrix_f64(y3, N, 3);
  SK(SCONES_STATUS_SHAPE_MISMATCH, &x, &y3m, NULL, 0.1, NULL, &fm, &gm, NULL, NULL);
  /* NaN and infinity. */
  double xn[N * 2];
  memcpy(xn, g_x, sizeof xn);
  xn[5] = NAN;
  scones_matrix xnm = scones_matrix_f64(xn, N, 2);
  SK(SCONES_STATUS_NON_FINITE, &xnm, &y, NULL, 0.1, NULL, &fm, &gm, NULL, NULL);
  xn[5] = INFINITY;
  SK(SCONES_STATUS_NON_FINITE, &xnm, &y, NULL, 0.1, NULL, &fm, &gm, NULL, NULL);
  /* lambda <= 0 or not finite. */
  SK(SCONES_STATUS_INVALID_ARGUMENT, &x, &y, NULL, 0.0, NULL, &fm, &gm, NULL, NULL);
  SK(SCONES_STATUS_INVALID_ARGUMENT, &x, &y, NULL, -1.0, NULL, &fm, &gm, NULL, NULL);
  SK(SCONES_STATUS_INVALID_ARGUMENT, &x, &y, NULL, NAN, NULL, &fm, &gm, NULL, NULL);
  /* Unknown cost. */
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sinkhorn(&x, &y, NULL, NULL, 42, 0.1, NULL, &fm, &gm, NULL, NULL, &err));
  /* Report without struct_size. */
  scones_discrete_report rep;
  rep.struct_size = 0;
  SK(SCONES_STATUS_INVALID_ARGUMENT, &x, &y, NULL, 0.1, NULL, &fm, &gm, NULL, &rep);
  for (int i = 0; i < N; i++) EXPECT(f[i] == 12345.0, "f written by a failed call");

  /* Options. */
  scones_discrete_options *o = NULL;
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_discrete_options_new(NULL, &err));
  EXPECT_OK(scones_discrete_options_new(&o, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_discrete_options_set_tolerance(NULL, 1e-6, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_discrete_options_set_tolerance(o, 0.0, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_discrete_options_set_tolerance(o, NAN, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_discrete_options_set_max_iterations(o, 0, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_discrete_options_set_ipot(o, 0.0, 1, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_discrete_options_set_ipot(o, 0.05, 0, &err));
  int calls = 0;
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_discrete_options_set_progress(o, cancel_at_second_report, &calls, 0, &err));
  scones_discrete_options_free(NULL);

  /* Cancellation through the progress callback, in each iterative solver. */
  EXPECT_OK(scones_discrete_options_set_progress(o, cancel_at_second_report, &calls, 1, &err));
  SK(SCONES_STATUS_CANCELLED, &x, &y, NULL, 1e-3, o, &fm, &gm, NULL, NULL);
  EXPECT(calls == 2, "sinkhorn: %d progress calls before cancelling", calls);
  for (int i = 0; i < N; i++) EXPECT(f[i] == 12345.0, "f written by a cancelled call");
  calls = 0;
  EXPECT_STATUS(SCONES_STATUS_CANCELLED, scones_ipot(&x, &y, NULL, NULL, C, o, &pm, NULL, &err));
  EXPECT(calls == 2, "ipot: %d progress calls before cancelling", calls);
  calls = 0;
  EXPECT_STATUS(SCONES_STATUS_CANCELLED,
                scones_discrete_fdual(&x, &y, NULL, NULL, C, SCONES_REGULARIZER_CHI_SQUARE, 1e-3, o, &fm, &gm, NULL, NULL, &err));
  EXPECT(calls == 2, "fdual: %d progress calls before cancelling", calls);
  scones_discrete_options_free(o);

  /* IPOT: NULL, shape, NaN, unknown cost. */
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_ipot(&x, &y, NULL, NULL, C, NULL, NULL, NULL, &err));
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_ipot(&x, &z, NULL, NULL, C, NULL, &pm, NULL, &err));
  EXPECT_STATUS(SCONES_STATUS_NON_FINITE, scones_ipot(&xnm, &y, NULL, NULL, C, NULL, &pm, NULL, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_ipot(&x, &y, NULL, NULL, -1, NULL, &pm, NULL, &err));

  /* f-divergence dual: unknown regularizer, lambda <= 0, NULL, shape, NaN. */
#define FD(st, xs, reg, lam, fo) \
  EXPECT_STATUS(st, scones_discrete_fdual(xs, &y, NULL, NULL, C, reg, lam, NULL, fo, &gm, NULL, NULL, &err))
  FD(SCONES_STATUS_INVALID_ARGUMENT, &x, 99, 0.1, &fm);
  FD(SCONES_STATUS_INVALID_ARGUMENT, &x, -1, 0.1, &fm);
  FD(SCONES_STATUS_INVALID_ARGUMENT, &x, SCONES_REGULARIZER_GAN, 0.0, &fm);
  FD(SCONES_STATUS_INVALID_ARGUMENT, &x, SCONES_REGULARIZER_GAN, -2.0, &fm);
  FD(SCONES_STATUS_INVALID_ARGUMENT, &x, SCONES_REGULARIZER_GAN, INFINITY, &fm);
  FD(SCONES_STATUS_INVALID_ARGUMENT, &x, SCONES_REGULARIZER_GAN, 0.1, NULL);
  FD(SCONES_STATUS_INVALID_ARGUMENT, NULL, SCONES_REGULARIZER_GAN, 0.1, &fm);
  FD(SCONES_STATUS_SHAPE_MISMATCH, &x, SCONES_REGULARIZER_GAN, 0.1, &bigm);
  FD(SCONES_STATUS_NON_FINITE, &xnm, SCONES_REGULARIZER_GAN, 0.1, &fm);

  /* Assignment: NULL, non-square, NaN, dual output shape. */
  double c[N * N], cn[N * M];
  for (int k = 0; k < N * N; k++) c[k] = (double)((k * 7) % 11);
  for (int k = 0; k < N * M; k++) cn[k] = 1.0;
  size_t perm[N];
  scones_matrix cm = scones_matrix_f64(c, N, N), cnm = scones_matrix_f64(cn, N, M);
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_assignment(NULL, perm, NULL, NULL, NULL, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_assignment(&cm, NULL, NULL, NULL, NULL, &err));
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_assignment(&cnm, perm, NULL, NULL, NULL, &err));
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_assignment(&cm, perm, NULL, &bigm, NULL, &err));
  c[3] = NAN;
  EXPECT_STATUS(SCONES_STATUS_NON_FINITE, scones_assignment(&cm, perm, NULL, NULL, NULL, &err));
#undef SK
#undef FD
}

int main(void) {
  /* Deterministic points in the unit square. */
  unsigned s = 12345;
  double *all[3] = {g_x, g_y, g_z};
  int sizes[3] = {N, N, M};
  for (int k = 0; k < 3; k++)
    for (int i = 0; i < 2 * sizes[k]; i++) {
      s = s * 1103515245u + 12345u;
      all[k][i] = (double)((s >> 8) & 0xFFFF) / 65536.0;
    }
  check_agreement();
  check_errors();
  return finish("discrete");
}
