/*
 * Tensors and the graph IR.
 *
 * A tensor is either a leaf (a weight or other persistent tensor that already
 * lives in a backend buffer, or a graph input the planner allocates) or the
 * output of one op node. Shapes are in PyTorch order, outermost first, with
 * strides in elements: a video tensor is [B, C, T, H, W] with st[4] == 1.
 *
 * A graph is built once per shape through the pf_* builder functions, planned
 * once against a backend arena (pf_plan_graph), then replayed: upload inputs,
 * pf_graph_compute, download outputs. Builder functions never crash on bad
 * shapes: they record the first error in the graph and return NULL, and every
 * builder accepts NULL inputs (propagating NULL), so model code can build a
 * whole graph and check pf_graph_status() once.
 */
#ifndef PF_GRAPH_H
#define PF_GRAPH_H

#include "pf_dtype.h"

#define PF_MAX_DIMS 5
#define PF_MAX_SRC 8
#define PF_MAX_IPARAMS 12
#define PF_MAX_FPARAMS 4
#define PF_NAME_LEN 64

typedef struct pf_backend pf_backend;
typedef struct pf_buffer pf_buffer;
typedef struct pf_arena pf_arena;
typedef struct pf_graph pf_graph;

typedef enum pf_op {
    PF_OP_NONE = 0,      /* leaf: input, weight or other external tensor */
    PF_OP_VIEW,          /* alias of src0 with its own shape/strides/offset; no compute */
    PF_OP_CPY,           /* dst = convert(src0), src0 any strides, dst contiguous; also the cast */
    PF_OP_CONCAT,        /* dst = cat(src0..src[n-1], dim = ip[0]); n = ip[1] */
    PF_OP_ADD,           /* dst = src0 + src1 (src1 broadcast, any strides) */
    PF_OP_SUB,           /* dst = src0 - src1 */
    PF_OP_MUL,           /* dst = src0 * src1 */
    PF_OP_SCALE,         /* dst = src0 * fp[0] + fp[1] */
    PF_OP_UNARY,         /* dst = f(src0), f = ip[0] (pf_unary) */
    PF_OP_LINEAR,        /* src0 x [..., K], src1 W [N, K], src2 bias [N] or NULL -> [..., N] */
    PF_OP_MATMUL,        /* src0 A [Bt, M, K]; src1 B [Bt, N, K] if ip[0] (trans_b) else [Bt, K, N];
                            dst [Bt, M, N] = fp[0] * A B; src1 batch may be 1 (broadcast) */
    PF_OP_LAYER_NORM,    /* over the last dim; src1 weight, src2 bias (each optional); fp[0] eps */
    PF_OP_RMS_NORM,      /* x * rsqrt(mean(x^2) + eps) [* src1 weight]; last dim; fp[0] eps */
    PF_OP_GROUP_NORM,    /* x [B, C, T, H, W]; stats per (b, group, t) over (C/G, H, W);
                            src1 weight [C], src2 bias [C] optional; ip[0] groups, ip[1] fuse SiLU;
                            fp[0] eps */
    PF_OP_SOFTMAX,       /* softmax(fp[0] * x) over the last dim */
    PF_OP_ATTENTION,     /* see pf_attention() */
    PF_OP_ROPE,          /* see pf_rope() */
    PF_OP_MODULATE,      /* dst = src0 * (1 + src2) + src1  (x, shift, scale; broadcast) */
    PF_OP_GATED_ADD,     /* dst = src0 + src1 * src2           (x, gate, y; gate broadcast) */
    PF_OP_CONV3D,        /* see pf_conv3d() */
    PF_OP_DEPTH_TO_SPACE,/* see pf_depth_to_space() */
    PF_OP_UPSAMPLE2X,    /* nearest 2x over the last two dims */
    PF_OP_DOWNSAMPLE2X,  /* bilinear 1/2 (align_corners=False) over the last two dims, times fp[0] */
    PF_OP_EMBEDDING,     /* src0 table [V, D], src1 ids (i32/i64) [...] -> [..., D] */
    PF_OP_COUNT
} pf_op;

typedef enum pf_unary {
    PF_UNARY_SILU = 0,
    PF_UNARY_GELU_TANH,  /* GELU with the tanh approximation (gelu_new, gelu_pytorch_tanh) */
    PF_UNARY_GELU_ERF,   /* exact GELU */
    PF_UNARY_QUICK_GELU, /* x * sigmoid(1.702 x) (CLIP-L) */
    PF_UNARY_COUNT
} pf_unary;

/* Attention mask modes (ip[0] of PF_OP_ATTENTION). Masks are parameters, never N x N tensors. */
typedef enum pf_mask_mode {
    PF_MASK_NONE = 0,
    PF_MASK_CAUSAL, /* key index <= query index (CLIP) */
    PF_MASK_FRAME,  /* Pyramid Flow: q sees k iff valid(q) == valid(k) && frame(q) >= frame(k);
                       src3 q_meta, src4 k_meta: i32 [B, N], meta = frame * 2 + valid */
    PF_MASK_KEY,    /* q sees k iff valid(k); src4 k_meta i32 [B, Nk] (meta & 1 = valid) (T5) */
} pf_mask_mode;

