/*
 * Fast kernels: layer norm, RMS norm, group norm (per frame, optional fused
 * SiLU) and softmax. Threaded over rows (groups for group norm); statistics in
 * two passes (mean, then squared deviations: no cancellation), each pass
 * summing blocks of PF_NORM_BLK elements in 16 f32 partial sums and the block
 * sums in double, so long reductions (a VAE group is millions of elements)
 * keep their precision. Rows that are not f32 are converted into a per-thread
 * buffer; results go through a buffer too, so dst may be src0's memory.
 */
#include "cpu_gemm.h"
#include "cpu_vmath.h"

#define PF_NORM_BLK 2048
#define PF_NORM_ROW 4096 /* row chunk for row-wise ops on long rows */

/* sum x[i] */
static double pf_nsum(const float *x, int64_t n) {
    double total = 0.0;
    for (int64_t b = 0; b < n; b += PF_NORM_BLK) {
        int64_t e = PF_MIN(n, b + PF_NORM_BLK);
        float acc[16] = {0};
        int64_t i = b;
        for (; i + 16 <= e; i += 16)
            for (int l = 0; l < 16; l++) acc[l] += x[i + l];
        for (; i < e; i++) acc[0] += x[i];
        float s = 0.0f;
        for (int l = 0; l < 16; l++) s += acc[l];
        total += s;
    }
    return total;
}

/* sum (x[i] - m)^2 */
static double pf_nsumsq(const float *x, int64_t n, float m) {
    double total = 0.0;
    for (int64_t b = 0; b < n; b += PF_NORM_BLK) {
        int64_t e = PF_MIN(n, b + PF_NORM_BLK);
        float acc[16] = {0};
        int64_t i = b;
        for (; i + 16 <= e; i += 16)
            for (int l = 0; l < 16; l++) {
                float t = x[i + l] - m;
                acc[l] += t * t;
            }
        for (; i < e; i++) acc[0] += (x[i] - m) * (x[i] - m);
        float s = 0.0f;
        for (int l = 0; l < 16; l++) s += acc[l];
        total += s;
    }
    return total;
}

/* A row of n elements of t at element offset o as f32: the memory itself or buf. */
static const float *pf_nrow(const pf_tensor *t, int64_t o, int64_t n, float *buf) {
    const char *p = pf_cpu_data(t);
    if (t->dtype == PF_F32) return (const float *)p + o;
    pf_cpu_to_f32(buf, p + (size_t)o * pf_dtype_size(t->dtype), t->dtype, n);
    return buf;
}

static void pf_nstore(pf_tensor *t, int64_t o, const float *v, int64_t n) {
    pf_cpu_from_f32((char *)pf_cpu_data(t) + (size_t)o * pf_dtype_size(t->dtype), t->dtype, v, n);
}

/* ---------------------------------------------------------------- layer / RMS norm */

typedef struct {
    pf_cpu_ctx *c;
    pf_tensor *d;
    int64_t D;
    const float *w, *b; /* f32 copies (NULL when absent) */
    float eps;
} pf_rownorm_job;

static void pf_layer_norm_task(void *ctx, int64_t r0, int64_t r1, int thread) {
    const pf_rownorm_job *jb = ctx;
    int64_t D = jb->D;
    float *in = pf_cpu_thread_scratch(jb->c, thread), *out = in + D;
    for (int64_t r = r0; r < r1; r++) {
        const float *x = pf_nrow(jb->d->src[0], r * D, D, in);
        float mean = (float)(pf_nsum(x, D) / (double)D);
        double var = pf_nsumsq(x, D, mean) / (double)D;
        float inv = (float)(1.0 / sqrt(var + jb->eps));
        for (int64_t i = 0; i < D; i++) out[i] = (x[i] - mean) * inv;
        if (jb->w)
            for (int64_t i = 0; i < D; i++) out[i] *= jb->w[i];
        if (jb->b)
            for (int64_t i = 0; i < D; i++) out[i] += jb->b[i];
        pf_nstore(jb->d, r * D, out, D);
    }
}

