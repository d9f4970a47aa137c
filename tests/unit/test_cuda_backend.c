/*
 * The CUDA backend on a real device: device info, the caching allocator (reuse,
 * statistics, the out-of-memory message), transfers, ops against hand-computed
 * values, in-place and aliasing graphs, both GEMM paths and both conv3d paths
 * against the CPU reference, fused pairs, CUDA graphs, and the per-node profile
 * (PF_CUDA_PROFILE) with the event timing it relies on. Without a device (or in a build without CUDA)
 * every test skips with the reason, so the binary exits 77.
 */
#include "pf_backend.h"
#include "pf_test.h"

#ifdef PF_HAVE_CUDA
#include "pf_cuda.h"
#include "pf_graph_impl.h"

#include <cuda_runtime_api.h>
#include <math.h>
#include <stdlib.h>

static char g_why[1024];

/* A CUDA backend, or NULL with the reason in g_why. A reason that does not say what is
 * wrong with CUDA is itself a failure (reported through *bad). */
static pf_backend *cuda_backend(bool *bad) {
    pf_backend *be = NULL;
    *bad = false;
    pf_status rc = pf_backend_create("cuda", NULL, &be);
    if (rc == PF_OK) return be;
    snprintf(g_why, sizeof g_why, "%s", pf_last_error());
    *bad = !strstr(g_why, "CUDA") || (rc != PF_ERR_UNSUPPORTED && rc != PF_ERR_INVALID_ARG);
    return NULL;
}

#define NEED_CUDA(be)                                                                                                  \
    bool bad_;                                                                                                         \
    pf_backend *be = cuda_backend(&bad_);                                                                              \
    do {                                                                                                               \
        if (!be) {                                                                                                     \
            CHECK_MSG(!bad_, "CUDA backend creation failed without a CUDA reason: %s", g_why);                         \
            SKIP("no CUDA device: %s", g_why);                                                                         \
        }                                                                                                              \
    } while (0)

static pf_backend *cpu_ref(void) {
    pf_backend *be = NULL;
    pf_backend_options o = {.device = -1, .threads = 1, .reference = true};
    return pf_backend_create("cpu", &o, &be) == PF_OK ? be : NULL;
}

/* ---------------------------------------------------------------- graph helper */

typedef struct {
    pf_dtype dt;
    int ndim;
    int64_t ne[PF_MAX_DIMS];
    const float *data; /* f32 values, converted to dt on upload */
} t_in;

typedef pf_tensor *(*build_fn)(pf_graph *g, pf_tensor **in, const void *arg);

/* Build f over inputs on backend be, compute, and read the output as f32. */
static pf_status run_graph(pf_backend *be, build_fn f, const void *arg, const t_in *ins, int n_in, float *out,
                           size_t n_out, pf_plan_stats *st) {
    pf_graph *g = pf_graph_new("cuda_test");
    pf_tensor *in[PF_MAX_SRC] = {0};
    for (int i = 0; i < n_in; i++) in[i] = pf_input(g, ins[i].dt, ins[i].ndim, ins[i].ne, "in");
    pf_tensor *y = f(g, in, arg);
    pf_output(g, y);
    pf_arena *a = NULL;
    pf_status rc = pf_graph_status(g);
    if (rc != PF_OK) rc = pf_error(rc, "%s", pf_graph_error(g));
    if (rc == PF_OK) rc = pf_arena_create(be, &a);
    if (rc == PF_OK) rc = pf_graph_plan(g, a, st);
    for (int i = 0; i < n_in && rc == PF_OK; i++)
        rc = pf_tensor_set_as(in[i], ins[i].data, PF_F32, (size_t)pf_nelem(in[i]));
    if (rc == PF_OK) rc = pf_graph_compute(g);
    if (rc == PF_OK && (size_t)pf_nelem(y) != n_out)
        rc = pf_error(PF_ERR_SHAPE, "output has %lld elements, expected %zu", (long long)pf_nelem(y), n_out);
    if (rc == PF_OK) rc = pf_tensor_get_as(y, out, PF_F32, n_out);
    pf_graph_free(g);
    pf_arena_free(a);
    return rc;
}

static double max_diff(const float *a, const float *b, size_t n) {
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (isnan(a[i]) || isnan(b[i])) return INFINITY;
        if (d > m) m = d;
    }
    return m;
}

/* Deterministic values in [-1, 1). */
static void fill(float *p, size_t n, unsigned seed) {
    uint32_t s = seed * 2654435761u + 12345u;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        p[i] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
}

/* ---------------------------------------------------------------- device and memory */

static pf_test_result test_device_info(void) {
    NEED_CUDA(be);
    pf_backend_info info;
    pf_backend_get_info(be, &info);
    CHECK(!strcmp(info.name, "cuda"));
    CHECK_MSG(strstr(info.device, "sm_") != NULL, "device '%s'", info.device);
    CHECK(info.mem_total > 0 && info.mem_free > 0 && info.mem_free <= info.mem_total);
    CHECK(info.alignment == 256 && info.max_buffer_size >= ((size_t)1 << 30));
    CHECK(pf_backend_is_cuda(be));
    pf_backend_free(be);
    return PF_T_PASS;
}

static pf_test_result test_device_selection(void) {
    NEED_CUDA(be);
    pf_backend_free(be);
    pf_backend_options o = {.device = 0};
    CHECK_OK(pf_backend_create("cuda", &o, &be));
    pf_backend_free(be);
    o.device = 4096;
    CHECK_ERR(pf_backend_create("cuda", &o, &be), PF_ERR_INVALID_ARG, "CUDA device 4096 requested");
    const char *old = getenv("PF_CUDA_DEVICE");
    char saved[64] = "";
    if (old) snprintf(saved, sizeof saved, "%s", old);
    setenv("PF_CUDA_DEVICE", "gpu0", 1);
    pf_status rc = pf_backend_create("cuda", NULL, &be);
    if (old)
        setenv("PF_CUDA_DEVICE", saved, 1);
    else
        unsetenv("PF_CUDA_DEVICE");
    CHECK_MSG(rc == PF_ERR_INVALID_ARG && strstr(pf_last_error(), "PF_CUDA_DEVICE='gpu0'"), "%s", pf_last_error());
    return PF_T_PASS;
}

static pf_test_result test_allocator_reuse(void) {
    NEED_CUDA(be);
    pf_cuda_mem_stats s0, s1;
    CHECK_OK(pf_cuda_memory_stats(be, &s0));
    pf_buffer *b;
    CHECK_OK(pf_buffer_alloc(be, 1000, &b)); /* class 1024 */
    CHECK_OK(pf_cuda_memory_stats(be, &s1));
    CHECK(s1.n_device_allocs == s0.n_device_allocs + 1);
    CHECK(s1.in_use == s0.in_use + 1024 && s1.requested == s0.requested + 1000);
    pf_buffer_free(b);
    CHECK_OK(pf_cuda_memory_stats(be, &s1));
    CHECK(s1.in_use == s0.in_use && s1.cached == s0.cached + 1024);
    CHECK_OK(pf_buffer_alloc(be, 970, &b)); /* same class (961..1024 bytes): from the cache */
    CHECK_OK(pf_cuda_memory_stats(be, &s1));
    CHECK(s1.n_cache_hits == s0.n_cache_hits + 1 && s1.n_device_allocs == s0.n_device_allocs + 1);
    CHECK(b->size == 970);
    pf_buffer_free(b);

    /* large blocks: 40 MiB freed, 39 MiB + 1 reuses it (rounds to 40 MiB); 20 MiB does not */
    size_t mib = (size_t)1 << 20;
    CHECK_OK(pf_buffer_alloc(be, 40 * mib, &b));
    pf_buffer_free(b);
    CHECK_OK(pf_cuda_memory_stats(be, &s0));
    CHECK_OK(pf_buffer_alloc(be, 39 * mib + 1, &b));
    CHECK_OK(pf_cuda_memory_stats(be, &s1));
    CHECK(s1.n_cache_hits == s0.n_cache_hits + 1 && s1.n_device_allocs == s0.n_device_allocs);
    pf_buffer_free(b);
    pf_buffer *c;
    CHECK_OK(pf_buffer_alloc(be, 20 * mib, &c)); /* a small class (<= 32 MiB) */
    pf_buffer_free(c);

    CHECK_OK(pf_cuda_empty_cache(be));
    CHECK_OK(pf_cuda_memory_stats(be, &s1));
    CHECK(s1.cached == 0 && s1.n_device_frees >= s0.n_device_frees + 2);
    CHECK(s1.peak_in_use >= 40 * mib);
    pf_backend_free(be);
    return PF_T_PASS;
}

static pf_test_result test_out_of_memory_message(void) {
    NEED_CUDA(be);
    pf_buffer *b = NULL;
    CHECK_ERR(pf_buffer_alloc(be, (size_t)1 << 52, &b), PF_ERR_OOM, "asked for");
    CHECK_MSG(strstr(pf_last_error(), "free of") && strstr(pf_last_error(), "4096.00 TiB"), "%s", pf_last_error());
    CHECK(b == NULL);
    /* the backend still works afterwards */
    CHECK_OK(pf_buffer_alloc(be, 4096, &b));
    pf_buffer_free(b);
    pf_backend_free(be);
    return PF_T_PASS;
}

