/*
 * The Vulkan backend's function table: creation (device, memory, pipelines,
 * recording), info, the op table with truthful supports_op, and compute, which
 * records a graph node by node into bounded submissions and returns; synchronize
 * waits, checks the shaders' error status and prints the profile.
 */
#include "pf_backend_impl.h"
#include "pf_vulkan.h"
#include "vk_ops.h"

static const pf_vk_op *const pf_vk_ops[PF_OP_COUNT] = {
    [PF_OP_CPY] = &pf_vk_op_cpy,
    [PF_OP_CONCAT] = &pf_vk_op_concat,
    [PF_OP_ADD] = &pf_vk_op_binary,
    [PF_OP_SUB] = &pf_vk_op_binary,
    [PF_OP_MUL] = &pf_vk_op_binary,
    [PF_OP_SCALE] = &pf_vk_op_scale,
    [PF_OP_UNARY] = &pf_vk_op_unary,
    [PF_OP_LINEAR] = &pf_vk_op_linear,
    [PF_OP_MATMUL] = &pf_vk_op_matmul,
    [PF_OP_LAYER_NORM] = &pf_vk_op_layer_norm,
    [PF_OP_RMS_NORM] = &pf_vk_op_rms_norm,
    [PF_OP_GROUP_NORM] = &pf_vk_op_group_norm,
    [PF_OP_SOFTMAX] = &pf_vk_op_softmax,
    [PF_OP_ATTENTION] = &pf_vk_op_attention,
    [PF_OP_ROPE] = &pf_vk_op_rope,
    [PF_OP_MODULATE] = &pf_vk_op_modulate,
    [PF_OP_GATED_ADD] = &pf_vk_op_gated_add,
    [PF_OP_CONV3D] = &pf_vk_op_conv3d,
    [PF_OP_DEPTH_TO_SPACE] = &pf_vk_op_depth_to_space,
    [PF_OP_UPSAMPLE2X] = &pf_vk_op_upsample2x,
    [PF_OP_DOWNSAMPLE2X] = &pf_vk_op_downsample2x,
    [PF_OP_EMBEDDING] = &pf_vk_op_embedding,
};

static const pf_backend_ops pf_vk_backend_ops;

static void vk_destroy(pf_backend *be) {
    pf_vk_ctx *c = be->ctx;
    if (c) {
        if (c->dev && c->status) {
            pf_vk_wait_all(c);
            pf_vk_profile_report(c);
        }
        pf_vk_dispatch_shutdown(c);
        pf_vk_pipelines_shutdown(c);
        pf_vk_memory_shutdown(c);
        pf_vk_device_close(c);
        free(c);
    }
    free(be);
}

static void vk_get_info(pf_backend *be, pf_backend_info *info) {
    pf_vk_ctx *c = be->ctx;
    snprintf(info->name, sizeof info->name, "vulkan");
    snprintf(info->device, sizeof info->device, "%s", c->desc);
    pf_vk_mem_info(c, &info->mem_total, &info->mem_free);
    info->max_buffer_size = c->max_buffer_size;
    info->alignment = c->alignment;
    info->host_cpu = c->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
}

/* The one place that decides support; supports_op and the planner's message use it. */
static bool vk_check(pf_backend *be, const pf_tensor *n, char *why, size_t len) {
    pf_vk_ctx *c = be->ctx;
    why[0] = 0;
    if ((unsigned)n->op >= PF_OP_COUNT) {
        snprintf(why, len, "unknown op %d", (int)n->op);
        return false;
    }
    if (n->op == PF_OP_NONE || n->op == PF_OP_VIEW) return true;
    const pf_vk_op *op = pf_vk_ops[n->op];
    if (!op) {
        snprintf(why, len, "no Vulkan kernel for %s", pf_op_name(n->op));
        return false;
    }
    return op->check(c, n, why, len);
}

static bool vk_supports_op(pf_backend *be, const pf_tensor *n) {
    char why[256];
    return vk_check(be, n, why, sizeof why);
}

