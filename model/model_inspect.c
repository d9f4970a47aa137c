/*
 * Model folder inventory and memory estimates (pf_model_inspect.h).
 */
#include "pf_model_inspect.h"

#include "pf_pipeline.h"
#include "pf_tiny_model.h"
#include "pf_weights.h"

const char *const pf_model_resolutions[3] = {"384p", "768p", "image"};

/* ---------------------------------------------------------------- inventory */

static pf_component *inv_add(pf_model_inventory *inv, const char *subdir, const char *what, pf_comp_kind kind) {
    if (inv->n >= PF_INV_MAX_COMPONENTS) return NULL;
    pf_component *c = &inv->comp[inv->n++];
    memset(c, 0, sizeof *c);
    snprintf(c->subdir, sizeof c->subdir, "%s", subdir);
    snprintf(c->what, sizeof c->what, "%s", what);
    c->kind = kind;
    char *dir = pf_path_join(inv->root, subdir);
    c->found = dir && pf_dir_exists(dir);
    free(dir);
    if (!c->found) snprintf(c->problem, sizeof c->problem, "%s/ (%s)", subdir, what);
    return c;
}

static void comp_problem(pf_component *c, const char *fmt, ...) PF_PRINTF(2, 3);
static void comp_problem(pf_component *c, const char *fmt, ...) {
    c->complete = false;
    if (c->problem[0]) return; /* the first problem says enough */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->problem, sizeof c->problem, fmt, ap);
    va_end(ap);
}

static bool comp_has_file(const pf_model_inventory *inv, const pf_component *c, const char *file) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s/%s", inv->root, c->subdir, file);
    return pf_file_exists(path);
}

/* config.json + weights whose headers read; parameter counts by dtype. */
static void inv_weights(pf_model_inventory *inv, pf_component *c) {
    if (!c->found) return;
    c->complete = true;
    if (!comp_has_file(inv, c, "config.json")) comp_problem(c, "%s/config.json (%s)", c->subdir, c->what);
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/%s", inv->root, c->subdir);
    pf_weights *w = NULL;
    if (pf_weights_open_dir(dir, &w) != PF_OK) {
        /* pf_weights_open_dir names the files it looked for, or the broken one */
        comp_problem(c, "%s/ weights (%s): %s", c->subdir, c->what, pf_last_error());
        pf_clear_error();
        return;
    }
    snprintf(c->source, sizeof c->source, "%s", pf_weights_source(w));
    for (int i = 0; i < pf_weights_count(w); i++) {
        const pf_weight_info *wi = pf_weights_at(w, i);
        int64_t n = 1;
        for (int d = 0; d < wi->ndim; d++) n *= wi->shape[d];
        c->n_params += n;
        if ((unsigned)wi->dtype < PF_DTYPE_COUNT) c->dtype_params[wi->dtype] += n;
    }
    pf_weights_close(w);
    if (!c->complete) return;
    pf_status rc = PF_OK;
    if (c->kind == PF_COMP_DIT) {
        pf_dit_config dc;
        rc = pf_dit_config_read(dir, &dc);
    } else if (c->kind == PF_COMP_VAE) {
        pf_vae_config vc;
        rc = pf_vae_config_read(dir, &vc);
    }
    if (rc != PF_OK) {
        comp_problem(c, "%s/config.json (%s): %s", c->subdir, c->what, pf_last_error());
        pf_clear_error();
    }
}

static void inv_tokenizer(pf_model_inventory *inv, pf_component *c, bool t5) {
    if (!c->found) return;
    c->complete = true;
    if (t5) {
        if (!comp_has_file(inv, c, "tokenizer.json") && !comp_has_file(inv, c, "spiece.model"))
            comp_problem(c, "%s/spiece.model or tokenizer.json (%s)", c->subdir, c->what);
        return;
    }
    bool v = comp_has_file(inv, c, "vocab.json"), m = comp_has_file(inv, c, "merges.txt");
    if (!v || !m)
        comp_problem(c, "%s/%s%s%s (%s)", c->subdir, v ? "" : "vocab.json", !v && !m ? " and " : "",
                     m ? "" : "merges.txt", c->what);
}

