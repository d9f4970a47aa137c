/*
 * Small cases worked out by hand, checked on the reference kernels and on the
 * fast kernels (every instruction set this CPU has): softmax of a known row,
 * layer / RMS / group norm of known vectors, a 3x3x3 causal conv with and
 * without a cache, RoPE by known angles, the depth-to-space index mapping,
 * 2x2 down/upsampling, the causal, frame and key mask visibility patterns and
 * the activations at 1.
 */
#include "unit/cpu_op_check.h"

/* Run case c on the reference backend and on the fast one for every ISA; each output
 * element must be within tol of want. */
static pf_test_result hand_check(const oc_case *cin, const float *want, int64_t n, double tol) {
    oc_case cc = *cin, *c = &cc;
    while (c->n_in < OC_MAX_IN && c->in[c->n_in].ndim > 0) c->n_in++;
    pf_backend *bes[2] = {oc_backend(true, 1), oc_backend(false, 3)};
    CHECK(bes[0] && bes[1]);
    bool ok = true;
    for (int b = 0; b < 2 && ok; b++)
        for (int isa = 0; isa <= (b ? (int)pf_cpu_isa_detect() : 0) && ok; isa++) {
            pf_cpu_isa_override(isa);
            float *out = NULL;
            int64_t no = 0;
            int ip = 0;
            pf_status rc = oc_run(bes[b], c, NULL, &out, &no, &ip);
            if (rc != PF_OK || no != n) {
                fprintf(stderr, "  %s: %s (%lld elements)\n", c->name, pf_last_error(), (long long)no);
                ok = false;
            }
            for (int64_t i = 0; ok && i < n; i++)
                if (!(fabs((double)out[i] - want[i]) <= tol)) {
                    fprintf(stderr, "  %s [%s]: element %lld = %.9g, expected %.9g\n", c->name,
                            b ? pf_cpu_isa_name((pf_cpu_isa)isa) : "reference", (long long)i, out[i], want[i]);
                    ok = false;
                }
            free(out);
        }
    pf_cpu_isa_override(-1);
    pf_backend_free(bes[0]);
    pf_backend_free(bes[1]);
    return ok ? PF_T_PASS : PF_T_FAIL;
}

#define HAND(c_, want_, tol_) \
    do { \
        if (hand_check(&(c_), (want_), (int64_t)PF_ARRAY_LEN(want_), (tol_)) != PF_T_PASS) return PF_T_FAIL; \
    } while (0)

/* ---------------------------------------------------------------- builders */

