/*
 * The DiT component: loading, the per-layout graph cache and pf_dit_forward.
 *
 * One graph is built per token layout (batch, text length, clip shapes, dtypes),
 * planned into the arena all layouts share, and replayed. The caller's tensors
 * (clips, text, pooled, velocity) enter each graph through "slots": leaves the
 * layout owns and points at the caller's current storage before every call, so
 * a pipeline may pass different tensors each step without rebuilding anything.
 */
#include "dit_internal.h"

/* ------------------------------------------------------------------ construction */

static pf_status dit_alloc(const pf_dit_config *cfg, pf_backend *be, pf_dtype dtype, const char *what, pf_dit **out) {
    *out = NULL;
    if (!be) return pf_error(PF_ERR_INVALID_ARG, "%s: no backend", what);
    if (dtype != PF_F32 && dtype != PF_BF16 && dtype != PF_F16)
        return pf_error(PF_ERR_INVALID_ARG, "%s: weight dtype %s (expected f32, bf16 or f16)", what,
                        pf_dtype_name(dtype));
    pf_dit *dit = pf_calloc(1, sizeof *dit, "DiT");
    if (!dit) return PF_ERR_OOM;
    dit->cfg = *cfg;
    dit->be = be;
    dit->wdtype = dtype;
    dit->act = PF_F32;
    dit->max_layouts = DIT_DEFAULT_MAX_LAYOUTS;
    snprintf(dit->source, sizeof dit->source, "%s", what);
    pf_status rc = dit_config_finish(dit, what);
    if (rc == PF_OK) {
        dit->blocks = pf_calloc((size_t)PF_MAX(cfg->n_double, 1), sizeof *dit->blocks, "DiT blocks");
        dit->single_blocks = pf_calloc((size_t)PF_MAX(cfg->n_single, 1), sizeof *dit->single_blocks, "DiT blocks");
        if (!dit->blocks || !dit->single_blocks) rc = PF_ERR_OOM;
    }
    if (rc == PF_OK) {
        /* a pool sized to the weights: a tiny model allocates what it holds */
        size_t bytes = 0;
        int n_tensors = 0;
        if (dit_count_weights(&dit->cfg, dtype, &bytes, &n_tensors) < 0)
            rc = pf_pool_create(be, 0, &dit->pool);
        else
            rc = pf_pool_create_for(be, bytes, n_tensors, &dit->pool);
    }
    if (rc == PF_OK) rc = pf_arena_create(be, &dit->arena);
    if (rc != PF_OK) {
        pf_dit_free(dit);
        return rc;
    }
    *out = dit;
    return PF_OK;
}

static int dit_cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Tensors of the file no module of this variant uses: worth a warning, not an error. */
static void dit_warn_unused(const pf_weights *w, dit_wsource *src, const char *dir) {
    if (!src->names) return;
    qsort(src->names, (size_t)src->n_names, sizeof *src->names, dit_cmp_str);
    char list[400] = "";
    int n_unused = 0;
    for (int i = 0; i < pf_weights_count(w); i++) {
        const char *name = pf_weights_at(w, i)->name;
        if (bsearch(&name, src->names, (size_t)src->n_names, sizeof *src->names, dit_cmp_str)) continue;
        if (n_unused++ < 6) {
            size_t o = strlen(list);
            snprintf(list + o, sizeof list - o, "%s%s", o ? ", " : "", name);
        }
    }
    if (n_unused)
        PF_WARN("DiT %s: %d tensor%s in the file not used by this model: %s%s", dir, n_unused, n_unused > 1 ? "s" : "",
                list, n_unused > 6 ? ", ..." : "");
}

static void dit_free_names(dit_wsource *src) {
    for (int i = 0; i < src->n_names; i++) free(src->names[i]);
    free(src->names);
    src->names = NULL;
}

