/*
 * CPU fast kernels against the reference kernels: element-wise, copy,
 * normalisation, resampling and embedding ops on odd shapes, broadcasts,
 * strided views, bf16/f16 data and in-place execution. GEMM-based ops,
 * attention and conv3d are in test_cpu_ops_gemm.c. Every case runs on each
 * instruction set the CPU has (cpu_op_check.h).
 */
#include "unit/cpu_op_check.h"

/* exact ops (same arithmetic, same rounding as the reference) */
#define EXACT TOL(0.0, 0.0)
/* transcendental ops: a few ulp */
#define ULPS TOL(1e-12, 2e-6)

/* ---------------------------------------------------------------- builders */

typedef struct {
    pf_op op;
    int perm[PF_MAX_DIMS]; /* permute src0 first when perm[0] >= 0 */
    bool slice;            /* slice src0 along dim 1 to [3, 3 + len of src1's dim 1) */
    bool inplace;          /* src0 through an op node that dies here */
    bool perm_b;           /* transpose the last two dims of src1 (given transposed) */
} bin_p;

static pf_tensor *b_binary(pf_graph *g, pf_tensor **in, const void *p) {
    const bin_p *bp = p;
    pf_tensor *a = in[0], *b = in[1];
    if (bp->perm_b) {
        int perm[2] = {1, 0};
        b = pf_permute(g, b, perm);
    }
    if (bp->perm[0] >= 0) a = pf_permute(g, a, bp->perm);
    if (bp->slice) a = pf_slice(g, a, 1, 3, b->ne[1]);
    if (bp->inplace) a = pf_scale(g, a, 1.0f, 0.0f);
    switch (bp->op) {
    case PF_OP_ADD: return pf_add(g, a, b);
    case PF_OP_SUB: return pf_sub(g, a, b);
    default: return pf_mul(g, a, b);
    }
}

typedef struct {
    float mul, add;
    bool inplace;
} scale_p;

static pf_tensor *b_scale(pf_graph *g, pf_tensor **in, const void *p) {
    const scale_p *sp = p;
    pf_tensor *x = sp->inplace ? pf_scale(g, in[0], 1.0f, 0.0f) : in[0];
    return pf_scale(g, x, sp->mul, sp->add);
}

typedef struct {
    pf_unary f;
    bool inplace;
} unary_p;

static pf_tensor *b_unary(pf_graph *g, pf_tensor **in, const void *p) {
    const unary_p *up = p;
    pf_tensor *x = up->inplace ? pf_scale(g, in[0], 1.0f, 0.0f) : in[0];
    return pf_unary_op(g, x, up->f);
}

typedef struct {
    bool gated; /* gated_add instead of modulate */
    bool perm;  /* x given as [.., D, N]: transpose its last two dims */
    bool inplace;
} tern_p;

static pf_tensor *b_ternary(pf_graph *g, pf_tensor **in, const void *p) {
    const tern_p *tp = p;
    pf_tensor *x = in[0];
    if (tp->perm) {
        int perm[3] = {0, 2, 1};
        x = pf_permute(g, x, perm);
    }
    if (tp->inplace) x = pf_scale(g, x, 1.0f, 0.0f);
    return tp->gated ? pf_gated_add(g, x, in[1], in[2]) : pf_modulate(g, x, in[1], in[2]);
}

typedef struct {
    int perm[PF_MAX_DIMS]; /* perm[0] < 0: none */
    pf_dtype to;           /* cast target (PF_DTYPE_COUNT: plain copy) */
} cpy_p;

static pf_tensor *b_cpy(pf_graph *g, pf_tensor **in, const void *p) {
    const cpy_p *cp = p;
    pf_tensor *x = in[0];
    if (cp->perm[0] >= 0) x = pf_permute(g, x, cp->perm);
    return cp->to == PF_DTYPE_COUNT ? pf_copy(g, x) : pf_cast(g, x, cp->to);
}

typedef struct {
    int dim, n;
    bool perm0; /* first input given transposed in its last two dims */
} cat_p;

static pf_tensor *b_concat(pf_graph *g, pf_tensor **in, const void *p) {
    const cat_p *cp = p;
    pf_tensor *xs[OC_MAX_IN];
    for (int i = 0; i < cp->n; i++) xs[i] = in[i];
    if (cp->perm0) {
        int perm[3] = {0, 2, 1};
        xs[0] = pf_permute(g, in[0], perm);
    }
    return pf_concat(g, xs, cp->n, cp->dim);
}

