/*
 * The public API of include/pflow.h: model folders, prompt conditioning, generation
 * and its statistics, on top of the DiT, the VAE and the pipeline.
 */
#include "pf_model_dir.h"
#include "pf_model_inspect.h"
#include "pf_pipeline.h"

#include <math.h>
#include <sys/resource.h>

/*
 * Memory: one big component on the backend at a time. pf_model_open checks every DiT and
 * VAE tensor on the meta backend (sizes only, nothing allocated or read) and keeps the
 * configs; pf_prompt_encode frees the DiT and the VAE if they are resident, then loads the
 * text encoders one at a time (pf_text_encode_prompts) and closes the tokenizers; pf_generate
 * loads the DiT and the VAE when they are not resident and keeps them for the next
 * generation. With keep_resident the DiT and the VAE load in pf_model_open and stay, and
 * the tokenizers stay open.
 */
struct pf_model {
    pf_backend *be;
    pf_dit *dit; /* NULL while not resident */
    pf_vae *vae; /* resident with the DiT */
    pf_dit_config dcfg; /* from pf_model_open's checks: what prompts and generations are checked against */
    pf_vae_config vcfg;
    pf_dtype dt;  /* weights and latents */
    pf_dtype act; /* the DiT's activations */
    bool keep_resident;
    pf_model_dir dir;
    pf_dit_variant variant;
    pf_text_encoder *text; /* tokenizers, opened by pf_prompt_encode (kept with keep_resident) */
    size_t weight_bytes;   /* DiT + VAE: planned on the meta backend until they are loaded */
    double load_s;         /* the last load of the DiT and the VAE */
    pf_generate_stats last;
};

struct pf_prompt {
    const pf_model *model;
    pf_prompt_embeds e; /* [negative, positive] */
};

/* ---------------------------------------------------------------- models */

void pf_model_options_default(pf_model_options *o) {
    memset(o, 0, sizeof *o);
    o->device = -1;
    o->precision = PF_PRECISION_AUTO;
    o->activations = PF_PRECISION_AUTO;
}

bool pf_api_backend_is_gpu(const pf_backend_info *bi) {
    return bi && (!strcmp(bi->name, "cuda") || !strcmp(bi->name, "vulkan"));
}

pf_dtype pf_api_weight_dtype(pf_precision weights, const pf_backend_info *bi) {
    if (weights == PF_PRECISION_AUTO) return pf_api_backend_is_gpu(bi) ? PF_BF16 : PF_F32;
    return weights == PF_PRECISION_BF16 ? PF_BF16 : PF_F32;
}

pf_dtype pf_api_act_dtype(pf_precision act, pf_dtype weights, const pf_backend_info *bi) {
    if (act == PF_PRECISION_AUTO) return weights == PF_BF16 && pf_api_backend_is_gpu(bi) ? PF_BF16 : PF_F32;
    return act == PF_PRECISION_BF16 ? PF_BF16 : PF_F32;
}

static bool pf_api_precision_valid(pf_precision p) {
    return p == PF_PRECISION_AUTO || p == PF_PRECISION_F32 || p == PF_PRECISION_BF16;
}

/* A GPU API implemented on the CPU (Mesa's lavapipe/llvmpipe, SwiftShader): slower than the
 * CPU backend, so the automatic choice passes it over. */
static bool pf_api_software_device(const pf_backend *be) {
    if (!strcmp(pf_backend_name(be), "cpu")) return false;
    pf_backend_info bi;
    pf_backend_get_info((pf_backend *)be, &bi);
    return bi.host_cpu;
}

static pf_status pf_api_backend(const pf_model_options *o, pf_backend **out) {
    pf_backend_options bo = {.device = o->device, .threads = o->threads, .reference = false};
    if (o->backend && *o->backend) return pf_backend_create(o->backend, &bo, out);
    char tried[512] = "";
    pf_backend *soft = NULL; /* kept in case nothing better works */
    for (int i = 0; i < pf_backend_count(); i++) {
        const char *name = pf_backend_name_at(i);
        if (pf_backend_create(name, &bo, out) == PF_OK) {
            if (!pf_api_software_device(*out)) {
                if (soft) PF_INFO("using the %s backend rather than %s on a CPU device", name, pf_backend_name(soft));
                pf_backend_free(soft);
                return PF_OK;
            }
            if (!soft) soft = *out;
            else pf_backend_free(*out);
            *out = NULL;
            continue;
        }
        snprintf(tried + strlen(tried), sizeof tried - strlen(tried), "%s%s: %s", i ? "; " : "", name, pf_last_error());
    }
    if (soft) {
        *out = soft;
        return PF_OK;
    }
    return pf_error(PF_ERR_UNSUPPORTED, "no usable backend (%s)", tried[0] ? tried : "none compiled in");
}

