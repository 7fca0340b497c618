/* Sharded sampling through the C ABI (issue 12, item 2): the K samples of a source depend only
   on the seed and its global index, so sources [0, N) in one call equal [0, S) at offset 0 plus
   [S, N) at offset S (as two MPI ranks would sample them), bit for bit on the CPU, for chain
   batches that split a source's chains and with 1 or 2 threads; plain scones_sample_batch
   calls continue the numbering, so they split the same way. */
#include <string.h>

#include "common.h"

#define D 2
#define N 10
#define K 3
#define S 4

static scones_sampler *make(const scones_dual *dual, const scones_score *score, size_t batch, size_t threads) {
  scones_sampler_options *o = NULL;
  scones_sampler *s = NULL;
  EXPECT_OK(scones_sampler_options_new(&o, &err));
  EXPECT_OK(scones_sampler_options_set_steps(o, 15, 0.2, &err));
  EXPECT_OK(scones_sampler_options_set_samples_per_source(o, K, &err));
  EXPECT_OK(scones_sampler_options_set_metropolis(o, 1, &err));
  EXPECT_OK(scones_sampler_options_set_adapt_step(o, 1, &err));
  EXPECT_OK(scones_sampler_options_set_chain_batch(o, batch, &err));
  EXPECT_OK(scones_sampler_options_set_seed(o, 21, &err));
  EXPECT_OK(scones_sampler_options_set_threads(o, threads, &err));
  EXPECT_OK(scones_sampler_new(dual, score, o, &s, &err));
  scones_sampler_options_free(o);
  return s;
}

int main(void) {
  static double x[N * D], cov[D * D] = {1, 0.2, 0.2, 0.7}, mean[D] = {0, 0};
  static double whole[N * K * D], split[N * K * D], again[N * K * D];
  scones_matrix mu = scones_matrix_f64(mean, 1, D), c = scones_matrix_f64(cov, D, D);
  scones_matrix_mut mx = scones_matrix_mut_f64(x, N, D);
  EXPECT_OK(scones_gaussian_sample(&mu, &c, N, 1, &mx, &err));
  scones_matrix xs = scones_matrix_f64(x, N, D);

  scones_dual_options *dopt = NULL;
  size_t widths[2] = {16, 16};
  EXPECT_OK(scones_dual_options_new(&dopt, &err));
  EXPECT_OK(scones_dual_options_set_regularizer(dopt, SCONES_REGULARIZER_CHI_SQUARE, 0.5, &err));
  EXPECT_OK(scones_dual_options_set_hidden(dopt, widths, 2, &err));
  EXPECT_OK(scones_dual_options_set_iterations(dopt, 30, &err));
  scones_dual *dual = NULL;
  EXPECT_OK(scones_dual_train(&xs, &xs, dopt, &dual, &err));
  scones_score *score = NULL;
  EXPECT_OK(scones_score_new_gaussian(&mu, &c, &score, &err));
  if (!dual || !score) return finish("sharded");

  scones_matrix head = scones_matrix_f64(x, S, D), tail = scones_matrix_f64(x + S * D, N - S, D);
  scones_matrix_mut out_all = scones_matrix_mut_f64(whole, N * K, D);
  scones_matrix_mut out_head = scones_matrix_mut_f64(split, S * K, D);
  scones_matrix_mut out_tail = scones_matrix_mut_f64(split + S * K * D, (N - S) * K, D);
  size_t batches[3] = {1, 5, 4096};
  for (size_t threads = 1; threads <= 2; threads++) {
    scones_sampler *one = make(dual, score, 4096, threads);
    EXPECT_OK(scones_sample_batch_at(one, 0, &xs, &out_all, &err));
    for (int b = 0; b < 3; b++) {
      /* Two "ranks", each with its own sampler and its own range of the sources. */
      scones_sampler *r0 = make(dual, score, batches[b], threads), *r1 = make(dual, score, batches[b], threads);
      memset(split, 0, sizeof split);
      EXPECT_OK(scones_sample_batch_at(r0, 0, &head, &out_head, &err));
      EXPECT_OK(scones_sample_batch_at(r1, S, &tail, &out_tail, &err));
      EXPECT(memcmp(whole, split, sizeof whole) == 0, "threads %zu, chain batch %zu: split differs from whole", threads,
             batches[b]);
      /* Successive plain calls number their sources on. */
      memset(split, 0, sizeof split);
      scones_sampler *seq = make(dual, score, batches[b], threads);
      EXPECT_OK(scones_sample_batch(seq, &head, &out_head, &err));
      EXPECT_OK(scones_sample_batch(seq, &tail, &out_tail, &err));
      EXPECT(memcmp(whole, split, sizeof whole) == 0, "threads %zu, chain batch %zu: successive calls differ",
             threads, batches[b]);
      scones_sampler_free(r0);
      scones_sampler_free(r1);
      scones_sampler_free(seq);
    }
    /* The same sources at another global offset get other numbers. */
    scones_matrix_mut out_again = scones_matrix_mut_f64(again, N * K, D);
    EXPECT_OK(scones_sample_batch_at(one, 1000, &xs, &out_again, &err));
    EXPECT(memcmp(whole, again, sizeof whole) != 0, "offset 1000 repeated offset 0");
    EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sample_batch_at(one, UINT64_MAX, &xs, &out_again, &err));
    EXPECT_STATUS(SCONES_STATUS_INVALID_ARGUMENT, scones_sample_batch_at(NULL, 0, &xs, &out_again, &err));
    scones_sampler_free(one);
  }

  scones_score_free(score);
  scones_dual_free(dual);
  scones_dual_options_free(dopt);
  return finish("sharded");
}
