/*
 * CPU backend internals: kernel table and helpers.
 *
 * Every op has a naive reference kernel (cpu_ref_*.c: plain loops, f32 math
 * with double accumulation, obviously correct) and may have a fast kernel
 * (cpu_fast_*.c: threaded, BLAS, vectorised). Reference mode runs only the
 * former; conformance tests compare every other path against it.
 */
#ifndef PF_CPU_OPS_H
#define PF_CPU_OPS_H

#include "pf_graph_impl.h"
#include "pf_threads.h"

#include <math.h>

typedef struct pf_cpu_ctx {
    pf_threadpool *pool; /* NULL: single-threaded */
    int n_threads;
    bool reference;
    /* scratch memory grown on demand, one per thread slot plus a shared one */
    void *scratch;
    size_t scratch_size;
    /* fast kernels: one scratch area per pool thread (index = the `thread`
     * argument of pf_parallel_for), reserved before a parallel region ... */
    void **tscratch;
    size_t tscratch_size; /* bytes in each */
    int tscratch_n;
    /* ... and named shared areas (PF_CPU_SLOT_*) so that nested helpers
     * (an op kernel calling the GEMM) never hand out the same memory twice */
    void *slot[4];
    size_t slot_size[4];
    int gemm_mode; /* PF_CPU_GEMM_* */
    /* conv3d: largest im2col tile in floats (0: the default); tests lower it to exercise tiling */
    int64_t conv_col_floats;
} pf_cpu_ctx;

/* Which GEMM the fast kernels use (pf_cpu_set_gemm, PF_CPU_GEMM). */
enum { PF_CPU_GEMM_AUTO = 0, PF_CPU_GEMM_BLAS, PF_CPU_GEMM_PORTABLE };

/* Shared scratch slots of the fast kernels. */
enum {
    PF_CPU_SLOT_GEMM_B = 0, /* packed B panel of the portable GEMM */
    PF_CPU_SLOT_GEMM_CVT,   /* f32 panels of bf16/f16 operands for BLAS */
    PF_CPU_SLOT_OP,         /* the op kernel's own buffer (im2col columns, f32 output tile) */
    PF_CPU_SLOT_OP2,        /* a second one */
};

typedef pf_status (*pf_cpu_kernel)(pf_cpu_ctx *ctx, pf_tensor *dst);

typedef struct pf_cpu_kernel_entry {
    pf_cpu_kernel ref;
    pf_cpu_kernel fast; /* NULL: the reference kernel is used */
} pf_cpu_kernel_entry;

