/*
 * Text encoders (T5 v1.1 encoder, CLIP text models) and the official prompt
 * conditioning of both pipeline variants. Facts: pyramid-flow-facts.md §1.3.
 */
#ifndef PF_TEXT_H
#define PF_TEXT_H

#include "pf_backend.h"
#include "pf_dit.h"

typedef struct pf_t5 pf_t5;
typedef struct pf_clip pf_clip;

/* T5 v1.1 encoder hyper-parameters (config.json keys in comments). Only the gated
 * feed-forward of v1.1 is supported ("gated-gelu", "gated-silu", ...). */
typedef struct pf_t5_config {
    int vocab_size;        /* vocab_size (32128) */
    int d_model;           /* d_model (4096) */
    int d_kv;              /* d_kv: per-head width (64) */
    int num_heads;         /* num_heads (64) */
    int d_ff;              /* d_ff (10240) */
    int num_layers;        /* num_layers (24) */
    int rel_buckets;       /* relative_attention_num_buckets (32) */
    int rel_max_distance;  /* relative_attention_max_distance (128) */
    float eps;             /* layer_norm_epsilon (1e-6) */
    pf_unary act;          /* from feed_forward_proj: "gated-gelu" -> gelu_new (GELU tanh) */
    int64_t n_params;      /* weights, counting the embedding once */
} pf_t5_config;

/* CLIP text transformer hyper-parameters (CLIPTextConfig keys in comments). */
typedef struct pf_clip_config {
    int vocab_size;        /* vocab_size (49408) */
    int hidden;            /* hidden_size (768 L, 1280 bigG) */
    int heads;             /* num_attention_heads */
    int intermediate;      /* intermediate_size */
    int layers;            /* num_hidden_layers */
    int max_positions;     /* max_position_embeddings (77) */
    int projection_dim;    /* text_projection rows; 0: CLIPTextModel (no projection) */
    float eps;             /* layer_norm_eps (1e-5) */
    pf_unary act;          /* hidden_act: quick_gelu (L), gelu (bigG) */
    int eos_token_id;      /* 2 (legacy configs): pool at argmax(ids); else first eos id */
    int64_t n_params;
} pf_clip_config;

/* Memory and work of an encoder's last call. */
typedef struct pf_text_stats {
    size_t weight_bytes;     /* the encoder's weights on the backend */
    size_t graph_peak_bytes; /* planned compute memory of the last graph */
    size_t arena_bytes;      /* compute memory reserved (largest graph so far) */
    double flops;            /* of the last call */
    int n_graphs;            /* (B, L) shapes built so far */
} pf_text_stats;

/* T5EncoderModel from a text_encoder* folder (config.json + safetensors, sharded or not). */
pf_status pf_t5_load(const char *dir, pf_backend *be, pf_dtype dtype, pf_t5 **out);
void pf_t5_free(pf_t5 *m);
int pf_t5_dim(const pf_t5 *m);
/* ids, mask [B, L] -> last_hidden_state [B, L, d_model] (host f32); mask NULL: all valid.
 * Masked (0) keys are hidden from every query, as transformers' additive mask does;
 * padded queries still get outputs. A row with no valid token at all gives zeros
 * (transformers would average it uniformly; the tokenizers always emit EOS).
 * Ids outside [0, vocab_size) and mask values other than 0/1 are refused. One graph
 * per (B, L) is built on first use and replayed. */
pf_status pf_t5_encode(pf_t5 *m, const int32_t *ids, const int32_t *mask, int B, int L, float *hidden);
/* config.json of a text_encoder* folder (checked: sizes positive, supported activation). */
pf_status pf_t5_config_load(const char *path, pf_t5_config *cfg);
/* google/t5-v1_1-xxl encoder, as released in text_encoder_2/ (miniFLUX) and text_encoder_3/ (SD3). */
void pf_t5_config_xxl(pf_t5_config *cfg);
/* A T5 with seeded random weights (benchmarks at the released size; no files). */
pf_status pf_t5_create_random(const pf_t5_config *cfg, pf_backend *be, pf_dtype dtype, uint64_t seed, pf_t5 **out);
const pf_t5_config *pf_t5_get_config(const pf_t5 *m);
void pf_t5_get_stats(const pf_t5 *m, pf_text_stats *st);

