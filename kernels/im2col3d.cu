/*
 * The GEMM form of the causal conv3d (backends/cuda/cuda_conv.c): the column
 * matrix of a chunk of output positions, and the strided row copies around the
 * GEMM (bias prefill, store of an f32 result chunk).
 *
 * Column matrix: for batch item b and output positions p0 .. p0 + n (p = (to * Ho
 * + ho) * Wo + wo), col[j, k] = the input value output position p0 + j multiplies
 * with weight column k, where k = ci * taps + (a * kh + e) * kw + f is the weight's
 * own row-major order: w [Co, Ci, kt, kh, kw] viewed as [Co, K] is the GEMM's
 * other operand as stored. Values follow pf_cu_conv3d exactly: padded time index
 * tp = to * st + a reads the front cache when tp < pad_t (zeros without one), else
 * input frame tp - pad_t; rows / columns outside the frame (spatial padding) are
 * zeros. The store rounds once to the operand type (f32 -> bf16 nearest even, the
 * conversion the linear path uses for bf16 weights).
 *
 * Tiling: a block of 32 x 8 threads fills a tile of 32 positions x 32 columns
 * through shared memory, so both sides are coalesced: the loads run along the
 * positions (consecutive wo: consecutive input addresses at unit stride), the stores
 * along k (col rows are K elements long). Each thread decodes its position once; the
 * column index of a tile row is the same across the warp.
 */
#include "pf_cuda_common.cuh"

#define PF_IM2COL_TILE 32
#define PF_IM2COL_ROWS 8 /* threadIdx.y extent: each thread does TILE / ROWS rows */

extern "C" int64_t pf_cu_im2col3d_max_k(void) { return (int64_t)65535 * PF_IM2COL_TILE; }

__global__ void __launch_bounds__(PF_IM2COL_TILE *PF_IM2COL_ROWS)
    pf_k_im2col3d(pf_cu_conv3d_args a, void *col, int col_dtype, int64_t b, int64_t p0, int64_t n) {
    __shared__ float tile[PF_IM2COL_TILE][PF_IM2COL_TILE + 1]; /* [k][position], padded against bank conflicts */
    const int tx = threadIdx.x, ty = threadIdx.y;
    /* K <= pf_cu_im2col3d_max_k(): the column arithmetic fits in int */
    const int taps = (int)(a.kt * a.kh * a.kw), K = (int)(a.Ci * taps);
    const int kw = (int)a.kw, kh = (int)a.kh, kt = (int)a.kt;
    const int64_t j0 = (int64_t)blockIdx.x * PF_IM2COL_TILE;
    const int k0 = (int)blockIdx.y * PF_IM2COL_TILE;

    /* load: position j0 + tx, columns k0 + ty, k0 + ty + ROWS, ... */
    const int64_t j = j0 + tx;
    const bool jv = j < n;
    const int64_t pos = p0 + (jv ? j : 0);
    const int64_t wo = pos % a.Wo, ho = (pos / a.Wo) % a.Ho, to = pos / (a.Wo * a.Ho);
    for (int r = ty; r < PF_IM2COL_TILE; r += PF_IM2COL_ROWS) {
        const int k = k0 + r;
        float v = 0.0f;
        if (jv && k < K) {
            const int f = k % kw, e = (k / kw) % kh, ta = (k / (kw * kh)) % kt, ci = k / taps;
            const int64_t tp = to * a.st + ta, hi = ho * a.sh + e - a.pad_h, wi = wo * a.sw + f - a.pad_w;
            if (hi >= 0 && hi < a.H && wi >= 0 && wi < a.W) {
                if (tp >= a.pad_t)
                    v = pf_cu_ld(a.x, a.x_dtype, (((b * a.Ci + ci) * a.T + (tp - a.pad_t)) * a.H + hi) * a.W + wi);
                else if (a.front)
                    v = pf_cu_ld(a.front, a.front_dtype, (((b * a.Ci + ci) * a.pad_t + tp) * a.H + hi) * a.W + wi);
            }
        }
        tile[r][tx] = v;
    }
    __syncthreads();
    /* store: positions j0 + ty, j0 + ty + ROWS, ..., column k0 + tx */
    const int k = k0 + tx;
    for (int r = ty; r < PF_IM2COL_TILE; r += PF_IM2COL_ROWS) {
        const int64_t jj = j0 + r;
        if (jj < n && k < K) pf_cu_st(col, col_dtype, jj * K + k, tile[tx][r]);
    }
}

extern "C" cudaError_t pf_cu_im2col3d(const pf_cu_conv3d_args *a, void *col, int col_dtype, int64_t b, int64_t p0,
                                      int64_t n, cudaStream_t stream) {
    const int64_t K = a->Ci * a->kt * a->kh * a->kw;
    if (n <= 0 || K <= 0) return cudaSuccess;
    const int64_t pblocks = (n + PF_IM2COL_TILE - 1) / PF_IM2COL_TILE;
    const int64_t kblocks = (K + PF_IM2COL_TILE - 1) / PF_IM2COL_TILE;
    if (K > pf_cu_im2col3d_max_k() || pblocks > 0x7fffffff || b < 0 || b >= a->B || p0 < 0 ||
        p0 + n > a->To * a->Ho * a->Wo)
        return cudaErrorInvalidValue;
    dim3 grid((unsigned)pblocks, (unsigned)kblocks), block(PF_IM2COL_TILE, PF_IM2COL_ROWS);
    pf_k_im2col3d<<<grid, block, 0, stream>>>(*a, col, col_dtype, b, p0, n);
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
