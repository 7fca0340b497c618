// The header must compile as C++ (cpp_compat) and link from C++.
#include "scones.h"

#include <cstdio>
#include <cstring>

int main() {
  scones_dual_options *o = nullptr;
  scones_error *err = nullptr;
  if (scones_dual_options_new(&o, &err) != SCONES_STATUS_OK) return 1;
  scones_status st = scones_dual_options_set_regularizer(o, SCONES_REGULARIZER_GAN, -1.0, &err);
  bool ok = st == SCONES_STATUS_INVALID_ARGUMENT && scones_error_code(err) == st;
  scones_error_free(err);
  scones_dual_options_free(o);
  ok = ok && std::strcmp(scones_version(), SCONES_VERSION_STRING) == 0;
  std::printf("header_cpp: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
