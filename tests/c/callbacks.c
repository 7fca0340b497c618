/*
 * Host callbacks through the C ABI: a score computed by the host, measures sampled by the host
 * (a "simulator"), and callbacks that fail, which must stop the call with
 * SCONES_STATUS_CALLBACK. Also the trained score, empirical score, barycentric map and toy
 * generators from C.
 *
 *   callbacks <scratch-dir>
 */
#include "common.h"

/* The exact score of N(m, s^2 I) in 2-D, smoothed by sigma: -(y - m) / (s^2 + sigma^2). */
struct gauss {
  double m[2], s2;
  int calls, fail_after;
};

static int32_t gauss_score(void *user, const double *y, size_t n, size_t d, double sigma, double *out) {
  struct gauss *g = (struct gauss *)user;
  g->calls++;
  if (g->fail_after >= 0 && g->calls > g->fail_after) return 42;
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < d; k++) out[i * d + k] = -(y[i * d + k] - g->m[k]) / (g->s2 + sigma * sigma);
  return 0;
}

/* A "simulator": points of N(center, 0.25 I) from a small LCG seeded by the library's seed. */
struct sim {
  double center;
  int calls, fail_after;
};

static double lcg_normal(uint64_t *state) {
  /* Box-Muller on two LCG uniforms. */
  double u[2];
  for (int i = 0; i < 2; i++) {
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    u[i] = ((*state >> 11) + 0.5) / 9007199254740992.0;
  }
  return sqrt(-2.0 * log(u[0])) * cos(6.283185307179586 * u[1]);
}

