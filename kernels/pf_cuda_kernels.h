/*
 * CUDA kernel launchers: the C interface between the CUDA backend's host code
 * (the .c files of backends/cuda, plain C11) and the kernels (the .cu files of
 * kernels/, CUDA C).
 *
 * Conventions shared by every launcher:
 *  - Element types are the pf_dtype numbers (PF_CU_F32 == PF_F32, ...; the host
 *    side checks the equality at compile time). Floats are loaded as f32, every
 *    sum is accumulated in f32, results are rounded once to the output type with
 *    the same rounding as the CPU reference (bf16: nearest even, NaN kept quiet).
 *  - Shapes use int64 and are right-aligned to PF_CU_DIMS dimensions (a 3-D
 *    tensor [a, b, c] is [1, 1, a, b, c]); strides are in elements.
 *  - Every launcher enqueues on `stream`, launches nothing for empty tensors and
 *    returns the launch status (cudaGetLastError), so the caller can name the op.
 *  - Outputs are contiguous. Inputs are contiguous unless a pf_cu_view says otherwise.
 */
#ifndef PF_CUDA_KERNELS_H
#define PF_CUDA_KERNELS_H

#include <cuda_runtime_api.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PF_CU_DIMS 5

/* Same numbering as pf_dtype (runtime/pf_dtype.h). */
enum {
    PF_CU_F32 = 0,
    PF_CU_BF16 = 1,
    PF_CU_F16 = 2,
    PF_CU_I32 = 3,
    PF_CU_I64 = 4,
    PF_CU_U8 = 5,
    PF_CU_BOOL = 6,
    PF_CU_F64 = 7,
};

/* A strided, possibly broadcast input over an iteration space of PF_CU_DIMS dims.
 * st[d] is 0 on broadcast dims. dense != 0: element i of the iteration space is at
 * offset i (contiguous and not broadcast), which skips the index arithmetic. */
typedef struct pf_cu_view {
    const void *data;
    int32_t dtype;
    int32_t dense;
    int64_t ne[PF_CU_DIMS];
    int64_t st[PF_CU_DIMS];
} pf_cu_view;

/* A contiguous output; ne is also the iteration space of element-wise kernels. */
typedef struct pf_cu_out {
    void *data;
    int32_t dtype;
    int64_t ne[PF_CU_DIMS];
} pf_cu_out;

/* ---- copies (copy.cu) ---- */

/* cudaSuccess when this build's kernels have an image for the current device. */
cudaError_t pf_cu_probe(void);

/* dst[i] = convert(src[i]), both contiguous, n elements (GEMM operand conversion). */
cudaError_t pf_cu_convert(void *dst, int dst_dtype, const void *src, int src_dtype, int64_t n, cudaStream_t stream);
/* dst = convert(src): src any strides, same shape as dst; float <-> int casts truncate like C. */
cudaError_t pf_cu_cpy(const pf_cu_out *dst, const pf_cu_view *src, cudaStream_t stream);
/* One part of a concatenation: copy src (any strides, its own shape in src->ne) into dst
 * (contiguous, shape dst->ne) at offset `base` along dimension `dim` (of the right-aligned
 * shapes). Same dtype on both sides; bytes are copied. */
cudaError_t pf_cu_concat_part(const pf_cu_out *dst, const pf_cu_view *src, int dim, int64_t base, cudaStream_t stream);
/* out[i, :] = table[ids[i], :]; table [V, D] with elem_size-byte elements; ids i32 or i64.
 * An id outside [0, V) writes zeros and records (PF_CU_ERR_EMBEDDING_ID, tag, id, V) in err. */
cudaError_t pf_cu_embedding(void *out, const void *table, int elem_size, const void *ids, int ids_dtype, int64_t n_ids,
                            int64_t V, int64_t D, int64_t *err, int64_t tag, cudaStream_t stream);

/* Device-side error record (4 x int64 words): code, tag (the node index), value, limit.
 * The first error wins; the host reads it at synchronize. */
enum { PF_CU_ERR_NONE = 0, PF_CU_ERR_EMBEDDING_ID = 1 };

/* ---- element-wise (elementwise.cu) ---- */

