/*
 * T5 v1.1 encoder: transformers' T5EncoderModel, as the official pipelines run it
 * (text_encoder_2/ of miniFLUX, text_encoder_3/ of SD3; T5-XXL, 4.7 B weights).
 *
 *   x = shared[ids]                                   [B, L, D]
 *   per block i (pre-norm, no biases anywhere, T5 RMS norm = no mean, no bias):
 *     h = rms(x) * layer.0.layer_norm
 *     x += o(attention(q h, k h, v h, scale 1, + position_bias, key mask))
 *     h = rms(x) * layer.1.layer_norm
 *     x += wo(act(wi_0 h) * wi_1 h)                   (gated-gelu: act = gelu_new)
 *   out = rms(x) * final_layer_norm
 *
 * position_bias [H, L, L] comes from block 0's relative_attention_bias table
 * [num_buckets, H] and is shared by every block (transformers computes it in the
 * first layer and passes it on). The bucket of each (query, key) pair is a host
 * computation of the lengths only; the lookup is the embedding op. The attention
 * mask hides padded keys (PF_MASK_KEY), as transformers' additive mask does;
 * padded queries still attend the valid keys, so their outputs are not zero.
 */
#include "text_impl.h"

#include <math.h>

typedef struct t5_block {
    pf_tensor *ln_attn;   /* layer.0.layer_norm.weight [D] */
    pf_tensor *q, *k, *v; /* layer.0.SelfAttention.{q,k,v}.weight [H*d_kv, D] */
    pf_tensor *o;         /* layer.0.SelfAttention.o.weight [D, H*d_kv] */
    pf_tensor *ln_ff;     /* layer.1.layer_norm.weight [D] */
    pf_tensor *wi0, *wi1; /* layer.1.DenseReluDense.wi_0/wi_1.weight [d_ff, D] */
    pf_tensor *wo;        /* layer.1.DenseReluDense.wo.weight [D, d_ff] */
} t5_block;

/* One graph per (B, L), built on first use and replayed. */
typedef struct t5_graph {
    struct t5_graph *next;
    int B, L;
    pf_graph *g;
    pf_tensor *ids, *kmeta, *buckets, *out;
    int32_t *bucket_ids; /* [L, L] host: bucket of (query i, key j) */
    pf_plan_stats stats;
    double flops;
} t5_graph;

struct pf_t5 {
    pf_t5_config cfg;
    char *label; /* "T5 encoder (dir)" for messages */
    pf_backend *be;
    pf_dtype dtype;
    pf_pool *pool;
    pf_arena *arena;
    pf_tensor *embed;    /* shared.weight [vocab, D] (= encoder.embed_tokens.weight) */
    pf_tensor *rel_bias; /* block.0 ... relative_attention_bias.weight [buckets, H], f32 */
    pf_tensor *final_ln; /* encoder.final_layer_norm.weight [D] */
    t5_block *blocks;
    t5_graph *graphs;
    t5_graph *last;
};

/* ------------------------------------------------------------------ config */

static void t5_count_params(pf_t5_config *c) {
    int64_t D = c->d_model, inner = (int64_t)c->num_heads * c->d_kv, F = c->d_ff;
    int64_t per_layer = 4 * inner * D + 3 * F * D + 2 * D;
    c->n_params = (int64_t)c->vocab_size * D + (int64_t)c->rel_buckets * c->num_heads + c->num_layers * per_layer + D;
}

static pf_status t5_config_check(pf_t5_config *c, const char *label) {
    /* transformers halves the buckets for the bidirectional encoder and keeps half of
     * those exact: fewer than 4 buckets leave no exact range and divide by zero */
    int max_exact = c->rel_buckets / 2 / 2;
    if (c->rel_buckets < 4)
        return pf_error(PF_ERR_FORMAT, "%s: relative_attention_num_buckets %d must be at least 4", label,
                        c->rel_buckets);
    if (c->rel_max_distance <= max_exact)
        return pf_error(PF_ERR_FORMAT, "%s: relative_attention_max_distance %d must exceed %d (num_buckets / 4)", label,
                        c->rel_max_distance, max_exact);
    t5_count_params(c);
    return PF_OK;
}

