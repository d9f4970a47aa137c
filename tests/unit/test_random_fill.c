/* Seeded random weights (pf_random_fill.h): counter-based, in every float dtype, N(mean, std). */
#include "pf_backend.h"
#include "pf_random_fill.h"
#include "pf_test.h"

#include <math.h>

/* The same values on one thread and on a pool, whatever the range split; streams and seeds differ. */
static pf_test_result test_thread_independent(void) {
    enum { N = (1 << 18) + 7 };
    float *a = malloc(sizeof(float) * N), *b = malloc(sizeof(float) * N), *c = malloc(sizeof(float) * N);
    pf_threadpool *tp = NULL;
    CHECK(a && b && c);
    CHECK_OK(pf_threadpool_create(4, &tp));
    CHECK_OK(pf_random_values(a, PF_F32, N, 7, 3, 0.0f, 1.0f, NULL));
    CHECK_OK(pf_random_values(b, PF_F32, N, 7, 3, 0.0f, 1.0f, tp));
    CHECK(memcmp(a, b, sizeof(float) * N) == 0);
    CHECK_OK(pf_random_values(c, PF_F32, 100, 7, 4, 0.0f, 1.0f, NULL));
    int same = 0;
    for (int i = 0; i < 100; i++) same += a[i] == c[i];
    CHECK(same < 5);
    CHECK_OK(pf_random_values(c, PF_F32, 100, 8, 3, 0.0f, 1.0f, NULL));
    same = 0;
    for (int i = 0; i < 100; i++) same += a[i] == c[i];
    CHECK(same < 5);
    pf_threadpool_free(tp);
    free(a);
    free(b);
    free(c);
    return PF_T_PASS;
}

/* Mean and std as asked (5-sigma bounds for the mean), bounded at 2 sqrt(3) std. */
static pf_test_result test_moments(void) {
    enum { N = 1 << 18 };
    float *x = malloc(sizeof(float) * N);
    CHECK(x);
    CHECK_OK(pf_random_values(x, PF_F32, N, 1, 0, 1.0f, 0.1f, NULL));
    double s = 0, s2 = 0, mx = 0;
    for (int i = 0; i < N; i++) {
        s += x[i];
        s2 += (double)(x[i] - 1.0f) * (x[i] - 1.0f);
        mx = fmax(mx, fabs(x[i] - 1.0f));
    }
    double mean = s / N, std = sqrt(s2 / N);
    CHECK_MSG(fabs(mean - 1.0) < 5 * 0.1 / sqrt((double)N), "mean %g", mean);
    CHECK_MSG(fabs(std - 0.1) < 0.002, "std %g", std);
    CHECK_MSG(mx <= 0.1 * 2 * sqrt(3.0) * 1.0001, "max deviation %g", mx);
    free(x);
    return PF_T_PASS;
}

/* bf16 / f16 values are the f32 values rounded; other dtypes are refused. */
static pf_test_result test_dtypes(void) {
    enum { N = 4096 };
    float f[N];
    uint16_t h[N];
    CHECK_OK(pf_random_values(f, PF_F32, N, 5, 9, 0.0f, 0.5f, NULL));
    CHECK_OK(pf_random_values(h, PF_BF16, N, 5, 9, 0.0f, 0.5f, NULL));
    for (int i = 0; i < N; i++) CHECK_MSG(h[i] == pf_f32_to_bf16(f[i]), "bf16 value %d", i);
    CHECK_OK(pf_random_values(h, PF_F16, N, 5, 9, 0.0f, 0.5f, NULL));
    for (int i = 0; i < N; i++) CHECK_MSG(h[i] == pf_f32_to_f16(f[i]), "f16 value %d", i);
    int32_t ids[4];
    CHECK_ERR(pf_random_values(ids, PF_I32, 4, 5, 9, 0.0f, 1.0f, NULL), PF_ERR_UNSUPPORTED, "i32");
    return PF_T_PASS;
}

/* A pool tensor gets stream values in its dtype; a meta-backend tensor is left alone. */
static pf_test_result test_tensor(void) {
    pf_backend *cpu = NULL, *meta = NULL;
    pf_pool *pool = NULL, *mpool = NULL;
    CHECK_OK(pf_backend_create("cpu", NULL, &cpu));
    CHECK_OK(pf_backend_meta_create(&meta));
    CHECK_OK(pf_pool_create(cpu, 1 << 16, &pool));
    CHECK_OK(pf_pool_create(meta, 1 << 16, &mpool));
    int64_t ne[2] = {3, 100};
    pf_tensor *t = pf_pool_tensor(pool, PF_BF16, 2, ne, "w");
    pf_tensor *m = pf_pool_tensor(mpool, PF_BF16, 2, ne, "w");
    CHECK(t && m);
    pf_random_fill rf = {.seed = 11};
    CHECK_OK(pf_random_fill_tensor(&rf, m, 2, 0.0f, 0.02f));
    CHECK(!rf.stage); /* nothing drawn for the meta backend */
    CHECK_OK(pf_random_fill_tensor(&rf, t, 2, 0.0f, 0.02f));
    uint16_t got[300], want[300];
    CHECK_OK(pf_tensor_get(t, got, sizeof got));
    CHECK_OK(pf_random_values(want, PF_BF16, 300, 11, 2, 0.0f, 0.02f, NULL));
    CHECK(memcmp(got, want, sizeof got) == 0);
    pf_random_fill_free(&rf);
    pf_pool_free(pool);
    pf_pool_free(mpool);
    pf_backend_free(cpu);
    pf_backend_free(meta);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_thread_independent), PF_TEST(test_moments), PF_TEST(test_dtypes), PF_TEST(test_tensor))
