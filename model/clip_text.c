/*
 * CLIP text transformer: transformers' CLIPTextModel (miniFLUX text_encoder/, CLIP-L,
 * pooler_output) and CLIPTextModelWithProjection (SD3 text_encoder/ CLIP-L and
 * text_encoder_2/ OpenCLIP bigG, text_embeds).
 *
 *   x = token_embedding[ids] + position_embedding[0..L)      [B, L, D]
 *   per layer (pre-LN, biases everywhere):
 *     x += out_proj(attention(q_proj h, k_proj h, v_proj h, scale head_dim^-1/2, causal)), h = layer_norm1(x)
 *     x += fc2(act(fc1(layer_norm2(x))))                     (quick_gelu for L, gelu for bigG)
 *   last_hidden_state = final_layer_norm(x)
 *   pooler_output = last_hidden_state[b, eos position]        [B, D]
 *   text_embeds = text_projection(pooler_output)              [B, P] (no bias)
 *
 * No attention mask is passed by the official pipelines, so padding tokens take part
 * in attention; only the causal mask applies. Keys may carry the "text_model." prefix
 * (CLIPTextModelWithProjection, checkpoints saved by transformers 4.x) or not
 * (CLIPTextModel saved by transformers 5); text_projection.weight never has it.
 */
#include "text_impl.h"

#include <math.h>

typedef struct clip_layer {
    pf_tensor *ln1_w, *ln1_b;         /* layer_norm1 [D] */
    pf_tensor *q_w, *q_b, *k_w, *k_b; /* self_attn.{q,k}_proj [D, D], [D] */
    pf_tensor *v_w, *v_b, *o_w, *o_b; /* self_attn.v_proj, out_proj */
    pf_tensor *ln2_w, *ln2_b;         /* layer_norm2 [D] */
    pf_tensor *fc1_w, *fc1_b;         /* mlp.fc1 [I, D], [I] */
    pf_tensor *fc2_w, *fc2_b;         /* mlp.fc2 [D, I], [D] */
} clip_layer;

typedef struct clip_graph {
    struct clip_graph *next;
    int B, L;
    pf_graph *g;
    pf_tensor *ids, *eos; /* inputs: [B, L] ids, [B] flat row of each EOS token */
    pf_tensor *hidden, *pooled, *proj;
    pf_plan_stats stats;
    double flops;
} clip_graph;

struct pf_clip {
    pf_clip_config cfg;
    char *label;
    pf_backend *be;
    pf_dtype dtype;
    pf_pool *pool;
    pf_arena *arena;
    pf_tensor *tok_emb; /* embeddings.token_embedding.weight [V, D] */
    pf_tensor *pos_emb; /* embeddings.position_embedding.weight [P, D], f32 */
    pf_tensor *final_w, *final_b;
    pf_tensor *proj; /* text_projection.weight [proj, D] or NULL */
    clip_layer *layers;
    clip_graph *graphs;
    clip_graph *last;
};

/* ------------------------------------------------------------------ config */

static void clip_count_params(pf_clip_config *c) {
    int64_t D = c->hidden, I = c->intermediate;
    int64_t per_layer = 4 * (D * D + D) + 2 * D * I + I + D + 4 * D;
    c->n_params = (int64_t)c->vocab_size * D + (int64_t)c->max_positions * D + c->layers * per_layer + 2 * D +
                  (int64_t)c->projection_dim * D;
}

static pf_status clip_config_check(pf_clip_config *c, const char *label) {
    if (c->hidden % c->heads)
        return pf_error(PF_ERR_FORMAT, "%s: hidden_size %d is not a multiple of num_attention_heads %d", label,
                        c->hidden, c->heads);
    clip_count_params(c);
    return PF_OK;
}

