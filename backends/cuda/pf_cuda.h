/*
 * CUDA backend specifics beyond the generic backend interface (pf_backend.h):
 * memory statistics of the caching allocator and cache control. Declared only
 * in builds with CUDA (PF_HAVE_CUDA); the backend itself is created with
 * pf_backend_create("cuda", ...).
 */
#ifndef PF_CUDA_H
#define PF_CUDA_H

#include "pf_backend.h"

typedef struct pf_cuda_mem_stats {
    size_t in_use;       /* bytes of live buffers (rounded to the allocator's size classes) */
    size_t requested;    /* bytes the live buffers asked for */
    size_t cached;       /* bytes held in the free lists, ready for reuse */
    size_t peak_in_use;  /* highest in_use so far */
    size_t device_total; /* cudaMemGetInfo at the time of the call */
    size_t device_free;
    unsigned long long n_device_allocs; /* cudaMalloc calls */
    unsigned long long n_device_frees;  /* cudaFree calls */
    unsigned long long n_cache_hits;    /* allocations served from the free lists */
} pf_cuda_mem_stats;

/* Whether be is a CUDA backend. */
bool pf_backend_is_cuda(const pf_backend *be);
/* Allocator statistics (PF_ERR_INVALID_ARG if be is not a CUDA backend). */
pf_status pf_cuda_memory_stats(pf_backend *be, pf_cuda_mem_stats *out);
/* Return every cached (free) block to the device (waits for the stream first). Also
 * destroys the cached CUDA graphs, whose scratch blocks then go back too. */
pf_status pf_cuda_empty_cache(pf_backend *be);

/* CUDA graphs (capture and replay of repeated graphs; docs/cuda.md). A call is either
 * eager (node by node: first sighting of its signature, graphs disabled, or a signature
 * whose capture failed), a capture (second sighting: captured, instantiated and
 * launched once) or a replay (one cudaGraphLaunch). */
typedef struct pf_cuda_graph_counters {
    bool enabled;                     /* false with PF_CUDA_GRAPHS=0 or PF_CUDA_SYNC=1 */
    unsigned long long n_eager;       /* calls run node by node */
    unsigned long long n_captures;    /* graphs captured and instantiated */
    unsigned long long n_replays;     /* calls served by launching a captured graph */
    unsigned long long n_failed;      /* captures or launches that fell back to eager execution */
    int n_cached;                     /* graphs held now (instantiated ones) */
    size_t scratch_bytes;             /* device scratch owned by the held graphs */
} pf_cuda_graph_counters;

/* The counters since the backend was created (PF_ERR_INVALID_ARG if not CUDA). */
pf_status pf_cuda_graph_stats(pf_backend *be, pf_cuda_graph_counters *out);

#endif /* PF_CUDA_H */
