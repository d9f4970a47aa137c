/*
 * The VAE's spatial ops: causal conv3d as an implicit GEMM (shaders/conv3d.comp),
 * depth-to-space, nearest 2x upsample and bilinear 1/2 downsample
 * (shaders/resample.comp).
 */
#include "vk_ops.h"

/* Up to this many output channels the direct path (one position per invocation, all
 * channels) beats 64-channel GEMM tiles that would be mostly padding. */
#define CONV_DIRECT_MAX_CO 16

/* Direct path: floats of weights in shared memory (a slice of input channels, all taps,
 * DCO channels); the kernel volume times 16 channels must fit. */
static uint32_t conv_direct_wcap(const pf_vk_ctx *c) { return c->max_shared >= 24576 ? 4096u : 2048u; }

static bool conv_direct(const pf_vk_ctx *c, const pf_tensor *n) {
    const pf_tensor *w = n->src[1];
    int64_t kvol = w->ne[2] * w->ne[3] * w->ne[4];
    return n->ne[1] <= CONV_DIRECT_MAX_CO && 16 * kvol <= (int64_t)conv_direct_wcap(c);
}

/* GEMM path: TM x TN outputs per invocation of 16 x 16 (shaders/conv3d.comp), so
 * 64 output channels x 64 positions per workgroup. */
#define CONV_TM 4u
#define CONV_TN 4u

static bool conv_check(pf_vk_ctx *c, const pf_tensor *n, char *why, size_t len) {
    if (!pf_vk_check_float_srcs(n, 4, why, len) || !pf_vk_check_sizes(n, why, len)) return false;
    const pf_tensor *x = n->src[0], *w = n->src[1], *f = n->src[3];
    if (f && f->dtype != x->dtype) {
        snprintf(why, len, "cache dtype %s differs from input %s", pf_dtype_name(f->dtype), pf_dtype_name(x->dtype));
        return false;
    }
    uint64_t K = (uint64_t)w->ne[1] * (uint64_t)(w->ne[2] * w->ne[3] * w->ne[4]);
    if (K > UINT32_MAX / 2) {
        snprintf(why, len, "reduction length %llu too long", (unsigned long long)K);
        return false;
    }
    /* GEMM: K steps of 16 (+ the gathers and the inner step); direct: every tap row */
    double loops = conv_direct(c, n) ? (double)w->ne[1] * (double)(w->ne[2] * w->ne[3] * (w->ne[4] + 1)) * 1.1 + 64.0
                                     : (double)K / 16.0 * 2.0 + 16.0;
    if (!pf_vk_check_loops(c, loops, why, len)) return false;
    uint64_t npos = (uint64_t)(n->ne[2] * n->ne[3] * n->ne[4]);
    const uint32_t tm = CONV_TM, tn = CONV_TN;
    uint64_t tiles = conv_direct(c, n)
                         ? (npos + 255) / 256
                         : ((npos + 16 * tn - 1) / (16 * tn)) * (((uint64_t)n->ne[1] + 16 * tm - 1) / (16 * tm));
    if (tiles > (uint64_t)c->max_groups[0] * c->max_groups[1] || (uint64_t)n->ne[0] > c->max_groups[2]) {
        snprintf(why, len, "output %lld x %llu positions exceeds the dispatch limits", (long long)n->ne[1],
                 (unsigned long long)npos);
        return false;
    }
    return true;
}

static pf_status conv_record(pf_vk_ctx *c, const pf_tensor *n) {
    const pf_tensor *x = n->src[0], *w = n->src[1], *b = n->src[2], *f = n->src[3];
    if (pf_nelem(n) == 0) return PF_OK;
    uint64_t npos = (uint64_t)(n->ne[2] * n->ne[3] * n->ne[4]);
    uint32_t tm = CONV_TM, tn = CONV_TN;
    bool direct = conv_direct(c, n);
    if (direct) tm = tn = 1; /* the GEMM tiles are not used: keep their shared memory small */
    uint32_t n_tiles = (uint32_t)((npos + 16 * tn - 1) / (16 * tn)), m_tiles = (uint32_t)((n->ne[1] + 16 * tm - 1) / (16 * tm));
    if (direct) { /* 256 positions per workgroup */
        n_tiles = (uint32_t)((npos + 255) / 256);
        m_tiles = 1;
    }
    pf_vk_pc_conv3d pc = {
        .Ci = (uint32_t)x->ne[1], .T = (uint32_t)x->ne[2], .H = (uint32_t)x->ne[3], .W = (uint32_t)x->ne[4],
        .Co = (uint32_t)n->ne[1], .To = (uint32_t)n->ne[2], .Ho = (uint32_t)n->ne[3], .Wo = (uint32_t)n->ne[4],
        .kt = (uint32_t)w->ne[2], .kh = (uint32_t)w->ne[3], .kw = (uint32_t)w->ne[4], .pt = (uint32_t)n->ip[0],
        .ph = (uint32_t)n->ip[1], .pw = (uint32_t)n->ip[2], .st = (uint32_t)n->ip[3], .sh = (uint32_t)n->ip[4],
        .sw = (uint32_t)n->ip[5], .x_off = pf_vk_elem_off(x), .w_off = pf_vk_elem_off(w),
        .b_off = b ? pf_vk_elem_off(b) : 0, .f_off = f ? pf_vk_elem_off(f) : 0, .d_off = pf_vk_elem_off(n),
        .n_tiles = n_tiles,
    };
    pf_vk_dispatch_desc d = {
        .key = {.shader = PF_VK_SH_CONV3D,
                .n_spec = 11,
                .spec = {(uint32_t)n->dtype, (uint32_t)x->dtype, (uint32_t)w->dtype, b ? (uint32_t)b->dtype : 0u, b != NULL,
                         f != NULL, tm, tn, direct, n->ne[1] <= 4 ? 4u : n->ne[1] <= 8 ? 8u : 16u,
                         direct ? conv_direct_wcap(c) : 1u}},
        .bind = {n, x, w, b, f},
        .write_mask = 1u,
        .push = &pc,
        .push_size = sizeof pc,
    };
    PF_TRY(pf_vk_groups_1d(c, (uint64_t)n_tiles * m_tiles, d.groups));
    d.groups[2] = (uint32_t)n->ne[0];
    return pf_vk_dispatch(c, &d);
}

