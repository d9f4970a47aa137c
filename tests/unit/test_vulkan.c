/*
 * The Vulkan backend's own machinery (ops are covered by the conformance suite):
 * device info and limits, buffers and transfers (mapped and staging), arenas split
 * into several buffers, bounded submissions, barriers only between dependent nodes,
 * in-place chains, errors raised by shaders, truthful supports_op with reasons,
 * the profile, and a clean validation-layer run. Skips (77) without a device.
 * Graph results are compared with the CPU reference backend.
 */
#include "pf_backend.h"
#include "pf_graph_impl.h"
#include "pf_test.h"

#ifdef PF_HAVE_VULKAN
#include "vulkan/pf_vulkan.h"

#include <unistd.h>

static bool g_validation;

/* A vulkan backend, or skip. Options read from the environment at creation. */
static pf_test_result vk_open(pf_backend **be) {
    pf_status rc = pf_backend_create("vulkan", NULL, be);
    if (rc == PF_ERR_UNSUPPORTED) {
        fprintf(stderr, "  no Vulkan device: %s\n", pf_last_error());
        return PF_T_SKIP;
    }
    if (rc != PF_OK) {
        fprintf(stderr, "  pf_backend_create(vulkan): %s\n", pf_last_error());
        return PF_T_FAIL;
    }
    return PF_T_PASS;
}

#define VK_OPEN(be)                                \
    do {                                           \
        pf_test_result r_ = vk_open(&(be));        \
        if (r_ != PF_T_PASS) return r_;            \
    } while (0)

static void fill(float *p, int64_t n, uint32_t seed) {
    uint32_t s = seed * 2654435761u + 1u;
    for (int64_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        p[i] = ((float)(s >> 8) / 16777216.0f) * 2.0f - 1.0f;
    }
}

/* A small transformer-ish chain: enough nodes and bytes to exercise batching and
 * chunking; returns the output. ins: x [R, D], w1 [D, D], w2 [D, D], b [D]. */
typedef struct chain {
    pf_graph *g;
    pf_tensor *x, *w1, *w2, *b, *y;
} chain;

static pf_status chain_build(chain *c, int64_t R, int64_t D, int depth) {
    c->g = pf_graph_new("chain");
    pf_graph *g = c->g;
    c->x = pf_input(g, PF_F32, 2, (int64_t[]){R, D}, "x");
    c->w1 = pf_input(g, PF_F32, 2, (int64_t[]){D, D}, "w1");
    c->w2 = pf_input(g, PF_F32, 2, (int64_t[]){D, D}, "w2");
    c->b = pf_input(g, PF_F32, 1, (int64_t[]){D}, "b");
    pf_tensor *h = c->x;
    for (int i = 0; i < depth; i++) {
        pf_tensor *n = pf_layer_norm(g, h, NULL, NULL, 1e-6f);
        pf_tensor *u = pf_gelu_tanh(g, pf_linear(g, n, c->w1, c->b));
        pf_tensor *v = pf_scale(g, pf_linear(g, u, c->w2, NULL), 0.5f, 0.0f);
        h = pf_add(g, h, v);
    }
    c->y = h;
    pf_output(g, h);
    return pf_graph_status(g);
}

static pf_status chain_run(pf_backend *be, int64_t R, int64_t D, int depth, float *out, pf_plan_stats *st) {
    chain c;
    pf_arena *a = NULL;
    pf_status rc = chain_build(&c, R, D, depth);
    if (rc == PF_OK) rc = pf_arena_create(be, &a);
    if (rc == PF_OK) rc = pf_graph_plan(c.g, a, st);
    float *tmp = malloc((size_t)(R * D + D * D) * sizeof(float));
    if (!tmp) rc = PF_ERR_OOM;
    if (rc == PF_OK) {
        fill(tmp, R * D, 1);
        rc = pf_tensor_set(c.x, tmp, (size_t)(R * D) * 4);
    }
    if (rc == PF_OK) {
        fill(tmp, D * D, 2);
        for (int64_t i = 0; i < D * D; i++) tmp[i] *= 0.1f;
        rc = pf_tensor_set(c.w1, tmp, (size_t)(D * D) * 4);
    }
    if (rc == PF_OK) {
        fill(tmp, D * D, 3);
        for (int64_t i = 0; i < D * D; i++) tmp[i] *= 0.1f;
        rc = pf_tensor_set(c.w2, tmp, (size_t)(D * D) * 4);
    }
    if (rc == PF_OK) {
        fill(tmp, D, 4);
        rc = pf_tensor_set(c.b, tmp, (size_t)D * 4);
    }
    if (rc == PF_OK) rc = pf_graph_compute(c.g);
    if (rc == PF_OK) rc = pf_tensor_get(c.y, out, (size_t)(R * D) * 4);
    free(tmp);
    pf_graph_free(c.g);
    pf_arena_free(a);
    return rc;
}

