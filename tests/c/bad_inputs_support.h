/* Fixtures and type-driven mutations for the generated tests/c/bad_inputs.c (see
 * scripts/gen_bad_inputs.py). A case builds a valid call, breaks one argument with MUTATE, fills
 * every output with a sentinel, makes the call and checks: the exact status, a non-empty message
 * on failure, and that a failed call wrote no output (buffers, scalars, handles, report bytes). */
#include <stddef.h>
#include <stdint.h>

#include "common.h"

enum {
  K_NONE, K_NULL, K_ZERO_ROWS, K_ZERO_COLS, K_OVERFLOW, K_DTYPE, K_NAN_DATA, K_OVERLAP,
  K_ZERO, K_NEG, K_NAN, K_INF, K_HUGE, K_ENUM_NEG, K_ENUM_BIG, K_WIDTH0, K_WIDTH1E9, K_SIZE0, K_SIZE_BIG,
  K_ELEM1_ROWS, K_ELEM1_DTYPE, K_ELEM1_NULL
};
static const char *const K_NAMES[] = {"baseline", "NULL", "zero rows", "zero cols", "rows x cols overflow",
                                      "bad dtype", "NaN data", "self-overlap", "0", "-1", "NaN", "Inf", "huge",
                                      "enum -1", "enum 99", "width 0", "width 1e9", "struct_size 0",
                                      "struct_size > library's", "second view's rows differ",
                                      "second view's dtype bad", "second element NULL"};

struct bad_case {
  scones_status (*run)(int p, int kind);
  const char *fn;
  int param;
  const char *param_name;
  int kind;
  scones_status want;
};

#define SENTINEL 12345.0
#define SENTINEL_PTR ((void *)(uintptr_t)0x5e47)
#define OUT_SLOT 64

static double g_in[64], g_nan[64], g_outbuf[16 * OUT_SLOT];
static scones_dual *g_dual;
static scones_score *g_score, *g_trained_score;
static scones_sampler *g_sampler_fixture;
static scones_measure *g_measure;
static scones_barycentric *g_map;
static scones_figure *g_figure;
static scones_spot *g_spot;
static scones_spot_options *g_fast_spot;
static scones_dual_options *g_fast_dual;
static scones_train_options *g_fast_train;
static scones_sampler_options *g_fast_sampler;
static const char *g_labels[1] = {"a"};
static const uint32_t g_colors[1] = {0xff0000ffu};
static char g_dual_path[600], g_score_path[600], g_map_path[600], g_spot_path[600], g_torchscript_path[512], g_cost_module_path[600],
    g_scratch[512];
static const char *g_case_fn, *g_case_param;
static int g_case_kind;

#define g_sampler g_sampler_fixture

static const char *scratch_path(const char *name) {
  static char buf[600];
  snprintf(buf, sizeof buf, "%s/%s", g_scratch, name);
  return buf;
}

static const double g_weights[4] = {0.25, 0.25, 0.25, 0.25};

static scones_matrix in_view(const double *data, size_t r, size_t c) {
  scones_matrix m = {data, r, c, (ptrdiff_t)c, 1, SCONES_DTYPE_F64};
  return m;
}

static scones_matrix_mut out_view(int slot, size_t r, size_t c) {
  scones_matrix_mut m = {g_outbuf + slot * OUT_SLOT, r, c, (ptrdiff_t)c, 1, SCONES_DTYPE_F64};
  return m;
}

static void fill_outputs(void) {
  for (size_t i = 0; i < sizeof g_outbuf / sizeof g_outbuf[0]; i++) g_outbuf[i] = SENTINEL;
}

static int outputs_untouched(void) {
  for (size_t i = 0; i < sizeof g_outbuf / sizeof g_outbuf[0]; i++)
    if (g_outbuf[i] != SENTINEL) return 0;
  return 1;
}

static void fill_bytes(void *p, size_t n) { memset(p, 0xAB, n); }

static int bytes_untouched(const void *p, size_t n) {
  const unsigned char *b = (const unsigned char *)p;
  for (size_t i = 0; i < n; i++)
    if (b[i] != 0xAB) return 0;
  return 1;
}