pf_status pf_clip_config_load(const char *path, pf_clip_config *cfg) {
    if (!path || !cfg) return pf_error(PF_ERR_INVALID_ARG, "pf_clip_config_load: NULL argument");
    memset(cfg, 0, sizeof *cfg);
    pf_json *j;
    PF_TRY(pf_json_load(path, &j));
    /* a full CLIPConfig nests the text tower's keys under text_config */
    const char *pre = pf_json_has(j, "text_config") ? "text_config." : "";
    char k[8][96];
    static const char *const names[8] = {"vocab_size",        "hidden_size",       "num_attention_heads",
                                         "intermediate_size", "num_hidden_layers", "max_position_embeddings",
                                         "projection_dim",    "eos_token_id"};
    for (int i = 0; i < 8; i++) snprintf(k[i], sizeof k[i], "%s%s", pre, names[i]);
    char k_eps[96], k_act[96];
    snprintf(k_eps, sizeof k_eps, "%slayer_norm_eps", pre);
    snprintf(k_act, sizeof k_act, "%shidden_act", pre);
    const int big = 1 << 20;
    pf_status rc, rc_opt = PF_OK;
    const char *act = NULL;
    /* the sizes must be there (every saved config has them; CLIPTextConfig's defaults fit
     * neither released tower); the other keys take CLIPTextConfig's defaults (4.39) */
    if ((rc = pf_json_int_in(j, k[0], true, 0, 1, 1 << 24, &cfg->vocab_size)) ||
        (rc = pf_json_int_in(j, k[1], true, 0, 1, big, &cfg->hidden)) ||
        (rc = pf_json_int_in(j, k[2], true, 0, 1, 4096, &cfg->heads)) ||
        (rc = pf_json_int_in(j, k[3], true, 0, 1, big, &cfg->intermediate)) ||
        (rc = pf_json_int_in(j, k[4], true, 0, 1, 4096, &cfg->layers)) ||
        (rc = pf_json_int_in(j, k[5], false, 77, 1, 1 << 16, &cfg->max_positions)) ||
        (rc = pf_json_int_in(j, k[6], false, 512, 1, big, &cfg->projection_dim)) ||
        (rc = pf_json_int_in(j, k[7], false, 49407, 0, 1 << 24, &cfg->eos_token_id)) ||
        (rc = pf_text_cfg_eps(j, k_eps, 1e-5, &cfg->eps)))
        goto done;
    act = pf_json_opt_str(j, k_act, "quick_gelu", &rc_opt);
    if ((rc = rc_opt) != PF_OK) goto done;
    if ((rc = pf_text_parse_act(act, path, k_act, &cfg->act)) != PF_OK) goto done;
    rc = clip_config_check(cfg, path);
done:
    pf_json_free(j);
    return rc;
}

void pf_clip_config_l(pf_clip_config *c, bool with_projection) {
    memset(c, 0, sizeof *c);
    c->vocab_size = 49408;
    c->hidden = 768;
    c->heads = 12;
    c->intermediate = 3072;
    c->layers = 12;
    c->max_positions = 77;
    c->projection_dim = with_projection ? 768 : 0;
    c->eps = 1e-5f;
    c->act = PF_UNARY_QUICK_GELU;
    c->eos_token_id = 2;
    clip_count_params(c);
}

void pf_clip_config_bigg(pf_clip_config *c) {
    memset(c, 0, sizeof *c);
    c->vocab_size = 49408;
    c->hidden = 1280;
    c->heads = 20;
    c->intermediate = 5120;
    c->layers = 32;
    c->max_positions = 77;
    c->projection_dim = 1280;
    c->eps = 1e-5f;
    c->act = PF_UNARY_GELU_ERF;
    c->eos_token_id = 2;
    clip_count_params(c);
}

/* ------------------------------------------------------------------ weights */

