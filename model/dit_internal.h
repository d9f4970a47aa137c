/*
 * Internal to the DiT (model/dit_*.c): weights, layouts and the graph-building
 * context shared by the files of the component. Public contract: pf_dit.h.
 *
 * Files:
 *   dit_config.c   config.json -> pf_dit_config (+ the pipeline's hard-coded overrides)
 *   dit_weights.c  every tensor of both variants by its official name, loaded or random
 *                  (pf_random_fill: seeded random weights at any size)
 *   dit_embed.c    timestep sinusoid, RoPE ids/tables, SD3 sin-cos table and crops,
 *                  patch packing, image-token embedding, unpatchify
 *   dit_mask.c     per-token attention metadata (frame * 2 + valid)
 *   dit_layers.c   graph helpers shared by the blocks (adaLN chunks, qk-norm, attention, FF)
 *   dit_flux.c     miniFLUX: FluxTransformerBlock, FluxSingleTransformerBlock, the forward graph
 *   dit_mmdit.c    SD3: JointTransformerBlock, the forward graph
 *   dit_save.c     pf_dit_save: the model back into an official folder
 *   dit.c          load/free, the layout cache, pf_dit_forward, statistics
 */
#ifndef PF_DIT_INTERNAL_H
#define PF_DIT_INTERNAL_H

#include "pf_dit.h"
#include "pf_random_fill.h"
#include "pf_weights.h"

/* Pipeline constants (facts §1, §3). */
#define DIT_TIME_PROJ_DIM 256 /* Timesteps(num_channels=256, flip_sin_to_cos=True, shift=0) */
#define DIT_ROPE_THETA 10000.0
#define DIT_MLP_RATIO 4        /* FeedForward mult / FluxSingleTransformerBlock mlp_ratio */
#define DIT_NORM_EPS 1e-6f     /* every LayerNorm (norm1, norm2, norm_out, ...) */
#define DIT_FLUX_QK_EPS 1e-6f  /* FluxTransformerBlock / FluxSingleTransformerBlock qk RMSNorm */
#define DIT_MMDIT_QK_EPS 1e-5f /* JointAttention default eps */
#define DIT_MAX_AXES 3
#define DIT_DEFAULT_MAX_LAYOUTS 16 /* cached graphs; least recently used ones are dropped beyond this */

/* nn.Linear: weight [out, in], bias [out]. */
typedef struct dit_linear {
    pf_tensor *w, *b;
} dit_linear;

/* FluxTransformerBlock (miniFLUX transformer_blocks.i) and JointTransformerBlock (SD3
 * transformer_blocks.i) share these members; names follow the official attributes. */
typedef struct dit_double_block {
    bool context_pre_only;               /* SD3 last block: no to_add_out, no norm2_context / ff_context */
    dit_linear norm1;                    /* AdaLayerNormZero.linear [6D, D] */
    dit_linear norm1_context;            /* AdaLayerNormZero [6D, D], or AdaLayerNormContinuous [2D, D] */
    dit_linear to_q, to_k, to_v, to_out; /* attn.to_q ... attn.to_out.0 */
    dit_linear add_q_proj, add_k_proj, add_v_proj, to_add_out;
    pf_tensor *norm_q, *norm_k;             /* [head_dim] */
    pf_tensor *norm_added_q, *norm_added_k; /* flux norm_added_*, SD3 norm_add_* */
    dit_linear ff_0, ff_2;                  /* ff.net.0.proj, ff.net.2 */
    dit_linear ff_context_0, ff_context_2;  /* ff_context.net.0.proj, ff_context.net.2 */
} dit_double_block;

/* FluxSingleTransformerBlock (single_transformer_blocks.i). */
typedef struct dit_single_block {
    dit_linear norm;     /* AdaLayerNormZeroSingle.linear [3D, D] */
    dit_linear proj_mlp; /* [4D, D] */
    dit_linear proj_out; /* [D, 5D] */
    dit_linear to_q, to_k, to_v;
    pf_tensor *norm_q, *norm_k;
} dit_single_block;

