/*
 * The VAE refuses what it cannot run, with messages that name the problem:
 * missing and mis-shaped tensors (modified copies of the golden VAE written with
 * pf_st_write, all problems in one message), bad config.json values, and bad
 * decode / encode arguments. Also: a small random VAE decodes the same chunked
 * and whole, and a released-size VAE on the meta backend plans but does not run.
 */
#include "pf_safetensors.h"
#include "pf_test.h"
#include "pf_vae.h"
#include "pf_weights.h"

#include <sys/stat.h>
#include <unistd.h>

static pf_backend *cpu_backend(void) {
    pf_backend *be = NULL;
    return pf_backend_create("cpu", NULL, &be) == PF_OK ? be : NULL;
}

/* A tiny config: 4 channels everywhere, 2 groups. */
static void tiny_config(pf_vae_config *c) {
    pf_vae_config_released(c);
    for (int i = 0; i < 4; i++) {
        c->enc_channels[i] = c->dec_channels[i] = 4;
        c->enc_layers[i] = 1;
        c->dec_layers[i] = 1;
    }
    c->norm_groups = c->dec_norm_groups = 2;
}

/* ---------------------------------------------------------------- weight files */

typedef struct {
    char dir[512];
    char *src_dir;
} tmpdir;

/* The golden miniFLUX VAE folder, or NULL. */
static char *golden_vae_dir(void) {
    const char *pack = pf_test_golden_dir();
    if (!pack) return NULL;
    char *d = pf_path_join(pack, "miniflux/causal_video_vae");
    char *f = d ? pf_path_join(d, "diffusion_pytorch_model.safetensors") : NULL;
    bool ok = f && pf_file_exists(f);
    free(f);
    if (!ok) {
        free(d);
        return NULL;
    }
    return d;
}

static void copy_file(const char *from, const char *to) {
    char *data = NULL;
    size_t n = 0;
    if (pf_read_file(from, &data, &n) != PF_OK) return;
    FILE *f = fopen(to, "wb");
    if (f) {
        fwrite(data, 1, n, f);
        fclose(f);
    }
    free(data);
}

/* Write dir/diffusion_pytorch_model.safetensors from the golden weights with
 * `drop` left out and `reshape` given a different first dimension. */
static pf_status write_modified(const char *src_dir, const char *dir, const char *drop, const char *reshape) {
    char *src = pf_path_join(src_dir, "diffusion_pytorch_model.safetensors");
    pf_st_file *f = NULL;
    pf_status rc = pf_st_open(src, &f);
    free(src);
    if (rc != PF_OK) return rc;
    int n = pf_st_count(f), k = 0;
    pf_st_write_tensor *ts = calloc((size_t)n, sizeof *ts);
    int64_t(*shapes)[PF_MAX_DIMS] = calloc((size_t)n, sizeof *shapes);
    for (int i = 0; i < n; i++) {
        const pf_st_tensor *t = pf_st_at(f, i);
        if (drop && !strcmp(t->name, drop)) continue;
        for (int d = 0; d < t->ndim; d++) shapes[k][d] = t->shape[d];
        ts[k] = (pf_st_write_tensor){t->name, t->dtype, t->ndim, shapes[k], t->data};
        if (reshape && !strcmp(t->name, reshape)) {
            /* half the rows: a smaller, still consistent tensor */
            shapes[k][0] /= 2;
        }
        k++;
    }
    char *out = pf_path_join(dir, "diffusion_pytorch_model.safetensors");
    rc = pf_st_write(out, ts, k, NULL, NULL, 0);
    free(out);
    free(ts);
    free(shapes);
    pf_st_close(f);
    char *cs = pf_path_join(src_dir, "config.json"), *cd = pf_path_join(dir, "config.json");
    copy_file(cs, cd);
    free(cs);
    free(cd);
    return rc;
}

static void make_dir(char *dir, size_t n, const char *tag) {
    snprintf(dir, n, "%s/vae_errors_%s_%d", PF_TEST_BINARY_DIR, tag, (int)getpid());
    mkdir(dir, 0755);
}

