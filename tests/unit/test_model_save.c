/*
 * Writing models: pf_dit_save / pf_vae_save read back bit for bit by pf_dit_load /
 * pf_vae_load with the official config keys (the golden pack's config.json files are
 * the reference key sets), the tiny model writer, the folder inventory with its
 * "what is missing" message, and the memory estimate against a real run.
 */
#include "dit_internal.h"
#include "pf_json.h"
#include "pf_model_inspect.h"
#include "pf_test_media.h"
#include "pf_tiny_model.h"
#include "vae_internal.h"

#include <cjson/cJSON.h>

static pf_backend *cpu1(void) {
    pf_backend_options bo = {.device = -1, .threads = 1, .reference = false};
    pf_backend *be = NULL;
    return pf_backend_create("cpu", &bo, &be) == PF_OK ? be : NULL;
}

/* Two weight pools hold the same tensors: names, dtypes, shapes and bytes. */
static bool same_pools(const pf_pool *a, const pf_pool *b) {
    if (pf_pool_count(a) != pf_pool_count(b) || pf_pool_count(a) == 0) {
        fprintf(stderr, "  %d tensors vs %d\n", pf_pool_count(a), pf_pool_count(b));
        return false;
    }
    bool ok = true;
    for (int i = 0; i < pf_pool_count(a) && ok; i++) {
        pf_tensor *x = pf_pool_at(a, i), *y = pf_pool_at(b, i);
        if (strcmp(x->name, y->name) || x->dtype != y->dtype || !pf_same_shape(x, y)) {
            fprintf(stderr, "  tensor %d: %s vs %s\n", i, x->name, y->name);
            return false;
        }
        size_t n = pf_nbytes(x);
        uint8_t *bx = malloc(n), *by = malloc(n);
        ok = bx && by && pf_tensor_get(x, bx, n) == PF_OK && pf_tensor_get(y, by, n) == PF_OK && !memcmp(bx, by, n);
        if (!ok) fprintf(stderr, "  tensor %s differs\n", x->name);
        free(bx);
        free(by);
    }
    return ok;
}

/* The key names of a JSON object file, sorted, comma-joined. */
static bool json_keys(const char *path, char *out, size_t n) {
    char *text = NULL;
    size_t len = 0;
    if (pf_read_file(path, &text, &len) != PF_OK) return false;
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return false;
    }
    const char *keys[64];
    int k = 0;
    for (cJSON *c = j->child; c && k < 64; c = c->next) keys[k++] = c->string;
    for (int i = 1; i < k; i++)
        for (int m = i; m > 0 && strcmp(keys[m - 1], keys[m]) > 0; m--) {
            const char *t = keys[m];
            keys[m] = keys[m - 1];
            keys[m - 1] = t;
        }
    out[0] = '\0';
    for (int i = 0; i < k; i++) snprintf(out + strlen(out), n - strlen(out), "%s%s", i ? "," : "", keys[i]);
    cJSON_Delete(j);
    return true;
}

/* Our config.json has exactly the key set of the official one in the golden pack. */
static pf_test_result same_keys_as_golden(const char *ours, const char *golden_rel) {
    const char *pack = pf_test_golden_dir();
    char ref[1024], a[4096], b[4096];
    if (!pack) return PF_T_PASS;
    snprintf(ref, sizeof ref, "%s/%s", pack, golden_rel);
    if (!pf_file_exists(ref)) return PF_T_PASS;
    CHECK(json_keys(ours, a, sizeof a));
    CHECK(json_keys(ref, b, sizeof b));
    CHECK_MSG(!strcmp(a, b), "%s keys\n    %s\n  vs %s\n    %s", ours, a, ref, b);
    return PF_T_PASS;
}

