/*
 * The CUDA backend: device selection, device info, buffers from the caching
 * allocator, transfers through pinned staging, graph execution on one stream.
 *
 * Device: opts->device, else $PF_CUDA_DEVICE, else 0. Without a usable driver or
 * device, creation fails with PF_ERR_UNSUPPORTED and the runtime's reason
 * ("CUDA driver/runtime error 35: ..."), which `pflow devices` prints and the
 * tests turn into a skip.
 *
 * Execution: every node of a planned graph is looked up in the op table
 * (cuda_ops.c) and its kernel enqueued on the backend's stream; nothing waits
 * until synchronize (pf_graph_compute calls it), which also reads the device-side
 * error record (bad embedding ids). PF_CUDA_SYNC=1 synchronises after every node
 * so an asynchronous fault is reported at the node that caused it. A graph computed
 * again with the same nodes and addresses is captured as a CUDA graph and replayed
 * with one launch (cuda_graphexec.c).
 *
 * Environment: PF_CUDA_DEVICE (index), PF_CUDA_SYNC=1, PF_CUDA_GEMM=ref (reference
 * GEMM kernel instead of cuBLASLt, to cross-check it), PF_CUDA_ATTN=simple (the
 * general attention kernel instead of the tensor-core one, likewise) or
 * w8|w8-occ1|w4m2|w8m2 (the tensor-core kernel's launch variant, for benchmarks),
 * PF_CUDA_CONV=auto|direct|gemm (the conv3d path, cuda_conv.c),
 * PF_CUDA_CONV_CHUNK=bytes (its column chunk), PF_CUDA_FUSE=0 (no fused node pairs,
 * cuda_fuse.c), PF_CUDA_GRAPHS=0 (no CUDA graphs: every call runs node by node) and
 * PF_CUDA_PROFILE=1 (GPU time per node, printed after each compute; cuda_profile.c; =total:
 * summed over the backend's life, printed once when it is freed: a VAE decode's chunk runs).
 */
#include "cuda_impl.h"
#include "pf_backend_impl.h"

#include <errno.h>
#include <stdarg.h>

_Static_assert((int)PF_CU_F32 == (int)PF_F32 && (int)PF_CU_BF16 == (int)PF_BF16 && (int)PF_CU_F16 == (int)PF_F16 &&
                   (int)PF_CU_I32 == (int)PF_I32 && (int)PF_CU_I64 == (int)PF_I64 && (int)PF_CU_U8 == (int)PF_U8 &&
                   (int)PF_CU_BOOL == (int)PF_BOOL && (int)PF_CU_F64 == (int)PF_F64,
               "kernel dtype codes must equal pf_dtype");
_Static_assert(PF_CU_DIMS == PF_MAX_DIMS, "kernel shapes have PF_MAX_DIMS dimensions");

/* ---------------------------------------------------------------- errors */

/* "cudaMemcpyAsync(dst, ...)" -> "cudaMemcpyAsync" */
static void pf_call_name(const char *call, char *out, size_t n) {
    size_t i = 0;
    while (call[i] && call[i] != '(' && i + 1 < n) {
        out[i] = call[i];
        i++;
    }
    out[i] = '\0';
}

pf_status pf_cuda_error(cudaError_t e, const char *call, const char *fmt, ...) {
    char ctx[768], name[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx, sizeof ctx, fmt, ap);
    va_end(ap);
    pf_call_name(call, name, sizeof name);
    (void)cudaGetLastError(); /* a non-sticky error must not resurface at the next launch check */
    return pf_error(e == cudaErrorMemoryAllocation ? PF_ERR_OOM : PF_ERR_BACKEND,
                    "%s: %s failed: CUDA error %d %s (%s)", ctx, name, (int)e, cudaGetErrorName(e),
                    cudaGetErrorString(e));
}

pf_status pf_cublas_error(cublasStatus_t s, const char *call, const char *fmt, ...) {
    char ctx[768], name[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx, sizeof ctx, fmt, ap);
    va_end(ap);
    pf_call_name(call, name, sizeof name);
    return pf_error(s == CUBLAS_STATUS_ALLOC_FAILED ? PF_ERR_OOM : PF_ERR_BACKEND,
                    "%s: %s failed: cuBLASLt status %d %s (%s)", ctx, name, (int)s, cublasLtGetStatusName(s),
                    cublasLtGetStatusString(s));
}

const char *pf_cuda_desc(const pf_tensor *t, char *buf, size_t n) {
    char s[96];
    snprintf(buf, n, "%s %s", pf_shape_str(t, s, sizeof s), pf_dtype_name(t->dtype));
    return buf;
}