pf_status pf_dit_load(const char *dir, pf_backend *be, pf_dtype dtype, pf_dit **out) {
    if (!out) return pf_error(PF_ERR_INVALID_ARG, "pf_dit_load: NULL output");
    *out = NULL;
    if (!dir) return pf_error(PF_ERR_INVALID_ARG, "pf_dit_load: NULL directory");
    char *cfg_path = pf_path_join(dir, "config.json");
    if (!cfg_path) return pf_error(PF_ERR_OOM, "out of host memory");
    pf_dit_config cfg;
    pf_dit *dit = NULL;
    pf_status rc = dit_config_parse(cfg_path, &cfg);
    if (rc == PF_OK) rc = dit_alloc(&cfg, be, dtype, cfg_path, &dit); /* config problems name the file */
    free(cfg_path);
    if (rc != PF_OK) return rc;
    pf_weights *w = NULL;
    rc = pf_weights_open_dir(dir, &w);
    if (rc != PF_OK) {
        pf_dit_free(dit);
        return pf_error_wrap(rc, "DiT %s", dir);
    }
    snprintf(dit->source, sizeof dit->source, "%s", pf_weights_source(w));
    pf_loader L;
    pf_loader_init(&L, w, dit->pool, dtype, "DiT");
    dit_wsource src = {.loader = &L};
    dit_weights_declare(dit, &src);
    rc = pf_loader_finish(&L); /* every missing or mis-shaped tensor in one message */
    if (rc == PF_OK) dit_warn_unused(w, &src, dir);
    dit_free_names(&src);
    pf_weights_close(w);
    if (rc != PF_OK) {
        pf_dit_free(dit);
        return rc;
    }
    dit->cfg.n_params = src.n_params;
    char b1[32];
    PF_DEBUG("DiT %s: %s, %d heads x %d, %d + %d blocks, %.3f G parameters (%s on %s)", dir,
             cfg.variant == PF_DIT_FLUX ? "miniFLUX" : "SD3 MMDiT", cfg.heads, cfg.head_dim, cfg.n_double, cfg.n_single,
             (double)src.n_params * 1e-9, pf_fmt_bytes((double)pf_pool_bytes(dit->pool), b1, sizeof b1),
             pf_backend_name(be));
    *out = dit;
    return PF_OK;
}

pf_status pf_dit_create_random(const pf_dit_config *cfg, pf_backend *be, pf_dtype dtype, uint64_t seed, pf_dit **out) {
    if (!out) return pf_error(PF_ERR_INVALID_ARG, "pf_dit_create_random: NULL output");
    *out = NULL;
    if (!cfg) return pf_error(PF_ERR_INVALID_ARG, "pf_dit_create_random: NULL config");
    pf_dit_config c = *cfg;
    c.hidden = c.heads * c.head_dim;
    pf_dit *dit = NULL;
    PF_TRY(dit_alloc(&c, be, dtype, "random DiT", &dit));
    pf_random_fill rf = {.seed = seed};
    dit_wsource src = {.pool = dit->pool, .rand = &rf};
    pf_status rc = dit_weights_declare(dit, &src);
    pf_random_fill_free(&rf);
    if (rc != PF_OK) {
        pf_dit_free(dit);
        return pf_error_wrap(rc, "random DiT");
    }
    dit->cfg.n_params = src.n_params;
    *out = dit;
    return PF_OK;
}

static void dit_layout_free(dit_layout *lay) {
    if (!lay) return;
    pf_graph_free(lay->g);
    free(lay->rope_host);
    free(lay->dbg_name);
    free(lay->dbg_node);
    free(lay);
}

static void dit_clear_layouts(pf_dit *dit) {
    for (int i = 0; i < dit->n_layouts; i++) dit_layout_free(dit->layouts[i]);
    dit->n_layouts = 0;
    dit->last_layout = NULL;
}

void pf_dit_free(pf_dit *dit) {
    if (!dit) return;
    dit_clear_layouts(dit);
    free(dit->layouts);
    pf_arena_free(dit->arena);
    pf_pool_free(dit->table_pool);
    pf_pool_free(dit->pool);
    free(dit->pos_cache);
    free(dit->pos_host);
    free(dit->blocks);
    free(dit->single_blocks);
    free(dit);
}

const pf_dit_config *pf_dit_get_config(const pf_dit *dit) { return dit ? &dit->cfg : NULL; }
pf_backend *pf_dit_backend(const pf_dit *dit) { return dit ? dit->be : NULL; }

void pf_dit_get_stats(const pf_dit *dit, pf_dit_stats *st) {
    if (!st) return;
    memset(st, 0, sizeof *st);
    if (!dit) return;
    *st = dit->last;
    st->weight_bytes = pf_pool_bytes(dit->pool);
    st->arena_bytes = pf_arena_size(dit->arena);
    st->n_graphs = dit->n_built;
}

