/*
 * pflow: Pyramid Flow video generation in C.
 *
 * The one public header of the library. Every function returns a pf_status;
 * on failure pf_last_error() gives a message naming what was wrong (file,
 * tensor, argument). The library never exits the process.
 */
#ifndef PFLOW_H
#define PFLOW_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PF_VERSION_MAJOR 0
#define PF_VERSION_MINOR 1
#define PF_VERSION_PATCH 0

typedef enum pf_status {
    PF_OK = 0,
    PF_ERR_INVALID_ARG,   /* bad argument from the caller */
    PF_ERR_IO,            /* file missing, unreadable, unwritable */
    PF_ERR_FORMAT,        /* malformed or truncated file */
    PF_ERR_SHAPE,         /* tensor shape or dtype mismatch */
    PF_ERR_NOT_FOUND,     /* missing tensor, component or key */
    PF_ERR_OOM,           /* host or device out of memory */
    PF_ERR_UNSUPPORTED,   /* op/dtype/feature not supported by this build or backend */
    PF_ERR_BACKEND,       /* backend/driver error */
    PF_ERR_CANCELLED,     /* cancelled through the progress callback */
    PF_ERR_INTERNAL,      /* a bug in pflow */
} pf_status;

/* Short name of a status code ("format error", ...). */
const char *pf_status_str(pf_status s);

/* Message of the last error raised on this thread ("" if none). */
const char *pf_last_error(void);

/* Clear this thread's error message. */
void pf_clear_error(void);

/* Library version string, e.g. "0.1.0". */
const char *pf_version(void);

/* ======================================================================== models */

/* An opened model folder on one backend. Memory: one big component is resident at a time.
 * pf_model_open checks the folder (every DiT and VAE tensor's presence and shape) without
 * loading weights; pf_prompt_encode loads the text encoders one at a time and frees each
 * after its use, first freeing the DiT and the VAE if a generation left them resident;
 * pf_generate loads the DiT and the VAE when they are not resident and keeps them, so
 * generating again (same prompt, or pf_prompt_from_embeddings) loads nothing.
 * pf_model_options.keep_resident keeps the DiT and the VAE from pf_model_open on. */
typedef struct pf_model pf_model;

/* Weight and latent precision. AUTO: bf16 on GPU backends (the official run's
 * precision), f32 on the CPU. Also the DiT's activation precision (pf_model_options.
 * activations), where AUTO is bf16 when the weights are bf16 on a GPU backend. */
typedef enum pf_precision { PF_PRECISION_AUTO = 0, PF_PRECISION_F32, PF_PRECISION_BF16 } pf_precision;

typedef struct pf_model_options {
    const char *backend;    /* "cpu", "cuda", "vulkan"; NULL: the first compiled-in backend with a device,
                               passing over a GPU API that runs on the CPU (Mesa lavapipe) for "cpu" */
    int device;             /* device index, -1: the default */
    int threads;            /* CPU threads, 0: all cores */
    pf_precision precision;   /* weights and latents (DiT, VAE, text encoders) */
    pf_precision activations; /* the DiT's activations: BF16 runs its graph in bf16 as the official
                                 bf16 autocast run on GPUs (f32 accumulation in matrix products and
                                 attention, f32 softmax and norm statistics), the GPU speed path; F32
                                 keeps them f32. AUTO: bf16 when the weights are bf16 on a GPU backend
                                 (cuda, vulkan), else f32 */
    const char *resolution; /* "384p", "768p" or "image" (diffusion_transformer_<resolution>/);
                               NULL: the only one present, else 384p, 768p, image */
    bool keep_resident;     /* false (default): the text encoders and the DiT + VAE never share the
                               backend (the peak is the larger of the two phases, not their sum;
                               T5-XXL alone is 9.5 GB in bf16); encoding a prompt after a
                               generation frees the DiT and the VAE, and the next pf_generate
                               loads them again. true: the DiT and the VAE load in pf_model_open
                               and stay until pf_model_free, the tokenizers stay open after the
                               first pf_prompt_encode (the text encoders still load one at a time
                               for each call, next to the DiT): no reloading between prompts, at
                               the cost of the sum of both phases */
} pf_model_options;

void pf_model_options_default(pf_model_options *o);

