// Tests of the C++ wrapper (bindings/cpp/scones.hpp) against the real library: a tiny d = 2
// Gaussian transport trained and sampled through the RAII classes, checked against the closed
// form; errors arriving as scones::Error with their status; move-only handles; progress
// callbacks that cancel or throw; strided (column-major, float) views; a PNG figure.
//
//   test_scones <scratch-dir>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "scones.hpp"

double second_tu_bw_uvp(const scones::Matrix& x, const scones::Matrix& y, const scones::Matrix& cov_a,
                        const scones::Matrix& cov_b, double lambda);
std::string second_tu_version();

static int g_checks = 0, g_failures = 0;
#define CHECK(cond, ...)                                   \
  do {                                                     \
    g_checks++;                                            \
    if (!(cond)) {                                         \
      g_failures++;                                        \
      std::fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      std::fprintf(stderr, __VA_ARGS__);                   \
      std::fprintf(stderr, "\n");                          \
    }                                                      \
  } while (0)

// Runs `body`, expecting a scones::Error with status `want`.
template <class F>
static void expect_error(scones::Status want, F body, const char* what) {
  g_checks++;
  try {
    body();
    g_failures++;
    std::fprintf(stderr, "FAIL %s: no exception, expected %s\n", what, scones::status_name(want));
  } catch (const scones::Error& e) {
    if (e.status() != want || e.message().empty() || e.code() != static_cast<scones_status>(want)) {
      g_failures++;
      std::fprintf(stderr, "FAIL %s: got %s (%s), expected %s\n", what, scones::status_name(e.status()), e.what(),
                   scones::status_name(want));
    } else {
      std::printf("  ok %-18s %s\n", scones::status_name(want), e.what());
    }
  }
}