pf_status pf_t5_config_load(const char *path, pf_t5_config *cfg) {
    if (!path || !cfg) return pf_error(PF_ERR_INVALID_ARG, "pf_t5_config_load: NULL argument");
    memset(cfg, 0, sizeof *cfg);
    pf_json *j;
    PF_TRY(pf_json_load(path, &j));
    const int big = 1 << 20;
    pf_status rc = PF_OK;
    pf_status rc_opt = PF_OK;
    const char *ff = NULL;
    if ((rc = pf_json_int_in(j, "vocab_size", true, 0, 1, 1 << 24, &cfg->vocab_size)) ||
        (rc = pf_json_int_in(j, "d_model", true, 0, 1, big, &cfg->d_model)) ||
        (rc = pf_json_int_in(j, "d_kv", true, 0, 1, big, &cfg->d_kv)) ||
        (rc = pf_json_int_in(j, "num_heads", true, 0, 1, 4096, &cfg->num_heads)) ||
        (rc = pf_json_int_in(j, "d_ff", true, 0, 1, big, &cfg->d_ff)) ||
        (rc = pf_json_int_in(j, "num_layers", true, 0, 1, 4096, &cfg->num_layers)) ||
        (rc = pf_json_int_in(j, "relative_attention_num_buckets", false, 32, 1, 1 << 16, &cfg->rel_buckets)) ||
        (rc = pf_json_int_in(j, "relative_attention_max_distance", false, 128, 1, 1 << 24, &cfg->rel_max_distance)) ||
        (rc = pf_text_cfg_eps(j, "layer_norm_epsilon", 1e-6, &cfg->eps)))
        goto done;
    if ((int64_t)cfg->num_heads * cfg->d_kv > big) {
        rc = pf_error(PF_ERR_FORMAT, "%s: num_heads * d_kv = %lld is too large", path,
                      (long long)cfg->num_heads * cfg->d_kv);
        goto done;
    }
    /* transformers' T5Config: "gated-ACT" -> gated feed-forward with ACT, except that
     * "gated-gelu" means gelu_new (the v1.1 checkpoints); the default is "relu" */
    ff = pf_json_opt_str(j, "feed_forward_proj", "relu", &rc_opt);
    if (rc_opt != PF_OK) {
        rc = rc_opt;
        goto done;
    }
    if (strncmp(ff, "gated-", 6) != 0) {
        rc = pf_error(PF_ERR_UNSUPPORTED,
                      "%s: feed_forward_proj '%s' is not supported: only the gated feed-forward of T5 v1.1 "
                      "(\"gated-gelu\")",
                      path, ff);
        goto done;
    }
    if (!strcmp(ff, "gated-gelu"))
        cfg->act = PF_UNARY_GELU_TANH;
    else if ((rc = pf_text_parse_act(ff + 6, path, "feed_forward_proj", &cfg->act)) != PF_OK)
        goto done;
    rc = t5_config_check(cfg, path);
done:
    pf_json_free(j);
    return rc;
}

void pf_t5_config_xxl(pf_t5_config *c) {
    memset(c, 0, sizeof *c);
    c->vocab_size = 32128;
    c->d_model = 4096;
    c->d_kv = 64;
    c->num_heads = 64;
    c->d_ff = 10240;
    c->num_layers = 24;
    c->rel_buckets = 32;
    c->rel_max_distance = 128;
    c->eps = 1e-6f;
    c->act = PF_UNARY_GELU_TANH;
    t5_count_params(c);
}

/* ------------------------------------------------------------------ buckets */

int pf_t5_relative_bucket(int rel, int num_buckets, int max_distance) {
    int nb = num_buckets / 2; /* bidirectional: half the buckets for keys after the query */
    int bucket = rel > 0 ? nb : 0;
    int n = rel < 0 ? -rel : rel;
    int max_exact = nb / 2;
    if (n < max_exact) return bucket + n;
    /* torch evaluates max_exact + long(log(n.float() / max_exact) / math.log(max_distance /
     * max_exact) * (nb - max_exact)) in float32; the same rounding keeps the buckets at
     * exact powers equal */
    float r = logf((float)n / (float)max_exact) / (float)log((double)max_distance / (double)max_exact) *
              (float)(nb - max_exact);
    int large = max_exact + (int)r;
    if (large > nb - 1) large = nb - 1;
    return bucket + large;
}

