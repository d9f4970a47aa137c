/*
 * Fast kernel: causal conv3d as im2col + GEMM.
 *
 * x [B, Ci, T, H, W], w [Co, Ci, kt, kh, kw] -> y [B, Co, To, Ho, Wo]. For each
 * batch and output frame, the output positions p = ho * Wo + wo of the frame are
 * cut into tiles of at most PF_CONV_COL_FLOATS / K columns (K = Ci kt kh kw),
 * so the column buffer stays bounded at any resolution (a 1280x768 VAE frame
 * with 128 channels is about one output row per tile); per tile
 *   col[K, n] (threaded gather: zero padding, the `front` frames as the causal
 *              cache, temporal and spatial strides)
 *   y[:, to, p0 .. p0 + n) = W[Co, K] col (+ bias)   (pf_cpu_gemm, row stride To Ho Wo)
 * A 1x1x1 conv with unit strides and no padding reads x directly as the B matrix, and with
 * the portable GEMM the columns are never written out: its B packing calls pf_conv_pack,
 * which fills the packed slivers straight from x (implicit GEMM, one frame per GEMM).
 */
#include "cpu_gemm.h"

#define PF_CONV_COL_FLOATS ((int64_t)8 << 20) /* 32 MiB of columns per tile */

typedef struct {
    const pf_tensor *d, *x, *front;
    int64_t b, to, p0, n; /* tile: output positions [p0, p0 + n) of frame to */
    float *col;           /* [K, n] */
} pf_conv_job;

/* dst[0 .. n) = f32 of src[0 .. n) with stride s (elements) */
static void pf_conv_gather(float *dst, const char *src, pf_dtype dt, int64_t n, int64_t s) {
    if (s == 1 && dt == PF_F32) { /* the common case, a few dozen floats: no call */
        const float *f = (const float *)src;
        for (int64_t i = 0; i < n; i++) dst[i] = f[i];
    } else if (s == 1) {
        pf_cpu_to_f32(dst, src, dt, n);
    } else if (dt == PF_F32) {
        for (int64_t i = 0; i < n; i++) dst[i] = ((const float *)src)[i * s];
    } else {
        for (int64_t i = 0; i < n; i++) dst[i] = pf_cpu_ldf(src, dt, i * s);
    }
}

/* o[0 .. n) = column-matrix row kk at output positions p .. p + n of the tile's frame:
 * kk = ((ci * kt + a) * kh + e) * kw + f, the weight's own order; zeros for padding. */
static void pf_conv_fill(const pf_conv_job *jb, int64_t kk, int64_t p, int64_t n, float *o) {
    const pf_tensor *d = jb->d, *x = jb->x, *w = d->src[1];
    int pt = d->ip[0], ph = d->ip[1], pw = d->ip[2], st = d->ip[3], sh = d->ip[4], sw = d->ip[5];
    int64_t Ci = x->ne[1], T = x->ne[2], H = x->ne[3], W = x->ne[4];
    int64_t kt = w->ne[2], kh = w->ne[3], kw = w->ne[4], Wo = d->ne[4];
    size_t es = pf_dtype_size(x->dtype);
    int64_t f = kk % kw, e = (kk / kw) % kh, a = (kk / (kw * kh)) % kt, ci = kk / (kw * kh * kt);
    /* the input frame this tap reads: padded index tp, [0, pt) is the front pad / cache */
    int64_t tp = jb->to * st + a;
    const char *frame = NULL;
    if (tp >= pt)
        frame = (const char *)pf_cpu_data(x) + (size_t)((((jb->b * Ci + ci) * T + tp - pt) * H) * W) * es;
    else if (jb->front)
        frame = (const char *)pf_cpu_data(jb->front) + (size_t)((((jb->b * Ci + ci) * pt + tp) * H) * W) * es;
    for (int64_t q = p; q < p + n;) {
        int64_t ho = q / Wo, ws = q % Wo, we = PF_MIN(Wo, ws + (p + n - q)); /* [ws, we) of output row ho */
        float *r = o + (q - p);
        int64_t hi = ho * sh + e - ph;
        if (!frame || hi < 0 || hi >= H) {
            for (int64_t i = 0; i < we - ws; i++) r[i] = 0.0f;
        } else {
            /* valid output columns: 0 <= wo * sw + f - pw < W */
            int64_t lo = PF_MAX(ws, PF_CEIL_DIV(PF_MAX(pw - f, 0), sw));
            int64_t hi_w = PF_MIN(we, (W - 1 + pw - f) >= 0 ? (W - 1 + pw - f) / sw + 1 : 0);
            int64_t i = 0;
            for (; i < PF_MIN(lo, we) - ws; i++) r[i] = 0.0f;
            if (hi_w > lo) {
                pf_conv_gather(r + (lo - ws), frame + (size_t)(hi * W + lo * sw + f - pw) * es, x->dtype, hi_w - lo, sw);
                i = hi_w - ws;
            }
            for (; i < we - ws; i++) r[i] = 0.0f;
        }
        q += we - ws;
    }
}

/* Rows [k0, k1) of the column matrix [K, n] (explicit im2col, for BLAS and few-row GEMMs). */
static void pf_conv_im2col_task(void *ctx, int64_t k0, int64_t k1, int thread) {
    (void)thread;
    const pf_conv_job *jb = ctx;
    for (int64_t kk = k0; kk < k1; kk++) pf_conv_fill(jb, kk, jb->p0, jb->n, jb->col + kk * jb->n);
}

