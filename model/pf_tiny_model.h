/*
 * A whole tiny random-weight model in the official folder layout (facts §2.1), for
 * demos and tests (`pflow make-tiny-model`): diffusion_transformer_384p/ (and, on
 * request, _768p/ and _image/) and
 * causal_video_vae/ (config.json + diffusion_pytorch_model.safetensors, written by
 * pf_dit_save / pf_vae_save), the variant's text encoder folders (pf_tiny_text) and
 * tokenizer folders (the real T5 and CLIP vocabularies, copied from a tokenizer pack),
 * and pflow_tiny_model.json saying what made it. Random weights generate noise; the
 * point is that every code path of a real run is exercised, quickly.
 */
#ifndef PF_TINY_MODEL_H
#define PF_TINY_MODEL_H

#include "pf_tiny_text.h"
#include "pf_vae.h"

#define PF_TINY_MODEL_MARKER "pflow_tiny_model.json"

typedef struct pf_tiny_model_spec {
    pf_dit_variant variant;
    pf_dit_config dit; /* the sizes (n_params is filled in when written) */
    pf_vae_config vae;
    pf_tiny_text_spec text; /* sized for dit.text_dim and dit.pooled_dim */
    bool resolutions[3];    /* which diffusion_transformer_{384p,768p,image}/ to write (the
                               same sizes, weights drawn with different seeds) */
} pf_tiny_model_spec;

/* The demo sizes: a DiT of 2 heads x 64 (miniFLUX: 1 double + 1 single block; SD3: 2
 * joint blocks), text width 64, and a VAE of 4 channels with one resnet per block,
 * so that the default 384p run (640x384, default steps) takes seconds on a laptop. Only
 * diffusion_transformer_384p/ is written unless resolutions[] says otherwise. */
pf_status pf_tiny_model_spec_default(pf_dit_variant v, pf_tiny_model_spec *s);

/* Write the model into root (created if missing). A folder that is not empty must
 * already hold a tiny model (its marker file), so that nothing else is overwritten.
 * tok_pack is laid out as data/tokenizers/ (see pf_tiny_text_write_root). The same
 * spec and seed write the same bytes. */
pf_status pf_tiny_model_write(const char *root, const pf_tiny_model_spec *s, const char *tok_pack, uint64_t seed);

/* Whether root holds the marker of pf_tiny_model_write. */
bool pf_tiny_model_is(const char *root);

#endif /* PF_TINY_MODEL_H */