static void clip_declare(pf_clip *m, pf_loader *L, const char *pre) {
    const pf_clip_config *c = &m->cfg;
    int64_t D = c->hidden, I = c->intermediate;
    int64_t s_tok[2] = {c->vocab_size, D}, s_pos[2] = {c->max_positions, D}, s_d[1] = {D}, s_dd[2] = {D, D};
    int64_t s_fc1[2] = {I, D}, s_i[1] = {I}, s_fc2[2] = {D, I}, s_proj[2] = {c->projection_dim, D};
    char name[192];
#define CLIP_NAME(...) (snprintf(name, sizeof name, __VA_ARGS__), name)
    m->tok_emb = pf_loadf(L, 2, s_tok, "%sembeddings.token_embedding.weight", pre);
    /* tables added element-wise and norm parameters stay f32 (small) */
    m->pos_emb = pf_load_as(L, PF_F32, CLIP_NAME("%sembeddings.position_embedding.weight", pre), 2, s_pos);
    for (int i = 0; i < c->layers; i++) {
        clip_layer *l = &m->layers[i];
        const char *p = "encoder.layers";
        l->ln1_w = pf_load_as(L, PF_F32, CLIP_NAME("%s%s.%d.layer_norm1.weight", pre, p, i), 1, s_d);
        l->ln1_b = pf_load_as(L, PF_F32, CLIP_NAME("%s%s.%d.layer_norm1.bias", pre, p, i), 1, s_d);
        l->q_w = pf_loadf(L, 2, s_dd, "%s%s.%d.self_attn.q_proj.weight", pre, p, i);
        l->q_b = pf_load_as(L, PF_F32, CLIP_NAME("%s%s.%d.self_attn.q_proj.bias", pre, p, i), 1, s_d);
        l->k_w = pf_loadf(L, 2, s_dd, "%s%s.%d.self_attn.k_proj.weight", pre, p, i);
        l->k_b = pf_load_as(L, PF_F32, CLIP_NAME("%s%s.%d.self_attn.k_proj.bias", pre, p, i), 1, s_d);
        l->v_w = pf_loadf(L, 2, s_dd, "%s%s.%d.self_attn.v_proj.weight", pre, p, i);
        l->v_b = pf_load_as(L, PF_F32, CLIP_NAME("%s%s.%d.self_attn.v_proj.bias", pre, p, i), 1, s_d);
        l->o_w = pf_loadf(L, 2, s_dd, "%s%s.%d.self_attn.out_proj.weight", pre, p, i);
        l->o_b = pf_load_as(L, PF_F32, CLIP_NAME("%s%s.%d.self_attn.out_proj.bias", pre, p, i), 1, s_d);
        l->ln2_w = pf_load_as(L, PF_F32, CLIP_NAME("%s%s.%d.layer_norm2.weight", pre, p, i), 1, s_d);
        l->ln2_b = pf_load_as(L, PF_F32, CLIP_NAME("%s%s.%d.layer_norm2.bias", pre, p, i), 1, s_d);
        l->fc1_w = pf_loadf(L, 2, s_fc1, "%s%s.%d.mlp.fc1.weight", pre, p, i);
        l->fc1_b = pf_load_as(L, PF_F32, CLIP_NAME("%s%s.%d.mlp.fc1.bias", pre, p, i), 1, s_i);
        l->fc2_w = pf_loadf(L, 2, s_fc2, "%s%s.%d.mlp.fc2.weight", pre, p, i);
        l->fc2_b = pf_load_as(L, PF_F32, CLIP_NAME("%s%s.%d.mlp.fc2.bias", pre, p, i), 1, s_d);
    }
    m->final_w = pf_load_as(L, PF_F32, CLIP_NAME("%sfinal_layer_norm.weight", pre), 1, s_d);
    m->final_b = pf_load_as(L, PF_F32, CLIP_NAME("%sfinal_layer_norm.bias", pre), 1, s_d);
    if (c->projection_dim > 0) m->proj = pf_load(L, "text_projection.weight", 2, s_proj[0], s_proj[1]);
#undef CLIP_NAME
}

