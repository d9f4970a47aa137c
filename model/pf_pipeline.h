/*
 * The Pyramid Flow sampling pipeline: t2v (generate), i2v (generate_i2v) and t2i
 * (generate with one latent frame), ported from
 * pyramid_dit/pyramid_dit_for_video_gen_pipeline.py. Facts: pyramid-flow-facts.md
 * §4.5-4.8 and §5.4-5.5; the exact replay recipe: golden/README.md §6.
 *
 * Shapes. Latents are [B, C, t, h, w] with C = 16. A video of H x W pixels has a
 * full-resolution latent of H/8 x W/8; stage s of S = 3 works at (H/8, W/8) >> (S-1-s)
 * (quarter, half, full). B = 2 with classifier-free guidance ([negative, positive]),
 * else 1. The latents stay on the denoiser's backend from the initial noise to the
 * last unit; only the block noise (drawn on the host) is uploaded, and the final
 * latent is downloaded once for the VAE.
 *
 * Precision. Every tensor op rounds to the latent dtype (the DiT's: f32 or bf16), and
 * scalars (guidance, sigma differences, jump alpha/beta, normalisation constants) are
 * rounded to that dtype before they multiply a tensor, as PyTorch does with Python
 * scalars. With f32 this reproduces the golden fp32 replay; with bf16 the official bf16
 * run's rounding points (timesteps to bf16, latents bf16 between steps).
 */
#ifndef PF_PIPELINE_H
#define PF_PIPELINE_H

#include "pf_dit.h"
#include "pf_noise.h"
#include "pf_scheduler.h"
#include "pf_text.h"
#include "pf_vae.h"

#define PF_PIPE_STAGES 3 /* stages = [1, 2, 4] */

typedef enum pf_pipe_mode { PF_PIPE_T2V = 0, PF_PIPE_I2V, PF_PIPE_T2I } pf_pipe_mode;

typedef struct pf_pipe_params {
    pf_pipe_mode mode;
    int width, height;                /* pixels, multiples of 64 */
    int temp;                         /* latent frames; 1 + 8 (temp - 1) video frames */
    int steps[PF_PIPE_STAGES];        /* num_inference_steps: unit 0 (t2v, t2i); every unit (i2v) */
    int video_steps[PF_PIPE_STAGES];  /* video_num_inference_steps: t2v units >= 1 */
    double guidance;                  /* guidance_scale: unit 0; > 0 turns CFG on (also for i2v) */
    double video_guidance;            /* video_guidance_scale: units >= 1 */
    bool linear_guidance;             /* unit k uses max(guidance - decay k, min) for both scales */
    double guidance_decay;            /* 0.5 (the official `alpha`) */
    double min_guidance;              /* 2.0 */
    pf_vae_opts decode;               /* official: chunked, window 1, tiled, 256 px */
    pf_vae_opts encode;               /* i2v image: tiled (when larger than the tile), 256 px */
    pf_sched_config sched;            /* the released scheduler */
} pf_pipe_params;

/* The released defaults of a mode (README/app): t2v 640x384, temp 16, [20,20,20] /
 * [10,10,10], guidance 7, video guidance 5; i2v [10,10,10], video guidance 4; t2i
 * 1024x1024, temp 1, guidance 9. */
void pf_pipe_params_default(pf_pipe_params *p, pf_pipe_mode mode);

/* Checks sizes (multiples of 64: the message names the nearest valid sizes), temp,
 * steps and guidance settings. */
pf_status pf_pipe_params_check(const pf_pipe_params *p);

/* The public pf_generate_params for a video of width x height pixels -> the pipeline's
 * settings (model/pflow_api.c), checked with pf_pipe_params_check. */
pf_status pf_pipe_params_from_api(const pf_generate_params *p, int width, int height, pf_pipe_params *pp);

/* The public precisions resolved for a backend (model/pflow_api.c). A GPU backend is cuda or
 * vulkan (by name). Weights: AUTO is bf16 on a GPU backend, else f32. The DiT's activations:
 * AUTO is bf16 when the weights are bf16 on a GPU backend (the official bf16 autocast run),
 * else f32. bi may be NULL (the CPU). */
