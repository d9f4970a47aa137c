/*
 * The CUDA op table: for each IR op, a support predicate (truthful per dtype,
 * shape and parameter: what the kernel really handles) and the glue that turns
 * the node into a launcher call. Linear and matmul live in cuda_gemm.c, conv3d
 * in cuda_conv.c.
 *
 * Dtypes: float ops take f32, bf16 and f16 storage on every input and output,
 * mixed freely (loads convert to f32, the store rounds once); copies and
 * layout ops also move integer tensors. Shapes: every op takes the contiguous
 * inputs the graph builder guarantees (the element-wise family takes any strides
 * and broadcasts its later operands), checked again here.
 */
#include "cuda_impl.h"

static bool pf_is_f(pf_dtype t) { return t == PF_F32 || t == PF_BF16 || t == PF_F16; }
static bool pf_is_any(pf_dtype t) { return (unsigned)t < PF_DTYPE_COUNT; }

/* src has dst's rank and each of its dims is 1 or dst's. */
static bool pf_broadcasts_to(const pf_tensor *s, const pf_tensor *d) {
    if (!s || s->ndim != d->ndim) return false;
    for (int i = 0; i < d->ndim; i++)
        if (s->ne[i] != 1 && s->ne[i] != d->ne[i]) return false;
    return true;
}

static bool pf_vec_of(const pf_tensor *v, int64_t n) {
    return !v || (v->ndim == 1 && v->ne[0] == n && pf_is_f(v->dtype) && pf_is_contiguous(v));
}

static pf_status pf_launch(pf_cuda_ctx *c, cudaError_t e, const char *kernel) { return pf_cuda_launched(c, e, kernel); }

/* ---------------------------------------------------------------- copies */

static bool sup_cpy(const pf_cuda_ctx *c, const pf_tensor *n) {
    (void)c;
    const pf_tensor *s = n->src[0];
    return s && pf_is_any(s->dtype) && pf_is_any(n->dtype) && pf_same_shape(s, n);
}

static pf_status run_cpy(pf_cuda_ctx *c, const pf_tensor *n, void *dst) {
    const pf_tensor *s = n->src[0];
    pf_cu_view v = pf_cuda_view(s, n);
    if (s->dtype == n->dtype && v.dense) { /* plain copy */
        size_t bytes = pf_nbytes(n);
        if (dst == v.data) return PF_OK;
        char d[128];
        PF_CUDA_TRY(cudaMemcpyAsync(dst, v.data, bytes, cudaMemcpyDeviceToDevice, c->stream), "cpy '%s' %s", n->name,
                    pf_cuda_desc(n, d, sizeof d));
        return PF_OK;
    }
    pf_cu_out o = pf_cuda_out(n, dst);
    return pf_launch(c, pf_cu_cpy(&o, &v, c->stream), "pf_cu_cpy");
}

static bool sup_concat(const pf_cuda_ctx *c, const pf_tensor *n) {
    (void)c;
    int dim = n->ip[0], k = n->ip[1];
    if (k < 1 || k > PF_MAX_SRC || dim < 0 || dim >= n->ndim || !pf_is_any(n->dtype)) return false;
    int64_t total = 0;
    for (int i = 0; i < k; i++) {
        const pf_tensor *s = n->src[i];
        if (!s || s->dtype != n->dtype || s->ndim != n->ndim) return false;
        for (int d = 0; d < n->ndim; d++)
            if (d != dim && s->ne[d] != n->ne[d]) return false;
        total += s->ne[dim];
    }
    return total == n->ne[dim];
}

static pf_status run_concat(pf_cuda_ctx *c, const pf_tensor *n, void *dst) {
    int dim = n->ip[0], k = n->ip[1];
    pf_cu_out o = pf_cuda_out(n, dst);
    int64_t base = 0;
    for (int i = 0; i < k; i++) {
        const pf_tensor *s = n->src[i];
        pf_cu_view v = pf_cuda_view(s, s);
        PF_TRY(
            pf_launch(c, pf_cu_concat_part(&o, &v, dim + PF_CU_DIMS - n->ndim, base, c->stream), "pf_cu_concat_part"));
        base += s->ne[dim];
    }
    return PF_OK;
}

