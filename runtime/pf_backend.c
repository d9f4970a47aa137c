/* Backend registry, buffers, tensor transfer and persistent-tensor pools. */
#include "pf_backend_impl.h"
#include "pf_graph_impl.h"

typedef pf_status (*pf_backend_create_fn)(const pf_backend_options *opts, pf_backend **out);

static const struct {
    const char *name;
    pf_backend_create_fn create;
} pf_backends[] = {
#ifdef PF_HAVE_CUDA
    {"cuda", pf_backend_cuda_create},
#endif
#ifdef PF_HAVE_VULKAN
    {"vulkan", pf_backend_vulkan_create},
#endif
    {"cpu", pf_backend_cpu_create},
};

int pf_backend_count(void) { return (int)PF_ARRAY_LEN(pf_backends); }

const char *pf_backend_name_at(int i) { return (i >= 0 && i < pf_backend_count()) ? pf_backends[i].name : NULL; }

pf_status pf_backend_create(const char *name, const pf_backend_options *opts, pf_backend **out) {
    *out = NULL;
    pf_backend_options def = {.device = -1, .threads = 0, .reference = false};
    if (!opts) opts = &def;
    for (int i = 0; i < pf_backend_count(); i++)
        if (!strcmp(name, pf_backends[i].name)) return pf_backends[i].create(opts, out);
    char list[128] = "";
    for (int i = 0; i < pf_backend_count(); i++) {
        strncat(list, pf_backends[i].name, sizeof list - strlen(list) - 1);
        if (i + 1 < pf_backend_count()) strncat(list, ", ", sizeof list - strlen(list) - 1);
    }
    return pf_error(PF_ERR_UNSUPPORTED, "backend '%s' is not compiled into this build (available: %s)", name, list);
}

void pf_backend_free(pf_backend *be) {
    if (be && be->ops->destroy) be->ops->destroy(be);
}

const char *pf_backend_name(const pf_backend *be) { return be ? be->ops->name : "(none)"; }

void pf_backend_get_info(pf_backend *be, pf_backend_info *info) {
    memset(info, 0, sizeof *info);
    be->ops->get_info(be, info);
    if (!info->max_buffer_size) info->max_buffer_size = SIZE_MAX / 4;
    if (!info->alignment) info->alignment = 64;
}

bool pf_backend_supports(pf_backend *be, const pf_tensor *node) { return be->ops->supports_op(be, node); }

pf_status pf_backend_synchronize(pf_backend *be) { return be->ops->synchronize ? be->ops->synchronize(be) : PF_OK; }

pf_status pf_buffer_alloc(pf_backend *be, size_t size, pf_buffer **out) {
    *out = NULL;
    pf_status rc = be->ops->buffer_alloc(be, size, out);
    if (rc != PF_OK) return rc;
    be->bytes_allocated += (*out)->size;
    if (be->bytes_allocated > be->bytes_peak) be->bytes_peak = be->bytes_allocated;
    return PF_OK;
}

void pf_buffer_free(pf_buffer *buf) {
    if (!buf) return;
    pf_backend *be = buf->backend;
    be->bytes_allocated -= buf->size;
    be->ops->buffer_free(be, buf);
}

/* ---------------------------------------------------------------- transfer */

static pf_status pf_check_transfer(pf_tensor *t, size_t bytes, const char *what) {
    if (!t) return pf_error(PF_ERR_INVALID_ARG, "%s: NULL tensor", what);
    pf_tensor *r = pf_root(t);
    if (r->graph && r->graph->arena) PF_TRY(pf_graph_refresh(r->graph));
    if (!r->buffer)
        return pf_error(PF_ERR_INVALID_ARG, "%s '%s': tensor has no storage (graph not planned, or not an input/output)",
                        what, t->name);
    if (!pf_is_contiguous(t)) return pf_error(PF_ERR_INVALID_ARG, "%s '%s': tensor is not contiguous", what, t->name);
    if (bytes != pf_nbytes(t))
        return pf_error(PF_ERR_SHAPE, "%s '%s': %zu bytes given, tensor holds %zu", what, t->name, bytes, pf_nbytes(t));
    if (pf_data_offset(t) + bytes > r->buffer->size)
        return pf_error(PF_ERR_INTERNAL, "%s '%s': outside its buffer", what, t->name);
    return PF_OK;
}

pf_status pf_tensor_set(pf_tensor *t, const void *data, size_t bytes) {
    PF_TRY(pf_check_transfer(t, bytes, "set"));
    pf_buffer *b = pf_root(t)->buffer;
    return b->backend->ops->upload(b->backend, b, pf_data_offset(t), data, bytes);
}

