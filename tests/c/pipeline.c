/*
 * The foundation issue's acceptance check from C: the d = 2 Gaussian problem (lambda = 2d, KL,
 * squared Euclidean cost) trained and sampled through the C ABI reaches BW-UVP <= 1.0 against
 * the closed-form coupling on a small CPU budget. Also: a saved and reloaded model gives the
 * same potentials and, with the same seed, bit-identical samples; two samplers on two threads
 * give the same samples as when run one after the other; samples come grouped by source.
 *
 *   pipeline <scratch-dir>
 */
#include <pthread.h>

#include "common.h"

#define D 2
#define NTRAIN 20000
#define NEVAL 10000
#define K 4

static double cov_a[D * D], cov_b[D * D], x_train[NTRAIN * D], y_train[NTRAIN * D], x_eval[NEVAL * D];

struct job {
  scones_sampler *sampler;
  const double *x;
  size_t n;
  double *out;
  scones_status status;
};

static void *run_job(void *p) {
  struct job *j = (struct job *)p;
  scones_matrix x = scones_matrix_f64(j->x, j->n, D);
  scones_matrix_mut o = scones_matrix_mut_f64(j->out, j->n * K, D);
  scones_error *err = NULL;
  j->status = scones_sample_batch(j->sampler, &x, &o, &err);
  if (err) fprintf(stderr, "thread: %s\n", scones_error_message(err));
  scones_error_free(err);
  return NULL;
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : ".";
  const double lambda = 2.0 * D;
  double zero[D] = {0};
  scones_matrix mu = scones_matrix_f64(zero, 1, D);
  scones_matrix_mut ma = scones_matrix_mut_f64(cov_a, D, D), mb = scones_matrix_mut_f64(cov_b, D, D);
  EXPECT_OK(scones_gaussian_random_covariance(D, SCONES_SPECTRUM_GEOMETRIC, 1, &ma, &err));
  EXPECT_OK(scones_gaussian_random_covariance(D, SCONES_SPECTRUM_GEOMETRIC, 2, &mb, &err));
  scones_matrix a = scones_matrix_f64(cov_a, D, D), b = scones_matrix_f64(cov_b, D, D);
  scones_matrix_mut mx = scones_matrix_mut_f64(x_train, NTRAIN, D), my = scones_matrix_mut_f64(y_train, NTRAIN, D);
  scones_matrix_mut me = scones_matrix_mut_f64(x_eval, NEVAL, D);
  EXPECT_OK(scones_gaussian_sample(&mu, &a, NTRAIN, 10, &mx, &err));
  EXPECT_OK(scones_gaussian_sample(&mu, &b, NTRAIN, 11, &my, &err));
  EXPECT_OK(scones_gaussian_sample(&mu, &a, NEVAL, 12, &me, &err));

  /* Training data passed as float32 column-major views: strides instead of copies. */
  static float xf[NTRAIN * D], yf[NTRAIN * D];
  for (int i = 0; i < NTRAIN; i++)
    for (int k = 0; k < D; k++) {
      xf[k * NTRAIN + i] = (float)x_train[i * D + k];
      yf[k * NTRAIN + i] = (float)y_train[i * D + k];
    }
  scones_matrix xs = {xf, NTRAIN, D, 1, NTRAIN, SCONES_DTYPE_F32};
  scones_matrix ys = {yf, NTRAIN, D, 1, NTRAIN, SCONES_DTYPE_F32};

  scones_dual_options *dopt = NULL;
  size_t widths[2] = {64, 64};
  EXPECT_OK(scones_dual_options_new(&dopt, &err));
  EXPECT_OK(scones_dual_options_set_regularizer(dopt, SCONES_REGULARIZER_KL, lambda, &err));
  EXPECT_OK(scones_dual_options_set_hidden(dopt, widths, 2, &err));
  EXPECT_OK(scones_dual_options_set_batch(dopt, 250, SCONES_BATCH_ALL_PAIRS, &err));
  EXPECT_OK(scones_dual_options_set_iterations(dopt, 1500, &err));
  scones_dual *dual = NULL;
  EXPECT_OK(scones_dual_train(&xs, &ys, dopt, &dual, &err));
  if (!dual) return finish("pipeline");

  scones_score *score = NULL;
  EXPECT_OK(scones_score_new_gaussian(&mu, &b, &score, &err));
  scones_sampler_options *sopt = NULL;
  EXPECT_OK(scones_sampler_options_new(&sopt, &err));
  EXPECT_OK(scones_sampler_options_set_steps(sopt, 300, 0.05, &err));
  EXPECT_OK(scones_sampler_options_set_metropolis(sopt, 1, &err));
  scones_sampler *sampler = NULL;
  EXPECT_OK(scones_sampler_new(dual, score, sopt, &sampler, &err));
  static double y_eval[NEVAL * D];
  scones_matrix xe = scones_matrix_f64(x_eval, NEVAL, D);
  scones_matrix_mut ye = scones_matrix_mut_f64(y_eval, NEVAL, D);
  EXPECT_OK(scones_sample_batch(sampler, &xe, &ye, &err));

  double joint[16], exact[16], bw = -1;
  scones_matrix_mut mj = scones_matrix_mut_f64(joint, 2 * D, 2 * D), mex = scones_matrix_mut_f64(exact, 2 * D, 2 * D);
  scones_matrix yv = scones_matrix_f64(y_eval, NEVAL, D);
  EXPECT_OK(scones_joint_covariance(&xe, &yv, &mj, &err));
  EXPECT_OK(scones_gaussian_entropic_coupling(&a, &b, lambda, &mex, &err));
  scones_matrix cj = scones_matrix_f64(joint, 2 * D, 2 * D), ce = scones_matrix_f64(exact, 2 * D, 2 * D);
  EXPECT_OK(scones_bw_uvp(&cj, &ce, &bw, &err));
  printf("pipeline: d = %d BW-UVP = %.4f\n", D, bw);
  EXPECT(bw >= 0 && bw <= 1.0, "BW-UVP %g exceeds 1.0", bw);

  /* Save, reload: same potentials, and the same seed gives bit-identical samples. */
  char path[1024];
  snprintf(path, sizeof path, "%s/pipeline_dual.safetensors", dir);
  EXPECT_OK(scones_dual_save(dual, path, &err));
  scones_dual *loaded = NULL;
  EXPECT_OK(scones_dual_load(path, "cpu", &loaded, &err));
  static double p1[NEVAL], p2[NEVAL];
  scones_matrix_mut mp1 = scones_matrix_mut_f64(p1, NEVAL, 1), mp2 = scones_matrix_mut_f64(p2, NEVAL, 1);
  EXPECT_OK(scones_dual_potential(dual, SCONES_POTENTIAL_PHI, &xe, &mp1, &err));
  EXPECT_OK(scones_dual_potential(loaded, SCONES_POTENTIAL_PHI, &xe, &mp2, &err));
  EXPECT(memcmp(p1, p2, sizeof p1) == 0, "reloaded phi differs");

  EXPECT_OK(scones_sampler_options_set_steps(sopt, 50, 0.05, &err));
  EXPECT_OK(scones_sampler_options_set_samples_per_source(sopt, K, &err));
  EXPECT_OK(scones_sampler_options_set_init(sopt, SCONES_INIT_SOURCE, &err));
  /* Bit-identical results need a fixed thread count (the header's "Threads"): the default, the
     fair share, would give the two concurrent samplers fewer threads than the sequential one. */
  EXPECT_OK(scones_sampler_options_set_threads(sopt, 2, &err));
  scones_sampler *s1 = NULL, *s2 = NULL;
  EXPECT_OK(scones_sampler_new(dual, score, sopt, &s1, &err));
  EXPECT_OK(scones_sampler_new(loaded, score, sopt, &s2, &err));
  scones_dual_free(loaded); /* samplers keep their own copies */
  enum { NS = 500 };
  static double o1[NS * K * D], o2[NS * K * D], o3[NS * K * D], o4[NS * K * D];
  struct job j1 = {s1, x_eval, NS, o1, -1}, j2 = {s2, x_eval, NS, o2, -1};
  /* Two handles on two threads at once. */
  pthread_t t1, t2;
  pthread_create(&t1, NULL, run_job, &j1);
  pthread_create(&t2, NULL, run_job, &j2);
  pthread_join(t1, NULL);
  pthread_join(t2, NULL);
  EXPECT(j1.status == SCONES_STATUS_OK && j2.status == SCONES_STATUS_OK, "threaded sampling failed");
  EXPECT(memcmp(o1, o2, sizeof o1) == 0, "reloaded model, same seed: samples differ");
  /* The same again sequentially from fresh samplers: identical to the threaded run. */
  scones_sampler_free(s1);
  scones_sampler_free(s2);
  EXPECT_OK(scones_sampler_new(dual, score, sopt, &s1, &err));
  struct job j3 = {s1, x_eval, NS, o3, -1};
  run_job(&j3);
  EXPECT(memcmp(o1, o3, sizeof o1) == 0, "threaded and sequential samples differ");
  /* Successive calls continue the random stream. */
  struct job j4 = {s1, x_eval, NS, o4, -1};
  run_job(&j4);
  EXPECT(memcmp(o3, o4, sizeof o3) != 0, "second call repeated the first call's samples");
  /* K samples per source, grouped: chains started at their source stay near it for short runs
     (lambda = 4 ties y to x), so the K rows of source i are closer to x_i than to x_{i+1}. */
  int grouped = 0;
  for (int i = 0; i + 1 < NS; i++) {
    double dsame = 0, dnext = 0;
    for (int k = 0; k < K; k++)
      for (int c = 0; c < D; c++) {
        double y = o3[(i * K + k) * D + c];
        dsame += (y - x_eval[i * D + c]) * (y - x_eval[i * D + c]);
        dnext += (y - x_eval[(i + 1) * D + c]) * (y - x_eval[(i + 1) * D + c]);
      }
    grouped += dsame < dnext;
  }
  EXPECT(grouped > (NS - 1) * 0.7, "only %d of %d sources closest to their own samples", grouped, NS - 1);
  scones_sampler_free(s1);

  scones_sampler_free(sampler);
  scones_sampler_options_free(sopt);
  scones_score_free(score);
  scones_dual_free(dual);
  scones_dual_options_free(dopt);
  return finish("pipeline");
}
