/*
 * The Pyramid Flow diffusion transformer, both released variants:
 *   miniFLUX  PyramidFluxTransformer  (double + single stream blocks, 3-axis RoPE)
 *   SD3       PyramidDiffusionMMDiT   (joint blocks, 2-D sin-cos table + temporal RoPE)
 * loaded from an official diffusion_transformer_* folder (config.json +
 * diffusion_pytorch_model.safetensors). Facts: shared/docs/pyramid-flow-facts.md §1-§3.
 */
#ifndef PF_DIT_H
#define PF_DIT_H

#include "pf_backend.h"

typedef enum pf_dit_variant { PF_DIT_FLUX = 0, PF_DIT_MMDIT } pf_dit_variant;

typedef struct pf_dit pf_dit;

typedef struct pf_dit_config {
    pf_dit_variant variant;
    int hidden;          /* heads * head_dim */
    int heads, head_dim;
    int n_double;        /* flux: transformer_blocks; mmdit: joint blocks */
    int n_single;        /* flux: single_transformer_blocks; mmdit: 0 */
    int in_channels;     /* latent channels (16) */
    int patch;           /* 2 */
    int text_dim;        /* joint_attention_dim (4096 for T5-XXL) */
    int pooled_dim;      /* pooled_projection_dim */
    int pos_embed_max_size, base_size; /* mmdit sin-cos table */
    int64_t n_params;
} pf_dit_config;

/* Load config and weights; every tensor's presence and shape is checked against the
 * config and all problems are reported at once. dtype: weights on the backend (f32/bf16). */
pf_status pf_dit_load(const char *dir, pf_backend *be, pf_dtype dtype, pf_dit **out);
/* Build a DiT with random weights from a config (benchmarks at the released sizes). */
pf_status pf_dit_create_random(const pf_dit_config *cfg, pf_backend *be, pf_dtype dtype, uint64_t seed, pf_dit **out);
/* Read a diffusion_transformer_* folder's config.json only (no weights): the variant,
 * the sizes and n_params, with the same checks as pf_dit_load. */
pf_status pf_dit_config_read(const char *dir, pf_dit_config *cfg);
/* Write the DiT as an official folder: dir/config.json (the released key set of its
 * variant) and dir/diffusion_pytorch_model.safetensors (official names, the weights'
 * dtype). dir and its parents are created; files are replaced atomically. Needs host
 * memory for all weights at once. pf_dit_load gives back the same config and bytes. */
pf_status pf_dit_save(const pf_dit *dit, const char *dir);
/* The released configs: miniFLUX and SD3 (384p/768p configs are identical). */
void pf_dit_config_released(pf_dit_variant v, pf_dit_config *cfg);
void pf_dit_free(pf_dit *dit);
/* Activation dtype of the graphs (default f32; bf16 mirrors the official autocast run).
 * Cached graphs are dropped. */
pf_status pf_dit_set_act_dtype(pf_dit *dit, pf_dtype dt);
const pf_dit_config *pf_dit_get_config(const pf_dit *dit);
pf_backend *pf_dit_backend(const pf_dit *dit);

#define PF_DIT_MAX_CLIPS 8

/* One DiT call. All tensors live on the DiT's backend. */
typedef struct pf_dit_inputs {
    int batch;                          /* B (2 with CFG: [negative, positive]) */
    int n_clips;                        /* history clips first, the current clip last */
    pf_tensor *clips[PF_DIT_MAX_CLIPS]; /* each [B, 16, t_i, h_i, w_i] */
    const float *timestep;              /* [B] host values in 0..1000 */
    pf_tensor *text;                    /* [B, L, text_dim] T5 hidden states */
    const int32_t *text_mask;           /* [B, L] host, 1 = valid token */
    pf_tensor *pooled;                  /* [B, pooled_dim] */
} pf_dit_inputs;

/* Velocity for the current clip into `velocity` ([B, 16, 1, h, w], f32 or the DiT dtype).
 * The graph for a token layout is built once and replayed. */
pf_status pf_dit_forward(pf_dit *dit, const pf_dit_inputs *in, pf_tensor *velocity);

/* Statistics of the last call's graph (planner peak, FLOPs). */
typedef struct pf_dit_stats {
    size_t graph_peak_bytes; /* compute memory of the last graph */
    size_t arena_bytes;      /* compute memory reserved now (0 after pf_dit_release_compute) */
    size_t weight_bytes;
    double flops;            /* of the last call */
    int n_graphs;            /* distinct layouts built so far */
    int image_tokens, text_tokens;
} pf_dit_stats;
void pf_dit_get_stats(const pf_dit *dit, pf_dit_stats *st);
/* Give back the compute memory the layouts are planned into (the largest call's, 1.5 GiB
 * for a 10 s 768p video): the pipeline does so before the VAE decode. The next call
 * reserves it again and re-plans. */
void pf_dit_release_compute(pf_dit *dit);

/* Build and plan the graph of this call's layout without computing (cached like a forward):
 * memory and FLOP predictions for large layouts; works on the meta backend. Fills *st. */
pf_status pf_dit_plan(pf_dit *dit, const pf_dit_inputs *in, pf_tensor *velocity, pf_dit_stats *st);

#endif /* PF_DIT_H */
