/*
 * check-golden runner for kinds "pipeline_t2v" and "pipeline_i2v": the official
 * generate() / generate_i2v() with the case's settings (sizes, temp, steps, guidance,
 * decode tiling from the metadata), the prompt embeddings of the case and every
 * random draw replayed from its in.* tensors. Every intermediate the case holds
 * (out.noise_init_quarter, out.unit{k}_stage{s}_latent, out.unit_latent_k,
 * out.final_latent, the i2v posterior and image latent) and out.frames are handed over.
 */
#include "golden_impl.h"
#include "pf_model_dir.h"
#include "pf_pipeline.h"

#include <cjson/cJSON.h>

static pf_status pf_meta_num(const pf_golden_case *c, const char *key, double def, double *out) {
    pf_status rc = PF_OK;
    *out = pf_json_opt_num(c->meta, key, def, &rc);
    return rc == PF_OK ? PF_OK : pf_error_wrap(rc, "case %s", c->name);
}

static pf_status pf_meta_int(const pf_golden_case *c, const char *key, int def, int *out) {
    pf_status rc = pf_json_int_in(c->meta, key, false, def, -1000000, 1000000, out);
    return rc == PF_OK ? PF_OK : pf_error_wrap(rc, "case %s", c->name);
}

/* num_inference_steps: one int for every stage, or a list of PF_PIPE_STAGES. */
static pf_status pf_meta_steps(const pf_golden_case *c, const char *key, int *steps) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(pf_json_root(c->meta), key);
    if (!v) return PF_OK;
    if (cJSON_IsNumber(v)) {
        for (int s = 0; s < PF_PIPE_STAGES; s++) steps[s] = v->valueint;
        return PF_OK;
    }
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != PF_PIPE_STAGES)
        return pf_error(PF_ERR_FORMAT, "case %s: \"%s\" must be a number or a list of %d", c->name, key, PF_PIPE_STAGES);
    int s = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
        if (!cJSON_IsNumber(e)) return pf_error(PF_ERR_FORMAT, "case %s: \"%s\"[%d] is not a number", c->name, key, s);
        steps[s++] = e->valueint;
    }
    return PF_OK;
}

static pf_status pf_golden_params(const pf_golden_case *c, bool i2v, pf_pipe_params *p) {
    pf_pipe_params_default(p, i2v ? PF_PIPE_I2V : PF_PIPE_T2V);
    PF_TRY(pf_meta_int(c, "width", p->width, &p->width));
    PF_TRY(pf_meta_int(c, "height", p->height, &p->height));
    PF_TRY(pf_meta_int(c, "temp", p->temp, &p->temp));
    PF_TRY(pf_meta_steps(c, "num_inference_steps", p->steps));
    PF_TRY(pf_meta_steps(c, "video_num_inference_steps", p->video_steps));
    PF_TRY(pf_meta_num(c, "guidance_scale", p->guidance, &p->guidance));
    PF_TRY(pf_meta_num(c, "video_guidance_scale", p->video_guidance, &p->video_guidance));
    PF_TRY(pf_meta_num(c, "min_guidance_scale", p->min_guidance, &p->min_guidance));
    PF_TRY(pf_meta_num(c, "alpha", p->guidance_decay, &p->guidance_decay));
    pf_status rc = PF_OK;
    p->linear_guidance = pf_json_opt_bool(c->meta, "use_linear_guidance", false, &rc);
    /* decode_latent: save_memory picks window 1 / tile 256 or window 2 / tile 512; the
     * pack may record another tile size it substituted */
    bool save_memory = pf_json_opt_bool(c->meta, "save_memory", true, &rc);
    p->decode.tiling = pf_json_opt_bool(c->meta, "vae_tiling", true, &rc);
    if (rc != PF_OK) return pf_error_wrap(rc, "case %s", c->name);
    int tile = save_memory ? 256 : 512, window = save_memory ? 1 : 2;
    PF_TRY(pf_meta_int(c, "decode_tile_sample_min_size_official", tile, &tile));
    PF_TRY(pf_meta_int(c, "decode_tile_sample_min_size_used", tile, &tile));
    PF_TRY(pf_meta_int(c, "decode_window_size", window, &window));
    p->decode.tile_sample_min_size = tile;
    p->decode.window = window;
    p->encode.tiling = p->decode.tiling;
    PF_TRY(pf_meta_int(c, "encode_tile_sample_min_size", p->encode.tile_sample_min_size, &p->encode.tile_sample_min_size));
    return PF_OK;
}