pf_status pf_model_inventory_read(const char *root, pf_model_inventory *inv) {
    if (!inv) return pf_error(PF_ERR_INVALID_ARG, "pf_model_inventory_read: NULL output");
    memset(inv, 0, sizeof *inv);
    if (!root || !*root) return pf_error(PF_ERR_INVALID_ARG, "model folder: no path given");
    if (!pf_dir_exists(root))
        return pf_error(PF_ERR_NOT_FOUND,
                        "model folder %s does not exist (download one with: huggingface-cli download "
                        "rain1011/pyramid-flow-miniflux --local-dir %s, or make a tiny one with: pflow "
                        "make-tiny-model %s)",
                        root, root, root);
    if (strlen(root) >= sizeof inv->root) return pf_error(PF_ERR_INVALID_ARG, "model folder path too long: %s", root);
    snprintf(inv->root, sizeof inv->root, "%s", root);
    for (int r = 0; r < 3; r++) {
        char sub[1100];
        snprintf(sub, sizeof sub, "%s/diffusion_transformer_%s", root, pf_model_resolutions[r]);
        inv->has_res[r] = pf_dir_exists(sub);
    }
    /* the variant: the first readable DiT config, else a guess from the encoder folders */
    for (int r = 0; r < 3 && !inv->variant_known; r++) {
        if (!inv->has_res[r]) continue;
        char sub[1100];
        snprintf(sub, sizeof sub, "%s/diffusion_transformer_%s", root, pf_model_resolutions[r]);
        pf_dit_config dc;
        if (pf_dit_config_read(sub, &dc) == PF_OK) {
            inv->variant = dc.variant;
            inv->variant_known = true;
        }
        pf_clear_error();
    }
    if (!inv->variant_known) {
        char *t3 = pf_path_join(root, "text_encoder_3");
        inv->variant = t3 && pf_dir_exists(t3) ? PF_DIT_MMDIT : PF_DIT_FLUX;
        free(t3);
    }
    bool any = false;
    for (int r = 0; r < 3; r++) {
        if (!inv->has_res[r]) continue;
        char sub[64], what[40];
        snprintf(sub, sizeof sub, "diffusion_transformer_%s", pf_model_resolutions[r]);
        snprintf(what, sizeof what, "DiT %s", pf_model_resolutions[r]);
        inv_weights(inv, inv_add(inv, sub, what, PF_COMP_DIT));
        any = true;
    }
    if (!any) inv_add(inv, "diffusion_transformer_384p", "DiT 384p", PF_COMP_DIT);
    inv_weights(inv, inv_add(inv, "causal_video_vae", "causal video VAE", PF_COMP_VAE));
    if (inv->variant == PF_DIT_FLUX) {
        inv_weights(inv, inv_add(inv, "text_encoder", "CLIP-L text encoder", PF_COMP_TEXT_ENCODER));
        inv_weights(inv, inv_add(inv, "text_encoder_2", "T5-XXL text encoder", PF_COMP_TEXT_ENCODER));
        inv_tokenizer(inv, inv_add(inv, "tokenizer", "CLIP tokenizer", PF_COMP_TOKENIZER), false);
        inv_tokenizer(inv, inv_add(inv, "tokenizer_2", "T5 tokenizer", PF_COMP_TOKENIZER), true);
    } else {
        inv_weights(inv, inv_add(inv, "text_encoder", "CLIP-L text encoder", PF_COMP_TEXT_ENCODER));
        inv_weights(inv, inv_add(inv, "text_encoder_2", "CLIP-G text encoder", PF_COMP_TEXT_ENCODER));
        inv_weights(inv, inv_add(inv, "text_encoder_3", "T5-XXL text encoder", PF_COMP_TEXT_ENCODER));
        inv_tokenizer(inv, inv_add(inv, "tokenizer", "CLIP-L tokenizer", PF_COMP_TOKENIZER), false);
        inv_tokenizer(inv, inv_add(inv, "tokenizer_2", "CLIP-G tokenizer", PF_COMP_TOKENIZER), false);
        inv_tokenizer(inv, inv_add(inv, "tokenizer_3", "T5 tokenizer", PF_COMP_TOKENIZER), true);
    }
    inv->tiny = pf_tiny_model_is(root);
    return PF_OK;
}