pf_status pf_cuda_launched(pf_cuda_ctx *c, cudaError_t e, const char *kernel) {
    if (e == cudaSuccess) return PF_OK;
    (void)cudaGetLastError();
    const pf_tensor *t = c->cur;
    char d[128] = "";
    if (t) pf_cuda_desc(t, d, sizeof d);
    return pf_error(PF_ERR_BACKEND, "CUDA kernel %s for %s '%s' %s (graph %s, node %d): CUDA error %d %s (%s)", kernel,
                    t ? pf_op_name(t->op) : "?", t ? t->name : "", d, c->cur_graph, c->cur_index, (int)e,
                    cudaGetErrorName(e), cudaGetErrorString(e));
}

/* ---------------------------------------------------------------- helpers */

void *pf_cuda_ptr(const pf_tensor *t) {
    const pf_tensor *r = pf_root((pf_tensor *)t);
    if (!r->buffer || !r->buffer->impl) return NULL;
    return (char *)((pf_cuda_block *)r->buffer->impl)->ptr + pf_data_offset(t);
}

pf_cu_out pf_cuda_out(const pf_tensor *shape, void *ptr) {
    pf_cu_out o;
    memset(&o, 0, sizeof o);
    o.data = ptr;
    o.dtype = (int32_t)shape->dtype;
    int off = PF_CU_DIMS - shape->ndim;
    for (int d = 0; d < PF_CU_DIMS; d++) o.ne[d] = d < off ? 1 : shape->ne[d - off];
    return o;
}

pf_cu_view pf_cuda_view(const pf_tensor *src, const pf_tensor *space) {
    pf_cu_view v;
    memset(&v, 0, sizeof v);
    v.data = pf_cuda_ptr(src);
    v.dtype = (int32_t)src->dtype;
    int off = PF_CU_DIMS - src->ndim, soff = PF_CU_DIMS - space->ndim;
    int64_t expect = 1;
    v.dense = 1;
    for (int d = PF_CU_DIMS - 1; d >= 0; d--) {
        v.ne[d] = d < off ? 1 : src->ne[d - off];
        v.st[d] = (d < off || v.ne[d] == 1) ? 0 : src->st[d - off];
        int64_t sne = d < soff ? 1 : space->ne[d - soff];
        if (sne != 1 && (v.ne[d] != sne || v.st[d] != expect)) v.dense = 0;
        expect *= sne;
    }
    return v;
}

/* ---------------------------------------------------------------- backend ops */

static void cuda_free_ctx(pf_cuda_ctx *c) {
    if (!c) return;
    if (c->stream) (void)cudaStreamSynchronize(c->stream);
    if (c->profile) { /* what was computed but not synchronised, as Vulkan does */
        (void)pf_cuda_prof_collect(c);
        pf_cuda_prof_report(c);
    }
    pf_cuda_prof_free(c);
    pf_cuda_graphs_free(c); /* before the allocator: the graphs hold scratch blocks */
    pf_cuda_gemm_destroy(c);
    if (c->lt) cublasLtDestroy(c->lt);
    pf_cuda_release(&c->alloc, c->workspace);
    pf_cuda_release(&c->alloc, c->err_block);
    pf_cuda_allocator_destroy(&c->alloc);
    for (int k = 0; k < 2; k++) {
        if (c->pinned_ev[k]) cudaEventDestroy(c->pinned_ev[k]);
        if (c->pinned[k]) cudaFreeHost(c->pinned[k]);
    }
    if (c->err_host) cudaFreeHost(c->err_host);
    if (c->stream) cudaStreamDestroy(c->stream);
    (void)cudaGetLastError();
    free(c->fuse);
    free(c->fuse_partner);
    free(c);
}

static void cuda_destroy(pf_backend *be) {
    pf_cuda_ctx *c = be->ctx;
    if (c) (void)cudaSetDevice(c->device);
    cuda_free_ctx(c);
    free(be);
}

static void cuda_get_info(pf_backend *be, pf_backend_info *info) {
    pf_cuda_ctx *c = be->ctx;
    snprintf(info->name, sizeof info->name, "cuda");
    snprintf(info->device, sizeof info->device, "%.120s (device %d, sm_%d%d, %d SMs, driver CUDA %d.%d, runtime %d.%d)",
             c->name, c->device, c->cc_major, c->cc_minor, c->sm_count, c->driver_version / 1000,
             c->driver_version % 1000 / 10, c->runtime_version / 1000, c->runtime_version % 1000 / 10);
    size_t fr = 0, tot = 0;
    if (cudaSetDevice(c->device) == cudaSuccess && cudaMemGetInfo(&fr, &tot) == cudaSuccess) {
        info->mem_free = fr;
        info->mem_total = tot;
    } else {
        (void)cudaGetLastError();
        info->mem_total = c->total_mem;
    }
    /* one cudaMalloc can take up to the whole memory; blocks are 256-byte aligned */
    info->max_buffer_size = c->total_mem;
    info->alignment = 256;
}