bool pf_api_backend_is_gpu(const pf_backend_info *bi);
pf_dtype pf_api_weight_dtype(pf_precision weights, const pf_backend_info *bi);
pf_dtype pf_api_act_dtype(pf_precision act, pf_dtype weights, const pf_backend_info *bi);

/* A model's backend (its bytes_allocated / bytes_peak counters) and whether its DiT and VAE
 * are resident now (model/pflow_api.c; for tests and tools). */
pf_backend *pf_api_model_backend(const pf_model *m);
bool pf_api_model_resident(const pf_model *m);

/* What the pipeline needs from a DiT: pf_pipe_denoiser_from_dit() fills it from a
 * pf_dit; tests substitute their own. All latents live on `backend`. */
typedef struct pf_pipe_denoiser {
    pf_backend *backend;
    pf_dtype dtype;         /* latent dtype: the DiT's weight dtype (f32 or bf16) */
    pf_dit_variant variant; /* selects the image-latent normalisation constants */
    int channels;           /* 16 */
    int patch;              /* 2: image tokens per clip = t (h / patch) (w / patch) */
    pf_status (*forward)(void *ctx, const pf_dit_inputs *in, pf_tensor *velocity);
    /* optional: give back compute memory after the last call, before the VAE decode */
    void (*release)(void *ctx);
    void *ctx;
} pf_pipe_denoiser;

typedef struct pf_pipe_vae {
    pf_dtype dtype; /* the VAE's compute dtype (rounding of the i2v posterior sample) */
    pf_status (*decode)(void *ctx, const float *latent, int T, int h, int w, const pf_vae_opts *o, float *video);
    pf_status (*encode)(void *ctx, const float *video, int T, int H, int W, const pf_vae_opts *o, float *mean,
                        float *logvar);
    void *ctx;
} pf_pipe_vae;

void pf_pipe_denoiser_from_dit(pf_dit *dit, pf_dtype dtype, pf_pipe_denoiser *d);
void pf_pipe_vae_from_vae(pf_vae *vae, pf_dtype dtype, pf_pipe_vae *v);

typedef struct pf_pipe_inputs {
    const pf_prompt_embeds *embeds; /* batch 2: [negative, positive]; only the positive row without CFG */
    const uint8_t *image;           /* i2v: [height, width, 3] RGB */
    pf_noise *noise;                /* every random draw */
} pf_pipe_inputs;

/* Progress: one report per DiT call (phase "denoise") and per VAE chunk (phase
 * "decode"/"encode"). Returning false cancels the generation (PF_ERR_CANCELLED). */
typedef struct pf_pipe_progress {
    const char *phase;
    int unit, n_units;   /* unit index (i2v starts at 1) and the number of units */
    int stage, n_stages;
    int step, n_steps;   /* within the stage */
    int call, n_calls;   /* DiT calls done (including this one) and in total */
    int chunk, n_chunks; /* VAE chunks (decode/encode phases) */
    double elapsed_s;
} pf_pipe_progress;

typedef struct pf_pipe_hooks {
    void *user;
    bool (*progress)(void *user, const pf_pipe_progress *p);
    /* Intermediate tensors (host f32): "noise_init_quarter", "unit{k}_stage{s}_latent",
     * "unit_latent_{k}", "final_latent" (normalised, before decode), i2v:
     * "image_posterior_mean", "image_posterior_logvar", "image_latent". Only downloaded
     * when a tap is set. */
    pf_status (*tap)(void *user, const char *name, const float *data, int ndim, const int64_t *shape);
    /* Count only: no backend work, no DiT or VAE calls (denoiser and vae may be NULL). */
    bool dry_run;
} pf_pipe_hooks;

/* DiT calls per (unit, stage), as the pipeline issued them. */
typedef struct pf_pipe_call_row {
    int unit, stage;
    int clips;        /* history clips + the current one */
    int image_tokens; /* per batch row */
    int text_tokens;
    int calls;
} pf_pipe_call_row;

typedef struct pf_pipe_stats {
    double t_total, t_noise, t_vae_encode, t_vae_decode, t_frames;
    double t_dit[PF_PIPE_STAGES]; /* DiT forwards per stage, over all units */
    double t_guidance_euler;      /* CFG mix + Euler step graphs */
    double t_renoise;             /* block noise draw + upload + upsample/renoise graphs */
    double t_history;             /* clean pyramid and history clip assembly */
    int dit_calls, batch;
    int64_t image_tokens;         /* summed over calls (per batch row) */
    int n_block_draws;
    size_t latent_bytes;          /* persistent latents on the backend */
    size_t backend_peak_bytes;    /* the backend's allocation peak after the run */
    pf_pipe_call_row *rows;       /* n_units * 3 rows */
    int n_rows;
} pf_pipe_stats;
void pf_pipe_stats_free(pf_pipe_stats *s);

