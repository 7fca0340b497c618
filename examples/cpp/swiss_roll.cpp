// Gaussian -> Swiss roll transport with SCONES, from C++ (bindings/cpp/scones.hpp).
//
// Trains dual potentials between N(0, I) in 2-D and a Swiss roll, then samples y ~ pi(y | x)
// for fresh Gaussian sources x with Langevin dynamics, and draws source, target, samples and a
// few transport pairs into a PNG.
//
// Stand-ins until the library has them (see README "Bindings"): the Swiss roll is generated
// here (t = 1.5 pi (1 + 2u), (t cos t, t sin t) / 5 + noise), and the target score is the
// exact score of the Gaussian with the roll's mean and covariance; the library's Swiss roll
// generator and the empirical (smoothed) target score should replace both when they land.
//
//   swiss_roll [--out DIR] [--quick]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <sys/stat.h>
#include <vector>

#include "scones.hpp"

// n points of the 2-D Swiss roll, row-major n x 2.
static scones::Matrix swiss_roll(std::size_t n, double noise, unsigned seed) {
  const double pi = 3.14159265358979323846, scale = 5.0;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> z(0.0, 1.0);
  scones::Matrix m(n, 2);
  for (std::size_t i = 0; i < n; i++) {
    double t = 1.5 * pi * (1.0 + 2.0 * u(rng));
    m(i, 0) = t * std::cos(t) / scale + noise * z(rng);
    m(i, 1) = t * std::sin(t) / scale + noise * z(rng);
  }
  return m;
}

int main(int argc, char** argv) {
  std::string out_dir = "out";
  bool quick = false;
  for (int i = 1; i < argc; i++) {
    if (!std::strcmp(argv[i], "--out") && i + 1 < argc) out_dir = argv[++i];
    else if (!std::strcmp(argv[i], "--quick")) quick = true;
    else {
      std::fprintf(stderr, "usage: %s [--out DIR] [--quick]\n", argv[0]);
      return 2;
    }
  }
  const std::size_t n_train = quick ? 600 : 4000, n_samples = quick ? 300 : 2000;
  const double lambda = 0.5;
  auto t0 = std::chrono::steady_clock::now();
  try {
    std::printf("scones %s: Gaussian -> Swiss roll, lambda = %g\n", scones::version().c_str(), lambda);
    const std::vector<double> zero = {0.0, 0.0}, eye = {1.0, 0.0, 0.0, 1.0};
    scones::View mean0(zero.data(), 1, 2), identity(eye.data(), 2, 2);
    scones::Matrix x_train = scones::gaussian::sample(mean0, identity, n_train, 1);
    scones::Matrix y_train = swiss_roll(n_train, 0.05, 2);

    // Algorithm 1: dual potentials phi, psi.
    scones::DualOptions opts;
    opts.regularizer(scones::Regularizer::Kl, lambda)
        .hidden({64, 64})
        .batch(quick ? 128 : 256, scones::BatchMode::AllPairs)
        .iterations(quick ? 200 : 2000)
        .seed(0)
        .progress([](const scones::Progress& p) {
          std::printf("  dual training: %6llu / %llu  objective %.4f  E[M(V)] %.3f\n",
                      (unsigned long long)p.iteration, (unsigned long long)p.total, p.objective, p.mean_compatibility);
          return true;  // false would cancel
        }, quick ? 100 : 500);
    scones::Dual dual = scones::Dual::train(x_train, y_train, opts);

    // Stand-in target score: the Gaussian with the roll's mean and covariance.
    std::vector<double> mu(2, 0.0), cov(4, 0.0);
    for (std::size_t i = 0; i < n_train; i++)
      for (int k = 0; k < 2; k++) mu[k] += y_train(i, k) / n_train;
    for (std::size_t i = 0; i < n_train; i++)
      for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) cov[a * 2 + b] += (y_train(i, a) - mu[a]) * (y_train(i, b) - mu[b]) / (n_train - 1);
    scones::Score score = scones::Score::gaussian(mu, scones::View(cov.data(), 2, 2));

    // Algorithm 2: y ~ pi(y | x) for fresh sources.
    scones::SamplerOptions sopt;
    sopt.steps(quick ? 100 : 1000, 0.005).init(scones::ChainInit::Source).seed(7);
    scones::Sampler sampler(dual, score, sopt);
    scones::Matrix x = scones::gaussian::sample(mean0, identity, n_samples, 3);
    scones::Matrix y = sampler.sample(x);
    scones::Matrix y_ref = swiss_roll(n_samples, 0.05, 4);
    double sw_samples = scones::sliced_w2(y, y_ref, 256, 0);
    double sw_source = scones::sliced_w2(x, y_ref, 256, 0);
    std::printf("sliced W2 to the Swiss roll: SCONES samples %.3f, untransported sources %.3f\n", sw_samples, sw_source);

    mkdir(out_dir.c_str(), 0755);
    const std::string png = out_dir + "/swiss_roll_cpp.png";
    scones::Figure fig(1200, 600, 1, 2);
    fig.scatter(0, x, 0x1f77b480u).scatter(0, y_train, 0xff7f0e80u).title(0, "source N(0, I) and target Swiss roll");
    fig.legend(0, {{"source x", 0x1f77b4ffu}, {"target", 0xff7f0effu}});
    const std::size_t few = 40;
    scones::View fx(x.data.data(), few, 2), fy(y.data.data(), few, 2);
    fig.scatter(1, y_train, 0xff7f0e40u).scatter(1, y, 0x2ca02c90u).segments(1, fx, fy, 0x00000090u).scatter(1, fx, 0x1f77b4ffu, 3.0);
    char title[160];
    std::snprintf(title, sizeof title, "y ~ pi(y|x), Gaussian stand-in score: sliced W2 %.3f", sw_samples);
    fig.title(1, title).legend(1, {{"samples", 0x2ca02cffu}, {"x -> y", 0x000000ffu}});
    fig.save_png(png);
    std::printf("wrote %s in %.1f s\n", png.c_str(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  } catch (const scones::Error& e) {
    std::fprintf(stderr, "scones error %d (%s): %s\n", e.code(), scones::status_name(e.status()), e.message().c_str());
    return 1;
  }
  return 0;
}