/* Implicit GEMM: the portable GEMM's packed B slivers filled straight from the input. */
static void pf_conv_pack(const void *ctx, int64_t k0, int64_t kc, int64_t j0, int64_t n, int nr, float *dst) {
    const pf_conv_job *jb = ctx;
    for (int64_t s = 0; s < n; s += nr) {
        int64_t cols = PF_MIN((int64_t)nr, n - s);
        float *d = dst + s * kc;
        for (int64_t k = 0; k < kc; k++) {
            float *row = d + k * nr;
            pf_conv_fill(jb, k0 + k, jb->p0 + j0 + s, cols, row);
            for (int64_t j = cols; j < nr; j++) row[j] = 0.0f;
        }
    }
}

typedef struct {
    float *dst;
    int64_t ld, n, Co;
    const float *bias;
} pf_conv_bias_job;

static void pf_conv_bias_task(void *ctx, int64_t c0, int64_t c1, int thread) {
    (void)thread;
    const pf_conv_bias_job *jb = ctx;
    for (int64_t co = c0; co < c1; co++) {
        float *r = jb->dst + co * jb->ld, v = jb->bias ? jb->bias[co] : 0.0f;
        for (int64_t i = 0; i < jb->n; i++) r[i] = v;
    }
}

pf_status pf_cpu_fast_conv3d(pf_cpu_ctx *c, pf_tensor *d) {
    const pf_tensor *x = d->src[0], *w = d->src[1], *bias = d->src[2], *front = d->src[3];
    int pt = d->ip[0], ph = d->ip[1], pw = d->ip[2], st = d->ip[3], sh = d->ip[4], sw = d->ip[5];
    int64_t B = x->ne[0], Ci = x->ne[1], T = x->ne[2], HW = x->ne[3] * x->ne[4];
    int64_t Co = w->ne[0], K = Ci * w->ne[2] * w->ne[3] * w->ne[4];
    int64_t To = d->ne[2], P = d->ne[3] * d->ne[4];
    bool f32out = d->dtype == PF_F32;
    bool direct = K == Ci && pt == 0 && ph == 0 && pw == 0 && st == 1 && sh == 1 && sw == 1;
    /* the portable GEMM packs the columns itself from x; BLAS and the few-row path need them written */
    bool implicit = !direct && !pf_cpu_gemm_uses_blas(c) && Co > PF_CPU_GEMM_SMALL_M;
    int64_t budget = c->conv_col_floats > 0 ? c->conv_col_floats : PF_CONV_COL_FLOATS;
    int64_t np = direct || implicit ? P : PF_MAX(1, PF_MIN(P, budget / PF_MAX(K, 1)));
    if (!f32out) np = PF_MAX(1, PF_MIN(np, budget / PF_MAX(Co, 1)));
    float *col = NULL, *tile = NULL, *bf = NULL;
    if (!direct && !implicit) {
        col = pf_cpu_slot(c, PF_CPU_SLOT_OP, (size_t)(K * np) * sizeof(float));
        if (!col) return PF_ERR_OOM;
    }
    tile = pf_cpu_slot(c, PF_CPU_SLOT_OP2, (size_t)((f32out ? 0 : Co * np) + Co) * sizeof(float));
    if (!tile) return PF_ERR_OOM;
    bf = tile + (f32out ? 0 : Co * np);
    if (bias) pf_cpu_to_f32(bf, pf_cpu_data(bias), bias->dtype, Co);
    pf_cpu_mat Wm = pf_cpu_mat_make(pf_cpu_data(w), w->dtype, K, 1);
    size_t xes = pf_dtype_size(x->dtype), des = pf_dtype_size(d->dtype);
    for (int64_t b = 0; b < B; b++)
        for (int64_t to = 0; to < To; to++)
            for (int64_t p0 = 0; p0 < P; p0 += np) {
                int64_t n = PF_MIN(np, P - p0);
                pf_conv_job jb = {d, x, front, b, to, p0, n, col};
                pf_cpu_mat Cm;
                if (direct) {
                    /* B(ci, p) = x[b, ci, to, p] */
                    Cm = pf_cpu_mat_make((const char *)pf_cpu_data(x) + (size_t)(((b * Ci) * T + to) * HW + p0) * xes,
                                         x->dtype, T * HW, 1);
                } else if (implicit) {
                    Cm = pf_cpu_mat_make(NULL, PF_F32, 0, 0);
                    Cm.pack = pf_conv_pack;
                    Cm.pack_ctx = &jb;
                } else {
                    pf_parallel_for(c->pool, K, PF_MAX(1, 8192 / PF_MAX(n, 1)), pf_conv_im2col_task, &jb);
                    Cm = pf_cpu_mat_make(col, PF_F32, n, 1);
                }
                /* y[b, co, to, p0 + j]: rows To * P apart (or the f32 tile when dst is bf16) */
                float *y = f32out ? (float *)pf_cpu_data(d) + ((b * Co) * To + to) * P + p0 : tile;
                int64_t ldy = f32out ? To * P : n;
                if (bias) {
                    pf_conv_bias_job bj = {y, ldy, n, Co, bf};
                    pf_parallel_for(c->pool, Co, PF_MAX(1, 4096 / PF_MAX(n, 1)), pf_conv_bias_task, &bj);
                }
                PF_TRY(pf_cpu_gemm(c, Co, n, K, 1.0f, &Wm, &Cm, bias ? 1.0f : 0.0f, y, ldy));
                if (!f32out)
                    for (int64_t co = 0; co < Co; co++)
                        pf_cpu_from_f32((char *)pf_cpu_data(d) + (size_t)(((b * Co + co) * To + to) * P + p0) * des,
                                        d->dtype, tile + co * n, n);
            }
    return PF_OK;
}
