/* Fast CPU kernels: the table the backend consults before the reference kernels. */
#include "cpu_ops.h"

const pf_cpu_kernel pf_cpu_fast_kernels[PF_OP_COUNT] = {
    [PF_OP_CPY] = pf_cpu_fast_cpy,                       /* cpu_fast_copy.c */
    [PF_OP_CONCAT] = pf_cpu_fast_concat,                 /* cpu_fast_copy.c */
    [PF_OP_ADD] = pf_cpu_fast_binary,                    /* cpu_fast_elementwise.c */
    [PF_OP_SUB] = pf_cpu_fast_binary,                    /* cpu_fast_elementwise.c */
    [PF_OP_MUL] = pf_cpu_fast_binary,                    /* cpu_fast_elementwise.c */
    [PF_OP_SCALE] = pf_cpu_fast_scale,                   /* cpu_fast_elementwise.c */
    [PF_OP_UNARY] = pf_cpu_fast_unary,                   /* cpu_fast_elementwise.c */
    [PF_OP_LINEAR] = pf_cpu_fast_linear,                 /* cpu_fast_matmul.c */
    [PF_OP_MATMUL] = pf_cpu_fast_matmul,                 /* cpu_fast_matmul.c */
    [PF_OP_LAYER_NORM] = pf_cpu_fast_layer_norm,         /* cpu_fast_norm.c */
    [PF_OP_RMS_NORM] = pf_cpu_fast_rms_norm,             /* cpu_fast_norm.c */
    [PF_OP_GROUP_NORM] = pf_cpu_fast_group_norm,         /* cpu_fast_norm.c */
    [PF_OP_SOFTMAX] = pf_cpu_fast_softmax,               /* cpu_fast_norm.c */
    [PF_OP_ATTENTION] = pf_cpu_fast_attention,           /* cpu_fast_attention.c */
    [PF_OP_ROPE] = pf_cpu_fast_rope,                     /* cpu_fast_rope.c */
    [PF_OP_MODULATE] = pf_cpu_fast_modulate,             /* cpu_fast_elementwise.c */
    [PF_OP_GATED_ADD] = pf_cpu_fast_gated_add,           /* cpu_fast_elementwise.c */
    [PF_OP_CONV3D] = pf_cpu_fast_conv3d,                 /* cpu_fast_conv.c */
    [PF_OP_DEPTH_TO_SPACE] = pf_cpu_fast_depth_to_space, /* cpu_fast_resample.c */
    [PF_OP_UPSAMPLE2X] = pf_cpu_fast_upsample2x,         /* cpu_fast_resample.c */
    [PF_OP_DOWNSAMPLE2X] = pf_cpu_fast_downsample2x,     /* cpu_fast_resample.c */
    [PF_OP_EMBEDDING] = pf_cpu_fast_embedding,           /* cpu_fast_copy.c */
};