static pf_tensor *b_embedding(pf_graph *g, pf_tensor **in, const void *p) {
    (void)p;
    return pf_embedding(g, in[0], in[1]);
}

typedef struct {
    pf_op op;
    float eps;
    bool w, b;
    int groups;
    bool silu;
    bool inplace;
} norm_p;

static pf_tensor *b_norm(pf_graph *g, pf_tensor **in, const void *p) {
    const norm_p *np = p;
    pf_tensor *x = np->inplace ? pf_scale(g, in[0], 1.0f, 0.0f) : in[0];
    pf_tensor *w = np->w ? in[1] : NULL, *b = np->b ? in[np->w ? 2 : 1] : NULL;
    switch (np->op) {
    case PF_OP_LAYER_NORM: return pf_layer_norm(g, x, w, b, np->eps);
    case PF_OP_RMS_NORM: return pf_rms_norm(g, x, w, np->eps);
    case PF_OP_GROUP_NORM: return pf_group_norm(g, x, w, b, np->groups, np->eps, np->silu);
    default: return pf_softmax(g, x, np->eps); /* eps = the softmax scale */
    }
}

typedef struct {
    bool inplace;
} rope_p;

static pf_tensor *b_rope(pf_graph *g, pf_tensor **in, const void *p) {
    const rope_p *rp = p;
    pf_tensor *x = rp->inplace ? pf_scale(g, in[0], 1.0f, 0.0f) : in[0];
    return pf_rope(g, x, in[1]);
}

typedef struct {
    pf_op op;
    int mode, drop;
    float mul;
} rs_p;

static pf_tensor *b_resample(pf_graph *g, pf_tensor **in, const void *p) {
    const rs_p *rp = p;
    switch (rp->op) {
    case PF_OP_DEPTH_TO_SPACE: return pf_depth_to_space(g, in[0], (pf_d2s_mode)rp->mode, rp->drop != 0);
    case PF_OP_UPSAMPLE2X: return pf_upsample2x(g, in[0]);
    default: return pf_downsample2x(g, in[0], rp->mul);
    }
}

/* ---------------------------------------------------------------- element-wise */

static pf_test_result test_binary(void) {
    static const bin_p add = {.op = PF_OP_ADD, .perm = {-1}}, sub = {.op = PF_OP_SUB, .perm = {-1}},
                       mul = {.op = PF_OP_MUL, .perm = {-1}};
    static const bin_p sub_perm = {.op = PF_OP_SUB, .perm = {2, 0, 1}};
    static const bin_p mul_slice = {.op = PF_OP_MUL, .perm = {-1}, .slice = true, .perm_b = true};
    static const bin_p add_inplace = {.op = PF_OP_ADD, .perm = {-1}, .inplace = true};
    const oc_case cs[] = {
        OC("add contiguous", b_binary, &add, EXACT, IN(PF_F32, 3, 3, 37, 129), IN(PF_F32, 3, 3, 37, 129)),
        OC("add row broadcast", b_binary, &add, EXACT, IN(PF_F32, 3, 2, 33, 70), IN(PF_F32, 1, 70)),
        OC("mul token broadcast", b_binary, &mul, EXACT, IN(PF_F32, 3, 2, 33, 70), IN(PF_F32, 3, 2, 1, 70)),
        OC("sub scalar broadcast", b_binary, &sub, EXACT, IN(PF_F32, 2, 5, 3000), IN(PF_F32, 1, 1)),
        OC("sub permuted src0", b_binary, &sub_perm, EXACT, IN(PF_F32, 3, 5, 7, 9), IN(PF_F32, 3, 9, 1, 7)),
        OC("mul sliced src0, transposed src1", b_binary, &mul_slice, EXACT, IN(PF_F32, 2, 30, 40), IN(PF_F32, 2, 27, 30)),
        OC("mul bf16", b_binary, &mul, EXACT, IN(PF_BF16, 2, 4, 50), IN(PF_BF16, 1, 50)),
        OC("add bf16 + f32 broadcast", b_binary, &add, EXACT, IN(PF_BF16, 3, 3, 5, 1100), IN(PF_F32, 3, 3, 1, 1100)),
        OC("add f16", b_binary, &add, EXACT, IN(PF_F16, 2, 9, 31), IN(PF_F16, 2, 9, 31)),
        OCF(.inplace = true, "add in place", b_binary, &add_inplace, EXACT, IN(PF_F32, 2, 17, 2100), IN(PF_F32, 1, 2100)),
    };
    return oc_check_all(cs, (int)PF_ARRAY_LEN(cs));
}

