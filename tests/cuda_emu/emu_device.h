/* Force-included into each kernel file: CUDA device-side builtins on the host.
 * Blocks run one after another; the threads of a block run concurrently as
 * std::threads with a std::barrier for __syncthreads and per-warp barriers for
 * shuffles, so barrier misuse deadlocks and races show up (TSan). */
#pragma once
#include "cuda_runtime_api.h"
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <math.h>
#include <tuple>
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __restrict__ __restrict
#define __shared__ static
struct dim3 {
    unsigned x, y, z;
    dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {}
};
extern thread_local dim3 threadIdx, blockIdx, blockDim, gridDim;
void __syncthreads();
void __syncwarp(unsigned mask = 0xffffffffu);
float emu_shfl_xor(float v, int o);
void *emu_dyn_smem();
/* Warp- and block-collective instructions of the tensor-core kernels (attention_mma.cu),
 * emulated by exchanging every lane's operands through the warp's barrier:
 * ldmatrix.sync.aligned.m8n8.x4[.trans].b16, mma.sync.aligned.m16n8k16.row.col.f32.bf16,
 * __syncthreads_or (and _and through it). Fragment layouts as in the PTX ISA (attention_mma.cu's header). */
void emu_ldmatrix_x4(uint32_t r[4], const void *row_addr, bool trans);
void emu_mma_bf16_16816(float c[4], const uint32_t a[4], uint32_t b0, uint32_t b1);
int __syncthreads_or(int pred);
static inline int atomicMax(int *p, int v) {
    int old = __atomic_load_n(p, __ATOMIC_SEQ_CST);
    while (old < v && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    }
    return old;
}
static inline int atomicMin(int *p, int v) {
    int old = __atomic_load_n(p, __ATOMIC_SEQ_CST);
    while (old > v && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    }
    return old;
}
static inline int atomicOr(int *p, int v) { return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST); }
static inline unsigned atomicOr(unsigned *p, unsigned v) { return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST); }
/* warp votes over all 32 lanes (the kernels only vote with full masks) */
int emu_warp_vote(int pred, bool all);
static inline int __any_sync(unsigned m, int pred) {
    (void)m;
    return emu_warp_vote(pred, false);
}
static inline int __all_sync(unsigned m, int pred) {
    (void)m;
    return emu_warp_vote(pred, true);
}
static inline int __ffs(int x) { return __builtin_ffs(x); }
/* true for every thread iff pred holds in every thread: the complement of an or */
static inline int __syncthreads_and(int pred) { return !__syncthreads_or(!pred); }
#define __align__(n) __attribute__((aligned(n)))
static inline float __shfl_xor_sync(unsigned m, float v, int o) {
    (void)m;
    return emu_shfl_xor(v, o);
}
static inline uint32_t __float_as_uint(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static inline float __uint_as_float(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static inline float __fadd_rn(float a, float b) { return a + b; }
static inline float __fsub_rn(float a, float b) { return a - b; }
static inline float __fmul_rn(float a, float b) { return a * b; }
static inline unsigned long long atomicCAS(unsigned long long *p, unsigned long long cmp, unsigned long long val) {
    __atomic_compare_exchange_n(p, &cmp, val, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return cmp;
}
void emu_launch_impl(dim3 grid, dim3 block, size_t smem, cudaStream_t s, std::function<void()> body);
template <class K, class... A> void emu_launch(dim3 grid, dim3 block, size_t smem, cudaStream_t s, K k, A... args) {
    auto t = std::make_tuple(args...); /* arguments evaluated and copied at launch, as CUDA does */
    emu_launch_impl(grid, block, smem, s, [k, t]() { std::apply(k, t); });
}