static pf_test_result test_upload_download(void) {
    NEED_CUDA(be);
    /* below, at and across the 4 MiB staging chunks, at odd offsets */
    const size_t sizes[] = {1, 1000, (4u << 20) - 1, (4u << 20) + 3, (9u << 20) + 7};
    const size_t offs[] = {0, 1, 7};
    for (size_t si = 0; si < PF_ARRAY_LEN(sizes); si++)
        for (size_t oi = 0; oi < PF_ARRAY_LEN(offs); oi++) {
            size_t n = sizes[si], off = offs[oi];
            pf_buffer *b;
            CHECK_OK(pf_buffer_alloc(be, n + off + 5, &b));
            unsigned char *src = malloc(n), *dst = malloc(n);
            CHECK(src && dst);
            for (size_t i = 0; i < n; i++) src[i] = (unsigned char)(i * 131 + si * 7 + oi);
            CHECK_OK(be->ops->upload(be, b, off, src, n));
            memset(src, 0, n); /* the upload must not read the caller's buffer later */
            memset(dst, 0xEE, n);
            CHECK_OK(be->ops->download(be, b, off, dst, n));
            for (size_t i = 0; i < n; i++)
                if (dst[i] != (unsigned char)(i * 131 + si * 7 + oi)) {
                    free(src);
                    free(dst);
                    CHECK_MSG(0, "size %zu offset %zu: byte %zu differs", n, off, i);
                }
            free(src);
            free(dst);
            CHECK_ERR(be->ops->upload(be, b, n + off + 1, "xxxxx", 5), PF_ERR_INTERNAL, "outside");
            pf_buffer_free(b);
        }
    pf_backend_free(be);
    return PF_T_PASS;
}

/* ---------------------------------------------------------------- ops, hand-computed */

static pf_tensor *b_add(pf_graph *g, pf_tensor **in, const void *arg) {
    (void)arg;
    return pf_add(g, in[0], in[1]);
}

static pf_tensor *b_linear(pf_graph *g, pf_tensor **in, const void *arg) {
    (void)arg;
    return pf_linear(g, in[0], in[1], in[2]);
}

static pf_tensor *b_layer_norm(pf_graph *g, pf_tensor **in, const void *arg) {
    (void)arg;
    return pf_layer_norm(g, in[0], NULL, NULL, 0.0f);
}

static pf_tensor *b_attention(pf_graph *g, pf_tensor **in, const void *arg) {
    (void)arg;
    return pf_attention(g, in[0], in[1], in[2], 1.0f, PF_MASK_NONE, NULL, NULL, NULL);
}

static pf_tensor *b_matmul_bcast(pf_graph *g, pf_tensor **in, const void *arg) {
    (void)arg;
    return pf_matmul(g, in[0], in[1], false, 2.0f);
}

static pf_tensor *b_conv_1x1(pf_graph *g, pf_tensor **in, const void *arg) {
    (void)arg;
    return pf_conv3d(g, in[0], in[1], in[2], NULL, 0, 0, 0, 1, 1, 1);
}

static pf_test_result test_ops_by_hand(void) {
    NEED_CUDA(be);
    float out[16];
    /* add with a broadcast row */
    const float a[6] = {1, 2, 3, 4, 5, 6}, row[3] = {10, 20, 30};
    t_in add_in[2] = {{PF_F32, 2, {2, 3}, a}, {PF_F32, 1, {3}, row}};
    CHECK_OK(run_graph(be, b_add, NULL, add_in, 2, out, 6, NULL));
    const float add_exp[6] = {11, 22, 33, 14, 25, 36};
    CHECK(max_diff(out, add_exp, 6) == 0.0);

    /* linear in f32 and in bf16 (values exact in bf16) */
    const float x[6] = {1, 2, 3, -1, 0, 2}, w[6] = {1, 0, -1, 2, 1, 0.5f}, bias[2] = {0.5f, -1};
    const float lin_exp[4] = {1 - 3 + 0.5f, 2 + 2 + 1.5f - 1, -1 - 2 + 0.5f, -2 + 1 - 1};
    for (int d = 0; d < 2; d++) {
        pf_dtype dt = d ? PF_BF16 : PF_F32;
        t_in lin_in[3] = {{dt, 2, {2, 3}, x}, {dt, 2, {2, 3}, w}, {dt, 1, {2}, bias}};
        CHECK_OK(run_graph(be, b_linear, NULL, lin_in, 3, out, 4, NULL));
        CHECK_MSG(max_diff(out, lin_exp, 4) == 0.0, "linear %s: %g %g %g %g", pf_dtype_name(dt), out[0], out[1], out[2],
                  out[3]);
    }

    /* layer norm of [1, 2, 3, 4]: mean 2.5, variance 1.25 */
    const float ln[4] = {1, 2, 3, 4};
    t_in ln_in[1] = {{PF_F32, 2, {1, 4}, ln}};
    CHECK_OK(run_graph(be, b_layer_norm, NULL, ln_in, 1, out, 4, NULL));
    for (int i = 0; i < 4; i++) CHECK_NEAR(out[i], (ln[i] - 2.5) / sqrt(1.25), 1e-6);

    /* attention, one query and two keys: scores 1 and 0 */
    const float q[2] = {1, 0}, k[4] = {1, 0, 0, 1}, v[4] = {1, 2, 3, 4};
    t_in at_in[3] = {{PF_F32, 4, {1, 1, 1, 2}, q}, {PF_F32, 4, {1, 2, 1, 2}, k}, {PF_F32, 4, {1, 2, 1, 2}, v}};
    CHECK_OK(run_graph(be, b_attention, NULL, at_in, 3, out, 2, NULL));
    double p0 = exp(1.0) / (exp(1.0) + 1.0), p1 = 1.0 - p0;
    CHECK_NEAR(out[0], p0 * 1 + p1 * 3, 1e-6);
    CHECK_NEAR(out[1], p0 * 2 + p1 * 4, 1e-6);

    /* matmul with a shared B and alpha 2: [2, 1, 2] x [1, 2, 2] */
    const float ma[4] = {1, 2, 3, 4}, mb[4] = {1, 0, 1, 1};
    t_in mm_in[2] = {{PF_F32, 3, {2, 1, 2}, ma}, {PF_F32, 3, {1, 2, 2}, mb}};
    CHECK_OK(run_graph(be, b_matmul_bcast, NULL, mm_in, 2, out, 4, NULL));
    const float mm_exp[4] = {2 * 3, 2 * 2, 2 * 7, 2 * 4};
    CHECK(max_diff(out, mm_exp, 4) == 0.0);

    /* 1x1x1 conv: y[co] = bias[co] + sum_ci w[co, ci] x[ci] */
    const float cx[4] = {1, 2, 3, 4}, cw[4] = {1, 1, 2, -1}, cb[2] = {0.5f, 0};
    t_in cv_in[3] = {{PF_F32, 5, {1, 2, 1, 1, 2}, cx}, {PF_F32, 5, {2, 2, 1, 1, 1}, cw}, {PF_F32, 1, {2}, cb}};
    CHECK_OK(run_graph(be, b_conv_1x1, NULL, cv_in, 3, out, 4, NULL));
    const float cv_exp[4] = {1 + 3 + 0.5f, 2 + 4 + 0.5f, 2 - 3, 4 - 4};
    CHECK(max_diff(out, cv_exp, 4) == 0.0);
    pf_backend_free(be);
    return PF_T_PASS;
}

static pf_tensor *b_frame_attention(pf_graph *g, pf_tensor **in, const void *arg) {
    (void)arg;
    return pf_attention(g, in[0], in[1], in[2], 1.0f, PF_MASK_FRAME, in[3], in[4], NULL);
}

/* A query whose frame precedes every key's sees nothing and gives zeros. */
static pf_test_result test_attention_no_visible_key(void) {
    NEED_CUDA(be);
    float q[2 * 4], k[3 * 4], v[3 * 4], out[8];
    fill(q, 8, 1);
    fill(k, 12, 2);
    fill(v, 12, 3);
    const float qm[2] = {1, 2 * 2 + 1}, km[3] = {1 * 2 + 1, 1 * 2 + 1, 2 * 2 + 1}; /* q frames 0, 2; k frames 1, 1, 2 */
    t_in in[5] = {{PF_F32, 4, {1, 2, 1, 4}, q},
                  {PF_F32, 4, {1, 3, 1, 4}, k},
                  {PF_F32, 4, {1, 3, 1, 4}, v},
                  {PF_I32, 2, {1, 2}, qm},
                  {PF_I32, 2, {1, 3}, km}};
    CHECK_OK(run_graph(be, b_frame_attention, NULL, in, 5, out, 8, NULL));
    for (int e = 0; e < 4; e++) CHECK(out[e] == 0.0f);
    pf_backend *ref = cpu_ref();
    CHECK(ref);
    float expect[8];
    CHECK_OK(run_graph(ref, b_frame_attention, NULL, in, 5, expect, 8, NULL));
    CHECK_MSG(max_diff(out, expect, 8) < 1e-6, "differs from the CPU by %g", max_diff(out, expect, 8));
    pf_backend_free(ref);
    pf_backend_free(be);
    return PF_T_PASS;
}

/* A CUDA backend created under PF_CUDA_ATTN=value (NULL: with the reason in g_why). */
static pf_backend *attn_backend(const char *value) {
    setenv("PF_CUDA_ATTN", value, 1);
    bool bad;
    pf_backend *be = cuda_backend(&bad);
    unsetenv("PF_CUDA_ATTN");
    return be;
}

/* The tensor-core kernel's launch variants (PF_CUDA_ATTN=w8|w8-occ1|w4m2|w8m2) against the
 * general kernel on a frame-masked bf16 call with D = 64: 300 queries (several blocks of
 * every variant, a partial last one), history frames, two valid bits; an unknown name is
 * refused by name. */
