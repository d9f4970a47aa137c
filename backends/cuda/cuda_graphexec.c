/*
 * CUDA graphs: capture a repeated graph once, then replay it with one launch.
 *
 * Why: a DiT call is ~1000 small nodes; each costs a few microseconds of host work and
 * launch latency, which on a fast GPU exceeds the GEMM time of the call. The pipeline
 * computes the same planned graph (same shapes, same device addresses) 10-20 times per
 * (unit, stage), so the launches can be recorded once and replayed.
 *
 * Signature: for every compute node, in order, its index, op, dtype, shape, strides,
 * integer and float parameters and device address, and for each input its slot, dtype,
 * shape, strides and device address; plus the backend options that change launches
 * (PF_CUDA_GEMM, PF_CUDA_ATTN) and the address of the device error record. Not the
 * cuBLASLt workspace's: it is allocated by the first GEMM of the backend (during an
 * eager call, before any capture that uses it) and kept until the backend is
 * destroyed, after the graphs. Two calls with equal signatures enqueue the same
 * launches with the same arguments: everything a node launch reads on the host comes
 * from these fields (the op table's glue reads no tensor contents), except scratch,
 * which a captured graph owns (below), and the cuBLASLt plan, which depends on the
 * same fields. The whole signature is kept and compared with memcmp; the hash only
 * speeds the search.
 *
 * Policy: the first sighting of a signature runs eagerly and its hash is remembered
 * (ring of PF_CUDA_GRAPH_SEEN); the second is captured (cudaStreamBeginCapture on the
 * backend stream, the usual node launches, cudaStreamEndCapture, cudaGraphInstantiate)
 * and launched; later ones only launch. A graph seen once is never captured: one-off
 * graphs (planning probes, the VAE's tiles at odd sizes) would pay for the capture
 * without a replay. PF_CUDA_GRAPH_CACHE graphs are kept, least recently used evicted.
 *
 * Capture mode: relaxed. Under the global or thread-local modes "potentially unsafe"
 * calls fail during the capture, and cudaMalloc is one: the caching allocator may have
 * to cudaMalloc a scratch block for a node while capturing (the block then belongs to
 * the graph, so this is safe for us). Relaxed also keeps another thread's unrelated
 * cudaMalloc (another backend) from invalidating our capture. What still conflicts
 * with a capture (synchronising the stream, cudaFree) is avoided: the node glue never
 * synchronises, and the allocator does not empty its cache on out-of-memory while
 * capturing (pf_cuda_allocator.capturing), so the capture fails and the call runs
 * eagerly, where the cache may be emptied.
 *
 * Scratch: blocks a node takes with pf_cuda_scratch during the capture are baked into
 * the graph, so they must stay allocated and unused by anything else for as long as
 * the graph may replay. They belong to the graph entry: released blocks go back to the
 * entry's own list, where later nodes of the same capture may take them again (the
 * captured graph is a chain in stream order, exactly like eager execution on one
 * stream), and return to the allocator only when the entry is destroyed (eviction,
 * pf_cuda_empty_cache, backend destruction). A graph thus holds about the peak scratch
 * of one eager call.
 *
 * Failures: an error while capturing (a launch refused, a CUDA call the capture does
 * not allow, out of memory) or a failed instantiation ends the capture (EndCapture is
 * always called, so the stream leaves capture mode), destroys what was captured, gives
 * the scratch back, remembers the signature as not capturable (with the reason, in the
 * debug log) and runs the call eagerly, which reports a real error as usual. A failed
 * cudaGraphLaunch drops the graph and runs eagerly too.
 *
 * The device error record keeps working: the embedding kernel's record address and
 * node index are launch arguments, identical in every replay, and synchronize reads and
 * clears the record after each call as before.
 */
#include "cuda_impl.h"
#include "pf_backend_impl.h"

struct pf_cuda_graph_entry {
    uint64_t hash;
    size_t len;
    unsigned char *sig;
    cudaGraphExec_t exec; /* NULL: not capturable, runs eagerly */
    char reason[256];     /* why not (debug log) */
    uint64_t last_use;
    int n_nodes;
    /* scratch owned by the graph; busy: taken by a node of the capture in progress */
    pf_cuda_block **blocks;
    bool *busy;
    int n_blocks, cap_blocks;
    size_t scratch_bytes;
};