static bool cuda_supports_op(pf_backend *be, const pf_tensor *n) {
    if ((unsigned)n->op >= PF_OP_COUNT) return false;
    if (n->op == PF_OP_NONE || n->op == PF_OP_VIEW) return true;
    if (n->ndim > PF_MAX_DIMS) return false;
    const pf_cuda_op_entry *e = &pf_cuda_ops[n->op];
    return e->supports && e->run && e->supports(be->ctx, n);
}

static pf_status cuda_buffer_alloc(pf_backend *be, size_t size, pf_buffer **out) {
    pf_cuda_ctx *c = be->ctx;
    *out = NULL;
    PF_CUDA_TRY(cudaSetDevice(c->device), "selecting CUDA device %d", c->device);
    pf_buffer *b = calloc(1, sizeof *b);
    if (!b) return pf_error(PF_ERR_OOM, "out of host memory (buffer)");
    pf_cuda_block *blk;
    pf_status rc = pf_cuda_alloc(&c->alloc, size, "a buffer", &blk);
    if (rc != PF_OK) {
        free(b);
        return rc;
    }
    b->backend = be;
    b->size = size;
    b->impl = blk;
    *out = b;
    return PF_OK;
}

static void cuda_buffer_free(pf_backend *be, pf_buffer *b) {
    pf_cuda_ctx *c = be->ctx;
    pf_cuda_release(&c->alloc, b->impl);
    free(b);
}

/* Wait until pinned staging buffer k is no longer read or written by a queued copy. */
static pf_status pf_staging_wait(pf_cuda_ctx *c, int k) {
    if (!c->pinned_busy[k]) return PF_OK;
    c->pinned_busy[k] = false;
    PF_CUDA_TRY(cudaEventSynchronize(c->pinned_ev[k]), "waiting for a staged copy");
    return PF_OK;
}

/* Host -> device. Data go through the two pinned staging buffers in turn (a pageable
 * cudaMemcpyAsync would synchronise the stream), so the upload overlaps queued work and
 * the next chunk's memcpy overlaps the previous chunk's DMA. On return the caller's
 * buffer may be reused; later work on the stream sees the data. */
static pf_status cuda_upload(pf_backend *be, pf_buffer *b, size_t off, const void *src, size_t n) {
    pf_cuda_ctx *c = be->ctx;
    if (off + n > b->size || off + n < off)
        return pf_error(PF_ERR_INTERNAL, "CUDA upload of %zu bytes at offset %zu outside a buffer of %zu", n, off,
                        b->size);
    if (n == 0) return PF_OK;
    PF_CUDA_TRY(cudaSetDevice(c->device), "selecting CUDA device %d", c->device);
    char *dst = (char *)((pf_cuda_block *)b->impl)->ptr + off;
    const char *s = src;
    if (!c->pinned[0]) {
        PF_CUDA_TRY(cudaMemcpyAsync(dst, src, n, cudaMemcpyHostToDevice, c->stream), "upload of %zu bytes", n);
        PF_CUDA_TRY(cudaStreamSynchronize(c->stream), "upload of %zu bytes", n);
        return PF_OK;
    }
    for (size_t done = 0; done < n;) {
        size_t chunk = PF_MIN(n - done, PF_CUDA_STAGING_BYTES);
        int k = c->pinned_next;
        c->pinned_next ^= 1;
        PF_TRY(pf_staging_wait(c, k));
        memcpy(c->pinned[k], s + done, chunk);
        PF_CUDA_TRY(cudaMemcpyAsync(dst + done, c->pinned[k], chunk, cudaMemcpyHostToDevice, c->stream),
                    "upload of %zu bytes (chunk at %zu)", n, done);
        PF_CUDA_TRY(cudaEventRecord(c->pinned_ev[k], c->stream), "upload of %zu bytes", n);
        c->pinned_busy[k] = true;
        done += chunk;
    }
    return PF_OK;
}

/* Device -> host, blocking. Chunks alternate between the staging buffers: while one
 * chunk is copied out to the caller, the next one is in flight. */
