/*
 * Vulkan op kernels: for each IR op a check (supports_op with a reason) and a
 * recorder (dispatches into the current command buffer). The push-constant blocks
 * mirror the shaders' `layout(push_constant)` blocks field by field (std430: 4-byte
 * scalars, 16-byte uvec4/ivec4) and are asserted to fit the guaranteed 128 bytes.
 */
#ifndef PF_VK_OPS_H
#define PF_VK_OPS_H

#include "vk_internal.h"

#include <assert.h>

typedef struct pf_vk_op {
    /* Whether the op can run; on false, `why` says what is missing. */
    bool (*check)(pf_vk_ctx *c, const pf_tensor *n, char *why, size_t len);
    pf_status (*record)(pf_vk_ctx *c, const pf_tensor *n);
} pf_vk_op;

/* Element-wise opcodes (shaders/elementwise.comp OP). */
enum {
    PF_VK_EW_CONVERT = 0,
    PF_VK_EW_ADD,
    PF_VK_EW_SUB,
    PF_VK_EW_MUL,
    PF_VK_EW_SCALE,
    PF_VK_EW_UNARY,
    PF_VK_EW_MODULATE,
    PF_VK_EW_GATED_ADD,
    PF_VK_EW_BITCOPY,
};

typedef struct pf_vk_pc_elementwise {
    uint32_t ne[4];
    uint32_t n, pad[3];
    uint32_t off[4];    /* dst, a, b, c */
    uint32_t st[4][4];  /* per operand, per dim (two's complement: ivec4 in the shader) */
    float p0, p1;
} pf_vk_pc_elementwise;
static_assert(sizeof(pf_vk_pc_elementwise) <= PF_VK_PUSH_MAX, "push constants");

typedef struct pf_vk_pc_matmul {
    uint32_t M, N, K, pad0;
    uint32_t a_off, b_off, d_off, bias_off;
    uint32_t a_bs, b_bs, d_bs;
    float alpha;
} pf_vk_pc_matmul;
static_assert(sizeof(pf_vk_pc_matmul) <= PF_VK_PUSH_MAX, "push constants");

typedef struct pf_vk_pc_rownorm {
    uint32_t rows, len;
    uint32_t x_off, d_off, w_off, b_off;
    float p0;
} pf_vk_pc_rownorm;
static_assert(sizeof(pf_vk_pc_rownorm) <= PF_VK_PUSH_MAX, "push constants");

typedef struct pf_vk_pc_group_norm {
    uint32_t C, T, HW, cg;
    uint32_t x_off, d_off, w_off, b_off;
    float eps;
} pf_vk_pc_group_norm;
static_assert(sizeof(pf_vk_pc_group_norm) <= PF_VK_PUSH_MAX, "push constants");

typedef struct pf_vk_pc_attention {
    uint32_t B, Nq, Nk, H, D, Dv;
    uint32_t q_off, k_off, v_off, o_off, qm_off, km_off, bias_off;
    float scale;
} pf_vk_pc_attention;
static_assert(sizeof(pf_vk_pc_attention) <= PF_VK_PUSH_MAX, "push constants");

typedef struct pf_vk_pc_conv3d {
    uint32_t Ci, T, H, W;
    uint32_t Co, To, Ho, Wo;
    uint32_t kt, kh, kw, pt;
    uint32_t ph, pw, st, sh;
    uint32_t sw, x_off, w_off, b_off;
    uint32_t f_off, d_off, n_tiles;
} pf_vk_pc_conv3d;
static_assert(sizeof(pf_vk_pc_conv3d) <= PF_VK_PUSH_MAX, "push constants");

typedef struct pf_vk_pc_resample {
    uint32_t n;
    uint32_t C, To, Ho, Wo;
    uint32_t Cin, Ti, Hi, Wi;
    uint32_t drop;
    uint32_t x_off, d_off;
    float mul;
} pf_vk_pc_resample;
static_assert(sizeof(pf_vk_pc_resample) <= PF_VK_PUSH_MAX, "push constants");

typedef struct pf_vk_pc_embedding {
    uint32_t n, dim, V;
    uint32_t t_off, ids_off, d_off;
} pf_vk_pc_embedding;
static_assert(sizeof(pf_vk_pc_embedding) <= PF_VK_PUSH_MAX, "push constants");

typedef struct pf_vk_pc_rope {
    uint32_t n_pairs, N, H, P;
    uint32_t x_off, t_off, d_off;
} pf_vk_pc_rope;
static_assert(sizeof(pf_vk_pc_rope) <= PF_VK_PUSH_MAX, "push constants");

/* ---- shared checks (vk_ops_elementwise.c) ---- */
bool pf_vk_is_float(pf_dtype t);
/* Every tensor of the node (and the node) has float dtype / fits 32-bit element indexing. */
bool pf_vk_check_float_srcs(const pf_tensor *n, int n_src, char *why, size_t len);
bool pf_vk_check_sizes(const pf_tensor *n, char *why, size_t len);
/* Devices with a loop-iteration cap (lavapipe): false with a reason when an invocation's
 * estimated loop iterations, doubled for safety, exceed it. */
bool pf_vk_check_loops(const pf_vk_ctx *c, double iterations, char *why, size_t len);

/* ---- op families ---- */
extern const pf_vk_op pf_vk_op_cpy, pf_vk_op_concat, pf_vk_op_binary, pf_vk_op_scale, pf_vk_op_unary,
    pf_vk_op_modulate, pf_vk_op_gated_add;                                    /* vk_ops_elementwise.c */
extern const pf_vk_op pf_vk_op_linear, pf_vk_op_matmul;                       /* vk_ops_matmul.c */
extern const pf_vk_op pf_vk_op_layer_norm, pf_vk_op_rms_norm, pf_vk_op_group_norm, pf_vk_op_softmax; /* vk_ops_norm.c */
extern const pf_vk_op pf_vk_op_attention;                                     /* vk_ops_attention.c */
extern const pf_vk_op pf_vk_op_conv3d, pf_vk_op_depth_to_space, pf_vk_op_upsample2x,
    pf_vk_op_downsample2x;                                                    /* vk_ops_conv.c */
extern const pf_vk_op pf_vk_op_rope, pf_vk_op_embedding;                      /* vk_ops_misc.c */

#endif /* PF_VK_OPS_H */
