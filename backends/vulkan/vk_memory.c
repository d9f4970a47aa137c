/*
 * Device memory: every pf_buffer is one VkBuffer, bound whole to shaders, so the
 * backend reports max_buffer_size = min(maxStorageBufferRange, maxMemoryAllocationSize,
 * maxBufferSize) and the planner/pools split everything into buffers that size.
 * Buffers are suballocated from larger VkDeviceMemory blocks (drivers limit the
 * number of allocations and each one is slow); a buffer of more than half a block
 * gets its own allocation. On UMA devices (integrated GPUs, lavapipe) the memory is
 * host-visible and mapped once, and uploads/downloads are memcpy; otherwise they go
 * through a host-visible staging buffer and a transfer on the compute queue.
 */
#include "vk_internal.h"

#define PF_VK_STAGING_SIZE ((VkDeviceSize)32 << 20)

/* Best memory type among `bits` having all of `need`, preferring `want` flags. */
static int pf_vk_pick_type(pf_vk_ctx *c, uint32_t bits, VkMemoryPropertyFlags need, VkMemoryPropertyFlags want) {
    int best = -1, best_score = -1;
    for (uint32_t i = 0; i < c->memprops.memoryTypeCount; i++) {
        if (!(bits & (1u << i))) continue;
        VkMemoryPropertyFlags f = c->memprops.memoryTypes[i].propertyFlags;
        if ((f & need) != need) continue;
        int score = __builtin_popcount(f & want) * 2;
        /* among equals, the largest heap (the VRAM heap, not a small BAR window) */
        if (best >= 0 && score == best_score) {
            VkDeviceSize a = c->memprops.memoryHeaps[c->memprops.memoryTypes[i].heapIndex].size;
            VkDeviceSize b = c->memprops.memoryHeaps[c->memprops.memoryTypes[best].heapIndex].size;
            if (a > b) best = (int)i;
            continue;
        }
        if (score > best_score) {
            best = (int)i;
            best_score = score;
        }
    }
    return best;
}

void pf_vk_mem_info(pf_vk_ctx *c, size_t *total, size_t *avail) {
    uint32_t heap = c->memprops.memoryTypes[c->type_device].heapIndex;
    *total = (size_t)c->memprops.memoryHeaps[heap].size;
    *avail = 0;
    if (c->memory_budget) {
        VkPhysicalDeviceMemoryBudgetPropertiesEXT mb = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
        VkPhysicalDeviceMemoryProperties2 mp = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2, .pNext = &mb};
        vkGetPhysicalDeviceMemoryProperties2(c->phys, &mp);
        *avail = mb.heapBudget[heap] > mb.heapUsage[heap] ? (size_t)(mb.heapBudget[heap] - mb.heapUsage[heap]) : 0;
    } else {
        /* no budget extension: what this backend has not taken (other processes unknown) */
        size_t used = c->be ? c->be->bytes_allocated : 0;
        *avail = *total > used ? *total - used : 0;
    }
}

void pf_vk_heap_str(pf_vk_ctx *c, uint32_t heap, char *buf, size_t n) {
    char t[32], u[32], b[32];
    pf_fmt_bytes((double)c->memprops.memoryHeaps[heap].size, t, sizeof t);
    if (c->memory_budget) {
        VkPhysicalDeviceMemoryBudgetPropertiesEXT mb = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
        VkPhysicalDeviceMemoryProperties2 mp = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2, .pNext = &mb};
        vkGetPhysicalDeviceMemoryProperties2(c->phys, &mp);
        snprintf(buf, n, "heap %u: %s, budget %s, %s in use", heap, t, pf_fmt_bytes((double)mb.heapBudget[heap], b, sizeof b),
                 pf_fmt_bytes((double)mb.heapUsage[heap], u, sizeof u));
    } else {
        snprintf(buf, n, "heap %u: %s, %s allocated by pflow", heap, t,
                 pf_fmt_bytes((double)(c->be ? c->be->bytes_allocated : 0), u, sizeof u));
    }
}