const pf_component *pf_model_inventory_find(const pf_model_inventory *inv, const char *subdir) {
    for (int i = 0; inv && i < inv->n; i++)
        if (!strcmp(inv->comp[i].subdir, subdir)) return &inv->comp[i];
    return NULL;
}

static void inv_list_add(char *list, size_t cap, int *n, const char *item) {
    size_t o = strlen(list);
    snprintf(list + o, cap - o, "%s%s", (*n)++ ? "; " : "", item);
}

pf_status pf_model_inventory_check(const pf_model_inventory *inv, const char *resolution, bool need_text) {
    if (!inv) return pf_error(PF_ERR_INVALID_ARG, "pf_model_inventory_check: NULL inventory");
    char list[4096] = "";
    int n = 0;
    /* the DiT: the one asked for, else any complete one */
    if (resolution && *resolution) {
        char sub[64];
        snprintf(sub, sizeof sub, "diffusion_transformer_%s", resolution);
        const pf_component *c = pf_model_inventory_find(inv, sub);
        if (!c) {
            char item[512], has[64] = "";
            for (int r = 0; r < 3; r++)
                if (inv->has_res[r])
                    snprintf(has + strlen(has), sizeof has - strlen(has), "%s%s", has[0] ? ", " : "",
                             pf_model_resolutions[r]);
            snprintf(item, sizeof item, "%s/ (DiT %s; the folder has %s)", sub, resolution,
                     has[0] ? has : "no diffusion_transformer_* folder");
            inv_list_add(list, sizeof list, &n, item);
        } else if (!c->complete) {
            inv_list_add(list, sizeof list, &n, c->problem);
        }
    } else {
        bool any = false;
        for (int i = 0; i < inv->n; i++) any |= inv->comp[i].kind == PF_COMP_DIT && inv->comp[i].complete;
        for (int i = 0; i < inv->n && !any; i++)
            if (inv->comp[i].kind == PF_COMP_DIT) inv_list_add(list, sizeof list, &n, inv->comp[i].problem);
    }
    for (int i = 0; i < inv->n; i++) {
        const pf_component *c = &inv->comp[i];
        if (c->kind == PF_COMP_DIT || c->complete) continue;
        if ((c->kind == PF_COMP_TEXT_ENCODER || c->kind == PF_COMP_TOKENIZER) && !need_text) continue;
        inv_list_add(list, sizeof list, &n, c->problem);
    }
    if (!n) return PF_OK;
    const char *repo = inv->variant == PF_DIT_MMDIT ? "rain1011/pyramid-flow-sd3" : "rain1011/pyramid-flow-miniflux";
    if (inv->tiny)
        return pf_error(PF_ERR_NOT_FOUND,
                        "model folder %s is incomplete; missing or broken: %s. Write it again with: "
                        "pflow make-tiny-model %s",
                        inv->root, list, inv->root);
    return pf_error(PF_ERR_NOT_FOUND,
                    "model folder %s is incomplete; missing or broken: %s. Download the whole repository into it "
                    "(huggingface-cli download %s --local-dir %s; complete files are skipped)",
                    inv->root, list, repo, inv->root);
}

/* ---------------------------------------------------------------- memory estimate */

void pf_model_default_size(const char *res, int *w, int *h) {
    if (res && !strcmp(res, "768p")) *w = 1280, *h = 768;
    else if (res && !strcmp(res, "image")) *w = 1024, *h = 1024;
    else *w = 640, *h = 384;
}

int pf_model_max_temp(const char *res) {
    if (res && !strcmp(res, "768p")) return 31;
    if (res && !strcmp(res, "image")) return 1;
    return 16;
}

/* The README's default generation of a resolution: temp 16 (5 s), one frame for images. */
static void est_defaults(const char *res, int *w, int *h, int *temp) {
    int dw, dh;
    pf_model_default_size(res, &dw, &dh);
    if (!*w) *w = dw;
    if (!*h) *h = dh;
    if (!strcmp(res, "image")) *temp = 1;
    else if (!*temp) *temp = 16;
}