/* Open a model folder as downloaded from Hugging Face (rain1011/pyramid-flow-miniflux
 * or -sd3): diffusion_transformer_<resolution>/ and causal_video_vae/ are required; the
 * variant (miniFLUX or SD3) comes from the DiT's config.json. Every DiT and VAE tensor is
 * checked here (names, shapes, dtypes), so a broken folder fails here; the weights load
 * in the first pf_generate (here with keep_resident). opts may be NULL. */
pf_status pf_model_open(const char *dir, const pf_model_options *opts, pf_model **out);
void pf_model_free(pf_model *m);

typedef enum pf_variant { PF_VARIANT_MINIFLUX = 0, PF_VARIANT_SD3 } pf_variant;

typedef struct pf_model_info {
    pf_variant variant;
    char resolution[16];              /* "384p", "768p", "image" */
    int default_width, default_height;/* 640x384, 1280x768, 1024x1024 */
    int max_temp;                     /* longest video the checkpoint was trained for: 16 (384p), 31 (768p), 1 */
    bool has_text_encoders;
    int text_dim, pooled_dim;         /* what prompt embeddings must have */
    char backend[32];
    char device[256];
    pf_precision precision;           /* resolved: F32 or BF16 */
    pf_precision activations;         /* the DiT's activations, resolved: F32 or BF16 */
    size_t weight_bytes;              /* DiT + VAE on the backend (planned until they load) */
} pf_model_info;

pf_status pf_model_get_info(const pf_model *m, pf_model_info *info);

/* ======================================================================== prompts */

/* Prompt conditioning ([negative, positive]) ready for a model. */
typedef struct pf_prompt pf_prompt;

/* One prompt's precomputed text-encoder outputs (host arrays, copied). */
typedef struct pf_embeddings {
    int tokens;           /* T5 sequence length (128 in the released pipelines) */
    int text_dim;         /* T5 width (4096) */
    int pooled_dim;       /* miniFLUX 768 (CLIP-L), SD3 2048 (CLIP-L + CLIP-G) */
    const float *hidden;  /* [tokens, text_dim] T5 last hidden state */
    const int32_t *mask;  /* [tokens] 1 = valid token */
    const float *pooled;  /* [pooled_dim] */
} pf_embeddings;

/* Encode a prompt pair with the folder's text encoders (miniFLUX: CLIP-L + T5-XXL; SD3:
 * CLIP-L + CLIP-G + T5-XXL), as the official pipelines do: the positive prompt gets the
 * suffix ", hyper quality, Ultra HD, 8K"; negative NULL means the official default
 * negative prompt, "" an empty one. Each encoder is loaded for the call and freed after
 * it; without keep_resident a DiT and VAE left by a generation are freed first, and the
 * tokenizers are closed after the call. The embeddings are kept in host memory.
 * PF_ERR_NOT_FOUND when the folder has no text encoders. */
pf_status pf_prompt_encode(pf_model *m, const char *prompt, const char *negative, pf_prompt **out);

/* Conditioning from precomputed embeddings; both must have the model's sizes. */
pf_status pf_prompt_from_embeddings(pf_model *m, const pf_embeddings *positive, const pf_embeddings *negative,
                                    pf_prompt **out);
void pf_prompt_free(pf_prompt *p);

/* ======================================================================== generation */

typedef enum pf_mode {
    PF_MODE_T2V = 0, /* text to video (generate) */
    PF_MODE_I2V,     /* image + text to video (generate_i2v): the image is the first frame */
    PF_MODE_T2I,     /* text to image: one latent frame (the image checkpoint) */
} pf_mode;

/* An RGB image, [height, width, 3] uint8 (the i2v input, already at the video size). */
typedef struct pf_rgb_image {
    int width, height;
    const uint8_t *rgb;
} pf_rgb_image;

/* Progress of a generation: phase "denoise" once per DiT call, "encode"/"decode" once
 * per VAE chunk. */
typedef struct pf_progress {
    const char *phase;
    int unit, n_units;   /* latent frame being generated (i2v starts at 1) */
    int stage, n_stages; /* pyramid stage (0 = quarter resolution) */
    int step, n_steps;   /* step within the stage */
    int call, n_calls;   /* DiT calls done and in total */
    int chunk, n_chunks; /* VAE chunks (encode/decode phases) */
    double elapsed_s;
} pf_progress;

