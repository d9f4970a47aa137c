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

/* Which conv3d path the backend uses ($PF_CUDA_CONV) and which ran, counted since creation. */
typedef struct pf_cuda_conv_stats {
    const char *mode;                /* "auto" (GEMM where it pays), "direct", "gemm" or "implicit" */
    unsigned long long gemm_nodes;   /* conv3d nodes computed as im2col + GEMM */
    unsigned long long gemm_calls;   /* their GEMMs (chunks x batch items) */
    unsigned long long direct_nodes; /* conv3d nodes computed by the direct kernel */
    unsigned long long implicit_nodes; /* conv3d nodes computed by the implicit-GEMM kernel */
} pf_cuda_conv_stats;

/* Graph node pairs the CUDA backend ran as one kernel (PF_CUDA_FUSE=0 turns fusion off). */
typedef struct pf_cuda_fusion_stats {
    unsigned long long norm_modulate; /* layer_norm -> modulate */
    unsigned long long norm_rope;     /* qk rms_norm -> rope */
    unsigned long long gemm_gelu;     /* linear -> gelu_tanh in the cuBLASLt epilogue */
    unsigned long long declined;      /* planned pairs that ran unfused (no cuBLASLt algorithm, overlap) */
} pf_cuda_fusion_stats;

/* Whether be is a CUDA backend. */
bool pf_backend_is_cuda(const pf_backend *be);
/* Allocator statistics (PF_ERR_INVALID_ARG if be is not a CUDA backend). */
pf_status pf_cuda_memory_stats(pf_backend *be, pf_cuda_mem_stats *out);
/* conv3d path statistics (PF_ERR_INVALID_ARG if be is not a CUDA backend). */
pf_status pf_cuda_conv_stats_get(pf_backend *be, pf_cuda_conv_stats *out);
/* Fusion counters since the backend was created, and (last, may be NULL) those of the
 * most recent graph run node by node: a replayed CUDA graph runs the pairs its capture
 * fused without counting them again (PF_ERR_INVALID_ARG if not CUDA). */
pf_status pf_cuda_fusion_stats_get(pf_backend *be, pf_cuda_fusion_stats *total, pf_cuda_fusion_stats *last);
/* Return every cached (free) block to the device (waits for the stream first). Also
 * destroys the cached CUDA graphs, whose scratch blocks then go back too. */
pf_status pf_cuda_empty_cache(pf_backend *be);

/* CUDA graphs (capture and replay of repeated graphs; docs/cuda.md). A call is either
 * eager (node by node: first sighting of its signature, graphs disabled, or a signature
 * whose capture failed), a capture (second sighting: captured, instantiated and
 * launched once) or a replay (one cudaGraphLaunch). */
typedef struct pf_cuda_graph_counters {
    bool enabled;                     /* false with PF_CUDA_GRAPHS=0, PF_CUDA_SYNC=1 or PF_CUDA_PROFILE=1 */
    unsigned long long n_eager;       /* calls run node by node */
    unsigned long long n_captures;    /* graphs captured and instantiated */
    unsigned long long n_replays;     /* calls served by launching a captured graph */
    unsigned long long n_failed;      /* captures or launches that fell back to eager execution */
    int n_cached;                     /* graphs held now (instantiated ones) */
    size_t scratch_bytes;             /* device scratch owned by the held graphs */
} pf_cuda_graph_counters;

/* The counters since the backend was created (PF_ERR_INVALID_ARG if not CUDA). */
pf_status pf_cuda_graph_stats(pf_backend *be, pf_cuda_graph_counters *out);

/* PF_CUDA_PROFILE=1 (read at creation): every computed node, or fused pair, between two
 * cudaEvents on the backend stream (CUDA graphs off, so calls run node by node); the
 * times are read when the stream is synchronised and a table by op, dtype and shapes is
 * printed to stderr after each compute. The figures of the last synchronisation: */
typedef struct pf_cuda_profile {
    bool enabled;               /* PF_CUDA_PROFILE was set when the backend was created */
    int n_brackets;             /* nodes and fused pairs timed */
    int n_pairs;                /* of them, fused pairs ("layer_norm+modulate ...") */
    int n_rows;                 /* distinct keys among them */
    double total_ms;            /* their summed GPU time */
    double table_ms;            /* the table's time: this call's, or with PF_CUDA_PROFILE=total every call's */
    double min_ms, max_ms;      /* shortest and longest single bracket */
    unsigned long long n_total; /* brackets timed since creation */
} pf_cuda_profile;

/* The profile figures (all zero, enabled false, without PF_CUDA_PROFILE; PF_ERR_INVALID_ARG
 * if be is not a CUDA backend). */
pf_status pf_cuda_profile_get(pf_backend *be, pf_cuda_profile *out);

#endif /* PF_CUDA_H */