static pf_test_result test_attention_variants(void) {
    NEED_CUDA(be);
    pf_backend_free(be);
    enum { AB = 2, AN = 300, AH = 2, AD = 64, NE = AB * AN * AH * AD };
    static float q[NE], k[NE], v[NE], out[NE], expect[NE], qm[AB * AN], km[AB * AN];
    fill(q, NE, 31);
    fill(k, NE, 32);
    fill(v, NE, 33);
    for (int i = 0; i < AB * AN; i++) { /* frames 0..3 in runs of 75 tokens; valid bit 0 on every 7th */
        int f = (i % AN) / 75, valid = (i % 7) != 0;
        qm[i] = km[i] = (float)(f * 2 + valid);
    }
    t_in in[5] = {{PF_BF16, 4, {AB, AN, AH, AD}, q},
                  {PF_BF16, 4, {AB, AN, AH, AD}, k},
                  {PF_BF16, 4, {AB, AN, AH, AD}, v},
                  {PF_I32, 2, {AB, AN}, qm},
                  {PF_I32, 2, {AB, AN}, km}};
    pf_backend *simple = attn_backend("simple");
    CHECK_MSG(simple, "%s", g_why);
    CHECK_OK(run_graph(simple, b_frame_attention, NULL, in, 5, expect, NE, NULL));
    pf_backend_free(simple);
    const char *variants[] = {"w8", "w8-occ1", "w4m2", "w8m2"};
    for (size_t i = 0; i < PF_ARRAY_LEN(variants); i++) {
        pf_backend *cu = attn_backend(variants[i]);
        CHECK_MSG(cu, "PF_CUDA_ATTN=%s: %s", variants[i], g_why);
        CHECK_OK(run_graph(cu, b_frame_attention, NULL, in, 5, out, NE, NULL));
        pf_backend_free(cu);
        /* bf16 outputs of f32 softmax states: a few units in the last place apart */
        double d = max_diff(out, expect, NE);
        CHECK_MSG(d < 0.02, "PF_CUDA_ATTN=%s differs from the general kernel by %g", variants[i], d);
    }
    pf_backend *bad_be = NULL;
    setenv("PF_CUDA_ATTN", "w99", 1);
    pf_status rc = pf_backend_create("cuda", NULL, &bad_be);
    unsetenv("PF_CUDA_ATTN");
    CHECK_MSG(rc == PF_ERR_INVALID_ARG && strstr(pf_last_error(), "PF_CUDA_ATTN='w99'"), "%s", pf_last_error());
    return PF_T_PASS;
}

static pf_tensor *b_embedding(pf_graph *g, pf_tensor **in, const void *arg) {
    (void)arg;
    return pf_embedding(g, in[0], in[1]);
}

static pf_test_result test_embedding_bad_id(void) {
    NEED_CUDA(be);
    const float tab[6] = {1, 2, 3, 4, 5, 6}, ok_ids[3] = {2, 0, 1}, bad_ids[3] = {0, 3, 1};
    float out[6];
    t_in in[2] = {{PF_F32, 2, {3, 2}, tab}, {PF_I32, 1, {3}, ok_ids}};
    CHECK_OK(run_graph(be, b_embedding, NULL, in, 2, out, 6, NULL));
    const float expect[6] = {5, 6, 1, 2, 3, 4};
    CHECK(max_diff(out, expect, 6) == 0.0);
    in[1].data = bad_ids;
    CHECK_ERR(run_graph(be, b_embedding, NULL, in, 2, out, 6, NULL), PF_ERR_INVALID_ARG, "id 3 outside [0, 3)");
    /* the error was reported once; the next graph runs clean */
    in[1].data = ok_ids;
    CHECK_OK(run_graph(be, b_embedding, NULL, in, 2, out, 6, NULL));
    pf_backend_free(be);
    return PF_T_PASS;
}

/* ---------------------------------------------------------------- graphs vs the CPU */

/* x -> linear -> layer norm -> gelu -> scale -> rope -> gated add with x' -> softmax:
 * most nodes run in place on the CUDA arena. */
static pf_tensor *b_chain(pf_graph *g, pf_tensor **in, const void *arg) {
    (void)arg;
    pf_tensor *x = in[0], *w = in[1], *tab = in[2], *gate = in[3];
    int64_t ne4[4] = {2, 5, 3, 8};
    pf_tensor *h = pf_linear(g, x, w, NULL); /* [2, 5, 24] */
    h = pf_layer_norm(g, h, NULL, NULL, 1e-5f);
    h = pf_gelu_tanh(g, h);
    h = pf_scale(g, h, 1.5f, 0.25f);
    h = pf_rope(g, pf_reshape(g, h, 4, ne4), tab);
    h = pf_reshape(g, h, 3, (int64_t[]){2, 5, 24});
    h = pf_gated_add(g, h, gate, pf_linear(g, x, w, NULL));
    return pf_softmax(g, h, 0.7f);
}

static pf_test_result test_inplace_chain_vs_cpu(void) {
    NEED_CUDA(be);
    float x[2 * 5 * 16], w[24 * 16], tab[5 * 4 * 2], gate[24], out[240], expect[240];
    fill(x, PF_ARRAY_LEN(x), 4);
    fill(w, PF_ARRAY_LEN(w), 5);
    fill(gate, PF_ARRAY_LEN(gate), 6);
    for (int i = 0; i < 20; i++) {
        tab[2 * i] = cosf(0.3f * (float)i);
        tab[2 * i + 1] = sinf(0.3f * (float)i);
    }
    t_in in[4] = {
        {PF_F32, 3, {2, 5, 16}, x}, {PF_F32, 2, {24, 16}, w}, {PF_F32, 3, {5, 4, 2}, tab}, {PF_F32, 1, {24}, gate}};
    pf_plan_stats st;
    CHECK_OK(run_graph(be, b_chain, NULL, in, 4, out, 240, &st));
    CHECK_MSG(st.n_inplace >= 4, "only %d nodes ran in place", st.n_inplace);
    pf_backend *ref = cpu_ref();
    CHECK(ref);
    CHECK_OK(run_graph(ref, b_chain, NULL, in, 4, expect, 240, NULL));
    CHECK_MSG(max_diff(out, expect, 240) < 1e-5, "differs from the CPU by %g", max_diff(out, expect, 240));
    /* bf16 storage: same graph, looser bound */
    for (int i = 0; i < 4; i++) in[i].dt = i == 2 ? PF_F32 : PF_BF16;
    CHECK_OK(run_graph(be, b_chain, NULL, in, 4, out, 240, NULL));
    CHECK_OK(run_graph(ref, b_chain, NULL, in, 4, expect, 240, NULL));
    CHECK_MSG(max_diff(out, expect, 240) < 2e-2, "bf16: differs from the CPU by %g", max_diff(out, expect, 240));
    pf_backend_free(ref);
    pf_backend_free(be);
    return PF_T_PASS;
}

/* A causal cache rolled in place: new = concat(cache[1:], x) written into cache itself.
 * The concat reads rows the output overwrites, so the backend must compute it aside. */
static pf_test_result test_overlapping_output_into(void) {
    NEED_CUDA(be);
    pf_pool *pool;
    CHECK_OK(pf_pool_create(be, 0, &pool));
    int64_t cne[2] = {4, 8};
    pf_tensor *cache = pf_pool_tensor(pool, PF_F32, 2, cne, "cache");
    CHECK(cache);
    float init[32], xin[8], got[32];
    for (int i = 0; i < 32; i++) init[i] = (float)i;
    for (int i = 0; i < 8; i++) xin[i] = 100.0f + (float)i;
    CHECK_OK(pf_tensor_set(cache, init, sizeof init));
    pf_graph *g = pf_graph_new("roll");
    pf_tensor *c = pf_external(g, cache);
    pf_tensor *x = pf_input(g, PF_F32, 2, (int64_t[]){1, 8}, "x");
    pf_tensor *parts[2] = {pf_slice(g, c, 0, 1, 3), x};
    pf_tensor *y = pf_concat(g, parts, 2, 0);
    pf_output_into(g, y, cache);
    pf_arena *a;
    CHECK_OK(pf_graph_status(g));
    CHECK_OK(pf_arena_create(be, &a));
    CHECK_OK(pf_graph_plan(g, a, NULL));
    CHECK_OK(pf_tensor_set(x, xin, sizeof xin));
    CHECK_OK(pf_graph_compute(g));
    CHECK_OK(pf_tensor_get(cache, got, sizeof got));
    for (int i = 0; i < 24; i++) CHECK_MSG(got[i] == (float)(i + 8), "row %d col %d: %g", i / 8, i % 8, got[i]);
    for (int i = 0; i < 8; i++) CHECK(got[24 + i] == xin[i]);
    pf_graph_free(g);
    pf_arena_free(a);
    pf_pool_free(pool);
    pf_backend_free(be);
    return PF_T_PASS;
}

static pf_tensor *b_mlp(pf_graph *g, pf_tensor **in, const void *arg) {
    const int *bias = arg;
    pf_tensor *h = pf_linear(g, in[0], in[1], *bias ? in[2] : NULL);
    h = pf_gelu_tanh(g, h);
    return pf_linear(g, h, in[3], NULL);
}

/* Linear layers on cuBLASLt and on the reference kernel (PF_CUDA_GEMM=ref), odd sizes
 * and mixed dtypes, against the CPU. */