static pf_status cuda_download(pf_backend *be, pf_buffer *b, size_t off, void *dst, size_t n) {
    pf_cuda_ctx *c = be->ctx;
    if (off + n > b->size || off + n < off)
        return pf_error(PF_ERR_INTERNAL, "CUDA download of %zu bytes at offset %zu outside a buffer of %zu", n, off,
                        b->size);
    if (n == 0) return PF_OK;
    PF_CUDA_TRY(cudaSetDevice(c->device), "selecting CUDA device %d", c->device);
    const char *src = (const char *)((pf_cuda_block *)b->impl)->ptr + off;
    char *d = dst;
    if (!c->pinned[0]) {
        PF_CUDA_TRY(cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToHost, c->stream), "download of %zu bytes", n);
        PF_CUDA_TRY(cudaStreamSynchronize(c->stream), "download of %zu bytes", n);
        return PF_OK;
    }
    int pend = -1;
    size_t pend_off = 0, pend_len = 0;
    for (size_t done = 0; done < n;) {
        size_t chunk = PF_MIN(n - done, PF_CUDA_STAGING_BYTES);
        int k = c->pinned_next;
        c->pinned_next ^= 1;
        PF_TRY(pf_staging_wait(c, k));
        PF_CUDA_TRY(cudaMemcpyAsync(c->pinned[k], src + done, chunk, cudaMemcpyDeviceToHost, c->stream),
                    "download of %zu bytes (chunk at %zu)", n, done);
        PF_CUDA_TRY(cudaEventRecord(c->pinned_ev[k], c->stream), "download of %zu bytes", n);
        c->pinned_busy[k] = true;
        if (pend >= 0) {
            PF_TRY(pf_staging_wait(c, pend));
            memcpy(d + pend_off, c->pinned[pend], pend_len);
        }
        pend = k;
        pend_off = done;
        pend_len = chunk;
        done += chunk;
    }
    PF_TRY(pf_staging_wait(c, pend));
    memcpy(d + pend_off, c->pinned[pend], pend_len);
    return PF_OK;
}

/* Reads and clears the device-side error record. */
static pf_status pf_cuda_device_errors(pf_cuda_ctx *c) {
    PF_CUDA_TRY(cudaMemcpyAsync(c->err_host, c->err_block->ptr, 4 * sizeof(int64_t), cudaMemcpyDeviceToHost, c->stream),
                "reading the CUDA error record");
    PF_CUDA_TRY(cudaStreamSynchronize(c->stream), "reading the CUDA error record");
    if (c->err_host[0] == PF_CU_ERR_NONE) return PF_OK;
    int64_t code = c->err_host[0], node = c->err_host[1], val = c->err_host[2], lim = c->err_host[3];
    PF_CUDA_TRY(cudaMemsetAsync(c->err_block->ptr, 0, 4 * sizeof(int64_t), c->stream),
                "clearing the CUDA error record");
    if (code == PF_CU_ERR_EMBEDDING_ID)
        return pf_error(PF_ERR_INVALID_ARG, "graph %s, node %lld (embedding): id %lld outside [0, %lld)", c->cur_graph,
                        (long long)node, (long long)val, (long long)lim);
    return pf_error(PF_ERR_INTERNAL, "graph %s, node %lld: device error %lld", c->cur_graph, (long long)node,
                    (long long)code);
}

static pf_status cuda_synchronize(pf_backend *be) {
    pf_cuda_ctx *c = be->ctx;
    PF_CUDA_TRY(cudaSetDevice(c->device), "selecting CUDA device %d", c->device);
    PF_CUDA_TRY(cudaStreamSynchronize(c->stream), "waiting for the CUDA stream (graph %s)", c->cur_graph);
    pf_status rc = pf_cuda_device_errors(c);
    if (c->profile) {
        pf_status r2 = pf_cuda_prof_collect(c);
        if (rc == PF_OK) rc = r2;
        if (!c->profile_total) pf_cuda_prof_report(c);
    }
    return rc;
}

void pf_cuda_range(const pf_tensor *t, uintptr_t *lo, uintptr_t *hi) {
    int64_t elo = 0, ehi = 0;
    for (int d = 0; d < t->ndim; d++) {
        if (t->ne[d] == 0) {
            *lo = *hi = 0;
            return;
        }
        if (t->ne[d] == 1) continue;
        if (t->st[d] >= 0)
            ehi += (t->ne[d] - 1) * t->st[d];
        else
            elo += (t->ne[d] - 1) * t->st[d];
    }
    uintptr_t base = (uintptr_t)pf_cuda_ptr(t);
    if (!base) {
        *lo = *hi = 0;
        return;
    }
    int64_t es = (int64_t)pf_dtype_size(t->dtype);
    *lo = base + (uintptr_t)(elo * es);
    *hi = base + (uintptr_t)((ehi + 1) * es);
}

/* Whether computing node t straight into its memory could read an input after
 * overwriting it (see PF_CUDA_ALIAS_*). */