/* Bytes of the weights: position embedding, norms and biases in f32, the rest in dtype. */
static size_t clip_weight_bytes(const pf_clip_config *c, pf_dtype dtype) {
    int64_t D = c->hidden;
    int64_t f32 = (int64_t)c->max_positions * D + c->layers * (9 * D + c->intermediate) + 2 * D;
    return (size_t)(c->n_params - f32) * pf_dtype_size(dtype) + (size_t)f32 * sizeof(float);
}

static pf_status clip_alloc(const pf_clip_config *cfg, pf_backend *be, pf_dtype dtype, const char *label,
                            pf_clip **out) {
    *out = NULL;
    pf_clip *m = calloc(1, sizeof *m);
    if (!m) return pf_error(PF_ERR_OOM, "out of host memory (CLIP text encoder)");
    m->cfg = *cfg;
    m->be = be;
    m->dtype = dtype;
    m->label = pf_strdup(label);
    m->layers = calloc((size_t)cfg->layers, sizeof *m->layers);
    if (!m->label || !m->layers) {
        pf_clip_free(m);
        return pf_error(PF_ERR_OOM, "out of host memory (CLIP text encoder)");
    }
    if (be) {
        /* embeddings, final norm, projection and 16 tensors per layer */
        int64_t n_tensors = 4 + 16 * (int64_t)cfg->layers + (cfg->projection_dim > 0);
        pf_status rc = pf_pool_create_for(be, clip_weight_bytes(cfg, dtype), n_tensors, &m->pool);
        if (rc == PF_OK) rc = pf_arena_create(be, &m->arena);
        if (rc != PF_OK) {
            pf_clip_free(m);
            return rc;
        }
    }
    *out = m;
    return PF_OK;
}

/* Config, weight files, the key prefix and whether there is a projection. */
static pf_status clip_open(const char *dir, pf_clip_config *cfg, pf_weights **w, const char **pre) {
    char *cpath = pf_path_join(dir, "config.json");
    if (!cpath) return pf_error(PF_ERR_OOM, "out of host memory");
    pf_status rc = pf_clip_config_load(cpath, cfg);
    bool with_proj = false;
    if (rc == PF_OK) {
        /* the architecture decides whether a text_projection must be there */
        pf_json *j;
        if ((rc = pf_json_load(cpath, &j)) == PF_OK) {
            const char *arch[4];
            int n = 0;
            if (pf_json_has(j, "architectures") && pf_json_str_array(j, "architectures", arch, 4, &n) == PF_OK)
                for (int i = 0; i < n; i++)
                    if (strstr(arch[i], "WithProjection")) with_proj = true;
            pf_json_free(j);
        }
    }
    free(cpath);
    if (rc != PF_OK) return rc;
    if ((rc = pf_weights_open_dir(dir, w)) != PF_OK) return rc;
    *pre = pf_weights_find(*w, "text_model.embeddings.token_embedding.weight") ? "text_model." : "";
    if (pf_weights_find(*w, "text_projection.weight")) with_proj = true;
    if (!with_proj) cfg->projection_dim = 0;
    clip_count_params(cfg);
    return PF_OK;
}

pf_status pf_clip_check_dir(const char *dir, pf_clip_config *cfg) {
    pf_weights *w = NULL;
    const char *pre = "";
    PF_TRY(clip_open(dir, cfg, &w, &pre));
    char label[512];
    snprintf(label, sizeof label, "CLIP text encoder (%s)", dir);
    pf_clip *m = NULL;
    pf_status rc = clip_alloc(cfg, NULL, PF_F32, label, &m);
    if (rc == PF_OK) {
        pf_loader L;
        pf_loader_init(&L, w, NULL, PF_F32, label);
        clip_declare(m, &L, pre);
        rc = pf_loader_finish(&L);
    }
    pf_clip_free(m);
    pf_weights_close(w);
    return rc;
}