static bool sup_embedding(const pf_cuda_ctx *c, const pf_tensor *n) {
    (void)c;
    const pf_tensor *tab = n->src[0], *ids = n->src[1];
    return tab && ids && tab->ndim == 2 && pf_is_contiguous(tab) && pf_is_contiguous(ids) && n->dtype == tab->dtype &&
           pf_is_any(tab->dtype) && (ids->dtype == PF_I32 || ids->dtype == PF_I64) &&
           pf_nelem(n) == pf_nelem(ids) * tab->ne[1];
}

static pf_status run_embedding(pf_cuda_ctx *c, const pf_tensor *n, void *dst) {
    const pf_tensor *tab = n->src[0], *ids = n->src[1];
    return pf_launch(c,
                     pf_cu_embedding(dst, pf_cuda_ptr(tab), (int)pf_dtype_size(tab->dtype), pf_cuda_ptr(ids),
                                     (int)ids->dtype, pf_nelem(ids), tab->ne[0], tab->ne[1], c->err_block->ptr,
                                     c->cur_index, c->stream),
                     "pf_cu_embedding");
}

/* ---------------------------------------------------------------- element-wise */

static bool sup_binary(const pf_cuda_ctx *c, const pf_tensor *n) {
    (void)c;
    const pf_tensor *a = n->src[0], *b = n->src[1];
    return a && b && pf_is_f(n->dtype) && pf_is_f(a->dtype) && pf_is_f(b->dtype) && pf_same_shape(a, n) &&
           pf_broadcasts_to(b, n);
}

static pf_status run_binary(pf_cuda_ctx *c, const pf_tensor *n, void *dst) {
    int op = n->op == PF_OP_ADD ? PF_CU_BIN_ADD : n->op == PF_OP_SUB ? PF_CU_BIN_SUB : PF_CU_BIN_MUL;
    pf_cu_out o = pf_cuda_out(n, dst);
    pf_cu_view a = pf_cuda_view(n->src[0], n), b = pf_cuda_view(n->src[1], n);
    return pf_launch(c, pf_cu_binary(op, &o, &a, &b, c->stream), "pf_cu_binary");
}

static bool sup_ternary(const pf_cuda_ctx *c, const pf_tensor *n) {
    (void)c;
    const pf_tensor *x = n->src[0], *a = n->src[1], *b = n->src[2];
    if (!x || !a || !b || !pf_is_f(n->dtype) || !pf_is_f(x->dtype) || !pf_is_f(a->dtype) || !pf_is_f(b->dtype))
        return false;
    return pf_same_shape(x, n) && pf_broadcasts_to(a, n) && pf_broadcasts_to(b, n);
}

static pf_status run_ternary(pf_cuda_ctx *c, const pf_tensor *n, void *dst) {
    int op = n->op == PF_OP_MODULATE ? PF_CU_TER_MODULATE : PF_CU_TER_GATED_ADD;
    pf_cu_out o = pf_cuda_out(n, dst);
    pf_cu_view x = pf_cuda_view(n->src[0], n), a = pf_cuda_view(n->src[1], n), b = pf_cuda_view(n->src[2], n);
    return pf_launch(c, pf_cu_ternary(op, &o, &x, &a, &b, c->stream), "pf_cu_ternary");
}

/* One contiguous float input with the output's element count. */
static bool sup_map(const pf_cuda_ctx *c, const pf_tensor *n) {
    (void)c;
    const pf_tensor *s = n->src[0];
    return s && pf_is_f(n->dtype) && pf_is_f(s->dtype) && pf_is_contiguous(s) && pf_nelem(s) == pf_nelem(n);
}

static pf_status run_scale(pf_cuda_ctx *c, const pf_tensor *n, void *dst) {
    const pf_tensor *s = n->src[0];
    return pf_launch(
        c, pf_cu_scale(dst, (int)n->dtype, pf_cuda_ptr(s), (int)s->dtype, pf_nelem(n), n->fp[0], n->fp[1], c->stream),
        "pf_cu_scale");
}

static bool sup_unary(const pf_cuda_ctx *c, const pf_tensor *n) {
    return sup_map(c, n) && n->ip[0] >= 0 && n->ip[0] < PF_UNARY_COUNT;
}