static pf_test_result test_gemm_paths_vs_cpu(void) {
    NEED_CUDA(be);
    pf_backend_free(be);
    pf_backend *ref = cpu_ref();
    CHECK(ref);
    enum { R = 37, K = 45, N = 29, N2 = 19 };
    static float x[R * K], w1[N * K], b1[N], w2[N2 * N], out[R * N2], expect[R * N2];
    fill(x, PF_ARRAY_LEN(x), 7);
    fill(w1, PF_ARRAY_LEN(w1), 8);
    fill(b1, PF_ARRAY_LEN(b1), 9);
    fill(w2, PF_ARRAY_LEN(w2), 10);
    const pf_dtype combos[][2] = {
        {PF_F32, PF_F32}, {PF_F32, PF_BF16}, {PF_BF16, PF_BF16}, {PF_F32, PF_F16}, {PF_BF16, PF_F32}};
    for (int path = 0; path < 2; path++) {
        if (path) setenv("PF_CUDA_GEMM", "ref", 1);
        bool bad;
        pf_backend *cu = cuda_backend(&bad);
        if (path) unsetenv("PF_CUDA_GEMM");
        CHECK_MSG(cu, "%s", g_why);
        for (size_t ci = 0; ci < PF_ARRAY_LEN(combos); ci++)
            for (int with_bias = 0; with_bias < 2; with_bias++) {
                pf_dtype xd = combos[ci][0], wd = combos[ci][1];
                t_in in[4] = {{xd, 2, {R, K}, x}, {wd, 2, {N, K}, w1}, {wd, 1, {N}, b1}, {wd, 2, {N2, N}, w2}};
                CHECK_OK(run_graph(cu, b_mlp, &with_bias, in, 4, out, R * N2, NULL));
                CHECK_OK(run_graph(ref, b_mlp, &with_bias, in, 4, expect, R * N2, NULL));
                /* 16-bit operands round each layer's output to 16 bits: allow two units in the
                 * last place of the largest output (bf16: 2^-7 relative), not an absolute 5e-2 */
                double big = 1.0;
                for (int i = 0; i < R * N2; i++) big = fabs(expect[i]) > big ? fabs(expect[i]) : big;
                double tol = (xd == PF_F32 && wd == PF_F32) ? 1e-4 : 2.0 * 0x1p-7 * big;
                double d = max_diff(out, expect, R * N2);
                CHECK_MSG(d < tol, "%s: x %s w %s bias %d: differs from the CPU by %g",
                          path ? "reference kernel" : "cuBLASLt", pf_dtype_name(xd), pf_dtype_name(wd), with_bias, d);
            }
        pf_backend_free(cu);
    }
    pf_backend_free(ref);
    return PF_T_PASS;
}

typedef struct {
    int pad_t, sh, sw;
    bool front, bias;
} conv_arg;

static pf_tensor *b_conv(pf_graph *g, pf_tensor **in, const void *arg) {
    const conv_arg *a = arg;
    return pf_conv3d(g, in[0], in[1], a->bias ? in[2] : NULL, a->front ? in[3] : NULL, a->pad_t, 1, 1, 1, a->sh, a->sw);
}

/* A CUDA backend created under PF_CUDA_CONV=mode and PF_CUDA_CONV_CHUNK=chunk (NULL: unset)
 * and PF_CUDA_GEMM=ref when gemm_ref. */
static pf_backend *conv_backend(const char *mode, const char *chunk, bool gemm_ref) {
    if (mode) setenv("PF_CUDA_CONV", mode, 1);
    if (chunk) setenv("PF_CUDA_CONV_CHUNK", chunk, 1);
    if (gemm_ref) setenv("PF_CUDA_GEMM", "ref", 1);
    bool bad;
    pf_backend *be = cuda_backend(&bad);
    unsetenv("PF_CUDA_CONV");
    unsetenv("PF_CUDA_CONV_CHUNK");
    unsetenv("PF_CUDA_GEMM");
    return be;
}

/* conv3d on every path (direct kernel, im2col + GEMM in one chunk and in 128-position
 * chunks, the GEMM on cuBLASLt and on the reference kernel, the implicit-GEMM kernel)
 * against the CPU, with the path that ran checked through pf_cuda_conv_stats_get. */
static pf_test_result test_conv_paths_vs_cpu(void) {
    NEED_CUDA(be);
    pf_backend_free(be);
    pf_backend *ref = cpu_ref();
    CHECK(ref);
    /* [1, Ci, 3, 9, 11] -> [1, Co, 3, Ho, Wo]: 297 positions at stride 1 (chunks 128, 128, 41) */
    enum { CI = 16, T = 3, H = 9, W = 11 };
    static float x[CI * T * H * W], fr[CI * 2 * H * W], w[32 * CI * 27], bias[32], out[32 * T * H * W],
        expect[32 * T * H * W];
    fill(x, PF_ARRAY_LEN(x), 21);
    fill(fr, PF_ARRAY_LEN(fr), 22);
    fill(w, PF_ARRAY_LEN(w), 23);
    fill(bias, PF_ARRAY_LEN(bias), 24);
    struct {
        pf_dtype xd, wd;
        int64_t co;
        conv_arg a;
        bool wide; /* the automatic choice is the GEMM */
    } cases[] = {
        {PF_BF16, PF_BF16, 32, {2, 1, 1, true, true}, true},
        {PF_BF16, PF_BF16, 32, {2, 2, 2, true, false}, true}, /* strided, with the cache */
        {PF_F32, PF_F32, 32, {2, 2, 2, false, true}, true},
        {PF_F32, PF_BF16, 32, {2, 1, 1, true, false}, true},
        {PF_BF16, PF_F32, 32, {2, 1, 2, false, true}, true}, /* f32 operands, bf16 output: the f32 chunk */
        {PF_BF16, PF_BF16, 3, {2, 1, 1, true, true}, false}, /* Co 3: direct unless forced */
    };
    struct {
        const char *mode, *chunk;
        bool gemm_ref;
    } setups[] = {{"direct", NULL, false},
                  {NULL, NULL, false},
                  {"gemm", "1", false},
                  {"gemm", "1", true},
                  {"implicit", NULL, false}};
    for (size_t si = 0; si < PF_ARRAY_LEN(setups); si++) {
        pf_backend *cu = conv_backend(setups[si].mode, setups[si].chunk, setups[si].gemm_ref);
        CHECK_MSG(cu, "%s", g_why);
        unsigned long long want_gemm = 0, want_direct = 0, want_implicit = 0;
        for (size_t ci = 0; ci < PF_ARRAY_LEN(cases); ci++) {
            const conv_arg *a = &cases[ci].a;
            int64_t co = cases[ci].co, Ho = (H + 2 - 3) / a->sh + 1, Wo = (W + 2 - 3) / a->sw + 1;
            size_t n_out = (size_t)(co * T * Ho * Wo);
            pf_dtype xd = cases[ci].xd, wd = cases[ci].wd;
            t_in in[4] = {{xd, 5, {1, CI, T, H, W}, x},
                          {wd, 5, {co, CI, 3, 3, 3}, w},
                          {wd, 1, {co}, bias},
                          {xd, 5, {1, CI, 2, H, W}, fr}};
            CHECK_OK(run_graph(cu, b_conv, a, in, 4, out, n_out, NULL));
            CHECK_OK(run_graph(ref, b_conv, a, in, 4, expect, n_out, NULL));
            double big = 1.0;
            for (size_t i = 0; i < n_out; i++) big = fabs(expect[i]) > big ? fabs(expect[i]) : big;
            /* 16-bit operands or output: two units in the last bf16 place of the largest output */
            double tol = (xd == PF_F32 && wd == PF_F32) ? 1e-4 : 2.0 * 0x1p-7 * big;
            double d = max_diff(out, expect, n_out);
            CHECK_MSG(d < tol, "PF_CUDA_CONV=%s chunk %s%s: case %zu (x %s, w %s, Co %lld): differs from the CPU by %g",
                      setups[si].mode ? setups[si].mode : "(auto)", setups[si].chunk ? setups[si].chunk : "auto",
                      setups[si].gemm_ref ? " PF_CUDA_GEMM=ref" : "", ci, pf_dtype_name(xd), pf_dtype_name(wd),
                      (long long)co, d);
            const char *mode = setups[si].mode;
            /* implicit: the bf16 convs (K = 432, a multiple of 8); the others as auto */
            bool implicit = mode && !strcmp(mode, "implicit") && xd == PF_BF16 && wd == PF_BF16;
            bool gemm = !implicit && (mode && strcmp(mode, "implicit") ? !strcmp(mode, "gemm") : cases[ci].wide);
            want_implicit += implicit;
            want_gemm += gemm;
            want_direct += !gemm && !implicit;
        }
        pf_cuda_conv_stats st;
        CHECK_OK(pf_cuda_conv_stats_get(cu, &st));
        CHECK_MSG(!strcmp(st.mode, setups[si].mode ? setups[si].mode : "auto"), "mode %s", st.mode);
        CHECK_MSG(st.gemm_nodes == want_gemm && st.direct_nodes == want_direct && st.implicit_nodes == want_implicit,
                  "setup %zu: %llu GEMM, %llu direct and %llu implicit conv nodes, expected %llu, %llu and %llu", si,
                  st.gemm_nodes, st.direct_nodes, st.implicit_nodes, want_gemm, want_direct, want_implicit);
        /* 128-position chunks: 297 positions (stride 1) take 3 GEMMs, 5 x 6 (stride 2) fewer */
        if (setups[si].chunk) CHECK_MSG(st.gemm_calls > 2 * st.gemm_nodes, "%llu GEMMs", st.gemm_calls);
        if (!setups[si].chunk) CHECK(st.gemm_calls == st.gemm_nodes);
        pf_backend_free(cu);
    }
    pf_backend_free(ref);
    setenv("PF_CUDA_CONV", "fast", 1);
    pf_backend *bad_be = NULL;
    pf_status rc = pf_backend_create("cuda", NULL, &bad_be);
    unsetenv("PF_CUDA_CONV");
    CHECK_MSG(rc == PF_ERR_INVALID_ARG && strstr(pf_last_error(), "PF_CUDA_CONV='fast'") &&
                  strstr(pf_last_error(), "implicit"),
              "%s", pf_last_error());
    return PF_T_PASS;
}

/* ---------------------------------------------------------------- fusion */

enum { FB = 2, FN = 23, FH = 3, FHD = 32, FD = FH * FHD, FF = 4 * FD };

/* The memory-bound pairs of a DiT block: norm1 + adaLN modulation, the qk RMS norm +
 * RoPE, and the feed-forward's linear + GELU (see backends/cuda/cuda_fuse.c). */
