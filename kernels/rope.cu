/*
 * Rotary position embedding on interleaved pairs with a per-token angle table.
 *
 * x [B, N, H, D] (D even), table f32 [N, D/2, 2] holding (cos, sin) for token n
 * and pair j. One thread per pair: it reads (x0, x1) and writes
 * (x0 c - x1 s, x0 s + x1 c), each product and sum rounded in f32 as the CPU
 * reference does, so the output may alias x (the planner runs RoPE in place).
 */
#include "pf_cuda_common.cuh"

__global__ void pf_k_rope(void *y, int ydt, const void *x, int xdt, const float *__restrict__ table, int64_t N,
                          int64_t H, int64_t P, int64_t n_pairs) {
    PF_CU_GRID_STRIDE(t, n_pairs) {
        const int64_t j = t % P, n = (t / (P * H)) % N; /* t = ((b*N + n)*H + h)*P + j */
        const int64_t o = 2 * t;
        const float x0 = pf_cu_ld(x, xdt, o), x1 = pf_cu_ld(x, xdt, o + 1);
        const float cs = table[(n * P + j) * 2], sn = table[(n * P + j) * 2 + 1];
        pf_cu_st(y, ydt, o, __fsub_rn(__fmul_rn(x0, cs), __fmul_rn(x1, sn)));
        pf_cu_st(y, ydt, o + 1, __fadd_rn(__fmul_rn(x0, sn), __fmul_rn(x1, cs)));
    }
}

extern "C" cudaError_t pf_cu_rope(void *y, int y_dtype, const void *x, int x_dtype, const float *table, int64_t B,
                                  int64_t N, int64_t H, int64_t D, cudaStream_t stream) {
    const int64_t P = D / 2, n_pairs = B * N * H * P;
    if (n_pairs <= 0) return cudaSuccess;
    pf_k_rope<<<pf_cu_blocks(n_pairs, PF_CU_THREADS), PF_CU_THREADS, 0, stream>>>(y, y_dtype, x, x_dtype, table, N, H,
                                                                                  P, n_pairs);
    return cudaGetLastError();
}
