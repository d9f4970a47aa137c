/*
 * Every tensor of both DiT variants, by its official state_dict name and with the shape
 * the config implies (facts §2.2, §2.3). The same declaration serves three modes:
 * loading from a file (pf_loader: all problems collected, reported at once), random
 * weights (pf_dit_create_random) and counting parameters (pf_dit_config_released).
 */
#include "dit_internal.h"

#include <stdarg.h>

/* How random weights are drawn (benchmarks only; the values carry no meaning). */
typedef enum { DIT_INIT_LINEAR, DIT_INIT_ADALN, DIT_INIT_BIAS, DIT_INIT_NORM, DIT_INIT_NONE } dit_init;

static pf_tensor *dit_w(dit_wsource *s, pf_dtype dt, dit_init init, int ndim, const int64_t *shape, const char *name) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    uint64_t stream = (uint64_t)s->n_tensors++;
    if (init != DIT_INIT_NONE) s->n_params += n;
    s->bytes += (size_t)n * pf_dtype_size(dt);
    if (s->loader) {
        if (s->n_names == s->cap_names) {
            int cap = s->cap_names ? 2 * s->cap_names : 256;
            char **nn = realloc(s->names, (size_t)cap * sizeof *nn);
            if (nn) {
                s->names = nn;
                s->cap_names = cap;
            }
        }
        if (s->n_names < s->cap_names) {
            char *copy = pf_strdup(name);
            if (copy) s->names[s->n_names++] = copy;
        }
        return pf_load_as(s->loader, dt, name, ndim, shape);
    }
    if (!s->pool) return NULL; /* counting */
    if (s->status != PF_OK) return NULL;
    pf_tensor *t = pf_pool_tensor(s->pool, dt, ndim, shape, name);
    if (!t) {
        s->status = PF_ERR_OOM;
        return NULL;
    }
    if (init == DIT_INIT_NONE) return t; /* the caller sets its values */
    int64_t fan_in = 1;
    for (int i = 1; i < ndim; i++) fan_in *= shape[i];
    float mean = 0.0f, std;
    switch (init) {
    case DIT_INIT_LINEAR: std = 1.0f / sqrtf((float)fan_in); break; /* N(0, 1/fan_in) */
    case DIT_INIT_ADALN: std = 0.5f / sqrtf((float)fan_in); break;  /* keeps (1 + scale) moderate */
    case DIT_INIT_BIAS: std = 0.02f; break;
    default: mean = 1.0f, std = 0.1f; break; /* RMSNorm weights */
    }
    pf_status rc = pf_random_fill_tensor(s->rand, t, stream, mean, std);
    if (rc != PF_OK) s->status = rc;
    return t;
}