static pf_test_result test_scale_unary(void) {
    static const scale_p sc = {.mul = 1.5f, .add = -0.25f}, sc_ip = {.mul = -2.0f, .add = 3.0f, .inplace = true};
    static const unary_p silu = {.f = PF_UNARY_SILU}, gt = {.f = PF_UNARY_GELU_TANH}, ge = {.f = PF_UNARY_GELU_ERF};
    static const unary_p qg = {.f = PF_UNARY_QUICK_GELU}, silu_ip = {.f = PF_UNARY_SILU, .inplace = true};
    static const unary_p gt_ip = {.f = PF_UNARY_GELU_TANH, .inplace = true};
    const oc_case cs[] = {
        OC("scale", b_scale, &sc, EXACT, IN(PF_F32, 1, 1000)),
        OC("scale bf16", b_scale, &sc, EXACT, IN(PF_BF16, 2, 3, 333)),
        OCF(.inplace = true, "scale in place", b_scale, &sc_ip, EXACT, IN(PF_F32, 2, 7, 77)),
        OC("silu", b_unary, &silu, ULPS, INR(PF_F32, -30, 30, 2, 3, 1031)),
        OC("gelu tanh", b_unary, &gt, ULPS, INR(PF_F32, -12, 12, 2, 3, 1031)),
        OC("gelu erf", b_unary, &ge, ULPS, INR(PF_F32, -8, 8, 2, 3, 1031)),
        OC("quick gelu", b_unary, &qg, ULPS, INR(PF_F32, -20, 20, 2, 3, 1031)),
        OC("gelu tanh bf16", b_unary, &gt, TOL(1e-5, 2e-2), INR(PF_BF16, -6, 6, 1, 999)),
        OCF(.inplace = true, "silu in place", b_unary, &silu_ip, ULPS, INR(PF_F32, -8, 8, 2, 5, 2049)),
        OCF(.inplace = true, "gelu tanh in place", b_unary, &gt_ip, ULPS, INR(PF_F32, -8, 8, 1, 4097)),
    };
    return oc_check_all(cs, (int)PF_ARRAY_LEN(cs));
}

static pf_test_result test_modulate_gated(void) {
    static const tern_p mod = {.gated = false}, mod_perm = {.perm = true}, mod_ip = {.inplace = true};
    static const tern_p gate = {.gated = true}, gate_ip = {.gated = true, .inplace = true};
    const oc_case cs[] = {
        OC("modulate", b_ternary, &mod, EXACT, IN(PF_F32, 3, 2, 45, 64), IN(PF_F32, 3, 2, 1, 64), IN(PF_F32, 3, 2, 1, 64)),
        OC("modulate permuted x", b_ternary, &mod_perm, EXACT, IN(PF_F32, 3, 2, 64, 45), IN(PF_F32, 3, 2, 1, 64), IN(PF_F32, 1, 64)),
        OC("modulate bf16 x", b_ternary, &mod, EXACT, IN(PF_BF16, 3, 2, 45, 64), IN(PF_F32, 3, 2, 1, 64), IN(PF_F32, 3, 2, 1, 64)),
        OCF(.inplace = true, "modulate in place", b_ternary, &mod_ip, EXACT, IN(PF_F32, 3, 2, 45, 1030), IN(PF_F32, 3, 2, 1, 1030), IN(PF_F32, 3, 2, 1, 1030)),
        OC("gated add", b_ternary, &gate, EXACT, IN(PF_F32, 3, 2, 45, 64), IN(PF_F32, 3, 2, 1, 64), IN(PF_F32, 3, 2, 45, 64)),
        OCF(.inplace = true, "gated add in place", b_ternary, &gate_ip, EXACT, IN(PF_F32, 3, 2, 45, 64), IN(PF_F32, 1, 64), IN(PF_F32, 3, 2, 45, 64)),
    };
    return oc_check_all(cs, (int)PF_ARRAY_LEN(cs));
}

/* ---------------------------------------------------------------- copies */