/* CLIPTextModel / CLIPTextModelWithProjection (keys with or without "text_model."). */
pf_status pf_clip_load(const char *dir, pf_backend *be, pf_dtype dtype, pf_clip **out);
void pf_clip_free(pf_clip *m);
int pf_clip_dim(const pf_clip *m);
int pf_clip_projection_dim(const pf_clip *m); /* 0 without text_projection */
/* ids [B, L] -> last_hidden_state [B, L, D], pooler_output [B, D] (at the EOS position),
 * text_embeds [B, P] (projected; only with a projection). Any output may be NULL.
 * Causal mask only (the pipelines pass no attention mask); L <= max_position_embeddings. */
pf_status pf_clip_encode(pf_clip *m, const int32_t *ids, int B, int L, float *hidden, float *pooled, float *text_embeds);
/* config.json (CLIPTextConfig, or a CLIPConfig's text_config). projection_dim is set from
 * the config; pf_clip_load sets it to 0 when the weights have no text_projection. */
pf_status pf_clip_config_load(const char *path, pf_clip_config *cfg);
/* Released text towers: CLIP ViT-L/14 (projection 768 for SD3's CLIPTextModelWithProjection,
 * 0 for miniFLUX's CLIPTextModel) and OpenCLIP bigG (SD3 text_encoder_2/, projection 1280). */
void pf_clip_config_l(pf_clip_config *cfg, bool with_projection);
void pf_clip_config_bigg(pf_clip_config *cfg);
pf_status pf_clip_create_random(const pf_clip_config *cfg, pf_backend *be, pf_dtype dtype, uint64_t seed,
                                pf_clip **out);
const pf_clip_config *pf_clip_get_config(const pf_clip *m);
void pf_clip_get_stats(const pf_clip *m, pf_text_stats *st);

/* Prompt conditioning as the official pipelines (T5 128 tokens, CLIP 77). */
#define PF_T5_MAX_TOKENS 128
#define PF_CLIP_MAX_TOKENS 77
extern const char *const pf_prompt_suffix;          /* ", hyper quality, Ultra HD, 8K" */
extern const char *const pf_default_negative_prompt;

typedef struct pf_prompt_embeds {
    int batch;        /* 2: [negative, positive] */
    int tokens;       /* 128 */
    int text_dim;     /* T5 d_model (4096) */
    int pooled_dim;   /* miniFLUX 768, SD3 2048 */
    float *hidden;    /* [batch, tokens, text_dim] */
    int32_t *mask;    /* [batch, tokens] */
    float *pooled;    /* [batch, pooled_dim] */
} pf_prompt_embeds;

void pf_prompt_embeds_free(pf_prompt_embeds *e);

typedef struct pf_text_encoder pf_text_encoder;
/* Open the tokenizers and encoders of a model root folder for a variant (miniFLUX:
 * tokenizer/, text_encoder/ (CLIP-L), tokenizer_2/, text_encoder_2/ (T5); SD3: tokenizer*,
 * text_encoder (CLIP-L proj.), text_encoder_2 (CLIP-G), text_encoder_3 (T5)). */
pf_status pf_text_encoder_open(const char *root, pf_dit_variant v, pf_backend *be, pf_dtype dtype,
                               pf_text_encoder **out);
/* Opening loads the tokenizers and checks every encoder's config.json and weight names
 * and shapes (nothing is read into memory yet), so a broken folder fails here. */
void pf_text_encoder_free(pf_text_encoder *e); /* frees the tokenizers (no encoder is resident) */
/* Encode [negative, positive]; the suffix is appended to the positive prompt; negative
 * NULL means the default negative prompt ("" is an empty negative prompt, as in the
 * pipelines). Warns (pf_log) when a prompt is truncated. Memory: each encoder is loaded
 * here and freed as soon as its output is on the host, so at most one encoder is
 * resident (T5-XXL bf16: 9.5 GB) and none is left when the DiT loads; a second call
 * loads them again. out is filled on success (free with pf_prompt_embeds_free) and
 * zeroed on failure. */
pf_status pf_text_encode_prompts(pf_text_encoder *e, const char *prompt, const char *negative, pf_prompt_embeds *out);

#endif /* PF_TEXT_H */
