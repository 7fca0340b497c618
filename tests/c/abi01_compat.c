/*
 * ABI compatibility: a program written and compiled against the frozen 0.1.0 header
 * (tests/fixtures/scones-0.1.0.h), run against the current library. It uses the 0.1 API as a
 * 0.1 program would: the version check of the header's rule (same major, a minor at least the
 * header's), report structs with 0.1's struct_size, and progress callbacks that read only the
 * 0.1 fields of scones_progress. Guard bytes after every library-written struct catch a library
 * that writes past what a 0.1 caller allocated.
 */
/* Only the frozen header: common.h would pull in today's scones.h, so the few checking macros
   this program needs are its own. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../fixtures/scones-0.1.0.h"

#if SCONES_VERSION_MAJOR != 0 || SCONES_VERSION_MINOR != 1
#error "abi01_compat.c must be compiled against the 0.1 header"
#endif

static int g_checks = 0, g_failures = 0;

#define EXPECT(cond, ...)                                  \
  do {                                                     \
    g_checks++;                                            \
    if (!(cond)) {                                         \
      g_failures++;                                        \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);                        \
      fprintf(stderr, "\n");                               \
    }                                                      \
  } while (0)

/* A call taking `scones_error **err` last (written as &err) returns `want`, and on failure an
   error object with that code and a message, which is freed. */