static pf_tensor *b_block(pf_graph *g, pf_tensor **in, const void *arg) {
    (void)arg;
    pf_tensor *x = in[0], *emb = in[1];
    int64_t ne[3] = {FB, 1, FD}, st[3] = {2 * FD, FD, 1};
    pf_tensor *shift = pf_view(g, emb, 3, ne, st, 0), *scale = pf_view(g, emb, 3, ne, st, FD);
    pf_tensor *m = pf_modulate(g, pf_layer_norm(g, x, NULL, NULL, 1e-6f), shift, scale);
    int64_t hne[4] = {FB, FN, FH, FHD};
    pf_tensor *q = pf_reshape(g, pf_linear(g, m, in[2], NULL), 4, hne);
    q = pf_rope(g, pf_rms_norm(g, q, in[3], 1e-6f), in[4]);
    pf_tensor *f = pf_linear(g, pf_gelu_tanh(g, pf_linear(g, m, in[5], in[6])), in[7], NULL);
    int64_t one[3] = {FB, FN, FD};
    return pf_add(g, f, pf_reshape(g, q, 3, one));
}

/* The fused kernels against the CPU reference's unfused ops, at f32 and bf16
 * activations; the counters prove the fused path ran, and PF_CUDA_FUSE=0 runs none. */
static pf_test_result test_fusions_vs_cpu(void) {
    NEED_CUDA(be);
    pf_backend_free(be);
    pf_backend *ref = cpu_ref();
    CHECK(ref);
    static float x[FB * FN * FD], emb[FB * 2 * FD], wq[FD * FD], qw[FHD], tab[FN * FHD / 2 * 2], w1[FF * FD], b1[FF],
        w2[FD * FF], out[FB * FN * FD], expect[FB * FN * FD];
    fill(x, PF_ARRAY_LEN(x), 21);
    fill(emb, PF_ARRAY_LEN(emb), 22);
    fill(wq, PF_ARRAY_LEN(wq), 23);
    fill(qw, PF_ARRAY_LEN(qw), 24);
    fill(w1, PF_ARRAY_LEN(w1), 25);
    fill(b1, PF_ARRAY_LEN(b1), 26);
    fill(w2, PF_ARRAY_LEN(w2), 27);
    for (int i = 0; i < FN * FHD / 2; i++) { /* (cos, sin) of an angle per (token, pair) */
        double th = 0.37 * (i % (FHD / 2) + 1) * (i / (FHD / 2));
        tab[2 * i] = (float)cos(th);
        tab[2 * i + 1] = (float)sin(th);
    }
    for (int fuse = 1; fuse >= 0; fuse--) {
        if (!fuse) setenv("PF_CUDA_FUSE", "0", 1);
        bool bad;
        pf_backend *cu = cuda_backend(&bad);
        if (!fuse) unsetenv("PF_CUDA_FUSE");
        CHECK_MSG(cu, "%s", g_why);
        const pf_dtype acts[2] = {PF_F32, PF_BF16};
        for (int ai = 0; ai < 2; ai++) {
            pf_dtype a = acts[ai];
            t_in in[8] = {{a, 3, {FB, FN, FD}, x},        {a, 2, {FB, 2 * FD}, emb},     {a, 2, {FD, FD}, wq},
                          {a, 1, {FHD}, qw},               {PF_F32, 3, {FN, FHD / 2, 2}, tab}, {a, 2, {FF, FD}, w1},
                          {a, 1, {FF}, b1},                {a, 2, {FD, FF}, w2}};
            pf_cuda_fusion_stats s0, s1;
            CHECK_OK(pf_cuda_fusion_stats_get(cu, &s0, NULL));
            CHECK_OK(run_graph(cu, b_block, NULL, in, 8, out, PF_ARRAY_LEN(out), NULL));
            CHECK_OK(pf_cuda_fusion_stats_get(cu, &s1, NULL));
            CHECK_OK(run_graph(ref, b_block, NULL, in, 8, expect, PF_ARRAY_LEN(expect), NULL));
            const unsigned long long want = fuse ? 1 : 0;
            CHECK_MSG(s1.norm_modulate - s0.norm_modulate == want && s1.norm_rope - s0.norm_rope == want &&
                          s1.gemm_gelu - s0.gemm_gelu == want && s1.declined == s0.declined,
                      "fuse=%d %s: fused %llu/%llu/%llu pairs, declined %llu (want %llu each, 0 declined)", fuse,
                      pf_dtype_name(a), s1.norm_modulate - s0.norm_modulate, s1.norm_rope - s0.norm_rope,
                      s1.gemm_gelu - s0.gemm_gelu, s1.declined - s0.declined, want);
            /* bf16: every node rounds to bf16 on the CPU, the fused kernels skip three of
             * those roundings: a few units in the last place of the largest output */
            double big = 1.0;
            for (size_t i = 0; i < PF_ARRAY_LEN(expect); i++) big = fabs(expect[i]) > big ? fabs(expect[i]) : big;
            double tol = a == PF_F32 ? 2e-4 * big : 8.0 * 0x1p-8 * big;
            double d = max_diff(out, expect, PF_ARRAY_LEN(out));
            CHECK_MSG(d < tol, "fuse=%d %s: differs from the CPU by %g (tolerance %g)", fuse, pf_dtype_name(a), d, tol);
        }
        pf_backend_free(cu);
    }
    pf_backend_free(ref);
    return PF_T_PASS;
}

/* ---------------------------------------------------------------- CUDA graphs */

/* A backend with CUDA graphs off (PF_CUDA_GRAPHS=0), the eager reference. */
static pf_backend *cuda_backend_eager(void) {
    const char *old = getenv("PF_CUDA_GRAPHS");
    char saved[64] = "";
    if (old) snprintf(saved, sizeof saved, "%s", old);
    setenv("PF_CUDA_GRAPHS", "0", 1);
    bool bad;
    pf_backend *be = cuda_backend(&bad);
    if (old)
        setenv("PF_CUDA_GRAPHS", saved, 1);
    else
        unsetenv("PF_CUDA_GRAPHS");
    return be;
}

/* Skips only when the environment turns CUDA graphs off; otherwise they must be on. */
#define NEED_GRAPHS(be)                                                                                                \
    do {                                                                                                               \
        const char *cg_ = getenv("PF_CUDA_GRAPHS"), *sy_ = getenv("PF_CUDA_SYNC");                                     \
        if ((cg_ && !strcmp(cg_, "0")) || (sy_ && *sy_ && strcmp(sy_, "0"))) {                                         \
            pf_backend_free(be);                                                                                       \
            SKIP("CUDA graphs are off in this environment (PF_CUDA_GRAPHS=0 or PF_CUDA_SYNC=1)");                      \
        }                                                                                                              \
        pf_cuda_graph_counters gc_;                                                                                    \
        CHECK_OK(pf_cuda_graph_stats(be, &gc_));                                                                       \
        CHECK_MSG(gc_.enabled, "CUDA graphs are off although the environment does not disable them");                 \
    } while (0)

enum { GB = 2, GN = 8, GH = 2, GD = 16, GC = GH * GD, GCACHE = 4 };
/* the rig's conv3d: [1, 16, 3, 9, 11] f32 x [32, 16, 3, 3, 3] bf16, causal, on the GEMM path
 * (im2col columns in bf16 scratch: 297 positions x 432 taps) */
enum { GCI = 16, GCO = 32, GT = 3, GHH = 9, GWW = 11, GNX = GCI * GT * GHH * GWW, GNW = GCO * GCI * 27,
       GNYC = GCO * GT * GHH * GWW, GCOLS = GT * GHH * GWW * GCI * 27 * 2 };
/* the rig's group norm + SiLU: [1, 4, 1, 32, 64] in 2 groups, 2048 positions per unit: the
 * split kernels, their partial sums in scratch */
enum { GGC = 4, GGH = 32, GGW = 64, GNG = GGC * GGH * GGW };

/* One planned graph with several op kinds: a linear with f32 activations and bf16
 * weight and bias (operand and bias conversions in scratch), a plain f32 linear,
 * attention, layer norm, GELU, a residual add, a conv3d on the im2col + GEMM path (its
 * columns in scratch), a group norm on its split kernels (partial sums in scratch), and a
 * rolled cache written into its own input (computed into a
 * scratch temporary and copied). */
typedef struct {
    pf_pool *pool;
    pf_tensor *cache, *x, *xr, *wq, *bq, *wk, *y, *xc, *wc, *yc, *xg, *yg;
    pf_graph *g;
    pf_arena *a;
} graph_rig;

static pf_status rig_build(graph_rig *r, pf_backend *be) {
    memset(r, 0, sizeof *r);
    PF_TRY(pf_pool_create(be, 0, &r->pool));
    r->cache = pf_pool_tensor(r->pool, PF_F32, 2, (int64_t[]){GCACHE, GC}, "cache");
    if (!r->cache) return pf_error(PF_ERR_OOM, "cache tensor");
    float init[GCACHE * GC];
    for (int i = 0; i < GCACHE * GC; i++) init[i] = 0.01f * (float)i;
    PF_TRY(pf_tensor_set(r->cache, init, sizeof init));
    pf_graph *g = r->g = pf_graph_new("graph_rig");
    const int64_t ne4[4] = {GB, GN, GH, GD}, ne3[3] = {GB, GN, GC};
    r->x = pf_input(g, PF_F32, 3, ne3, "x");
    r->xr = pf_input(g, PF_F32, 2, (int64_t[]){1, GC}, "xr");
    r->wq = pf_input(g, PF_BF16, 2, (int64_t[]){GC, GC}, "wq");
    r->bq = pf_input(g, PF_BF16, 1, (int64_t[]){GC}, "bq");
    r->wk = pf_input(g, PF_F32, 2, (int64_t[]){GC, GC}, "wk");
    pf_tensor *q = pf_reshape(g, pf_linear(g, r->x, r->wq, r->bq), 4, ne4);
    pf_tensor *k = pf_reshape(g, pf_linear(g, r->x, r->wk, NULL), 4, ne4);
    pf_tensor *v = pf_reshape(g, r->x, 4, ne4);
    pf_tensor *h = pf_attention(g, q, k, v, 0.25f, PF_MASK_NONE, NULL, NULL, NULL);
    h = pf_gelu_tanh(g, pf_layer_norm(g, pf_reshape(g, h, 3, ne3), NULL, NULL, 1e-5f));
    r->y = pf_add(g, h, r->x);
    pf_output(g, r->y);
    r->xc = pf_input(g, PF_F32, 5, (int64_t[]){1, GCI, GT, GHH, GWW}, "xc");
    r->wc = pf_input(g, PF_BF16, 5, (int64_t[]){GCO, GCI, 3, 3, 3}, "wc");
    r->yc = pf_conv3d(g, r->xc, r->wc, NULL, NULL, 2, 1, 1, 1, 1, 1);
    pf_output(g, r->yc);
    r->xg = pf_input(g, PF_F32, 5, (int64_t[]){1, GGC, 1, GGH, GGW}, "xg");
    r->yg = pf_group_norm(g, r->xg, NULL, NULL, 2, 1e-6f, true);
    pf_output(g, r->yg);
    pf_tensor *c = pf_external(g, r->cache);
    pf_tensor *parts[2] = {pf_slice(g, c, 0, 1, GCACHE - 1), pf_scale(g, r->xr, 2.0f, 0.5f)};
    pf_output_into(g, pf_concat(g, parts, 2, 0), r->cache);
    if (pf_graph_status(g) != PF_OK) return pf_error(pf_graph_status(g), "%s", pf_graph_error(g));
    PF_TRY(pf_arena_create(be, &r->a));
    return pf_graph_plan(g, r->a, NULL);
}