static pf_test_result dit_roundtrip(pf_dit_variant v, pf_dtype dt, const char *golden_cfg) {
    pf_backend *be = cpu1();
    CHECK(be);
    char *dir = pf_tm_mkdtemp("test_model_save_dit");
    CHECK(dir);
    char *sub = pf_tm_join(dir, "a/b/diffusion_transformer_384p"); /* parents are created */
    pf_tiny_model_spec spec;
    CHECK_OK(pf_tiny_model_spec_default(v, &spec));
    pf_dit *a = NULL, *b = NULL;
    CHECK_OK(pf_dit_create_random(&spec.dit, be, dt, 1234, &a));
    CHECK_OK(pf_dit_save(a, sub));
    CHECK_OK(pf_dit_load(sub, be, dt, &b));
    const pf_dit_config *ca = pf_dit_get_config(a), *cb = pf_dit_get_config(b);
    CHECK(ca->variant == cb->variant && ca->hidden == cb->hidden && ca->heads == cb->heads &&
          ca->head_dim == cb->head_dim && ca->n_double == cb->n_double && ca->n_single == cb->n_single &&
          ca->in_channels == cb->in_channels && ca->patch == cb->patch && ca->text_dim == cb->text_dim &&
          ca->pooled_dim == cb->pooled_dim && ca->pos_embed_max_size == cb->pos_embed_max_size &&
          ca->base_size == cb->base_size && ca->n_params == cb->n_params);
    CHECK(same_pools(a->pool, b->pool));
    /* the file holds the weights' own dtype */
    char *file = pf_tm_join(sub, "diffusion_pytorch_model.safetensors");
    pf_st_file *f = NULL;
    CHECK_OK(pf_st_open(file, &f));
    CHECK(pf_st_find(f, "proj_out.weight") && pf_st_find(f, "proj_out.weight")->dtype == dt);
    CHECK(!strcmp(pf_st_metadata(f, "format"), "pt"));
    pf_st_close(f);
    free(file);
    /* no temporary files are left */
    CHECK(pf_tm_count_entries(sub) == 2);
    char *cfg = pf_tm_join(sub, "config.json");
    pf_test_result r = same_keys_as_golden(cfg, golden_cfg);
    free(cfg);
    pf_dit_free(a);
    pf_dit_free(b);
    pf_backend_free(be);
    free(sub);
    pf_tm_rmtree(dir);
    return r;
}

static pf_test_result test_dit_roundtrip(void) {
    if (dit_roundtrip(PF_DIT_FLUX, PF_F32, "miniflux/diffusion_transformer_384p/config.json") != PF_T_PASS)
        return PF_T_FAIL;
    if (dit_roundtrip(PF_DIT_MMDIT, PF_F32, "sd3/diffusion_transformer_384p/config.json") != PF_T_PASS)
        return PF_T_FAIL;
    return dit_roundtrip(PF_DIT_FLUX, PF_BF16, "miniflux/diffusion_transformer_384p/config.json");
}

static pf_test_result test_vae_roundtrip(void) {
    pf_backend *be = cpu1();
    CHECK(be);
    char *dir = pf_tm_mkdtemp("test_model_save_vae");
    pf_tiny_model_spec spec;
    CHECK_OK(pf_tiny_model_spec_default(PF_DIT_FLUX, &spec));
    spec.vae.dec_layers[1] = 2; /* not all equal: the arrays go out in order */
    spec.vae.enc_channels[3] = 6;
    pf_vae *a = NULL, *b = NULL;
    CHECK_OK(pf_vae_create_random(&spec.vae, be, PF_F32, 77, &a));
    CHECK_OK(pf_vae_save(a, dir));
    CHECK_OK(pf_vae_load(dir, be, PF_F32, &b));
    CHECK(!memcmp(pf_vae_get_config(a), pf_vae_get_config(b), sizeof(pf_vae_config)));
    CHECK(same_pools(a->pool, b->pool));
    pf_vae_config rc;
    CHECK_OK(pf_vae_config_read(dir, &rc));
    CHECK(rc.n_params == pf_vae_get_config(a)->n_params && rc.enc_channels[3] == 6 && rc.dec_layers[1] == 2);
    char *cfg = pf_tm_join(dir, "config.json");
    pf_test_result r = same_keys_as_golden(cfg, "miniflux/causal_video_vae/config.json");
    free(cfg);
    /* saving onto an existing folder replaces the files */
    CHECK_OK(pf_vae_save(b, dir));
    CHECK(pf_tm_count_entries(dir) == 2);
    pf_vae_free(a);
    pf_vae_free(b);
    pf_backend_free(be);
    pf_tm_rmtree(dir);
    return r;
}