/* Plan the DiT call of the last unit at every stage on the meta backend; the largest wins. */
static pf_status est_dit(pf_backend *meta, const pf_dit_config *cfg, pf_dtype dt, pf_dtype act, int Hl, int Wl,
                         int T, pf_mem_estimate *e) {
    const pf_dit_config dc = *cfg;
    pf_dit *dit = NULL;
    PF_TRY(pf_dit_create_random(&dc, meta, dt, 0, &dit));
    pf_pool *pool = NULL;
    pf_status rc = pf_dit_set_act_dtype(dit, act);
    if (rc == PF_OK) rc = pf_pool_create(meta, 0, &pool);
    const int B = 2, L = PF_T5_MAX_TOKENS, S = PF_PIPE_STAGES, C = dc.in_channels;
    int32_t *mask = pf_calloc((size_t)B * L, sizeof *mask, "mask");
    if (!mask) rc = PF_ERR_OOM;
    for (int i = 0; i < B * L && mask; i++) mask[i] = 1;
    float ts[2] = {500.0f, 500.0f};
    int64_t tne[3] = {B, L, dc.text_dim}, pne[2] = {B, dc.pooled_dim};
    pf_tensor *text = rc == PF_OK ? pf_pool_tensor(pool, dt, 3, tne, "text") : NULL;
    pf_tensor *pooled = rc == PF_OK ? pf_pool_tensor(pool, dt, 2, pne, "pooled") : NULL;
    if (rc == PF_OK && (!text || !pooled)) rc = PF_ERR_OOM;
    int k = T - 1; /* the last unit has the longest history */
    size_t hist_bytes = 0;
    for (int s = 0; s < S && rc == PF_OK; s++) {
        pf_hist_clip hc[PF_PIPE_STAGES + 1];
        int nh = pf_history_layout(k, s, S, hc, PF_PIPE_STAGES + 1);
        pf_dit_inputs in = {
            .batch = B, .n_clips = nh + 1, .timestep = ts, .text = text, .text_mask = mask, .pooled = pooled};
        size_t stage_hist = 0;
        for (int c = 0; c <= nh && rc == PF_OK; c++) {
            int lv = c < nh ? hc[c].level : s, t = c < nh ? hc[c].count : 1;
            int64_t ne[5] = {B, C, t, Hl >> (S - 1 - lv), Wl >> (S - 1 - lv)};
            in.clips[c] = pf_pool_tensor(pool, dt, 5, ne, "clip");
            if (!in.clips[c]) rc = PF_ERR_OOM;
            else if (c < nh) stage_hist += pf_nbytes(in.clips[c]);
        }
        int64_t vne[5] = {B, C, 1, Hl >> (S - 1 - s), Wl >> (S - 1 - s)};
        pf_tensor *vel = rc == PF_OK ? pf_pool_tensor(pool, dt, 5, vne, "velocity") : NULL;
        if (rc == PF_OK && !vel) rc = PF_ERR_OOM;
        pf_dit_stats st;
        if (rc == PF_OK) rc = pf_dit_plan(dit, &in, vel, &st);
        if (rc != PF_OK) break;
        e->dit_stage_compute[s] = st.graph_peak_bytes;
        e->dit_stage_tokens[s] = st.image_tokens;
        e->dit_stage_inputs[s] = stage_hist;
        if (st.graph_peak_bytes > e->dit_compute) e->dit_compute = st.graph_peak_bytes;
        hist_bytes += stage_hist; /* a unit's history clips of every stage are built at its start */
    }
    pf_dit_stats st;
    pf_dit_get_stats(dit, &st);
    e->dit_weights = st.weight_bytes;
    e->latents += hist_bytes;
    free(mask);
    pf_pool_free(pool);
    pf_dit_free(dit);
    return rc;
}

