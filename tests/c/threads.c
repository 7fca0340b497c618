/*
 * Concurrency workload for a race checker (issue 9, item 6), run by `make test-sanitize` under
 * valgrind's helgrind: 8 threads that each train, save, load and sample with their own handles,
 * then 8 threads that share one sampler and 8 that share one SPOT plan (the library serializes
 * calls on one handle). Every
 * call is tiny (2 training iterations, 2 Langevin steps) because helgrind runs ~100x slower.
 *
 *   threads <scratch-dir>
 */
#include <pthread.h>
#include <stdint.h>

#include "common.h"

#define THREADS 8
#define N 8
#define D 2

static double g_x[N * D], g_y[N * D];
static const char *g_dir;
static scones_sampler *g_shared;
static scones_spot *g_shared_spot;

struct job {
  int id;
  int failures;
  double out[2 * D];
};

/* Counts a failed call without the shared EXPECT counters, which are not thread-safe. */
static void check(struct job *j, scones_status st, scones_error *err, const char *what) {
  if (st != SCONES_STATUS_OK) {
    fprintf(stderr, "thread %d: %s: %s: %s\n", j->id, what, scones_status_name(st), scones_error_message(err));
    j->failures++;
  }
  scones_error_free(err);
}

static scones_sampler_options *small_sampler_options(struct job *j) {
  scones_sampler_options *so = NULL;
  scones_error *err = NULL;
  check(j, scones_sampler_options_new(&so, &err), err, "sampler options");
  check(j, scones_sampler_options_set_steps(so, 2, 0.01, NULL), NULL, "steps");
  return so;
}

static void *own_handles(void *arg) {
  struct job *j = (struct job *)arg;
  scones_error *err = NULL;
  scones_dual_options *o = NULL;
  scones_dual *dual = NULL, *loaded = NULL;
  scones_score *score = NULL;
  scones_sampler *s = NULL;
  size_t w[1] = {4};
  char path[1024];
  snprintf(path, sizeof path, "%s/thread%d.safetensors", g_dir, j->id);
  check(j, scones_dual_options_new(&o, &err), err, "dual options");
  check(j, scones_dual_options_set_hidden(o, w, 1, NULL), NULL, "hidden");
  check(j, scones_dual_options_set_batch(o, 4, SCONES_BATCH_ALL_PAIRS, NULL), NULL, "batch");
  check(j, scones_dual_options_set_iterations(o, 2, NULL), NULL, "iterations");
  check(j, scones_dual_options_set_seed(o, (uint64_t)j->id, NULL), NULL, "seed");
  scones_matrix x = scones_matrix_f64(g_x, N, D), y = scones_matrix_f64(g_y, N, D);
  err = NULL;
  check(j, scones_dual_train(&x, &y, o, &dual, &err), err, "train");
  err = NULL;
  if (dual) check(j, scones_dual_save(dual, path, &err), err, "save");
  err = NULL;
  check(j, scones_dual_load(path, "cpu", &loaded, &err), err, "load");
  err = NULL;
  check(j, scones_score_new_empirical(&y, 0.5, &score, &err), err, "score");
  scones_sampler_options *so = small_sampler_options(j);
  err = NULL;
  if (loaded) check(j, scones_sampler_new(loaded, score, so, &s, &err), err, "sampler");
  scones_matrix x2 = scones_matrix_f64(g_x, 2, D);
  scones_matrix_mut o2 = scones_matrix_mut_f64(j->out, 2, D);
  for (int k = 0; k < 2 && s; k++) {
    err = NULL;
    check(j, scones_sample_batch(s, &x2, &o2, &err), err, "sample");
  }
  scones_sampler_free(s);
  scones_sampler_options_free(so);
  scones_score_free(score);
  scones_dual_free(loaded);
  scones_dual_free(dual);
  scones_dual_options_free(o);
  return NULL;
}

static void *shared_sampler(void *arg) {
  struct job *j = (struct job *)arg;
  scones_matrix x2 = scones_matrix_f64(g_x + 2 * D * (j->id % 4), 2, D);
  scones_matrix_mut o2 = scones_matrix_mut_f64(j->out, 2, D);
  for (int k = 0; k < 2; k++) {
    scones_error *err = NULL;
    check(j, scones_sample_batch(g_shared, &x2, &o2, &err), err, "shared sample");
    size_t dx = 0, dy = 0, kk = 0;
    check(j, scones_sampler_shape(g_shared, &dx, &dy, &kk, NULL), NULL, "shape");
  }
  return NULL;
}