static_assert(!std::is_copy_constructible<scones::Dual>::value, "handles are move-only");
static_assert(!std::is_copy_assignable<scones::Sampler>::value, "handles are move-only");
static_assert(std::is_nothrow_move_constructible<scones::Dual>::value, "moves do not throw");
static_assert(std::is_nothrow_move_assignable<scones::Score>::value, "moves do not throw");
static_assert(!std::is_copy_constructible<scones::DualOptions>::value, "options are move-only");

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : ".";
  CHECK(second_tu_version() == SCONES_VERSION_STRING, "library %s, header %s", second_tu_version().c_str(),
        SCONES_VERSION_STRING);

  // ---- errors arrive as scones::Error with the library's status
  expect_error(scones::Status::InvalidArgument, [] { scones::DualOptions().regularizer(scones::Regularizer::Kl, -1.0); },
               "negative lambda");
  expect_error(scones::Status::InvalidArgument, [] { scones::SamplerOptions().steps(0, 0.1); }, "zero steps");
  expect_error(scones::Status::Io, [&] { scones::Dual::load(dir + "/does-not-exist.safetensors"); }, "missing file");
  std::vector<double> bad = {1.0, 2.0, 3.0};
  expect_error(scones::Status::ShapeMismatch, [&] { scones::View v(bad, 2); (void)v; }, "container not rows");

  // ---- the problem: d = 2 Gaussians, lambda = 2d, KL (the paper's Gaussian setting, tiny)
  const std::size_t d = 2, n = 4000, n_eval = 1000;
  const double lambda = 2.0 * d;
  scones::Matrix cov_a = scones::gaussian::random_covariance(d, scones::Spectrum::Geometric, 1);
  scones::Matrix cov_b = scones::gaussian::random_covariance(d, scones::Spectrum::Geometric, 2);
  std::vector<double> zero(d, 0.0);
  scones::View mean(zero.data(), 1, d);
  scones::Matrix x = scones::gaussian::sample(mean, cov_a, n, 10);
  scones::Matrix y = scones::gaussian::sample(mean, cov_b, n, 11);
  scones::Matrix x_eval = scones::gaussian::sample(mean, cov_a, n_eval, 12);

  // Target data as a float, column-major array: a strided view, no copy.
  std::vector<float> y_colmajor(n * d);
  for (std::size_t i = 0; i < n; i++)
    for (std::size_t k = 0; k < d; k++) y_colmajor[k * n + i] = static_cast<float>(y(i, k));

  int reports = 0;
  double last_compat = 0;
  scones::DualOptions opts;
  opts.regularizer(scones::Regularizer::Kl, lambda)
      .hidden({32, 32})
      .batch(100, scones::BatchMode::AllPairs)
      .iterations(300)
      .seed(3)
      .threads(1)  // tiny networks: one thread avoids OpenMP spinning on a busy machine
      .progress([&](const scones::Progress& p) {
        reports++;
        last_compat = p.mean_compatibility;
        return p.phase == scones::Phase::DualTraining;
      }, 100);
  scones::Dual dual = scones::Dual::train(x, scones::View::col_major(y_colmajor.data(), n, d), opts);
  CHECK(reports == 3, "%d progress reports, expected 3", reports);
  CHECK(std::isfinite(last_compat), "E[M(V)] %g", last_compat);
  auto dims = dual.dims();
  CHECK(dims.first == d && dims.second == d, "dims %zu x %zu", dims.first, dims.second);
  scones::Problem pr = dual.problem();
  CHECK(pr.regularizer == scones::Regularizer::Kl && pr.lambda == lambda && pr.cost == scones::Cost::SqEuclidean,
        "problem round trip");
  scones::TrainReport tr = dual.train_report();
  CHECK(tr.iterations == 300, "report says %llu iterations", (unsigned long long)tr.iterations);

  // Moves: the moved-from handle is empty and the library rejects it as an error.
  scones::Dual moved = std::move(dual);
  CHECK(!dual && moved, "move left the source empty");
  expect_error(scones::Status::InvalidArgument, [&] { dual.dims(); }, "moved-from handle");
  dual = std::move(moved);

  std::vector<double> phi = dual.potential(scones::Potential::Phi, x_eval);
  CHECK(phi.size() == n_eval && std::isfinite(phi[0]), "phi");
  expect_error(scones::Status::ShapeMismatch, [&] {
    std::vector<double> out(3);
    dual.potential(scones::Potential::Phi, x_eval, scones::MutView(out.data(), 3, 1));
  }, "wrong output shape");

  // ---- Algorithm 2 with the exact target score, Metropolis-adjusted
  scones::Score score = scones::Score::gaussian(zero, cov_b);
  CHECK(score.dim() == d, "score dim");
  int sampling_reports = 0;
  scones::SamplerOptions sopt;
  sopt.steps(150, 0.05).metropolis(true).seed(7).threads(1).progress([&](const scones::Progress& p) {
    sampling_reports++;
    return std::isnan(p.objective);
  }, 100);
  scones::Sampler sampler(dual, score, sopt);
  scones::Matrix y_eval = sampler.sample(x_eval);
  CHECK(y_eval.rows == n_eval && y_eval.cols == d, "samples %zu x %zu", y_eval.rows, y_eval.cols);
  CHECK(sampling_reports >= 1, "%d sampling reports", sampling_reports);
  scones::SampleReport sr = sampler.report();
  CHECK(sr.chains == n_eval && sr.acceptance > 0.5, "chains %llu acceptance %g", (unsigned long long)sr.chains,
        sr.acceptance);
  double bw = second_tu_bw_uvp(x_eval, y_eval, cov_a, cov_b, lambda);
  std::printf("  tiny d = 2 transport: BW-UVP %.3f (acceptance %.3f; training %.1f s, sampling %.1f s)\n", bw,
              sr.acceptance, tr.seconds, sr.seconds);
  CHECK(bw >= 0 && bw < 3.0, "BW-UVP %g >= 3 (closed-form coupling)", bw);
  // The statistic of the samples themselves: their covariance approaches the target's.
  scones::Matrix cov_y = scones::joint_covariance(y_eval, y_eval);
  for (std::size_t i = 0; i < d; i++)
    for (std::size_t j = 0; j < d; j++)
      CHECK(std::fabs(cov_y(i, j) - cov_b(i, j)) < 0.15 * (cov_b(0, 0) + cov_b(1, 1)), "cov(y)[%zu,%zu] %g vs %g", i, j,
            cov_y(i, j), cov_b(i, j));

  // Output into a caller's column-major float buffer.
  std::vector<float> out_colmajor(50 * d);
  sampler.sample(scones::View(x_eval.data.data(), 50, d), scones::MutView::col_major(out_colmajor.data(), 50, d));
  CHECK(std::isfinite(out_colmajor[0]) && std::isfinite(out_colmajor[99]), "column-major output");

  // ---- progress that cancels, and progress that throws
  {
    scones::DualOptions o;
    o.hidden({8}).batch(16).iterations(1000).progress([](const scones::Progress& p) { return p.iteration < 20; }, 10);
    expect_error(scones::Status::Cancelled, [&] { scones::Dual::train(x, y, o); }, "progress returned false");
    o.progress([](const scones::Progress&) -> bool { throw std::logic_error("from the callback"); }, 10);
    g_checks++;
    try {
      scones::Dual::train(x, y, o);
      g_failures++;
      std::fprintf(stderr, "FAIL: throwing callback did not propagate\n");
    } catch (const std::logic_error& e) {
      if (std::strcmp(e.what(), "from the callback") != 0) g_failures++;
    }
  }
  {
    scones::SamplerOptions o;
    o.steps(100, 0.05).progress([](const scones::Progress& p) { return p.iteration < 10; }, 10);
    scones::Sampler s(dual, score, o);
    expect_error(scones::Status::Cancelled, [&] { s.sample(x_eval); }, "sampler cancelled");
    o.progress(nullptr).steps(5, 0.05);  // removing the callback
    scones::Sampler s2(dual, score, o);
    CHECK(s2.sample(scones::View(x_eval.data.data(), 10, d)).rows == 10, "sampling without a callback");
  }

  // ---- save / load round trip and a figure
  const std::string model = dir + "/cpp_dual.safetensors";
  dual.save(model);
  scones::Dual loaded = scones::Dual::load(model);
  std::vector<double> phi2 = loaded.potential(scones::Potential::Phi, x_eval);
  CHECK(phi == phi2, "reloaded potentials differ");

  scones::Figure fig(400, 300, 1, 2);
  fig.scatter(0, x_eval, 0x1f77b480u).scatter(1, y_eval, 0x2ca02c80u).title(0, "x").title(1, "y ~ pi(y|x)");
  fig.legend(1, {{"samples", 0x2ca02cffu}}).save_png(dir + "/cpp_figure.png");
  std::FILE* f = std::fopen((dir + "/cpp_figure.png").c_str(), "rb");
  unsigned char sig[8] = {0};
  CHECK(f && std::fread(sig, 1, 8, f) == 8 && sig[1] == 'P' && sig[2] == 'N' && sig[3] == 'G', "PNG written");
  if (f) std::fclose(f);

  if (g_failures) {
    std::fprintf(stderr, "cpp: %d of %d checks failed\n", g_failures, g_checks);
    return 1;
  }
  std::printf("cpp: all %d checks passed\n", g_checks);
  return 0;
}