/* Depth-to-space modes (ip[0] of PF_OP_DEPTH_TO_SPACE). */
typedef enum pf_d2s_mode {
    PF_D2S_SPACE = 0, /* [B, C*4, T, H, W] -> [B, C, T, 2H, 2W]; in channel = c*4 + p1*2 + p2 */
    PF_D2S_TIME,      /* [B, C*2, T, H, W] -> [B, C, 2T, H, W]; in channel = c*2 + p, frame 2t+p;
                         ip[1] = 1 drops output frame 0 (2T-1 frames) */
} pf_d2s_mode;

enum {
    PF_TF_INPUT = 1 << 0,    /* graph input: allocated by the planner, written by the caller */
    PF_TF_OUTPUT = 1 << 1,   /* graph output: never freed or reused inside the graph */
    PF_TF_EXTERNAL = 1 << 2, /* storage owned outside the graph (weights, persistent state) */
};

typedef struct pf_tensor {
    pf_dtype dtype;
    int ndim;
    int64_t ne[PF_MAX_DIMS]; /* shape, outermost first; dims >= ndim are 1 */
    int64_t st[PF_MAX_DIMS]; /* strides in elements */

    pf_op op;
    struct pf_tensor *src[PF_MAX_SRC];
    int32_t ip[PF_MAX_IPARAMS];
    float fp[PF_MAX_FPARAMS];
    uint32_t flags;
    char name[PF_NAME_LEN];

    /* Views: root tensor whose storage this aliases, and the element offset
     * into the root's storage. For non-views view_src is NULL. */
    struct pf_tensor *view_src;
    int64_t view_offs;

    /* Storage, set by the planner (graph tensors) or by a pool (external). */
    pf_buffer *buffer;
    size_t offset; /* bytes into buffer */

    /* owning graph (NULL for pool tensors) */
    pf_graph *graph;
    /* pf_output_into target: external tensor whose storage this node writes */
    struct pf_tensor *into;

    /* planner bookkeeping */
    int chunk;      /* arena chunk index, -1 if not arena-allocated */
    int n_uses;     /* consumers (views count as consumers of their root) */
    int graph_index;/* position in the graph's node list, -1 for leaves */
} pf_tensor;

/* ---- tensor helpers ---- */
int64_t pf_nelem(const pf_tensor *t);
size_t pf_nbytes(const pf_tensor *t); /* of the contiguous layout */
bool pf_is_contiguous(const pf_tensor *t);
bool pf_same_shape(const pf_tensor *a, const pf_tensor *b);
/* Set contiguous strides for the current shape. */
void pf_set_contiguous_strides(pf_tensor *t);
/* "[2, 16, 1, 8, 12]" */
const char *pf_shape_str(const pf_tensor *t, char *buf, size_t n);
/* Storage root (follows view_src), and the byte offset of t's first element in root's buffer. */
pf_tensor *pf_root(pf_tensor *t);
size_t pf_data_offset(const pf_tensor *t);

/* ---- graphs ---- */
pf_graph *pf_graph_new(const char *name);
void pf_graph_free(pf_graph *g);
/* First build error (PF_OK if none) and its message. */
pf_status pf_graph_status(const pf_graph *g);
const char *pf_graph_error(const pf_graph *g);
const char *pf_graph_name(const pf_graph *g);
int pf_graph_n_nodes(const pf_graph *g);
pf_tensor *pf_graph_node(pf_graph *g, int i);
/* Record a build error (first one wins) and return NULL. */
pf_tensor *pf_graph_fail(pf_graph *g, pf_status s, const char *fmt, ...) PF_PRINTF(3, 4);

/* Leaves. pf_input: allocated by the planner, set by the caller before compute.
 * pf_external: wraps a tensor that already has storage (weights, persistent
 * state); the graph never frees it. */
pf_tensor *pf_input(pf_graph *g, pf_dtype dt, int ndim, const int64_t *ne, const char *name);
pf_tensor *pf_external(pf_graph *g, pf_tensor *t);
void pf_set_name(pf_tensor *t, const char *fmt, ...) PF_PRINTF(2, 3);
/* Mark a node as a graph output (kept alive, readable after compute). */
void pf_output(pf_graph *g, pf_tensor *t);
/* Make node t compute straight into the storage of `dst`, an external tensor
 * (persistent state such as a latent or a causal cache) of the same dtype and
 * element count. t must be produced by an op (not a leaf or a view). Reads of
 * dst earlier in the graph see its old contents; nodes after t see the new ones. */
void pf_output_into(pf_graph *g, pf_tensor *t, pf_tensor *dst);

