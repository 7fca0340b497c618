/* cgo shims for the scones Go package: see shim.h. */
#include "shim.h"

#include "_cgo_export.h"

static int32_t go_progress(void *user, const scones_progress *p) {
  return goSconesProgress((uintptr_t)user, (scones_progress *)p);
}

scones_status go_dual_options_set_progress(scones_dual_options *o, uintptr_t handle, size_t every, scones_error **err) {
  return scones_dual_options_set_progress(o, handle ? go_progress : NULL, (void *)handle, every, err);
}
scones_status go_sampler_options_set_progress(scones_sampler_options *o, uintptr_t handle, size_t every, scones_error **err) {
  return scones_sampler_options_set_progress(o, handle ? go_progress : NULL, (void *)handle, every, err);
}

scones_status go_train_options_set_progress(scones_train_options *o, uintptr_t handle, size_t every, scones_error **err) {
  return scones_train_options_set_progress(o, handle ? go_progress : NULL, (void *)handle, every, err);
}
scones_status go_sampler_set_progress(scones_sampler *s, uintptr_t handle, size_t every, scones_error **err) {
  return scones_sampler_set_progress(s, handle ? go_progress : NULL, (void *)handle, every, err);
}
scones_status go_discrete_options_set_progress(scones_discrete_options *o, uintptr_t handle, size_t every,
                                               scones_error **err) {
  return scones_discrete_options_set_progress(o, handle ? go_progress : NULL, (void *)handle, every, err);
}
scones_status go_spot_options_set_progress(scones_spot_options *o, uintptr_t handle, size_t every, scones_error **err) {
  return scones_spot_options_set_progress(o, handle ? go_progress : NULL, (void *)handle, every, err);
}

static int32_t go_measure(void *user, size_t m, size_t d, uint64_t seed, double *out) {
  return goSconesMeasure((uintptr_t)user, m, d, seed, out);
}
static int32_t go_score(void *user, const double *y, size_t n, size_t d, double sigma, double *out) {
  return goSconesScore((uintptr_t)user, (double *)y, n, d, sigma, out);
}
scones_status go_measure_new_callback(size_t d, uintptr_t handle, scones_measure **out, scones_error **err) {
  return scones_measure_new_callback(d, go_measure, (void *)handle, out, err);
}
scones_status go_score_new_callback(size_t d, uintptr_t handle, scones_score **out, scones_error **err) {
  return scones_score_new_callback(d, go_score, (void *)handle, out, err);
}

