/*
 * SCONES on the paper's Gaussian experiment (Sec. 5.2), from C.
 *
 * Trains dual potentials between two zero-mean Gaussians in dimension d (covariances
 * U diag(w) U^T with Haar-random U from fixed seeds; w = geomspace(1/2, 2, d) as in the authors'
 * code, or uniform in [1, 10] as in the paper's text with --uniform), KL regularization with
 * lambda = 2d and the squared Euclidean cost. Then samples one y ~ pi(y | x) for each of
 * 10,000 fresh sources x with the exact Gaussian target score, prints the BW-UVP of the joint
 * covariance of (x, y) against the closed-form entropic coupling, and writes the pairs to CSV
 * and a scatter plot to PNG.
 *
 *   gaussian_transport [--d D] [--iterations N] [--samples N] [--uniform] [--out DIR]
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scones.h"

/* Every scones call takes `scones_error **err` last; on failure print it and exit. */
static void die_on(scones_status st, scones_error *err, const char *what) {
  if (st != SCONES_STATUS_OK) {
    fprintf(stderr, "%s failed (%s): %s\n", what, scones_status_name(st), scones_error_message(err));
    scones_error_free(err);
    exit(1);
  }
}
#define TRY(expr)                         \
  do {                                    \
    scones_error *err = NULL;             \
    scones_status st = (expr);            \
    die_on(st, err, #expr);               \
  } while (0)

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int32_t on_progress(void *user, const scones_progress *p) {
  const char *what = (const char *)user;
  if (p->phase == SCONES_PHASE_DUAL_TRAINING)
    printf("  %s: iteration %6llu / %llu   dual objective %.5f   E[M(V)] %.4f\n", what,
           (unsigned long long)p->iteration, (unsigned long long)p->total, p->objective,
           p->mean_compatibility);
  else
    printf("  %s: step %6llu / %llu   acceptance %.3f\n", what, (unsigned long long)p->iteration,
           (unsigned long long)p->total, p->acceptance);
  fflush(stdout);
  return 0; /* nonzero would cancel */
}

int main(int argc, char **argv) {
  size_t d = 2, iterations = 8000, n_samples = 10000;
  scones_spectrum spectrum = SCONES_SPECTRUM_GEOMETRIC;
  const char *out_dir = "out";
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--d") && i + 1 < argc) d = (size_t)atol(argv[++i]);
    else if (!strcmp(argv[i], "--iterations") && i + 1 < argc) iterations = (size_t)atol(argv[++i]);
    else if (!strcmp(argv[i], "--samples") && i + 1 < argc) n_samples = (size_t)atol(argv[++i]);
    else if (!strcmp(argv[i], "--uniform")) spectrum = SCONES_SPECTRUM_UNIFORM_1_10;
    else if (!strcmp(argv[i], "--out") && i + 1 < argc) out_dir = argv[++i];
    else {
      fprintf(stderr, "usage: %s [--d D] [--iterations N] [--samples N] [--uniform] [--out DIR]\n", argv[0]);
      return 2;
    }
  }
  const double lambda = 2.0 * (double)d;
  const size_t n_train = 20000;
  double t_start = now();
  printf("scones %s: Gaussian transport, d = %zu, lambda = %g, KL, squared Euclidean cost\n",
         scones_version(), d, lambda);

  /* The problem: two random covariances, training samples of both measures. */
  double *cov_a = malloc(d * d * sizeof *cov_a), *cov_b = malloc(d * d * sizeof *cov_b);
  double *mean = calloc(d, sizeof *mean);
  scones_matrix_mut ma = scones_matrix_mut_f64(cov_a, d, d), mb = scones_matrix_mut_f64(cov_b, d, d);
  TRY(scones_gaussian_random_covariance(d, spectrum, 1, &ma, &err));
  TRY(scones_gaussian_random_covariance(d, spectrum, 2, &mb, &err));
  scones_matrix a = scones_matrix_f64(cov_a, d, d), b = scones_matrix_f64(cov_b, d, d);
  scones_matrix mu = scones_matrix_f64(mean, 1, d);
  double *x_train = malloc(n_train * d * sizeof *x_train), *y_train = malloc(n_train * d * sizeof *y_train);
  scones_matrix_mut mx = scones_matrix_mut_f64(x_train, n_train, d), my = scones_matrix_mut_f64(y_train, n_train, d);
  TRY(scones_gaussian_sample(&mu, &a, n_train, 10, &mx, &err));
  TRY(scones_gaussian_sample(&mu, &b, n_train, 11, &my, &err));

  /* Algorithm 1: dual potentials. */
  scones_dual_options *dopt = NULL;
  TRY(scones_dual_options_new(&dopt, &err));
  size_t widths[2] = {128, 128};
  TRY(scones_dual_options_set_regularizer(dopt, SCONES_REGULARIZER_KL, lambda, &err));
  TRY(scones_dual_options_set_cost(dopt, SCONES_COST_SQEUCLIDEAN, &err));
  TRY(scones_dual_options_set_hidden(dopt, widths, 2, &err));
  TRY(scones_dual_options_set_adam(dopt, 1e-3, 0.9, 0.999, &err));
  TRY(scones_dual_options_set_batch(dopt, 250, SCONES_BATCH_ALL_PAIRS, &err));
  TRY(scones_dual_options_set_iterations(dopt, iterations, &err));
  TRY(scones_dual_options_set_seed(dopt, 0, &err));
  TRY(scones_dual_options_set_progress(dopt, on_progress, "dual training", iterations / 8 ? iterations / 8 : 1, &err));
  scones_matrix xs = scones_matrix_f64(x_train, n_train, d), ys = scones_matrix_f64(y_train, n_train, d);
  scones_dual *dual = NULL;
  double t_train = now();
  TRY(scones_dual_train(&xs, &ys, dopt, &dual, &err));
  t_train = now() - t_train;
  scones_train_report tr;
  tr.struct_size = sizeof tr;
  TRY(scones_dual_train_report(dual, &tr, &err));
  printf("trained %llu iterations in %.1f s (%.0f iterations/s), E[M(V)] = %.4f\n",
         (unsigned long long)tr.iterations, t_train, tr.iterations_per_second, tr.mean_compatibility);

  /* Algorithm 2: y ~ pi(y | x) with the exact target score; Metropolis-adjusted Langevin
     removes the step-size bias of plain Langevin, so a larger step mixes faster. */
  scones_score *score = NULL;
  TRY(scones_score_new_gaussian(&mu, &b, &score, &err));
  scones_sampler_options *sopt = NULL;
  TRY(scones_sampler_options_new(&sopt, &err));
  TRY(scones_sampler_options_set_steps(sopt, 1000, 0.05, &err));
  TRY(scones_sampler_options_set_metropolis(sopt, 1, &err));
  TRY(scones_sampler_options_set_seed(sopt, 7, &err));
  TRY(scones_sampler_options_set_progress(sopt, on_progress, "sampling", 250, &err));
  scones_sampler *sampler = NULL;
  TRY(scones_sampler_new(dual, score, sopt, &sampler, &err));
  double *x_eval = malloc(n_samples * d * sizeof *x_eval), *y_eval = malloc(n_samples * d * sizeof *y_eval);
  scones_matrix_mut mxe = scones_matrix_mut_f64(x_eval, n_samples, d), mye = scones_matrix_mut_f64(y_eval, n_samples, d);
  TRY(scones_gaussian_sample(&mu, &a, n_samples, 12, &mxe, &err));
  scones_matrix xe = scones_matrix_f64(x_eval, n_samples, d);
  TRY(scones_sample_batch(sampler, &xe, &mye, &err));
  scones_sample_report sr;
  sr.struct_size = sizeof sr;
  TRY(scones_sampler_report(sampler, &sr, &err));
  printf("sampled %llu chains x %llu steps in %.1f s (%.3g chain-steps/s, acceptance %.3f)\n",
         (unsigned long long)sr.chains, (unsigned long long)sr.steps_per_chain, sr.seconds,
         sr.chain_steps_per_second, sr.acceptance);

  /* BW-UVP of the joint covariance against the closed-form entropic coupling. */
  size_t k = 2 * d;
  double *joint = malloc(k * k * sizeof *joint), *exact = malloc(k * k * sizeof *exact);
  scones_matrix_mut mj = scones_matrix_mut_f64(joint, k, k), me = scones_matrix_mut_f64(exact, k, k);
  scones_matrix ye = scones_matrix_f64(y_eval, n_samples, d);
  TRY(scones_joint_covariance(&xe, &ye, &mj, &err));
  TRY(scones_gaussian_entropic_coupling(&a, &b, lambda, &me, &err));
  double bw = 0;
  scones_matrix cj = scones_matrix_f64(joint, k, k), ce = scones_matrix_f64(exact, k, k);
  TRY(scones_bw_uvp(&cj, &ce, &bw, &err));

  /* The same metric on exact samples of the coupling, averaged over 5 draws: the
     sampling-noise floor at this n (about 100 (k + 1) / (4 n) for k = 2d). */
  double *z = malloc(n_samples * k * sizeof *z), *zero = calloc(k, sizeof *zero), *zc = malloc(k * k * sizeof *zc);
  scones_matrix mz0 = scones_matrix_f64(zero, 1, k);
  scones_matrix_mut mz = scones_matrix_mut_f64(z, n_samples, k), mzc = scones_matrix_mut_f64(zc, k, k);
  scones_matrix zx = {z, n_samples, d, (ptrdiff_t)k, 1, SCONES_DTYPE_F64};
  scones_matrix zy = {z + d, n_samples, d, (ptrdiff_t)k, 1, SCONES_DTYPE_F64};
  scones_matrix czc = scones_matrix_f64(zc, k, k);
  double floor_bw = 0;
  for (uint64_t s = 0; s < 5; s++) {
    double v = 0;
    TRY(scones_gaussian_sample(&mz0, &ce, n_samples, 100 + s, &mz, &err));
    TRY(scones_joint_covariance(&zx, &zy, &mzc, &err));
    TRY(scones_bw_uvp(&czc, &ce, &v, &err));
    floor_bw += v / 5;
  }

  /* Outputs: CSV of the pairs and a PNG scatter plot. */
  char path[4096];
  snprintf(path, sizeof path, "mkdir -p '%s'", out_dir);
  if (system(path) != 0) fprintf(stderr, "warning: could not create %s\n", out_dir);
  snprintf(path, sizeof path, "%s/gaussian_transport_d%zu.csv", out_dir, d);
  FILE *f = fopen(path, "w");
  if (!f) { perror(path); return 1; }
  for (size_t j = 0; j < d; j++) fprintf(f, "x%zu,", j);
  for (size_t j = 0; j < d; j++) fprintf(f, "y%zu%s", j, j + 1 < d ? "," : "\n");
  for (size_t i = 0; i < n_samples; i++) {
    for (size_t j = 0; j < d; j++) fprintf(f, "%.6g,", x_eval[i * d + j]);
    for (size_t j = 0; j < d; j++) fprintf(f, "%.6g%s", y_eval[i * d + j], j + 1 < d ? "," : "\n");
  }
  fclose(f);
  printf("wrote %s\n", path);

  scones_figure *fig = NULL;
  TRY(scones_figure_new(900, 900, 1, 1, &fig, &err));
  scones_matrix tgt = scones_matrix_f64(y_train, 3000, d), src = scones_matrix_f64(x_eval, 3000, d);
  scones_matrix smp = scones_matrix_f64(y_eval, 3000, d);
  TRY(scones_figure_scatter(fig, 0, &src, 0x1f77b460u, 1.5, &err));
  TRY(scones_figure_scatter(fig, 0, &tgt, 0xff7f0e60u, 1.5, &err));
  TRY(scones_figure_scatter(fig, 0, &smp, 0x2ca02c80u, 1.5, &err));
  scones_matrix few_x = scones_matrix_f64(x_eval, 25, d), few_y = scones_matrix_f64(y_eval, 25, d);
  TRY(scones_figure_segments(fig, 0, &few_x, &few_y, 0x000000c0u, &err));
  TRY(scones_figure_scatter(fig, 0, &few_x, 0x1f77b4ffu, 3.5, &err));
  TRY(scones_figure_scatter(fig, 0, &few_y, 0x2ca02cffu, 3.5, &err));
  char title[256];
  snprintf(title, sizeof title, "SCONES d=%zu lambda=%g: BW-UVP %.4f (first 2 coordinates)", d, lambda, bw);
  TRY(scones_figure_title(fig, 0, title, &err));
  const char *labels[4] = {"source x", "target y", "SCONES y ~ pi(y|x)", "x -> y pairs"};
  uint32_t colors[4] = {0x1f77b4ffu, 0xff7f0effu, 0x2ca02cffu, 0x000000ffu};
  TRY(scones_figure_legend(fig, 0, labels, colors, 4, &err));
  snprintf(path, sizeof path, "%s/gaussian_transport_d%zu.png", out_dir, d);
  TRY(scones_figure_save_png(fig, path, &err));
  printf("wrote %s\n", path);

  printf("BW-UVP = %.4f  (exact samples of the coupling at this n average %.4f; paper Table 2: SCONES 0.025 at d = 2)\n", bw, floor_bw);
  printf("total wall time %.1f s\n", now() - t_start);

  scones_figure_free(fig);
  scones_sampler_free(sampler);
  scones_sampler_options_free(sopt);
  scones_score_free(score);
  scones_dual_free(dual);
  scones_dual_options_free(dopt);
  free(cov_a); free(cov_b); free(mean); free(x_train); free(y_train); free(x_eval); free(y_eval);
  free(joint); free(exact); free(z); free(zero); free(zc);
  return 0;
}
