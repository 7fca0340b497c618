// Gaussian -> Swiss roll (the paper's Fig. 4) with SCONES, from C++ (bindings/cpp/scones.hpp).
//
// KL-regularized OT with lambda = 2 and the squared Euclidean cost between N(0, I_2) and the
// library's Swiss roll. SCONES samples y ~ pi(y | x) by annealed Langevin dynamics with the
// empirical (kernel-smoothed, bandwidth 0.05) score of 3000 target points; the barycentric
// projection T(x) = E_pi[y | x] is the baseline. Prints the sliced W2 distance of each to a fresh
// target sample and writes a PNG: the target, T(x), SCONES samples, and pi(y | x) for a few
// fixed sources.
//
//   swiss_roll [--out DIR] [--quick]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <sys/stat.h>
#include <vector>

#include "scones.hpp"

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
  // --quick (make test-cpp): a few seconds on a busy 2-core machine.
  const std::size_t n_train = quick ? 2000 : 20000, n_eval = quick ? 300 : 3000, n_emp = quick ? 1000 : 3000,
                    k_fixed = quick ? 20 : 150;
  const auto t0 = std::chrono::steady_clock::now();
  auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  // Prints a training phase at every quarter.
  auto report = [&](const char* what) {
    return [&, what](const scones::Progress& p) {
      if (p.iteration % (p.total / 4 ? p.total / 4 : 1) == 0)
        std::printf("  %s: %llu / %llu, objective %.4f (%.0f s)\n", what, (unsigned long long)p.iteration,
                    (unsigned long long)p.total, p.objective, seconds());
      std::fflush(stdout);
      return true;  // false would cancel
    };
  };
  try {
    std::printf("scones %s: N(0, I) -> Swiss roll, KL, lambda = 2\n", scones::version().c_str());
    scones::Matrix x_train = scones::toy_sample(scones::Toy::Gaussian, n_train, 1);
    scones::Matrix y_train = scones::toy_sample(scones::Toy::SwissRoll, n_train, 2);
    scones::Matrix x = scones::toy_sample(scones::Toy::Gaussian, n_eval, 3);
    scones::Matrix fresh = scones::toy_sample(scones::Toy::SwissRoll, n_eval, 4);
    scones::Matrix y_emp = scones::toy_sample(scones::Toy::SwissRoll, n_emp, 5);
    scones::Measure source = scones::Measure::points(x_train), target = scones::Measure::points(y_train);

    // Algorithm 1: dual potentials phi, psi.
    scones::DualOptions dopt;
    dopt.regularizer(scones::Regularizer::Kl, 2.0)
        .hidden({128, 128})
        .batch(250, scones::BatchMode::AllPairs)
        .iterations(quick ? 200 : 3000)
        .progress(report("dual training"), 50);
    scones::Dual dual = scones::Dual::train(source, target, dopt);

    // The baseline: barycentric projection T(x) = E_pi[y | x].
    scones::TrainOptions topt;
    topt.hidden({128, 128}).batch_size(250).iterations(quick ? 200 : 2000).progress(report("barycentric map"), 50);
    scones::Barycentric bary = scones::Barycentric::train(dual, source, target, topt);
    scones::Matrix t_x = bary(x);

    // Algorithm 2: annealed Langevin, 10 levels from 3 down to 0.01 then denoising, with the
    // empirical score of the target points.
    scones::Score score = scones::Score::empirical(y_emp, 0.05);
    scones::SamplerOptions sopt;
    sopt.annealing(3.0, 0.01, 10, true).steps(quick ? 10 : 60, 2e-5).seed(7);
    scones::Sampler sampler(dual, score, sopt);
    sampler.progress([&](const scones::Progress& p) {
      std::printf("  sampling: step %llu / %llu (%.0f s)\n", (unsigned long long)p.iteration, (unsigned long long)p.total,
                  seconds());
      return true;
    }, quick ? 100 : 300);
    scones::Matrix y = sampler.sample(x);

    // pi(y | x) for a few fixed sources, K samples each.
    const std::vector<double> fixed = {-1.5, 0.0, -0.5, 1.0, 0.0, 0.0, 0.8, -0.8, 1.5, 0.5, 0.3, 1.8};
    const std::size_t n_fixed = fixed.size() / 2;
    sopt.samples_per_source(k_fixed);
    scones::Sampler conditional(dual, score, sopt);
    scones::Matrix cond = conditional.sample(scones::View(fixed.data(), n_fixed, 2));
    scones::Matrix fixed_rep(cond.rows, 2);
    for (std::size_t i = 0; i < cond.rows; i++)
      for (int k = 0; k < 2; k++) fixed_rep(i, k) = fixed[2 * (i / k_fixed) + k];

    const double sw_bp = scones::sliced_w2(t_x, fresh, 200, 0), sw_sc = scones::sliced_w2(y, fresh, 200, 0);
    const double sw_floor = scones::sliced_w2(y_emp, fresh, 200, 0);
    std::printf("sliced W2 to a fresh Swiss roll sample (%zu points):\n", n_eval);
    std::printf("  barycentric projection T(x)   %.4f\n", sw_bp);
    std::printf("  SCONES, empirical score       %.4f\n", sw_sc);
    std::printf("  another exact target sample   %.4f   (the sampling-noise floor)\n", sw_floor);

    mkdir(out_dir.c_str(), 0755);
    const std::string png = out_dir + "/swiss_roll_cpp.png";
    scones::Figure fig(1600, 1600, 2, 2);
    for (std::size_t p = 0; p < 4; p++) fig.bounds(p, -3.5, 3.5, -3.5, 3.5);
    scones::View target_pts(y_train.data.data(), n_eval, 2);
    fig.scatter(0, x, 0x1f77b440u, 2.0).scatter(0, target_pts, 0xff7f0e90u, 2.0).title(0, "source N(0, I) and target Swiss roll");
    fig.legend(0, {{"source x", 0x1f77b4ffu}, {"Swiss roll", 0xff7f0effu}, {"T(x)", 0xd62728ffu}, {"SCONES", 0x2ca02cffu}});
    char title[160];
    std::snprintf(title, sizeof title, "barycentric projection T(x): SW2 %.3f", sw_bp);
    fig.scatter(1, target_pts, 0xff7f0e30u, 2.0).scatter(1, t_x, 0xd62728a0u, 2.0).title(1, title);
    std::snprintf(title, sizeof title, "SCONES y ~ pi(y|x), empirical score: SW2 %.3f", sw_sc);
    fig.scatter(2, target_pts, 0xff7f0e30u, 2.0).scatter(2, y, 0x2ca02ca0u, 2.0).title(2, title);
    scones::View fixed_view(fixed.data(), n_fixed, 2);
    fig.scatter(3, target_pts, 0xff7f0e30u, 2.0)
        .segments(3, fixed_rep, cond, 0x00000018u)
        .scatter(3, cond, 0x2ca02cb0u, 2.5)
        .scatter(3, fixed_view, 0x1f77b4ffu, 6.0)
        .title(3, "pi(y|x) for 6 fixed sources (blue)");
    fig.save_png(png);
    std::printf("wrote %s in %.1f s\n", png.c_str(), seconds());
  } catch (const scones::Error& e) {
    std::fprintf(stderr, "scones error %d (%s): %s\n", e.code(), scones::status_name(e.status()), e.message().c_str());
    return 1;
  }
  return 0;
}