void pf_dit_release_compute(pf_dit *dit) {
    if (dit) pf_arena_release(dit->arena);
}

void pf_dit_set_debug(pf_dit *dit, bool on) {
    if (!dit || dit->debug == on) return;
    dit->debug = on;
    dit_clear_layouts(dit);
}

pf_status pf_dit_set_act_dtype(pf_dit *dit, pf_dtype dt) {
    if (!dit) return pf_error(PF_ERR_INVALID_ARG, "pf_dit_set_act_dtype: NULL DiT");
    if (dt != PF_F32 && dt != PF_BF16 && dt != PF_F16)
        return pf_error(PF_ERR_INVALID_ARG, "DiT activations in %s (expected f32, bf16 or f16)", pf_dtype_name(dt));
    if (dit->act != dt) {
        dit->act = dt;
        dit_clear_layouts(dit);
    }
    return PF_OK;
}

/* ------------------------------------------------------------------ input checks */

static bool dit_is_float(pf_dtype t) { return t == PF_F32 || t == PF_BF16 || t == PF_F16; }

/* A caller tensor: present, contiguous, a float type, on this DiT's backend. */
static pf_status dit_check_tensor(const pf_dit *dit, const pf_tensor *t, const char *what) {
    if (!t) return pf_error(PF_ERR_INVALID_ARG, "DiT forward: %s is NULL", what);
    const pf_tensor *r = pf_root((pf_tensor *)t);
    if (!r->buffer || !(r->flags & PF_TF_EXTERNAL))
        return pf_error(PF_ERR_INVALID_ARG, "DiT forward: %s '%s' has no storage of its own (use a pool tensor)", what,
                        t->name);
    if (r->buffer->backend != dit->be)
        return pf_error(PF_ERR_INVALID_ARG, "DiT forward: %s '%s' lives on backend %s, the DiT on %s", what, t->name,
                        pf_backend_name(r->buffer->backend), pf_backend_name(dit->be));
    if (!pf_is_contiguous(t))
        return pf_error(PF_ERR_INVALID_ARG, "DiT forward: %s '%s' is not contiguous", what, t->name);
    if (!dit_is_float(t->dtype))
        return pf_error(PF_ERR_INVALID_ARG, "DiT forward: %s '%s' has dtype %s (expected f32, bf16 or f16)", what,
                        t->name, pf_dtype_name(t->dtype));
    return PF_OK;
}

