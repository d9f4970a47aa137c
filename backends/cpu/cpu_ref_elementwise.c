/* Reference kernels: copies, concatenation, element-wise and broadcasting ops, embedding. */
#include "cpu_ops.h"

pf_status pf_cpu_ref_cpy(pf_cpu_ctx *c, pf_tensor *d) {
    (void)c;
    const pf_tensor *s = d->src[0];
    const void *sp = pf_cpu_data(s);
    void *dp = pf_cpu_data(d);
    int64_t idx[PF_MAX_DIMS] = {0}, n = pf_nelem(d);
    for (int64_t i = 0; i < n; i++) {
        int64_t o = pf_cpu_offset(s, idx);
        if (pf_dtype_is_float(s->dtype) || pf_dtype_is_float(d->dtype))
            pf_cpu_stf(dp, d->dtype, i, pf_cpu_ldf(sp, s->dtype, o));
        else
            pf_store_elem(dp, d->dtype, (size_t)i, pf_load_elem(sp, s->dtype, (size_t)o));
        pf_cpu_next_index(idx, d->ne, d->ndim);
    }
    return PF_OK;
}

pf_status pf_cpu_ref_concat(pf_cpu_ctx *c, pf_tensor *d) {
    (void)c;
    int dim = d->ip[0], n = d->ip[1];
    void *dp = pf_cpu_data(d);
    int64_t base = 0;
    for (int k = 0; k < n; k++) {
        const pf_tensor *s = d->src[k];
        const void *sp = pf_cpu_data(s);
        int64_t idx[PF_MAX_DIMS] = {0}, cnt = pf_nelem(s);
        for (int64_t i = 0; i < cnt; i++) {
            int64_t di[PF_MAX_DIMS];
            memcpy(di, idx, sizeof di);
            di[dim] += base;
            int64_t o = 0;
            for (int j = 0; j < d->ndim; j++) o += di[j] * d->st[j];
            memcpy((char *)dp + o * (int64_t)pf_dtype_size(d->dtype),
                   (const char *)sp + pf_cpu_offset(s, idx) * (int64_t)pf_dtype_size(s->dtype), pf_dtype_size(d->dtype));
            pf_cpu_next_index(idx, s->ne, s->ndim);
        }
        base += s->ne[dim];
    }
    return PF_OK;
}

pf_status pf_cpu_ref_binary(pf_cpu_ctx *c, pf_tensor *d) {
    (void)c;
    const pf_tensor *a = d->src[0], *b = d->src[1];
    const void *ap = pf_cpu_data(a), *bp = pf_cpu_data(b);
    void *dp = pf_cpu_data(d);
    int64_t idx[PF_MAX_DIMS] = {0}, n = pf_nelem(d);
    for (int64_t i = 0; i < n; i++) {
        float x = pf_cpu_ldf(ap, a->dtype, pf_cpu_offset(a, idx));
        float y = pf_cpu_ldf(bp, b->dtype, pf_cpu_offset(b, idx));
        float r = d->op == PF_OP_ADD ? x + y : d->op == PF_OP_SUB ? x - y : x * y;
        pf_cpu_stf(dp, d->dtype, i, r);
        pf_cpu_next_index(idx, d->ne, d->ndim);
    }
    return PF_OK;
}

pf_status pf_cpu_ref_scale(pf_cpu_ctx *c, pf_tensor *d) {
    (void)c;
    const pf_tensor *s = d->src[0];
    const void *sp = pf_cpu_data(s);
    void *dp = pf_cpu_data(d);
    int64_t n = pf_nelem(d);
    for (int64_t i = 0; i < n; i++) pf_cpu_stf(dp, d->dtype, i, pf_cpu_ldf(sp, s->dtype, i) * d->fp[0] + d->fp[1]);
    return PF_OK;
}

pf_status pf_cpu_ref_unary(pf_cpu_ctx *c, pf_tensor *d) {
    (void)c;
    const pf_tensor *s = d->src[0];
    const void *sp = pf_cpu_data(s);
    void *dp = pf_cpu_data(d);
    int64_t n = pf_nelem(d);
    for (int64_t i = 0; i < n; i++) pf_cpu_stf(dp, d->dtype, i, pf_cpu_unary_f(d->ip[0], pf_cpu_ldf(sp, s->dtype, i)));
    return PF_OK;
}

/* x * (1 + scale) + shift, rounded per operation as PyTorch does in f32. */
pf_status pf_cpu_ref_modulate(pf_cpu_ctx *c, pf_tensor *d) {
    (void)c;
    const pf_tensor *x = d->src[0], *sh = d->src[1], *sc = d->src[2];
    const void *xp = pf_cpu_data(x), *shp = pf_cpu_data(sh), *scp = pf_cpu_data(sc);
    void *dp = pf_cpu_data(d);
    int64_t idx[PF_MAX_DIMS] = {0}, n = pf_nelem(d);
    for (int64_t i = 0; i < n; i++) {
        float xv = pf_cpu_ldf(xp, x->dtype, pf_cpu_offset(x, idx));
        float s = 1.0f + pf_cpu_ldf(scp, sc->dtype, pf_cpu_offset(sc, idx));
        float t = xv * s;
        pf_cpu_stf(dp, d->dtype, i, t + pf_cpu_ldf(shp, sh->dtype, pf_cpu_offset(sh, idx)));
        pf_cpu_next_index(idx, d->ne, d->ndim);
    }
    return PF_OK;
}

/* x + gate * y */
pf_status pf_cpu_ref_gated_add(pf_cpu_ctx *c, pf_tensor *d) {
    (void)c;
    const pf_tensor *x = d->src[0], *gt = d->src[1], *y = d->src[2];
    const void *xp = pf_cpu_data(x), *gp = pf_cpu_data(gt), *yp = pf_cpu_data(y);
    void *dp = pf_cpu_data(d);
    int64_t idx[PF_MAX_DIMS] = {0}, n = pf_nelem(d);
    for (int64_t i = 0; i < n; i++) {
        float gy = pf_cpu_ldf(gp, gt->dtype, pf_cpu_offset(gt, idx)) * pf_cpu_ldf(yp, y->dtype, pf_cpu_offset(y, idx));
        pf_cpu_stf(dp, d->dtype, i, pf_cpu_ldf(xp, x->dtype, pf_cpu_offset(x, idx)) + gy);
        pf_cpu_next_index(idx, d->ne, d->ndim);
    }
    return PF_OK;
}

pf_status pf_cpu_ref_embedding(pf_cpu_ctx *c, pf_tensor *d) {
    (void)c;
    const pf_tensor *tab = d->src[0], *ids = d->src[1];
    const void *tp = pf_cpu_data(tab), *ip = pf_cpu_data(ids);
    void *dp = pf_cpu_data(d);
    int64_t V = tab->ne[0], D = tab->ne[1], n = pf_nelem(ids);
    size_t es = pf_dtype_size(d->dtype);
    for (int64_t i = 0; i < n; i++) {
        int64_t id = ids->dtype == PF_I32 ? ((const int32_t *)ip)[i] : ((const int64_t *)ip)[i];
        if (id < 0 || id >= V) return pf_error(PF_ERR_INVALID_ARG, "embedding: id %lld outside [0, %lld)", (long long)id, (long long)V);
        memcpy((char *)dp + (size_t)(i * D) * es, (const char *)tp + (size_t)(id * D) * es, (size_t)D * es);
    }
    return PF_OK;
}
