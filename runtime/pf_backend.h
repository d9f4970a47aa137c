/*
 * Backends, buffers, pools, arenas and the memory planner.
 *
 * A backend is one small function table (pf_backend_ops). It owns buffers
 * (device allocations), moves bytes in and out of them, computes graphs and
 * says which nodes it supports. The CPU backend is one backend like the
 * others; nothing above this layer touches tensor memory directly.
 *
 * Memory:
 *  - pf_pool: bump allocator for persistent tensors (weights, caches, latents)
 *    over buffers no larger than the backend's per-buffer limit.
 *  - pf_arena: the compute memory graphs are planned into. Graphs planned into
 *    the same arena share it (they never run at the same time), so the arena
 *    is as large as the largest graph: "reserve once, reuse every step".
 */
#ifndef PF_BACKEND_H
#define PF_BACKEND_H

#include "pf_graph.h"

typedef struct pf_backend_info {
    char name[32];           /* "cpu", "cuda", "vulkan" */
    char device[256];        /* human-readable device name */
    size_t mem_total;        /* bytes, 0 if unknown */
    size_t mem_free;         /* bytes, 0 if unknown */
    size_t max_buffer_size;  /* largest single buffer (allocation or binding) */
    size_t alignment;        /* offset alignment inside a buffer */
    bool host_cpu;           /* the device is the host's CPU: the CPU backend, or a GPU API
                              * implemented in software (Mesa's lavapipe, SwiftShader) */
} pf_backend_info;

struct pf_buffer {
    pf_backend *backend;
    size_t size;
    void *host; /* host-addressable base (CPU backend), else NULL */
    void *impl; /* backend-private handle */
};

typedef struct pf_backend_ops {
    const char *name;
    void (*destroy)(pf_backend *be);
    void (*get_info)(pf_backend *be, pf_backend_info *info);
    /* Whether this backend computes the node (op, dtypes, shapes, params). */
    bool (*supports_op)(pf_backend *be, const pf_tensor *node);
    /* Optional: why supports_op rejects the node (a short phrase into buf), so the
     * planner's "does not support" error can say what is missing. */
    void (*unsupported_reason)(pf_backend *be, const pf_tensor *node, char *buf, size_t n);
    pf_status (*buffer_alloc)(pf_backend *be, size_t size, pf_buffer **out);
    void (*buffer_free)(pf_backend *be, pf_buffer *buf);
    pf_status (*upload)(pf_backend *be, pf_buffer *buf, size_t offset, const void *src, size_t size);
    pf_status (*download)(pf_backend *be, pf_buffer *buf, size_t offset, void *dst, size_t size);
    /* Compute every node of a planned graph in order (may be asynchronous). */
    pf_status (*compute)(pf_backend *be, pf_graph *g);
    pf_status (*synchronize)(pf_backend *be);
} pf_backend_ops;

struct pf_backend {
    const pf_backend_ops *ops;
    void *ctx;
    /* allocation statistics maintained by pf_buffer_alloc/free */
    size_t bytes_allocated;
    size_t bytes_peak;
};

typedef struct pf_backend_options {
    int device;     /* device index (-1: default / PF_*_DEVICE env) */
    int threads;    /* CPU threads (0: all cores) */
    bool reference; /* CPU: naive reference kernels only */
} pf_backend_options;

/* Names of backends compiled into this build, in preference order (best first). */
int pf_backend_count(void);
const char *pf_backend_name_at(int i);
/* Create a backend by name ("cpu", "cuda", "vulkan"); opts may be NULL. A backend
 * compiled in but with no device gives PF_ERR_UNSUPPORTED with the reason. */
pf_status pf_backend_create(const char *name, const pf_backend_options *opts, pf_backend **out);
void pf_backend_free(pf_backend *be);
/* The meta backend: buffers have sizes but no memory; graphs plan but never compute.
 * Used to predict memory and export op lists of full-size models without allocating.
 * Model constructors should skip weight initialisation on it (pf_backend_is_meta). */
pf_status pf_backend_meta_create(pf_backend **out);
bool pf_backend_is_meta(const pf_backend *be);
const char *pf_backend_name(const pf_backend *be);
void pf_backend_get_info(pf_backend *be, pf_backend_info *info);
bool pf_backend_supports(pf_backend *be, const pf_tensor *node);
pf_status pf_backend_synchronize(pf_backend *be);

pf_status pf_buffer_alloc(pf_backend *be, size_t size, pf_buffer **out);
void pf_buffer_free(pf_buffer *buf);

