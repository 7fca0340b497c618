/* Built against an installed scones (make test-install) with nothing but
 * `pkg-config --cflags --libs scones` or CMake's find_package(scones): checks that the header's
 * version macros, the loaded library and the expected version (argv[1], from Cargo.toml) agree,
 * and makes a real call and a failing one. */
#include <stdio.h>
#include <string.h>

#include "scones.h"

#define STR2(x) #x
#define STR(x) STR2(x)

int main(int argc, char **argv) {
  const char *expected = argc > 1 ? argv[1] : SCONES_VERSION_STRING;
  const char *macros = STR(SCONES_VERSION_MAJOR) "." STR(SCONES_VERSION_MINOR) "." STR(SCONES_VERSION_PATCH);
  int ok = strcmp(scones_version(), expected) == 0 && strcmp(SCONES_VERSION_STRING, expected) == 0 &&
           strcmp(macros, expected) == 0;
  double cov[4] = {0};
  scones_matrix_mut out = scones_matrix_mut_f64(cov, 2, 2);
  scones_error *err = NULL;
  ok = ok && scones_gaussian_random_covariance(2, SCONES_SPECTRUM_GEOMETRIC, 1, &out, &err) == SCONES_STATUS_OK &&
       cov[0] > 0 && cov[3] > 0;
  scones_status st = scones_gaussian_random_covariance(0, SCONES_SPECTRUM_GEOMETRIC, 1, &out, &err);
  ok = ok && st != SCONES_STATUS_OK && scones_error_code(err) == st;
  scones_error_free(err);
  printf("consumer (C): library %s, header %s (macros %s), expected %s: %s\n", scones_version(),
         SCONES_VERSION_STRING, macros, expected, ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
