/*
 * CPU fast kernels against the reference kernels, GEMM-based ops: linear,
 * matmul, conv3d (every GEMM of the build: OpenBLAS and the portable one) and
 * attention with every mask mode. Shapes are small but odd: not multiples of
 * the micro-kernel tiles, several K and N blocks, a handful of rows (the
 * streaming path), bf16/f16 weights and activations.
 */
#include "unit/cpu_op_check.h"

/* f32 GEMMs against double accumulation: K up to a few hundred of U(-1, 1) products */
#define MM_TOL TOL(1e-11, 2e-4)
/* bf16 outputs: both paths round to bf16 at the end and may land one bf16 step apart */
#define BF16_OUT TOL(2e-5, 0.1)

/* ---------------------------------------------------------------- linear, matmul */

typedef struct {
    bool bias;
} lin_p;

static pf_tensor *b_linear(pf_graph *g, pf_tensor **in, const void *p) {
    const lin_p *lp = p;
    return pf_linear(g, in[0], in[1], lp->bias ? in[2] : NULL);
}

typedef struct {
    bool trans_b;
    float alpha;
} mm_p;

static pf_tensor *b_matmul(pf_graph *g, pf_tensor **in, const void *p) {
    const mm_p *mp = p;
    return pf_matmul(g, in[0], in[1], mp->trans_b, mp->alpha);
}

static pf_test_result test_linear(void) {
    static const lin_p bias = {.bias = true}, nobias = {.bias = false};
    const oc_case cs[] = {
        OCF(.gemm = true, "linear odd", b_linear, &bias, MM_TOL, IN(PF_F32, 2, 37, 29), IN(PF_F32, 2, 31, 29),
            IN(PF_F32, 1, 31)),
        OCF(.gemm = true, "linear 3-D x, no bias", b_linear, &nobias, MM_TOL, IN(PF_F32, 3, 2, 23, 130),
            IN(PF_F32, 2, 70, 130)),
        OCF(.gemm = true, "linear several K and M blocks", b_linear, &bias, MM_TOL, IN(PF_F32, 2, 203, 300),
            IN(PF_F32, 2, 97, 300), IN(PF_F32, 1, 97)),
        OCF(.gemm = true, "linear wide N (two column panels)", b_linear, &bias, MM_TOL, IN(PF_F32, 2, 9, 20),
            IN(PF_F32, 2, 4200, 20), IN(PF_F32, 1, 4200)),
        OCF(.gemm = true, "linear 2 rows (streaming)", b_linear, &bias, MM_TOL, IN(PF_F32, 2, 2, 333),
            IN(PF_F32, 2, 150, 333), IN(PF_F32, 1, 150)),
        OCF(.gemm = true, "linear 4 rows bf16 weight (streaming)", b_linear, &bias, MM_TOL, IN(PF_F32, 2, 4, 100),
            IN(PF_BF16, 2, 77, 100), IN(PF_BF16, 1, 77)),
        OCF(.gemm = true, "linear 5 rows bf16 weight", b_linear, &nobias, MM_TOL, IN(PF_F32, 2, 5, 100),
            IN(PF_BF16, 2, 77, 100)),
        OCF(.gemm = true, "linear bf16 weight", b_linear, &bias, MM_TOL, IN(PF_F32, 2, 61, 257), IN(PF_BF16, 2, 45, 257),
            IN(PF_F32, 1, 45)),
        OCF(.gemm = true, "linear f16 weight", b_linear, &bias, MM_TOL, IN(PF_F32, 2, 19, 40), IN(PF_F16, 2, 33, 40),
            IN(PF_F32, 1, 33)),
        OCF(.gemm = true, "linear bf16 activations", b_linear, &bias, BF16_OUT, IN(PF_BF16, 2, 21, 64),
            IN(PF_BF16, 2, 50, 64), IN(PF_BF16, 1, 50)),
        OCF(.gemm = true, "linear bf16 activations, 3 rows", b_linear, &nobias, BF16_OUT, IN(PF_BF16, 2, 3, 64),
            IN(PF_F32, 2, 50, 64)),
    };
    return oc_check_all(cs, (int)PF_ARRAY_LEN(cs));
}

