/* The public API (include/pflow.h) on the golden pack's tiny model folders. */
#include "pflow.h"
#include "pf_pipeline.h"
#include "pf_test.h"
#include "pf_tiny_text.h"

#include <ftw.h>
#include <unistd.h>

static char *tiny_root(const char *variant) {
    const char *pack = pf_test_golden_dir();
    if (!pack) return NULL;
    char *root = pf_path_join(pack, variant);
    if (!root || !pf_dir_exists(root)) {
        free(root);
        return NULL;
    }
    return root;
}

static pf_model *open_tiny(const char *variant) {
    char *root = tiny_root(variant);
    if (!root) return NULL;
    pf_model_options o;
    pf_model_options_default(&o);
    o.backend = "cpu";
    o.threads = 1;
    pf_model *m = NULL;
    if (pf_model_open(root, &o, &m) != PF_OK) fprintf(stderr, "  open %s: %s\n", root, pf_last_error());
    free(root);
    return m;
}

/* Random embeddings of the model's sizes: negative 3 valid tokens, positive 7. */
typedef struct {
    float hidden[2][16 * 64], pooled[2][64];
    int32_t mask[2][16];
    pf_embeddings e[2];
} embeds;

static void make_embeds(embeds *x, const pf_model_info *info) {
    for (int b = 0; b < 2; b++) {
        for (int i = 0; i < 16 * info->text_dim; i++) x->hidden[b][i] = sinf(0.37f * i + b);
        for (int i = 0; i < info->pooled_dim; i++) x->pooled[b][i] = cosf(0.11f * i - b);
        for (int i = 0; i < 16; i++) x->mask[b][i] = i < (b ? 7 : 3);
        x->e[b] = (pf_embeddings){.tokens = 16, .text_dim = info->text_dim, .pooled_dim = info->pooled_dim,
                                  .hidden = x->hidden[b], .mask = x->mask[b], .pooled = x->pooled[b]};
    }
}

static void small(pf_generate_params *p, pf_mode mode) {
    pf_generate_params_default(p, mode);
    p->width = 64;
    p->height = 64;
    p->temp = mode == PF_MODE_T2I ? 1 : 2;
    for (int s = 0; s < 3; s++) p->steps[s] = p->video_steps[s] = 1;
}

static pf_test_result test_open_errors(void) {
    pf_model *m = NULL;
    CHECK_ERR(pf_model_open("/nonexistent/pflow/model", NULL, &m), PF_ERR_NOT_FOUND, "does not exist");
    CHECK(m == NULL);
    char *root = tiny_root("miniflux");
    if (!root) SKIP("no golden pack");
    pf_model_options o;
    pf_model_options_default(&o);
    o.backend = "cpu";
    o.resolution = "768p";
    CHECK_ERR(pf_model_open(root, &o, &m), PF_ERR_NOT_FOUND, "it has: 384p");
    o.resolution = "1080p";
    CHECK_ERR(pf_model_open(root, &o, &m), PF_ERR_INVALID_ARG, "1080p");
    o.resolution = NULL;
    o.backend = "no-such-backend";
    CHECK(pf_model_open(root, &o, &m) != PF_OK);
    CHECK(m == NULL);
    free(root);
    return PF_T_PASS;
}

static pf_test_result test_info(void) {
    pf_model *m = open_tiny("miniflux");
    if (!m) SKIP("no golden pack");
    pf_model_info info;
    CHECK_OK(pf_model_get_info(m, &info));
    CHECK(info.variant == PF_VARIANT_MINIFLUX);
    CHECK(!strcmp(info.resolution, "384p"));
    CHECK(info.default_width == 640 && info.default_height == 384 && info.max_temp == 16);
    CHECK(!strcmp(info.backend, "cpu"));
    CHECK(info.precision == PF_PRECISION_F32); /* AUTO on the CPU */
    CHECK(info.text_dim > 0 && info.pooled_dim > 0 && info.weight_bytes > 0);
    pf_model_free(m);
    m = open_tiny("sd3");
    CHECK(m);
    CHECK_OK(pf_model_get_info(m, &info));
    CHECK(info.variant == PF_VARIANT_SD3);
    pf_model_free(m);
    return PF_T_PASS;
}

