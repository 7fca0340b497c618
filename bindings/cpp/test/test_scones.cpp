// Tests of the C++ wrapper (bindings/cpp/scones.hpp) against the real library: a tiny d = 2
// Gaussian transport trained and sampled through the RAII classes, checked against the closed
// form; errors arriving as scones::Error with their status; move-only handles; progress
// callbacks that cancel or throw; strided (column-major, float) views; a PNG figure. Then the
// host callbacks (a score and measures as std::functions, and ones that throw), the empirical,
// trained and TorchScript scores, the barycentric map, toy data and per-sampler progress; the
// discrete solvers (Sinkhorn, IPOT, f-divergence dual, assignment); SPOT (ABI 0.3).
//
//   test_scones <scratch-dir> [<TorchScript fixture: tests/fixtures/score_module.pt>]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
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
      std::string first = e.what();
      first = first.substr(0, first.find('\n'));  // libtorch messages carry a backtrace
      std::printf("  ok %-18s %s\n", scones::status_name(want), first.c_str());
    }
  }
}

// Runs `body`, expecting a scones::Error with Status::Callback whose nested exception is a
// std::runtime_error saying `inner`.
template <class F>
static void expect_callback_error(F body, const char* inner, const char* what) {
  g_checks++;
  try {
    body();
    g_failures++;
    std::fprintf(stderr, "FAIL %s: no exception, expected callback\n", what);
  } catch (const scones::Error& e) {
    std::string nested;
    try {
      std::rethrow_if_nested(e);
    } catch (const std::runtime_error& r) {
      nested = r.what();
    } catch (...) {
      nested = "(another type)";
    }
    if (e.status() != scones::Status::Callback || nested != inner) {
      g_failures++;
      std::fprintf(stderr, "FAIL %s: got %s, nested '%s'; expected callback with '%s'\n", what, e.what(), nested.c_str(), inner);
    } else {
      std::printf("  ok %-18s %s\n", "callback", e.what());
    }
  }
}

// A host "simulator" of N(center, 0.25 I) in 2-D, drawing from the library's seed.
struct Simulator {
  double center;
  int calls = 0, fail_after = -1;
  void operator()(double* out, std::size_t m, std::size_t d, std::uint64_t seed) {
    calls++;
    if (fail_after >= 0 && calls > fail_after) throw std::runtime_error("simulator broke");
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> z(center, 0.5);
    for (std::size_t i = 0; i < m * d; i++) out[i] = z(rng);
  }
};

