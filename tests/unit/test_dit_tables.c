/*
 * DiT host tables and graph behaviour, against hand-computed values and independent
 * references: parameter counts of the released configs (facts sheet §1, derived there from
 * the file sizes), torch's linear interpolation of RoPE positions, the timestep sinusoid,
 * the SD3 sin-cos table (against the golden pack's pos_embed buffer when present), and the
 * layout cache (slot rebinding, row trimming, batch-row independence) on tiny random DiTs.
 */
#include "dit_internal.h"
#include "pf_safetensors.h"
#include "pf_test.h"

static pf_backend *cpu(void) {
    pf_backend *be = NULL;
    pf_backend_options o = {.device = -1, .threads = 1, .reference = true};
    if (pf_backend_create("cpu", &o, &be) != PF_OK) return NULL;
    return be;
}

static pf_test_result test_released_param_counts(void) {
    pf_dit_config c;
    pf_dit_config_released(PF_DIT_FLUX, &c);
    CHECK(c.hidden == 1920 && c.n_double == 8 && c.n_single == 16 && c.pooled_dim == 768);
    CHECK(c.n_params == 1972059200); /* facts §1.2: 7,888,236,800 bytes in fp32 */
    pf_dit_config_released(PF_DIT_MMDIT, &c);
    CHECK(c.hidden == 1536 && c.n_double == 24 && c.pos_embed_max_size == 192 && c.base_size == 64);
    CHECK(c.n_params == 2028334144); /* facts §1.1, without the 56,623,104-float pos_embed buffer */
    return PF_T_PASS;
}

static pf_test_result test_interp_positions(void) {
    float v[8];
    dit_interp_arange(8, 4, v); /* half resolution: 2i + 0.5 */
    for (int i = 0; i < 4; i++) CHECK(v[i] == 2.0f * i + 0.5f);
    dit_interp_arange(16, 4, v); /* quarter resolution: 4i + 1.5 */
    for (int i = 0; i < 4; i++) CHECK(v[i] == 4.0f * i + 1.5f);
    dit_interp_arange(5, 5, v);
    for (int i = 0; i < 5; i++) CHECK(v[i] == (float)i);
    dit_interp_arange(3, 2, v); /* scale 1.5: src 0.25, 1.75 -> 0.25, 1.75 */
    CHECK_NEAR(v[0], 0.25, 1e-7);
    CHECK_NEAR(v[1], 1.75, 1e-7);
    dit_interp_arange(2, 4, v); /* upsampling clamps: src -0.25 -> 0, 0.25, 0.75, 1.25 -> idx1 clamped */
    CHECK(v[0] == 0.0f);
    CHECK_NEAR(v[1], 0.25, 1e-7);
    CHECK_NEAR(v[2], 0.75, 1e-7);
    CHECK_NEAR(v[3], 1.0, 1e-7);
    return PF_T_PASS;
}

static pf_test_result test_timestep_sinusoid(void) {
    float t[2] = {0.0f, 1.0f}, out[2 * DIT_TIME_PROJ_DIM];
    dit_timestep_proj(t, 2, out);
    for (int j = 0; j < 128; j++) {
        CHECK(out[j] == 1.0f && out[128 + j] == 0.0f); /* t = 0: cos 1, sin 0 */
        double f = exp(-log(10000.0) * j / 128.0);
        CHECK_NEAR(out[256 + j], cos(f), 2e-6);
        CHECK_NEAR(out[256 + 128 + j], sin(f), 2e-6);
    }
    return PF_T_PASS;
}