static pf_test_result test_matmul(void) {
    static const mm_p nt = {.trans_b = false, .alpha = 1.0f}, tr = {.trans_b = true, .alpha = 0.125f};
    const oc_case cs[] = {
        OCF(.gemm = true, "matmul batched", b_matmul, &nt, MM_TOL, IN(PF_F32, 3, 3, 17, 23), IN(PF_F32, 3, 3, 23, 19)),
        OCF(.gemm = true, "matmul batched, B transposed, alpha", b_matmul, &tr, MM_TOL, IN(PF_F32, 3, 3, 17, 23),
            IN(PF_F32, 3, 3, 19, 23)),
        OCF(.gemm = true, "matmul shared B", b_matmul, &nt, MM_TOL, IN(PF_F32, 3, 4, 30, 50), IN(PF_F32, 2, 50, 41)),
        OCF(.gemm = true, "matmul shared B, batch dim 1", b_matmul, &tr, MM_TOL, IN(PF_F32, 3, 2, 30, 50),
            IN(PF_F32, 3, 1, 41, 50)),
        OCF(.gemm = true, "matmul 2-D, few rows", b_matmul, &nt, MM_TOL, IN(PF_F32, 2, 3, 64), IN(PF_F32, 2, 64, 300)),
        OCF(.gemm = true, "matmul bf16", b_matmul, &tr, BF16_OUT, IN(PF_BF16, 3, 2, 13, 40), IN(PF_BF16, 3, 2, 9, 40)),
    };
    return oc_check_all(cs, (int)PF_ARRAY_LEN(cs));
}

/* ---------------------------------------------------------------- conv3d */

typedef struct {
    int pt, ph, pw, st, sh, sw;
    bool bias, front;
} conv_p;

static pf_tensor *b_conv(pf_graph *g, pf_tensor **in, const void *p) {
    const conv_p *cp = p;
    pf_tensor *bias = cp->bias ? in[2] : NULL, *front = cp->front ? in[cp->bias ? 3 : 2] : NULL;
    return pf_conv3d(g, in[0], in[1], bias, front, cp->pt, cp->ph, cp->pw, cp->st, cp->sh, cp->sw);
}

