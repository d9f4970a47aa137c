/*
 * Rotary position embedding on interleaved pairs with a per-token angle table.
 *
 * x [B, N, H, D] (D even), table f32 [N, D/2, 2] holding (cos, sin) for token n
 * and pair j. A warp per (b, n, h) row, a lane per pair: it reads (x0, x1) and
 * writes (x0 c - x1 s, x0 s + x1 c), each product and sum rounded in f32 as the CPU
 * reference does; each pair is read and written by the same lane, so the output may
 * alias x (the planner runs RoPE in place).
 */
#include "pf_cuda_common.cuh"

__global__ void pf_k_rope(void *y, int ydt, const void *x, int xdt, const float *__restrict__ table, int64_t N,
                          int64_t H, int64_t P, int64_t rows) {
    /* a warp per (b, n, h) row of P pairs: the token index is computed once per row, not
     * per pair (64-bit divisions cost more than the pair's arithmetic) */
    const int lane = (int)(threadIdx.x % 32), warps = (int)(blockDim.x / 32);
    for (int64_t r = (int64_t)blockIdx.x * warps + threadIdx.x / 32; r < rows; r += (int64_t)gridDim.x * warps) {
        const int64_t n = (r / H) % N; /* r = (b*N + n)*H + h */
        const float *tab = table + n * P * 2;
        for (int64_t j = lane; j < P; j += 32) {
            const int64_t o = (r * P + j) * 2;
            const float x0 = pf_cu_ld(x, xdt, o), x1 = pf_cu_ld(x, xdt, o + 1);
            const float cs = tab[2 * j], sn = tab[2 * j + 1];
            pf_cu_st(y, ydt, o, __fsub_rn(__fmul_rn(x0, cs), __fmul_rn(x1, sn)));
            pf_cu_st(y, ydt, o + 1, __fadd_rn(__fmul_rn(x0, sn), __fmul_rn(x1, cs)));
        }
    }
}

extern "C" cudaError_t pf_cu_rope(void *y, int y_dtype, const void *x, int x_dtype, const float *table, int64_t B,
                                  int64_t N, int64_t H, int64_t D, cudaStream_t stream) {
    const int64_t P = D / 2, rows = B * N * H;
    if (rows <= 0 || P <= 0) return cudaSuccess;
    pf_k_rope<<<pf_cu_warp_row_blocks(rows), PF_CU_THREADS, 0, stream>>>(y, y_dtype, x, x_dtype, table, N, H, P,
                                                                         rows);
    return cudaGetLastError();
}