static pf_test_result test_rope_positions_and_table(void) {
    pf_dit dit;
    memset(&dit, 0, sizeof dit);
    pf_dit_config_released(PF_DIT_FLUX, &dit.cfg);
    CHECK_OK(dit_config_finish(&dit, "test"));
    /* text 2, history [1 frame 4x6 latent], [2 frames 8x12], current 8x12: token grids 2x3, 4x6, 4x6 */
    dit_layout_key k = {.batch = 1, .text_len = 2, .n_clips = 3, .t = {1, 2, 1}, .h = {4, 8, 8}, .w = {6, 12, 12}};
    int n = 2 + 6 + 2 * 24 + 24;
    float *pos = malloc((size_t)n * 3 * sizeof(float)), *tab = malloc((size_t)n * 64 * sizeof(float));
    CHECK(pos && tab);
    CHECK_OK(dit_rope_positions(&dit, &k, pos));
    for (int a = 0; a < 6; a++) CHECK(pos[a] == 0.0f); /* text ids (0, 0, 0) */
    /* first history clip: half of the current grid -> y = 2i + 0.5, x = 2j + 0.5, frame 0 */
    float *p = pos + 2 * 3;
    CHECK(p[0] == 0.0f && p[1] == 0.5f && p[2] == 0.5f);
    p = pos + (2 + 5) * 3; /* (y 1, x 2) */
    CHECK(p[0] == 0.0f && p[1] == 2.5f && p[2] == 4.5f);
    p = pos + (2 + 6 + 24 + 7) * 3; /* second clip, its second frame (frame 2), (y 1, x 1) */
    CHECK(p[0] == 2.0f && p[1] == 1.0f && p[2] == 1.0f);
    p = pos + (size_t)(n - 1) * 3; /* current clip: frame 3, last token */
    CHECK(p[0] == 3.0f && p[1] == 3.0f && p[2] == 5.0f);
    dit_rope_table(&dit, pos, n, tab);
    /* pair 0 = t axis (d = 16, omega 1), pair 8 = y axis first pair (omega 1), pair 20 = x axis */
    float *row = tab + (size_t)(n - 1) * 64;
    CHECK_NEAR(row[0], cos(3.0), 1e-7);
    CHECK_NEAR(row[1], sin(3.0), 1e-7);
    CHECK_NEAR(row[2 * 8], cos(3.0), 1e-7);
    CHECK_NEAR(row[2 * 20 + 1], sin(5.0), 1e-7);
    CHECK_NEAR(row[2 * 9 + 1], sin(3.0 / pow(10000.0, 2.0 / 24.0)), 1e-7);
    free(pos);
    free(tab);
    return PF_T_PASS;
}

static pf_test_result test_sincos_table_matches_file(void) {
    const char *g = pf_test_golden_dir();
    char *dir = g ? pf_path_join(g, "sd3/diffusion_transformer_384p") : NULL;
    char *path = dir ? pf_path_join(dir, "diffusion_pytorch_model.safetensors") : NULL;
    free(dir);
    pf_st_file *f = NULL;
    if (!path || !pf_file_exists(path)) {
        free(path);
        SKIP("golden pack not found");
    }
    CHECK_OK(pf_st_open(path, &f));
    free(path);
    const pf_st_tensor *t = pf_st_find(f, "pos_embed.pos_embed");
    CHECK(t && t->ndim == 3 && t->dtype == PF_F32);
    int D = (int)t->shape[2], S = 1;
    while (S * S < t->shape[1]) S++;
    CHECK(S * S == t->shape[1]);
    /* sample_size / patch_size of the pack's config.json: 24 / 2 */
    float *tab = malloc((size_t)S * S * D * sizeof(float));
    CHECK(tab);
    dit_sincos_table(D, S, 12, tab);
    double mx = 0;
    for (int64_t i = 0; i < (int64_t)S * S * D; i++) mx = fmax(mx, fabs(tab[i] - ((const float *)t->data)[i]));
    fprintf(stderr, "  sin-cos table vs file: max abs %.3g\n", mx);
    CHECK(mx <= 1e-6);
    free(tab);
    pf_st_close(f);
    return PF_T_PASS;
}

static pf_test_result test_bilinear_resize(void) {
    /* 4x4 -> 2x2 is the mean of each 2x2 block; 8 -> 2 mixes rows 4i+1 and 4i+2 */
    float in[8 * 8], out[4];
    for (int i = 0; i < 64; i++) in[i] = (float)i;
    dit_resize_bilinear(in, 8, 8, 1, 2, 2, out);
    CHECK_NEAR(out[0], (9 + 10 + 17 + 18) / 4.0, 1e-5);
    CHECK_NEAR(out[3], (45 + 46 + 53 + 54) / 4.0, 1e-5);
    float in2[16], out2[4];
    for (int i = 0; i < 16; i++) in2[i] = (float)(i * i);
    dit_resize_bilinear(in2, 4, 4, 1, 2, 2, out2);
    CHECK_NEAR(out2[1], (4 + 9 + 36 + 49) / 4.0, 1e-4);
    return PF_T_PASS;
}

