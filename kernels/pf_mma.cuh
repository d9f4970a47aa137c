/*
 * Tensor-core instruction wrappers shared by the mma.sync kernels (attention_mma.cu,
 * conv3d_igemm.cu): cp.async (16 and 4 bytes, zero-fill), ldmatrix.x4 (plain and .trans)
 * from 32-bit shared addresses, mma.sync.m16n8k16 bf16 -> f32, and bf16 pair packing.
 * Fragment layouts (PTX ISA), g = lane / 4, t = lane % 4:
 *   A 16x16 (row): a0 (g, 2t..2t+1)  a1 (g+8, 2t..2t+1)  a2 (g, 2t+8..2t+9)  a3 (g+8, 2t+8..2t+9)
 *   B 16x8 (col):  b0 (k 2t..2t+1, n g)  b1 (k 2t+8..2t+9, n g)
 *   C 16x8 f32:    c0, c1 (g, 2t..2t+1)  c2, c3 (g+8, 2t..2t+1)
 * ldmatrix.m8n8.x4: lanes 8m..8m+7 give the row addresses of 8x8 matrix m; register m of
 * lane L gets (row L/4, cols 2(L%4)..+1) of matrix m, or with .trans (rows 2(L%4)..+1,
 * col L/4), i.e. a B fragment of a matrix stored [k][n].
 * The host emulation (tests/cuda_emu) compiles kernels without __CUDACC__, where inline PTX
 * cannot run: there the wrappers call the emulator's warp-collective versions.
 */
#pragma once
#include "pf_cuda_common.cuh"

#if defined(__CUDACC__)
#include <cuda_bf16.h>
#endif

#if defined(__CUDACC__)
__device__ __forceinline__ uint32_t pf_mma_smem_addr(const void *p) { return (uint32_t)__cvta_generic_to_shared(p); }

/* A shared-memory address for ldmatrix: 32 bits, so the key loop's addresses are one
 * register each (base + compile-time byte offsets) rather than 64-bit generic pointers. */
typedef uint32_t pf_mma_sptr;
__device__ __forceinline__ pf_mma_sptr pf_mma_sbase(const void *p) { return pf_mma_smem_addr(p); }

/* 16 bytes global -> shared; src_bytes 0 zero-fills the destination (reads nothing). */
__device__ __forceinline__ void pf_mma_cp16(void *dst, const void *src, int src_bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(pf_mma_smem_addr(dst)), "l"(src),
                 "r"(src_bytes)
                 : "memory");
}

/* 4 bytes global -> shared (the key metas of a tile); src_bytes 0 zero-fills. */
__device__ __forceinline__ void pf_mma_cp4(void *dst, const void *src, int src_bytes) {
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(pf_mma_smem_addr(dst)), "l"(src),
                 "r"(src_bytes)
                 : "memory");
}

__device__ __forceinline__ void pf_mma_cp_commit(void) { asm volatile("cp.async.commit_group;\n" ::: "memory"); }

/* every committed group is complete (this thread's copies) */
__device__ __forceinline__ void pf_mma_cp_wait_all(void) { asm volatile("cp.async.wait_group 0;\n" ::: "memory"); }

/* every committed group but the newest is complete (this thread's copies) */
__device__ __forceinline__ void pf_mma_cp_wait_prior(void) { asm volatile("cp.async.wait_group 1;\n" ::: "memory"); }

__device__ __forceinline__ void pf_mma_ldsm_x4(uint32_t r[4], pf_mma_sptr p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(p));
}

__device__ __forceinline__ void pf_mma_ldsm_x4_trans(uint32_t r[4], pf_mma_sptr p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(p));
}

/* c += a b for one m16n8k16 tile (layouts in the header comment). */
__device__ __forceinline__ void pf_mma_bf16(float c[4], const uint32_t a[4], uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
                 "{%0, %1, %2, %3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/* Two f32 as a bf16 pair for an A fragment register (lo in the low half), nearest even. */
__device__ __forceinline__ uint32_t pf_mma_pack_bf16(float lo, float hi) {
    return (uint32_t)__bfloat16_as_ushort(__float2bfloat16_rn(lo)) |
           ((uint32_t)__bfloat16_as_ushort(__float2bfloat16_rn(hi)) << 16);
}
#else /* host emulation (tests/cuda_emu/emu_runtime.cpp) */
__device__ __forceinline__ void pf_mma_cp16(void *dst, const void *src, int src_bytes) {
    if (src_bytes)
        memcpy(dst, src, 16);
    else
        memset(dst, 0, 16);
}
__device__ __forceinline__ void pf_mma_cp4(void *dst, const void *src, int src_bytes) {
    if (src_bytes)
        memcpy(dst, src, 4);
    else
        memset(dst, 0, 4);
}
__device__ __forceinline__ void pf_mma_cp_commit(void) {}
__device__ __forceinline__ void pf_mma_cp_wait_prior(void) {}
__device__ __forceinline__ void pf_mma_cp_wait_all(void) {}
typedef const char *pf_mma_sptr; /* a byte pointer: base + byte offsets as on the device */
__device__ __forceinline__ pf_mma_sptr pf_mma_sbase(const void *p) { return (const char *)p; }
__device__ __forceinline__ void pf_mma_ldsm_x4(uint32_t r[4], pf_mma_sptr p) { emu_ldmatrix_x4(r, p, false); }
__device__ __forceinline__ void pf_mma_ldsm_x4_trans(uint32_t r[4], pf_mma_sptr p) { emu_ldmatrix_x4(r, p, true); }
__device__ __forceinline__ void pf_mma_bf16(float c[4], const uint32_t a[4], uint32_t b0, uint32_t b1) {
    emu_mma_bf16_16816(c, a, b0, b1);
}
__device__ __forceinline__ uint32_t pf_mma_pack_bf16(float lo, float hi) {
    return (uint32_t)pf_cu_f32_to_bf16(lo) | ((uint32_t)pf_cu_f32_to_bf16(hi) << 16);
}
#endif