static const char *tok_pack(void) { return PF_TEST_DATA_DIR "/../../data/tokenizers"; }

static bool same_file(const char *a, const char *b) {
    char *x = NULL, *y = NULL;
    size_t nx = 0, ny = 0;
    bool same = pf_read_file(a, &x, &nx) == PF_OK && pf_read_file(b, &y, &ny) == PF_OK && nx == ny && !memcmp(x, y, nx);
    free(x);
    free(y);
    return same;
}

static pf_test_result test_tiny_model(void) {
    char *dir = pf_tm_mkdtemp("test_model_save_tiny");
    char *a = pf_tm_join(dir, "a"), *b = pf_tm_join(dir, "b"), *c = pf_tm_join(dir, "c");
    pf_tiny_model_spec spec;
    CHECK_OK(pf_tiny_model_spec_default(PF_DIT_MMDIT, &spec));
    CHECK_OK(pf_tiny_model_write(a, &spec, tok_pack(), 5));
    CHECK_OK(pf_tiny_model_write(b, &spec, tok_pack(), 5));
    CHECK_OK(pf_tiny_model_write(c, &spec, tok_pack(), 6));
    CHECK(pf_tiny_model_is(a));
    static const char *const files[] = {"diffusion_transformer_384p/diffusion_pytorch_model.safetensors",
                                        "causal_video_vae/diffusion_pytorch_model.safetensors",
                                        "text_encoder_3/model.safetensors", "tokenizer_3/spiece.model",
                                        "tokenizer_2/tokenizer_config.json"};
    for (size_t i = 0; i < PF_ARRAY_LEN(files); i++) {
        char pa[2048], pb[2048], pc[2048];
        snprintf(pa, sizeof pa, "%s/%s", a, files[i]);
        snprintf(pb, sizeof pb, "%s/%s", b, files[i]);
        snprintf(pc, sizeof pc, "%s/%s", c, files[i]);
        CHECK_MSG(same_file(pa, pb), "%s differs for the same seed", files[i]);
        if (i < 3) CHECK_MSG(!same_file(pa, pc), "%s is the same for another seed", files[i]);
    }
    /* writing again over a tiny model is fine; over anything else it is refused */
    CHECK_OK(pf_tiny_model_write(a, &spec, tok_pack(), 5));
    char *foreign = pf_tm_join(dir, "foreign");
    CHECK(mkdir(foreign, 0755) == 0);
    char *keep = pf_tm_join(foreign, "holiday.jpg");
    FILE *kf = fopen(keep, "w");
    CHECK(kf && fputs("not a model", kf) >= 0 && fclose(kf) == 0);
    CHECK_ERR(pf_tiny_model_write(foreign, &spec, tok_pack(), 5), PF_ERR_INVALID_ARG, "not empty");
    CHECK(pf_tm_count_entries(foreign) == 1);
    CHECK_ERR(pf_tiny_model_write(c, &spec, "/nonexistent/tokenizers", 5), PF_ERR_NOT_FOUND, "tokenizer files");
    free(keep);
    free(foreign);
    free(a);
    free(b);
    free(c);
    pf_tm_rmtree(dir);
    return PF_T_PASS;
}

