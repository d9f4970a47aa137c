/*
 * Reductions over rows and groups: layer norm, RMS norm, softmax, group norm
 * (per frame, optionally fused with SiLU).
 *
 * One block of 256 threads per row (per (batch, group, frame) for group norm),
 * rows taken in a grid-stride loop. Statistics are f32 and two-pass like the CPU
 * reference (mean first, then the centred sum of squares: no cancellation for
 * rows with a large mean); each pass is a strided loop over the row followed by
 * a warp-shuffle + shared-memory block reduction. The row is read from global
 * memory once per pass (L1/L2 serve the later passes for model-sized rows).
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
        float s = 0.0f;
        for (int64_t i = threadIdx.x; i < D; i += blockDim.x) s += pf_cu_ld(x, xdt, o + i);
        const float mean = pf_cu_block_reduce(s, sh, false) / (float)D;
        float v = 0.0f;
        for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
            float t = pf_cu_ld(x, xdt, o + i) - mean;
            v += t * t;
        }
        const float var = pf_cu_block_reduce(v, sh, false) / (float)D;
        const float inv = 1.0f / sqrtf(var + eps);
        for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
            float t = __fmul_rn(__fsub_rn(pf_cu_ld(x, xdt, o + i), mean), inv);
            if (w) t = __fmul_rn(t, pf_cu_ld(w, wdt, i));
            if (b) t = __fadd_rn(t, pf_cu_ld(b, bdt, i));
            pf_cu_st(y, ydt, o + i, t);
        }
    }
}

static unsigned pf_cu_row_blocks(int64_t rows) { return (unsigned)(rows < 65535 ? (rows < 1 ? 1 : rows) : 65535); }

extern "C" cudaError_t pf_cu_layer_norm(void *y, int y_dtype, const void *x, int x_dtype, const void *w, int w_dtype,
                                        const void *b, int b_dtype, int64_t rows, int64_t D, float eps,
                                        cudaStream_t stream) {
    if (rows <= 0 || D <= 0) return cudaSuccess;
    pf_k_layer_norm<<<pf_cu_row_blocks(rows), PF_CU_THREADS, 0, stream>>>(y, y_dtype, x, x_dtype, w, w_dtype, b,
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

extern "C" cudaError_t pf_cu_rms_norm(void *y, int y_dtype, const void *x, int x_dtype, const void *w, int w_dtype,
                                      int64_t rows, int64_t D, float eps, cudaStream_t stream) {
    if (rows <= 0 || D <= 0) return cudaSuccess;
    pf_k_rms_norm<<<pf_cu_row_blocks(rows), PF_CU_THREADS, 0, stream>>>(y, y_dtype, x, x_dtype, w, w_dtype, rows, D,
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
    pf_k_softmax<<<pf_cu_row_blocks(rows), PF_CU_THREADS, 0, stream>>>(y, y_dtype, x, x_dtype, rows, D, scale);
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

extern "C" cudaError_t pf_cu_group_norm(void *y, int y_dtype, const void *x, int x_dtype, const void *w, int w_dtype,
                                        const void *b, int b_dtype, int64_t B, int64_t C, int64_t T, int64_t HW,
                                        int64_t groups, float eps, int silu, cudaStream_t stream) {
    if (B <= 0 || C <= 0 || T <= 0 || HW <= 0 || groups <= 0) return cudaSuccess;
    pf_k_group_norm<<<pf_cu_row_blocks(B * groups * T), PF_CU_THREADS, 0, stream>>>(
        y, y_dtype, x, x_dtype, w, w_dtype, b, b_dtype, B, C, T, HW, groups, eps, silu);
    return cudaGetLastError();
}