static void remove_dir(const char *dir) {
    char p[700];
    snprintf(p, sizeof p, "%s/diffusion_pytorch_model.safetensors", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/config.json", dir);
    unlink(p);
    rmdir(dir);
}

static pf_test_result test_missing_and_misshaped(void) {
    char *src = golden_vae_dir();
    if (!src) SKIP("golden VAE not found");
    char dir[512];
    make_dir(dir, sizeof dir, "tensors");
    const char *drop = "decoder.mid_block.attentions.0.to_q.weight";
    const char *bad = "decoder.up_blocks.1.upsamplers.0.conv.conv.weight";
    CHECK_OK(write_modified(src, dir, drop, bad));
    pf_backend *be = cpu_backend();
    pf_vae *vae = NULL;
    pf_status rc = pf_vae_load(dir, be, PF_F32, &vae);
    fprintf(stderr, "  %s\n", pf_last_error());
    CHECK(rc != PF_OK && vae == NULL);
    CHECK(strstr(pf_last_error(), drop) != NULL);
    CHECK(strstr(pf_last_error(), bad) != NULL);
    remove_dir(dir);

    /* one problem alone: its status */
    make_dir(dir, sizeof dir, "missing");
    CHECK_OK(write_modified(src, dir, "encoder.conv_out.conv.bias", NULL));
    CHECK_ERR(pf_vae_load(dir, be, PF_F32, &vae), PF_ERR_NOT_FOUND, "encoder.conv_out.conv.bias");
    remove_dir(dir);
    make_dir(dir, sizeof dir, "shape");
    CHECK_OK(write_modified(src, dir, NULL, "quant_conv.conv.weight"));
    CHECK_ERR(pf_vae_load(dir, be, PF_F32, &vae), PF_ERR_SHAPE, "quant_conv.conv.weight");
    remove_dir(dir);
    pf_backend_free(be);
    free(src);
    return PF_T_PASS;
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static pf_test_result test_bad_config(void) {
    char dir[512], cfg[600];
    make_dir(dir, sizeof dir, "config");
    snprintf(cfg, sizeof cfg, "%s/config.json", dir);
    pf_backend *be = cpu_backend();
    pf_vae *vae = NULL;
    static const struct {
        const char *json, *needle;
    } bad[] = {
        {"{\"encoder_out_channels\": 16, \"decoder_in_channels\": 16, \"decoder_block_out_channels\": [4, 8, 8]}",
         "decoder_block_out_channels"},
        {"{\"encoder_out_channels\": 16, \"decoder_in_channels\": 16, \"encoder_norm_num_groups\": 3}",
         "encoder_block_out_channels"},
        {"{\"encoder_out_channels\": 16, \"decoder_in_channels\": 8}", "decoder_in_channels"},
        {"{\"encoder_out_channels\": 16, \"decoder_in_channels\": 16, \"decoder_act_fn\": \"gelu\"}", "decoder_act_fn"},
        {"{\"encoder_out_channels\": 16, \"decoder_in_channels\": 16, \"decoder_up_block_types\": "
         "[\"UpDecoderBlock2D\", \"UpDecoderBlock2D\", \"UpDecoderBlock2D\", \"UpDecoderBlock2D\"]}",
         "UpDecoderBlock2D"},
        {"{\"encoder_out_channels\": 16, \"decoder_in_channels\": 16, \"decoder_layers_per_block\": [3, 3, 0, 3]}",
         "layers_per_block"},
        {"{\"encoder_out_channels\": \"16\"}", "encoder_out_channels"},
    };
    for (size_t i = 0; i < PF_ARRAY_LEN(bad); i++) {
        write_text(cfg, bad[i].json);
        pf_status rc = pf_vae_load(dir, be, PF_F32, &vae);
        fprintf(stderr, "  %s\n", pf_last_error());
        CHECK(rc != PF_OK && !vae);
        CHECK_MSG(strstr(pf_last_error(), bad[i].needle), "message lacks '%s'", bad[i].needle);
        CHECK(strstr(pf_last_error(), "config.json"));
    }
    unlink(cfg);
    CHECK_ERR(pf_vae_load(dir, be, PF_F32, &vae), PF_ERR_IO, "config.json");
    rmdir(dir);
    pf_backend_free(be);
    return PF_T_PASS;
}

/* ---------------------------------------------------------------- arguments */

static pf_test_result test_bad_arguments(void) {
    pf_backend *be = cpu_backend();
    pf_vae_config cfg;
    tiny_config(&cfg);
    pf_vae *vae = NULL;
    CHECK_OK(pf_vae_create_random(&cfg, be, PF_F32, 7, &vae));
    /* latent 2 frames of 2 x 3 */
    float z[16 * 2 * 2 * 3] = {0}, *video = calloc(3 * 9 * 16 * 24, sizeof(float));
    pf_vae_opts o;
    pf_vae_opts_default(&o);
    CHECK_ERR(pf_vae_decode(vae, z, 0, 2, 2, &o, video), PF_ERR_INVALID_ARG, "latent size");
    CHECK_ERR(pf_vae_decode(vae, z, 2, 0, 2, &o, video), PF_ERR_INVALID_ARG, "latent size");
    CHECK_ERR(pf_vae_decode(vae, NULL, 2, 2, 2, &o, video), PF_ERR_INVALID_ARG, "NULL");
    o.window = 0;
    CHECK_ERR(pf_vae_decode(vae, z, 2, 2, 2, &o, video), PF_ERR_INVALID_ARG, "window");
    o.window = -3;
    CHECK_ERR(pf_vae_decode(vae, z, 2, 2, 2, &o, video), PF_ERR_INVALID_ARG, "window");
    pf_vae_opts_default(&o);
    o.tile_sample_min_size = 0;
    CHECK_ERR(pf_vae_decode(vae, z, 2, 2, 2, &o, video), PF_ERR_INVALID_ARG, "tile size");
    o.tile_sample_min_size = 8; /* tiles of 1 latent would not advance */
    CHECK_ERR(pf_vae_decode(vae, z, 2, 2, 3, &o, video), PF_ERR_INVALID_ARG, "too small");
    o.tile_sample_min_size = 16; /* 12-pixel crops every 8 pixels: 32 pixels for 3 latents */
    CHECK_ERR(pf_vae_decode(vae, z, 2, 2, 3, &o, video), PF_ERR_INVALID_ARG, "multiple of 32");
    size_t peak = 0;
    CHECK_ERR(pf_vae_decode_predict(vae, 2, 2, 3, &o, &peak), PF_ERR_INVALID_ARG, "multiple of 32");
    o.tiling = false; /* the tile size does not matter without tiling */
    CHECK_OK(pf_vae_decode(vae, z, 2, 2, 3, &o, video));

    float mean[16 * 2 * 2 * 2], logvar[16 * 2 * 2 * 2];
    pf_vae_encode_opts_default(&o);
    CHECK_ERR(pf_vae_encode(vae, video, 4, 16, 16, &o, mean, logvar), PF_ERR_INVALID_ARG, "1 + 8 k");
    CHECK_ERR(pf_vae_encode(vae, video, 9, 12, 16, &o, mean, logvar), PF_ERR_INVALID_ARG, "multiples of 8");
    CHECK_ERR(pf_vae_encode(vae, video, 9, 16, 16, &o, NULL, logvar), PF_ERR_INVALID_ARG, "NULL");
    o.temporal_chunk = true;
    o.window = 0;
    CHECK_ERR(pf_vae_encode(vae, video, 9, 16, 16, &o, mean, logvar), PF_ERR_INVALID_ARG, "window");
    o.window = 3; /* chunks of 3 frames break the 8-frame latent grouping */
    CHECK_ERR(pf_vae_encode(vae, video, 9, 16, 16, &o, mean, logvar), PF_ERR_INVALID_ARG, "latent frames");
    o.window = 8;
    CHECK_OK(pf_vae_encode(vae, video, 9, 16, 16, &o, mean, logvar));

    pf_vae *v2 = NULL;
    CHECK_ERR(pf_vae_create_random(&cfg, be, PF_I32, 1, &v2), PF_ERR_UNSUPPORTED, "dtype");
    cfg.dec_channels[2] = 5;
    CHECK_ERR(pf_vae_create_random(&cfg, be, PF_F32, 1, &v2), PF_ERR_FORMAT, "decoder_block_out_channels[2]");
    free(video);
    pf_vae_free(vae);
    pf_backend_free(be);
    return PF_T_PASS;
}

/* ---------------------------------------------------------------- random models */

static double max_abs_diff(const float *a, const float *b, size_t n) {
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= m)) m = d;
    }
    return m;
}

