/*
 * One big component on the backend at a time (include/pflow.h, pf_model_options.
 * keep_resident): pf_model_open checks the folder without loading weights, pf_prompt_encode
 * runs the text encoders with nothing else resident, pf_generate loads the DiT and the VAE
 * and keeps them; keep_resident keeps the old behaviour. Measured with the backend's
 * bytes_allocated / bytes_peak counters on a tiny model written by pf_tiny_model_write.
 */
#include "pf_pipeline.h"
#include "pf_test_media.h"
#include "pf_tiny_model.h"
#include "pflow.h"

static const char *tok_pack(void) { return PF_TEST_DATA_DIR "/../../data/tokenizers"; }

static char *shared_root;

static void shared_cleanup(void) { pf_tm_rmtree(shared_root); }

/* A tiny miniFLUX folder with text encoders: written once, shared by the tests that do not
 * change it. */
static char *write_tiny(const char *tag) {
    char *dir = pf_tm_mkdtemp(tag);
    if (!dir) return NULL;
    pf_tiny_model_spec spec;
    pf_status rc = pf_tiny_model_spec_default(PF_DIT_FLUX, &spec);
    /* T5 the largest component, as at the released size (9.5 GB against a DiT generation
     * of 6.6 to 9.2 GB in bf16), without more compute: a wider embedding table (the
     * tokenizer's ids stay below 32128). The tiny pipeline's pools (8 + 4 + 16 MiB chunks)
     * take about 32 MiB. */
    spec.text.t5.vocab_size = 8 * 32128;
    if (rc == PF_OK) rc = pf_tiny_model_write(dir, &spec, tok_pack(), 3);
    if (rc != PF_OK) {
        fprintf(stderr, "  tiny model: %s\n", pf_last_error());
        pf_tm_rmtree(dir);
        return NULL;
    }
    return dir;
}

static const char *tiny(void) {
    if (!shared_root) {
        shared_root = write_tiny("test_api_memory");
        if (shared_root) atexit(shared_cleanup);
    }
    return shared_root;
}

static pf_model *open_model(const char *root, bool keep, pf_precision act) {
    pf_model_options o;
    pf_model_options_default(&o);
    o.backend = "cpu";
    o.threads = 1;
    o.keep_resident = keep;
    o.activations = act;
    pf_model *m = NULL;
    if (pf_model_open(root, &o, &m) != PF_OK) fprintf(stderr, "  open %s: %s\n", root, pf_last_error());
    return m;
}

static void small(pf_generate_params *p) {
    pf_generate_params_default(p, PF_MODE_T2V);
    p->width = 64;
    p->height = 64;
    p->temp = 2;
    for (int s = 0; s < 3; s++)
        p->steps[s] = p->video_steps[s] = 1;
    p->seed = 42;
}

#define FRAME_BYTES ((size_t)9 * 64 * 64 * 3)

/* Open, encode, generate: each phase starts with nothing on the backend, so the peak is the
 * larger phase's, below text encoders + DiT + VAE. */
