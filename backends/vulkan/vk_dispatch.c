/*
 * Command recording and submission.
 *
 * A graph is recorded into a ring of command buffers. Barriers: each dispatch's
 * bound byte spans are compared with what was written (and read) since the last
 * barrier; only a read-after-write, write-after-write or write-after-read overlap
 * inserts a global compute->compute memory barrier, so independent nodes (q, k and
 * v projections) run back to back. Submissions are bounded: a batch is submitted
 * after PF_VK_MAX_NODES_PER_SUBMIT nodes (default 100) or PF_VK_MAX_GFLOPS_PER_SUBMIT
 * (default 100) of work, which lets the GPU start while the host records the rest and
 * keeps every submission far from driver timeouts (TDR / "device lost" on weak GPUs).
 * With PF_VK_PROFILE=1 every node is bracketed by timestamps (and serialised by a
 * barrier so times do not overlap); the table is printed when the compute finishes.
 */
#include "vk_internal.h"

/* ---------------------------------------------------------------- frames */

static pf_status pf_vk_collect(pf_vk_ctx *c, pf_vk_frame *f);

static pf_status pf_vk_frame_wait(pf_vk_ctx *c, pf_vk_frame *f) {
    if (!f->pending) return PF_OK;
    f->pending = false;
    VkResult r = c->vk.vkWaitForFences(c->dev, 1, &f->fence, VK_TRUE, UINT64_MAX);
    if (r != VK_SUCCESS) return pf_vk_fail(r, "vkWaitForFences", "waiting for a submission of graph work");
    pf_status rc = pf_vk_collect(c, f);
    for (int i = 0; i < f->n_pools; i++) c->vk.vkResetDescriptorPool(c->dev, f->pools[i], 0);
    f->cur_pool = 0;
    return rc;
}

static pf_status pf_vk_frame_begin(pf_vk_ctx *c) {
    pf_vk_frame *f = &c->ring[c->cur];
    if (f->recording) return PF_OK;
    PF_TRY(pf_vk_frame_wait(c, f));
    PF_VK_CHECK(c->vk.vkResetCommandBuffer(f->cmd, 0), "graph command buffer");
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    PF_VK_CHECK(c->vk.vkBeginCommandBuffer(f->cmd, &bi), "graph command buffer");
    f->recording = true;
    f->n_queries = 0;
    f->n_prof = 0;
    if (c->profile && c->timestamps) {
        uint32_t need = 2u * (uint32_t)c->max_nodes_per_submit + 2u;
        if (f->qpool && f->cap_queries < need) {
            c->vk.vkDestroyQueryPool(c->dev, f->qpool, NULL);
            f->qpool = VK_NULL_HANDLE;
        }
        if (!f->qpool) {
            VkQueryPoolCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                        .queryType = VK_QUERY_TYPE_TIMESTAMP,
                                        .queryCount = need};
            PF_VK_CHECK(c->vk.vkCreateQueryPool(c->dev, &qi, NULL, &f->qpool), "%u timestamps", need);
            f->cap_queries = need;
        }
        c->vk.vkCmdResetQueryPool(f->cmd, f->qpool, 0, f->cap_queries);
    }
    return PF_OK;
}

/* End and submit the recording frame; the ring moves on. */
pf_status pf_vk_flush(pf_vk_ctx *c) {
    pf_vk_frame *f = &c->ring[c->cur];
    if (!f->recording) return PF_OK;
    /* device writes become visible to host reads after the fence (downloads, status) */
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
    c->vk.vkCmdPipelineBarrier(f->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL,
                               0, NULL);
    f->recording = false;
    PF_VK_CHECK(c->vk.vkEndCommandBuffer(f->cmd), "graph command buffer");
    PF_VK_CHECK(c->vk.vkResetFences(c->dev, 1, &f->fence), "graph fence");
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &f->cmd};
    VkResult r = c->vk.vkQueueSubmit(c->queue, 1, &si, f->fence);
    if (r != VK_SUCCESS)
        return pf_vk_fail(r, "vkQueueSubmit", "batch of %d nodes, %.1f GFLOP", c->nodes_in_batch, c->flops_in_batch * 1e-9);
    f->pending = true;
    c->n_submits++;
    c->nodes_in_batch = 0;
    c->flops_in_batch = 0.0;
    c->cur = (c->cur + 1) % PF_VK_RING;
    return PF_OK;
}