static void *shared_spot(void *arg) {
  struct job *j = (struct job *)arg;
  double other[2 * D];
  scones_matrix_mut outs[2] = {scones_matrix_mut_f64(j->out, 2, D), scones_matrix_mut_f64(other, 2, D)};
  for (int k = 0; k < 2; k++) {
    scones_error *err = NULL;
    check(j, scones_spot_sample(g_shared_spot, (uint64_t)j->id, outs, 2, &err), err, "shared SPOT sample");
    double est = 0, se = 0;
    check(j, scones_spot_cost_estimate(g_shared_spot, 4, (uint64_t)k, &est, &se, NULL), NULL, "cost estimate");
  }
  return NULL;
}

static void run_threads(void *(*fn)(void *), const char *what) {
  pthread_t t[THREADS];
  struct job jobs[THREADS];
  for (int i = 0; i < THREADS; i++) {
    memset(&jobs[i], 0, sizeof jobs[i]);
    jobs[i].id = i;
    EXPECT(pthread_create(&t[i], NULL, fn, &jobs[i]) == 0, "pthread_create");
  }
  for (int i = 0; i < THREADS; i++) {
    pthread_join(t[i], NULL);
    EXPECT(jobs[i].failures == 0, "%s: thread %d had %d failed calls", what, i, jobs[i].failures);
    for (int k = 0; k < 2 * D; k++)
      EXPECT(isfinite(jobs[i].out[k]), "%s: thread %d output %d is %g", what, i, k, jobs[i].out[k]);
  }
  printf("threads: %d threads with %s done\n", THREADS, what);
}

int main(int argc, char **argv) {
  g_dir = argc > 1 ? argv[1] : ".";
  for (int i = 0; i < N * D; i++) {
    g_x[i] = 0.1 * (i % 7) - 0.3 + 0.01 * i;
    g_y[i] = 0.2 * (i % 5) + 0.5 - 0.02 * i;
  }
  run_threads(own_handles, "their own handles");

  struct job setup = {0};
  scones_dual_options *o = NULL;
  scones_dual *dual = NULL;
  scones_score *score = NULL;
  size_t w[1] = {4};
  EXPECT_OK(scones_dual_options_new(&o, &err));
  EXPECT_OK(scones_dual_options_set_hidden(o, w, 1, &err));
  EXPECT_OK(scones_dual_options_set_iterations(o, 2, &err));
  EXPECT_OK(scones_dual_options_set_batch(o, 4, SCONES_BATCH_ALL_PAIRS, &err));
  scones_matrix x = scones_matrix_f64(g_x, N, D), y = scones_matrix_f64(g_y, N, D);
  EXPECT_OK(scones_dual_train(&x, &y, o, &dual, &err));
  EXPECT_OK(scones_score_new_empirical(&y, 0.5, &score, &err));
  scones_sampler_options *so = small_sampler_options(&setup);
  EXPECT_OK(scones_sampler_new(dual, score, so, &g_shared, &err));
  /* The sampler keeps its own references: the caller's handles may go before it is used. */
  scones_dual_free(dual);
  scones_score_free(score);
  if (g_shared) run_threads(shared_sampler, "one shared sampler");
  scones_sampler_free(g_shared);
  scones_sampler_options_free(so);
  scones_dual_options_free(o);
  EXPECT(setup.failures == 0, "sampler options failed");

  scones_spot_options *spo = NULL;
  EXPECT_OK(scones_spot_options_new(&spo, &err));
  EXPECT_OK(scones_spot_options_set_hidden(spo, w, 1, w, 1, &err));
  EXPECT_OK(scones_spot_options_set_batch(spo, 4, 2, &err));
  EXPECT_OK(scones_spot_train(&x, &y, spo, &g_shared_spot, &err));
  if (g_shared_spot) run_threads(shared_spot, "one shared SPOT plan");
  scones_spot_free(g_shared_spot);
  scones_spot_options_free(spo);
  return finish("threads");
}
