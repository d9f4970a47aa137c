/*
 * The threaded GEMM driver: OpenBLAS sgemm when built with it, otherwise the
 * portable blocked GEMM over the micro-kernels of cpu_gemm_kernels.c; a
 * streaming path for a handful of rows (adaLN on the pooled vectors, where the
 * cost is reading the weight once).
 */
#include "cpu_gemm.h"
#include "cpu_simd.h"

#ifdef PF_HAVE_OPENBLAS
#include <cblas.h>
#endif

/* Blocking of the portable GEMM: KC rows of B per packed panel, NC columns. */
#define PF_GEMM_KC 256
#define PF_GEMM_NC 4096
#define PF_GEMM_MC_TARGET 96

/* ---------------------------------------------------------------- conversions */

void pf_cpu_to_f32(float *dst, const void *src, pf_dtype dt, int64_t n) {
    if (dt == PF_F32) {
        if ((const void *)dst != src) memcpy(dst, src, (size_t)n * sizeof(float));
    } else if (dt == PF_BF16) {
        const uint16_t *s = src;
        for (int64_t i = 0; i < n; i++) {
            uint32_t u = (uint32_t)s[i] << 16;
            memcpy(dst + i, &u, 4);
        }
    } else {
        const uint16_t *s = src;
        for (int64_t i = 0; i < n; i++) dst[i] = pf_f16_to_f32(s[i]);
    }
}

void pf_cpu_from_f32(void *dst, pf_dtype dt, const float *src, int64_t n) {
    if (dt == PF_F32) {
        if (dst != (const void *)src) memmove(dst, src, (size_t)n * sizeof(float));
    } else if (dt == PF_BF16) {
        uint16_t *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = pf_f32_to_bf16(src[i]);
    } else {
        uint16_t *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = pf_f32_to_f16(src[i]);
    }
}

/* ---------------------------------------------------------------- few rows */

typedef struct {
    int64_t M, N, K;
    const float *a; /* A converted to f32, [M, K] */
    const pf_cpu_mat *B;
    float *C;
    int64_t ldc;
    float alpha, beta;
} pf_gemm_small_job;

/* Column j of B is contiguous along k (B given as W [N, K]): one dot product per (row, column). */
static void pf_gemm_small_dot(void *ctx, int64_t j0, int64_t j1, int thread) {
    (void)thread;
    const pf_gemm_small_job *jb = ctx;
    int64_t K = jb->K;
    for (int64_t j = j0; j < j1; j++) {
        const char *col = (const char *)jb->B->p + (size_t)(j * jb->B->cs) * pf_dtype_size(jb->B->dt);
        for (int64_t i = 0; i < jb->M; i++) {
            const float *a = jb->a + i * K;
            /* 16 independent partial sums: vectorisable without reassociating */
            float acc[16] = {0};
            int64_t k = 0;
            if (jb->B->dt == PF_F32) {
                const float *w = (const float *)col;
                for (; k + 16 <= K; k += 16)
                    for (int l = 0; l < 16; l++) acc[l] += a[k + l] * w[k + l];
                for (; k < K; k++) acc[0] += a[k] * w[k];
            } else if (jb->B->dt == PF_BF16) {
                const uint16_t *w = (const uint16_t *)col;
                for (; k + 16 <= K; k += 16)
                    for (int l = 0; l < 16; l++) {
                        uint32_t u = (uint32_t)w[k + l] << 16;
                        float f;
                        memcpy(&f, &u, 4);
                        acc[l] += a[k + l] * f;
                    }
                for (; k < K; k++) acc[0] += a[k] * pf_bf16_to_f32(w[k]);
            } else {
                const uint16_t *w = (const uint16_t *)col;
                for (; k < K; k++) acc[k & 15] += a[k] * pf_f16_to_f32(w[k]);
            }
            float s = 0.0f;
            for (int l = 0; l < 16; l++) s += acc[l];
            float *cp = jb->C + i * jb->ldc + j;
            *cp = jb->alpha * s + (jb->beta != 0.0f ? jb->beta * *cp : 0.0f);
        }
    }
}

