/* Graph builder, views and memory planner. */
#include "pf_backend.h"
#include "pf_test.h"

static pf_backend *cpu(void) {
    pf_backend *be = NULL;
    pf_backend_options o = {.device = -1, .threads = 1, .reference = true};
    if (pf_backend_create("cpu", &o, &be) != PF_OK) return NULL;
    return be;
}

/* linear -> silu -> scale, checked against values computed by hand. */
static pf_test_result test_small_graph_values(void) {
    pf_backend *be = cpu();
    CHECK(be);
    pf_pool *pool;
    CHECK_OK(pf_pool_create(be, 1 << 20, &pool));
    int64_t wne[2] = {2, 3};
    pf_tensor *w = pf_pool_tensor(pool, PF_F32, 2, wne, "w");
    int64_t bne[1] = {2};
    pf_tensor *b = pf_pool_tensor(pool, PF_F32, 1, bne, "b");
    CHECK(w && b);
    float wv[6] = {1, 2, 3, -1, 0, 1}, bv[2] = {0.5f, -0.5f};
    CHECK_OK(pf_tensor_set(w, wv, sizeof wv));
    CHECK_OK(pf_tensor_set(b, bv, sizeof bv));

    pf_graph *g = pf_graph_new("small");
    int64_t xne[2] = {2, 3};
    pf_tensor *x = pf_input(g, PF_F32, 2, xne, "x");
    pf_tensor *y = pf_linear(g, x, w, b);
    pf_tensor *z = pf_scale(g, pf_silu(g, y), 2.0f, 1.0f);
    pf_output(g, z);
    CHECK_OK(pf_graph_status(g));
    pf_arena *a;
    CHECK_OK(pf_arena_create(be, &a));
    pf_plan_stats st;
    CHECK_OK(pf_graph_plan(g, a, &st));
    float xv[6] = {1, 0, -1, 0.5f, 0.5f, 2};
    CHECK_OK(pf_tensor_set(x, xv, sizeof xv));
    CHECK_OK(pf_graph_compute(g));
    float out[4];
    CHECK_OK(pf_tensor_get(z, out, sizeof out));
    for (int r = 0; r < 2; r++)
        for (int n = 0; n < 2; n++) {
            double acc = bv[n];
            for (int k = 0; k < 3; k++) acc += xv[r * 3 + k] * wv[n * 3 + k];
            double expect = 2.0 * acc / (1.0 + exp(-acc)) + 1.0;
            CHECK_NEAR(out[r * 2 + n], expect, 1e-5);
        }
    pf_graph_free(g);
    pf_arena_free(a);
    pf_pool_free(pool);
    pf_backend_free(be);
    return PF_T_PASS;
}

/* A chain of element-wise ops runs in place: peak stays at two buffers. */
static pf_test_result test_planner_inplace_and_peak(void) {
    pf_graph *g = pf_graph_new("chain");
    int64_t ne[1] = {1024};
    pf_tensor *x = pf_input(g, PF_F32, 1, ne, "x");
    pf_tensor *t = pf_scale(g, x, 2.0f, 0.0f);
    for (int i = 0; i < 10; i++) t = pf_silu(g, t);
    pf_output(g, t);
    pf_plan_stats st;
    CHECK_OK(pf_graph_plan_dry(g, 0, 64, &st));
    CHECK_MSG(st.n_inplace == 10, "n_inplace %d", st.n_inplace);
    CHECK_MSG(st.peak_bytes == 2 * 4096, "peak %zu", st.peak_bytes);
    CHECK(st.naive_bytes == 12 * 4096);
    pf_graph_free(g);
    return PF_T_PASS;
}

/* Freed intermediates are reused; a branch keeps its source alive. */
static pf_test_result test_planner_reuse(void) {
    pf_graph *g = pf_graph_new("reuse");
    int64_t ne[2] = {16, 64};
    pf_tensor *x = pf_input(g, PF_F32, 2, ne, "x");
    int64_t wne[2] = {64, 64};
    pf_tensor *w = pf_input(g, PF_F32, 2, wne, "w");
    pf_tensor *a = pf_linear(g, x, w, NULL); /* 4 KiB */
    pf_tensor *b = pf_linear(g, a, w, NULL); /* a dies here */
    pf_tensor *c = pf_linear(g, b, w, NULL); /* b dies; c reuses a's block */
    pf_tensor *d = pf_add(g, c, b);          /* keeps b alive until here */
    pf_output(g, d);
    pf_plan_stats st;
    CHECK_OK(pf_graph_plan_dry(g, 0, 64, &st));
    /* inputs 4 KiB + 16 KiB; at most three 4 KiB activations alive at once */
    CHECK_MSG(st.peak_bytes <= 4096 + 16384 + 3 * 4096, "peak %zu", st.peak_bytes);
    CHECK(c->offset == a->offset && c->chunk == a->chunk);
    CHECK(d->offset == c->offset); /* in place over c */
    pf_graph_free(g);
    return PF_T_PASS;
}