static pf_test_result test_bad_arguments(void) {
    pf_model *m = open_tiny("miniflux");
    if (!m) SKIP("no golden pack");
    pf_model_info info;
    CHECK_OK(pf_model_get_info(m, &info));
    embeds x;
    make_embeds(&x, &info);
    pf_prompt *pr = NULL;
    pf_embeddings bad = x.e[1];
    bad.text_dim = info.text_dim + 1;
    CHECK_ERR(pf_prompt_from_embeddings(m, &bad, &x.e[0], &pr), PF_ERR_SHAPE, "text dim");
    bad = x.e[0];
    bad.tokens = 8;
    CHECK_ERR(pf_prompt_from_embeddings(m, &x.e[1], &bad, &pr), PF_ERR_SHAPE, "tokens");
    CHECK_OK(pf_prompt_from_embeddings(m, &x.e[1], &x.e[0], &pr));
    pf_generate_params p;
    pf_video v;
    small(&p, PF_MODE_T2V);
    p.width = 650;
    CHECK_ERR(pf_generate(m, pr, NULL, &p, &v), PF_ERR_INVALID_ARG, "nearest valid: 640 or 704");
    CHECK(v.rgb == NULL);
    small(&p, PF_MODE_T2V);
    p.height = 100;
    CHECK_ERR(pf_generate(m, pr, NULL, &p, &v), PF_ERR_INVALID_ARG, "height 100");
    small(&p, PF_MODE_T2V);
    p.temp = 0;
    CHECK_ERR(pf_generate(m, pr, NULL, &p, &v), PF_ERR_INVALID_ARG, "temp 0");
    small(&p, PF_MODE_T2I);
    p.temp = 3;
    CHECK_ERR(pf_generate(m, pr, NULL, &p, &v), PF_ERR_INVALID_ARG, "temp 3");
    small(&p, PF_MODE_I2V);
    CHECK_ERR(pf_generate(m, pr, NULL, &p, &v), PF_ERR_INVALID_ARG, "needs an image");
    uint8_t img[64 * 128 * 3] = {0};
    pf_rgb_image im = {.width = 128, .height = 64, .rgb = img};
    CHECK_ERR(pf_generate(m, pr, &im, &p, &v), PF_ERR_INVALID_ARG, "the image is 128x64");
    small(&p, PF_MODE_T2V);
    p.vae_tile_size = 48;
    CHECK_ERR(pf_generate(m, pr, NULL, &p, &v), PF_ERR_INVALID_ARG, "tile size 48");
    small(&p, PF_MODE_T2V);
    p.noise_file = "/nonexistent/noise.safetensors";
    CHECK_ERR(pf_generate(m, pr, NULL, &p, &v), PF_ERR_IO, "noise file");
    pf_prompt_free(pr);
    pf_model_free(m);
    return PF_T_PASS;
}

/* The precisions AUTO resolves to, from a backend's info: the DiT's activations are bf16 only
 * with bf16 weights on a GPU backend (cuda, vulkan). */