void pf_vk_abort(pf_vk_ctx *c) {
    pf_vk_frame *f = &c->ring[c->cur];
    if (f->recording) {
        c->vk.vkEndCommandBuffer(f->cmd);
        c->vk.vkResetCommandBuffer(f->cmd, 0);
        f->recording = false;
    }
    c->n_written = c->n_read = 0;
    c->nodes_in_batch = 0;
    c->flops_in_batch = 0.0;
}

pf_status pf_vk_wait_all(pf_vk_ctx *c) {
    pf_status rc = pf_vk_flush(c);
    for (int i = 0; i < PF_VK_RING; i++) {
        pf_status r2 = pf_vk_frame_wait(c, &c->ring[i]);
        if (rc == PF_OK) rc = r2;
    }
    /* errors shaders could only record (embedding ids out of range) */
    uint32_t *st = c->status ? ((pf_vk_buf *)c->status->impl)->mapped : NULL;
    if (st && st[0]) {
        int64_t id = (int64_t)(((uint64_t)st[2] << 32) | st[1]);
        uint32_t V = st[3];
        memset(st, 0, 16);
        if (rc == PF_OK) rc = pf_error(PF_ERR_INVALID_ARG, "embedding: id %lld outside [0, %u)", (long long)id, V);
    }
    return rc;
}

/* ---------------------------------------------------------------- hazards */

/* Bytes of its root buffer that tensor t spans (strided views included). */
static pf_vk_span pf_vk_tensor_span(const pf_tensor *t) {
    pf_tensor *r = pf_root((pf_tensor *)t);
    pf_vk_buf *b = r->buffer->impl;
    int64_t lo = 0, hi = 0;
    bool empty = false;
    for (int i = 0; i < t->ndim; i++) {
        if (t->ne[i] == 0) empty = true;
        int64_t ext = (t->ne[i] - 1) * t->st[i];
        if (ext > 0) hi += ext;
        else lo += ext;
    }
    size_t es = pf_dtype_size(t->dtype);
    VkDeviceSize base = pf_data_offset(t);
    pf_vk_span s = {.buf = b->id};
    s.lo = base + (VkDeviceSize)(lo * (int64_t)es);
    s.hi = empty ? s.lo : base + (VkDeviceSize)((hi + 1) * (int64_t)es);
    return s;
}

static bool pf_vk_overlaps(const pf_vk_span *list, int n, const pf_vk_span *s) {
    for (int i = 0; i < n; i++)
        if (list[i].buf == s->buf && list[i].lo < s->hi && s->lo < list[i].hi) return true;
    return false;
}

static pf_status pf_vk_span_push(pf_vk_span **list, int *n, int *cap, pf_vk_span s) {
    if (*n == *cap) {
        int nc = *cap ? 2 * *cap : 64;
        pf_vk_span *nl = realloc(*list, (size_t)nc * sizeof *nl);
        if (!nl) return pf_error(PF_ERR_OOM, "out of host memory (vulkan hazard list)");
        *list = nl;
        *cap = nc;
    }
    (*list)[(*n)++] = s;
    return PF_OK;
}

static void pf_vk_barrier(pf_vk_ctx *c, VkCommandBuffer cmd) {
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_SHADER_READ_BIT,
                          .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT};
    c->vk.vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &mb, 0,
                               NULL, 0, NULL);
    c->n_written = c->n_read = 0;
    c->n_barriers++;
}

/* ---------------------------------------------------------------- dispatch */