enum { PF_CU_BIN_ADD = 0, PF_CU_BIN_SUB = 1, PF_CU_BIN_MUL = 2 };
/* dst = a op b (b broadcast, both any strides), computed in f32 and rounded once. */
cudaError_t pf_cu_binary(int op, const pf_cu_out *dst, const pf_cu_view *a, const pf_cu_view *b, cudaStream_t stream);

enum { PF_CU_TER_MODULATE = 0, PF_CU_TER_GATED_ADD = 1 };
/* MODULATE: dst = x * (1 + s2) + s1 (x, shift, scale); GATED_ADD: dst = x + s1 * s2 (x, gate, y).
 * Each operation rounded in f32 as PyTorch does (no fused multiply-add). */
cudaError_t pf_cu_ternary(int op, const pf_cu_out *dst, const pf_cu_view *x, const pf_cu_view *s1, const pf_cu_view *s2,
                          cudaStream_t stream);
/* dst[i] = src[i] * mul + add (contiguous). */
cudaError_t pf_cu_scale(void *dst, int dst_dtype, const void *src, int src_dtype, int64_t n, float mul, float add,
                        cudaStream_t stream);
/* dst[i] = f(src[i]) with f a pf_unary (silu, gelu_tanh, gelu_erf, quick_gelu). */
cudaError_t pf_cu_unary(void *dst, int dst_dtype, const void *src, int src_dtype, int64_t n, int fn,
                        cudaStream_t stream);

/* ---- row and group reductions (norm.cu) ---- */

/* Rows of length D: y = (x - mean) / sqrt(var + eps) [* w] [+ b]. w, b may be NULL. */
cudaError_t pf_cu_layer_norm(void *y, int y_dtype, const void *x, int x_dtype, const void *w, int w_dtype,
                             const void *b, int b_dtype, int64_t rows, int64_t D, float eps, cudaStream_t stream);
/* Rows of length D: y = x / sqrt(mean(x^2) + eps) [* w]. */
cudaError_t pf_cu_rms_norm(void *y, int y_dtype, const void *x, int x_dtype, const void *w, int w_dtype, int64_t rows,
                           int64_t D, float eps, cudaStream_t stream);
/* Rows of length D: y = softmax(scale * x). */
cudaError_t pf_cu_softmax(void *y, int y_dtype, const void *x, int x_dtype, int64_t rows, int64_t D, float scale,
                          cudaStream_t stream);
/* x [B, C, T, HW]: statistics per (b, group, t) over (C/G channels, HW); optional SiLU.
 * scratch: pf_cu_group_norm_scratch() floats of device memory (NULL when that is 0). */
cudaError_t pf_cu_group_norm(void *y, int y_dtype, const void *x, int x_dtype, const void *w, int w_dtype,
                             const void *b, int b_dtype, int64_t B, int64_t C, int64_t T, int64_t HW, int64_t groups,
                             float eps, int silu, float *scratch, cudaStream_t stream);
/* Floats of scratch pf_cu_group_norm needs: > 0 when few units over large planes take the
 * split (several blocks per unit) kernels. */
int64_t pf_cu_group_norm_scratch(int64_t B, int64_t T, int64_t HW, int64_t groups);

/* ---- norms fused with their consumer (fused_norm.cu) ---- */

/* A per-row vector operand: row r = b*N + n of a [B*N, D] output reads element i at
 * data[b*st_b + n*st_n + i] (the adaLN chunks: [B, 1, D] views, st_n = 0). */
typedef struct pf_cu_rowvec {
    const void *data;
    int32_t dtype;
    int64_t st_b, st_n;
} pf_cu_rowvec;

/* Rows of length D (rows = B*N): y = LN(x) [* w] [+ b]) * (1 + scale) + shift. */
cudaError_t pf_cu_layer_norm_modulate(void *y, int y_dtype, const void *x, int x_dtype, const void *w, int w_dtype,
                                      const void *b, int b_dtype, const pf_cu_rowvec *shift, const pf_cu_rowvec *scale,
                                      int64_t rows, int64_t N, int64_t D, float eps, cudaStream_t stream);
/* x [B, N, H, D]: y = rope(rms_norm(x) [* w]) with the f32 table [N, D/2, 2] (cos, sin);
 * D even and at most pf_cu_rms_norm_rope_max_dim(). */
