/*
 * What a model folder holds, without loading it: the components of the released
 * layout (facts §2.1) found or missing, the dtypes and parameter counts in their
 * weight files (headers only), and a planned estimate of the memory a generation
 * needs (on the meta backend: graphs are built and planned, nothing is allocated).
 * Behind `pflow info` and the up-front checks of `pflow generate`.
 */
#ifndef PF_MODEL_INSPECT_H
#define PF_MODEL_INSPECT_H

#include "pf_dit.h"
#include "pf_pipeline.h"
#include "pf_vae.h"

#define PF_INV_MAX_COMPONENTS 12

typedef enum pf_comp_kind { PF_COMP_DIT = 0, PF_COMP_VAE, PF_COMP_TEXT_ENCODER, PF_COMP_TOKENIZER } pf_comp_kind;

typedef struct pf_component {
    char subdir[40]; /* "diffusion_transformer_384p", "causal_video_vae", "text_encoder_2", "tokenizer_2" */
    char what[40];   /* "DiT 384p", "causal video VAE", "T5-XXL text encoder", "T5 tokenizer" */
    pf_comp_kind kind;
    bool found;                           /* the folder exists */
    bool complete;                        /* every file it needs is there and its headers read */
    char problem[400];                    /* when not complete: what is missing or wrong */
    int64_t n_params;                     /* elements of the weight files (encoders, DiT, VAE) */
    int64_t dtype_params[PF_DTYPE_COUNT]; /* the same split by the dtype stored in the files */
    char source[256];                     /* the weight files ("dir/model.safetensors (+1 shard)") */
} pf_component;

typedef struct pf_model_inventory {
    char root[1024];
    bool variant_known; /* from a DiT config.json; else guessed from the text encoder folders */
    pf_dit_variant variant;
    bool has_res[3]; /* diffusion_transformer_384p, _768p, _image folders */
    int n;
    pf_component comp[PF_INV_MAX_COMPONENTS]; /* every DiT folder present (or the 384p one, missing), the
                                                 VAE, then the variant's text encoders and tokenizers */
    bool tiny;                                /* written by pf_tiny_model_write (random weights) */
} pf_model_inventory;

/* Resolution names in the order of has_res: "384p", "768p", "image". */
extern const char *const pf_model_resolutions[3];

/* What a checkpoint of a resolution was trained for (facts §4.5, §4.7): the default
 * video size (384p 640x384, 768p 1280x768, image 1024x1024) and the longest video in
 * latent frames (384p 16 = 5 s, 768p 31 = 10 s, image 1). Unknown names give 384p's. */
void pf_model_default_size(const char *resolution, int *width, int *height);
int pf_model_max_temp(const char *resolution);

/* Look at a model folder. Fails only when root is not a readable folder (PF_ERR_NOT_FOUND);
 * missing or broken parts are recorded in the components. */
pf_status pf_model_inventory_read(const char *root, pf_model_inventory *inv);

/* PF_OK when everything a generation needs is complete: the DiT of `resolution` (NULL or
 * "": any present), the VAE and, with need_text, the text encoders and tokenizers. Else
 * PF_ERR_NOT_FOUND with one message listing every missing or broken part and what to do. */
pf_status pf_model_inventory_check(const pf_model_inventory *inv, const char *resolution, bool need_text);

/* The component of a given sub-folder, or NULL. */
const pf_component *pf_model_inventory_find(const pf_model_inventory *inv, const char *subdir);

/* Planned memory of one text-to-video generation with classifier-free guidance, as
 * pf_model_open + pf_prompt_encode + pf_generate allocate it on one backend (the default
 * options: the text encoders and the DiT + VAE are never resident together). */
typedef struct pf_mem_estimate {
    pf_dtype dtype; /* weights and latents */
    pf_dtype act;   /* the DiT's activations */
    int width, height, temp;
    size_t dit_weights; /* as the pool holds them (SD3: + the f32 position table) */
    size_t vae_weights;
    size_t text_weights; /* the largest text encoder (they are loaded one at a time) */
    size_t dit_compute;  /* planned compute memory of the largest DiT call */
    /* the last unit's call at each stage (the longest history): image tokens per sample,
     * history clip bytes, planned compute memory */
    int dit_stage_tokens[PF_PIPE_STAGES];
    size_t dit_stage_inputs[PF_PIPE_STAGES], dit_stage_compute[PF_PIPE_STAGES];
    size_t latents;     /* the pipeline's persistent latents (its own allocation, planned) + the
                         * last unit's history clips (every stage's, built at the unit's start) */
    size_t vae_arena, vae_caches; /* VAE decode: largest chunk graph, causal caches */
    size_t vae_compute; /* vae_arena + vae_caches */
    size_t dit_phase;   /* DiT + VAE weights + latents + DiT compute */
    size_t decode_phase; /* DiT + VAE weights + latents + VAE decode */
    size_t device_peak; /* max(text encoder, dit_phase, decode_phase) */
    size_t host_video;  /* host: the decoded video (f32) and its uint8 frames */
} pf_mem_estimate;

/* Estimate for a DiT and a VAE of these configs at width x height, temp latent frames
 * (text-to-video with guidance, README settings), weights in dtype and DiT activations in
 * act (f32 or bf16), the largest text encoder's weights given. Everything is planned on
 * the meta backend (nothing allocated): the DiT calls of the last unit, the pipeline's
 * latents and the VAE decode. */
pf_status pf_estimate_memory(const pf_dit_config *dc, const pf_vae_config *vc, size_t text_weights, pf_dtype dtype,
                             pf_dtype act, int width, int height, int temp, pf_mem_estimate *e);

/* The same for the folder's DiT of `resolution` and its VAE (0 sizes / temp: the defaults
 * of that resolution). Needs the DiT and VAE config.json files; text encoder sizes come
 * from the inventory. */
pf_status pf_model_estimate_memory(const pf_model_inventory *inv, const char *resolution, pf_dtype dtype,
                                   pf_dtype act, int width, int height, int temp, pf_mem_estimate *e);

#endif /* PF_MODEL_INSPECT_H */