static pf_test_result test_inventory(void) {
    char *dir = pf_tm_mkdtemp("test_model_save_inv");
    pf_tiny_model_spec spec;
    CHECK_OK(pf_tiny_model_spec_default(PF_DIT_FLUX, &spec));
    CHECK_OK(pf_tiny_model_write(dir, &spec, tok_pack(), 1));
    pf_model_inventory *inv = calloc(1, sizeof *inv);
    CHECK(inv);
    CHECK_OK(pf_model_inventory_read(dir, inv));
    CHECK(inv->variant_known && inv->variant == PF_DIT_FLUX && inv->tiny);
    CHECK(inv->has_res[0] && !inv->has_res[1] && !inv->has_res[2]);
    CHECK(inv->n == 6); /* DiT, VAE, 2 encoders, 2 tokenizers */
    CHECK_OK(pf_model_inventory_check(inv, NULL, true));
    CHECK_OK(pf_model_inventory_check(inv, "384p", true));
    CHECK_ERR(pf_model_inventory_check(inv, "768p", false), PF_ERR_NOT_FOUND,
              "diffusion_transformer_768p/ (DiT 768p; the folder has 384p)");
    const pf_component *d = pf_model_inventory_find(inv, "diffusion_transformer_384p");
    CHECK(d && d->complete && d->n_params == d->dtype_params[PF_F32]);
    pf_dit_config dc;
    char sub[1024];
    snprintf(sub, sizeof sub, "%s/diffusion_transformer_384p", dir);
    CHECK_OK(pf_dit_config_read(sub, &dc));
    CHECK(d->n_params == dc.n_params); /* the miniFLUX file has exactly the declared weights */

    /* take three parts away: every one is named, in one message */
    char p[1100];
    snprintf(p, sizeof p, "%s/causal_video_vae/config.json", dir);
    CHECK(remove(p) == 0);
    snprintf(p, sizeof p, "%s/tokenizer_2/spiece.model", dir);
    CHECK(remove(p) == 0);
    snprintf(p, sizeof p, "%s/tokenizer_2/tokenizer.json", dir);
    CHECK(remove(p) == 0);
    snprintf(p, sizeof p, "%s/text_encoder_2/model.safetensors", dir);
    CHECK(remove(p) == 0);
    CHECK_OK(pf_model_inventory_read(dir, inv));
    CHECK_ERR(pf_model_inventory_check(inv, NULL, true), PF_ERR_NOT_FOUND, "causal_video_vae/config.json");
    CHECK(strstr(pf_last_error(), "tokenizer_2/spiece.model or tokenizer.json"));
    CHECK(strstr(pf_last_error(), "text_encoder_2/ weights"));
    CHECK(strstr(pf_last_error(), "pflow make-tiny-model")); /* what to do */
    /* without text the encoders do not matter, the VAE still does */
    CHECK_ERR(pf_model_inventory_check(inv, NULL, false), PF_ERR_NOT_FOUND, "causal_video_vae/config.json");
    CHECK(!strstr(pf_last_error(), "tokenizer_2"));
    /* a downloaded folder (no tiny marker) points at the download */
    snprintf(p, sizeof p, "%s/%s", dir, PF_TINY_MODEL_MARKER);
    CHECK(remove(p) == 0);
    CHECK_OK(pf_model_inventory_read(dir, inv));
    CHECK_ERR(pf_model_inventory_check(inv, NULL, true), PF_ERR_NOT_FOUND,
              "huggingface-cli download rain1011/pyramid-flow-miniflux");
    CHECK_ERR(pf_model_inventory_read("/nonexistent/pflow-model", inv), PF_ERR_NOT_FOUND, "does not exist");
    free(inv);
    pf_tm_rmtree(dir);
    return PF_T_PASS;
}

