/*
 * CUDA backend internals shared by its host files:
 *   cuda_backend.c   device selection, info, buffers, transfers, graph execution
 *   cuda_alloc.c     caching device allocator
 *   cuda_ops.c       op table: support predicates and launch glue of the non-GEMM ops
 *   cuda_gemm.c      linear and matmul through cuBLASLt (reference kernel fallback)
 *   cuda_conv.c      conv3d: im2col + cuBLASLt GEMM, or the direct kernel
 *   cuda_graphexec.c capture of repeated graphs as CUDA graphs, replay, graph-owned scratch
 *   cuda_profile.c   PF_CUDA_PROFILE: timing events around each node, the per-node table
 * Kernels live in kernels/ (*.cu files) behind the C launchers of pf_cuda_kernels.h.
 *
 * Threading: a backend object (its stream, allocator and caches) is used by one
 * host thread at a time, like every pflow backend.
 */
#ifndef PF_CUDA_IMPL_H
#define PF_CUDA_IMPL_H

#include "pf_cuda.h"
#include "pf_cuda_kernels.h"
#include "pf_graph_impl.h"
#include "pf_profile.h"

#include <cublasLt.h>
#include <cuda_runtime_api.h>

/* ---------------------------------------------------------------- errors */

/* Record "CONTEXT: CALL failed: CUDA error N NAME (text)" and return PF_ERR_BACKEND
 * (PF_ERR_OOM for cudaErrorMemoryAllocation). */
pf_status pf_cuda_error(cudaError_t e, const char *call, const char *fmt, ...) PF_PRINTF(3, 4);
pf_status pf_cublas_error(cublasStatus_t s, const char *call, const char *fmt, ...) PF_PRINTF(3, 4);

/* Every CUDA runtime call goes through this: on failure, return a pf_status whose
 * message names the call and the context given (op, node, sizes). */
