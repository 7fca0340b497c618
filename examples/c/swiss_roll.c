/*
 * Gaussian -> Swiss roll (the paper's Fig. 4), from C: KL-regularized OT with lambda = 2 and the
 * squared Euclidean cost between N(0, I_2) and a Swiss roll. SCONES samples pi(y | x) with a
 * trained score network and with the empirical (kernel-smoothed) score of the target points;
 * barycentric projection T(x) = E_pi[y | x] is the baseline. Prints the sliced W2 distance of
 * each output to a fresh target sample and writes one PNG with four panels: the target, T(x),
 * SCONES samples, and conditional samples for a few fixed sources.
 *
 *   swiss_roll [--out DIR] [--quick]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scones.h"

static void die_on(scones_status st, scones_error *err, const char *what) {
  if (st != SCONES_STATUS_OK) {
    fprintf(stderr, "%s failed (%s): %s\n", what, scones_status_name(st), scones_error_message(err));
    scones_error_free(err);
    exit(1);
  }
}
#define TRY(expr)              \
  do {                         \
    scones_error *err = NULL;  \
    scones_status st = (expr); \
    die_on(st, err, #expr);    \
  } while (0)

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int32_t on_progress(void *user, const scones_progress *p) {
  if (p->iteration == p->total || p->iteration % (p->total / 4 ? p->total / 4 : 1) == 0) {
    if (p->phase == SCONES_PHASE_SAMPLING)
      printf("  %s: step %llu / %llu\n", (const char *)user, (unsigned long long)p->iteration, (unsigned long long)p->total);
    else
      printf("  %s: iteration %llu / %llu, objective %.4f\n", (const char *)user, (unsigned long long)p->iteration,
             (unsigned long long)p->total, p->objective);
    fflush(stdout);
  }
  return 0;
}

static double sliced_w2(const double *a, size_t na, const double *b, size_t nb) {
  scones_matrix ma = scones_matrix_f64(a, na, 2), mb = scones_matrix_f64(b, nb, 2);
  double v = 0;
  TRY(scones_sliced_w2(&ma, &mb, 200, 0, &v, &err));
  return v;
}

int main(int argc, char **argv) {
  const char *out_dir = "out";
  int quick = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--out") && i + 1 < argc) out_dir = argv[++i];
    else if (!strcmp(argv[i], "--quick")) quick = 1;
    else {
      fprintf(stderr, "usage: %s [--out DIR] [--quick]\n", argv[0]);
      return 2;
    }
  }
  double t0 = now();
  enum { NTRAIN = 20000, NEVAL = 3000, NEMP = 3000, NFIX = 6, KFIX = 150 };
  static double x[NTRAIN * 2], y[NTRAIN * 2], x_eval[NEVAL * 2], fresh[NEVAL * 2], y_emp[NEMP * 2];
  scones_matrix_mut m;
  m = scones_matrix_mut_f64(x, NTRAIN, 2);
  TRY(scones_toy_sample(SCONES_TOY_GAUSSIAN, NTRAIN, 1, &m, &err));
  m = scones_matrix_mut_f64(y, NTRAIN, 2);
  TRY(scones_toy_sample(SCONES_TOY_SWISS_ROLL, NTRAIN, 2, &m, &err));
  m = scones_matrix_mut_f64(x_eval, NEVAL, 2);
  TRY(scones_toy_sample(SCONES_TOY_GAUSSIAN, NEVAL, 3, &m, &err));
  m = scones_matrix_mut_f64(fresh, NEVAL, 2);
  TRY(scones_toy_sample(SCONES_TOY_SWISS_ROLL, NEVAL, 4, &m, &err));
  m = scones_matrix_mut_f64(y_emp, NEMP, 2);
  TRY(scones_toy_sample(SCONES_TOY_SWISS_ROLL, NEMP, 5, &m, &err));
  scones_matrix xs = scones_matrix_f64(x, NTRAIN, 2), ys = scones_matrix_f64(y, NTRAIN, 2);
  scones_measure *source = NULL, *target = NULL;
  TRY(scones_measure_new_points(&xs, &source, &err));
  TRY(scones_measure_new_points(&ys, &target, &err));
  printf("scones %s: N(0, I) -> Swiss roll, KL, lambda = 2\n", scones_version());

  /* Algorithm 1. */
  scones_dual_options *dopt = NULL;
  size_t w[2] = {128, 128};
  TRY(scones_dual_options_new(&dopt, &err));
  TRY(scones_dual_options_set_regularizer(dopt, SCONES_REGULARIZER_KL, 2.0, &err));
  TRY(scones_dual_options_set_hidden(dopt, w, 2, &err));
  TRY(scones_dual_options_set_batch(dopt, 250, SCONES_BATCH_ALL_PAIRS, &err));
  TRY(scones_dual_options_set_iterations(dopt, quick ? 800 : 3000, &err));
  TRY(scones_dual_options_set_progress(dopt, on_progress, "dual training", 100, &err));
  scones_dual *dual = NULL;
  TRY(scones_dual_train(&xs, &ys, dopt, &dual, &err));

  /* Barycentric projection baseline and a trained score network (both via train options). */
  scones_train_options *topt = NULL;
  TRY(scones_train_options_new(&topt, &err));
  TRY(scones_train_options_set_hidden(topt, w, 2, &err));
  TRY(scones_train_options_set_batch_size(topt, 250, &err));
  TRY(scones_train_options_set_iterations(topt, quick ? 500 : 2000, &err));
  TRY(scones_train_options_set_progress(topt, on_progress, "barycentric map", 100, &err));
  scones_barycentric *bary = NULL;
  TRY(scones_barycentric_train(dual, source, target, topt, &bary, &err));
  size_t sw[3] = {128, 128, 128};
  TRY(scones_train_options_set_hidden(topt, sw, 3, &err));
  TRY(scones_train_options_set_batch_size(topt, 500, &err));
  TRY(scones_train_options_set_iterations(topt, quick ? 1000 : 4000, &err));
  TRY(scones_train_options_set_progress(topt, on_progress, "score network", 100, &err));
  scones_score *trained = NULL, *empirical = NULL;
  TRY(scones_score_train(target, topt, &trained, &err));
  scones_matrix ye = scones_matrix_f64(y_emp, NEMP, 2);
  TRY(scones_score_new_empirical(&ye, 0.05, &empirical, &err));

  /* Algorithm 2: annealed Langevin, 10 levels from 3 down to 0.01, then denoising. */
  scones_sampler_options *sopt = NULL;
  TRY(scones_sampler_options_new(&sopt, &err));
  TRY(scones_sampler_options_set_annealing(sopt, 3.0, 0.01, 10, 1, &err));
  TRY(scones_sampler_options_set_steps(sopt, quick ? 30 : 60, 2e-5, &err));
  TRY(scones_sampler_options_set_progress(sopt, on_progress, "sampling", 50, &err));
  static double t_x[NEVAL * 2], y_trained[NEVAL * 2], y_empirical[NEVAL * 2];
  scones_matrix xe = scones_matrix_f64(x_eval, NEVAL, 2);
  scones_matrix_mut mt = scones_matrix_mut_f64(t_x, NEVAL, 2);
  TRY(scones_barycentric_map(bary, &xe, &mt, &err));
  scones_score *scores[2] = {trained, empirical};
  double *outs[2] = {y_trained, y_empirical};
  for (int s = 0; s < 2; s++) {
    scones_sampler *sampler = NULL;
    TRY(scones_sampler_new(dual, scores[s], sopt, &sampler, &err));
    scones_matrix_mut mo = scones_matrix_mut_f64(outs[s], NEVAL, 2);
    TRY(scones_sample_batch(sampler, &xe, &mo, &err));
    scones_sampler_free(sampler);
  }
  /* Conditional samples pi(y | x) for a few fixed sources, K each. */
  double fixed[NFIX * 2] = {-1.5, 0.0, -0.5, 1.0, 0.0, 0.0, 0.8, -0.8, 1.5, 0.5, 0.3, 1.8};
  static double cond[NFIX * KFIX * 2], fixed_rep[NFIX * KFIX * 2];
  TRY(scones_sampler_options_set_samples_per_source(sopt, KFIX, &err));
  scones_sampler *cs = NULL;
  TRY(scones_sampler_new(dual, trained, sopt, &cs, &err));
  scones_matrix mf = scones_matrix_f64(fixed, NFIX, 2);
  scones_matrix_mut mc = scones_matrix_mut_f64(cond, NFIX * KFIX, 2);
  TRY(scones_sample_batch(cs, &mf, &mc, &err));
  for (int i = 0; i < NFIX * KFIX; i++) {
    fixed_rep[2 * i] = fixed[2 * (i / KFIX)];
    fixed_rep[2 * i + 1] = fixed[2 * (i / KFIX) + 1];
  }

  double sw_bp = sliced_w2(t_x, NEVAL, fresh, NEVAL), sw_tr = sliced_w2(y_trained, NEVAL, fresh, NEVAL);
  double sw_em = sliced_w2(y_empirical, NEVAL, fresh, NEVAL), sw_floor = sliced_w2(y_emp, NEMP, fresh, NEVAL);
  printf("sliced W2 to a fresh Swiss roll sample (%d points):\n", NEVAL);
  printf("  barycentric projection T(x)   %.4f\n", sw_bp);
  printf("  SCONES, trained score         %.4f\n", sw_tr);
  printf("  SCONES, empirical score       %.4f\n", sw_em);
  printf("  another exact target sample   %.4f   (the sampling-noise floor)\n", sw_floor);

  /* The figure. */
  scones_figure *fig = NULL;
  TRY(scones_figure_new(1600, 1600, 2, 2, &fig, &err));
  scones_matrix tgt = scones_matrix_f64(y, NEVAL, 2), tx = scones_matrix_f64(t_x, NEVAL, 2);
  scones_matrix ytr = scones_matrix_f64(y_trained, NEVAL, 2), cm = scones_matrix_f64(cond, NFIX * KFIX, 2);
  scones_matrix fr = scones_matrix_f64(fixed_rep, NFIX * KFIX, 2);
  for (int p = 0; p < 4; p++) TRY(scones_figure_set_bounds(fig, p, -3.5, 3.5, -3.5, 3.5, &err));
  TRY(scones_figure_scatter(fig, 0, &tgt, 0xff7f0e90u, 2.0, &err));
  TRY(scones_figure_title(fig, 0, "target: Swiss roll", &err));
  TRY(scones_figure_scatter(fig, 1, &tgt, 0xff7f0e30u, 2.0, &err));
  TRY(scones_figure_scatter(fig, 1, &tx, 0xd62728a0u, 2.0, &err));
  char title[128];
  snprintf(title, sizeof title, "barycentric projection T(x): SW2 %.3f", sw_bp);
  TRY(scones_figure_title(fig, 1, title, &err));
  TRY(scones_figure_scatter(fig, 2, &tgt, 0xff7f0e30u, 2.0, &err));
  TRY(scones_figure_scatter(fig, 2, &ytr, 0x2ca02ca0u, 2.0, &err));
  snprintf(title, sizeof title, "SCONES y ~ pi(y|x), trained score: SW2 %.3f", sw_tr);
  TRY(scones_figure_title(fig, 2, title, &err));
  TRY(scones_figure_scatter(fig, 3, &tgt, 0xff7f0e30u, 2.0, &err));
  TRY(scones_figure_segments(fig, 3, &fr, &cm, 0x00000018u, &err));
  TRY(scones_figure_scatter(fig, 3, &cm, 0x2ca02cb0u, 2.5, &err));
  TRY(scones_figure_scatter(fig, 3, &mf, 0x1f77b4ffu, 6.0, &err));
  TRY(scones_figure_title(fig, 3, "pi(y|x) for 6 fixed sources (blue)", &err));
  const char *labels[3] = {"Swiss roll", "T(x)", "SCONES"};
  uint32_t colors[3] = {0xff7f0effu, 0xd62728ffu, 0x2ca02cffu};
  TRY(scones_figure_legend(fig, 0, labels, colors, 3, &err));
  char path[4096];
  snprintf(path, sizeof path, "mkdir -p '%s'", out_dir);
  if (system(path) != 0) fprintf(stderr, "warning: could not create %s\n", out_dir);
  snprintf(path, sizeof path, "%s/swiss_roll.png", out_dir);
  TRY(scones_figure_save_png(fig, path, &err));
  printf("wrote %s\ntotal wall time %.1f s\n", path, now() - t0);

  scones_figure_free(fig);
  scones_sampler_free(cs);
  scones_sampler_options_free(sopt);
  scones_score_free(trained);
  scones_score_free(empirical);
  scones_barycentric_free(bary);
  scones_train_options_free(topt);
  scones_dual_free(dual);
  scones_dual_options_free(dopt);
  scones_measure_free(source);
  scones_measure_free(target);
  return 0;
}
