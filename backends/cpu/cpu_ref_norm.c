/* Reference kernels: layer norm, RMS norm, group norm, softmax. */
#include "cpu_ops.h"

pf_status pf_cpu_ref_layer_norm(pf_cpu_ctx *c, pf_tensor *d) {
    (void)c;
    const pf_tensor *x = d->src[0], *w = d->src[1], *b = d->src[2];
    const void *xp = pf_cpu_data(x), *wp = w ? pf_cpu_data(w) : NULL, *bp = b ? pf_cpu_data(b) : NULL;
    void *dp = pf_cpu_data(d);
    int64_t D = x->ne[x->ndim - 1], rows = pf_nelem(x) / D;
    for (int64_t r = 0; r < rows; r++) {
        double mean = 0.0, var = 0.0;
        for (int64_t i = 0; i < D; i++) mean += pf_cpu_ldf(xp, x->dtype, r * D + i);
        mean /= (double)D;
        for (int64_t i = 0; i < D; i++) {
            double t = pf_cpu_ldf(xp, x->dtype, r * D + i) - mean;
            var += t * t;
        }
        var /= (double)D;
        double inv = 1.0 / sqrt(var + d->fp[0]);
        for (int64_t i = 0; i < D; i++) {
            float v = (float)((pf_cpu_ldf(xp, x->dtype, r * D + i) - mean) * inv);
            if (wp) v *= pf_cpu_ldf(wp, w->dtype, i);
            if (bp) v += pf_cpu_ldf(bp, b->dtype, i);
            pf_cpu_stf(dp, d->dtype, r * D + i, v);
        }
    }
    return PF_OK;
}

pf_status pf_cpu_ref_rms_norm(pf_cpu_ctx *c, pf_tensor *d) {
    (void)c;
    const pf_tensor *x = d->src[0], *w = d->src[1];
    const void *xp = pf_cpu_data(x), *wp = w ? pf_cpu_data(w) : NULL;
    void *dp = pf_cpu_data(d);
    int64_t D = x->ne[x->ndim - 1], rows = pf_nelem(x) / D;
    for (int64_t r = 0; r < rows; r++) {
        double ss = 0.0;
        for (int64_t i = 0; i < D; i++) {
            double v = pf_cpu_ldf(xp, x->dtype, r * D + i);
            ss += v * v;
        }
        float inv = (float)(1.0 / sqrt(ss / (double)D + d->fp[0]));
        for (int64_t i = 0; i < D; i++) {
            float v = pf_cpu_ldf(xp, x->dtype, r * D + i) * inv;
            if (wp) v *= pf_cpu_ldf(wp, w->dtype, i);
            pf_cpu_stf(dp, d->dtype, r * D + i, v);
        }
    }
    return PF_OK;
}

/* x [B, C, T, H, W]: statistics per (b, group, t) over (C/G, H, W). */
pf_status pf_cpu_ref_group_norm(pf_cpu_ctx *c, pf_tensor *d) {
    (void)c;
    const pf_tensor *x = d->src[0], *w = d->src[1], *b = d->src[2];
    const void *xp = pf_cpu_data(x), *wp = w ? pf_cpu_data(w) : NULL, *bp = b ? pf_cpu_data(b) : NULL;
    void *dp = pf_cpu_data(d);
    int64_t B = x->ne[0], C = x->ne[1], T = x->ne[2], HW = x->ne[3] * x->ne[4];
    int G = d->ip[0];
    int64_t cg = C / G;
    bool silu = d->ip[1] != 0;
    for (int64_t bi = 0; bi < B; bi++)
        for (int gi = 0; gi < G; gi++)
            for (int64_t t = 0; t < T; t++) {
                double mean = 0.0, var = 0.0;
                for (int64_t ch = gi * cg; ch < (gi + 1) * cg; ch++) {
                    int64_t o = ((bi * C + ch) * T + t) * HW;
                    for (int64_t i = 0; i < HW; i++) mean += pf_cpu_ldf(xp, x->dtype, o + i);
                }
                mean /= (double)(cg * HW);
                for (int64_t ch = gi * cg; ch < (gi + 1) * cg; ch++) {
                    int64_t o = ((bi * C + ch) * T + t) * HW;
                    for (int64_t i = 0; i < HW; i++) {
                        double u = pf_cpu_ldf(xp, x->dtype, o + i) - mean;
                        var += u * u;
                    }
                }
                var /= (double)(cg * HW);
                double inv = 1.0 / sqrt(var + d->fp[0]);
                for (int64_t ch = gi * cg; ch < (gi + 1) * cg; ch++) {
                    int64_t o = ((bi * C + ch) * T + t) * HW;
                    float wv = wp ? pf_cpu_ldf(wp, w->dtype, ch) : 1.0f, bv = bp ? pf_cpu_ldf(bp, b->dtype, ch) : 0.0f;
                    for (int64_t i = 0; i < HW; i++) {
                        float v = (float)((pf_cpu_ldf(xp, x->dtype, o + i) - mean) * inv) * wv + bv;
                        if (silu) v = pf_cpu_silu(v);
                        pf_cpu_stf(dp, d->dtype, o + i, v);
                    }
                }
            }
    return PF_OK;
}

pf_status pf_cpu_ref_softmax(pf_cpu_ctx *c, pf_tensor *d) {
    (void)c;
    const pf_tensor *x = d->src[0];
    const void *xp = pf_cpu_data(x);
    void *dp = pf_cpu_data(d);
    int64_t D = x->ne[x->ndim - 1], rows = pf_nelem(x) / D;
    float s = d->fp[0];
    for (int64_t r = 0; r < rows; r++) {
        double mx = -INFINITY, sum = 0.0;
        for (int64_t i = 0; i < D; i++) mx = fmax(mx, (double)(s * pf_cpu_ldf(xp, x->dtype, r * D + i)));
        for (int64_t i = 0; i < D; i++) sum += exp((double)(s * pf_cpu_ldf(xp, x->dtype, r * D + i)) - mx);
        /* read all inputs of the row before writing (in-place safe) */
        for (int64_t i = 0; i < D; i++)
            pf_cpu_stf(dp, d->dtype, r * D + i, (float)(exp((double)(s * pf_cpu_ldf(xp, x->dtype, r * D + i)) - mx) / sum));
    }
    return PF_OK;
}