static pf_tensor *b_softmax(pf_graph *g, pf_tensor **in, const void *p) { return pf_softmax(g, in[0], *(const float *)p); }
static pf_tensor *b_layer_norm(pf_graph *g, pf_tensor **in, const void *p) {
    (void)p;
    return pf_layer_norm(g, in[0], NULL, NULL, 0.0f);
}
static pf_tensor *b_rms_norm(pf_graph *g, pf_tensor **in, const void *p) {
    (void)p;
    return pf_rms_norm(g, in[0], in[1], 0.0f);
}
static pf_tensor *b_group_norm(pf_graph *g, pf_tensor **in, const void *p) {
    bool silu = *(const bool *)p;
    return pf_group_norm(g, in[0], in[1], in[2], 2, 0.0f, silu);
}
static pf_tensor *b_conv(pf_graph *g, pf_tensor **in, const void *p) {
    bool cache = *(const bool *)p;
    return pf_conv3d(g, in[0], in[1], in[2], cache ? in[3] : NULL, 2, 1, 1, 1, 1, 1);
}
static pf_tensor *b_rope(pf_graph *g, pf_tensor **in, const void *p) {
    (void)p;
    return pf_rope(g, in[0], in[1]);
}
static pf_tensor *b_d2s(pf_graph *g, pf_tensor **in, const void *p) {
    const int *m = p;
    return pf_depth_to_space(g, in[0], (pf_d2s_mode)m[0], m[1] != 0);
}
static pf_tensor *b_down(pf_graph *g, pf_tensor **in, const void *p) { return pf_downsample2x(g, in[0], *(const float *)p); }
static pf_tensor *b_up(pf_graph *g, pf_tensor **in, const void *p) {
    (void)p;
    return pf_upsample2x(g, in[0]);
}
static pf_tensor *b_att(pf_graph *g, pf_tensor **in, const void *p) {
    pf_mask_mode mode = *(const pf_mask_mode *)p;
    return pf_attention(g, in[0], in[1], in[2], 1.0f, mode, mode == PF_MASK_FRAME ? in[3] : NULL,
                        mode == PF_MASK_FRAME ? in[4] : mode == PF_MASK_KEY ? in[3] : NULL, NULL);
}
static pf_tensor *b_unary(pf_graph *g, pf_tensor **in, const void *p) { return pf_unary_op(g, in[0], *(const pf_unary *)p); }
static pf_tensor *b_modulate(pf_graph *g, pf_tensor **in, const void *p) {
    return *(const bool *)p ? pf_gated_add(g, in[0], in[1], in[2]) : pf_modulate(g, in[0], in[1], in[2]);
}
static pf_tensor *b_embedding(pf_graph *g, pf_tensor **in, const void *p) {
    (void)p;
    return pf_embedding(g, in[0], in[1]);
}

/* ---------------------------------------------------------------- tests */

static pf_test_result test_softmax_known_row(void) {
    static const float x[4] = {1, 2, 3, 4}, one = 1.0f, half = 0.5f;
    static const float x2[4] = {2, 4, 6, 8};
    /* e^i / (e + e^2 + e^3 + e^4) */
    static const float want[4] = {0.0320586033f, 0.0871443187f, 0.2368828181f, 0.6439142599f};
    oc_case c = OC("softmax [1, 2, 3, 4]", b_softmax, &one, TOL(0, 0), IND(PF_F32, x, 2, 1, 4));
    HAND(c, want, 1e-7);
    oc_case c2 = OC("softmax 0.5 * [2, 4, 6, 8]", b_softmax, &half, TOL(0, 0), IND(PF_F32, x2, 2, 1, 4));
    HAND(c2, want, 1e-7);
    return PF_T_PASS;
}

static pf_test_result test_norms_known_vectors(void) {
    /* mean 2.5, variance 1.25: (x - 2.5) / sqrt(1.25) */
    static const float x[4] = {1, 2, 3, 4};
    static const float ln[4] = {-1.3416407865f, -0.4472135955f, 0.4472135955f, 1.3416407865f};
    oc_case c = OC("layer norm [1, 2, 3, 4]", b_layer_norm, NULL, TOL(0, 0), IND(PF_F32, x, 2, 1, 4));
    HAND(c, ln, 1e-6);
    /* RMS of (3, 4) is sqrt(12.5); weight (1, 2) */
    static const float r[2] = {3, 4}, w[2] = {1, 2};
    static const float rms[2] = {0.8485281374f, 2.2627416998f};
    oc_case c2 = OC("rms norm [3, 4]", b_rms_norm, NULL, TOL(0, 0), IND(PF_F32, r, 2, 1, 2), IND(PF_F32, w, 1, 2));
    HAND(c2, rms, 1e-6);
    /* group norm, 2 groups of 2 channels x 2 pixels: group 0 = {1, 2, 3, 4} (as above),
     * group 1 = {10, 10, 10, 14}: mean 11, variance 3. weight (1, 1, 2, 1), bias (0, 0, 0, 1). */
    static const float gx[8] = {1, 2, 3, 4, 10, 10, 10, 14}, gw[4] = {1, 1, 2, 1}, gb[4] = {0, 0, 0, 1};
    static const float gn[8] = {-1.3416407865f, -0.4472135955f, 0.4472135955f, 1.3416407865f,
                                -1.1547005384f, -1.1547005384f, 0.4226497308f, 2.7320508076f};
    static const bool no = false, yes = true;
    oc_case c3 = OC("group norm, 2 groups", b_group_norm, &no, TOL(0, 0), IND(PF_F32, gx, 5, 1, 4, 1, 1, 2),
                    IND(PF_F32, gw, 1, 4), IND(PF_F32, gb, 1, 4));
    HAND(c3, gn, 1e-6);
    float gs[8];
    for (int i = 0; i < 8; i++) gs[i] = (float)(gn[i] / (1.0 + exp(-(double)gn[i]))); /* silu(v) = v sigmoid(v) */
    oc_case c4 = OC("group norm + silu", b_group_norm, &yes, TOL(0, 0), IND(PF_F32, gx, 5, 1, 4, 1, 1, 2),
                    IND(PF_F32, gw, 1, 4), IND(PF_F32, gb, 1, 4));
    HAND(c4, gs, 1e-6);
    return PF_T_PASS;
}