/* The released VAE: 8x spatial and 8x temporal compression, the DiT's latent channels. */
static pf_status pf_api_check_vae(const pf_model *m, const pf_dit_config *d, const pf_vae_config *v) {
    int sf = 1, tf = 1;
    for (int i = 0; i < 4; i++) {
        sf *= v->dec_spatial_up[i] ? 2 : 1;
        tf *= v->dec_temporal_up[i] ? 2 : 1;
    }
    if (sf != 8 || tf != 8)
        return pf_error(PF_ERR_UNSUPPORTED, "%s: the VAE upsamples %dx in space and %dx in time (the pipeline needs 8x and 8x)",
                        m->dir.vae_dir, sf, tf);
    if (v->latent_channels != d->in_channels)
        return pf_error(PF_ERR_SHAPE, "%s: the VAE has %d latent channels, the DiT %d", m->dir.root, v->latent_channels,
                        d->in_channels);
    return PF_OK;
}

static void pf_api_unload(pf_model *m) {
    pf_vae_free(m->vae);
    pf_dit_free(m->dit);
    m->vae = NULL;
    m->dit = NULL;
}

/* The DiT and the VAE of the folder onto `be` (resident), or with be NULL onto the meta
 * backend only to check them (pf_model_open): every tensor's presence and shape, the DiT's
 * activation dtype, the VAE against the DiT. Loaded after pf_model_open, the folder must
 * still be the one checked then. On failure nothing stays allocated. */
static pf_status pf_api_load(pf_model *m, pf_backend *be) {
    if (be && m->dit && m->vae) return PF_OK;
    pf_api_unload(m);
    pf_backend *target = be;
    if (!target) PF_TRY(pf_backend_meta_create(&target));
    bool lazy = be && m->dcfg.hidden > 0; /* the folder was checked by pf_model_open */
    double t0 = pf_time_now();
    size_t before = target->bytes_allocated;
    pf_dit *dit = NULL;
    pf_vae *vae = NULL;
    pf_status rc = pf_dit_load(m->dir.dit_dir, target, m->dt, &dit);
    if (rc == PF_OK) rc = pf_dit_set_act_dtype(dit, m->act);
    if (rc == PF_OK) rc = pf_vae_load(m->dir.vae_dir, target, m->dt, &vae);
    size_t bytes = target->bytes_allocated - before;
    const pf_dit_config *dc = rc == PF_OK ? pf_dit_get_config(dit) : NULL;
    const pf_vae_config *vc = rc == PF_OK ? pf_vae_get_config(vae) : NULL;
    if (rc == PF_OK) rc = pf_api_check_vae(m, dc, vc);
    if (rc == PF_OK && lazy &&
        (dc->variant != m->dcfg.variant || dc->text_dim != m->dcfg.text_dim || dc->pooled_dim != m->dcfg.pooled_dim ||
         dc->in_channels != m->dcfg.in_channels))
        rc = pf_error(PF_ERR_FORMAT, "%s: the DiT's config.json changed since the model was opened", m->dir.dit_dir);
    if (rc == PF_OK) {
        m->dcfg = *dc;
        m->vcfg = *vc;
        m->weight_bytes = bytes;
    }
    if (rc == PF_OK && be) {
        m->dit = dit;
        m->vae = vae;
        m->load_s = pf_time_now() - t0;
    } else {
        pf_vae_free(vae);
        pf_dit_free(dit);
    }
    if (target != be) pf_backend_free(target);
    if (rc != PF_OK && lazy) return pf_error_wrap(rc, "loading the DiT and the VAE of %s", m->dir.root);
    return rc;
}

