/*
 * DiT error handling: broken weight files (missing and mis-shaped tensors, all reported
 * at once), configs of unknown or unsupported variants, and bad pf_dit_forward inputs.
 * Broken files are modified copies of the golden pack's tiny DiT files, written to a
 * temporary folder with pf_st_write; the input checks use a tiny random DiT.
 */
#include "pf_dit.h"
#include "pf_safetensors.h"
#include "pf_test.h"

#include <dirent.h>
#include <unistd.h>

static pf_backend *cpu(void) {
    pf_backend *be = NULL;
    pf_backend_options o = {.device = -1, .threads = 1, .reference = true};
    if (pf_backend_create("cpu", &o, &be) != PF_OK) return NULL;
    return be;
}

/* A fresh temporary folder (removed by rm_tree). */
static char *make_tmp_dir(void) {
    char tmpl[] = "/tmp/pf_dit_test_XXXXXX";
    char *d = mkdtemp(tmpl);
    return d ? pf_strdup(d) : NULL;
}

static void rm_tree(const char *dir) {
    if (!dir) return;
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char *p = pf_path_join(dir, e->d_name);
            if (p) unlink(p);
            free(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

static bool write_text(const char *dir, const char *name, const char *text) {
    char *p = pf_path_join(dir, name);
    FILE *f = p ? fopen(p, "w") : NULL;
    free(p);
    if (!f) return false;
    fputs(text, f);
    return fclose(f) == 0;
}

static bool copy_file(const char *src, const char *dir, const char *name) {
    char *data = NULL;
    size_t len = 0;
    if (pf_read_file(src, &data, &len) != PF_OK) return false;
    char *p = pf_path_join(dir, name);
    FILE *f = p ? fopen(p, "wb") : NULL;
    free(p);
    bool ok = f && fwrite(data, 1, len, f) == len;
    if (f && fclose(f) != 0) ok = false;
    free(data);
    return ok;
}

/* The golden pack's DiT folder of a variant, or NULL (test skipped). */
static char *golden_dit_dir(const char *variant_dir) {
    const char *g = pf_test_golden_dir();
    if (!g) return NULL;
    char *root = pf_path_join(g, variant_dir);
    char *dir = root ? pf_path_join(root, "diffusion_transformer_384p") : NULL;
    free(root);
    if (dir && !pf_dir_exists(dir)) {
        free(dir);
        return NULL;
    }
    return dir;
}

/* Copy a DiT folder into tmp with its weights rewritten: `drop` tensors left out and the
 * first dimension of `shrink` cut by one. */
static bool write_broken_copy(const char *src_dir, const char *tmp, const char *const *drop, int n_drop,
                              const char *const *shrink, int n_shrink) {
    char *cfg = pf_path_join(src_dir, "config.json");
    bool ok = cfg && copy_file(cfg, tmp, "config.json");
    free(cfg);
    char *wpath = pf_path_join(src_dir, "diffusion_pytorch_model.safetensors");
    pf_st_file *f = NULL;
    if (!ok || !wpath || pf_st_open(wpath, &f) != PF_OK) {
        free(wpath);
        return false;
    }
    free(wpath);
    int n = pf_st_count(f), m = 0;
    pf_st_write_tensor *ws = calloc((size_t)n, sizeof *ws);
    int64_t(*shapes)[PF_MAX_DIMS] = calloc((size_t)n, sizeof *shapes);
    for (int i = 0; ws && shapes && i < n; i++) {
        const pf_st_tensor *t = pf_st_at(f, i);
        bool dropped = false;
        for (int k = 0; k < n_drop; k++) dropped |= !strcmp(t->name, drop[k]);
        if (dropped) continue;
        for (int d = 0; d < t->ndim && d < PF_MAX_DIMS; d++) shapes[m][d] = t->shape[d];
        for (int k = 0; k < n_shrink; k++)
            if (!strcmp(t->name, shrink[k])) shapes[m][0] -= 1; /* data: a prefix of the original */
        ws[m] = (pf_st_write_tensor){t->name, t->dtype, t->ndim, shapes[m], t->data};
        m++;
    }
    char *out = pf_path_join(tmp, "diffusion_pytorch_model.safetensors");
    ok = ws && shapes && out && pf_st_write(out, ws, m, NULL, NULL, 0) == PF_OK;
    free(out);
    free(ws);
    free(shapes);
    pf_st_close(f);
    return ok;
}

static pf_test_result test_missing_and_misshaped_reported_together(void) {
    char *src = golden_dit_dir("miniflux");
    if (!src) SKIP("golden pack not found");
    pf_backend *be = cpu();
    char *tmp = make_tmp_dir();
    CHECK(be && tmp);
    const char *drop[] = {"transformer_blocks.1.attn.to_k.bias", "single_transformer_blocks.0.proj_mlp.weight"};
    const char *shrink[] = {"x_embedder.weight", "norm_out.linear.weight"};
    CHECK(write_broken_copy(src, tmp, drop, 2, shrink, 2));
    pf_dit *dit = NULL;
    pf_status rc = pf_dit_load(tmp, be, PF_F32, &dit);
    CHECK(rc != PF_OK && dit == NULL);
    const char *msg = pf_last_error();
    fprintf(stderr, "  %s\n", msg);
    for (int i = 0; i < 2; i++) {
        CHECK_MSG(strstr(msg, drop[i]), "message lacks %s: %s", drop[i], msg);
        CHECK_MSG(strstr(msg, shrink[i]), "message lacks %s: %s", shrink[i], msg);
    }
    rm_tree(tmp);
    free(tmp);
    free(src);
    pf_backend_free(be);
    return PF_T_PASS;
}

static pf_test_result test_sd3_missing_pos_embed(void) {
    char *src = golden_dit_dir("sd3");
    if (!src) SKIP("golden pack not found");
    pf_backend *be = cpu();
    char *tmp = make_tmp_dir();
    CHECK(be && tmp);
    const char *drop[] = {"pos_embed.pos_embed", "transformer_blocks.2.norm1_context.linear.weight"};
    const char *shrink[] = {"pos_embed.proj.weight"};
    CHECK(write_broken_copy(src, tmp, drop, 2, shrink, 1));
    pf_dit *dit = NULL;
    CHECK(pf_dit_load(tmp, be, PF_F32, &dit) != PF_OK);
    const char *msg = pf_last_error();
    CHECK_MSG(strstr(msg, "pos_embed.pos_embed") && strstr(msg, "transformer_blocks.2.norm1_context.linear.weight") &&
                  strstr(msg, "pos_embed.proj.weight"),
              "%s", msg);
    rm_tree(tmp);
    free(tmp);
    free(src);
    pf_backend_free(be);
    return PF_T_PASS;
}

static pf_test_result test_config_errors(void) {
    pf_backend *be = cpu();
    char *tmp = make_tmp_dir();
    CHECK(be && tmp);
    pf_dit *dit = NULL;
    struct {
        const char *json, *needle;
    } cases[] = {
        {"{\"_class_name\": \"FluxTransformer2DModel\", \"num_layers\": 2}", "unknown DiT variant"},
        {"{\"num_layers\": 2, \"attention_head_dim\": 64}", "unknown DiT variant"},
        {"{\"num_single_layers\": 2, \"pos_embed_type\": \"sincos\"}", "unknown DiT variant"},
        {"{\"_class_name\": \"PyramidDiffusionMMDiT\", \"num_single_layers\": 2}", "unknown DiT variant"},
        {"{\"_class_name\": \"PyramidDiffusionMMDiT\", \"pos_embed_type\": \"rope\"}", "pos_embed_type"},
        {"{\"_class_name\": \"PyramidDiffusionMMDiT\", \"pos_embed_type\": \"sincos\", \"qk_norm\": \"layer_norm\"}",
         "qk_norm"},
        {"{\"num_single_layers\": 2, \"attention_head_dim\": 32}", "axes_dims_rope"},
        {"{\"num_single_layers\": 2, \"num_layers\": \"two\"}", "num_layers"},
        {"{\"num_single_layers\": 2, \"in_channels\": 64, \"patch_size\": 2}", "patch_size"},
    };
    for (size_t i = 0; i < PF_ARRAY_LEN(cases); i++) {
        CHECK(write_text(tmp, "config.json", cases[i].json));
        pf_status rc = pf_dit_load(tmp, be, PF_F32, &dit);
        CHECK_MSG(rc != PF_OK && !dit, "config %zu accepted", i);
        CHECK_MSG(strstr(pf_last_error(), cases[i].needle), "config %zu: '%s' lacks '%s'", i, pf_last_error(),
                  cases[i].needle);
        CHECK_MSG(strstr(pf_last_error(), "config.json"), "config %zu: '%s' does not name the file", i,
                  pf_last_error());
    }
    /* a valid config with no weights next to it */
    CHECK(write_text(tmp, "config.json",
                     "{\"_class_name\": \"PyramidFluxTransformer\", \"num_layers\": 1, "
                     "\"num_single_layers\": 1, \"num_attention_heads\": 1}"));
    CHECK(pf_dit_load(tmp, be, PF_F32, &dit) != PF_OK && !dit);
    rm_tree(tmp);
    free(tmp);
    pf_backend_free(be);
    return PF_T_PASS;
}

/* ---- forward input checks on a tiny random DiT ---- */

typedef struct {
    pf_backend *be;
    pf_pool *pool;
    pf_dit *dit;
    pf_tensor *clip[3], *text, *pooled, *vel;
    float t[2];
    int32_t mask[2 * 4];
    pf_dit_inputs in;
} fwd_fixture;

static pf_tensor *zeros(pf_pool *pool, int ndim, const int64_t *ne, const char *name) {
    pf_tensor *t = pf_pool_tensor(pool, PF_F32, ndim, ne, name);
    if (!t) return NULL;
    float *z = calloc((size_t)pf_nelem(t), sizeof(float));
    pf_status rc = z ? pf_tensor_set(t, z, pf_nbytes(t)) : PF_ERR_OOM;
    free(z);
    return rc == PF_OK ? t : NULL;
}

static bool fixture_init(fwd_fixture *fx, pf_dit_variant v) {
    memset(fx, 0, sizeof *fx);
    fx->be = cpu();
    if (!fx->be || pf_pool_create(fx->be, 0, &fx->pool) != PF_OK) return false;
    pf_dit_config cfg;
    pf_dit_config_released(v, &cfg);
    cfg.heads = 1;
    cfg.n_double = 1;
    cfg.n_single = v == PF_DIT_FLUX ? 1 : 0;
    cfg.text_dim = 8;
    cfg.pooled_dim = 4;
    cfg.pos_embed_max_size = 8;
    cfg.base_size = 4;
    if (pf_dit_create_random(&cfg, fx->be, PF_F32, 7, &fx->dit) != PF_OK) return false;
    int64_t c0[5] = {2, 16, 1, 2, 4}, c1[5] = {2, 16, 1, 4, 8}, tx[3] = {2, 4, 8}, po[2] = {2, 4};
    fx->clip[0] = zeros(fx->pool, 5, c0, "clip0");
    fx->clip[1] = zeros(fx->pool, 5, c1, "clip1");
    fx->clip[2] = zeros(fx->pool, 5, c1, "clip2");
    fx->text = zeros(fx->pool, 3, tx, "text");
    fx->pooled = zeros(fx->pool, 2, po, "pooled");
    fx->vel = zeros(fx->pool, 5, c1, "velocity");
    fx->t[0] = fx->t[1] = 500.0f;
    for (int i = 0; i < 8; i++) fx->mask[i] = i % 4 < 2;
    fx->in = (pf_dit_inputs){.batch = 2,
                             .n_clips = 3,
                             .clips = {fx->clip[0], fx->clip[1], fx->clip[2]},
                             .timestep = fx->t,
                             .text = fx->text,
                             .text_mask = fx->mask,
                             .pooled = fx->pooled};
    return fx->clip[0] && fx->clip[1] && fx->clip[2] && fx->text && fx->pooled && fx->vel;
}

static void fixture_free(fwd_fixture *fx) {
    pf_dit_free(fx->dit);
    pf_pool_free(fx->pool);
    pf_backend_free(fx->be);
}

static pf_test_result check_forward_errors(pf_dit_variant v) {
    fwd_fixture fx;
    CHECK(fixture_init(&fx, v));
    CHECK_OK(pf_dit_forward(fx.dit, &fx.in, fx.vel)); /* the fixture itself is valid */
    pf_dit_inputs in;

    in = fx.in; /* wrong channel count */
    int64_t bad[5] = {2, 8, 1, 4, 8};
    pf_tensor *wrong_c = zeros(fx.pool, 5, bad, "clip_8ch");
    in.clips[2] = wrong_c;
    CHECK_ERR(pf_dit_forward(fx.dit, &in, fx.vel), PF_ERR_SHAPE, "clip 2");

    in = fx.in; /* odd height */
    int64_t odd[5] = {2, 16, 1, 3, 8};
    in.clips[0] = zeros(fx.pool, 5, odd, "clip_odd");
    CHECK_ERR(pf_dit_forward(fx.dit, &in, fx.vel), PF_ERR_SHAPE, "multiples of 2");

    in = fx.in; /* too many clips */
    in.n_clips = PF_DIT_MAX_CLIPS + 1;
    CHECK_ERR(pf_dit_forward(fx.dit, &in, fx.vel), PF_ERR_INVALID_ARG, "clips");
    in.n_clips = 0;
    CHECK_ERR(pf_dit_forward(fx.dit, &in, fx.vel), PF_ERR_INVALID_ARG, "clips");

    in = fx.in; /* batch mismatch between the clips and the text */
    int64_t tx1[3] = {1, 4, 8};
    in.text = zeros(fx.pool, 3, tx1, "text_b1");
    CHECK_ERR(pf_dit_forward(fx.dit, &in, fx.vel), PF_ERR_SHAPE, "text");
    in = fx.in;
    in.batch = 1;
    CHECK_ERR(pf_dit_forward(fx.dit, &in, fx.vel), PF_ERR_SHAPE, "clip 0");

    in = fx.in; /* velocity not of the current clip's shape */
    CHECK_ERR(pf_dit_forward(fx.dit, &in, fx.clip[0]), PF_ERR_SHAPE, "velocity");

    in = fx.in; /* pooled of the wrong width */
    int64_t po3[2] = {2, 3};
    in.pooled = zeros(fx.pool, 2, po3, "pooled3");
    CHECK_ERR(pf_dit_forward(fx.dit, &in, fx.vel), PF_ERR_SHAPE, "pooled");

    in = fx.in; /* missing host arrays, NaN timestep, NULL clip */
    in.timestep = NULL;
    CHECK_ERR(pf_dit_forward(fx.dit, &in, fx.vel), PF_ERR_INVALID_ARG, "timestep");
    in = fx.in;
    in.text_mask = NULL;
    CHECK_ERR(pf_dit_forward(fx.dit, &in, fx.vel), PF_ERR_INVALID_ARG, "text mask");
    in = fx.in;
    float nan_t[2] = {NAN, 1.0f};
    in.timestep = nan_t;
    CHECK_ERR(pf_dit_forward(fx.dit, &in, fx.vel), PF_ERR_INVALID_ARG, "timestep");
    in = fx.in;
    in.clips[1] = NULL;
    CHECK_ERR(pf_dit_forward(fx.dit, &in, fx.vel), PF_ERR_INVALID_ARG, "clip 1");
    CHECK_ERR(pf_dit_forward(fx.dit, NULL, fx.vel), PF_ERR_INVALID_ARG, "inputs");

    if (v == PF_DIT_MMDIT) {
        /* history larger than the current clip: the official centre crop asserts against it */
        in = fx.in;
        in.clips[0] = fx.clip[1];
        in.clips[1] = fx.clip[1];
        in.clips[2] = fx.clip[0];
        int64_t c0[5] = {2, 16, 1, 2, 4};
        pf_tensor *vel0 = zeros(fx.pool, 5, c0, "vel0");
        CHECK_ERR(pf_dit_forward(fx.dit, &in, vel0), PF_ERR_SHAPE, "larger than the current clip");
        /* a grid beyond pos_embed_max_size (8 here) */
        int64_t big[5] = {2, 16, 1, 18, 8};
        in = fx.in;
        in.n_clips = 1;
        in.clips[0] = zeros(fx.pool, 5, big, "big");
        pf_tensor *velb = zeros(fx.pool, 5, big, "velb");
        CHECK_ERR(pf_dit_forward(fx.dit, &in, velb), PF_ERR_SHAPE, "pos_embed_max_size");
    }
    /* the DiT still works after refusing all of that */
    CHECK_OK(pf_dit_forward(fx.dit, &fx.in, fx.vel));
    fixture_free(&fx);
    return PF_T_PASS;
}

static pf_test_result test_forward_errors_flux(void) { return check_forward_errors(PF_DIT_FLUX); }
static pf_test_result test_forward_errors_mmdit(void) { return check_forward_errors(PF_DIT_MMDIT); }

static pf_test_result test_random_config_errors(void) {
    pf_backend *be = cpu();
    CHECK(be);
    pf_dit_config cfg;
    pf_dit_config_released(PF_DIT_FLUX, &cfg);
    cfg.head_dim = 48; /* the forced RoPE axes need 64 */
    pf_dit *dit = NULL;
    CHECK_ERR(pf_dit_create_random(&cfg, be, PF_F32, 1, &dit), PF_ERR_UNSUPPORTED, "axes_dims_rope");
    pf_dit_config_released(PF_DIT_MMDIT, &cfg);
    cfg.variant = (pf_dit_variant)7;
    CHECK_ERR(pf_dit_create_random(&cfg, be, PF_F32, 1, &dit), PF_ERR_UNSUPPORTED, "unknown DiT variant");
    pf_dit_config_released(PF_DIT_MMDIT, &cfg);
    CHECK_ERR(pf_dit_create_random(&cfg, be, PF_I32, 1, &dit), PF_ERR_INVALID_ARG, "dtype");
    CHECK(dit == NULL);
    pf_backend_free(be);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_missing_and_misshaped_reported_together), PF_TEST(test_sd3_missing_pos_embed),
             PF_TEST(test_config_errors), PF_TEST(test_forward_errors_flux), PF_TEST(test_forward_errors_mmdit),
             PF_TEST(test_random_config_errors))