/* Rows of B are contiguous along j (B row-major [K, N]): C row += a[k] * B row k, per column chunk. */
static void pf_gemm_small_axpy(void *ctx, int64_t c0, int64_t c1, int thread) {
    (void)thread;
    const pf_gemm_small_job *jb = ctx;
    enum { CH = 256 };
    float acc[CH], brow[CH];
    for (int64_t j0 = c0 * CH; j0 < PF_MIN(c1 * CH, jb->N); j0 += CH) {
        int64_t nj = PF_MIN((int64_t)CH, jb->N - j0);
        for (int64_t i = 0; i < jb->M; i++) {
            for (int64_t j = 0; j < nj; j++) acc[j] = 0.0f;
            for (int64_t k = 0; k < jb->K; k++) {
                float av = jb->a[i * jb->K + k];
                int64_t o = k * jb->B->rs + j0 * jb->B->cs;
                if (jb->B->cs == 1)
                    pf_cpu_to_f32(brow, (const char *)jb->B->p + (size_t)o * pf_dtype_size(jb->B->dt), jb->B->dt, nj);
                else
                    for (int64_t j = 0; j < nj; j++) brow[j] = pf_cpu_ldf(jb->B->p, jb->B->dt, o + j * jb->B->cs);
                for (int64_t j = 0; j < nj; j++) acc[j] += av * brow[j];
            }
            float *cp = jb->C + i * jb->ldc + j0;
            for (int64_t j = 0; j < nj; j++) cp[j] = jb->alpha * acc[j] + (jb->beta != 0.0f ? jb->beta * cp[j] : 0.0f);
        }
    }
}

static pf_status pf_gemm_small(pf_cpu_ctx *c, int64_t M, int64_t N, int64_t K, float alpha, const pf_cpu_mat *A,
                               const pf_cpu_mat *B, float beta, float *C, int64_t ldc) {
    float *a = pf_cpu_slot(c, PF_CPU_SLOT_GEMM_CVT, (size_t)(M * K) * sizeof(float));
    if (!a) return PF_ERR_OOM;
    for (int64_t i = 0; i < M; i++)
        for (int64_t k = 0; k < K; k++) a[i * K + k] = pf_cpu_ldf(A->p, A->dt, i * A->rs + k * A->cs);
    pf_gemm_small_job jb = {M, N, K, a, B, C, ldc, alpha, beta};
    if (B->rs == 1)
        pf_parallel_for(c->pool, N, 16, pf_gemm_small_dot, &jb);
    else
        pf_parallel_for(c->pool, PF_CEIL_DIV(N, 256), 1, pf_gemm_small_axpy, &jb);
    return PF_OK;
}

/* ---------------------------------------------------------------- portable blocked GEMM */

typedef struct {
    pf_cpu_ctx *c;
    const pf_cpu_gemm_kernel *k;
    const pf_cpu_mat *A, *B;
    float *C;
    int64_t ldc, M;
    float alpha, beta;
    /* current (jc, pc) panel */
    int64_t jc, nc, pc, kc;
    float *Bp;
    int64_t mc, nt, n_nt;
    int64_t *last; /* per thread: which M block its packed A holds (-1: none) */
} pf_gemm_job;

static void pf_gemm_pack_b_task(void *ctx, int64_t s0, int64_t s1, int thread) {
    (void)thread;
    const pf_gemm_job *jb = ctx;
    int nr = jb->k->nr;
    int64_t j0 = s0 * nr, j1 = PF_MIN(s1 * nr, jb->nc);
    pf_cpu_pack_b(jb->B, jb->pc, jb->kc, jb->jc + j0, j1 - j0, nr, jb->Bp + j0 * jb->kc);
}

static void pf_gemm_tile_task(void *ctx, int64_t t0, int64_t t1, int thread) {
    pf_gemm_job *jb = ctx;
    float *Ap = pf_cpu_thread_scratch(jb->c, thread);
    for (int64_t t = t0; t < t1; t++) {
        int64_t im = t / jb->n_nt, jn = t % jb->n_nt;
        int64_t i0 = im * jb->mc, m = PF_MIN(jb->mc, jb->M - i0);
        if (jb->last[thread] != im) {
            pf_cpu_pack_a(jb->A, i0, m, jb->pc, jb->kc, jb->k->mr, Ap);
            jb->last[thread] = im;
        }
        int64_t j0 = jn * jb->nt, n = PF_MIN(jb->nt, jb->nc - j0);
        pf_cpu_gemm_packed(jb->k, m, n, jb->kc, Ap, jb->Bp + j0 * jb->kc, jb->C + i0 * jb->ldc + jb->jc + j0, jb->ldc,
                           jb->alpha, jb->pc == 0 ? jb->beta : 1.0f);
    }
}