scones_status go_dual_train(const void *xd, const go_shape *xs, const void *yd, const go_shape *ys,
                            const scones_dual_options *o, scones_dual **out, scones_error **err) {
  scones_matrix x = go_m(xd, xs), y = go_m(yd, ys);
  return scones_dual_train(&x, &y, o, out, err);
}
scones_status go_dual_potential(const scones_dual *dual, scones_potential which, const void *pd, const go_shape *ps,
                                void *od, const go_shape *os, scones_error **err) {
  scones_matrix p = go_m(pd, ps);
  scones_matrix_mut o = go_mm(od, os);
  return scones_dual_potential(dual, which, &p, &o, err);
}
scones_status go_dual_options_set_linear_cost(scones_dual_options *o, const void *ad, const go_shape *as,
                                              const void *bd, const go_shape *bs, scones_error **err) {
  scones_matrix a = go_m(ad, as), b = go_m(bd, bs);
  return scones_dual_options_set_linear_cost(o, &a, &b, err);
}
scones_status go_spot_options_set_linear_cost(scones_spot_options *o, const void *ad, const go_shape *as,
                                              const void *bd, const go_shape *bs, scones_error **err) {
  scones_matrix a = go_m(ad, as), b = go_m(bd, bs);
  return scones_spot_options_set_linear_cost(o, &a, &b, err);
}
scones_status go_dual_compatibility(const scones_dual *dual, const void *xd, const go_shape *xs, const void *yd,
                                    const go_shape *ys, void *od, const go_shape *os, scones_error **err) {
  scones_matrix x = go_m(xd, xs), y = go_m(yd, ys);
  scones_matrix_mut o = go_mm(od, os);
  return scones_dual_compatibility(dual, &x, &y, &o, err);
}
scones_status go_gaussian_random_covariance(size_t d, scones_spectrum spectrum, uint64_t seed, void *od,
                                            const go_shape *os, scones_error **err) {
  scones_matrix_mut o = go_mm(od, os);
  return scones_gaussian_random_covariance(d, spectrum, seed, &o, err);
}
scones_status go_gaussian_sample(const void *md, const go_shape *ms, const void *cd, const go_shape *cs, size_t n,
                                 uint64_t seed, void *od, const go_shape *os, scones_error **err) {
  scones_matrix m = go_m(md, ms), c = go_m(cd, cs);
  scones_matrix_mut o = go_mm(od, os);
  return scones_gaussian_sample(&m, &c, n, seed, &o, err);
}
scones_status go_gaussian_entropic_coupling(const void *ad, const go_shape *as, const void *bd, const go_shape *bs,
                                            double lambda, void *od, const go_shape *os, scones_error **err) {
  scones_matrix a = go_m(ad, as), b = go_m(bd, bs);
  scones_matrix_mut o = go_mm(od, os);
  return scones_gaussian_entropic_coupling(&a, &b, lambda, &o, err);
}
scones_status go_bw_uvp(const void *ad, const go_shape *as, const void *bd, const go_shape *bs, double *out,
                        scones_error **err) {
  scones_matrix a = go_m(ad, as), b = go_m(bd, bs);
  return scones_bw_uvp(&a, &b, out, err);
}
scones_status go_joint_covariance(const void *xd, const go_shape *xs, const void *yd, const go_shape *ys, void *od,
                                  const go_shape *os, scones_error **err) {
  scones_matrix x = go_m(xd, xs), y = go_m(yd, ys);
  scones_matrix_mut o = go_mm(od, os);
  return scones_joint_covariance(&x, &y, &o, err);
}
scones_status go_sliced_w2(const void *ad, const go_shape *as, const void *bd, const go_shape *bs, size_t projections,
                           uint64_t seed, double *out, scones_error **err) {
  scones_matrix a = go_m(ad, as), b = go_m(bd, bs);
  return scones_sliced_w2(&a, &b, projections, seed, out, err);
}
scones_status go_sample_batch(scones_sampler *s, const void *xd, const go_shape *xs, void *od, const go_shape *os,
                              scones_error **err) {
  scones_matrix x = go_m(xd, xs);
  scones_matrix_mut o = go_mm(od, os);
  return scones_sample_batch(s, &x, &o, err);
}
scones_status go_sample_batch_at(scones_sampler *s, uint64_t first, const void *xd, const go_shape *xs, void *od,
                                 const go_shape *os, scones_error **err) {
  scones_matrix x = go_m(xd, xs);
  scones_matrix_mut o = go_mm(od, os);
  return scones_sample_batch_at(s, first, &x, &o, err);
}
scones_status go_score_new_gaussian(const void *md, const go_shape *ms, const void *cd, const go_shape *cs,
                                    scones_score **out, scones_error **err) {
  scones_matrix m = go_m(md, ms), c = go_m(cd, cs);
  return scones_score_new_gaussian(&m, &c, out, err);
}
scones_status go_score_eval(const scones_score *score, const void *yd, const go_shape *ys, double sigma, void *od,
                            const go_shape *os, scones_error **err) {
  scones_matrix y = go_m(yd, ys);
  scones_matrix_mut o = go_mm(od, os);
  return scones_score_eval(score, &y, sigma, &o, err);
}
scones_status go_figure_scatter(scones_figure *f, size_t panel, const void *pd, const go_shape *ps, uint32_t rgba,
                                double radius, scones_error **err) {
  scones_matrix p = go_m(pd, ps);
  return scones_figure_scatter(f, panel, &p, rgba, radius, err);
}
scones_status go_figure_segments(scones_figure *f, size_t panel, const void *ad, const go_shape *as, const void *bd,
                                 const go_shape *bs, uint32_t rgba, scones_error **err) {
  scones_matrix a = go_m(ad, as), b = go_m(bd, bs);
  return scones_figure_segments(f, panel, &a, &b, rgba, err);
}
scones_status go_measure_new_points(const void *pd, const go_shape *ps, scones_measure **out, scones_error **err) {
  scones_matrix p = go_m(pd, ps);
  return scones_measure_new_points(&p, out, err);
}
scones_status go_sampler_options_set_init_resample(scones_sampler_options *o, const void *td, const go_shape *ts,
                                                  double sigma_start, scones_error **err) {
  scones_matrix t = go_m(td, ts);
  return scones_sampler_options_set_init_resample(o, &t, sigma_start, err);
}
scones_status go_score_new_empirical(const void *pd, const go_shape *ps, double bandwidth, scones_score **out,
                                     scones_error **err) {
  scones_matrix p = go_m(pd, ps);
  return scones_score_new_empirical(&p, bandwidth, out, err);
}
scones_status go_barycentric_map(const scones_barycentric *map, const void *xd, const go_shape *xs, void *od,
                                 const go_shape *os, scones_error **err) {
  scones_matrix x = go_m(xd, xs);
  scones_matrix_mut o = go_mm(od, os);
  return scones_barycentric_map(map, &x, &o, err);
}
scones_status go_toy_sample(scones_toy toy, size_t n, uint64_t seed, void *od, const go_shape *os, scones_error **err) {
  scones_matrix_mut o = go_mm(od, os);
  return scones_toy_sample(toy, n, seed, &o, err);
}

