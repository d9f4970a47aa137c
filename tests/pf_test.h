/*
 * Minimal test harness: each test file defines test functions and lists them
 * in PF_TEST_MAIN. A test returns through the CHECK macros; the binary exits
 * 0 on success, 1 on failure, 77 if every test skipped (ctest SKIP_RETURN_CODE).
 */
#ifndef PF_TEST_H
#define PF_TEST_H

#include "pf_common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { PF_T_PASS, PF_T_FAIL, PF_T_SKIP } pf_test_result;
typedef pf_test_result (*pf_test_fn)(void);

#define CHECK(cond)                                                                \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
            return PF_T_FAIL;                                                      \
        }                                                                          \
    } while (0)

#define CHECK_MSG(cond, ...)                                              \
    do {                                                                  \
        if (!(cond)) {                                                    \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                 \
            fputc('\n', stderr);                                          \
            return PF_T_FAIL;                                             \
        }                                                                 \
    } while (0)

/* A call returning pf_status must succeed. */
#define CHECK_OK(expr)                                                                          \
    do {                                                                                        \
        pf_status s_ = (expr);                                                                  \
        if (s_ != PF_OK) {                                                                      \
            fprintf(stderr, "  %s:%d: %s -> %s: %s\n", __FILE__, __LINE__, #expr, pf_status_str(s_), \
                    pf_last_error());                                                           \
            return PF_T_FAIL;                                                                   \
        }                                                                                       \
    } while (0)

/* A call must fail with the given status and a message containing `needle`. */
#define CHECK_ERR(expr, status, needle)                                                           \
    do {                                                                                          \
        pf_status s_ = (expr);                                                                    \
        if (s_ != (status)) {                                                                     \
            fprintf(stderr, "  %s:%d: %s -> %s (expected %s): %s\n", __FILE__, __LINE__, #expr,    \
                    pf_status_str(s_), pf_status_str(status), pf_last_error());                   \
            return PF_T_FAIL;                                                                     \
        }                                                                                         \
        if ((needle) && !strstr(pf_last_error(), (needle))) {                                     \
            fprintf(stderr, "  %s:%d: message '%s' lacks '%s'\n", __FILE__, __LINE__, pf_last_error(), \
                    (const char *)(needle));                                                      \
            return PF_T_FAIL;                                                                     \
        }                                                                                         \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                    \
    do {                                                                                         \
        double a_ = (a), b_ = (b);                                                               \
        if (!(fabs(a_ - b_) <= (tol))) {                                                         \
            fprintf(stderr, "  %s:%d: %s = %.9g, %s = %.9g (tol %g)\n", __FILE__, __LINE__, #a, a_, #b, b_, \
                    (double)(tol));                                                              \
            return PF_T_FAIL;                                                                    \
        }                                                                                        \
    } while (0)

#define SKIP(...)                                   \
    do {                                            \
        fprintf(stderr, "  skipped: " __VA_ARGS__); \
        fputc('\n', stderr);                        \
        return PF_T_SKIP;                           \
    } while (0)

typedef struct {
    const char *name;
    pf_test_fn fn;
} pf_test_case;

#define PF_TEST(fn) {#fn, fn}

static inline int pf_test_run(const pf_test_case *cases, int n, int argc, char **argv) {
    int failed = 0, skipped = 0, ran = 0;
    for (int i = 0; i < n; i++) {
        if (argc > 1 && !strstr(cases[i].name, argv[1])) continue;
        ran++;
        pf_clear_error();
        pf_test_result r = cases[i].fn();
        const char *tag = r == PF_T_PASS ? "ok" : r == PF_T_SKIP ? "skip" : "FAIL";
        fprintf(stderr, "[%4s] %s\n", tag, cases[i].name);
        if (r == PF_T_FAIL) failed++;
        if (r == PF_T_SKIP) skipped++;
    }
    fprintf(stderr, "%d tests, %d failed, %d skipped\n", ran, failed, skipped);
    if (failed) return 1;
    if (ran > 0 && skipped == ran) return 77;
    return 0;
}

#define PF_TEST_MAIN(...)                                                             \
    int main(int argc, char **argv) {                                                 \
        static const pf_test_case cases_[] = {__VA_ARGS__};                           \
        return pf_test_run(cases_, (int)(sizeof cases_ / sizeof cases_[0]), argc, argv); \
    }

/* The golden pack: $PF_GOLDEN_DIR, else the build's default (../shared/golden). */
static inline const char *pf_test_golden_dir(void) {
    const char *e = getenv("PF_GOLDEN_DIR");
    if (e && *e) return e;
#ifdef PF_DEFAULT_GOLDEN_DIR
    return PF_DEFAULT_GOLDEN_DIR;
#else
    return NULL;
#endif
}

#endif /* PF_TEST_H */