// Host callbacks, the new score sources, the barycentric map and per-sampler progress.
static void test_callbacks_and_maps(const std::string& dir, const std::string& fixture) {
  auto t0 = std::chrono::steady_clock::now();
  // ---- toy data
  scones::Matrix roll = scones::toy_sample(scones::Toy::SwissRoll, 1000, 1);
  double rmin = 1e9, rmax = 0;
  for (std::size_t i = 0; i < roll.rows; i++) {
    double r = std::hypot(roll(i, 0), roll(i, 1));
    rmin = std::fmin(rmin, r);
    rmax = std::fmax(rmax, r);
  }
  // t in [1.5 pi, 4.5 pi], radius t / 5 in [0.94, 2.83], plus N(0, 0.1^2) noise.
  CHECK(roll.rows == 1000 && rmin > 0.4 && rmax < 3.4 && rmax > 2.3, "swiss roll radii [%g, %g]", rmin, rmax);
  expect_error(scones::Status::InvalidArgument, [] { scones::toy_sample(static_cast<scones::Toy>(99), 10, 0); }, "unknown toy");

  // ---- measures from host simulators: N(-1, .25 I) -> N(+1, .25 I), KL, lambda = 1
  Simulator src{-1.0}, tgt{1.0};
  scones::Measure ms = scones::Measure::callback(2, std::ref(src));
  scones::Measure mt = scones::Measure::callback(2, std::ref(tgt));
  scones::DualOptions dopt;
  dopt.regularizer(scones::Regularizer::Kl, 1.0).hidden({32, 32}).batch(128).iterations(600).threads(1);
  scones::Dual dual = scones::Dual::train(ms, mt, dopt);
  CHECK(src.calls == 600 && tgt.calls == 600, "simulators called %d and %d times", src.calls, tgt.calls);
  {
    Simulator bad{1.0};
    bad.fail_after = 4;
    scones::Measure mb = scones::Measure::callback(2, std::ref(bad));
    expect_callback_error([&] { scones::Dual::train(ms, mb, dopt); }, "simulator broke", "failing measure");
    CHECK(bad.calls == 5, "failing simulator called %d times", bad.calls);
  }

  // ---- a host score: the exact score of the target N(1, .25 I), smoothed by sigma
  int score_calls = 0;
  auto gauss = [&score_calls](const double* y, std::size_t n, std::size_t d, double sigma, double* out) {
    score_calls++;
    for (std::size_t i = 0; i < n * d; i++) out[i] = -(y[i] - 1.0) / (0.25 + sigma * sigma);
  };
  const std::size_t n = 400;
  scones::Matrix x(n, 2);
  Simulator{-1.0}(x.data.data(), n, 2, 12345);
  scones::Sampler sampler;
  {
    scones::Score host = scones::Score::callback(2, gauss);
    CHECK(host.dim() == 2, "callback score dim");
    // Agrees with the library's closed-form Gaussian score.
    const std::vector<double> one = {1.0, 1.0}, cov = {0.25, 0.0, 0.0, 0.25};
    scones::Score exact = scones::Score::gaussian(one, scones::View(cov.data(), 2, 2));
    scones::View few(x.data.data(), 5, 2);
    scones::Matrix a = host.eval(few, 0.3), b = exact.eval(few, 0.3);
    double diff = 0;
    for (std::size_t i = 0; i < a.data.size(); i++) diff = std::fmax(diff, std::fabs(a.data[i] - b.data[i]));
    CHECK(score_calls == 1 && diff < 1e-4, "callback vs closed-form score: %d calls, max diff %g", score_calls, diff);
    scones::SamplerOptions so;
    so.steps(200, 0.01).seed(3).threads(1);
    sampler = scones::Sampler(dual, host, so);
  }  // the score is gone; the sampler keeps its function alive
  score_calls = 0;
  scones::Matrix y = sampler.sample(x);
  CHECK(score_calls == 200, "score callback called %d times by 200 steps", score_calls);
  double mean[2] = {0, 0}, cov[2] = {0, 0}, xm[2] = {0, 0};
  for (std::size_t i = 0; i < n; i++)
    for (int k = 0; k < 2; k++) mean[k] += y(i, k) / n, xm[k] += x(i, k) / n;
  for (std::size_t i = 0; i < n; i++)
    for (int k = 0; k < 2; k++) cov[k] += (x(i, k) - xm[k]) * (y(i, k) - mean[k]) / (n - 1);
  // pi's y-marginal is N(1, .25 I); per axis Cov(x, y) = (sqrt(s^4 + 4ab) - s^2) / 2 = 0.1036
  // for a = b = 0.25, s^2 = lambda / 2 (standard error 0.0135 at n = 400; 0 without coupling).
  CHECK(std::fabs(mean[0] - 1) < 0.15 && std::fabs(mean[1] - 1) < 0.15, "sample mean (%g, %g)", mean[0], mean[1]);
  CHECK(std::fabs(cov[0] - 0.1036) < 0.05 && std::fabs(cov[1] - 0.1036) < 0.05, "Cov(x, y) diag (%g, %g), closed form 0.1036",
        cov[0], cov[1]);

  // A host score that throws: the call fails with Status::Callback, the exception nested.
  {
    int calls = 0;
    // Until it throws it returns a zero score: the library rejects a callback that leaves its
    // output unwritten (it arrives filled with NaN).
    scones::Score failing = scones::Score::callback(2, [&calls](const double*, std::size_t rows, std::size_t dim, double,
                                                                double* out) {
      if (++calls > 3) throw std::runtime_error("host score failed");
      std::fill(out, out + rows * dim, 0.0);
    });
    scones::Sampler s(dual, failing, scones::SamplerOptions().steps(10, 0.01));
    std::vector<double> out(n * 2, 7.0);
    expect_callback_error([&] { s.sample(x, scones::MutView(out.data(), n, 2)); }, "host score failed", "failing score");
    CHECK(calls == 4 && out[0] == 7.0 && out[n * 2 - 1] == 7.0, "failed sampling: %d calls, output written", calls);
    expect_callback_error([&] { failing.eval(x, 0.0); }, "host score failed", "failing score eval");
  }

  // ---- per-sampler progress replaces the callback between calls; shape sizes the outputs
  {
    scones::SamplerOptions so;
    so.steps(50, 0.01).samples_per_source(3).seed(5).threads(1);
    scones::Sampler s(dual, scones::Score::callback(2, gauss), so);
    scones::SamplerShape sh = s.shape();
    CHECK(sh.dx == 2 && sh.dy == 2 && sh.k == 3 && s.samples_per_source() == 3, "shape %zu %zu %zu", sh.dx, sh.dy, sh.k);
    scones::View ten(x.data.data(), 10, 2);
    CHECK(s.sample(ten).rows == 30, "K = 3 rows");
    // Sharded: sources [0, 4) at offset 0 and [4, 10) at offset 4, chain batch 2 (splitting a
    // source's chains), equal one call over the ten bit for bit.
    {
      scones::Matrix whole = s.sample_at(0, ten);
      scones::SamplerOptions so2;
      so2.steps(50, 0.01).samples_per_source(3).seed(5).threads(1).chain_batch(2);
      scones::Sampler r(dual, scones::Score::callback(2, gauss), so2);
      scones::Matrix head = r.sample_at(0, scones::View(x.data.data(), 4, 2));
      scones::Matrix tail = r.sample_at(4, scones::View(x.data.data() + 8, 6, 2));
      bool same = head.rows == 12 && tail.rows == 18;
      for (std::size_t i = 0; same && i < 12 * 2; i++) same = head.data[i] == whole.data[i];
      for (std::size_t i = 0; same && i < 18 * 2; i++) same = tail.data[i] == whole.data[24 + i];
      CHECK(same, "sharded samples differ from one call");
    }
    int reports = 0;
    s.progress([&reports](const scones::Progress& p) { reports++; return p.iteration < 20; }, 10);
    expect_error(scones::Status::Cancelled, [&] { s.sample(ten); }, "per-sampler progress cancels");
    CHECK(reports == 2, "%d reports before cancelling", reports);
    s.progress([&reports](const scones::Progress&) { reports += 100; return true; }, 25);
    CHECK(s.sample(ten).rows == 30 && reports == 202, "replaced progress: %d", reports);
    s.progress(nullptr);
    CHECK(s.sample(ten).rows == 30 && reports == 202, "removed progress: %d", reports);
  }

  // ---- the empirical score: one point p gives exactly -(y - p) / (h^2 + sigma^2)
  {
    const std::vector<double> p = {0.5, -1.0};
    scones::Score e = scones::Score::empirical(scones::View(p.data(), 1, 2), 0.2);
    scones::View few(x.data.data(), 4, 2);
    scones::Matrix s = e.eval(few, 0.3);
    double diff = 0;
    for (std::size_t i = 0; i < 4; i++)
      for (int k = 0; k < 2; k++) diff = std::fmax(diff, std::fabs(s(i, k) + (x(i, k) - p[k]) / (0.04 + 0.09)));
    CHECK(diff < 1e-4, "empirical score of one point: max error %g", diff);
    scones::Score er = scones::Score::empirical(roll, 0.05);
    CHECK(er.dim() == 2, "empirical score dim");
    expect_error(scones::Status::InvalidArgument, [&] { scones::Score::empirical(roll, 0.0); }, "zero bandwidth");
    expect_error(scones::Status::InvalidArgument, [&] { er.save(dir + "/empirical.safetensors"); }, "saving an empirical score");
  }

  // ---- a trained score network (tiny), saved and reloaded
  {
    scones::TrainOptions to;
    int reports = 0;
    to.hidden({16, 16}).iterations(100).batch_size(128).noise_levels(0, 0.05, 4).seed(1).threads(1)
        .progress([&reports](const scones::Progress& p) { reports++; return p.phase == scones::Phase::ScoreTraining; }, 50);
    scones::Score net = scones::Score::train(scones::Measure::points(roll), to);
    CHECK(reports == 2, "%d score training reports", reports);
    net.save(dir + "/cpp_score.safetensors");
    scones::Score back = scones::Score::load(dir + "/cpp_score.safetensors");
    scones::View few(roll.data.data(), 8, 2);
    CHECK(net.eval(few, 0.1).data == back.eval(few, 0.1).data, "reloaded score network differs");
    expect_error(scones::Status::InvalidArgument, [] { scones::TrainOptions().noise_levels(0.5, 1.0, 4); }, "bad noise levels");
  }

  // ---- a TorchScript score (the fixture: y -> expected scores in score_module_expected.json)
  if (!fixture.empty()) {
    scones::Score ts = scones::Score::torchscript(fixture, 2);
    const std::vector<double> y1 = {1.0, 2.0};
    scones::Matrix s = ts.eval(scones::View(y1.data(), 1, 2), 0.0);
    CHECK(std::fabs(s(0, 0) + 0.3129626) < 1e-4 && std::fabs(s(0, 1) + 3.9734173) < 1e-4, "TorchScript score (%g, %g)",
          s(0, 0), s(0, 1));
    expect_error(scones::Status::Format, [&] { scones::Score::torchscript(dir + "/cpp_score.safetensors", 2); },
                 "not a TorchScript file");
  }

  // ---- the barycentric map T(x) = E[y | x]: its mean is tau's, (+1, +1)
  {
    scones::TrainOptions to;
    to.hidden({32, 32}).iterations(300).batch_size(128).seed(2).threads(1);
    scones::Barycentric map = scones::Barycentric::train(dual, ms, mt, to);
    auto d = map.dims();
    CHECK(d.first == 2 && d.second == 2, "map dims %zu x %zu", d.first, d.second);
    scones::Matrix tx = map(x);
    double tm[2] = {0, 0};
    for (std::size_t i = 0; i < n; i++)
      for (int k = 0; k < 2; k++) tm[k] += tx(i, k) / n;
    CHECK(std::fabs(tm[0] - 1) < 0.3 && std::fabs(tm[1] - 1) < 0.3, "barycentric map mean (%g, %g)", tm[0], tm[1]);
    map.save(dir + "/cpp_map.safetensors");
    scones::Barycentric back = scones::Barycentric::load(dir + "/cpp_map.safetensors");
    CHECK(back.map(x).data == tx.data, "reloaded map differs");
    expect_error(scones::Status::ShapeMismatch, [&] {
      std::vector<double> out(3);
      map.map(x, scones::MutView(out.data(), 3, 1));
    }, "map output shape");
    // Chains started at T(x), with the compatibility term off: samples of tau itself.
    scones::SamplerOptions so;
    so.steps(100, 0.01).init_map(back).compatibility(false).compatibility_tempering(true).seed(4).threads(1);
    scones::Sampler s(dual, scones::Score::callback(2, gauss), so);
    scones::Matrix ys = s.sample(x);
    double m0 = 0, c0 = 0, xm0 = 0;
    for (std::size_t i = 0; i < n; i++) m0 += ys(i, 0) / n, xm0 += x(i, 0) / n;
    for (std::size_t i = 0; i < n; i++) c0 += (x(i, 0) - xm0) * (ys(i, 0) - m0) / (n - 1);
    CHECK(std::fabs(m0 - 1) < 0.15, "tau samples mean %g", m0);
    std::printf("  barycentric map mean (%.3f, %.3f); Cov(x, y) %.4f with, %.4f without the compatibility term\n", tm[0],
                tm[1], cov[0], c0);
  }
  std::printf("  callbacks, scores and maps: %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

// Discrete OT on 6 + 6 points: Sinkhorn at small lambda, IPOT and the exact assignment agree on
// the transport cost; the KL f-divergence dual meets uniform marginals; errors, cancellation and
// a throwing progress function.
static void test_discrete() {
  const std::size_t n = 6;
  std::vector<double> x(n * 2), y(n * 2);
  unsigned s = 12345;
  for (double* v : {x.data(), y.data()})
    for (std::size_t i = 0; i < n * 2; i++) {
      s = s * 1103515245u + 12345u;
      v[i] = static_cast<double>((s >> 8) & 0xFFFF) / 65536.0;
    }
  scones::View xv(x, 2), yv(y, 2);
  scones::Matrix c(n, n);
  double maxc = 0;
  for (std::size_t i = 0; i < n; i++)
    for (std::size_t j = 0; j < n; j++) {
      double dx = x[2 * i] - y[2 * j], dy = x[2 * i + 1] - y[2 * j + 1];
      c(i, j) = dx * dx + dy * dy;
      maxc = std::fmax(maxc, c(i, j));
    }

  scones::AssignmentResult a = scones::assignment(c);
  double opt = a.total_cost / n, dual = 0;
  for (std::size_t i = 0; i < n; i++) dual += a.u[i] + a.v[i];
  CHECK(a.cols.size() == n && std::fabs(dual - a.total_cost) < 1e-12, "assignment duality gap %g", dual - a.total_cost);

  int reports = 0;
  scones::DiscreteOptions o;
  o.tolerance(1e-9).progress([&](const scones::Progress&) { return ++reports > 0; }, 5);
  scones::SinkhornResult sk = scones::sinkhorn(xv, yv, 1e-6 * maxc, o);
  CHECK(sk.report.converged && std::fabs(sk.report.transport_cost - opt) <= 1e-5 * opt,
        "sinkhorn cost %.12g vs optimum %.12g", sk.report.transport_cost, opt);
  CHECK(sk.f.size() == n && sk.g.size() == n && sk.plan.rows == n && sk.plan.cols == n && reports > 0,
        "sinkhorn shapes, %d progress reports", reports);
  for (std::size_t i = 0; i < n; i++)
    CHECK(std::fabs(sk.plan(i, a.cols[i]) - 1.0 / n) < 1e-5, "sinkhorn plan off the assignment at row %zu", i);
  scones::SinkhornResult no_plan = scones::sinkhorn(xv, yv, 0.1, scones::DiscreteOptions(), scones::Cost::SqEuclidean, {}, false);
  CHECK(no_plan.plan.data.empty() && no_plan.f.size() == n, "sinkhorn without a plan");

  scones::DiscreteOptions io;
  io.ipot(0.002, 1).max_iterations(2000);
  scones::IpotResult ip = scones::ipot(xv, yv, io);
  CHECK(std::fabs(ip.report.transport_cost - opt) <= 1e-5 * opt && ip.report.marginal_error < 1e-8,
        "ipot cost %.12g vs optimum %.12g (marginal error %g)", ip.report.transport_cost, opt, ip.report.marginal_error);
  std::printf("  discrete: optimum %.10g, sinkhorn %.10g (%llu it), ipot %.10g (%llu steps)\n", opt,
              sk.report.transport_cost, static_cast<unsigned long long>(sk.report.iterations), ip.report.transport_cost,
              static_cast<unsigned long long>(ip.report.iterations));

  // f-divergence dual with KL: uniform weights given explicitly (a column) on the source side.
  std::vector<double> w(n, 1.0 / n);
  scones::FDualResult fd = scones::discrete_fdual(xv, yv, scones::Regularizer::Kl, 0.05, scones::DiscreteOptions(),
                                                  scones::Cost::SqEuclidean, {scones::View(w.data(), n, 1), std::nullopt});
  double worst = 0;
  for (std::size_t i = 0; i < n; i++) {
    double row = 0, col = 0;
    for (std::size_t j = 0; j < n; j++) row += fd.plan(i, j), col += fd.plan(j, i);
    worst = std::fmax(worst, std::fmax(std::fabs(row - 1.0 / n), std::fabs(col - 1.0 / n)));
  }
  CHECK(fd.report.converged && worst < 1e-8 && fd.phi.size() == n, "fdual marginal error %g", worst);

  // ABI 0.2: results into caller buffers (float32, column-major plan) and the dense cost-matrix
  // forms; both agree with the owning point-set calls. Progress arrives under Phase::Discrete.
  auto max_diff = [](const double* p, const double* q, std::size_t k) {
    double d = 0;
    for (std::size_t i = 0; i < k; i++) d = std::fmax(d, std::fabs(p[i] - q[i]));
    return d;
  };
  std::vector<float> f32(n, -1.0f), g32(n, -1.0f);
  std::vector<double> pcol(n * n, -1.0);
  int discrete_phase = 0, other_phase = 0;
  scones::DiscreteOptions po;
  po.tolerance(1e-9).progress(
      [&](const scones::Progress& p) {
        (p.phase == scones::Phase::Discrete && p.marginal_error >= 0 ? discrete_phase : other_phase)++;
        return true;
      },
      5);
  scones::DiscreteReport into = scones::sinkhorn(xv, yv, 1e-6 * maxc, scones::MutView(f32.data(), n, 1),
                                                 scones::MutView(g32.data(), n, 1),
                                                 scones::MutView::col_major(pcol.data(), n, n), po);
  double d32 = 0;
  for (std::size_t i = 0; i < n; i++) d32 = std::fmax(d32, std::fabs(f32[i] - sk.f[i]));
  double dplan = 0;
  for (std::size_t i = 0; i < n; i++)
    for (std::size_t j = 0; j < n; j++) dplan = std::fmax(dplan, std::fabs(pcol[j * n + i] - sk.plan(i, j)));
  CHECK(d32 < 1e-5 * (1 + maxc) && dplan < 1e-12 && into.iterations == sk.report.iterations,
        "sinkhorn into buffers: f differs by %g, plan by %g", d32, dplan);
  CHECK(discrete_phase > 0 && other_phase == 0, "progress: %d discrete, %d other", discrete_phase, other_phase);
  scones::SinkhornResult skc = scones::sinkhorn_cost(c, 1e-6 * maxc, o);
  CHECK(max_diff(skc.plan.data.data(), sk.plan.data.data(), n * n) < 1e-10 && max_diff(skc.f.data(), sk.f.data(), n) < 1e-10,
        "sinkhorn_cost differs from sinkhorn");
  std::vector<double> ipbuf(n * n);
  scones::DiscreteReport ipr = scones::ipot_cost(c, scones::MutView(ipbuf.data(), n, n), io);
  CHECK(max_diff(ipbuf.data(), ip.plan.data.data(), n * n) < 1e-10 && ipr.iterations == ip.report.iterations,
        "ipot_cost into a buffer differs from ipot");
  std::vector<double> phi(n), psi(n);
  scones::DiscreteReport fdr =
      scones::discrete_fdual_cost(c, scones::Regularizer::Kl, 0.05, scones::MutView(phi.data(), n, 1),
                                  scones::MutView(psi.data(), n, 1), std::nullopt, scones::DiscreteOptions(),
                                  {scones::View(w.data(), n, 1), std::nullopt});
  CHECK(fdr.converged && max_diff(phi.data(), fd.phi.data(), n) < 1e-10 && max_diff(psi.data(), fd.psi.data(), n) < 1e-10,
        "discrete_fdual_cost into buffers differs from discrete_fdual");
  // A buffer of the wrong shape is refused before any work, and is left as it was.
  std::vector<double> short_f(n - 1, 7.0);
  expect_error(scones::Status::ShapeMismatch,
               [&] { scones::sinkhorn_cost(c, 0.1, scones::MutView(short_f.data(), n - 1, 1), scones::MutView(psi.data(), n, 1), std::nullopt); },
               "sinkhorn_cost into a short buffer");
  CHECK(short_f[0] == 7.0, "a refused buffer was written");
  CHECK(scones::version_compatible(), "library %s is not compatible with header %s", scones::version().c_str(),
        SCONES_VERSION_STRING);

  // Errors and cancellation.
  expect_error(scones::Status::InvalidArgument, [&] { scones::sinkhorn(xv, yv, 0.0); }, "sinkhorn lambda = 0");
  expect_error(scones::Status::InvalidArgument, [&] { scones::discrete_fdual(xv, yv, scones::Regularizer::Gan, -1.0); },
               "fdual lambda < 0");
  std::vector<double> y3(n * 3, 0.0);
  expect_error(scones::Status::ShapeMismatch, [&] { scones::ipot(xv, scones::View(y3, 3)); }, "ipot dimensions");
  expect_error(scones::Status::ShapeMismatch, [&] { scones::assignment(scones::View(x, 2)); }, "non-square assignment");
  expect_error(scones::Status::InvalidArgument, [] { scones::DiscreteOptions().tolerance(0.0); }, "tolerance 0");
  int calls = 0;
  scones::DiscreteOptions co;
  co.progress([&](const scones::Progress&) { return ++calls < 2; }, 1);
  expect_error(scones::Status::Cancelled, [&] { scones::sinkhorn(xv, yv, 1e-3, co); }, "sinkhorn cancelled");
  CHECK(calls == 2, "sinkhorn: %d progress calls before cancelling", calls);
  calls = 0;
  expect_error(scones::Status::Cancelled, [&] { scones::ipot(xv, yv, co); }, "ipot cancelled");
  calls = 0;
  expect_error(scones::Status::Cancelled, [&] { scones::discrete_fdual(xv, yv, scones::Regularizer::ChiSquare, 1e-3, co); },
               "fdual cancelled");
  co.progress([](const scones::Progress&) -> bool { throw std::logic_error("from discrete progress"); }, 1);
  g_checks++;
  try {
    scones::sinkhorn(xv, yv, 1e-3, co);
    g_failures++;
    std::fprintf(stderr, "FAIL: throwing discrete progress did not propagate\n");
  } catch (const std::logic_error& e) {
    if (std::strcmp(e.what(), "from discrete progress") != 0) g_failures++;
  }
}

static_assert(!std::is_copy_constructible<scones::Dual>::value, "handles are move-only");
static_assert(!std::is_copy_assignable<scones::Sampler>::value, "handles are move-only");
static_assert(std::is_nothrow_move_constructible<scones::Dual>::value, "moves do not throw");
static_assert(std::is_nothrow_move_assignable<scones::Score>::value, "moves do not throw");
static_assert(!std::is_copy_constructible<scones::DualOptions>::value, "options are move-only");
static_assert(!std::is_copy_constructible<scones::Measure>::value, "handles are move-only");
static_assert(!std::is_copy_constructible<scones::Barycentric>::value, "handles are move-only");
static_assert(std::is_nothrow_move_assignable<scones::Sampler>::value, "moves do not throw");
static_assert(!std::is_copy_constructible<scones::DiscreteOptions>::value, "options are move-only");

// SPOT: W1 between N((-2.5, 0), I) and N((2.5, 0), I) is 5 under c = |x - y|. 300 iterations of
// 16-16 networks leave a training error under 1 (the doc example of api::Spot); the estimate's
// standard error at 10,000 draws is ~0.02.
static void test_spot(const std::string& dir) {
  const std::size_t n = 4000, d = 2;
  const std::vector<double> left = {-2.5, 0.0}, right = {2.5, 0.0}, eye = {1, 0, 0, 1};
  scones::Matrix x = scones::gaussian::sample(scones::View(left.data(), 1, d), scones::View(eye.data(), d, d), n, 1);
  scones::Matrix y = scones::gaussian::sample(scones::View(right.data(), 1, d), scones::View(eye.data(), d, d), n, 2);
  int reports = 0, other_phase = 0;
  scones::SpotOptions opts;
  opts.cost(scones::Cost::Euclidean).hidden({16, 16}, {16, 16}).batch(256, 300).progress([&](const scones::Progress& p) {
    reports++;
    other_phase += p.phase != scones::Phase::SpotTraining || !std::isfinite(p.marginal_error);
    return true;
  }, 100);
  scones::Spot plan = scones::Spot::train(x, y, opts);
  CHECK(reports == 3 && other_phase == 0, "%d SPOT progress reports (%d not SpotTraining)", reports, other_phase);
  CHECK((plan.dims() == std::vector<std::size_t>{2, 2}), "SPOT dims");
  scones::CostEstimate w1 = plan.cost_estimate(10000, 3);
  std::printf("  SPOT W1 %.4f +- %.4f (exact 5)\n", w1.estimate, w1.standard_error);
  CHECK(std::fabs(w1.estimate - 5.0) < 1.0 && w1.standard_error > 0 && w1.standard_error < 0.1, "W1 %g +- %g",
        w1.estimate, w1.standard_error);
  // sample() returns the paired matrices: their rows' mean cost is the estimate of the same draws.
  std::vector<scones::Matrix> pairs = plan.sample(10000, 3);
  CHECK(pairs.size() == 2 && pairs[0].rows == 10000 && pairs[1].cols == d, "SPOT sample shapes");
  double sum = 0;
  for (std::size_t i = 0; i < pairs[0].rows; i++) sum += std::hypot(pairs[0](i, 0) - pairs[1](i, 0), pairs[0](i, 1) - pairs[1](i, 1));
  CHECK(std::fabs(sum / 10000 - w1.estimate) < 1e-4, "paired rows' mean %g vs estimate %g", sum / 10000, w1.estimate);
  // Into caller views: float, column-major for the first marginal.
  std::vector<float> a(50 * d);
  std::vector<double> b(50 * d);
  plan.sample(3, {scones::MutView::col_major(a.data(), 50, d), scones::MutView(b.data(), 50, d)});
  std::vector<scones::Matrix> first50 = plan.sample(50, 3);
  CHECK(static_cast<double>(a[50 + 7]) == first50[0](7, 1) && b[2 * 7 + 1] == first50[1](7, 1), "SPOT views");
  expect_error(scones::Status::ShapeMismatch, [&] { plan.sample(3, {scones::MutView(b.data(), 50, d)}); },
               "one view for two marginals");
  scones::SpotReport rep = plan.train_report();
  CHECK(rep.iterations == 300 && std::isfinite(rep.cost) && rep.seconds > 0, "SPOT report");
  // Save / load: the same samples; a loaded plan has no report.
  plan.save(dir + "/cpp_spot.scones");
  scones::Spot loaded = scones::Spot::load(dir + "/cpp_spot.scones");
  CHECK(loaded.sample(50, 3)[1].data == first50[1].data, "loaded plan samples differently");
  expect_error(scones::Status::InvalidArgument, [&] { loaded.train_report(); }, "loaded SPOT report");
  // Measures (a point set and a host sampler), a cancel and a throwing progress function.
  scones::Measure mx = scones::Measure::points(x);
  scones::Measure my = scones::Measure::callback(d, [](double* out, std::size_t m, std::size_t dd, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> z;
    for (std::size_t i = 0; i < m * dd; i++) out[i] = (i % dd == 0 ? 2.5 : 0.0) + z(rng);
  });
  scones::SpotOptions quick;
  quick.hidden({8}, {8}).batch(64, 20).preset(scones::SpotPreset::Thesis).batch(64, 20);
  scones::Spot from_measures = scones::Spot::train({mx, my}, quick);
  CHECK(std::isfinite(from_measures.cost_estimate(100).estimate), "SPOT from measures");
  quick.progress([](const scones::Progress& p) { return p.iteration < 10; }, 5);
  expect_error(scones::Status::Cancelled, [&] { scones::Spot::train({mx, my}, quick); }, "SPOT cancelled");
  quick.progress([](const scones::Progress&) -> bool { throw std::logic_error("spot callback"); }, 5);
  g_checks++;
  try {
    scones::Spot::train(x, y, quick);
    g_failures++;
    std::fprintf(stderr, "FAIL: a throwing SPOT progress function did not propagate\n");
  } catch (const std::logic_error& e) {
    if (std::strcmp(e.what(), "spot callback") != 0) g_failures++;
  }
  // Entropy regularisation: a neural-ODE generator, saved and loaded with its flow.
  expect_error(scones::Status::InvalidArgument, [] { scones::SpotOptions().entropy(-1.0, 4); }, "negative entropy");
  scones::Spot entropic = scones::Spot::train(x, y, scones::SpotOptions().hidden({8}, {8}).batch(64, 10).entropy(0.5, 4));
  entropic.save(dir + "/cpp_entropic.scones");
  CHECK(scones::Spot::load(dir + "/cpp_entropic.scones").sample(20, 1)[0].data == entropic.sample(20, 1)[0].data,
        "entropic plan through a file");
  // The Euclidean cost is refused by the Langevin sampler.
  scones::Dual w1_dual = scones::Dual::train(x, y, scones::DualOptions().cost(scones::Cost::Euclidean).hidden({8}).batch(32).iterations(5));
  CHECK(w1_dual.problem().cost == scones::Cost::Euclidean, "Euclidean dual problem");
  expect_error(scones::Status::InvalidArgument, [&] { scones::Sampler(w1_dual, scones::Score::gaussian(right, scones::View(eye.data(), d, d))); },
               "sampler with |x - y|");
}

// The linear cost |A y - B x|^2 between a 1-d source and a 2-d target: the problem reports it,
// a file keeps it, bad operators are refused and the sampler follows its y-gradient.
static void test_linear_cost(const std::string& dir) {
  const std::size_t n = 500;
  const std::vector<double> zero1 = {0.0}, one1 = {1.0}, zero2 = {0.0, 0.0}, eye2 = {1, 0, 0, 1};
  scones::Matrix x = scones::gaussian::sample(scones::View(zero1.data(), 1, 1), scones::View(one1.data(), 1, 1), n, 3);
  scones::Matrix y = scones::gaussian::sample(scones::View(zero2.data(), 1, 2), scones::View(eye2.data(), 2, 2), n, 4);
  const std::vector<double> a = {0.5, 0.5}, b = {1.0};  // A (1 x 2) averages y, B (1 x 1) = 1
  scones::Dual dual = scones::Dual::train(
      x, y, scones::DualOptions().linear_cost(scones::View(a.data(), 1, 2), scones::View(b.data(), 1, 1)).hidden({8}).batch(32).iterations(20));
  CHECK(dual.problem().cost == scones::Cost::Linear, "linear dual problem");
  dual.save(dir + "/cpp_linear.scones");
  scones::Dual back = scones::Dual::load(dir + "/cpp_linear.scones");
  CHECK(back.problem().cost == scones::Cost::Linear, "linear cost through a file");
  scones::View xs(x.data.data(), 8, 1), ys(y.data.data(), 8, 2);
  CHECK(back.compatibility(xs, ys).data == dual.compatibility(xs, ys).data, "linear dual compatibilities through a file");
  const std::vector<double> a3 = {1, 0, 0, 1}, nan_a = {NAN, 1.0}, zero_a = {0.0, 0.0};
  expect_error(scones::Status::ShapeMismatch,
               [&] { scones::DualOptions().linear_cost(scones::View(a3.data(), 2, 2), scones::View(b.data(), 1, 1)); },
               "A and B with different row counts");
  expect_error(scones::Status::NonFinite,
               [&] { scones::DualOptions().linear_cost(scones::View(nan_a.data(), 1, 2), scones::View(b.data(), 1, 1)); },
               "NaN in A");
  expect_error(scones::Status::InvalidArgument,
               [&] { scones::SpotOptions().linear_cost(scones::View(zero_a.data(), 1, 2), scones::View(b.data(), 1, 1)); },
               "A = 0");
  scones::Sampler sampler(back, scones::Score::gaussian(zero2, scones::View(eye2.data(), 2, 2)),
                          scones::SamplerOptions().steps(20, 0.05));
  scones::Matrix s = sampler.sample(xs);
  bool finite = s.rows == 8 && s.cols == 2;
  for (double v : s.data) finite = finite && std::isfinite(v);
  CHECK(finite, "sampling a 2-d target from 1-d sources under the linear cost");
}

// A host cost |x - y|^2 trains the same dual as the built-in one (same seed); its y-gradient
// drives the sampler; a throwing cost nests its exception; a TorchScript cost survives a file.
static void test_external_costs(const std::string& dir, const std::string& score_fixture) {
  const std::size_t n = 300, ne = 8;
  const std::vector<double> zero2 = {0.0, 0.0}, eye2 = {1, 0, 0, 1};
  scones::Matrix x = scones::gaussian::sample(scones::View(zero2.data(), 1, 2), scones::View(eye2.data(), 2, 2), n, 5);
  scones::Matrix y = scones::gaussian::sample(scones::View(zero2.data(), 1, 2), scones::View(eye2.data(), 2, 2), n, 6);
  long calls = 0, with_grad = 0;
  auto sq = [&](const double* a, const double* b, std::size_t m, std::size_t dx, std::size_t, double* v, double* g) {
    calls++;
    with_grad += g != nullptr;
    for (std::size_t i = 0; i < m; i++) {
      v[i] = 0;
      for (std::size_t k = 0; k < dx; k++) {
        double t = b[i * dx + k] - a[i * dx + k];
        v[i] += t * t;
        if (g) g[i * dx + k] = 2 * t;
      }
    }
  };
  auto opts = [](scones::DualOptions&& o) -> scones::DualOptions& {
    return o.hidden({16}).batch(64).iterations(50).seed(4).threads(1);
  };
  scones::Dual builtin = scones::Dual::train(x, y, opts(scones::DualOptions()));
  scones::Dual hosted = scones::Dual::train(x, y, opts(scones::DualOptions()).cost_callback(sq, 2, 2));
  CHECK(hosted.problem().cost == scones::Cost::Callback, "callback-cost problem");
  scones::View xs(x.data.data(), ne, 2), ys(y.data.data(), ne, 2);
  scones::Matrix cb = builtin.compatibility(xs, ys), ch = hosted.compatibility(xs, ys);
  double worst = 0;
  for (std::size_t i = 0; i < cb.data.size(); i++) worst = std::max(worst, std::fabs(cb.data[i] - ch.data[i]) / std::max(1.0, cb.data[i]));
  CHECK(worst < 1e-4, "callback and built-in |x - y|^2 duals differ by %g", worst);
  long before = with_grad;
  scones::Matrix s = scones::Sampler(hosted, scones::Score::gaussian(zero2, scones::View(eye2.data(), 2, 2)),
                                     scones::SamplerOptions().steps(10, 0.05)).sample(xs);
  CHECK(with_grad > before && s.rows == ne, "the sampler follows the callback's gradient");
  // Resampled starts with steps of 1e-12: every sample is one of the given target rows.
  scones::Matrix r = scones::Sampler(builtin, scones::Score::gaussian(zero2, scones::View(eye2.data(), 2, 2)),
                                     scones::SamplerOptions().init_resample(y).steps(1, 1e-12))
                         .sample(xs);
  bool on_targets = r.rows == ne;
  for (std::size_t i = 0; i < r.rows; i++) {
    double best = INFINITY;
    for (std::size_t j = 0; j < n; j++) {
      double dx = r.data[i * 2] - y.data[j * 2], dy = r.data[i * 2 + 1] - y.data[j * 2 + 1];
      best = std::min(best, dx * dx + dy * dy);
    }
    on_targets = on_targets && best < 1e-8;
  }
  CHECK(on_targets, "resampled chains start on target rows");
  expect_error(scones::Status::InvalidArgument, [&] { scones::SamplerOptions().init_resample(y, -1.0); },
               "a negative first noise level for resampled chains");
  expect_error(scones::Status::InvalidArgument, [&] { hosted.save(dir + "/cpp_callback.scones"); }, "saving a callback cost");
  auto broken = [](const double*, const double*, std::size_t, std::size_t, std::size_t, double*, double*) {
    throw std::runtime_error("cost broke");
  };
  expect_callback_error([&] { scones::Dual::train(x, y, opts(scones::DualOptions()).cost_callback(broken, 2, 2)); }, "cost broke",
                        "throwing cost");

  const std::string module = score_fixture.substr(0, score_fixture.find_last_of('/') + 1) + "cost_softplus.pt";
  scones::Dual ts = scones::Dual::train(x, y, opts(scones::DualOptions()).torchscript_cost(module, 2, 2, 4.0));
  CHECK(ts.problem().cost == scones::Cost::TorchScript, "TorchScript-cost problem");
  ts.save(dir + "/cpp_torchscript.scones");
  scones::Dual back = scones::Dual::load(dir + "/cpp_torchscript.scones");
  CHECK(back.problem().cost == scones::Cost::TorchScript && back.compatibility(xs, ys).data == ts.compatibility(xs, ys).data,
        "TorchScript cost through a file");
  scones::SpotOptions().torchscript_cost(module, 2, 2, 4.0);
  expect_error(scones::Status::Io, [&] { scones::DualOptions().torchscript_cost(dir + "/missing.pt", 2, 2); }, "missing module");
}

// A one-rank collective: the sum over the group is the buffer itself, so the calls can be
// counted (one per iteration, a handshake before, a closing call after) and a failing or
// throwing all-reduce fails the call with Status::Callback. The two-rank runs are MPI's
// (make test-mpi).
static void test_collective() {
  const std::vector<double> zero2 = {0.0, 0.0}, eye2 = {1, 0, 0, 1};
  scones::Matrix x = scones::gaussian::sample(scones::View(zero2.data(), 1, 2), scones::View(eye2.data(), 2, 2), 64, 5);
  std::vector<std::size_t> counts;
  auto sum = [&](float*, std::size_t count) {
    counts.push_back(count);
    return true;
  };
  auto opts = [](scones::DualOptions&& o) -> scones::DualOptions& {
    return o.hidden({8}).batch(16, scones::BatchMode::Paired).iterations(7).seed(4).threads(1);
  };
  scones::Dual::train(x, x, opts(scones::DualOptions()).collective(0, 1, sum));
  // The handshake: 16 x 16 shape votes and 10 control slots; each iteration: phi and psi's
  // 2 x (2 x 8 + 8 + 8 + 1) gradients, 4 loop values, 10 control slots; the closing call: 10.
  CHECK(counts.size() == 7 + 2 && counts.front() == 256 + 10 && counts[1] == 2 * 33 + 4 + 10 && counts.back() == 10,
        "%zu all-reduce calls, first %zu, second %zu floats", counts.size(), counts.front(), counts[1]);
  counts.clear();
  expect_error(scones::Status::Callback,
               [&] { scones::Dual::train(x, x, opts(scones::DualOptions()).collective(0, 1, [](float*, std::size_t) { return false; })); },
               "a failing all-reduce");
  expect_callback_error(
      [&] {
        scones::Dual::train(x, x, opts(scones::DualOptions()).collective(0, 1, [](float*, std::size_t) -> bool {
          throw std::runtime_error("link down");
        }));
      },
      "link down", "a throwing all-reduce");
  expect_error(scones::Status::InvalidArgument, [&] { scones::TrainOptions().collective(1, 1, sum); }, "rank 1 of 1");
  scones::TrainOptions().collective(0, 1, sum).collective(0, 1, nullptr);
}

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : ".";
  test_collective();
  test_linear_cost(dir);
  test_external_costs(dir, argc > 2 ? argv[2] : "tests/fixtures/score_module.pt");
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

  test_callbacks_and_maps(dir, argc > 2 ? argv[2] : "");
  test_discrete();
  test_spot(dir);

  if (g_failures) {
    std::fprintf(stderr, "cpp: %d of %d checks failed\n", g_failures, g_checks);
    return 1;
  }
  std::printf("cpp: all %d checks passed\n", g_checks);
  return 0;
}