/* x = 1..9 on a 3x3 frame, all-ones 3x3x3 kernel, 2 front frames, spatial padding 1, bias 0.5:
 * only the last temporal tap sees x, so each output is the sum of its 3x3 neighbourhood
 * (12 21 16 / 27 45 33 / 24 39 28); a cache of ones adds 2 x (neighbours inside the frame). */
static pf_test_result test_conv_by_hand(void) {
    static const float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, b[1] = {0.5f};
    static float w[27], front[18];
    for (int i = 0; i < 27; i++) w[i] = 1.0f;
    for (int i = 0; i < 18; i++) front[i] = 1.0f;
    static const bool no = false, yes = true;
    static const float zero_pad[9] = {12.5f, 21.5f, 16.5f, 27.5f, 45.5f, 33.5f, 24.5f, 39.5f, 28.5f};
    static const float cached[9] = {20.5f, 33.5f, 24.5f, 39.5f, 63.5f, 45.5f, 32.5f, 51.5f, 36.5f};
    oc_case c = OC("conv 3x3x3 zero front", b_conv, &no, TOL(0, 0), IND(PF_F32, x, 5, 1, 1, 1, 3, 3),
                   IND(PF_F32, w, 5, 1, 1, 3, 3, 3), IND(PF_F32, b, 1, 1));
    HAND(c, zero_pad, 1e-5);
    oc_case c2 = OC("conv 3x3x3 cached front", b_conv, &yes, TOL(0, 0), IND(PF_F32, x, 5, 1, 1, 1, 3, 3),
                    IND(PF_F32, w, 5, 1, 1, 3, 3, 3), IND(PF_F32, b, 1, 1), IND(PF_F32, front, 5, 1, 1, 2, 3, 3));
    HAND(c2, cached, 1e-5);
    return PF_T_PASS;
}

/* pair 0 = (1, 0) by 90 degrees -> (0, 1); pair 1 = (0, 1) by 60 degrees -> (-sin 60, cos 60) */
static pf_test_result test_rope_known_angle(void) {
    static const float x[4] = {1, 0, 0, 1}, tab[4] = {0.0f, 1.0f, 0.5f, 0.8660254038f};
    static const float want[4] = {0.0f, 1.0f, -0.8660254038f, 0.5f};
    oc_case c = OC("rope 90 and 60 degrees", b_rope, NULL, TOL(0, 0), IND(PF_F32, x, 4, 1, 1, 1, 4),
                   IND(PF_F32, tab, 3, 1, 2, 2));
    HAND(c, want, 1e-7);
    return PF_T_PASS;
}