/* ---- graph behaviour on tiny random DiTs ---- */

static pf_tensor *filled(pf_pool *pool, int ndim, const int64_t *ne, const char *name, uint32_t seed) {
    pf_tensor *t = pf_pool_tensor(pool, PF_F32, ndim, ne, name);
    if (!t) return NULL;
    size_t n = (size_t)pf_nelem(t);
    float *v = malloc(n * sizeof(float));
    if (!v) return NULL;
    uint32_t s = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        v[i] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
    pf_status rc = pf_tensor_set(t, v, n * sizeof(float));
    free(v);
    return rc == PF_OK ? t : NULL;
}

static pf_dit *tiny_dit(pf_backend *be, pf_dit_variant v) {
    pf_dit_config cfg;
    pf_dit_config_released(v, &cfg);
    cfg.heads = 2;
    cfg.n_double = 2;
    cfg.n_single = v == PF_DIT_FLUX ? 2 : 0;
    cfg.text_dim = 16;
    cfg.pooled_dim = 8;
    cfg.pos_embed_max_size = 16;
    cfg.base_size = 6;
    pf_dit *dit = NULL;
    return pf_dit_create_random(&cfg, be, PF_F32, 11, &dit) == PF_OK ? dit : NULL;
}

static pf_test_result check_behaviour(pf_dit_variant v) {
    pf_backend *be = cpu();
    pf_pool *pool = NULL;
    CHECK(be);
    CHECK_OK(pf_pool_create(be, 0, &pool));
    pf_dit *dit = tiny_dit(be, v);
    CHECK(dit);
    /* B = 2, text 5, clips: quarter 2 frames 2x4, half 4x8, current 4x8 (latent sizes) */
    int64_t q[5] = {2, 16, 2, 2, 4}, h[5] = {2, 16, 1, 4, 8}, tx[3] = {2, 5, 16}, po[2] = {2, 8};
    pf_tensor *c0 = filled(pool, 5, q, "c0", 1), *c1 = filled(pool, 5, h, "c1", 2), *c2 = filled(pool, 5, h, "c2", 3);
    pf_tensor *text = filled(pool, 3, tx, "text", 4), *pooled = filled(pool, 2, po, "pooled", 5);
    pf_tensor *v1 = pf_pool_tensor(pool, PF_F32, 5, h, "v1"), *v2 = pf_pool_tensor(pool, PF_F32, 5, h, "v2");
    CHECK(c0 && c1 && c2 && text && pooled && v1 && v2);
    float ts[2] = {700.0f, 300.0f};
    int32_t mask[10] = {1, 1, 0, 0, 0, 1, 1, 1, 1, 0};
    pf_dit_inputs in = {.batch = 2,
                        .n_clips = 3,
                        .clips = {c0, c1, c2},
                        .timestep = ts,
                        .text = text,
                        .text_mask = mask,
                        .pooled = pooled};
    const size_t n = (size_t)pf_nelem(v1);
    float *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float));
    CHECK(a && b);

    CHECK_OK(pf_dit_forward(dit, &in, v1));
    CHECK_OK(pf_tensor_get(v1, a, n * sizeof(float)));
    pf_dit_stats st;
    pf_dit_get_stats(dit, &st);
    CHECK(st.n_graphs == 1 && st.image_tokens == 2 * 2 + 2 * 4 * 2 && st.text_tokens == 5);
    CHECK(st.graph_peak_bytes > 0 && st.flops > 0 && st.weight_bytes > 0);

    /* another velocity tensor: same graph, re-pointed */
    CHECK_OK(pf_dit_forward(dit, &in, v2));
    CHECK_OK(pf_tensor_get(v2, b, n * sizeof(float)));
    pf_dit_get_stats(dit, &st);
    CHECK(st.n_graphs == 1);
    for (size_t i = 0; i < n; i++) CHECK(a[i] == b[i]);

    /* compute memory given back (before a VAE decode), then taken again by the next call:
     * same graph, re-planned, same velocity */
    CHECK(st.arena_bytes >= st.graph_peak_bytes);
    pf_dit_release_compute(dit);
    pf_dit_get_stats(dit, &st);
    CHECK(st.arena_bytes == 0);
    memset(b, 0, n * sizeof(float));
    CHECK_OK(pf_tensor_set(v2, b, n * sizeof(float))); /* so a call that computes nothing fails */
    CHECK_OK(pf_dit_forward(dit, &in, v2));
    CHECK_OK(pf_tensor_get(v2, b, n * sizeof(float)));
    pf_dit_get_stats(dit, &st);
    CHECK(st.n_graphs == 1 && st.arena_bytes >= st.graph_peak_bytes);
    for (size_t i = 0; i < n; i++) CHECK(a[i] == b[i]);

    /* other clip tensors with the same layout: same graph, their values */
    in.clips[1] = c2;
    in.clips[2] = c1;
    CHECK_OK(pf_dit_forward(dit, &in, v2));
    CHECK_OK(pf_tensor_get(v2, b, n * sizeof(float)));
    pf_dit_get_stats(dit, &st);
    CHECK(st.n_graphs == 1);
    double diff = 0;
    for (size_t i = 0; i < n; i++) diff = fmax(diff, fabs(a[i] - b[i]));
    CHECK(diff > 1e-3);
    in.clips[1] = c1;
    in.clips[2] = c2;

    /* debug mode computes every row of the last block: same velocity */
    pf_dit_set_debug(dit, true);
    CHECK_OK(pf_dit_forward(dit, &in, v2));
    CHECK_OK(pf_tensor_get(v2, b, n * sizeof(float)));
    diff = 0;
    for (size_t i = 0; i < n; i++) diff = fmax(diff, fabs(a[i] - b[i]));
    fprintf(stderr, "  trimmed vs full last block: max abs %.3g\n", diff);
    CHECK(diff <= 1e-6);
    pf_dit_set_debug(dit, false);

    /* batch rows are independent: row 1 alone gives row 1 of the pair */
    int64_t q1[5] = {1, 16, 2, 2, 4}, h1[5] = {1, 16, 1, 4, 8}, tx1[3] = {1, 5, 16}, po1[2] = {1, 8};
    pf_tensor *r0 = pf_pool_tensor(pool, PF_F32, 5, q1, "r0"), *r1 = pf_pool_tensor(pool, PF_F32, 5, h1, "r1");
    pf_tensor *r2 = pf_pool_tensor(pool, PF_F32, 5, h1, "r2"), *rt = pf_pool_tensor(pool, PF_F32, 3, tx1, "rt");
    pf_tensor *rp = pf_pool_tensor(pool, PF_F32, 2, po1, "rp"), *rv = pf_pool_tensor(pool, PF_F32, 5, h1, "rv");
    CHECK(r0 && r1 && r2 && rt && rp && rv);
    pf_tensor *src[5] = {c0, c1, c2, text, pooled}, *dst[5] = {r0, r1, r2, rt, rp};
    for (int i = 0; i < 5; i++) {
        size_t m = (size_t)pf_nelem(dst[i]);
        float *tmp = malloc(2 * m * sizeof(float));
        CHECK(tmp);
        CHECK_OK(pf_tensor_get(src[i], tmp, 2 * m * sizeof(float)));
        CHECK_OK(pf_tensor_set(dst[i], tmp + m, m * sizeof(float)));
        free(tmp);
    }
    pf_dit_inputs in1 = {.batch = 1,
                         .n_clips = 3,
                         .clips = {r0, r1, r2},
                         .timestep = ts + 1,
                         .text = rt,
                         .text_mask = mask + 5,
                         .pooled = rp};
    CHECK_OK(pf_dit_forward(dit, &in1, rv));
    CHECK_OK(pf_tensor_get(rv, b, n / 2 * sizeof(float)));
    pf_dit_get_stats(dit, &st);
    CHECK(st.n_graphs == 3); /* debug layout, then the batch-1 layout */
    diff = 0;
    for (size_t i = 0; i < n / 2; i++) diff = fmax(diff, fabs(a[n / 2 + i] - b[i]));
    fprintf(stderr, "  batch row vs alone: max abs %.3g\n", diff);
    CHECK(diff <= 1e-6);

    free(a);
    free(b);
    pf_dit_free(dit);
    pf_pool_free(pool);
    pf_backend_free(be);
    return PF_T_PASS;
}

