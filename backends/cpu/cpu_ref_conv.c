/* Reference kernels: causal conv3d, depth-to-space, nearest 2x up, bilinear 1/2 down. */
#include "cpu_ops.h"

pf_status pf_cpu_ref_conv3d(pf_cpu_ctx *c, pf_tensor *d) {
    (void)c;
    const pf_tensor *x = d->src[0], *w = d->src[1], *bias = d->src[2], *front = d->src[3];
    const void *xp = pf_cpu_data(x), *wp = pf_cpu_data(w), *bp = bias ? pf_cpu_data(bias) : NULL;
    const void *fp = front ? pf_cpu_data(front) : NULL;
    void *dp = pf_cpu_data(d);
    int pt = d->ip[0], ph = d->ip[1], pw = d->ip[2], st = d->ip[3], sh = d->ip[4], sw = d->ip[5];
    int64_t B = x->ne[0], Ci = x->ne[1], T = x->ne[2], H = x->ne[3], W = x->ne[4];
    int64_t Co = w->ne[0], kt = w->ne[2], kh = w->ne[3], kw = w->ne[4];
    int64_t To = d->ne[2], Ho = d->ne[3], Wo = d->ne[4];
    for (int64_t b = 0; b < B; b++)
        for (int64_t co = 0; co < Co; co++)
            for (int64_t to = 0; to < To; to++)
                for (int64_t ho = 0; ho < Ho; ho++)
                    for (int64_t wo = 0; wo < Wo; wo++) {
                        double acc = bp ? pf_cpu_ldf(bp, bias->dtype, co) : 0.0;
                        for (int64_t ci = 0; ci < Ci; ci++)
                            for (int64_t a = 0; a < kt; a++) {
                                /* padded time index: frames [0, pt) are the front pad / cache */
                                int64_t tp = to * st + a;
                                for (int64_t e = 0; e < kh; e++) {
                                    int64_t hi = ho * sh + e - ph;
                                    if (hi < 0 || hi >= H) continue;
                                    for (int64_t f = 0; f < kw; f++) {
                                        int64_t wi = wo * sw + f - pw;
                                        if (wi < 0 || wi >= W) continue;
                                        float xv;
                                        if (tp < pt)
                                            xv = fp ? pf_cpu_ldf(fp, front->dtype, (((b * Ci + ci) * pt + tp) * H + hi) * W + wi) : 0.0f;
                                        else
                                            xv = pf_cpu_ldf(xp, x->dtype, (((b * Ci + ci) * T + tp - pt) * H + hi) * W + wi);
                                        float wv = pf_cpu_ldf(wp, w->dtype, (((co * Ci + ci) * kt + a) * kh + e) * kw + f);
                                        acc += (double)xv * (double)wv;
                                    }
                                }
                            }
                        pf_cpu_stf(dp, d->dtype, (((b * Co + co) * To + to) * Ho + ho) * Wo + wo, (float)acc);
                    }
    return PF_OK;
}

pf_status pf_cpu_ref_depth_to_space(pf_cpu_ctx *c, pf_tensor *d) {
    (void)c;
    const pf_tensor *x = d->src[0];
    const char *xp = pf_cpu_data(x);
    char *dp = pf_cpu_data(d);
    size_t es = pf_dtype_size(d->dtype);
    int64_t B = d->ne[0], C = d->ne[1], To = d->ne[2], Ho = d->ne[3], Wo = d->ne[4];
    int64_t Ti = x->ne[2], Hi = x->ne[3], Wi = x->ne[4];
    bool space = d->ip[0] == PF_D2S_SPACE;
    int drop = d->ip[1];
    for (int64_t b = 0; b < B; b++)
        for (int64_t ch = 0; ch < C; ch++)
            for (int64_t t = 0; t < To; t++)
                for (int64_t h = 0; h < Ho; h++)
                    for (int64_t w = 0; w < Wo; w++) {
                        int64_t ic, it, ih, iw;
                        if (space) {
                            ic = ch * 4 + (h % 2) * 2 + (w % 2);
                            it = t;
                            ih = h / 2;
                            iw = w / 2;
                        } else {
                            int64_t tt = t + drop; /* frame index before dropping */
                            ic = ch * 2 + tt % 2;
                            it = tt / 2;
                            ih = h;
                            iw = w;
                        }
                        int64_t so = (((b * (x->ne[1]) + ic) * Ti + it) * Hi + ih) * Wi + iw;
                        int64_t o = (((b * C + ch) * To + t) * Ho + h) * Wo + w;
                        memcpy(dp + o * (int64_t)es, xp + so * (int64_t)es, es);
                    }
    return PF_OK;
}

pf_status pf_cpu_ref_upsample2x(pf_cpu_ctx *c, pf_tensor *d) {
    (void)c;
    const pf_tensor *x = d->src[0];
    const char *xp = pf_cpu_data(x);
    char *dp = pf_cpu_data(d);
    size_t es = pf_dtype_size(d->dtype);
    int64_t Ho = d->ne[d->ndim - 2], Wo = d->ne[d->ndim - 1], planes = pf_nelem(d) / (Ho * Wo);
    int64_t Hi = Ho / 2, Wi = Wo / 2;
    for (int64_t p = 0; p < planes; p++)
        for (int64_t h = 0; h < Ho; h++)
            for (int64_t w = 0; w < Wo; w++)
                memcpy(dp + ((p * Ho + h) * Wo + w) * (int64_t)es, xp + ((p * Hi + h / 2) * Wi + w / 2) * (int64_t)es, es);
    return PF_OK;
}

/* Bilinear x1/2 with align_corners=False samples at 2i+0.5: weights (0.5, 0.5) in each
 * axis, evaluated in PyTorch's order h0*(w0*a + w1*b) + h1*(w0*c + w1*d). */
pf_status pf_cpu_ref_downsample2x(pf_cpu_ctx *c, pf_tensor *d) {
    (void)c;
    const pf_tensor *x = d->src[0];
    const void *xp = pf_cpu_data(x);
    void *dp = pf_cpu_data(d);
    int64_t Ho = d->ne[d->ndim - 2], Wo = d->ne[d->ndim - 1], planes = pf_nelem(d) / (Ho * Wo);
    int64_t Wi = Wo * 2;
    for (int64_t p = 0; p < planes; p++)
        for (int64_t h = 0; h < Ho; h++)
            for (int64_t w = 0; w < Wo; w++) {
                int64_t o = (p * Ho * 2 + 2 * h) * Wi + 2 * w;
                float a = pf_cpu_ldf(xp, x->dtype, o), b = pf_cpu_ldf(xp, x->dtype, o + 1);
                float cc = pf_cpu_ldf(xp, x->dtype, o + Wi), dd = pf_cpu_ldf(xp, x->dtype, o + Wi + 1);
                float top = 0.5f * a + 0.5f * b, bot = 0.5f * cc + 0.5f * dd;
                float v = 0.5f * top + 0.5f * bot;
                pf_cpu_stf(dp, d->dtype, (p * Ho + h) * Wo + w, v * d->fp[0]);
            }
    return PF_OK;
}
