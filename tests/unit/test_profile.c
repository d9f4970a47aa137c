/*
 * The per-node GPU time table shared by PF_VK_PROFILE and PF_CUDA_PROFILE
 * (runtime/pf_profile.c): keys of nodes and fused pairs, equal keys summed, rows by
 * decreasing time, the printed report and its "by op" shares. No device needed.
 */
#include "pf_backend.h"
#include "pf_profile.h"
#include "pf_test.h"

/* x [2, 3, 8] -> layer_norm -> modulate(shift, scale [2, 1, 8]) -> gelu_tanh */
typedef struct {
    pf_graph *g;
    pf_tensor *norm, *mod, *act;
} small_graph;

static pf_status small_graph_build(small_graph *s) {
    s->g = pf_graph_new("profile_keys");
    const int64_t xne[3] = {2, 3, 8}, vne[3] = {2, 1, 8};
    pf_tensor *x = pf_input(s->g, PF_F32, 3, xne, "x");
    pf_tensor *shift = pf_input(s->g, PF_BF16, 3, vne, "shift"), *scale = pf_input(s->g, PF_BF16, 3, vne, "scale");
    s->norm = pf_layer_norm(s->g, x, NULL, NULL, 1e-6f);
    s->mod = pf_modulate(s->g, s->norm, shift, scale);
    s->act = pf_gelu_tanh(s->g, s->mod);
    return pf_graph_status(s->g);
}

static pf_test_result test_keys(void) {
    small_graph s;
    CHECK_OK(small_graph_build(&s));
    char k[PF_PROF_KEY_LEN];
    pf_prof_key(s.norm, NULL, k, sizeof k);
    CHECK_MSG(!strcmp(k, "layer_norm     f32  [2, 3, 8] <- [2, 3, 8]"), "'%s'", k);
    pf_prof_key(s.mod, NULL, k, sizeof k);
    CHECK_MSG(!strcmp(k, "modulate       f32  [2, 3, 8] <- [2, 3, 8] [2, 1, 8]"), "'%s'", k);
    pf_prof_key(s.act, NULL, k, sizeof k); /* a unary op under its function's name */
    CHECK_MSG(!strcmp(k, "gelu_tanh      f32  [2, 3, 8] <- [2, 3, 8]"), "'%s'", k);
    /* a fused pair: both names, the consumer's output, the producer's input and the
     * consumer's second input */
    pf_prof_key(s.norm, s.mod, k, sizeof k);
    CHECK_MSG(!strcmp(k, "layer_norm+modulate f32  [2, 3, 8] <- [2, 3, 8] [2, 1, 8]"), "'%s'", k);
    char tiny[12]; /* truncated, still terminated */
    pf_prof_key(s.norm, s.mod, tiny, sizeof tiny);
    CHECK_MSG(!strcmp(tiny, "layer_norm+"), "'%s'", tiny);
    pf_graph_free(s.g);
    return PF_T_PASS;
}

static pf_test_result test_sum_and_sort(void) {
    pf_prof pr = {0};
    CHECK_OK(pf_prof_add(&pr, "b", PF_OP_ADD, PF_OP_NONE, 1.0));
    CHECK_OK(pf_prof_add(&pr, "a", PF_OP_LINEAR, PF_OP_NONE, 2.0));
    CHECK_OK(pf_prof_add(&pr, "b", PF_OP_ADD, PF_OP_NONE, 2.5));
    CHECK_OK(pf_prof_add(&pr, "c", PF_OP_LAYER_NORM, PF_OP_MODULATE, 0.25));
    CHECK(pr.n_rows == 3);
    CHECK_NEAR(pr.total_ms, 5.75, 1e-12);
    pf_prof_sort(&pr);
    const char *order[3] = {"b", "a", "c"};
    const int counts[3] = {2, 1, 1};
    const double ms[3] = {3.5, 2.0, 0.25};
    for (int i = 0; i < 3; i++) {
        CHECK_MSG(!strcmp(pr.rows[i].key, order[i]), "row %d is '%s', expected '%s'", i, pr.rows[i].key, order[i]);
        CHECK(pr.rows[i].count == counts[i]);
        CHECK_NEAR(pr.rows[i].ms, ms[i], 1e-12);
    }
    CHECK(pr.rows[2].op == PF_OP_LAYER_NORM && pr.rows[2].op2 == PF_OP_MODULATE);
    /* many keys: the table grows past its first allocation and stays sorted */
    for (int i = 0; i < 200; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i % 150);
        CHECK_OK(pf_prof_add(&pr, key, PF_OP_SCALE, PF_OP_NONE, 0.001 * (i % 150)));
    }
    CHECK(pr.n_rows == 153);
    pf_prof_sort(&pr);
    for (int i = 1; i < pr.n_rows; i++) CHECK_MSG(pr.rows[i - 1].ms >= pr.rows[i].ms, "row %d", i);
    pf_prof_reset(&pr);
    CHECK(pr.n_rows == 0 && pr.total_ms == 0.0);
    CHECK_OK(pf_prof_add(&pr, "b", PF_OP_ADD, PF_OP_NONE, 1.0)); /* nothing left of before the reset */
    CHECK(pr.n_rows == 1 && pr.rows[0].count == 1);
    pf_prof_free(&pr);
    CHECK(pr.rows == NULL && pr.n_rows == 0);
    return PF_T_PASS;
}

/* The report: title, rows largest first, shares, and a fused pair as its own op. */
static pf_test_result test_report(void) {
    small_graph s;
    CHECK_OK(small_graph_build(&s));
    pf_prof pr = {0};
    CHECK_OK(pf_prof_add_nodes(&pr, s.act, NULL, 1.0));
    CHECK_OK(pf_prof_add_nodes(&pr, s.norm, s.mod, 2.0));
    CHECK_OK(pf_prof_add_nodes(&pr, s.norm, s.mod, 1.0));
    CHECK_OK(pf_prof_add_nodes(&pr, s.norm, NULL, 4.0));
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CHECK(f);
    pf_prof_print(&pr, "cuda", "Test GPU", f);
    fclose(f);
    const char *want[] = {
        "cuda profile (Test GPU): 8.000 ms of GPU time in 3 distinct nodes\n",
        "         ms  count   ms/call  share  op dtype shape <- inputs\n",
        "      4.000      1     4.000  50.0%  layer_norm     f32  [2, 3, 8] <- [2, 3, 8]\n",
        "      3.000      2     1.500  37.5%  layer_norm+modulate f32  [2, 3, 8] <- [2, 3, 8] [2, 1, 8]\n",
        "      1.000      1     1.000  12.5%  gelu_tanh      f32  [2, 3, 8] <- [2, 3, 8]\n",
        "  by op: unary 12.5% layer_norm 50.0% layer_norm+modulate 37.5%\n",
    };
    const char *at = text;
    for (size_t i = 0; i < PF_ARRAY_LEN(want); i++) {
        CHECK_MSG(!strncmp(at, want[i], strlen(want[i])), "line %zu:\n%s\nexpected:\n%s\nreport:\n%s", i, at, want[i],
                  text);
        at += strlen(want[i]);
    }
    CHECK_MSG(*at == '\0', "trailing text: '%s'", at);
    free(text);
    /* an empty table prints nothing */
    pf_prof_reset(&pr);
    text = NULL;
    f = open_memstream(&text, &len);
    CHECK(f);
    pf_prof_print(&pr, "vulkan", "x", f);
    fclose(f);
    CHECK(len == 0);
    free(text);
    pf_prof_free(&pr);
    pf_graph_free(s.g);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_keys), PF_TEST(test_sum_and_sort), PF_TEST(test_report))