/* ------------------------------------------------------------------ weights */

/* Declare every tensor (with m->pool NULL in the loader: presence and shapes only). */
static void t5_declare(pf_t5 *m, pf_loader *L) {
    const pf_t5_config *c = &m->cfg;
    int64_t D = c->d_model, inner = (int64_t)c->num_heads * c->d_kv, F = c->d_ff;
    int64_t s_emb[2] = {c->vocab_size, D}, s_rel[2] = {c->rel_buckets, c->num_heads};
    int64_t s_d[1] = {D}, s_in[2] = {inner, D}, s_o[2] = {D, inner}, s_wi[2] = {F, D}, s_wo[2] = {D, F};
    /* the tied embedding: transformers saves it as shared.weight; checkpoints written by
     * other tools carry encoder.embed_tokens.weight instead (or both, equal) */
    static const char *const emb_names[2] = {"shared.weight", "encoder.embed_tokens.weight"};
    m->embed = pf_load_alt(L, 2, s_emb, emb_names, 2);
    /* small tables read by non-linear ops stay f32 whatever the weights' dtype */
    m->rel_bias =
        pf_load_as(L, PF_F32, "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", 2, s_rel);
    char name[160];
    for (int i = 0; i < c->num_layers; i++) {
        t5_block *b = &m->blocks[i];
        snprintf(name, sizeof name, "encoder.block.%d.layer.0.layer_norm.weight", i);
        b->ln_attn = pf_load_as(L, PF_F32, name, 1, s_d);
        b->q = pf_loadf(L, 2, s_in, "encoder.block.%d.layer.0.SelfAttention.q.weight", i);
        b->k = pf_loadf(L, 2, s_in, "encoder.block.%d.layer.0.SelfAttention.k.weight", i);
        b->v = pf_loadf(L, 2, s_in, "encoder.block.%d.layer.0.SelfAttention.v.weight", i);
        b->o = pf_loadf(L, 2, s_o, "encoder.block.%d.layer.0.SelfAttention.o.weight", i);
        snprintf(name, sizeof name, "encoder.block.%d.layer.1.layer_norm.weight", i);
        b->ln_ff = pf_load_as(L, PF_F32, name, 1, s_d);
        b->wi0 = pf_loadf(L, 2, s_wi, "encoder.block.%d.layer.1.DenseReluDense.wi_0.weight", i);
        b->wi1 = pf_loadf(L, 2, s_wi, "encoder.block.%d.layer.1.DenseReluDense.wi_1.weight", i);
        b->wo = pf_loadf(L, 2, s_wo, "encoder.block.%d.layer.1.DenseReluDense.wo.weight", i);
    }
    m->final_ln = pf_load_as(L, PF_F32, "encoder.final_layer_norm.weight", 1, s_d);
}

/* Bytes of the weights: the relative bias and the norms in f32, the rest in dtype. */
static size_t t5_weight_bytes(const pf_t5_config *c, pf_dtype dtype) {
    int64_t f32 = (int64_t)c->rel_buckets * c->num_heads + (2 * (int64_t)c->num_layers + 1) * c->d_model;
    return (size_t)(c->n_params - f32) * pf_dtype_size(dtype) + (size_t)f32 * sizeof(float);
}

static pf_status t5_alloc(const pf_t5_config *cfg, pf_backend *be, pf_dtype dtype, const char *label, pf_t5 **out) {
    *out = NULL;
    pf_t5 *m = calloc(1, sizeof *m);
    if (!m) return pf_error(PF_ERR_OOM, "out of host memory (T5 encoder)");
    m->cfg = *cfg;
    m->be = be;
    m->dtype = dtype;
    m->label = pf_strdup(label);
    m->blocks = calloc((size_t)cfg->num_layers, sizeof *m->blocks);
    if (!m->label || !m->blocks) {
        pf_t5_free(m);
        return pf_error(PF_ERR_OOM, "out of host memory (T5 encoder)");
    }
    if (be) {
        /* embedding, relative bias, final norm and 9 tensors per block */
        pf_status rc = pf_pool_create_for(be, t5_weight_bytes(cfg, dtype), 3 + 9 * (int64_t)cfg->num_layers, &m->pool);
        if (rc == PF_OK) rc = pf_arena_create(be, &m->arena);
        if (rc != PF_OK) {
            pf_t5_free(m);
            return rc;
        }
    }
    *out = m;
    return PF_OK;
}