pf_status pf_clip_load(const char *dir, pf_backend *be, pf_dtype dtype, pf_clip **out) {
    if (!out) return pf_error(PF_ERR_INVALID_ARG, "pf_clip_load: NULL output");
    *out = NULL;
    if (!dir || !be) return pf_error(PF_ERR_INVALID_ARG, "pf_clip_load: NULL folder or backend");
    PF_TRY(pf_text_check_dtype(dtype, "CLIP text encoder"));
    pf_clip_config cfg;
    pf_weights *w;
    const char *pre;
    pf_status rc = clip_open(dir, &cfg, &w, &pre);
    if (rc != PF_OK) return pf_error_wrap(rc, "loading the CLIP text encoder");
    char label[512];
    snprintf(label, sizeof label, "CLIP text encoder (%s)", dir);
    pf_clip *m;
    if ((rc = clip_alloc(&cfg, be, dtype, label, &m)) != PF_OK) {
        pf_weights_close(w);
        return rc;
    }
    pf_loader L;
    pf_loader_init(&L, w, m->pool, dtype, label);
    clip_declare(m, &L, pre);
    rc = pf_loader_finish(&L);
    pf_weights_close(w);
    if (rc != PF_OK) {
        pf_clip_free(m);
        return rc;
    }
    *out = m;
    return PF_OK;
}