static pf_test_result test_behaviour_flux(void) { return check_behaviour(PF_DIT_FLUX); }
static pf_test_result test_behaviour_mmdit(void) { return check_behaviour(PF_DIT_MMDIT); }

/* Padded text tokens never reach valid ones: changing them leaves the image output alone. */
static pf_test_result test_padded_text_is_invisible(void) {
    pf_backend *be = cpu();
    pf_pool *pool = NULL;
    CHECK(be);
    CHECK_OK(pf_pool_create(be, 0, &pool));
    pf_dit *dit = tiny_dit(be, PF_DIT_FLUX);
    CHECK(dit);
    int64_t h[5] = {1, 16, 1, 4, 4}, tx[3] = {1, 6, 16}, po[2] = {1, 8};
    pf_tensor *c = filled(pool, 5, h, "c", 1), *t1 = filled(pool, 3, tx, "t1", 2), *p = filled(pool, 2, po, "p", 3);
    pf_tensor *v = pf_pool_tensor(pool, PF_F32, 5, h, "v");
    CHECK(c && t1 && p && v);
    float ts = 500.0f, a[256], b[256], text[6 * 16];
    int32_t mask[6] = {1, 1, 1, 0, 0, 0};
    pf_dit_inputs in = {
        .batch = 1, .n_clips = 1, .clips = {c}, .timestep = &ts, .text = t1, .text_mask = mask, .pooled = p};
    CHECK_OK(pf_dit_forward(dit, &in, v));
    CHECK_OK(pf_tensor_get(v, a, sizeof a));
    CHECK_OK(pf_tensor_get(t1, text, sizeof text));
    for (int i = 3 * 16; i < 6 * 16; i++) text[i] = 5.0f - text[i];
    CHECK_OK(pf_tensor_set(t1, text, sizeof text));
    CHECK_OK(pf_dit_forward(dit, &in, v));
    CHECK_OK(pf_tensor_get(v, b, sizeof b));
    for (int i = 0; i < 256; i++) CHECK(a[i] == b[i]);
    pf_dit_free(dit);
    pf_pool_free(pool);
    pf_backend_free(be);
    return PF_T_PASS;
}