/* in.negative_* and in.* (batch 1 each) -> [negative, positive]. */
static pf_status pf_golden_embeds(const pf_golden_case *c, pf_prompt_embeds *e) {
    memset(e, 0, sizeof *e);
    float *h[2] = {NULL, NULL}, *pl[2] = {NULL, NULL};
    int64_t *m[2] = {NULL, NULL};
    int64_t hs[2][PF_MAX_DIMS], ms[2][PF_MAX_DIMS], ps[2][PF_MAX_DIMS];
    int hn[2], mn[2], pn[2];
    static const char *const pre[2] = {"in.negative_", "in."};
    pf_status rc = PF_OK;
    for (int b = 0; b < 2 && rc == PF_OK; b++) {
        char name[96];
        snprintf(name, sizeof name, "%sprompt_embeds", pre[b]);
        rc = pf_golden_in_f32(c, name, &h[b], hs[b], &hn[b]);
        snprintf(name, sizeof name, "%sprompt_attention_mask", pre[b]);
        if (rc == PF_OK) rc = pf_golden_in_i64(c, name, &m[b], ms[b], &mn[b]);
        snprintf(name, sizeof name, "%spooled_prompt_embeds", pre[b]);
        if (rc == PF_OK) rc = pf_golden_in_f32(c, name, &pl[b], ps[b], &pn[b]);
        if (rc == PF_OK && (hn[b] != 3 || hs[b][0] != 1 || mn[b] != 2 || ms[b][0] != 1 || ms[b][1] != hs[b][1] ||
                            pn[b] != 2 || ps[b][0] != 1))
            rc = pf_error(PF_ERR_SHAPE, "case %s: %sprompt_embeds [1, L, D], mask [1, L] and pooled [1, P] expected",
                          c->name, pre[b]);
    }
    if (rc == PF_OK && (hs[0][1] != hs[1][1] || hs[0][2] != hs[1][2] || ps[0][1] != ps[1][1]))
        rc = pf_error(PF_ERR_SHAPE, "case %s: negative and positive embeddings differ in shape", c->name);
    if (rc == PF_OK) {
        int L = (int)hs[0][1], D = (int)hs[0][2], P = (int)ps[0][1];
        e->batch = 2;
        e->tokens = L;
        e->text_dim = D;
        e->pooled_dim = P;
        e->hidden = pf_malloc(sizeof(float) * 2 * (size_t)L * D, "embeddings");
        e->mask = pf_malloc(sizeof(int32_t) * 2 * (size_t)L, "embeddings");
        e->pooled = pf_malloc(sizeof(float) * 2 * (size_t)P, "embeddings");
        if (!e->hidden || !e->mask || !e->pooled) rc = PF_ERR_OOM;
        for (int b = 0; b < 2 && rc == PF_OK; b++) {
            memcpy(e->hidden + (size_t)b * L * D, h[b], sizeof(float) * (size_t)L * D);
            memcpy(e->pooled + (size_t)b * P, pl[b], sizeof(float) * (size_t)P);
            for (int i = 0; i < L; i++) e->mask[b * L + i] = m[b][i] != 0;
        }
    }
    for (int b = 0; b < 2; b++) {
        free(h[b]);
        free(m[b]);
        free(pl[b]);
    }
    return rc;
}

static void pf_golden_embeds_free(pf_prompt_embeds *e) {
    free(e->hidden);
    free(e->mask);
    free(e->pooled);
}