/* Validate a call and derive its layout key. */
static pf_status dit_check_inputs(const pf_dit *dit, const pf_dit_inputs *in, const pf_tensor *vel, dit_layout_key *k) {
    const pf_dit_config *c = &dit->cfg;
    char b1[96];
    memset(k, 0, sizeof *k);
    if (!in) return pf_error(PF_ERR_INVALID_ARG, "DiT forward: NULL inputs");
    if (in->batch < 1) return pf_error(PF_ERR_INVALID_ARG, "DiT forward: batch %d", in->batch);
    if (in->n_clips < 1 || in->n_clips > PF_DIT_MAX_CLIPS)
        return pf_error(PF_ERR_INVALID_ARG, "DiT forward: %d clips (1 to %d: history clips, then the current one)",
                        in->n_clips, PF_DIT_MAX_CLIPS);
    if (!in->timestep || !in->text_mask)
        return pf_error(PF_ERR_INVALID_ARG, "DiT forward: no %s given", !in->timestep ? "timestep" : "text mask");
    const int B = in->batch, p = c->patch;
    k->batch = B;
    k->n_clips = in->n_clips;
    for (int i = 0; i < in->n_clips; i++) {
        char what[32];
        snprintf(what, sizeof what, "clip %d", i);
        PF_TRY(dit_check_tensor(dit, in->clips[i], what));
        const pf_tensor *x = in->clips[i];
        if (x->ndim != 5 || x->ne[0] != B || x->ne[1] != c->in_channels || x->ne[2] < 1 || x->ne[3] < p ||
            x->ne[4] < p || x->ne[3] % p || x->ne[4] % p)
            return pf_error(PF_ERR_SHAPE,
                            "DiT forward: clip %d '%s' is %s; expected [%d, %d, T, H, W] with H and W multiples of %d",
                            i, x->name, pf_shape_str(x, b1, sizeof b1), B, c->in_channels, p);
        if (x->ne[2] > 4096 || x->ne[3] > 65536 || x->ne[4] > 65536)
            return pf_error(PF_ERR_SHAPE, "DiT forward: clip %d %s is too large", i, pf_shape_str(x, b1, sizeof b1));
        k->t[i] = (int)x->ne[2];
        k->h[i] = (int)x->ne[3];
        k->w[i] = (int)x->ne[4];
        k->clip_dt[i] = x->dtype;
    }
    const int last = in->n_clips - 1;
    if (c->variant == PF_DIT_MMDIT) {
        const int S = c->pos_embed_max_size, hc = k->h[last] / p, wc = k->w[last] / p;
        if (hc > S || wc > S)
            return pf_error(PF_ERR_SHAPE,
                            "DiT forward: the current clip's %dx%d token grid exceeds pos_embed_max_size %d", hc, wc,
                            S);
        for (int i = 0; i < last; i++)
            if (k->h[i] > k->h[last] || k->w[i] > k->w[last])
                return pf_error(PF_ERR_SHAPE,
                                "DiT forward: history clip %d (%dx%d) is larger than the current clip (%dx%d); the SD3 "
                                "position crop needs history at the current resolution or below",
                                i, k->h[i], k->w[i], k->h[last], k->w[last]);
    }
    PF_TRY(dit_check_tensor(dit, in->text, "text"));
    if (in->text->ndim != 3 || in->text->ne[0] != B || in->text->ne[1] < 1 || in->text->ne[2] != c->text_dim)
        return pf_error(PF_ERR_SHAPE, "DiT forward: text '%s' is %s; expected [%d, L, %d]", in->text->name,
                        pf_shape_str(in->text, b1, sizeof b1), B, c->text_dim);
    if (in->text->ne[1] > 65536)
        return pf_error(PF_ERR_SHAPE, "DiT forward: %lld text tokens", (long long)in->text->ne[1]);
    k->text_len = (int)in->text->ne[1];
    k->text_dt = in->text->dtype;
    PF_TRY(dit_check_tensor(dit, in->pooled, "pooled"));
    if (in->pooled->ndim != 2 || in->pooled->ne[0] != B || in->pooled->ne[1] != c->pooled_dim)
        return pf_error(PF_ERR_SHAPE, "DiT forward: pooled '%s' is %s; expected [%d, %d]", in->pooled->name,
                        pf_shape_str(in->pooled, b1, sizeof b1), B, c->pooled_dim);
    k->pooled_dt = in->pooled->dtype;
    PF_TRY(dit_check_tensor(dit, vel, "velocity"));
    if (vel->ndim != 5 || vel->ne[0] != B || vel->ne[1] != c->in_channels || vel->ne[2] != k->t[last] ||
        vel->ne[3] != k->h[last] || vel->ne[4] != k->w[last])
        return pf_error(PF_ERR_SHAPE,
                        "DiT forward: velocity '%s' is %s; expected [%d, %d, %d, %d, %d] (the current clip)", vel->name,
                        pf_shape_str(vel, b1, sizeof b1), B, c->in_channels, k->t[last], k->h[last], k->w[last]);
    k->vel_dt = vel->dtype;
    for (int b = 0; b < B; b++)
        if (!isfinite(in->timestep[b]))
            return pf_error(PF_ERR_INVALID_ARG, "DiT forward: timestep[%d] is not finite", b);
    return PF_OK;
}

/* ------------------------------------------------------------------ layouts */

/* Point a slot at a caller tensor's storage (shape fixed by the layout key). */
static void dit_bind(pf_tensor *slot, const pf_tensor *src) {
    pf_tensor *r = pf_root((pf_tensor *)src);
    slot->buffer = r->buffer;
    slot->offset = pf_data_offset(src);
}

static void dit_slot_init(pf_tensor *slot, const pf_tensor *src, const char *name) {
    memset(slot, 0, sizeof *slot);
    slot->dtype = src->dtype;
    slot->ndim = src->ndim;
    for (int i = 0; i < src->ndim; i++) slot->ne[i] = src->ne[i];
    pf_set_contiguous_strides(slot);
    slot->op = PF_OP_NONE;
    slot->flags = PF_TF_EXTERNAL;
    slot->chunk = -1;
    slot->graph_index = -1;
    snprintf(slot->name, sizeof slot->name, "%s", name);
    dit_bind(slot, src);
}