static pf_status run_unary(pf_cuda_ctx *c, const pf_tensor *n, void *dst) {
    const pf_tensor *s = n->src[0];
    return pf_launch(c,
                     pf_cu_unary(dst, (int)n->dtype, pf_cuda_ptr(s), (int)s->dtype, pf_nelem(n), n->ip[0], c->stream),
                     "pf_cu_unary");
}

/* ---------------------------------------------------------------- norms */

static const void *pf_opt_ptr(const pf_tensor *t) { return t ? pf_cuda_ptr(t) : NULL; }
static int pf_opt_dt(const pf_tensor *t) { return t ? (int)t->dtype : PF_CU_F32; }

static bool sup_row_norm(const pf_cuda_ctx *c, const pf_tensor *n) {
    if (!sup_map(c, n) || n->ndim < 1 || !pf_same_shape(n->src[0], n)) return false;
    int64_t D = n->ne[n->ndim - 1];
    return pf_vec_of(n->src[1], D) && (n->op == PF_OP_RMS_NORM || pf_vec_of(n->src[2], D));
}

static pf_status run_layer_norm(pf_cuda_ctx *c, const pf_tensor *n, void *dst) {
    const pf_tensor *x = n->src[0], *w = n->src[1], *b = n->src[2];
    int64_t D = n->ne[n->ndim - 1], rows = D ? pf_nelem(n) / D : 0;
    return pf_launch(c,
                     pf_cu_layer_norm(dst, (int)n->dtype, pf_cuda_ptr(x), (int)x->dtype, pf_opt_ptr(w), pf_opt_dt(w),
                                      pf_opt_ptr(b), pf_opt_dt(b), rows, D, n->fp[0], c->stream),
                     "pf_cu_layer_norm");
}

static pf_status run_rms_norm(pf_cuda_ctx *c, const pf_tensor *n, void *dst) {
    const pf_tensor *x = n->src[0], *w = n->src[1];
    int64_t D = n->ne[n->ndim - 1], rows = D ? pf_nelem(n) / D : 0;
    return pf_launch(c,
                     pf_cu_rms_norm(dst, (int)n->dtype, pf_cuda_ptr(x), (int)x->dtype, pf_opt_ptr(w), pf_opt_dt(w),
                                    rows, D, n->fp[0], c->stream),
                     "pf_cu_rms_norm");
}

static bool sup_softmax(const pf_cuda_ctx *c, const pf_tensor *n) {
    return sup_map(c, n) && n->ndim >= 1 && pf_same_shape(n->src[0], n);
}

static pf_status run_softmax(pf_cuda_ctx *c, const pf_tensor *n, void *dst) {
    const pf_tensor *x = n->src[0];
    int64_t D = n->ne[n->ndim - 1], rows = D ? pf_nelem(n) / D : 0;
    return pf_launch(c, pf_cu_softmax(dst, (int)n->dtype, pf_cuda_ptr(x), (int)x->dtype, rows, D, n->fp[0], c->stream),
                     "pf_cu_softmax");
}

static bool sup_group_norm(const pf_cuda_ctx *c, const pf_tensor *n) {
    if (!sup_map(c, n) || n->ndim != 5 || !pf_same_shape(n->src[0], n)) return false;
    int64_t C = n->ne[1];
    return n->ip[0] > 0 && C % n->ip[0] == 0 && pf_vec_of(n->src[1], C) && pf_vec_of(n->src[2], C);
}

static pf_status run_group_norm(pf_cuda_ctx *c, const pf_tensor *n, void *dst) {
    const pf_tensor *x = n->src[0], *w = n->src[1], *b = n->src[2];
    const int64_t HW = n->ne[3] * n->ne[4], parts = pf_cu_group_norm_scratch(n->ne[0], n->ne[2], HW, n->ip[0]);
    pf_cuda_block *part = NULL; /* per-slice partial statistics of the split kernels */
    if (parts > 0) PF_TRY(pf_cuda_scratch(c, (size_t)parts * sizeof(float), "group norm partial sums", &part));
    pf_status rc = pf_launch(c,
                             pf_cu_group_norm(dst, (int)n->dtype, pf_cuda_ptr(x), (int)x->dtype, pf_opt_ptr(w),
                                              pf_opt_dt(w), pf_opt_ptr(b), pf_opt_dt(b), n->ne[0], n->ne[1], n->ne[2],
                                              HW, n->ip[0], n->fp[0], n->ip[1] != 0,
                                              part ? (float *)part->ptr : NULL, c->stream),
                             "pf_cu_group_norm");
    pf_cuda_scratch_release(c, part); /* stream order keeps it alive for the kernels */
    return rc;
}

