/* The hand-written conformance cases: every op, dtype and mask mode at small shapes. */
#include "conformance.h"

#define SHAPE(...) ((const int64_t[]){__VA_ARGS__})

static void add_cpy(pf_conf_list *l) {
    static const pf_dtype pairs[][2] = {
        {PF_F32, PF_BF16}, {PF_BF16, PF_F32}, {PF_F32, PF_F16}, {PF_F16, PF_F32}, {PF_F32, PF_F32}, {PF_BF16, PF_BF16}};
    for (size_t i = 0; i < PF_ARRAY_LEN(pairs); i++) {
        pf_conf_case *c = pf_conf_add(l, PF_OP_CPY, "cpy %s->%s [3,5,37]", pf_dtype_name(pairs[i][0]),
                                      pf_dtype_name(pairs[i][1]));
        pf_conf_in(c, pairs[i][0], 3, SHAPE(3, 5, 37), PF_FILL_RANDN);
        c->out_dtype = pairs[i][1];
    }
    pf_conf_case *c = pf_conf_add(l, PF_OP_CPY, "cpy f32 transposed [2,33,17]");
    pf_conf_in(c, PF_F32, 3, SHAPE(2, 33, 17), PF_FILL_RANDN)->perm_last2 = 1;
    c = pf_conf_add(l, PF_OP_CPY, "cpy f32->bf16 transposed [40,24]");
    pf_conf_in(c, PF_F32, 2, SHAPE(40, 24), PF_FILL_RANDN)->perm_last2 = 1;
    c->out_dtype = PF_BF16;
    /* rows of >= 32 elements: the CUDA kernels' row path (pf_cuda_common.cuh) */
    c = pf_conf_add(l, PF_OP_CPY, "cpy bf16 transposed [3,40,48] (rows)");
    pf_conf_in(c, PF_BF16, 3, SHAPE(3, 40, 48), PF_FILL_RANDN)->perm_last2 = 1;
    c->out_dtype = PF_BF16;
}

static void add_concat(pf_conf_list *l) {
    pf_dtype dts[2] = {PF_F32, PF_BF16};
    for (int d = 0; d < 2; d++) {
        pf_conf_case *c = pf_conf_add(l, PF_OP_CONCAT, "concat %s dim1 [2,7|13|5,24]", pf_dtype_name(dts[d]));
        pf_conf_in(c, dts[d], 3, SHAPE(2, 7, 24), PF_FILL_RANDN);
        pf_conf_in(c, dts[d], 3, SHAPE(2, 13, 24), PF_FILL_RANDN);
        pf_conf_in(c, dts[d], 3, SHAPE(2, 5, 24), PF_FILL_RANDN);
        c->ip[0] = 1;
    }
    pf_conf_case *c = pf_conf_add(l, PF_OP_CONCAT, "concat f32 dim2 video [1,4,2|1,3,5]");
    pf_conf_in(c, PF_F32, 5, SHAPE(1, 4, 2, 3, 5), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 5, SHAPE(1, 4, 1, 3, 5), PF_FILL_RANDN);
    c->ip[0] = 2;
    c = pf_conf_add(l, PF_OP_CONCAT, "concat f32 dim0 strided [3,9]+[4,9]");
    pf_conf_in(c, PF_F32, 2, SHAPE(3, 9), PF_FILL_RANDN)->perm_last2 = 1;
    pf_conf_in(c, PF_F32, 2, SHAPE(4, 9), PF_FILL_RANDN);
    c->ip[0] = 0;
    c = pf_conf_add(l, PF_OP_CONCAT, "concat f32 dim1 strided [2,5|9,40] (rows)");
    pf_conf_in(c, PF_F32, 3, SHAPE(2, 5, 40), PF_FILL_RANDN)->perm_last2 = 1;
    pf_conf_in(c, PF_F32, 3, SHAPE(2, 9, 40), PF_FILL_RANDN);
    c->ip[0] = 1;
    c = pf_conf_add(l, PF_OP_CONCAT, "concat bf16 last dim strided [3,40|48] (rows)");
    pf_conf_in(c, PF_BF16, 2, SHAPE(3, 40), PF_FILL_RANDN)->perm_last2 = 1;
    pf_conf_in(c, PF_BF16, 2, SHAPE(3, 48), PF_FILL_RANDN);
    c->ip[0] = 1;
}

static void add_binary(pf_conf_list *l) {
    pf_op ops[3] = {PF_OP_ADD, PF_OP_SUB, PF_OP_MUL};
    for (int o = 0; o < 3; o++) {
        pf_conf_case *c = pf_conf_add(l, ops[o], "%s f32 [2,9,33]", pf_op_name(ops[o]));
        pf_conf_in(c, PF_F32, 3, SHAPE(2, 9, 33), PF_FILL_RANDN);
        pf_conf_in(c, PF_F32, 3, SHAPE(2, 9, 33), PF_FILL_RANDN);
        c = pf_conf_add(l, ops[o], "%s f32 broadcast row [2,9,33]+[33]", pf_op_name(ops[o]));
        pf_conf_in(c, PF_F32, 3, SHAPE(2, 9, 33), PF_FILL_RANDN);
        pf_conf_in(c, PF_F32, 1, SHAPE(33), PF_FILL_RANDN);
    }
    pf_conf_case *c = pf_conf_add(l, PF_OP_ADD, "add f32 broadcast [2,9,33]+[2,1,33]");
    pf_conf_in(c, PF_F32, 3, SHAPE(2, 9, 33), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 3, SHAPE(2, 1, 33), PF_FILL_RANDN);
    c = pf_conf_add(l, PF_OP_MUL, "mul f32 broadcast video [1,4,3,5,6]*[1,4,1,1,1]");
    pf_conf_in(c, PF_F32, 5, SHAPE(1, 4, 3, 5, 6), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 5, SHAPE(1, 4, 1, 1, 1), PF_FILL_RANDN);
    c = pf_conf_add(l, PF_OP_ADD, "add f32 strided src1 [6,20]");
    pf_conf_in(c, PF_F32, 2, SHAPE(6, 20), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 2, SHAPE(6, 20), PF_FILL_RANDN)->perm_last2 = 1;
    c = pf_conf_add(l, PF_OP_ADD, "add f32 strided src1 [6,40] (rows)");
    pf_conf_in(c, PF_F32, 2, SHAPE(6, 40), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 2, SHAPE(6, 40), PF_FILL_RANDN)->perm_last2 = 1;
    c = pf_conf_add(l, PF_OP_ADD, "add bf16 [4,65]");
    pf_conf_in(c, PF_BF16, 2, SHAPE(4, 65), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 2, SHAPE(4, 65), PF_FILL_RANDN);
    c = pf_conf_add(l, PF_OP_MUL, "mul bf16*f32 broadcast [4,65]*[65]");
    pf_conf_in(c, PF_BF16, 2, SHAPE(4, 65), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(65), PF_FILL_RANDN);
}

