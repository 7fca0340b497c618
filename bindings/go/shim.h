/*
 * cgo shims for the scones Go package.
 *
 * cgo's pointer rules forbid passing C a pointer to Go memory that itself holds a Go pointer, and
 * a scones_matrix built in Go memory would hold one (its data field points at a Go slice). So a
 * matrix crosses as two arguments, the data pointer and a pointer-free shape, and the shims
 * below assemble the scones_matrix on the C stack. Functions without matrix arguments are called
 * directly from Go. Adding a function with matrix arguments means one shim here.
 */
#ifndef SCONES_GO_SHIM_H
#define SCONES_GO_SHIM_H
#include <stdint.h>
#include <stdlib.h>

#include "scones.h"

/* The shape and layout of a matrix view, without its data pointer. */
typedef struct go_shape {
  size_t rows;
  size_t cols;
  ptrdiff_t row_stride;
  ptrdiff_t col_stride;
  scones_dtype dtype;
} go_shape;

static inline scones_matrix go_m(const void *data, const go_shape *s) {
  scones_matrix m = {data, s->rows, s->cols, s->row_stride, s->col_stride, s->dtype};
  return m;
}
static inline scones_matrix_mut go_mm(void *data, const go_shape *s) {
  scones_matrix_mut m = {data, s->rows, s->cols, s->row_stride, s->col_stride, s->dtype};
  return m;
}

/* An optional matrix: NULL when its shape is NULL. */
static inline const scones_matrix *go_opt_m(scones_matrix *m, const void *data, const go_shape *s) {
  if (!s) return NULL;
  *m = go_m(data, s);
  return m;
}
static inline const scones_matrix_mut *go_opt_mm(scones_matrix_mut *m, void *data, const go_shape *s) {
  if (!s) return NULL;
  *m = go_mm(data, s);
  return m;
}

/* Linear costs: A and B cross as data pointers and shapes like every matrix. */
scones_status go_dual_options_set_linear_cost(scones_dual_options *o, const void *ad, const go_shape *as,
                                              const void *bd, const go_shape *bs, scones_error **err);
scones_status go_spot_options_set_linear_cost(scones_spot_options *o, const void *ad, const go_shape *as,
                                              const void *bd, const go_shape *bs, scones_error **err);

/* A host cost: user_data carries a runtime/cgo.Handle of the Go function's state. */
scones_status go_dual_options_set_callback_cost(scones_dual_options *o, uintptr_t handle, size_t dx, size_t dy,
                                                double curvature, scones_error **err);

/* A collective for data-parallel training: user_data carries a runtime/cgo.Handle of the call's
 * progressState, whose AllReduceFunc the trampoline calls. */
scones_status go_dual_options_set_collective(scones_dual_options *o, size_t rank, size_t size, uintptr_t handle,
                                             scones_error **err);
scones_status go_train_options_set_collective(scones_train_options *o, size_t rank, size_t size, uintptr_t handle,
                                              scones_error **err);

/* Progress: user_data carries a runtime/cgo.Handle (an integer, not a Go pointer). */
scones_status go_dual_options_set_progress(scones_dual_options *o, uintptr_t handle, size_t every, scones_error **err);
scones_status go_sampler_options_set_progress(scones_sampler_options *o, uintptr_t handle, size_t every, scones_error **err);

scones_status go_train_options_set_progress(scones_train_options *o, uintptr_t handle, size_t every, scones_error **err);
scones_status go_sampler_set_progress(scones_sampler *s, uintptr_t handle, size_t every, scones_error **err);
scones_status go_discrete_options_set_progress(scones_discrete_options *o, uintptr_t handle, size_t every,
                                               scones_error **err);
scones_status go_spot_options_set_progress(scones_spot_options *o, uintptr_t handle, size_t every, scones_error **err);

/* Host callbacks: user_data carries a runtime/cgo.Handle of the Go function's state. */
scones_status go_measure_new_callback(size_t d, uintptr_t handle, scones_measure **out, scones_error **err);
scones_status go_score_new_callback(size_t d, uintptr_t handle, scones_score **out, scones_error **err);

/* Matrix-taking functions: (data, shape) pairs in place of scones_matrix pointers. */
scones_status go_dual_train(const void *xd, const go_shape *xs, const void *yd, const go_shape *ys,
                            const scones_dual_options *o, scones_dual **out, scones_error **err);
scones_status go_dual_potential(const scones_dual *dual, scones_potential which, const void *pd, const go_shape *ps,
                                void *od, const go_shape *os, scones_error **err);
scones_status go_dual_compatibility(const scones_dual *dual, const void *xd, const go_shape *xs, const void *yd,
                                    const go_shape *ys, void *od, const go_shape *os, scones_error **err);
scones_status go_gaussian_random_covariance(size_t d, scones_spectrum spectrum, uint64_t seed, void *od,
                                            const go_shape *os, scones_error **err);
scones_status go_gaussian_sample(const void *md, const go_shape *ms, const void *cd, const go_shape *cs, size_t n,
                                 uint64_t seed, void *od, const go_shape *os, scones_error **err);
scones_status go_gaussian_entropic_coupling(const void *ad, const go_shape *as, const void *bd, const go_shape *bs,
                                            double lambda, void *od, const go_shape *os, scones_error **err);