static pf_test_result test_copy_cast(void) {
    static const cpy_p perm = {.perm = {0, 2, 1, 3}, .to = PF_DTYPE_COUNT}, to_bf16 = {.perm = {-1}, .to = PF_BF16};
    static const cpy_p to_f16 = {.perm = {-1}, .to = PF_F16}, perm_to_f32 = {.perm = {2, 0, 1}, .to = PF_F32};
    static const cpy_p big = {.perm = {-1}, .to = PF_DTYPE_COUNT}, i32_perm = {.perm = {1, 0}, .to = PF_DTYPE_COUNT};
    static const cpy_p i32_to_f32 = {.perm = {-1}, .to = PF_F32}, perm_last = {.perm = {0, 1, 3, 2}, .to = PF_DTYPE_COUNT};
    static int32_t ids[6 * 7];
    for (int i = 0; i < 6 * 7; i++) ids[i] = i * 37 - 500;
    const oc_case cs[] = {
        OC("copy permuted [B, H, N, D]", b_cpy, &perm, EXACT, IN(PF_F32, 4, 2, 5, 3, 7)),
        OC("copy permuted last dims", b_cpy, &perm_last, EXACT, IN(PF_F32, 4, 2, 3, 9, 11)),
        OC("copy large contiguous", b_cpy, &big, EXACT, IN(PF_F32, 1, 600000)),
        OC("cast f32 to bf16", b_cpy, &to_bf16, EXACT, INR(PF_F32, -100, 100, 2, 17, 257)),
        OC("cast f32 to f16", b_cpy, &to_f16, EXACT, INR(PF_F32, -100, 100, 2, 17, 31)),
        OC("cast bf16 permuted to f32", b_cpy, &perm_to_f32, EXACT, IN(PF_BF16, 3, 4, 6, 5)),
        OC("copy i32 transposed", b_cpy, &i32_perm, EXACT, IND(PF_I32, ids, 2, 6, 7)),
        OC("cast i32 to f32", b_cpy, &i32_to_f32, EXACT, IND(PF_I32, ids, 2, 6, 7)),
    };
    return oc_check_all(cs, (int)PF_ARRAY_LEN(cs));
}

static pf_test_result test_concat_embedding(void) {
    static const cat_p mid = {.dim = 1, .n = 3}, last = {.dim = 2, .n = 2}, first = {.dim = 0, .n = 2};
    static const cat_p first_perm = {.dim = 1, .n = 2, .perm0 = true};
    static int32_t ids32[3 * 7];
    static int64_t ids64[11];
    for (int i = 0; i < 21; i++) ids32[i] = (i * 13) % 50;
    for (int i = 0; i < 11; i++) ids64[i] = 49 - (i * 7) % 50;
    const oc_case cs[] = {
        OC("concat dim 1 of 3", b_concat, &mid, EXACT, IN(PF_F32, 3, 2, 3, 5), IN(PF_F32, 3, 2, 4, 5), IN(PF_F32, 3, 2, 1, 5)),
        OC("concat last dim", b_concat, &last, EXACT, IN(PF_F32, 3, 2, 3, 5), IN(PF_F32, 3, 2, 3, 8)),
        OC("concat first dim bf16", b_concat, &first, EXACT, IN(PF_BF16, 3, 2, 3, 5), IN(PF_BF16, 3, 1, 3, 5)),
        OC("concat strided source", b_concat, &first_perm, EXACT, IN(PF_F32, 3, 2, 6, 4), IN(PF_F32, 3, 2, 5, 6)),
        OC("embedding i32", b_embedding, NULL, EXACT, IN(PF_F32, 2, 50, 24), IND(PF_I32, ids32, 2, 3, 7)),
        OC("embedding bf16 i64", b_embedding, NULL, EXACT, IN(PF_BF16, 2, 50, 40), IND(PF_I64, ids64, 1, 11)),
    };
    return oc_check_all(cs, (int)PF_ARRAY_LEN(cs));
}

/* An id outside the table is an error, not a crash. */
static pf_test_result test_embedding_bad_id(void) {
    pf_backend *be = oc_backend(false, 2);
    CHECK(be);
    pf_graph *g = pf_graph_new("emb");
    int64_t tne[2] = {5, 4}, ine[1] = {3};
    pf_tensor *t = pf_input(g, PF_F32, 2, tne, "table"), *ids = pf_input(g, PF_I32, 1, ine, "ids");
    pf_tensor *y = pf_embedding(g, t, ids);
    pf_output(g, y);
    pf_arena *a;
    CHECK_OK(pf_arena_create(be, &a));
    CHECK_OK(pf_graph_plan(g, a, NULL));
    float tv[20] = {0};
    int32_t iv[3] = {0, 5, 1};
    CHECK_OK(pf_tensor_set(t, tv, sizeof tv));
    CHECK_OK(pf_tensor_set(ids, iv, sizeof iv));
    CHECK_ERR(pf_graph_compute(g), PF_ERR_INVALID_ARG, "outside");
    pf_graph_free(g);
    pf_arena_free(a);
    pf_backend_free(be);
    return PF_T_PASS;
}

