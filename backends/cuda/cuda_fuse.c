/*
 * Fusion of node pairs in the graph the CUDA backend computes: the memory-bound
 * pairs of every DiT block (issue 10), each a producer with a single consumer:
 *
 *   layer_norm -> modulate      the adaLN-Zero "norm1(x) * (1 + scale) + shift"
 *   rms_norm   -> rope          the qk norm over the head dim, then the rotation
 *   linear     -> gelu_tanh     the feed-forward's first layer, GELU in the
 *                               cuBLASLt epilogue (after the bias)
 *
 * The IR stays as the model builds it (every backend computes the same graph; the
 * CPU reference defines each op), and the fused result equals the unfused one up to
 * the rounding of the intermediate, which is never stored.
 *
 * Where the pair runs: at the consumer's position, reading the producer's inputs.
 * Running it at the producer's position would write the consumer's output before
 * its memory is free (the planner gives it a lifetime that starts at the consumer),
 * while the consumer's own inputs are all alive at its position. The producer's inputs
 * may have died at the producer (their last use): the pair is planned only when no
 * node computed in between writes over any of them, checked on device addresses.
 * The producer's output memory is reserved from producer to consumer, so the
 * unfused fallback (run producer, then consumer, at the consumer's position) is
 * always valid.
 */
#include "cuda_impl.h"

#include <string.h>

#define PF_FUSE_WINDOW 64 /* nodes searched after a producer for its consumer */

static bool pf_is_f(pf_dtype t) { return t == PF_F32 || t == PF_BF16 || t == PF_F16; }

static bool pf_ranges_meet(const pf_tensor *a, const pf_tensor *b) {
    uintptr_t alo, ahi, blo, bhi;
    pf_cuda_range(a, &alo, &ahi);
    pf_cuda_range(b, &blo, &bhi);
    return alo != ahi && blo != bhi && alo < bhi && blo < ahi;
}

static bool pf_vec_ok(const pf_tensor *v, int64_t n) {
    return !v || (v->ndim == 1 && v->ne[0] == n && pf_is_f(v->dtype) && pf_is_contiguous(v));
}

/* shift/scale of a [B, N, D] modulate: [B or 1, N or 1, D] with unit last stride */
static bool pf_rowvec_ok(const pf_tensor *v, const pf_tensor *q) {
    return v && pf_is_f(v->dtype) && v->ndim == 3 && (v->ne[0] == 1 || v->ne[0] == q->ne[0]) &&
           (v->ne[1] == 1 || v->ne[1] == q->ne[1]) && v->ne[2] == q->ne[2] && (v->ne[2] == 1 || v->st[2] == 1);
}

static pf_cu_rowvec pf_rowvec(const pf_tensor *v) {
    pf_cu_rowvec r = {
        .data = pf_cuda_ptr(v),
        .dtype = (int32_t)v->dtype,
        .st_b = v->ne[0] == 1 ? 0 : v->st[0],
        .st_n = v->ne[1] == 1 ? 0 : v->st[1],
    };
    return r;
}

/* The role a consumer q of producer p would take, or NONE when the pair does not fit
 * the fused kernels (shapes, dtypes, layouts). */