pf_status pf_t5_check_dir(const char *dir, pf_t5_config *cfg) {
    char *cpath = pf_path_join(dir, "config.json");
    if (!cpath) return pf_error(PF_ERR_OOM, "out of host memory");
    pf_status rc = pf_t5_config_load(cpath, cfg);
    free(cpath);
    if (rc != PF_OK) return rc;
    pf_weights *w = NULL;
    pf_t5 *m = NULL;
    if ((rc = pf_weights_open_dir(dir, &w)) != PF_OK) return rc;
    char label[512];
    snprintf(label, sizeof label, "T5 encoder (%s)", dir);
    if ((rc = t5_alloc(cfg, NULL, PF_F32, label, &m)) == PF_OK) {
        pf_loader L;
        pf_loader_init(&L, w, NULL, PF_F32, label);
        t5_declare(m, &L);
        rc = pf_loader_finish(&L);
    }
    pf_t5_free(m);
    pf_weights_close(w);
    return rc;
}

pf_status pf_t5_load(const char *dir, pf_backend *be, pf_dtype dtype, pf_t5 **out) {
    if (!out) return pf_error(PF_ERR_INVALID_ARG, "pf_t5_load: NULL output");
    *out = NULL;
    if (!dir || !be) return pf_error(PF_ERR_INVALID_ARG, "pf_t5_load: NULL folder or backend");
    PF_TRY(pf_text_check_dtype(dtype, "T5 encoder"));
    pf_t5_config cfg;
    char *cpath = pf_path_join(dir, "config.json");
    if (!cpath) return pf_error(PF_ERR_OOM, "out of host memory");
    pf_status rc = pf_t5_config_load(cpath, &cfg);
    free(cpath);
    if (rc != PF_OK) return pf_error_wrap(rc, "loading the T5 encoder");
    pf_weights *w;
    if ((rc = pf_weights_open_dir(dir, &w)) != PF_OK) return pf_error_wrap(rc, "loading the T5 encoder");
    char label[512];
    snprintf(label, sizeof label, "T5 encoder (%s)", dir);
    pf_t5 *m;
    if ((rc = t5_alloc(&cfg, be, dtype, label, &m)) != PF_OK) {
        pf_weights_close(w);
        return rc;
    }
    pf_loader L;
    pf_loader_init(&L, w, m->pool, dtype, label);
    t5_declare(m, &L);
    rc = pf_loader_finish(&L);
    pf_weights_close(w);
    if (rc != PF_OK) {
        pf_t5_free(m);
        return rc;
    }
    *out = m;
    return PF_OK;
}

