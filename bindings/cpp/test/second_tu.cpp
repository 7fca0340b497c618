// A second translation unit that includes scones.hpp: the program links only if every function
// the header defines is inline (no ODR violation, no duplicate symbols).
#include "scones.hpp"

#include <cmath>

// The BW-UVP of samples of y ~ pi(y | x) against the closed-form coupling, computed here so
// that both translation units instantiate the same templates (detail::call, View, Matrix).
double second_tu_bw_uvp(const scones::Matrix& x, const scones::Matrix& y, const scones::Matrix& cov_a,
                        const scones::Matrix& cov_b, double lambda) {
  scones::Matrix joint = scones::joint_covariance(x, y);
  scones::Matrix exact = scones::gaussian::entropic_coupling(cov_a, cov_b, lambda);
  return scones::bw_uvp(joint, exact);
}

std::string second_tu_version() { return scones::version(); }
