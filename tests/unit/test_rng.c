/* The Philox4x32-10 generator and the seeded noise source. */
#include "pf_noise.h"
#include "pf_rng.h"
#include "pf_test.h"

/* Known-answer vectors of the Random123 distribution (kat_vectors, philox4x32 10). */
static pf_test_result test_philox_kat(void) {
    static const uint32_t v[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d, 0x41c83b0e, 0xa20bc7c6,
         0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09, 0x94fdcceb, 0x5001e420,
         0x24126ea1},
    };
    for (int i = 0; i < 3; i++) {
        uint32_t out[4];
        pf_philox4x32_10(v[i], v[i] + 4, out);
        for (int j = 0; j < 4; j++) CHECK_MSG(out[j] == v[i][6 + j], "vector %d word %d: %08x", i, j, out[j]);
    }
    return PF_T_PASS;
}

/* Same seed and stream: same values, whatever the chunking; other seeds/streams differ. */
static pf_test_result test_determinism(void) {
    enum { N = 1001 };
    static float a[N], b[N], c[N];
    pf_rng r;
    pf_rng_init(&r, 42, 0);
    pf_rng_normal(&r, a, N);
    pf_rng_init(&r, 42, 0);
    pf_rng_normal(&r, b, 3);
    pf_rng_normal(&r, b + 3, 500);
    pf_rng_normal(&r, b + 503, N - 503);
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK(r.offset == N);
    pf_rng_init(&r, 43, 0);
    pf_rng_normal(&r, c, N);
    int same = 0;
    for (int i = 0; i < N; i++) same += a[i] == c[i];
    CHECK(same < 5);
    pf_rng_init(&r, 42, 1);
    pf_rng_normal(&r, c, N);
    same = 0;
    for (int i = 0; i < N; i++) same += a[i] == c[i];
    CHECK(same < 5);
    /* an offset jumps straight into the stream */
    pf_rng_init(&r, 42, 0);
    r.offset = 777;
    pf_rng_normal(&r, c, 10);
    CHECK(memcmp(c, a + 777, 10 * sizeof(float)) == 0);
    return PF_T_PASS;
}

/* Moments of 2^18 normals: mean 0, variance 1, skew 0, kurtosis 3 (5-sigma bounds);
 * uniforms in (0, 1) with mean 1/2. */
static pf_test_result test_moments(void) {
    enum { N = 1 << 18 };
    float *x = malloc(sizeof(float) * N);
    double *u = malloc(sizeof(double) * 4096);
    CHECK(x && u);
    pf_rng r;
    pf_rng_init(&r, 1234, 7);
    pf_rng_normal(&r, x, N);
    double m1 = 0, m2 = 0, m3 = 0, m4 = 0;
    for (int i = 0; i < N; i++) {
        double v = x[i];
        m1 += v;
        m2 += v * v;
        m3 += v * v * v;
        m4 += v * v * v * v;
    }
    m1 /= N, m2 /= N, m3 /= N, m4 /= N;
    double sn = 1.0 / sqrt((double)N);
    CHECK_NEAR(m1, 0.0, 5 * sn);
    CHECK_NEAR(m2, 1.0, 5 * sqrt(2.0) * sn);
    CHECK_NEAR(m3, 0.0, 5 * sqrt(15.0) * sn);
    CHECK_NEAR(m4, 3.0, 5 * sqrt(96.0) * sn);
    /* neighbours are uncorrelated (the Box-Muller pair included) */
    double c01 = 0, c12 = 0;
    for (int i = 0; i + 4 <= N; i += 4) {
        c01 += (double)x[i] * x[i + 1];
        c12 += (double)x[i + 1] * x[i + 2];
    }
    CHECK_NEAR(c01 / (N / 4), 0.0, 5 * 2 * sn);
    CHECK_NEAR(c12 / (N / 4), 0.0, 5 * 2 * sn);
    pf_rng_init(&r, 1234, 7);
    pf_rng_uniform(&r, u, 4096);
    double mu = 0;
    for (int i = 0; i < 4096; i++) {
        CHECK(u[i] > 0.0 && u[i] < 1.0);
        mu += u[i];
    }
    CHECK_NEAR(mu / 4096, 0.5, 5 * sqrt(1.0 / 12 / 4096));
    free(x);
    free(u);
    return PF_T_PASS;
}

/* Seeded block noise: every 2x2 block sums to zero, per-entry variance 1 and the
 * covariance of two entries of one block -1/3, entries of different blocks uncorrelated. */