static pf_test_result test_precision_resolution(void) {
    pf_backend_info cpu = {.name = "cpu"}, cuda = {.name = "cuda"}, vk = {.name = "vulkan"}, meta = {.name = "meta"};
    CHECK(!pf_api_backend_is_gpu(&cpu) && !pf_api_backend_is_gpu(&meta) && !pf_api_backend_is_gpu(NULL));
    CHECK(pf_api_backend_is_gpu(&cuda) && pf_api_backend_is_gpu(&vk));
    /* weights */
    CHECK(pf_api_weight_dtype(PF_PRECISION_AUTO, &cpu) == PF_F32);
    CHECK(pf_api_weight_dtype(PF_PRECISION_AUTO, NULL) == PF_F32);
    CHECK(pf_api_weight_dtype(PF_PRECISION_AUTO, &cuda) == PF_BF16);
    CHECK(pf_api_weight_dtype(PF_PRECISION_AUTO, &vk) == PF_BF16);
    CHECK(pf_api_weight_dtype(PF_PRECISION_F32, &cuda) == PF_F32);
    CHECK(pf_api_weight_dtype(PF_PRECISION_BF16, &cpu) == PF_BF16);
    /* activations: AUTO */
    CHECK(pf_api_act_dtype(PF_PRECISION_AUTO, PF_F32, &cpu) == PF_F32);
    CHECK(pf_api_act_dtype(PF_PRECISION_AUTO, PF_BF16, &cpu) == PF_F32);
    CHECK(pf_api_act_dtype(PF_PRECISION_AUTO, PF_BF16, NULL) == PF_F32);
    CHECK(pf_api_act_dtype(PF_PRECISION_AUTO, PF_BF16, &meta) == PF_F32);
    CHECK(pf_api_act_dtype(PF_PRECISION_AUTO, PF_BF16, &cuda) == PF_BF16);
    CHECK(pf_api_act_dtype(PF_PRECISION_AUTO, PF_BF16, &vk) == PF_BF16);
    CHECK(pf_api_act_dtype(PF_PRECISION_AUTO, PF_F32, &cuda) == PF_F32); /* --dtype f32 on a GPU */
    CHECK(pf_api_act_dtype(PF_PRECISION_AUTO, PF_F32, &vk) == PF_F32);
    /* the default options on a GPU: bf16 weights, hence bf16 activations */
    CHECK(pf_api_act_dtype(PF_PRECISION_AUTO, pf_api_weight_dtype(PF_PRECISION_AUTO, &cuda), &cuda) == PF_BF16);
    /* explicit choices win */
    CHECK(pf_api_act_dtype(PF_PRECISION_F32, PF_BF16, &cuda) == PF_F32);
    CHECK(pf_api_act_dtype(PF_PRECISION_BF16, PF_F32, &cpu) == PF_BF16);
    CHECK(pf_api_act_dtype(PF_PRECISION_BF16, PF_F32, &cuda) == PF_BF16);
    pf_model_options o;
    pf_model_options_default(&o);
    CHECK(o.precision == PF_PRECISION_AUTO && o.activations == PF_PRECISION_AUTO);
    /* the CPU backend says its device is the host CPU */
    pf_backend *be = NULL;
    CHECK_OK(pf_backend_create("cpu", NULL, &be));
    pf_backend_info bi;
    pf_backend_get_info(be, &bi);
    pf_backend_free(be);
    CHECK(bi.host_cpu);
    return PF_T_PASS;
}

/* The activation option on a real model: reported by pf_model_get_info, bf16 generates on
 * the CPU, bad values are refused. */
static pf_test_result test_activations(void) {
    char *root = tiny_root("miniflux");
    if (!root) SKIP("no golden pack");
    pf_model_options o;
    pf_model_options_default(&o);
    o.backend = "cpu";
    o.threads = 1;
    pf_model *m = NULL;
    o.activations = (pf_precision)7;
    CHECK_ERR(pf_model_open(root, &o, &m), PF_ERR_INVALID_ARG, "activation precision 7");
    CHECK(m == NULL);
    pf_video v[2];
    for (int k = 0; k < 2; k++) {
        o.activations = k ? PF_PRECISION_BF16 : PF_PRECISION_AUTO;
        CHECK_OK(pf_model_open(root, &o, &m));
        pf_model_info info;
        CHECK_OK(pf_model_get_info(m, &info));
        CHECK(info.precision == PF_PRECISION_F32);
        CHECK(info.activations == (k ? PF_PRECISION_BF16 : PF_PRECISION_F32)); /* AUTO on the CPU: f32 */
        embeds x;
        make_embeds(&x, &info);
        pf_prompt *pr = NULL;
        CHECK_OK(pf_prompt_from_embeddings(m, &x.e[1], &x.e[0], &pr));
        pf_generate_params p;
        small(&p, PF_MODE_T2V);
        p.seed = 99;
        CHECK_OK(pf_generate(m, pr, NULL, &p, &v[k]));
        CHECK(v[k].frames == 9 && v[k].width == 64 && v[k].height == 64);
        pf_prompt_free(pr);
        pf_model_free(m);
        m = NULL;
    }
    /* the bf16 DiT ran: its rounding shows in the frames */
    CHECK(memcmp(v[0].rgb, v[1].rgb, (size_t)9 * 64 * 64 * 3) != 0);
    pf_video_free(&v[0]);
    pf_video_free(&v[1]);
    free(root);
    return PF_T_PASS;
}

typedef struct {
    int calls, cancel_at, last_unit;
    bool saw_decode;
} progress_log;

static bool on_progress(void *user, const pf_progress *pr) {
    progress_log *l = user;
    if (!strcmp(pr->phase, "decode")) {
        l->saw_decode = true;
        return true;
    }
    l->calls++;
    l->last_unit = pr->unit;
    return !(l->cancel_at && l->calls >= l->cancel_at);
}