static pf_status pf_gemm_portable(pf_cpu_ctx *c, int64_t M, int64_t N, int64_t K, float alpha, const pf_cpu_mat *A,
                                  const pf_cpu_mat *B, float beta, float *C, int64_t ldc) {
    const pf_cpu_gemm_kernel *k = pf_cpu_gemm_kernel_get();
    int threads = c->n_threads > 0 ? c->n_threads : 1;
    int64_t kcmax = PF_MIN(K, (int64_t)PF_GEMM_KC);
    int64_t mc = PF_MAX(1, PF_GEMM_MC_TARGET / k->mr) * k->mr;
    int64_t ncmax = PF_MIN(PF_ALIGN_UP(N, k->nr), (int64_t)PF_GEMM_NC);
    /* enough tiles for every thread: shrink the M block for few-column problems */
    while (mc > k->mr && PF_CEIL_DIV(M, mc) * PF_CEIL_DIV(ncmax, 4 * k->nr) < 4 * threads) mc -= k->mr;
    float *Bp = pf_cpu_slot(c, PF_CPU_SLOT_GEMM_B, pf_cpu_pack_b_size(k, kcmax, ncmax) * sizeof(float));
    if (!Bp) return PF_ERR_OOM;
    PF_TRY(pf_cpu_thread_scratch_reserve(c, pf_cpu_pack_a_size(k, mc, kcmax) * sizeof(float)));
    int64_t last[256];
    int64_t *lastp = threads <= 256 ? last : pf_malloc((size_t)threads * sizeof(int64_t), "GEMM thread state");
    if (!lastp) return PF_ERR_OOM;
    pf_gemm_job jb = {.c = c, .k = k, .A = A, .B = B, .C = C, .ldc = ldc, .M = M, .alpha = alpha, .beta = beta,
                      .Bp = Bp, .mc = mc, .last = lastp};
    for (int64_t jc = 0; jc < N; jc += ncmax) {
        jb.jc = jc;
        jb.nc = PF_MIN(ncmax, N - jc);
        /* column tiles: a few slivers each, fewer when M alone does not feed the threads */
        int64_t n_mt = PF_CEIL_DIV(M, mc);
        int64_t nt = 4 * k->nr;
        while (nt > k->nr && n_mt * PF_CEIL_DIV(jb.nc, nt) < 4 * threads) nt -= k->nr;
        jb.nt = nt;
        jb.n_nt = PF_CEIL_DIV(jb.nc, nt);
        for (int64_t pc = 0; pc < K; pc += kcmax) {
            jb.pc = pc;
            jb.kc = PF_MIN(kcmax, K - pc);
            pf_parallel_for(c->pool, PF_CEIL_DIV(jb.nc, k->nr), 4, pf_gemm_pack_b_task, &jb);
            for (int i = 0; i < threads; i++) lastp[i] = -1;
            pf_parallel_for(c->pool, n_mt * jb.n_nt, 1, pf_gemm_tile_task, &jb);
        }
    }
    if (lastp != last) free(lastp);
    return PF_OK;
}

/* ---------------------------------------------------------------- OpenBLAS */

#ifdef PF_HAVE_OPENBLAS
/* OpenBLAS keeps one global thread count: set it to the backend's (no nesting with our pool). */
static int pf_blas_threads = 0;

static void pf_blas_set_threads(int n) {
    if (__atomic_load_n(&pf_blas_threads, __ATOMIC_RELAXED) != n) {
        openblas_set_num_threads(n);
        __atomic_store_n(&pf_blas_threads, n, __ATOMIC_RELAXED);
    }
}

/* An f32 operand with one unit stride: the BLAS transpose flag and leading dimension. */
static bool pf_blas_operand(const pf_cpu_mat *X, int64_t rows, int64_t cols, enum CBLAS_TRANSPOSE *tr, int64_t *ld) {
    if (X->cs == 1 && X->rs >= PF_MAX(1, cols)) {
        *tr = CblasNoTrans;
        *ld = X->rs;
        return true;
    }
    if (X->rs == 1 && X->cs >= PF_MAX(1, rows)) {
        *tr = CblasTrans;
        *ld = X->cs;
        return true;
    }
    return false;
}

typedef struct {
    float *dst;
    const pf_cpu_mat *X;
    int64_t r0, c0, cols; /* dst row t = X(r0 + t, c0 .. c0 + cols) */
} pf_cvt_job;

