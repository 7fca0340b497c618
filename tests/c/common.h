/* Shared helpers for the C ABI tests: every check prints what failed and counts failures. */
#ifndef SCONES_TEST_COMMON_H
#define SCONES_TEST_COMMON_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scones.h"

static int g_checks = 0, g_failures = 0;

#define EXPECT(cond, ...)                                      \
  do {                                                         \
    g_checks++;                                                \
    if (!(cond)) {                                             \
      g_failures++;                                            \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);     \
      fprintf(stderr, __VA_ARGS__);                            \
      fprintf(stderr, "\n");                                   \
    }                                                          \
  } while (0)

/* Runs a call that takes `scones_error **err` last (written as &err), and checks that it
   returns `want` and, on failure, an error object carrying the same code and a message. */
#define EXPECT_STATUS(want, call)                                                              \
  do {                                                                                         \
    scones_error *err = (scones_error *)0x1; /* must be overwritten: NULL or a real error */  \
    scones_status st = (call);                                                                 \
    g_checks++;                                                                                \
    if (st != (want)) {                                                                        \
      g_failures++;                                                                            \
      fprintf(stderr, "FAIL %s:%d: %s returned %s, expected %s: %s\n", __FILE__, __LINE__,    \
              #call, scones_status_name(st), scones_status_name(want),                        \
              st != SCONES_STATUS_OK ? scones_error_message(err) : "");                       \
    } else if ((want) != SCONES_STATUS_OK) {                                                   \
      if (err == NULL || scones_error_code(err) != (want) ||                                   \
          strlen(scones_error_message(err)) == 0) {                                            \
        g_failures++;                                                                          \
        fprintf(stderr, "FAIL %s:%d: %s: error object missing or inconsistent\n", __FILE__,    \
                __LINE__, #call);                                                              \
      } else if (getenv("SCONES_TEST_VERBOSE")) {                                             \
        printf("  ok %-28s %s\n", scones_status_name(st), scones_error_message(err));          \
      }                                                                                        \
    } else if (err != NULL) {                                                                  \
      g_failures++;                                                                            \
      fprintf(stderr, "FAIL %s:%d: %s succeeded but left *err non-NULL\n", __FILE__, __LINE__, \
              #call);                                                                          \
    }                                                                                          \
    if (st != SCONES_STATUS_OK) scones_error_free(err);                                        \
  } while (0)

#define EXPECT_OK(call) EXPECT_STATUS(SCONES_STATUS_OK, call)

static int finish(const char *name) {
  if (g_failures) {
    fprintf(stderr, "%s: %d of %d checks failed\n", name, g_failures, g_checks);
    return 1;
  }
  printf("%s: all %d checks passed\n", name, g_checks);
  return 0;
}

#endif
