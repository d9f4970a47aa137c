/*
 * Fast kernels: depth-to-space (space: [B, 4C, T, H, W] -> [B, C, T, 2H, 2W];
 * time: [B, 2C, T, H, W] -> [B, C, 2T(-1), H, W]), nearest 2x upsample and
 * bilinear 1/2 downsample over the last two dims. Threaded over output rows
 * (planes for the time mode).
 */
#include "cpu_gemm.h"

typedef struct {
    pf_tensor *d;
    size_t es;
} pf_rs_job;

/* Interleave two source rows into one output row: o[2i] = a[i], o[2i + 1] = b[i]. */
static void pf_interleave2(char *o, const char *a, const char *b, int64_t n, size_t es) {
    if (es == 4) {
        uint32_t *o4 = (uint32_t *)o;
        const uint32_t *a4 = (const uint32_t *)a, *b4 = (const uint32_t *)b;
        for (int64_t i = 0; i < n; i++) {
            o4[2 * i] = a4[i];
            o4[2 * i + 1] = b4[i];
        }
    } else if (es == 2) {
        uint16_t *o2 = (uint16_t *)o;
        const uint16_t *a2 = (const uint16_t *)a, *b2 = (const uint16_t *)b;
        for (int64_t i = 0; i < n; i++) {
            o2[2 * i] = a2[i];
            o2[2 * i + 1] = b2[i];
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            memcpy(o + 2 * i * es, a + i * es, es);
            memcpy(o + (2 * i + 1) * es, b + i * es, es);
        }
    }
}

/* space mode: one task = one output row (b, c, t, h) */
static void pf_d2s_space_task(void *ctx, int64_t r0, int64_t r1, int thread) {
    (void)thread;
    const pf_rs_job *jb = ctx;
    const pf_tensor *x = jb->d->src[0];
    const char *xp = pf_cpu_data(x);
    char *dp = pf_cpu_data(jb->d);
    int64_t C = jb->d->ne[1], T = jb->d->ne[2], Ho = jb->d->ne[3], Wo = jb->d->ne[4];
    int64_t Hi = x->ne[3], Wi = x->ne[4];
    for (int64_t r = r0; r < r1; r++) {
        int64_t h = r % Ho, t = (r / Ho) % T, ch = (r / (Ho * T)) % C, b = r / (Ho * T * C);
        int64_t ic = ch * 4 + (h % 2) * 2; /* + p2, the column parity */
        int64_t s0 = (((b * x->ne[1] + ic) * T + t) * Hi + h / 2) * Wi;
        int64_t s1 = s0 + T * Hi * Wi; /* channel ic + 1 */
        pf_interleave2(dp + (size_t)(r * Wo) * jb->es, xp + (size_t)s0 * jb->es, xp + (size_t)s1 * jb->es, Wi, jb->es);
    }
}

/* time mode: one task = one output plane (b, c, t); frame t (+1 when the first is dropped)
 * is frame tt / 2 of channel c * 2 + tt % 2 */
static void pf_d2s_time_task(void *ctx, int64_t p0, int64_t p1, int thread) {
    (void)thread;
    const pf_rs_job *jb = ctx;
    const pf_tensor *x = jb->d->src[0];
    const char *xp = pf_cpu_data(x);
    char *dp = pf_cpu_data(jb->d);
    int64_t C = jb->d->ne[1], To = jb->d->ne[2], HW = jb->d->ne[3] * jb->d->ne[4], Ti = x->ne[2];
    for (int64_t p = p0; p < p1; p++) {
        int64_t t = p % To, ch = (p / To) % C, b = p / (To * C);
        int64_t tt = t + jb->d->ip[1];
        int64_t so = ((b * x->ne[1] + ch * 2 + tt % 2) * Ti + tt / 2) * HW;
        memcpy(dp + (size_t)(p * HW) * jb->es, xp + (size_t)so * jb->es, (size_t)HW * jb->es);
    }
}

pf_status pf_cpu_fast_depth_to_space(pf_cpu_ctx *c, pf_tensor *d) {
    pf_rs_job jb = {d, pf_dtype_size(d->dtype)};
    if (d->ip[0] == PF_D2S_SPACE) {
        int64_t rows = d->ne[0] * d->ne[1] * d->ne[2] * d->ne[3];
        pf_parallel_for(c->pool, rows, PF_MAX(1, 16384 / PF_MAX(d->ne[4], 1)), pf_d2s_space_task, &jb);
    } else {
        int64_t planes = d->ne[0] * d->ne[1] * d->ne[2];
        pf_parallel_for(c->pool, planes, PF_MAX(1, 16384 / PF_MAX(d->ne[3] * d->ne[4], 1)), pf_d2s_time_task, &jb);
    }
    return PF_OK;
}