static pf_test_result test_resample_mapping(void) {
    /* x[ch][w] = 10 ch + w, 8 channels of 1x2: out[c][h][w] = x[4c + 2(h % 2) + (w % 2)][w / 2] */
    static float x[16];
    for (int ch = 0; ch < 8; ch++)
        for (int w = 0; w < 2; w++) x[ch * 2 + w] = (float)(10 * ch + w);
    static const float space[16] = {0, 10, 1, 11, 20, 30, 21, 31, 40, 50, 41, 51, 60, 70, 61, 71};
    static const int m_space[2] = {PF_D2S_SPACE, 0}, m_time[2] = {PF_D2S_TIME, 0}, m_drop[2] = {PF_D2S_TIME, 1};
    oc_case c = OC("depth to space", b_d2s, m_space, TOL(0, 0), IND(PF_F32, x, 5, 1, 8, 1, 1, 2));
    HAND(c, space, 0.0);
    /* channel 0 frames (1, 2), channel 1 frames (3, 4): output frame 2t + p comes from channel p, frame t */
    static const float tx[4] = {1, 2, 3, 4}, time[4] = {1, 3, 2, 4}, time_drop[3] = {3, 2, 4};
    oc_case c2 = OC("depth to time", b_d2s, m_time, TOL(0, 0), IND(PF_F32, tx, 5, 1, 2, 2, 1, 1));
    HAND(c2, time, 0.0);
    oc_case c3 = OC("depth to time, first frame dropped", b_d2s, m_drop, TOL(0, 0), IND(PF_F32, tx, 5, 1, 2, 2, 1, 1));
    HAND(c3, time_drop, 0.0);
    /* 2x2 block (1, 2, 3, 4): mean 2.5, times 2 */
    static const float blk[4] = {1, 2, 3, 4}, two = 2.0f, down[1] = {5.0f};
    oc_case c4 = OC("downsample 2x2 block", b_down, &two, TOL(0, 0), IND(PF_F32, blk, 2, 2, 2));
    HAND(c4, down, 0.0);
    static const float row[2] = {1, 2}, up[8] = {1, 1, 2, 2, 1, 1, 2, 2};
    oc_case c5 = OC("upsample nearest", b_up, NULL, TOL(0, 0), IND(PF_F32, row, 2, 1, 2));
    HAND(c5, up, 0.0);
    return PF_T_PASS;
}

/* With q = k = 0 every visible key gets the same weight: the output is the mean of the
 * visible values, which spells out the mask. */