/* ---------------------------------------------------------------- allocations */

static pf_status pf_vk_allocate(pf_vk_ctx *c, VkDeviceSize size, uint32_t type, size_t for_bytes, VkDeviceMemory *mem,
                                void **mapped) {
    VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = size, .memoryTypeIndex = type};
    VkResult r = c->vk.vkAllocateMemory(c->dev, &ai, NULL, mem);
    if (r != VK_SUCCESS) {
        char a[32], b[32], h[160];
        pf_vk_heap_str(c, c->memprops.memoryTypes[type].heapIndex, h, sizeof h);
        pf_status s = pf_vk_fail(r, "vkAllocateMemory", "%s of memory type %u for a %s buffer; %s",
                                 pf_fmt_bytes((double)size, a, sizeof a), type, pf_fmt_bytes((double)for_bytes, b, sizeof b), h);
        *mem = VK_NULL_HANDLE;
        return s;
    }
    *mapped = NULL;
    if (c->memprops.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) {
        r = c->vk.vkMapMemory(c->dev, *mem, 0, VK_WHOLE_SIZE, 0, mapped);
        if (r != VK_SUCCESS) {
            c->vk.vkFreeMemory(c->dev, *mem, NULL);
            *mem = VK_NULL_HANDLE;
            char a[32];
            return pf_vk_fail(r, "vkMapMemory", "%s of memory type %u", pf_fmt_bytes((double)size, a, sizeof a), type);
        }
    }
    return PF_OK;
}

/* First fit of `size` at `align` in a block's free list. */
static bool pf_vk_block_take(pf_vk_block *b, VkDeviceSize size, VkDeviceSize align, VkDeviceSize *off) {
    for (int i = 0; i < b->n_free; i++) {
        pf_vk_range *f = &b->free[i];
        VkDeviceSize start = PF_ALIGN_UP(f->off, align);
        if (start + size > f->off + f->size) continue;
        VkDeviceSize end = start + size, fend = f->off + f->size;
        /* split into [f->off, start) and [end, fend) */
        if (start > f->off && end < fend) {
            if (b->n_free == b->cap_free) {
                int cap = b->cap_free * 2;
                pf_vk_range *nf = realloc(b->free, (size_t)cap * sizeof *nf);
                if (!nf) return false;
                b->free = nf;
                b->cap_free = cap;
                f = &b->free[i];
            }
            memmove(&b->free[i + 2], &b->free[i + 1], (size_t)(b->n_free - i - 1) * sizeof *f);
            b->free[i + 1].off = end;
            b->free[i + 1].size = fend - end;
            f->size = start - f->off;
            b->n_free++;
        } else if (start > f->off) {
            f->size = start - f->off;
        } else if (end < fend) {
            f->off = end;
            f->size = fend - end;
        } else {
            memmove(&b->free[i], &b->free[i + 1], (size_t)(b->n_free - i - 1) * sizeof *f);
            b->n_free--;
        }
        *off = start;
        b->n_live++;
        return true;
    }
    return false;
}

static pf_status pf_vk_block_give(pf_vk_block *b, VkDeviceSize off, VkDeviceSize size) {
    int i = 0;
    while (i < b->n_free && b->free[i].off < off) i++;
    bool prev = i > 0 && b->free[i - 1].off + b->free[i - 1].size == off;
    bool next = i < b->n_free && off + size == b->free[i].off;
    if (prev && next) {
        b->free[i - 1].size += size + b->free[i].size;
        memmove(&b->free[i], &b->free[i + 1], (size_t)(b->n_free - i - 1) * sizeof(pf_vk_range));
        b->n_free--;
    } else if (prev) {
        b->free[i - 1].size += size;
    } else if (next) {
        b->free[i].off = off;
        b->free[i].size += size;
    } else {
        if (b->n_free == b->cap_free) {
            int cap = b->cap_free * 2;
            pf_vk_range *nf = realloc(b->free, (size_t)cap * sizeof *nf);
            if (!nf) return pf_error(PF_ERR_OOM, "out of host memory (vulkan free list)");
            b->free = nf;
            b->cap_free = cap;
        }
        memmove(&b->free[i + 1], &b->free[i], (size_t)(b->n_free - i) * sizeof(pf_vk_range));
        b->free[i].off = off;
        b->free[i].size = size;
        b->n_free++;
    }
    b->n_live--;
    return PF_OK;
}