/* Least recently used layouts are dropped beyond the cap and rebuilt on demand. */
static pf_test_result test_layout_cache_eviction(void) {
    pf_backend *be = cpu();
    pf_pool *pool = NULL;
    CHECK(be);
    CHECK_OK(pf_pool_create(be, 0, &pool));
    pf_dit *dit = tiny_dit(be, PF_DIT_FLUX);
    CHECK(dit);
    dit->max_layouts = 2;
    int64_t tx[3] = {1, 3, 16}, po[2] = {1, 8};
    pf_tensor *text = filled(pool, 3, tx, "text", 1), *pooled = filled(pool, 2, po, "pooled", 2);
    pf_tensor *clip[3], *vel[3];
    for (int i = 0; i < 3; i++) {
        int64_t ne[5] = {1, 16, 1, 2 + 2 * i, 4};
        clip[i] = filled(pool, 5, ne, "clip", 3 + (uint32_t)i);
        vel[i] = pf_pool_tensor(pool, PF_F32, 5, ne, "vel");
        CHECK(clip[i] && vel[i]);
    }
    CHECK(text && pooled);
    float ts = 250.0f, first[128], again[128];
    int32_t mask[3] = {1, 1, 0};
    pf_dit_inputs in = {.batch = 1, .n_clips = 1, .timestep = &ts, .text = text, .text_mask = mask, .pooled = pooled};
    for (int i = 0; i < 3; i++) {
        in.clips[0] = clip[i];
        CHECK_OK(pf_dit_forward(dit, &in, vel[i]));
        if (i == 0) CHECK_OK(pf_tensor_get(vel[0], first, sizeof first));
    }
    CHECK(dit->n_layouts == 2 && dit->n_built == 3);
    in.clips[0] = clip[0]; /* evicted: rebuilt, same values */
    CHECK_OK(pf_dit_forward(dit, &in, vel[0]));
    CHECK_OK(pf_tensor_get(vel[0], again, sizeof again));
    CHECK(dit->n_layouts == 2 && dit->n_built == 4);
    for (int i = 0; i < 128; i++) CHECK(first[i] == again[i]);
    in.clips[0] = clip[2]; /* still cached */
    CHECK_OK(pf_dit_forward(dit, &in, vel[2]));
    CHECK(dit->n_built == 4);
    pf_dit_free(dit);
    pf_pool_free(pool);
    pf_backend_free(be);
    return PF_T_PASS;
}