/* Copy bytes of a contiguous tensor (or contiguous view) in / out. Blocking. */
pf_status pf_tensor_set(pf_tensor *t, const void *data, size_t bytes);
pf_status pf_tensor_get(pf_tensor *t, void *data, size_t bytes);
/* Same, converting from / to host arrays of another dtype (e.g. f32 <-> bf16). */
pf_status pf_tensor_set_as(pf_tensor *t, const void *data, pf_dtype host_dtype, size_t n_elems);
pf_status pf_tensor_get_as(pf_tensor *t, void *data, pf_dtype host_dtype, size_t n_elems);
/* Copy tensor to tensor (same dtype, nbytes), possibly across backends, through the host. */
pf_status pf_tensor_copy(pf_tensor *dst, pf_tensor *src);

/* ---- pools: persistent tensors ---- */
typedef struct pf_pool pf_pool;
/* chunk_size 0: min(256 MiB, max_buffer_size). */
pf_status pf_pool_create(pf_backend *be, size_t chunk_size, pf_pool **out);
/* A pool for weights known in advance: about `bytes` in `n_tensors` tensors. Its chunks are
 * sized to what is still expected (at most the default chunk), so a small model allocates
 * what it holds rather than a mostly empty 256 MiB chunk. Tensors beyond the estimate still
 * get memory, in chunks of min(256 MiB, the estimate). */
pf_status pf_pool_create_for(pf_backend *be, size_t bytes, int64_t n_tensors, pf_pool **out);
void pf_pool_free(pf_pool *p);
/* Allocate a contiguous tensor with storage; flagged EXTERNAL. Owned by the pool. */
pf_tensor *pf_pool_tensor(pf_pool *p, pf_dtype dt, int ndim, const int64_t *ne, const char *name);
size_t pf_pool_bytes(const pf_pool *p);
pf_backend *pf_pool_backend(const pf_pool *p);
/* The pool's tensors in allocation order (model writers walk a model's weights with it). */
int pf_pool_count(const pf_pool *p);
pf_tensor *pf_pool_at(const pf_pool *p, int i);

/* ---- arenas and the planner ---- */
pf_status pf_arena_create(pf_backend *be, pf_arena **out);
void pf_arena_free(pf_arena *a);
/* Bytes currently reserved by the arena (sum of its chunks). */
size_t pf_arena_size(const pf_arena *a);
/* Release the arena's device memory (graphs planned into it must be re-planned,
 * which pf_graph_compute does automatically). */
void pf_arena_release(pf_arena *a);

typedef struct pf_plan_stats {
    size_t peak_bytes;       /* planned compute memory of this graph (sum over chunks) */
    size_t naive_bytes;      /* what it would take with no reuse at all */
    size_t weight_bytes;     /* external tensors read by the graph */
    int n_chunks;
    int n_inplace;           /* nodes that reused their input's memory */
    int n_nodes;
} pf_plan_stats;

/* Plan g's memory into arena a (growing the arena if needed) and allocate.
 * Checks that the backend supports every node. stats may be NULL. */
pf_status pf_graph_plan(pf_graph *g, pf_arena *a, pf_plan_stats *stats);
/* Plan without allocating: what this graph needs with chunks of at most
 * max_chunk bytes (0: unlimited). Used to predict memory for large configs. */
pf_status pf_graph_plan_dry(pf_graph *g, size_t max_chunk, size_t alignment, pf_plan_stats *stats);
/* Compute a planned graph on its arena's backend and wait for it. */
pf_status pf_graph_compute(pf_graph *g);
pf_backend *pf_graph_backend(const pf_graph *g);

/* CPU backend specifics (backends/cpu). */
void pf_cpu_set_reference(pf_backend *be, bool reference);
void pf_cpu_set_threads(pf_backend *be, int n);
/* Threads the CPU backend computes with (0 if be is not a CPU backend). */
int pf_cpu_get_threads(pf_backend *be);
/* GEMM of the CPU fast kernels: "auto" (OpenBLAS when the build has it and its kernels suit
 * this CPU, else the portable blocked GEMM), "blas" or "portable". The default comes from
 * $PF_CPU_GEMM, else auto. */
pf_status pf_cpu_set_gemm(pf_backend *be, const char *mode);
/* One line naming the GEMM the CPU fast kernels use now (implementation, kernel, threads). */
const char *pf_cpu_gemm_desc(pf_backend *be, char *buf, size_t n);

#endif /* PF_BACKEND_H */
