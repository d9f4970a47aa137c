/*
 * The causal video VAE against the golden pack's vae_* cases (official code, fp32):
 * every case within max abs 1e-4 on the CPU; the chunked decode equal to the full
 * decode; chunked encode equal to the full encode; the .bin and .safetensors copies
 * of the weights identical; the memory prediction equal to what a decode uses.
 * Call options and sizes come from each case's metadata and tensors.
 */
#include "pf_json.h"
#include "pf_safetensors.h"
#include "pf_test.h"
#include "pf_vae.h"
#include "pf_weights.h"

#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    pf_st_file *f;
    pf_json *meta;
    char *model_dir;
} vcase;

static void vcase_close(vcase *c) {
    pf_st_close(c->f);
    pf_json_free(c->meta);
    free(c->model_dir);
    memset(c, 0, sizeof *c);
}

/* Open cases/NAME.safetensors; false (skip) when the pack or the case is absent. */
static bool vcase_open(const char *name, vcase *c) {
    memset(c, 0, sizeof *c);
    const char *pack = pf_test_golden_dir();
    if (!pack) return false;
    char path[1024];
    snprintf(path, sizeof path, "%s/cases/%s.safetensors", pack, name);
    if (!pf_file_exists(path)) return false;
    if (pf_st_open(path, &c->f) != PF_OK) return false;
    const char *m = pf_st_metadata(c->f, "case");
    const char *md = NULL;
    if (!m || pf_json_parse(m, strlen(m), name, &c->meta) != PF_OK || pf_json_str(c->meta, "model_dir", &md) != PF_OK) {
        vcase_close(c);
        return false;
    }
    c->model_dir = pf_path_join(pack, md);
    return true;
}

/* A case tensor as f32 (malloc'ed), its shape in s[5]. */
static float *vcase_f32(const vcase *c, const char *name, int64_t *s) {
    const pf_st_tensor *t = pf_st_find(c->f, name);
    if (!t) return NULL;
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) {
        n *= t->shape[i];
        if (s) s[i] = t->shape[i];
    }
    float *d = malloc((size_t)n * sizeof(float));
    if (d) pf_convert(d, PF_F32, t->data, t->dtype, (size_t)n);
    return d;
}

static double max_abs_diff(const float *a, const float *b, size_t n) {
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= m)) m = d; /* NaN propagates */
    }
    return m;
}

/* Options as the case's official call had them (signature defaults otherwise). */
static void vcase_opts(const vcase *c, bool encode, pf_vae_opts *o) {
    pf_status rc = PF_OK;
    if (encode) pf_vae_encode_opts_default(o);
    else pf_vae_opts_default(o);
    o->temporal_chunk = pf_json_opt_bool(c->meta, "temporal_chunk", false, &rc);
    o->tiling = pf_json_opt_bool(c->meta, "tiling", false, &rc);
    o->window = (int)pf_json_opt_int(c->meta, "window_size", encode ? 16 : 2, &rc);
    o->tile_sample_min_size = (int)pf_json_opt_int(c->meta, "tile_sample_min_size", 256, &rc);
}

static pf_backend *cpu_backend(void) {
    pf_backend *be = NULL;
    pf_backend_options bo = {.device = -1, .threads = 0, .reference = false};
    return pf_backend_create("cpu", &bo, &be) == PF_OK ? be : NULL;
}

static size_t video_elems(const pf_vae *v, int64_t T, int64_t h, int64_t w) {
    const pf_vae_config *c = pf_vae_get_config(v);
    return (size_t)(c->out_channels * (1 + 8 * (T - 1)) * 8 * h * 8 * w);
}

/* ---------------------------------------------------------------- cases */

static pf_test_result run_decode_case(const char *name) {
    vcase c;
    if (!vcase_open(name, &c)) SKIP("golden case %s not found", name);
    pf_backend *be = cpu_backend();
    CHECK(be);
    pf_vae *vae = NULL;
    CHECK_OK(pf_vae_load(c.model_dir, be, PF_F32, &vae));
    int64_t s[5], so[5];
    float *z = vcase_f32(&c, "in.latent", s), *want = vcase_f32(&c, "out.video", so);
    CHECK(z && want);
    size_t n = video_elems(vae, s[2], s[3], s[4]);
    CHECK(n == (size_t)(so[1] * so[2] * so[3] * so[4]));
    float *got = malloc(n * sizeof(float));
    pf_vae_opts o;
    vcase_opts(&c, false, &o);
    CHECK_OK(pf_vae_decode(vae, z, (int)s[2], (int)s[3], (int)s[4], &o, got));
    double m = max_abs_diff(got, want, n);
    fprintf(stderr, "  %s: max_abs=%.3g (chunk %d, window %d, tiling %d, tile %d)\n", name, m, o.temporal_chunk,
            o.window, o.tiling, o.tile_sample_min_size);
    CHECK(m <= 1e-4);
    free(got);
    free(z);
    free(want);
    pf_vae_free(vae);
    pf_backend_free(be);
    vcase_close(&c);
    return PF_T_PASS;
}