pf_status pf_vk_groups_1d(pf_vk_ctx *c, uint64_t groups, uint32_t out[3]) {
    uint64_t mx = c->max_groups[0];
    if (groups == 0) groups = 1;
    uint64_t gy = (groups + mx - 1) / mx;
    if (gy > c->max_groups[1])
        return pf_error(PF_ERR_UNSUPPORTED, "vulkan: %llu workgroups exceed the device's dispatch limits (%u x %u)",
                        (unsigned long long)groups, c->max_groups[0], c->max_groups[1]);
    out[0] = (uint32_t)(gy > 1 ? mx : groups);
    out[1] = (uint32_t)gy;
    out[2] = 1;
    return PF_OK;
}

static pf_status pf_vk_descriptors(pf_vk_ctx *c, pf_vk_frame *f, const VkDescriptorBufferInfo *infos) {
    VkWriteDescriptorSet w[PF_VK_N_BINDINGS];
    for (uint32_t i = 0; i < PF_VK_N_BINDINGS; i++)
        w[i] = (VkWriteDescriptorSet){
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
            .dstBinding = i,
            .descriptorCount = 1,
            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .pBufferInfo = &infos[i],
        };
    if (c->push_descriptors) {
        c->vk.vkCmdPushDescriptorSetKHR(f->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, c->layout, 0, PF_VK_N_BINDINGS, w);
        return PF_OK;
    }
    /* pooled sets: handed out linearly from the frame's pools, all reset when the
     * frame's fence signals; a new pool is added when the current one is exhausted */
    VkDescriptorSet set = VK_NULL_HANDLE;
    for (;;) {
        if (f->cur_pool == f->n_pools) {
            VkDescriptorPool *np = realloc(f->pools, (size_t)(f->n_pools + 1) * sizeof *np);
            if (!np) return pf_error(PF_ERR_OOM, "out of host memory (descriptor pools)");
            f->pools = np;
            VkDescriptorPoolSize ps = {.type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .descriptorCount = 256 * PF_VK_N_BINDINGS};
            VkDescriptorPoolCreateInfo pi = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                             .maxSets = 256,
                                             .poolSizeCount = 1,
                                             .pPoolSizes = &ps};
            PF_VK_CHECK(c->vk.vkCreateDescriptorPool(c->dev, &pi, NULL, &f->pools[f->n_pools]), "256 sets");
            f->n_pools++;
        }
        VkDescriptorSetAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                          .descriptorPool = f->pools[f->cur_pool],
                                          .descriptorSetCount = 1,
                                          .pSetLayouts = &c->dsl};
        VkResult r = c->vk.vkAllocateDescriptorSets(c->dev, &ai, &set);
        if (r == VK_SUCCESS) break;
        if (r != VK_ERROR_OUT_OF_POOL_MEMORY && r != VK_ERROR_FRAGMENTED_POOL)
            return pf_vk_fail(r, "vkAllocateDescriptorSets", "pool %d", f->cur_pool);
        f->cur_pool++;
    }
    for (uint32_t i = 0; i < PF_VK_N_BINDINGS; i++) w[i].dstSet = set;
    c->vk.vkUpdateDescriptorSets(c->dev, PF_VK_N_BINDINGS, w, 0, NULL);
    c->vk.vkCmdBindDescriptorSets(f->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, c->layout, 0, 1, &set, 0, NULL);
    return PF_OK;
}

