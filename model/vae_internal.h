/*
 * Internal layout of the causal video VAE (CausalVideoVAE, video_vae/ in the
 * official code). Module and weight names follow the official ones so the
 * structs can be read next to modeling_causal_vae.py, modeling_enc_dec.py,
 * modeling_block.py and modeling_resnet.py.
 *
 * Files:
 *   vae_config.c   config.json -> pf_vae_config, checks, the released config
 *   vae_weights.c  every tensor declared with its shape: loaded or random (unfilled on
 *                  the meta backend)
 *   vae_blocks.c   CausalConv3d (with its chunk cache), resnet, mid block, samplers
 *   vae_decoder.c  CausalVaeDecoder graph for one chunk of one tile
 *   vae_encoder.c  CausalVaeEncoder graph for one chunk of one tile
 *   vae_tiling.c   tile layout, blending, crops; chunk schedule
 *   vae_save.c     pf_vae_save: the model back into an official folder
 *   vae.c          public API: decode / encode drivers, graph reuse, predictions
 */
#ifndef PF_VAE_INTERNAL_H
#define PF_VAE_INTERNAL_H

#include "pf_vae.h"
#include "pf_weights.h"

#define VAE_BLOCKS 4
#define VAE_NAME_LEN 96

/* CausalConv3d: nn.Conv3d without padding, wrapped as `.conv`; the wrapper pads
 * kt-1 frames in front (zeros, or the chunk cache) and k/2 pixels on each side. */
typedef struct vae_conv {
    pf_tensor *w, *b; /* NAME.conv.weight [co, ci, kt, kh, kw], NAME.conv.bias [co] */
    int ci, co, kt, kh, kw;
    int st, sh, sw;   /* strides (time, height, width) */
    char name[VAE_NAME_LEN];
} vae_conv;

/* CausalGroupNorm (nn.GroupNorm per frame), eps 1e-6. */
typedef struct vae_norm {
    pf_tensor *w, *b; /* [c] */
    int c, groups;
    char name[VAE_NAME_LEN];
} vae_norm;

/* CausalResnetBlock3D: norm1 -> SiLU -> conv1 -> norm2 -> SiLU -> conv2, plus
 * (conv_shortcut(x) or x); output_scale_factor is 1. */
typedef struct vae_resnet {
    vae_norm norm1, norm2;
    vae_conv conv1, conv2;
    bool has_shortcut;
    vae_conv conv_shortcut; /* 1x1x1 when the channel count changes */
} vae_resnet;

/* diffusers Attention of the mid block: group_norm, one head of c, residual. */
typedef struct vae_attn {
    vae_norm group_norm;
    pf_tensor *q_w, *q_b, *k_w, *k_b, *v_w, *v_b, *o_w, *o_b; /* to_q/k/v, to_out.0: [c, c], [c] */
    int c;
    char name[VAE_NAME_LEN];
} vae_attn;

/* CausalUNetMidBlock2D: resnets.0 -> attentions.0 (per frame) -> resnets.1 */
typedef struct vae_mid {
    vae_resnet resnets[2];
    vae_attn attn;
} vae_mid;

/* DownEncoderBlockCausal3D / UpDecoderBlockCausal3D */
typedef struct vae_block {
    int n_resnets;
    vae_resnet *resnets;
    bool spatial, temporal;
    vae_conv sampler;          /* downsamplers.0.conv (stride 1,2,2) | upsamplers.0.conv (co*4) */
    vae_conv temporal_sampler; /* temporal_downsamplers.0.conv (stride 2,1,1) | temporal_upsamplers.0.conv (co*2) */
} vae_block;

typedef struct vae_encoder {
    vae_conv conv_in;
    vae_block down[VAE_BLOCKS];
    vae_mid mid;
    vae_norm conv_norm_out;
    vae_conv conv_out; /* -> 2 * latent channels (mean, logvar) */
} vae_encoder;