static void vk_unsupported_reason(pf_backend *be, const pf_tensor *n, char *buf, size_t len) {
    if (vk_check(be, n, buf, len)) snprintf(buf, len, "supported");
}

static pf_status vk_compute(pf_backend *be, pf_graph *g) {
    pf_vk_ctx *c = be->ctx;
    int n = pf_graph_n_nodes(g);
    for (int i = 0; i < n; i++) {
        pf_tensor *t = pf_graph_node(g, i);
        if (!pf_node_is_compute(t)) continue;
        const pf_vk_op *op = (unsigned)t->op < PF_OP_COUNT ? pf_vk_ops[t->op] : NULL;
        pf_status rc = op ? PF_OK : pf_error(PF_ERR_UNSUPPORTED, "vulkan: no kernel for %s", pf_op_name(t->op));
        if (rc == PF_OK) rc = pf_vk_node_begin(c, t);
        if (rc == PF_OK) rc = op->record(c, t);
        if (rc == PF_OK) rc = pf_vk_node_end(c, t);
        if (rc != PF_OK) {
            pf_vk_abort(c);
            char b[96];
            return pf_error_wrap(rc, "node %d (%s '%s' %s %s)", i, pf_op_name(t->op), t->name, pf_shape_str(t, b, sizeof b),
                                 pf_dtype_name(t->dtype));
        }
    }
    return pf_vk_flush(c);
}

static pf_status vk_synchronize(pf_backend *be) {
    pf_vk_ctx *c = be->ctx;
    pf_status rc = pf_vk_wait_all(c);
    if (c->profile) pf_vk_profile_report(c);
    return rc;
}

static const pf_backend_ops pf_vk_backend_ops = {
    .name = "vulkan",
    .destroy = vk_destroy,
    .get_info = vk_get_info,
    .supports_op = vk_supports_op,
    .unsupported_reason = vk_unsupported_reason,
    .buffer_alloc = pf_vk_buffer_alloc,
    .buffer_free = pf_vk_buffer_free,
    .upload = pf_vk_upload,
    .download = pf_vk_download,
    .compute = vk_compute,
    .synchronize = vk_synchronize,
};

pf_status pf_backend_vulkan_create(const pf_backend_options *opts, pf_backend **out) {
    *out = NULL;
    pf_backend *be = calloc(1, sizeof *be);
    pf_vk_ctx *c = calloc(1, sizeof *c);
    if (!be || !c) {
        free(be);
        free(c);
        return pf_error(PF_ERR_OOM, "out of host memory (vulkan backend)");
    }
    be->ops = &pf_vk_backend_ops;
    be->ctx = c;
    c->be = be;
    pf_status rc = pf_vk_device_open(c, opts ? opts->device : -1);
    if (rc == PF_OK) rc = pf_vk_memory_init(c);
    if (rc == PF_OK) rc = pf_vk_pipelines_init(c);
    if (rc == PF_OK) rc = pf_vk_dispatch_init(c);
    if (rc != PF_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", pf_last_error());
        vk_destroy(be);
        return pf_error(rc, "%s", msg); /* teardown must not replace the reason */
    }
    *out = be;
    return PF_OK;
}

/* ---------------------------------------------------------------- extras */

void pf_vulkan_get_stats(pf_backend *be, pf_vulkan_stats *st) {
    memset(st, 0, sizeof *st);
    if (!be || be->ops != &pf_vk_backend_ops) return;
    pf_vk_ctx *c = be->ctx;
    st->submits = c->n_submits;
    st->dispatches = c->n_dispatches;
    st->barriers = c->n_barriers;
    st->pipelines = c->n_pipes;
    st->pipeline_ms = c->pipeline_ms;
    st->uma = c->uma;
    st->push_descriptors = c->push_descriptors;
    st->subgroup_arith = c->subgroup_arith;
    st->validation = c->validate;
    st->timestamps = c->timestamps;
    st->subgroup_size = c->subgroup_size;
    st->max_shared = c->max_shared;
}

int pf_vulkan_validation_messages(void) { return pf_vk_validation_error_count(); }