/* What a graph for one token layout depends on. */
typedef struct dit_layout_key {
    int batch, text_len, n_clips;
    int t[PF_DIT_MAX_CLIPS], h[PF_DIT_MAX_CLIPS], w[PF_DIT_MAX_CLIPS]; /* latent frames, height, width */
    pf_dtype clip_dt[PF_DIT_MAX_CLIPS], text_dt, pooled_dt, vel_dt;
} dit_layout_key;

/* One cached graph. The caller's tensors enter it through "slots": leaves owned by the
 * layout that are pointed at the caller's storage before every call (dit_bind). */
typedef struct dit_layout {
    dit_layout_key key;
    pf_graph *g;
    int n_img, n_cur, n_tot; /* image tokens, tokens of the current clip, text + image */
    /* graph inputs, set before every compute */
    pf_tensor *in_tproj; /* f32 [B, 256] timestep sinusoid */
    pf_tensor *in_meta;  /* i32 [B, L + N] frame * 2 + valid */
    pf_tensor *in_rope;  /* f32 [L + N, head_dim / 2, 2] (cos, sin) */
    float *rope_host;    /* the table, computed once per layout */
    /* slots */
    pf_tensor slots[PF_DIT_MAX_CLIPS + 3];
    pf_tensor *clip_slot[PF_DIT_MAX_CLIPS], *text_slot, *pooled_slot, *vel_slot;
    pf_buffer *vel_buffer; /* storage the graph was planned to write into */
    size_t vel_offset;
    pf_plan_stats plan;
    double flops;
    uint64_t last_use;
    /* debug outputs (pf_dit_set_debug): name -> node */
    int n_dbg;
    char (*dbg_name)[PF_NAME_LEN];
    pf_tensor **dbg_node;
} dit_layout;

/* A resized SD3 position table for one (current grid -> smaller clip grid) pair. */
typedef struct dit_pos_entry {
    int hc, wc, hi, wi;
    pf_tensor *table; /* f32 [hi, wi, D] on the backend */
} dit_pos_entry;

struct pf_dit {
    pf_dit_config cfg;
    int n_axes, axes_dim[DIT_MAX_AXES]; /* RoPE axes: flux (t, y, x) [16, 24, 24]; SD3 (t) [head_dim] */
    float qk_eps;
    int proj_out_dim; /* patch * patch * latent channels */
    pf_backend *be;
    pf_dtype wdtype;     /* weights on the backend */
    pf_dtype act;        /* activations (f32 unless pf_dit_set_act_dtype) */
    pf_pool *pool;       /* weights */
    pf_pool *table_pool; /* resized SD3 position tables */
    pf_arena *arena;     /* shared by every layout's graph */
    char source[512];    /* where the weights came from (messages) */

    /* top level (official names) */
    dit_linear time_linear_1, time_linear_2; /* time_text_embed.timestep_embedder.linear_1/2 */
    dit_linear text_linear_1, text_linear_2; /* time_text_embed.text_embedder.linear_1/2 */
    dit_linear context_embedder;
    dit_linear x_embedder; /* flux: Linear(4C -> D) */
    dit_linear patch_proj; /* SD3 pos_embed.proj: Conv2d weight [D, C, p, p] */
    pf_tensor *pos_embed;  /* SD3 pos_embed.pos_embed f32 [1, S*S, D] */
    float *pos_host;       /* host copy, downloaded once when a resize is needed */
    dit_linear norm_out, proj_out;
    dit_double_block *blocks;        /* transformer_blocks */
    dit_single_block *single_blocks; /* single_transformer_blocks (flux) */

    dit_layout **layouts;
    dit_layout *last_layout; /* of the last forward (debug reads) */
    int n_layouts, max_layouts;
    uint64_t use_clock;
    int n_built;
    dit_pos_entry *pos_cache;
    int n_pos_cache;
    bool debug;
    pf_dit_stats last;
};

