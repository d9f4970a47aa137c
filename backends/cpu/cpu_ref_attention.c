/* Reference kernels: masked attention (scores materialised per query row) and RoPE. */
#include "cpu_ops.h"

pf_status pf_cpu_ref_attention(pf_cpu_ctx *c, pf_tensor *d) {
    const pf_tensor *q = d->src[0], *k = d->src[1], *v = d->src[2];
    const pf_tensor *qmt = d->src[3], *kmt = d->src[4], *bias = d->src[5];
    const void *qp = pf_cpu_data(q), *kp = pf_cpu_data(k), *vp = pf_cpu_data(v);
    const int32_t *qm = qmt ? pf_cpu_data(qmt) : NULL, *km = kmt ? pf_cpu_data(kmt) : NULL;
    const float *bp = bias ? pf_cpu_data(bias) : NULL;
    void *dp = pf_cpu_data(d);
    int64_t B = q->ne[0], Nq = q->ne[1], H = q->ne[2], D = q->ne[3], Nk = k->ne[1], Dv = v->ne[3];
    int mode = d->ip[0];
    float scale = d->fp[0];
    double *s = pf_cpu_scratch(c, (size_t)(Nk + Dv) * sizeof(double));
    if (!s) return PF_ERR_OOM;
    double *acc = s + Nk;
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < H; h++)
            for (int64_t i = 0; i < Nq; i++) {
                const int32_t *qmb = qm ? qm + b * Nq : NULL, *kmb = km ? km + b * Nk : NULL;
                double mx = -INFINITY;
                for (int64_t j = 0; j < Nk; j++) {
                    if (!pf_cpu_mask_allows(mode, i, j, qmb, kmb)) {
                        s[j] = -INFINITY;
                        continue;
                    }
                    double dot = 0.0;
                    for (int64_t e = 0; e < D; e++)
                        dot += (double)pf_cpu_ldf(qp, q->dtype, ((b * Nq + i) * H + h) * D + e) *
                               (double)pf_cpu_ldf(kp, k->dtype, ((b * Nk + j) * H + h) * D + e);
                    s[j] = dot * scale + (bp ? bp[(h * Nq + i) * Nk + j] : 0.0);
                    mx = fmax(mx, s[j]);
                }
                for (int64_t e = 0; e < Dv; e++) acc[e] = 0.0;
                double sum = 0.0;
                if (mx > -INFINITY) {
                    for (int64_t j = 0; j < Nk; j++) {
                        if (s[j] == -INFINITY) continue;
                        double p = exp(s[j] - mx);
                        sum += p;
                        for (int64_t e = 0; e < Dv; e++)
                            acc[e] += p * (double)pf_cpu_ldf(vp, v->dtype, ((b * Nk + j) * H + h) * Dv + e);
                    }
                }
                for (int64_t e = 0; e < Dv; e++)
                    pf_cpu_stf(dp, d->dtype, ((b * Nq + i) * H + h) * Dv + e, sum > 0.0 ? (float)(acc[e] / sum) : 0.0f);
            }
    return PF_OK;
}

pf_status pf_cpu_ref_rope(pf_cpu_ctx *c, pf_tensor *d) {
    (void)c;
    const pf_tensor *x = d->src[0], *tab = d->src[1];
    const void *xp = pf_cpu_data(x);
    const float *tp = pf_cpu_data(tab);
    void *dp = pf_cpu_data(d);
    int64_t B = x->ne[0], N = x->ne[1], H = x->ne[2], P = x->ne[3] / 2;
    for (int64_t b = 0; b < B; b++)
        for (int64_t n = 0; n < N; n++)
            for (int64_t h = 0; h < H; h++)
                for (int64_t j = 0; j < P; j++) {
                    int64_t o = ((b * N + n) * H + h) * 2 * P + 2 * j;
                    float x0 = pf_cpu_ldf(xp, x->dtype, o), x1 = pf_cpu_ldf(xp, x->dtype, o + 1);
                    float cs = tp[(n * P + j) * 2], sn = tp[(n * P + j) * 2 + 1];
                    pf_cpu_stf(dp, d->dtype, o, x0 * cs - x1 * sn);
                    pf_cpu_stf(dp, d->dtype, o + 1, x0 * sn + x1 * cs);
                }
    return PF_OK;
}