/* Upload call `run`'s inputs (new activations each call, the same weights), compute,
 * read the output and the cache. */
static pf_status rig_run(graph_rig *r, int run, float *y, float *cache, float *yc, float *yg) {
    static float x[GB * GN * GC], xr[GC], w[GC * GC], b[GC], xc[GNX], wc[GNW], xg[GNG];
    fill(x, PF_ARRAY_LEN(x), 100u + (unsigned)run);
    fill(xr, PF_ARRAY_LEN(xr), 200u + (unsigned)run);
    PF_TRY(pf_tensor_set_as(r->x, x, PF_F32, PF_ARRAY_LEN(x)));
    PF_TRY(pf_tensor_set_as(r->xr, xr, PF_F32, PF_ARRAY_LEN(xr)));
    fill(w, PF_ARRAY_LEN(w), 1);
    PF_TRY(pf_tensor_set_as(r->wq, w, PF_F32, PF_ARRAY_LEN(w)));
    fill(b, PF_ARRAY_LEN(b), 2);
    PF_TRY(pf_tensor_set_as(r->bq, b, PF_F32, PF_ARRAY_LEN(b)));
    fill(w, PF_ARRAY_LEN(w), 3);
    PF_TRY(pf_tensor_set_as(r->wk, w, PF_F32, PF_ARRAY_LEN(w)));
    fill(xc, GNX, 300u + (unsigned)run);
    PF_TRY(pf_tensor_set_as(r->xc, xc, PF_F32, GNX));
    fill(wc, GNW, 4);
    PF_TRY(pf_tensor_set_as(r->wc, wc, PF_F32, GNW));
    fill(xg, GNG, 400u + (unsigned)run);
    PF_TRY(pf_tensor_set_as(r->xg, xg, PF_F32, GNG));
    PF_TRY(pf_graph_compute(r->g));
    PF_TRY(pf_tensor_get_as(r->yc, yc, PF_F32, GNYC));
    PF_TRY(pf_tensor_get_as(r->yg, yg, PF_F32, GNG));
    PF_TRY(pf_tensor_get_as(r->y, y, PF_F32, GB * GN * GC));
    return pf_tensor_get_as(r->cache, cache, PF_F32, GCACHE * GC);
}

/* Call `run` on the rig r (graphs on) and on rr (the eager reference): every output equal;
 * r's output and cache in y and cc. */
static pf_test_result rig_run_both(graph_rig *r, graph_rig *rr, int run, float *y, float *cc) {
    enum { NY = GB * GN * GC, NC = GCACHE * GC };
    static float ye[NY], ce[NC], yc[GNYC], yce[GNYC], yg[GNG], yge[GNG];
    CHECK_OK(rig_run(r, run, y, cc, yc, yg));
    CHECK_OK(rig_run(rr, run, ye, ce, yce, yge));
    double d = max_diff(y, ye, NY), dc = max_diff(cc, ce, NC);
    double dv = max_diff(yc, yce, GNYC), dg = max_diff(yg, yge, GNG);
    CHECK_MSG(d <= 1e-6 && dc == 0.0 && dv <= 1e-6 && dg <= 1e-6,
              "call %d: differs from eager execution by %g (cache %g, conv3d %g, group norm %g)", run, d, dc, dv, dg);
    return PF_T_PASS;
}

static void rig_free(graph_rig *r) {
    pf_graph_free(r->g);
    pf_arena_free(r->a);
    pf_pool_free(r->pool);
}

/* The same graph computed repeatedly with new inputs: eager, captured, replayed; every
 * call equal to a backend without CUDA graphs, and the counters show the capture. */
static pf_test_result test_graph_capture_replay(void) {
    NEED_CUDA(be);
    NEED_GRAPHS(be);
    pf_backend *ref = cuda_backend_eager();
    CHECK_MSG(ref, "%s", g_why);
    pf_cuda_graph_counters gs, rs;
    CHECK_OK(pf_cuda_graph_stats(ref, &rs));
    CHECK(!rs.enabled);
    graph_rig r, rr;
    CHECK_OK(rig_build(&r, be));
    CHECK_OK(rig_build(&rr, ref));
    enum { NY = GB * GN * GC, NC = GCACHE * GC, NHOLD = 12 };
    static float y[NY], yprev[NY], cc[NC];
    /* buffers taken after the capture, in the scratch's size classes (the conversions, the
     * conv3d's columns): if the graph's scratch went back to the allocator, they would get
     * it and replays would overwrite them */
    pf_buffer *hold[NHOLD] = {0};
    static unsigned char pat[GCOLS], back[GCOLS];
    const size_t hold_size[3] = {512, 1024, GCOLS};
    for (int run = 0; run < 6; run++) {
        if (run == 2)
            for (int i = 0; i < NHOLD; i++) {
                size_t n = hold_size[i % 3];
                memset(pat, 0x40 + i, n);
                CHECK_OK(pf_buffer_alloc(be, n, &hold[i]));
                CHECK_OK(be->ops->upload(be, hold[i], 0, pat, n));
            }
        if (run == 4) { /* dropping the cache drops the graphs: seen again, captured again */
            CHECK_OK(pf_cuda_empty_cache(be));
            CHECK_OK(pf_cuda_graph_stats(be, &gs));
            CHECK(gs.n_cached == 0 && gs.scratch_bytes == 0);
        }
        if (rig_run_both(&r, &rr, run, y, cc) != PF_T_PASS) return PF_T_FAIL;
        /* the cache rolled once per call: its last row is this call's 2 xr + 0.5 */
        float xr[GC];
        fill(xr, GC, 200u + (unsigned)run);
        for (int i = 0; i < GC; i++) CHECK(cc[(GCACHE - 1) * GC + i] == 2.0f * xr[i] + 0.5f);
        if (run > 0) CHECK_MSG(max_diff(y, yprev, NY) > 1e-3, "call %d repeats the previous output", run);
        memcpy(yprev, y, sizeof y);
        CHECK_OK(pf_cuda_graph_stats(be, &gs));
        if (run == 3) {
            CHECK_MSG(gs.n_eager == 1 && gs.n_captures == 1 && gs.n_replays == 2 && gs.n_failed == 0,
                      "after 4 calls: %llu eager, %llu captures, %llu replays, %llu failed", gs.n_eager, gs.n_captures,
                      gs.n_replays, gs.n_failed);
            /* the linear's conversions and the cache's temporary were captured: the graph owns them */
            CHECK_MSG(gs.n_cached == 1 && gs.scratch_bytes > 0, "%d graphs, %zu bytes of scratch", gs.n_cached,
                      gs.scratch_bytes);
        }
    }
    CHECK_MSG(gs.n_eager == 2 && gs.n_captures == 2 && gs.n_replays == 2, "after 6 calls: %llu eager, %llu captures",
              gs.n_eager, gs.n_captures);
    for (int i = 0; i < NHOLD; i++) {
        size_t n = hold_size[i % 3];
        memset(pat, 0x40 + i, n);
        CHECK_OK(be->ops->download(be, hold[i], 0, back, n));
        CHECK_MSG(!memcmp(pat, back, n), "buffer %d (%zu bytes) allocated after the capture was overwritten", i, n);
        pf_buffer_free(hold[i]);
    }
    CHECK_OK(pf_cuda_graph_stats(ref, &rs));
    CHECK(rs.n_eager == 6 && rs.n_captures == 0 && rs.n_replays == 0);
    rig_free(&r);
    rig_free(&rr);
    pf_backend_free(ref);
    pf_backend_free(be);
    return PF_T_PASS;
}

/* The compute memory given back between calls (the pipeline releases the DiT's arena
 * before the VAE decode): the graph re-plans to new addresses while other buffers hold the
 * old blocks, so the captured graph must not replay onto them; every call stays equal to
 * eager execution and the held buffers keep their contents. */