static double nmse(const float *ref, const float *x, int64_t n) {
    double e = 0, r = 0;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(x[i])) return INFINITY;
        double d = (double)x[i] - ref[i];
        e += d * d;
        r += (double)ref[i] * ref[i];
    }
    return r > 0 ? e / r : e;
}

static pf_status chain_ref(int64_t R, int64_t D, int depth, float *out) {
    pf_backend *cpu;
    pf_backend_options o = {.device = -1, .threads = 1, .reference = true};
    PF_TRY(pf_backend_create("cpu", &o, &cpu));
    pf_status rc = chain_run(cpu, R, D, depth, out, NULL);
    pf_backend_free(cpu);
    return rc;
}

/* ---------------------------------------------------------------- tests */

static pf_test_result test_validation_setup(void) {
    /* the instance is created once per process: choose validation before any backend */
    setenv("PF_VK_VALIDATE", "1", 1);
    pf_backend *be;
    VK_OPEN(be);
    pf_vulkan_stats st;
    pf_vulkan_get_stats(be, &st);
    g_validation = st.validation;
    if (!g_validation) fprintf(stderr, "  (VK_LAYER_KHRONOS_validation not installed: validation not checked)\n");
    pf_backend_free(be);
    return PF_T_PASS;
}

static pf_test_result test_info(void) {
    pf_backend *be;
    VK_OPEN(be);
    pf_backend_info info;
    pf_backend_get_info(be, &info);
    CHECK(!strcmp(info.name, "vulkan"));
    CHECK_MSG(strstr(info.device, "device ") != NULL, "device string '%s'", info.device);
    CHECK(info.max_buffer_size >= ((size_t)16 << 20));
    CHECK(info.max_buffer_size <= ((size_t)4 << 30));
    CHECK(info.alignment >= 16 && (info.alignment & (info.alignment - 1)) == 0);
    CHECK(info.mem_total > 0);
    /* lavapipe is a CPU device (the automatic backend choice passes it over); GPUs are not */
    bool software = strstr(info.device, "llvmpipe") || strstr(info.device, "SwiftShader");
    CHECK_MSG(info.host_cpu == software, "host_cpu %d for '%s'", info.host_cpu, info.device);
    pf_vulkan_stats st;
    pf_vulkan_get_stats(be, &st);
    CHECK(st.max_shared >= 16384);
    fprintf(stderr, "  %s; largest buffer %zu, subgroup %u%s, %s, %s descriptors\n", info.device, info.max_buffer_size,
            st.subgroup_size, st.subgroup_arith ? " (arithmetic)" : "", st.uma ? "UMA" : "staging",
            st.push_descriptors ? "push" : "pooled");
    pf_backend_free(be);
    return PF_T_PASS;
}

static pf_test_result transfer_roundtrip(pf_backend *be) {
    size_t n = (33u << 20) + 77; /* odd size, more than one 32 MiB staging chunk */
    pf_buffer *buf;
    CHECK_OK(pf_buffer_alloc(be, n, &buf));
    uint8_t *src = malloc(n), *dst = malloc(n);
    CHECK(src && dst);
    for (size_t i = 0; i < n; i++) src[i] = (uint8_t)(i * 131u + 7u);
    CHECK_OK(be->ops->upload(be, buf, 0, src, n));
    memset(dst, 0, n);
    CHECK_OK(be->ops->download(be, buf, 0, dst, n));
    CHECK(!memcmp(src, dst, n));
    /* partial transfers at odd offsets */
    uint8_t patch[1001];
    for (size_t i = 0; i < sizeof patch; i++) patch[i] = (uint8_t)(255 - i);
    CHECK_OK(be->ops->upload(be, buf, 12345, patch, sizeof patch));
    memcpy(src + 12345, patch, sizeof patch);
    CHECK_OK(be->ops->download(be, buf, 12000, dst, 3000));
    CHECK(!memcmp(src + 12000, dst, 3000));
    CHECK_ERR(be->ops->download(be, buf, n - 10, dst, 11), PF_ERR_INTERNAL, "outside");
    free(src);
    free(dst);
    pf_buffer_free(buf);
    return PF_T_PASS;
}