static pf_test_result test_block_noise(void) {
    pf_noise *n = NULL;
    CHECK_OK(pf_noise_create_seeded(99, 1.0 / 3.0, &n));
    int64_t shape[5] = {1, 16, 2, 32, 48};
    size_t total = 16 * 2 * 32 * 48;
    float *a = malloc(total * sizeof(float)), *b = malloc(total * sizeof(float));
    CHECK(a && b);
    CHECK_OK(pf_noise_block(n, shape, a));
    CHECK_OK(pf_noise_block(n, shape, b));
    CHECK(pf_noise_block_draws(n) == 2);
    CHECK(memcmp(a, b, total * sizeof(float)) != 0); /* each draw has its own stream */
    double var = 0, cov[4][4] = {{0}}, cross = 0;
    int64_t nb = 0, planes = 32, H = 32, W = 48;
    for (int64_t p = 0; p < planes; p++)
        for (int64_t h = 0; h < H; h += 2)
            for (int64_t w = 0; w < W; w += 2) {
                const float *pl = a + p * H * W;
                double e[4] = {pl[h * W + w], pl[h * W + w + 1], pl[(h + 1) * W + w], pl[(h + 1) * W + w + 1]};
                CHECK_NEAR(e[0] + e[1] + e[2] + e[3], 0.0, 1e-5);
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++) cov[i][j] += e[i] * e[j];
                if (w + 2 < W) cross += e[1] * pl[h * W + w + 2];
                nb++;
            }
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            double c = cov[i][j] / nb, expect = i == j ? 1.0 : -1.0 / 3.0;
            CHECK_MSG(fabs(c - expect) < 0.06, "cov[%d][%d] = %g, expected %g", i, j, c, expect);
            if (i == j) var += c;
        }
    CHECK_NEAR(var / 4, 1.0, 0.03);
    CHECK_NEAR(cross / nb, 0.0, 0.06);
    /* a fresh source with the same seed replays the same draws */
    pf_noise *n2 = NULL;
    CHECK_OK(pf_noise_create_seeded(99, 1.0 / 3.0, &n2));
    CHECK_OK(pf_noise_block(n2, shape, b));
    CHECK(memcmp(a, b, total * sizeof(float)) == 0);
    /* the initial noise does not depend on how many block draws came before */
    float init1[96], init2[96];
    int64_t ishape[5] = {1, 16, 1, 2, 3};
    CHECK_OK(pf_noise_initial(n, ishape, init1));
    CHECK_OK(pf_noise_initial(n2, ishape, init2));
    CHECK(memcmp(init1, init2, sizeof init1) == 0);
    int64_t odd[5] = {1, 16, 1, 3, 4};
    CHECK_ERR(pf_noise_block(n2, odd, b), PF_ERR_SHAPE, "even");
    CHECK(pf_noise_block_draws(n2) == 1);
    pf_noise_free(n);
    pf_noise_free(n2);
    free(a);
    free(b);
    return PF_T_PASS;
}

/* The transform on its own: a smaller gamma keeps the covariance (1 + g) I - g 11^T. */
static pf_test_result test_block_transform_gamma(void) {
    enum { NB = 20000 };
    float *e = malloc(sizeof(float) * 4 * NB);
    CHECK(e);
    pf_rng r;
    pf_rng_init(&r, 5, 5);
    pf_rng_normal(&r, e, 4 * NB);
    double g = 0.2;
    /* NB blocks laid out as planes of 2x2 */
    CHECK_OK(pf_block_noise_transform(e, NB, 2, 2, g));
    double d = 0, o = 0;
    for (int b = 0; b < NB; b++) {
        d += (double)e[4 * b] * e[4 * b];
        o += (double)e[4 * b] * e[4 * b + 3];
    }
    CHECK_NEAR(d / NB, 1.0, 0.05);
    CHECK_NEAR(o / NB, -g, 0.05);
    CHECK_ERR(pf_block_noise_transform(e, 1, 2, 2, 0.5), PF_ERR_INVALID_ARG, "gamma");
    pf_noise *n = NULL;
    CHECK_ERR(pf_noise_create_seeded(1, 0.5, &n), PF_ERR_INVALID_ARG, "gamma");
    free(e);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_philox_kat), PF_TEST(test_determinism), PF_TEST(test_moments), PF_TEST(test_block_noise),
             PF_TEST(test_block_transform_gamma))