static int pf_pair_kind(const pf_tensor *p, const pf_tensor *q) {
    const pf_tensor *x = p->src[0];
    if (!x || q->src[0] != p || !pf_is_f(p->dtype) || !pf_is_f(q->dtype) || !pf_is_f(x->dtype))
        return PF_CUDA_FUSE_NONE;
    for (int s = 1; s < PF_MAX_SRC; s++)
        if (q->src[s] == p) return PF_CUDA_FUSE_NONE;
    if (p->op == PF_OP_LAYER_NORM && q->op == PF_OP_MODULATE) {
        if (p->ndim != 3 || !pf_same_shape(p, q) || !pf_same_shape(x, p) || !pf_is_contiguous(x)) return 0;
        const int64_t D = p->ne[2];
        if (!pf_vec_ok(p->src[1], D) || !pf_vec_ok(p->src[2], D)) return 0;
        return pf_rowvec_ok(q->src[1], q) && pf_rowvec_ok(q->src[2], q) ? PF_CUDA_FUSE_NORM_MOD : 0;
    }
    if (p->op == PF_OP_RMS_NORM && q->op == PF_OP_ROPE) {
        if (p->ndim != 4 || !pf_same_shape(p, q) || !pf_same_shape(x, p) || !pf_is_contiguous(x)) return 0;
        const int64_t D = p->ne[3];
        const pf_tensor *tab = q->src[1];
        if (D % 2 || D > pf_cu_rms_norm_rope_max_dim() || !pf_vec_ok(p->src[1], D)) return 0;
        return tab && tab->dtype == PF_F32 && tab->ndim == 3 && tab->ne[0] == p->ne[1] && tab->ne[1] == D / 2 &&
                       tab->ne[2] == 2 && pf_is_contiguous(tab)
                   ? PF_CUDA_FUSE_NORM_ROPE
                   : 0;
    }
    if (p->op == PF_OP_LINEAR && q->op == PF_OP_UNARY && q->ip[0] == PF_UNARY_GELU_TANH)
        return pf_nelem(q) == pf_nelem(p) && pf_is_contiguous(p) ? PF_CUDA_FUSE_GEMM_GELU : 0;
    return PF_CUDA_FUSE_NONE;
}

static bool pf_producer_candidate(const pf_tensor *p, int32_t uses) {
    if (!pf_node_is_compute(p) || uses != 1 || (p->flags & (PF_TF_OUTPUT | PF_TF_INPUT)) || p->into) return false;
    return p->op == PF_OP_LAYER_NORM || p->op == PF_OP_RMS_NORM || p->op == PF_OP_LINEAR;
}

pf_status pf_cuda_fuse_plan(pf_cuda_ctx *c, pf_graph *g) {
    const int n = pf_graph_n_nodes(g);
    if (n > c->fuse_cap) {
        int8_t *f = realloc(c->fuse, (size_t)n);
        if (f) c->fuse = f;
        int32_t *pp = realloc(c->fuse_partner, (size_t)n * sizeof *pp);
        if (pp) c->fuse_partner = pp;
        if (!f || !pp) return pf_error(PF_ERR_OOM, "out of host memory (CUDA fusion plan of %d nodes)", n);
        c->fuse_cap = n;
    }
    memset(c->fuse, 0, (size_t)n);
    if (c->no_fuse || c->sync_each) return PF_OK; /* PF_CUDA_SYNC localises errors to single nodes */
    /* consumers per node, a view counting as one of its root and its own consumers too
     * (the planner's n_uses, which planning has used up); fuse_partner holds them first */
    int32_t *uses = c->fuse_partner;
    memset(uses, 0, (size_t)n * sizeof *uses);
    for (int i = 0; i < n; i++) {
        const pf_tensor *t = pf_graph_node(g, i);
        if (t->flags & PF_TF_DEAD) continue;
        for (int s = 0; s < PF_MAX_SRC; s++) {
            const pf_tensor *r = t->src[s] ? pf_root(t->src[s]) : NULL;
            if (r && r->graph == g && r->graph_index >= 0 && r->graph_index < n) uses[r->graph_index]++;
        }
    }
    for (int i = 0; i < n; i++) {
        pf_tensor *p = pf_graph_node(g, i);
        if (c->fuse[i] != PF_CUDA_FUSE_NONE || !pf_producer_candidate(p, uses[i])) continue;
        int j = i + 1, end = i + PF_FUSE_WINDOW < n ? i + PF_FUSE_WINDOW : n;
        for (; j < end; j++) {
            const pf_tensor *q = pf_graph_node(g, j);
            bool reads = false;
            for (int s = 0; s < PF_MAX_SRC; s++) reads |= q->src[s] == p;
            if (reads) break;
        }
        if (j >= end) continue;
        pf_tensor *q = pf_graph_node(g, j);
        if (!pf_node_is_compute(q) || c->fuse[j] != PF_CUDA_FUSE_NONE) continue;
        int kind = pf_pair_kind(p, q);
        if (kind == PF_CUDA_FUSE_NONE) continue;
        /* the producer's inputs must survive until the consumer's position */
        bool clobbered = false;
        for (int m = i + 1; m < j && !clobbered; m++) {
            const pf_tensor *t = pf_graph_node(g, m);
            if (!pf_node_is_compute(t)) continue; /* a producer planned later may run here unfused */
            for (int s = 0; s < PF_MAX_SRC && !clobbered; s++)
                if (p->src[s]) clobbered = pf_ranges_meet(t, p->src[s]);
        }
        if (clobbered) continue;
        c->fuse[i] = PF_CUDA_FUSE_SKIP;
        c->fuse[j] = (int8_t)kind;
    }
    /* the partner of each consumer: the producer it reads as src0 */
    for (int j = 0; j < n; j++)
        if (c->fuse[j] > PF_CUDA_FUSE_SKIP) c->fuse_partner[j] = pf_graph_node(g, j)->src[0]->graph_index;
    return PF_OK;
}

