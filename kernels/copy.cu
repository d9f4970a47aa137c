/*
 * Copies: dtype conversion, strided copy/cast (PF_OP_CPY), concatenation parts
 * and embedding lookup.
 *
 * All of these move memory and do almost no arithmetic, so the design is one
 * thread per output element in a grid-stride loop; the index arithmetic of a
 * strided source is skipped when the host marks the view dense. Casts follow the
 * CPU reference (backends/cpu/cpu_ref_elementwise.c): through f32 when either
 * side is a float type, integer to integer exactly through int64.
 */
#include "pf_cuda_common.cuh"

/* dst[i] = convert(src[i]); contiguous. */
__global__ void pf_k_convert(void *__restrict__ dst, int ddt, const void *__restrict__ src, int sdt, int64_t n) {
    PF_CU_GRID_STRIDE(i, n) { pf_cu_st(dst, ddt, i, pf_cu_ld(src, sdt, i)); }
}

extern "C" cudaError_t pf_cu_convert(void *dst, int dst_dtype, const void *src, int src_dtype, int64_t n,
                                     cudaStream_t stream) {
    if (n <= 0) return cudaSuccess;
    pf_k_convert<<<pf_cu_blocks(n, PF_CU_THREADS), PF_CU_THREADS, 0, stream>>>(dst, dst_dtype, src, src_dtype, n);
    return cudaGetLastError();
}

/* dst (contiguous, iteration space dst.ne) = convert(src at its strides). */
__global__ void pf_k_cpy(pf_cu_out dst, pf_cu_view src, int64_t n) {
    const bool flt = pf_cu_is_float(src.dtype) || pf_cu_is_float(dst.dtype);
    PF_CU_GRID_STRIDE(i, n) {
        int64_t o = i;
        if (!src.dense) {
            int64_t idx[PF_CU_DIMS];
            pf_cu_unravel(i, dst.ne, idx);
            o = pf_cu_view_offset(src, idx);
        }
        if (flt)
            pf_cu_st(dst.data, dst.dtype, i, pf_cu_ld(src.data, src.dtype, o));
        else
            pf_cu_st_i64(dst.data, dst.dtype, i, pf_cu_ld_i64(src.data, src.dtype, o));
    }
}

static int64_t pf_cu_numel(const int64_t *ne) {
    int64_t n = 1;
    for (int d = 0; d < PF_CU_DIMS; d++) n *= ne[d];
    return n;
}

/* pf_k_cpy by rows (PF_CU_ROWS_MIN): the row's source offset computed once. */
__global__ void pf_k_cpy_rows(pf_cu_out dst, pf_cu_view src, int64_t rows, int64_t L) {
    const bool flt = pf_cu_is_float(src.dtype) || pf_cu_is_float(dst.dtype);
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        int64_t idx[PF_CU_DIMS];
        pf_cu_unravel(r * L, dst.ne, idx);
        const int64_t so = pf_cu_row_start(src, idx, r, L), ss = pf_cu_row_step(src);
        for (int64_t c = threadIdx.x; c < L; c += blockDim.x) {
            if (flt)
                pf_cu_st(dst.data, dst.dtype, r * L + c, pf_cu_ld(src.data, src.dtype, so + c * ss));
            else
                pf_cu_st_i64(dst.data, dst.dtype, r * L + c, pf_cu_ld_i64(src.data, src.dtype, so + c * ss));
        }
    }
}

extern "C" cudaError_t pf_cu_cpy(const pf_cu_out *dst, const pf_cu_view *src, cudaStream_t stream) {
    int64_t n = pf_cu_numel(dst->ne), L = dst->ne[PF_CU_DIMS - 1];
    if (n <= 0) return cudaSuccess;
    if (L >= PF_CU_ROWS_MIN && !src->dense)
        pf_k_cpy_rows<<<pf_cu_row_blocks_n(n / L), pf_cu_row_threads(L), 0, stream>>>(*dst, *src, n / L, L);
    else
        pf_k_cpy<<<pf_cu_blocks(n, PF_CU_THREADS), PF_CU_THREADS, 0, stream>>>(*dst, *src, n);
    return cudaGetLastError();
}

/* Iterates over the source part; the destination index is the source index shifted by
 * `base` along `dim`. */
__global__ void pf_k_concat_part(pf_cu_out dst, pf_cu_view src, int dim, int64_t base, int es, int64_t n) {
    PF_CU_GRID_STRIDE(i, n) {
        int64_t idx[PF_CU_DIMS];
        pf_cu_unravel(i, src.ne, idx);
        int64_t so = src.dense ? i : pf_cu_view_offset(src, idx);
        int64_t dof = 0;
#pragma unroll
        for (int d = 0; d < PF_CU_DIMS; d++) dof = dof * dst.ne[d] + idx[d] + (d == dim ? base : 0);
        pf_cu_copy_elem(dst.data, dof, src.data, so, es);
    }
}