pf_status pf_tensor_get(pf_tensor *t, void *data, size_t bytes) {
    PF_TRY(pf_check_transfer(t, bytes, "get"));
    pf_buffer *b = pf_root(t)->buffer;
    return b->backend->ops->download(b->backend, b, pf_data_offset(t), data, bytes);
}

pf_status pf_tensor_set_as(pf_tensor *t, const void *data, pf_dtype host_dtype, size_t n) {
    if (!t) return pf_error(PF_ERR_INVALID_ARG, "set: NULL tensor");
    if ((int64_t)n != pf_nelem(t))
        return pf_error(PF_ERR_SHAPE, "set '%s': %zu elements given, tensor holds %lld", t->name, n,
                        (long long)pf_nelem(t));
    if (host_dtype == t->dtype) return pf_tensor_set(t, data, pf_nbytes(t));
    void *tmp = pf_malloc(pf_nbytes(t), t->name);
    if (!tmp) return PF_ERR_OOM;
    pf_convert(tmp, t->dtype, data, host_dtype, n);
    pf_status rc = pf_tensor_set(t, tmp, pf_nbytes(t));
    free(tmp);
    return rc;
}

pf_status pf_tensor_get_as(pf_tensor *t, void *data, pf_dtype host_dtype, size_t n) {
    if (!t) return pf_error(PF_ERR_INVALID_ARG, "get: NULL tensor");
    if ((int64_t)n != pf_nelem(t))
        return pf_error(PF_ERR_SHAPE, "get '%s': room for %zu elements, tensor holds %lld", t->name, n,
                        (long long)pf_nelem(t));
    if (host_dtype == t->dtype) return pf_tensor_get(t, data, pf_nbytes(t));
    void *tmp = pf_malloc(pf_nbytes(t), t->name);
    if (!tmp) return PF_ERR_OOM;
    pf_status rc = pf_tensor_get(t, tmp, pf_nbytes(t));
    if (rc == PF_OK) pf_convert(data, host_dtype, tmp, t->dtype, n);
    free(tmp);
    return rc;
}

pf_status pf_tensor_copy(pf_tensor *dst, pf_tensor *src) {
    if (!dst || !src || dst->dtype != src->dtype || pf_nbytes(dst) != pf_nbytes(src))
        return pf_error(PF_ERR_SHAPE, "tensor copy: '%s' and '%s' differ in dtype or size", dst ? dst->name : "?",
                        src ? src->name : "?");
    void *tmp = pf_malloc(pf_nbytes(src), src->name);
    if (!tmp) return PF_ERR_OOM;
    pf_status rc = pf_tensor_get(src, tmp, pf_nbytes(src));
    if (rc == PF_OK) rc = pf_tensor_set(dst, tmp, pf_nbytes(dst));
    free(tmp);
    return rc;
}

/* ---------------------------------------------------------------- pools */

struct pf_pool {
    pf_backend *be;
    size_t chunk_size, alignment, max_buffer;
    pf_buffer **bufs;
    int n_bufs;
    size_t used_in_last; /* bump pointer in bufs[n_bufs-1] (shared chunk) */
    int last_shared;     /* index of the chunk being filled, -1 if none */
    pf_tensor **tensors;
    int n_tensors, cap_tensors;
    size_t bytes;
    bool sized;         /* pf_pool_create_for: chunks sized to what is still expected */
    size_t expect_left; /* bytes (aligned) still expected */
};

pf_status pf_pool_create(pf_backend *be, size_t chunk_size, pf_pool **out) {
    *out = NULL;
    pf_pool *p = calloc(1, sizeof *p);
    if (!p) return pf_error(PF_ERR_OOM, "out of host memory (pool)");
    pf_backend_info info;
    pf_backend_get_info(be, &info);
    p->be = be;
    p->max_buffer = info.max_buffer_size;
    p->alignment = info.alignment;
    p->chunk_size = chunk_size ? chunk_size : PF_MIN((size_t)256 << 20, info.max_buffer_size);
    p->last_shared = -1;
    *out = p;
    return PF_OK;
}

pf_status pf_pool_create_for(pf_backend *be, size_t bytes, int64_t n_tensors, pf_pool **out) {
    PF_TRY(pf_pool_create(be, 0, out));
    pf_pool *p = *out;
    /* each tensor starts at an aligned offset: at most alignment - 1 bytes of padding after it */
    size_t expect = bytes + (size_t)PF_MAX(n_tensors, 0) * p->alignment;
    p->chunk_size = PF_MAX(PF_MIN(p->chunk_size, expect), p->alignment);
    p->sized = true;
    p->expect_left = expect;
    return PF_OK;
}

