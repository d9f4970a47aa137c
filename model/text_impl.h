/*
 * Internal helpers shared by the text-encoder files (t5_encoder.c, clip_text.c,
 * text_cond.c, tiny_text.c, golden_text.c): config.json reading with range
 * checks, activation names, id validation and seeded random weights.
 */
#ifndef PF_TEXT_IMPL_H
#define PF_TEXT_IMPL_H

#include "pf_json.h"
#include "pf_text.h"
#include "pf_weights.h"

/* An integer config key into *out, checked to lie in [lo, hi]. `def` is used when the
 * key is absent and `required` is false. Errors name the file and the key. */
pf_status pf_text_cfg_int(const pf_json *j, const char *key, bool required, int64_t def, int64_t lo, int64_t hi,
                          int *out);
/* A positive float config key (absent: def). */
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

/* Seeded generator for random weights (splitmix64). */
static inline uint64_t pf_text_rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
/* n values mean + std * u with u uniform of unit variance (cheap: the bench fills
 * billions of them; the values only need a sane scale). */
void pf_text_random_values(float *dst, size_t n, float mean, float std, uint64_t *rng);
/* Random weights for pool tensors: the generator and one host staging buffer reused by
 * every tensor (T5-XXL fills 9.5 GB; a fresh buffer per tensor doubles the page faults). */
typedef struct pf_text_rand {
    uint64_t rng;
    void *stage;
    size_t cap;
} pf_text_rand;
/* Fill a pool tensor (any float dtype) with mean + std * u (see pf_text_random_values). */
pf_status pf_text_random_tensor(pf_text_rand *r, pf_tensor *t, float mean, float std);
void pf_text_rand_free(pf_text_rand *r);

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