static pf_test_result test_graph_after_arena_release(void) {
    NEED_CUDA(be);
    NEED_GRAPHS(be);
    pf_backend *ref = cuda_backend_eager();
    CHECK_MSG(ref, "%s", g_why);
    graph_rig r, rr;
    CHECK_OK(rig_build(&r, be));
    CHECK_OK(rig_build(&rr, ref));
    enum { NY = GB * GN * GC, NC = GCACHE * GC, NHOLD = 8 };
    static float y[NY], cc[NC];
    pf_buffer *hold[NHOLD] = {0};
    size_t arena = 0;
    unsigned char pat[4096], back[4096];
    for (int run = 0; run < 6; run++) {
        if (run == 3) { /* after eager, capture, replay: give the arena back, take its blocks */
            arena = pf_arena_size(r.a);
            CHECK(arena > 0);
            pf_arena_release(r.a);
            CHECK(pf_arena_size(r.a) == 0);
            for (int i = 0; i < NHOLD; i++) {
                size_t n = (size_t)PF_MIN(arena, sizeof pat);
                memset(pat, 0x20 + i, n);
                CHECK_OK(pf_buffer_alloc(be, arena, &hold[i]));
                CHECK_OK(be->ops->upload(be, hold[i], 0, pat, n));
            }
        }
        if (rig_run_both(&r, &rr, run, y, cc) != PF_T_PASS) return PF_T_FAIL;
    }
    CHECK(pf_arena_size(r.a) > 0); /* reserved again by the re-plan */
    pf_cuda_graph_counters gs;
    CHECK_OK(pf_cuda_graph_stats(be, &gs));
    /* calls 0-2: eager, capture, replay; at the new addresses 3-5 again (a new signature) */
    CHECK_MSG(gs.n_eager == 2 && gs.n_captures == 2 && gs.n_replays == 2 && gs.n_failed == 0,
              "%llu eager, %llu captures, %llu replays, %llu failed", gs.n_eager, gs.n_captures, gs.n_replays,
              gs.n_failed);
    for (int i = 0; i < NHOLD; i++) {
        size_t n = (size_t)PF_MIN(arena, sizeof pat);
        memset(pat, 0x20 + i, n);
        CHECK_OK(be->ops->download(be, hold[i], 0, back, n));
        CHECK_MSG(!memcmp(pat, back, n), "buffer %d on the released arena's memory was overwritten", i);
        pf_buffer_free(hold[i]);
    }
    rig_free(&r);
    rig_free(&rr);
    pf_backend_free(ref);
    pf_backend_free(be);
    return PF_T_PASS;
}

/* The device error record after replays: a bad id in a replayed call is reported, and
 * the next replay runs clean. */
static pf_test_result test_graph_replay_error_record(void) {
    NEED_CUDA(be);
    NEED_GRAPHS(be);
    pf_graph *g = pf_graph_new("emb_graph");
    pf_tensor *tab = pf_input(g, PF_F32, 2, (int64_t[]){3, 2}, "tab");
    pf_tensor *ids = pf_input(g, PF_I32, 1, (int64_t[]){3}, "ids");
    pf_tensor *y = pf_embedding(g, tab, ids);
    pf_output(g, y);
    pf_arena *a;
    CHECK_OK(pf_graph_status(g));
    CHECK_OK(pf_arena_create(be, &a));
    CHECK_OK(pf_graph_plan(g, a, NULL));
    const float tv[6] = {1, 2, 3, 4, 5, 6}, ok_ids[3] = {2, 0, 1}, bad_ids[3] = {0, 3, 1}, expect[6] = {5, 6, 1, 2, 3, 4};
    float out[6];
    CHECK_OK(pf_tensor_set_as(tab, tv, PF_F32, 6));
    for (int run = 0; run < 5; run++) {
        CHECK_OK(pf_tensor_set_as(ids, run == 3 ? bad_ids : ok_ids, PF_F32, 3));
        if (run == 3) {
            CHECK_ERR(pf_graph_compute(g), PF_ERR_INVALID_ARG, "id 3 outside [0, 3)");
            CHECK_MSG(strstr(pf_last_error(), "graph emb_graph"), "%s", pf_last_error());
            continue;
        }
        CHECK_OK(pf_graph_compute(g));
        CHECK_OK(pf_tensor_get_as(y, out, PF_F32, 6));
        CHECK(max_diff(out, expect, 6) == 0.0);
    }
    pf_cuda_graph_counters gs;
    CHECK_OK(pf_cuda_graph_stats(be, &gs));
    CHECK_MSG(gs.n_eager == 1 && gs.n_captures == 1 && gs.n_replays == 3, "%llu eager, %llu captures, %llu replays",
              gs.n_eager, gs.n_captures, gs.n_replays);
    pf_graph_free(g);
    pf_arena_free(a);
    pf_backend_free(be);
    return PF_T_PASS;
}

static pf_tensor *b_linear_nobias(pf_graph *g, pf_tensor **in, const void *arg) {
    (void)arg;
    return pf_linear(g, in[0], in[1], NULL);
}

/* A capture that cannot complete: its scratch cudaMalloc fails (the allocator may not
 * empty its cache while capturing). The call runs eagerly instead (emptying the cache
 * then), gives the right result, leaves the stream usable, and the signature is not
 * captured again. Needs the emulation's adjustable device memory. */
static pf_test_result test_graph_capture_fallback(void) {
    NEED_CUDA(be);
    NEED_GRAPHS(be);
    pf_backend_info info;
    pf_backend_get_info(be, &info);
    if (!strstr(info.device, "Emulated")) {
        pf_backend_free(be);
        SKIP("needs the emulated device's adjustable memory (EMU_DEVICE_MEM); device %s", info.device);
    }
    enum { R = 64, K = 128, N = 16 }; /* x rounded to bf16 for the GEMM: 16 KiB of scratch */
    static float x[R * K], w[N * K], out[R * N], expect[R * N];
    fill(x, PF_ARRAY_LEN(x), 21);
    fill(w, PF_ARRAY_LEN(w), 22);
    pf_graph *g = pf_graph_new("oom_graph");
    pf_tensor *in[2] = {pf_input(g, PF_F32, 2, (int64_t[]){R, K}, "x"), pf_input(g, PF_BF16, 2, (int64_t[]){N, K}, "w")};
    pf_tensor *y = b_linear_nobias(g, in, NULL);
    pf_output(g, y);
    pf_arena *a;
    CHECK_OK(pf_graph_status(g));
    CHECK_OK(pf_arena_create(be, &a));
    CHECK_OK(pf_graph_plan(g, a, NULL));
    CHECK_OK(pf_tensor_set_as(in[0], x, PF_F32, PF_ARRAY_LEN(x)));
    CHECK_OK(pf_tensor_set_as(in[1], w, PF_F32, PF_ARRAY_LEN(w)));
    CHECK_OK(pf_graph_compute(g)); /* first sighting: eager; the scratch block goes to the cache */
    CHECK_OK(pf_tensor_get_as(y, expect, PF_F32, PF_ARRAY_LEN(expect)));

    /* hold the cached scratch block, cache a block of another size, and leave the device
     * less free memory than the scratch needs */
    pf_cuda_mem_stats m0, m1;
    CHECK_OK(pf_cuda_memory_stats(be, &m0));
    pf_buffer *hold, *big;
    CHECK_OK(pf_buffer_alloc(be, (size_t)R * K * 2, &hold));
    CHECK_OK(pf_buffer_alloc(be, (size_t)8 << 20, &big));
    pf_buffer_free(big);
    CHECK_OK(pf_cuda_memory_stats(be, &m1));
    CHECK_MSG(m1.n_cache_hits == m0.n_cache_hits + 1, "the scratch block was not the one held");
    char lim[64];
    snprintf(lim, sizeof lim, "%zu", m1.device_total - m1.device_free + 4096);
    setenv("EMU_DEVICE_MEM", lim, 1);
    pf_status rc = pf_graph_compute(g); /* second sighting: the capture fails, eager runs */
    pf_status rc2 = rc == PF_OK ? pf_tensor_get_as(y, out, PF_F32, PF_ARRAY_LEN(out)) : rc;
    unsetenv("EMU_DEVICE_MEM");
    CHECK_OK(rc);
    CHECK_OK(rc2);
    CHECK(max_diff(out, expect, PF_ARRAY_LEN(out)) == 0.0);
    pf_cuda_graph_counters gs;
    CHECK_OK(pf_cuda_graph_stats(be, &gs));
    CHECK_MSG(gs.n_captures == 0 && gs.n_failed == 1 && gs.n_eager == 2 && gs.n_cached == 0,
              "%llu captures, %llu failed, %llu eager", gs.n_captures, gs.n_failed, gs.n_eager);
    /* not tried again; the stream is out of capture mode and computes */
    memset(out, 0, sizeof out);
    CHECK_OK(pf_graph_compute(g));
    CHECK_OK(pf_tensor_get_as(y, out, PF_F32, PF_ARRAY_LEN(out)));
    CHECK(max_diff(out, expect, PF_ARRAY_LEN(out)) == 0.0);
    CHECK_OK(pf_cuda_graph_stats(be, &gs));
    CHECK(gs.n_captures == 0 && gs.n_failed == 1 && gs.n_eager == 3);
    pf_buffer_free(hold);
    pf_graph_free(g);
    pf_arena_free(a);
    pf_backend_free(be);
    return PF_T_PASS;
}

/* ---------------------------------------------------------------- profile */

/* The runtime's event timing as the profile uses it (and the emulation mirrors): events
 * with default flags time; never-recorded ones and cudaEventDisableTiming ones are
 * invalid handles; before the work between them is done the answer is "not ready". */