#define EXPECT_STATUS(want, call)                                                                 \
  do {                                                                                            \
    scones_error *err = NULL;                                                                     \
    scones_status st = (call);                                                                    \
    EXPECT(st == (want), "%s returned %s: %s", #call, scones_status_name(st), scones_error_message(err)); \
    if ((want) != SCONES_STATUS_OK)                                                               \
      EXPECT(err && scones_error_code(err) == (want) && strlen(scones_error_message(err)) > 0,   \
             "%s: error object missing or inconsistent", #call);                                 \
    scones_error_free(err);                                                                       \
  } while (0)
#define EXPECT_OK(call) EXPECT_STATUS(SCONES_STATUS_OK, call)

#define GUARD 0xA5
#define N 6

/* A 0.1 report struct followed by guard bytes that must stay untouched. */
struct guarded_discrete {
  scones_discrete_report r;
  unsigned char guard[32];
};
struct guarded_train {
  scones_train_report r;
  unsigned char guard[32];
};

static int guard_intact(const unsigned char *g, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (g[i] != GUARD) return 0;
  return 1;
}

struct seen {
  int calls, dual_training, other;
  size_t min_struct_size;
  int finite_objective;
};

/* A 0.1 callback: reads only the fields 0.1 declares, and treats a phase it does not know as
   "something else is reporting" (0.2's discrete solvers report SCONES_PHASE_DISCRETE = 4). */
static int32_t on_progress(void *user, const scones_progress *p) {
  struct seen *s = (struct seen *)user;
  s->calls++;
  if (p->struct_size < s->min_struct_size) s->min_struct_size = p->struct_size;
  switch (p->phase) {
  case SCONES_PHASE_DUAL_TRAINING:
    s->dual_training++;
    s->finite_objective &= isfinite(p->objective) && isfinite(p->mean_compatibility);
    break;
  case SCONES_PHASE_SAMPLING:
  case SCONES_PHASE_SCORE_TRAINING:
  case SCONES_PHASE_BARYCENTRIC_TRAINING:
    break;
  default:
    s->other++;
    s->finite_objective &= isfinite(p->objective);
    break;
  }
  EXPECT(p->iteration <= p->total, "progress iteration %llu > total %llu", (unsigned long long)p->iteration,
         (unsigned long long)p->total);
  return 0;
}

/* The rule the 0.1 header documents at scones_version: a library with the same major and a
   minor at least the header's runs this program. */
static void check_version(void) {
  const char *v = scones_version();
  int major = -1, minor = -1, patch = -1;
  EXPECT(v && sscanf(v, "%d.%d.%d", &major, &minor, &patch) == 3, "scones_version() = '%s'", v ? v : "(null)");
  EXPECT(major == SCONES_VERSION_MAJOR && minor >= SCONES_VERSION_MINOR,
         "library %s is not compatible with header %s", v, SCONES_VERSION_STRING);
  /* Otherwise this program proves nothing about a newer library. */
  EXPECT(minor > SCONES_VERSION_MINOR, "library %s is not newer than the frozen header %s", v, SCONES_VERSION_STRING);
  printf("header %s, library %s\n", SCONES_VERSION_STRING, v);
}

static double g_x[N * 2], g_y[N * 2];

static void check_discrete(void) {
  scones_matrix x = scones_matrix_f64(g_x, N, 2), y = scones_matrix_f64(g_y, N, 2);
  scones_discrete_options *o = NULL;
  struct seen s = {0, 0, 0, (size_t)-1, 1};
  EXPECT_OK(scones_discrete_options_new(&o, &err));
  EXPECT_OK(scones_discrete_options_set_progress(o, on_progress, &s, 1, &err));
  double f[N], g[N], plan[N * N];
  scones_matrix_mut fm = scones_matrix_mut_f64(f, N, 1), gm = scones_matrix_mut_f64(g, N, 1), pm = scones_matrix_mut_f64(plan, N, N);
  struct guarded_discrete rep;
  memset(&rep, GUARD, sizeof rep);
  rep.r.struct_size = sizeof rep.r;
  EXPECT_OK(scones_sinkhorn(&x, &y, NULL, NULL, SCONES_COST_SQEUCLIDEAN, 0.05, o, &fm, &gm, &pm, &rep.r, &err));
  EXPECT(guard_intact(rep.guard, sizeof rep.guard), "the library wrote past a 0.1 scones_discrete_report");
  EXPECT(rep.r.struct_size == sizeof(scones_discrete_report), "struct_size changed to %zu", rep.r.struct_size);
  EXPECT(rep.r.converged == 1 && rep.r.marginal_error <= 1e-6, "sinkhorn: converged %d, error %g", rep.r.converged,
         rep.r.marginal_error);
  double total = 0.0;
  for (int k = 0; k < N * N; k++) total += plan[k];
  EXPECT(fabs(total - 1.0) <= 1e-6, "plan mass %.12g", total);
  EXPECT(s.calls > 0 && s.dual_training == 0, "discrete solve: %d reports, %d as dual training", s.calls, s.dual_training);
  EXPECT(s.min_struct_size >= sizeof(scones_progress), "progress struct_size %zu < 0.1's %zu", s.min_struct_size,
         sizeof(scones_progress));
  EXPECT(s.finite_objective, "a discrete progress report had a non-finite objective");
  printf("sinkhorn: %d progress reports (%d under a phase 0.1 does not know), struct_size %zu >= 0.1's %zu\n", s.calls,
         s.other, s.min_struct_size, sizeof(scones_progress));

  /* IPOT with a report cut at 0.1's `objective` field: nothing after it may be written. */
  memset(&rep, GUARD, sizeof rep);
  rep.r.struct_size = offsetof(scones_discrete_report, marginal_error);
  EXPECT_OK(scones_ipot(&x, &y, NULL, NULL, SCONES_COST_SQEUCLIDEAN, NULL, &pm, &rep.r, &err));
  EXPECT(isfinite(rep.r.transport_cost) && guard_intact((const unsigned char *)&rep.r.marginal_error,
                                                        sizeof rep - offsetof(scones_discrete_report, marginal_error)),
         "a short report struct was written past its struct_size");
  scones_discrete_options_free(o);
}

static void check_dual(void) {
  scones_matrix x = scones_matrix_f64(g_x, N, 2), y = scones_matrix_f64(g_y, N, 2);
  scones_dual_options *o = NULL;
  struct seen s = {0, 0, 0, (size_t)-1, 1};
  const size_t widths[1] = {8};
  EXPECT_OK(scones_dual_options_new(&o, &err));
  EXPECT_OK(scones_dual_options_set_regularizer(o, SCONES_REGULARIZER_KL, 1.0, &err));
  EXPECT_OK(scones_dual_options_set_hidden(o, widths, 1, &err));
  EXPECT_OK(scones_dual_options_set_batch(o, N, SCONES_BATCH_ALL_PAIRS, &err));
  EXPECT_OK(scones_dual_options_set_iterations(o, 20, &err));
  EXPECT_OK(scones_dual_options_set_seed(o, 3, &err));
  EXPECT_OK(scones_dual_options_set_threads(o, 1, &err));
  EXPECT_OK(scones_dual_options_set_progress(o, on_progress, &s, 5, &err));
  scones_dual *dual = NULL;
  EXPECT_OK(scones_dual_train(&x, &y, o, &dual, &err));
  EXPECT(s.dual_training > 0 && s.other == 0 && s.finite_objective, "dual training: %d reports, %d unknown phase",
         s.dual_training, s.other);
  struct guarded_train tr;
  memset(&tr, GUARD, sizeof tr);
  tr.r.struct_size = sizeof tr.r;
  EXPECT_OK(scones_dual_train_report(dual, &tr.r, &err));
  EXPECT(tr.r.iterations == 20 && isfinite(tr.r.objective), "train report: %llu iterations, objective %g",
         (unsigned long long)tr.r.iterations, tr.r.objective);
  EXPECT(guard_intact(tr.guard, sizeof tr.guard), "the library wrote past a 0.1 scones_train_report");
  double phi[N];
  scones_matrix_mut phim = scones_matrix_mut_f64(phi, N, 1);
  EXPECT_OK(scones_dual_potential(dual, SCONES_POTENTIAL_PHI, &x, &phim, &err));
  for (int i = 0; i < N; i++) EXPECT(isfinite(phi[i]), "phi[%d] = %g", i, phi[i]);
  printf("dual training: %d progress reports under SCONES_PHASE_DUAL_TRAINING\n", s.dual_training);
  /* A 0.1 error path: the status and the message still arrive the same way. */
  EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_dual_options_set_iterations(NULL, 1, &err));
  scones_dual_free(dual);
  scones_dual_options_free(o);
}

int main(void) {
  unsigned s = 777;
  for (int i = 0; i < N * 2; i++) {
    s = s * 1103515245u + 12345u;
    g_x[i] = (double)((s >> 8) & 0xFFFF) / 65536.0;
    s = s * 1103515245u + 12345u;
    g_y[i] = 1.0 + (double)((s >> 8) & 0xFFFF) / 65536.0;
  }
  check_version();
  check_discrete();
  check_dual();
  if (g_failures) {
    fprintf(stderr, "abi01_compat: %d of %d checks failed\n", g_failures, g_checks);
    return 1;
  }
  printf("abi01_compat: all %d checks passed\n", g_checks);
  return 0;
}
