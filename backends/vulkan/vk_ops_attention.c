/*
 * Fused attention (shaders/attention.comp): flash-style online softmax with the
 * mask as parameters. Tile sizes are specialization constants picked per head dim
 * so that Q, one K/V tile and the score tile fit the device's shared memory
 * (32 KiB on lavapipe): 16 query rows x 32 keys for the DiT's 64-wide heads down to
 * 4 x 8 for the VAE's single 512-wide head. Head dims above 512 are unsupported
 * (the per-invocation output accumulators would not fit in registers).
 */
#include "vk_ops.h"

#include <math.h>

#define ATT_MAX_D 512

typedef struct att_tiles {
    uint32_t br, bc, tpr, dkq, dkv, accn;
} att_tiles;

static uint32_t att_shared_bytes(const att_tiles *t) {
    return 4u * (t->br * t->dkq + t->bc * t->dkv + t->br * t->bc + t->br + t->bc + 1u);
}

static bool att_tiles_pick(pf_vk_ctx *c, uint32_t D, uint32_t Dv, att_tiles *t) {
    uint32_t dmax = PF_MAX(D, Dv);
    if (dmax <= 64) *t = (att_tiles){.br = 16, .bc = 32, .tpr = 8};
    else if (dmax <= 128) *t = (att_tiles){.br = 16, .bc = 16, .tpr = 8};
    else if (dmax <= 256) *t = (att_tiles){.br = 8, .bc = 16, .tpr = 16};
    else *t = (att_tiles){.br = 4, .bc = 8, .tpr = 32};
    /* shared row strides: rounded to 16 so nearby head dims share a pipeline, plus one
     * so the invocations of a row, which read different key rows at the same column,
     * hit different shared-memory banks */
    t->dkq = PF_ALIGN_UP(PF_MAX(D, 1u), 16u) + 1u;
    t->dkv = PF_ALIGN_UP(PF_MAX(dmax, 1u), 16u) + 1u;
    while (att_shared_bytes(t) > c->max_shared) {
        if (t->bc > 4) t->bc /= 2;
        else if (t->br > 1) t->br /= 2;
        else return false;
    }
    t->accn = (PF_MAX(Dv, 1u) + t->tpr - 1) / t->tpr;
    return t->br * t->tpr <= c->max_wg_invocations;
}

static bool att_check(pf_vk_ctx *c, const pf_tensor *n, char *why, size_t len) {
    const pf_tensor *q = n->src[0], *v = n->src[2];
    if (!pf_vk_check_float_srcs(n, 3, why, len) || !pf_vk_check_sizes(n, why, len)) return false;
    if ((unsigned)n->ip[0] > PF_MASK_KEY) {
        snprintf(why, len, "unknown mask mode %d", n->ip[0]);
        return false;
    }
    if (q->ne[3] > ATT_MAX_D || v->ne[3] > ATT_MAX_D) {
        snprintf(why, len, "head dims %lld/%lld (at most %d)", (long long)q->ne[3], (long long)v->ne[3], ATT_MAX_D);
        return false;
    }
    if ((n->src[3] && n->src[3]->dtype != PF_I32) || (n->src[4] && n->src[4]->dtype != PF_I32) ||
        (n->src[5] && n->src[5]->dtype != PF_F32)) {
        snprintf(why, len, "mask metas must be i32 and the bias f32");
        return false;
    }
    att_tiles t;
    if (!att_tiles_pick(c, (uint32_t)q->ne[3], (uint32_t)v->ne[3], &t)) {
        snprintf(why, len, "head dim %lld does not fit %u bytes of shared memory", (long long)q->ne[3], c->max_shared);
        return false;
    }
    /* per key tile: K and V loads (4 columns per iteration), the 16-wide dot products of
     * the invocation's keys, the P.V columns (shaders/attention.comp) */
    double wg = t.br * t.tpr, kpt = (t.bc + t.tpr - 1) / t.tpr;
    double per_tile = 2.0 * ceil(t.bc * (t.dkv - 1) / 4.0 / wg) + kpt * (t.dkq - 1) / 16.0 + t.accn + 3.0;
    double tiles = ceil((double)n->src[1]->ne[1] / t.bc);
    if (!pf_vk_check_loops(c, tiles * per_tile + t.accn + t.br * (t.dkq - 1) / 4.0 / wg, why, len)) return false;
    if ((uint64_t)(q->ne[1] + t.br - 1) / t.br > c->max_groups[0] || (uint64_t)q->ne[2] > c->max_groups[1] ||
        (uint64_t)q->ne[0] > c->max_groups[2]) {
        snprintf(why, len, "%lld queries x %lld heads x batch %lld exceed the dispatch limits", (long long)q->ne[1],
                 (long long)q->ne[2], (long long)q->ne[0]);
        return false;
    }
    return true;
}

static pf_status att_record(pf_vk_ctx *c, const pf_tensor *n) {
    const pf_tensor *q = n->src[0], *k = n->src[1], *v = n->src[2];
    const pf_tensor *qm = n->src[3], *km = n->src[4], *bias = n->src[5];
    if (pf_nelem(n) == 0) return PF_OK;
    att_tiles t;
    if (!att_tiles_pick(c, (uint32_t)q->ne[3], (uint32_t)v->ne[3], &t))
        return pf_error(PF_ERR_UNSUPPORTED, "vulkan attention: no tiling fits head dim %lld", (long long)q->ne[3]);
    pf_vk_pc_attention pc = {
        .B = (uint32_t)q->ne[0],
        .Nq = (uint32_t)q->ne[1],
        .Nk = (uint32_t)k->ne[1],
        .H = (uint32_t)q->ne[2],
        .D = (uint32_t)q->ne[3],
        .Dv = (uint32_t)v->ne[3],
        .q_off = pf_vk_elem_off(q),
        .k_off = pf_vk_elem_off(k),
        .v_off = pf_vk_elem_off(v),
        .o_off = pf_vk_elem_off(n),
        .qm_off = qm ? pf_vk_elem_off(qm) : 0,
        .km_off = km ? pf_vk_elem_off(km) : 0,
        .bias_off = bias ? pf_vk_elem_off(bias) : 0,
        .scale = n->fp[0],
    };
    pf_vk_dispatch_desc d = {
        .key = {.shader = PF_VK_SH_ATTENTION,
                .n_spec = 13,
                .spec = {t.br * t.tpr, t.br, t.bc, t.dkq, t.dkv, t.tpr, t.accn, (uint32_t)q->dtype, (uint32_t)k->dtype,
                         (uint32_t)v->dtype, (uint32_t)n->dtype, (uint32_t)n->ip[0], bias != NULL}},
        .bind = {n, q, k, v, qm, km, bias},
        .write_mask = 1u,
        .push = &pc,
        .push_size = sizeof pc,
        .groups = {(uint32_t)((q->ne[1] + t.br - 1) / t.br), (uint32_t)q->ne[2], (uint32_t)q->ne[0]},
    };
    return pf_vk_dispatch(c, &d);
}

const pf_vk_op pf_vk_op_attention = {att_check, att_record};