static void pf_vk_block_destroy(pf_vk_ctx *c, pf_vk_block *b) {
    if (b->mem) c->vk.vkFreeMemory(c->dev, b->mem, NULL); /* unmaps implicitly */
    free(b->free);
    free(b);
}

/* Create a VkBuffer of `size` bytes with memory of type class `host` (host-visible) or device. */
static pf_status pf_vk_buf_create(pf_vk_ctx *c, size_t size, bool host, pf_vk_buf *out) {
    memset(out, 0, sizeof *out);
    VkDeviceSize bsize = PF_ALIGN_UP((VkDeviceSize)PF_MAX(size, 16), 16);
    VkBufferCreateInfo bi = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = bsize,
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    char sz[32];
    PF_VK_CHECK(c->vk.vkCreateBuffer(c->dev, &bi, NULL, &out->buf), "%s buffer",
                pf_fmt_bytes((double)bsize, sz, sizeof sz));
    out->size = bsize;
    out->id = ++c->next_buf_id;
    VkMemoryRequirements req;
    c->vk.vkGetBufferMemoryRequirements(c->dev, out->buf, &req);
    int type;
    if (host)
        type = pf_vk_pick_type(c, req.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                               VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
    else
        type = (req.memoryTypeBits & (1u << c->type_device)) ? (int)c->type_device
                                                              : pf_vk_pick_type(c, req.memoryTypeBits, 0, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
    if (type < 0) {
        c->vk.vkDestroyBuffer(c->dev, out->buf, NULL);
        out->buf = VK_NULL_HANDLE;
        return pf_error(PF_ERR_UNSUPPORTED, "vulkan: no %s memory type for a storage buffer (type bits 0x%x)",
                        host ? "host-visible coherent" : "device", req.memoryTypeBits);
    }
    pf_status rc = PF_OK;
    void *base = NULL;
    if (req.size > c->block_size / 2 || host) { /* dedicated */
        rc = pf_vk_allocate(c, req.size, (uint32_t)type, size, &out->mem, &base);
        out->mem_off = 0;
    } else {
        pf_vk_block *b = c->blocks;
        VkDeviceSize off = 0;
        for (; b; b = b->next)
            if (b->type == (uint32_t)type && pf_vk_block_take(b, req.size, req.alignment, &off)) break;
        if (!b) {
            b = calloc(1, sizeof *b);
            pf_vk_range *fr = calloc(8, sizeof *fr);
            if (!b || !fr) {
                free(b);
                free(fr);
                rc = pf_error(PF_ERR_OOM, "out of host memory (vulkan block)");
            } else {
                b->free = fr;
                b->cap_free = 8;
                b->size = c->block_size;
                b->type = (uint32_t)type;
                rc = pf_vk_allocate(c, b->size, b->type, size, &b->mem, &b->mapped);
                if (rc != PF_OK) {
                    pf_vk_block_destroy(c, b);
                } else {
                    b->free[0].off = 0;
                    b->free[0].size = b->size;
                    b->n_free = 1;
                    b->next = c->blocks;
                    c->blocks = b;
                    if (!pf_vk_block_take(b, req.size, req.alignment, &off))
                        rc = pf_error(PF_ERR_INTERNAL, "vulkan: fresh block cannot hold %llu bytes",
                                      (unsigned long long)req.size);
                }
            }
        }
        if (rc == PF_OK) {
            out->block = b;
            out->mem_off = off;
            out->mem_size = req.size;
            base = b->mapped;
        }
    }
    if (rc == PF_OK) {
        VkDeviceMemory m = out->block ? out->block->mem : out->mem;
        VkResult r = c->vk.vkBindBufferMemory(c->dev, out->buf, m, out->mem_off);
        if (r != VK_SUCCESS) rc = pf_vk_fail(r, "vkBindBufferMemory", "%s buffer", pf_fmt_bytes((double)bsize, sz, sizeof sz));
    }
    if (rc != PF_OK) {
        if (out->block) pf_vk_block_give(out->block, out->mem_off, out->mem_size);
        if (out->mem) c->vk.vkFreeMemory(c->dev, out->mem, NULL);
        c->vk.vkDestroyBuffer(c->dev, out->buf, NULL);
        memset(out, 0, sizeof *out);
        return rc;
    }
    /* mapped memory is only used directly on UMA devices or for host buffers */
    if (base && (c->uma || host)) out->mapped = (char *)base + out->mem_off;
    return PF_OK;
}

static void pf_vk_buf_destroy(pf_vk_ctx *c, pf_vk_buf *b) {
    if (!b->buf) return;
    c->vk.vkDestroyBuffer(c->dev, b->buf, NULL);
    if (b->mem) c->vk.vkFreeMemory(c->dev, b->mem, NULL);
    if (b->block) {
        pf_vk_block *blk = b->block;
        pf_vk_block_give(blk, b->mem_off, b->mem_size);
        if (blk->n_live == 0) { /* give empty blocks back to the driver */
            pf_vk_block **pp = &c->blocks;
            while (*pp && *pp != blk) pp = &(*pp)->next;
            if (*pp) *pp = blk->next;
            pf_vk_block_destroy(c, blk);
        }
    }
    memset(b, 0, sizeof *b);
}

/* ---------------------------------------------------------------- pf_buffer */

pf_status pf_vk_buffer_alloc(pf_backend *be, size_t size, pf_buffer **out) {
    pf_vk_ctx *c = be->ctx;
    *out = NULL;
    if (size > c->max_buffer_size) {
        char a[32], b[32];
        return pf_error(PF_ERR_OOM, "vulkan: buffer of %s exceeds the device's largest bindable buffer (%s)",
                        pf_fmt_bytes((double)size, a, sizeof a), pf_fmt_bytes((double)c->max_buffer_size, b, sizeof b));
    }
    pf_buffer *pb = calloc(1, sizeof *pb);
    pf_vk_buf *vb = calloc(1, sizeof *vb);
    if (!pb || !vb) {
        free(pb);
        free(vb);
        return pf_error(PF_ERR_OOM, "out of host memory (buffer)");
    }
    pf_status rc = pf_vk_buf_create(c, size, false, vb);
    if (rc != PF_OK) {
        free(pb);
        free(vb);
        return rc;
    }
    pb->backend = be;
    pb->size = size;
    pb->impl = vb;
    *out = pb;
    return PF_OK;
}

void pf_vk_buffer_free(pf_backend *be, pf_buffer *buf) {
    pf_vk_ctx *c = be->ctx;
    if (!buf) return;
    /* the GPU may still read it: finish everything first (errors were reported by compute) */
    pf_vk_wait_all(c);
    pf_vk_buf_destroy(c, buf->impl);
    free(buf->impl);
    free(buf);
}

/* One copy on the transfer command buffer, waited for. */
static pf_status pf_vk_copy_now(pf_vk_ctx *c, VkBuffer src, VkDeviceSize so, VkBuffer dst, VkDeviceSize doff,
                                VkDeviceSize n) {
    PF_VK_CHECK(c->vk.vkResetCommandBuffer(c->xfer_cmd, 0), "transfer");
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    PF_VK_CHECK(c->vk.vkBeginCommandBuffer(c->xfer_cmd, &bi), "transfer");
    /* earlier submissions' shader writes before the copy reads; the copy's writes before
     * later submissions' shaders and the host read (barriers cover submission order) */
    VkMemoryBarrier pre = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                           .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_SHADER_READ_BIT,
                           .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT};
    c->vk.vkCmdPipelineBarrier(c->xfer_cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &pre,
                               0, NULL, 0, NULL);
    VkBufferCopy region = {.srcOffset = so, .dstOffset = doff, .size = n};
    c->vk.vkCmdCopyBuffer(c->xfer_cmd, src, dst, 1, &region);
    VkMemoryBarrier post = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                            .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                            .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_HOST_READ_BIT};
    c->vk.vkCmdPipelineBarrier(c->xfer_cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                               VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &post, 0, NULL, 0,
                               NULL);
    PF_VK_CHECK(c->vk.vkEndCommandBuffer(c->xfer_cmd), "transfer");
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &c->xfer_cmd};
    PF_VK_CHECK(c->vk.vkResetFences(c->dev, 1, &c->xfer_fence), "transfer fence");
    PF_VK_CHECK(c->vk.vkQueueSubmit(c->queue, 1, &si, c->xfer_fence), "copy of %llu bytes", (unsigned long long)n);
    PF_VK_CHECK(c->vk.vkWaitForFences(c->dev, 1, &c->xfer_fence, VK_TRUE, UINT64_MAX), "copy of %llu bytes",
                (unsigned long long)n);
    return PF_OK;
}

