/*
 * The GEMM form of the causal conv3d (backends/cuda/cuda_conv.c): the column
 * matrix of a chunk of output positions, and the strided row copies around the
 * GEMM (bias prefill, store of an f32 result chunk).
 *
 * Column matrix: for batch item b and output positions p0 .. p0 + n (p = (to * Ho
 * + ho) * Wo + wo), col[k, j] (row k, n positions long) = the input value output
 * position p0 + j multiplies with weight column k, where k = ci * taps + (a * kh + e)
 * * kw + f is the weight's own row-major order: w [Co, Ci, kt, kh, kw] viewed as
 * [Co, K] times col [K, n] is the chunk of y [Co, P] (a plain GEMM, no transpose).
 * Values follow pf_cu_conv3d exactly: padded time index tp = to * st + a reads the
 * front cache when tp < pad_t (zeros without one), else input frame tp - pad_t; rows /
 * columns outside the frame (spatial padding) are zeros. The store rounds once to the
 * operand type (f32 -> bf16 nearest even, the conversion the linear path uses for
 * bf16 weights).
 *
 * Threads: one output position per thread (blockIdx.x: 256 positions), a group of
 * PF_IM2COL_CI input channels per blockIdx.y. A thread decodes its position once, then
 * per tap once its source offset and whether it is padding, and walks the group's
 * channels from there (all loads issued before the stores). For each (channel, tap) a warp reads 32
 * neighbouring input columns (consecutive addresses at unit stride) and writes 32
 * consecutive entries of one column row: both sides coalesced, no shared memory. The
 * matrix is written once and read once by the GEMM, so the kernel moves about
 * 2 K n operand bytes: it is bound by memory bandwidth, not by index arithmetic.
 */
#include "pf_cuda_common.cuh"

#define PF_IM2COL_THREADS 256
#define PF_IM2COL_CI 8 /* input channels per block (grid.y = ceil(Ci / 8)) */

/* Ci <= K, so grid.y = ceil(Ci / 8) stays within 65535 */
extern "C" int64_t pf_cu_im2col3d_max_k(void) { return (int64_t)65535 * PF_IM2COL_CI; }

/* RAW: input, cache and columns all of one 16-bit type, moved as raw 16-bit words (exact:
 * no conversion), which keeps the kernel small enough for full occupancy; otherwise values
 * go through f32 (pf_cu_ld / pf_cu_st). */
template <bool RAW>
__global__ void __launch_bounds__(PF_IM2COL_THREADS)
    pf_k_im2col3d(pf_cu_conv3d_args a, void *col, int col_dtype, int64_t b, int64_t p0, int64_t n) {
    const int64_t j = (int64_t)blockIdx.x * PF_IM2COL_THREADS + threadIdx.x;
    if (j >= n) return;
    const int taps = (int)(a.kt * a.kh * a.kw), kw = (int)a.kw, kh = (int)a.kh;
    const int64_t pos = p0 + j, HW = a.H * a.W;
    const int64_t wo = pos % a.Wo, ho = (pos / a.Wo) % a.Ho, to = pos / (a.Wo * a.Ho);
    const int ci0 = (int)blockIdx.y * PF_IM2COL_CI;
    const int ci1 = (int)(a.Ci < ci0 + PF_IM2COL_CI ? a.Ci : ci0 + PF_IM2COL_CI);
    for (int tap = 0; tap < taps; tap++) {
        const int f = tap % kw, e = (tap / kw) % kh, ta = tap / (kw * kh);
        const int64_t tp = to * a.st + ta, hi = ho * a.sh + e - a.pad_h, wi = wo * a.sw + f - a.pad_w;
        /* source of channel ci0 and the step to the next channel; NULL: zeros (padding) */
        const void *src = NULL;
        int src_dt = a.x_dtype;
        int64_t off = 0, step = 0;
        if (hi >= 0 && hi < a.H && wi >= 0 && wi < a.W) {
            if (tp >= a.pad_t) {
                src = a.x;
                step = a.T * HW;
                off = ((b * a.Ci + ci0) * a.T + (tp - a.pad_t)) * HW + hi * a.W + wi;
            } else if (a.front) {
                src = a.front;
                src_dt = a.front_dtype;
                step = (int64_t)a.pad_t * HW;
                off = ((b * a.Ci + ci0) * a.pad_t + tp) * HW + hi * a.W + wi;
            }
        }
        /* all the group's loads first, then the stores: eight independent loads in flight per
         * thread (a load-store loop keeps one, and at one per thread the memory system
         * sees too few requests to stream: ~0.6 TB/s on an H200) */
        const int64_t k = (int64_t)ci0 * taps + tap;
        if (RAW) {
            uint16_t val[PF_IM2COL_CI];
#pragma unroll
            for (int c = 0; c < PF_IM2COL_CI; c++)
                val[c] = (src && ci0 + c < ci1) ? ((const uint16_t *)src)[off + c * step] : (uint16_t)0;
#pragma unroll
            for (int c = 0; c < PF_IM2COL_CI; c++)
                if (ci0 + c < ci1) ((uint16_t *)col)[(k + (int64_t)c * taps) * n + j] = val[c];
        } else {
            float val[PF_IM2COL_CI];
#pragma unroll
            for (int c = 0; c < PF_IM2COL_CI; c++)
                val[c] = (src && ci0 + c < ci1) ? pf_cu_ld(src, src_dt, off + c * step) : 0.0f;
#pragma unroll
            for (int c = 0; c < PF_IM2COL_CI; c++)
                if (ci0 + c < ci1) pf_cu_st(col, col_dtype, (k + (int64_t)c * taps) * n + j, val[c]);
        }
    }
}