#define PF_CUDA_TRY(call, ...)                                                                                         \
    do {                                                                                                               \
        cudaError_t pf_cu_e_ = (call);                                                                                 \
        if (pf_cu_e_ != cudaSuccess) return pf_cuda_error(pf_cu_e_, #call, __VA_ARGS__);                               \
    } while (0)

#define PF_CUBLAS_TRY(call, ...)                                                                                       \
    do {                                                                                                               \
        cublasStatus_t pf_cb_s_ = (call);                                                                              \
        if (pf_cb_s_ != CUBLAS_STATUS_SUCCESS) return pf_cublas_error(pf_cb_s_, #call, __VA_ARGS__);                   \
    } while (0)

/* ---------------------------------------------------------------- allocator */

/* Sizes up to 32 MiB round up to one of 8 classes per power of two (at most 12.5 %
 * slack) with one free list per class; larger blocks round to 2 MiB and are reused
 * best-fit from a size-sorted list when they waste at most 1/8. */
#define PF_CUDA_SMALL_MAX ((size_t)32 << 20)
#define PF_CUDA_N_CLASSES 129
#define PF_CUDA_LARGE_ROUND ((size_t)2 << 20)

typedef struct pf_cuda_block {
    void *ptr;
    size_t size;      /* bytes reserved on the device (rounded) */
    size_t requested; /* bytes asked for */
    int cls;          /* size class, -1 for large blocks */
    /* the CUDA graph entry whose capture took it as scratch (cuda_graphexec.c), NULL when
     * free or owned by a buffer: a graph's block goes back to the allocator only when the
     * graph does, whatever a node's code releases (pf_cuda_release ignores it) */
    const void *owner;
    struct pf_cuda_block *next;
} pf_cuda_block;

typedef struct pf_cuda_allocator {
    cudaStream_t stream; /* all users of the memory run on it; synchronised before cudaFree */
    pf_cuda_block *small[PF_CUDA_N_CLASSES];
    pf_cuda_block **large; /* free large blocks, ascending size */
    int n_large, cap_large;
    size_t in_use, requested, cached, peak;
    unsigned long long n_malloc, n_free, n_hits;
    /* the stream is capturing a CUDA graph: an out-of-memory cudaMalloc fails at once
     * instead of emptying the cache (cudaFree and the stream synchronisation before it
     * are illegal during a capture); the capture then falls back to eager execution */
    bool capturing;
} pf_cuda_allocator;

/* Size class of a request and its rounded size (class -1: large). */
int pf_cuda_size_class(size_t size, size_t *rounded);
/* A device block of at least `size` bytes; `what` names the use in OOM messages. */
pf_status pf_cuda_alloc(pf_cuda_allocator *a, size_t size, const char *what, pf_cuda_block **out);
/* Give a block back to the cache. Safe while work that uses it is still queued on
 * the allocator's stream: later users are queued behind it. */
void pf_cuda_release(pf_cuda_allocator *a, pf_cuda_block *b);
/* cudaFree every cached block (after synchronising the stream). */
pf_status pf_cuda_trim(pf_cuda_allocator *a);
void pf_cuda_allocator_destroy(pf_cuda_allocator *a);

/* ---------------------------------------------------------------- context */

#define PF_CUDA_STAGING_BYTES ((size_t)4 << 20) /* per pinned staging buffer (two of them) */
#define PF_CUDA_PLAN_CACHE 256 /* GEMM plans kept: the DiT, the text encoders and the VAE's conv chunks together */

typedef struct pf_cuda_gemm_key {
    int32_t ab_type, d_type, bias_type; /* cudaDataType; bias_type -1: no bias */
    int32_t gelu;                       /* GELU (tanh) epilogue after the bias */
    int32_t transa;
    uint64_t m, n, k;
    int64_t lda, ldb, ldd;
    int32_t batch;
    int32_t beta_nz; /* C is read (beta != 0): D = alpha A B + beta C in place */
    int64_t stride_a, stride_b, stride_d;
    uint32_t align_a, align_b, align_d, align_bias;
} pf_cuda_gemm_key;

typedef struct pf_cuda_gemm_plan {
    pf_cuda_gemm_key key;
    bool valid; /* entry in use */
    bool lt_ok; /* cuBLASLt has an algorithm; else the reference kernel runs */
    cublasLtMatmulDesc_t desc;
    cublasLtMatrixLayout_t la, lb, ld;
    cublasLtMatmulAlgo_t algo;
    size_t workspace;
} pf_cuda_gemm_plan;

/* PF_CUDA_CONV: which conv3d path runs. */
typedef enum pf_cuda_conv_mode {
    PF_CUDA_CONV_AUTO = 0, /* GEMM where it pays (cuda_conv.c), else the direct kernel */
    PF_CUDA_CONV_DIRECT,   /* the direct kernel everywhere (what it cannot take is unsupported) */
    PF_CUDA_CONV_GEMM,     /* the GEMM path everywhere, narrow convs included (tests) */
    PF_CUDA_CONV_IMPLICIT, /* the implicit-GEMM kernel where it applies (bf16), else as auto */
} pf_cuda_conv_mode;

/* ---------------------------------------------------------------- CUDA graphs */

#define PF_CUDA_GRAPH_CACHE 16 /* graphs kept per backend (instantiated or known to fail), LRU */
#define PF_CUDA_GRAPH_SEEN 32  /* hashes of signatures seen once (ring) */

typedef struct pf_cuda_graph_entry pf_cuda_graph_entry; /* cuda_graphexec.c */

typedef struct pf_cuda_graphs {
    bool enabled; /* PF_CUDA_GRAPHS is not 0, PF_CUDA_SYNC and PF_CUDA_PROFILE are not set */
    pf_cuda_graph_entry *cache[PF_CUDA_GRAPH_CACHE];
    uint64_t seen[PF_CUDA_GRAPH_SEEN];
    int seen_next;
    uint64_t clock;
    unsigned char *sig; /* this call's signature (buffer reused across calls) */
    size_t sig_len, sig_cap;
    pf_cuda_graph_entry *capturing; /* entry whose capture is in progress (owns the scratch) */
    unsigned long long n_captures, n_replays, n_eager, n_failed;
} pf_cuda_graphs;

/* ---------------------------------------------------------------- profile */

/* One timed bracket: ev[0] recorded before a node's (or fused pair's) work, ev[1] after.
 * The key is formed when the bracket closes: the graph may be gone by the time the
 * events are read (a failed compute is not synchronised). */
typedef struct pf_cuda_prof_mark {
    cudaEvent_t ev[2]; /* created once, re-recorded by later calls */
    pf_op op, op2;
    char key[PF_PROF_KEY_LEN];
} pf_cuda_prof_mark;

/* The tensor-core attention kernel's launch variant unless PF_CUDA_ATTN names one
 * (pf_cuda_kernels.h: PF_CU_ATTN_*; docs/benchmarks.md has the comparison). */
#define PF_CUDA_ATTN_DEFAULT PF_CU_ATTN_W8

typedef struct pf_cuda_ctx {
    int device;
    char name[128];
    int cc_major, cc_minor, sm_count;
    int driver_version, runtime_version;
    size_t total_mem;
    cudaStream_t stream;
    pf_cuda_allocator alloc;

    /* pinned staging for uploads/downloads: two buffers used in turn, each with the
     * event of the last copy that reads or writes it */
    void *pinned[2];
    cudaEvent_t pinned_ev[2];
    bool pinned_busy[2];
    int pinned_next;

    /* device-side error record (4 int64: code, node, value, limit) and its pinned copy */
    pf_cuda_block *err_block;
    int64_t *err_host;

    /* cuBLASLt */
    cublasLtHandle_t lt;
    pf_cuda_block *workspace;
    size_t workspace_size;
    pf_cuda_gemm_plan plans[PF_CUDA_PLAN_CACHE];
    int plan_next;

    /* options from the environment */
    bool sync_each;                /* PF_CUDA_SYNC=1: synchronise after every node (error localisation) */
    bool gemm_ref;                 /* PF_CUDA_GEMM=ref: reference GEMM kernel instead of cuBLASLt */
    bool attn_simple;              /* PF_CUDA_ATTN=simple: the general attention kernel, never the tensor-core one */
    bool profile_total;            /* PF_CUDA_PROFILE=total: one table when the backend is freed */
    int attn_variant;              /* the tensor-core kernel's launch variant (PF_CU_ATTN_*; PF_CUDA_ATTN) */
    pf_cuda_conv_mode conv_mode;   /* PF_CUDA_CONV=auto|direct|gemm */
    size_t conv_chunk;             /* PF_CUDA_CONV_CHUNK: bytes of conv3d columns per chunk (0: automatic) */
    pf_cuda_conv_stats conv_stats; /* which conv3d path ran */
    bool no_fuse;                  /* PF_CUDA_FUSE=0: every node runs on its own (cuda_fuse.c) */

    /* fusion plan of the graph being computed: per node, PF_CUDA_FUSE_* (cuda_fuse.c) */
    int8_t *fuse;
    int32_t *fuse_partner;
    int fuse_cap;
    pf_cuda_fusion_stats fstats, fstats_last; /* since creation; in the last node-by-node run */

    pf_cuda_graphs graphs;

    /* PF_CUDA_PROFILE=1 (cuda_profile.c): brackets enqueued since the last collection,
     * the table since the last report, the figures of the last collection */
    bool profile;
    pf_cuda_prof_mark *marks;
    int n_marks, cap_marks;
    bool mark_open; /* marks[n_marks].ev[0] recorded, its node not finished */
    pf_prof prof;
    pf_cuda_profile prof_last;

    /* the node being computed (error messages, device error tags) */
    const pf_tensor *cur;
    int cur_index;
    char cur_graph[64];
} pf_cuda_ctx;

/* ---------------------------------------------------------------- helpers */

/* Device address of t's first element (t planned or external on this backend). */
void *pf_cuda_ptr(const pf_tensor *t);
/* Scratch memory for one node; give it back with pf_cuda_scratch_release after enqueueing
 * its users. While a CUDA graph is captured the blocks belong to the graph (every replay
 * uses them) and are reused only by later nodes of the same capture (cuda_graphexec.c). */
pf_status pf_cuda_scratch(pf_cuda_ctx *c, size_t bytes, const char *what, pf_cuda_block **out);
void pf_cuda_scratch_release(pf_cuda_ctx *c, pf_cuda_block *b);
/* Check a kernel launch; the message names the kernel, the op, the node and its shape. */
pf_status pf_cuda_launched(pf_cuda_ctx *c, cudaError_t e, const char *kernel);
/* Shape/stride descriptors for the kernels (right-aligned to PF_CU_DIMS). */
pf_cu_out pf_cuda_out(const pf_tensor *shape, void *ptr);
pf_cu_view pf_cuda_view(const pf_tensor *src, const pf_tensor *space);
/* Device byte range [lo, hi) of t's elements (lo == hi: empty or unplaced). */
void pf_cuda_range(const pf_tensor *t, uintptr_t *lo, uintptr_t *hi);
/* "[2, 3, 4] bf16" for messages. */
const char *pf_cuda_desc(const pf_tensor *t, char *buf, size_t n);

/* ---------------------------------------------------------------- op table */

typedef bool (*pf_cuda_supports_fn)(const pf_cuda_ctx *c, const pf_tensor *n);
typedef pf_status (*pf_cuda_run_fn)(pf_cuda_ctx *c, const pf_tensor *n, void *dst);

/* Which inputs may share memory with the output: an input that aliases the output
 * element for element (same first byte, dtype and dense layout) is safe for ops that
 * read element i only to write element i (PF_CUDA_ALIAS_ANY), or only for src0 in
 * row-wise ops that finish reading a row before writing it (PF_CUDA_ALIAS_SRC0).
 * Any other overlap is computed into a temporary and copied. */
enum { PF_CUDA_ALIAS_NONE = 0, PF_CUDA_ALIAS_SRC0 = 1, PF_CUDA_ALIAS_ANY = 2 };

typedef struct pf_cuda_op_entry {
    pf_cuda_supports_fn supports;
    pf_cuda_run_fn run;
    int alias;
} pf_cuda_op_entry;

extern const pf_cuda_op_entry pf_cuda_ops[PF_OP_COUNT];

/* cuda_gemm.c */

/* One (batched) GEMM in pflow's row-major terms:
 *   C[bt, m, n] = alpha * sum_k A[bt, m, k] B'[bt, k, n] (+ bias[n]) (+ beta * C[bt, m, n])
 * A [Bt, M, K] contiguous; B' = B^T with B [Bb, N, K] when trans_b, else B [Bb, K, N];
 * Bb is 1 (shared) or Bt; C rows ldc elements apart (0: N), batches M * ldc apart. Any
 * float dtypes (operand types as the header of cuda_gemm.c says). */
typedef struct pf_cuda_gemm_op {
    const void *a, *b, *bias;
    void *c;
    pf_dtype a_dt, b_dt, bias_dt, c_dt;
    bool trans_b;
    int64_t Bt, Bb, M, N, K;
    int64_t ldc; /* 0: N */
    float alpha;
    float beta; /* 0: C is written only */
    bool gelu;  /* tanh-GELU in the epilogue (after the bias): pf_cuda_run_linear_gelu only */
} pf_cuda_gemm_op;

/* Enqueue g: cuBLASLt, else the reference kernel (g's M and Bt may be folded). */
pf_status pf_cuda_gemm(pf_cuda_ctx *c, pf_cuda_gemm_op *g);
bool pf_cuda_supports_linear(const pf_cuda_ctx *c, const pf_tensor *n);
bool pf_cuda_supports_matmul(const pf_cuda_ctx *c, const pf_tensor *n);
pf_status pf_cuda_run_linear(pf_cuda_ctx *c, const pf_tensor *n, void *dst);
pf_status pf_cuda_run_matmul(pf_cuda_ctx *c, const pf_tensor *n, void *dst);
void pf_cuda_gemm_destroy(pf_cuda_ctx *c);
/* Linear `lin` with the tanh-GELU of its consumer `act` in cuBLASLt's epilogue, written
 * to dst in act's dtype. *done false (nothing enqueued): cuBLASLt has no such
 * algorithm or the reference GEMM is forced; run the two nodes separately. */
pf_status pf_cuda_run_linear_gelu(pf_cuda_ctx *c, const pf_tensor *lin, const pf_tensor *act, void *dst, bool *done);

/* ---------------------------------------------------------------- fusion (cuda_fuse.c) */

/* Node roles in a fusion plan: the producer of a pair is skipped at its position and
 * computed with its consumer at the consumer's (see cuda_fuse.c for why that order). */
enum {
    PF_CUDA_FUSE_NONE = 0,
    PF_CUDA_FUSE_SKIP,       /* producer: computed by its consumer's fused kernel */
    PF_CUDA_FUSE_NORM_MOD,   /* layer_norm -> modulate */
    PF_CUDA_FUSE_NORM_ROPE,  /* rms_norm -> rope */
    PF_CUDA_FUSE_GEMM_GELU,  /* linear -> unary gelu_tanh */
};
/* Fill c->fuse / c->fuse_partner for graph g (all NONE when fusion is off). */
pf_status pf_cuda_fuse_plan(pf_cuda_ctx *c, pf_graph *g);
/* Run consumer q (role kind) fused with its producer p into dst; *done false: declined
 * for this instance (nothing enqueued), run p then q as usual. */
pf_status pf_cuda_run_fused(pf_cuda_ctx *c, int kind, const pf_tensor *p, const pf_tensor *q, void *dst, bool *done);

/* cuda_conv.c */
bool pf_cuda_supports_conv3d(const pf_cuda_ctx *c, const pf_tensor *n);
pf_status pf_cuda_run_conv3d(pf_cuda_ctx *c, const pf_tensor *n, void *dst);

/* cuda_backend.c: enqueue every compute node of g, one launch after another (eager). */
pf_status pf_cuda_run_nodes(pf_cuda_ctx *c, pf_graph *g);

/* cuda_profile.c: no-ops without PF_CUDA_PROFILE. begin records a bracket's start on
 * the stream; end closes it for node p, or the fused pair p -> q (q non-NULL). An
 * error between the two drops the open bracket (the next begin reuses it). */
pf_status pf_cuda_prof_begin(pf_cuda_ctx *c);
pf_status pf_cuda_prof_end(pf_cuda_ctx *c, const pf_tensor *p, const pf_tensor *q);
/* After the stream is synchronised: read the closed brackets' times into the table. */
pf_status pf_cuda_prof_collect(pf_cuda_ctx *c);
/* Print the table to stderr and empty it. */
void pf_cuda_prof_report(pf_cuda_ctx *c);
/* Destroy the events (the stream synchronised first). */
void pf_cuda_prof_free(pf_cuda_ctx *c);

/* cuda_graphexec.c */
/* Compute g: eagerly the first time its signature is seen, captured as a CUDA graph the
 * second time, replayed afterwards (see the file's comment). */
pf_status pf_cuda_graph_compute(pf_cuda_ctx *c, pf_graph *g);
/* Destroy every cached graph and give its scratch back to the allocator. */
void pf_cuda_graphs_clear(pf_cuda_ctx *c);
/* pf_cuda_graphs_clear and the signature buffer. */
void pf_cuda_graphs_free(pf_cuda_ctx *c);

#endif /* PF_CUDA_IMPL_H */