/* ---------------------------------------------------------------- attention, RoPE */

static bool pf_meta_ok(const pf_tensor *m, int64_t B, int64_t N) {
    return m && m->dtype == PF_I32 && m->ndim == 2 && m->ne[0] == B && m->ne[1] == N && pf_is_contiguous(m);
}

static bool sup_attention(const pf_cuda_ctx *c, const pf_tensor *n) {
    (void)c;
    const pf_tensor *q = n->src[0], *k = n->src[1], *v = n->src[2], *qm = n->src[3], *km = n->src[4], *bias = n->src[5];
    if (!q || !k || !v || q->ndim != 4 || k->ndim != 4 || v->ndim != 4 || n->ndim != 4) return false;
    if (!pf_is_f(q->dtype) || !pf_is_f(k->dtype) || !pf_is_f(v->dtype) || !pf_is_f(n->dtype)) return false;
    if (!pf_is_contiguous(q) || !pf_is_contiguous(k) || !pf_is_contiguous(v)) return false;
    int64_t B = q->ne[0], Nq = q->ne[1], H = q->ne[2], D = q->ne[3], Nk = k->ne[1], Dv = v->ne[3];
    if (k->ne[0] != B || v->ne[0] != B || k->ne[2] != H || v->ne[2] != H || k->ne[3] != D || v->ne[1] != Nk)
        return false;
    if (n->ne[0] != B || n->ne[1] != Nq || n->ne[2] != H || n->ne[3] != Dv) return false;
    if (B > 65535 || H > 65535 || D > 512 || Dv > 512) return false;
    int bq, bk;
    size_t smem;
    if (!pf_cu_attention_tiles(D, Dv, &bq, &bk, &smem)) return false;
    switch (n->ip[0]) {
    case PF_MASK_NONE: break;
    case PF_MASK_CAUSAL:
        if (Nq != Nk) return false;
        break;
    case PF_MASK_FRAME:
        if (!pf_meta_ok(qm, B, Nq) || !pf_meta_ok(km, B, Nk)) return false;
        break;
    case PF_MASK_KEY:
        if (!pf_meta_ok(km, B, Nk)) return false;
        break;
    default: return false;
    }
    if (bias && (bias->dtype != PF_F32 || bias->ndim != 3 || bias->ne[0] != H || bias->ne[1] != Nq ||
                 bias->ne[2] != Nk || !pf_is_contiguous(bias)))
        return false;
    return true;
}

static pf_status run_attention(pf_cuda_ctx *c, const pf_tensor *n, void *dst) {
    const pf_tensor *q = n->src[0], *k = n->src[1], *v = n->src[2];
    int mode = n->ip[0];
    pf_cu_attn_args a = {
        .q = pf_cuda_ptr(q),
        .k = pf_cuda_ptr(k),
        .v = pf_cuda_ptr(v),
        .o = dst,
        .q_meta = mode == PF_MASK_FRAME ? pf_cuda_ptr(n->src[3]) : NULL,
        .k_meta = (mode == PF_MASK_FRAME || mode == PF_MASK_KEY) ? pf_cuda_ptr(n->src[4]) : NULL,
        .bias = n->src[5] ? pf_cuda_ptr(n->src[5]) : NULL,
        .q_dtype = (int32_t)q->dtype,
        .k_dtype = (int32_t)k->dtype,
        .v_dtype = (int32_t)v->dtype,
        .o_dtype = (int32_t)n->dtype,
        .mode = mode,
        .scale = n->fp[0],
        .B = q->ne[0],
        .Nq = q->ne[1],
        .Nk = k->ne[1],
        .H = q->ne[2],
        .D = q->ne[3],
        .Dv = v->ne[3],
    };
    /* the tensor-core kernel where it applies (bf16, head dim 64, no bias), unless
     * PF_CUDA_ATTN=simple asks for the general kernel everywhere */
    if (!c->attn_simple && pf_cu_attention_mma_ok(&a))
        return pf_launch(c, pf_cu_attention_mma(&a, c->attn_variant, c->stream), "pf_cu_attention_mma");
    return pf_launch(c, pf_cu_attention(&a, c->stream), "pf_cu_attention");
}

