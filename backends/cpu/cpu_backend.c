/* The CPU backend: host buffers, op table, graph execution. */
#include "cpu_gemm.h"
#include "pf_backend_impl.h"

#include <unistd.h>

static const pf_cpu_kernel pf_cpu_ref_kernels[PF_OP_COUNT] = {
    [PF_OP_CPY] = pf_cpu_ref_cpy,
    [PF_OP_CONCAT] = pf_cpu_ref_concat,
    [PF_OP_ADD] = pf_cpu_ref_binary,
    [PF_OP_SUB] = pf_cpu_ref_binary,
    [PF_OP_MUL] = pf_cpu_ref_binary,
    [PF_OP_SCALE] = pf_cpu_ref_scale,
    [PF_OP_UNARY] = pf_cpu_ref_unary,
    [PF_OP_LINEAR] = pf_cpu_ref_linear,
    [PF_OP_MATMUL] = pf_cpu_ref_matmul,
    [PF_OP_LAYER_NORM] = pf_cpu_ref_layer_norm,
    [PF_OP_RMS_NORM] = pf_cpu_ref_rms_norm,
    [PF_OP_GROUP_NORM] = pf_cpu_ref_group_norm,
    [PF_OP_SOFTMAX] = pf_cpu_ref_softmax,
    [PF_OP_ATTENTION] = pf_cpu_ref_attention,
    [PF_OP_ROPE] = pf_cpu_ref_rope,
    [PF_OP_MODULATE] = pf_cpu_ref_modulate,
    [PF_OP_GATED_ADD] = pf_cpu_ref_gated_add,
    [PF_OP_CONV3D] = pf_cpu_ref_conv3d,
    [PF_OP_DEPTH_TO_SPACE] = pf_cpu_ref_depth_to_space,
    [PF_OP_UPSAMPLE2X] = pf_cpu_ref_upsample2x,
    [PF_OP_DOWNSAMPLE2X] = pf_cpu_ref_downsample2x,
    [PF_OP_EMBEDDING] = pf_cpu_ref_embedding,
};

void *pf_cpu_scratch(pf_cpu_ctx *c, size_t n) {
    if (n <= c->scratch_size) return c->scratch;
    pf_aligned_free(c->scratch);
    c->scratch = pf_aligned_alloc(n, "CPU scratch");
    c->scratch_size = c->scratch ? n : 0;
    return c->scratch;
}

void *pf_cpu_slot(pf_cpu_ctx *c, int slot, size_t n) {
    if (n <= c->slot_size[slot]) return c->slot[slot];
    pf_aligned_free(c->slot[slot]);
    c->slot[slot] = pf_aligned_alloc(n, "CPU kernel scratch");
    c->slot_size[slot] = c->slot[slot] ? n : 0;
    return c->slot[slot];
}

static void cpu_free_thread_scratch(pf_cpu_ctx *c) {
    for (int i = 0; i < c->tscratch_n; i++) pf_aligned_free(c->tscratch[i]);
    free(c->tscratch);
    c->tscratch = NULL;
    c->tscratch_n = 0;
    c->tscratch_size = 0;
}

pf_status pf_cpu_thread_scratch_reserve(pf_cpu_ctx *c, size_t n) {
    int want = c->n_threads > 0 ? c->n_threads : 1;
    if (c->tscratch_n == want && c->tscratch_size >= n) return PF_OK;
    size_t size = PF_MAX(n, c->tscratch_size);
    cpu_free_thread_scratch(c);
    c->tscratch = calloc((size_t)want, sizeof *c->tscratch);
    if (!c->tscratch) return pf_error(PF_ERR_OOM, "out of host memory (CPU thread scratch)");
    c->tscratch_n = want;
    for (int i = 0; i < want; i++) {
        c->tscratch[i] = pf_aligned_alloc(size, "CPU thread scratch");
        if (!c->tscratch[i]) {
            cpu_free_thread_scratch(c);
            return PF_ERR_OOM;
        }
    }
    c->tscratch_size = size;
    return PF_OK;
}

void pf_cpu_ctx_release(pf_cpu_ctx *c) {
    pf_threadpool_free(c->pool);
    c->pool = NULL;
    pf_aligned_free(c->scratch);
    c->scratch = NULL;
    c->scratch_size = 0;
    cpu_free_thread_scratch(c);
    for (size_t i = 0; i < PF_ARRAY_LEN(c->slot); i++) {
        pf_aligned_free(c->slot[i]);
        c->slot[i] = NULL;
        c->slot_size[i] = 0;
    }
}

