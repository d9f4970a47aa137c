/* Fast kernels: linear (x W^T + b) and batched matmul, over the threaded GEMM of cpu_gemm.c. */
#include "cpu_gemm.h"

/* f32 output rows computed per GEMM call when dst is bf16/f16 (bounded scratch). */
#define PF_MM_TILE_FLOATS ((int64_t)4 << 20)

typedef struct {
    const float *src;
    void *dst;
    pf_dtype dt;
    const void *bias;
    pf_dtype bdt;
    int64_t N;
} pf_rows_job;

/* dst row r = src row r (+ bias), converted to dst's dtype; src may equal dst (f32). */
static void pf_rows_finish(void *ctx, int64_t r0, int64_t r1, int thread) {
    (void)thread;
    const pf_rows_job *jb = ctx;
    int64_t N = jb->N;
    float bias[256];
    for (int64_t r = r0; r < r1; r++) {
        for (int64_t j0 = 0; j0 < N; j0 += 256) {
            int64_t nj = PF_MIN((int64_t)256, N - j0);
            const float *s = jb->src + r * N + j0;
            if (jb->bias) {
                pf_cpu_to_f32(bias, (const char *)jb->bias + (size_t)j0 * pf_dtype_size(jb->bdt), jb->bdt, nj);
                float tmp[256];
                for (int64_t j = 0; j < nj; j++) tmp[j] = s[j] + bias[j];
                pf_cpu_from_f32((char *)jb->dst + (size_t)(r * N + j0) * pf_dtype_size(jb->dt), jb->dt, tmp, nj);
            } else {
                pf_cpu_from_f32((char *)jb->dst + (size_t)(r * N + j0) * pf_dtype_size(jb->dt), jb->dt, s, nj);
            }
        }
    }
}

pf_status pf_cpu_fast_linear(pf_cpu_ctx *c, pf_tensor *d) {
    const pf_tensor *x = d->src[0], *w = d->src[1], *b = d->src[2];
    int64_t N = w->ne[0], K = w->ne[1], rows = pf_nelem(x) / PF_MAX(K, 1);
    if (K == 0) rows = pf_nelem(d) / PF_MAX(N, 1);
    const char *xp = pf_cpu_data(x);
    pf_cpu_mat W = pf_cpu_mat_make(pf_cpu_data(w), w->dtype, 1, K); /* B(k, n) = W[n, k] */
    const void *bp = b ? pf_cpu_data(b) : NULL;
    size_t xes = pf_dtype_size(x->dtype);
    if (d->dtype == PF_F32) {
        /* GEMM straight into dst; the bias enters as beta = 1 over rows prefilled with it */
        float *dp = pf_cpu_data(d);
        if (bp) {
            float *row = dp;
            pf_cpu_to_f32(row, bp, b->dtype, N);
            for (int64_t r = 1; r < rows; r++) memcpy(dp + r * N, row, (size_t)N * sizeof(float));
        }
        pf_cpu_mat X = pf_cpu_mat_make(xp, x->dtype, K, 1);
        return pf_cpu_gemm(c, rows, N, K, 1.0f, &X, &W, bp ? 1.0f : 0.0f, dp, N);
    }
    /* bf16/f16 activations: f32 tiles of rows, then bias + rounding */
    int64_t tr = PF_MAX(1, PF_MIN(rows, PF_MM_TILE_FLOATS / PF_MAX(N, 1)));
    float *tile = pf_cpu_slot(c, PF_CPU_SLOT_OP, (size_t)(tr * N) * sizeof(float));
    if (!tile) return PF_ERR_OOM;
    for (int64_t r0 = 0; r0 < rows; r0 += tr) {
        int64_t m = PF_MIN(tr, rows - r0);
        pf_cpu_mat X = pf_cpu_mat_make(xp + (size_t)(r0 * K) * xes, x->dtype, K, 1);
        PF_TRY(pf_cpu_gemm(c, m, N, K, 1.0f, &X, &W, 0.0f, tile, N));
        pf_rows_job jb = {tile, (char *)pf_cpu_data(d) + (size_t)(r0 * N) * pf_dtype_size(d->dtype), d->dtype, bp,
                          b ? b->dtype : PF_F32, N};
        pf_parallel_for(c->pool, m, PF_MAX(1, 4096 / PF_MAX(N, 1)), pf_rows_finish, &jb);
    }
    return PF_OK;
}

/* A [Bt, M, K] x B ([Bb, K, N], or [Bb, N, K] transposed) -> [Bt, M, N], times alpha; Bb is Bt or 1. */
pf_status pf_cpu_fast_matmul(pf_cpu_ctx *c, pf_tensor *d) {
    const pf_tensor *a = d->src[0], *b = d->src[1];
    bool tb = d->ip[0] != 0;
    float alpha = d->fp[0];
    int64_t Bt = a->ndim == 3 ? a->ne[0] : 1, M = a->ne[a->ndim - 2], K = a->ne[a->ndim - 1];
    int64_t N = d->ne[d->ndim - 1], Bb = b->ndim == 3 ? b->ne[0] : 1;
    const char *ap = pf_cpu_data(a), *bpp = pf_cpu_data(b);
    size_t aes = pf_dtype_size(a->dtype), bes = pf_dtype_size(b->dtype), des = pf_dtype_size(d->dtype);
    /* a shared B folds the batch into the rows of one GEMM */
    int64_t batches = Bb == 1 ? 1 : Bt, rows = Bb == 1 ? Bt * M : M;
    pf_cpu_mat B0 = tb ? pf_cpu_mat_make(bpp, b->dtype, 1, K) : pf_cpu_mat_make(bpp, b->dtype, N, 1);
    int64_t tr = d->dtype == PF_F32 ? rows : PF_MAX(1, PF_MIN(rows, PF_MM_TILE_FLOATS / PF_MAX(N, 1)));
    float *tile = NULL;
    if (d->dtype != PF_F32) {
        tile = pf_cpu_slot(c, PF_CPU_SLOT_OP, (size_t)(tr * N) * sizeof(float));
        if (!tile) return PF_ERR_OOM;
    }
    for (int64_t bi = 0; bi < batches; bi++) {
        pf_cpu_mat B = B0;
        B.p = bpp + (size_t)(bi * K * N) * bes;
        for (int64_t r0 = 0; r0 < rows; r0 += tr) {
            int64_t m = PF_MIN(tr, rows - r0);
            int64_t row0 = bi * rows + r0; /* first output row overall */
            pf_cpu_mat A = pf_cpu_mat_make(ap + (size_t)(row0 * K) * aes, a->dtype, K, 1);
            char *dst = (char *)pf_cpu_data(d) + (size_t)(row0 * N) * des;
            PF_TRY(pf_cpu_gemm(c, m, N, K, alpha, &A, &B, 0.0f, tile ? tile : (float *)dst, N));
            if (tile) {
                pf_rows_job jb = {tile, dst, d->dtype, NULL, PF_F32, N};
                pf_parallel_for(c->pool, m, PF_MAX(1, 4096 / PF_MAX(N, 1)), pf_rows_finish, &jb);
            }
        }
    }
    return PF_OK;
}
