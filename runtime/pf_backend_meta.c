/*
 * The meta backend: buffers with a size but no memory. Graphs and weights of
 * any size can be built and planned on it (memory predictions for 768p, op
 * lists exported from full-size graphs for conformance) without allocating.
 * It cannot compute; uploads are accepted and dropped, downloads fail.
 */
#include "pf_backend_impl.h"

static void meta_destroy(pf_backend *be) { free(be); }

static void meta_get_info(pf_backend *be, pf_backend_info *info) {
    (void)be;
    snprintf(info->name, sizeof info->name, "meta");
    snprintf(info->device, sizeof info->device, "meta (sizes only, no memory)");
    info->max_buffer_size = (size_t)1 << 46;
    info->alignment = 256;
}

static bool meta_supports_op(pf_backend *be, const pf_tensor *n) {
    (void)be;
    return (unsigned)n->op < PF_OP_COUNT;
}

static pf_status meta_buffer_alloc(pf_backend *be, size_t size, pf_buffer **out) {
    pf_buffer *b = calloc(1, sizeof *b);
    if (!b) return pf_error(PF_ERR_OOM, "out of host memory (buffer)");
    b->backend = be;
    b->size = size;
    *out = b;
    return PF_OK;
}

static void meta_buffer_free(pf_backend *be, pf_buffer *b) {
    (void)be;
    free(b);
}

static pf_status meta_upload(pf_backend *be, pf_buffer *b, size_t off, const void *src, size_t n) {
    (void)be;
    (void)src;
    if (off + n > b->size) return pf_error(PF_ERR_INTERNAL, "meta upload outside buffer");
    return PF_OK;
}

static pf_status meta_download(pf_backend *be, pf_buffer *b, size_t off, void *dst, size_t n) {
    (void)be, (void)b, (void)off, (void)dst, (void)n;
    return pf_error(PF_ERR_UNSUPPORTED, "the meta backend holds no data");
}

static pf_status meta_compute(pf_backend *be, pf_graph *g) {
    (void)be;
    (void)g;
    return pf_error(PF_ERR_UNSUPPORTED, "the meta backend cannot compute (it plans memory only)");
}

static const pf_backend_ops pf_meta_backend_ops = {
    .name = "meta",
    .destroy = meta_destroy,
    .get_info = meta_get_info,
    .supports_op = meta_supports_op,
    .buffer_alloc = meta_buffer_alloc,
    .buffer_free = meta_buffer_free,
    .upload = meta_upload,
    .download = meta_download,
    .compute = meta_compute,
};

pf_status pf_backend_meta_create(pf_backend **out) {
    *out = NULL;
    pf_backend *be = calloc(1, sizeof *be);
    if (!be) return pf_error(PF_ERR_OOM, "out of host memory (meta backend)");
    be->ops = &pf_meta_backend_ops;
    *out = be;
    return PF_OK;
}

bool pf_backend_is_meta(const pf_backend *be) { return be && be->ops == &pf_meta_backend_ops; }