static pf_test_result test_transfers(void) {
    pf_backend *be;
    VK_OPEN(be);
    pf_test_result r = transfer_roundtrip(be);
    pf_backend_free(be);
    if (r != PF_T_PASS) return r;
    /* the discrete-GPU path: staging buffer and copies on the queue */
    setenv("PF_VK_FORCE_STAGING", "1", 1);
    pf_status rc = pf_backend_create("vulkan", NULL, &be);
    unsetenv("PF_VK_FORCE_STAGING");
    CHECK_OK(rc);
    pf_vulkan_stats st;
    pf_vulkan_get_stats(be, &st);
    CHECK(!st.uma);
    r = transfer_roundtrip(be);
    pf_backend_free(be);
    return r;
}

static pf_test_result test_buffer_limits(void) {
    pf_backend *be;
    VK_OPEN(be);
    pf_backend_info info;
    pf_backend_get_info(be, &info);
    pf_buffer *buf = NULL;
    CHECK_ERR(pf_buffer_alloc(be, info.max_buffer_size + 1, &buf), PF_ERR_OOM, "largest bindable buffer");
    CHECK(buf == NULL);
    /* a pool refuses a tensor over the limit with its name */
    pf_pool *pool;
    CHECK_OK(pf_pool_create(be, 0, &pool));
    int64_t ne[1] = {(int64_t)(info.max_buffer_size / 4 + 64)};
    CHECK(pf_pool_tensor(pool, PF_F32, 1, ne, "too_big") == NULL);
    CHECK_MSG(strstr(pf_last_error(), "too_big") != NULL, "%s", pf_last_error());
    pf_pool_free(pool);
    pf_backend_free(be);
    return PF_T_PASS;
}

static pf_test_result test_chain_matches_cpu(void) {
    const int64_t R = 70, D = 96;
    const int depth = 3;
    float *ref = malloc(R * D * sizeof(float)), *out = malloc(R * D * sizeof(float));
    CHECK(ref && out);
    CHECK_OK(chain_ref(R, D, depth, ref));
    pf_backend *be;
    VK_OPEN(be);
    pf_vulkan_stats s0, s1;
    pf_vulkan_get_stats(be, &s0);
    pf_plan_stats ps;
    CHECK_OK(chain_run(be, R, D, depth, out, &ps));
    pf_vulkan_get_stats(be, &s1);
    double e = nmse(ref, out, R * D);
    CHECK_MSG(e < 1e-9, "nmse %g", e);
    CHECK(ps.n_inplace > 0); /* gelu/scale/add reuse their input: in-place kernels ran */
    CHECK(s1.submits - s0.submits >= 1);
    free(ref);
    free(out);
    pf_backend_free(be);
    return PF_T_PASS;
}

/* Arena split over many small buffers (the maxStorageBufferRange case at toy scale). */
static pf_test_result test_chunked_arena(void) {
    const int64_t R = 64, D = 128; /* 32 KiB activations */
    const int depth = 2;
    float *ref = malloc(R * D * sizeof(float)), *out = malloc(R * D * sizeof(float));
    CHECK(ref && out);
    CHECK_OK(chain_ref(R, D, depth, ref));
    setenv("PF_VK_MAX_BUFFER", "98304", 1); /* 96 KiB: weights and activations spread out */
    pf_backend *be;
    pf_status rc = pf_backend_create("vulkan", NULL, &be);
    unsetenv("PF_VK_MAX_BUFFER");
    if (rc == PF_ERR_UNSUPPORTED) return PF_T_SKIP;
    CHECK_OK(rc);
    pf_backend_info info;
    pf_backend_get_info(be, &info);
    CHECK(info.max_buffer_size == 98304);
    pf_plan_stats ps;
    CHECK_OK(chain_run(be, R, D, depth, out, &ps));
    CHECK_MSG(ps.n_chunks >= 2, "%d chunks", ps.n_chunks);
    double e = nmse(ref, out, R * D);
    CHECK_MSG(e < 1e-9, "nmse %g", e);
    free(ref);
    free(out);
    pf_backend_free(be);
    return PF_T_PASS;
}

