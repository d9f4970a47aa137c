/* Reference kernels: linear and batched matmul (double accumulation). */
#include "cpu_ops.h"

pf_status pf_cpu_ref_linear(pf_cpu_ctx *c, pf_tensor *d) {
    (void)c;
    const pf_tensor *x = d->src[0], *w = d->src[1], *b = d->src[2];
    const void *xp = pf_cpu_data(x), *wp = pf_cpu_data(w), *bp = b ? pf_cpu_data(b) : NULL;
    void *dp = pf_cpu_data(d);
    int64_t N = w->ne[0], K = w->ne[1], rows = pf_nelem(x) / K;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t n = 0; n < N; n++) {
            double acc = 0.0;
            for (int64_t k = 0; k < K; k++)
                acc += (double)pf_cpu_ldf(xp, x->dtype, r * K + k) * (double)pf_cpu_ldf(wp, w->dtype, n * K + k);
            float v = (float)acc;
            if (bp) v += pf_cpu_ldf(bp, b->dtype, n);
            pf_cpu_stf(dp, d->dtype, r * N + n, v);
        }
    return PF_OK;
}

pf_status pf_cpu_ref_matmul(pf_cpu_ctx *c, pf_tensor *d) {
    (void)c;
    const pf_tensor *a = d->src[0], *b = d->src[1];
    const void *ap = pf_cpu_data(a), *bp = pf_cpu_data(b);
    void *dp = pf_cpu_data(d);
    bool tb = d->ip[0] != 0;
    int64_t Bt = a->ndim == 3 ? a->ne[0] : 1, M = a->ne[a->ndim - 2], K = a->ne[a->ndim - 1];
    int64_t N = d->ne[d->ndim - 1];
    int64_t Bb = b->ndim == 3 ? b->ne[0] : 1;
    for (int64_t bi = 0; bi < Bt; bi++) {
        int64_t ao = bi * M * K, bo = (Bb == 1 ? 0 : bi) * N * K, doff = bi * M * N;
        for (int64_t m = 0; m < M; m++)
            for (int64_t n = 0; n < N; n++) {
                double acc = 0.0;
                for (int64_t k = 0; k < K; k++) {
                    double bv = pf_cpu_ldf(bp, b->dtype, bo + (tb ? n * K + k : k * N + n));
                    acc += (double)pf_cpu_ldf(ap, a->dtype, ao + m * K + k) * bv;
                }
                pf_cpu_stf(dp, d->dtype, doff + m * N + n, (float)acc * d->fp[0]);
            }
    }
    return PF_OK;
}