/* ---------------------------------------------------------------- resampling */

enum { RS_D2S_SPACE = 0, RS_D2S_TIME = 1, RS_UP = 2, RS_DOWN = 3 };

static bool rs_check(pf_vk_ctx *c, const pf_tensor *n, char *why, size_t len) {
    if (!pf_vk_check_sizes(n, why, len)) return false;
    if (n->op == PF_OP_DOWNSAMPLE2X) {
        if (!pf_vk_check_float_srcs(n, 1, why, len)) return false;
    } else {
        size_t es = pf_dtype_size(n->dtype);
        if (es != 2 && es != 4 && es != 8) {
            snprintf(why, len, "dtype %s (2/4/8-byte dtypes only)", pf_dtype_name(n->dtype));
            return false;
        }
    }
    if ((uint64_t)(pf_nelem(n) + 255) / 256 > (uint64_t)c->max_groups[0] * c->max_groups[1]) {
        snprintf(why, len, "%lld elements exceed the dispatch limits", (long long)pf_nelem(n));
        return false;
    }
    return true;
}

static pf_status rs_record(pf_vk_ctx *c, const pf_tensor *n) {
    const pf_tensor *x = n->src[0];
    int64_t cnt = pf_nelem(n);
    if (cnt == 0) return PF_OK;
    pf_vk_pc_resample pc = {.n = (uint32_t)cnt, .x_off = pf_vk_elem_off(x), .d_off = pf_vk_elem_off(n), .mul = 1.0f};
    int mode;
    if (n->op == PF_OP_DEPTH_TO_SPACE) {
        mode = n->ip[0] == PF_D2S_SPACE ? RS_D2S_SPACE : RS_D2S_TIME;
        pc.C = (uint32_t)n->ne[1];
        pc.To = (uint32_t)n->ne[2];
        pc.Ho = (uint32_t)n->ne[3];
        pc.Wo = (uint32_t)n->ne[4];
        pc.Cin = (uint32_t)x->ne[1];
        pc.Ti = (uint32_t)x->ne[2];
        pc.Hi = (uint32_t)x->ne[3];
        pc.Wi = (uint32_t)x->ne[4];
        pc.drop = (uint32_t)n->ip[1];
    } else {
        mode = n->op == PF_OP_UPSAMPLE2X ? RS_UP : RS_DOWN;
        pc.C = pc.To = 1;
        pc.Ho = (uint32_t)n->ne[n->ndim - 2];
        pc.Wo = (uint32_t)n->ne[n->ndim - 1];
        pc.Hi = (uint32_t)x->ne[x->ndim - 2];
        pc.Wi = (uint32_t)x->ne[x->ndim - 1];
        if (mode == RS_DOWN) pc.mul = n->fp[0];
    }
    uint32_t es_or_type = (uint32_t)pf_dtype_size(n->dtype);
    pf_vk_dispatch_desc d = {
        .key = {.shader = PF_VK_SH_RESAMPLE,
                .n_spec = 4,
                .spec = {(uint32_t)mode, es_or_type, (uint32_t)n->dtype, (uint32_t)x->dtype}},
        .bind = {n, x},
        .write_mask = 1u,
        .push = &pc,
        .push_size = sizeof pc,
    };
    if (mode != RS_DOWN) d.key.spec[2] = d.key.spec[3] = 0; /* bit copies: one pipeline per element size */
    PF_TRY(pf_vk_groups_1d(c, ((uint64_t)cnt + 255) / 256, d.groups));
    return pf_vk_dispatch(c, &d);
}

const pf_vk_op pf_vk_op_conv3d = {conv_check, conv_record};
const pf_vk_op pf_vk_op_depth_to_space = {rs_check, rs_record};
const pf_vk_op pf_vk_op_upsample2x = {rs_check, rs_record};
const pf_vk_op pf_vk_op_downsample2x = {rs_check, rs_record};