static pf_test_result random_chunked_case(pf_vae *vae, int T);

/* Chunked decodes equal the whole-clip decode (a random tiny VAE; 1, 2 and 3 latent
 * frames: a single-frame first chunk caches a zero frame and the frame itself). */
static pf_test_result test_random_chunked_equals_full(void) {
    pf_backend *be = cpu_backend();
    pf_vae_config cfg;
    tiny_config(&cfg);
    pf_vae *vae = NULL;
    CHECK_OK(pf_vae_create_random(&cfg, be, PF_F32, 11, &vae));
    CHECK(pf_vae_get_config(vae)->n_params > 0);
    for (int T = 1; T <= 3; T++) {
        pf_test_result r = random_chunked_case(vae, T);
        if (r != PF_T_PASS) return r;
    }
    pf_vae_free(vae);
    pf_backend_free(be);
    return PF_T_PASS;
}

static pf_test_result random_chunked_case(pf_vae *vae, int T) {
    const int h = 2, w = 3;
    size_t nz = (size_t)(16 * T * h * w), nv = (size_t)(3 * (1 + 8 * (T - 1)) * 8 * h * 8 * w);
    float *z = malloc(nz * sizeof(float)), *a = malloc(nv * sizeof(float)), *b = malloc(nv * sizeof(float));
    for (size_t i = 0; i < nz; i++) z[i] = (float)sin(0.37 * (double)i);
    pf_vae_opts o = {.temporal_chunk = false, .window = 1, .tiling = false, .tile_sample_min_size = 256};
    CHECK_OK(pf_vae_decode(vae, z, T, h, w, &o, a));
    bool finite = true;
    for (size_t i = 0; i < nv; i++) finite = finite && isfinite(a[i]);
    CHECK(finite);
    o.temporal_chunk = true;
    for (int win = 1; win <= 3; win++) {
        o.window = win;
        CHECK_OK(pf_vae_decode(vae, z, T, h, w, &o, b));
        double m = max_abs_diff(a, b, nv);
        fprintf(stderr, "  T %d, window %d: max_abs %.3g\n", T, win, m);
        CHECK(m <= 1e-5);
    }
    free(z);
    free(a);
    free(b);
    return PF_T_PASS;
}