static void dit_layout_desc(const dit_layout_key *k, char *buf, size_t n) {
    size_t o = (size_t)snprintf(buf, n, "B=%d L=%d clips", k->batch, k->text_len);
    for (int i = 0; i < k->n_clips && o < n; i++)
        o += (size_t)snprintf(buf + o, n - o, " %dx%dx%d", k->t[i], k->h[i], k->w[i]);
}

static pf_status dit_layout_build(pf_dit *dit, const dit_layout_key *key, const pf_dit_inputs *in, pf_tensor *vel,
                                  dit_layout **out) {
    const pf_dit_config *c = &dit->cfg;
    const int p = c->patch, last = key->n_clips - 1;
    *out = NULL;
    dit_layout *lay = pf_calloc(1, sizeof *lay, "DiT layout");
    if (!lay) return PF_ERR_OOM;
    lay->key = *key;
    for (int i = 0; i < key->n_clips; i++) lay->n_img += key->t[i] * (key->h[i] / p) * (key->w[i] / p);
    lay->n_cur = key->t[last] * (key->h[last] / p) * (key->w[last] / p);
    lay->n_tot = key->text_len + lay->n_img;
    for (int i = 0; i < key->n_clips; i++) {
        char name[16];
        snprintf(name, sizeof name, "clip%d", i);
        lay->clip_slot[i] = &lay->slots[i];
        dit_slot_init(lay->clip_slot[i], in->clips[i], name);
    }
    lay->text_slot = &lay->slots[PF_DIT_MAX_CLIPS];
    lay->pooled_slot = &lay->slots[PF_DIT_MAX_CLIPS + 1];
    lay->vel_slot = &lay->slots[PF_DIT_MAX_CLIPS + 2];
    dit_slot_init(lay->text_slot, in->text, "encoder_hidden_states");
    dit_slot_init(lay->pooled_slot, in->pooled, "pooled_projections");
    dit_slot_init(lay->vel_slot, vel, "velocity");

    char desc[200];
    dit_layout_desc(key, desc, sizeof desc);
    pf_graph *g = lay->g = pf_graph_new("dit");
    if (!g) {
        dit_layout_free(lay);
        return PF_ERR_OOM;
    }
    const int B = key->batch;
    const pf_dtype act = dit->act;
    int64_t tp_ne[2] = {B, DIT_TIME_PROJ_DIM}, meta_ne[2] = {B, lay->n_tot},
            rope_ne[3] = {lay->n_tot, c->head_dim / 2, 2};
    lay->in_tproj = pf_input(g, PF_F32, 2, tp_ne, "timestep_proj");
    lay->in_meta = pf_input(g, PF_I32, 2, meta_ne, "token_meta");
    lay->in_rope = pf_input(g, PF_F32, 3, rope_ne, "rope");

    dit_build bd = {.dit = dit,
                    .g = g,
                    .lay = lay,
                    .B = B,
                    .L = key->text_len,
                    .N = lay->n_img,
                    .Ntot = lay->n_tot,
                    .n_cur = lay->n_cur,
                    .trim_last = !dit->debug,
                    .rope = lay->in_rope,
                    .meta = lay->in_meta};
    /* time_text_embed: timestep_embedder(time_proj(t)) + text_embedder(pooled) */
    pf_tensor *t_emb = dit_lin(&bd, pf_silu(g, dit_lin(&bd, pf_cast(g, lay->in_tproj, act), &dit->time_linear_1)),
                               &dit->time_linear_2);
    pf_tensor *p_emb = dit_lin(&bd, pf_silu(g, dit_lin(&bd, pf_cast(g, lay->pooled_slot, act), &dit->text_linear_1)),
                               &dit->text_linear_2);
    pf_tensor *temb = pf_add(g, t_emb, p_emb); /* [B, D] */
    dit_debug_mark(&bd, temb, "temb");
    bd.temb_silu = pf_silu(g, temb); /* the SiLU every adaLN linear applies first */
    pf_tensor *txt = dit_lin(&bd, pf_cast(g, lay->text_slot, act), &dit->context_embedder); /* [B, L, D] */
    dit_debug_mark(&bd, txt, "context_embedder");
    pf_tensor *img = dit_embed_image(&bd); /* [B, N, D] */
    dit_debug_mark(&bd, img, "image_tokens");
    pf_tensor *o = c->variant == PF_DIT_FLUX ? dit_flux_forward(&bd, txt, img) : dit_mmdit_forward(&bd, txt, img);
    pf_tensor *v =
        dit_unpatchify(g, o, c->in_channels, key->t[last], key->h[last] / p, key->w[last] / p, p, key->vel_dt);
    pf_output_into(g, v, lay->vel_slot);

    pf_status rc = pf_graph_status(g);
    if (rc != PF_OK) {
        rc = pf_error(rc, "DiT graph for %s: %s", desc, pf_graph_error(g));
        dit_layout_free(lay);
        return rc;
    }
    /* the rotary table depends on the layout only */
    size_t n_pos = (size_t)lay->n_tot * dit->n_axes;
    float *pos = pf_malloc(n_pos * sizeof(float), "RoPE positions");
    lay->rope_host = pf_malloc((size_t)lay->n_tot * c->head_dim * sizeof(float), "RoPE table");
    rc = pos && lay->rope_host ? dit_rope_positions(dit, key, pos) : PF_ERR_OOM;
    if (rc == PF_OK) dit_rope_table(dit, pos, lay->n_tot, lay->rope_host);
    free(pos);
    if (rc == PF_OK) rc = pf_graph_plan(g, dit->arena, &lay->plan);
    if (rc != PF_OK) {
        dit_layout_free(lay);
        return pf_error_wrap(rc, "DiT layout %s", desc);
    }
    lay->vel_buffer = lay->vel_slot->buffer;
    lay->vel_offset = lay->vel_slot->offset;
    lay->flops = pf_graph_flops(g);
    dit->n_built++;
    char b1[32], b2[32];
    PF_DEBUG("DiT layout %s: %d image + %d text tokens, %d nodes, planned peak %s (arena %s), %.2f GFLOP", desc,
             lay->n_img, key->text_len, pf_graph_n_nodes(g), pf_fmt_bytes((double)lay->plan.peak_bytes, b1, sizeof b1),
             pf_fmt_bytes((double)pf_arena_size(dit->arena), b2, sizeof b2), lay->flops * 1e-9);
    *out = lay;
    return PF_OK;
}