static bool pf_needs_temp(const pf_tensor *t, int alias) {
    uintptr_t dlo, dhi;
    pf_cuda_range(t, &dlo, &dhi);
    if (dlo == dhi) return false;
    for (int s = 0; s < PF_MAX_SRC; s++) {
        const pf_tensor *x = t->src[s];
        if (!x) continue;
        uintptr_t lo, hi;
        pf_cuda_range(x, &lo, &hi);
        if (lo == hi || hi <= dlo || lo >= dhi) continue;
        bool may = alias == PF_CUDA_ALIAS_ANY || (alias == PF_CUDA_ALIAS_SRC0 && s == 0);
        if (may && x->dtype == t->dtype && x->ndim <= t->ndim && pf_cuda_ptr(x) == pf_cuda_ptr(t)) {
            pf_cu_view v = pf_cuda_view(x, t);
            if (v.dense) continue; /* element i read and written by the same thread */
        }
        return true;
    }
    return false;
}

static pf_status pf_run_node(pf_cuda_ctx *c, const pf_tensor *t) {
    const pf_cuda_op_entry *e = &pf_cuda_ops[t->op];
    if (!e->run) return pf_error(PF_ERR_UNSUPPORTED, "CUDA backend has no kernel for %s", pf_op_name(t->op));
    size_t bytes = pf_nbytes(t);
    if (bytes == 0) return PF_OK;
    void *dst = pf_cuda_ptr(t);
    if (!dst) return pf_error(PF_ERR_INTERNAL, "node '%s' has no CUDA storage", t->name);
    if (!pf_needs_temp(t, e->alias)) return e->run(c, t, dst);
    /* an input overlaps the output in a way the kernel cannot take: compute aside, then copy */
    pf_cuda_block *tmp;
    char d[128];
    PF_TRY(pf_cuda_scratch(c, bytes, "an aliasing output's temporary", &tmp));
    pf_status rc = e->run(c, t, tmp->ptr);
    if (rc == PF_OK) {
        cudaError_t ce = cudaMemcpyAsync(dst, tmp->ptr, bytes, cudaMemcpyDeviceToDevice, c->stream);
        if (ce != cudaSuccess)
            rc = pf_cuda_error(ce, "cudaMemcpyAsync", "copying %s '%s' %s out of its temporary", pf_op_name(t->op),
                               t->name, pf_cuda_desc(t, d, sizeof d));
    }
    pf_cuda_scratch_release(c, tmp);
    return rc;
}

/* Node t on its own, timed under PF_CUDA_PROFILE. */
static pf_status pf_run_timed(pf_cuda_ctx *c, const pf_tensor *t) {
    PF_TRY(pf_cuda_prof_begin(c));
    PF_TRY(pf_run_node(c, t));
    return pf_cuda_prof_end(c, t, NULL);
}

/* Consumer i (fusion role `role`) with its producer: one fused kernel, or when the
 * kernel declines, the two nodes one after the other; each run timed as what it was. */
static pf_status pf_run_pair(pf_cuda_ctx *c, pf_graph *g, int i, int role) {
    pf_tensor *t = pf_graph_node(g, i), *p = pf_graph_node(g, c->fuse_partner[i]);
    bool done = pf_nbytes(t) == 0;
    PF_TRY(pf_cuda_prof_begin(c));
    if (!done) PF_TRY(pf_cuda_run_fused(c, role, p, t, pf_cuda_ptr(t), &done));
    if (done) return pf_cuda_prof_end(c, p, t);
    c->fstats.declined++; /* nothing enqueued: the open bracket times the producer alone */
    c->cur = p;
    c->cur_index = c->fuse_partner[i];
    PF_TRY(pf_run_node(c, p));
    PF_TRY(pf_cuda_prof_end(c, p, NULL));
    c->cur = t;
    c->cur_index = i;
    return pf_run_timed(c, t);
}

