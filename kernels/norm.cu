/*
 * Reductions over rows and groups: layer norm, RMS norm, softmax, group norm
 * (per frame, optionally fused with SiLU).
 *
 * One block of 256 threads per row (per (batch, group, frame) for group norm),
 * rows taken in a grid-stride loop; RMS norm over short rows takes a warp per row.
 * Statistics are f32 and two-pass like the CPU reference (mean first, then the
 * centred sum of squares: no cancellation for rows with a large mean); each pass
 * is a strided loop over the row followed by a warp-shuffle + shared-memory block
 * reduction. The row is read from global memory once per pass (L1/L2 serve the
 * later passes for model-sized rows).
 *
 * In place: the output may alias x. Every thread reads its own elements in the
 * final pass right before writing them, and the block reductions end with a
 * barrier, so no thread writes before every thread has finished reading the row.
 * No __restrict__ on x/y for that reason.
 */
#include "pf_cuda_common.cuh"

__global__ void pf_k_layer_norm(void *y, int ydt, const void *x, int xdt, const void *w, int wdt, const void *b,
                                int bdt, int64_t rows, int64_t D, float eps) {
    __shared__ float sh[32];
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const int64_t o = r * D;
        float mean, inv;
        pf_cu_row_stats(x, xdt, o, D, eps, sh, &mean, &inv);
        for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
            const float t = pf_cu_ln_elem(x, xdt, o, i, mean, inv, w, wdt, b, bdt);
            pf_cu_st(y, ydt, o + i, t);
        }
    }
}


extern "C" cudaError_t pf_cu_layer_norm(void *y, int y_dtype, const void *x, int x_dtype, const void *w, int w_dtype,
                                        const void *b, int b_dtype, int64_t rows, int64_t D, float eps,
                                        cudaStream_t stream) {
    if (rows <= 0 || D <= 0) return cudaSuccess;
    pf_k_layer_norm<<<pf_cu_row_blocks_n(rows), PF_CU_THREADS, 0, stream>>>(y, y_dtype, x, x_dtype, w, w_dtype, b,
                                                                          b_dtype, rows, D, eps);
    return cudaGetLastError();
}

__global__ void pf_k_rms_norm(void *y, int ydt, const void *x, int xdt, const void *w, int wdt, int64_t rows, int64_t D,
                              float eps) {
    __shared__ float sh[32];
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const int64_t o = r * D;
        float s = 0.0f;
        for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
            float v = pf_cu_ld(x, xdt, o + i);
            s += v * v;
        }
        const float ss = pf_cu_block_reduce(s, sh, false);
        const float inv = 1.0f / sqrtf(ss / (float)D + eps);
        for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
            float v = __fmul_rn(pf_cu_ld(x, xdt, o + i), inv);
            if (w) v = __fmul_rn(v, pf_cu_ld(w, wdt, i));
            pf_cu_st(y, ydt, o + i, v);
        }
    }
}

/* Short rows (the DiT's qk norms over a head of 64): a warp per row, reduced with
 * shuffles; a block of 256 threads per row would leave most threads idle and pay two
 * block barriers per 64 elements. Each lane reads and writes only its own elements, so y
 * may alias x. */
#define PF_RMS_WARP_MAX 256

__global__ void pf_k_rms_norm_warp(void *y, int ydt, const void *x, int xdt, const void *w, int wdt, int64_t rows,
                                   int64_t D, float eps) {
    const int lane = (int)(threadIdx.x % 32), warps = (int)(blockDim.x / 32);
    for (int64_t r = (int64_t)blockIdx.x * warps + threadIdx.x / 32; r < rows; r += (int64_t)gridDim.x * warps) {
        const int64_t o = r * D;
        float s = 0.0f;
        for (int64_t i = lane; i < D; i += 32) {
            const float v = pf_cu_ld(x, xdt, o + i);
            s += v * v;
        }
        s = pf_cu_warp_sum(s); /* r is uniform across the warp: every lane takes part */
        const float inv = 1.0f / sqrtf(s / (float)D + eps);
        for (int64_t i = lane; i < D; i += 32) {
            float v = __fmul_rn(pf_cu_ld(x, xdt, o + i), inv);
            if (w) v = __fmul_rn(v, pf_cu_ld(w, wdt, i));
            pf_cu_st(y, ydt, o + i, v);
        }
    }
}