pf_status pf_clip_create_random(const pf_clip_config *cfg_in, pf_backend *be, pf_dtype dtype, uint64_t seed,
                                pf_clip **out) {
    if (!out) return pf_error(PF_ERR_INVALID_ARG, "pf_clip_create_random: NULL output");
    *out = NULL;
    if (!cfg_in || !be) return pf_error(PF_ERR_INVALID_ARG, "pf_clip_create_random: NULL config or backend");
    PF_TRY(pf_text_check_dtype(dtype, "CLIP text encoder"));
    pf_clip_config cfg = *cfg_in;
    if (cfg.vocab_size < 1 || cfg.hidden < 1 || cfg.heads < 1 || cfg.intermediate < 1 || cfg.layers < 1 ||
        cfg.max_positions < 1 || cfg.projection_dim < 0 || !(cfg.eps > 0.0f) || (unsigned)cfg.act >= PF_UNARY_COUNT)
        return pf_error(PF_ERR_INVALID_ARG, "random CLIP text encoder: sizes must be positive");
    PF_TRY(clip_config_check(&cfg, "random CLIP text encoder"));
    pf_clip *m;
    PF_TRY(clip_alloc(&cfg, be, dtype, "CLIP text encoder (random weights)", &m));
    int64_t D = cfg.hidden, I = cfg.intermediate;
    int64_t s_tok[2] = {cfg.vocab_size, D}, s_pos[2] = {cfg.max_positions, D}, s_d[1] = {D}, s_dd[2] = {D, D};
    int64_t s_fc1[2] = {I, D}, s_i[1] = {I}, s_fc2[2] = {D, I}, s_proj[2] = {cfg.projection_dim, D};
    pf_random_fill rf = {.seed = seed};
    uint64_t stream = 0; /* one per tensor */
    pf_status rc = PF_OK;
#define CLIP_RAND(dst, dt, nd, shape, nm, mean, std)                                                                   \
    do {                                                                                                               \
        if (rc != PF_OK) break;                                                                                        \
        (dst) = pf_pool_tensor(m->pool, (dt), (nd), (shape), (nm));                                                    \
        rc = !(dst) ? PF_ERR_OOM : pf_random_fill_tensor(&rf, (dst), stream++, (mean), (std));                         \
    } while (0)
    float sd = 1.0f / sqrtf((float)D), si = 1.0f / sqrtf((float)I);
    CLIP_RAND(m->tok_emb, dtype, 2, s_tok, "token_embedding.weight", 0.0f, 1.0f);
    CLIP_RAND(m->pos_emb, PF_F32, 2, s_pos, "position_embedding.weight", 0.0f, 1.0f);
    for (int i = 0; i < cfg.layers && rc == PF_OK; i++) {
        clip_layer *l = &m->layers[i];
        CLIP_RAND(l->ln1_w, PF_F32, 1, s_d, "layer_norm1.weight", 1.0f, 0.1f);
        CLIP_RAND(l->ln1_b, PF_F32, 1, s_d, "layer_norm1.bias", 0.0f, 0.05f);
        CLIP_RAND(l->q_w, dtype, 2, s_dd, "q_proj.weight", 0.0f, sd);
        CLIP_RAND(l->q_b, PF_F32, 1, s_d, "q_proj.bias", 0.0f, 0.05f);
        CLIP_RAND(l->k_w, dtype, 2, s_dd, "k_proj.weight", 0.0f, sd);
        CLIP_RAND(l->k_b, PF_F32, 1, s_d, "k_proj.bias", 0.0f, 0.05f);
        CLIP_RAND(l->v_w, dtype, 2, s_dd, "v_proj.weight", 0.0f, sd);
        CLIP_RAND(l->v_b, PF_F32, 1, s_d, "v_proj.bias", 0.0f, 0.05f);
        CLIP_RAND(l->o_w, dtype, 2, s_dd, "out_proj.weight", 0.0f, sd);
        CLIP_RAND(l->o_b, PF_F32, 1, s_d, "out_proj.bias", 0.0f, 0.05f);
        CLIP_RAND(l->ln2_w, PF_F32, 1, s_d, "layer_norm2.weight", 1.0f, 0.1f);
        CLIP_RAND(l->ln2_b, PF_F32, 1, s_d, "layer_norm2.bias", 0.0f, 0.05f);
        CLIP_RAND(l->fc1_w, dtype, 2, s_fc1, "fc1.weight", 0.0f, sd);
        CLIP_RAND(l->fc1_b, PF_F32, 1, s_i, "fc1.bias", 0.0f, 0.05f);
        CLIP_RAND(l->fc2_w, dtype, 2, s_fc2, "fc2.weight", 0.0f, si);
        CLIP_RAND(l->fc2_b, PF_F32, 1, s_d, "fc2.bias", 0.0f, 0.05f);
    }
    CLIP_RAND(m->final_w, PF_F32, 1, s_d, "final_layer_norm.weight", 1.0f, 0.1f);
    CLIP_RAND(m->final_b, PF_F32, 1, s_d, "final_layer_norm.bias", 0.0f, 0.05f);
    if (cfg.projection_dim > 0) CLIP_RAND(m->proj, dtype, 2, s_proj, "text_projection.weight", 0.0f, sd);
#undef CLIP_RAND
    pf_random_fill_free(&rf);
    if (rc != PF_OK) {
        pf_clip_free(m);
        return pf_error_wrap(rc, "random CLIP text encoder");
    }
    *out = m;
    return PF_OK;
}

void pf_clip_free(pf_clip *m) {
    if (!m) return;
    for (clip_graph *cg = m->graphs, *next; cg; cg = next) {
        next = cg->next;
        pf_graph_free(cg->g);
        free(cg);
    }
    pf_arena_free(m->arena);
    pf_pool_free(m->pool);
    free(m->layers);
    free(m->label);
    free(m);
}

int pf_clip_dim(const pf_clip *m) { return m ? m->cfg.hidden : 0; }
int pf_clip_projection_dim(const pf_clip *m) { return m ? m->cfg.projection_dim : 0; }
const pf_clip_config *pf_clip_get_config(const pf_clip *m) { return m ? &m->cfg : NULL; }

void pf_clip_get_stats(const pf_clip *m, pf_text_stats *st) {
    memset(st, 0, sizeof *st);
    if (!m) return;
    st->weight_bytes = m->pool ? pf_pool_bytes(m->pool) : 0;
    st->arena_bytes = m->arena ? pf_arena_size(m->arena) : 0;
    for (const clip_graph *cg = m->graphs; cg; cg = cg->next) st->n_graphs++;
    if (m->last) {
        st->graph_peak_bytes = m->last->stats.peak_bytes;
        st->flops = m->last->flops;
    }
}

