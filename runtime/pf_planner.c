/*
 * Memory planner: walks a graph in order, gives each graph-owned tensor an
 * (arena chunk, offset), frees intermediates after their last consumer and
 * lets element-wise nodes take their dying input's memory in place.
 *
 * Rules:
 *  - external tensors (weights, persistent state) are never planned;
 *  - inputs are placed first and live for the whole graph (callers may
 *    upload them once and replay);
 *  - outputs are never freed or reused;
 *  - views own no memory: a consumer of a view is a consumer of its root;
 *  - chunks never exceed the backend's per-buffer limit; a tensor must fit one chunk.
 */
#include "pf_graph_impl.h"

typedef struct {
    size_t off, size;
} pf_block;

typedef struct {
    pf_block *free;
    int n_free, cap_free;
    size_t top;  /* current end of used space */
    size_t peak; /* highest top ever reached: the chunk's size */
} pf_pchunk;

typedef struct {
    pf_pchunk ch[PF_ARENA_MAX_CHUNKS];
    int n;
    size_t max_chunk, align;
} pf_planner;

static pf_status pf_block_insert(pf_pchunk *c, size_t off, size_t size) {
    /* keep the list sorted by offset, merging neighbours */
    int i = 0;
    while (i < c->n_free && c->free[i].off < off) i++;
    bool merge_prev = i > 0 && c->free[i - 1].off + c->free[i - 1].size == off;
    bool merge_next = i < c->n_free && off + size == c->free[i].off;
    if (merge_prev && merge_next) {
        c->free[i - 1].size += size + c->free[i].size;
        memmove(&c->free[i], &c->free[i + 1], (size_t)(c->n_free - i - 1) * sizeof(pf_block));
        c->n_free--;
    } else if (merge_prev) {
        c->free[i - 1].size += size;
    } else if (merge_next) {
        c->free[i].off = off;
        c->free[i].size += size;
    } else {
        if (c->n_free == c->cap_free) {
            int cap = c->cap_free ? 2 * c->cap_free : 16;
            pf_block *nb = realloc(c->free, (size_t)cap * sizeof *nb);
            if (!nb) return pf_error(PF_ERR_OOM, "out of host memory in the planner");
            c->free = nb;
            c->cap_free = cap;
        }
        memmove(&c->free[i + 1], &c->free[i], (size_t)(c->n_free - i) * sizeof(pf_block));
        c->free[i].off = off;
        c->free[i].size = size;
        c->n_free++;
    }
    /* a free block at the top lowers the high-water mark */
    if (c->n_free && c->free[c->n_free - 1].off + c->free[c->n_free - 1].size == c->top) {
        c->top = c->free[c->n_free - 1].off;
        c->n_free--;
    }
    return PF_OK;
}

static pf_status pf_plan_alloc(pf_planner *p, size_t size, const pf_tensor *t, int *chunk, size_t *off) {
    size = PF_ALIGN_UP(size ? size : 1, p->align);
    if (size > p->max_chunk) {
        char b1[32], b2[32], b3[96];
        return pf_error(PF_ERR_OOM, "tensor '%s' %s needs %s, more than the backend's largest buffer (%s)", t->name,
                        pf_shape_str(t, b3, sizeof b3), pf_fmt_bytes((double)size, b1, sizeof b1),
                        pf_fmt_bytes((double)p->max_chunk, b2, sizeof b2));
    }
    /* best fit among free blocks */
    int bc = -1, bi = -1;
    size_t best = SIZE_MAX;
    for (int c = 0; c < p->n; c++)
        for (int i = 0; i < p->ch[c].n_free; i++) {
            size_t s = p->ch[c].free[i].size;
            if (s >= size && s < best) {
                best = s;
                bc = c;
                bi = i;
            }
        }
    if (bc >= 0) {
        pf_pchunk *c = &p->ch[bc];
        *chunk = bc;
        *off = c->free[bi].off;
        c->free[bi].off += size;
        c->free[bi].size -= size;
        if (c->free[bi].size == 0) {
            memmove(&c->free[bi], &c->free[bi + 1], (size_t)(c->n_free - bi - 1) * sizeof(pf_block));
            c->n_free--;
        }
        return PF_OK;
    }
    /* grow a chunk at its top */
    for (int c = 0; c < p->n; c++) {
        if (p->ch[c].top + size <= p->max_chunk) {
            *chunk = c;
            *off = p->ch[c].top;
            p->ch[c].top += size;
            p->ch[c].peak = PF_MAX(p->ch[c].peak, p->ch[c].top);
            return PF_OK;
        }
    }
    if (p->n == PF_ARENA_MAX_CHUNKS) return pf_error(PF_ERR_OOM, "planner: more than %d chunks needed", PF_ARENA_MAX_CHUNKS);
    int c = p->n++;
    *chunk = c;
    *off = 0;
    p->ch[c].top = size;
    p->ch[c].peak = size;
    return PF_OK;
}