pf_status pf_cuda_run_nodes(pf_cuda_ctx *c, pf_graph *g) {
    int n = pf_graph_n_nodes(g);
    const pf_cuda_fusion_stats f0 = c->fstats;
    pf_status rc = pf_cuda_fuse_plan(c, g);
    for (int i = 0; i < n && rc == PF_OK; i++) {
        pf_tensor *t = pf_graph_node(g, i);
        if (!pf_node_is_compute(t)) continue;
        const int role = c->fuse[i];
        if (role == PF_CUDA_FUSE_SKIP) continue; /* computed with its consumer */
        c->cur = t;
        c->cur_index = i;
        rc = role != PF_CUDA_FUSE_NONE ? pf_run_pair(c, g, i, role) : pf_run_timed(c, t);
        if (rc == PF_OK && c->sync_each) {
            cudaError_t e = cudaStreamSynchronize(c->stream);
            if (e != cudaSuccess) rc = pf_cuda_error(e, "cudaStreamSynchronize", "after the kernel (PF_CUDA_SYNC=1)");
            if (rc == PF_OK) rc = pf_cuda_device_errors(c);
        }
        if (rc != PF_OK) {
            char d[128];
            rc = pf_error_wrap(rc, "node %d (%s '%s' %s)", i, pf_op_name(t->op), t->name, pf_cuda_desc(t, d, sizeof d));
        }
    }
    c->cur = NULL;
    c->fstats_last = (pf_cuda_fusion_stats){
        .norm_modulate = c->fstats.norm_modulate - f0.norm_modulate,
        .norm_rope = c->fstats.norm_rope - f0.norm_rope,
        .gemm_gelu = c->fstats.gemm_gelu - f0.gemm_gelu,
        .declined = c->fstats.declined - f0.declined,
    };
    return rc;
}

static pf_status cuda_compute(pf_backend *be, pf_graph *g) {
    pf_cuda_ctx *c = be->ctx;
    PF_CUDA_TRY(cudaSetDevice(c->device), "selecting CUDA device %d", c->device);
    snprintf(c->cur_graph, sizeof c->cur_graph, "%s", pf_graph_name(g));
    return pf_cuda_graph_compute(c, g);
}

static const pf_backend_ops pf_cuda_backend_ops = {
    .name = "cuda",
    .destroy = cuda_destroy,
    .get_info = cuda_get_info,
    .supports_op = cuda_supports_op,
    .buffer_alloc = cuda_buffer_alloc,
    .buffer_free = cuda_buffer_free,
    .upload = cuda_upload,
    .download = cuda_download,
    .compute = cuda_compute,
    .synchronize = cuda_synchronize,
};

bool pf_backend_is_cuda(const pf_backend *be) { return be && be->ops == &pf_cuda_backend_ops; }

pf_status pf_cuda_fusion_stats_get(pf_backend *be, pf_cuda_fusion_stats *total, pf_cuda_fusion_stats *last) {
    if (total) memset(total, 0, sizeof *total);
    if (last) memset(last, 0, sizeof *last);
    if (!pf_backend_is_cuda(be)) return pf_error(PF_ERR_INVALID_ARG, "pf_cuda_fusion_stats_get: not a CUDA backend");
    const pf_cuda_ctx *c = be->ctx;
    if (total) *total = c->fstats;
    if (last) *last = c->fstats_last;
    return PF_OK;
}

pf_status pf_cuda_memory_stats(pf_backend *be, pf_cuda_mem_stats *out) {
    memset(out, 0, sizeof *out);
    if (!pf_backend_is_cuda(be)) return pf_error(PF_ERR_INVALID_ARG, "pf_cuda_memory_stats: not a CUDA backend");
    pf_cuda_ctx *c = be->ctx;
    out->in_use = c->alloc.in_use;
    out->requested = c->alloc.requested;
    out->cached = c->alloc.cached;
    out->peak_in_use = c->alloc.peak;
    out->n_device_allocs = c->alloc.n_malloc;
    out->n_device_frees = c->alloc.n_free;
    out->n_cache_hits = c->alloc.n_hits;
    PF_CUDA_TRY(cudaSetDevice(c->device), "selecting CUDA device %d", c->device);
    PF_CUDA_TRY(cudaMemGetInfo(&out->device_free, &out->device_total), "reading the memory of CUDA device %d",
                c->device);
    return PF_OK;
}

pf_status pf_cuda_conv_stats_get(pf_backend *be, pf_cuda_conv_stats *out) {
    memset(out, 0, sizeof *out);
    if (!pf_backend_is_cuda(be)) return pf_error(PF_ERR_INVALID_ARG, "pf_cuda_conv_stats_get: not a CUDA backend");
    *out = ((pf_cuda_ctx *)be->ctx)->conv_stats;
    return PF_OK;
}

pf_status pf_cuda_empty_cache(pf_backend *be) {
    if (!pf_backend_is_cuda(be)) return pf_error(PF_ERR_INVALID_ARG, "pf_cuda_empty_cache: not a CUDA backend");
    pf_cuda_ctx *c = be->ctx;
    PF_CUDA_TRY(cudaSetDevice(c->device), "selecting CUDA device %d", c->device);
    pf_cuda_graphs_clear(c); /* their scratch goes back to the cache, then to the device */
    return pf_cuda_trim(&c->alloc);
}

/* ---------------------------------------------------------------- creation */