static bool sup_rope(const pf_cuda_ctx *c, const pf_tensor *n) {
    const pf_tensor *x = n->src[0], *tab = n->src[1];
    if (!sup_map(c, n) || x->ndim != 4 || !pf_same_shape(x, n) || x->ne[3] % 2) return false;
    return tab && tab->dtype == PF_F32 && tab->ndim == 3 && tab->ne[0] == x->ne[1] && tab->ne[1] == x->ne[3] / 2 &&
           tab->ne[2] == 2 && pf_is_contiguous(tab);
}

static pf_status run_rope(pf_cuda_ctx *c, const pf_tensor *n, void *dst) {
    const pf_tensor *x = n->src[0];
    return pf_launch(c,
                     pf_cu_rope(dst, (int)n->dtype, pf_cuda_ptr(x), (int)x->dtype, pf_cuda_ptr(n->src[1]), x->ne[0],
                                x->ne[1], x->ne[2], x->ne[3], c->stream),
                     "pf_cu_rope");
}

/* ---------------------------------------------------------------- resampling */

static bool sup_d2s(const pf_cuda_ctx *c, const pf_tensor *n) {
    (void)c;
    const pf_tensor *x = n->src[0];
    if (!x || x->ndim != 5 || n->ndim != 5 || x->dtype != n->dtype || !pf_is_any(n->dtype) || !pf_is_contiguous(x))
        return false;
    if (n->ip[0] == PF_D2S_SPACE)
        return !n->ip[1] && x->ne[1] == 4 * n->ne[1] && n->ne[2] == x->ne[2] && n->ne[3] == 2 * x->ne[3] &&
               n->ne[4] == 2 * x->ne[4];
    if (n->ip[0] == PF_D2S_TIME)
        return x->ne[1] == 2 * n->ne[1] && n->ne[2] == 2 * x->ne[2] - (n->ip[1] ? 1 : 0) && n->ne[3] == x->ne[3] &&
               n->ne[4] == x->ne[4];
    return false;
}

static pf_status run_d2s(pf_cuda_ctx *c, const pf_tensor *n, void *dst) {
    const pf_tensor *x = n->src[0];
    return pf_launch(c,
                     pf_cu_depth_to_space(dst, pf_cuda_ptr(x), (int)pf_dtype_size(n->dtype), n->ip[0], n->ip[1] != 0,
                                          n->ne[0], n->ne[1], n->ne[2], n->ne[3], n->ne[4], x->ne[1], x->ne[2],
                                          x->ne[3], x->ne[4], c->stream),
                     "pf_cu_depth_to_space");
}

/* Same leading dims; the last two doubled (up) or halved (down). */
static bool pf_resampled(const pf_tensor *x, const pf_tensor *n, int up) {
    if (!x || x->ndim < 2 || x->ndim != n->ndim || !pf_is_contiguous(x)) return false;
    for (int d = 0; d < n->ndim - 2; d++)
        if (x->ne[d] != n->ne[d]) return false;
    for (int d = n->ndim - 2; d < n->ndim; d++)
        if (up ? n->ne[d] != 2 * x->ne[d] : x->ne[d] != 2 * n->ne[d]) return false;
    return true;
}

static bool sup_upsample(const pf_cuda_ctx *c, const pf_tensor *n) {
    (void)c;
    const pf_tensor *x = n->src[0];
    return pf_resampled(x, n, 1) && x->dtype == n->dtype && pf_is_any(n->dtype);
}