/* name.weight [out, in] and name.bias [out]. */
static void dit_decl_linear(pf_dit *dit, dit_wsource *s, dit_linear *l, int64_t out, int64_t in, dit_init init,
                            const char *fmt, ...) {
    char base[160], name[192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(base, sizeof base, fmt, ap);
    va_end(ap);
    int64_t wsh[2] = {out, in}, bsh[1] = {out};
    snprintf(name, sizeof name, "%s.weight", base);
    l->w = dit_w(s, dit->wdtype, init, 2, wsh, name);
    snprintf(name, sizeof name, "%s.bias", base);
    l->b = dit_w(s, dit->wdtype, DIT_INIT_BIAS, 1, bsh, name);
}

/* RMSNorm(head_dim).weight */
static pf_tensor *dit_decl_norm(pf_dit *dit, dit_wsource *s, const char *fmt, ...) {
    char name[192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    int64_t sh[1] = {dit->cfg.head_dim};
    return dit_w(s, dit->wdtype, DIT_INIT_NORM, 1, sh, name);
}

/* CombinedTimestepTextProjEmbeddings (flux) / CombinedTimestepConditionEmbeddings (SD3). */
static void dit_decl_time_text(pf_dit *dit, dit_wsource *s) {
    int64_t D = dit->cfg.hidden;
    dit_decl_linear(dit, s, &dit->time_linear_1, D, DIT_TIME_PROJ_DIM, DIT_INIT_LINEAR,
                    "time_text_embed.timestep_embedder.linear_1");
    dit_decl_linear(dit, s, &dit->time_linear_2, D, D, DIT_INIT_LINEAR, "time_text_embed.timestep_embedder.linear_2");
    dit_decl_linear(dit, s, &dit->text_linear_1, D, dit->cfg.pooled_dim, DIT_INIT_LINEAR,
                    "time_text_embed.text_embedder.linear_1");
    dit_decl_linear(dit, s, &dit->text_linear_2, D, D, DIT_INIT_LINEAR, "time_text_embed.text_embedder.linear_2");
}

/* FluxTransformerBlock / JointTransformerBlock: transformer_blocks.i */
static void dit_decl_double(pf_dit *dit, dit_wsource *s, int i, dit_double_block *b) {
    int64_t D = dit->cfg.hidden, F = DIT_MLP_RATIO * D;
    bool flux = dit->cfg.variant == PF_DIT_FLUX;
    /* SD3: the last block is context_pre_only (its norm1_context is AdaLayerNormContinuous) */
    b->context_pre_only = !flux && i == dit->cfg.n_double - 1;
    dit_decl_linear(dit, s, &b->norm1, 6 * D, D, DIT_INIT_ADALN, "transformer_blocks.%d.norm1.linear", i);
    dit_decl_linear(dit, s, &b->norm1_context, (b->context_pre_only ? 2 : 6) * D, D, DIT_INIT_ADALN,
                    "transformer_blocks.%d.norm1_context.linear", i);
    dit_decl_linear(dit, s, &b->to_q, D, D, DIT_INIT_LINEAR, "transformer_blocks.%d.attn.to_q", i);
    dit_decl_linear(dit, s, &b->to_k, D, D, DIT_INIT_LINEAR, "transformer_blocks.%d.attn.to_k", i);
    dit_decl_linear(dit, s, &b->to_v, D, D, DIT_INIT_LINEAR, "transformer_blocks.%d.attn.to_v", i);
    dit_decl_linear(dit, s, &b->add_q_proj, D, D, DIT_INIT_LINEAR, "transformer_blocks.%d.attn.add_q_proj", i);
    dit_decl_linear(dit, s, &b->add_k_proj, D, D, DIT_INIT_LINEAR, "transformer_blocks.%d.attn.add_k_proj", i);
    dit_decl_linear(dit, s, &b->add_v_proj, D, D, DIT_INIT_LINEAR, "transformer_blocks.%d.attn.add_v_proj", i);
    b->norm_q = dit_decl_norm(dit, s, "transformer_blocks.%d.attn.norm_q.weight", i);
    b->norm_k = dit_decl_norm(dit, s, "transformer_blocks.%d.attn.norm_k.weight", i);
    /* Flux Attention names them norm_added_q/k, SD3 JointAttention norm_add_q/k */
    b->norm_added_q = dit_decl_norm(
        dit, s,
        flux ? "transformer_blocks.%d.attn.norm_added_q.weight" : "transformer_blocks.%d.attn.norm_add_q.weight", i);
    b->norm_added_k = dit_decl_norm(
        dit, s,
        flux ? "transformer_blocks.%d.attn.norm_added_k.weight" : "transformer_blocks.%d.attn.norm_add_k.weight", i);
    dit_decl_linear(dit, s, &b->to_out, D, D, DIT_INIT_LINEAR, "transformer_blocks.%d.attn.to_out.0", i);
    dit_decl_linear(dit, s, &b->ff_0, F, D, DIT_INIT_LINEAR, "transformer_blocks.%d.ff.net.0.proj", i);
    dit_decl_linear(dit, s, &b->ff_2, D, F, DIT_INIT_LINEAR, "transformer_blocks.%d.ff.net.2", i);
    if (!b->context_pre_only) {
        dit_decl_linear(dit, s, &b->to_add_out, D, D, DIT_INIT_LINEAR, "transformer_blocks.%d.attn.to_add_out", i);
        dit_decl_linear(dit, s, &b->ff_context_0, F, D, DIT_INIT_LINEAR, "transformer_blocks.%d.ff_context.net.0.proj",
                        i);
        dit_decl_linear(dit, s, &b->ff_context_2, D, F, DIT_INIT_LINEAR, "transformer_blocks.%d.ff_context.net.2", i);
    }
}

/* FluxSingleTransformerBlock: single_transformer_blocks.i */
static void dit_decl_single(pf_dit *dit, dit_wsource *s, int i, dit_single_block *b) {
    int64_t D = dit->cfg.hidden, F = DIT_MLP_RATIO * D;
    dit_decl_linear(dit, s, &b->norm, 3 * D, D, DIT_INIT_ADALN, "single_transformer_blocks.%d.norm.linear", i);
    dit_decl_linear(dit, s, &b->proj_mlp, F, D, DIT_INIT_LINEAR, "single_transformer_blocks.%d.proj_mlp", i);
    dit_decl_linear(dit, s, &b->proj_out, D, D + F, DIT_INIT_LINEAR, "single_transformer_blocks.%d.proj_out", i);
    dit_decl_linear(dit, s, &b->to_q, D, D, DIT_INIT_LINEAR, "single_transformer_blocks.%d.attn.to_q", i);
    dit_decl_linear(dit, s, &b->to_k, D, D, DIT_INIT_LINEAR, "single_transformer_blocks.%d.attn.to_k", i);
    dit_decl_linear(dit, s, &b->to_v, D, D, DIT_INIT_LINEAR, "single_transformer_blocks.%d.attn.to_v", i);
    b->norm_q = dit_decl_norm(dit, s, "single_transformer_blocks.%d.attn.norm_q.weight", i);
    b->norm_k = dit_decl_norm(dit, s, "single_transformer_blocks.%d.attn.norm_k.weight", i);
}

/* SD3 PatchEmbed3D: pos_embed.proj (Conv2d) and the persistent pos_embed.pos_embed buffer. */
static void dit_decl_patch_embed(pf_dit *dit, dit_wsource *s) {
    const pf_dit_config *c = &dit->cfg;
    int64_t wsh[4] = {c->hidden, c->in_channels, c->patch, c->patch}, bsh[1] = {c->hidden};
    dit->patch_proj.w = dit_w(s, dit->wdtype, DIT_INIT_LINEAR, 4, wsh, "pos_embed.proj.weight");
    dit->patch_proj.b = dit_w(s, dit->wdtype, DIT_INIT_BIAS, 1, bsh, "pos_embed.proj.bias");
    /* kept in f32 whatever the weight dtype: only crops of it are ever added, and the host
     * resizes it for smaller clips */
    int64_t S = c->pos_embed_max_size, psh[3] = {1, S * S, c->hidden};
    dit->pos_embed = dit_w(s, PF_F32, DIT_INIT_NONE, 3, psh, "pos_embed.pos_embed");
    if (!s->loader && s->pool && dit->pos_embed && s->status == PF_OK &&
        !pf_backend_is_meta(pf_pool_backend(s->pool))) {
        /* a random model gets the table the official constructor computes */
        size_t n = (size_t)(S * S * c->hidden);
        float *tab = pf_malloc(n * sizeof(float), "SD3 sin-cos table");
        if (!tab) {
            s->status = PF_ERR_OOM;
            return;
        }
        dit_sincos_table(c->hidden, (int)S, c->base_size, tab);
        pf_status rc = pf_tensor_set(dit->pos_embed, tab, n * sizeof(float));
        free(tab);
        if (rc != PF_OK) s->status = rc;
    }
}

pf_status dit_weights_declare(pf_dit *dit, dit_wsource *src) {
    const pf_dit_config *c = &dit->cfg;
    int64_t D = c->hidden;
    src->n_params = 0;
    src->n_tensors = 0;
    src->bytes = 0;
    src->status = PF_OK;
    if (c->variant == PF_DIT_FLUX) {
        dit_decl_time_text(dit, src);
        dit_decl_linear(dit, src, &dit->context_embedder, D, c->text_dim, DIT_INIT_LINEAR, "context_embedder");
        dit_decl_linear(dit, src, &dit->x_embedder, D, (int64_t)c->patch * c->patch * c->in_channels, DIT_INIT_LINEAR,
                        "x_embedder");
        for (int i = 0; i < c->n_double; i++) dit_decl_double(dit, src, i, &dit->blocks[i]);
        for (int i = 0; i < c->n_single; i++) dit_decl_single(dit, src, i, &dit->single_blocks[i]);
    } else {
        dit_decl_patch_embed(dit, src);
        dit_decl_time_text(dit, src);
        dit_decl_linear(dit, src, &dit->context_embedder, D, c->text_dim, DIT_INIT_LINEAR, "context_embedder");
        for (int i = 0; i < c->n_double; i++) dit_decl_double(dit, src, i, &dit->blocks[i]);
    }
    /* AdaLayerNormContinuous(D, D): linear [2D, D], chunk order (scale, shift) */
    dit_decl_linear(dit, src, &dit->norm_out, 2 * D, D, DIT_INIT_ADALN, "norm_out.linear");
    dit_decl_linear(dit, src, &dit->proj_out, dit->proj_out_dim, D, DIT_INIT_LINEAR, "proj_out");
    return src->status;
}

int64_t dit_count_weights(const pf_dit_config *cfg, pf_dtype dt, size_t *bytes, int *n_tensors) {
    pf_dit tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.cfg = *cfg;
    tmp.cfg.hidden = cfg->heads * cfg->head_dim;
    tmp.wdtype = dt;
    if (dit_config_finish(&tmp, "DiT config") != PF_OK) return -1;
    tmp.blocks = calloc((size_t)PF_MAX(cfg->n_double, 1), sizeof *tmp.blocks);
    tmp.single_blocks = calloc((size_t)PF_MAX(cfg->n_single, 1), sizeof *tmp.single_blocks);
    int64_t n = -1;
    if (tmp.blocks && tmp.single_blocks) {
        dit_wsource src = {0}; /* neither a loader nor a pool: count only */
        dit_weights_declare(&tmp, &src);
        n = src.n_params;
        if (bytes) *bytes = src.bytes;
        if (n_tensors) *n_tensors = src.n_tensors;
    }
    free(tmp.blocks);
    free(tmp.single_blocks);
    return n;
}