static pf_test_result run_encode_case(const char *name) {
    vcase c;
    if (!vcase_open(name, &c)) SKIP("golden case %s not found", name);
    pf_backend *be = cpu_backend();
    CHECK(be);
    pf_vae *vae = NULL;
    CHECK_OK(pf_vae_load(c.model_dir, be, PF_F32, &vae));
    int64_t s[5], sn[5];
    float *x = vcase_f32(&c, "in.video", s), *noise = vcase_f32(&c, "in.noise", sn);
    float *wm = vcase_f32(&c, "out.posterior_mean", NULL), *wl = vcase_f32(&c, "out.posterior_logvar", NULL);
    float *ws = vcase_f32(&c, "out.latent_sample", NULL);
    CHECK(x && noise && wm && wl && ws);
    size_t n = (size_t)(sn[1] * sn[2] * sn[3] * sn[4]);
    float *mean = malloc(n * sizeof(float)), *logvar = malloc(n * sizeof(float)), *smp = malloc(n * sizeof(float));
    pf_vae_opts o;
    vcase_opts(&c, true, &o);
    CHECK_OK(pf_vae_encode(vae, x, (int)s[2], (int)s[3], (int)s[4], &o, mean, logvar));
    pf_vae_posterior_sample(mean, logvar, noise, n, smp);
    double mm = max_abs_diff(mean, wm, n), ml = max_abs_diff(logvar, wl, n), msa = max_abs_diff(smp, ws, n);
    fprintf(stderr, "  %s: max_abs mean=%.3g logvar=%.3g sample=%.3g (tiling %d, tile %d)\n", name, mm, ml, msa,
            o.tiling, o.tile_sample_min_size);
    CHECK(mm <= 1e-4 && ml <= 1e-4 && msa <= 1e-4);
    free(mean);
    free(logvar);
    free(smp);
    free(x);
    free(noise);
    free(wm);
    free(wl);
    free(ws);
    pf_vae_free(vae);
    pf_backend_free(be);
    vcase_close(&c);
    return PF_T_PASS;
}

static pf_test_result test_decode_full(void) { return run_decode_case("vae_decode_full"); }
static pf_test_result test_decode_chunked(void) { return run_decode_case("vae_decode_chunked"); }
static pf_test_result test_decode_tiled(void) { return run_decode_case("vae_decode_tiled"); }
static pf_test_result test_encode(void) { return run_encode_case("vae_encode"); }
static pf_test_result test_encode_tiled(void) { return run_encode_case("vae_encode_tiled"); }

/* ---------------------------------------------------------------- consistency */

/* Chunked decodes (windows 1 and 2) against our own full decode. */
static pf_test_result test_chunked_matches_full(void) {
    vcase c;
    if (!vcase_open("vae_decode_full", &c)) SKIP("golden case vae_decode_full not found");
    pf_backend *be = cpu_backend();
    CHECK(be);
    pf_vae *vae = NULL;
    CHECK_OK(pf_vae_load(c.model_dir, be, PF_F32, &vae));
    int64_t s[5];
    float *z = vcase_f32(&c, "in.latent", s);
    CHECK(z);
    size_t n = video_elems(vae, s[2], s[3], s[4]);
    float *full = malloc(n * sizeof(float)), *ch = malloc(n * sizeof(float));
    pf_vae_opts o = {.temporal_chunk = false, .window = 1, .tiling = false, .tile_sample_min_size = 256};
    CHECK_OK(pf_vae_decode(vae, z, (int)s[2], (int)s[3], (int)s[4], &o, full));
    o.temporal_chunk = true;
    for (int win = 1; win <= 2; win++) {
        o.window = win;
        CHECK_OK(pf_vae_decode(vae, z, (int)s[2], (int)s[3], (int)s[4], &o, ch));
        double m = max_abs_diff(full, ch, n);
        fprintf(stderr, "  chunked (window %d) vs full: max_abs=%.3g\n", win, m);
        CHECK(m <= 1e-5);
    }
    free(full);
    free(ch);
    free(z);
    pf_vae_free(vae);
    pf_backend_free(be);
    vcase_close(&c);
    return PF_T_PASS;
}