scones_status go_sinkhorn(const void *xd, const go_shape *xs, const void *yd, const go_shape *ys, const void *ad,
                          const go_shape *as, const void *bd, const go_shape *bs, scones_cost cost, double lambda,
                          const scones_discrete_options *o, void *fd, const go_shape *fs, void *gd, const go_shape *gs,
                          void *pd, const go_shape *ps, scones_discrete_report *report, scones_error **err) {
  scones_matrix x = go_m(xd, xs), y = go_m(yd, ys), a, b;
  scones_matrix_mut f = go_mm(fd, fs), g = go_mm(gd, gs), p;
  return scones_sinkhorn(&x, &y, go_opt_m(&a, ad, as), go_opt_m(&b, bd, bs), cost, lambda, o, &f, &g,
                         go_opt_mm(&p, pd, ps), report, err);
}
scones_status go_ipot(const void *xd, const go_shape *xs, const void *yd, const go_shape *ys, const void *ad,
                      const go_shape *as, const void *bd, const go_shape *bs, scones_cost cost,
                      const scones_discrete_options *o, void *pd, const go_shape *ps, scones_discrete_report *report,
                      scones_error **err) {
  scones_matrix x = go_m(xd, xs), y = go_m(yd, ys), a, b;
  scones_matrix_mut p = go_mm(pd, ps);
  return scones_ipot(&x, &y, go_opt_m(&a, ad, as), go_opt_m(&b, bd, bs), cost, o, &p, report, err);
}
scones_status go_discrete_fdual(const void *xd, const go_shape *xs, const void *yd, const go_shape *ys, const void *ad,
                                const go_shape *as, const void *bd, const go_shape *bs, scones_cost cost,
                                scones_regularizer regularizer, double lambda, const scones_discrete_options *o,
                                void *fd, const go_shape *fs, void *gd, const go_shape *gs, void *pd,
                                const go_shape *ps, scones_discrete_report *report, scones_error **err) {
  scones_matrix x = go_m(xd, xs), y = go_m(yd, ys), a, b;
  scones_matrix_mut f = go_mm(fd, fs), g = go_mm(gd, gs), p;
  return scones_discrete_fdual(&x, &y, go_opt_m(&a, ad, as), go_opt_m(&b, bd, bs), cost, regularizer, lambda, o, &f,
                               &g, go_opt_mm(&p, pd, ps), report, err);
}
scones_status go_sinkhorn_cost(const void *cd, const go_shape *cs, const void *ad, const go_shape *as, const void *bd,
                               const go_shape *bs, double lambda, const scones_discrete_options *o, void *fd,
                               const go_shape *fs, void *gd, const go_shape *gs, void *pd, const go_shape *ps,
                               scones_discrete_report *report, scones_error **err) {
  scones_matrix c = go_m(cd, cs), a, b;
  scones_matrix_mut f = go_mm(fd, fs), g = go_mm(gd, gs), p;
  return scones_sinkhorn_cost(&c, go_opt_m(&a, ad, as), go_opt_m(&b, bd, bs), lambda, o, &f, &g, go_opt_mm(&p, pd, ps),
                              report, err);
}
scones_status go_ipot_cost(const void *cd, const go_shape *cs, const void *ad, const go_shape *as, const void *bd,
                           const go_shape *bs, const scones_discrete_options *o, void *pd, const go_shape *ps,
                           scones_discrete_report *report, scones_error **err) {
  scones_matrix c = go_m(cd, cs), a, b;
  scones_matrix_mut p = go_mm(pd, ps);
  return scones_ipot_cost(&c, go_opt_m(&a, ad, as), go_opt_m(&b, bd, bs), o, &p, report, err);
}
scones_status go_discrete_fdual_cost(const void *cd, const go_shape *cs, const void *ad, const go_shape *as,
                                     const void *bd, const go_shape *bs, scones_regularizer regularizer, double lambda,
                                     const scones_discrete_options *o, void *fd, const go_shape *fs, void *gd,
                                     const go_shape *gs, void *pd, const go_shape *ps, scones_discrete_report *report,
                                     scones_error **err) {
  scones_matrix c = go_m(cd, cs), a, b;
  scones_matrix_mut f = go_mm(fd, fs), g = go_mm(gd, gs), p;
  return scones_discrete_fdual_cost(&c, go_opt_m(&a, ad, as), go_opt_m(&b, bd, bs), regularizer, lambda, o, &f, &g,
                                    go_opt_mm(&p, pd, ps), report, err);
}
scones_status go_assignment(const void *cd, const go_shape *cs, size_t *assignment, double *total_cost, void *ud,
                            const go_shape *us, void *vd, const go_shape *vs, scones_error **err) {
  scones_matrix c = go_m(cd, cs);
  scones_matrix_mut u, v;
  return scones_assignment(&c, assignment, total_cost, go_opt_mm(&u, ud, us), go_opt_mm(&v, vd, vs), err);
}