/* ---- dit_config.c ---- */
pf_status dit_config_parse(const char *config_path, pf_dit_config *cfg);
/* Derived settings (RoPE axes, qk eps, ...) and consistency checks of a config. */
pf_status dit_config_finish(pf_dit *dit, const char *what);

/* ---- dit_weights.c ---- */
/* Where tensors come from: a weight file (through pf_loader) or a random generator. */
typedef struct dit_wsource {
    pf_loader *loader;    /* file mode */
    pf_pool *pool;        /* random mode */
    pf_random_fill *rand; /* random mode: per-tensor streams of its seed */
    int64_t n_params;     /* elements of every declared weight (the pos_embed buffer excluded) */
    int n_tensors;
    size_t bytes;         /* of every declared tensor, in its dtype (the pos_embed buffer included) */
    pf_status status;     /* random mode: first allocation failure */
    char **names;         /* file mode: every declared name (to spot unexpected tensors) */
    int n_names, cap_names;
} dit_wsource;
/* Declare (load or create) every tensor of the config's variant into dit. */
pf_status dit_weights_declare(pf_dit *dit, dit_wsource *src);
/* Weights of a config (the pos_embed buffer excluded); -1 if the config is invalid.
 * bytes / n_tensors (may be NULL): what the model holds with weights in dtype dt. */
int64_t dit_count_weights(const pf_dit_config *cfg, pf_dtype dt, size_t *bytes, int *n_tensors);
static inline int64_t dit_count_params(const pf_dit_config *cfg) { return dit_count_weights(cfg, PF_F32, NULL, NULL); }

/* ---- dit_embed.c (host tables) ---- */
/* get_timestep_embedding(t, 256, flip_sin_to_cos=True, shift=0) in f32: out [B, 256] = [cos | sin]. */
void dit_timestep_proj(const float *t, int batch, float *out);
/* Per-token RoPE positions (text tokens first, all 0): pos[n * n_axes + a]. */
pf_status dit_rope_positions(const pf_dit *dit, const dit_layout_key *k, float *pos);
/* The rotary table f32 [n_tokens, head_dim / 2, 2] of (cos, sin), angles in double as rope(). */
void dit_rope_table(const pf_dit *dit, const float *pos, int n_tokens, float *table);
/* torch F.interpolate(arange(n_in), size=n_out, mode='linear') in f32 (align_corners=False). */
void dit_interp_arange(int n_in, int n_out, float *out);
/* SD3 get_2d_sincos_pos_embed(D, S, base_size): f32 [S * S, D]. */
void dit_sincos_table(int dim, int grid, int base_size, float *out);
/* Bilinear resize (align_corners=False, no antialias) of an f32 [hi, wi, C] image to [ho, wo, C]. */
void dit_resize_bilinear(const float *in, int hi, int wi, int C, int ho, int wo, float *out);

/* ---- dit_embed.c (graph) ---- */
typedef struct dit_build dit_build;
/* [B, C, T, H, W] -> patch tokens [B, T*h*w, p*p*C]; (p1, p2, c) order if c_last, else (c, p1, p2). */
pf_tensor *dit_patchify(pf_graph *g, pf_tensor *x, int p, bool c_last, pf_dtype dt);
/* Tokens [B, T*h*w, p*p*C] in (p1, p2, c) order -> [B, C, T, h*p, w*p] in dtype dt. */
pf_tensor *dit_unpatchify(pf_graph *g, pf_tensor *tok, int C, int T, int h, int w, int p, pf_dtype dt);
/* Image tokens of every clip [B, N, D]: flux x_embedder / SD3 patch embed + cropped sin-cos table. */
pf_tensor *dit_embed_image(dit_build *bd);
/* SD3: the (possibly resized) position table for clip grid (hi, wi) when the current grid is (hc, wc). */
pf_status dit_pos_table(pf_dit *dit, int hc, int wc, int hi, int wi, pf_tensor **out);

/* ---- dit_mask.c ---- */
/* meta[b, n] = frame * 2 + valid for the joint sequence [text; image], [B, L + N]. */
void dit_token_meta(const dit_layout_key *k, int patch, const int32_t *text_mask, int32_t *meta);