pf_status pf_t5_create_random(const pf_t5_config *cfg_in, pf_backend *be, pf_dtype dtype, uint64_t seed, pf_t5 **out) {
    if (!out) return pf_error(PF_ERR_INVALID_ARG, "pf_t5_create_random: NULL output");
    *out = NULL;
    if (!cfg_in || !be) return pf_error(PF_ERR_INVALID_ARG, "pf_t5_create_random: NULL config or backend");
    PF_TRY(pf_text_check_dtype(dtype, "T5 encoder"));
    pf_t5_config cfg = *cfg_in;
    if (cfg.vocab_size < 1 || cfg.d_model < 1 || cfg.d_kv < 1 || cfg.num_heads < 1 || cfg.d_ff < 1 ||
        cfg.num_layers < 1 || !(cfg.eps > 0.0f) || (unsigned)cfg.act >= PF_UNARY_COUNT)
        return pf_error(PF_ERR_INVALID_ARG, "random T5 encoder: sizes must be positive");
    PF_TRY(t5_config_check(&cfg, "random T5 encoder"));
    pf_t5 *m;
    PF_TRY(t5_alloc(&cfg, be, dtype, "T5 encoder (random weights)", &m));
    int64_t D = cfg.d_model, inner = (int64_t)cfg.num_heads * cfg.d_kv, F = cfg.d_ff;
    int64_t s_emb[2] = {cfg.vocab_size, D}, s_rel[2] = {cfg.rel_buckets, cfg.num_heads};
    int64_t s_d[1] = {D}, s_in[2] = {inner, D}, s_o[2] = {D, inner}, s_wi[2] = {F, D}, s_wo[2] = {D, F};
    pf_random_fill rf = {.seed = seed};
    uint64_t stream = 0; /* one per tensor */
    pf_status rc = PF_OK;
    /* matrices with std 1/sqrt(fan_in) keep the residual stream finite through 24 blocks */
#define T5_RAND(dst, dt, nd, shape, nm, mean, std)                                                                     \
    do {                                                                                                               \
        if (rc != PF_OK) break;                                                                                        \
        (dst) = pf_pool_tensor(m->pool, (dt), (nd), (shape), (nm));                                                    \
        rc = !(dst) ? PF_ERR_OOM : pf_random_fill_tensor(&rf, (dst), stream++, (mean), (std));                         \
    } while (0)
    T5_RAND(m->embed, dtype, 2, s_emb, "shared.weight", 0.0f, 1.0f);
    T5_RAND(m->rel_bias, PF_F32, 2, s_rel, "relative_attention_bias.weight", 0.0f, 1.0f);
    float sd = 1.0f / sqrtf((float)D), sinner = 1.0f / sqrtf((float)inner), sf = 1.0f / sqrtf((float)F);
    for (int i = 0; i < cfg.num_layers && rc == PF_OK; i++) {
        t5_block *b = &m->blocks[i];
        T5_RAND(b->ln_attn, PF_F32, 1, s_d, "layer.0.layer_norm.weight", 1.0f, 0.1f);
        T5_RAND(b->q, dtype, 2, s_in, "SelfAttention.q.weight", 0.0f, sd);
        T5_RAND(b->k, dtype, 2, s_in, "SelfAttention.k.weight", 0.0f, sd);
        T5_RAND(b->v, dtype, 2, s_in, "SelfAttention.v.weight", 0.0f, sd);
        T5_RAND(b->o, dtype, 2, s_o, "SelfAttention.o.weight", 0.0f, sinner);
        T5_RAND(b->ln_ff, PF_F32, 1, s_d, "layer.1.layer_norm.weight", 1.0f, 0.1f);
        T5_RAND(b->wi0, dtype, 2, s_wi, "DenseReluDense.wi_0.weight", 0.0f, sd);
        T5_RAND(b->wi1, dtype, 2, s_wi, "DenseReluDense.wi_1.weight", 0.0f, sd);
        T5_RAND(b->wo, dtype, 2, s_wo, "DenseReluDense.wo.weight", 0.0f, sf);
    }
    T5_RAND(m->final_ln, PF_F32, 1, s_d, "final_layer_norm.weight", 1.0f, 0.1f);
#undef T5_RAND
    pf_random_fill_free(&rf);
    if (rc != PF_OK) {
        pf_t5_free(m);
        return pf_error_wrap(rc, "random T5 encoder");
    }
    *out = m;
    return PF_OK;
}

void pf_t5_free(pf_t5 *m) {
    if (!m) return;
    for (t5_graph *tg = m->graphs, *next; tg; tg = next) {
        next = tg->next;
        pf_graph_free(tg->g);
        free(tg->bucket_ids);
        free(tg);
    }
    pf_arena_free(m->arena);
    pf_pool_free(m->pool);
    free(m->blocks);
    free(m->label);
    free(m);
}

int pf_t5_dim(const pf_t5 *m) { return m ? m->cfg.d_model : 0; }
const pf_t5_config *pf_t5_get_config(const pf_t5 *m) { return m ? &m->cfg : NULL; }