/* Same seed twice: identical frames; another seed: different frames; stats filled. */
static pf_test_result test_seeded_determinism(void) {
    pf_model *m = open_tiny("miniflux");
    if (!m) SKIP("no golden pack");
    pf_model_info info;
    CHECK_OK(pf_model_get_info(m, &info));
    embeds x;
    make_embeds(&x, &info);
    pf_prompt *pr = NULL;
    CHECK_OK(pf_prompt_from_embeddings(m, &x.e[1], &x.e[0], &pr));
    pf_generate_params p;
    small(&p, PF_MODE_T2V);
    p.seed = 1234;
    progress_log log = {0};
    p.progress = on_progress;
    p.progress_user = &log;
    pf_video a, b, c;
    CHECK_OK(pf_generate(m, pr, NULL, &p, &a));
    CHECK(a.frames == 9 && a.width == 64 && a.height == 64 && a.fps == 24.0f);
    CHECK(log.calls == 6 && log.last_unit == 1 && log.saw_decode);
    pf_generate_stats st;
    CHECK_OK(pf_model_last_stats(m, &st));
    CHECK(st.dit_calls == 6 && st.batch == 2);
    CHECK(st.total_s > 0 && st.vae_decode_s > 0 && st.dit_s[0] > 0);
    CHECK(st.device_peak_bytes >= st.weight_bytes && st.host_peak_bytes > 0);
    CHECK_OK(pf_generate(m, pr, NULL, &p, &b));
    CHECK(memcmp(a.rgb, b.rgb, (size_t)a.frames * a.width * a.height * 3) == 0);
    p.seed = 1235;
    CHECK_OK(pf_generate(m, pr, NULL, &p, &c));
    CHECK(memcmp(a.rgb, c.rgb, (size_t)a.frames * a.width * a.height * 3) != 0);
    pf_video_free(&a);
    pf_video_free(&b);
    pf_video_free(&c);
    CHECK(a.rgb == NULL);
    pf_prompt_free(pr);
    pf_model_free(m);
    return PF_T_PASS;
}

static pf_test_result test_cancel(void) {
    pf_model *m = open_tiny("sd3");
    if (!m) SKIP("no golden pack");
    pf_model_info info;
    CHECK_OK(pf_model_get_info(m, &info));
    embeds x;
    make_embeds(&x, &info);
    pf_prompt *pr = NULL;
    CHECK_OK(pf_prompt_from_embeddings(m, &x.e[1], &x.e[0], &pr));
    pf_generate_params p;
    small(&p, PF_MODE_T2V);
    progress_log log = {.cancel_at = 2};
    p.progress = on_progress;
    p.progress_user = &log;
    pf_video v;
    CHECK_ERR(pf_generate(m, pr, NULL, &p, &v), PF_ERR_CANCELLED, "cancelled");
    CHECK(log.calls == 2 && v.rgb == NULL);
    pf_generate_stats st;
    CHECK_OK(pf_model_last_stats(m, &st));
    CHECK(st.dit_calls == 2);
    /* the model stays usable */
    log = (progress_log){0};
    CHECK_OK(pf_generate(m, pr, NULL, &p, &v));
    CHECK(v.frames == 9);
    pf_video_free(&v);
    pf_prompt_free(pr);
    pf_model_free(m);
    return PF_T_PASS;
}