/* chunk_encode (window 8 frames) of a 17-frame clip against the full encode. */
static pf_test_result test_chunked_encode_matches_full(void) {
    vcase c;
    if (!vcase_open("vae_encode", &c)) SKIP("golden case vae_encode not found");
    pf_backend *be = cpu_backend();
    CHECK(be);
    pf_vae *vae = NULL;
    CHECK_OK(pf_vae_load(c.model_dir, be, PF_F32, &vae));
    const int T = 17, H = 16, W = 24;
    size_t nx = (size_t)(3 * T * H * W), nl = (size_t)(16 * 3 * (H / 8) * (W / 8));
    float *x = malloc(nx * sizeof(float));
    uint32_t r = 12345;
    for (size_t i = 0; i < nx; i++) {
        r = r * 1664525u + 1013904223u;
        x[i] = (float)(r >> 8) / (float)(1u << 24) * 2.0f - 1.0f;
    }
    float *m0 = malloc(nl * sizeof(float)), *l0 = malloc(nl * sizeof(float));
    float *m1 = malloc(nl * sizeof(float)), *l1 = malloc(nl * sizeof(float));
    pf_vae_opts o = {.temporal_chunk = false, .window = 8, .tiling = false, .tile_sample_min_size = 256};
    CHECK_OK(pf_vae_encode(vae, x, T, H, W, &o, m0, l0));
    o.temporal_chunk = true;
    CHECK_OK(pf_vae_encode(vae, x, T, H, W, &o, m1, l1));
    double dm = max_abs_diff(m0, m1, nl), dl = max_abs_diff(l0, l1, nl);
    fprintf(stderr, "  chunked encode (window 8) vs full: mean %.3g logvar %.3g\n", dm, dl);
    CHECK(dm <= 1e-5 && dl <= 1e-5);
    free(x);
    free(m0);
    free(l0);
    free(m1);
    free(l1);
    pf_vae_free(vae);
    pf_backend_free(be);
    vcase_close(&c);
    return PF_T_PASS;
}

/* The PyTorch zip pickle and the safetensors copy: same tensors, same decode. */
static pf_test_result test_bin_matches_safetensors(void) {
    vcase c;
    if (!vcase_open("vae_decode_tiled", &c)) SKIP("golden case vae_decode_tiled not found");
    char *st_path = pf_path_join(c.model_dir, "diffusion_pytorch_model.safetensors");
    char *bin_path = pf_path_join(c.model_dir, "diffusion_pytorch_model.bin");
    if (!pf_file_exists(bin_path)) SKIP("no diffusion_pytorch_model.bin in %s", c.model_dir);
    pf_weights *ws = NULL, *wb = NULL;
    CHECK_OK(pf_weights_open_file(st_path, &ws));
    CHECK_OK(pf_weights_open_file(bin_path, &wb));
    CHECK(pf_weights_count(ws) == pf_weights_count(wb));
    int64_t n_file = 0; /* elements in the file: the config's parameter count */
    for (int i = 0; i < pf_weights_count(ws); i++) {
        const pf_weight_info *a = pf_weights_at(ws, i), *b = pf_weights_find(wb, a->name);
        CHECK_MSG(b, "%s missing from the .bin", a->name);
        CHECK(a->ndim == b->ndim);
        size_t n = 1;
        for (int d = 0; d < a->ndim; d++) {
            CHECK(a->shape[d] == b->shape[d]);
            n *= (size_t)a->shape[d];
        }
        n_file += (int64_t)n;
        float *va = malloc(n * sizeof(float)), *vb = malloc(n * sizeof(float));
        CHECK_OK(pf_weights_read(ws, a->name, PF_F32, va, n));
        CHECK_OK(pf_weights_read(wb, a->name, PF_F32, vb, n));
        CHECK_MSG(!memcmp(va, vb, n * sizeof(float)), "%s differs", a->name);
        free(va);
        free(vb);
    }
    pf_weights_close(ws);
    pf_weights_close(wb);

    /* a folder with config.json and only the .bin */
    char dir[1024], link[1200], cfg[1200];
    snprintf(dir, sizeof dir, "%s/vae_bin_only_%d", PF_TEST_BINARY_DIR, (int)getpid());
    mkdir(dir, 0755);
    snprintf(link, sizeof link, "%s/diffusion_pytorch_model.bin", dir);
    snprintf(cfg, sizeof cfg, "%s/config.json", dir);
    char *cfg_src = pf_path_join(c.model_dir, "config.json");
    CHECK(symlink(bin_path, link) == 0 && symlink(cfg_src, cfg) == 0);
    pf_backend *be = cpu_backend();
    pf_vae *va = NULL, *vb = NULL;
    pf_status rc_a = pf_vae_load(c.model_dir, be, PF_F32, &va), rc_b = pf_vae_load(dir, be, PF_F32, &vb);
    unlink(link);
    unlink(cfg);
    rmdir(dir);
    CHECK_OK(rc_a);
    CHECK_OK(rc_b);
    CHECK(pf_vae_get_config(va)->n_params == n_file);
    int64_t s[5];
    float *z = vcase_f32(&c, "in.latent", s);
    size_t n = video_elems(va, s[2], s[3], s[4]);
    float *xa = malloc(n * sizeof(float)), *xb = malloc(n * sizeof(float));
    pf_vae_opts o;
    vcase_opts(&c, false, &o);
    CHECK_OK(pf_vae_decode(va, z, (int)s[2], (int)s[3], (int)s[4], &o, xa));
    CHECK_OK(pf_vae_decode(vb, z, (int)s[2], (int)s[3], (int)s[4], &o, xb));
    CHECK(!memcmp(xa, xb, n * sizeof(float)));
    free(xa);
    free(xb);
    free(z);
    free(cfg_src);
    free(st_path);
    free(bin_path);
    pf_vae_free(va);
    pf_vae_free(vb);
    pf_backend_free(be);
    vcase_close(&c);
    return PF_T_PASS;
}