/* The planned estimate against what a real generation of the same size allocates. */
static pf_test_result test_estimate(void) {
    char *dir = pf_tm_mkdtemp("test_model_save_est");
    pf_tiny_model_spec spec;
    CHECK_OK(pf_tiny_model_spec_default(PF_DIT_FLUX, &spec));
    CHECK_OK(pf_tiny_model_write(dir, &spec, tok_pack(), 2));
    pf_model_inventory *inv = calloc(1, sizeof *inv);
    CHECK(inv);
    CHECK_OK(pf_model_inventory_read(dir, inv));
    pf_mem_estimate e32, e16;
    CHECK_OK(pf_model_estimate_memory(inv, NULL, PF_F32, PF_F32, 192, 128, 3, &e32));
    CHECK_OK(pf_model_estimate_memory(inv, "384p", PF_BF16, PF_BF16, 192, 128, 3, &e16));
    CHECK(e32.width == 192 && e32.height == 128 && e32.temp == 3);
    CHECK(e16.dit_weights < e32.dit_weights && e16.latents < e32.latents);
    CHECK(e16.dit_compute < e32.dit_compute); /* bf16 activations */
    CHECK(e32.device_peak >= e32.dit_weights + e32.vae_weights + e32.dit_compute);
    /* the text encoders and the DiT + VAE are never resident together; the DiT's compute
     * memory is given back before the decode: the largest of the three phases */
    size_t resident = e32.dit_weights + e32.vae_weights + e32.latents;
    CHECK(e32.dit_phase == resident + e32.dit_compute && e32.decode_phase == resident + e32.vae_compute);
    CHECK(e32.vae_compute == e32.vae_arena + e32.vae_caches);
    size_t gen32 = e32.dit_phase > e32.decode_phase ? e32.dit_phase : e32.decode_phase;
    CHECK(e32.device_peak == (e32.text_weights > gen32 ? e32.text_weights : gen32));
    /* the last unit's calls grow with the stage; the largest is the compute figure */
    CHECK(e32.dit_stage_tokens[0] < e32.dit_stage_tokens[1] && e32.dit_stage_tokens[1] < e32.dit_stage_tokens[2]);
    CHECK(e32.dit_compute == e32.dit_stage_compute[2] && e32.dit_stage_inputs[2] > 0);
    CHECK(e32.text_weights == (size_t)pf_model_inventory_find(inv, "text_encoder_2")->n_params * 4);
    pf_mem_estimate d;
    CHECK_OK(pf_model_estimate_memory(inv, NULL, PF_F32, PF_F32, 0, 0, 0, &d)); /* the README default */
    CHECK(d.width == 640 && d.height == 384 && d.temp == 16);
    CHECK_ERR(pf_model_estimate_memory(inv, "768p", PF_F32, PF_F32, 0, 0, 0, &d), PF_ERR_IO, "config.json");
    CHECK_ERR(pf_model_estimate_memory(inv, NULL, PF_F32, PF_F16, 0, 0, 0, &d), PF_ERR_INVALID_ARG, "activations f16");

    pf_model_options o;
    pf_model_options_default(&o);
    o.backend = "cpu";
    o.threads = 1;
    pf_model *m = NULL;
    CHECK_OK(pf_model_open(dir, &o, &m));
    pf_prompt *pr = NULL;
    CHECK_OK(pf_prompt_encode(m, "a fox", NULL, &pr));
    pf_generate_params p;
    pf_generate_params_default(&p, PF_MODE_T2V);
    p.width = 192;
    p.height = 128;
    p.temp = 3;
    for (int s = 0; s < 3; s++) p.steps[s] = p.video_steps[s] = 1;
    pf_video v;
    CHECK_OK(pf_generate(m, pr, NULL, &p, &v));
    pf_generate_stats st;
    CHECK_OK(pf_model_last_stats(m, &st));
    /* the last call (last unit, full resolution) is the largest, and it was planned the same way */
    CHECK_MSG(e32.dit_compute >= st.dit_graph_bytes * 9 / 10 && e32.dit_compute <= st.dit_graph_bytes * 11 / 10,
              "estimated DiT call %zu, real %zu", e32.dit_compute, st.dit_graph_bytes);
    CHECK_MSG(e32.vae_compute >= st.vae_arena_bytes && e32.vae_compute <= 3 * st.vae_arena_bytes + (1 << 20),
              "estimated VAE decode %zu, real arena %zu", e32.vae_compute, st.vae_arena_bytes);
    /* the latents as the run allocated them (both pools align tensors to at most 256 bytes) */
    size_t hist = e32.dit_stage_inputs[0] + e32.dit_stage_inputs[1] + e32.dit_stage_inputs[2];
    CHECK_MSG(e32.latents >= st.latent_bytes + hist && e32.latents <= st.latent_bytes + hist + 64 * 256,
              "estimated latents %zu, real %zu", e32.latents, st.latent_bytes);
    pf_video_free(&v);
    pf_prompt_free(pr);
    pf_model_free(m);
    free(inv);
    pf_tm_rmtree(dir);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_dit_roundtrip), PF_TEST(test_vae_roundtrip), PF_TEST(test_tiny_model),
             PF_TEST(test_inventory), PF_TEST(test_estimate))