/* ---------------------------------------------------------------- signature */

typedef struct {
    uint32_t magic;
    int32_t gemm_ref, attn_simple, attn_variant;
    uint64_t err_record;
} pf_sig_head;

typedef struct {
    int32_t index, op, dtype, ndim;
    uint32_t srcs, pad; /* srcs: bit s set when src[s] is present */
    uint64_t ptr;
    int32_t ip[PF_MAX_IPARAMS];
    float fp[PF_MAX_FPARAMS];
} pf_sig_node;

typedef struct {
    int32_t slot, dtype, ndim, pad;
    uint64_t ptr;
} pf_sig_src;

static pf_status pf_sig_reserve(pf_cuda_graphs *G, size_t more) {
    if (G->sig_len + more <= G->sig_cap) return PF_OK;
    size_t cap = G->sig_cap ? G->sig_cap : 4096;
    while (cap < G->sig_len + more) cap *= 2;
    unsigned char *p = realloc(G->sig, cap);
    if (!p) return pf_error(PF_ERR_OOM, "out of host memory (CUDA graph signature of %zu bytes)", cap);
    G->sig = p;
    G->sig_cap = cap;
    return PF_OK;
}

static void pf_sig_put(pf_cuda_graphs *G, const void *p, size_t n) {
    memcpy(G->sig + G->sig_len, p, n);
    G->sig_len += n;
}

static void pf_sig_shape(pf_cuda_graphs *G, const pf_tensor *t) {
    pf_sig_put(G, t->ne, (size_t)t->ndim * sizeof t->ne[0]);
    pf_sig_put(G, t->st, (size_t)t->ndim * sizeof t->st[0]);
}

/* The signature of g's call into G->sig; *n_nodes: its compute nodes. */
static pf_status pf_sig_build(pf_cuda_ctx *c, pf_graph *g, int *n_nodes) {
    pf_cuda_graphs *G = &c->graphs;
    G->sig_len = 0;
    pf_sig_head h;
    memset(&h, 0, sizeof h); /* padding takes part in the comparison */
    h.magic = 0x70664731u;
    h.gemm_ref = c->gemm_ref;
    h.attn_simple = c->attn_simple;
    h.attn_variant = c->attn_variant;
    h.err_record = (uint64_t)(uintptr_t)c->err_block->ptr;
    PF_TRY(pf_sig_reserve(G, sizeof h));
    pf_sig_put(G, &h, sizeof h);
    const size_t shape_max = 2 * PF_MAX_DIMS * sizeof(int64_t);
    const size_t node_max = sizeof(pf_sig_node) + shape_max + PF_MAX_SRC * (sizeof(pf_sig_src) + shape_max);
    int n = pf_graph_n_nodes(g), count = 0;
    for (int i = 0; i < n; i++) {
        const pf_tensor *t = pf_graph_node(g, i);
        if (!pf_node_is_compute(t)) continue;
        count++;
        PF_TRY(pf_sig_reserve(G, node_max));
        pf_sig_node r;
        memset(&r, 0, sizeof r);
        r.index = i;
        r.op = (int32_t)t->op;
        r.dtype = (int32_t)t->dtype;
        r.ndim = t->ndim;
        for (int s = 0; s < PF_MAX_SRC; s++)
            if (t->src[s]) r.srcs |= 1u << s;
        r.ptr = (uint64_t)(uintptr_t)pf_cuda_ptr(t);
        memcpy(r.ip, t->ip, sizeof r.ip);
        memcpy(r.fp, t->fp, sizeof r.fp);
        pf_sig_put(G, &r, sizeof r);
        pf_sig_shape(G, t);
        for (int s = 0; s < PF_MAX_SRC; s++) {
            const pf_tensor *x = t->src[s];
            if (!x) continue;
            pf_sig_src q;
            memset(&q, 0, sizeof q);
            q.slot = s;
            q.dtype = (int32_t)x->dtype;
            q.ndim = x->ndim;
            q.ptr = (uint64_t)(uintptr_t)pf_cuda_ptr(x);
            pf_sig_put(G, &q, sizeof q);
            pf_sig_shape(G, x);
        }
    }
    *n_nodes = count;
    return PF_OK;
}

