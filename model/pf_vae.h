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
    int norm_groups;             /* encoder_norm_num_groups */
    int64_t n_params;
    /* The rest of config.json (the released values in comments). */
    int in_channels;             /* encoder_in_channels: 3 */
    int out_channels;            /* decoder_out_channels: 3 */
    int dec_norm_groups;         /* decoder_norm_num_groups: 32 */
    bool enc_spatial_down[4], enc_temporal_down[4]; /* T, T, T, F */
    bool dec_spatial_up[4], dec_temporal_up[4];     /* T, T, T, F */
} pf_vae_config;

/* Load config.json and the weights (every tensor's presence and shape checked; all
 * problems reported at once). dtype: weights, activations and caches (f32 / bf16). */
pf_status pf_vae_load(const char *dir, pf_backend *be, pf_dtype dtype, pf_vae **out);
/* Random weights (seeded, fast) for benchmarks at a given size. On the meta backend
 * nothing is filled and only the *_predict functions work (768p plans without memory). */
pf_status pf_vae_create_random(const pf_vae_config *cfg, pf_backend *be, pf_dtype dtype, uint64_t seed, pf_vae **out);
void pf_vae_config_released(pf_vae_config *cfg);
/* Read a causal_video_vae folder's config.json only (no weights), n_params included. */
pf_status pf_vae_config_read(const char *dir, pf_vae_config *cfg);
/* Write the VAE as an official causal_video_vae folder: dir/config.json (the released
 * key set) and dir/diffusion_pytorch_model.safetensors (official names, the weights'
 * dtype). dir and its parents are created; files are replaced atomically. pf_vae_load
 * gives back the same config and bytes. */
pf_status pf_vae_save(const pf_vae *vae, const char *dir);
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
/* Official defaults for encode (i2v): not chunked (window 16 frames if enabled), tiled, 256 px. */
void pf_vae_encode_opts_default(pf_vae_opts *o);

/* latent [1, C, T, h, w] (host f32) -> video [1, 3, 1 + 8 (T-1), 8h, 8w] (host f32, ~[-1, 1]).
 * opts NULL: pf_vae_opts_default. With tiling, the tile grid must give 8h x 8w pixels
 * (it does for tile sizes that are multiples of 32, the official 256 and 512 among them).
 * Device memory: one chunk of one tile plus the causal caches; the video is built on the host. */
pf_status pf_vae_decode(pf_vae *vae, const float *latent, int T, int h, int w, const pf_vae_opts *opts, float *video);
/* video [1, 3, T, H, W] in [-1, 1] -> posterior mean and clamped logvar [1, C, 1 + (T-1)/8, H/8, W/8].
 * T - 1 must divide by 8 and H, W by 8. opts NULL: pf_vae_encode_opts_default. With
 * temporal_chunk, `window` counts frames (official chunk_encode). */
pf_status pf_vae_encode(pf_vae *vae, const float *video, int T, int H, int W, const pf_vae_opts *opts, float *mean,
                        float *logvar);
/* The posterior sample the pipeline takes: out = mean + exp(0.5 logvar) * noise (n values). */
void pf_vae_posterior_sample(const float *mean, const float *logvar, const float *noise, size_t n, float *out);

/* Planned peak memory of decoding T latent frames of h x w with these options, without
 * allocating anything: the largest graph's compute arena plus the causal caches
 * (weights not included). For 768p predictions. */
pf_status pf_vae_decode_predict(pf_vae *vae, int T, int h, int w, const pf_vae_opts *opts, size_t *peak_bytes);

typedef struct pf_vae_mem {
    size_t arena_bytes;   /* compute memory: the largest chunk graph */
    size_t cache_bytes;   /* causal conv caches (persistent during the call) */
    size_t weight_bytes;  /* the model's weights */
    size_t host_bytes;    /* host buffers besides the caller's: one tile, blend strips */
    int n_graphs;         /* distinct (chunk, tile) shapes */
    int n_runs;           /* chunk graphs run (tiles x chunks) */
    double flops;         /* over all runs (convolutions, attention, linears; 2 per MAC) */
} pf_vae_mem;
/* The *_predict_mem functions plan a call without allocating (on any backend, the meta
 * backend included); pf_vae_last_mem gives what the last decode or encode used. */
pf_status pf_vae_decode_predict_mem(pf_vae *vae, int T, int h, int w, const pf_vae_opts *opts, pf_vae_mem *mem);
pf_status pf_vae_encode_predict_mem(pf_vae *vae, int T, int H, int W, const pf_vae_opts *opts, pf_vae_mem *mem);
void pf_vae_last_mem(const pf_vae *vae, pf_vae_mem *mem);

#endif /* PF_VAE_H */
