/*
 * Single-precision GEMM for the fast CPU kernels (linear, matmul, conv3d,
 * attention blocks).
 *
 * Operands are strided matrices in any float dtype (f32, bf16, f16); they are
 * converted to f32 while being packed (portable path) or panel by panel into
 * scratch (OpenBLAS path), never as a whole. C is always f32.
 *
 * The portable path is a Goto-style blocked GEMM: B is packed into NR-wide
 * column slivers of KC rows (shared by all threads), A into MR-tall row slivers
 * (per thread), and an MR x NR register-blocked micro-kernel (chosen per
 * instruction set, cpu_simd.h) runs over the tiles.
 */
#ifndef PF_CPU_GEMM_H
#define PF_CPU_GEMM_H

#include "cpu_ops.h"

/* Implicit B operand: write B(k0 .. k0+kc, j0 .. j0+n) packed as pf_cpu_pack_b does (nr-column
 * slivers, columns past n zero). Lets conv3d pack its im2col columns straight from the input. */
typedef void (*pf_cpu_pack_fn)(const void *ctx, int64_t k0, int64_t kc, int64_t j0, int64_t n, int nr, float *dst);

/* A matrix operand: X(r, c) = p[r * rs + c * cs] in dtype dt (f32, bf16 or f16), or, for B
 * only, produced by pack(pack_ctx, ...) (portable GEMM with more than PF_CPU_GEMM_SMALL_M rows). */
typedef struct pf_cpu_mat {
    const void *p;
    pf_dtype dt;
    int64_t rs, cs;
    pf_cpu_pack_fn pack;
    const void *pack_ctx;
} pf_cpu_mat;

/* Rows up to which pf_cpu_gemm streams B instead of packing it (every B element is used M times). */
#define PF_CPU_GEMM_SMALL_M 4

static inline pf_cpu_mat pf_cpu_mat_make(const void *p, pf_dtype dt, int64_t rs, int64_t cs) {
    pf_cpu_mat m = {p, dt, rs, cs, NULL, NULL};
    return m;
}

/* C[0:m, 0:n] = alpha * (packed A sliver [kc][mr]) x (packed B sliver [kc][nr]) + beta * C.
 * m <= mr, n <= nr; beta == 0 never reads C (it may hold garbage). */
typedef void (*pf_cpu_ukernel_fn)(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int m, int n,
                                  float alpha, float beta);

typedef struct pf_cpu_gemm_kernel {
    int mr, nr;
    pf_cpu_ukernel_fn run;
    const char *name;
} pf_cpu_gemm_kernel;

/* The micro-kernel for the current instruction set (pf_cpu_isa_get). */
const pf_cpu_gemm_kernel *pf_cpu_gemm_kernel_get(void);

/* Floats needed to pack an m x kc block of A (resp. kc x n of B) for kernel k. */
static inline size_t pf_cpu_pack_a_size(const pf_cpu_gemm_kernel *k, int64_t m, int64_t kc) {
    return (size_t)PF_CEIL_DIV(m, k->mr) * (size_t)k->mr * (size_t)kc;
}
static inline size_t pf_cpu_pack_b_size(const pf_cpu_gemm_kernel *k, int64_t kc, int64_t n) {
    return (size_t)PF_CEIL_DIV(n, k->nr) * (size_t)k->nr * (size_t)kc;
}

/* Pack A(i0 .. i0+m, k0 .. k0+kc) into mr-row slivers: dst[(s * kc + k) * mr + i]; rows past m are zero. */
void pf_cpu_pack_a(const pf_cpu_mat *A, int64_t i0, int64_t m, int64_t k0, int64_t kc, int mr, float *dst);
/* Pack B(k0 .. k0+kc, j0 .. j0+n) into nr-column slivers: dst[(s * kc + k) * nr + j]; columns past n are zero. */
void pf_cpu_pack_b(const pf_cpu_mat *B, int64_t k0, int64_t kc, int64_t j0, int64_t n, int nr, float *dst);

/* C[m x n] (row stride ldc) = alpha * Ap Bp + beta * C from operands packed with kernel k; one thread. */
void pf_cpu_gemm_packed(const pf_cpu_gemm_kernel *k, int64_t m, int64_t n, int64_t kc, const float *Ap,
                        const float *Bp, float *C, int64_t ldc, float alpha, float beta);

/* Threaded over the backend's pool: C[M x N] (f32, row stride ldc) = alpha * A[M x K] B[K x N] + beta * C.
 * beta == 0 never reads C. Must not be called from inside a pf_parallel_for. */
pf_status pf_cpu_gemm(pf_cpu_ctx *c, int64_t M, int64_t N, int64_t K, float alpha, const pf_cpu_mat *A,
                      const pf_cpu_mat *B, float beta, float *C, int64_t ldc);

/* Whether pf_cpu_gemm hands large products to OpenBLAS: built with it, and (mode auto) its
 * kernels are at least as wide as ours. OpenBLAS picks its kernels from the CPU model; on
 * virtual machines that hide the model it falls back to old SSE kernels (core "Prescott"),
 * several times slower than the portable GEMM (OPENBLAS_CORETYPE=SkylakeX fixes that). */
bool pf_cpu_gemm_uses_blas(const pf_cpu_ctx *c);
/* One line describing the GEMM in use. */
void pf_cpu_gemm_describe(const pf_cpu_ctx *c, char *buf, size_t n);

/* Convert n elements of a float dtype to f32 (vectorised for bf16). */
void pf_cpu_to_f32(float *dst, const void *src, pf_dtype dt, int64_t n);
/* Convert n f32 to a float dtype (round to nearest even for bf16 / f16). */
void pf_cpu_from_f32(void *dst, pf_dtype dt, const float *src, int64_t n);

#endif /* PF_CPU_GEMM_H */