static pf_test_result test_bounded_submits(void) {
    const int64_t R = 20, D = 32;
    const int depth = 4; /* 4 * 7 nodes */
    float *ref = malloc(R * D * sizeof(float)), *out = malloc(R * D * sizeof(float));
    CHECK(ref && out);
    CHECK_OK(chain_ref(R, D, depth, ref));
    setenv("PF_VK_MAX_NODES_PER_SUBMIT", "3", 1);
    pf_backend *be;
    pf_status rc = pf_backend_create("vulkan", NULL, &be);
    unsetenv("PF_VK_MAX_NODES_PER_SUBMIT");
    if (rc == PF_ERR_UNSUPPORTED) return PF_T_SKIP;
    CHECK_OK(rc);
    pf_vulkan_stats s0, s1;
    pf_vulkan_get_stats(be, &s0);
    pf_plan_stats ps;
    CHECK_OK(chain_run(be, R, D, depth, out, &ps));
    pf_vulkan_get_stats(be, &s1);
    int submits = s1.submits - s0.submits;
    CHECK_MSG(submits >= ps.n_nodes / 3, "%d submits for %d nodes", submits, ps.n_nodes);
    CHECK(nmse(ref, out, R * D) < 1e-9);
    free(ref);
    free(out);
    pf_backend_free(be);
    return PF_T_PASS;
}

/* q, k, v projections of one input are independent: no barrier between them. */
static pf_test_result test_barriers_only_on_hazards(void) {
    pf_backend *be;
    VK_OPEN(be);
    pf_graph *g = pf_graph_new("qkv");
    pf_tensor *x = pf_input(g, PF_F32, 2, (int64_t[]){16, 32}, "x");
    pf_tensor *w = pf_input(g, PF_F32, 2, (int64_t[]){32, 32}, "w");
    pf_tensor *q = pf_linear(g, x, w, NULL), *k = pf_linear(g, x, w, NULL), *v = pf_linear(g, x, w, NULL);
    pf_tensor *y = pf_add(g, pf_add(g, q, k), v);
    pf_output(g, y);
    CHECK_OK(pf_graph_status(g));
    pf_arena *a;
    CHECK_OK(pf_arena_create(be, &a));
    CHECK_OK(pf_graph_plan(g, a, NULL));
    float xs[16 * 32], ws[32 * 32], ys[16 * 32];
    fill(xs, 16 * 32, 5);
    fill(ws, 32 * 32, 6);
    CHECK_OK(pf_tensor_set(x, xs, sizeof xs));
    CHECK_OK(pf_tensor_set(w, ws, sizeof ws));
    pf_vulkan_stats s0, s1;
    pf_vulkan_get_stats(be, &s0);
    CHECK_OK(pf_graph_compute(g));
    pf_vulkan_get_stats(be, &s1);
    int dispatches = s1.dispatches - s0.dispatches, barriers = s1.barriers - s0.barriers;
    /* 3 linears, then add (needs q, k), then add (needs the sum): 2 barriers */
    CHECK_MSG(dispatches == 5 && barriers == 2, "%d dispatches, %d barriers", dispatches, barriers);
    CHECK_OK(pf_tensor_get(y, ys, sizeof ys));
    for (int r = 0; r < 16; r += 5)
        for (int n = 0; n < 32; n += 7) {
            double acc = 0;
            for (int kk = 0; kk < 32; kk++) acc += (double)xs[r * 32 + kk] * ws[n * 32 + kk];
            CHECK_MSG(fabs(ys[r * 32 + n] - 3 * acc) < 1e-4, "y[%d,%d] = %g, expected %g", r, n, ys[r * 32 + n], 3 * acc);
        }
    pf_graph_free(g);
    pf_arena_free(a);
    pf_backend_free(be);
    return PF_T_PASS;
}