typedef struct pf_pipe_output {
    int frames, height, width;
    uint8_t *rgb; /* [frames, height, width, 3] */
} pf_pipe_output;

/* Run a generation. out may be NULL in a dry run; stats may be NULL. */
pf_status pf_pipeline_run(const pf_pipe_denoiser *dn, const pf_pipe_vae *vae, const pf_pipe_inputs *in,
                          const pf_pipe_params *p, const pf_pipe_hooks *hooks, pf_pipe_output *out,
                          pf_pipe_stats *stats);

/* Dry run: the DiT call table for these params (text_tokens per call, patch size). */
pf_status pf_pipeline_count_calls(const pf_pipe_params *p, int text_tokens, int patch, pf_pipe_stats *stats);

/* Bytes of the persistent latents a run of p holds on its backend (stage latents,
 * velocities, the clean pyramid of every frame, the text), as pf_pipeline_run's
 * latent_bytes reports them: the run's own allocation, planned on the meta backend. */
pf_status pf_pipeline_latent_bytes(const pf_pipe_params *p, int channels, pf_dtype dt, int text_tokens, int text_dim,
                                   int pooled_dim, size_t *bytes);

/* ---- pieces (pipeline_history.c, latent_norm.c, frames.c) ---- */

/* One history clip: frames [first, first + count) of pyramid level `level`
 * (0 = quarter ... S-1 = full). */
typedef struct pf_hist_clip {
    int level, first, count;
} pf_hist_clip;
/* The clean history of a unit with `k` generated frames before it, for stage s of
 * n_stages, oldest first (the official padding loop: the newest frame at the stage's
 * resolution, each older one a level lower, the rest as one clip at the lowest level).
 * Returns the number of clips (0 when k == 0); cap must be >= n_stages. */
int pf_history_layout(int k, int stage, int n_stages, pf_hist_clip *clips, int cap);

/* Normalisation constants of the pipeline (§5.4): image latents (frame 0) per variant,
 * video latents (frames >= 1). */
typedef struct pf_latent_norm {
    double image_shift, image_scale; /* miniFLUX -0.04, 1/1.8726; SD3 0.1490, 1/1.8415 */
    double video_shift, video_scale; /* -0.2343, 1/3.0986 */
} pf_latent_norm;
void pf_latent_norm_get(pf_dit_variant v, pf_latent_norm *n);
/* decode_latent's un-normalisation in place on [1, C, T, h, w] (host): frame 0 with the
 * image constants, frames >= 1 with the video ones: z / round(scale) + round(shift),
 * each op rounded to dt (round = the scalar in dt, as PyTorch casts Python floats). */
void pf_latent_denormalize(float *z, int C, int T, int64_t hw, const pf_latent_norm *n, pf_dtype dt);
/* The i2v image latent: (mean + exp(0.5 logvar) noise - shift) * scale with the image
 * constants, each op rounded to dt (the VAE's dtype). n elements. */
void pf_latent_image_from_posterior(const float *mean, const float *logvar, const float *noise, size_t n,
                                    const pf_latent_norm *nrm, pf_dtype dt, float *z);

/* decode_latent's output conversion: video [1, 3, F, H, W] (VAE output, ~[-1, 1]) ->
 * [F, H, W, 3] uint8 = byte(clamp(x 127.5 + 127.5, 0, 255)) (truncation), each op
 * rounded to dt first (bf16 VAE). */
void pf_frames_from_video(const float *video, int F, int H, int W, pf_dtype dt, uint8_t *rgb);
/* i2v input: RGB [H, W, 3] uint8 -> [1, 3, 1, H, W] in [-1, 1]: (u / 255 - 0.5) / 0.5
 * (ToTensor + Normalize), rounded to dt. */
void pf_image_to_video(const uint8_t *rgb, int H, int W, pf_dtype dt, float *video);

#endif /* PF_PIPELINE_H */