static int pf_cu_elem_size(int dt) {
    switch (dt) {
    case PF_CU_F32:
    case PF_CU_I32: return 4;
    case PF_CU_BF16:
    case PF_CU_F16: return 2;
    case PF_CU_I64:
    case PF_CU_F64: return 8;
    default: return 1;
    }
}

/* pf_k_concat_part by rows of the source (PF_CU_ROWS_MIN): along a row only the last index
 * moves, so source and destination both advance by their last-dimension steps. */
__global__ void pf_k_concat_part_rows(pf_cu_out dst, pf_cu_view src, int dim, int64_t base, int es, int64_t rows,
                                      int64_t L) {
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        int64_t idx[PF_CU_DIMS];
        pf_cu_unravel(r * L, src.ne, idx);
        const int64_t so = pf_cu_row_start(src, idx, r, L), ss = pf_cu_row_step(src);
        int64_t dof = 0;
#pragma unroll
        for (int d = 0; d < PF_CU_DIMS; d++) dof = dof * dst.ne[d] + idx[d] + (d == dim ? base : 0);
        for (int64_t c = threadIdx.x; c < L; c += blockDim.x)
            pf_cu_copy_elem(dst.data, dof + c, src.data, so + c * ss, es);
    }
}

extern "C" cudaError_t pf_cu_concat_part(const pf_cu_out *dst, const pf_cu_view *src, int dim, int64_t base,
                                         cudaStream_t stream) {
    int64_t n = pf_cu_numel(src->ne), L = src->ne[PF_CU_DIMS - 1];
    if (n <= 0) return cudaSuccess;
    const int es = pf_cu_elem_size(dst->dtype);
    if (L >= PF_CU_ROWS_MIN)
        pf_k_concat_part_rows<<<pf_cu_row_blocks_n(n / L), pf_cu_row_threads(L), 0, stream>>>(*dst, *src, dim, base,
                                                                                               es, n / L, L);
    else
        pf_k_concat_part<<<pf_cu_blocks(n, PF_CU_THREADS), PF_CU_THREADS, 0, stream>>>(*dst, *src, dim, base, es, n);
    return cudaGetLastError();
}

/* One thread per output element (id i, column d). */
__global__ void pf_k_embedding(void *__restrict__ out, const void *__restrict__ table, int es,
                               const void *__restrict__ ids, int ids_dt, int64_t n_ids, int64_t V, int64_t D,
                               int64_t *err, int64_t tag) {
    PF_CU_GRID_STRIDE(t, n_ids * D) {
        int64_t i = t / D, d = t % D;
        int64_t id = ids_dt == PF_CU_I32 ? (int64_t)((const int32_t *)ids)[i] : ((const int64_t *)ids)[i];
        if (id < 0 || id >= V) {
            /* zeros, and the first bad id goes to the error record (read at synchronize) */
            switch (es) {
            case 1: ((uint8_t *)out)[t] = 0; break;
            case 2: ((uint16_t *)out)[t] = 0; break;
            case 4: ((uint32_t *)out)[t] = 0; break;
            default: ((uint64_t *)out)[t] = 0; break;
            }
            if (err && d == 0 &&
                atomicCAS((unsigned long long *)err, (unsigned long long)PF_CU_ERR_NONE,
                          (unsigned long long)PF_CU_ERR_EMBEDDING_ID) == (unsigned long long)PF_CU_ERR_NONE) {
                err[1] = tag;
                err[2] = id;
                err[3] = V;
            }
            continue;
        }
        pf_cu_copy_elem(out, t, table, id * D + d, es);
    }
}

extern "C" cudaError_t pf_cu_embedding(void *out, const void *table, int elem_size, const void *ids, int ids_dtype,
                                       int64_t n_ids, int64_t V, int64_t D, int64_t *err, int64_t tag,
                                       cudaStream_t stream) {
    if (n_ids <= 0 || D <= 0) return cudaSuccess;
    pf_k_embedding<<<pf_cu_blocks(n_ids * D, PF_CU_THREADS), PF_CU_THREADS, 0, stream>>>(
        out, table, elem_size, ids, ids_dtype, n_ids, V, D, err, tag);
    return cudaGetLastError();
}

extern "C" cudaError_t pf_cu_probe(void) {
    cudaFuncAttributes attr;
    return cudaFuncGetAttributes(&attr, pf_k_convert);
}
