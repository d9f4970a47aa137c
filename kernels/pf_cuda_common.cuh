/*
 * Device helpers shared by the kernels: typed loads and stores, index
 * arithmetic for strided/broadcast views, warp and block reductions, launch
 * sizes.
 *
 * Storage types are chosen at run time (a switch on the dtype, uniform across
 * the grid, so it never diverges) rather than by templates: one instantiation
 * per kernel keeps nvcc's compile time small, and the conversions are bit-exact
 * ports of the CPU reference's (runtime/pf_dtype.c), so a value stored here is
 * the value the CPU would store for the same f32 result.
 */
#ifndef PF_CUDA_COMMON_CUH
#define PF_CUDA_COMMON_CUH

#include "pf_cuda_kernels.h"

#include <cuda_fp16.h>
#include <math.h>
#include <stdint.h>

#define PF_CU_THREADS 256

/* ---------------------------------------------------------------- conversions */

__device__ __forceinline__ float pf_cu_bf16_to_f32(uint16_t h) { return __uint_as_float((uint32_t)h << 16); }

/* Nearest even; NaN stays a quiet NaN with its sign (pf_f32_to_bf16). */
__device__ __forceinline__ uint16_t pf_cu_f32_to_bf16(float f) {
    uint32_t u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

__device__ __forceinline__ float pf_cu_f16_to_f32(uint16_t h) { return __half2float(__ushort_as_half(h)); }

/* Port of pf_f32_to_f16: nearest even, overflow to Inf, NaN keeps a quiet payload bit. */
__device__ __forceinline__ uint16_t pf_cu_f32_to_f16(float f) {
    uint32_t x = __float_as_uint(f);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t mant = x & 0x007fffffu;
    int32_t exp = (int32_t)((x >> 23) & 0xff);
    if (exp == 0xff) return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u : 0u));
    int32_t e = exp - 127 + 15;
    if (e >= 0x1f) return (uint16_t)(sign | 0x7c00u);
    if (e <= 0) {
        if (e < -10) return (uint16_t)sign;
        mant |= 0x00800000u;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t half = mant >> shift;
        uint32_t rem = mant & ((1u << shift) - 1u);
        uint32_t mid = 1u << (shift - 1u);
        if (rem > mid || (rem == mid && (half & 1u))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = sign | ((uint32_t)e << 10) | (mant >> 13);
    uint32_t rem = mant & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (half & 1u))) half++;
    return (uint16_t)half;
}

/* Element i of a typed array as f32 (pf_cpu_ldf). */
__device__ __forceinline__ float pf_cu_ld(const void *p, int dt, int64_t i) {
    switch (dt) {
    case PF_CU_F32: return ((const float *)p)[i];
    case PF_CU_BF16: return pf_cu_bf16_to_f32(((const uint16_t *)p)[i]);
    case PF_CU_F16: return pf_cu_f16_to_f32(((const uint16_t *)p)[i]);
    case PF_CU_F64: return (float)((const double *)p)[i];
    case PF_CU_I32: return (float)((const int32_t *)p)[i];
    case PF_CU_I64: return (float)((const int64_t *)p)[i];
    case PF_CU_U8:
    case PF_CU_BOOL: return (float)((const uint8_t *)p)[i];
    default: return 0.0f;
    }
}

/* Store an f32 result as element i (pf_cpu_stf; float -> int truncates). */
__device__ __forceinline__ void pf_cu_st(void *p, int dt, int64_t i, float v) {
    switch (dt) {
    case PF_CU_F32: ((float *)p)[i] = v; break;
    case PF_CU_BF16: ((uint16_t *)p)[i] = pf_cu_f32_to_bf16(v); break;
    case PF_CU_F16: ((uint16_t *)p)[i] = pf_cu_f32_to_f16(v); break;
    case PF_CU_F64: ((double *)p)[i] = (double)v; break;
    case PF_CU_I32: ((int32_t *)p)[i] = (int32_t)v; break;
    case PF_CU_I64: ((int64_t *)p)[i] = (int64_t)v; break;
    case PF_CU_U8: ((uint8_t *)p)[i] = (uint8_t)v; break;
    case PF_CU_BOOL: ((uint8_t *)p)[i] = v != 0.0f; break;
    default: break;
    }
}