/* Chunks respect the per-buffer limit; a tensor bigger than the limit is an error. */
static pf_test_result test_planner_chunks(void) {
    pf_graph *g = pf_graph_new("chunks");
    int64_t ne[1] = {1024};
    pf_tensor *x = pf_input(g, PF_F32, 1, ne, "x");
    for (int i = 0; i < 6; i++) pf_output(g, pf_scale(g, x, (float)i, 0.0f)); /* 7 x 4 KiB alive */
    pf_plan_stats st;
    CHECK_OK(pf_graph_plan_dry(g, 8192, 64, &st));
    CHECK_MSG(st.n_chunks == 4, "chunks %d", st.n_chunks);
    pf_graph_free(g);

    g = pf_graph_new("too_big");
    x = pf_input(g, PF_F32, 1, ne, "x");
    pf_tensor *parts[3] = {x, x, x};
    pf_output(g, pf_concat(g, parts, 3, 0));
    CHECK_ERR(pf_graph_plan_dry(g, 8192, 64, &st), PF_ERR_OOM, "largest buffer");
    pf_graph_free(g);
    return PF_T_PASS;
}

/* Views: slices and permutes read the right elements; reshape of a view copies. */
static pf_test_result test_views(void) {
    pf_backend *be = cpu();
    CHECK(be);
    pf_graph *g = pf_graph_new("views");
    int64_t ne[3] = {2, 3, 4};
    pf_tensor *x = pf_input(g, PF_F32, 3, ne, "x");
    int perm[3] = {2, 0, 1};
    pf_tensor *p = pf_cont(g, pf_permute(g, x, perm)); /* [4, 2, 3] */
    pf_tensor *s = pf_cont(g, pf_slice(g, x, 2, 1, 2)); /* [2, 3, 2] */
    int64_t rne[2] = {6, 2};
    pf_tensor *r = pf_reshape(g, pf_slice(g, x, 2, 1, 2), 2, rne);
    pf_output(g, p);
    pf_output(g, s);
    pf_output(g, r);
    CHECK_OK(pf_graph_status(g));
    pf_arena *a;
    CHECK_OK(pf_arena_create(be, &a));
    CHECK_OK(pf_graph_plan(g, a, NULL));
    float xv[24];
    for (int i = 0; i < 24; i++) xv[i] = (float)i;
    CHECK_OK(pf_tensor_set(x, xv, sizeof xv));
    CHECK_OK(pf_graph_compute(g));
    float pv[24], sv[12], rv[12];
    CHECK_OK(pf_tensor_get(p, pv, sizeof pv));
    CHECK_OK(pf_tensor_get(s, sv, sizeof sv));
    CHECK_OK(pf_tensor_get(r, rv, sizeof rv));
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 2; j++)
            for (int k = 0; k < 3; k++) CHECK(pv[(i * 2 + j) * 3 + k] == xv[(j * 3 + k) * 4 + i]);
    for (int j = 0; j < 2; j++)
        for (int k = 0; k < 3; k++)
            for (int l = 0; l < 2; l++) {
                CHECK(sv[(j * 3 + k) * 2 + l] == xv[(j * 3 + k) * 4 + 1 + l]);
                CHECK(rv[(j * 3 + k) * 2 + l] == sv[(j * 3 + k) * 2 + l]);
            }
    pf_graph_free(g);
    pf_arena_free(a);
    pf_backend_free(be);
    return PF_T_PASS;
}

/* Shape errors are reported by name, never crash, and propagate NULL. */
static pf_test_result test_build_errors(void) {
    pf_graph *g = pf_graph_new("errors");
    int64_t ne[2] = {4, 8}, wne[2] = {16, 7};
    pf_tensor *x = pf_input(g, PF_F32, 2, ne, "x");
    pf_tensor *w = pf_input(g, PF_F32, 2, wne, "proj.weight");
    pf_tensor *y = pf_linear(g, x, w, NULL);
    CHECK(y == NULL);
    pf_tensor *z = pf_silu(g, y);
    CHECK(z == NULL);
    CHECK(pf_graph_status(g) == PF_ERR_SHAPE);
    CHECK_MSG(strstr(pf_graph_error(g), "proj.weight") != NULL, "%s", pf_graph_error(g));
    pf_graph_free(g);

    g = pf_graph_new("oob");
    pf_tensor *x2 = pf_input(g, PF_F32, 2, ne, "x");
    CHECK(pf_slice(g, x2, 1, 4, 5) == NULL);
    CHECK(pf_graph_status(g) == PF_ERR_SHAPE);
    pf_graph_free(g);
    return PF_T_PASS;
}