/* 64-bit FNV-1a over 8-byte words with an xor-shift (a lookup hash, not a proof: the
 * signature bytes are compared in full). */
static uint64_t pf_sig_hash(const unsigned char *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    for (; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* ---------------------------------------------------------------- entries */

/* The entry's scratch back to the allocator (no longer the graph's). */
static void pf_entry_give_back(pf_cuda_ctx *c, pf_cuda_graph_entry *e) {
    for (int i = 0; i < e->n_blocks; i++) {
        e->blocks[i]->owner = NULL;
        pf_cuda_release(&c->alloc, e->blocks[i]);
    }
}

static void pf_entry_free(pf_cuda_ctx *c, pf_cuda_graph_entry *e) {
    if (!e) return;
    /* an executable still in flight is freed by the driver when it completes; the
     * scratch may be reused at once because every later user is queued behind it */
    if (e->exec) (void)cudaGraphExecDestroy(e->exec);
    pf_entry_give_back(c, e);
    (void)cudaGetLastError();
    free(e->blocks);
    free(e->busy);
    free(e->sig);
    free(e);
}

static pf_cuda_graph_entry *pf_entry_find(pf_cuda_graphs *G, uint64_t h) {
    for (int i = 0; i < PF_CUDA_GRAPH_CACHE; i++) {
        pf_cuda_graph_entry *e = G->cache[i];
        if (e && e->hash == h && e->len == G->sig_len && !memcmp(e->sig, G->sig, G->sig_len)) return e;
    }
    return NULL;
}

/* A new entry for the current signature in a free slot or the least recently used one. */
static pf_status pf_entry_new(pf_cuda_ctx *c, uint64_t h, int n_nodes, pf_cuda_graph_entry **out) {
    pf_cuda_graphs *G = &c->graphs;
    *out = NULL;
    pf_cuda_graph_entry *e = calloc(1, sizeof *e);
    unsigned char *sig = malloc(G->sig_len);
    if (!e || !sig) {
        free(e);
        free(sig);
        return pf_error(PF_ERR_OOM, "out of host memory (CUDA graph entry)");
    }
    memcpy(sig, G->sig, G->sig_len);
    e->sig = sig;
    e->len = G->sig_len;
    e->hash = h;
    e->n_nodes = n_nodes;
    e->last_use = ++G->clock;
    int slot = 0;
    for (int i = 0; i < PF_CUDA_GRAPH_CACHE; i++) {
        if (!G->cache[i]) {
            slot = i;
            break;
        }
        if (G->cache[i]->last_use < G->cache[slot]->last_use) slot = i;
    }
    pf_entry_free(c, G->cache[slot]);
    G->cache[slot] = e;
    *out = e;
    return PF_OK;
}

static void pf_entry_drop(pf_cuda_ctx *c, pf_cuda_graph_entry *e) {
    for (int i = 0; i < PF_CUDA_GRAPH_CACHE; i++)
        if (c->graphs.cache[i] == e) c->graphs.cache[i] = NULL;
    pf_entry_free(c, e);
}

/* Give a failed capture's scratch back (nothing of it ran) and keep the entry as "not
 * capturable" so the signature runs eagerly from now on. */
static void pf_entry_fail(pf_cuda_ctx *c, pf_cuda_graph_entry *e, const char *reason) {
    if (e->exec) (void)cudaGraphExecDestroy(e->exec);
    e->exec = NULL;
    pf_entry_give_back(c, e);
    e->n_blocks = 0;
    e->scratch_bytes = 0;
    (void)cudaGetLastError(); /* a non-sticky capture error must not resurface at a launch check */
    snprintf(e->reason, sizeof e->reason, "%s", reason);
    c->graphs.n_failed++;
    PF_DEBUG("CUDA graph %s: not captured, runs node by node: %s", c->cur_graph, e->reason);
}

void pf_cuda_graphs_clear(pf_cuda_ctx *c) {
    pf_cuda_graphs *G = &c->graphs;
    for (int i = 0; i < PF_CUDA_GRAPH_CACHE; i++) {
        pf_entry_free(c, G->cache[i]);
        G->cache[i] = NULL;
    }
    memset(G->seen, 0, sizeof G->seen);
    G->seen_next = 0;
}

void pf_cuda_graphs_free(pf_cuda_ctx *c) {
    pf_cuda_graphs_clear(c);
    free(c->graphs.sig);
    c->graphs.sig = NULL;
    c->graphs.sig_len = c->graphs.sig_cap = 0;
}

/* ---------------------------------------------------------------- scratch */

pf_status pf_cuda_scratch(pf_cuda_ctx *c, size_t bytes, const char *what, pf_cuda_block **out) {
    pf_cuda_graph_entry *e = c->graphs.capturing;
    if (!e) return pf_cuda_alloc(&c->alloc, bytes, what, out);
    /* a block an earlier node of this capture gave back, of the size the allocator's
     * cache would have matched */
    size_t rounded;
    int cls = pf_cuda_size_class(bytes ? bytes : 1, &rounded);
    for (int i = 0; i < e->n_blocks; i++) {
        pf_cuda_block *b = e->blocks[i];
        if (e->busy[i] || b->cls != cls) continue;
        if (cls < 0 && (b->size < rounded || b->size > rounded + rounded / 8)) continue;
        c->alloc.requested += bytes - b->requested; /* stays in use: only the request changes */
        b->requested = bytes;
        e->busy[i] = true;
        *out = b;
        return PF_OK;
    }
    *out = NULL;
    if (e->n_blocks == e->cap_blocks) {
        int cap = e->cap_blocks ? 2 * e->cap_blocks : 8;
        pf_cuda_block **nb = realloc(e->blocks, (size_t)cap * sizeof *nb);
        if (nb) e->blocks = nb;
        bool *nbusy = nb ? realloc(e->busy, (size_t)cap * sizeof *nbusy) : NULL;
        if (!nb || !nbusy) return pf_error(PF_ERR_OOM, "out of host memory (CUDA graph scratch list)");
        e->busy = nbusy;
        e->cap_blocks = cap;
    }
    PF_TRY(pf_cuda_alloc(&c->alloc, bytes, what, out));
    (*out)->owner = e;
    e->blocks[e->n_blocks] = *out;
    e->busy[e->n_blocks] = true;
    e->n_blocks++;
    e->scratch_bytes += (*out)->size;
    return PF_OK;
}

void pf_cuda_scratch_release(pf_cuda_ctx *c, pf_cuda_block *b) {
    if (!b) return;
    pf_cuda_graph_entry *e = c->graphs.capturing;
    if (e)
        for (int i = 0; i < e->n_blocks; i++)
            if (e->blocks[i] == b) {
                e->busy[i] = false; /* free for later nodes of this capture, still the graph's */
                return;
            }
    pf_cuda_release(&c->alloc, b);
}

/* ---------------------------------------------------------------- compute */

static pf_status pf_run_eager(pf_cuda_ctx *c, pf_graph *g) {
    c->graphs.n_eager++;
    return pf_cuda_run_nodes(c, g);
}

/* Second sighting: capture, instantiate and launch; on any failure run eagerly. */
static pf_status pf_capture(pf_cuda_ctx *c, pf_graph *g, pf_cuda_graph_entry *e) {
    pf_cuda_graphs *G = &c->graphs;
    char reason[256] = "";
    cudaError_t ce = cudaStreamBeginCapture(c->stream, cudaStreamCaptureModeRelaxed);
    if (ce != cudaSuccess) {
        snprintf(reason, sizeof reason, "cudaStreamBeginCapture failed: CUDA error %d %s", (int)ce,
                 cudaGetErrorName(ce));
    } else {
        G->capturing = e;
        c->alloc.capturing = true;
        pf_status rc = pf_cuda_run_nodes(c, g);
        cudaGraph_t graph = NULL;
        /* always end the capture, also after an error: the stream must leave capture mode */
        ce = cudaStreamEndCapture(c->stream, &graph);
        G->capturing = NULL;
        c->alloc.capturing = false;
        if (rc != PF_OK)
            snprintf(reason, sizeof reason, "while capturing: %s", pf_last_error());
        else if (ce != cudaSuccess)
            snprintf(reason, sizeof reason, "cudaStreamEndCapture failed: CUDA error %d %s", (int)ce,
                     cudaGetErrorName(ce));
        else if (!graph)
            snprintf(reason, sizeof reason, "cudaStreamEndCapture returned no graph");
        else if ((ce = cudaGraphInstantiate(&e->exec, graph, 0)) != cudaSuccess) {
            e->exec = NULL;
            snprintf(reason, sizeof reason, "cudaGraphInstantiate failed: CUDA error %d %s", (int)ce,
                     cudaGetErrorName(ce));
        }
        if (graph) (void)cudaGraphDestroy(graph); /* the executable does not need it */
    }
    if (e->exec) {
        for (int i = 0; i < e->n_blocks; i++) e->busy[i] = false;
        ce = cudaGraphLaunch(e->exec, c->stream);
        if (ce == cudaSuccess) {
            G->n_captures++;
            char s[32];
            PF_DEBUG("CUDA graph %s: captured %d nodes (%s of scratch owned by the graph)", c->cur_graph, e->n_nodes,
                     pf_fmt_bytes((double)e->scratch_bytes, s, sizeof s));
            return PF_OK;
        }
        snprintf(reason, sizeof reason, "cudaGraphLaunch failed after the capture: CUDA error %d %s", (int)ce,
                 cudaGetErrorName(ce));
    }
    pf_entry_fail(c, e, reason);
    return pf_run_eager(c, g);
}

pf_status pf_cuda_graph_compute(pf_cuda_ctx *c, pf_graph *g) {
    pf_cuda_graphs *G = &c->graphs;
    if (!G->enabled || c->sync_each) return pf_run_eager(c, g);
    int n_nodes = 0;
    if (pf_sig_build(c, g, &n_nodes) != PF_OK || n_nodes == 0) return pf_run_eager(c, g); /* no host memory: no graph */
    uint64_t h = pf_sig_hash(G->sig, G->sig_len);
    pf_cuda_graph_entry *e = pf_entry_find(G, h);
    if (e) {
        e->last_use = ++G->clock;
        if (!e->exec) return pf_run_eager(c, g);
        cudaError_t ce = cudaGraphLaunch(e->exec, c->stream);
        if (ce == cudaSuccess) {
            G->n_replays++;
            return PF_OK;
        }
        (void)cudaGetLastError();
        PF_DEBUG("CUDA graph %s: cudaGraphLaunch failed (CUDA error %d %s); dropped, running node by node",
                 c->cur_graph, (int)ce, cudaGetErrorName(ce));
        G->n_failed++;
        pf_entry_drop(c, e);
        return pf_run_eager(c, g);
    }
    bool seen = false;
    for (int i = 0; i < PF_CUDA_GRAPH_SEEN && !seen; i++) seen = G->seen[i] == h;
    if (!seen) { /* first sighting: run it as it is and remember it */
        G->seen[G->seen_next] = h;
        G->seen_next = (G->seen_next + 1) % PF_CUDA_GRAPH_SEEN;
        return pf_run_eager(c, g);
    }
    if (pf_entry_new(c, h, n_nodes, &e) != PF_OK) return pf_run_eager(c, g); /* no host memory: no graph */
    return pf_capture(c, g, e);
}

pf_status pf_cuda_graph_stats(pf_backend *be, pf_cuda_graph_counters *out) {
    memset(out, 0, sizeof *out);
    if (!pf_backend_is_cuda(be)) return pf_error(PF_ERR_INVALID_ARG, "pf_cuda_graph_stats: not a CUDA backend");
    const pf_cuda_graphs *G = &((pf_cuda_ctx *)be->ctx)->graphs;
    out->enabled = G->enabled;
    out->n_eager = G->n_eager;
    out->n_captures = G->n_captures;
    out->n_replays = G->n_replays;
    out->n_failed = G->n_failed;
    for (int i = 0; i < PF_CUDA_GRAPH_CACHE; i++) {
        const pf_cuda_graph_entry *e = G->cache[i];
        if (!e || !e->exec) continue;
        out->n_cached++;
        out->scratch_bytes += e->scratch_bytes;
    }
    return PF_OK;
}
