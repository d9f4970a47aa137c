/*
 * Tiny random-weight text encoders written as released-style folders, for tests
 * and for `make-tiny-model`: the vocabularies are the real ones (T5 32128, CLIP
 * 49408) so that the real tokenizers' ids fit, the widths and depths are tiny.
 *
 * Written files follow the released checkpoints: config.json with the
 * transformers key set and model.safetensors (f32) with the official key names
 * (T5: shared.weight, encoder.block.N...; CLIP: text_model.* and, with a
 * projection, text_projection.weight).
 */
#ifndef PF_TINY_TEXT_H
#define PF_TINY_TEXT_H

#include "pf_text.h"

/* One text_encoder* folder (created if missing; files overwritten). Weights are
 * seeded: the same seed writes the same bytes. */
pf_status pf_tiny_t5_write(const char *dir, const pf_t5_config *cfg, uint64_t seed);
pf_status pf_tiny_clip_write(const char *dir, const pf_clip_config *cfg, uint64_t seed);

/* The text encoders of one variant's model root. */
typedef struct pf_tiny_text_spec {
    pf_t5_config t5;      /* d_model = the DiT's joint_attention_dim */
    pf_clip_config clip;  /* text_encoder/: miniFLUX CLIPTextModel (hidden = pooled dim, no
                             projection); SD3 CLIPTextModelWithProjection */
    pf_clip_config clip2; /* SD3 text_encoder_2/ (CLIP-G analogue); unused for miniFLUX */
} pf_tiny_text_spec;

/* Tiny encoders matching a DiT with joint_attention_dim text_dim and
 * pooled_projection_dim pooled_dim: T5 d_model text_dim; miniFLUX CLIP hidden
 * pooled_dim; SD3 CLIP projections splitting pooled_dim as 768 : 1280 does
 * (pooled_dim >= 2). Two layers each, two heads. */
pf_status pf_tiny_text_spec_default(pf_dit_variant v, int text_dim, int pooled_dim, pf_tiny_text_spec *s);

/* Write the text encoders and tokenizers of a model root (facts §2.1 layout):
 *   miniFLUX: tokenizer/ text_encoder/ (CLIP) tokenizer_2/ text_encoder_2/ (T5)
 *   SD3:      tokenizer/ text_encoder/ tokenizer_2/ text_encoder_2/ (CLIP-G) tokenizer_3/ text_encoder_3/ (T5)
 * The tokenizer files are copied from tok_pack, a folder laid out as the golden
 * pack's tokenizers/: t5/{spiece.model, tokenizer.json, tokenizer_config.json,
 * special_tokens_map.json}, t5/sd3_tokenizer_3/{tokenizer.json, tokenizer_config.json,
 * special_tokens_map.json}, clip/{vocab.json, merges.txt, tokenizer_config.json,
 * special_tokens_map.json} and clip/sd3_tokenizer_2/{tokenizer_config.json,
 * special_tokens_map.json} (SD3's tokenizer_2 pads with "!"). */
pf_status pf_tiny_text_write_root(const char *root, pf_dit_variant v, const pf_tiny_text_spec *s, const char *tok_pack,
                                  uint64_t seed);

#endif /* PF_TINY_TEXT_H */
