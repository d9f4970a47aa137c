/*
 * The export/replay machinery of conformance_full on a small hand-built graph with the
 * patterns the models have (a DiT-like block: adaLN modulate with broadcast operands,
 * q/k/v linears, RMS qk-norm, RoPE, permuted views fed to copies, frame-masked attention,
 * gated residuals, concat; a VAE-like conv / group norm / upsample tail): every compute
 * node becomes exactly one case or a duplicate of one, replayed cases rebuild the node's
 * shape and strides, reduced twins keep the signature's op and dtypes, and the sweep
 * passes on every backend of this build.
 */
#include "conformance.h"
#include "pf_test.h"

#define SH(...) ((const int64_t[]){__VA_ARGS__})

typedef struct {
    pf_graph *g;
    int n_compute;
} built;

static void collect(pf_graph *g, void *user) {
    pf_conf_list *l = user;
    pf_conf_export_graph(l, g, pf_graph_name(g), NULL);
}

static pf_status build_block(pf_backend *meta, pf_conf_list *l, pf_dtype act) {
    const int64_t B = 2, N = 40, D = 64, H = 2, hd = 32;
    pf_graph *g = pf_graph_new("toy_block");
    pf_tensor *x = pf_input(g, act, 3, SH(B, N, D), "x");
    pf_tensor *mod = pf_input(g, act, 3, SH(B, 1, 6 * D), "mod");
    pf_tensor *wq = pf_input(g, PF_BF16, 2, SH(D, D), "wq");
    pf_tensor *bq = pf_input(g, PF_BF16, 1, SH(D), "bq");
    pf_tensor *qn = pf_input(g, act, 1, SH(hd), "qn");
    pf_tensor *rope = pf_input(g, PF_F32, 3, SH(N, hd / 2, 2), "rope");
    pf_tensor *meta_q = pf_input(g, PF_I32, 2, SH(B, N), "meta");
    pf_tensor *shift = pf_slice(g, mod, 2, 0, D), *scale = pf_slice(g, mod, 2, D, D), *gate = pf_slice(g, mod, 2, 2 * D, D);
    pf_tensor *h = pf_modulate(g, pf_layer_norm(g, x, NULL, NULL, 1e-6f), shift, scale);
    pf_tensor *qkv[3];
    for (int i = 0; i < 3; i++) {
        pf_tensor *t = pf_reshape(g, pf_linear(g, h, wq, bq), 4, SH(B, N, H, hd));
        if (i < 2) t = pf_rope(g, pf_rms_norm(g, t, qn, 1e-5f), rope);
        qkv[i] = t;
    }
    pf_tensor *a = pf_attention(g, qkv[0], qkv[1], qkv[2], 0.17677669f, PF_MASK_FRAME, meta_q, meta_q, NULL);
    /* heads-first copy through a permuted view, back again: strided cpy operands */
    pf_tensor *hf = pf_copy(g, pf_permute(g, a, (const int[]){0, 2, 1, 3}));
    pf_tensor *back = pf_reshape(g, pf_copy(g, pf_permute(g, hf, (const int[]){0, 2, 1, 3})), 3, SH(B, N, D));
    pf_tensor *o = pf_gelu_tanh(g, pf_linear(g, back, wq, NULL));
    pf_tensor *y = pf_gated_add(g, x, gate, o);
    pf_tensor *parts[2] = {pf_slice(g, y, 1, 0, 8), y};
    pf_tensor *cat = pf_concat(g, parts, 2, 1);
    pf_output(g, pf_scale(g, cat, 0.5f, 0.0f));

    pf_graph *g2 = pf_graph_new("toy_vae");
    pf_tensor *v = pf_input(g2, act, 5, SH(1, 16, 3, 12, 10), "v");
    pf_tensor *cache = pf_input(g2, act, 5, SH(1, 16, 2, 12, 10), "cache");
    pf_tensor *w = pf_input(g2, PF_BF16, 5, SH(16, 16, 3, 3, 3), "w");
    pf_tensor *gw = pf_input(g2, PF_F32, 1, SH(16), "gw");
    pf_tensor *c1 = pf_conv3d(g2, pf_group_norm(g2, v, gw, gw, 4, 1e-6f, true), w, NULL, cache, 2, 1, 1, 1, 1, 1);
    pf_tensor *c2 = pf_conv3d(g2, pf_group_norm(g2, c1, gw, gw, 4, 1e-6f, true), w, NULL, cache, 2, 1, 1, 1, 1, 1);
    pf_output(g2, pf_upsample2x(g2, pf_add(g2, v, c2)));

    pf_status rc = pf_graph_status(g) != PF_OK ? pf_error(pf_graph_status(g), "%s", pf_graph_error(g))
                   : pf_graph_status(g2) != PF_OK ? pf_error(pf_graph_status(g2), "%s", pf_graph_error(g2))
                                                  : PF_OK;
    pf_arena *arena = NULL;
    if (rc == PF_OK) rc = pf_arena_create(meta, &arena);
    if (rc == PF_OK) rc = pf_graph_plan(g, arena, NULL);
    if (rc == PF_OK) rc = pf_graph_plan(g2, arena, NULL);
    (void)l;
    pf_graph_free(g);
    pf_graph_free(g2);
    pf_arena_free(arena);
    return rc;
}