pf_status pf_model_open(const char *dir, const pf_model_options *opts, pf_model **out) {
    if (!out) return pf_error(PF_ERR_INVALID_ARG, "pf_model_open: NULL output");
    *out = NULL;
    pf_model_options def;
    pf_model_options_default(&def);
    if (!opts) opts = &def;
    if (!pf_api_precision_valid(opts->precision))
        return pf_error(PF_ERR_INVALID_ARG, "pf_model_open: unknown precision %d", (int)opts->precision);
    if (!pf_api_precision_valid(opts->activations))
        return pf_error(PF_ERR_INVALID_ARG, "pf_model_open: unknown activation precision %d", (int)opts->activations);
    pf_model *m = pf_calloc(1, sizeof *m, "model");
    if (!m) return PF_ERR_OOM;
    pf_status rc = pf_model_dir_find(dir, opts->resolution, &m->dir);
    if (rc == PF_OK) rc = pf_api_backend(opts, &m->be);
    m->keep_resident = opts->keep_resident;
    if (rc == PF_OK) {
        pf_backend_info bi;
        pf_backend_get_info(m->be, &bi);
        m->dt = pf_api_weight_dtype(opts->precision, &bi);
        m->act = pf_api_act_dtype(opts->activations, m->dt, &bi);
        /* keep_resident: the weights load here, as the check itself; else the same loaders
         * check every tensor on the meta backend (the same messages, nothing allocated) */
        rc = m->keep_resident ? pf_api_load(m, m->be) : pf_api_load(m, NULL);
    }
    if (rc != PF_OK) {
        pf_model_free(m);
        return rc;
    }
    m->variant = m->dcfg.variant;
    *out = m;
    return PF_OK;
}

pf_backend *pf_api_model_backend(const pf_model *m) { return m ? m->be : NULL; }
bool pf_api_model_resident(const pf_model *m) { return m && m->dit && m->vae; }

void pf_model_free(pf_model *m) {
    if (!m) return;
    pf_text_encoder_free(m->text);
    pf_api_unload(m);
    pf_backend_free(m->be);
    pf_model_dir_free(&m->dir);
    free(m);
}

static void pf_api_default_size(const pf_model *m, int *w, int *h) { pf_model_default_size(m->dir.resolution, w, h); }

pf_status pf_model_get_info(const pf_model *m, pf_model_info *info) {
    if (!m || !info) return pf_error(PF_ERR_INVALID_ARG, "pf_model_get_info: NULL argument");
    memset(info, 0, sizeof *info);
    const pf_dit_config *c = &m->dcfg;
    info->variant = m->variant == PF_DIT_MMDIT ? PF_VARIANT_SD3 : PF_VARIANT_MINIFLUX;
    snprintf(info->resolution, sizeof info->resolution, "%s", m->dir.resolution);
    pf_api_default_size(m, &info->default_width, &info->default_height);
    info->max_temp = pf_model_max_temp(m->dir.resolution);
    info->has_text_encoders = m->dir.has_text;
    info->text_dim = c->text_dim;
    info->pooled_dim = c->pooled_dim;
    pf_backend_info bi;
    pf_backend_get_info(m->be, &bi);
    snprintf(info->backend, sizeof info->backend, "%s", bi.name);
    snprintf(info->device, sizeof info->device, "%s", bi.device);
    info->precision = m->dt == PF_BF16 ? PF_PRECISION_BF16 : PF_PRECISION_F32;
    info->activations = m->act == PF_BF16 ? PF_PRECISION_BF16 : PF_PRECISION_F32;
    info->weight_bytes = m->weight_bytes;
    return PF_OK;
}

/* ---------------------------------------------------------------- prompts */

static pf_status pf_api_check_embeds(const pf_model *m, const pf_embeddings *e, const char *which) {
    const pf_dit_config *c = &m->dcfg;
    if (!e) return pf_error(PF_ERR_INVALID_ARG, "prompt embeddings: no %s embeddings", which);
    if (!e->hidden || !e->mask || !e->pooled)
        return pf_error(PF_ERR_INVALID_ARG, "prompt embeddings: %s embeddings lack hidden states, mask or pooled vector", which);
    if (e->tokens < 1 || e->tokens > 4096)
        return pf_error(PF_ERR_INVALID_ARG, "prompt embeddings: %s has %d tokens", which, e->tokens);
    if (e->text_dim != c->text_dim || e->pooled_dim != c->pooled_dim)
        return pf_error(PF_ERR_SHAPE, "prompt embeddings: %s has text dim %d and pooled dim %d; the model needs %d and %d",
                        which, e->text_dim, e->pooled_dim, c->text_dim, c->pooled_dim);
    return PF_OK;
}