static pf_status dit_get_layout(pf_dit *dit, const dit_layout_key *key, const pf_dit_inputs *in, pf_tensor *vel,
                                dit_layout **out) {
    for (int i = 0; i < dit->n_layouts; i++)
        if (!memcmp(&dit->layouts[i]->key, key, sizeof *key)) {
            *out = dit->layouts[i];
            return PF_OK;
        }
    dit_layout *lay = NULL;
    PF_TRY(dit_layout_build(dit, key, in, vel, &lay));
    if (dit->n_layouts >= dit->max_layouts) { /* drop the least recently used */
        int lru = 0;
        for (int i = 1; i < dit->n_layouts; i++)
            if (dit->layouts[i]->last_use < dit->layouts[lru]->last_use) lru = i;
        if (dit->last_layout == dit->layouts[lru]) dit->last_layout = NULL;
        dit_layout_free(dit->layouts[lru]);
        dit->layouts[lru] = dit->layouts[--dit->n_layouts];
    }
    dit_layout **nl = realloc(dit->layouts, (size_t)(dit->n_layouts + 1) * sizeof *nl);
    if (!nl) {
        dit_layout_free(lay);
        return pf_error(PF_ERR_OOM, "out of host memory (DiT layouts)");
    }
    dit->layouts = nl;
    dit->layouts[dit->n_layouts++] = lay;
    *out = lay;
    return PF_OK;
}

/* ------------------------------------------------------------------ forward */

static void dit_record_stats(pf_dit *dit, const dit_layout *lay) {
    dit->last.graph_peak_bytes = lay->plan.peak_bytes;
    dit->last.flops = lay->flops;
    dit->last.image_tokens = lay->n_img;
    dit->last.text_tokens = lay->key.text_len;
}

