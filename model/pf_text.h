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

/* T5EncoderModel from a text_encoder* folder (config.json + safetensors, sharded or not). */
pf_status pf_t5_load(const char *dir, pf_backend *be, pf_dtype dtype, pf_t5 **out);
void pf_t5_free(pf_t5 *m);
int pf_t5_dim(const pf_t5 *m);
/* ids, mask [B, L] -> last_hidden_state [B, L, d_model] (host f32). mask NULL: all valid. */
pf_status pf_t5_encode(pf_t5 *m, const int32_t *ids, const int32_t *mask, int B, int L, float *hidden);

/* CLIPTextModel / CLIPTextModelWithProjection (keys with or without "text_model."). */
pf_status pf_clip_load(const char *dir, pf_backend *be, pf_dtype dtype, pf_clip **out);
void pf_clip_free(pf_clip *m);
int pf_clip_dim(const pf_clip *m);
int pf_clip_projection_dim(const pf_clip *m); /* 0 without text_projection */
/* ids [B, L] -> last_hidden_state [B, L, D], pooler_output [B, D] (at the EOS position),
 * text_embeds [B, P] (projected; only with a projection). Any output may be NULL. */
pf_status pf_clip_encode(pf_clip *m, const int32_t *ids, int B, int L, float *hidden, float *pooled, float *text_embeds);

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
void pf_text_encoder_free(pf_text_encoder *e); /* frees the encoders' memory */
/* Encode [negative, positive]; the suffix is appended to the positive prompt; negative
 * NULL means the default negative prompt. Warns when a prompt is truncated. */
pf_status pf_text_encode_prompts(pf_text_encoder *e, const char *prompt, const char *negative, pf_prompt_embeds *out);

#endif /* PF_TEXT_H */
