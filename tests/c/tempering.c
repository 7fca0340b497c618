/* Compatibility tempering through the C ABI (issue 14): at lambda = 0.2 the annealed schedule
   sigma 3 -> 0.01 with eps = 2e-5 puts a first step of 1.8 against the compatibility term's
   stiffness 2 / lambda = 10, so the untempered chains blow up (SCONES_STATUS_DIVERGED, outputs
   untouched), while the default (tempered) run returns finite samples near their sources.
   Then chains started from the targets resampled by M (scones_sampler_options_set_init_resample):
   with steps of 1e-12 every sample is one of the given target rows, with the default steps the
   samples are finite and near their sources, and bad targets are refused. */
#include "common.h"

#define D 2
#define N 400
#define NEVAL 200

/* Mean distance of the NEVAL samples to their sources; *finite becomes 0 if any is not. */
static double mean_distance(const double *out, const double *x, int *finite) {
  double dist = 0;
  *finite = 1;
  for (int i = 0; i < NEVAL; i++) {
    double s = 0;
    for (int k = 0; k < D; k++) {
      *finite &= isfinite(out[i * D + k]);
      s += (out[i * D + k] - x[i * D + k]) * (out[i * D + k] - x[i * D + k]);
    }
    dist += sqrt(s) / NEVAL;
  }
  return dist;
}