void pf_t5_get_stats(const pf_t5 *m, pf_text_stats *st) {
    memset(st, 0, sizeof *st);
    if (!m) return;
    st->weight_bytes = m->pool ? pf_pool_bytes(m->pool) : 0;
    st->arena_bytes = m->arena ? pf_arena_size(m->arena) : 0;
    for (const t5_graph *tg = m->graphs; tg; tg = tg->next) st->n_graphs++;
    if (m->last) {
        st->graph_peak_bytes = m->last->stats.peak_bytes;
        st->flops = m->last->flops;
    }
}

/* ------------------------------------------------------------------ graph */

static pf_tensor *t5_heads(pf_graph *g, pf_tensor *x, int B, int L, int H, int dk) {
    int64_t ne[4] = {B, L, H, dk};
    return pf_reshape(g, x, 4, ne); /* [B, L, H*d_kv] -> [B, L, H, d_kv] */
}

static pf_status t5_build(pf_t5 *m, t5_graph *tg) {
    const pf_t5_config *c = &m->cfg;
    int B = tg->B, L = tg->L, H = c->num_heads, dk = c->d_kv;
    pf_graph *g = tg->g = pf_graph_new("t5_encoder");
    if (!g) return pf_error(PF_ERR_OOM, "out of host memory (T5 graph)");
    int64_t s_ids[2] = {B, L}, s_pair[2] = {L, L}, s_inner[3] = {B, L, (int64_t)H * dk};
    tg->ids = pf_input(g, PF_I32, 2, s_ids, "input_ids");
    tg->kmeta = pf_input(g, PF_I32, 2, s_ids, "attention_mask"); /* 1 = valid key */
    tg->buckets = pf_input(g, PF_I32, 2, s_pair, "relative_position_bucket");

    pf_tensor *x = pf_embedding(g, pf_external(g, m->embed), tg->ids); /* [B, L, D] */
    if (x && x->dtype != PF_F32) x = pf_cast(g, x, PF_F32);            /* activations stay f32 */
    /* [L, L, H] -> position_bias [H, L, L] */
    static const int to_hqk[3] = {2, 0, 1};
    pf_tensor *bias = pf_cont(g, pf_permute(g, pf_embedding(g, pf_external(g, m->rel_bias), tg->buckets), to_hqk));

    for (int i = 0; i < c->num_layers; i++) {
        const t5_block *b = &m->blocks[i];
        pf_tensor *h = pf_rms_norm(g, x, pf_external(g, b->ln_attn), c->eps);
        pf_tensor *q = t5_heads(g, pf_linear(g, h, pf_external(g, b->q), NULL), B, L, H, dk);
        pf_tensor *k = t5_heads(g, pf_linear(g, h, pf_external(g, b->k), NULL), B, L, H, dk);
        pf_tensor *v = t5_heads(g, pf_linear(g, h, pf_external(g, b->v), NULL), B, L, H, dk);
        /* T5 folds the 1/sqrt(d_kv) scale into its initialisation: scale 1 */
        pf_tensor *a = pf_attention(g, q, k, v, 1.0f, PF_MASK_KEY, NULL, tg->kmeta, bias); /* [B, L, H, d_kv] */
        a = pf_reshape(g, a, 3, s_inner);
        x = pf_add(g, x, pf_linear(g, a, pf_external(g, b->o), NULL));
        if (x) pf_set_name(x, "block.%d.attn_out", i);

        h = pf_rms_norm(g, x, pf_external(g, b->ln_ff), c->eps);
        pf_tensor *gate = pf_unary_op(g, pf_linear(g, h, pf_external(g, b->wi0), NULL), c->act); /* [B, L, d_ff] */
        pf_tensor *up = pf_linear(g, h, pf_external(g, b->wi1), NULL);
        x = pf_add(g, x, pf_linear(g, pf_mul(g, gate, up), pf_external(g, b->wo), NULL));
        if (x) pf_set_name(x, "block.%d.out", i);
    }
    x = pf_rms_norm(g, x, pf_external(g, m->final_ln), c->eps); /* [B, L, D] */
    if (x) {
        pf_set_name(x, "last_hidden_state");
        pf_output(g, x);
    }
    tg->out = x;
    pf_status rc = pf_graph_status(g);
    if (rc != PF_OK) return pf_error(rc, "%s: building the graph for [%d, %d]: %s", m->label, B, L, pf_graph_error(g));
    tg->flops = pf_graph_flops(g);

    tg->bucket_ids = malloc(sizeof(int32_t) * (size_t)L * (size_t)L);
    if (!tg->bucket_ids) return pf_error(PF_ERR_OOM, "out of host memory (T5 buckets)");
    for (int qi = 0; qi < L; qi++)
        for (int kj = 0; kj < L; kj++)
            tg->bucket_ids[(size_t)qi * L + kj] = pf_t5_relative_bucket(kj - qi, c->rel_buckets, c->rel_max_distance);
    rc = pf_graph_plan(g, m->arena, &tg->stats);
    if (rc != PF_OK) return pf_error_wrap(rc, "%s: planning the graph for [%d, %d]", m->label, B, L);
    return PF_OK;
}

