/* Writers of tiny random-weight text-encoder folders (pf_tiny_text.h). */
#include "pf_tiny_text.h"

#include "pf_model_files.h"
#include "text_impl.h"

#include <math.h>

/* A list of f32 tensors to write, each with its own buffer and name. */
typedef struct tiny_list {
    pf_st_write_tensor *t;
    int64_t (*shapes)[2];
    char **names;
    float **data;
    int n, cap;
    uint64_t seed; /* tensor i is stream i of it */
    pf_status rc;
} tiny_list;

static void tiny_add(tiny_list *l, int ndim, int64_t d0, int64_t d1, float mean, float std, const char *fmt, ...)
    PF_PRINTF(7, 8);

static void tiny_add(tiny_list *l, int ndim, int64_t d0, int64_t d1, float mean, float std, const char *fmt, ...) {
    if (l->rc != PF_OK) return;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        pf_st_write_tensor *t = realloc(l->t, (size_t)cap * sizeof *t);
        if (t) l->t = t;
        int64_t(*sh)[2] = realloc(l->shapes, (size_t)cap * sizeof *sh);
        if (sh) l->shapes = sh;
        char **nm = realloc(l->names, (size_t)cap * sizeof *nm);
        if (nm) l->names = nm;
        float **d = realloc(l->data, (size_t)cap * sizeof *d);
        if (d) l->data = d;
        if (!t || !sh || !nm || !d) {
            l->rc = pf_error(PF_ERR_OOM, "out of host memory (tiny weights)");
            return;
        }
        l->cap = cap;
    }
    size_t n = (size_t)d0 * (size_t)(ndim == 2 ? d1 : 1);
    char name[192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    float *data = malloc(sizeof(float) * n);
    char *nm = pf_strdup(name);
    if (!data || !nm) {
        free(data);
        free(nm);
        l->rc = pf_error(PF_ERR_OOM, "out of host memory (tiny weights)");
        return;
    }
    int i = l->n++;
    pf_random_values(data, PF_F32, n, l->seed, (uint64_t)i, mean, std, NULL);
    l->shapes[i][0] = d0;
    l->shapes[i][1] = d1;
    l->names[i] = nm;
    l->data[i] = data;
    l->t[i] = (pf_st_write_tensor){.name = nm, .dtype = PF_F32, .ndim = ndim, .shape = NULL, .data = data};
}

static void tiny_list_free(tiny_list *l) {
    for (int i = 0; i < l->n; i++) {
        free(l->names[i]);
        free(l->data[i]);
    }
    free(l->t);
    free(l->shapes);
    free(l->names);
    free(l->data);
}

static pf_status tiny_list_write(tiny_list *l, const char *dir) {
    if (l->rc != PF_OK) return l->rc;
    /* shapes point into the (now final) shape array */
    for (int i = 0; i < l->n; i++) l->t[i].shape = l->shapes[i];
    return pf_write_safetensors(dir, "model.safetensors", l->t, l->n);
}