static pf_status pf_plan_free(pf_planner *p, int chunk, size_t off, size_t size) {
    return pf_block_insert(&p->ch[chunk], off, PF_ALIGN_UP(size ? size : 1, p->align));
}

static void pf_planner_release(pf_planner *p) {
    for (int c = 0; c < PF_ARENA_MAX_CHUNKS; c++) free(p->ch[c].free);
}

static bool pf_is_graph_owned(const pf_tensor *r) { return !(r->flags & PF_TF_EXTERNAL); }

/* The core: assigns t->chunk / t->offset for graph-owned roots. */
static pf_status pf_plan_run(pf_graph *g, size_t max_chunk, size_t align, pf_plan_stats *st) {
    if (g->status != PF_OK) return pf_error(g->status, "%s", g->err);
    memset(st, 0, sizeof *st);
    int n = g->n_nodes;
    bool any_output = false;

    /* liveness: mark what the outputs need */
    for (int i = 0; i < n; i++) {
        pf_tensor *t = g->nodes[i];
        t->flags |= PF_TF_DEAD;
        t->flags &= ~PF_TF_MOVED;
        t->n_uses = 0;
        t->chunk = -1;
        if (t->flags & PF_TF_OUTPUT) any_output = true;
    }
    if (!any_output) return pf_error(PF_ERR_INVALID_ARG, "graph %s has no outputs", g->name);
    for (int i = n - 1; i >= 0; i--) {
        pf_tensor *t = g->nodes[i];
        if (t->flags & PF_TF_OUTPUT) t->flags &= ~PF_TF_DEAD;
        if (t->flags & PF_TF_DEAD) continue;
        for (int s = 0; s < PF_MAX_SRC; s++)
            if (t->src[s]) {
                t->src[s]->flags &= ~PF_TF_DEAD;
                if (t->src[s]->view_src) t->src[s]->view_src->flags &= ~PF_TF_DEAD;
            }
    }
    /* uses of each root by compute nodes */
    for (int i = 0; i < n; i++) {
        pf_tensor *t = g->nodes[i];
        if (!pf_node_is_compute(t)) continue;
        st->n_nodes++;
        for (int s = 0; s < PF_MAX_SRC; s++)
            if (t->src[s]) pf_root(t->src[s])->n_uses++;
    }

    pf_planner p = {.max_chunk = max_chunk ? max_chunk : SIZE_MAX / 2, .align = align ? align : 64};
    pf_status rc = PF_OK;

    /* inputs first, alive for the whole graph */
    for (int i = 0; i < n && rc == PF_OK; i++) {
        pf_tensor *t = g->nodes[i];
        if (t->op != PF_OP_NONE || (t->flags & PF_TF_EXTERNAL)) continue;
        /* unused inputs are placed too, so that setting them never fails */
        rc = pf_plan_alloc(&p, pf_nbytes(t), t, &t->chunk, &t->offset);
        st->naive_bytes += pf_nbytes(t);
    }
    /* external roots referenced through views of weights */
    for (int i = 0; i < n && rc == PF_OK; i++) {
        pf_tensor *t = g->nodes[i];
        if (!pf_node_is_compute(t)) continue;
        for (int s = 0; s < PF_MAX_SRC; s++) {
            pf_tensor *r = t->src[s] ? pf_root(t->src[s]) : NULL;
            if (r && (r->flags & PF_TF_EXTERNAL) && r->chunk != -2) {
                st->weight_bytes += pf_nbytes(r);
                r->chunk = -2; /* counted; reset below */
            }
        }
    }

    for (int i = 0; i < n && rc == PF_OK; i++) {
        pf_tensor *t = g->nodes[i];
        if (!pf_node_is_compute(t)) continue;
        size_t bytes = pf_nbytes(t);
        st->naive_bytes += bytes;
        pf_tensor *s0 = t->src[0] ? pf_root(t->src[0]) : NULL;
        bool inplace = false;
        if (s0 && t->src[0] == s0 && pf_is_graph_owned(s0) && s0->op != PF_OP_NONE && !(s0->flags & PF_TF_OUTPUT) &&
            s0->chunk >= 0 && !(s0->flags & PF_TF_MOVED) && pf_op_can_inplace(t) && pf_nbytes(s0) == bytes) {
            int uses_here = 0;
            for (int s = 0; s < PF_MAX_SRC; s++)
                if (t->src[s] && pf_root(t->src[s]) == s0) uses_here++;
            inplace = uses_here == 1 && s0->n_uses == 1;
        }
        if (t->into) {
            t->chunk = -1; /* storage is the external target's; nothing to plan */
        } else if (inplace) {
            t->chunk = s0->chunk;
            t->offset = s0->offset;
            s0->flags |= PF_TF_MOVED; /* t owns the block now */
            s0->n_uses = 0;
            st->n_inplace++;
        } else {
            rc = pf_plan_alloc(&p, bytes, t, &t->chunk, &t->offset);
            if (rc != PF_OK) break;
        }
        /* release sources whose last consumer this was */
        for (int s = 0; s < PF_MAX_SRC && rc == PF_OK; s++) {
            if (!t->src[s]) continue;
            pf_tensor *r = pf_root(t->src[s]);
            if (!pf_is_graph_owned(r) || r->op == PF_OP_NONE) continue;
            if (r->chunk < 0 || (r->flags & PF_TF_MOVED)) continue;
            if (--r->n_uses == 0 && !(r->flags & PF_TF_OUTPUT)) rc = pf_plan_free(&p, r->chunk, r->offset, pf_nbytes(r));
        }
        /* a node nobody reads (and not an output) can be dropped right away */
        if (rc == PF_OK && !t->into && t->n_uses == 0 && !(t->flags & PF_TF_OUTPUT))
            rc = pf_plan_free(&p, t->chunk, t->offset, bytes);
    }
    /* restore external markers */
    for (int i = 0; i < n; i++) {
        pf_tensor *t = g->nodes[i];
        for (int s = 0; s < PF_MAX_SRC; s++)
            if (t->src[s] && pf_root(t->src[s])->chunk == -2) pf_root(t->src[s])->chunk = -1;
    }
    if (rc == PF_OK) {
        g->n_chunks = p.n;
        for (int c = 0; c < p.n; c++) {
            g->chunk_need[c] = p.ch[c].peak;
            st->peak_bytes += p.ch[c].peak;
        }
        st->n_chunks = p.n;
    }
    pf_planner_release(&p);
    return rc;
}

