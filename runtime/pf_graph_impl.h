/* Internal: graph and arena layouts shared by the builder, the planner and backends. */
#ifndef PF_GRAPH_IMPL_H
#define PF_GRAPH_IMPL_H

#include "pf_backend.h"

#define PF_ARENA_MAX_CHUNKS 64

/* internal tensor flag: not needed by any output, skipped by compute */
#define PF_TF_DEAD (1u << 8)
/* internal tensor flag: its memory was handed on to an in-place consumer */
#define PF_TF_MOVED (1u << 9)

struct pf_graph {
    char name[64];
    pf_tensor **nodes; /* every tensor of the graph, in creation (= topological) order */
    int n_nodes, cap_nodes;
    pf_status status;
    char err[512];

    /* planning */
    bool planned;
    pf_arena *arena;
    unsigned arena_gen;
    size_t chunk_need[PF_ARENA_MAX_CHUNKS];
    int n_chunks;
    pf_plan_stats stats;
};

struct pf_arena {
    pf_backend *be;
    size_t max_chunk;
    size_t alignment;
    int n_chunks;
    pf_buffer *chunks[PF_ARENA_MAX_CHUNKS];
    unsigned gen; /* bumped whenever a chunk is (re)allocated or released */
};

/* Process-wide observer of planned graphs, for tools that export the op lists of
 * real models (tests/conformance, conformance_full): called after every successful
 * pf_graph_plan and pf_graph_plan_dry. Not thread-safe; fn NULL removes it. */
typedef void (*pf_graph_observer_fn)(pf_graph *g, void *user);
void pf_graph_set_observer(pf_graph_observer_fn fn, void *user);

/* Re-resolve buffer pointers if the arena was reallocated since planning. */
pf_status pf_graph_refresh(pf_graph *g);

/* Whether a backend must compute this node (not a leaf, not a view, not dead). */
static inline bool pf_node_is_compute(const pf_tensor *t) {
    return t->op != PF_OP_NONE && t->op != PF_OP_VIEW && !(t->flags & PF_TF_DEAD);
}

#endif /* PF_GRAPH_IMPL_H */