static bool pf_env_flag(const char *name) {
    const char *e = getenv(name);
    return e && *e && strcmp(e, "0") != 0;
}

static pf_status pf_cuda_pick_device(const pf_backend_options *opts, int count, int *dev) {
    *dev = opts && opts->device >= 0 ? opts->device : -1;
    const char *env = getenv("PF_CUDA_DEVICE");
    if (*dev < 0 && env && *env) {
        char *end;
        errno = 0;
        long v = strtol(env, &end, 10);
        if (errno || *end || v < 0 || v > 1024)
            return pf_error(PF_ERR_INVALID_ARG, "PF_CUDA_DEVICE='%s' is not a device index", env);
        *dev = (int)v;
    }
    if (*dev < 0) *dev = 0;
    if (*dev >= count)
        return pf_error(PF_ERR_INVALID_ARG, "CUDA device %d requested but %d device%s found", *dev, count,
                        count == 1 ? " was" : "s were");
    return PF_OK;
}

/* PF_CUDA_ATTN: simple (the general kernel everywhere), or the tensor-core kernel's launch
 * variant (pf_cuda_kernels.h; default PF_CUDA_ATTN_DEFAULT). */
static pf_status pf_cuda_attn_env(pf_cuda_ctx *c) {
    static const char *const names[PF_CU_ATTN_N_VARIANTS] = {"w8", "w8-occ1", "w4m2", "w8m2"}; /* PF_CU_ATTN_* */
    const char *m = getenv("PF_CUDA_ATTN");
    c->attn_variant = PF_CUDA_ATTN_DEFAULT;
    c->attn_simple = false;
    if (!m || !*m) return PF_OK;
    if (!strcmp(m, "simple")) {
        c->attn_simple = true;
        return PF_OK;
    }
    for (int i = 0; i < PF_CU_ATTN_N_VARIANTS; i++)
        if (!strcmp(m, names[i])) {
            c->attn_variant = i;
            return PF_OK;
        }
    return pf_error(PF_ERR_INVALID_ARG, "PF_CUDA_ATTN='%s' is not simple, w8, w8-occ1, w4m2 or w8m2", m);
}

/* PF_CUDA_CONV and PF_CUDA_CONV_CHUNK. */
static pf_status pf_cuda_conv_env(pf_cuda_ctx *c) {
    static const char *const names[] = {"auto", "direct", "gemm", "implicit"}; /* pf_cuda_conv_mode order */
    const char *m = getenv("PF_CUDA_CONV");
    c->conv_mode = PF_CUDA_CONV_AUTO;
    if (m && *m) {
        int i = 0;
        const int n = (int)PF_ARRAY_LEN(names);
        while (i < n && strcmp(m, names[i])) i++;
        if (i == n) return pf_error(PF_ERR_INVALID_ARG, "PF_CUDA_CONV='%s' is not auto, direct, gemm or implicit", m);
        c->conv_mode = (pf_cuda_conv_mode)i;
    }
    c->conv_stats.mode = names[c->conv_mode];
    const char *ch = getenv("PF_CUDA_CONV_CHUNK");
    if (ch && *ch) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(ch, &end, 10);
        if (errno || *end || v == 0 || ch[0] == '-')
            return pf_error(PF_ERR_INVALID_ARG, "PF_CUDA_CONV_CHUNK='%s' is not a positive byte count", ch);
        c->conv_chunk = (size_t)v;
    }
    return PF_OK;
}

