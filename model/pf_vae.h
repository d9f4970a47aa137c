/*
 * The causal video VAE (CausalVideoVAE), decode and encode, loaded from an
 * official causal_video_vae folder (config.json + safetensors or the PyTorch
 * zip pickle diffusion_pytorch_model.bin). Facts: pyramid-flow-facts.md §5.
 *
 * Latents here are raw VAE latents (not pipeline-normalised): the pipeline
 * un-normalises before decoding and normalises after encoding.
 */
#ifndef PF_VAE_H
#define PF_VAE_H

#include "pf_backend.h"

typedef struct pf_vae pf_vae;

typedef struct pf_vae_config {
    int latent_channels;         /* 16 */
    int enc_channels[4], dec_channels[4];
    int enc_layers[4], dec_layers[4];
    int norm_groups;
    int64_t n_params;
} pf_vae_config;

pf_status pf_vae_load(const char *dir, pf_backend *be, pf_dtype dtype, pf_vae **out);
pf_status pf_vae_create_random(const pf_vae_config *cfg, pf_backend *be, pf_dtype dtype, uint64_t seed, pf_vae **out);
void pf_vae_config_released(pf_vae_config *cfg);
void pf_vae_free(pf_vae *vae);
const pf_vae_config *pf_vae_get_config(const pf_vae *vae);

/* Progress: called after each chunk; done/total count chunk decodes over all tiles. */
typedef bool (*pf_vae_progress_fn)(void *user, int done, int total); /* return false to cancel */

typedef struct pf_vae_opts {
    bool temporal_chunk;      /* decode latent frame by latent frame with causal caches */
    int window;               /* latents per chunk after the first (official: 1, or 2 without save_memory) */
    bool tiling;              /* spatial tiles with the official overlap and blending */
    int tile_sample_min_size; /* tile size in pixels (official 256; 512 without save_memory) */
    pf_vae_progress_fn progress;
    void *progress_user;
} pf_vae_opts;

/* Official defaults for decode: chunked, window 1, tiled, 256 px. */
void pf_vae_opts_default(pf_vae_opts *o);

/* latent [1, C, T, h, w] (host f32) -> video [1, 3, 1 + 8 (T-1), 8h, 8w] (host f32, ~[-1, 1]). */
pf_status pf_vae_decode(pf_vae *vae, const float *latent, int T, int h, int w, const pf_vae_opts *opts, float *video);
/* video [1, 3, T, H, W] in [-1, 1] -> posterior mean and clamped logvar [1, C, 1 + (T-1)/8, H/8, W/8]. */
pf_status pf_vae_encode(pf_vae *vae, const float *video, int T, int H, int W, const pf_vae_opts *opts, float *mean,
                        float *logvar);
/* Planned peak compute memory of decoding T latent frames of h x w with these options
 * (no allocation; for 768p predictions). */
pf_status pf_vae_decode_predict(pf_vae *vae, int T, int h, int w, const pf_vae_opts *opts, size_t *peak_bytes);

#endif /* PF_VAE_H */
