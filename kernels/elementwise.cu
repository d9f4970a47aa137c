/*
 * Element-wise ops: add/sub/mul with broadcasting, adaLN modulate, gated
 * residual add, scale and the unary activations.
 *
 * One thread per output element in a grid-stride loop, or, when the output's
 * last dimension is long enough (PF_CU_ROWS_MIN), a block per row with the row's
 * multi-index computed once (pf_cuda_common.cuh). The output is contiguous and its
 * shape is the iteration space; each input is a pf_cu_view (any strides, stride 0 on
 * broadcast dims, or dense: offset = index). Results
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

__device__ __forceinline__ float pf_cu_binary_op(int op, float x, float y) {
    return op == PF_CU_BIN_ADD ? __fadd_rn(x, y) : op == PF_CU_BIN_SUB ? __fsub_rn(x, y) : __fmul_rn(x, y);
}

/* x * (1 + scale) + shift (a = shift, b = scale), or x + gate * y (a = gate, b = y) */
__device__ __forceinline__ float pf_cu_ternary_op(int op, float xv, float a, float b) {
    return op == PF_CU_TER_MODULATE ? __fadd_rn(__fmul_rn(xv, __fadd_rn(1.0f, b)), a) : __fadd_rn(xv, __fmul_rn(a, b));
}

__device__ __forceinline__ int64_t pf_cu_src_offset(const pf_cu_view &v, const int64_t *idx, int64_t i) {
    return v.dense ? i : pf_cu_view_offset(v, idx);
}

__global__ void pf_k_binary(int op, pf_cu_out dst, pf_cu_view a, pf_cu_view b, int64_t n) {
    PF_CU_GRID_STRIDE(i, n) {
        int64_t idx[PF_CU_DIMS];
        if (!a.dense || !b.dense) pf_cu_unravel(i, dst.ne, idx);
        float x = pf_cu_ld(a.data, a.dtype, pf_cu_src_offset(a, idx, i));
        float y = pf_cu_ld(b.data, b.dtype, pf_cu_src_offset(b, idx, i));
        pf_cu_st(dst.data, dst.dtype, i, pf_cu_binary_op(op, x, y));
    }
}

static int64_t pf_cu_numel(const int64_t *ne) {
    int64_t n = 1;
    for (int d = 0; d < PF_CU_DIMS; d++) n *= ne[d];
    return n;
}

__global__ void pf_k_binary_rows(int op, pf_cu_out dst, pf_cu_view a, pf_cu_view b, int64_t rows, int64_t L) {
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        int64_t idx[PF_CU_DIMS];
        pf_cu_unravel(r * L, dst.ne, idx);
        const int64_t ao = pf_cu_row_start(a, idx, r, L), bo = pf_cu_row_start(b, idx, r, L);
        const int64_t as = pf_cu_row_step(a), bs = pf_cu_row_step(b);
        for (int64_t c = threadIdx.x; c < L; c += blockDim.x) {
            const float x = pf_cu_ld(a.data, a.dtype, ao + c * as), y = pf_cu_ld(b.data, b.dtype, bo + c * bs);
            pf_cu_st(dst.data, dst.dtype, r * L + c, pf_cu_binary_op(op, x, y));
        }
    }
}

extern "C" cudaError_t pf_cu_binary(int op, const pf_cu_out *dst, const pf_cu_view *a, const pf_cu_view *b,
                                    cudaStream_t stream) {
    int64_t n = pf_cu_numel(dst->ne), L = dst->ne[PF_CU_DIMS - 1];
    if (n <= 0) return cudaSuccess;
    if (L >= PF_CU_ROWS_MIN && !(a->dense && b->dense))
        pf_k_binary_rows<<<pf_cu_row_blocks_n(n / L), pf_cu_row_threads(L), 0, stream>>>(op, *dst, *a, *b, n / L, L);
    else
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
        pf_cu_st(dst.data, dst.dtype, i, pf_cu_ternary_op(op, xv, a, b));
    }
}

__global__ void pf_k_ternary_rows(int op, pf_cu_out dst, pf_cu_view x, pf_cu_view s1, pf_cu_view s2, int64_t rows,
                                  int64_t L) {
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        int64_t idx[PF_CU_DIMS];
        pf_cu_unravel(r * L, dst.ne, idx);
        const int64_t xo = pf_cu_row_start(x, idx, r, L), o1 = pf_cu_row_start(s1, idx, r, L),
                      o2 = pf_cu_row_start(s2, idx, r, L);
        const int64_t xs = pf_cu_row_step(x), t1 = pf_cu_row_step(s1), t2 = pf_cu_row_step(s2);
        for (int64_t c = threadIdx.x; c < L; c += blockDim.x) {
            const float xv = pf_cu_ld(x.data, x.dtype, xo + c * xs), a = pf_cu_ld(s1.data, s1.dtype, o1 + c * t1),
                        b = pf_cu_ld(s2.data, s2.dtype, o2 + c * t2);
            pf_cu_st(dst.data, dst.dtype, r * L + c, pf_cu_ternary_op(op, xv, a, b));
        }
    }
}

extern "C" cudaError_t pf_cu_ternary(int op, const pf_cu_out *dst, const pf_cu_view *x, const pf_cu_view *s1,
                                     const pf_cu_view *s2, cudaStream_t stream) {
    int64_t n = pf_cu_numel(dst->ne), L = dst->ne[PF_CU_DIMS - 1];
    if (n <= 0) return cudaSuccess;
    if (L >= PF_CU_ROWS_MIN && !(x->dense && s1->dense && s2->dense))
        pf_k_ternary_rows<<<pf_cu_row_blocks_n(n / L), pf_cu_row_threads(L), 0, stream>>>(op, *dst, *x, *s1, *s2,
                                                                                           n / L, L);
    else
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