/* The dry plan predicts exactly the arena and caches a decode then uses. */
static pf_test_result test_predict_matches_decode(void) {
    vcase c;
    if (!vcase_open("vae_decode_tiled", &c)) SKIP("golden case vae_decode_tiled not found");
    pf_backend *be = cpu_backend();
    pf_vae *vae = NULL;
    CHECK_OK(pf_vae_load(c.model_dir, be, PF_F32, &vae));
    int64_t s[5];
    float *z = vcase_f32(&c, "in.latent", s);
    size_t n = video_elems(vae, s[2], s[3], s[4]);
    float *x = malloc(n * sizeof(float));
    pf_vae_opts opts[3];
    vcase_opts(&c, false, &opts[0]);
    opts[1] = opts[0];
    opts[1].tiling = false;
    opts[2] = opts[1];
    opts[2].temporal_chunk = false;
    for (int k = 0; k < 3; k++) {
        pf_vae_mem pm, um;
        size_t peak = 0;
        CHECK_OK(pf_vae_decode_predict_mem(vae, (int)s[2], (int)s[3], (int)s[4], &opts[k], &pm));
        CHECK_OK(pf_vae_decode_predict(vae, (int)s[2], (int)s[3], (int)s[4], &opts[k], &peak));
        CHECK_OK(pf_vae_decode(vae, z, (int)s[2], (int)s[3], (int)s[4], &opts[k], x));
        pf_vae_last_mem(vae, &um);
        fprintf(stderr, "  predicted arena %zu + caches %zu (%d graphs), used %zu + %zu (%d graphs)\n", pm.arena_bytes,
                pm.cache_bytes, pm.n_graphs, um.arena_bytes, um.cache_bytes, um.n_graphs);
        CHECK(pm.arena_bytes == um.arena_bytes && pm.cache_bytes == um.cache_bytes && pm.n_graphs == um.n_graphs);
        CHECK(peak == pm.arena_bytes + pm.cache_bytes);
        CHECK(pm.arena_bytes > 0 && (k == 2) == (pm.cache_bytes == 0));
    }
    free(x);
    free(z);
    pf_vae_free(vae);
    pf_backend_free(be);
    vcase_close(&c);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_decode_full), PF_TEST(test_decode_chunked), PF_TEST(test_decode_tiled), PF_TEST(test_encode),
             PF_TEST(test_encode_tiled), PF_TEST(test_chunked_matches_full), PF_TEST(test_chunked_encode_matches_full),
             PF_TEST(test_bin_matches_safetensors), PF_TEST(test_predict_matches_decode))
