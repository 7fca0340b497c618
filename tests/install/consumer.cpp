// Built against an installed scones with only pkg-config or find_package(scones): the C++
// wrapper (scones.hpp) is installed next to scones.h. argv[1]: the expected version.
#include <cstdio>
#include <string>

#include "scones.hpp"

int main(int argc, char** argv) {
  const std::string expected = argc > 1 ? argv[1] : SCONES_VERSION_STRING;
  bool ok = scones::version() == expected && expected == SCONES_VERSION_STRING;
  scones::Matrix cov = scones::gaussian::random_covariance(2, scones::Spectrum::Geometric, 1);
  ok = ok && cov(0, 0) > 0 && cov(1, 1) > 0;
  try {
    scones::gaussian::random_covariance(0, scones::Spectrum::Geometric, 1);
    ok = false;
  } catch (const scones::Error& e) {
    ok = ok && e.status() == scones::Status::InvalidArgument;
  }
  std::printf("consumer (C++): library %s, expected %s: %s\n", scones::version().c_str(), expected.c_str(),
              ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