/* dst may take the place of input t only element for element (same start, same dtype:
 * every fused kernel reads an element before writing it, in the same thread); any other
 * overlap with an input declines the fusion. */
static bool pf_dst_clear(const pf_tensor *q, const void *dst, const pf_tensor *t, bool may_alias) {
    if (!t) return true;
    uintptr_t lo, hi, dlo = (uintptr_t)dst, dhi = dlo + pf_nbytes(q);
    pf_cuda_range(t, &lo, &hi);
    if (lo == hi || hi <= dlo || lo >= dhi) return true;
    return may_alias && lo == dlo && t->dtype == q->dtype && pf_is_contiguous(t);
}

pf_status pf_cuda_run_fused(pf_cuda_ctx *c, int kind, const pf_tensor *p, const pf_tensor *q, void *dst, bool *done) {
    *done = false;
    const pf_tensor *x = p->src[0];
    switch (kind) {
    case PF_CUDA_FUSE_NORM_MOD: {
        const pf_tensor *w = p->src[1], *b = p->src[2], *shift = q->src[1], *scale = q->src[2];
        if (!pf_dst_clear(q, dst, x, true) || !pf_dst_clear(q, dst, w, false) || !pf_dst_clear(q, dst, b, false) ||
            !pf_dst_clear(q, dst, shift, false) || !pf_dst_clear(q, dst, scale, false))
            return PF_OK;
        pf_cu_rowvec sh = pf_rowvec(shift), sc = pf_rowvec(scale);
        const int64_t N = q->ne[1], D = q->ne[2], rows = q->ne[0] * N;
        PF_TRY(pf_cuda_launched(c,
                                pf_cu_layer_norm_modulate(dst, (int)q->dtype, pf_cuda_ptr(x), (int)x->dtype,
                                                          w ? pf_cuda_ptr(w) : NULL, w ? (int)w->dtype : 0,
                                                          b ? pf_cuda_ptr(b) : NULL, b ? (int)b->dtype : 0, &sh, &sc,
                                                          rows, N, D, p->fp[0], c->stream),
                                "pf_cu_layer_norm_modulate"));
        c->fstats.norm_modulate++;
        *done = true;
        return PF_OK;
    }
    case PF_CUDA_FUSE_NORM_ROPE: {
        const pf_tensor *w = p->src[1], *tab = q->src[1];
        if (!pf_dst_clear(q, dst, x, true) || !pf_dst_clear(q, dst, w, false) || !pf_dst_clear(q, dst, tab, false))
            return PF_OK;
        PF_TRY(pf_cuda_launched(c,
                                pf_cu_rms_norm_rope(dst, (int)q->dtype, pf_cuda_ptr(x), (int)x->dtype,
                                                    w ? pf_cuda_ptr(w) : NULL, w ? (int)w->dtype : 0,
                                                    pf_cuda_ptr(tab), q->ne[0], q->ne[1], q->ne[2], q->ne[3],
                                                    p->fp[0], c->stream),
                                "pf_cu_rms_norm_rope"));
        c->fstats.norm_rope++;
        *done = true;
        return PF_OK;
    }
    case PF_CUDA_FUSE_GEMM_GELU:
        for (int s = 0; s < 3; s++)
            if (!pf_dst_clear(q, dst, p->src[s], false)) return PF_OK;
        PF_TRY(pf_cuda_run_linear_gelu(c, p, q, dst, done));
        if (*done) c->fstats.gemm_gelu++;
        return PF_OK;
    default: return pf_error(PF_ERR_INTERNAL, "CUDA fusion: unknown pair kind %d", kind);
    }
}