static void cpu_destroy(pf_backend *be) {
    pf_cpu_ctx *c = be->ctx;
    pf_cpu_ctx_release(c);
    free(c);
    free(be);
}

static void cpu_get_info(pf_backend *be, pf_backend_info *info) {
    pf_cpu_ctx *c = be->ctx;
    snprintf(info->name, sizeof info->name, "cpu");
    info->host_cpu = true;
    char model[200] = "";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (!strncmp(line, "model name", 10)) {
                char *p = strchr(line, ':');
                if (p) {
                    p++;
                    while (*p == ' ') p++;
                    snprintf(model, sizeof model, "%s", p);
                    model[strcspn(model, "\n")] = 0;
                }
                break;
            }
        }
        fclose(f);
    }
    snprintf(info->device, sizeof info->device, "%s (%d threads%s)", model[0] ? model : "host CPU", c->n_threads,
             c->reference ? ", reference kernels" : "");
    long pages = sysconf(_SC_PHYS_PAGES), avail = sysconf(_SC_AVPHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    info->mem_total = pages > 0 && psz > 0 ? (size_t)pages * (size_t)psz : 0;
    info->mem_free = avail > 0 && psz > 0 ? (size_t)avail * (size_t)psz : 0;
    info->max_buffer_size = (size_t)1 << 46;
    info->alignment = 64;
}

static bool cpu_supports_op(pf_backend *be, const pf_tensor *n) {
    (void)be;
    if ((unsigned)n->op >= PF_OP_COUNT) return false;
    if (n->op == PF_OP_NONE || n->op == PF_OP_VIEW) return true;
    return pf_cpu_ref_kernels[n->op] != NULL && n->dtype != PF_F64;
}

static pf_status cpu_buffer_alloc(pf_backend *be, size_t size, pf_buffer **out) {
    pf_buffer *b = calloc(1, sizeof *b);
    if (!b) return pf_error(PF_ERR_OOM, "out of host memory (buffer)");
    b->host = pf_aligned_alloc(size, "CPU buffer");
    if (!b->host) {
        free(b);
        char s[32];
        return pf_error(PF_ERR_OOM, "CPU backend: cannot allocate %s of host memory", pf_fmt_bytes((double)size, s, sizeof s));
    }
    b->backend = be;
    b->size = size;
    *out = b;
    return PF_OK;
}

static void cpu_buffer_free(pf_backend *be, pf_buffer *b) {
    (void)be;
    pf_aligned_free(b->host);
    free(b);
}

static pf_status cpu_upload(pf_backend *be, pf_buffer *b, size_t off, const void *src, size_t n) {
    (void)be;
    if (off + n > b->size) return pf_error(PF_ERR_INTERNAL, "CPU upload outside buffer");
    memcpy((char *)b->host + off, src, n);
    return PF_OK;
}

static pf_status cpu_download(pf_backend *be, pf_buffer *b, size_t off, void *dst, size_t n) {
    (void)be;
    if (off + n > b->size) return pf_error(PF_ERR_INTERNAL, "CPU download outside buffer");
    memcpy(dst, (char *)b->host + off, n);
    return PF_OK;
}

static pf_status cpu_compute(pf_backend *be, pf_graph *g) {
    pf_cpu_ctx *c = be->ctx;
    int n = pf_graph_n_nodes(g);
    for (int i = 0; i < n; i++) {
        pf_tensor *t = pf_graph_node(g, i);
        if (!pf_node_is_compute(t)) continue;
        pf_cpu_kernel k = NULL;
        if (!c->reference) k = pf_cpu_fast_kernels[t->op];
        if (!k) k = pf_cpu_ref_kernels[t->op];
        if (!k) return pf_error(PF_ERR_UNSUPPORTED, "CPU backend has no kernel for %s", pf_op_name(t->op));
        pf_status rc = k(c, t);
        if (rc != PF_OK) return pf_error_wrap(rc, "node %d (%s '%s')", i, pf_op_name(t->op), t->name);
    }
    return PF_OK;
}

static pf_status cpu_synchronize(pf_backend *be) {
    (void)be;
    return PF_OK;
}

