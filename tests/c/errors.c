/*
 * Every entry point's error paths: NULL handles and pointers, zero rows, mismatched dimensions,
 * NaN and infinity in data, lambda <= 0, unknown enum values, missing / truncated / foreign /
 * future-version model files, CUDA where there is none, cancellation and divergence. Each call
 * must return the right status with a message, write no output, and leave the process alive.
 *
 *   errors <scratch-dir>
 */
#include "common.h"

static const char *g_dir = ".";

static void path_in(char *buf, size_t n, const char *name) { snprintf(buf, n, "%s/%s", g_dir, name); }

static int32_t cancel_at_second_report(void *user, const scones_progress *p) {
  int *calls = (int *)user;
  (*calls)++;
  EXPECT(p->struct_size >= sizeof(scones_progress), "progress struct_size %zu", p->struct_size);
  return *calls >= 2; /* nonzero cancels */
}

/* 2-D toy data shared by the checks. */
#define N 64
static double g_x[N * 2], g_y[N * 2];

static scones_dual *tiny_dual(void) {
  scones_dual_options *o = NULL;
  scones_dual *d = NULL;
  size_t w[1] = {8};
  EXPECT_OK(scones_dual_options_new(&o, &err));
  EXPECT_OK(scones_dual_options_set_regularizer(o, SCONES_REGULARIZER_KL, 4.0, &err));
  EXPECT_OK(scones_dual_options_set_hidden(o, w, 1, &err));
  EXPECT_OK(scones_dual_options_set_batch(o, 16, SCONES_BATCH_ALL_PAIRS, &err));
  EXPECT_OK(scones_dual_options_set_iterations(o, 20, &err));
  scones_matrix x = scones_matrix_f64(g_x, N, 2), y = scones_matrix_f64(g_y, N, 2);
  EXPECT_OK(scones_dual_train(&x, &y, o, &d, &err));
  scones_dual_options_free(o);
  return d;
}

static void check_version_and_basics(void) {
  EXPECT(strcmp(scones_version(), SCONES_VERSION_STRING) == 0, "scones_version() %s != header %s",
         scones_version(), SCONES_VERSION_STRING);
  EXPECT(scones_error_code(NULL) == SCONES_STATUS_OK, "error_code(NULL)");
  EXPECT(strcmp(scones_error_message(NULL), "") == 0, "error_message(NULL)");
  EXPECT(strcmp(scones_status_name(SCONES_STATUS_DIVERGED), "diverged") == 0, "status name");
  EXPECT(strcmp(scones_status_name(12345), "unknown") == 0, "unknown status name");
  /* *_free(NULL) are no-ops. */
  scones_error_free(NULL);
  scones_dual_free(NULL);
  scones_dual_options_free(NULL);
  scones_sampler_free(NULL);
  scones_sampler_options_free(NULL);
  scones_score_free(NULL);
  scones_figure_free(NULL);
  /* A NULL err pointer is allowed: the status alone comes back. */
  EXPECT(scones_dual_options_new(NULL, NULL) == SCONES_STATUS_INVALID_ARGUMENT, "NULL out, NULL err");
}