typedef struct vae_decoder {
    vae_conv conv_in;
    vae_mid mid;
    vae_block up[VAE_BLOCKS];
    vae_norm conv_norm_out;
    vae_conv conv_out;
} vae_decoder;

/* Tensors without storage: the caches of a dry run (a memory prediction) look
 * external to the graph builder, so pf_graph_plan_dry can plan graphs whose
 * caches were never allocated, on any backend. */
typedef struct vae_tensor_list {
    pf_tensor **t;
    int n, cap;
} vae_tensor_list;

struct pf_vae {
    pf_vae_config cfg;
    int downsample_scale; /* config downsample_scale: tile sizes in latents (official tiling) */
    int sf_enc, tf_enc;   /* encoder spatial / temporal compression (2^downsamplers) */
    int sf_dec, tf_dec;   /* decoder spatial / temporal expansion */
    pf_backend *be;
    pf_dtype dtype;       /* weights, activations and caches */
    pf_pool *pool;        /* weights */
    pf_buffer virtual_buffer; /* storage stand-in of virtual tensors (size 0) */

    vae_conv quant_conv, post_quant_conv; /* 1x1x1 */
    vae_encoder enc;
    vae_decoder dec;

    /* memory of the last decode / encode call */
    size_t last_arena_bytes, last_cache_bytes, last_host_bytes;
    int last_graphs, last_runs;
    double last_flops;
};

/* ---- vae_config.c ---- */
pf_status vae_config_load(const char *path, pf_vae_config *cfg, int *downsample_scale);
pf_status vae_config_check(const pf_vae_config *cfg, const char *label);
/* Elements of every tensor of the model (weights and biases). */
int64_t vae_config_params(const pf_vae_config *cfg);
/* Tensors of the model (every conv and norm has a weight and a bias). */
int64_t vae_config_tensors(const pf_vae_config *cfg);

/* ---- vae_weights.c ---- */
typedef enum { VAE_W_LOAD = 0, VAE_W_RANDOM } vae_w_mode;
/* Declare (and load or fill) every tensor of the model. `L` for VAE_W_LOAD. */
pf_status vae_weights_build(pf_vae *vae, vae_w_mode mode, pf_loader *L, uint64_t seed);

/* ---- vae_blocks.c: graph building ---- */
typedef enum {
    VAE_T_FULL = 0,   /* whole clip: causal zero front padding, no caches */
    VAE_T_FIRST,      /* first chunk (is_init_image): zero padding, caches written */
    VAE_T_NEXT,       /* later chunk: caches prepended, then rewritten */
} vae_tmode;

/* Persistent per-conv caches of one decode or encode call: slot k belongs to the
 * k-th cached conv of the graph (build order), sized for the largest tile. */
typedef struct vae_caches {
    pf_pool *pool;            /* NULL in a dry run: slots are virtual */
    pf_vae *vae;
    vae_tensor_list virtuals; /* dry run */
    pf_tensor **slot;
    int n_slots, cap_slots;
    pf_tensor *zeros;         /* one zero frame (first chunks with a single frame) */
    size_t bytes;
} vae_caches;

void vae_caches_free(vae_caches *c);
pf_tensor *vae_virtual_tensor(pf_vae *vae, vae_tensor_list *list, pf_dtype dt, int ndim, const int64_t *ne,
                              const char *name);
void vae_tensor_list_free(vae_tensor_list *l);

typedef struct vae_build {
    pf_graph *g;
    pf_vae *vae;
    vae_tmode mode;
    vae_caches *caches; /* NULL for VAE_T_FULL */
    pf_dtype adt;       /* activations and caches (the weights keep vae->dtype) */
    int next_slot;
    pf_status status;   /* errors outside the graph (allocating caches) */
} vae_build;

