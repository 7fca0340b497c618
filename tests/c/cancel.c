/*
 * How promptly a cancel from the progress callback takes effect (issue 9, item 6): training
 * must stop within one iteration and sampling within one Langevin step of the report that
 * cancelled. The work done is counted independently of the progress reports, through host
 * callbacks the library must call once per unit of work: a callback measure is drawn once per
 * training iteration, a callback score is evaluated once per Langevin step (one chain batch).
 * Re-entry from callbacks (same handle refused, other handle works) is checked in hostile.c.
 *
 *   cancel
 */
#include <stdint.h>

#include "common.h"

#define D 2

struct counter {
  long work;            /* units of work done (measure draws or score evaluations) */
  long work_at_cancel;  /* the same when the callback cancelled, -1 before */
  uint64_t cancel_at;   /* progress iteration at which to cancel */
  uint64_t last_report; /* iteration of the last report seen */
  long reports;
};

static int32_t counting_measure(void *user, size_t m, size_t d, uint64_t seed, double *out) {
  struct counter *c = (struct counter *)user;
  c->work++;
  for (size_t i = 0; i < m * d; i++) out[i] = (double)((seed + i * 7919) % 101) / 50.0 - 1.0;
  return 0;
}

static int32_t counting_score(void *user, const double *y, size_t n, size_t d, double sigma, double *out) {
  struct counter *c = (struct counter *)user;
  (void)sigma;
  c->work++;
  for (size_t i = 0; i < n * d; i++) out[i] = -y[i];
  return 0;
}

static int32_t cancel_at(void *user, const scones_progress *p) {
  struct counter *c = (struct counter *)user;
  c->reports++;
  c->last_report = p->iteration;
  if (p->iteration >= c->cancel_at && c->work_at_cancel < 0) {
    c->work_at_cancel = c->work;
    return 1;
  }
  return 0;
}

static void reset(struct counter *c, uint64_t at) {
  c->work = 0;
  c->work_at_cancel = -1;
  c->cancel_at = at;
  c->last_report = 0;
  c->reports = 0;
}

/* After the cancelling report at iteration `at` (reports every iteration), at most one more
   unit of work: the one already under way when the report was made. */
static void expect_prompt(const char *what, struct counter *c, uint64_t at) {
  long after = c->work - c->work_at_cancel;
  printf("cancel: %s cancelled at iteration %llu after %ld units of work, %ld more after the cancel\n", what,
         (unsigned long long)c->last_report, c->work_at_cancel, after);
  EXPECT(c->work_at_cancel >= 0, "%s: the callback never cancelled", what);
  EXPECT(c->last_report == at, "%s: last report at iteration %llu, cancelled at %llu", what,
         (unsigned long long)c->last_report, (unsigned long long)at);
  EXPECT(after <= 1, "%s: %ld units of work after the cancel", what, after);
  /* The work counter agrees with the iteration count: one draw (or evaluation) per iteration. */
  EXPECT(c->work_at_cancel >= (long)at && c->work_at_cancel <= (long)at + 1, "%s: %ld units by iteration %llu",
         what, c->work_at_cancel, (unsigned long long)at);
}

