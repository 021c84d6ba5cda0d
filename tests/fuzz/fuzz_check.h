/* What the harnesses of tests/fuzz share: FUZZ_CHECK, an invariant check that reports and aborts (libFuzzer
 * then saves the input as a crash), because assert() disappears with NDEBUG and an invariant that fails
 * must never look like a pass. Header-only: each harness is one file plus this. */
#ifndef SL_TESTS_FUZZ_CHECK_H
#define SL_TESTS_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond, ...)                                                                               \
    do {                                                                                                    \
        if (!(cond)) {                                                                                      \
            fprintf(stderr, "%s:%d: invariant failed: %s: ", __FILE__, __LINE__, #cond);                    \
            fprintf(stderr, __VA_ARGS__);                                                                   \
            fputc('\n', stderr);                                                                            \
            abort();                                                                                        \
        }                                                                                                   \
    } while (0)

#endif