void pf_pool_free(pf_pool *p) {
    if (!p) return;
    for (int i = 0; i < p->n_bufs; i++) pf_buffer_free(p->bufs[i]);
    for (int i = 0; i < p->n_tensors; i++) free(p->tensors[i]);
    free(p->bufs);
    free(p->tensors);
    free(p);
}

size_t pf_pool_bytes(const pf_pool *p) { return p->bytes; }
pf_backend *pf_pool_backend(const pf_pool *p) { return p->be; }
int pf_pool_count(const pf_pool *p) { return p ? p->n_tensors : 0; }
pf_tensor *pf_pool_at(const pf_pool *p, int i) { return p && i >= 0 && i < p->n_tensors ? p->tensors[i] : NULL; }

static pf_status pf_pool_push_buf(pf_pool *p, size_t size, pf_buffer **out) {
    pf_buffer **nb = realloc(p->bufs, (size_t)(p->n_bufs + 1) * sizeof *nb);
    if (!nb) return pf_error(PF_ERR_OOM, "out of host memory (pool)");
    p->bufs = nb;
    PF_TRY(pf_buffer_alloc(p->be, size, out));
    p->bufs[p->n_bufs++] = *out;
    return PF_OK;
}

pf_tensor *pf_pool_tensor(pf_pool *p, pf_dtype dt, int ndim, const int64_t *ne, const char *name) {
    if (ndim < 0 || ndim > PF_MAX_DIMS) {
        pf_error(PF_ERR_SHAPE, "pool tensor '%s': %d dims", name ? name : "", ndim);
        return NULL;
    }
    pf_tensor *t = calloc(1, sizeof *t);
    if (!t) {
        pf_error(PF_ERR_OOM, "out of host memory (tensor)");
        return NULL;
    }
    t->dtype = dt;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->ne[i] = ne[i];
    pf_set_contiguous_strides(t);
    t->op = PF_OP_NONE;
    t->flags = PF_TF_EXTERNAL;
    t->chunk = -1;
    t->graph_index = -1;
    snprintf(t->name, sizeof t->name, "%s", name ? name : "");
    size_t bytes = PF_ALIGN_UP(PF_MAX(pf_nbytes(t), 1), p->alignment);
    if (bytes > p->max_buffer) {
        char b1[32], b2[32];
        pf_error(PF_ERR_OOM, "tensor '%s' needs %s, more than backend %s allows in one buffer (%s)", t->name,
                 pf_fmt_bytes((double)bytes, b1, sizeof b1), pf_backend_name(p->be),
                 pf_fmt_bytes((double)p->max_buffer, b2, sizeof b2));
        free(t);
        return NULL;
    }
    if (p->n_tensors == p->cap_tensors) {
        int cap = p->cap_tensors ? 2 * p->cap_tensors : 64;
        pf_tensor **nt = realloc(p->tensors, (size_t)cap * sizeof *nt);
        if (!nt) {
            free(t);
            pf_error(PF_ERR_OOM, "out of host memory (pool)");
            return NULL;
        }
        p->tensors = nt;
        p->cap_tensors = cap;
    }
    pf_buffer *buf;
    bool fits = p->last_shared >= 0 && p->used_in_last + bytes <= p->bufs[p->last_shared]->size;
    /* big tensors get their own buffer (in a sized pool: unless the chunk, sized for them, has room) */
    if (bytes > p->chunk_size / 2 && !(p->sized && fits)) {
        if (pf_pool_push_buf(p, bytes, &buf) != PF_OK) {
            free(t);
            return NULL;
        }
        t->offset = 0;
    } else {
        if (!fits) {
            /* a sized pool's last chunk holds just what is still expected */
            size_t size = p->sized && p->expect_left >= bytes ? PF_MIN(p->chunk_size, p->expect_left) : p->chunk_size;
            if (pf_pool_push_buf(p, size, &buf) != PF_OK) {
                free(t);
                return NULL;
            }
            p->last_shared = p->n_bufs - 1;
            p->used_in_last = 0;
        }
        buf = p->bufs[p->last_shared];
        t->offset = p->used_in_last;
        p->used_in_last += bytes;
    }
    t->buffer = buf;
    p->bytes += bytes;
    p->expect_left = p->expect_left > bytes ? p->expect_left - bytes : 0;
    p->tensors[p->n_tensors++] = t;
    return t;
}