static void add_scale_unary(pf_conf_list *l) {
    pf_conf_case *c = pf_conf_add(l, PF_OP_SCALE, "scale f32 [5,77]");
    pf_conf_in(c, PF_F32, 2, SHAPE(5, 77), PF_FILL_RANDN);
    c->fp[0] = 0.75f;
    c->fp[1] = -0.25f;
    c = pf_conf_add(l, PF_OP_SCALE, "scale bf16 [5,77]");
    pf_conf_in(c, PF_BF16, 2, SHAPE(5, 77), PF_FILL_RANDN);
    c->fp[0] = 2.0f;
    for (int f = 0; f < PF_UNARY_COUNT; f++) {
        c = pf_conf_add(l, PF_OP_UNARY, "unary %s f32 [3,129]", pf_unary_name((pf_unary)f));
        pf_conf_in(c, PF_F32, 2, SHAPE(3, 129), PF_FILL_RANDN);
        c->ip[0] = f;
    }
    c = pf_conf_add(l, PF_OP_UNARY, "unary gelu_tanh bf16 [3,129]");
    pf_conf_in(c, PF_BF16, 2, SHAPE(3, 129), PF_FILL_RANDN);
    c->ip[0] = PF_UNARY_GELU_TANH;
}

static void add_linear(pf_conf_list *l) {
    pf_conf_case *c = pf_conf_add(l, PF_OP_LINEAR, "linear f32 [7,33]x[17,33]+b");
    pf_conf_in(c, PF_F32, 2, SHAPE(7, 33), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 2, SHAPE(17, 33), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(17), PF_FILL_RANDN);
    c = pf_conf_add(l, PF_OP_LINEAR, "linear f32 [2,130,64]x[96,64]");
    pf_conf_in(c, PF_F32, 3, SHAPE(2, 130, 64), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 2, SHAPE(96, 64), PF_FILL_RANDN);
    c = pf_conf_add(l, PF_OP_LINEAR, "linear f32 [2,200,256]x[320,256]+b");
    pf_conf_in(c, PF_F32, 3, SHAPE(2, 200, 256), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 2, SHAPE(320, 256), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(320), PF_FILL_RANDN);
    c = pf_conf_add(l, PF_OP_LINEAR, "linear f32 x bf16w [3,40,96]x[72,96]+b");
    pf_conf_in(c, PF_F32, 3, SHAPE(3, 40, 96), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 2, SHAPE(72, 96), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(72), PF_FILL_RANDN);
    c = pf_conf_add(l, PF_OP_LINEAR, "linear bf16 x bf16w [2,50,128]x[64,128]+b");
    pf_conf_in(c, PF_BF16, 3, SHAPE(2, 50, 128), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 2, SHAPE(64, 128), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 1, SHAPE(64), PF_FILL_RANDN);
    c = pf_conf_add(l, PF_OP_LINEAR, "linear f32 x f16w [9,48]x[40,48]");
    pf_conf_in(c, PF_F32, 2, SHAPE(9, 48), PF_FILL_RANDN);
    pf_conf_in(c, PF_F16, 2, SHAPE(40, 48), PF_FILL_RANDN);

    c = pf_conf_add(l, PF_OP_MATMUL, "matmul f32 [3,17,24]x[3,19,24]^T a=0.5");
    pf_conf_in(c, PF_F32, 3, SHAPE(3, 17, 24), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 3, SHAPE(3, 19, 24), PF_FILL_RANDN);
    c->ip[0] = 1;
    c->fp[0] = 0.5f;
    c = pf_conf_add(l, PF_OP_MATMUL, "matmul f32 [2,9,16]x[1,16,11] broadcast");
    pf_conf_in(c, PF_F32, 3, SHAPE(2, 9, 16), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 3, SHAPE(1, 16, 11), PF_FILL_RANDN);
    c->fp[0] = 1.0f;
    c = pf_conf_add(l, PF_OP_MATMUL, "matmul bf16 [33,40]x[40,21]");
    pf_conf_in(c, PF_BF16, 2, SHAPE(33, 40), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 2, SHAPE(40, 21), PF_FILL_RANDN);
    c->fp[0] = 1.0f;
}

static void add_norms(pf_conf_list *l) {
    pf_conf_case *c = pf_conf_add(l, PF_OP_LAYER_NORM, "layer_norm f32 [5,64] no affine");
    pf_conf_in(c, PF_F32, 2, SHAPE(5, 64), PF_FILL_RANDN);
    c->fp[0] = 1e-6f;
    c = pf_conf_add(l, PF_OP_LAYER_NORM, "layer_norm f32 [2,7,96] affine");
    pf_conf_in(c, PF_F32, 3, SHAPE(2, 7, 96), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(96), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(96), PF_FILL_RANDN);
    c->ip[1] = c->ip[2] = 1;
    c->fp[0] = 1e-5f;
    c = pf_conf_add(l, PF_OP_LAYER_NORM, "layer_norm bf16 [4,128]");
    pf_conf_in(c, PF_BF16, 2, SHAPE(4, 128), PF_FILL_RANDN);
    c->fp[0] = 1e-6f;
    c = pf_conf_add(l, PF_OP_RMS_NORM, "rms_norm f32 [2,7,3,64] weight");
    pf_conf_in(c, PF_F32, 4, SHAPE(2, 7, 3, 64), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(64), PF_FILL_RANDN);
    c->fp[0] = 1e-6f;
    c = pf_conf_add(l, PF_OP_RMS_NORM, "rms_norm f32 [6,100] no weight");
    pf_conf_in(c, PF_F32, 2, SHAPE(6, 100), PF_FILL_RANDN);
    c->fp[0] = 1e-5f;
    c = pf_conf_add(l, PF_OP_RMS_NORM, "rms_norm bf16 [4,64] weight");
    pf_conf_in(c, PF_BF16, 2, SHAPE(4, 64), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 1, SHAPE(64), PF_FILL_RANDN);
    c->fp[0] = 1e-6f;
    /* rows over 256 elements: the CUDA block-per-row kernel (shorter rows take a warp each) */
    c = pf_conf_add(l, PF_OP_RMS_NORM, "rms_norm f32 [3,700] weight (long rows)");
    pf_conf_in(c, PF_F32, 2, SHAPE(3, 700), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(700), PF_FILL_RANDN);
    c->fp[0] = 1e-6f;
    for (int silu = 0; silu < 2; silu++) {
        c = pf_conf_add(l, PF_OP_GROUP_NORM, "group_norm f32 [1,8,3,5,6] g2 affine%s", silu ? " silu" : "");
        pf_conf_in(c, PF_F32, 5, SHAPE(1, 8, 3, 5, 6), PF_FILL_RANDN);
        pf_conf_in(c, PF_F32, 1, SHAPE(8), PF_FILL_RANDN);
        pf_conf_in(c, PF_F32, 1, SHAPE(8), PF_FILL_RANDN);
        c->ip[0] = 2;
        c->ip[1] = silu;
        c->fp[0] = 1e-6f;
    }
    c = pf_conf_add(l, PF_OP_GROUP_NORM, "group_norm bf16 [2,12,2,4,4] g4 silu");
    pf_conf_in(c, PF_BF16, 5, SHAPE(2, 12, 2, 4, 4), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(12), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(12), PF_FILL_RANDN);
    c->ip[0] = 4;
    c->ip[1] = 1;
    c->fp[0] = 1e-6f;
    c = pf_conf_add(l, PF_OP_SOFTMAX, "softmax f32 [4,37] scale 0.3");
    pf_conf_in(c, PF_F32, 2, SHAPE(4, 37), PF_FILL_RANDN);
    c->fp[0] = 0.3f;
    c = pf_conf_add(l, PF_OP_SOFTMAX, "softmax f32 [2,3,300]");
    pf_conf_in(c, PF_F32, 3, SHAPE(2, 3, 300), PF_FILL_RANDN);
    c->fp[0] = 1.0f;
}