/* ---------------------------------------------------------------- norms */

#define NORM_TOL TOL(1e-11, 2e-5)

static pf_test_result test_norms(void) {
    static const norm_p ln = {.op = PF_OP_LAYER_NORM, .eps = 1e-6f, .w = true, .b = true};
    static const norm_p ln_plain = {.op = PF_OP_LAYER_NORM, .eps = 1e-6f};
    static const norm_p ln_ip = {.op = PF_OP_LAYER_NORM, .eps = 1e-5f, .w = true, .inplace = true};
    static const norm_p rms = {.op = PF_OP_RMS_NORM, .eps = 1e-6f, .w = true}, rms_plain = {.op = PF_OP_RMS_NORM, .eps = 1e-6f};
    static const norm_p rms_ip = {.op = PF_OP_RMS_NORM, .eps = 1e-6f, .w = true, .inplace = true};
    const oc_case cs[] = {
        OC("layer norm affine", b_norm, &ln, NORM_TOL, IN(PF_F32, 2, 7, 130), IN(PF_F32, 1, 130), IN(PF_F32, 1, 130)),
        OC("layer norm plain", b_norm, &ln_plain, NORM_TOL, IN(PF_F32, 3, 2, 9, 1920)),
        OC("layer norm, large mean", b_norm, &ln_plain, TOL(1e-8, 5e-4), INR(PF_F32, 999, 1001, 2, 5, 257)),
        OC("layer norm bf16", b_norm, &ln, TOL(1e-5, 3e-2), IN(PF_BF16, 2, 7, 130), IN(PF_BF16, 1, 130), IN(PF_F32, 1, 130)),
        OCF(.inplace = true, "layer norm in place", b_norm, &ln_ip, NORM_TOL, IN(PF_F32, 2, 31, 64), IN(PF_F32, 1, 64)),
        OC("rms norm weight", b_norm, &rms, NORM_TOL, IN(PF_F32, 4, 2, 9, 3, 64), IN(PF_F32, 1, 64)),
        OC("rms norm plain, long rows", b_norm, &rms_plain, NORM_TOL, INR(PF_F32, -50, 50, 2, 3, 4096)),
        OCF(.inplace = true, "rms norm in place", b_norm, &rms_ip, NORM_TOL, IN(PF_F32, 2, 40, 33), IN(PF_F32, 1, 33)),
    };
    return oc_check_all(cs, (int)PF_ARRAY_LEN(cs));
}

static pf_test_result test_group_norm_softmax(void) {
    static const norm_p gn = {.op = PF_OP_GROUP_NORM, .eps = 1e-6f, .w = true, .b = true, .groups = 4, .silu = true};
    static const norm_p gn_plain = {.op = PF_OP_GROUP_NORM, .eps = 1e-5f, .groups = 1};
    static const norm_p gn_ip = {.op = PF_OP_GROUP_NORM, .eps = 1e-6f, .w = true, .b = true, .groups = 2, .inplace = true};
    static const norm_p sm = {.op = PF_OP_SOFTMAX, .eps = 0.7f}, sm1 = {.op = PF_OP_SOFTMAX, .eps = 1.0f};
    static const norm_p sm_ip = {.op = PF_OP_SOFTMAX, .eps = 0.125f, .inplace = true};
    const oc_case cs[] = {
        OC("group norm + silu", b_norm, &gn, NORM_TOL, IN(PF_F32, 5, 2, 8, 3, 5, 7), IN(PF_F32, 1, 8), IN(PF_F32, 1, 8)),
        OC("group norm one group, long planes", b_norm, &gn_plain, TOL(1e-10, 1e-4), INR(PF_F32, 3, 5, 5, 1, 3, 2, 61, 83)),
        OC("group norm bf16", b_norm, &gn, TOL(1e-5, 3e-2), IN(PF_BF16, 5, 1, 8, 2, 4, 6), IN(PF_F32, 1, 8), IN(PF_F32, 1, 8)),
        OCF(.inplace = true, "group norm in place", b_norm, &gn_ip, NORM_TOL, IN(PF_F32, 5, 1, 4, 2, 3, 5), IN(PF_F32, 1, 4), IN(PF_F32, 1, 4)),
        OC("softmax", b_norm, &sm, TOL(1e-12, 1e-6), INR(PF_F32, -5, 5, 2, 5, 77)),
        OC("softmax large logits", b_norm, &sm1, TOL(1e-12, 1e-6), INR(PF_F32, 40, 90, 3, 2, 3, 1000)),
        OC("softmax bf16", b_norm, &sm, TOL(1e-5, 4e-3), INR(PF_BF16, -5, 5, 2, 3, 33)),
        OCF(.inplace = true, "softmax in place", b_norm, &sm_ip, TOL(1e-12, 1e-6), INR(PF_F32, -50, 50, 2, 6, 300)),
    };
    return oc_check_all(cs, (int)PF_ARRAY_LEN(cs));
}