/* ------------------------------------------------------------------ graph */

static pf_status clip_build(pf_clip *m, clip_graph *cg) {
    const pf_clip_config *c = &m->cfg;
    int B = cg->B, L = cg->L, H = c->heads, D = c->hidden, hd = D / H;
    pf_graph *g = cg->g = pf_graph_new("clip_text");
    if (!g) return pf_error(PF_ERR_OOM, "out of host memory (CLIP graph)");
    int64_t s_ids[2] = {B, L}, s_b[1] = {B}, s_heads[4] = {B, L, H, hd}, s_bld[3] = {B, L, D},
            s_flat[2] = {(int64_t)B * L, D};
    cg->ids = pf_input(g, PF_I32, 2, s_ids, "input_ids");
    cg->eos = pf_input(g, PF_I32, 1, s_b, "eos_row"); /* b * L + position of b's EOS token */

    pf_tensor *x = pf_embedding(g, pf_external(g, m->tok_emb), cg->ids); /* [B, L, D] */
    if (x && x->dtype != PF_F32) x = pf_cast(g, x, PF_F32);
    x = pf_add(g, x, pf_slice(g, pf_external(g, m->pos_emb), 0, 0, L)); /* position_ids = arange(L) */
    float scale = 1.0f / sqrtf((float)hd);
    for (int i = 0; i < c->layers; i++) {
        const clip_layer *l = &m->layers[i];
        pf_tensor *h = pf_layer_norm(g, x, pf_external(g, l->ln1_w), pf_external(g, l->ln1_b), c->eps);
        pf_tensor *q = pf_reshape(g, pf_linear(g, h, pf_external(g, l->q_w), pf_external(g, l->q_b)), 4, s_heads);
        pf_tensor *k = pf_reshape(g, pf_linear(g, h, pf_external(g, l->k_w), pf_external(g, l->k_b)), 4, s_heads);
        pf_tensor *v = pf_reshape(g, pf_linear(g, h, pf_external(g, l->v_w), pf_external(g, l->v_b)), 4, s_heads);
        pf_tensor *a = pf_attention(g, q, k, v, scale, PF_MASK_CAUSAL, NULL, NULL, NULL); /* [B, L, H, hd] */
        a = pf_reshape(g, a, 3, s_bld);
        x = pf_add(g, x, pf_linear(g, a, pf_external(g, l->o_w), pf_external(g, l->o_b)));
        h = pf_layer_norm(g, x, pf_external(g, l->ln2_w), pf_external(g, l->ln2_b), c->eps);
        h = pf_unary_op(g, pf_linear(g, h, pf_external(g, l->fc1_w), pf_external(g, l->fc1_b)), c->act); /* [B, L, I] */
        x = pf_add(g, x, pf_linear(g, h, pf_external(g, l->fc2_w), pf_external(g, l->fc2_b)));
        if (x) pf_set_name(x, "layers.%d.out", i);
    }
    x = pf_layer_norm(g, x, pf_external(g, m->final_w), pf_external(g, m->final_b), c->eps);
    if (x) {
        pf_set_name(x, "last_hidden_state");
        pf_output(g, x);
    }
    cg->hidden = x;
    /* pooling: gather one row of the flattened hidden states per sequence */
    pf_tensor *pooled = pf_embedding(g, pf_reshape(g, x, 2, s_flat), cg->eos); /* [B, D] */
    if (pooled) {
        pf_set_name(pooled, "pooler_output");
        pf_output(g, pooled);
    }
    cg->pooled = pooled;
    if (m->proj) {
        pf_tensor *p = pf_linear(g, pooled, pf_external(g, m->proj), NULL); /* [B, P] */
        if (p) {
            pf_set_name(p, "text_embeds");
            pf_output(g, p);
        }
        cg->proj = p;
    }
    pf_status rc = pf_graph_status(g);
    if (rc != PF_OK) return pf_error(rc, "%s: building the graph for [%d, %d]: %s", m->label, B, L, pf_graph_error(g));
    cg->flops = pf_graph_flops(g);
    rc = pf_graph_plan(g, m->arena, &cg->stats);
    if (rc != PF_OK) return pf_error_wrap(rc, "%s: planning the graph for [%d, %d]", m->label, B, L);
    return PF_OK;
}