/* bf16 inputs and a bf16 velocity: the casts sit at the graph's edges. */
static pf_test_result test_bf16_inputs_and_output(void) {
    pf_backend *be = cpu();
    pf_pool *pool = NULL;
    CHECK(be);
    CHECK_OK(pf_pool_create(be, 0, &pool));
    pf_dit *dit = tiny_dit(be, PF_DIT_MMDIT);
    CHECK(dit);
    int64_t c[5] = {1, 16, 1, 4, 4}, tx[3] = {1, 3, 16}, po[2] = {1, 8};
    pf_tensor *clip = filled(pool, 5, c, "clip", 1), *text = filled(pool, 3, tx, "text", 2);
    pf_tensor *pooled = filled(pool, 2, po, "pooled", 3), *vel = pf_pool_tensor(pool, PF_F32, 5, c, "vel");
    pf_tensor *clip16 = pf_pool_tensor(pool, PF_BF16, 5, c, "clip16"),
              *text16 = pf_pool_tensor(pool, PF_BF16, 3, tx, "t16");
    pf_tensor *pooled16 = pf_pool_tensor(pool, PF_BF16, 2, po, "p16"),
              *vel16 = pf_pool_tensor(pool, PF_BF16, 5, c, "v16");
    CHECK(clip && text && pooled && vel && clip16 && text16 && pooled16 && vel16);
    /* round the f32 inputs to bf16 and keep both copies */
    pf_tensor *f32s[3] = {clip, text, pooled}, *bf16s[3] = {clip16, text16, pooled16};
    for (int i = 0; i < 3; i++) {
        size_t n = (size_t)pf_nelem(f32s[i]);
        float *v = malloc(n * sizeof(float));
        CHECK(v);
        CHECK_OK(pf_tensor_get(f32s[i], v, n * sizeof(float)));
        for (size_t j = 0; j < n; j++) v[j] = pf_round_bf16(v[j]);
        CHECK_OK(pf_tensor_set(f32s[i], v, n * sizeof(float)));
        CHECK_OK(pf_tensor_set_as(bf16s[i], v, PF_F32, n));
        free(v);
    }
    float ts = 800.0f, a[256], b[256];
    int32_t mask[3] = {1, 0, 0};
    pf_dit_inputs in = {
        .batch = 1, .n_clips = 1, .clips = {clip}, .timestep = &ts, .text = text, .text_mask = mask, .pooled = pooled};
    CHECK_OK(pf_dit_forward(dit, &in, vel));
    CHECK_OK(pf_tensor_get(vel, a, sizeof a));
    pf_dit_inputs in16 = in;
    in16.clips[0] = clip16;
    in16.text = text16;
    in16.pooled = pooled16;
    CHECK_OK(pf_dit_forward(dit, &in16, vel16));
    CHECK_OK(pf_tensor_get_as(vel16, b, PF_F32, 256));
    for (int i = 0; i < 256; i++) CHECK(b[i] == pf_round_bf16(a[i]));
    pf_dit_free(dit);
    pf_pool_free(pool);
    pf_backend_free(be);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_released_param_counts), PF_TEST(test_interp_positions), PF_TEST(test_timestep_sinusoid),
             PF_TEST(test_rope_positions_and_table), PF_TEST(test_sincos_table_matches_file),
             PF_TEST(test_bilinear_resize), PF_TEST(test_behaviour_flux), PF_TEST(test_behaviour_mmdit),
             PF_TEST(test_padded_text_is_invisible), PF_TEST(test_layout_cache_eviction),
             PF_TEST(test_bf16_inputs_and_output))