extern "C" cudaError_t pf_cu_rms_norm(void *y, int y_dtype, const void *x, int x_dtype, const void *w, int w_dtype,
                                      int64_t rows, int64_t D, float eps, cudaStream_t stream) {
    if (rows <= 0 || D <= 0) return cudaSuccess;
    if (D <= PF_RMS_WARP_MAX) {
        pf_k_rms_norm_warp<<<pf_cu_warp_row_blocks(rows), PF_CU_THREADS, 0, stream>>>(y, y_dtype, x, x_dtype, w,
                                                                                       w_dtype, rows, D, eps);
        return cudaGetLastError();
    }
    pf_k_rms_norm<<<pf_cu_row_blocks_n(rows), PF_CU_THREADS, 0, stream>>>(y, y_dtype, x, x_dtype, w, w_dtype, rows, D,
                                                                        eps);
    return cudaGetLastError();
}

/* softmax(scale * x) over each row: max, then sum of exp(s*x - max), then the quotients. */
__global__ void pf_k_softmax(void *y, int ydt, const void *x, int xdt, int64_t rows, int64_t D, float scale) {
    __shared__ float sh[32];
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const int64_t o = r * D;
        float m = -INFINITY;
        for (int64_t i = threadIdx.x; i < D; i += blockDim.x) m = fmaxf(m, __fmul_rn(scale, pf_cu_ld(x, xdt, o + i)));
        const float mx = pf_cu_block_reduce(m, sh, true);
        float s = 0.0f;
        for (int64_t i = threadIdx.x; i < D; i += blockDim.x) s += expf(__fmul_rn(scale, pf_cu_ld(x, xdt, o + i)) - mx);
        const float sum = pf_cu_block_reduce(s, sh, false);
        for (int64_t i = threadIdx.x; i < D; i += blockDim.x)
            pf_cu_st(y, ydt, o + i, expf(__fmul_rn(scale, pf_cu_ld(x, xdt, o + i)) - mx) / sum);
    }
}

extern "C" cudaError_t pf_cu_softmax(void *y, int y_dtype, const void *x, int x_dtype, int64_t rows, int64_t D,
                                     float scale, cudaStream_t stream) {
    if (rows <= 0 || D <= 0) return cudaSuccess;
    pf_k_softmax<<<pf_cu_row_blocks_n(rows), PF_CU_THREADS, 0, stream>>>(y, y_dtype, x, x_dtype, rows, D, scale);
    return cudaGetLastError();
}

/* x [B, C, T, HW]: one block per (b, g, t) gathers cg = C/G channel planes of HW elements
 * (stride T*HW between channels), normalises them with the group's statistics, applies
 * the per-channel affine and optionally SiLU, as cpu_ref_group_norm. */