/* ---------------------------------------------------------------- rope, resampling */

static pf_test_result test_rope(void) {
    static const rope_p plain = {.inplace = false}, ip = {.inplace = true};
    const oc_case cs[] = {
        OC("rope", b_rope, &plain, TOL(1e-13, 1e-6), IN(PF_F32, 4, 2, 13, 3, 16), IN(PF_F32, 3, 13, 8, 2)),
        OC("rope bf16", b_rope, &plain, TOL(1e-5, 2e-2), IN(PF_BF16, 4, 1, 5, 2, 64), IN(PF_F32, 3, 5, 32, 2)),
        OCF(.inplace = true, "rope in place", b_rope, &ip, TOL(1e-13, 1e-6), IN(PF_F32, 4, 2, 7, 30, 64), IN(PF_F32, 3, 7, 32, 2)),
    };
    return oc_check_all(cs, (int)PF_ARRAY_LEN(cs));
}

static pf_test_result test_resample(void) {
    static const rs_p space = {.op = PF_OP_DEPTH_TO_SPACE, .mode = PF_D2S_SPACE};
    static const rs_p time = {.op = PF_OP_DEPTH_TO_SPACE, .mode = PF_D2S_TIME};
    static const rs_p time_drop = {.op = PF_OP_DEPTH_TO_SPACE, .mode = PF_D2S_TIME, .drop = 1};
    static const rs_p up = {.op = PF_OP_UPSAMPLE2X}, down = {.op = PF_OP_DOWNSAMPLE2X, .mul = 2.0f};
    static const rs_p down1 = {.op = PF_OP_DOWNSAMPLE2X, .mul = 1.0f};
    const oc_case cs[] = {
        OC("depth to space", b_resample, &space, EXACT, IN(PF_F32, 5, 1, 8, 2, 3, 5)),
        OC("depth to space bf16", b_resample, &space, EXACT, IN(PF_BF16, 5, 2, 4, 1, 3, 7)),
        OC("depth to time", b_resample, &time, EXACT, IN(PF_F32, 5, 2, 6, 3, 4, 5)),
        OC("depth to time, first dropped", b_resample, &time_drop, EXACT, IN(PF_F32, 5, 1, 4, 2, 3, 3)),
        OC("upsample 2x", b_resample, &up, EXACT, IN(PF_F32, 4, 2, 3, 4, 5)),
        OC("upsample 2x bf16", b_resample, &up, EXACT, IN(PF_BF16, 5, 1, 3, 2, 3, 7)),
        OC("downsample 2x", b_resample, &down, EXACT, IN(PF_F32, 4, 2, 3, 6, 8)),
        OC("downsample 2x wide rows", b_resample, &down1, EXACT, IN(PF_F32, 3, 2, 4, 600)),
        OC("downsample 2x bf16", b_resample, &down, EXACT, IN(PF_BF16, 5, 1, 16, 2, 4, 10)),
    };
    return oc_check_all(cs, (int)PF_ARRAY_LEN(cs));
}

PF_TEST_MAIN(PF_TEST(test_binary), PF_TEST(test_scale_unary), PF_TEST(test_modulate_gated), PF_TEST(test_copy_cast),
             PF_TEST(test_concat_embedding), PF_TEST(test_embedding_bad_id), PF_TEST(test_norms),
             PF_TEST(test_group_norm_softmax), PF_TEST(test_rope), PF_TEST(test_resample))