pf_status pf_estimate_memory(const pf_dit_config *dc, const pf_vae_config *vc, size_t text_weights, pf_dtype dtype,
                             pf_dtype act, int width, int height, int temp, pf_mem_estimate *e) {
    if (!dc || !vc || !e) return pf_error(PF_ERR_INVALID_ARG, "pf_estimate_memory: NULL argument");
    memset(e, 0, sizeof *e);
    if ((dtype != PF_F32 && dtype != PF_BF16) || (act != PF_F32 && act != PF_BF16))
        return pf_error(PF_ERR_INVALID_ARG, "memory estimate: weights %s, activations %s (f32 or bf16)",
                        pf_dtype_name(dtype), pf_dtype_name(act));
    const int W = width, H = height, T = temp;
    if (W <= 0 || H <= 0 || W % 64 || H % 64 || T < 1)
        return pf_error(PF_ERR_INVALID_ARG, "memory estimate: %dx%d, temp %d (sizes must be multiples of 64)", W, H, T);
    e->dtype = dtype;
    e->act = act;
    e->width = W;
    e->height = H;
    e->temp = T;
    e->text_weights = text_weights;
    const int Hl = H / 8, Wl = W / 8;
    pf_backend *meta = NULL;
    PF_TRY(pf_backend_meta_create(&meta));
    pf_status rc = est_dit(meta, dc, dtype, act, Hl, Wl, T, e);
    pf_pipe_params p;
    pf_pipe_params_default(&p, PF_PIPE_T2V);
    p.width = W;
    p.height = H;
    p.temp = T;
    size_t lat = 0;
    if (rc == PF_OK) rc = pf_pipeline_latent_bytes(&p, dc->in_channels, dtype, PF_T5_MAX_TOKENS, dc->text_dim,
                                                   dc->pooled_dim, &lat);
    e->latents += lat;
    pf_vae *vae = NULL;
    if (rc == PF_OK) rc = pf_vae_create_random(vc, meta, dtype, 0, &vae);
    if (rc == PF_OK) {
        pf_vae_mem m;
        rc = pf_vae_decode_predict_mem(vae, T, Hl, Wl, &p.decode, &m);
        if (rc == PF_OK) {
            e->vae_arena = m.arena_bytes;
            e->vae_caches = m.cache_bytes;
            e->vae_compute = m.arena_bytes + m.cache_bytes;
            e->vae_weights = m.weight_bytes;
            size_t F = 1 + 8 * (size_t)(T - 1);
            e->host_video = m.host_bytes + F * (size_t)H * W * 3 * (sizeof(float) + 1);
        }
    }
    pf_vae_free(vae);
    pf_backend_free(meta);
    if (rc != PF_OK) return rc;
    /* the text encoders run (one at a time) with nothing else resident; the DiT and the VAE
     * load after them (pf_model_options.keep_resident off, the default) and stay through the
     * decode, whose memory comes after the last DiT call's is released */
    size_t resident = e->dit_weights + e->vae_weights + e->latents;
    e->dit_phase = resident + e->dit_compute;
    e->decode_phase = resident + e->vae_compute;
    e->device_peak = PF_MAX(e->text_weights, PF_MAX(e->dit_phase, e->decode_phase));
    return PF_OK;
}

pf_status pf_model_estimate_memory(const pf_model_inventory *inv, const char *resolution, pf_dtype dtype,
                                   pf_dtype act, int width, int height, int temp, pf_mem_estimate *e) {
    if (!inv || !e) return pf_error(PF_ERR_INVALID_ARG, "pf_model_estimate_memory: NULL argument");
    memset(e, 0, sizeof *e);
    const char *res = resolution && *resolution ? resolution : NULL;
    for (int r = 0; r < 3 && !res; r++)
        if (inv->has_res[r]) res = pf_model_resolutions[r];
    if (!res) return pf_error(PF_ERR_NOT_FOUND, "model folder %s has no diffusion_transformer_* folder", inv->root);
    int W = width, H = height, T = temp;
    est_defaults(res, &W, &H, &T);
    char dit_dir[1200], vae_dir[1200];
    snprintf(dit_dir, sizeof dit_dir, "%s/diffusion_transformer_%s", inv->root, res);
    snprintf(vae_dir, sizeof vae_dir, "%s/causal_video_vae", inv->root);
    size_t text = 0;
    for (int i = 0; i < inv->n; i++) {
        const pf_component *c = &inv->comp[i];
        if (c->kind != PF_COMP_TEXT_ENCODER) continue;
        size_t b = (size_t)c->n_params * pf_dtype_size(dtype);
        if (b > text) text = b;
    }
    pf_dit_config dc;
    pf_vae_config vc;
    pf_status rc = pf_dit_config_read(dit_dir, &dc);
    if (rc == PF_OK) rc = pf_vae_config_read(vae_dir, &vc);
    if (rc == PF_OK) rc = pf_estimate_memory(&dc, &vc, text, dtype, act, W, H, T, e);
    if (rc != PF_OK) return pf_error_wrap(rc, "memory estimate for %s", inv->root);
    return PF_OK;
}