__global__ void pf_k_group_norm(void *y, int ydt, const void *x, int xdt, const void *w, int wdt, const void *b,
                                int bdt, int64_t B, int64_t C, int64_t T, int64_t HW, int64_t G, float eps, int silu) {
    __shared__ float sh[32];
    const int64_t cg = C / G, n = cg * HW, units = B * G * T;
    for (int64_t u = blockIdx.x; u < units; u += gridDim.x) {
        const int64_t t = u % T, g = (u / T) % G, bi = u / (T * G);
        /* element e of the group: channel g*cg + e/HW, position e%HW */
        const int64_t base = (bi * C + g * cg) * T * HW + t * HW, cstride = T * HW;
        float s = 0.0f;
        for (int64_t e = threadIdx.x; e < n; e += blockDim.x) s += pf_cu_ld(x, xdt, base + (e / HW) * cstride + e % HW);
        const float mean = pf_cu_block_reduce(s, sh, false) / (float)n;
        float v = 0.0f;
        for (int64_t e = threadIdx.x; e < n; e += blockDim.x) {
            float d = pf_cu_ld(x, xdt, base + (e / HW) * cstride + e % HW) - mean;
            v += d * d;
        }
        const float var = pf_cu_block_reduce(v, sh, false) / (float)n;
        const float inv = 1.0f / sqrtf(var + eps);
        for (int64_t e = threadIdx.x; e < n; e += blockDim.x) {
            const int64_t ch = g * cg + e / HW, o = base + (e / HW) * cstride + e % HW;
            const float wv = w ? pf_cu_ld(w, wdt, ch) : 1.0f, bv = b ? pf_cu_ld(b, bdt, ch) : 0.0f;
            float r = __fadd_rn(__fmul_rn(__fmul_rn(__fsub_rn(pf_cu_ld(x, xdt, o), mean), inv), wv), bv);
            if (silu) r = r / (1.0f + expf(-r));
            pf_cu_st(y, ydt, o, r);
        }
    }
}

/* Split group norm, for few (b, g, t) units over large planes (the VAE decoder at full
 * resolution: 32 groups x a few frames, 245,760 positions per channel at 384p, where one
 * block per unit would leave most SMs idle). Each unit's planes are cut into S slices of
 * positions (every channel of the group over one range of HW), one block per (unit,
 * slice), in three launches: partial sums; the unit mean from them and partial centred
 * sums of squares; then the normalisation (+ SiLU). Partials are summed in a fixed order,
 * so results do not depend on scheduling. part holds 2 U S floats. */
__device__ __forceinline__ void pf_gn_unit(int64_t u, int64_t C, int64_t T, int64_t HW, int64_t G, int64_t *base,
                                           int64_t *ch0) {
    const int64_t t = u % T, g = (u / T) % G, bi = u / (T * G), cg = C / G;
    *ch0 = g * cg;
    *base = (bi * C + g * cg) * T * HW + t * HW;
}

/* Sum of the unit's S partials p[u*S .. u*S+S) (every thread gets it). */
__device__ __forceinline__ float pf_gn_total(const float *p, int64_t u, int64_t S, float *sh) {
    float v = 0.0f;
    for (int64_t k = threadIdx.x; k < S; k += blockDim.x) v += p[u * S + k];
    return pf_cu_block_reduce(v, sh, false);
}

/* pass 0: sums; pass 1: centred squares (mean from part[0 .. U S)); into part[pass U S + blk] */
__global__ void pf_k_group_norm_part(const void *x, int xdt, int64_t C, int64_t T, int64_t HW, int64_t G, int64_t S,
                                     int64_t U, int pass, float *part) {
    __shared__ float sh[32];
    const int64_t u = blockIdx.x / S, sl = blockIdx.x % S, cg = C / G, L = (HW + S - 1) / S;
    const int64_t h0 = sl * L, h1 = h0 + L < HW ? h0 + L : HW, cstride = T * HW;
    int64_t base, ch0;
    pf_gn_unit(u, C, T, HW, G, &base, &ch0);
    const float mean = pass ? pf_gn_total(part, u, S, sh) / (float)(cg * HW) : 0.0f;
    float v = 0.0f;
    for (int64_t c = 0; c < cg; c++)
        for (int64_t i = h0 + threadIdx.x; i < h1; i += blockDim.x) {
            const float e = pf_cu_ld(x, xdt, base + c * cstride + i);
            v += pass ? (e - mean) * (e - mean) : e;
        }
    v = pf_cu_block_reduce(v, sh, false);
    if (threadIdx.x == 0) part[pass * U * S + blockIdx.x] = v;
}