pf_status pf_prompt_from_embeddings(pf_model *m, const pf_embeddings *positive, const pf_embeddings *negative,
                                    pf_prompt **out) {
    if (!out) return pf_error(PF_ERR_INVALID_ARG, "pf_prompt_from_embeddings: NULL output");
    *out = NULL;
    if (!m) return pf_error(PF_ERR_INVALID_ARG, "pf_prompt_from_embeddings: NULL model");
    PF_TRY(pf_api_check_embeds(m, positive, "positive"));
    PF_TRY(pf_api_check_embeds(m, negative, "negative"));
    if (positive->tokens != negative->tokens)
        return pf_error(PF_ERR_SHAPE, "prompt embeddings: positive has %d tokens, negative %d (they share one batch)",
                        positive->tokens, negative->tokens);
    pf_prompt *p = pf_calloc(1, sizeof *p, "prompt");
    if (!p) return PF_ERR_OOM;
    int L = positive->tokens, D = positive->text_dim, P = positive->pooled_dim;
    p->model = m;
    p->e = (pf_prompt_embeds){.batch = 2, .tokens = L, .text_dim = D, .pooled_dim = P};
    p->e.hidden = pf_malloc(sizeof(float) * 2 * (size_t)L * D, "prompt embeddings");
    p->e.mask = pf_malloc(sizeof(int32_t) * 2 * (size_t)L, "prompt embeddings");
    p->e.pooled = pf_malloc(sizeof(float) * 2 * (size_t)P, "prompt embeddings");
    if (!p->e.hidden || !p->e.mask || !p->e.pooled) {
        pf_prompt_free(p);
        return PF_ERR_OOM;
    }
    const pf_embeddings *rows[2] = {negative, positive}; /* CFG batch order */
    for (int b = 0; b < 2; b++) {
        memcpy(p->e.hidden + (size_t)b * L * D, rows[b]->hidden, sizeof(float) * (size_t)L * D);
        memcpy(p->e.pooled + (size_t)b * P, rows[b]->pooled, sizeof(float) * (size_t)P);
        for (int i = 0; i < L; i++) p->e.mask[b * L + i] = rows[b]->mask[i] != 0;
    }
    *out = p;
    return PF_OK;
}

void pf_prompt_free(pf_prompt *p) {
    if (!p) return;
    pf_prompt_embeds_free(&p->e);
    free(p);
}

pf_status pf_prompt_encode(pf_model *m, const char *prompt, const char *negative, pf_prompt **out) {
    if (!out) return pf_error(PF_ERR_INVALID_ARG, "pf_prompt_encode: NULL output");
    *out = NULL;
    if (!m || !prompt) return pf_error(PF_ERR_INVALID_ARG, "pf_prompt_encode: NULL %s", !m ? "model" : "prompt");
    if (!m->dir.has_text)
        return pf_error(PF_ERR_NOT_FOUND,
                        "model folder %s has no text encoders (text_encoder*/ and tokenizer*/); pass precomputed "
                        "embeddings with pf_prompt_from_embeddings",
                        m->dir.root);
    /* the text encoders and the DiT never share the backend: a DiT left by an earlier
     * generation goes first (pf_generate loads it again) */
    if (!m->keep_resident) pf_api_unload(m);
    if (!m->text) PF_TRY(pf_text_encoder_open(m->dir.root, m->variant, m->be, m->dt, &m->text));
    pf_prompt *p = pf_calloc(1, sizeof *p, "prompt");
    pf_status rc = p ? PF_OK : PF_ERR_OOM;
    if (p) {
        p->model = m;
        rc = pf_text_encode_prompts(m->text, prompt, negative, &p->e); /* each encoder freed after its use */
    }
    if (!m->keep_resident) {
        pf_text_encoder_free(m->text); /* the tokenizers */
        m->text = NULL;
    }
    if (!p) return rc;
    const pf_dit_config *c = &m->dcfg;
    if (rc == PF_OK && (p->e.text_dim != c->text_dim || p->e.pooled_dim != c->pooled_dim))
        rc = pf_error(PF_ERR_SHAPE, "%s: the text encoders give %d-wide hidden states and %d-wide pooled vectors; the DiT takes %d and %d",
                      m->dir.root, p->e.text_dim, p->e.pooled_dim, c->text_dim, c->pooled_dim);
    if (rc != PF_OK) {
        pf_prompt_free(p);
        return rc;
    }
    *out = p;
    return PF_OK;
}

/* ---------------------------------------------------------------- generation */