pf_status pf_tiny_t5_write(const char *dir, const pf_t5_config *c, uint64_t seed) {
    if (!dir || !c) return pf_error(PF_ERR_INVALID_ARG, "pf_tiny_t5_write: NULL argument");
    if (c->vocab_size < 1 || c->d_model < 1 || c->d_kv < 1 || c->num_heads < 1 || c->d_ff < 1 || c->num_layers < 1 ||
        c->rel_buckets < 4 || c->rel_max_distance < 1 || !(c->eps > 0.0f) || (unsigned)c->act >= PF_UNARY_COUNT)
        return pf_error(PF_ERR_INVALID_ARG, "pf_tiny_t5_write: invalid config");
    PF_TRY(pf_mkdir_p(dir));
    /* "gated-gelu" is how the released config spells gelu_new */
    char ff[64];
    if (c->act == PF_UNARY_GELU_TANH)
        snprintf(ff, sizeof ff, "gated-gelu");
    else
        snprintf(ff, sizeof ff, "gated-%s", pf_text_act_name(c->act));
    char cfg[2048];
    snprintf(cfg, sizeof cfg,
             "{\n"
             "  \"architectures\": [\"T5EncoderModel\"],\n"
             "  \"d_ff\": %d,\n"
             "  \"d_kv\": %d,\n"
             "  \"d_model\": %d,\n"
             "  \"decoder_start_token_id\": 0,\n"
             "  \"dense_act_fn\": \"%s\",\n"
             "  \"dropout_rate\": 0.1,\n"
             "  \"eos_token_id\": 1,\n"
             "  \"feed_forward_proj\": \"%s\",\n"
             "  \"initializer_factor\": 1.0,\n"
             "  \"is_encoder_decoder\": true,\n"
             "  \"is_gated_act\": true,\n"
             "  \"layer_norm_epsilon\": %.9g,\n"
             "  \"model_type\": \"t5\",\n"
             "  \"num_decoder_layers\": %d,\n"
             "  \"num_heads\": %d,\n"
             "  \"num_layers\": %d,\n"
             "  \"output_past\": true,\n"
             "  \"pad_token_id\": 0,\n"
             "  \"relative_attention_max_distance\": %d,\n"
             "  \"relative_attention_num_buckets\": %d,\n"
             "  \"tie_word_embeddings\": false,\n"
             "  \"torch_dtype\": \"float32\",\n"
             "  \"transformers_version\": \"4.39.3\",\n"
             "  \"use_cache\": true,\n"
             "  \"vocab_size\": %d\n"
             "}\n",
             c->d_ff, c->d_kv, c->d_model, pf_text_act_name(c->act), ff, (double)c->eps, c->num_layers, c->num_heads,
             c->num_layers, c->rel_max_distance, c->rel_buckets, c->vocab_size);
    PF_TRY(pf_write_text_file(dir, "config.json", cfg));

    int64_t D = c->d_model, inner = (int64_t)c->num_heads * c->d_kv, F = c->d_ff;
    float sd = 1.0f / sqrtf((float)D), si = 1.0f / sqrtf((float)inner), sf = 1.0f / sqrtf((float)F);
    tiny_list l = {.seed = seed};
    /* tensors in module order (readers look names up, the order does not matter) */
    tiny_add(&l, 2, c->vocab_size, D, 0.0f, 1.0f, "shared.weight");
    for (int i = 0; i < c->num_layers; i++) {
        const char *p = "encoder.block";
        tiny_add(&l, 1, D, 0, 1.0f, 0.1f, "%s.%d.layer.0.layer_norm.weight", p, i);
        tiny_add(&l, 2, inner, D, 0.0f, sd, "%s.%d.layer.0.SelfAttention.q.weight", p, i);
        tiny_add(&l, 2, inner, D, 0.0f, sd, "%s.%d.layer.0.SelfAttention.k.weight", p, i);
        tiny_add(&l, 2, inner, D, 0.0f, sd, "%s.%d.layer.0.SelfAttention.v.weight", p, i);
        tiny_add(&l, 2, D, inner, 0.0f, si, "%s.%d.layer.0.SelfAttention.o.weight", p, i);
        if (i == 0)
            tiny_add(&l, 2, c->rel_buckets, c->num_heads, 0.0f, 1.0f,
                     "%s.0.layer.0.SelfAttention.relative_attention_bias.weight", p);
        tiny_add(&l, 1, D, 0, 1.0f, 0.1f, "%s.%d.layer.1.layer_norm.weight", p, i);
        tiny_add(&l, 2, F, D, 0.0f, sd, "%s.%d.layer.1.DenseReluDense.wi_0.weight", p, i);
        tiny_add(&l, 2, F, D, 0.0f, sd, "%s.%d.layer.1.DenseReluDense.wi_1.weight", p, i);
        tiny_add(&l, 2, D, F, 0.0f, sf, "%s.%d.layer.1.DenseReluDense.wo.weight", p, i);
    }
    tiny_add(&l, 1, D, 0, 1.0f, 0.1f, "encoder.final_layer_norm.weight");
    pf_status rc = tiny_list_write(&l, dir);
    tiny_list_free(&l);
    return rc;
}