/* Return false to cancel: pf_generate then stops and returns PF_ERR_CANCELLED. */
typedef bool (*pf_progress_fn)(void *user, const pf_progress *p);

typedef struct pf_generate_params {
    pf_mode mode;
    int width, height;        /* multiples of 64; 0: the model's default (i2v: the image's size) */
    int temp;                 /* latent frames: the video has 1 + 8 (temp - 1) frames */
    int steps[3];             /* per stage, first frame (t2v, t2i) or every frame (i2v) */
    int video_steps[3];       /* per stage, frames after the first (t2v) */
    float guidance;           /* first frame; > 0 enables classifier-free guidance (i2v too) */
    float video_guidance;     /* later frames */
    bool linear_guidance;     /* frame k uses max(guidance - 0.5 k, 2) for both scales */
    uint64_t seed;            /* the Philox generator's seed */
    const char *noise_file;   /* or replay every draw from a safetensors file (in.noise_init,
                                 in.posterior_noise, in.block_noise_000, ...) */
    bool vae_tiling;          /* decode in overlapping spatial tiles (official: on) */
    int vae_tile_size;        /* tile size in pixels, multiple of 32 (official: 256; 512 without save_memory) */
    int vae_window;           /* latent frames per decode chunk after the first (official: 1; 2 without save_memory) */
    pf_progress_fn progress;  /* may be NULL */
    void *progress_user;
} pf_generate_params;

/* The released settings of a mode: t2v temp 16, steps [20,20,20], video steps
 * [10,10,10], guidance 7, video guidance 5; i2v temp 16, steps [10,10,10], video
 * guidance 4; t2i temp 1, guidance 9; seed 0, VAE tiled 256 px, window 1. */
void pf_generate_params_default(pf_generate_params *p, pf_mode mode);

/* Check settings before any model is loaded: sizes (multiples of 64; the message names
 * the nearest valid ones), temp, steps, guidance, VAE tiles. A size of 0 (the model's
 * default) passes; the i2v image and the noise file are checked by pf_generate. */
pf_status pf_generate_params_check(const pf_generate_params *p);

/* Frames out, [frames, height, width, 3] uint8 RGB. */
typedef struct pf_video {
    int frames, width, height;
    float fps;    /* 24 */
    uint8_t *rgb;
} pf_video;

/* Generate. image: the i2v first frame (NULL otherwise). Loads the DiT and the VAE first
 * when they are not resident (a failure there, such as a weight file changed or deleted
 * since pf_model_open or no memory, is returned with the file named; the model stays
 * usable). On failure *out is empty. */
pf_status pf_generate(pf_model *m, const pf_prompt *prompt, const pf_rgb_image *image, const pf_generate_params *p,
                      pf_video *out);
void pf_video_free(pf_video *v);

/* Time and memory of the model's last generation. */
typedef struct pf_generate_stats {
    double load_s;            /* loading the DiT and the VAE in this call (0 when resident) */
    double total_s;           /* the generation itself, without load_s */
    double noise_s;           /* initial noise draw and pyramid */
    double vae_encode_s;      /* i2v image */
    double dit_s[3];          /* DiT forwards per stage */
    double guidance_euler_s;  /* classifier-free guidance and Euler steps */
    double renoise_s;         /* stage jumps: block noise and upsampling */
    double history_s;         /* clean history pyramid and clips */
    double vae_decode_s;
    double frames_s;          /* uint8 conversion */
    int dit_calls;
    int batch;                /* 2 with classifier-free guidance */
    int64_t image_tokens;     /* summed over DiT calls, per batch row */
    size_t weight_bytes;      /* DiT + VAE weights */
    size_t latent_bytes;      /* persistent latents of the pipeline */
    size_t dit_graph_bytes;   /* compute memory of the largest DiT call */
    size_t vae_arena_bytes;   /* compute memory of the VAE decode */
    size_t device_peak_bytes; /* the backend's allocation peak since the model was opened (text
                                 encoding included) */
    size_t host_peak_bytes;   /* the process's peak resident memory */
} pf_generate_stats;

pf_status pf_model_last_stats(const pf_model *m, pf_generate_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* PFLOW_H */