static pf_status run_upsample(pf_cuda_ctx *c, const pf_tensor *n, void *dst) {
    int64_t Ho = n->ne[n->ndim - 2], Wo = n->ne[n->ndim - 1], planes = (Ho > 0 && Wo > 0) ? pf_nelem(n) / (Ho * Wo) : 0;
    return pf_launch(
        c, pf_cu_upsample2x(dst, pf_cuda_ptr(n->src[0]), (int)pf_dtype_size(n->dtype), planes, Ho, Wo, c->stream),
        "pf_cu_upsample2x");
}

static bool sup_downsample(const pf_cuda_ctx *c, const pf_tensor *n) {
    (void)c;
    const pf_tensor *x = n->src[0];
    return pf_resampled(x, n, 0) && pf_is_f(x->dtype) && pf_is_f(n->dtype);
}

static pf_status run_downsample(pf_cuda_ctx *c, const pf_tensor *n, void *dst) {
    const pf_tensor *x = n->src[0];
    int64_t Ho = n->ne[n->ndim - 2], Wo = n->ne[n->ndim - 1], planes = (Ho > 0 && Wo > 0) ? pf_nelem(n) / (Ho * Wo) : 0;
    return pf_launch(
        c, pf_cu_downsample2x(dst, (int)n->dtype, pf_cuda_ptr(x), (int)x->dtype, planes, Ho, Wo, n->fp[0], c->stream),
        "pf_cu_downsample2x");
}

/* ---------------------------------------------------------------- the table */

const pf_cuda_op_entry pf_cuda_ops[PF_OP_COUNT] = {
    [PF_OP_CPY] = {sup_cpy, run_cpy, PF_CUDA_ALIAS_NONE},
    [PF_OP_CONCAT] = {sup_concat, run_concat, PF_CUDA_ALIAS_NONE},
    [PF_OP_ADD] = {sup_binary, run_binary, PF_CUDA_ALIAS_ANY},
    [PF_OP_SUB] = {sup_binary, run_binary, PF_CUDA_ALIAS_ANY},
    [PF_OP_MUL] = {sup_binary, run_binary, PF_CUDA_ALIAS_ANY},
    [PF_OP_SCALE] = {sup_map, run_scale, PF_CUDA_ALIAS_ANY},
    [PF_OP_UNARY] = {sup_unary, run_unary, PF_CUDA_ALIAS_ANY},
    [PF_OP_LINEAR] = {pf_cuda_supports_linear, pf_cuda_run_linear, PF_CUDA_ALIAS_NONE},
    [PF_OP_MATMUL] = {pf_cuda_supports_matmul, pf_cuda_run_matmul, PF_CUDA_ALIAS_NONE},
    [PF_OP_LAYER_NORM] = {sup_row_norm, run_layer_norm, PF_CUDA_ALIAS_SRC0},
    [PF_OP_RMS_NORM] = {sup_row_norm, run_rms_norm, PF_CUDA_ALIAS_SRC0},
    [PF_OP_GROUP_NORM] = {sup_group_norm, run_group_norm, PF_CUDA_ALIAS_SRC0},
    [PF_OP_SOFTMAX] = {sup_softmax, run_softmax, PF_CUDA_ALIAS_SRC0},
    [PF_OP_ATTENTION] = {sup_attention, run_attention, PF_CUDA_ALIAS_NONE},
    [PF_OP_ROPE] = {sup_rope, run_rope, PF_CUDA_ALIAS_SRC0},
    [PF_OP_MODULATE] = {sup_ternary, run_ternary, PF_CUDA_ALIAS_ANY},
    [PF_OP_GATED_ADD] = {sup_ternary, run_ternary, PF_CUDA_ALIAS_ANY},
    [PF_OP_CONV3D] = {pf_cuda_supports_conv3d, pf_cuda_run_conv3d, PF_CUDA_ALIAS_NONE},
    [PF_OP_DEPTH_TO_SPACE] = {sup_d2s, run_d2s, PF_CUDA_ALIAS_NONE},
    [PF_OP_UPSAMPLE2X] = {sup_upsample, run_upsample, PF_CUDA_ALIAS_NONE},
    [PF_OP_DOWNSAMPLE2X] = {sup_downsample, run_downsample, PF_CUDA_ALIAS_NONE},
    [PF_OP_EMBEDDING] = {sup_embedding, run_embedding, PF_CUDA_ALIAS_NONE},
};