/* Image to video and text to image run and give the documented frame counts. */
static pf_test_result test_i2v_t2i(void) {
    pf_model *m = open_tiny("miniflux");
    if (!m) SKIP("no golden pack");
    pf_model_info info;
    CHECK_OK(pf_model_get_info(m, &info));
    embeds x;
    make_embeds(&x, &info);
    pf_prompt *pr = NULL;
    CHECK_OK(pf_prompt_from_embeddings(m, &x.e[1], &x.e[0], &pr));
    static uint8_t img[64 * 64 * 3];
    for (int i = 0; i < 64 * 64 * 3; i++) img[i] = (uint8_t)(i * 13);
    pf_rgb_image im = {.width = 64, .height = 64, .rgb = img};
    pf_generate_params p;
    small(&p, PF_MODE_I2V);
    p.width = p.height = 0; /* the image's size */
    pf_video v;
    CHECK_OK(pf_generate(m, pr, &im, &p, &v));
    CHECK(v.frames == 9 && v.width == 64);
    pf_generate_stats st;
    CHECK_OK(pf_model_last_stats(m, &st));
    CHECK(st.dit_calls == 3 && st.vae_encode_s > 0);
    pf_video_free(&v);
    small(&p, PF_MODE_T2I);
    CHECK_OK(pf_generate(m, pr, NULL, &p, &v));
    CHECK(v.frames == 1 && v.height == 64);
    pf_video_free(&v);
    pf_prompt_free(pr);
    pf_model_free(m);
    return PF_T_PASS;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* A released-style root: the golden miniFLUX DiT and VAE (linked) and tiny random text
 * encoders with the real tokenizers, sized for that DiT. */
static pf_test_result test_text_prompts(void) {
    const char *pack = pf_test_golden_dir();
    char *src = tiny_root("miniflux");
    if (!src) SKIP("no golden pack");
    char tok[1024], root[512], a[1100], b[1100];
    snprintf(tok, sizeof tok, "%s/tokenizers", pack);
    if (!pf_dir_exists(tok)) {
        free(src);
        SKIP("no golden tokenizers");
    }
    snprintf(root, sizeof root, "%s/test_api_model_XXXXXX", PF_TEST_BINARY_DIR);
    CHECK(mkdtemp(root));
    snprintf(a, sizeof a, "%s/diffusion_transformer_384p", src);
    snprintf(b, sizeof b, "%s/diffusion_transformer_384p", root);
    CHECK(symlink(a, b) == 0);
    snprintf(a, sizeof a, "%s/causal_video_vae", src);
    snprintf(b, sizeof b, "%s/causal_video_vae", root);
    CHECK(symlink(a, b) == 0);
    free(src);

    /* without text encoders: a clear error */
    pf_model_options o;
    pf_model_options_default(&o);
    o.backend = "cpu";
    pf_model *m = NULL;
    CHECK_OK(pf_model_open(root, &o, &m));
    pf_model_info info;
    CHECK_OK(pf_model_get_info(m, &info));
    CHECK(!info.has_text_encoders);
    pf_prompt *pr = NULL;
    CHECK_ERR(pf_prompt_encode(m, "a cat", NULL, &pr), PF_ERR_NOT_FOUND, "no text encoders");
    pf_model_free(m);

    pf_tiny_text_spec spec;
    CHECK_OK(pf_tiny_text_spec_default(PF_DIT_FLUX, info.text_dim, info.pooled_dim, &spec));
    CHECK_OK(pf_tiny_text_write_root(root, PF_DIT_FLUX, &spec, tok, 7));
    CHECK_OK(pf_model_open(root, &o, &m));
    CHECK_OK(pf_model_get_info(m, &info));
    CHECK(info.has_text_encoders);
    pf_prompt *p1 = NULL, *p2 = NULL, *p3 = NULL;
    CHECK_OK(pf_prompt_encode(m, "a red fox running through snow", NULL, &p1));
    CHECK_OK(pf_prompt_encode(m, "a red fox running through snow", NULL, &p2));
    CHECK_OK(pf_prompt_encode(m, "a lighthouse at night", "", &p3));
    pf_generate_params p;
    small(&p, PF_MODE_T2V);
    p.seed = 5;
    pf_video v1, v2, v3;
    CHECK_OK(pf_generate(m, p1, NULL, &p, &v1));
    CHECK_OK(pf_generate(m, p2, NULL, &p, &v2));
    CHECK_OK(pf_generate(m, p3, NULL, &p, &v3));
    size_t n = (size_t)v1.frames * v1.width * v1.height * 3;
    CHECK(memcmp(v1.rgb, v2.rgb, n) == 0); /* the same prompt encodes the same */
    CHECK(memcmp(v1.rgb, v3.rgb, n) != 0); /* another prompt conditions differently */
    pf_video_free(&v1);
    pf_video_free(&v2);
    pf_video_free(&v3);
    pf_prompt_free(p1);
    pf_prompt_free(p2);
    pf_prompt_free(p3);
    pf_model_free(m);
    nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_open_errors), PF_TEST(test_info), PF_TEST(test_bad_arguments),
             PF_TEST(test_precision_resolution), PF_TEST(test_activations), PF_TEST(test_seeded_determinism),
             PF_TEST(test_cancel), PF_TEST(test_i2v_t2i), PF_TEST(test_text_prompts))