static void pf_cvt_rows(void *ctx, int64_t t0, int64_t t1, int thread) {
    (void)thread;
    const pf_cvt_job *jb = ctx;
    size_t es = pf_dtype_size(jb->X->dt);
    for (int64_t t = t0; t < t1; t++) {
        const char *src = (const char *)jb->X->p + (size_t)((jb->r0 + t) * jb->X->rs + jb->c0 * jb->X->cs) * es;
        float *d = jb->dst + t * jb->cols;
        if (jb->X->cs == 1)
            pf_cpu_to_f32(d, src, jb->X->dt, jb->cols);
        else
            for (int64_t q = 0; q < jb->cols; q++) d[q] = pf_cpu_ldf(src, jb->X->dt, q * jb->X->cs);
    }
}

/* rows [r0, r0 + n) x cols [c0, c0 + cols) of X into dst as f32 row-major, threaded */
static void pf_cvt_panel(pf_cpu_ctx *c, float *dst, const pf_cpu_mat *X, int64_t r0, int64_t n, int64_t c0, int64_t cols) {
    pf_cvt_job jb = {dst, X, r0, c0, cols};
    pf_parallel_for(c->pool, n, PF_MAX(1, 16384 / PF_MAX(cols, 1)), pf_cvt_rows, &jb);
}

/* Panel budget (floats) for converted bf16/f16 operands. */
#define PF_BLAS_PANEL_FLOATS ((int64_t)4 << 20)

static pf_status pf_gemm_blas(pf_cpu_ctx *c, int64_t M, int64_t N, int64_t K, float alpha, const pf_cpu_mat *A,
                              const pf_cpu_mat *B, float beta, float *C, int64_t ldc, bool *done) {
    *done = false;
    enum CBLAS_TRANSPOSE ta = CblasNoTrans, tb = CblasNoTrans;
    int64_t lda = K, ldb = N;
    bool a32 = A->dt == PF_F32, b32 = B->dt == PF_F32;
    if ((a32 && !pf_blas_operand(A, M, K, &ta, &lda)) || (b32 && !pf_blas_operand(B, K, N, &tb, &ldb))) return PF_OK;
    if (M > INT32_MAX || N > INT32_MAX || K > INT32_MAX || ldc > INT32_MAX) return PF_OK;
    pf_blas_set_threads(c->n_threads > 0 ? c->n_threads : 1);
    /* panels of the operands that need converting: A by rows, B by columns (kept in W [N, K]
     * orientation when its columns are contiguous, so the conversion reads memory in order) */
    int64_t mp = a32 ? M : PF_MAX(1, PF_MIN(M, PF_BLAS_PANEL_FLOATS / PF_MAX(K, 1)));
    int64_t np = b32 ? N : PF_MAX(1, PF_MIN(N, PF_BLAS_PANEL_FLOATS / PF_MAX(K, 1)));
    float *abuf = NULL, *bbuf = NULL;
    if (!a32 || !b32) {
        size_t na = a32 ? 0 : (size_t)(mp * K), nb = b32 ? 0 : (size_t)(np * K);
        float *buf = pf_cpu_slot(c, PF_CPU_SLOT_GEMM_CVT, (na + nb) * sizeof(float) + 64);
        if (!buf) return PF_ERR_OOM;
        abuf = buf;
        bbuf = buf + PF_ALIGN_UP(na, 16);
    }
    bool bcolmajor = B->rs == 1 || B->cs != 1; /* convert B^T rows (= columns of B) */
    for (int64_t i0 = 0; i0 < M; i0 += mp) {
        int64_t m = PF_MIN(mp, M - i0);
        const float *ap = a32 ? (const float *)A->p + i0 * A->rs : abuf;
        if (!a32) {
            pf_cvt_panel(c, abuf, A, i0, m, 0, K);
            ta = CblasNoTrans;
            lda = K;
        } else if (ta == CblasTrans) {
            ap = (const float *)A->p + i0; /* A(i, k) = p[i + k * lda] */
        }
        for (int64_t j0 = 0; j0 < N; j0 += np) {
            int64_t n = PF_MIN(np, N - j0);
            const float *bp;
            if (b32) {
                bp = tb == CblasNoTrans ? (const float *)B->p + j0 : (const float *)B->p + j0 * B->cs;
            } else if (bcolmajor) {
                pf_cpu_mat Bt = pf_cpu_mat_make(B->p, B->dt, B->cs, B->rs);
                pf_cvt_panel(c, bbuf, &Bt, j0, n, 0, K); /* [n, K] */
                bp = bbuf;
                tb = CblasTrans;
                ldb = K;
            } else {
                pf_cvt_panel(c, bbuf, B, 0, K, j0, n); /* [K, n] */
                bp = bbuf;
                tb = CblasNoTrans;
                ldb = n;
            }
            cblas_sgemm(CblasRowMajor, ta, tb, (int)m, (int)n, (int)K, alpha, ap, (int)lda, bp, (int)ldb, beta,
                        C + i0 * ldc + j0, (int)ldc);
        }
    }
    *done = true;
    return PF_OK;
}
#endif /* PF_HAVE_OPENBLAS */