pf_status pf_tiny_clip_write(const char *dir, const pf_clip_config *c, uint64_t seed) {
    if (!dir || !c) return pf_error(PF_ERR_INVALID_ARG, "pf_tiny_clip_write: NULL argument");
    if (c->vocab_size < 1 || c->hidden < 1 || c->heads < 1 || c->hidden % c->heads || c->intermediate < 1 ||
        c->layers < 1 || c->max_positions < 1 || c->projection_dim < 0 || !(c->eps > 0.0f) ||
        (unsigned)c->act >= PF_UNARY_COUNT)
        return pf_error(PF_ERR_INVALID_ARG, "pf_tiny_clip_write: invalid config");
    PF_TRY(pf_mkdir_p(dir));
    bool proj = c->projection_dim > 0;
    char cfg[2048];
    snprintf(cfg, sizeof cfg,
             "{\n"
             "  \"architectures\": [\"%s\"],\n"
             "  \"attention_dropout\": 0.0,\n"
             "  \"bos_token_id\": 0,\n"
             "  \"dropout\": 0.0,\n"
             "  \"eos_token_id\": %d,\n"
             "  \"hidden_act\": \"%s\",\n"
             "  \"hidden_size\": %d,\n"
             "  \"initializer_factor\": 1.0,\n"
             "  \"initializer_range\": 0.02,\n"
             "  \"intermediate_size\": %d,\n"
             "  \"layer_norm_eps\": %.9g,\n"
             "  \"max_position_embeddings\": %d,\n"
             "  \"model_type\": \"clip_text_model\",\n"
             "  \"num_attention_heads\": %d,\n"
             "  \"num_hidden_layers\": %d,\n"
             "  \"pad_token_id\": 1,\n"
             "  \"projection_dim\": %d,\n"
             "  \"torch_dtype\": \"float32\",\n"
             "  \"transformers_version\": \"4.39.3\",\n"
             "  \"vocab_size\": %d\n"
             "}\n",
             proj ? "CLIPTextModelWithProjection" : "CLIPTextModel", c->eos_token_id, pf_text_act_name(c->act),
             c->hidden, c->intermediate, (double)c->eps, c->max_positions, c->heads, c->layers,
             proj ? c->projection_dim : c->hidden, c->vocab_size);
    PF_TRY(pf_write_text_file(dir, "config.json", cfg));

    int64_t D = c->hidden, I = c->intermediate;
    float sd = 1.0f / sqrtf((float)D), si = 1.0f / sqrtf((float)I);
    tiny_list l = {.seed = seed};
    const char *p = "text_model";
    tiny_add(&l, 2, c->vocab_size, D, 0.0f, 1.0f, "%s.embeddings.token_embedding.weight", p);
    tiny_add(&l, 2, c->max_positions, D, 0.0f, 1.0f, "%s.embeddings.position_embedding.weight", p);
    for (int i = 0; i < c->layers; i++) {
        const char *e = "encoder.layers";
        tiny_add(&l, 1, D, 0, 1.0f, 0.1f, "%s.%s.%d.layer_norm1.weight", p, e, i);
        tiny_add(&l, 1, D, 0, 0.0f, 0.05f, "%s.%s.%d.layer_norm1.bias", p, e, i);
        static const char *const projs[4] = {"q_proj", "k_proj", "v_proj", "out_proj"};
        for (int k = 0; k < 4; k++) {
            tiny_add(&l, 2, D, D, 0.0f, sd, "%s.%s.%d.self_attn.%s.weight", p, e, i, projs[k]);
            tiny_add(&l, 1, D, 0, 0.0f, 0.05f, "%s.%s.%d.self_attn.%s.bias", p, e, i, projs[k]);
        }
        tiny_add(&l, 1, D, 0, 1.0f, 0.1f, "%s.%s.%d.layer_norm2.weight", p, e, i);
        tiny_add(&l, 1, D, 0, 0.0f, 0.05f, "%s.%s.%d.layer_norm2.bias", p, e, i);
        tiny_add(&l, 2, I, D, 0.0f, sd, "%s.%s.%d.mlp.fc1.weight", p, e, i);
        tiny_add(&l, 1, I, 0, 0.0f, 0.05f, "%s.%s.%d.mlp.fc1.bias", p, e, i);
        tiny_add(&l, 2, D, I, 0.0f, si, "%s.%s.%d.mlp.fc2.weight", p, e, i);
        tiny_add(&l, 1, D, 0, 0.0f, 0.05f, "%s.%s.%d.mlp.fc2.bias", p, e, i);
    }
    tiny_add(&l, 1, D, 0, 1.0f, 0.1f, "%s.final_layer_norm.weight", p);
    tiny_add(&l, 1, D, 0, 0.0f, 0.05f, "%s.final_layer_norm.bias", p);
    if (proj) tiny_add(&l, 2, c->projection_dim, D, 0.0f, sd, "text_projection.weight");
    pf_status rc = tiny_list_write(&l, dir);
    tiny_list_free(&l);
    return rc;
}