/* Integer element as int64 / store an int64 (copies between integer types). */
__device__ __forceinline__ int64_t pf_cu_ld_i64(const void *p, int dt, int64_t i) {
    switch (dt) {
    case PF_CU_I32: return ((const int32_t *)p)[i];
    case PF_CU_I64: return ((const int64_t *)p)[i];
    case PF_CU_U8:
    case PF_CU_BOOL: return ((const uint8_t *)p)[i];
    default: return 0;
    }
}

__device__ __forceinline__ void pf_cu_st_i64(void *p, int dt, int64_t i, int64_t v) {
    switch (dt) {
    case PF_CU_I32: ((int32_t *)p)[i] = (int32_t)v; break;
    case PF_CU_I64: ((int64_t *)p)[i] = v; break;
    case PF_CU_U8: ((uint8_t *)p)[i] = (uint8_t)v; break;
    case PF_CU_BOOL: ((uint8_t *)p)[i] = v != 0; break;
    default: break;
    }
}

__device__ __forceinline__ bool pf_cu_is_float(int dt) {
    return dt == PF_CU_F32 || dt == PF_CU_BF16 || dt == PF_CU_F16 || dt == PF_CU_F64;
}

/* Copy one element of `es` bytes (1, 2, 4 or 8): dst[di] = src[si]. */
__device__ __forceinline__ void pf_cu_copy_elem(void *dst, int64_t di, const void *src, int64_t si, int es) {
    switch (es) {
    case 1: ((uint8_t *)dst)[di] = ((const uint8_t *)src)[si]; break;
    case 2: ((uint16_t *)dst)[di] = ((const uint16_t *)src)[si]; break;
    case 4: ((uint32_t *)dst)[di] = ((const uint32_t *)src)[si]; break;
    case 8: ((uint64_t *)dst)[di] = ((const uint64_t *)src)[si]; break;
    default: break;
    }
}

/* ---------------------------------------------------------------- indexing */

/* Multi-index of linear index i over the right-aligned shape ne (last dim fastest). */
__device__ __forceinline__ void pf_cu_unravel(int64_t i, const int64_t *ne, int64_t *idx) {
#pragma unroll
    for (int d = PF_CU_DIMS - 1; d >= 0; d--) {
        idx[d] = i % ne[d];
        i /= ne[d];
    }
}

/* Element offset of multi-index idx in view v (broadcast dims have stride 0). */
__device__ __forceinline__ int64_t pf_cu_view_offset(const pf_cu_view &v, const int64_t *idx) {
    int64_t o = 0;
#pragma unroll
    for (int d = 0; d < PF_CU_DIMS; d++) o += idx[d] * v.st[d];
    return o;
}

/* Offset of row r's first element in view v (idx: that element's multi-index, in the
 * output's shape; a dense view is indexed like the output) and v's step along the row. */
__device__ __forceinline__ int64_t pf_cu_row_start(const pf_cu_view &v, const int64_t *idx, int64_t r, int64_t L) {
    return v.dense ? r * L : pf_cu_view_offset(v, idx);
}
__device__ __forceinline__ int64_t pf_cu_row_step(const pf_cu_view &v) { return v.dense ? 1 : v.st[PF_CU_DIMS - 1]; }

/* ---------------------------------------------------------------- reductions */

__device__ __forceinline__ float pf_cu_warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float pf_cu_warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

/* Sum (is_max == false) or max over the block; every thread gets the result. `sh` is
 * 32 floats of shared memory; the leading barrier lets calls follow each other. The
 * block size must be a multiple of 32. */
__device__ __forceinline__ float pf_cu_block_reduce(float v, float *sh, bool is_max) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, n_warps = blockDim.x >> 5;
    v = is_max ? pf_cu_warp_max(v) : pf_cu_warp_sum(v);
    __syncthreads(); /* earlier readers of sh[0] are done */
    if (lane == 0) sh[warp] = v;
    __syncthreads();
    if (warp == 0) {
        float t = lane < n_warps ? sh[lane] : (is_max ? -INFINITY : 0.0f);
        t = is_max ? pf_cu_warp_max(t) : pf_cu_warp_sum(t);
        if (lane == 0) sh[0] = t;
    }
    __syncthreads();
    return sh[0];
}

/* Layer-norm statistics of the row x[o .. o+D) over the block: the mean, then the centred
 * sum of squares (two passes, as the CPU reference: no cancellation for rows with a large
 * mean); inv = 1 / sqrt(var + eps). Every thread gets both. */