/* nearest: output row r (plane p, row h) = input row (p, h / 2) with every element twice */
static void pf_up2_task(void *ctx, int64_t r0, int64_t r1, int thread) {
    (void)thread;
    const pf_rs_job *jb = ctx;
    const char *xp = pf_cpu_data(jb->d->src[0]);
    char *dp = pf_cpu_data(jb->d);
    int nd = jb->d->ndim;
    int64_t Ho = jb->d->ne[nd - 2], Wo = jb->d->ne[nd - 1], Wi = Wo / 2;
    for (int64_t r = r0; r < r1; r++) {
        int64_t p = r / Ho, h = r % Ho;
        const char *src = xp + (size_t)((p * (Ho / 2) + h / 2) * Wi) * jb->es;
        pf_interleave2(dp + (size_t)(r * Wo) * jb->es, src, src, Wi, jb->es);
    }
}

pf_status pf_cpu_fast_upsample2x(pf_cpu_ctx *c, pf_tensor *d) {
    pf_rs_job jb = {d, pf_dtype_size(d->dtype)};
    int64_t Wo = d->ne[d->ndim - 1], rows = Wo ? pf_nelem(d) / Wo : 0;
    pf_parallel_for(c->pool, rows, PF_MAX(1, 16384 / PF_MAX(Wo, 1)), pf_up2_task, &jb);
    return PF_OK;
}

/* Bilinear 1/2 with align_corners=False: the 2x2 mean, in the reference's rounding order
 * 0.5 (0.5 a + 0.5 b) + 0.5 (0.5 c + 0.5 d), times fp[0]. One task = one output row. */
static void pf_down2_task(void *ctx, int64_t r0, int64_t r1, int thread) {
    (void)thread;
    const pf_rs_job *jb = ctx;
    const pf_tensor *x = jb->d->src[0];
    int nd = jb->d->ndim;
    int64_t Wo = jb->d->ne[nd - 1], Wi = 2 * Wo;
    float mul = jb->d->fp[0];
    float top[512], bot[512], out[256];
    for (int64_t r = r0; r < r1; r++) { /* input rows 2r, 2r + 1 (planes stack rows) */
        for (int64_t w0 = 0; w0 < Wo; w0 += 256) {
            int64_t n = PF_MIN((int64_t)256, Wo - w0);
            const char *xp = pf_cpu_data(x);
            size_t xes = pf_dtype_size(x->dtype);
            pf_cpu_to_f32(top, xp + (size_t)(2 * r * Wi + 2 * w0) * xes, x->dtype, 2 * n);
            pf_cpu_to_f32(bot, xp + (size_t)((2 * r + 1) * Wi + 2 * w0) * xes, x->dtype, 2 * n);
            for (int64_t i = 0; i < n; i++) {
                float t = 0.5f * top[2 * i] + 0.5f * top[2 * i + 1];
                float b = 0.5f * bot[2 * i] + 0.5f * bot[2 * i + 1];
                float v = 0.5f * t + 0.5f * b;
                out[i] = v * mul;
            }
            pf_cpu_from_f32((char *)pf_cpu_data(jb->d) + (size_t)(r * Wo + w0) * jb->es, jb->d->dtype, out, n);
        }
    }
}

pf_status pf_cpu_fast_downsample2x(pf_cpu_ctx *c, pf_tensor *d) {
    pf_dtype xt = d->src[0]->dtype;
    if ((xt != PF_F32 && xt != PF_BF16 && xt != PF_F16) || xt != d->dtype) return pf_cpu_ref_downsample2x(c, d);
    pf_rs_job jb = {d, pf_dtype_size(d->dtype)};
    int64_t Wo = d->ne[d->ndim - 1], rows = Wo ? pf_nelem(d) / Wo : 0;
    pf_parallel_for(c->pool, rows, PF_MAX(1, 16384 / PF_MAX(Wo, 1)), pf_down2_task, &jb);
    return PF_OK;
}