static void pf_rms_norm_task(void *ctx, int64_t r0, int64_t r1, int thread) {
    const pf_rownorm_job *jb = ctx;
    int64_t D = jb->D;
    float *in = pf_cpu_thread_scratch(jb->c, thread), *out = in + D;
    for (int64_t r = r0; r < r1; r++) {
        const float *x = pf_nrow(jb->d->src[0], r * D, D, in);
        float inv = (float)(1.0 / sqrt(pf_nsumsq(x, D, 0.0f) / (double)D + jb->eps));
        for (int64_t i = 0; i < D; i++) out[i] = x[i] * inv;
        if (jb->w)
            for (int64_t i = 0; i < D; i++) out[i] *= jb->w[i];
        pf_nstore(jb->d, r * D, out, D);
    }
}

/* Weight and bias as f32 (they are tiny): in the op slot. */
static pf_status pf_norm_params(pf_cpu_ctx *c, const pf_tensor *w, const pf_tensor *b, int64_t n, const float **wf,
                                const float **bf) {
    float *buf = pf_cpu_slot(c, PF_CPU_SLOT_OP, (size_t)(2 * n) * sizeof(float));
    if (!buf) return PF_ERR_OOM;
    *wf = *bf = NULL;
    if (w) {
        pf_cpu_to_f32(buf, pf_cpu_data(w), w->dtype, n);
        *wf = buf;
    }
    if (b) {
        pf_cpu_to_f32(buf + n, pf_cpu_data(b), b->dtype, n);
        *bf = buf + n;
    }
    return PF_OK;
}

static pf_status pf_row_norm(pf_cpu_ctx *c, pf_tensor *d, pf_range_fn fn) {
    const pf_tensor *x = d->src[0];
    int64_t D = x->ne[x->ndim - 1], rows = D ? pf_nelem(x) / D : 0;
    pf_rownorm_job jb = {.c = c, .d = d, .D = D, .eps = d->fp[0]};
    PF_TRY(pf_norm_params(c, d->src[1], d->src[2], D, &jb.w, &jb.b));
    PF_TRY(pf_cpu_thread_scratch_reserve(c, (size_t)(2 * D) * sizeof(float)));
    pf_parallel_for(c->pool, rows, PF_MAX(1, 8192 / PF_MAX(D, 1)), fn, &jb);
    return PF_OK;
}

pf_status pf_cpu_fast_layer_norm(pf_cpu_ctx *c, pf_tensor *d) { return pf_row_norm(c, d, pf_layer_norm_task); }

pf_status pf_cpu_fast_rms_norm(pf_cpu_ctx *c, pf_tensor *d) { return pf_row_norm(c, d, pf_rms_norm_task); }

/* ---------------------------------------------------------------- softmax */

static void pf_softmax_task(void *ctx, int64_t r0, int64_t r1, int thread) {
    const pf_rownorm_job *jb = ctx;
    int64_t D = jb->D;
    float s = jb->eps; /* the scale */
    float *in = pf_cpu_thread_scratch(jb->c, thread), *out = in + D;
    for (int64_t r = r0; r < r1; r++) {
        const float *x = pf_nrow(jb->d->src[0], r * D, D, in);
        for (int64_t i = 0; i < D; i++) out[i] = s * x[i];
        float mx = -INFINITY;
        for (int64_t i = 0; i < D; i++) mx = out[i] > mx ? out[i] : mx;
        float sum = pf_cpu_vexp_sub_sum(out, out, D, mx);
        float inv = 1.0f / sum;
        for (int64_t i = 0; i < D; i++) out[i] *= inv;
        pf_nstore(jb->d, r * D, out, D);
    }
}

pf_status pf_cpu_fast_softmax(pf_cpu_ctx *c, pf_tensor *d) {
    const pf_tensor *x = d->src[0];
    int64_t D = x->ne[x->ndim - 1], rows = D ? pf_nelem(x) / D : 0;
    pf_rownorm_job jb = {.c = c, .d = d, .D = D, .eps = d->fp[0]};
    PF_TRY(pf_cpu_thread_scratch_reserve(c, (size_t)(2 * D) * sizeof(float)));
    pf_parallel_for(c->pool, rows, PF_MAX(1, 8192 / PF_MAX(D, 1)), pf_softmax_task, &jb);
    return PF_OK;
}