pf_status pf_vk_dispatch(pf_vk_ctx *c, const pf_vk_dispatch_desc *d) {
    if (d->push_size > PF_VK_PUSH_MAX) return pf_error(PF_ERR_INTERNAL, "vulkan: %u bytes of push constants", d->push_size);
    for (int i = 0; i < 3; i++)
        if (d->groups[i] == 0 || d->groups[i] > c->max_groups[i])
            return pf_error(PF_ERR_UNSUPPORTED, "vulkan: %s: %u workgroups in dimension %d (device limit %u)",
                            pf_vk_shader_name(d->key.shader), d->groups[i], i, c->max_groups[i]);
    PF_TRY(pf_vk_frame_begin(c));
    pf_vk_frame *f = &c->ring[c->cur];
    VkPipeline pipe;
    PF_TRY(pf_vk_get_pipeline(c, &d->key, &pipe));

    VkDescriptorBufferInfo infos[PF_VK_N_BINDINGS];
    pf_vk_span spans[PF_VK_N_BINDINGS];
    bool need_barrier = false;
    for (int i = 0; i < PF_VK_N_BINDINGS; i++) {
        const pf_tensor *t = d->bind[i];
        pf_vk_buf *b;
        if (t) {
            pf_tensor *r = pf_root((pf_tensor *)t);
            if (!r->buffer || r->buffer->backend != c->be)
                return pf_error(PF_ERR_INTERNAL, "vulkan: tensor '%s' has no storage on this backend", t->name);
            b = r->buffer->impl;
            spans[i] = pf_vk_tensor_span(t);
            if (d->write_mask & (1u << i))
                need_barrier |= pf_vk_overlaps(c->read, c->n_read, &spans[i]) ||
                                pf_vk_overlaps(c->written, c->n_written, &spans[i]);
            else
                need_barrier |= pf_vk_overlaps(c->written, c->n_written, &spans[i]);
        } else {
            b = (i == PF_VK_STATUS_BINDING ? c->status : c->dummy)->impl;
        }
        infos[i] = (VkDescriptorBufferInfo){.buffer = b->buf, .offset = 0, .range = VK_WHOLE_SIZE};
    }
    if (need_barrier) pf_vk_barrier(c, f->cmd);
    for (int i = 0; i < PF_VK_N_BINDINGS; i++) {
        if (!d->bind[i]) continue;
        if (d->write_mask & (1u << i)) PF_TRY(pf_vk_span_push(&c->written, &c->n_written, &c->cap_written, spans[i]));
        else PF_TRY(pf_vk_span_push(&c->read, &c->n_read, &c->cap_read, spans[i]));
    }
    c->vk.vkCmdBindPipeline(f->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipe);
    PF_TRY(pf_vk_descriptors(c, f, infos));
    if (d->push_size) c->vk.vkCmdPushConstants(f->cmd, c->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, d->push_size, d->push);
    c->vk.vkCmdDispatch(f->cmd, d->groups[0], d->groups[1], d->groups[2]);
    c->n_dispatches++;
    return PF_OK;
}

/* ---------------------------------------------------------------- nodes and profile */

pf_status pf_vk_node_begin(pf_vk_ctx *c, const pf_tensor *node) {
    PF_TRY(pf_vk_frame_begin(c));
    c->cur_node = node;
    pf_vk_frame *f = &c->ring[c->cur];
    c->node_has_ts = false;
    if (c->profile && c->timestamps && f->n_queries + 2 <= f->cap_queries) {
        /* serialise so each node's interval holds only its own work */
        pf_vk_barrier(c, f->cmd);
        if (f->n_prof == f->cap_prof) {
            int cap = f->cap_prof ? 2 * f->cap_prof : 128;
            pf_vk_prof_entry *np = realloc(f->prof, (size_t)cap * sizeof *np);
            if (!np) return pf_error(PF_ERR_OOM, "out of host memory (profile)");
            f->prof = np;
            f->cap_prof = cap;
        }
        pf_vk_prof_entry *e = &f->prof[f->n_prof];
        pf_prof_key(node, NULL, e->key, sizeof e->key);
        e->op = node->op;
        e->q0 = f->n_queries;
        e->q1 = f->n_queries + 1;
        c->vk.vkCmdWriteTimestamp(f->cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, f->qpool, f->n_queries);
        f->n_queries += 2;
        c->node_has_ts = true;
    }
    return PF_OK;
}

pf_status pf_vk_node_end(pf_vk_ctx *c, const pf_tensor *node) {
    pf_vk_frame *f = &c->ring[c->cur];
    if (c->node_has_ts) {
        pf_vk_barrier(c, f->cmd);
        c->vk.vkCmdWriteTimestamp(f->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, f->qpool, f->prof[f->n_prof].q1);
        f->n_prof++;
    }
    c->cur_node = NULL;
    c->nodes_in_batch++;
    c->flops_in_batch += pf_node_flops(node);
    if (c->nodes_in_batch >= c->max_nodes_per_submit || c->flops_in_batch >= c->max_flops_per_submit)
        return pf_vk_flush(c);
    return PF_OK;
}