/* Taps: "name" -> out.name when the case holds it. */
static pf_status pf_golden_tap(void *user, const char *name, const float *data, int ndim, const int64_t *shape) {
    pf_golden_case *c = user;
    char out[128];
    snprintf(out, sizeof out, "out.%s", name);
    if (!pf_st_find(c->file, out)) return PF_OK;
    size_t n = 1;
    for (int i = 0; i < ndim; i++) n *= (size_t)shape[i];
    return pf_golden_put(c, out, PF_F32, data, n);
}

pf_status pf_golden_run_pipeline(pf_golden_case *c) {
    bool i2v = !strcmp(c->kind, "pipeline_i2v");
    if (!i2v && strcmp(c->kind, "pipeline_t2v"))
        return pf_error(PF_ERR_INVALID_ARG, "case %s: kind '%s' is not a pipeline", c->name, c->kind);
    if (!c->model_dir) return pf_error(PF_ERR_FORMAT, "case %s: no model_dir", c->name);
    pf_dtype dt = c->opts && c->opts->dtype == PF_BF16 ? PF_BF16 : PF_F32;
    pf_pipe_params p;
    PF_TRY(pf_golden_params(c, i2v, &p));

    pf_model_dir md;
    PF_TRY(pf_model_dir_find(c->model_dir, NULL, &md));
    pf_dit *dit = NULL;
    pf_vae *vae = NULL;
    pf_noise *noise = NULL;
    pf_prompt_embeds e = {0};
    uint8_t *image = NULL;
    pf_pipe_output out = {0};
    pf_status rc = pf_dit_load(md.dit_dir, c->backend, dt, &dit);
    if (rc == PF_OK) rc = pf_dit_set_act_dtype(dit, c->opts && c->opts->act == PF_BF16 ? PF_BF16 : PF_F32);
    if (rc == PF_OK) rc = pf_vae_load(md.vae_dir, c->backend, dt, &vae);
    if (rc == PF_OK) rc = pf_golden_embeds(c, &e);
    if (rc == PF_OK) rc = pf_noise_from_st(c->file, &noise);
    if (rc == PF_OK && i2v) {
        /* generate_i2v takes its size from the image */
        int64_t *px = NULL, s[PF_MAX_DIMS];
        int nd = 0;
        rc = pf_golden_in_i64(c, "in.image", &px, s, &nd);
        if (rc == PF_OK && (nd != 3 || s[2] != 3 || s[0] > 65536 || s[1] > 65536))
            rc = pf_error(PF_ERR_SHAPE, "case %s: in.image must be [H, W, 3]", c->name);
        if (rc == PF_OK && !(image = pf_malloc((size_t)(s[0] * s[1] * 3), "image"))) rc = PF_ERR_OOM;
        if (rc == PF_OK) {
            p.height = (int)s[0];
            p.width = (int)s[1];
            for (int64_t i = 0; i < s[0] * s[1] * 3; i++) image[i] = (uint8_t)px[i];
        }
        free(px);
    }
    if (rc == PF_OK) {
        pf_pipe_denoiser dn;
        pf_pipe_vae pv;
        pf_pipe_denoiser_from_dit(dit, dt, &dn);
        pf_pipe_vae_from_vae(vae, dt, &pv);
        pf_pipe_inputs in = {.embeds = &e, .image = image, .noise = noise};
        pf_pipe_hooks h = {.user = c, .tap = pf_golden_tap};
        rc = pf_pipeline_run(&dn, &pv, &in, &p, &h, &out, NULL);
    }
    if (rc == PF_OK && pf_st_find(c->file, "out.frames"))
        rc = pf_golden_put(c, "out.frames", PF_U8, out.rgb, (size_t)out.frames * out.height * out.width * 3);
    free(out.rgb);
    free(image);
    pf_golden_embeds_free(&e);
    pf_noise_free(noise);
    pf_vae_free(vae);
    pf_dit_free(dit);
    pf_model_dir_free(&md);
    return rc;
}
