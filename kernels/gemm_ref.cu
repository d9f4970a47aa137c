/*
 * Reference GEMM: the fallback for problems cuBLASLt declines (odd alignments,
 * mixed dtypes it has no kernel for, empty K) and a cross-check of the cuBLASLt
 * path (PF_CUDA_GEMM=ref forces it).
 *
 * C[bt, m, n] = alpha * sum_k A[bt, m, k] * B'[bt, k, n] (+ bias[n]) (+ beta * C[bt, m, n]),
 * B' = B^T (B [Bb, N, K]) when trans_b, else B ([Bb, K, N]); Bb == 1 broadcasts B over
 * the batch. A and B are row-major and contiguous, C's rows are ldc apart (the conv3d
 * GEMM writes [Co, positions] chunks into an output of longer rows); any float dtypes,
 * f32 accumulation. beta adds the old C after the sum, as cuBLASLt's epilogue does.
 * Classic 16 x 16 shared-memory tiling: each thread owns one output element, the
 * block walks K in steps of 16 staging one A tile and one B' tile (padded by one
 * column against bank conflicts). Results round as the CPU reference:
 * (float)acc * alpha for matmul, (float)acc + bias for linear (alpha 1).
 */
#include "pf_cuda_common.cuh"

#define PF_GEMM_TILE 16

__global__ void pf_k_gemm_ref(pf_cu_gemm_args g, int64_t mtiles) {
    __shared__ float As[PF_GEMM_TILE][PF_GEMM_TILE + 1];
    __shared__ float Bs[PF_GEMM_TILE][PF_GEMM_TILE + 1]; /* Bs[k][n] */
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int64_t n = (int64_t)blockIdx.x * PF_GEMM_TILE + tx;
    for (int64_t bt = blockIdx.z; bt < g.Bt; bt += gridDim.z) {
        const int64_t ldc = g.ldc > 0 ? g.ldc : g.N;
        const int64_t a_off = bt * g.M * g.K, b_off = (g.Bb == 1 ? 0 : bt) * g.N * g.K, c_off = bt * g.M * ldc;
        for (int64_t mt = blockIdx.y; mt < mtiles; mt += gridDim.y) {
            const int64_t m = mt * PF_GEMM_TILE + ty;
            float acc = 0.0f;
            for (int64_t k0 = 0; k0 < g.K; k0 += PF_GEMM_TILE) {
                /* A tile: row m, column k0 + tx */
                const int64_t ka = k0 + tx;
                As[ty][tx] = (m < g.M && ka < g.K) ? pf_cu_ld(g.a, g.a_dtype, a_off + m * g.K + ka) : 0.0f;
                /* B' tile: row k0 + ty, column n0 + tx */
                const int64_t kb = k0 + ty;
                float bv = 0.0f;
                if (n < g.N && kb < g.K)
                    bv = pf_cu_ld(g.b, g.b_dtype, b_off + (g.trans_b ? n * g.K + kb : kb * g.N + n));
                Bs[ty][tx] = bv;
                __syncthreads();
#pragma unroll
                for (int kk = 0; kk < PF_GEMM_TILE; kk++) acc += As[ty][kk] * Bs[kk][tx];
                __syncthreads();
            }
            if (m < g.M && n < g.N) {
                float v = acc * g.alpha;
                if (g.bias) v = __fadd_rn(v, pf_cu_ld(g.bias, g.bias_dtype, n));
                if (g.beta != 0.0f) v = __fadd_rn(v, g.beta * pf_cu_ld(g.c, g.c_dtype, c_off + m * ldc + n));
                pf_cu_st(g.c, g.c_dtype, c_off + m * ldc + n, v);
            }
        }
    }
}

extern "C" cudaError_t pf_cu_gemm_ref(const pf_cu_gemm_args *g, cudaStream_t stream) {
    if (g->Bt <= 0 || g->M <= 0 || g->N <= 0) return cudaSuccess;
    const int64_t ntiles = (g->N + PF_GEMM_TILE - 1) / PF_GEMM_TILE, mtiles = (g->M + PF_GEMM_TILE - 1) / PF_GEMM_TILE;
    if (ntiles > 0x7fffffff) return cudaErrorInvalidValue;
    dim3 grid((unsigned)ntiles, (unsigned)(mtiles < 65535 ? mtiles : 65535), (unsigned)(g->Bt < 65535 ? g->Bt : 65535));
    dim3 block(PF_GEMM_TILE, PF_GEMM_TILE);
    pf_k_gemm_ref<<<grid, block, 0, stream>>>(*g, mtiles);
    return cudaGetLastError();
}
