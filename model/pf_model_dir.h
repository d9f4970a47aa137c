/*
 * A Pyramid Flow model folder as released on Hugging Face (pyramid-flow-facts.md
 * §2.1): diffusion_transformer_{384p,768p,image}/, causal_video_vae/, and, when
 * present, the text encoders and tokenizers.
 */
#ifndef PF_MODEL_DIR_H
#define PF_MODEL_DIR_H

#include "pf_common.h"

typedef struct pf_model_dir {
    char *root;
    char *dit_dir;        /* root/diffusion_transformer_<resolution> */
    char *vae_dir;        /* root/causal_video_vae */
    char resolution[16];  /* "384p", "768p" or "image" */
    bool has_text;        /* text_encoder/ and tokenizer/ present */
} pf_model_dir;

/* Find the folders. resolution NULL or "": the only diffusion_transformer_* present,
 * else 384p, then 768p, then image (logged). A missing folder is PF_ERR_NOT_FOUND with
 * what the root holds. */
pf_status pf_model_dir_find(const char *root, const char *resolution, pf_model_dir *out);
void pf_model_dir_free(pf_model_dir *d);

#endif /* PF_MODEL_DIR_H */
