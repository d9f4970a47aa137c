/*
 * Normalisations and softmax: layer/RMS norm and softmax over the last dim
 * (shaders/rownorm.comp), group norm per frame with optional fused SiLU
 * (shaders/group_norm.comp, subgroup reduction where available).
 */
#include "vk_ops.h"

#include <math.h>

enum { ROW_LAYER = 0, ROW_RMS = 1, ROW_SOFTMAX = 2 };

/* Invocations per row: about 4 elements each, a power of two in [1, 256]. */
static uint32_t row_tpr(int64_t len) {
    uint32_t t = 1;
    while (t < 256 && (int64_t)t * 4 < len) t <<= 1;
    return t;
}

static bool row_check(pf_vk_ctx *c, const pf_tensor *n, char *why, size_t len) {
    if (!pf_vk_check_float_srcs(n, 3, why, len) || !pf_vk_check_sizes(n, why, len)) return false;
    int64_t D = n->ne[n->ndim - 1], rows = D ? pf_nelem(n) / D : 0;
    uint32_t tpr = row_tpr(D);
    if (!pf_vk_check_loops(c, 3.0 * (double)((D + tpr - 1) / tpr) + 40.0, why, len)) return false;
    uint64_t groups = ((uint64_t)rows * tpr + 255) / 256;
    if (groups > (uint64_t)c->max_groups[0] * c->max_groups[1]) {
        snprintf(why, len, "%lld rows exceed the dispatch limits", (long long)rows);
        return false;
    }
    return true;
}

static pf_status row_record(pf_vk_ctx *c, const pf_tensor *n) {
    const pf_tensor *x = n->src[0], *w = NULL, *b = NULL;
    int mode = n->op == PF_OP_LAYER_NORM ? ROW_LAYER : n->op == PF_OP_RMS_NORM ? ROW_RMS : ROW_SOFTMAX;
    if (mode != ROW_SOFTMAX) w = n->src[1];
    if (mode == ROW_LAYER) b = n->src[2];
    int64_t D = n->ne[n->ndim - 1];
    if (D == 0 || pf_nelem(n) == 0) return PF_OK;
    int64_t rows = pf_nelem(n) / D;
    uint32_t tpr = row_tpr(D);
    pf_vk_pc_rownorm pc = {
        .rows = (uint32_t)rows,
        .len = (uint32_t)D,
        .x_off = pf_vk_elem_off(x),
        .d_off = pf_vk_elem_off(n),
        .w_off = w ? pf_vk_elem_off(w) : 0,
        .b_off = b ? pf_vk_elem_off(b) : 0,
        .p0 = n->fp[0],
    };
    pf_vk_dispatch_desc d = {
        .key = {.shader = PF_VK_SH_ROWNORM,
                .n_spec = 8,
                .spec = {(uint32_t)mode, tpr, (uint32_t)n->dtype, (uint32_t)x->dtype, w ? (uint32_t)w->dtype : 0u,
                         b ? (uint32_t)b->dtype : 0u, w != NULL, b != NULL}},
        .bind = {n, x, w, b},
        .write_mask = 1u,
        .push = &pc,
        .push_size = sizeof pc,
    };
    PF_TRY(pf_vk_groups_1d(c, ((uint64_t)rows * tpr + 255) / 256, d.groups));
    return pf_vk_dispatch(c, &d);
}

static bool gn_check(pf_vk_ctx *c, const pf_tensor *n, char *why, size_t len) {
    if (!pf_vk_check_float_srcs(n, 3, why, len) || !pf_vk_check_sizes(n, why, len)) return false;
    if (n->ip[0] <= 0 || n->ne[1] % n->ip[0]) {
        snprintf(why, len, "%d groups for %lld channels", n->ip[0], (long long)n->ne[1]);
        return false;
    }
    double cnt = (double)(n->ne[1] / n->ip[0]) * (double)(n->ne[3] * n->ne[4]); /* elements per statistic */
    if (!pf_vk_check_loops(c, 3.0 * ceil(cnt / 1024.0) + 40.0, why, len)) return false;
    if ((uint64_t)n->ip[0] > c->max_groups[0] || (uint64_t)n->ne[2] > c->max_groups[1] ||
        (uint64_t)n->ne[0] > c->max_groups[2]) {
        snprintf(why, len, "groups x frames x batch %d x %lld x %lld exceed the dispatch limits", n->ip[0],
                 (long long)n->ne[2], (long long)n->ne[0]);
        return false;
    }
    return true;
}

static pf_status gn_record(pf_vk_ctx *c, const pf_tensor *n) {
    const pf_tensor *x = n->src[0], *w = n->src[1], *b = n->src[2];
    if (pf_nelem(n) == 0) return PF_OK;
    int G = n->ip[0];
    pf_vk_pc_group_norm pc = {
        .C = (uint32_t)n->ne[1],
        .T = (uint32_t)n->ne[2],
        .HW = (uint32_t)(n->ne[3] * n->ne[4]),
        .cg = (uint32_t)(n->ne[1] / G),
        .x_off = pf_vk_elem_off(x),
        .d_off = pf_vk_elem_off(n),
        .w_off = w ? pf_vk_elem_off(w) : 0,
        .b_off = b ? pf_vk_elem_off(b) : 0,
        .eps = n->fp[0],
    };
    bool sg = c->subgroup_arith && pf_vk_have_shader(PF_VK_SH_GROUP_NORM_SG);
    pf_vk_dispatch_desc d = {
        .key = {.shader = sg ? PF_VK_SH_GROUP_NORM_SG : PF_VK_SH_GROUP_NORM,
                .n_spec = 7,
                .spec = {(uint32_t)n->dtype, (uint32_t)x->dtype, w ? (uint32_t)w->dtype : 0u, b ? (uint32_t)b->dtype : 0u,
                         w != NULL, b != NULL, n->ip[1] != 0}},
        .bind = {n, x, w, b},
        .write_mask = 1u,
        .push = &pc,
        .push_size = sizeof pc,
        .groups = {(uint32_t)G, (uint32_t)n->ne[2], (uint32_t)n->ne[0]},
    };
    return pf_vk_dispatch(c, &d);
}

const pf_vk_op pf_vk_op_layer_norm = {row_check, row_record};
const pf_vk_op pf_vk_op_rms_norm = {row_check, row_record};
const pf_vk_op pf_vk_op_softmax = {row_check, row_record};
const pf_vk_op pf_vk_op_group_norm = {gn_check, gn_record};