static pf_status pf_cuda_init(pf_cuda_ctx *c) {
    struct cudaDeviceProp p;
    PF_CUDA_TRY(cudaSetDevice(c->device), "selecting CUDA device %d", c->device);
    PF_CUDA_TRY(cudaGetDeviceProperties(&p, c->device), "reading the properties of CUDA device %d", c->device);
    snprintf(c->name, sizeof c->name, "%.127s", p.name);
    c->cc_major = p.major;
    c->cc_minor = p.minor;
    c->sm_count = p.multiProcessorCount;
    c->total_mem = p.totalGlobalMem;
    (void)cudaDriverGetVersion(&c->driver_version);
    (void)cudaRuntimeGetVersion(&c->runtime_version);
    cudaError_t e = pf_cu_probe();
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        return pf_error(
            PF_ERR_UNSUPPORTED,
            "CUDA device %d (%s, sm_%d%d) cannot run this build's kernels (built for CMAKE_CUDA_ARCHITECTURES "
            "%s): CUDA error %d %s (%s)",
            c->device, c->name, c->cc_major, c->cc_minor, PF_CUDA_ARCHS, (int)e, cudaGetErrorName(e),
            cudaGetErrorString(e));
    }
    PF_CUDA_TRY(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking), "creating a CUDA stream");
    c->alloc.stream = c->stream;
    /* Pinned staging is an optimisation: without it transfers go direct (and synchronise). */
    for (int k = 0; k < 2; k++) {
        if (cudaHostAlloc(&c->pinned[k], PF_CUDA_STAGING_BYTES, cudaHostAllocDefault) != cudaSuccess ||
            cudaEventCreateWithFlags(&c->pinned_ev[k], cudaEventDisableTiming) != cudaSuccess) {
            (void)cudaGetLastError();
            PF_WARN("CUDA: no pinned staging memory; transfers will be synchronous");
            for (int j = 0; j < 2; j++) {
                if (c->pinned[j]) cudaFreeHost(c->pinned[j]);
                if (c->pinned_ev[j]) cudaEventDestroy(c->pinned_ev[j]);
                c->pinned[j] = NULL;
                c->pinned_ev[j] = NULL;
            }
            (void)cudaGetLastError();
            break;
        }
    }
    PF_CUDA_TRY(cudaHostAlloc((void **)&c->err_host, 4 * sizeof(int64_t), cudaHostAllocDefault),
                "allocating the pinned error record");
    PF_TRY(pf_cuda_alloc(&c->alloc, 4 * sizeof(int64_t), "the device error record", &c->err_block));
    PF_CUDA_TRY(cudaMemsetAsync(c->err_block->ptr, 0, 4 * sizeof(int64_t), c->stream), "clearing the error record");
    PF_CUBLAS_TRY(cublasLtCreate(&c->lt), "creating the cuBLASLt handle on CUDA device %d", c->device);
    PF_CUDA_TRY(cudaStreamSynchronize(c->stream), "initialising CUDA device %d", c->device);
    return PF_OK;
}

pf_status pf_backend_cuda_create(const pf_backend_options *opts, pf_backend **out) {
    *out = NULL;
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        int dv = 0, rv = 0;
        (void)cudaDriverGetVersion(&dv);
        (void)cudaRuntimeGetVersion(&rv);
        (void)cudaGetLastError();
        char drv[64];
        if (dv > 0)
            snprintf(drv, sizeof drv, "the driver supports CUDA %d.%d", dv / 1000, dv % 1000 / 10);
        else
            snprintf(drv, sizeof drv, "no CUDA driver is loaded");
        return pf_error(PF_ERR_UNSUPPORTED,
                        "CUDA driver/runtime error %d: %s (%s from cudaGetDeviceCount; %s, runtime %d.%d)", (int)e,
                        cudaGetErrorString(e), cudaGetErrorName(e), drv, rv / 1000, rv % 1000 / 10);
    }
    if (count <= 0) return pf_error(PF_ERR_UNSUPPORTED, "no CUDA device found (cudaGetDeviceCount returned 0)");
    int dev;
    PF_TRY(pf_cuda_pick_device(opts, count, &dev));

    pf_backend *be = calloc(1, sizeof *be);
    pf_cuda_ctx *c = calloc(1, sizeof *c);
    if (!be || !c) {
        free(be);
        free(c);
        return pf_error(PF_ERR_OOM, "out of host memory (CUDA backend)");
    }
    c->device = dev;
    c->sync_each = pf_env_flag("PF_CUDA_SYNC");
    const char *gm = getenv("PF_CUDA_GEMM");
    c->gemm_ref = gm && !strcmp(gm, "ref");
    const char *fu = getenv("PF_CUDA_FUSE");
    c->no_fuse = fu && !strcmp(fu, "0");
    c->profile = pf_env_flag("PF_CUDA_PROFILE");
    const char *pm = getenv("PF_CUDA_PROFILE");
    c->profile_total = c->profile && !strcmp(pm, "total"); /* one table at the end, not per compute */
    /* CUDA graphs unless PF_CUDA_GRAPHS=0; PF_CUDA_SYNC=1 wants every node on its own, and
     * PF_CUDA_PROFILE=1 every node between its own timing events */
    const char *cg = getenv("PF_CUDA_GRAPHS");
    c->graphs.enabled = !(cg && !strcmp(cg, "0")) && !c->sync_each && !c->profile;
    pf_status rc = pf_cuda_attn_env(c);
    if (rc == PF_OK) rc = pf_cuda_conv_env(c);
    if (rc == PF_OK) rc = pf_cuda_init(c);
    if (rc != PF_OK) {
        cuda_free_ctx(c);
        free(be);
        return rc;
    }
    be->ops = &pf_cuda_backend_ops;
    be->ctx = c;
    *out = be;
    return PF_OK;
}
