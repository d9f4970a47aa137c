/*
 * linear and matmul: the tiled GEMM (shaders/matmul.comp) in general, the
 * matrix-vector kernel (shaders/matvec.comp, subgroup reduction where the device has
 * subgroup arithmetic) when there are at most 8 rows and B is [N, K], the layout of
 * weights and of k in q k^T. Any mix of f32/bf16/f16 operands; f32 accumulation.
 */
#include "vk_ops.h"

#define MATVEC_MAX_ROWS 8

typedef struct mm_shape {
    const pf_tensor *a, *b, *bias, *d;
    uint64_t M, N, K, batch;
    bool trans_b, b_broadcast;
    float alpha;
} mm_shape;

static void mm_get(const pf_tensor *n, mm_shape *s) {
    memset(s, 0, sizeof *s);
    s->a = n->src[0];
    s->b = n->src[1];
    s->d = n;
    if (n->op == PF_OP_LINEAR) {
        s->bias = n->src[2];
        s->K = (uint64_t)s->b->ne[1];
        s->N = (uint64_t)s->b->ne[0];
        s->M = s->K ? (uint64_t)pf_nelem(s->a) / s->K : (uint64_t)(pf_nelem(n) / PF_MAX(n->ne[n->ndim - 1], 1));
        s->batch = 1;
        s->trans_b = true;
        s->b_broadcast = true;
        s->alpha = 1.0f;
    } else {
        const pf_tensor *a = s->a, *b = s->b;
        s->batch = a->ndim == 3 ? (uint64_t)a->ne[0] : 1;
        s->M = (uint64_t)a->ne[a->ndim - 2];
        s->K = (uint64_t)a->ne[a->ndim - 1];
        s->N = (uint64_t)n->ne[n->ndim - 1];
        s->trans_b = n->ip[0] != 0;
        s->b_broadcast = b->ndim < 3 || b->ne[0] == 1;
        s->alpha = n->fp[0];
    }
}

static bool mm_use_matvec(pf_vk_ctx *c, const mm_shape *s) {
    (void)c;
    return s->trans_b && s->M <= MATVEC_MAX_ROWS;
}

static bool mm_check(pf_vk_ctx *c, const pf_tensor *n, char *why, size_t len) {
    if (!pf_vk_check_float_srcs(n, 3, why, len) || !pf_vk_check_sizes(n, why, len)) return false;
    mm_shape s;
    mm_get(n, &s);
    if (s.batch > c->max_groups[2]) {
        snprintf(why, len, "batch %llu exceeds the dispatch limit %u", (unsigned long long)s.batch, c->max_groups[2]);
        return false;
    }
    /* K steps of 16 (tiled; the step's inner loops have constant trip counts and unroll) or
     * of 128 (matrix-vector) */
    if (!pf_vk_check_loops(c, mm_use_matvec(c, &s) ? (double)s.K / 128.0 + 16.0 : (double)s.K / 16.0 + 16.0, why, len))
        return false;
    if (mm_use_matvec(c, &s)) {
        if (s.N > (uint64_t)c->max_groups[0] * c->max_groups[1]) {
            snprintf(why, len, "%llu output columns exceed the dispatch limits", (unsigned long long)s.N);
            return false;
        }
    } else if ((s.N + 63) / 64 > c->max_groups[0] || (s.M + 63) / 64 > c->max_groups[1]) {
        snprintf(why, len, "%llu x %llu output needs more 64x64 tiles than one dispatch allows", (unsigned long long)s.M,
                 (unsigned long long)s.N);
        return false;
    }
    return true;
}

static pf_status mm_record(pf_vk_ctx *c, const pf_tensor *n) {
    mm_shape s;
    mm_get(n, &s);
    if (s.M == 0 || s.N == 0) return PF_OK;
    pf_vk_pc_matmul pc = {
        .M = (uint32_t)s.M,
        .N = (uint32_t)s.N,
        .K = (uint32_t)s.K,
        .a_off = pf_vk_elem_off(s.a),
        .b_off = pf_vk_elem_off(s.b),
        .d_off = pf_vk_elem_off(n),
        .bias_off = s.bias ? pf_vk_elem_off(s.bias) : 0,
        .a_bs = (uint32_t)(s.M * s.K),
        .b_bs = s.b_broadcast ? 0u : (uint32_t)(s.N * s.K),
        .d_bs = (uint32_t)(s.M * s.N),
        .alpha = s.alpha,
    };
    pf_vk_dispatch_desc d = {.write_mask = 1u, .push = &pc, .push_size = sizeof pc};
    d.bind[0] = n;
    d.bind[1] = s.a;
    d.bind[2] = s.b;
    d.bind[3] = s.bias;
    uint32_t tbias = s.bias ? (uint32_t)s.bias->dtype : 0u;
    if (mm_use_matvec(c, &s)) {
        bool sg = c->subgroup_arith && pf_vk_have_shader(PF_VK_SH_MATVEC_SG);
        d.key = (pf_vk_pipeline_key){.shader = sg ? PF_VK_SH_MATVEC_SG : PF_VK_SH_MATVEC,
                                     .n_spec = 5,
                                     .spec = {(uint32_t)n->dtype, (uint32_t)s.a->dtype, (uint32_t)s.b->dtype, tbias,
                                              s.bias != NULL}};
        PF_TRY(pf_vk_groups_1d(c, s.N, d.groups));
        d.groups[2] = (uint32_t)s.batch;
    } else {
        d.key = (pf_vk_pipeline_key){.shader = PF_VK_SH_MATMUL,
                                     .n_spec = 6,
                                     .spec = {(uint32_t)n->dtype, (uint32_t)s.a->dtype, (uint32_t)s.b->dtype, tbias,
                                              s.trans_b, s.bias != NULL}};
        d.groups[0] = (uint32_t)((s.N + 63) / 64);
        d.groups[1] = (uint32_t)((s.M + 63) / 64);
        d.groups[2] = (uint32_t)s.batch;
    }
    return pf_vk_dispatch(c, &d);
}

const pf_vk_op pf_vk_op_linear = {mm_check, mm_record};
const pf_vk_op pf_vk_op_matmul = {mm_check, mm_record};