static pf_status t5_graph_get(pf_t5 *m, int B, int L, t5_graph **out) {
    for (t5_graph *tg = m->graphs; tg; tg = tg->next)
        if (tg->B == B && tg->L == L) {
            *out = tg;
            return PF_OK;
        }
    t5_graph *tg = calloc(1, sizeof *tg);
    if (!tg) return pf_error(PF_ERR_OOM, "out of host memory (T5 graph)");
    tg->B = B;
    tg->L = L;
    pf_status rc = t5_build(m, tg);
    if (rc != PF_OK) {
        pf_graph_free(tg->g);
        free(tg->bucket_ids);
        free(tg);
        return rc;
    }
    tg->next = m->graphs;
    m->graphs = tg;
    *out = tg;
    return PF_OK;
}

pf_status pf_t5_encode(pf_t5 *m, const int32_t *ids, const int32_t *mask, int B, int L, float *hidden) {
    if (!m || !ids || !hidden) return pf_error(PF_ERR_INVALID_ARG, "pf_t5_encode: NULL argument");
    if (!m->pool) return pf_error(PF_ERR_INVALID_ARG, "pf_t5_encode: %s has no weights", m->label);
    if (B < 1 || L < 1 || (int64_t)B * L > (1 << 24) || L > 65536)
        return pf_error(PF_ERR_INVALID_ARG, "%s: batch %d x %d tokens is not a valid input shape", m->label, B, L);
    PF_TRY(pf_text_check_ids(ids, B, L, m->cfg.vocab_size, m->label));
    size_t n = (size_t)B * (size_t)L;
    if (mask)
        for (size_t i = 0; i < n; i++)
            if (mask[i] != 0 && mask[i] != 1)
                return pf_error(PF_ERR_INVALID_ARG, "%s: attention_mask value %d at [%zu, %zu] (expected 0 or 1)",
                                m->label, (int)mask[i], i / (size_t)L, i % (size_t)L);
    t5_graph *tg = NULL;
    PF_TRY(t5_graph_get(m, B, L, &tg));
    m->last = tg;
    int32_t *kmeta = malloc(sizeof(int32_t) * n);
    if (!kmeta) return pf_error(PF_ERR_OOM, "out of host memory (T5 mask)");
    for (size_t i = 0; i < n; i++) kmeta[i] = mask ? mask[i] : 1;
    /* inputs are set right before computing: graphs of one arena share its memory */
    pf_status rc = pf_tensor_set(tg->ids, ids, sizeof(int32_t) * n);
    if (rc == PF_OK) rc = pf_tensor_set(tg->kmeta, kmeta, sizeof(int32_t) * n);
    if (rc == PF_OK) rc = pf_tensor_set(tg->buckets, tg->bucket_ids, sizeof(int32_t) * (size_t)L * (size_t)L);
    free(kmeta);
    if (rc == PF_OK) rc = pf_graph_compute(tg->g);
    if (rc == PF_OK) rc = pf_tensor_get_as(tg->out, hidden, PF_F32, n * (size_t)m->cfg.d_model);
    if (rc != PF_OK) return pf_error_wrap(rc, "%s: encoding [%d, %d]", m->label, B, L);
    return PF_OK;
}