static pf_test_result test_export_and_replay(void) {
    pf_backend *meta;
    CHECK_OK(pf_backend_meta_create(&meta));
    pf_conf_list l = {0};
    pf_graph_set_observer(collect, &l);
    pf_status rc = build_block(meta, &l, PF_F32);
    if (rc == PF_OK) rc = build_block(meta, &l, PF_F32); /* same graphs again: nothing new */
    int after_f32 = l.n;
    if (rc == PF_OK) rc = build_block(meta, &l, PF_BF16);
    pf_graph_set_observer(NULL, NULL);
    pf_backend_free(meta);
    CHECK_OK(rc);
    CHECK(after_f32 > 15);
    CHECK(l.n > after_f32); /* bf16 activations are other signatures */
    int strided = 0, dup = 0;
    bool ops[PF_OP_COUNT] = {0};
    for (int i = 0; i < l.n; i++) {
        const pf_conf_case *c = &l.cases[i];
        ops[c->op] = true;
        if (c->count > 1) dup++;
        for (int k = 0; k < c->n_in; k++) strided += c->in[k].strided;
    }
    CHECK_MSG(strided >= 3, "%d strided operands", strided); /* modulate/gated slices, permuted copies */
    CHECK(dup > 0);                                         /* the twice-planned graph and repeated nodes */
    pf_op want[] = {PF_OP_LAYER_NORM, PF_OP_MODULATE, PF_OP_LINEAR,  PF_OP_RMS_NORM, PF_OP_ROPE,
                    PF_OP_ATTENTION,  PF_OP_CPY,      PF_OP_GATED_ADD, PF_OP_CONCAT, PF_OP_CONV3D,
                    PF_OP_GROUP_NORM, PF_OP_UPSAMPLE2X, PF_OP_UNARY, PF_OP_SCALE, PF_OP_ADD};
    for (size_t i = 0; i < PF_ARRAY_LEN(want); i++) CHECK_MSG(ops[want[i]], "no %s case", pf_op_name(want[i]));

    /* reduced twins: same op and dtypes, strictly less work */
    int twins = 0;
    for (int i = 0; i < l.n; i++) {
        pf_conf_case t;
        if (!pf_conf_shrink(&l.cases[i], &t, 8)) continue;
        twins++;
        double f0, b0, g0, f1, b1, g1;
        CHECK_OK(pf_conf_case_cost(&l.cases[i], &f0, &b0, &g0));
        CHECK_OK(pf_conf_case_cost(&t, &f1, &b1, &g1));
        CHECK_MSG(b1 < b0 && t.op == l.cases[i].op && t.in[0].dtype == l.cases[i].in[0].dtype, "%s", t.name);
    }
    CHECK(twins > 5);

    /* replay everywhere, with reduced twins forced by a tiny byte budget for half the list */
    const char *names[8];
    int nb = 0;
    for (int b = 0; b < pf_backend_count() && nb < 8; b++) names[nb++] = pf_backend_name_at(b);
    pf_conf_sweep_opts o = {.seconds = 60, .max_bytes = 0, .reduce_cap = 8};
    int f = pf_conf_sweep(&l, names, nb, &o, stdout);
    CHECK_MSG(f == 0, "%d failures", f);
    o.max_bytes = 20000; /* most cases over budget: reported skipped-by-size, twins run */
    f = pf_conf_sweep(&l, names, nb, &o, stdout);
    CHECK_MSG(f == 0, "%d failures with reduced twins", f);
    pf_conf_list_free(&l);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_export_and_replay))
