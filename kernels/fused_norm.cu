/*
 * Norms fused with the element-wise op that consumes them in every DiT block
 * (backends/cuda/cuda_fuse.c decides when a pair of graph nodes runs as one):
 *
 *   layer norm + adaLN modulation   y = LN(x) [* w] [+ b]) * (1 + scale) + shift
 *       x [rows = B*N, D]; shift, scale [B, 1 or N, D] views of the adaLN chunks
 *       (row r = b*N + n reads them at b*st_b + n*st_n, unit last stride).
 *       One block of 256 threads per row, two-pass statistics as pf_k_layer_norm.
 *   qk RMS norm + RoPE              y = rope(x / sqrt(mean(x^2) + eps) [* w])
 *       x [B, N, H, D] (D even), table f32 [N, D/2, 2] (cos, sin) as pf_k_rope.
 *       One warp per (b, n, h) row: head rows are short (64 in the DiT), so a warp
 *       holds a row pair by pair and reduces with shuffles, no block barrier.
 *
 * Each saves a round trip of the [B, N, D] intermediate through global memory and a
 * launch, and skips the intermediate rounding to the activation dtype (the fused
 * result is the unfused one computed in f32 throughout: it differs from it by at
 * most the rounding of that intermediate). In place: y may alias x (each row is read
 * completely before any of it is written: the block or warp reduction sits between).
 */
#include "pf_cuda_common.cuh"

__global__ void pf_k_layer_norm_modulate(void *y, int ydt, const void *x, int xdt, const void *w, int wdt,
                                         const void *b, int bdt, pf_cu_rowvec shift, pf_cu_rowvec scale, int64_t rows,
                                         int64_t N, int64_t D, float eps) {
    __shared__ float sh[32];
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const int64_t o = r * D, bi = r / N, n = r % N;
        const int64_t os = bi * shift.st_b + n * shift.st_n, oc = bi * scale.st_b + n * scale.st_n;
        float mean, inv;
        pf_cu_row_stats(x, xdt, o, D, eps, sh, &mean, &inv);
        for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
            const float t = pf_cu_ln_elem(x, xdt, o, i, mean, inv, w, wdt, b, bdt);
            const float sc = pf_cu_ld(scale.data, scale.dtype, oc + i), sf = pf_cu_ld(shift.data, shift.dtype, os + i);
            pf_cu_st(y, ydt, o + i, __fadd_rn(__fmul_rn(t, __fadd_rn(1.0f, sc)), sf));
        }
    }
}

extern "C" cudaError_t pf_cu_layer_norm_modulate(void *y, int y_dtype, const void *x, int x_dtype, const void *w,
                                                 int w_dtype, const void *b, int b_dtype, const pf_cu_rowvec *shift,
                                                 const pf_cu_rowvec *scale, int64_t rows, int64_t N, int64_t D,
                                                 float eps, cudaStream_t stream) {
    if (rows <= 0 || D <= 0 || N <= 0) return cudaSuccess;
    pf_k_layer_norm_modulate<<<pf_cu_row_blocks_n(rows), PF_CU_THREADS, 0, stream>>>(
        y, y_dtype, x, x_dtype, w, w_dtype, b, b_dtype, *shift, *scale, rows, N, D, eps);
    return cudaGetLastError();
}

#define PF_RR_WARPS (PF_CU_THREADS / 32)
#define PF_RR_PAIRS 4 /* pairs per lane: head dims up to 256 */

__global__ void pf_k_rms_norm_rope(void *y, int ydt, const void *x, int xdt, const void *w, int wdt,
                                   const float *__restrict__ table, int64_t rows, int64_t N, int64_t H, int64_t D,
                                   float eps) {
    const int lane = (int)(threadIdx.x % 32), warp = (int)(threadIdx.x / 32);
    const int64_t P = D / 2;
    /* r is the same on every lane of a warp: the shuffles below see the whole warp */
    for (int64_t r = (int64_t)blockIdx.x * PF_RR_WARPS + warp; r < rows; r += (int64_t)gridDim.x * PF_RR_WARPS) {
        const int64_t o = r * D, n = (r / H) % N; /* r = (b*N + n)*H + h */
        float s = 0.0f;
#pragma unroll
        for (int k = 0; k < PF_RR_PAIRS; k++) {
            const int64_t j = lane + 32 * k;
            if (j >= P) break;
            const float x0 = pf_cu_ld(x, xdt, o + 2 * j), x1 = pf_cu_ld(x, xdt, o + 2 * j + 1);
            s += x0 * x0 + x1 * x1;
        }
        for (int m = 16; m > 0; m >>= 1) s += __shfl_xor_sync(0xffffffffu, s, m);
        const float inv = 1.0f / sqrtf(s / (float)D + eps);
        /* each lane reads and writes only its own pairs (j = lane + 32 k), so y may alias x */
#pragma unroll
        for (int k = 0; k < PF_RR_PAIRS; k++) {
            const int64_t j = lane + 32 * k;
            if (j >= P) break;
            float a0 = __fmul_rn(pf_cu_ld(x, xdt, o + 2 * j), inv);
            float a1 = __fmul_rn(pf_cu_ld(x, xdt, o + 2 * j + 1), inv);
            if (w) {
                a0 = __fmul_rn(a0, pf_cu_ld(w, wdt, 2 * j));
                a1 = __fmul_rn(a1, pf_cu_ld(w, wdt, 2 * j + 1));
            }
            const float cs = table[(n * P + j) * 2], sn = table[(n * P + j) * 2 + 1];
            pf_cu_st(y, ydt, o + 2 * j, __fsub_rn(__fmul_rn(a0, cs), __fmul_rn(a1, sn)));
            pf_cu_st(y, ydt, o + 2 * j + 1, __fadd_rn(__fmul_rn(a0, sn), __fmul_rn(a1, cs)));
        }
    }
}

extern "C" int64_t pf_cu_rms_norm_rope_max_dim(void) { return PF_RR_PAIRS * 32 * 2; }

extern "C" cudaError_t pf_cu_rms_norm_rope(void *y, int y_dtype, const void *x, int x_dtype, const void *w,
                                           int w_dtype, const float *table, int64_t B, int64_t N, int64_t H, int64_t D,
                                           float eps, cudaStream_t stream) {
    const int64_t rows = B * N * H;
    if (rows <= 0 || D <= 0) return cudaSuccess;
    if (D % 2 || D > pf_cu_rms_norm_rope_max_dim()) return cudaErrorInvalidValue;
    pf_k_rms_norm_rope<<<pf_cu_warp_row_blocks(rows), PF_CU_THREADS, 0, stream>>>(y, y_dtype, x, x_dtype, w, w_dtype,
                                                                                  table, rows, N, H, D, eps);
    return cudaGetLastError();
}