static const pf_backend_ops pf_cpu_backend_ops = {
    .name = "cpu",
    .destroy = cpu_destroy,
    .get_info = cpu_get_info,
    .supports_op = cpu_supports_op,
    .buffer_alloc = cpu_buffer_alloc,
    .buffer_free = cpu_buffer_free,
    .upload = cpu_upload,
    .download = cpu_download,
    .compute = cpu_compute,
    .synchronize = cpu_synchronize,
};

pf_status pf_backend_cpu_create(const pf_backend_options *opts, pf_backend **out) {
    *out = NULL;
    pf_backend *be = calloc(1, sizeof *be);
    pf_cpu_ctx *c = calloc(1, sizeof *c);
    if (!be || !c) {
        free(be);
        free(c);
        return pf_error(PF_ERR_OOM, "out of host memory (CPU backend)");
    }
    int threads = opts ? opts->threads : 0;
    const char *env = getenv("PF_THREADS");
    if (threads <= 0 && env) threads = atoi(env);
    if (threads <= 0) threads = pf_cpu_count();
    c->reference = opts ? opts->reference : false;
    const char *gm = getenv("PF_CPU_GEMM");
    if (gm && !strcmp(gm, "blas")) c->gemm_mode = PF_CPU_GEMM_BLAS;
    if (gm && !strcmp(gm, "portable")) c->gemm_mode = PF_CPU_GEMM_PORTABLE;
    c->n_threads = threads;
    if (threads > 1) {
        pf_status rc = pf_threadpool_create(threads, &c->pool);
        if (rc != PF_OK) {
            free(be);
            free(c);
            return rc;
        }
        c->n_threads = pf_threadpool_size(c->pool);
    }
    be->ops = &pf_cpu_backend_ops;
    be->ctx = c;
    *out = be;
    return PF_OK;
}

void pf_cpu_set_reference(pf_backend *be, bool reference) {
    if (be && be->ops == &pf_cpu_backend_ops) ((pf_cpu_ctx *)be->ctx)->reference = reference;
}

void pf_cpu_set_threads(pf_backend *be, int n) {
    if (!be || be->ops != &pf_cpu_backend_ops) return;
    pf_cpu_ctx *c = be->ctx;
    if (n <= 0) n = pf_cpu_count();
    if (n == c->n_threads) return;
    pf_threadpool_free(c->pool);
    c->pool = NULL;
    c->n_threads = 1;
    if (n > 1 && pf_threadpool_create(n, &c->pool) == PF_OK) c->n_threads = pf_threadpool_size(c->pool);
}

int pf_cpu_get_threads(pf_backend *be) {
    if (!be || be->ops != &pf_cpu_backend_ops) return 0;
    return ((pf_cpu_ctx *)be->ctx)->n_threads;
}

pf_status pf_cpu_set_gemm(pf_backend *be, const char *mode) {
    if (!be || be->ops != &pf_cpu_backend_ops) return pf_error(PF_ERR_INVALID_ARG, "pf_cpu_set_gemm: not a CPU backend");
    pf_cpu_ctx *c = be->ctx;
    if (!mode || !strcmp(mode, "auto"))
        c->gemm_mode = PF_CPU_GEMM_AUTO;
    else if (!strcmp(mode, "portable"))
        c->gemm_mode = PF_CPU_GEMM_PORTABLE;
    else if (!strcmp(mode, "blas")) {
#ifndef PF_HAVE_OPENBLAS
        return pf_error(PF_ERR_UNSUPPORTED, "pf_cpu_set_gemm: this build has no OpenBLAS");
#endif
        c->gemm_mode = PF_CPU_GEMM_BLAS;
    } else
        return pf_error(PF_ERR_INVALID_ARG, "pf_cpu_set_gemm: unknown mode '%s' (auto, blas, portable)", mode);
    return PF_OK;
}

const char *pf_cpu_gemm_desc(pf_backend *be, char *buf, size_t n) {
    if (!be || be->ops != &pf_cpu_backend_ops) {
        snprintf(buf, n, "not a CPU backend");
        return buf;
    }
    pf_cpu_ctx *c = be->ctx;
    if (c->reference)
        snprintf(buf, n, "reference kernels (no GEMM)");
    else
        pf_cpu_gemm_describe(c, buf, n);
    return buf;
}