static void add_attention(pf_conf_list *l) {
    pf_conf_case *c = pf_conf_add(l, PF_OP_ATTENTION, "attention f32 none [1,13,2,16]");
    for (int i = 0; i < 3; i++) pf_conf_in(c, PF_F32, 4, SHAPE(1, 13, 2, 16), PF_FILL_RANDN);
    c->ip[0] = PF_MASK_NONE;
    c->fp[0] = 0.25f;
    c = pf_conf_add(l, PF_OP_ATTENTION, "attention f32 causal [2,9,3,32]");
    for (int i = 0; i < 3; i++) pf_conf_in(c, PF_F32, 4, SHAPE(2, 9, 3, 32), PF_FILL_RANDN);
    c->ip[0] = PF_MASK_CAUSAL;
    c->fp[0] = 0.17677669f;
    pf_dtype dts[2] = {PF_F32, PF_BF16};
    for (int d = 0; d < 2; d++) {
        /* Pyramid Flow: 16 text tokens then 3 frames of 12 image tokens */
        c = pf_conf_add(l, PF_OP_ATTENTION, "attention %s frame mask [2,52,2,64]", pf_dtype_name(dts[d]));
        for (int i = 0; i < 3; i++) pf_conf_in(c, dts[d], 4, SHAPE(2, 52, 2, 64), PF_FILL_RANDN);
        pf_conf_input *qm = pf_conf_in(c, PF_I32, 2, SHAPE(2, 52), PF_FILL_FRAME_META);
        qm->range = 16;
        qm->frames = 3;
        pf_conf_input *km = pf_conf_in(c, PF_I32, 2, SHAPE(2, 52), PF_FILL_FRAME_META);
        km->range = 16;
        km->frames = 3;
        c->ip[0] = PF_MASK_FRAME;
        c->fp[0] = 0.125f;
    }
    c = pf_conf_add(l, PF_OP_ATTENTION, "attention f32 key mask + bias [2,11,4,16] (T5)");
    for (int i = 0; i < 3; i++) pf_conf_in(c, PF_F32, 4, SHAPE(2, 11, 4, 16), PF_FILL_RANDN);
    pf_conf_in(c, PF_I32, 2, SHAPE(2, 11), PF_FILL_KEY_META);
    pf_conf_in(c, PF_F32, 3, SHAPE(4, 11, 11), PF_FILL_BIAS);
    c->ip[0] = PF_MASK_KEY;
    c->ip[1] = 1;
    c->fp[0] = 1.0f;
    c = pf_conf_add(l, PF_OP_ATTENTION, "attention f32 none D512 [1,20,1,512] (VAE)");
    for (int i = 0; i < 3; i++) pf_conf_in(c, PF_F32, 4, SHAPE(1, 20, 1, 512), PF_FILL_RANDN);
    c->ip[0] = PF_MASK_NONE;
    c->fp[0] = 0.044194173f;
    c = pf_conf_add(l, PF_OP_ATTENTION, "attention f32 Nq!=Nk Dv!=D [1,5,2,16]x[1,23,2,16|24]");
    pf_conf_in(c, PF_F32, 4, SHAPE(1, 5, 2, 16), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 4, SHAPE(1, 23, 2, 16), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 4, SHAPE(1, 23, 2, 24), PF_FILL_RANDN);
    c->ip[0] = PF_MASK_NONE;
    c->fp[0] = 0.25f;
    c = pf_conf_add(l, PF_OP_ATTENTION, "attention f32 long kv [1,8,1,64]x[1,700,1,64]");
    pf_conf_in(c, PF_F32, 4, SHAPE(1, 8, 1, 64), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 4, SHAPE(1, 700, 1, 64), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 4, SHAPE(1, 700, 1, 64), PF_FILL_RANDN);
    c->ip[0] = PF_MASK_NONE;
    c->fp[0] = 0.125f;
}

