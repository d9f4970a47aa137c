/*
 * The fast kernels' building blocks: pf_cpu_gemm over every operand layout
 * (row-major, transposed, weight-style), alpha/beta, row strides, bf16/f16
 * operands, the few-rows path and K = 0, on every micro-kernel and GEMM of
 * the build, against a double-precision loop; and the vector exp /
 * activations against libm in double.
 */
#include "cpu_gemm.h"
#include "cpu_simd.h"
#include "cpu_vmath.h"
#include "pf_test.h"

static uint64_t rng = 88172645463325252ull;
static float randf(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((rng >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

/* Operand storage: logical rows x cols, transposed or not, in dt; X(r, c) read back as f32. */
typedef struct {
    void *p;
    pf_cpu_mat m;
    float *ref; /* rows x cols row-major, values as stored (rounded to dt) */
} opnd;

static bool opnd_make(opnd *o, int64_t rows, int64_t cols, bool trans, pf_dtype dt) {
    size_t n = (size_t)(rows * cols);
    o->p = malloc(PF_MAX(n, 1) * pf_dtype_size(dt));
    o->ref = malloc(PF_MAX(n, 1) * sizeof(float));
    if (!o->p || !o->ref) return false;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++) {
            int64_t idx = trans ? c * rows + r : r * cols + c;
            float v = randf();
            pf_cpu_stf(o->p, dt, idx, v);
            o->ref[r * cols + c] = pf_cpu_ldf(o->p, dt, idx);
        }
    o->m = trans ? pf_cpu_mat_make(o->p, dt, 1, rows) : pf_cpu_mat_make(o->p, dt, cols, 1);
    return true;
}

static void opnd_free(opnd *o) {
    free(o->p);
    free(o->ref);
}

typedef struct {
    int64_t M, N, K;
    bool ta, tb;
    pf_dtype da, db;
    float alpha, beta;
    int64_t ldc_extra;
} gemm_case;

static bool gemm_run(pf_cpu_ctx *c, const gemm_case *g, const char *what) {
    opnd A, B;
    if (!opnd_make(&A, g->M, g->K, g->ta, g->da) || !opnd_make(&B, g->K, g->N, g->tb, g->db)) return false;
    int64_t ldc = g->N + g->ldc_extra;
    float *C = malloc((size_t)PF_MAX(g->M * ldc, 1) * sizeof(float)), *C0 = malloc((size_t)PF_MAX(g->M * ldc, 1) * sizeof(float));
    if (!C || !C0) return false;
    for (int64_t i = 0; i < g->M * ldc; i++) C0[i] = C[i] = randf();
    if (g->beta == 0.0f) /* beta 0 must not read C: poison it */
        for (int64_t i = 0; i < g->M; i++)
            for (int64_t j = 0; j < g->N; j++) C[i * ldc + j] = NAN;
    pf_status rc = pf_cpu_gemm(c, g->M, g->N, g->K, g->alpha, &A.m, &B.m, g->beta, C, ldc);
    bool ok = rc == PF_OK;
    double worst = 0.0;
    for (int64_t i = 0; ok && i < g->M; i++) {
        for (int64_t j = 0; j < ldc; j++) {
            double want;
            if (j >= g->N) {
                want = C0[i * ldc + j]; /* padding columns untouched */
            } else {
                double acc = 0.0;
                for (int64_t k = 0; k < g->K; k++) acc += (double)A.ref[i * g->K + k] * B.ref[k * g->N + j];
                want = g->alpha * acc + (g->beta != 0.0f ? g->beta * (double)C0[i * ldc + j] : 0.0);
            }
            double e = fabs(C[i * ldc + j] - want);
            if (!(e <= 1e-5 * (1.0 + sqrt((double)g->K)))) {
                fprintf(stderr, "  %s: M %lld N %lld K %lld ta %d tb %d %s x %s alpha %g beta %g: C[%lld, %lld] = %.8g, want %.8g\n",
                        what, (long long)g->M, (long long)g->N, (long long)g->K, g->ta, g->tb, pf_dtype_name(g->da),
                        pf_dtype_name(g->db), g->alpha, g->beta, (long long)i, (long long)j, C[i * ldc + j], want);
                ok = false;
                break;
            }
            worst = PF_MAX(worst, e);
        }
    }
    free(C);
    free(C0);
    opnd_free(&A);
    opnd_free(&B);
    return ok;
}

static pf_test_result test_gemm_layouts(void) {
    static const gemm_case cases[] = {
        {1, 1, 1, false, false, PF_F32, PF_F32, 1.0f, 0.0f, 0},
        {3, 5, 7, false, true, PF_F32, PF_F32, 1.0f, 0.0f, 0},   /* few rows, W-style B */
        {4, 37, 19, false, false, PF_F32, PF_F32, 0.5f, 1.0f, 3}, /* few rows, row-major B, beta */
        {5, 33, 70, false, true, PF_F32, PF_F32, 1.0f, 0.0f, 0},
        {13, 31, 300, true, false, PF_F32, PF_F32, 2.0f, -1.0f, 5}, /* A transposed, two K blocks */
        {45, 67, 29, true, true, PF_F32, PF_F32, 1.0f, 0.5f, 0},
        {130, 70, 33, false, true, PF_BF16, PF_BF16, 1.0f, 0.0f, 0},
        {17, 4100, 9, false, true, PF_F32, PF_BF16, 1.0f, 1.0f, 1}, /* two column panels */
        {2, 90, 100, false, true, PF_F32, PF_BF16, 1.0f, 0.0f, 0},
        {2, 90, 100, false, false, PF_BF16, PF_F16, 1.0f, 0.0f, 0},
        {21, 40, 64, false, false, PF_F16, PF_F32, 1.0f, 0.0f, 7},
        {100, 9, 11, true, false, PF_F32, PF_F16, 0.25f, 0.0f, 0},
        {6, 8, 0, false, false, PF_F32, PF_F32, 1.0f, 0.5f, 0}, /* K = 0: C = beta C */
        {7, 3, 0, false, true, PF_F32, PF_F32, 1.0f, 0.0f, 0},
    };
    const char *modes[2] = {"portable", "blas"};
    int detected = (int)pf_cpu_isa_detect();
    for (int threads = 1; threads <= 3; threads += 2) {
        pf_cpu_ctx c = {0};
        c.n_threads = threads;
        if (threads > 1) CHECK_OK(pf_threadpool_create(threads, &c.pool));
        c.n_threads = pf_threadpool_size(c.pool);
        for (int isa = 0; isa <= detected; isa++) {
            pf_cpu_isa_override(isa);
            for (int m = 0; m < 2; m++) {
                c.gemm_mode = m == 0 ? PF_CPU_GEMM_PORTABLE : PF_CPU_GEMM_BLAS;
#ifndef PF_HAVE_OPENBLAS
                if (m == 1) continue;
#endif
                char what[96];
                snprintf(what, sizeof what, "%s, %s, %d threads", pf_cpu_gemm_kernel_get()->name, modes[m], threads);
                for (size_t i = 0; i < PF_ARRAY_LEN(cases); i++) CHECK(gemm_run(&c, &cases[i], what));
            }
        }
        pf_cpu_isa_override(-1);
        pf_cpu_ctx_release(&c);
    }
    return PF_T_PASS;
}

/* The packed micro-kernels on partial tiles: every m <= MR, n <= NR, beta 0 and 1. */
static pf_test_result test_microkernel_edges(void) {
    for (int isa = 0; isa <= (int)pf_cpu_isa_detect(); isa++) {
        pf_cpu_isa_override(isa);
        const pf_cpu_gemm_kernel *k = pf_cpu_gemm_kernel_get();
        int64_t kc = 5;
        float *a = malloc(sizeof(float) * (size_t)(k->mr * kc)), *b = malloc(sizeof(float) * (size_t)(k->nr * kc));
        float *c = malloc(sizeof(float) * (size_t)(k->mr * (k->nr + 1)));
        CHECK(a && b && c);
        for (int64_t i = 0; i < k->mr * kc; i++) a[i] = randf();
        for (int64_t i = 0; i < k->nr * kc; i++) b[i] = randf();
        for (int m = 1; m <= k->mr; m++)
            for (int n = 1; n <= k->nr; n++)
                for (int beta = 0; beta <= 1; beta++) {
                    int64_t ldc = k->nr + 1;
                    for (int64_t i = 0; i < k->mr * ldc; i++) c[i] = 7.0f;
                    k->run(kc, a, b, c, ldc, m, n, 2.0f, (float)beta);
                    for (int i = 0; i < k->mr; i++)
                        for (int j = 0; j < ldc; j++) {
                            double want = 7.0;
                            if (i < m && j < n) {
                                double acc = 0.0;
                                for (int64_t q = 0; q < kc; q++) acc += (double)a[q * k->mr + i] * b[q * k->nr + j];
                                want = 2.0 * acc + beta * 7.0;
                            }
                            CHECK_MSG(fabs(c[i * ldc + j] - want) < 1e-5, "%s m %d n %d beta %d: c[%d][%d] = %g, want %g",
                                      k->name, m, n, beta, i, j, c[i * ldc + j], want);
                        }
                }
        free(a);
        free(b);
        free(c);
    }
    pf_cpu_isa_override(-1);
    return PF_T_PASS;
}

/* Distance in units of the last place of the f32 nearest to ref. */
static double ulps(float got, double ref) {
    float r = (float)ref;
    double u = (double)nextafterf(fabsf(r), INFINITY) - fabsf(r);
    if (fabs(ref) < 1.1754943508222875e-38) u = 1.401298464324817e-45; /* denormal spacing */
    return fabs((double)got - ref) / u;
}

static pf_test_result test_vexp_accuracy(void) {
    enum { N = 200003 };
    float *x = malloc(N * sizeof(float)), *y = malloc(N * sizeof(float));
    CHECK(x && y);
    for (int isa = 0; isa <= (int)pf_cpu_isa_detect(); isa++) {
        pf_cpu_isa_override(isa);
        for (int i = 0; i < N; i++) x[i] = -87.0f + 175.5f * (float)i / N; /* normal results */
        pf_cpu_vexp(y, x, N);
        for (int i = 0; i < N; i++)
            CHECK_MSG(ulps(y[i], exp((double)x[i])) <= 2.0, "%s: exp(%.9g) = %.9g, libm %.9g",
                      pf_cpu_isa_name((pf_cpu_isa)isa), x[i], y[i], exp((double)x[i]));
        /* denormal results: absolute error within a couple of denormal steps */
        for (int i = 0; i < 1000; i++) x[i] = -103.9f + 16.8f * (float)i / 1000;
        pf_cpu_vexp(y, x, 1000);
        for (int i = 0; i < 1000; i++) CHECK(fabs(y[i] - exp((double)x[i])) <= 3e-45 + 3e-7 * exp((double)x[i]));
        /* in place, and the special values */
        float s[7] = {INFINITY, -INFINITY, NAN, 0.0f, 89.0f, -105.0f, 1.0f};
        pf_cpu_vexp(s, s, 7);
        CHECK(isinf(s[0]) && s[0] > 0 && s[1] == 0.0f && isnan(s[2]) && s[3] == 1.0f && isinf(s[4]) && s[5] == 0.0f);
        CHECK(ulps(s[6], exp(1.0)) <= 1.0);
        /* exp(x - m) with its sum: softmax's inner loop */
        for (int i = 0; i < 1000; i++) x[i] = -20.0f + 30.0f * (float)i / 1000;
        float sum = pf_cpu_vexp_sub_sum(y, x, 1000, 10.0f);
        double want = 0.0;
        for (int i = 0; i < 1000; i++) want += exp((double)x[i] - 10.0);
        CHECK_NEAR(sum, want, 1e-6 * want);
    }
    pf_cpu_isa_override(-1);
    free(x);
    free(y);
    return PF_T_PASS;
}

static pf_test_result test_vunary_accuracy(void) {
    enum { N = 20001 };
    float *x = malloc(N * sizeof(float)), *y = malloc(N * sizeof(float));
    CHECK(x && y);
    for (int i = 0; i < N; i++) x[i] = -30.0f + 60.0f * (float)i / N;
    for (int isa = 0; isa <= (int)pf_cpu_isa_detect(); isa++) {
        pf_cpu_isa_override(isa);
        for (int f = 0; f < PF_UNARY_COUNT; f++) {
            pf_cpu_vunary(f, y, x, N);
            for (int i = 0; i < N; i++) {
                double v = x[i], want;
                switch (f) {
                case PF_UNARY_SILU: want = v / (1.0 + exp(-v)); break;
                /* 0.5 v (1 + tanh u) written as v / (1 + e^-2u): exact in double, no cancellation */
                case PF_UNARY_GELU_TANH: want = v / (1.0 + exp(-2.0 * 0.7978845608028654 * (v + 0.044715 * v * v * v))); break;
                case PF_UNARY_GELU_ERF: want = 0.5 * v * (1.0 + erf(v / sqrt(2.0))); break;
                default: want = v / (1.0 + exp(-1.702 * v)); break;
                }
                CHECK_MSG(fabs(y[i] - want) <= 1e-6 * PF_MAX(1.0, fabs(want)), "%s %s(%.9g) = %.9g, want %.9g",
                          pf_cpu_isa_name((pf_cpu_isa)isa), pf_unary_name((pf_unary)f), x[i], y[i], want);
            }
        }
    }
    pf_cpu_isa_override(-1);
    free(x);
    free(y);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_gemm_layouts), PF_TEST(test_microkernel_edges), PF_TEST(test_vexp_accuracy),
             PF_TEST(test_vunary_accuracy))
