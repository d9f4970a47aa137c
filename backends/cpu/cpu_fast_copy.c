/*
 * Fast kernels: copies (cpy within a dtype, e.g. the contiguous copy after a
 * permute; casts between float dtypes go to the element-wise engine),
 * concatenation and embedding lookup. Threaded over runs of the merged layout
 * (cpu_iter.h); a run with unit strides on both sides is one memcpy.
 */
#include "cpu_iter.h"

typedef struct {
    pf_cpu_iter it; /* 0 = dst, 1 = src */
    char *dst;
    const char *src;
    size_t es;
} pf_copy_job;

static void pf_copy_task(void *ctx, int64_t r0, int64_t r1, int thread) {
    (void)thread;
    const pf_copy_job *jb = ctx;
    const pf_cpu_iter *it = &jb->it;
    int last = it->ndim - 1;
    int64_t n = it->ne[last], sd = it->st[0][last], ss = it->st[1][last];
    size_t es = jb->es;
    for (int64_t r = r0; r < r1; r++) {
        int64_t offs[2];
        pf_cpu_iter_row(it, r, offs);
        char *d = jb->dst + (size_t)offs[0] * es;
        const char *s = jb->src + (size_t)offs[1] * es;
        if (sd == 1 && ss == 1) {
            memcpy(d, s, (size_t)n * es);
            continue;
        }
        switch (es) {
        case 2:
            for (int64_t i = 0; i < n; i++) ((uint16_t *)d)[i * sd] = ((const uint16_t *)s)[i * ss];
            break;
        case 4:
            for (int64_t i = 0; i < n; i++) ((uint32_t *)d)[i * sd] = ((const uint32_t *)s)[i * ss];
            break;
        case 8:
            for (int64_t i = 0; i < n; i++) ((uint64_t *)d)[i * sd] = ((const uint64_t *)s)[i * ss];
            break;
        default:
            for (int64_t i = 0; i < n; i++) memcpy(d + (size_t)(i * sd) * es, s + (size_t)(i * ss) * es, es);
            break;
        }
    }
}

typedef struct {
    char *dst;
    const char *src;
    size_t bytes, chunk;
} pf_memcpy_job;

static void pf_memcpy_task(void *ctx, int64_t p0, int64_t p1, int thread) {
    (void)thread;
    const pf_memcpy_job *jb = ctx;
    size_t b = (size_t)p0 * jb->chunk, e = PF_MIN((size_t)p1 * jb->chunk, jb->bytes);
    memcpy(jb->dst + b, jb->src + b, e - b);
}

/* Copy elements of one dtype between two strided layouts of shape ne. */
static void pf_copy_strided(pf_cpu_ctx *c, char *dst, const int64_t *dst_st, const char *src, const int64_t *src_st,
                            int ndim, const int64_t *ne, size_t es) {
    pf_copy_job jb = {.dst = dst, .src = src, .es = es};
    const int64_t *st[2] = {dst_st, src_st};
    pf_cpu_iter_init(&jb.it, 2, ndim, ne, st);
    int64_t inner = jb.it.ne[jb.it.ndim - 1];
    if (jb.it.ndim == 1 && jb.it.st[0][0] == 1 && jb.it.st[1][0] == 1) {
        /* one contiguous block: split it into pieces for the threads */
        pf_memcpy_job mj = {dst, src, (size_t)inner * es, (size_t)1 << 18};
        pf_parallel_for(c->pool, (int64_t)PF_CEIL_DIV(mj.bytes, mj.chunk), 1, pf_memcpy_task, &mj);
        return;
    }
    pf_parallel_for(c->pool, jb.it.rows, PF_MAX(1, 65536 / PF_MAX(inner, 1)), pf_copy_task, &jb);
}

pf_status pf_cpu_fast_cpy(pf_cpu_ctx *c, pf_tensor *d) {
    const pf_tensor *s = d->src[0];
    if (s->dtype == d->dtype) {
        pf_copy_strided(c, pf_cpu_data(d), d->st, pf_cpu_data(s), s->st, d->ndim, d->ne, pf_dtype_size(d->dtype));
        return PF_OK;
    }
    if (pf_dtype_is_float(s->dtype) && pf_dtype_is_float(d->dtype) && s->dtype != PF_F64 && d->dtype != PF_F64)
        return pf_cpu_ew_convert(c, d);
    return pf_cpu_ref_cpy(c, d); /* integer casts (ids, masks): rare and small */
}

pf_status pf_cpu_fast_concat(pf_cpu_ctx *c, pf_tensor *d) {
    int dim = d->ip[0], n = d->ip[1];
    char *dp = pf_cpu_data(d);
    size_t es = pf_dtype_size(d->dtype);
    int64_t base = 0;
    for (int k = 0; k < n; k++) {
        const pf_tensor *s = d->src[k];
        /* the slice of dst that source k fills: dst's strides, offset along dim */
        pf_copy_strided(c, dp + (size_t)(base * d->st[dim]) * es, d->st, pf_cpu_data(s), s->st, s->ndim, s->ne, es);
        base += s->ne[dim];
    }
    return PF_OK;
}

typedef struct {
    char *dst;
    const char *tab;
    const void *ids;
    bool i32;
    size_t row_bytes;
} pf_emb_job;

static void pf_emb_task(void *ctx, int64_t i0, int64_t i1, int thread) {
    (void)thread;
    const pf_emb_job *jb = ctx;
    for (int64_t i = i0; i < i1; i++) {
        int64_t id = jb->i32 ? ((const int32_t *)jb->ids)[i] : ((const int64_t *)jb->ids)[i];
        memcpy(jb->dst + (size_t)i * jb->row_bytes, jb->tab + (size_t)id * jb->row_bytes, jb->row_bytes);
    }
}

pf_status pf_cpu_fast_embedding(pf_cpu_ctx *c, pf_tensor *d) {
    const pf_tensor *tab = d->src[0], *ids = d->src[1];
    int64_t V = tab->ne[0], D = tab->ne[1], n = pf_nelem(ids);
    pf_emb_job jb = {pf_cpu_data(d), pf_cpu_data(tab), pf_cpu_data(ids), ids->dtype == PF_I32,
                     (size_t)D * pf_dtype_size(d->dtype)};
    /* validate every id before copying anything */
    for (int64_t i = 0; i < n; i++) {
        int64_t id = jb.i32 ? ((const int32_t *)jb.ids)[i] : ((const int64_t *)jb.ids)[i];
        if (id < 0 || id >= V)
            return pf_error(PF_ERR_INVALID_ARG, "embedding: id %lld at position %lld outside [0, %lld)", (long long)id,
                            (long long)i, (long long)V);
    }
    pf_parallel_for(c->pool, n, PF_MAX(1, 16384 / PF_MAX(D, 1)), pf_emb_task, &jb);
    return PF_OK;
}