#define CASE_FAIL(...)                                                                             \
  do {                                                                                             \
    g_failures++;                                                                                  \
    fprintf(stderr, "FAIL %s(%s = %s): ", g_case_fn, g_case_param, K_NAMES[g_case_kind]);         \
    fprintf(stderr, __VA_ARGS__);                                                                  \
    fprintf(stderr, "\n");                                                                         \
  } while (0)

#define CHECK_UNTOUCHED(cond)                                               \
  do {                                                                      \
    g_checks++;                                                             \
    if (!(cond)) CASE_FAIL("failed but wrote an output (%s)", #cond);       \
  } while (0)

static void check_result(scones_status st, scones_error *err) {
  g_checks++;
  if (st == SCONES_STATUS_OK) {
    if (err != NULL) CASE_FAIL("succeeded but *err is not NULL");
  } else if (err == NULL || err == (scones_error *)SENTINEL_PTR || scones_error_code(err) != st ||
             strlen(scones_error_message(err)) == 0) {
    CASE_FAIL("status %s without a consistent error object", scones_status_name(st));
  }
}

/* The report sits in front of 32 bytes of 0xAB: bytes past the library's struct, and on failure
   every byte after struct_size, must stay 0xAB; struct_size itself is never written. */
#define REPORT(T, v)                  \
  struct {                            \
    T r;                              \
    unsigned char pad[32];            \
  } v##_u;                            \
  memset(&v##_u, 0xAB, sizeof v##_u); \
  v##_u.r.struct_size = sizeof(T);    \
  T *v = &v##_u.r

#define CHECK_REPORT(v, st, size0)                                                                   \
  do {                                                                                               \
    if (v) {                                                                                         \
      CHECK_UNTOUCHED(v->struct_size == (size0));                                                    \
      CHECK_UNTOUCHED(bytes_untouched(v##_u.pad, sizeof v##_u.pad));                                 \
      if ((st) != SCONES_STATUS_OK)                                                                  \
        CHECK_UNTOUCHED(bytes_untouched((unsigned char *)v + sizeof(size_t), sizeof(*v) - sizeof(size_t))); \
    }                                                                                                \
  } while (0)

static void mut_in(const scones_matrix **pp, int k) {
  scones_matrix *m = (scones_matrix *)*pp;
  switch (k) {
  case K_NULL: *pp = NULL; break;
  case K_ZERO_ROWS: m->rows = 0; break;
  case K_ZERO_COLS: m->cols = 0; break;
  case K_OVERFLOW: m->rows = m->cols = (size_t)1 << 32; m->row_stride = (ptrdiff_t)1 << 32; m->col_stride = 1; break;
  case K_DTYPE: m->dtype = 7; break;
  case K_NAN_DATA: m->data = g_nan; break;
  }
}

static void mut_out(const scones_matrix_mut **pp, int k) {
  scones_matrix_mut *m = (scones_matrix_mut *)*pp;
  switch (k) {
  case K_NULL: *pp = NULL; break;
  case K_ZERO_ROWS: m->rows = 0; break;
  case K_ZERO_COLS: m->cols = 0; break;
  case K_OVERFLOW: m->rows = m->cols = (size_t)1 << 32; m->row_stride = (ptrdiff_t)1 << 32; m->col_stride = 1; break;
  case K_DTYPE: m->dtype = 7; break;
  case K_OVERLAP: m->row_stride = 0; m->col_stride = 0; break;
  /* Arrays of views (one per marginal): the second element. */
  case K_ELEM1_ROWS: m[1].rows += 1; break;
  case K_ELEM1_DTYPE: m[1].dtype = 7; break;
  }
}

/* Arrays of measure handles: the array, or its second element. */
static void mut_measures(const scones_measure *const **pp, int k) {
  if (k == K_NULL) *pp = NULL;
  else if (k == K_ELEM1_NULL) ((const scones_measure **)*pp)[1] = NULL;
}

static void mut_f64(double *v, int k) {
  switch (k) {
  case K_ZERO: *v = 0.0; break;
  case K_NEG: *v = -1.0; break;
  case K_NAN: *v = NAN; break;
  case K_INF: *v = INFINITY; break;
  case K_HUGE: *v = 1e308; break;
  }
}

static void mut_ul(unsigned long *v, int k) {
  switch (k) {
  case K_ZERO: *v = 0; break;
  case K_NEG: *v = (unsigned long)-1; break;
  case K_HUGE: *v = (unsigned long)1 << 40; break;
  }
}

static void mut_u32(unsigned int *v, int k) {
  switch (k) {
  case K_ZERO: *v = 0; break;
  case K_NEG: *v = (unsigned int)-1; break;
  case K_HUGE: *v = 1u << 31; break;
  }
}

static void mut_i32(int *v, int k) { *v = k == K_ENUM_NEG ? -1 : 99; }

static void mut_widths(const size_t **pp, int k) {
  size_t *w = (size_t *)*pp;
  if (k == K_NULL) *pp = NULL;
  else w[0] = k == K_WIDTH0 ? 0 : 1000000000;
}

/* Any other pointer: only NULL applies. Reports start with struct_size. */
static void mut_ptr(void *pp, int k) {
  if (k == K_NULL) *(void **)pp = NULL;
}

static void mut_report(void *pp, int k) {
  size_t *size = *(size_t **)pp;
  if (k == K_NULL) *(void **)pp = NULL;
  else if (k == K_SIZE0) *size = 0;
  else if (k == K_SIZE_BIG) *size += 32;
}

/* A collective: struct_size 0 or larger than the library's (a newer caller: accepted), size 0
 * (K_ZERO) and rank == size (K_HUGE). */
static void mut_collective(const scones_collective **pp, int k) {
  scones_collective *c = (scones_collective *)*pp;
  if (k == K_NULL) *pp = NULL;
  else if (k == K_SIZE0) c->struct_size = 0;
  else if (k == K_SIZE_BIG) c->struct_size += 32;
  else if (k == K_ZERO) c->size = 0;
  else if (k == K_HUGE) c->rank = c->size;
}

#define MUTATE(x, k)                                                                        \
  _Generic((x), const scones_matrix *: mut_in, const scones_matrix_mut *: mut_out,          \
           double: mut_f64, unsigned long: mut_ul, unsigned int: mut_u32, int: mut_i32,     \
           const size_t *: mut_widths, scones_train_report *: mut_report,                   \
           scones_sample_report *: mut_report, scones_discrete_report *: mut_report,        \
           scones_spot_report *: mut_report, const scones_measure *const *: mut_measures,   \
           const scones_collective *: mut_collective, default: mut_ptr)(&(x), k)

/* Callbacks a valid baseline passes. */
static int32_t cb_progress(void *u, const scones_progress *p) {
  (void)u, (void)p;
  return 0;
}

static int32_t cb_score(void *u, const double *y, size_t n, size_t d, double sigma, double *out) {
  (void)u, (void)sigma;
  for (size_t i = 0; i < n * d; i++) out[i] = -y[i];
  return 0;
}

static int32_t cb_measure(void *u, size_t m, size_t d, uint64_t seed, double *out) {
  (void)u;
  for (size_t i = 0; i < m * d; i++) out[i] = (double)((seed + i) % 17) / 17.0;
  return 0;
}

/* One rank: the sum over the group is the buffer itself. */
static int32_t cb_allreduce(void *u, float *buffer, size_t count) {
  (void)u, (void)buffer, (void)count;
  return 0;
}

/* c(x, y) = |x - y|^2 and its y-gradient. */
static int32_t cb_cost(void *u, size_t m, size_t dx, size_t dy, const double *x, const double *y, double *values,
                       double *grad_y) {
  (void)u, (void)dy;
  for (size_t i = 0; i < m; i++) {
    values[i] = 0;
    for (size_t k = 0; k < dx; k++) {
      double t = y[i * dx + k] - x[i * dx + k];
      values[i] += t * t;
      if (grad_y) grad_y[i * dx + k] = 2 * t;
    }
  }
  return 0;
}

static scones_sampler *fresh_sampler(void) {
  scones_sampler *s = NULL;
  scones_sampler_new(g_dual, g_score, g_fast_sampler, &s, NULL);
  return s;
}
