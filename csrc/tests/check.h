/*
 * check.h -- the C tests' two assertion macros (test_codec.c, test_stream.c):
 * each CHECK counts a check, and a failed one is reported with file, line and
 * function and counted; main() prints the totals and returns the failures.
 */
#ifndef FDJ_TEST_CHECK_H
#define FDJ_TEST_CHECK_H

#include <stdio.h>

#include "fdjpeg.h"

static int g_checks, g_failures;

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        g_checks++;                                                                       \
        if (!(cond)) {                                                                    \
            g_failures++;                                                                 \
            fprintf(stderr, "%s:%d: %s: check failed: %s\n", __FILE__, __LINE__, __func__, \
                    #cond);                                                               \
        }                                                                                 \
    } while (0)

#define CHECK_STATUS(got, want)                                                            \
    do {                                                                                   \
        int got_ = (got), want_ = (want);                                                  \
        g_checks++;                                                                        \
        if (got_ != want_) {                                                               \
            g_failures++;                                                                  \
            fprintf(stderr, "%s:%d: %s: status %d (%s), expected %d (%s)\n", __FILE__,      \
                    __LINE__, __func__, got_, fdj_status_string(got_), want_,               \
                    fdj_status_string(want_));                                              \
        }                                                                                  \
    } while (0)

#endif /* FDJ_TEST_CHECK_H */