static pf_test_result test_embedding_bad_id(void) {
    pf_backend *be;
    VK_OPEN(be);
    pf_graph *g = pf_graph_new("emb");
    pf_tensor *tab = pf_input(g, PF_F32, 2, (int64_t[]){50, 8}, "table");
    pf_tensor *ids = pf_input(g, PF_I32, 1, (int64_t[]){4}, "ids");
    pf_tensor *y = pf_embedding(g, tab, ids);
    pf_output(g, y);
    pf_arena *a;
    CHECK_OK(pf_arena_create(be, &a));
    CHECK_OK(pf_graph_plan(g, a, NULL));
    float t[400];
    fill(t, 400, 9);
    CHECK_OK(pf_tensor_set(tab, t, sizeof t));
    int32_t bad[4] = {1, 2, 99, 3};
    CHECK_OK(pf_tensor_set(ids, bad, sizeof bad));
    CHECK_ERR(pf_graph_compute(g), PF_ERR_INVALID_ARG, "id 99 outside [0, 50)");
    /* the backend stays usable and the error does not stick */
    int32_t good[4] = {0, 49, 7, 7};
    CHECK_OK(pf_tensor_set(ids, good, sizeof good));
    CHECK_OK(pf_graph_compute(g));
    float out[32];
    CHECK_OK(pf_tensor_get(y, out, sizeof out));
    CHECK(out[8] == t[49 * 8] && out[31] == t[7 * 8 + 7]);
    pf_graph_free(g);
    pf_arena_free(a);
    pf_backend_free(be);
    return PF_T_PASS;
}

/* supports_op declines what it cannot do and the planner says why. */
static pf_test_result test_unsupported_reasons(void) {
    pf_backend *be;
    VK_OPEN(be);
    pf_arena *a;
    CHECK_OK(pf_arena_create(be, &a));

    pf_graph *g = pf_graph_new("wide heads");
    pf_tensor *q = pf_input(g, PF_F32, 4, (int64_t[]){1, 4, 1, 640}, "q");
    pf_tensor *y = pf_attention(g, q, q, q, 0.04f, PF_MASK_NONE, NULL, NULL, NULL);
    pf_output(g, y);
    CHECK(!pf_backend_supports(be, y));
    CHECK_ERR(pf_graph_plan(g, a, NULL), PF_ERR_UNSUPPORTED, "head dims 640");
    pf_graph_free(g);

    g = pf_graph_new("u8 cast");
    pf_tensor *x = pf_input(g, PF_F32, 1, (int64_t[]){10}, "x");
    y = pf_cast(g, x, PF_U8);
    pf_output(g, y);
    CHECK_ERR(pf_graph_plan(g, a, NULL), PF_ERR_UNSUPPORTED, "cast f32 -> u8");
    pf_graph_free(g);

    pf_arena_free(a);
    pf_backend_free(be);
    return PF_T_PASS;
}

/* Two backends at once share the process's instance; each keeps its own device. */
static pf_test_result test_two_backends(void) {
    const int64_t R = 12, D = 32;
    float ref[12 * 32], a[12 * 32], b[12 * 32];
    CHECK_OK(chain_ref(R, D, 1, ref));
    pf_backend *b1, *b2;
    VK_OPEN(b1);
    pf_status rc = pf_backend_create("vulkan", NULL, &b2);
    CHECK_OK(rc);
    CHECK_OK(chain_run(b1, R, D, 1, a, NULL));
    CHECK_OK(chain_run(b2, R, D, 1, b, NULL));
    pf_backend_free(b1); /* the first one goes first: the instance must outlive it */
    CHECK_OK(chain_run(b2, R, D, 1, b, NULL));
    pf_backend_free(b2);
    CHECK(nmse(ref, a, R * D) < 1e-9 && nmse(ref, b, R * D) < 1e-9);
    return PF_T_PASS;
}

/* A driver that caps loop iterations per invocation (lavapipe: 65535, silently) must get
 * only the nodes that stay under it: the rest are declined with the reason. */