static void add_misc(pf_conf_list *l) {
    pf_dtype dts[2] = {PF_F32, PF_BF16};
    for (int d = 0; d < 2; d++) {
        pf_conf_case *c = pf_conf_add(l, PF_OP_ROPE, "rope %s [2,10,3,64]", pf_dtype_name(dts[d]));
        pf_conf_in(c, dts[d], 4, SHAPE(2, 10, 3, 64), PF_FILL_RANDN);
        pf_conf_in(c, PF_F32, 3, SHAPE(10, 32, 2), PF_FILL_ROPE);
        c = pf_conf_add(l, PF_OP_MODULATE, "modulate %s [2,9,32] by [2,1,32]", pf_dtype_name(dts[d]));
        pf_conf_in(c, dts[d], 3, SHAPE(2, 9, 32), PF_FILL_RANDN);
        pf_conf_in(c, dts[d], 3, SHAPE(2, 1, 32), PF_FILL_RANDN);
        pf_conf_in(c, dts[d], 3, SHAPE(2, 1, 32), PF_FILL_RANDN);
        c = pf_conf_add(l, PF_OP_GATED_ADD, "gated_add %s [2,9,32] gate [2,1,32]", pf_dtype_name(dts[d]));
        pf_conf_in(c, dts[d], 3, SHAPE(2, 9, 32), PF_FILL_RANDN);
        pf_conf_in(c, dts[d], 3, SHAPE(2, 1, 32), PF_FILL_RANDN);
        pf_conf_in(c, dts[d], 3, SHAPE(2, 9, 32), PF_FILL_RANDN);
    }
    pf_conf_case *c = pf_conf_add(l, PF_OP_DEPTH_TO_SPACE, "depth_to_space space f32 [1,8,2,3,4]");
    pf_conf_in(c, PF_F32, 5, SHAPE(1, 8, 2, 3, 4), PF_FILL_RANDN);
    c->ip[0] = PF_D2S_SPACE;
    for (int drop = 0; drop < 2; drop++) {
        c = pf_conf_add(l, PF_OP_DEPTH_TO_SPACE, "depth_to_space time f32 [1,6,3,2,2]%s", drop ? " drop first" : "");
        pf_conf_in(c, PF_F32, 5, SHAPE(1, 6, 3, 2, 2), PF_FILL_RANDN);
        c->ip[0] = PF_D2S_TIME;
        c->ip[1] = drop;
    }
    c = pf_conf_add(l, PF_OP_UPSAMPLE2X, "upsample2x f32 [1,3,2,4,5]");
    pf_conf_in(c, PF_F32, 5, SHAPE(1, 3, 2, 4, 5), PF_FILL_RANDN);
    c = pf_conf_add(l, PF_OP_UPSAMPLE2X, "upsample2x bf16 [2,16,1,3,4]");
    pf_conf_in(c, PF_BF16, 5, SHAPE(2, 16, 1, 3, 4), PF_FILL_RANDN);
    c = pf_conf_add(l, PF_OP_DOWNSAMPLE2X, "downsample2x f32 [1,3,2,4,6] x2");
    pf_conf_in(c, PF_F32, 5, SHAPE(1, 3, 2, 4, 6), PF_FILL_RANDN);
    c->fp[0] = 2.0f;
    c = pf_conf_add(l, PF_OP_DOWNSAMPLE2X, "downsample2x bf16 [16,8,12]");
    pf_conf_in(c, PF_BF16, 3, SHAPE(16, 8, 12), PF_FILL_RANDN);
    c->fp[0] = 1.0f;
    c = pf_conf_add(l, PF_OP_EMBEDDING, "embedding f32 [50,8] i32 ids [2,5]");
    pf_conf_in(c, PF_F32, 2, SHAPE(50, 8), PF_FILL_RANDN);
    pf_conf_in(c, PF_I32, 2, SHAPE(2, 5), PF_FILL_IDS)->range = 50;
    c = pf_conf_add(l, PF_OP_EMBEDDING, "embedding bf16 [40,24] i64 ids [7]");
    pf_conf_in(c, PF_BF16, 2, SHAPE(40, 24), PF_FILL_RANDN);
    pf_conf_in(c, PF_I64, 1, SHAPE(7), PF_FILL_IDS)->range = 40;
}

static void add_conv(pf_conf_list *l) {
    /* ip: pad_t, pad_h, pad_w, st, sh, sw, has_bias, has_front */
    pf_conf_case *c = pf_conf_add(l, PF_OP_CONV3D, "conv3d f32 k3 causal [1,4,3,6,5]->6 +b");
    pf_conf_in(c, PF_F32, 5, SHAPE(1, 4, 3, 6, 5), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 5, SHAPE(6, 4, 3, 3, 3), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(6), PF_FILL_RANDN);
    memcpy(c->ip, (int32_t[]){2, 1, 1, 1, 1, 1, 1, 0}, 8 * sizeof(int32_t));
    c = pf_conf_add(l, PF_OP_CONV3D, "conv3d f32 k3 with cache [1,4,2,6,5]+front2 +b");
    pf_conf_in(c, PF_F32, 5, SHAPE(1, 4, 2, 6, 5), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 5, SHAPE(5, 4, 3, 3, 3), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(5), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 5, SHAPE(1, 4, 2, 6, 5), PF_FILL_RANDN);
    memcpy(c->ip, (int32_t[]){2, 1, 1, 1, 1, 1, 1, 1}, 8 * sizeof(int32_t));
    c = pf_conf_add(l, PF_OP_CONV3D, "conv3d f32 spatial stride 2 [1,3,2,8,6]->4");
    pf_conf_in(c, PF_F32, 5, SHAPE(1, 3, 2, 8, 6), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 5, SHAPE(4, 3, 3, 3, 3), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(4), PF_FILL_RANDN);
    memcpy(c->ip, (int32_t[]){2, 1, 1, 1, 2, 2, 1, 0}, 8 * sizeof(int32_t));
    c = pf_conf_add(l, PF_OP_CONV3D, "conv3d f32 temporal stride 2 [1,3,5,4,4]->3");
    pf_conf_in(c, PF_F32, 5, SHAPE(1, 3, 5, 4, 4), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 5, SHAPE(3, 3, 3, 3, 3), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(3), PF_FILL_RANDN);
    memcpy(c->ip, (int32_t[]){2, 1, 1, 2, 1, 1, 1, 0}, 8 * sizeof(int32_t));
    c = pf_conf_add(l, PF_OP_CONV3D, "conv3d f32 1x1x1 [1,8,2,3,3]->5");
    pf_conf_in(c, PF_F32, 5, SHAPE(1, 8, 2, 3, 3), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 5, SHAPE(5, 8, 1, 1, 1), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(5), PF_FILL_RANDN);
    memcpy(c->ip, (int32_t[]){0, 0, 0, 1, 1, 1, 1, 0}, 8 * sizeof(int32_t));
    c = pf_conf_add(l, PF_OP_CONV3D, "conv3d f32 patch 1x2x2 s2 [2,16,2,8,12]->24");
    pf_conf_in(c, PF_F32, 5, SHAPE(2, 16, 2, 8, 12), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 5, SHAPE(24, 16, 1, 2, 2), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(24), PF_FILL_RANDN);
    memcpy(c->ip, (int32_t[]){0, 0, 0, 1, 2, 2, 1, 0}, 8 * sizeof(int32_t));
    c = pf_conf_add(l, PF_OP_CONV3D, "conv3d bf16 k3 causal [1,8,2,5,5]->8 +b");
    pf_conf_in(c, PF_BF16, 5, SHAPE(1, 8, 2, 5, 5), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 5, SHAPE(8, 8, 3, 3, 3), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 1, SHAPE(8), PF_FILL_RANDN);
    memcpy(c->ip, (int32_t[]){2, 1, 1, 1, 1, 1, 1, 0}, 8 * sizeof(int32_t));
}

/* VAE-like convs (3x3x3, 16..64 input channels, 32 outputs) that the CUDA backend
 * computes as im2col + GEMM: every operand / output type mix of its GEMM path (bf16
 * tensor cores writing bf16 or f32, true f32, f16, and an f32 result chunk rounded into
 * a bf16 output), the causal pad with and without the front cache, spatial stride 2, two
 * batch items, a 1x1x1 conv without columns. Position counts (297, 140, 168, ...) are
 * not multiples of 128, so with PF_CUDA_CONV_CHUNK=1 (128-position chunks: run.sh of
 * tests/cuda_emu) the last chunk is partial. */