__device__ __forceinline__ void pf_cu_row_stats(const void *x, int xdt, int64_t o, int64_t D, float eps, float *sh,
                                                float *mean, float *inv) {
    float s = 0.0f;
    for (int64_t i = threadIdx.x; i < D; i += blockDim.x) s += pf_cu_ld(x, xdt, o + i);
    const float m = pf_cu_block_reduce(s, sh, false) / (float)D;
    float v = 0.0f;
    for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
        const float t = pf_cu_ld(x, xdt, o + i) - m;
        v += t * t;
    }
    *mean = m;
    *inv = 1.0f / sqrtf(pf_cu_block_reduce(v, sh, false) / (float)D + eps);
}

/* Element i of a layer-normalised row: (x - mean) * inv [* w[i]] [+ b[i]], rounded per op. */
__device__ __forceinline__ float pf_cu_ln_elem(const void *x, int xdt, int64_t o, int64_t i, float mean, float inv,
                                               const void *w, int wdt, const void *b, int bdt) {
    float t = __fmul_rn(__fsub_rn(pf_cu_ld(x, xdt, o + i), mean), inv);
    if (w) t = __fmul_rn(t, pf_cu_ld(w, wdt, i));
    if (b) t = __fadd_rn(t, pf_cu_ld(b, bdt, i));
    return t;
}

/* ---------------------------------------------------------------- attention masks */

/* The mask predicate of cpu_ops.h (pf_cpu_mask_allows) on the metas of query i and key
 * j (meta = frame*2 + valid; unused by NONE and CAUSAL). Shared by both attention kernels. */
__device__ __forceinline__ bool pf_cu_mask_allows_meta(int mode, int64_t i, int64_t j, int32_t qmi, int32_t kmj) {
    switch (mode) {
    case 1: /* PF_MASK_CAUSAL */ return j <= i;
    case 2: /* PF_MASK_FRAME */ return ((qmi & 1) == (kmj & 1)) && (qmi >> 1) >= (kmj >> 1);
    case 3: /* PF_MASK_KEY */ return (kmj & 1) != 0;
    default: return true;
    }
}

/* The same with the metas read from qm [Nq] and km [Nk] (NULL where the mode needs none). */
__device__ __forceinline__ bool pf_cu_mask_allows(int mode, int64_t i, int64_t j, const int32_t *qm,
                                                  const int32_t *km) {
    return pf_cu_mask_allows_meta(mode, i, j, mode == 2 ? qm[i] : 0, mode >= 2 ? km[j] : 0);
}

/* ---------------------------------------------------------------- launch sizes */

/* Blocks for a grid-stride loop over n items with `threads` per block (at least 1, capped). */
static inline unsigned pf_cu_blocks(int64_t n, int threads) {
    int64_t b = (n + threads - 1) / threads;
    if (b < 1) b = 1;
    if (b > (1 << 20)) b = 1 << 20;
    return (unsigned)b;
}

/* ---------------------------------------------------------------- row iteration */

/* Element-wise kernels over outputs whose last dimension has at least PF_CU_ROWS_MIN
 * elements iterate by rows: a block per row (grid-stride over rows), its threads along the
 * row. The multi-index of a row's first element is unravelled once per row (the per-element
 * loop unravels every element: five 64-bit divisions and remainders, several times the
 * cost of moving the element), then each view advances by its last-dimension stride. */
#define PF_CU_ROWS_MIN 32

/* Threads per block for rows of L elements (a multiple of 32, at most PF_CU_THREADS). */
static inline unsigned pf_cu_row_threads(int64_t L) {
    int64_t t = (L + 31) / 32 * 32;
    return (unsigned)(t > PF_CU_THREADS ? PF_CU_THREADS : t);
}

/* Blocks for `rows` rows, one block per row (grid-stride beyond the cap). */
static inline unsigned pf_cu_row_blocks_n(int64_t rows) {
    return (unsigned)(rows < 1 ? 1 : rows > (1 << 20) ? (1 << 20) : rows);
}

/* Blocks of PF_CU_THREADS for `rows` rows, one warp per row. */
static inline unsigned pf_cu_warp_row_blocks(int64_t rows) {
    const int64_t warps = PF_CU_THREADS / 32;
    return pf_cu_row_blocks_n((rows + warps - 1) / warps);
}

#define PF_CU_GRID_STRIDE(i, n)                                                                                        \
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

#endif /* PF_CUDA_COMMON_CUH */