static pf_graph_observer_fn pf_observer;
static void *pf_observer_user;

void pf_graph_set_observer(pf_graph_observer_fn fn, void *user) {
    pf_observer = fn;
    pf_observer_user = user;
}

pf_status pf_graph_plan_dry(pf_graph *g, size_t max_chunk, size_t alignment, pf_plan_stats *stats) {
    pf_plan_stats st;
    pf_status rc = pf_plan_run(g, max_chunk, alignment, &st);
    if (rc == PF_OK && stats) *stats = st;
    if (rc == PF_OK && pf_observer) pf_observer(g, pf_observer_user);
    return rc;
}

/* ---------------------------------------------------------------- arenas */

pf_status pf_arena_create(pf_backend *be, pf_arena **out) {
    *out = NULL;
    pf_arena *a = calloc(1, sizeof *a);
    if (!a) return pf_error(PF_ERR_OOM, "out of host memory (arena)");
    pf_backend_info info;
    pf_backend_get_info(be, &info);
    a->be = be;
    a->max_chunk = info.max_buffer_size;
    a->alignment = info.alignment ? info.alignment : 64;
    *out = a;
    return PF_OK;
}

void pf_arena_release(pf_arena *a) {
    if (!a) return;
    for (int c = 0; c < a->n_chunks; c++) {
        pf_buffer_free(a->chunks[c]);
        a->chunks[c] = NULL;
    }
    a->n_chunks = 0;
    a->gen++;
}

void pf_arena_free(pf_arena *a) {
    if (!a) return;
    pf_arena_release(a);
    free(a);
}

size_t pf_arena_size(const pf_arena *a) {
    size_t s = 0;
    for (int c = 0; c < a->n_chunks; c++) s += a->chunks[c] ? a->chunks[c]->size : 0;
    return s;
}

static pf_status pf_arena_reserve(pf_arena *a, const size_t *need, int n) {
    for (int c = 0; c < n; c++) {
        if (c < a->n_chunks && a->chunks[c] && a->chunks[c]->size >= need[c]) continue;
        if (c < a->n_chunks && a->chunks[c]) {
            pf_buffer_free(a->chunks[c]);
            a->chunks[c] = NULL;
        }
        pf_status rc = pf_buffer_alloc(a->be, need[c], &a->chunks[c]);
        if (c >= a->n_chunks) a->n_chunks = c + 1;
        a->gen++;
        if (rc != PF_OK) return rc;
    }
    return PF_OK;
}