static pf_status pf_vk_staging(pf_vk_ctx *c) {
    if (c->staging.buf) return PF_OK;
    return pf_vk_buf_create(c, PF_VK_STAGING_SIZE, true, &c->staging);
}

pf_status pf_vk_upload(pf_backend *be, pf_buffer *buf, size_t off, const void *src, size_t n) {
    pf_vk_ctx *c = be->ctx;
    pf_vk_buf *b = buf->impl;
    if (off + n > buf->size) return pf_error(PF_ERR_INTERNAL, "vulkan upload outside buffer (%zu + %zu > %zu)", off, n, buf->size);
    if (!n) return PF_OK;
    PF_TRY(pf_vk_wait_all(c)); /* a running graph may still read or write it */
    if (b->mapped) {
        memcpy((char *)b->mapped + off, src, n);
        return PF_OK;
    }
    PF_TRY(pf_vk_staging(c));
    for (size_t done = 0; done < n;) {
        size_t k = PF_MIN(n - done, (size_t)c->staging.size);
        memcpy(c->staging.mapped, (const char *)src + done, k);
        PF_TRY(pf_vk_copy_now(c, c->staging.buf, 0, b->buf, off + done, k));
        done += k;
    }
    return PF_OK;
}

pf_status pf_vk_download(pf_backend *be, pf_buffer *buf, size_t off, void *dst, size_t n) {
    pf_vk_ctx *c = be->ctx;
    pf_vk_buf *b = buf->impl;
    if (off + n > buf->size) return pf_error(PF_ERR_INTERNAL, "vulkan download outside buffer (%zu + %zu > %zu)", off, n, buf->size);
    if (!n) return PF_OK;
    PF_TRY(pf_vk_wait_all(c));
    if (b->mapped) {
        memcpy(dst, (const char *)b->mapped + off, n);
        return PF_OK;
    }
    PF_TRY(pf_vk_staging(c));
    for (size_t done = 0; done < n;) {
        size_t k = PF_MIN(n - done, (size_t)c->staging.size);
        PF_TRY(pf_vk_copy_now(c, b->buf, off + done, c->staging.buf, 0, k));
        memcpy((char *)dst + done, c->staging.mapped, k);
        done += k;
    }
    return PF_OK;
}