pf_tensor *vae_conv_fwd(vae_build *B, const vae_conv *c, pf_tensor *x);
pf_tensor *vae_norm_fwd(vae_build *B, const vae_norm *n, pf_tensor *x, bool silu);
pf_tensor *vae_resnet_fwd(vae_build *B, const vae_resnet *r, pf_tensor *x);
pf_tensor *vae_mid_fwd(vae_build *B, const vae_mid *m, pf_tensor *x);
/* decoder up block (resnets, spatial and temporal depth-to-space) */
pf_tensor *vae_up_block_fwd(vae_build *B, const vae_block *blk, pf_tensor *x);
/* encoder down block (resnets, strided convs) */
pf_tensor *vae_down_block_fwd(vae_build *B, const vae_block *blk, pf_tensor *x);

/* ---- vae_decoder.c / vae_encoder.c ---- */
/* latent z [1, latent, T, h, w] -> video [1, out, T', h*sf, w*sf] */
pf_tensor *vae_decoder_fwd(vae_build *B, pf_tensor *z);
/* video [1, in, T, H, W] -> moments [1, 2*latent, T', H/sf, W/sf] (after quant_conv) */
pf_tensor *vae_encoder_fwd(vae_build *B, pf_tensor *x);
/* Frames out of one chunk of t inputs. */
int64_t vae_decoder_frames(const pf_vae *vae, int64_t t, vae_tmode mode);
int64_t vae_encoder_frames(const pf_vae *vae, int64_t t, vae_tmode mode);
/* Spatial size out of the encoder for n input pixels (ceil per stride-2 conv). */
int64_t vae_encoder_size(const pf_vae *vae, int64_t n);

/* ---- vae_tiling.c ---- */
/* One axis of the official tile grid: tiles start every `stride` units and are
 * at most `tile` long; blending over `blend` output units; crop to `limit`. */
typedef struct vae_axis {
    int n;
    int64_t *start, *len;     /* input units */
    int64_t *out_len;         /* tile length in output units */
    int64_t *crop;            /* min(limit, out_len) */
    int64_t total;            /* sum of crops: the output length */
} vae_axis;

typedef struct vae_tiling {
    bool tiled;
    vae_axis rows, cols;
    int64_t blend, limit;     /* output units */
} vae_tiling;

/* Decode grid (latent tiles, pixel blends) / encode grid (pixel tiles, latent blends). */
pf_status vae_tiling_decode(const pf_vae *vae, int64_t h, int64_t w, const pf_vae_opts *o, vae_tiling *t);
pf_status vae_tiling_encode(const pf_vae *vae, int64_t H, int64_t W, const pf_vae_opts *o, vae_tiling *t);
void vae_tiling_free(vae_tiling *t);

/* Streaming blender: tiles arrive in row-major order as [planes, th, tw] host
 * arrays (planes = channels * frames); each is blended in place with the
 * already-blended tile above and to its left (official blend_v then blend_h),
 * and its crop is written to out [planes, rows.total, cols.total]. Keeps only
 * the strips later tiles need. */
typedef struct vae_blender {
    const vae_tiling *t;
    int64_t planes;
    float **bottom;     /* per column: last `blend` rows of the tile above, [planes, rows, tw] */
    int64_t *bottom_rows, *bottom_w;
    float *right;       /* right strip of the tile to the left, [planes, th, cols] */
    int64_t right_cols;
    size_t host_bytes;
} vae_blender;

pf_status vae_blender_init(vae_blender *b, const vae_tiling *t, int64_t planes);
void vae_blender_put(vae_blender *b, int i, int j, float *tile, float *out);
void vae_blender_free(vae_blender *b);

/* Official chunk_decode / chunk_encode split: first window+1, then window, then the rest. */
typedef struct vae_chunks {
    int n;
    int64_t *start, *len;
} vae_chunks;
pf_status vae_chunks_make(int64_t T, bool chunked, int window, vae_chunks *c);
void vae_chunks_free(vae_chunks *c);

#endif /* PF_VAE_INTERNAL_H */