static pf_test_result test_lazy_phases(void) {
    const char *root = tiny();
    if (!root) SKIP("cannot write a tiny model");
    pf_model *m = open_model(root, false, PF_PRECISION_AUTO);
    CHECK(m);
    pf_backend *be = pf_api_model_backend(m);
    CHECK(be);
    /* open: the folder checked, no weights on the backend */
    CHECK_MSG(be->bytes_allocated == 0 && be->bytes_peak == 0, "after open: %zu allocated, peak %zu",
              be->bytes_allocated, be->bytes_peak);
    CHECK(!pf_api_model_resident(m));
    pf_model_info info;
    CHECK_OK(pf_model_get_info(m, &info));
    CHECK(info.weight_bytes > 0 && info.text_dim > 0); /* planned on the meta backend */
    size_t planned = info.weight_bytes;

    /* encode: the text encoders alone, freed after */
    pf_prompt *pr = NULL;
    CHECK_OK(pf_prompt_encode(m, "a red fox in the snow", NULL, &pr));
    size_t text_peak = be->bytes_peak;
    CHECK_MSG(text_peak > 0, "the text encoders allocated nothing");
    CHECK_MSG(be->bytes_allocated == 0, "after encoding: %zu still allocated", be->bytes_allocated);
    CHECK(!pf_api_model_resident(m));

    /* generate: the DiT and the VAE load (the text encoders are gone) and stay */
    be->bytes_peak = be->bytes_allocated; /* the generation's own peak */
    pf_generate_params p;
    small(&p);
    pf_video v;
    CHECK_OK(pf_generate(m, pr, NULL, &p, &v));
    CHECK(v.frames == 9);
    size_t gen_peak = be->bytes_peak;
    CHECK(pf_api_model_resident(m));
    pf_generate_stats st;
    CHECK_OK(pf_model_last_stats(m, &st));
    size_t weights = st.weight_bytes; /* DiT + VAE as loaded */
    CHECK_MSG(weights > 0 && weights >= planned * 9 / 10 && weights <= planned * 11 / 10 + 4096,
              "loaded %zu, planned %zu", weights, planned);
    CHECK_MSG(be->bytes_allocated >= weights, "resident %zu < weights %zu", be->bytes_allocated, weights);
    CHECK(st.load_s > 0.0);
    CHECK(st.device_peak_bytes == gen_peak);
    size_t peak = text_peak > gen_peak ? text_peak : gen_peak;
    fprintf(stderr, "  lazy: text phase peak %zu, generation peak %zu (weights %zu), peak %zu; sum %zu\n", text_peak,
            gen_peak, weights, peak, text_peak + weights);
    CHECK_MSG(peak < text_peak + weights, "peak %zu, text %zu + DiT/VAE %zu", peak, text_peak, weights);
    CHECK_OK(pf_model_get_info(m, &info));
    CHECK(info.weight_bytes == weights);

    /* again with the same prompt: nothing reloads */
    pf_video v2;
    CHECK_OK(pf_generate(m, pr, NULL, &p, &v2));
    CHECK_OK(pf_model_last_stats(m, &st));
    CHECK(st.load_s == 0.0);
    CHECK(memcmp(v.rgb, v2.rgb, FRAME_BYTES) == 0);
    pf_video_free(&v);
    pf_video_free(&v2);
    pf_prompt_free(pr);
    pf_model_free(m);
    return PF_T_PASS;
}

/* A second prompt after a generation frees the DiT and the VAE before the text encoders load. */
static pf_test_result test_second_prompt(void) {
    const char *root = tiny();
    if (!root) SKIP("cannot write a tiny model");
    pf_model *m = open_model(root, false, PF_PRECISION_AUTO);
    CHECK(m);
    pf_backend *be = pf_api_model_backend(m);
    pf_prompt *p1 = NULL, *p2 = NULL;
    CHECK_OK(pf_prompt_encode(m, "a red fox in the snow", NULL, &p1));
    size_t text_peak = be->bytes_peak; /* the text encoders alone */
    pf_generate_params p;
    small(&p);
    pf_video v1, v2, w;
    CHECK_OK(pf_generate(m, p1, NULL, &p, &v1));
    pf_generate_stats st;
    CHECK_OK(pf_model_last_stats(m, &st));
    size_t weights = st.weight_bytes;
    CHECK(pf_api_model_resident(m) && be->bytes_allocated >= weights);

    CHECK_OK(pf_prompt_encode(m, "a lighthouse at night", "", &p2));
    CHECK(!pf_api_model_resident(m));
    CHECK_MSG(be->bytes_allocated == 0, "after the second encode: %zu allocated", be->bytes_allocated);
    CHECK_MSG(be->bytes_peak < text_peak + weights, "peak %zu after the second encode, text %zu + DiT/VAE %zu",
              be->bytes_peak, text_peak, weights);
    CHECK_OK(pf_generate(m, p2, NULL, &p, &v2));
    CHECK_OK(pf_model_last_stats(m, &st));
    CHECK(st.load_s > 0.0 && pf_api_model_resident(m)); /* loaded again */
    fprintf(stderr, "  second prompt: peak %zu; text %zu + DiT/VAE %zu = %zu\n", st.device_peak_bytes, text_peak,
            weights, text_peak + weights);
    CHECK_MSG(st.device_peak_bytes < text_peak + weights, "peak %zu, text %zu + DiT/VAE %zu", st.device_peak_bytes,
              text_peak, weights);
    CHECK(memcmp(v1.rgb, v2.rgb, FRAME_BYTES) != 0);
    /* the first prompt again, with the reloaded DiT: the first frames */
    CHECK_OK(pf_generate(m, p1, NULL, &p, &w));
    CHECK(memcmp(v1.rgb, w.rgb, FRAME_BYTES) == 0);
    pf_video_free(&v1);
    pf_video_free(&v2);
    pf_video_free(&w);
    pf_prompt_free(p1);
    pf_prompt_free(p2);
    pf_model_free(m);
    return PF_T_PASS;
}

