/*
 * Element-wise ops: add/sub/mul with broadcasting, adaLN modulate, gated
 * residual add, scale and the unary activations.
 *
 * One thread per output element in a grid-stride loop. The output is
 * contiguous and its shape is the iteration space; each input is a pf_cu_view
 * (any strides, stride 0 on broadcast dims, or dense: offset = index). Results
 * are computed in f32 with the same operation order and rounding as the CPU
 * reference: __fmul_rn/__fadd_rn keep nvcc from contracting a*b+c into an FMA,
 * so f32 outputs match the CPU bit for bit (PyTorch rounds each op too).
 *
 * In place: the planner may give the output the memory of src0 (and a graph may
 * write into an input with pf_output_into). Element i is read and written by the
 * same thread, so an input that aliases the output element for element is safe;
 * the host routes any other overlap through a temporary.
 */
#include "pf_cuda_common.cuh"

__device__ __forceinline__ int64_t pf_cu_src_offset(const pf_cu_view &v, const int64_t *idx, int64_t i) {
    return v.dense ? i : pf_cu_view_offset(v, idx);
}

__global__ void pf_k_binary(int op, pf_cu_out dst, pf_cu_view a, pf_cu_view b, int64_t n) {
    PF_CU_GRID_STRIDE(i, n) {
        int64_t idx[PF_CU_DIMS];
        if (!a.dense || !b.dense) pf_cu_unravel(i, dst.ne, idx);
        float x = pf_cu_ld(a.data, a.dtype, pf_cu_src_offset(a, idx, i));
        float y = pf_cu_ld(b.data, b.dtype, pf_cu_src_offset(b, idx, i));
        float r = op == PF_CU_BIN_ADD ? __fadd_rn(x, y) : op == PF_CU_BIN_SUB ? __fsub_rn(x, y) : __fmul_rn(x, y);
        pf_cu_st(dst.data, dst.dtype, i, r);
    }
}

static int64_t pf_cu_numel(const int64_t *ne) {
    int64_t n = 1;
    for (int d = 0; d < PF_CU_DIMS; d++) n *= ne[d];
    return n;
}

extern "C" cudaError_t pf_cu_binary(int op, const pf_cu_out *dst, const pf_cu_view *a, const pf_cu_view *b,
                                    cudaStream_t stream) {
    int64_t n = pf_cu_numel(dst->ne);
    if (n <= 0) return cudaSuccess;
    pf_k_binary<<<pf_cu_blocks(n, PF_CU_THREADS), PF_CU_THREADS, 0, stream>>>(op, *dst, *a, *b, n);
    return cudaGetLastError();
}

__global__ void pf_k_ternary(int op, pf_cu_out dst, pf_cu_view x, pf_cu_view s1, pf_cu_view s2, int64_t n) {
    PF_CU_GRID_STRIDE(i, n) {
        int64_t idx[PF_CU_DIMS];
        if (!x.dense || !s1.dense || !s2.dense) pf_cu_unravel(i, dst.ne, idx);
        float xv = pf_cu_ld(x.data, x.dtype, pf_cu_src_offset(x, idx, i));
        float a = pf_cu_ld(s1.data, s1.dtype, pf_cu_src_offset(s1, idx, i));
        float b = pf_cu_ld(s2.data, s2.dtype, pf_cu_src_offset(s2, idx, i));
        float r;
        if (op == PF_CU_TER_MODULATE) /* x * (1 + scale) + shift; a = shift, b = scale */
            r = __fadd_rn(__fmul_rn(xv, __fadd_rn(1.0f, b)), a);
        else /* x + gate * y; a = gate, b = y */
            r = __fadd_rn(xv, __fmul_rn(a, b));
        pf_cu_st(dst.data, dst.dtype, i, r);
    }
}

extern "C" cudaError_t pf_cu_ternary(int op, const pf_cu_out *dst, const pf_cu_view *x, const pf_cu_view *s1,
                                     const pf_cu_view *s2, cudaStream_t stream) {
    int64_t n = pf_cu_numel(dst->ne);
    if (n <= 0) return cudaSuccess;
    pf_k_ternary<<<pf_cu_blocks(n, PF_CU_THREADS), PF_CU_THREADS, 0, stream>>>(op, *dst, *x, *s1, *s2, n);
    return cudaGetLastError();
}

__global__ void pf_k_scale(void *dst, int ddt, const void *src, int sdt, int64_t n, float mul, float add) {
    PF_CU_GRID_STRIDE(i, n) { pf_cu_st(dst, ddt, i, __fadd_rn(__fmul_rn(pf_cu_ld(src, sdt, i), mul), add)); }
}

extern "C" cudaError_t pf_cu_scale(void *dst, int dst_dtype, const void *src, int src_dtype, int64_t n, float mul,
                                   float add, cudaStream_t stream) {
    if (n <= 0) return cudaSuccess;
    pf_k_scale<<<pf_cu_blocks(n, PF_CU_THREADS), PF_CU_THREADS, 0, stream>>>(dst, dst_dtype, src, src_dtype, n, mul,
                                                                             add);
    return cudaGetLastError();
}

/* The activations, written as in cpu_ops.h (accurate expf/tanhf/erff, no fast math). */
__device__ __forceinline__ float pf_cu_unary_f(int fn, float x) {
    switch (fn) {
    case 0: /* PF_UNARY_SILU */ return x / (1.0f + expf(-x));
    case 1: /* PF_UNARY_GELU_TANH; 0.79788456 = sqrt(2/pi) */
        return 0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
    case 2: /* PF_UNARY_GELU_ERF */ return 0.5f * x * (1.0f + erff(x * 0.7071067811865476f));
    case 3: /* PF_UNARY_QUICK_GELU */ return x / (1.0f + expf(-1.702f * x));
    default: return x;
    }
}

__global__ void pf_k_unary(void *dst, int ddt, const void *src, int sdt, int64_t n, int fn) {
    PF_CU_GRID_STRIDE(i, n) { pf_cu_st(dst, ddt, i, pf_cu_unary_f(fn, pf_cu_ld(src, sdt, i))); }
}

extern "C" cudaError_t pf_cu_unary(void *dst, int dst_dtype, const void *src, int src_dtype, int64_t n, int fn,
                                   cudaStream_t stream) {
    if (n <= 0) return cudaSuccess;
    pf_k_unary<<<pf_cu_blocks(n, PF_CU_THREADS), PF_CU_THREADS, 0, stream>>>(dst, dst_dtype, src, src_dtype, n, fn);
    return cudaGetLastError();
}