static pf_test_result test_conv3d(void) {
    static const conv_p causal = {.pt = 2, .ph = 1, .pw = 1, .st = 1, .sh = 1, .sw = 1, .bias = true};
    static const conv_p cached = {.pt = 2, .ph = 1, .pw = 1, .st = 1, .sh = 1, .sw = 1, .bias = true, .front = true};
    static const conv_p down_s = {.pt = 2, .ph = 1, .pw = 1, .st = 1, .sh = 2, .sw = 2, .bias = true};
    static const conv_p down_t = {.pt = 2, .ph = 1, .pw = 1, .st = 2, .sh = 1, .sw = 1, .bias = true};
    static const conv_p down_t1 = {.pt = 1, .ph = 1, .pw = 1, .st = 2, .sh = 1, .sw = 1, .front = true};
    static const conv_p pointwise = {.st = 1, .sh = 1, .sw = 1, .bias = true};
    static const conv_p spatial = {.ph = 1, .pw = 1, .st = 1, .sh = 1, .sw = 1};
    static const conv_p pad2 = {.pt = 2, .ph = 2, .pw = 0, .st = 1, .sh = 1, .sw = 3, .bias = true};
    const oc_case cs[] = {
        OCF(.gemm = true, "conv 3x3x3 causal", b_conv, &causal, MM_TOL, IN(PF_F32, 5, 1, 3, 4, 9, 11),
            IN(PF_F32, 5, 5, 3, 3, 3, 3), IN(PF_F32, 1, 5)),
        OCF(.gemm = true, "conv 3x3x3 with cache", b_conv, &cached, MM_TOL, IN(PF_F32, 5, 2, 3, 2, 7, 6),
            IN(PF_F32, 5, 4, 3, 3, 3, 3), IN(PF_F32, 1, 4), IN(PF_F32, 5, 2, 3, 2, 7, 6)),
        OCF(.gemm = true, "conv image (T = 1)", b_conv, &causal, MM_TOL, IN(PF_F32, 5, 1, 8, 1, 6, 5),
            IN(PF_F32, 5, 16, 8, 3, 3, 3), IN(PF_F32, 1, 16)),
        OCF(.gemm = true, "conv spatial stride 2", b_conv, &down_s, MM_TOL, IN(PF_F32, 5, 1, 4, 3, 9, 10),
            IN(PF_F32, 5, 4, 4, 3, 3, 3), IN(PF_F32, 1, 4)),
        OCF(.gemm = true, "conv temporal stride 2", b_conv, &down_t, MM_TOL, IN(PF_F32, 5, 1, 4, 5, 6, 5),
            IN(PF_F32, 5, 3, 4, 3, 3, 3), IN(PF_F32, 1, 3)),
        OCF(.gemm = true, "conv temporal stride 2, one cached frame", b_conv, &down_t1, MM_TOL,
            IN(PF_F32, 5, 1, 4, 4, 6, 5), IN(PF_F32, 5, 3, 4, 3, 3, 3), IN(PF_F32, 5, 1, 4, 1, 6, 5)),
        OCF(.gemm = true, "conv 1x1x1", b_conv, &pointwise, MM_TOL, IN(PF_F32, 5, 2, 4, 3, 5, 6),
            IN(PF_F32, 5, 6, 4, 1, 1, 1), IN(PF_F32, 1, 6)),
        OCF(.gemm = true, "conv 1x3x3", b_conv, &spatial, MM_TOL, IN(PF_F32, 5, 1, 5, 2, 7, 7),
            IN(PF_F32, 5, 7, 5, 1, 3, 3)),
        OCF(.gemm = true, "conv 3x5x1, wide stride", b_conv, &pad2, MM_TOL, IN(PF_F32, 5, 1, 3, 3, 6, 13),
            IN(PF_F32, 5, 2, 3, 3, 5, 1), IN(PF_F32, 1, 2)),
        OCF(.gemm = true, "conv bf16 weights", b_conv, &causal, MM_TOL, IN(PF_F32, 5, 1, 3, 2, 5, 7),
            IN(PF_BF16, 5, 5, 3, 3, 3, 3), IN(PF_BF16, 1, 5)),
        OCF(.gemm = true, "conv bf16 everything", b_conv, &cached, BF16_OUT, IN(PF_BF16, 5, 1, 3, 2, 5, 7),
            IN(PF_BF16, 5, 5, 3, 3, 3, 3), IN(PF_BF16, 1, 5), IN(PF_BF16, 5, 1, 3, 2, 5, 7)),
        {.name = "conv tiled columns (tiny tile budget)", .build = b_conv, .p = &cached, MM_TOL, .gemm = true,
         .conv_col_floats = 1000,
         .in = {IN(PF_F32, 5, 1, 3, 2, 7, 11), IN(PF_F32, 5, 5, 3, 3, 3, 3), IN(PF_F32, 1, 5),
                IN(PF_F32, 5, 1, 3, 2, 7, 11)}},
        /* 3 output channels: the few-row GEMM path on written-out columns (VAE conv_out) */
        {.name = "conv to 3 channels, tiled columns", .build = b_conv, .p = &causal, MM_TOL, .gemm = true,
         .conv_col_floats = 900,
         .in = {IN(PF_F32, 5, 1, 6, 2, 7, 9), IN(PF_F32, 5, 3, 6, 3, 3, 3), IN(PF_F32, 1, 3)}},
        {.name = "conv tiled, bf16 out", .build = b_conv, .p = &down_s, BF16_OUT, .gemm = true, .conv_col_floats = 700,
         .in = {IN(PF_BF16, 5, 1, 4, 2, 9, 10), IN(PF_F32, 5, 6, 4, 3, 3, 3), IN(PF_F32, 1, 6)}},
    };
    return oc_check_all(cs, (int)PF_ARRAY_LEN(cs));
}