/* Reference kernels (cpu_ref_*.c). */
pf_status pf_cpu_ref_cpy(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_ref_concat(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_ref_binary(pf_cpu_ctx *c, pf_tensor *d); /* add, sub, mul */
pf_status pf_cpu_ref_scale(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_ref_unary(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_ref_modulate(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_ref_gated_add(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_ref_embedding(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_ref_linear(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_ref_matmul(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_ref_layer_norm(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_ref_rms_norm(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_ref_group_norm(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_ref_softmax(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_ref_attention(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_ref_rope(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_ref_conv3d(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_ref_depth_to_space(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_ref_upsample2x(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_ref_downsample2x(pf_cpu_ctx *c, pf_tensor *d);

/* Fast kernels (cpu_fast_*.c): threaded, BLAS, vectorised. */
pf_status pf_cpu_fast_cpy(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_fast_concat(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_fast_binary(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_fast_scale(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_fast_unary(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_fast_modulate(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_fast_gated_add(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_fast_embedding(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_fast_linear(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_fast_matmul(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_fast_layer_norm(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_fast_rms_norm(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_fast_group_norm(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_fast_softmax(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_fast_attention(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_fast_rope(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_fast_conv3d(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_fast_depth_to_space(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_fast_upsample2x(pf_cpu_ctx *c, pf_tensor *d);
pf_status pf_cpu_fast_downsample2x(pf_cpu_ctx *c, pf_tensor *d);

/* Fast kernels table, filled by cpu_fast.c (entries may be NULL). */
extern const pf_cpu_kernel pf_cpu_fast_kernels[PF_OP_COUNT];

/* ---- helpers ---- */

static inline void *pf_cpu_data(const pf_tensor *t) {
    pf_tensor *r = pf_root((pf_tensor *)t);
    return (char *)r->buffer->host + pf_data_offset(t);
}

/* Load / store element i (linear index into the tensor's own memory) as f32. */
static inline float pf_cpu_ldf(const void *p, pf_dtype dt, int64_t i) {
    switch (dt) {
    case PF_F32: return ((const float *)p)[i];
    case PF_BF16: return pf_bf16_to_f32(((const uint16_t *)p)[i]);
    case PF_F16: return pf_f16_to_f32(((const uint16_t *)p)[i]);
    case PF_F64: return (float)((const double *)p)[i];
    case PF_I32: return (float)((const int32_t *)p)[i];
    case PF_I64: return (float)((const int64_t *)p)[i];
    case PF_U8:
    case PF_BOOL: return (float)((const uint8_t *)p)[i];
    default: return 0.0f;
    }
}

static inline void pf_cpu_stf(void *p, pf_dtype dt, int64_t i, float v) {
    switch (dt) {
    case PF_F32: ((float *)p)[i] = v; break;
    case PF_BF16: ((uint16_t *)p)[i] = pf_f32_to_bf16(v); break;
    case PF_F16: ((uint16_t *)p)[i] = pf_f32_to_f16(v); break;
    case PF_F64: ((double *)p)[i] = v; break;
    case PF_I32: ((int32_t *)p)[i] = (int32_t)v; break;
    case PF_I64: ((int64_t *)p)[i] = (int64_t)v; break;
    case PF_U8: ((uint8_t *)p)[i] = (uint8_t)v; break;
    case PF_BOOL: ((uint8_t *)p)[i] = v != 0.0f; break;
    default: break;
    }
}

/* Element offset of multi-index idx[0..ndim) in a strided tensor. */
static inline int64_t pf_cpu_offset(const pf_tensor *t, const int64_t *idx) {
    int64_t o = 0;
    for (int i = 0; i < t->ndim; i++) o += (t->ne[i] == 1 ? 0 : idx[i]) * t->st[i];
    return o;
}

/* Advance a multi-index over shape ne (last dim fastest). */
static inline void pf_cpu_next_index(int64_t *idx, const int64_t *ne, int ndim) {
    for (int i = ndim - 1; i >= 0; i--) {
        if (++idx[i] < ne[i]) return;
        idx[i] = 0;
    }
}

static inline float pf_cpu_silu(float x) { return x / (1.0f + expf(-x)); }
static inline float pf_cpu_gelu_tanh(float x) {
    const float k = 0.7978845608028654f; /* sqrt(2/pi) */
    return 0.5f * x * (1.0f + tanhf(k * (x + 0.044715f * x * x * x)));
}
static inline float pf_cpu_gelu_erf(float x) { return 0.5f * x * (1.0f + erff(x * 0.7071067811865476f)); }
static inline float pf_cpu_quick_gelu(float x) { return x / (1.0f + expf(-1.702f * x)); }

static inline float pf_cpu_unary_f(int f, float x) {
    switch (f) {
    case PF_UNARY_SILU: return pf_cpu_silu(x);
    case PF_UNARY_GELU_TANH: return pf_cpu_gelu_tanh(x);
    case PF_UNARY_GELU_ERF: return pf_cpu_gelu_erf(x);
    case PF_UNARY_QUICK_GELU: return pf_cpu_quick_gelu(x);
    default: return x;
    }
}

/* Attention mask predicate shared by every CPU kernel. */
static inline bool pf_cpu_mask_allows(int mode, int64_t i, int64_t j, const int32_t *qm, const int32_t *km) {
    switch (mode) {
    case PF_MASK_CAUSAL: return j <= i;
    case PF_MASK_FRAME: return ((qm[i] & 1) == (km[j] & 1)) && (qm[i] >> 1) >= (km[j] >> 1);
    case PF_MASK_KEY: return (km[j] & 1) != 0;
    default: return true;
    }
}

/* Free a context's pool and scratch memory (the context itself stays). */
void pf_cpu_ctx_release(pf_cpu_ctx *c);

/* Scratch memory of at least n bytes (per ctx; not thread-safe across kernels). */
void *pf_cpu_scratch(pf_cpu_ctx *c, size_t n);
/* Shared scratch slot (PF_CPU_SLOT_*) of at least n bytes, 64-byte aligned; NULL (error set) on OOM.
 * Contents are not kept when it grows. */
void *pf_cpu_slot(pf_cpu_ctx *c, int slot, size_t n);
/* Make every pool thread's scratch area at least n bytes. Call outside parallel regions. */
pf_status pf_cpu_thread_scratch_reserve(pf_cpu_ctx *c, size_t n);
/* The calling pool thread's scratch area (after pf_cpu_thread_scratch_reserve). */
static inline void *pf_cpu_thread_scratch(pf_cpu_ctx *c, int thread) { return c->tscratch[thread]; }

#endif /* PF_CPU_OPS_H */
