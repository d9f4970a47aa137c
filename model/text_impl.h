/*
 * Internal helpers shared by the text-encoder files (t5_encoder.c, clip_text.c,
 * text_cond.c, tiny_text.c, golden_text.c): config.json reading with range
 * checks, activation names and id validation.
 */
#ifndef PF_TEXT_IMPL_H
#define PF_TEXT_IMPL_H

#include "pf_json.h"
#include "pf_random_fill.h"
#include "pf_text.h"
#include "pf_weights.h"

/* Integer config keys: pf_json_int_in. A positive float config key below 1 (absent: def). */
pf_status pf_text_cfg_eps(const pf_json *j, const char *key, double def, float *out);

/* transformers ACT2FN names -> unary op: gelu_new / gelu_pytorch_tanh / gelu_fast -> GELU_TANH,
 * gelu -> GELU_ERF, quick_gelu -> QUICK_GELU, silu / swish -> SILU. Others: PF_ERR_UNSUPPORTED. */
pf_status pf_text_parse_act(const char *name, const char *label, const char *key, pf_unary *out);
/* The transformers name of a unary op (the inverse, for writing config.json). */
const char *pf_text_act_name(pf_unary f);

/* Weights of the text encoders live in f32, bf16 or f16. */
pf_status pf_text_check_dtype(pf_dtype dt, const char *what);

/* Every id in [0, vocab): otherwise PF_ERR_INVALID_ARG naming the position. */
pf_status pf_text_check_ids(const int32_t *ids, int B, int L, int vocab, const char *what);

/* Check-only passes over a folder's weights (no allocation): every tensor present
 * with its shape, all problems in one error. Used by pf_text_encoder_open. */
pf_status pf_t5_check_dir(const char *dir, pf_t5_config *cfg);
pf_status pf_clip_check_dir(const char *dir, pf_clip_config *cfg);

/* The bidirectional relative-position bucket of transformers' T5Attention
 * (_relative_position_bucket with bidirectional=True): rel = key - query. The
 * logarithmic part is computed in float32 as torch does it. */
int pf_t5_relative_bucket(int rel, int num_buckets, int max_distance);

/* EOS positions for CLIP pooling, as transformers' CLIPTextTransformer: with the legacy
 * eos_token_id == 2, argmax(input_ids) (first maximum); else the first position holding
 * eos_token_id (0 if none). pos [B]. */
void pf_clip_eos_positions(const int32_t *ids, int B, int L, int eos_token_id, int32_t *pos);

#endif /* PF_TEXT_IMPL_H */