extern "C" cudaError_t pf_cu_im2col3d(const pf_cu_conv3d_args *a, void *col, int col_dtype, int64_t b, int64_t p0,
                                      int64_t n, cudaStream_t stream) {
    const int64_t K = a->Ci * a->kt * a->kh * a->kw;
    if (n <= 0 || K <= 0) return cudaSuccess;
    const int64_t pblocks = (n + PF_IM2COL_THREADS - 1) / PF_IM2COL_THREADS;
    if (K > pf_cu_im2col3d_max_k() || pblocks > 0x7fffffff || b < 0 || b >= a->B || p0 < 0 ||
        p0 + n > a->To * a->Ho * a->Wo)
        return cudaErrorInvalidValue;
    dim3 grid((unsigned)pblocks, (unsigned)((a->Ci + PF_IM2COL_CI - 1) / PF_IM2COL_CI));
    const bool raw = (col_dtype == PF_CU_BF16 || col_dtype == PF_CU_F16) && a->x_dtype == col_dtype &&
                     (!a->front || a->front_dtype == col_dtype);
    if (raw)
        pf_k_im2col3d<true><<<grid, PF_IM2COL_THREADS, 0, stream>>>(*a, col, col_dtype, b, p0, n);
    else
        pf_k_im2col3d<false><<<grid, PF_IM2COL_THREADS, 0, stream>>>(*a, col, col_dtype, b, p0, n);
    return cudaGetLastError();
}

/* dst[r * dst_ld + c] = src[r * src_rs + c * src_cs] */
__global__ void pf_k_rows_copy(void *dst, int dst_dtype, int64_t dst_ld, const void *src, int src_dtype, int64_t src_rs,
                               int64_t src_cs, int64_t rows, int64_t cols) {
    PF_CU_GRID_STRIDE(i, rows * cols) {
        const int64_t r = i / cols, c = i % cols;
        pf_cu_st(dst, dst_dtype, r * dst_ld + c, pf_cu_ld(src, src_dtype, r * src_rs + c * src_cs));
    }
}

extern "C" cudaError_t pf_cu_rows_copy(void *dst, int dst_dtype, int64_t dst_ld, const void *src, int src_dtype,
                                       int64_t src_rs, int64_t src_cs, int64_t rows, int64_t cols,
                                       cudaStream_t stream) {
    if (rows <= 0 || cols <= 0) return cudaSuccess;
    pf_k_rows_copy<<<pf_cu_blocks(rows * cols, PF_CU_THREADS), PF_CU_THREADS, 0, stream>>>(
        dst, dst_dtype, dst_ld, src, src_dtype, src_rs, src_cs, rows, cols);
    return cudaGetLastError();
}