static pf_test_result test_loop_limit(void) {
    setenv("PF_VK_LOOP_LIMIT", "2000", 1);
    pf_backend *be;
    pf_status rc = pf_backend_create("vulkan", NULL, &be);
    unsetenv("PF_VK_LOOP_LIMIT");
    if (rc == PF_ERR_UNSUPPORTED) return PF_T_SKIP;
    CHECK_OK(rc);
    pf_graph *g = pf_graph_new("loops");
    pf_tensor *q = pf_input(g, PF_F32, 4, (int64_t[]){1, 16, 1, 64}, "q");
    pf_tensor *k_short = pf_input(g, PF_F32, 4, (int64_t[]){1, 100, 1, 64}, "k");
    pf_tensor *k_long = pf_input(g, PF_F32, 4, (int64_t[]){1, 5000, 1, 64}, "k_long");
    pf_tensor *a = pf_attention(g, q, k_short, k_short, 0.125f, PF_MASK_NONE, NULL, NULL, NULL);
    pf_tensor *b = pf_attention(g, q, k_long, k_long, 0.125f, PF_MASK_NONE, NULL, NULL, NULL);
    pf_output(g, b);
    CHECK(pf_backend_supports(be, a));
    CHECK(!pf_backend_supports(be, b));
    pf_arena *ar;
    CHECK_OK(pf_arena_create(be, &ar));
    CHECK_ERR(pf_graph_plan(g, ar, NULL), PF_ERR_UNSUPPORTED, "stops loops after 2000");
    pf_graph_free(g);
    pf_arena_free(ar);
    pf_backend_free(be);
    return PF_T_PASS;
}

static pf_test_result test_device_index(void) {
    pf_backend *be;
    VK_OPEN(be);
    pf_backend_free(be);
    pf_backend_options o = {.device = 999};
    CHECK_ERR(pf_backend_create("vulkan", &o, &be), PF_ERR_INVALID_ARG, "device 999 requested");
    return PF_T_PASS;
}

static pf_test_result test_profile(void) {
    setenv("PF_VK_PROFILE", "1", 1);
    pf_backend *be;
    pf_status rc = pf_backend_create("vulkan", NULL, &be);
    unsetenv("PF_VK_PROFILE");
    if (rc == PF_ERR_UNSUPPORTED) return PF_T_SKIP;
    CHECK_OK(rc);
    pf_vulkan_stats st;
    pf_vulkan_get_stats(be, &st);
    if (!st.timestamps) {
        pf_backend_free(be);
        return PF_T_SKIP;
    }
    /* capture stderr around one compute */
    char path[] = "/tmp/pf_vk_profile_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    float out[20 * 32];
    pf_status crc = chain_run(be, 20, 32, 1, out, NULL);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char text[8192] = "";
    lseek(fd, 0, SEEK_SET);
    ssize_t got = read(fd, text, sizeof text - 1);
    close(fd);
    unlink(path);
    CHECK_OK(crc);
    CHECK(got > 0);
    text[got] = 0;
    CHECK_MSG(strstr(text, "vulkan profile") && strstr(text, "linear") && strstr(text, "layer_norm") &&
                  strstr(text, "gelu_tanh") && strstr(text, "by op:"),
              "profile output:\n%s", text);
    pf_backend_free(be);
    return PF_T_PASS;
}

static pf_test_result test_validation_clean(void) {
    if (!g_validation) return PF_T_SKIP;
    int n = pf_vulkan_validation_messages();
    CHECK_MSG(n == 0, "%d validation-layer messages (see the log above)", n);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_validation_setup), PF_TEST(test_info), PF_TEST(test_transfers), PF_TEST(test_buffer_limits),
             PF_TEST(test_chain_matches_cpu), PF_TEST(test_chunked_arena), PF_TEST(test_bounded_submits),
             PF_TEST(test_barriers_only_on_hazards), PF_TEST(test_embedding_bad_id), PF_TEST(test_unsupported_reasons),
             PF_TEST(test_two_backends), PF_TEST(test_loop_limit), PF_TEST(test_device_index), PF_TEST(test_profile), PF_TEST(test_validation_clean))

#else /* !PF_HAVE_VULKAN */

static pf_test_result test_not_compiled(void) {
    pf_backend *be = NULL;
    CHECK_ERR(pf_backend_create("vulkan", NULL, &be), PF_ERR_UNSUPPORTED, "not compiled");
    CHECK(be == NULL);
    return PF_T_SKIP;
}

PF_TEST_MAIN(PF_TEST(test_not_compiled))

#endif