pf_status pf_dit_plan(pf_dit *dit, const pf_dit_inputs *in, pf_tensor *velocity, pf_dit_stats *st) {
    if (!dit) return pf_error(PF_ERR_INVALID_ARG, "pf_dit_plan: NULL DiT");
    dit_layout_key key;
    PF_TRY(dit_check_inputs(dit, in, velocity, &key));
    dit_layout *lay = NULL;
    PF_TRY(dit_get_layout(dit, &key, in, velocity, &lay));
    lay->last_use = ++dit->use_clock;
    dit_record_stats(dit, lay);
    pf_dit_get_stats(dit, st);
    return PF_OK;
}

pf_status pf_dit_forward(pf_dit *dit, const pf_dit_inputs *in, pf_tensor *velocity) {
    if (!dit) return pf_error(PF_ERR_INVALID_ARG, "pf_dit_forward: NULL DiT");
    dit_layout_key key;
    PF_TRY(dit_check_inputs(dit, in, velocity, &key));
    dit_layout *lay = NULL;
    PF_TRY(dit_get_layout(dit, &key, in, velocity, &lay));
    lay->last_use = ++dit->use_clock;
    dit->last_layout = lay;

    /* this call's tensors */
    for (int i = 0; i < key.n_clips; i++) dit_bind(lay->clip_slot[i], in->clips[i]);
    dit_bind(lay->text_slot, in->text);
    dit_bind(lay->pooled_slot, in->pooled);
    dit_bind(lay->vel_slot, velocity);
    if (lay->vel_slot->buffer != lay->vel_buffer || lay->vel_slot->offset != lay->vel_offset) {
        /* the output node's storage is fixed at planning: re-plan for the new target */
        PF_TRY(pf_graph_plan(lay->g, dit->arena, &lay->plan));
        lay->vel_buffer = lay->vel_slot->buffer;
        lay->vel_offset = lay->vel_slot->offset;
    }

    /* per-call inputs: timestep sinusoid and token metadata; the layout's rotary table */
    const int B = key.batch;
    size_t n_meta = (size_t)B * lay->n_tot;
    float *tproj = pf_malloc((size_t)B * DIT_TIME_PROJ_DIM * sizeof(float) + n_meta * sizeof(int32_t), "DiT inputs");
    if (!tproj) return PF_ERR_OOM;
    int32_t *meta = (int32_t *)(tproj + (size_t)B * DIT_TIME_PROJ_DIM);
    dit_timestep_proj(in->timestep, B, tproj);
    dit_token_meta(&key, dit->cfg.patch, in->text_mask, meta);
    pf_status rc = pf_tensor_set(lay->in_tproj, tproj, (size_t)B * DIT_TIME_PROJ_DIM * sizeof(float));
    if (rc == PF_OK) rc = pf_tensor_set(lay->in_meta, meta, n_meta * sizeof(int32_t));
    if (rc == PF_OK)
        rc = pf_tensor_set(lay->in_rope, lay->rope_host, (size_t)lay->n_tot * dit->cfg.head_dim * sizeof(float));
    free(tproj);
    if (rc == PF_OK) rc = pf_graph_compute(lay->g);
    if (rc != PF_OK) return pf_error_wrap(rc, "DiT forward");

    dit_record_stats(dit, lay);
    return PF_OK;
}

/* ------------------------------------------------------------------ debugging */

pf_status pf_dit_debug_get(pf_dit *dit, const char *name, float *dst, size_t n) {
    dit_layout *lay = dit ? dit->last_layout : NULL;
    if (!lay || !name) return pf_error(PF_ERR_INVALID_ARG, "DiT debug: no forward yet");
    for (int i = 0; i < lay->n_dbg; i++)
        if (!strcmp(lay->dbg_name[i], name)) return pf_tensor_get_as(lay->dbg_node[i], dst, PF_F32, n);
    return pf_error(PF_ERR_NOT_FOUND, "DiT debug: no intermediate '%s'%s", name,
                    dit->debug ? "" : " (debug mode is off)");
}

pf_status pf_dit_debug_tables(pf_dit *dit, const float **rope, int *n_tokens, int32_t *meta, const int32_t *text_mask) {
    dit_layout *lay = dit ? dit->last_layout : NULL;
    if (!lay) return pf_error(PF_ERR_INVALID_ARG, "DiT debug: no forward yet");
    if (rope) *rope = lay->rope_host;
    if (n_tokens) *n_tokens = lay->n_tot;
    if (meta && text_mask) dit_token_meta(&lay->key, dit->cfg.patch, text_mask, meta);
    return PF_OK;
}