cudaError_t pf_cu_rms_norm_rope(void *y, int y_dtype, const void *x, int x_dtype, const void *w, int w_dtype,
                                const float *table, int64_t B, int64_t N, int64_t H, int64_t D, float eps,
                                cudaStream_t stream);
int64_t pf_cu_rms_norm_rope_max_dim(void);

/* ---- RoPE (rope.cu) ---- */

/* x [B, N, H, D] (D even), table f32 [N, D/2, 2] (cos, sin): rotate interleaved pairs. */
cudaError_t pf_cu_rope(void *y, int y_dtype, const void *x, int x_dtype, const float *table, int64_t B, int64_t N,
                       int64_t H, int64_t D, cudaStream_t stream);

/* ---- attention (attention.cu) ---- */

typedef struct pf_cu_attn_args {
    const void *q, *k, *v; /* [B, Nq, H, D], [B, Nk, H, D], [B, Nk, H, Dv] */
    void *o;               /* [B, Nq, H, Dv] */
    const int32_t *q_meta; /* [B, Nq] frame*2+valid, or NULL */
    const int32_t *k_meta; /* [B, Nk], or NULL */
    const float *bias;     /* [H, Nq, Nk], or NULL */
    int32_t q_dtype, k_dtype, v_dtype, o_dtype;
    int32_t mode; /* pf_mask_mode */
    float scale;
    int64_t B, Nq, Nk, H, D, Dv;
} pf_cu_attn_args;

/* Query and key tile sizes the kernel uses for head dims D, Dv (0 when unsupported),
 * and the shared memory it needs. */
int pf_cu_attention_tiles(int64_t D, int64_t Dv, int *bq, int *bk, size_t *smem_bytes);
cudaError_t pf_cu_attention(const pf_cu_attn_args *a, cudaStream_t stream);

/* ---- tensor-core attention (attention_mma.cu) ---- */

/* Non-zero when the tensor-core kernel takes a: q, k, v, o bf16, D == Dv == 64, no bias,
 * any mask mode, B and H <= 65535, Nk <= 262144, 16-byte aligned pointers. */
int pf_cu_attention_mma_ok(const pf_cu_attn_args *a);
/* Launch variants of the tensor-core kernel (PF_CUDA_ATTN): warps per block, m-tiles of 16
 * query rows per warp, blocks per SM (the register bound). All compute the same values. */
enum {
    PF_CU_ATTN_W8 = 0,      /* 8 warps x 1 m-tile (128 queries), 2 blocks per SM: 128 registers */
    PF_CU_ATTN_W8_OCC1 = 1, /* the same, 1 block per SM: up to 255 registers */
    PF_CU_ATTN_W4_M2 = 2,   /* 4 warps x 2 m-tiles (128 queries), 2 blocks per SM */
    PF_CU_ATTN_W8_M2 = 3,   /* 8 warps x 2 m-tiles (256 queries), 1 block per SM */
    PF_CU_ATTN_N_VARIANTS = 4
};
/* The same attention as pf_cu_attention for the arguments pf_cu_attention_mma_ok accepts
 * (cudaErrorInvalidValue for others or an unknown variant). */
cudaError_t pf_cu_attention_mma(const pf_cu_attn_args *a, int variant, cudaStream_t stream);

/* ---- causal conv3d (conv3d.cu) ---- */

typedef struct pf_cu_conv3d_args {
    const void *x;     /* [B, Ci, T, H, W] */
    const void *w;     /* [Co, Ci, kt, kh, kw] */
    const void *bias;  /* [Co] or NULL */
    const void *front; /* [B, Ci, pad_t, H, W] or NULL (zeros) */
    void *y;           /* [B, Co, To, Ho, Wo] */
    int32_t x_dtype, w_dtype, bias_dtype, front_dtype, y_dtype;
    int64_t B, Ci, T, H, W, Co, kt, kh, kw, To, Ho, Wo;
    int32_t pad_t, pad_h, pad_w, st, sh, sw;
} pf_cu_conv3d_args;

/* Largest kt*kh*kw the kernel takes. */
int64_t pf_cu_conv3d_max_taps(void);
cudaError_t pf_cu_conv3d(const pf_cu_conv3d_args *a, cudaStream_t stream);