/* ---------------------------------------------------------------- group norm */

typedef struct {
    pf_cpu_ctx *c;
    pf_tensor *d;
    int64_t C, T, HW, cg;
    int G;
    bool silu;
    const float *w, *b;
    float eps;
} pf_gn_job;

/* One task = one (batch, group, frame): cg channel planes of HW elements, T*HW apart. */
static void pf_group_norm_task(void *ctx, int64_t t0, int64_t t1, int thread) {
    const pf_gn_job *jb = ctx;
    const pf_tensor *x = jb->d->src[0];
    int64_t HW = jb->HW, cg = jb->cg;
    float *in = pf_cpu_thread_scratch(jb->c, thread), *out = in + PF_NORM_ROW;
    for (int64_t task = t0; task < t1; task++) {
        int64_t t = task % jb->T, g = (task / jb->T) % jb->G, bi = task / (jb->T * jb->G);
        double sum = 0.0;
        for (int64_t ch = g * cg; ch < (g + 1) * cg; ch++) {
            int64_t o = ((bi * jb->C + ch) * jb->T + t) * HW;
            for (int64_t i = 0; i < HW; i += PF_NORM_ROW) {
                int64_t n = PF_MIN((int64_t)PF_NORM_ROW, HW - i);
                sum += pf_nsum(pf_nrow(x, o + i, n, in), n);
            }
        }
        float mean = (float)(sum / (double)(cg * HW));
        double sq = 0.0;
        for (int64_t ch = g * cg; ch < (g + 1) * cg; ch++) {
            int64_t o = ((bi * jb->C + ch) * jb->T + t) * HW;
            for (int64_t i = 0; i < HW; i += PF_NORM_ROW) {
                int64_t n = PF_MIN((int64_t)PF_NORM_ROW, HW - i);
                sq += pf_nsumsq(pf_nrow(x, o + i, n, in), n, mean);
            }
        }
        float inv = (float)(1.0 / sqrt(sq / (double)(cg * HW) + jb->eps));
        for (int64_t ch = g * cg; ch < (g + 1) * cg; ch++) {
            int64_t o = ((bi * jb->C + ch) * jb->T + t) * HW;
            float wv = jb->w ? jb->w[ch] : 1.0f, bv = jb->b ? jb->b[ch] : 0.0f;
            for (int64_t i = 0; i < HW; i += PF_NORM_ROW) {
                int64_t n = PF_MIN((int64_t)PF_NORM_ROW, HW - i);
                const float *xv = pf_nrow(x, o + i, n, in);
                for (int64_t k = 0; k < n; k++) out[k] = (xv[k] - mean) * inv * wv + bv;
                if (jb->silu) pf_cpu_vunary(PF_UNARY_SILU, out, out, n);
                pf_nstore(jb->d, o + i, out, n);
            }
        }
    }
}

pf_status pf_cpu_fast_group_norm(pf_cpu_ctx *c, pf_tensor *d) {
    const pf_tensor *x = d->src[0];
    pf_gn_job jb = {.c = c, .d = d, .C = x->ne[1], .T = x->ne[2], .HW = x->ne[3] * x->ne[4], .G = d->ip[0],
                    .silu = d->ip[1] != 0, .eps = d->fp[0]};
    jb.cg = jb.C / jb.G;
    PF_TRY(pf_norm_params(c, d->src[1], d->src[2], jb.C, &jb.w, &jb.b));
    PF_TRY(pf_cpu_thread_scratch_reserve(c, (size_t)(2 * PF_NORM_ROW) * sizeof(float)));
    pf_parallel_for(c->pool, x->ne[0] * jb.G * jb.T, 1, pf_group_norm_task, &jb);
    return PF_OK;
}
