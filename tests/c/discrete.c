/*
 * The discrete OT entry points: Sinkhorn at small lambda, IPOT and the optimal assignment must
 * agree on a small problem; the f-divergence dual must meet its marginals for every regularizer
 * and give Sinkhorn's plan for KL; and every error path (NULL, shapes, NaN, lambda <= 0, unknown
 * enums, unset report size, cancellation through the progress callback) must return its status
 * with a message and write no output. The dense cost-matrix entries (ABI 0.2) must agree with
 * the point-set ones and with a 2 x 2 closed form.
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

/* Counts reports, checking the 0.2 contract: the discrete phase, with marginal_error present
   (struct_size says so) and a finite l1 violation. */
static int32_t count_reports(void *user, const scones_progress *p) {
  EXPECT(p->phase == SCONES_PHASE_DISCRETE, "discrete solver reported phase %d", p->phase);
  EXPECT(p->struct_size >= offsetof(scones_progress, marginal_error) + sizeof(double), "struct_size %zu", p->struct_size);
  EXPECT(isfinite(p->marginal_error) && p->marginal_error >= 0.0, "marginal_error %g", p->marginal_error);
  EXPECT(isnan(p->acceptance) && isnan(p->mean_compatibility), "fields of other phases must be NaN");
  (*(int *)user)++;
  return 0;
}

