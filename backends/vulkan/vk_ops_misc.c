/* RoPE (shaders/rope.comp) and embedding lookup (shaders/embedding.comp). */
#include "vk_ops.h"

static bool rope_check(pf_vk_ctx *c, const pf_tensor *n, char *why, size_t len) {
    if (!pf_vk_check_float_srcs(n, 1, why, len) || !pf_vk_check_sizes(n, why, len)) return false;
    if (n->src[1]->dtype != PF_F32) {
        snprintf(why, len, "rope table dtype %s (f32 only)", pf_dtype_name(n->src[1]->dtype));
        return false;
    }
    if ((uint64_t)(pf_nelem(n) / 2 + 255) / 256 > (uint64_t)c->max_groups[0] * c->max_groups[1]) {
        snprintf(why, len, "%lld elements exceed the dispatch limits", (long long)pf_nelem(n));
        return false;
    }
    return true;
}

static pf_status rope_record(pf_vk_ctx *c, const pf_tensor *n) {
    const pf_tensor *x = n->src[0], *tab = n->src[1];
    uint64_t pairs = (uint64_t)pf_nelem(n) / 2;
    if (!pairs) return PF_OK;
    pf_vk_pc_rope pc = {
        .n_pairs = (uint32_t)pairs,
        .N = (uint32_t)x->ne[1],
        .H = (uint32_t)x->ne[2],
        .P = (uint32_t)(x->ne[3] / 2),
        .x_off = pf_vk_elem_off(x),
        .t_off = pf_vk_elem_off(tab),
        .d_off = pf_vk_elem_off(n),
    };
    pf_vk_dispatch_desc d = {
        .key = {.shader = PF_VK_SH_ROPE, .n_spec = 2, .spec = {(uint32_t)n->dtype, (uint32_t)x->dtype}},
        .bind = {n, x, tab},
        .write_mask = 1u,
        .push = &pc,
        .push_size = sizeof pc,
    };
    PF_TRY(pf_vk_groups_1d(c, (pairs + 255) / 256, d.groups));
    return pf_vk_dispatch(c, &d);
}

static bool emb_check(pf_vk_ctx *c, const pf_tensor *n, char *why, size_t len) {
    if (!pf_vk_check_sizes(n, why, len)) return false;
    size_t es = pf_dtype_size(n->dtype);
    if (es != 2 && es != 4) {
        snprintf(why, len, "table dtype %s (2/4-byte dtypes only)", pf_dtype_name(n->dtype));
        return false;
    }
    pf_dtype it = n->src[1]->dtype;
    if (it != PF_I32 && it != PF_I64) {
        snprintf(why, len, "ids dtype %s (i32/i64 only)", pf_dtype_name(it));
        return false;
    }
    if ((uint64_t)(pf_nelem(n) + 255) / 256 > (uint64_t)c->max_groups[0] * c->max_groups[1]) {
        snprintf(why, len, "%lld elements exceed the dispatch limits", (long long)pf_nelem(n));
        return false;
    }
    return true;
}

static pf_status emb_record(pf_vk_ctx *c, const pf_tensor *n) {
    const pf_tensor *tab = n->src[0], *ids = n->src[1];
    uint64_t cnt = (uint64_t)pf_nelem(n);
    if (!cnt) return PF_OK;
    pf_vk_pc_embedding pc = {
        .n = (uint32_t)cnt,
        .dim = (uint32_t)tab->ne[1],
        .V = (uint32_t)tab->ne[0],
        .t_off = pf_vk_elem_off(tab),
        .ids_off = pf_vk_elem_off(ids),
        .d_off = pf_vk_elem_off(n),
    };
    pf_vk_dispatch_desc d = {
        .key = {.shader = PF_VK_SH_EMBEDDING,
                .n_spec = 2,
                .spec = {(uint32_t)pf_dtype_size(n->dtype), ids->dtype == PF_I64}},
        .bind = {n, tab, ids},
        .write_mask = 1u,
        .push = &pc,
        .push_size = sizeof pc,
    };
    PF_TRY(pf_vk_groups_1d(c, (cnt + 255) / 256, d.groups));
    return pf_vk_dispatch(c, &d);
}

const pf_vk_op pf_vk_op_rope = {rope_check, rope_record};
const pf_vk_op pf_vk_op_embedding = {emb_check, emb_record};