/* ---------------------------------------------------------------- setup */

pf_status pf_vk_memory_init(pf_vk_ctx *c) {
    /* tensor memory: on UMA devices the host-visible device-local type, mapped once */
    bool integrated = c->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU ||
                      c->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
    c->force_staging = pf_vk_env_long("PF_VK_FORCE_STAGING", 0) != 0;
    int uma_type = pf_vk_pick_type(c, ~0u,
                                   VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                       VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                                   VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
    int dev_type = pf_vk_pick_type(c, ~0u, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);
    if (integrated && uma_type >= 0 && !c->force_staging) {
        c->uma = true;
        c->type_device = (uint32_t)uma_type;
    } else if (dev_type >= 0) {
        c->type_device = (uint32_t)dev_type;
    } else {
        return pf_error(PF_ERR_UNSUPPORTED, "vulkan: device '%s' has no device-local memory type", c->props.deviceName);
    }

    /* every pf_buffer is bound whole: one binding, one allocation, one VkBuffer */
    VkDeviceSize lim = c->max_storage_range;
    if (c->max_alloc < lim) lim = c->max_alloc;
    if (c->max_buffer < lim) lim = c->max_buffer;
    long force = pf_vk_env_long("PF_VK_MAX_BUFFER", 0); /* bytes; tests exercise chunking with it */
    if (force > 0 && (VkDeviceSize)force < lim) lim = (VkDeviceSize)force;
    lim &= ~(VkDeviceSize)255; /* keep whole 256-byte units: element offsets stay aligned */
    c->max_buffer_size = (size_t)lim;
    c->alignment = PF_MAX((size_t)c->props.limits.minStorageBufferOffsetAlignment, (size_t)64);

    VkDeviceSize block = (VkDeviceSize)pf_vk_env_long("PF_VK_BLOCK_MB", 256) << 20;
    if (block > c->max_alloc) block = c->max_alloc;
    c->block_size = block;

    VkCommandPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                   .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                   .queueFamilyIndex = c->qfam};
    PF_VK_CHECK(c->vk.vkCreateCommandPool(c->dev, &pci, NULL, &c->cmd_pool), "queue family %u", c->qfam);
    VkCommandBufferAllocateInfo cai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                       .commandPool = c->cmd_pool,
                                       .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                       .commandBufferCount = 1};
    PF_VK_CHECK(c->vk.vkAllocateCommandBuffers(c->dev, &cai, &c->xfer_cmd), "transfer command buffer");
    VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    PF_VK_CHECK(c->vk.vkCreateFence(c->dev, &fci, NULL, &c->xfer_fence), "transfer fence");

    /* the buffer bound to unused binding slots, and the shader error status (host-visible) */
    PF_TRY(pf_vk_buffer_alloc(c->be, 256, &c->dummy));
    pf_buffer *st = calloc(1, sizeof *st);
    pf_vk_buf *sb = calloc(1, sizeof *sb);
    if (!st || !sb) {
        free(st);
        free(sb);
        return pf_error(PF_ERR_OOM, "out of host memory (status buffer)");
    }
    pf_status rc = pf_vk_buf_create(c, 64, true, sb);
    if (rc != PF_OK) {
        free(st);
        free(sb);
        return rc;
    }
    memset(sb->mapped, 0, 64);
    st->backend = c->be;
    st->size = 64;
    st->impl = sb;
    c->status = st;
    return PF_OK;
}

void pf_vk_memory_shutdown(pf_vk_ctx *c) {
    if (!c->dev) return;
    if (c->dummy) {
        pf_vk_buf_destroy(c, c->dummy->impl);
        free(c->dummy->impl);
        free(c->dummy);
        c->dummy = NULL;
    }
    if (c->status) {
        pf_vk_buf_destroy(c, c->status->impl);
        free(c->status->impl);
        free(c->status);
        c->status = NULL;
    }
    pf_vk_buf_destroy(c, &c->staging);
    if (c->xfer_fence) c->vk.vkDestroyFence(c->dev, c->xfer_fence, NULL);
    if (c->cmd_pool) c->vk.vkDestroyCommandPool(c->dev, c->cmd_pool, NULL);
    c->xfer_fence = VK_NULL_HANDLE;
    c->cmd_pool = VK_NULL_HANDLE;
    while (c->blocks) {
        pf_vk_block *b = c->blocks;
        c->blocks = b->next;
        pf_vk_block_destroy(c, b);
    }
}