static pf_status clip_graph_get(pf_clip *m, int B, int L, clip_graph **out) {
    for (clip_graph *cg = m->graphs; cg; cg = cg->next)
        if (cg->B == B && cg->L == L) {
            *out = cg;
            return PF_OK;
        }
    clip_graph *cg = calloc(1, sizeof *cg);
    if (!cg) return pf_error(PF_ERR_OOM, "out of host memory (CLIP graph)");
    cg->B = B;
    cg->L = L;
    pf_status rc = clip_build(m, cg);
    if (rc != PF_OK) {
        pf_graph_free(cg->g);
        free(cg);
        return rc;
    }
    cg->next = m->graphs;
    m->graphs = cg;
    *out = cg;
    return PF_OK;
}

pf_status pf_clip_encode(pf_clip *m, const int32_t *ids, int B, int L, float *hidden, float *pooled,
                         float *text_embeds) {
    if (!m || !ids) return pf_error(PF_ERR_INVALID_ARG, "pf_clip_encode: NULL argument");
    if (!m->pool) return pf_error(PF_ERR_INVALID_ARG, "pf_clip_encode: %s has no weights", m->label);
    if (B < 1 || L < 1 || (int64_t)B * L > (1 << 24))
        return pf_error(PF_ERR_INVALID_ARG, "%s: batch %d x %d tokens is not a valid input shape", m->label, B, L);
    if (L > m->cfg.max_positions)
        return pf_error(PF_ERR_INVALID_ARG, "%s: %d tokens, but the model has %d positions (max_position_embeddings)",
                        m->label, L, m->cfg.max_positions);
    if (text_embeds && !m->proj)
        return pf_error(PF_ERR_INVALID_ARG, "%s: text_embeds asked of a model without text_projection", m->label);
    PF_TRY(pf_text_check_ids(ids, B, L, m->cfg.vocab_size, m->label));
    clip_graph *cg = NULL;
    PF_TRY(clip_graph_get(m, B, L, &cg));
    m->last = cg;
    int32_t *eos = malloc(sizeof(int32_t) * (size_t)B);
    if (!eos) return pf_error(PF_ERR_OOM, "out of host memory (CLIP pooling)");
    pf_clip_eos_positions(ids, B, L, m->cfg.eos_token_id, eos);
    for (int b = 0; b < B; b++) eos[b] += b * L;
    size_t n = (size_t)B * (size_t)L;
    pf_status rc = pf_tensor_set(cg->ids, ids, sizeof(int32_t) * n);
    if (rc == PF_OK) rc = pf_tensor_set(cg->eos, eos, sizeof(int32_t) * (size_t)B);
    free(eos);
    if (rc == PF_OK) rc = pf_graph_compute(cg->g);
    if (rc == PF_OK && hidden) rc = pf_tensor_get_as(cg->hidden, hidden, PF_F32, n * (size_t)m->cfg.hidden);
    if (rc == PF_OK && pooled) rc = pf_tensor_get_as(cg->pooled, pooled, PF_F32, (size_t)B * (size_t)m->cfg.hidden);
    if (rc == PF_OK && text_embeds)
        rc = pf_tensor_get_as(cg->proj, text_embeds, PF_F32, (size_t)B * (size_t)m->cfg.projection_dim);
    if (rc != PF_OK) return pf_error_wrap(rc, "%s: encoding [%d, %d]", m->label, B, L);
    return PF_OK;
}