static pf_status pf_vk_collect(pf_vk_ctx *c, pf_vk_frame *f) {
    if (!f->n_prof || !f->qpool) return PF_OK;
    uint64_t *ts = calloc(f->n_queries, sizeof *ts);
    if (!ts) return pf_error(PF_ERR_OOM, "out of host memory (timestamps)");
    VkResult r = c->vk.vkGetQueryPoolResults(c->dev, f->qpool, 0, f->n_queries, f->n_queries * sizeof *ts, ts, sizeof *ts,
                                             VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
    if (r != VK_SUCCESS) {
        free(ts);
        f->n_prof = 0;
        return pf_vk_fail(r, "vkGetQueryPoolResults", "%u timestamps", f->n_queries);
    }
    for (int i = 0; i < f->n_prof; i++) {
        const pf_vk_prof_entry *e = &f->prof[i];
        double ms = (double)(ts[e->q1] - ts[e->q0]) * c->timestamp_period_ns * 1e-6;
        pf_status rc = pf_prof_add(&c->prof, e->key, e->op, PF_OP_NONE, ms);
        if (rc != PF_OK) {
            free(ts);
            f->n_prof = 0;
            return rc;
        }
    }
    f->n_prof = 0;
    free(ts);
    return PF_OK;
}

void pf_vk_profile_report(pf_vk_ctx *c) {
    pf_prof_print(&c->prof, "vulkan", c->props.deviceName, stderr);
    pf_prof_reset(&c->prof);
}

/* ---------------------------------------------------------------- setup */

pf_status pf_vk_dispatch_init(pf_vk_ctx *c) {
    c->max_nodes_per_submit = (int)pf_vk_env_long("PF_VK_MAX_NODES_PER_SUBMIT", 100);
    if (c->max_nodes_per_submit < 1) c->max_nodes_per_submit = 1;
    long gf = pf_vk_env_long("PF_VK_MAX_GFLOPS_PER_SUBMIT", 100);
    c->max_flops_per_submit = (gf > 0 ? (double)gf : 100.0) * 1e9;
    c->profile = pf_vk_env_long("PF_VK_PROFILE", 0) != 0;
    if (c->profile && !c->timestamps) PF_WARN("vulkan: PF_VK_PROFILE=1 but the compute queue has no timestamps");
    VkCommandBuffer cmds[PF_VK_RING];
    VkCommandBufferAllocateInfo cai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                       .commandPool = c->cmd_pool,
                                       .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                       .commandBufferCount = PF_VK_RING};
    PF_VK_CHECK(c->vk.vkAllocateCommandBuffers(c->dev, &cai, cmds), "%d graph command buffers", PF_VK_RING);
    for (int i = 0; i < PF_VK_RING; i++) {
        c->ring[i].cmd = cmds[i];
        VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
        PF_VK_CHECK(c->vk.vkCreateFence(c->dev, &fci, NULL, &c->ring[i].fence), "graph fence %d", i);
    }
    return PF_OK;
}

void pf_vk_dispatch_shutdown(pf_vk_ctx *c) {
    if (!c->dev) return;
    for (int i = 0; i < PF_VK_RING; i++) {
        pf_vk_frame *f = &c->ring[i];
        if (f->fence) c->vk.vkDestroyFence(c->dev, f->fence, NULL);
        for (int k = 0; k < f->n_pools; k++) c->vk.vkDestroyDescriptorPool(c->dev, f->pools[k], NULL);
        if (f->qpool) c->vk.vkDestroyQueryPool(c->dev, f->qpool, NULL);
        free(f->pools);
        free(f->prof);
        memset(f, 0, sizeof *f);
    }
    free(c->written);
    free(c->read);
    pf_prof_free(&c->prof);
    c->written = c->read = NULL;
}