static pf_test_result test_event_timing(void) {
    NEED_CUDA(be);
    pf_backend_free(be);
    cudaStream_t s = NULL;
    cudaEvent_t a = NULL, b = NULL, untimed = NULL;
    void *d = NULL;
    const size_t n = (size_t)4 << 20;
    CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking) == cudaSuccess);
    CHECK(cudaEventCreate(&a) == cudaSuccess && cudaEventCreate(&b) == cudaSuccess);
    CHECK(cudaEventCreateWithFlags(&untimed, cudaEventDisableTiming) == cudaSuccess);
    CHECK(cudaMalloc(&d, n) == cudaSuccess);
    float ms = -1.0f;
    cudaError_t e = cudaEventElapsedTime(&ms, a, b);
    CHECK_MSG(e == cudaErrorInvalidResourceHandle, "never recorded: CUDA error %d", (int)e);
    (void)cudaGetLastError();
    CHECK(cudaEventRecord(a, s) == cudaSuccess);
    for (int i = 0; i < 8; i++) CHECK(cudaMemsetAsync(d, i, n, s) == cudaSuccess);
    CHECK(cudaEventRecord(b, s) == cudaSuccess && cudaEventRecord(untimed, s) == cudaSuccess);
    e = cudaEventElapsedTime(&ms, a, b);
    CHECK_MSG(e == cudaSuccess || e == cudaErrorNotReady, "while queued: CUDA error %d", (int)e);
    (void)cudaGetLastError();
    CHECK(cudaStreamSynchronize(s) == cudaSuccess);
    ms = -1.0f;
    e = cudaEventElapsedTime(&ms, a, b);
    CHECK_MSG(e == cudaSuccess && ms >= 0.0f, "after the work: CUDA error %d, %g ms", (int)e, (double)ms);
    e = cudaEventElapsedTime(&ms, a, untimed);
    CHECK_MSG(e == cudaErrorInvalidResourceHandle, "cudaEventDisableTiming: CUDA error %d", (int)e);
    (void)cudaGetLastError();
    CHECK(cudaFree(d) == cudaSuccess);
    CHECK(cudaEventDestroy(a) == cudaSuccess && cudaEventDestroy(b) == cudaSuccess);
    CHECK(cudaEventDestroy(untimed) == cudaSuccess && cudaStreamDestroy(s) == cudaSuccess);
    return PF_T_PASS;
}

/* PF_CUDA_PROFILE=1 on the DiT block of test_fusions_vs_cpu, computed three times: the
 * results equal a backend without the profile, every computed node or fused pair is
 * one timed bracket (the pairs as pairs), the times add up, and no CUDA graph is
 * captured although the same graph repeats. */
/* PF_CUDA_PROFILE=total: the table keeps every call's time (no print and reset per compute);
 * PF_CUDA_PROFILE=1: only the last call's. */
static pf_test_result test_profile_total(void) {
    NEED_CUDA(plain);
    pf_backend_free(plain);
    static float x[FB * FN * FD], w[FD * FD], out[FB * FN * FD];
    fill(x, PF_ARRAY_LEN(x), 50);
    fill(w, PF_ARRAY_LEN(w), 51);
    t_in in[2] = {{PF_F32, 3, {FB, FN, FD}, x}, {PF_F32, 2, {FD, FD}, w}};
    const char *modes[2] = {"1", "total"};
    for (int m = 0; m < 2; m++) {
        setenv("PF_CUDA_PROFILE", modes[m], 1);
        bool bad;
        pf_backend *be = cuda_backend(&bad);
        unsetenv("PF_CUDA_PROFILE");
        CHECK_MSG(be, "%s", g_why);
        double sum = 0.0;
        for (int call = 1; call <= 3; call++) {
            CHECK_OK(run_graph(be, b_linear_nobias, NULL, in, 2, out, PF_ARRAY_LEN(out), NULL));
            pf_cuda_profile p;
            CHECK_OK(pf_cuda_profile_get(be, &p));
            CHECK_MSG(p.enabled && p.n_brackets > 0 && p.total_ms > 0.0, "PF_CUDA_PROFILE=%s call %d: %d brackets",
                      modes[m], call, p.n_brackets);
            sum += p.total_ms;
            const double want = m == 1 ? sum : p.total_ms;
            CHECK_MSG(fabs(p.table_ms - want) <= 1e-9 * want, "PF_CUDA_PROFILE=%s call %d: table %g ms, expected %g",
                      modes[m], call, p.table_ms, want);
        }
        pf_backend_free(be);
    }
    return PF_T_PASS;
}

static pf_test_result test_profile(void) {
    NEED_CUDA(plain);
    setenv("PF_CUDA_PROFILE", "1", 1);
    bool bad;
    pf_backend *be = cuda_backend(&bad);
    unsetenv("PF_CUDA_PROFILE");
    CHECK_MSG(be, "%s", g_why);
    static float x[FB * FN * FD], emb[FB * 2 * FD], wq[FD * FD], qw[FHD], tab[FN * FHD], w1[FF * FD], b1[FF],
        w2[FD * FF], out[FB * FN * FD], expect[FB * FN * FD];
    float *data[8] = {x, emb, wq, qw, tab, w1, b1, w2};
    const size_t lens[8] = {PF_ARRAY_LEN(x),  PF_ARRAY_LEN(emb), PF_ARRAY_LEN(wq), PF_ARRAY_LEN(qw),
                            PF_ARRAY_LEN(tab), PF_ARRAY_LEN(w1), PF_ARRAY_LEN(b1), PF_ARRAY_LEN(w2)};
    for (int k = 0; k < 8; k++) fill(data[k], lens[k], 40u + (unsigned)k);
    t_in in[8] = {{PF_F32, 3, {FB, FN, FD}, x},       {PF_F32, 2, {FB, 2 * FD}, emb},
                  {PF_F32, 2, {FD, FD}, wq},          {PF_F32, 1, {FHD}, qw},
                  {PF_F32, 3, {FN, FHD / 2, 2}, tab}, {PF_F32, 2, {FF, FD}, w1},
                  {PF_F32, 1, {FF}, b1},              {PF_F32, 2, {FD, FF}, w2}};
    CHECK_OK(run_graph(plain, b_block, NULL, in, 8, expect, PF_ARRAY_LEN(expect), NULL));
    pf_cuda_profile pp;
    CHECK_OK(pf_cuda_profile_get(plain, &pp));
    CHECK(!pp.enabled && pp.n_brackets == 0 && pp.n_total == 0);

    pf_graph *g = pf_graph_new("profile_block");
    pf_tensor *t[8];
    for (int k = 0; k < 8; k++) t[k] = pf_input(g, in[k].dt, in[k].ndim, in[k].ne, "in");
    pf_tensor *y = b_block(g, t, NULL);
    pf_output(g, y);
    CHECK_OK(pf_graph_status(g));
    pf_arena *a;
    CHECK_OK(pf_arena_create(be, &a));
    CHECK_OK(pf_graph_plan(g, a, NULL));
    int n_compute = 0;
    for (int i = 0; i < pf_graph_n_nodes(g); i++) n_compute += pf_node_is_compute(pf_graph_node(g, i));
    for (int k = 0; k < 8; k++) CHECK_OK(pf_tensor_set_as(t[k], data[k], PF_F32, lens[k]));
    for (int call = 1; call <= 3; call++) {
        memset(out, 0, sizeof out);
        CHECK_OK(pf_graph_compute(g));
        CHECK_OK(pf_tensor_get_as(y, out, PF_F32, PF_ARRAY_LEN(out)));
        double d = max_diff(out, expect, PF_ARRAY_LEN(out));
        CHECK_MSG(d <= 1e-6, "call %d: differs from the backend without the profile by %g", call, d);
        pf_cuda_fusion_stats fl;
        CHECK_OK(pf_cuda_fusion_stats_get(be, NULL, &fl));
        const int pairs = (int)(fl.norm_modulate + fl.norm_rope + fl.gemm_gelu);
        CHECK_MSG(pairs == 3 && fl.declined == 0, "call %d: %d fused pairs, %llu declined", call, pairs, fl.declined);
        pf_cuda_profile p;
        CHECK_OK(pf_cuda_profile_get(be, &p));
        CHECK_MSG(p.enabled && p.n_brackets == n_compute - pairs && p.n_pairs == pairs,
                  "call %d: %d brackets (%d pairs) for %d compute nodes and %d fused pairs", call, p.n_brackets,
                  p.n_pairs, n_compute, pairs);
        CHECK_MSG(p.min_ms >= 0.0 && p.max_ms >= p.min_ms && p.total_ms > 0.0 &&
                      p.total_ms >= p.max_ms && p.total_ms <= p.n_brackets * p.max_ms * (1 + 1e-9),
                  "call %d: %g ms in all, brackets %g .. %g ms", call, p.total_ms, p.min_ms, p.max_ms);
        CHECK_MSG(p.n_rows > 0 && p.n_rows <= p.n_brackets, "call %d: %d rows", call, p.n_rows);
        CHECK(p.n_total == (unsigned long long)call * (unsigned long long)p.n_brackets);
    }
    pf_cuda_graph_counters gs;
    CHECK_OK(pf_cuda_graph_stats(be, &gs));
    CHECK_MSG(!gs.enabled && gs.n_captures == 0 && gs.n_replays == 0 && gs.n_eager == 3,
              "graphs %s: %llu captures, %llu replays, %llu eager", gs.enabled ? "on" : "off", gs.n_captures,
              gs.n_replays, gs.n_eager);
    pf_graph_free(g);
    pf_arena_free(a);
    pf_backend_free(be);
    pf_backend_free(plain);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_device_info), PF_TEST(test_device_selection), PF_TEST(test_allocator_reuse),
             PF_TEST(test_out_of_memory_message), PF_TEST(test_upload_download), PF_TEST(test_ops_by_hand),
             PF_TEST(test_attention_no_visible_key), PF_TEST(test_attention_variants), PF_TEST(test_embedding_bad_id),
             PF_TEST(test_inplace_chain_vs_cpu), PF_TEST(test_overlapping_output_into), PF_TEST(test_gemm_paths_vs_cpu),
             PF_TEST(test_conv_paths_vs_cpu), PF_TEST(test_fusions_vs_cpu), PF_TEST(test_graph_capture_replay),
             PF_TEST(test_graph_after_arena_release), PF_TEST(test_graph_replay_error_record),
             PF_TEST(test_graph_capture_fallback), PF_TEST(test_event_timing), PF_TEST(test_profile),
             PF_TEST(test_profile_total))

#else /* no CUDA in this build */

static pf_test_result test_cuda_backend(void) { SKIP("built without CUDA (PF_CUDA=OFF or no CUDA toolkit)"); }

PF_TEST_MAIN(PF_TEST(test_cuda_backend))

#endif