void pf_generate_params_default(pf_generate_params *p, pf_mode mode) {
    memset(p, 0, sizeof *p);
    pf_pipe_params pp;
    pf_pipe_params_default(&pp, mode == PF_MODE_I2V ? PF_PIPE_I2V : mode == PF_MODE_T2I ? PF_PIPE_T2I : PF_PIPE_T2V);
    p->mode = mode;
    p->temp = pp.temp;
    for (int s = 0; s < 3; s++) {
        p->steps[s] = pp.steps[s];
        p->video_steps[s] = pp.video_steps[s];
    }
    p->guidance = (float)pp.guidance;
    p->video_guidance = (float)pp.video_guidance;
    p->vae_tiling = pp.decode.tiling;
    p->vae_tile_size = pp.decode.tile_sample_min_size;
    p->vae_window = pp.decode.window;
}

typedef struct {
    const pf_generate_params *p;
} pf_api_progress_ctx;

static bool pf_api_progress(void *user, const pf_pipe_progress *pp) {
    const pf_generate_params *p = ((pf_api_progress_ctx *)user)->p;
    pf_progress pr = {.phase = pp->phase,
                      .unit = pp->unit,
                      .n_units = pp->n_units,
                      .stage = pp->stage,
                      .n_stages = pp->n_stages,
                      .step = pp->step,
                      .n_steps = pp->n_steps,
                      .call = pp->call,
                      .n_calls = pp->n_calls,
                      .chunk = pp->chunk,
                      .n_chunks = pp->n_chunks,
                      .elapsed_s = pp->elapsed_s};
    return p->progress(p->progress_user, &pr);
}

/* pf_pipeline.h: the model-independent part of the mapping, for a video of w x h pixels. */
pf_status pf_pipe_params_from_api(const pf_generate_params *p, int w, int h, pf_pipe_params *pp) {
    if (p->mode != PF_MODE_T2V && p->mode != PF_MODE_I2V && p->mode != PF_MODE_T2I)
        return pf_error(PF_ERR_INVALID_ARG, "generate: unknown mode %d", (int)p->mode);
    pf_pipe_params_default(pp, p->mode == PF_MODE_I2V ? PF_PIPE_I2V : p->mode == PF_MODE_T2I ? PF_PIPE_T2I : PF_PIPE_T2V);
    pp->width = w;
    pp->height = h;
    pp->temp = p->temp;
    for (int s = 0; s < 3; s++) {
        pp->steps[s] = p->steps[s];
        pp->video_steps[s] = p->video_steps[s];
    }
    pp->guidance = p->guidance;
    pp->video_guidance = p->video_guidance;
    pp->linear_guidance = p->linear_guidance;
    pp->decode.tiling = p->vae_tiling;
    pp->decode.tile_sample_min_size = p->vae_tile_size;
    pp->decode.window = p->vae_window;
    if (p->vae_tiling && (p->vae_tile_size < 32 || p->vae_tile_size % 32))
        return pf_error(PF_ERR_INVALID_ARG, "generate: VAE tile size %d must be a positive multiple of 32 pixels",
                        p->vae_tile_size);
    return pf_pipe_params_check(pp);
}

pf_status pf_generate_params_check(const pf_generate_params *p) {
    if (!p) return pf_error(PF_ERR_INVALID_ARG, "pf_generate_params_check: NULL parameters");
    if (p->width < 0 || p->height < 0) return pf_error(PF_ERR_INVALID_ARG, "generate: size %dx%d", p->width, p->height);
    pf_pipe_params pp;
    /* 0 stands for the model's default size, which is valid: check a valid stand-in */
    return pf_pipe_params_from_api(p, p->width ? p->width : 64, p->height ? p->height : 64, &pp);
}

/* pf_generate_params -> the pipeline's settings, with the model's defaults filled in. */
static pf_status pf_api_params(const pf_model *m, const pf_generate_params *p, const pf_rgb_image *image, pf_pipe_params *pp) {
    int w = p->width, h = p->height;
    if (w < 0 || h < 0) return pf_error(PF_ERR_INVALID_ARG, "generate: size %dx%d", w, h);
    if (p->mode == PF_MODE_I2V) {
        if (!image || !image->rgb) return pf_error(PF_ERR_INVALID_ARG, "generate: image-to-video needs an image");
        if ((w && w != image->width) || (h && h != image->height))
            return pf_error(PF_ERR_INVALID_ARG,
                            "generate: the image is %dx%d but %dx%d was asked for (scale and crop the image to the video "
                            "size first)",
                            image->width, image->height, w, h);
        w = image->width;
        h = image->height;
    } else {
        int dw, dh;
        pf_api_default_size(m, &dw, &dh);
        if (!w) w = dw;
        if (!h) h = dh;
    }
    return pf_pipe_params_from_api(p, w, h, pp);
}