/* keep_resident: the DiT and the VAE load in pf_model_open and stay through the text encoding
 * (the old behaviour, whose peak is the sum). */
static pf_test_result test_keep_resident(void) {
    const char *root = tiny();
    if (!root) SKIP("cannot write a tiny model");
    pf_model *m = open_model(root, true, PF_PRECISION_AUTO);
    CHECK(m);
    pf_backend *be = pf_api_model_backend(m);
    pf_model_info info;
    CHECK_OK(pf_model_get_info(m, &info));
    CHECK(pf_api_model_resident(m));
    CHECK_MSG(be->bytes_allocated == info.weight_bytes && info.weight_bytes > 0,
              "after open: %zu allocated, weights %zu", be->bytes_allocated, info.weight_bytes);
    size_t weights = info.weight_bytes;
    pf_prompt *pr = NULL;
    CHECK_OK(pf_prompt_encode(m, "a red fox in the snow", NULL, &pr));
    CHECK(pf_api_model_resident(m) && be->bytes_allocated == weights);
    size_t encode_peak = be->bytes_peak; /* the text encoders on top of the DiT and the VAE */
    CHECK_MSG(encode_peak > weights, "encode peak %zu, weights %zu", encode_peak, weights);
    pf_generate_params p;
    small(&p);
    pf_video v;
    CHECK_OK(pf_generate(m, pr, NULL, &p, &v));
    pf_generate_stats st;
    CHECK_OK(pf_model_last_stats(m, &st));
    CHECK(st.load_s == 0.0); /* loaded by pf_model_open */
    CHECK(st.weight_bytes == weights && st.device_peak_bytes >= encode_peak);
    fprintf(stderr, "  keep_resident: encode peak %zu (text phase %zu on top of weights %zu), peak %zu\n", encode_peak,
            encode_peak - weights, weights, st.device_peak_bytes);
    pf_prompt *p2 = NULL;
    CHECK_OK(pf_prompt_encode(m, "a lighthouse at night", "", &p2));
    CHECK(pf_api_model_resident(m));
    pf_video_free(&v);
    CHECK_OK(pf_generate(m, p2, NULL, &p, &v));
    CHECK_OK(pf_model_last_stats(m, &st));
    CHECK(st.load_s == 0.0);
    pf_video_free(&v);
    pf_prompt_free(pr);
    pf_prompt_free(p2);
    pf_model_free(m);
    return PF_T_PASS;
}

/* The same frames with and without keep_resident, with f32 and bf16 DiT activations (the
 * activation dtype applies to a DiT loaded in pf_generate). */
static pf_test_result test_same_frames(void) {
    const char *root = tiny();
    if (!root) SKIP("cannot write a tiny model");
    pf_video v[2][2];
    for (int a = 0; a < 2; a++)
        for (int k = 0; k < 2; k++) {
            pf_model *m = open_model(root, k == 1, a ? PF_PRECISION_BF16 : PF_PRECISION_F32);
            CHECK(m);
            pf_model_info info;
            CHECK_OK(pf_model_get_info(m, &info));
            CHECK(info.activations == (a ? PF_PRECISION_BF16 : PF_PRECISION_F32));
            pf_prompt *pr = NULL;
            CHECK_OK(pf_prompt_encode(m, "a red fox in the snow", NULL, &pr));
            pf_generate_params p;
            small(&p);
            CHECK_OK(pf_generate(m, pr, NULL, &p, &v[a][k]));
            CHECK(v[a][k].frames == 9);
            pf_prompt_free(pr);
            pf_model_free(m);
        }
    CHECK(memcmp(v[0][0].rgb, v[0][1].rgb, FRAME_BYTES) == 0);
    CHECK(memcmp(v[1][0].rgb, v[1][1].rgb, FRAME_BYTES) == 0);
    CHECK(memcmp(v[0][0].rgb, v[1][0].rgb, FRAME_BYTES) != 0); /* the bf16 DiT ran */
    for (int a = 0; a < 2; a++)
        for (int k = 0; k < 2; k++)
            pf_video_free(&v[a][k]);
    return PF_T_PASS;
}