/* ---- conv3d as an implicit GEMM on the tensor cores (conv3d_igemm.cu) ---- */

/* Non-zero when the implicit-GEMM kernel takes a: x, w (and the cache) bf16, K % 8 == 0,
 * w 16-byte aligned, grid within limits; y any float type. */
int pf_cu_conv3d_igemm_ok(const pf_cu_conv3d_args *a);
/* The same convolution as pf_cu_conv3d for the arguments pf_cu_conv3d_igemm_ok accepts. */
cudaError_t pf_cu_conv3d_igemm(const pf_cu_conv3d_args *a, cudaStream_t stream);

/* ---- conv3d as a GEMM: column matrix and row copies (im2col3d.cu) ---- */

/* Largest K = Ci*kt*kh*kw pf_cu_im2col3d takes. */
int64_t pf_cu_im2col3d_max_k(void);
/* col [K, n] (col_dtype, contiguous): column j holds the K input values (zeros for padding,
 * cache frames for tp < pad_t) that output position p0 + j of batch item b multiplies with
 * w viewed as [Co, K], so y's chunk is w . col. a->y and a->bias are not used. */
cudaError_t pf_cu_im2col3d(const pf_cu_conv3d_args *a, void *col, int col_dtype, int64_t b, int64_t p0, int64_t n,
                           cudaStream_t stream);
/* dst[r * dst_ld + c] = convert(src[r * src_rs + c * src_cs]) for r < rows, c < cols: a bias
 * broadcast along the rows (src_rs 1, src_cs 0) or a [rows, cols] chunk into longer rows. */
cudaError_t pf_cu_rows_copy(void *dst, int dst_dtype, int64_t dst_ld, const void *src, int src_dtype, int64_t src_rs,
                            int64_t src_cs, int64_t rows, int64_t cols, cudaStream_t stream);

/* ---- resampling (resample.cu) ---- */

/* PF_D2S_SPACE (mode 0) / PF_D2S_TIME (mode 1, drop_first) on [B, C', T, H, W] -> [B, C, To, Ho, Wo]; bytes copied. */
cudaError_t pf_cu_depth_to_space(void *y, const void *x, int elem_size, int mode, int drop_first, int64_t B, int64_t C,
                                 int64_t To, int64_t Ho, int64_t Wo, int64_t Ci, int64_t Ti, int64_t Hi, int64_t Wi,
                                 cudaStream_t stream);
/* Nearest 2x over the last two dims: planes of [Ho/2, Wo/2] -> [Ho, Wo]; bytes copied. */
cudaError_t pf_cu_upsample2x(void *y, const void *x, int elem_size, int64_t planes, int64_t Ho, int64_t Wo,
                             cudaStream_t stream);
/* Bilinear 1/2 (align_corners=False) over the last two dims, times mul, in PyTorch's order. */
cudaError_t pf_cu_downsample2x(void *y, int y_dtype, const void *x, int x_dtype, int64_t planes, int64_t Ho, int64_t Wo,
                               float mul, cudaStream_t stream);

/* ---- reference GEMM (gemm_ref.cu) ---- */

/* C[bt, m, n] = alpha * sum_k A[bt, m, k] * B'[bt, k, n] (+ bias[n]) (+ beta * C[bt, m, n]);
 * B' = B^T when trans_b (B [Bb, N, K]) else B ([Bb, K, N]); Bb is 1 (broadcast) or Bt. A and
 * B contiguous; C rows ldc elements apart (0: N), batches M * ldc apart. Any float dtypes,
 * f32 accumulation. The fallback when cuBLASLt cannot take a problem. */
typedef struct pf_cu_gemm_args {
    const void *a, *b, *bias;
    void *c;
    int32_t a_dtype, b_dtype, bias_dtype, c_dtype;
    int32_t trans_b;
    int64_t Bt, Bb, M, N, K;
    int64_t ldc; /* 0: N */
    float alpha;
    float beta; /* 0: C is only written (never read) */
} pf_cu_gemm_args;

cudaError_t pf_cu_gemm_ref(const pf_cu_gemm_args *g, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif /* PF_CUDA_KERNELS_H */