static int32_t sim_sample(void *user, size_t m, size_t d, uint64_t seed, double *out) {
  struct sim *s = (struct sim *)user;
  s->calls++;
  if (s->fail_after >= 0 && s->calls > s->fail_after) return -1;
  uint64_t state = seed;
  for (size_t i = 0; i < m * d; i++) out[i] = s->center + 0.5 * lcg_normal(&state);
  return 0;
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : ".";
  (void)dir;
  enum { N = 400 };
  static double x[N * 2], out[N * 2];
  /* Sources drawn from the source measure N(-1, .25 I), so that the samples' mean estimates
     the mean of pi's y-marginal, tau's mean (+1, +1). */
  uint64_t state = 12345;
  for (int i = 0; i < N * 2; i++) x[i] = -1.0 + 0.5 * lcg_normal(&state);

  /* Duals between two simulators: N(-1, .25 I) -> N(+1, .25 I). */
  struct sim src = {-1.0, 0, -1}, tgt = {1.0, 0, -1};
  scones_measure *ms = NULL, *mt = NULL;
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_measure_new_callback(2, NULL, &src, &ms, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_measure_new_callback(0, sim_sample, &src, &ms, &err));
  EXPECT_OK(scones_measure_new_callback(2, sim_sample, &src, &ms, &err));
  EXPECT_OK(scones_measure_new_callback(2, sim_sample, &tgt, &mt, &err));
  scones_dual_options *o = NULL;
  size_t w[2] = {32, 32};
  EXPECT_OK(scones_dual_options_new(&o, &err));
  EXPECT_OK(scones_dual_options_set_regularizer(o, SCONES_REGULARIZER_KL, 1.0, &err));
  EXPECT_OK(scones_dual_options_set_hidden(o, w, 2, &err));
  EXPECT_OK(scones_dual_options_set_batch(o, 128, SCONES_BATCH_ALL_PAIRS, &err));
  EXPECT_OK(scones_dual_options_set_iterations(o, 600, &err));
  scones_dual *dual = NULL;
  EXPECT_OK(scones_dual_train_measures(ms, mt, o, &dual, &err));
  EXPECT(src.calls == 600 && tgt.calls == 600, "simulators called %d and %d times", src.calls, tgt.calls);
  /* A simulator that fails on its 5th call stops training with the callback status. */
  struct sim bad = {1.0, 0, 4};
  scones_measure *mb = NULL;
  scones_dual *d2 = (scones_dual *)0x1234;
  EXPECT_OK(scones_measure_new_callback(2, sim_sample, &bad, &mb, &err));
  EXPECT_STATUS(SCONES_STATUS_CALLBACK, scones_dual_train_measures(ms, mb, o, &d2, &err));
  EXPECT(d2 == (scones_dual *)0x1234, "failed training wrote its output");

  /* Host score callback: exact score of the target N(1, .25 I). With KL, lambda = 1 and the
     trained duals, samples land near the target mean (+1, +1). */
  struct gauss g = {{1.0, 1.0}, 0.25, 0, -1};
  scones_score *hs = NULL;
  EXPECT_OK(scones_score_new_callback(2, gauss_score, &g, &hs, &err));
  scones_sampler_options *so = NULL;
  EXPECT_OK(scones_sampler_options_new(&so, &err));
  EXPECT_OK(scones_sampler_options_set_steps(so, 200, 0.01, &err));
  scones_sampler *sm = NULL;
  EXPECT_OK(scones_sampler_new(dual, hs, so, &sm, &err));
  scones_matrix mx = scones_matrix_f64(x, N, 2);
  scones_matrix_mut mo = scones_matrix_mut_f64(out, N, 2);
  EXPECT_OK(scones_sample_batch(sm, &mx, &mo, &err));
  double mean[2] = {0, 0};
  for (int i = 0; i < N; i++) {
    mean[0] += out[2 * i] / N;
    mean[1] += out[2 * i + 1] / N;
  }
  /* pi's y-marginal is N(1, .25 I): the sample mean is within 0.5/sqrt(400) = 0.025 per axis
     at one standard error; 0.15 allows for Langevin bias and imperfect duals. */
  EXPECT(fabs(mean[0] - 1.0) < 0.15 && fabs(mean[1] - 1.0) < 0.15, "sample mean (%g, %g)", mean[0], mean[1]);
  /* The coupling itself: per axis Cov(x, y) = c = (sqrt(s^4 + 4ab) - s^2) / 2 = 0.1036 for
     a = b = 0.25, s^2 = lambda / 2 = 0.5. Its standard error at n = 400 is
     sqrt((ab + c^2) / n) = 0.0135; without the compatibility term it would be 0. */
  for (int k = 0; k < 2; k++) {
    double mx_ = 0, cov = 0;
    for (int i = 0; i < N; i++) mx_ += x[2 * i + k] / N;
    for (int i = 0; i < N; i++) cov += (x[2 * i + k] - mx_) * (out[2 * i + k] - mean[k]) / (N - 1);
    EXPECT(fabs(cov - 0.1036) < 0.05, "Cov(x_%d, y_%d) = %g, closed form 0.1036", k, k, cov);
  }
  EXPECT(g.calls == 200, "score callback called %d times", g.calls);
  scones_sampler_free(sm);
  /* A failing score callback stops sampling with the callback status; output untouched. */
  struct gauss gb = {{1.0, 1.0}, 0.25, 0, 10};
  scones_score *bs = NULL;
  EXPECT_OK(scones_score_new_callback(2, gauss_score, &gb, &bs, &err));
  EXPECT_OK(scones_sampler_new(dual, bs, so, &sm, &err));
  for (int i = 0; i < N * 2; i++) out[i] = 7.0;
  EXPECT_STATUS(SCONES_STATUS_CALLBACK, scones_sample_batch(sm, &mx, &mo, &err));
  for (int i = 0; i < N * 2; i++) EXPECT(out[i] == 7.0, "failed sampling wrote output[%d]", i);
  scones_sampler_free(sm);
  double ev[4];
  scones_matrix_mut mev = scones_matrix_mut_f64(ev, 2, 2);
  scones_matrix two = scones_matrix_f64(x, 2, 2);
  gb.calls = 100;
  EXPECT_STATUS(SCONES_STATUS_CALLBACK, scones_score_eval(bs, &two, 0.0, &mev, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_score_new_callback(2, NULL, &g, &bs, &err));

  /* Toy data, empirical score, trained score, barycentric map. */
  static double roll[2000 * 2];
  scones_matrix_mut mr = scones_matrix_mut_f64(roll, 2000, 2);
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_toy_sample(99, 2000, 1, &mr, &err));
  EXPECT_OK(scones_toy_sample(SCONES_TOY_SWISS_ROLL, 2000, 1, &mr, &err));
  scones_matrix rm = scones_matrix_f64(roll, 2000, 2);
  scones_score *es = NULL;
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_score_new_empirical(&rm, 0.0, &es, &err));
  EXPECT_OK(scones_score_new_empirical(&rm, 0.1, &es, &err));
  char path[1024];
  snprintf(path, sizeof path, "%s/empirical.safetensors", dir);
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_score_save(es, path, &err));
  scones_measure *mroll = NULL;
  EXPECT_OK(scones_measure_new_points(&rm, &mroll, &err));
  scones_train_options *to = NULL;
  EXPECT_OK(scones_train_options_new(&to, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_train_options_set_noise_levels(to, 0.5, 1.0, 5, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_train_options_set_noise_levels(to, 0.0, 0.01, 0, &err));
  EXPECT_OK(scones_train_options_set_iterations(to, 200, &err));
  size_t sw[2] = {32, 32};
  EXPECT_OK(scones_train_options_set_hidden(to, sw, 2, &err));
  scones_score *ts = NULL;
  EXPECT_OK(scones_score_train(mroll, to, &ts, &err));
  snprintf(path, sizeof path, "%s/score.safetensors", dir);
  EXPECT_OK(scones_score_save(ts, path, &err));
  scones_score *ls = NULL;
  EXPECT_OK(scones_score_load(path, &ls, &err));
  double s1[4], s2[4];
  scones_matrix_mut ms1 = scones_matrix_mut_f64(s1, 2, 2), ms2 = scones_matrix_mut_f64(s2, 2, 2);
  EXPECT_OK(scones_score_eval(ts, &two, 0.3, &ms1, &err));
  EXPECT_OK(scones_score_eval(ls, &two, 0.3, &ms2, &err));
  EXPECT(memcmp(s1, s2, sizeof s1) == 0, "reloaded score network differs");
  scones_dual *loaded_as_dual = NULL;
  EXPECT_STATUS(SCONES_STATUS_FORMAT, scones_dual_load(path, NULL, &loaded_as_dual, &err));

  scones_barycentric *bm = NULL;
  scones_measure *mx_measure = NULL;
  EXPECT_OK(scones_measure_new_points(&mx, &mx_measure, &err));
  EXPECT_OK(scones_train_options_set_iterations(to, 300, &err));
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_barycentric_train(NULL, mx_measure, mroll, to, &bm, &err));
  EXPECT_OK(scones_barycentric_train(dual, ms, mt, to, &bm, &err));
  double tx[N * 2];
  scones_matrix_mut mtx = scones_matrix_mut_f64(tx, N, 2);
  EXPECT_OK(scones_barycentric_map(bm, &mx, &mtx, &err));
  double tm[2] = {0, 0};
  for (int i = 0; i < N; i++) {
    tm[0] += tx[2 * i] / N;
    tm[1] += tx[2 * i + 1] / N;
  }
  EXPECT(fabs(tm[0] - 1.0) < 0.3 && fabs(tm[1] - 1.0) < 0.3, "barycentric map mean (%g, %g)", tm[0], tm[1]);
  snprintf(path, sizeof path, "%s/map.safetensors", dir);
  EXPECT_OK(scones_barycentric_save(bm, path, &err));
  scones_barycentric *bl = NULL;
  EXPECT_OK(scones_barycentric_load(path, &bl, &err));
  EXPECT_OK(scones_sampler_options_set_init_map(so, bl, &err));
  EXPECT_OK(scones_sampler_new(dual, hs, so, &sm, &err));
  EXPECT_OK(scones_sample_batch(sm, &mx, &mo, &err));
  scones_sampler_free(sm);

  scones_barycentric_free(bl);
  scones_barycentric_free(bm);
  scones_measure_free(mx_measure);
  scones_score_free(ls);
  scones_score_free(ts);
  scones_train_options_free(to);
  scones_measure_free(mroll);
  scones_score_free(es);
  scones_score_free(bs);
  scones_score_free(hs);
  scones_sampler_options_free(so);
  scones_measure_free(mb);
  scones_dual_options_free(o);
  scones_dual_free(dual);
  scones_measure_free(ms);
  scones_measure_free(mt);
  return finish("callbacks");
}