static void add_conv_gemm(pf_conf_list *l) {
    /* ip: pad_t, pad_h, pad_w, st, sh, sw, has_bias, has_front */
    pf_conf_case *c = pf_conf_add(l, PF_OP_CONV3D, "conv3d bf16 k3 causal [1,32,3,9,11]->32 +b (GEMM)");
    pf_conf_in(c, PF_BF16, 5, SHAPE(1, 32, 3, 9, 11), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 5, SHAPE(32, 32, 3, 3, 3), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 1, SHAPE(32), PF_FILL_RANDN);
    memcpy(c->ip, (int32_t[]){2, 1, 1, 1, 1, 1, 1, 0}, 8 * sizeof(int32_t));
    c = pf_conf_add(l, PF_OP_CONV3D, "conv3d f32 k3 cache [2,16,2,7,10]+front2->32 +b (GEMM)");
    pf_conf_in(c, PF_F32, 5, SHAPE(2, 16, 2, 7, 10), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 5, SHAPE(32, 16, 3, 3, 3), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(32), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 5, SHAPE(2, 16, 2, 7, 10), PF_FILL_RANDN);
    memcpy(c->ip, (int32_t[]){2, 1, 1, 1, 1, 1, 1, 1}, 8 * sizeof(int32_t));
    c = pf_conf_add(l, PF_OP_CONV3D, "conv3d bf16 k3 cache s(1,2,2) [1,64,4,11,13]+front2->32 +b (GEMM)");
    pf_conf_in(c, PF_BF16, 5, SHAPE(1, 64, 4, 11, 13), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 5, SHAPE(32, 64, 3, 3, 3), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 1, SHAPE(32), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 5, SHAPE(1, 64, 2, 11, 13), PF_FILL_RANDN);
    memcpy(c->ip, (int32_t[]){2, 1, 1, 1, 2, 2, 1, 1}, 8 * sizeof(int32_t));
    c = pf_conf_add(l, PF_OP_CONV3D, "conv3d f32 x bf16w k3 causal s(1,2,2) [1,24,3,10,9]->32 (GEMM)");
    pf_conf_in(c, PF_F32, 5, SHAPE(1, 24, 3, 10, 9), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 5, SHAPE(32, 24, 3, 3, 3), PF_FILL_RANDN);
    memcpy(c->ip, (int32_t[]){2, 1, 1, 1, 2, 2, 0, 0}, 8 * sizeof(int32_t));
    c = pf_conf_add(l, PF_OP_CONV3D, "conv3d bf16 x f32w k3 causal [1,16,3,8,10]->32 +b (GEMM, f32 chunk)");
    pf_conf_in(c, PF_BF16, 5, SHAPE(1, 16, 3, 8, 10), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 5, SHAPE(32, 16, 3, 3, 3), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(32), PF_FILL_RANDN);
    memcpy(c->ip, (int32_t[]){2, 1, 1, 1, 1, 1, 1, 0}, 8 * sizeof(int32_t));
    c = pf_conf_add(l, PF_OP_CONV3D, "conv3d f16 k3 causal [1,16,2,6,9]->32 +b (GEMM)");
    pf_conf_in(c, PF_F16, 5, SHAPE(1, 16, 2, 6, 9), PF_FILL_RANDN);
    pf_conf_in(c, PF_F16, 5, SHAPE(32, 16, 3, 3, 3), PF_FILL_RANDN);
    pf_conf_in(c, PF_F16, 1, SHAPE(32), PF_FILL_RANDN);
    memcpy(c->ip, (int32_t[]){2, 1, 1, 1, 1, 1, 1, 0}, 8 * sizeof(int32_t));
    c = pf_conf_add(l, PF_OP_CONV3D, "conv3d bf16 1x1x1 [2,64,2,4,24]->32 +b (GEMM, no columns)");
    pf_conf_in(c, PF_BF16, 5, SHAPE(2, 64, 2, 4, 24), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 5, SHAPE(32, 64, 1, 1, 1), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 1, SHAPE(32), PF_FILL_RANDN);
    memcpy(c->ip, (int32_t[]){0, 0, 0, 1, 1, 1, 1, 0}, 8 * sizeof(int32_t));
}

/* Shapes that cross the GPU kernels' tile and block boundaries: several query and key
 * tiles with partial last ones, the causal early exit, input-channel chunks and a partial
 * output-channel group in conv3d, rows longer than a block, a leading dimension no
 * tensor-core GEMM takes (the reference-kernel fallback), a strided batch. */
static void add_tiling(pf_conf_list *l) {
    pf_conf_case *c = pf_conf_add(l, PF_OP_ATTENTION, "attention f32 none D128 [1,70,2,128] (tiles)");
    for (int i = 0; i < 3; i++) pf_conf_in(c, PF_F32, 4, SHAPE(1, 70, 2, 128), PF_FILL_RANDN);
    c->ip[0] = PF_MASK_NONE;
    c->fp[0] = 0.08838835f;
    c = pf_conf_add(l, PF_OP_ATTENTION, "attention f32 causal [1,100,2,64] (tiles)");
    for (int i = 0; i < 3; i++) pf_conf_in(c, PF_F32, 4, SHAPE(1, 100, 2, 64), PF_FILL_RANDN);
    c->ip[0] = PF_MASK_CAUSAL;
    c->fp[0] = 0.125f;
    c = pf_conf_add(l, PF_OP_ATTENTION, "attention bf16 frame mask [1,120,3,64] (tiles)");
    for (int i = 0; i < 3; i++) pf_conf_in(c, PF_BF16, 4, SHAPE(1, 120, 3, 64), PF_FILL_RANDN);
    for (int i = 0; i < 2; i++) {
        pf_conf_input *m = pf_conf_in(c, PF_I32, 2, SHAPE(1, 120), PF_FILL_FRAME_META);
        m->range = 24;
        m->frames = 4;
    }
    c->ip[0] = PF_MASK_FRAME;
    c->fp[0] = 0.125f;
    c = pf_conf_add(l, PF_OP_CONV3D, "conv3d f32 k3 cache [1,40,2,5,6]->13 +b (chunks)");
    pf_conf_in(c, PF_F32, 5, SHAPE(1, 40, 2, 5, 6), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 5, SHAPE(13, 40, 3, 3, 3), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(13), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 5, SHAPE(1, 40, 2, 5, 6), PF_FILL_RANDN);
    memcpy(c->ip, (int32_t[]){2, 1, 1, 1, 1, 1, 1, 1}, 8 * sizeof(int32_t));
    c = pf_conf_add(l, PF_OP_LAYER_NORM, "layer_norm f32 [3,1000] affine (long rows)");
    pf_conf_in(c, PF_F32, 2, SHAPE(3, 1000), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(1000), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(1000), PF_FILL_RANDN);
    c->ip[1] = c->ip[2] = 1;
    c->fp[0] = 1e-6f;
    c = pf_conf_add(l, PF_OP_SOFTMAX, "softmax f32 [2,3000] (long rows)");
    pf_conf_in(c, PF_F32, 2, SHAPE(2, 3000), PF_FILL_RANDN);
    c->fp[0] = 1.0f;
    c = pf_conf_add(l, PF_OP_GROUP_NORM, "group_norm f32 [1,64,2,9,9] g32 silu");
    pf_conf_in(c, PF_F32, 5, SHAPE(1, 64, 2, 9, 9), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(64), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(64), PF_FILL_RANDN);
    c->ip[0] = 32;
    c->ip[1] = 1;
    c->fp[0] = 1e-6f;
    c = pf_conf_add(l, PF_OP_LINEAR, "linear bf16 odd K [5,37]x[19,37]+b");
    pf_conf_in(c, PF_BF16, 2, SHAPE(5, 37), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 2, SHAPE(19, 37), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 1, SHAPE(19), PF_FILL_RANDN);
    c = pf_conf_add(l, PF_OP_MATMUL, "matmul f32 strided batch [4,33,20]x[4,20,17]");
    pf_conf_in(c, PF_F32, 3, SHAPE(4, 33, 20), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 3, SHAPE(4, 20, 17), PF_FILL_RANDN);
    c->fp[0] = 1.0f;
}