__global__ void pf_k_group_norm_apply(void *y, int ydt, const void *x, int xdt, const void *w, int wdt, const void *b,
                                      int bdt, int64_t C, int64_t T, int64_t HW, int64_t G, int64_t S, int64_t U,
                                      float eps, int silu, const float *part) {
    __shared__ float sh[32];
    const int64_t u = blockIdx.x / S, sl = blockIdx.x % S, cg = C / G, L = (HW + S - 1) / S, n = cg * HW;
    const int64_t h0 = sl * L, h1 = h0 + L < HW ? h0 + L : HW, cstride = T * HW;
    int64_t base, ch0;
    pf_gn_unit(u, C, T, HW, G, &base, &ch0);
    const float mean = pf_gn_total(part, u, S, sh) / (float)n;
    const float var = pf_gn_total(part + U * S, u, S, sh) / (float)n;
    const float inv = 1.0f / sqrtf(var + eps);
    for (int64_t c = 0; c < cg; c++) {
        const float wv = w ? pf_cu_ld(w, wdt, ch0 + c) : 1.0f, bv = b ? pf_cu_ld(b, bdt, ch0 + c) : 0.0f;
        for (int64_t i = h0 + threadIdx.x; i < h1; i += blockDim.x) {
            const int64_t o = base + c * cstride + i;
            float r = __fadd_rn(__fmul_rn(__fmul_rn(__fsub_rn(pf_cu_ld(x, xdt, o), mean), inv), wv), bv);
            if (silu) r = r / (1.0f + expf(-r));
            pf_cu_st(y, ydt, o, r);
        }
    }
}

#define PF_GN_TARGET_BLOCKS 1024 /* enough blocks to fill any current GPU several times */
#define PF_GN_MIN_SLICE 1024     /* positions per slice and channel: keeps each block streaming */

/* Slices per unit for the split kernels (1: the one-block-per-unit kernel). */
static int64_t pf_gn_slices(int64_t units, int64_t HW) {
    if (units >= PF_GN_TARGET_BLOCKS) return 1;
    int64_t s = (PF_GN_TARGET_BLOCKS + units - 1) / units, most = HW / PF_GN_MIN_SLICE;
    return s < most ? s : (most > 1 ? most : 1);
}

extern "C" int64_t pf_cu_group_norm_scratch(int64_t B, int64_t T, int64_t HW, int64_t groups) {
    const int64_t units = B * groups * T, s = pf_gn_slices(units, HW);
    return s > 1 ? 2 * units * s : 0;
}

extern "C" cudaError_t pf_cu_group_norm(void *y, int y_dtype, const void *x, int x_dtype, const void *w, int w_dtype,
                                        const void *b, int b_dtype, int64_t B, int64_t C, int64_t T, int64_t HW,
                                        int64_t groups, float eps, int silu, float *scratch, cudaStream_t stream) {
    if (B <= 0 || C <= 0 || T <= 0 || HW <= 0 || groups <= 0) return cudaSuccess;
    const int64_t U = B * groups * T, S = pf_gn_slices(U, HW);
    if (S > 1) {
        if (!scratch) return cudaErrorInvalidValue;
        const unsigned blocks = (unsigned)(U * S);
        for (int pass = 0; pass < 2; pass++) {
            pf_k_group_norm_part<<<blocks, PF_CU_THREADS, 0, stream>>>(x, x_dtype, C, T, HW, groups, S, U, pass,
                                                                        scratch);
            cudaError_t e = cudaGetLastError();
            if (e != cudaSuccess) return e;
        }
        pf_k_group_norm_apply<<<blocks, PF_CU_THREADS, 0, stream>>>(y, y_dtype, x, x_dtype, w, w_dtype, b, b_dtype, C,
                                                                     T, HW, groups, S, U, eps, silu, scratch);
        return cudaGetLastError();
    }
    pf_k_group_norm<<<pf_cu_row_blocks_n(B * groups * T), PF_CU_THREADS, 0, stream>>>(
        y, y_dtype, x, x_dtype, w, w_dtype, b, b_dtype, B, C, T, HW, groups, eps, silu);
    return cudaGetLastError();
}