static void check_dual_options(void) {
  scones_dual_options *o = NULL;
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_new(NULL, &err));
  EXPECT_OK(scones_dual_options_new(&o, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_regularizer(NULL, SCONES_REGULARIZER_KL, 1.0, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_regularizer(o, SCONES_REGULARIZER_KL, 0.0, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_regularizer(o, SCONES_REGULARIZER_KL, -1.0, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_regularizer(o, SCONES_REGULARIZER_KL, NAN, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_regularizer(o, SCONES_REGULARIZER_KL, INFINITY, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_regularizer(o, 99, 1.0, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_regularizer(o, -1, 1.0, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_cost(o, 7, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_batch(o, 0, SCONES_BATCH_PAIRED, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_batch(o, 10, 42, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_schedule(o, 5, 0.1, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_schedule(o, SCONES_LR_COSINE, 2.0, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_adam(o, 0.0, 0.9, 0.999, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_adam(o, 1e-3, 1.0, 0.999, &err));
  size_t w0[2] = {0, 4}, w1[1] = {16};
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_hidden(o, w0, 2, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_hidden(o, NULL, 2, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_hidden(o, w1, 0, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_device(o, "tpu", &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_device(o, NULL, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_device(o, "cuda:x", &err));
  if (!scones_cuda_available()) {
    EXPECT_STATUS(SCONES_STATUS_DEVICE_UNAVAILABLE, scones_dual_options_set_device(o, "cuda", &err));
    EXPECT_STATUS(SCONES_STATUS_DEVICE_UNAVAILABLE, scones_dual_options_set_device(o, "cuda:1", &err));
  } else {
    EXPECT_STATUS(SCONES_STATUS_DEVICE_UNAVAILABLE, scones_dual_options_set_device(o, "cuda:4096", &err));
  }
  EXPECT_OK(scones_dual_options_set_device(o, "auto", &err));
  EXPECT_OK(scones_dual_options_set_device(o, "cpu", &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_progress(o, NULL, NULL, 0, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_softplus_beta(o, -3.0, &err));
  scones_dual_options_free(o);
}

static void check_dual_train(void) {
  scones_dual *sentinel = (scones_dual *)0x1234, *d = sentinel;
  scones_matrix x = scones_matrix_f64(g_x, N, 2), y = scones_matrix_f64(g_y, N, 2);
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_train(NULL, &y, NULL, &d, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_train(&x, &y, NULL, NULL, &err));
  scones_matrix zero_rows = scones_matrix_f64(g_x, 0, 2);
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_train(&zero_rows, &y, NULL, &d, &err));
  scones_matrix null_data = scones_matrix_f64(NULL, N, 2);
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_train(&null_data, &y, NULL, &d, &err));
  scones_matrix bad_dtype = x;
  bad_dtype.dtype = 7;
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_train(&bad_dtype, &y, NULL, &d, &err));
  /* Squared Euclidean cost between 2-D sources and 1-D targets is undefined. */
  scones_matrix y1 = {g_y, N, 1, 2, 1, SCONES_DTYPE_F64};
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_dual_train(&x, &y1, NULL, &d, &err));
  double bad[N * 2];
  memcpy(bad, g_x, sizeof bad);
  bad[17] = NAN;
  scones_matrix xn = scones_matrix_f64(bad, N, 2);
  EXPECT_STATUS(SCONES_STATUS_NON_FINITE, scones_dual_train(&xn, &y, NULL, &d, &err));
  bad[17] = INFINITY;
  EXPECT_STATUS(SCONES_STATUS_NON_FINITE, scones_dual_train(&xn, &y, NULL, &d, &err));
  float big[N * 2];
  for (int i = 0; i < N * 2; i++) big[i] = (float)g_y[i];
  big[3] = INFINITY;
  scones_matrix yf = scones_matrix_f32(big, N, 2);
  EXPECT_STATUS(SCONES_STATUS_NON_FINITE, scones_dual_train(&x, &yf, NULL, &d, &err));
  EXPECT(d == sentinel, "failed training wrote its output handle");

  /* Cancellation through the progress callback: no handle, status CANCELLED. */
  scones_dual_options *o = NULL;
  size_t w[1] = {8};
  int calls = 0;
  EXPECT_OK(scones_dual_options_new(&o, &err));
  EXPECT_OK(scones_dual_options_set_hidden(o, w, 1, &err));
  EXPECT_OK(scones_dual_options_set_batch(o, 16, SCONES_BATCH_PAIRED, &err));
  EXPECT_OK(scones_dual_options_set_iterations(o, 1000, &err));
  EXPECT_OK(scones_dual_options_set_progress(o, cancel_at_second_report, &calls, 10, &err));
  EXPECT_STATUS(SCONES_STATUS_CANCELLED, scones_dual_train(&x, &y, o, &d, &err));
  EXPECT(calls == 2, "callback called %d times before cancelling", calls);
  EXPECT(d == sentinel, "cancelled training wrote its output handle");

  /* A learning rate far too large makes the objective overflow: DIVERGED, not garbage. */
  EXPECT_OK(scones_dual_options_set_progress(o, NULL, NULL, 10, &err));
  EXPECT_OK(scones_dual_options_set_regularizer(o, SCONES_REGULARIZER_KL, 1e-3, &err));
  EXPECT_OK(scones_dual_options_set_adam(o, 1e6, 0.9, 0.999, &err));
  EXPECT_OK(scones_dual_options_set_iterations(o, 200, &err));
  EXPECT_STATUS(SCONES_STATUS_DIVERGED, scones_dual_train(&x, &y, o, &d, &err));
  EXPECT(d == sentinel, "diverged training wrote its output handle");
  scones_dual_options_free(o);
}

static void write_file(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) { perror(path); exit(1); }
  fwrite(data, 1, n, f);
  fclose(f);
}

static void check_files(scones_dual *dual) {
  char path[1024], bad[1024];
  scones_dual *d = (scones_dual *)0x1234;
  path_in(path, sizeof path, "model.safetensors");
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_save(NULL, path, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_save(dual, NULL, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_save(dual, "", &err));
  EXPECT_STATUS(SCONES_STATUS_IO, scones_dual_save(dual, "/nonexistent-dir/x/model.safetensors", &err));
  EXPECT_OK(scones_dual_save(dual, path, &err));

  path_in(bad, sizeof bad, "missing.safetensors");
  EXPECT_STATUS(SCONES_STATUS_IO, scones_dual_load(bad, NULL, &d, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_load(NULL, NULL, &d, &err));
  if (!scones_cuda_available())
    EXPECT_STATUS(SCONES_STATUS_DEVICE_UNAVAILABLE, scones_dual_load(path, "cuda", &d, &err));

  /* Truncated: the first half of a valid model file. */
  FILE *f = fopen(path, "rb");
  static unsigned char buf[1 << 20];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  path_in(bad, sizeof bad, "truncated.safetensors");
  write_file(bad, buf, n / 2);
  EXPECT_STATUS(SCONES_STATUS_FORMAT, scones_dual_load(bad, NULL, &d, &err));
  write_file(bad, buf, 5);
  EXPECT_STATUS(SCONES_STATUS_FORMAT, scones_dual_load(bad, NULL, &d, &err));
  /* Foreign: not a model file at all. */
  path_in(bad, sizeof bad, "foreign.safetensors");
  const char *text = "this is a text file, not a model";
  write_file(bad, text, strlen(text));
  EXPECT_STATUS(SCONES_STATUS_FORMAT, scones_dual_load(bad, NULL, &d, &err));
  /* A valid safetensors file from someone else (no scones metadata), and one from a future
     format version. Layout: u64 little-endian header length, JSON header, data. */
  const char *headers[2] = {
      "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
      "{\"__metadata__\":{\"format\":\"scones\",\"format_version\":\"99\",\"kind\":\"dual\"},"
      "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"};
  for (int h = 0; h < 2; h++) {
    unsigned char file[512];
    uint64_t len = strlen(headers[h]);
    for (int i = 0; i < 8; i++) file[i] = (unsigned char)(len >> (8 * i));
    memcpy(file + 8, headers[h], len);
    memset(file + 8 + len, 0, 4);
    write_file(bad, file, 8 + len + 4);
    EXPECT_STATUS(SCONES_STATUS_FORMAT, scones_dual_load(bad, NULL, &d, &err));
  }
  EXPECT(d == (scones_dual *)0x1234, "failed load wrote its output handle");
  EXPECT_OK(scones_dual_load(path, "cpu", &d, &err));
  scones_train_report r;
  r.struct_size = sizeof r;
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_train_report(d, &r, &err));
  scones_dual_free(d);
}

static void check_dual_queries(scones_dual *dual) {
  double out[N], out2[N * N];
  scones_matrix x = scones_matrix_f64(g_x, N, 2), y = scones_matrix_f64(g_y, N, 2);
  scones_matrix_mut mo = scones_matrix_mut_f64(out, N, 1), mo2 = scones_matrix_mut_f64(out2, N, N);
  scones_matrix_mut wrong = scones_matrix_mut_f64(out, N - 1, 1);
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_potential(NULL, SCONES_POTENTIAL_PHI, &x, &mo, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_potential(dual, 3, &x, &mo, &err));
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_dual_potential(dual, SCONES_POTENTIAL_PHI, &x, &wrong, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_potential(dual, SCONES_POTENTIAL_PHI, &x, NULL, &err));
  scones_matrix x1 = {g_x, N, 1, 2, 1, SCONES_DTYPE_F64};
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_dual_potential(dual, SCONES_POTENTIAL_PSI, &x1, &mo, &err));
  EXPECT_OK(scones_dual_potential(dual, SCONES_POTENTIAL_PSI, &y, &mo, &err));
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_dual_compatibility(dual, &x, &y, &mo, &err));
  EXPECT_OK(scones_dual_compatibility(dual, &x, &y, &mo2, &err));
  for (int i = 0; i < N * N; i++) EXPECT(out2[i] >= 0 && isfinite(out2[i]), "compatibility[%d] = %g", i, out2[i]);
  size_t dx = 0, dy = 0;
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_dims(dual, NULL, &dy, &err));
  EXPECT_OK(scones_dual_dims(dual, &dx, &dy, &err));
  EXPECT(dx == 2 && dy == 2, "dims %zu %zu", dx, dy);
  scones_regularizer reg = -1;
  double lambda = 0;
  scones_cost cost = -1;
  EXPECT_OK(scones_dual_problem(dual, &reg, &lambda, &cost, &err));
  EXPECT(reg == SCONES_REGULARIZER_KL && lambda == 4.0 && cost == SCONES_COST_SQEUCLIDEAN, "problem");
  scones_train_report r;
  r.struct_size = 0;
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_train_report(dual, &r, &err));
}

static void check_score_and_sampler(scones_dual *dual) {
  double mean[2] = {0, 0}, cov[4] = {1, 0.2, 0.2, 2}, notpd[4] = {1, 2, 2, 1}, asym[4] = {1, 0.5, 0, 1};
  double mean3[3] = {0, 0, 0}, cov3[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  scones_matrix mu = scones_matrix_f64(mean, 1, 2), c = scones_matrix_f64(cov, 2, 2);
  scones_score *s = NULL, *s3 = NULL;
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_score_new_gaussian(NULL, &c, &s, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_score_new_gaussian(&mu, &c, NULL, &err));
  scones_matrix np = scones_matrix_f64(notpd, 2, 2), as = scones_matrix_f64(asym, 2, 2);
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_score_new_gaussian(&mu, &np, &s, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_score_new_gaussian(&mu, &as, &s, &err));
  scones_matrix c3 = scones_matrix_f64(cov3, 3, 3), mu3 = scones_matrix_f64(mean3, 3, 1);
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_score_new_gaussian(&mu, &c3, &s, &err));
  double nanmean[2] = {NAN, 0};
  scones_matrix mun = scones_matrix_f64(nanmean, 1, 2);
  EXPECT_STATUS(SCONES_STATUS_NON_FINITE, scones_score_new_gaussian(&mun, &c, &s, &err));
  EXPECT_OK(scones_score_new_gaussian(&mu, &c, &s, &err));
  EXPECT_OK(scones_score_new_gaussian(&mu3, &c3, &s3, &err));
  size_t dim = 0;
  EXPECT_OK(scones_score_dim(s3, &dim, &err));
  EXPECT(dim == 3, "score dim %zu", dim);
  double sc[N * 2];
  scones_matrix_mut msc = scones_matrix_mut_f64(sc, N, 2);
  scones_matrix y = scones_matrix_f64(g_y, N, 2);
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_score_eval(s, &y, -1.0, &msc, &err));
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_score_eval(s3, &y, 0.0, &msc, &err));
  EXPECT_OK(scones_score_eval(s, &y, 0.0, &msc, &err));

  /* Sampler options. */
  scones_sampler_options *o = NULL;
  EXPECT_OK(scones_sampler_options_new(&o, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sampler_options_set_steps(o, 0, 0.1, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sampler_options_set_steps(o, 10, 0.0, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sampler_options_set_steps(o, 10, NAN, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sampler_options_set_samples_per_source(o, 0, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sampler_options_set_init(o, 17, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sampler_options_set_metropolis(o, 2, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sampler_options_set_annealing(o, 0.01, 1.0, 5, 1, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sampler_options_set_annealing(o, 1.0, 0.0, 5, 1, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sampler_options_set_annealing(o, 1.0, 0.1, 5, 3, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sampler_options_set_chain_batch(o, 0, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sampler_options_set_device(o, "gpu", &err));
  if (!scones_cuda_available())
    EXPECT_STATUS(SCONES_STATUS_DEVICE_UNAVAILABLE, scones_sampler_options_set_device(o, "cuda:0", &err));
  EXPECT_OK(scones_sampler_options_set_steps(o, 20, 0.01, &err));

  /* Sampler construction. */
  scones_sampler *sm = (scones_sampler *)0x1234;
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sampler_new(NULL, s, o, &sm, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sampler_new(dual, NULL, o, &sm, &err));
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_sampler_new(dual, s3, o, &sm, &err));
  EXPECT(sm == (scones_sampler *)0x1234, "failed sampler_new wrote its output");
  EXPECT_OK(scones_sampler_new(dual, s, o, &sm, &err));

  /* Sampling. */
  double out[N * 2];
  for (int i = 0; i < N * 2; i++) out[i] = 12345.0;
  scones_matrix_mut mo = scones_matrix_mut_f64(out, N, 2), wrong = scones_matrix_mut_f64(out, N, 1);
  scones_matrix x = scones_matrix_f64(g_x, N, 2);
  scones_matrix x1 = {g_x, N, 1, 2, 1, SCONES_DTYPE_F64};
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sample_batch(NULL, &x, &mo, &err));
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_sample_batch(sm, &x1, &mo, &err));
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_sample_batch(sm, &x, &wrong, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sample_batch(sm, &x, NULL, &err));
  double bad[N * 2];
  memcpy(bad, g_x, sizeof bad);
  bad[5] = NAN;
  scones_matrix xn = scones_matrix_f64(bad, N, 2);
  EXPECT_STATUS(SCONES_STATUS_NON_FINITE, scones_sample_batch(sm, &xn, &mo, &err));
  scones_sample_report rep;
  rep.struct_size = sizeof rep;
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sampler_report(sm, &rep, &err));
  for (int i = 0; i < N * 2; i++) EXPECT(out[i] == 12345.0, "failed sampling wrote output[%d]", i);
  EXPECT_OK(scones_sample_batch(sm, &x, &mo, &err));
  EXPECT_OK(scones_sampler_report(sm, &rep, &err));
  EXPECT(rep.chains == N && rep.steps_per_chain == 20, "report %llu x %llu", (unsigned long long)rep.chains,
         (unsigned long long)rep.steps_per_chain);
  scones_sampler_free(sm);

  /* A step size far beyond stability: DIVERGED, and the output buffer is untouched. */
  EXPECT_OK(scones_sampler_options_set_steps(o, 400, 500.0, &err));
  EXPECT_OK(scones_sampler_new(dual, s, o, &sm, &err));
  for (int i = 0; i < N * 2; i++) out[i] = 12345.0;
  EXPECT_STATUS(SCONES_STATUS_DIVERGED, scones_sample_batch(sm, &x, &mo, &err));
  for (int i = 0; i < N * 2; i++) EXPECT(out[i] == 12345.0, "diverged sampling wrote output[%d]", i);
  scones_sampler_free(sm);

  /* Cancellation while sampling. */
  int calls = 0;
  EXPECT_OK(scones_sampler_options_set_steps(o, 100, 0.01, &err));
  EXPECT_OK(scones_sampler_options_set_progress(o, cancel_at_second_report, &calls, 10, &err));
  EXPECT_OK(scones_sampler_new(dual, s, o, &sm, &err));
  EXPECT_STATUS(SCONES_STATUS_CANCELLED, scones_sample_batch(sm, &x, &mo, &err));
  EXPECT(calls == 2, "sampling callback called %d times", calls);
  scones_sampler_free(sm);
  scones_sampler_options_free(o);
  scones_score_free(s);
  scones_score_free(s3);
}

static void check_closed_forms(void) {
  double m[16], v = 0;
  scones_matrix_mut mm = scones_matrix_mut_f64(m, 2, 2), m3 = scones_matrix_mut_f64(m, 3, 3);
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_gaussian_random_covariance(0, SCONES_SPECTRUM_GEOMETRIC, 1, &mm, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_gaussian_random_covariance(2, 9, 1, &mm, &err));
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_gaussian_random_covariance(2, SCONES_SPECTRUM_GEOMETRIC, 1, &m3, &err));
  EXPECT_OK(scones_gaussian_random_covariance(2, SCONES_SPECTRUM_UNIFORM_1_10, 1, &mm, &err));
  double a[4] = {1, 0, 0, 1}, rect[6] = {1, 0, 0, 1, 0, 0};
  scones_matrix ma = scones_matrix_f64(a, 2, 2), mr = scones_matrix_f64(rect, 3, 2);
  scones_matrix_mut j = scones_matrix_mut_f64(m, 4, 4);
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_gaussian_entropic_coupling(&ma, &ma, 0.0, &j, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_gaussian_entropic_coupling(&ma, &ma, -2.0, &j, &err));
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_gaussian_entropic_coupling(&ma, &mr, 1.0, &j, &err));
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_gaussian_entropic_coupling(&ma, &ma, 1.0, &mm, &err));
  EXPECT_OK(scones_gaussian_entropic_coupling(&ma, &ma, 1.0, &j, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_bw_uvp(&ma, &ma, NULL, &err));
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_bw_uvp(&ma, &mr, &v, &err));
  EXPECT_OK(scones_bw_uvp(&ma, &ma, &v, &err));
  EXPECT(fabs(v) < 1e-12, "bw_uvp(I, I) = %g", v);
  double mean[2] = {0, 0};
  scones_matrix mu = scones_matrix_f64(mean, 1, 2);
  double samples[20];
  scones_matrix_mut ms = scones_matrix_mut_f64(samples, 10, 2);
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_gaussian_sample(&mu, &ma, 0, 1, &ms, &err));
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_gaussian_sample(&mu, &ma, 9, 1, &ms, &err));
  EXPECT_OK(scones_gaussian_sample(&mu, &ma, 10, 1, &ms, &err));
  scones_matrix s10 = scones_matrix_f64(samples, 10, 2), s1 = scones_matrix_f64(samples, 10, 1);
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_sliced_w2(&s10, &s1, 10, 0, &v, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sliced_w2(&s10, &s10, 0, 0, &v, &err));
  EXPECT_OK(scones_sliced_w2(&s10, &s10, 10, 0, &v, &err));
  scones_matrix s9 = scones_matrix_f64(samples, 9, 2);
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_joint_covariance(&s10, &s9, &mm, &err));
}

static void check_figures(void) {
  scones_figure *f = NULL;
  char path[1024];
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_figure_new(0, 100, 1, 1, &f, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_figure_new(100, 100, 0, 1, &f, &err));
  EXPECT_OK(scones_figure_new(200, 100, 1, 2, &f, &err));
  scones_matrix x = scones_matrix_f64(g_x, N, 2), x1 = {g_x, N, 1, 2, 1, SCONES_DTYPE_F64};
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_figure_scatter(f, 2, &x, 0xff0000ffu, 2.0, &err));
  EXPECT_STATUS(SCONES_STATUS_SHAPE_MISMATCH, scones_figure_scatter(f, 0, &x1, 0xff0000ffu, 2.0, &err));
  scones_matrix few = scones_matrix_f64(g_x, 3, 2);
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_figure_segments(f, 0, &x, &few, 0xff0000ffu, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_figure_set_bounds(f, 0, 1.0, 0.0, 0.0, 1.0, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_figure_title(f, 0, NULL, &err));
  EXPECT_OK(scones_figure_scatter(f, 0, &x, 0xff0000ffu, 2.0, &err));
  EXPECT_STATUS(SCONES_STATUS_IO, scones_figure_save_png(f, "/nonexistent-dir/plot.png", &err));
  path_in(path, sizeof path, "plot.png");
  EXPECT_OK(scones_figure_save_png(f, path, &err));
  scones_figure_free(f);
}

int main(int argc, char **argv) {
  if (argc > 1) g_dir = argv[1];
  for (int i = 0; i < N; i++) {
    g_x[2 * i] = sin(i * 1.3);
    g_x[2 * i + 1] = cos(i * 0.7);
    g_y[2 * i] = 1.0 + 0.5 * cos(i * 2.1);
    g_y[2 * i + 1] = -1.0 + 0.5 * sin(i * 0.9);
  }
  check_version_and_basics();
  check_dual_options();
  check_dual_train();
  scones_dual *dual = tiny_dual();
  check_files(dual);
  check_dual_queries(dual);
  check_score_and_sampler(dual);
  check_closed_forms();
  check_figures();
  scones_dual_free(dual);
  return finish("errors");
}