/* ---- views (no compute) ---- */
pf_tensor *pf_reshape(pf_graph *g, pf_tensor *x, int ndim, const int64_t *ne); /* inserts a copy if x is not contiguous */
pf_tensor *pf_view(pf_graph *g, pf_tensor *x, int ndim, const int64_t *ne, const int64_t *st, int64_t offs_elems);
pf_tensor *pf_slice(pf_graph *g, pf_tensor *x, int dim, int64_t start, int64_t len);
pf_tensor *pf_permute(pf_graph *g, pf_tensor *x, const int *perm); /* a view; dst dim i = src dim perm[i] */
pf_tensor *pf_cont(pf_graph *g, pf_tensor *x);                     /* contiguous copy if needed */

/* ---- ops ---- */
pf_tensor *pf_cast(pf_graph *g, pf_tensor *x, pf_dtype dt);
pf_tensor *pf_copy(pf_graph *g, pf_tensor *x); /* always a new contiguous tensor */
pf_tensor *pf_concat(pf_graph *g, pf_tensor **xs, int n, int dim);
pf_tensor *pf_add(pf_graph *g, pf_tensor *a, pf_tensor *b);
pf_tensor *pf_sub(pf_graph *g, pf_tensor *a, pf_tensor *b);
pf_tensor *pf_mul(pf_graph *g, pf_tensor *a, pf_tensor *b);
pf_tensor *pf_scale(pf_graph *g, pf_tensor *x, float mul, float add);
pf_tensor *pf_unary_op(pf_graph *g, pf_tensor *x, pf_unary f);
pf_tensor *pf_silu(pf_graph *g, pf_tensor *x);
pf_tensor *pf_gelu_tanh(pf_graph *g, pf_tensor *x);
pf_tensor *pf_linear(pf_graph *g, pf_tensor *x, pf_tensor *w, pf_tensor *bias);
pf_tensor *pf_matmul(pf_graph *g, pf_tensor *a, pf_tensor *b, bool trans_b, float alpha);
pf_tensor *pf_layer_norm(pf_graph *g, pf_tensor *x, pf_tensor *w, pf_tensor *b, float eps);
pf_tensor *pf_rms_norm(pf_graph *g, pf_tensor *x, pf_tensor *w, float eps);
pf_tensor *pf_group_norm(pf_graph *g, pf_tensor *x, pf_tensor *w, pf_tensor *b, int groups, float eps, bool fuse_silu);
pf_tensor *pf_softmax(pf_graph *g, pf_tensor *x, float scale);
/* q [B, Nq, H, D], k [B, Nk, H, D], v [B, Nk, H, Dv] -> [B, Nq, H, Dv].
 * scores = scale * q.k (+ bias[h, i, j] if bias, f32 [H, Nq, Nk]) with the mask
 * mode; a query row that sees no key gives zeros. */
pf_tensor *pf_attention(pf_graph *g, pf_tensor *q, pf_tensor *k, pf_tensor *v, float scale, pf_mask_mode mode,
                        pf_tensor *q_meta, pf_tensor *k_meta, pf_tensor *bias);
/* x [B, N, H, D] with D even; table f32 [N, D/2, 2] holding (cos, sin) per pair.
 * Rotates interleaved pairs: (x0 c - x1 s, x0 s + x1 c). */
pf_tensor *pf_rope(pf_graph *g, pf_tensor *x, pf_tensor *table);
pf_tensor *pf_modulate(pf_graph *g, pf_tensor *x, pf_tensor *shift, pf_tensor *scale);
pf_tensor *pf_gated_add(pf_graph *g, pf_tensor *x, pf_tensor *gate, pf_tensor *y);
/* x [B, Ci, T, H, W], w [Co, Ci, kt, kh, kw], bias [Co] or NULL.
 * Temporal: pad_t frames in front (zeros, or the frames of `front` [B, Ci, pad_t, H, W]
 * when given: the causal cache), none behind. Spatial: pad_h/pad_w zeros both sides.
 * Strides (st, sh, sw). Out [B, Co, (T+pad_t-kt)/st+1, (H+2ph-kh)/sh+1, (W+2pw-kw)/sw+1]. */
pf_tensor *pf_conv3d(pf_graph *g, pf_tensor *x, pf_tensor *w, pf_tensor *bias, pf_tensor *front, int pad_t, int pad_h,
                     int pad_w, int st, int sh, int sw);
pf_tensor *pf_depth_to_space(pf_graph *g, pf_tensor *x, pf_d2s_mode mode, bool drop_first);
pf_tensor *pf_upsample2x(pf_graph *g, pf_tensor *x);
pf_tensor *pf_downsample2x(pf_graph *g, pf_tensor *x, float mul);
pf_tensor *pf_embedding(pf_graph *g, pf_tensor *table, pf_tensor *ids);

/* Op metadata. */
const char *pf_op_name(pf_op op);
const char *pf_unary_name(pf_unary f);
/* Whether dst may take src0's memory when src0 dies at this node (same size and dtype). */
bool pf_op_can_inplace(const pf_tensor *node);
/* Approximate FLOPs of a node (matmul/attention/conv dominate), and of a graph's nodes. */
double pf_node_flops(const pf_tensor *node);
double pf_graph_flops(const pf_graph *g);

#endif /* PF_GRAPH_H */