static pf_test_result test_mask_patterns(void) {
    static const float z3[3] = {0, 0, 0}, v3[3] = {1, 2, 6};
    static const pf_mask_mode causal = PF_MASK_CAUSAL, frame = PF_MASK_FRAME, key = PF_MASK_KEY;
    static const float causal_want[3] = {1.0f, 1.5f, 3.0f}; /* means of 1 | 1 2 | 1 2 6 */
    oc_case c = OC("causal mask", b_att, &causal, TOL(0, 0), IND(PF_F32, z3, 4, 1, 3, 1, 1), IND(PF_F32, z3, 4, 1, 3, 1, 1),
                   IND(PF_F32, v3, 4, 1, 3, 1, 1));
    HAND(c, causal_want, 1e-6);

    /* tokens: valid text (frame 0), padded text, image frame 0, two image tokens of frame 1.
     * v = identity, so output row i is the visibility row of query i over its count:
     *   valid text and frame-0 image see {valid text, frame-0 image}; padded text sees only
     *   itself; frame-1 tokens see everything valid up to frame 1. */
    static const int32_t meta[5] = {1, 0, 1, 3, 3};
    static float z5[5], eye[25];
    for (int i = 0; i < 25; i++) eye[i] = (i / 5 == i % 5) ? 1.0f : 0.0f;
    static const float frame_want[25] = {0.5f,  0, 0.5f,  0,     0,     /* */
                                         0,     1, 0,     0,     0,     /* */
                                         0.5f,  0, 0.5f,  0,     0,     /* */
                                         0.25f, 0, 0.25f, 0.25f, 0.25f, /* */
                                         0.25f, 0, 0.25f, 0.25f, 0.25f};
    oc_case c2 = OC("frame mask visibility", b_att, &frame, TOL(0, 0), IND(PF_F32, z5, 4, 1, 5, 1, 1),
                    IND(PF_F32, z5, 4, 1, 5, 1, 1), IND(PF_F32, eye, 4, 1, 5, 1, 5), IND(PF_I32, meta, 2, 1, 5),
                    IND(PF_I32, meta, 2, 1, 5));
    HAND(c2, frame_want, 1e-6);

    /* key mask: keys 0 and 2 valid -> mean of 1 and 3; a batch with no valid key gives zeros */
    static const float z8[8] = {0}, v8[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    static const int32_t km[8] = {1, 0, 1, 0, 0, 0, 0, 0};
    static const float key_want[2] = {2.0f, 0.0f};
    oc_case c3 = OC("key mask, one batch fully masked", b_att, &key, TOL(0, 0), IND(PF_F32, z8, 4, 2, 1, 1, 1),
                    IND(PF_F32, z8, 4, 2, 4, 1, 1), IND(PF_F32, v8, 4, 2, 4, 1, 1), IND(PF_I32, km, 2, 2, 4));
    HAND(c3, key_want, 1e-6);
    return PF_T_PASS;
}

static pf_test_result test_activations_at_one(void) {
    static const float one[1] = {1.0f};
    static const pf_unary fs[4] = {PF_UNARY_SILU, PF_UNARY_GELU_TANH, PF_UNARY_GELU_ERF, PF_UNARY_QUICK_GELU};
    /* 1 / (1 + e^-1); 0.5 (1 + tanh(sqrt(2/pi) 1.044715)); 0.5 (1 + erf(1/sqrt 2)); 1 / (1 + e^-1.702) */
    static const float want[4] = {0.7310585786f, 0.8411919906f, 0.8413447461f, 0.8457957659f};
    for (int i = 0; i < 4; i++) {
        oc_case c = OC(pf_unary_name(fs[i]), b_unary, &fs[i], TOL(0, 0), IND(PF_F32, one, 1, 1));
        if (hand_check(&c, &want[i], 1, 2e-7) != PF_T_PASS) return PF_T_FAIL;
    }
    /* modulate 2 (1 + 0.5) + 1 = 4; gated add 1 + 2 * 3 = 7 */
    static const float x[1] = {2}, sh[1] = {1}, sc[1] = {0.5f}, mod_want[1] = {4};
    static const float gx[1] = {1}, gg[1] = {2}, gy[1] = {3}, gated_want[1] = {7};
    static const bool no = false, yes = true;
    oc_case m = OC("modulate", b_modulate, &no, TOL(0, 0), IND(PF_F32, x, 1, 1), IND(PF_F32, sh, 1, 1), IND(PF_F32, sc, 1, 1));
    HAND(m, mod_want, 0.0);
    oc_case g = OC("gated add", b_modulate, &yes, TOL(0, 0), IND(PF_F32, gx, 1, 1), IND(PF_F32, gg, 1, 1),
                   IND(PF_F32, gy, 1, 1));
    HAND(g, gated_want, 0.0);
    /* rows 2 and 0 of the table */
    static const float tab[6] = {1, 2, 3, 4, 5, 6}, emb_want[4] = {5, 6, 1, 2};
    static const int32_t ids[2] = {2, 0};
    oc_case e = OC("embedding", b_embedding, NULL, TOL(0, 0), IND(PF_F32, tab, 2, 3, 2), IND(PF_I32, ids, 1, 2));
    HAND(e, emb_want, 0.0);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_softmax_known_row), PF_TEST(test_norms_known_vectors), PF_TEST(test_conv_by_hand),
             PF_TEST(test_rope_known_angle), PF_TEST(test_resample_mapping), PF_TEST(test_mask_patterns),
             PF_TEST(test_activations_at_one))