/* ---------------------------------------------------------------- attention */

typedef struct {
    float scale;
    pf_mask_mode mode;
    int qm, km, bias; /* input indices, -1: absent */
} att_p;

static pf_tensor *b_attention(pf_graph *g, pf_tensor **in, const void *p) {
    const att_p *ap = p;
    return pf_attention(g, in[0], in[1], in[2], ap->scale, ap->mode, ap->qm >= 0 ? in[ap->qm] : NULL,
                        ap->km >= 0 ? in[ap->km] : NULL, ap->bias >= 0 ? in[ap->bias] : NULL);
}

/* Pyramid Flow token metadata (frame * 2 + valid) for one sample: `text` text tokens of
 * which `valid` are real, then frames of the given token counts (frame index = position). */
static int64_t att_layout(int32_t *m, int text, int valid, const int *frames, int nf) {
    int64_t n = 0;
    for (int i = 0; i < text; i++) m[n++] = i < valid ? 1 : 0;
    for (int f = 0; f < nf; f++)
        for (int i = 0; i < frames[f]; i++) m[n++] = f * 2 + 1;
    return n;
}

#define ATT_TOL TOL(1e-10, 1e-5)

static pf_test_result test_attention(void) {
    /* frame mask: 12 text tokens (7 and 10 valid), history frames of 30, 40 and 50 tokens,
     * the current frame 130: several query and key blocks, blocks hidden, partly and fully shown */
    static int32_t fm[2 * 262];
    static const int frames[4] = {30, 40, 50, 130};
    int64_t n0 = att_layout(fm, 12, 7, frames, 4), n1 = att_layout(fm + 262, 12, 10, frames, 4);
    CHECK(n0 == 262 && n1 == 262);
    /* a query that sees nothing: a padding query with no padding key */
    static int32_t qpad[2 * 9], kval[2 * 20];
    for (int i = 0; i < 18; i++) qpad[i] = (i % 3 == 0) ? 0 : 2 * (i % 4) + 1;
    for (int i = 0; i < 40; i++) kval[i] = 2 * (i % 5) + 1;
    /* key mask: batch 0 with a hole of a whole block, batch 1 all padding (rows see nothing) */
    static int32_t km[2 * 300];
    for (int i = 0; i < 300; i++) km[i] = (i < 20 || i >= 160) ? 1 : 0;
    for (int i = 300; i < 600; i++) km[i] = 0;
    static int32_t km_t5[2 * 33];
    for (int i = 0; i < 66; i++) km_t5[i] = (i % 33) < (i < 33 ? 20 : 33) ? 1 : 0;

    static const att_p none = {.scale = 0.25f, .mode = PF_MASK_NONE, .qm = -1, .km = -1, .bias = -1};
    static const att_p none1 = {.scale = 1.0f, .mode = PF_MASK_NONE, .qm = -1, .km = -1, .bias = -1};
    static const att_p causal = {.scale = 0.35f, .mode = PF_MASK_CAUSAL, .qm = -1, .km = -1, .bias = -1};
    static const att_p frame = {.scale = 0.125f, .mode = PF_MASK_FRAME, .qm = 3, .km = 4, .bias = -1};
    static const att_p key = {.scale = 0.3f, .mode = PF_MASK_KEY, .qm = -1, .km = 3, .bias = -1};
    static const att_p t5 = {.scale = 1.0f, .mode = PF_MASK_KEY, .qm = -1, .km = 3, .bias = 4};
    static const att_p bias_only = {.scale = 0.5f, .mode = PF_MASK_NONE, .qm = -1, .km = -1, .bias = 3};
    const oc_case cs[] = {
        OC("attention no mask", b_attention, &none, ATT_TOL, IN(PF_F32, 4, 2, 37, 3, 16), IN(PF_F32, 4, 2, 45, 3, 16),
           IN(PF_F32, 4, 2, 45, 3, 16)),
        OC("attention Dv != D", b_attention, &none, ATT_TOL, IN(PF_F32, 4, 1, 20, 2, 24), IN(PF_F32, 4, 1, 140, 2, 24),
           IN(PF_F32, 4, 1, 140, 2, 40)),
        OC("attention large logits", b_attention, &none1, ATT_TOL, INR(PF_F32, -4, 4, 4, 1, 70, 2, 32),
           INR(PF_F32, -4, 4, 4, 1, 300, 2, 32), IN(PF_F32, 4, 1, 300, 2, 32)),
        OC("attention causal", b_attention, &causal, ATT_TOL, IN(PF_F32, 4, 1, 150, 2, 8), IN(PF_F32, 4, 1, 150, 2, 8),
           IN(PF_F32, 4, 1, 150, 2, 8)),
        OC("attention frame mask", b_attention, &frame, ATT_TOL, IN(PF_F32, 4, 2, 262, 2, 64),
           IN(PF_F32, 4, 2, 262, 2, 64), IN(PF_F32, 4, 2, 262, 2, 64), IND(PF_I32, fm, 2, 2, 262),
           IND(PF_I32, fm, 2, 2, 262)),
        OC("attention frame mask, queries that see nothing", b_attention, &frame, ATT_TOL, IN(PF_F32, 4, 2, 9, 1, 8),
           IN(PF_F32, 4, 2, 20, 1, 8), IN(PF_F32, 4, 2, 20, 1, 8), IND(PF_I32, qpad, 2, 2, 9),
           IND(PF_I32, kval, 2, 2, 20)),
        OC("attention key mask, fully masked batch", b_attention, &key, ATT_TOL, IN(PF_F32, 4, 2, 21, 3, 16),
           IN(PF_F32, 4, 2, 300, 3, 16), IN(PF_F32, 4, 2, 300, 3, 16), IND(PF_I32, km, 2, 2, 300)),
        OC("attention T5: key mask + bias, no scale", b_attention, &t5, ATT_TOL, IN(PF_F32, 4, 2, 33, 2, 8),
           IN(PF_F32, 4, 2, 33, 2, 8), IN(PF_F32, 4, 2, 33, 2, 8), IND(PF_I32, km_t5, 2, 2, 33),
           INR(PF_F32, -3, 3, 3, 2, 33, 33)),
        OC("attention bias only", b_attention, &bias_only, ATT_TOL, IN(PF_F32, 4, 1, 40, 2, 8),
           IN(PF_F32, 4, 1, 130, 2, 8), IN(PF_F32, 4, 1, 130, 2, 8), INR(PF_F32, -3, 3, 3, 2, 40, 130)),
        OC("attention VAE: 1 head of 512", b_attention, &none, ATT_TOL, IN(PF_F32, 4, 2, 70, 1, 512),
           IN(PF_F32, 4, 2, 70, 1, 512), IN(PF_F32, 4, 2, 70, 1, 512)),
        /* 6 (batch, head) pairs x 5 query blocks: tasks group query blocks (3 + 2) */
        OC("attention causal, grouped query blocks", b_attention, &causal, ATT_TOL, IN(PF_F32, 4, 2, 290, 3, 8),
           IN(PF_F32, 4, 2, 290, 3, 8), IN(PF_F32, 4, 2, 290, 3, 8)),
        OC("attention frame mask, grouped query blocks", b_attention, &frame, ATT_TOL, IN(PF_F32, 4, 2, 262, 3, 16),
           IN(PF_F32, 4, 2, 262, 3, 16), IN(PF_F32, 4, 2, 262, 3, 16), IND(PF_I32, fm, 2, 2, 262),
           IND(PF_I32, fm, 2, 2, 262)),
        OC("attention bf16", b_attention, &causal, BF16_OUT, IN(PF_BF16, 4, 2, 50, 2, 16), IN(PF_BF16, 4, 2, 50, 2, 16),
           IN(PF_BF16, 4, 2, 50, 2, 16)),
    };
    return oc_check_all(cs, (int)PF_ARRAY_LEN(cs));
}

PF_TEST_MAIN(PF_TEST(test_linear), PF_TEST(test_matmul), PF_TEST(test_conv3d), PF_TEST(test_attention))