pf_backend *pf_graph_backend(const pf_graph *g) { return g->arena ? g->arena->be : NULL; }

pf_status pf_graph_plan(pf_graph *g, pf_arena *a, pf_plan_stats *stats) {
    if (!g || !a) return pf_error(PF_ERR_INVALID_ARG, "pf_graph_plan: NULL graph or arena");
    if (g->status != PF_OK) return pf_error(g->status, "%s", g->err);
    /* every node must be computable here and every external tensor must live here */
    for (int i = 0; i < g->n_nodes; i++) {
        pf_tensor *t = g->nodes[i];
        if (t->op == PF_OP_NONE && (t->flags & PF_TF_EXTERNAL) && t->buffer && t->buffer->backend != a->be)
            return pf_error(PF_ERR_INVALID_ARG, "graph %s: tensor '%s' lives on backend %s, not %s", g->name, t->name,
                            pf_backend_name(t->buffer->backend), pf_backend_name(a->be));
    }
    pf_plan_stats st;
    PF_TRY(pf_plan_run(g, a->max_chunk, a->alignment, &st));
    for (int i = 0; i < g->n_nodes; i++) {
        pf_tensor *t = g->nodes[i];
        if (!pf_node_is_compute(t)) continue;
        if (!pf_backend_supports(a->be, t)) {
            char b[96], why[256] = "";
            if (a->be->ops->unsupported_reason) a->be->ops->unsupported_reason(a->be, t, why, sizeof why);
            return pf_error(PF_ERR_UNSUPPORTED, "graph %s: backend %s does not support %s '%s' %s %s%s%s", g->name,
                            pf_backend_name(a->be), pf_op_name(t->op), t->name, pf_shape_str(t, b, sizeof b),
                            pf_dtype_name(t->dtype), why[0] ? ": " : "", why);
        }
        for (int s = 0; s < PF_MAX_SRC; s++) {
            pf_tensor *r = t->src[s] ? pf_root(t->src[s]) : NULL;
            if (r && (r->flags & PF_TF_EXTERNAL) && r->buffer && r->buffer->backend != a->be)
                return pf_error(PF_ERR_INVALID_ARG, "graph %s: tensor '%s' lives on backend %s, not %s", g->name,
                                r->name, pf_backend_name(r->buffer->backend), pf_backend_name(a->be));
        }
        if (t->into && pf_root(t->into)->buffer->backend != a->be)
            return pf_error(PF_ERR_INVALID_ARG, "graph %s: output target '%s' lives on backend %s, not %s", g->name,
                            t->into->name, pf_backend_name(pf_root(t->into)->buffer->backend), pf_backend_name(a->be));
    }
    PF_TRY(pf_arena_reserve(a, g->chunk_need, g->n_chunks));
    for (int i = 0; i < g->n_nodes; i++) {
        pf_tensor *t = g->nodes[i];
        if (t->view_src || (t->flags & PF_TF_EXTERNAL)) continue;
        if (t->into) {
            t->buffer = pf_root(t->into)->buffer;
            t->offset = pf_data_offset(t->into);
            continue;
        }
        t->buffer = t->chunk >= 0 ? a->chunks[t->chunk] : NULL;
    }
    g->arena = a;
    g->arena_gen = a->gen;
    g->planned = true;
    g->stats = st;
    if (stats) *stats = st;
    if (pf_observer) pf_observer(g, pf_observer_user);
    return PF_OK;
}

pf_status pf_graph_refresh(pf_graph *g) {
    if (!g->arena) return pf_error(PF_ERR_INVALID_ARG, "graph %s was not planned", g->name);
    if (!g->planned || g->arena_gen != g->arena->gen) PF_TRY(pf_graph_plan(g, g->arena, NULL));
    return PF_OK;
}

pf_status pf_graph_compute(pf_graph *g) {
    if (!g) return pf_error(PF_ERR_INVALID_ARG, "pf_graph_compute: NULL graph");
    PF_TRY(pf_graph_refresh(g));
    pf_backend *be = g->arena->be;
    pf_status rc = be->ops->compute(be, g);
    if (rc != PF_OK) return pf_error_wrap(rc, "computing graph %s on %s", g->name, pf_backend_name(be));
    return pf_backend_synchronize(be);
}