static int count_progress(void *user, int done, int total) {
    int *n = user;
    n[0]++;
    n[1] = total;
    return done < 2; /* cancel after the second chunk */
}

static bool progress_cb(void *user, int done, int total) { return count_progress(user, done, total) != 0; }

static pf_test_result test_meta_plan_and_cancel(void) {
    pf_backend *be = cpu_backend();
    pf_vae_config cfg;
    pf_vae_config_released(&cfg);
    CHECK(cfg.n_params > 300000000 && cfg.n_params < 400000000);
    pf_vae *vae = NULL;
    pf_backend *meta = NULL;
    CHECK_OK(pf_backend_meta_create(&meta));
    CHECK_OK(pf_vae_create_random(&cfg, meta, PF_BF16, 1, &vae));
    pf_vae_mem m;
    pf_vae_opts o;
    pf_vae_opts_default(&o);
    /* 5 s at 384p: 16 latent frames of 48 x 80 */
    CHECK_OK(pf_vae_decode_predict_mem(vae, 16, 48, 80, &o, &m));
    fprintf(stderr, "  384p plan: arena %zu, caches %zu, %d graphs, weights %zu\n", m.arena_bytes, m.cache_bytes,
            m.n_graphs, m.weight_bytes);
    /* the weights: n_params values and some alignment */
    CHECK(m.arena_bytes > 0 && m.cache_bytes > 0 && m.weight_bytes >= (size_t)cfg.n_params * 2 &&
          m.weight_bytes < (size_t)cfg.n_params * 2 + (1u << 20));
    float z[16] = {0}, v[3 * 64];
    CHECK_ERR(pf_vae_decode(vae, z, 1, 1, 1, &o, v), PF_ERR_UNSUPPORTED, "meta");
    pf_vae_free(vae);
    pf_backend_free(meta);

    /* progress and cancellation */
    tiny_config(&cfg);
    CHECK_OK(pf_vae_create_random(&cfg, be, PF_F32, 3, &vae));
    float zz[16 * 4], *vid = malloc(3 * 25 * 64 * sizeof(float));
    for (int i = 0; i < 64; i++) zz[i] = 0.1f * (float)i;
    int seen[2] = {0, 0};
    o.progress = progress_cb;
    o.progress_user = seen;
    /* 4 latents, window 1: chunks of 2, 1 and 1 */
    CHECK_ERR(pf_vae_decode(vae, zz, 4, 1, 1, &o, vid), PF_ERR_CANCELLED, "cancelled");
    CHECK(seen[0] == 2 && seen[1] == 3);
    free(vid);
    pf_vae_free(vae);
    pf_backend_free(be);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_missing_and_misshaped), PF_TEST(test_bad_config), PF_TEST(test_bad_arguments),
             PF_TEST(test_random_chunked_equals_full), PF_TEST(test_meta_plan_and_cancel))