/* Paths GPU kernels split on: tile edges (64x64 GEMM tiles, 16-deep K steps, 16x32
 * attention tiles), more than one workgroup, broadcasts that leave 5 unmergeable dims,
 * reductions longer than one workgroup, and the dtype mixes the models use. */
static void add_gpu_paths(pf_conf_list *l) {
    pf_conf_case *c = pf_conf_add(l, PF_OP_MATMUL, "matmul f32 tile edges [2,67,130]x[2,65,130]^T a=0.7");
    pf_conf_in(c, PF_F32, 3, SHAPE(2, 67, 130), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 3, SHAPE(2, 65, 130), PF_FILL_RANDN);
    c->ip[0] = 1;
    c->fp[0] = 0.7f;
    c = pf_conf_add(l, PF_OP_MATMUL, "matmul f16 x bf16 [3,70]x[70,129]");
    pf_conf_in(c, PF_F16, 2, SHAPE(3, 70), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 2, SHAPE(70, 129), PF_FILL_RANDN);
    c->fp[0] = 1.0f;
    c = pf_conf_add(l, PF_OP_LINEAR, "linear bf16 x f32w [129,72]x[65,72]+b");
    pf_conf_in(c, PF_BF16, 2, SHAPE(129, 72), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 2, SHAPE(65, 72), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(65), PF_FILL_RANDN);
    c = pf_conf_add(l, PF_OP_LINEAR, "linear f32 x bf16w few rows [2,300]x[131,300]+b");
    pf_conf_in(c, PF_F32, 2, SHAPE(2, 300), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 2, SHAPE(131, 300), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 1, SHAPE(131), PF_FILL_RANDN);
    c = pf_conf_add(l, PF_OP_LINEAR, "linear f16 x f16w [8,40]x[33,40]");
    pf_conf_in(c, PF_F16, 2, SHAPE(8, 40), PF_FILL_RANDN);
    pf_conf_in(c, PF_F16, 2, SHAPE(33, 40), PF_FILL_RANDN);

    c = pf_conf_add(l, PF_OP_ATTENTION, "attention f32 frame mask multi-tile [1,100,2,64] 4 frames");
    for (int i = 0; i < 3; i++) pf_conf_in(c, PF_F32, 4, SHAPE(1, 100, 2, 64), PF_FILL_RANDN);
    for (int i = 0; i < 2; i++) {
        pf_conf_input *m = pf_conf_in(c, PF_I32, 2, SHAPE(1, 100), PF_FILL_FRAME_META);
        m->range = 20;
        m->frames = 4;
    }
    c->ip[0] = PF_MASK_FRAME;
    c->fp[0] = 0.125f;
    c = pf_conf_add(l, PF_OP_ATTENTION, "attention f16 q, f32 kv causal [1,70,2,32]");
    pf_conf_in(c, PF_F16, 4, SHAPE(1, 70, 2, 32), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 4, SHAPE(1, 70, 2, 32), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 4, SHAPE(1, 70, 2, 32), PF_FILL_RANDN);
    c->ip[0] = PF_MASK_CAUSAL;
    c->fp[0] = 0.17677669f;
    c = pf_conf_add(l, PF_OP_ATTENTION, "attention bf16 key mask D128 [2,40,1,128]");
    for (int i = 0; i < 3; i++) pf_conf_in(c, PF_BF16, 4, SHAPE(2, 40, 1, 128), PF_FILL_RANDN);
    pf_conf_in(c, PF_I32, 2, SHAPE(2, 40), PF_FILL_KEY_META);
    c->ip[0] = PF_MASK_KEY;
    c->fp[0] = 0.088388f;
    c = pf_conf_add(l, PF_OP_ATTENTION, "attention f32 none D256 [1,33,1,256]x[1,19,1,256]");
    pf_conf_in(c, PF_F32, 4, SHAPE(1, 33, 1, 256), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 4, SHAPE(1, 19, 1, 256), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 4, SHAPE(1, 19, 1, 256), PF_FILL_RANDN);
    c->ip[0] = PF_MASK_NONE;
    c->fp[0] = 0.0625f;

    /* long key loops: more iterations than lavapipe allowed the first kernel version */
    c = pf_conf_add(l, PF_OP_ATTENTION, "attention f32 long keys [1,16,1,64]x[1,5000,1,64]");
    pf_conf_in(c, PF_F32, 4, SHAPE(1, 16, 1, 64), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 4, SHAPE(1, 5000, 1, 64), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 4, SHAPE(1, 5000, 1, 64), PF_FILL_RANDN);
    c->ip[0] = PF_MASK_NONE;
    c->fp[0] = 0.125f;
    c = pf_conf_add(l, PF_OP_ATTENTION, "attention bf16 long keys D512 [1,4,1,512]x[1,1200,1,512]");
    pf_conf_in(c, PF_BF16, 4, SHAPE(1, 4, 1, 512), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 4, SHAPE(1, 1200, 1, 512), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 4, SHAPE(1, 1200, 1, 512), PF_FILL_RANDN);
    c->ip[0] = PF_MASK_NONE;
    c->fp[0] = 0.044194173f;

    /* the tensor-core attention (bf16, head dim 64, no bias): every mask mode, partial
     * 64-query and 64-key tiles, Nq != Nk, skipped key tiles, rows that see no key */
    c = pf_conf_add(l, PF_OP_ATTENTION, "attention bf16 none [1,200,2,64]x[1,77,2,64] (mma)");
    pf_conf_in(c, PF_BF16, 4, SHAPE(1, 200, 2, 64), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 4, SHAPE(1, 77, 2, 64), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 4, SHAPE(1, 77, 2, 64), PF_FILL_RANDN);
    c->ip[0] = PF_MASK_NONE;
    c->fp[0] = 0.125f;
    c = pf_conf_add(l, PF_OP_ATTENTION, "attention bf16 causal [2,200,2,64] (mma)");
    for (int i = 0; i < 3; i++) pf_conf_in(c, PF_BF16, 4, SHAPE(2, 200, 2, 64), PF_FILL_RANDN);
    c->ip[0] = PF_MASK_CAUSAL;
    c->fp[0] = 0.125f;
    c = pf_conf_add(l, PF_OP_ATTENTION, "attention bf16 key mask [2,77,2,64]x[2,200,2,64] (mma)");
    pf_conf_in(c, PF_BF16, 4, SHAPE(2, 77, 2, 64), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 4, SHAPE(2, 200, 2, 64), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 4, SHAPE(2, 200, 2, 64), PF_FILL_RANDN);
    pf_conf_in(c, PF_I32, 2, SHAPE(2, 200), PF_FILL_KEY_META);
    c->ip[0] = PF_MASK_KEY;
    c->fp[0] = 0.125f;
    /* key tiles skipped between visible ones (runs of 128 keys, every third invalid), the
     * copy of the next visible tile issued across the gap; 50 queries: the 4-warp kernel,
     * 200: the 8-warp one */
    for (int nq = 50; nq <= 200; nq += 150) {
        c = pf_conf_add(l, PF_OP_ATTENTION, "attention bf16 key mask gaps [2,%d,2,64]x[2,700,2,64] (mma skip)", nq);
        pf_conf_in(c, PF_BF16, 4, SHAPE(2, nq, 2, 64), PF_FILL_RANDN);
        pf_conf_in(c, PF_BF16, 4, SHAPE(2, 700, 2, 64), PF_FILL_RANDN);
        pf_conf_in(c, PF_BF16, 4, SHAPE(2, 700, 2, 64), PF_FILL_RANDN);
        pf_conf_in(c, PF_I32, 2, SHAPE(2, 700), PF_FILL_KEY_META)->range = 128;
        c->ip[0] = PF_MASK_KEY;
        c->fp[0] = 0.125f;
    }
    /* 40 text tokens then 16 frames of about 65 image tokens: the first query tiles see
     * none of the later key tiles (skipped); the two batches get different text prefixes */
    c = pf_conf_add(l, PF_OP_ATTENTION, "attention bf16 frame mask [2,1088,1,64] 16 frames (mma skip)");
    for (int i = 0; i < 3; i++) pf_conf_in(c, PF_BF16, 4, SHAPE(2, 1088, 1, 64), PF_FILL_RANDN);
    for (int i = 0; i < 2; i++) {
        pf_conf_input *m = pf_conf_in(c, PF_I32, 2, SHAPE(2, 1088), PF_FILL_FRAME_META);
        m->range = 40;
        m->frames = 16;
    }
    c->ip[0] = PF_MASK_FRAME;
    c->fp[0] = 0.125f;
    /* keys are image tokens only (valid bit 1): the queries' padding text tokens (valid
     * bit 0) see no key and must come out as zeros */
    c = pf_conf_add(l, PF_OP_ATTENTION, "attention bf16 frame mask empty rows [2,200,2,64]x[2,77,2,64] (mma)");
    pf_conf_in(c, PF_BF16, 4, SHAPE(2, 200, 2, 64), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 4, SHAPE(2, 77, 2, 64), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 4, SHAPE(2, 77, 2, 64), PF_FILL_RANDN);
    pf_conf_input *fm = pf_conf_in(c, PF_I32, 2, SHAPE(2, 200), PF_FILL_FRAME_META);
    fm->range = 24;
    fm->frames = 3;
    fm = pf_conf_in(c, PF_I32, 2, SHAPE(2, 77), PF_FILL_FRAME_META);
    fm->range = 0;
    fm->frames = 2;
    c->ip[0] = PF_MASK_FRAME;
    c->fp[0] = 0.125f;

    c = pf_conf_add(l, PF_OP_ADD, "add f32 5-d broadcast [2,3,4,5,6]+[2,1,4,1,6]");
    pf_conf_in(c, PF_F32, 5, SHAPE(2, 3, 4, 5, 6), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 5, SHAPE(2, 1, 4, 1, 6), PF_FILL_RANDN);
    c = pf_conf_add(l, PF_OP_MODULATE, "modulate f32 [2,5,3,8] shift [2,1,1,8] scale [1,5,1,8]");
    pf_conf_in(c, PF_F32, 4, SHAPE(2, 5, 3, 8), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 4, SHAPE(2, 1, 1, 8), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 4, SHAPE(1, 5, 1, 8), PF_FILL_RANDN);
    c = pf_conf_add(l, PF_OP_GATED_ADD, "gated_add bf16 x, f32 gate [3,300] gate [300]");
    pf_conf_in(c, PF_BF16, 2, SHAPE(3, 300), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(300), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 2, SHAPE(3, 300), PF_FILL_RANDN);
    c = pf_conf_add(l, PF_OP_SUB, "sub f16 strided src0 [30,20]");
    pf_conf_in(c, PF_F16, 2, SHAPE(30, 20), PF_FILL_RANDN)->perm_last2 = 1;
    pf_conf_in(c, PF_F16, 2, SHAPE(30, 20), PF_FILL_RANDN);
    c = pf_conf_add(l, PF_OP_CPY, "cpy i32->f32 [5,7]");
    pf_conf_in(c, PF_I32, 2, SHAPE(5, 7), PF_FILL_IDS)->range = 1000;
    c->out_dtype = PF_F32;
    c = pf_conf_add(l, PF_OP_CPY, "cpy bf16->f16 permuted [6,4,9]");
    pf_conf_in(c, PF_BF16, 3, SHAPE(6, 4, 9), PF_FILL_RANDN)->perm_last2 = 1;
    c->out_dtype = PF_F16;
    c = pf_conf_add(l, PF_OP_CONCAT, "concat bf16 last dim [3,5|11]");
    pf_conf_in(c, PF_BF16, 2, SHAPE(3, 5), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 2, SHAPE(3, 11), PF_FILL_RANDN);
    c->ip[0] = 1;
    c = pf_conf_add(l, PF_OP_UNARY, "unary silu f16 [700]");
    pf_conf_in(c, PF_F16, 1, SHAPE(700), PF_FILL_RANDN);
    c->ip[0] = PF_UNARY_SILU;

    c = pf_conf_add(l, PF_OP_SOFTMAX, "softmax f32 long rows [3,2000] scale 2");
    pf_conf_in(c, PF_F32, 2, SHAPE(3, 2000), PF_FILL_RANDN);
    c->fp[0] = 2.0f;
    c = pf_conf_add(l, PF_OP_LAYER_NORM, "layer_norm f32 x, bf16 affine [3,1536]");
    pf_conf_in(c, PF_F32, 2, SHAPE(3, 1536), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 1, SHAPE(1536), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 1, SHAPE(1536), PF_FILL_RANDN);
    c->ip[1] = c->ip[2] = 1;
    c->fp[0] = 1e-6f;
    c = pf_conf_add(l, PF_OP_RMS_NORM, "rms_norm f16 [40,3,64] weight");
    pf_conf_in(c, PF_F16, 3, SHAPE(40, 3, 64), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(64), PF_FILL_RANDN);
    c->fp[0] = 1e-5f;
    c = pf_conf_add(l, PF_OP_GROUP_NORM, "group_norm f32 [1,32,2,16,20] g8 no affine");
    pf_conf_in(c, PF_F32, 5, SHAPE(1, 32, 2, 16, 20), PF_FILL_RANDN);
    c->ip[0] = 8;
    c->fp[0] = 1e-6f;
    /* few (b, g, t) units over planes of >= 2048 positions: the split (several blocks per
     * unit) CUDA kernels, with slices that do not divide the plane */
    c = pf_conf_add(l, PF_OP_GROUP_NORM, "group_norm bf16 [1,8,1,33,97] g4 silu (split planes)");
    pf_conf_in(c, PF_BF16, 5, SHAPE(1, 8, 1, 33, 97), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(8), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(8), PF_FILL_RANDN);
    c->ip[0] = 4;
    c->ip[1] = 1;
    c->fp[0] = 1e-6f;
    c = pf_conf_add(l, PF_OP_GROUP_NORM, "group_norm f32 [2,16,2,40,64] g8 affine (split planes)");
    pf_conf_in(c, PF_F32, 5, SHAPE(2, 16, 2, 40, 64), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(16), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(16), PF_FILL_RANDN);
    c->ip[0] = 8;
    c->fp[0] = 1e-6f;

    c = pf_conf_add(l, PF_OP_CONV3D, "conv3d f32 x bf16w multi-tile [1,16,2,10,12]->80 +b");
    pf_conf_in(c, PF_F32, 5, SHAPE(1, 16, 2, 10, 12), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 5, SHAPE(80, 16, 3, 3, 3), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(80), PF_FILL_RANDN);
    memcpy(c->ip, (int32_t[]){2, 1, 1, 1, 1, 1, 1, 0}, 8 * sizeof(int32_t));
    c = pf_conf_add(l, PF_OP_CONV3D, "conv3d bf16 cache + strides [2,4,3,7,9]+front1 s(1,2,2)");
    pf_conf_in(c, PF_BF16, 5, SHAPE(2, 4, 3, 7, 9), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 5, SHAPE(6, 4, 2, 3, 3), PF_FILL_RANDN);
    pf_conf_in(c, PF_BF16, 5, SHAPE(2, 4, 1, 7, 9), PF_FILL_RANDN);
    memcpy(c->ip, (int32_t[]){1, 1, 1, 1, 2, 2, 0, 1}, 8 * sizeof(int32_t));
    c = pf_conf_add(l, PF_OP_CONV3D, "conv3d f32 few channels multi-tile [1,5,3,14,15]->3 +b");
    pf_conf_in(c, PF_F32, 5, SHAPE(1, 5, 3, 14, 15), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 5, SHAPE(3, 5, 3, 3, 3), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 1, SHAPE(3), PF_FILL_RANDN);
    memcpy(c->ip, (int32_t[]){2, 1, 1, 1, 1, 1, 1, 0}, 8 * sizeof(int32_t));
    c = pf_conf_add(l, PF_OP_CONV3D, "conv3d f32 16 channels, weight slices [1,20,2,6,7]+front2 s(1,1,2)");
    pf_conf_in(c, PF_F32, 5, SHAPE(1, 20, 2, 6, 7), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 5, SHAPE(16, 20, 3, 3, 3), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 5, SHAPE(1, 20, 2, 6, 7), PF_FILL_RANDN);
    memcpy(c->ip, (int32_t[]){2, 1, 1, 1, 1, 2, 0, 1}, 8 * sizeof(int32_t));
    c = pf_conf_add(l, PF_OP_CONV3D, "conv3d f32 17 channels [1,4,2,9,10]->17");
    pf_conf_in(c, PF_F32, 5, SHAPE(1, 4, 2, 9, 10), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 5, SHAPE(17, 4, 1, 3, 3), PF_FILL_RANDN);
    memcpy(c->ip, (int32_t[]){0, 1, 1, 1, 1, 1, 0, 0}, 8 * sizeof(int32_t));
    c = pf_conf_add(l, PF_OP_ROPE, "rope f16 [1,7,2,16]");
    pf_conf_in(c, PF_F16, 4, SHAPE(1, 7, 2, 16), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 3, SHAPE(7, 8, 2), PF_FILL_ROPE);
    /* heads of more than 64: more than one pair per lane in the CUDA kernel's warp-per-row loop */
    c = pf_conf_add(l, PF_OP_ROPE, "rope bf16 [2,5,3,160]");
    pf_conf_in(c, PF_BF16, 4, SHAPE(2, 5, 3, 160), PF_FILL_RANDN);
    pf_conf_in(c, PF_F32, 3, SHAPE(5, 80, 2), PF_FILL_ROPE);
    c = pf_conf_add(l, PF_OP_DEPTH_TO_SPACE, "depth_to_space space bf16 [1,12,1,3,5]");
    pf_conf_in(c, PF_BF16, 5, SHAPE(1, 12, 1, 3, 5), PF_FILL_RANDN);
    c->ip[0] = PF_D2S_SPACE;
    c = pf_conf_add(l, PF_OP_DOWNSAMPLE2X, "downsample2x f16 [2,6,10] x0.5");
    pf_conf_in(c, PF_F16, 3, SHAPE(2, 6, 10), PF_FILL_RANDN);
    c->fp[0] = 0.5f;
    c = pf_conf_add(l, PF_OP_EMBEDDING, "embedding f16 [300,20] i32 ids [3,70]");
    pf_conf_in(c, PF_F16, 2, SHAPE(300, 20), PF_FILL_RANDN);
    pf_conf_in(c, PF_I32, 2, SHAPE(3, 70), PF_FILL_IDS)->range = 300;
}

void pf_conf_cases_ci(pf_conf_list *l) {
    add_cpy(l);
    add_concat(l);
    add_binary(l);
    add_scale_unary(l);
    add_linear(l);
    add_norms(l);
    add_attention(l);
    add_misc(l);
    add_conv(l);
    add_conv_gemm(l);
    add_tiling(l);
    add_gpu_paths(l);
}