scones_status go_bw_uvp(const void *ad, const go_shape *as, const void *bd, const go_shape *bs, double *out,
                        scones_error **err);
scones_status go_joint_covariance(const void *xd, const go_shape *xs, const void *yd, const go_shape *ys, void *od,
                                  const go_shape *os, scones_error **err);
scones_status go_sliced_w2(const void *ad, const go_shape *as, const void *bd, const go_shape *bs, size_t projections,
                           uint64_t seed, double *out, scones_error **err);
scones_status go_sample_batch(scones_sampler *s, const void *xd, const go_shape *xs, void *od, const go_shape *os,
                              scones_error **err);
scones_status go_sample_batch_at(scones_sampler *s, uint64_t first, const void *xd, const go_shape *xs, void *od,
                                 const go_shape *os, scones_error **err);
scones_status go_score_new_gaussian(const void *md, const go_shape *ms, const void *cd, const go_shape *cs,
                                    scones_score **out, scones_error **err);
scones_status go_score_eval(const scones_score *score, const void *yd, const go_shape *ys, double sigma, void *od,
                            const go_shape *os, scones_error **err);
scones_status go_figure_scatter(scones_figure *f, size_t panel, const void *pd, const go_shape *ps, uint32_t rgba,
                                double radius, scones_error **err);
scones_status go_figure_segments(scones_figure *f, size_t panel, const void *ad, const go_shape *as, const void *bd,
                                 const go_shape *bs, uint32_t rgba, scones_error **err);
scones_status go_measure_new_points(const void *pd, const go_shape *ps, scones_measure **out, scones_error **err);
scones_status go_sampler_options_set_init_resample(scones_sampler_options *o, const void *td, const go_shape *ts,
                                                  double sigma_start, scones_error **err);
scones_status go_score_new_empirical(const void *pd, const go_shape *ps, double bandwidth, scones_score **out,
                                     scones_error **err);
scones_status go_barycentric_map(const scones_barycentric *map, const void *xd, const go_shape *xs, void *od,
                                 const go_shape *os, scones_error **err);
scones_status go_toy_sample(scones_toy toy, size_t n, uint64_t seed, void *od, const go_shape *os, scones_error **err);
scones_status go_spot_train(const void *xd, const go_shape *xs, const void *yd, const go_shape *ys,
                            const scones_spot_options *o, scones_spot **out, scones_error **err);
/* SPOT's paired samples: `count` row-major f64 blocks of n x dims[k], one after the other in buf
   (n * sum(dims) doubles), so that Go passes one pointer-free buffer. */
scones_status go_spot_sample(const scones_spot *s, uint64_t seed, double *buf, size_t n, const size_t *dims,
                             size_t count, scones_error **err);

/* Discrete OT: optional matrices (weights, plan, duals) pass a NULL shape. */
scones_status go_sinkhorn(const void *xd, const go_shape *xs, const void *yd, const go_shape *ys, const void *ad,
                          const go_shape *as, const void *bd, const go_shape *bs, scones_cost cost, double lambda,
                          const scones_discrete_options *o, void *fd, const go_shape *fs, void *gd, const go_shape *gs,
                          void *pd, const go_shape *ps, scones_discrete_report *report, scones_error **err);
scones_status go_ipot(const void *xd, const go_shape *xs, const void *yd, const go_shape *ys, const void *ad,
                      const go_shape *as, const void *bd, const go_shape *bs, scones_cost cost,
                      const scones_discrete_options *o, void *pd, const go_shape *ps, scones_discrete_report *report,
                      scones_error **err);
scones_status go_discrete_fdual(const void *xd, const go_shape *xs, const void *yd, const go_shape *ys, const void *ad,
                                const go_shape *as, const void *bd, const go_shape *bs, scones_cost cost,
                                scones_regularizer regularizer, double lambda, const scones_discrete_options *o,
                                void *fd, const go_shape *fs, void *gd, const go_shape *gs, void *pd,
                                const go_shape *ps, scones_discrete_report *report, scones_error **err);
scones_status go_sinkhorn_cost(const void *cd, const go_shape *cs, const void *ad, const go_shape *as, const void *bd,
                               const go_shape *bs, double lambda, const scones_discrete_options *o, void *fd,
                               const go_shape *fs, void *gd, const go_shape *gs, void *pd, const go_shape *ps,
                               scones_discrete_report *report, scones_error **err);
scones_status go_ipot_cost(const void *cd, const go_shape *cs, const void *ad, const go_shape *as, const void *bd,
                           const go_shape *bs, const scones_discrete_options *o, void *pd, const go_shape *ps,
                           scones_discrete_report *report, scones_error **err);
scones_status go_discrete_fdual_cost(const void *cd, const go_shape *cs, const void *ad, const go_shape *as,
                                     const void *bd, const go_shape *bs, scones_regularizer regularizer, double lambda,
                                     const scones_discrete_options *o, void *fd, const go_shape *fs, void *gd,
                                     const go_shape *gs, void *pd, const go_shape *ps, scones_discrete_report *report,
                                     scones_error **err);
scones_status go_assignment(const void *cd, const go_shape *cs, size_t *assignment, double *total_cost, void *ud,
                            const go_shape *us, void *vd, const go_shape *vs, scones_error **err);
#endif