/* Graphs sharing one arena replay correctly after the arena grows. */
static pf_test_result test_arena_shared(void) {
    pf_backend *be = cpu();
    CHECK(be);
    pf_arena *a;
    CHECK_OK(pf_arena_create(be, &a));
    pf_graph *g1 = pf_graph_new("small"), *g2 = pf_graph_new("big");
    int64_t n1[1] = {16}, n2[1] = {4096};
    pf_tensor *x1 = pf_input(g1, PF_F32, 1, n1, "x1");
    pf_tensor *y1 = pf_scale(g1, x1, 3.0f, 1.0f);
    pf_output(g1, y1);
    pf_tensor *x2 = pf_input(g2, PF_F32, 1, n2, "x2");
    pf_tensor *y2 = pf_scale(g2, x2, -1.0f, 0.0f);
    pf_output(g2, y2);
    CHECK_OK(pf_graph_plan(g1, a, NULL));
    CHECK_OK(pf_graph_plan(g2, a, NULL)); /* grows the arena */
    float v1[16], o1[16], v2[4096], o2[4096];
    for (int i = 0; i < 16; i++) v1[i] = (float)i;
    for (int i = 0; i < 4096; i++) v2[i] = (float)i;
    for (int rep = 0; rep < 2; rep++) {
        CHECK_OK(pf_tensor_set(x1, v1, sizeof v1));
        CHECK_OK(pf_graph_compute(g1));
        CHECK_OK(pf_tensor_get(y1, o1, sizeof o1));
        for (int i = 0; i < 16; i++) CHECK(o1[i] == 3.0f * v1[i] + 1.0f);
        CHECK_OK(pf_tensor_set(x2, v2, sizeof v2));
        CHECK_OK(pf_graph_compute(g2));
        CHECK_OK(pf_tensor_get(y2, o2, sizeof o2));
        for (int i = 0; i < 4096; i++) CHECK(o2[i] == -v2[i]);
    }
    CHECK(pf_arena_size(a) >= 2 * 4096 * 4);
    pf_graph_free(g1);
    pf_graph_free(g2);
    pf_arena_free(a);
    pf_backend_free(be);
    return PF_T_PASS;
}

/* A node written into a persistent tensor: state carried across replays. */
static pf_test_result test_output_into(void) {
    pf_backend *be = cpu();
    CHECK(be);
    pf_pool *pool;
    CHECK_OK(pf_pool_create(be, 1 << 16, &pool));
    int64_t ne[1] = {8};
    pf_tensor *state = pf_pool_tensor(pool, PF_F32, 1, ne, "state");
    float zero[8] = {0};
    CHECK_OK(pf_tensor_set(state, zero, sizeof zero));
    pf_graph *g = pf_graph_new("accumulate");
    pf_tensor *x = pf_input(g, PF_F32, 1, ne, "x");
    pf_tensor *y = pf_add(g, pf_external(g, state), x); /* reads the old state */
    pf_output_into(g, y, state);
    CHECK_OK(pf_graph_status(g));
    pf_arena *a;
    CHECK_OK(pf_arena_create(be, &a));
    CHECK_OK(pf_graph_plan(g, a, NULL));
    float xv[8], out[8];
    for (int i = 0; i < 8; i++) xv[i] = (float)i;
    for (int rep = 0; rep < 3; rep++) {
        CHECK_OK(pf_tensor_set(x, xv, sizeof xv));
        CHECK_OK(pf_graph_compute(g));
    }
    CHECK_OK(pf_tensor_get(state, out, sizeof out));
    for (int i = 0; i < 8; i++) CHECK(out[i] == 3.0f * xv[i]);
    /* a mismatched target is refused with a message */
    pf_graph *g2 = pf_graph_new("bad_into");
    int64_t ne2[1] = {4};
    pf_tensor *x2 = pf_input(g2, PF_F32, 1, ne2, "x2");
    pf_output_into(g2, pf_scale(g2, x2, 1.0f, 0.0f), state);
    CHECK(pf_graph_status(g2) == PF_ERR_SHAPE);
    CHECK(strstr(pf_graph_error(g2), "state") != NULL);
    pf_graph_free(g2);
    pf_graph_free(g);
    pf_arena_free(a);
    pf_pool_free(pool);
    pf_backend_free(be);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_output_into), PF_TEST(test_small_graph_values), PF_TEST(test_planner_inplace_and_peak), PF_TEST(test_planner_reuse),
             PF_TEST(test_planner_chunks), PF_TEST(test_views), PF_TEST(test_build_errors), PF_TEST(test_arena_shared))