/* Dual training between two callback measures: the target's draws count the iterations. */
static void check_dual_training(void) {
  struct counter src, prog;
  reset(&src, 0), reset(&prog, 7);
  scones_measure *ms = NULL, *mt = NULL;
  EXPECT_OK(scones_measure_new_callback(D, counting_measure, &src, &ms, &err));
  EXPECT_OK(scones_measure_new_callback(D, counting_measure, &prog, &mt, &err));
  scones_dual_options *o = NULL;
  size_t w[1] = {4};
  EXPECT_OK(scones_dual_options_new(&o, &err));
  EXPECT_OK(scones_dual_options_set_hidden(o, w, 1, &err));
  EXPECT_OK(scones_dual_options_set_batch(o, 8, SCONES_BATCH_ALL_PAIRS, &err));
  EXPECT_OK(scones_dual_options_set_iterations(o, 1000, &err));
  EXPECT_OK(scones_dual_options_set_progress(o, cancel_at, &prog, 1, &err));
  scones_dual *dual = NULL;
  EXPECT_STATUS(SCONES_STATUS_CANCELLED, scones_dual_train_measures(ms, mt, o, &dual, &err));
  EXPECT(dual == NULL, "cancelled training returned a dual");
  expect_prompt("dual training", &prog, 7);
  /* The score network trained on the same measure: one draw per iteration again. */
  scones_train_options *to = NULL;
  scones_score *net = NULL;
  reset(&prog, 5);
  EXPECT_OK(scones_train_options_new(&to, &err));
  EXPECT_OK(scones_train_options_set_hidden(to, w, 1, &err));
  EXPECT_OK(scones_train_options_set_batch_size(to, 8, &err));
  EXPECT_OK(scones_train_options_set_iterations(to, 1000, &err));
  EXPECT_OK(scones_train_options_set_noise_levels(to, 1.0, 0.1, 2, &err));
  EXPECT_OK(scones_train_options_set_progress(to, cancel_at, &prog, 1, &err));
  EXPECT_STATUS(SCONES_STATUS_CANCELLED, scones_score_train(mt, to, &net, &err));
  EXPECT(net == NULL, "cancelled training returned a score");
  expect_prompt("score training", &prog, 5);
  scones_train_options_free(to);
  scones_dual_options_free(o);
  scones_measure_free(ms);
  scones_measure_free(mt);
}

/* Sampling with a host score: one evaluation per Langevin step (a single chain batch). */
static void check_sampling(void) {
  enum { N = 4 };
  double x[N * D], out[N * D];
  for (int i = 0; i < N * D; i++) x[i] = 0.1 * i - 0.3;
  scones_matrix xm = scones_matrix_f64(x, N, D);
  scones_dual_options *o = NULL;
  scones_dual *dual = NULL;
  size_t w[1] = {4};
  EXPECT_OK(scones_dual_options_new(&o, &err));
  EXPECT_OK(scones_dual_options_set_hidden(o, w, 1, &err));
  EXPECT_OK(scones_dual_options_set_iterations(o, 2, &err));
  EXPECT_OK(scones_dual_options_set_batch(o, 4, SCONES_BATCH_ALL_PAIRS, &err));
  EXPECT_OK(scones_dual_train(&xm, &xm, o, &dual, &err));
  struct counter prog;
  reset(&prog, 3);
  scones_score *score = NULL;
  scones_sampler_options *so = NULL;
  scones_sampler *s = NULL;
  EXPECT_OK(scones_score_new_callback(D, counting_score, &prog, &score, &err));
  EXPECT_OK(scones_sampler_options_new(&so, &err));
  EXPECT_OK(scones_sampler_options_set_steps(so, 1000, 0.01, &err));
  EXPECT_OK(scones_sampler_new(dual, score, so, &s, &err));
  EXPECT_OK(scones_sampler_set_progress(s, cancel_at, &prog, 1, &err));
  for (int i = 0; i < N * D; i++) out[i] = 12345.0;
  scones_matrix_mut om = scones_matrix_mut_f64(out, N, D);
  EXPECT_STATUS(SCONES_STATUS_CANCELLED, scones_sample_batch(s, &xm, &om, &err));
  for (int i = 0; i < N * D; i++) EXPECT(out[i] == 12345.0, "cancelled sampling wrote its output");
  expect_prompt("sampling", &prog, 3);
  /* The sampler stays usable after a cancelled call. */
  EXPECT_OK(scones_sampler_set_progress(s, NULL, NULL, 1, &err));
  EXPECT_OK(scones_sampler_options_set_steps(so, 2, 0.01, &err));
  scones_sampler_free(s);
  s = NULL;
  EXPECT_OK(scones_sampler_new(dual, score, so, &s, &err));
  EXPECT_OK(scones_sample_batch(s, &xm, &om, &err));
  scones_sampler_free(s);
  scones_sampler_options_free(so);
  scones_score_free(score);
  scones_dual_free(dual);
  scones_dual_options_free(o);
}

int main(void) {
  check_dual_training();
  check_sampling();
  return finish("cancel");
}