pf_status pf_generate(pf_model *m, const pf_prompt *prompt, const pf_rgb_image *image, const pf_generate_params *p,
                      pf_video *out) {
    if (!out) return pf_error(PF_ERR_INVALID_ARG, "pf_generate: NULL output");
    memset(out, 0, sizeof *out);
    if (!m || !prompt || !p) return pf_error(PF_ERR_INVALID_ARG, "pf_generate: NULL %s", !m ? "model" : !prompt ? "prompt" : "parameters");
    if (prompt->model != m) return pf_error(PF_ERR_INVALID_ARG, "pf_generate: the prompt was made for another model");
    pf_pipe_params pp;
    PF_TRY(pf_api_params(m, p, image, &pp));

    pf_noise *noise = NULL;
    if (p->noise_file && *p->noise_file) PF_TRY(pf_noise_open_file(p->noise_file, &noise));
    else PF_TRY(pf_noise_create_seeded(p->seed, pp.sched.gamma, &noise));

    /* the DiT and the VAE, unless a generation or keep_resident left them resident */
    double load_s = 0.0;
    if (!m->dit || !m->vae) {
        pf_status lrc = pf_api_load(m, m->be);
        if (lrc != PF_OK) {
            pf_noise_free(noise);
            memset(&m->last, 0, sizeof m->last);
            m->last.device_peak_bytes = m->be->bytes_peak;
            return lrc;
        }
        load_s = m->load_s;
    }

    pf_pipe_denoiser dn;
    pf_pipe_vae pv;
    pf_pipe_denoiser_from_dit(m->dit, m->dt, &dn);
    pf_pipe_vae_from_vae(m->vae, m->dt, &pv);
    pf_pipe_inputs in = {.embeds = &prompt->e, .image = image ? image->rgb : NULL, .noise = noise};
    pf_api_progress_ctx pc = {p};
    pf_pipe_hooks h = {.user = &pc, .progress = p->progress ? pf_api_progress : NULL};
    pf_pipe_output po;
    pf_pipe_stats st;
    pf_status rc = pf_pipeline_run(&dn, &pv, &in, &pp, &h, &po, &st);
    pf_noise_free(noise);

    pf_generate_stats *g = &m->last;
    memset(g, 0, sizeof *g);
    g->load_s = load_s;
    g->total_s = st.t_total;
    g->noise_s = st.t_noise;
    g->vae_encode_s = st.t_vae_encode;
    for (int s = 0; s < 3; s++) g->dit_s[s] = st.t_dit[s];
    g->guidance_euler_s = st.t_guidance_euler;
    g->renoise_s = st.t_renoise;
    g->history_s = st.t_history;
    g->vae_decode_s = st.t_vae_decode;
    g->frames_s = st.t_frames;
    g->dit_calls = st.dit_calls;
    g->batch = st.batch;
    g->image_tokens = st.image_tokens;
    g->weight_bytes = m->weight_bytes;
    g->latent_bytes = st.latent_bytes;
    pf_dit_stats ds;
    pf_dit_get_stats(m->dit, &ds);
    g->dit_graph_bytes = ds.graph_peak_bytes;
    pf_vae_mem vm;
    pf_vae_last_mem(m->vae, &vm);
    g->vae_arena_bytes = vm.arena_bytes;
    g->device_peak_bytes = m->be->bytes_peak;
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) g->host_peak_bytes = (size_t)ru.ru_maxrss * 1024;
    pf_pipe_stats_free(&st);
    if (rc != PF_OK) return rc;
    out->frames = po.frames;
    out->width = po.width;
    out->height = po.height;
    out->fps = 24.0f;
    out->rgb = po.rgb;
    return PF_OK;
}

void pf_video_free(pf_video *v) {
    if (!v) return;
    free(v->rgb);
    memset(v, 0, sizeof *v);
}

pf_status pf_model_last_stats(const pf_model *m, pf_generate_stats *st) {
    if (!m || !st) return pf_error(PF_ERR_INVALID_ARG, "pf_model_last_stats: NULL argument");
    *st = m->last;
    return PF_OK;
}