scones_status go_spot_train(const void *xd, const go_shape *xs, const void *yd, const go_shape *ys,
                            const scones_spot_options *o, scones_spot **out, scones_error **err) {
  scones_matrix x = go_m(xd, xs), y = go_m(yd, ys);
  return scones_spot_train(&x, &y, o, out, err);
}

scones_status go_spot_sample(const scones_spot *s, uint64_t seed, double *buf, size_t n, const size_t *dims,
                             size_t count, scones_error **err) {
  /* count comes from the plan's dims (at most 64 marginals); a larger one is refused by the
     library's count check (no view is read when the count is wrong). */
  scones_matrix_mut outs[64];
  if (count > 64) return scones_spot_sample(s, seed, outs, count, err);
  size_t offset = 0;
  for (size_t k = 0; k < count; k++) {
    outs[k] = scones_matrix_mut_f64(buf + offset, n, dims[k]);
    offset += n * dims[k];
  }
  return scones_spot_sample(s, seed, outs, count, err);
}

static int32_t go_cost(void *user, size_t m, size_t dx, size_t dy, const double *x, const double *y, double *values,
                       double *grad_y) {
  return goSconesCost((uintptr_t)user, m, dx, dy, (double *)x, (double *)y, values, grad_y);
}
scones_status go_dual_options_set_callback_cost(scones_dual_options *o, uintptr_t handle, size_t dx, size_t dy,
                                                double curvature, scones_error **err) {
  return scones_dual_options_set_callback_cost(o, go_cost, (void *)handle, dx, dy, curvature, err);
}

/* The collective's all-reduce: the Go trampoline receives the handle and the float buffer. */
static int32_t go_allreduce(void *user, float *buffer, size_t count) {
  return goSconesAllReduce((uintptr_t)user, buffer, count);
}
static scones_collective go_collective(size_t rank, size_t size, uintptr_t handle) {
  scones_collective c = {sizeof(scones_collective), rank, size, go_allreduce, (void *)handle};
  return c;
}
scones_status go_dual_options_set_collective(scones_dual_options *o, size_t rank, size_t size, uintptr_t handle,
                                             scones_error **err) {
  scones_collective c = go_collective(rank, size, handle);
  return scones_dual_options_set_collective(o, &c, err);
}
scones_status go_train_options_set_collective(scones_train_options *o, size_t rank, size_t size, uintptr_t handle,
                                              scones_error **err) {
  scones_collective c = go_collective(rank, size, handle);
  return scones_train_options_set_collective(o, &c, err);
}