pf_status pf_tiny_text_spec_default(pf_dit_variant v, int text_dim, int pooled_dim, pf_tiny_text_spec *s) {
    if (!s) return pf_error(PF_ERR_INVALID_ARG, "pf_tiny_text_spec_default: NULL spec");
    memset(s, 0, sizeof *s);
    if (text_dim < 1 || pooled_dim < (v == PF_DIT_MMDIT ? 2 : 1))
        return pf_error(PF_ERR_INVALID_ARG, "tiny text encoders: text_dim %d / pooled_dim %d too small", text_dim,
                        pooled_dim);
    pf_t5_config *t = &s->t5;
    t->vocab_size = 32128; /* the T5 tokenizer's 32000 pieces + 100 extra ids fit */
    t->d_model = text_dim;
    t->d_kv = 8;
    t->num_heads = 2;
    t->d_ff = 2 * text_dim;
    t->num_layers = 2;
    t->rel_buckets = 32;
    t->rel_max_distance = 128;
    t->eps = 1e-6f;
    t->act = PF_UNARY_GELU_TANH;

    pf_clip_config base = {.vocab_size = 49408,
                           .layers = 2,
                           .max_positions = PF_CLIP_MAX_TOKENS,
                           .eps = 1e-5f,
                           .act = PF_UNARY_QUICK_GELU,
                           .eos_token_id = 2};
    s->clip = base;
    if (v == PF_DIT_FLUX) {
        s->clip.hidden = pooled_dim; /* pooler_output feeds the DiT directly */
        s->clip.heads = pooled_dim % 2 ? 1 : 2;
        s->clip.intermediate = 2 * pooled_dim;
        s->clip.projection_dim = 0;
    } else {
        int p1 = pooled_dim * 3 / 8; /* 768 of 2048 */
        if (p1 < 1) p1 = 1;
        s->clip.hidden = 32;
        s->clip.heads = 2;
        s->clip.intermediate = 64;
        s->clip.projection_dim = p1;
        s->clip2 = base;
        s->clip2.hidden = 48;
        s->clip2.heads = 2;
        s->clip2.intermediate = 96;
        s->clip2.act = PF_UNARY_GELU_ERF;
        s->clip2.projection_dim = pooled_dim - p1;
    }
    return PF_OK;
}

static pf_status tiny_copy(const char *src_dir, const char *file, const char *dst_dir) {
    char *src = pf_path_join(src_dir, file);
    if (!src) return pf_error(PF_ERR_OOM, "out of host memory");
    char *data = NULL;
    size_t len = 0;
    pf_status rc = pf_read_file(src, &data, &len);
    free(src);
    if (rc == PF_OK) rc = pf_write_file(dst_dir, file, data, len);
    free(data);
    return rc;
}