/* The DiT file broken or gone after pf_model_open: pf_generate fails naming it, leaves nothing
 * on the backend, and the model works again once the file is back. */
static pf_test_result test_lazy_load_failure(void) {
    char *root = write_tiny("test_api_memory_fail");
    if (!root) SKIP("cannot write a tiny model");
    char *dit_dir = pf_tm_join(root, "diffusion_transformer_384p");
    char *file = pf_tm_join(dit_dir, "diffusion_pytorch_model.safetensors");
    char *saved = pf_tm_join(root, "dit.saved");
    CHECK(dit_dir && file && saved);
    pf_model *m = open_model(root, false, PF_PRECISION_AUTO);
    CHECK(m);
    pf_backend *be = pf_api_model_backend(m);
    pf_prompt *pr = NULL;
    CHECK_OK(pf_prompt_encode(m, "a red fox in the snow", NULL, &pr));
    pf_generate_params p;
    small(&p);
    pf_video v;

    /* truncated */
    CHECK(rename(file, saved) == 0);
    {
        FILE *in = fopen(saved, "rb"), *out = fopen(file, "wb");
        CHECK(in && out);
        char buf[4096];
        size_t n = fread(buf, 1, sizeof buf, in);
        CHECK(n > 1000 && fwrite(buf, 1, n / 2, out) == n / 2);
        fclose(in);
        fclose(out);
    }
    pf_status rc = pf_generate(m, pr, NULL, &p, &v);
    fprintf(stderr, "  truncated: %s\n", pf_last_error());
    CHECK(rc != PF_OK && v.rgb == NULL && v.frames == 0);
    CHECK_MSG(strstr(pf_last_error(), "diffusion_pytorch_model.safetensors") &&
                  strstr(pf_last_error(), "loading the DiT and the VAE"),
              "%s", pf_last_error());
    CHECK(!pf_api_model_resident(m));
    CHECK_MSG(be->bytes_allocated == 0, "%zu left allocated", be->bytes_allocated);

    /* deleted */
    CHECK(remove(file) == 0);
    rc = pf_generate(m, pr, NULL, &p, &v);
    fprintf(stderr, "  deleted: %s\n", pf_last_error());
    CHECK(rc != PF_OK && v.rgb == NULL);
    CHECK_MSG(strstr(pf_last_error(), dit_dir), "%s", pf_last_error());
    CHECK(!pf_api_model_resident(m) && be->bytes_allocated == 0);
    pf_generate_stats st;
    CHECK_OK(pf_model_last_stats(m, &st));
    CHECK(st.dit_calls == 0);

    /* back: the same model generates */
    CHECK(rename(saved, file) == 0);
    CHECK_OK(pf_generate(m, pr, NULL, &p, &v));
    CHECK(v.frames == 9 && pf_api_model_resident(m));
    pf_video_free(&v);

    /* broken again while resident: nothing is reloaded, so nothing fails */
    CHECK(remove(file) == 0);
    CHECK_OK(pf_generate(m, pr, NULL, &p, &v));
    pf_video_free(&v);
    pf_prompt_free(pr);
    pf_model_free(m);
    free(dit_dir);
    free(file);
    free(saved);
    pf_tm_rmtree(root);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_lazy_phases), PF_TEST(test_second_prompt), PF_TEST(test_keep_resident),
             PF_TEST(test_same_frames), PF_TEST(test_lazy_load_failure))