static double max_diff(const double *p, const double *q, int n) {
  double d = 0.0;
  for (int k = 0; k < n; k++) d = fmax(d, fabs(p[k] - q[k]));
  return d;
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

/* The dense cost-matrix entry points (ABI 0.2): on the cost matrix of two point sets they
   return what the point-set entries return, to 1e-10; on a 2 x 2 problem they give the closed
   form; and they validate the matrix and its weights like every other input. */
static void check_dense(void) {
  double c[N * M], ct[M * N], w[N];
  for (int i = 0; i < N; i++) {
    w[i] = (1.0 + 0.3 * i) / (N + 0.3 * N * (N - 1) / 2.0);
    for (int j = 0; j < M; j++) c[i * M + j] = ct[j * N + i] = sqdist(g_x + 2 * i, g_z + 2 * j);
  }
  scones_matrix x = scones_matrix_f64(g_x, N, 2), z = scones_matrix_f64(g_z, M, 2);
  scones_matrix cm = scones_matrix_f64(c, N, M), wm = scones_matrix_f64(w, N, 1);
  /* The same matrix read through the strides of its transpose's storage. */
  scones_matrix cmt = {ct, N, M, 1, N, SCONES_DTYPE_F64};
  scones_discrete_options *o = NULL;
  EXPECT_OK(scones_discrete_options_new(&o, &err));
  EXPECT_OK(scones_discrete_options_set_tolerance(o, 1e-12, &err));
  int reports = 0;
  EXPECT_OK(scones_discrete_options_set_progress(o, count_reports, &reports, 1, &err));
  double f1[N], g1[M], p1[N * M], f2[N], g2[M], p2[N * M];
  scones_matrix_mut f1m = scones_matrix_mut_f64(f1, N, 1), g1m = scones_matrix_mut_f64(g1, M, 1), p1m = scones_matrix_mut_f64(p1, N, M);
  scones_matrix_mut f2m = scones_matrix_mut_f64(f2, N, 1), g2m = scones_matrix_mut_f64(g2, M, 1), p2m = scones_matrix_mut_f64(p2, N, M);
  scones_discrete_report r1, r2;
  r1.struct_size = r2.struct_size = sizeof r1;
  const int32_t C = SCONES_COST_SQEUCLIDEAN;

  EXPECT_OK(scones_sinkhorn(&x, &z, &wm, NULL, C, 0.05, o, &f1m, &g1m, &p1m, &r1, &err));
  EXPECT_OK(scones_sinkhorn_cost(&cmt, &wm, NULL, 0.05, o, &f2m, &g2m, &p2m, &r2, &err));
  double d = fmax(fmax(max_diff(f1, f2, N), max_diff(g1, g2, M)), max_diff(p1, p2, N * M));
  EXPECT(d <= 1e-10 && fabs(r1.transport_cost - r2.transport_cost) <= 1e-10, "sinkhorn dense vs points: %g", d);
  EXPECT(r2.converged == 1 && r2.marginal_error <= 1e-12, "sinkhorn_cost: converged %d error %g", r2.converged, r2.marginal_error);
  printf("sinkhorn_cost vs sinkhorn: max difference %.3g over f, g, plan\n", d);

  EXPECT_OK(scones_ipot(&x, &z, &wm, NULL, C, NULL, &p1m, &r1, &err));
  EXPECT_OK(scones_ipot_cost(&cm, &wm, NULL, NULL, &p2m, &r2, &err));
  d = max_diff(p1, p2, N * M);
  EXPECT(d <= 1e-10 && fabs(r1.transport_cost - r2.transport_cost) <= 1e-10, "ipot dense vs points: %g", d);
  printf("ipot_cost vs ipot: max difference %.3g over the plan\n", d);

  double worst = 0.0;
  for (scones_regularizer reg = SCONES_REGULARIZER_KL; reg <= SCONES_REGULARIZER_GAN; reg++) {
    EXPECT_OK(scones_discrete_fdual(&x, &z, &wm, NULL, C, reg, 0.05, o, &f1m, &g1m, &p1m, &r1, &err));
    EXPECT_OK(scones_discrete_fdual_cost(&cm, &wm, NULL, reg, 0.05, o, &f2m, &g2m, &p2m, &r2, &err));
    d = fmax(fmax(max_diff(f1, f2, N), max_diff(g1, g2, M)), max_diff(p1, p2, N * M));
    EXPECT(d <= 1e-10 && fabs(r1.objective - r2.objective) <= 1e-10, "fdual %d dense vs points: %g", reg, d);
    worst = fmax(worst, d);
  }
  printf("discrete_fdual_cost vs discrete_fdual: max difference %.3g over 7 regularizers\n", worst);
  EXPECT(reports > 0, "no progress reports from the dense solvers");

  /* 2 x 2, uniform weights: the marginals force P = [[p, 1/2 - p], [1/2 - p, p]], and the KL
     optimum's cross ratio P11 P22 / (P12 P21) = exp(-(C11 + C22 - C12 - C21) / lambda) gives
     p / (1/2 - p) = r = exp(-(C11 + C22 - C12 - C21) / (2 lambda)). Unregularized, the diagonal
     wins since C11 + C22 < C12 + C21: p = 1/2. */
  double c2[4] = {0.2, 1.0, 0.7, 0.1}, lambda = 0.5, r = exp(-(0.2 + 0.1 - 1.0 - 0.7) / (2 * lambda));
  double p = r / (2.0 * (1.0 + r)), want[4] = {p, 0.5 - p, 0.5 - p, p}, f[2], g[2], plan[4];
  double want_cost = 0.2 * p + 1.0 * (0.5 - p) + 0.7 * (0.5 - p) + 0.1 * p;
  scones_matrix c2m = scones_matrix_f64(c2, 2, 2);
  scones_matrix_mut fm = scones_matrix_mut_f64(f, 2, 1), gm = scones_matrix_mut_f64(g, 2, 1), pm = scones_matrix_mut_f64(plan, 2, 2);
  EXPECT_OK(scones_discrete_options_set_progress(o, NULL, NULL, 1, &err));
  EXPECT_OK(scones_sinkhorn_cost(&c2m, NULL, NULL, lambda, o, &fm, &gm, &pm, &r2, &err));
  EXPECT(max_diff(plan, want, 4) <= 1e-12 && fabs(r2.transport_cost - want_cost) <= 1e-12,
         "sinkhorn 2x2: plan (%.15g %.15g %.15g %.15g), p = %.15g", plan[0], plan[1], plan[2], plan[3], p);
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++) {
      double kkt = 0.25 * exp((f[i] + g[j] - c2[2 * i + j]) / lambda);
      EXPECT(fabs(kkt - plan[2 * i + j]) <= 1e-12, "sinkhorn 2x2: potentials do not give the plan at (%d, %d)", i, j);
    }
  EXPECT_OK(scones_discrete_fdual_cost(&c2m, NULL, NULL, SCONES_REGULARIZER_KL, lambda, o, &fm, &gm, &pm, NULL, &err));
  EXPECT(max_diff(plan, want, 4) <= 1e-10, "fdual KL 2x2 plan off the closed form by %g", max_diff(plan, want, 4));
  double diag[4] = {0.5, 0.0, 0.0, 0.5};
  EXPECT_OK(scones_ipot_cost(&c2m, NULL, NULL, o, &pm, &r2, &err));
  EXPECT(max_diff(plan, diag, 4) <= 1e-9 && fabs(r2.transport_cost - 0.15) <= 1e-9, "ipot 2x2 cost %.12g", r2.transport_cost);
  /* f32 storage reads the same matrix (the values are exact in f32 up to rounding). */
  float c32[4] = {0.2f, 1.0f, 0.7f, 0.1f};
  scones_matrix c32m = scones_matrix_f32(c32, 2, 2);
  EXPECT_OK(scones_ipot_cost(&c32m, NULL, NULL, o, &pm, NULL, &err));
  EXPECT(max_diff(plan, diag, 4) <= 1e-9, "ipot 2x2 on f32 storage");
  printf("2x2 closed form: p = %.15g, sinkhorn_cost plan (%.15g, %.15g)\n", p, want[0], want[1]);
  scones_discrete_options_free(o);

  /* Validation: NULL cost, weights that do not match the matrix's sides, non-finite entries
     (negative infinity too: a "forbidden pair" must be a large finite cost), outputs of the
     wrong shape; nothing is written on failure. */
  for (int k = 0; k < N; k++) f1[k] = 12345.0;
  scones_matrix wz = scones_matrix_f64(w, 1, M > N ? N - 1 : N + 1);
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sinkhorn_cost(NULL, NULL, NULL, 0.1, NULL, &f1m, &g1m, NULL, NULL, &err));
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_sinkhorn_cost(&cm, &wz, NULL, 0.1, NULL, &f1m, &g1m, NULL, NULL, &err));
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_sinkhorn_cost(&cm, NULL, &wm, 0.1, NULL, &f1m, &g1m, NULL, NULL, &err));
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_sinkhorn_cost(&cm, NULL, NULL, 0.1, NULL, &g1m, &f1m, NULL, NULL, &err));
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_sinkhorn_cost(&cm, NULL, NULL, 0.1, NULL, &f1m, &g1m, &pm, NULL, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sinkhorn_cost(&cm, NULL, NULL, 0.0, NULL, &f1m, &g1m, NULL, NULL, &err));
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_ipot_cost(&cm, NULL, &wm, NULL, &p1m, NULL, &err));
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH,
                scones_discrete_fdual_cost(&cm, &wz, NULL, SCONES_REGULARIZER_KL, 0.1, NULL, &f1m, &g1m, NULL, NULL, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT,
                scones_discrete_fdual_cost(&cm, NULL, NULL, 99, 0.1, NULL, &f1m, &g1m, NULL, NULL, &err));
  for (int k = 0; k < 3; k++) {
    double bad = k == 0 ? NAN : k == 1 ? INFINITY : -INFINITY, keep = c[5];
    c[5] = bad;
    EXPECT_STATUS(SCONES_STATUS_NON_FINITE, scones_sinkhorn_cost(&cm, NULL, NULL, 0.1, NULL, &f1m, &g1m, NULL, NULL, &err));
    EXPECT_STATUS(SCONES_STATUS_NON_FINITE, scones_ipot_cost(&cm, NULL, NULL, NULL, &p1m, NULL, &err));
    EXPECT_STATUS(SCONES_STATUS_NON_FINITE,
                  scones_discrete_fdual_cost(&cm, NULL, NULL, SCONES_REGULARIZER_GAN, 0.1, NULL, &f1m, &g1m, NULL, NULL, &err));
    c[5] = keep;
  }
  for (int k = 0; k < N; k++) EXPECT(f1[k] == 12345.0, "f written by a failed dense call");
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
  check_dense();
  return finish("discrete");
}