/* ---- graph building (dit_layers.c, dit_flux.c, dit_mmdit.c) ---- */
struct dit_build {
    pf_dit *dit;
    pf_graph *g;
    dit_layout *lay;
    int B, L, N, Ntot, n_cur;
    bool trim_last;       /* last block computes the current clip's rows only (off in debug mode) */
    pf_tensor *temb_silu; /* SiLU(temb) [B, D], input of every adaLN linear */
    pf_tensor *rope;      /* [L + N, hd/2, 2] */
    pf_tensor *meta;      /* [B, L + N] */
};

pf_tensor *dit_lin(dit_build *bd, pf_tensor *x, const dit_linear *l);
/* adaLN: emb = linear(SiLU(temb)) [B, n*D] split into n views [B, 1, D] (official chunk order). */
void dit_ada_chunks(dit_build *bd, const dit_linear *l, int n, pf_tensor **out);
/* LayerNorm (no affine, eps 1e-6) then x * (1 + scale) + shift. */
pf_tensor *dit_norm_modulate(dit_build *bd, pf_tensor *x, pf_tensor *shift, pf_tensor *scale);
/* linear -> heads [B, n, H, hd] -> RMSNorm(weight) if norm_w -> apply_rope with the table
 * rows of tokens rope_first .. rope_first + n of the joint sequence [text; image] if
 * rope_first >= 0 (q and k; text ids are 0, an exact identity on text tokens). */
pf_tensor *dit_heads(dit_build *bd, pf_tensor *x, const dit_linear *l, pf_tensor *norm_w, int64_t rope_first);
/* Masked attention; q rows are the last q->ne[1] tokens of the sequence. q [B, Nq, H, hd],
 * k, v [B, L + N, H, hd] (q and k rotated by dit_heads) -> [B, Nq, D]. */
pf_tensor *dit_attention(dit_build *bd, pf_tensor *q, pf_tensor *k, pf_tensor *v);
/* FeedForward(gelu-approximate): net.2(GELU_tanh(net.0.proj(x))). */
pf_tensor *dit_ff(dit_build *bd, pf_tensor *x, const dit_linear *l0, const dit_linear *l2);
/* Rows [start, start + len) of x [B, N, ...] along dim 1 (a view). */
pf_tensor *dit_rows(dit_build *bd, pf_tensor *x, int64_t start, int64_t len);
/* Debug mode: keep node t readable under `name` (a contiguous copy is made if needed). */
void dit_debug_mark(dit_build *bd, pf_tensor *t, const char *fmt, ...) PF_PRINTF(3, 4);

/* The transformer: from temb / text / image tokens to the final tokens of the current clip
 * after norm_out and proj_out, [B, n_cur, p*p*C]. */
pf_tensor *dit_flux_forward(dit_build *bd, pf_tensor *txt, pf_tensor *img);
pf_tensor *dit_mmdit_forward(dit_build *bd, pf_tensor *txt, pf_tensor *img);
/* AdaLayerNormContinuous norm_out (scale, shift) then proj_out, on the current clip's rows. */
pf_tensor *dit_final_layer(dit_build *bd, pf_tensor *img);

/* ---- dit.c (internal options, used by tests and the golden runner) ---- */
/* Debug mode: graphs built afterwards keep the official intermediates (temb, context_embedder,
 * image_tokens, double_i.*, single_i.*, block_i.*, norm_out) readable with pf_dit_debug_get. */
void pf_dit_set_debug(pf_dit *dit, bool on);
/* Read an intermediate of the last forward as f32; PF_ERR_NOT_FOUND if it has none by that name. */
pf_status pf_dit_debug_get(pf_dit *dit, const char *name, float *dst, size_t n);
/* The host tables of the last forward's layout: rope [L+N, hd/2, 2] and meta [B, L+N]. */
pf_status pf_dit_debug_tables(pf_dit *dit, const float **rope, int *n_tokens, int32_t *meta, const int32_t *text_mask);

#endif /* PF_DIT_INTERNAL_H */