/* ---------------------------------------------------------------- choice */

#ifdef PF_HAVE_OPENBLAS
/* Vector width class of OpenBLAS's chosen kernels: 2 AVX-512, 1 AVX2, 0 older. */
static int pf_blas_class(void) {
    static int cls = -1;
    int v = __atomic_load_n(&cls, __ATOMIC_RELAXED);
    if (v >= 0) return v;
    char name[64] = "";
    const char *cn = openblas_get_corename();
    for (size_t i = 0; cn && cn[i] && i + 1 < sizeof name; i++) name[i] = (char)(cn[i] | 0x20); /* lower case */
    static const char *const avx512[] = {"skylakex", "cooperlake", "sapphirerapids"};
    static const char *const avx2[] = {"haswell", "zen", "skylake", "broadwell"};
    v = 0;
    for (size_t i = 0; i < PF_ARRAY_LEN(avx2); i++)
        if (strstr(name, avx2[i])) v = 1;
    for (size_t i = 0; i < PF_ARRAY_LEN(avx512); i++)
        if (strstr(name, avx512[i])) v = 2;
    __atomic_store_n(&cls, v, __ATOMIC_RELAXED);
    return v;
}
#endif

bool pf_cpu_gemm_uses_blas(const pf_cpu_ctx *c) {
#ifdef PF_HAVE_OPENBLAS
    if (c->gemm_mode == PF_CPU_GEMM_BLAS) return true;
    if (c->gemm_mode == PF_CPU_GEMM_PORTABLE) return false;
    return pf_blas_class() >= (int)pf_cpu_isa_get();
#else
    (void)c;
    return false;
#endif
}

void pf_cpu_gemm_describe(const pf_cpu_ctx *c, char *buf, size_t n) {
    int threads = c->n_threads > 0 ? c->n_threads : 1;
#ifdef PF_HAVE_OPENBLAS
    if (pf_cpu_gemm_uses_blas(c)) {
        /* "OpenBLAS 0.3.21 DYNAMIC_ARCH ...": keep the first two words */
        char v[64] = "OpenBLAS";
        const char *cfg = openblas_get_config();
        if (cfg) {
            snprintf(v, sizeof v, "%s", cfg);
            char *sp = strchr(v, ' ');
            if (sp) sp = strchr(sp + 1, ' ');
            if (sp) *sp = 0;
        }
        snprintf(buf, n, "%s sgemm (core %s, %d threads)", v, openblas_get_corename(), threads);
        return;
    }
    snprintf(buf, n, "portable GEMM, %s micro-kernel, %d threads (OpenBLAS core %s not used%s)",
             pf_cpu_gemm_kernel_get()->name, threads, openblas_get_corename(),
             c->gemm_mode == PF_CPU_GEMM_PORTABLE ? ": forced" : ": narrower than this CPU; try OPENBLAS_CORETYPE");
#else
    snprintf(buf, n, "portable GEMM, %s micro-kernel, %d threads (built without OpenBLAS)", pf_cpu_gemm_kernel_get()->name,
             threads);
#endif
}

/* ---------------------------------------------------------------- entry */

static void pf_gemm_scale_c(float *C, int64_t ldc, int64_t M, int64_t N, float beta) {
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
}

pf_status pf_cpu_gemm(pf_cpu_ctx *c, int64_t M, int64_t N, int64_t K, float alpha, const pf_cpu_mat *A,
                      const pf_cpu_mat *B, float beta, float *C, int64_t ldc) {
    if (M <= 0 || N <= 0) return PF_OK;
    if (K <= 0) {
        pf_gemm_scale_c(C, ldc, M, N, beta);
        return PF_OK;
    }
    if (M <= PF_CPU_GEMM_SMALL_M && !B->pack) return pf_gemm_small(c, M, N, K, alpha, A, B, beta, C, ldc);
#ifdef PF_HAVE_OPENBLAS
    if (pf_cpu_gemm_uses_blas(c) && !B->pack) {
        bool done;
        PF_TRY(pf_gemm_blas(c, M, N, K, alpha, A, B, beta, C, ldc, &done));
        if (done) return PF_OK;
    }
#endif
    return pf_gemm_portable(c, M, N, K, alpha, A, B, beta, C, ldc);
}