int main(void) {
  static double x[N * D], y[N * D], cov[D * D] = {1, 0, 0, 1}, mean[D] = {0, 0};
  scones_matrix mu = scones_matrix_f64(mean, 1, D), c = scones_matrix_f64(cov, D, D);
  scones_matrix_mut mx = scones_matrix_mut_f64(x, N, D), my = scones_matrix_mut_f64(y, N, D);
  EXPECT_OK(scones_gaussian_sample(&mu, &c, N, 1, &mx, &err));
  EXPECT_OK(scones_gaussian_sample(&mu, &c, N, 2, &my, &err));
  scones_matrix xs = scones_matrix_f64(x, N, D), ys = scones_matrix_f64(y, N, D);

  scones_dual_options *dopt = NULL;
  size_t widths[2] = {16, 16};
  EXPECT_OK(scones_dual_options_new(&dopt, &err));
  EXPECT_OK(scones_dual_options_set_regularizer(dopt, SCONES_REGULARIZER_KL, 0.2, &err));
  EXPECT_OK(scones_dual_options_set_hidden(dopt, widths, 2, &err));
  EXPECT_OK(scones_dual_options_set_iterations(dopt, 200, &err));
  scones_dual *dual = NULL;
  EXPECT_OK(scones_dual_train(&xs, &ys, dopt, &dual, &err));
  scones_score *score = NULL;
  EXPECT_OK(scones_score_new_gaussian(&mu, &c, &score, &err));
  if (!dual || !score) return finish("tempering");

  scones_sampler_options *sopt = NULL;
  EXPECT_OK(scones_sampler_options_new(&sopt, &err));
  EXPECT_OK(scones_sampler_options_set_annealing(sopt, 3.0, 0.01, 10, 1, &err));
  EXPECT_OK(scones_sampler_options_set_steps(sopt, 60, 2e-5, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sampler_options_set_compatibility_tempering(sopt, 2, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sampler_options_set_compatibility_tempering(NULL, 1, &err));

  static double out[NEVAL * D];
  for (int i = 0; i < NEVAL * D; i++) out[i] = -12345.0;
  scones_matrix xe = scones_matrix_f64(x, NEVAL, D);
  scones_matrix_mut ye = scones_matrix_mut_f64(out, NEVAL, D);

  scones_sampler *untempered = NULL, *tempered = NULL;
  /* The reference code's schedule: untempered, grad log M at y (not at the denoised point). */
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sampler_options_set_compatibility_at_denoised(sopt, -1, &err));
  EXPECT_OK(scones_sampler_options_set_compatibility_tempering(sopt, 0, &err));
  EXPECT_OK(scones_sampler_options_set_compatibility_at_denoised(sopt, 0, &err));
  EXPECT_OK(scones_sampler_new(dual, score, sopt, &untempered, &err));
  EXPECT_STATUS(SCONES_STATUS_DIVERGED, scones_sample_batch(untempered, &xe, &ye, &err));
  int untouched = 1;
  for (int i = 0; i < NEVAL * D; i++) untouched &= out[i] == -12345.0;
  EXPECT(untouched, "a diverged run wrote to the output");

  EXPECT_OK(scones_sampler_options_set_compatibility_tempering(sopt, 1, &err));
  EXPECT_OK(scones_sampler_options_set_compatibility_at_denoised(sopt, 1, &err));
  EXPECT_OK(scones_sampler_new(dual, score, sopt, &tempered, &err));
  EXPECT_OK(scones_sample_batch(tempered, &xe, &ye, &err));
  /* pi(y | x) at lambda = 0.2 has standard deviation about sqrt(lambda / 2) = 0.3 around a
     point near x: every sample finite and the mean distance to its source well below 1. */
  int finite = 1;
  double dist = mean_distance(out, x, &finite);
  EXPECT(finite, "tempered samples are not all finite");
  EXPECT(dist < 0.8, "tempered samples are %.3f from their sources on average", dist);

  /* Resampled starts. */
  scones_sampler *resampled = NULL, *frozen = NULL, *wrong = NULL;
  static double bad[3 * D] = {0, 1, NAN, 0, 1, 2}, wide[N * 3];
  scones_matrix nan_targets = scones_matrix_f64(bad, 3, D), wide_targets = scones_matrix_f64(wide, N, 3);
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sampler_options_set_init_resample(sopt, NULL, 0.0, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sampler_options_set_init_resample(sopt, &ys, -1.0, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sampler_options_set_init_resample(sopt, &ys, NAN, &err));
  EXPECT_STATUS(SCONES_STATUS_NON_FINITE, scones_sampler_options_set_init_resample(sopt, &nan_targets, 0.0, &err));
  EXPECT_OK(scones_sampler_options_set_init_resample(sopt, &wide_targets, 0.0, &err));
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_sampler_new(dual, score, sopt, &wrong, &err));
  EXPECT(wrong == NULL, "a refused sampler was returned");
  EXPECT_OK(scones_sampler_options_set_init_resample(sopt, &ys, 0.0, &err));
  EXPECT_OK(scones_sampler_new(dual, score, sopt, &resampled, &err));
  EXPECT_OK(scones_sample_batch(resampled, &xe, &ye, &err));
  dist = mean_distance(out, x, &finite);
  EXPECT(finite, "resampled samples are not all finite");
  EXPECT(dist < 0.8, "resampled samples are %.3f from their sources on average", dist);
  EXPECT_OK(scones_sampler_options_set_steps(sopt, 1, 1e-12, &err));
  EXPECT_OK(scones_sampler_new(dual, score, sopt, &frozen, &err));
  EXPECT_OK(scones_sample_batch(frozen, &xe, &ye, &err));
  int all_targets = 1;
  for (int i = 0; i < NEVAL; i++) {
    double best = INFINITY;
    for (int j = 0; j < N; j++) {
      double s = 0;
      for (int k = 0; k < D; k++) s += (out[i * D + k] - y[j * D + k]) * (out[i * D + k] - y[j * D + k]);
      best = s < best ? s : best;
    }
    all_targets &= best < 1e-5; /* the final denoising step moves a chain by about sigma_N^2 |score| ~ 1e-4 */
  }
  EXPECT(all_targets, "with steps of 1e-12 a resampled chain left its target row");

  scones_sampler_free(resampled);
  scones_sampler_free(frozen);
  scones_sampler_free(untempered);
  scones_sampler_free(tempered);
  scones_sampler_options_free(sopt);
  scones_score_free(score);
  scones_dual_free(dual);
  scones_dual_options_free(dopt);
  return finish("tempering");
}