/* Copy `files` (NULL-terminated) from tok_pack/sub into root/out. */
static pf_status tiny_tok(const char *tok_pack, const char *sub, const char *const *files, const char *root,
                          const char *out) {
    char *src = pf_path_join(tok_pack, sub), *dst = pf_path_join(root, out);
    pf_status rc = src && dst ? pf_mkdir_p(dst) : pf_error(PF_ERR_OOM, "out of host memory");
    for (int i = 0; files[i] && rc == PF_OK; i++) rc = tiny_copy(src, files[i], dst);
    free(src);
    free(dst);
    return rc;
}

static pf_status tiny_enc_dir(const char *root, const char *sub, char **out) {
    *out = pf_path_join(root, sub);
    return *out ? PF_OK : pf_error(PF_ERR_OOM, "out of host memory");
}

pf_status pf_tiny_text_write_root(const char *root, pf_dit_variant v, const pf_tiny_text_spec *s, const char *tok_pack,
                                  uint64_t seed) {
    if (!root || !s || !tok_pack) return pf_error(PF_ERR_INVALID_ARG, "pf_tiny_text_write_root: NULL argument");
    if (v != PF_DIT_FLUX && v != PF_DIT_MMDIT) return pf_error(PF_ERR_INVALID_ARG, "unknown model variant %d", (int)v);
    PF_TRY(pf_mkdir_p(root));
    static const char *const t5_files[] = {"spiece.model", "tokenizer.json", "tokenizer_config.json",
                                           "special_tokens_map.json", NULL};
    static const char *const spm[] = {"spiece.model", NULL};
    static const char *const sd3_t5_files[] = {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                                               NULL};
    static const char *const clip_files[] = {"vocab.json", "merges.txt", "tokenizer_config.json",
                                             "special_tokens_map.json", NULL};
    static const char *const bpe[] = {"vocab.json", "merges.txt", NULL};
    static const char *const clip_cfg[] = {"tokenizer_config.json", "special_tokens_map.json", NULL};
    pf_status rc;
    char *d = NULL;
    if (v == PF_DIT_FLUX) {
        if ((rc = tiny_tok(tok_pack, "clip", clip_files, root, "tokenizer")) != PF_OK) return rc;
        if ((rc = tiny_tok(tok_pack, "t5", t5_files, root, "tokenizer_2")) != PF_OK) return rc;
        if ((rc = tiny_enc_dir(root, "text_encoder", &d)) == PF_OK) rc = pf_tiny_clip_write(d, &s->clip, seed + 1);
        free(d);
        d = NULL;
        if (rc == PF_OK && (rc = tiny_enc_dir(root, "text_encoder_2", &d)) == PF_OK)
            rc = pf_tiny_t5_write(d, &s->t5, seed + 2);
        free(d);
        return rc;
    }
    if ((rc = tiny_tok(tok_pack, "clip", clip_files, root, "tokenizer")) != PF_OK) return rc;
    /* CLIP-G: the same BPE files with SD3's own config (pad "!") */
    if ((rc = tiny_tok(tok_pack, "clip", bpe, root, "tokenizer_2")) != PF_OK) return rc;
    if ((rc = tiny_tok(tok_pack, "clip/sd3_tokenizer_2", clip_cfg, root, "tokenizer_2")) != PF_OK) return rc;
    if ((rc = tiny_tok(tok_pack, "t5", spm, root, "tokenizer_3")) != PF_OK) return rc;
    if ((rc = tiny_tok(tok_pack, "t5/sd3_tokenizer_3", sd3_t5_files, root, "tokenizer_3")) != PF_OK) return rc;
    if ((rc = tiny_enc_dir(root, "text_encoder", &d)) == PF_OK) rc = pf_tiny_clip_write(d, &s->clip, seed + 1);
    free(d);
    d = NULL;
    if (rc == PF_OK && (rc = tiny_enc_dir(root, "text_encoder_2", &d)) == PF_OK)
        rc = pf_tiny_clip_write(d, &s->clip2, seed + 3);
    free(d);
    d = NULL;
    if (rc == PF_OK && (rc = tiny_enc_dir(root, "text_encoder_3", &d)) == PF_OK)
        rc = pf_tiny_t5_write(d, &s->t5, seed + 2);
    free(d);
    return rc;
}
