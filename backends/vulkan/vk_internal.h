/*
 * Internal state of the Vulkan backend, shared by its files:
 *   vk_device.c    instance (shared, refcounted), validation, device choice, queue, limits
 *   vk_memory.c    memory types, block suballocation, pf_buffers, uploads/downloads
 *   vk_pipeline.c  embedded SPIR-V, the one descriptor-set/pipeline layout, pipelines on first use
 *   vk_dispatch.c  command recording, hazard barriers, bounded submissions, timestamps/profile
 *   vk_backend.c   the pf_backend_ops table, the op table, supports_op
 *   vk_ops_*.c     one file per op family: checks (supports_op reasons) and dispatch recording
 *
 * Everything Vulkan goes through volk (VK_NO_PROTOTYPES): global/instance functions
 * from volk's global pointers, device functions from the context's own
 * VolkDeviceTable so several devices can coexist in one process.
 */
#ifndef PF_VK_INTERNAL_H
#define PF_VK_INTERNAL_H

#include "pf_graph_impl.h"
#include "pf_profile.h"

#include <volk.h>

#define PF_VK_N_BINDINGS 8     /* storage buffers per dispatch (attention uses 7) */
#define PF_VK_STATUS_BINDING 7 /* the device-side error status buffer */
#define PF_VK_PUSH_MAX 128     /* the guaranteed maxPushConstantsSize */
#define PF_VK_MAX_SPEC 16      /* specialization constants per pipeline */
#define PF_VK_RING 3           /* command buffers in flight */

/* Shaders (embedded SPIR-V modules); names match shaders/<name>.comp and its variants. */
typedef enum pf_vk_shader {
    PF_VK_SH_ELEMENTWISE = 0,
    PF_VK_SH_MATMUL,
    PF_VK_SH_MATVEC,
    PF_VK_SH_MATVEC_SG,
    PF_VK_SH_ROWNORM,
    PF_VK_SH_GROUP_NORM,
    PF_VK_SH_GROUP_NORM_SG,
    PF_VK_SH_ATTENTION,
    PF_VK_SH_CONV3D,
    PF_VK_SH_RESAMPLE,
    PF_VK_SH_EMBEDDING,
    PF_VK_SH_ROPE,
    PF_VK_SH_COUNT
} pf_vk_shader;

/* One SPIR-V module embedded by the build (generated pf_vk_spirv.c). */
typedef struct pf_vk_spirv {
    const char *name;
    const unsigned char *code;
    size_t size;
} pf_vk_spirv;
extern const pf_vk_spirv pf_vk_spirv_table[];
extern const int pf_vk_spirv_count;

/* ---------------------------------------------------------------- memory */

typedef struct pf_vk_range {
    VkDeviceSize off, size;
} pf_vk_range;

/* A VkDeviceMemory that buffers are suballocated from. */
typedef struct pf_vk_block {
    VkDeviceMemory mem;
    VkDeviceSize size;
    uint32_t type;
    void *mapped; /* persistently mapped (host-visible types), else NULL */
    pf_vk_range *free; /* sorted by offset, coalesced */
    int n_free, cap_free;
    int n_live;
    struct pf_vk_block *next;
} pf_vk_block;

/* pf_buffer->impl */
typedef struct pf_vk_buf {
    VkBuffer buf;
    VkDeviceSize size;      /* the VkBuffer's size (>= the pf_buffer's) */
    pf_vk_block *block;     /* suballocated from, or NULL for a dedicated allocation */
    VkDeviceMemory mem;     /* dedicated allocation */
    VkDeviceSize mem_off;   /* offset in the block */
    VkDeviceSize mem_size;  /* bytes taken from the block */
    void *mapped;           /* host address of byte 0 (UMA / host-visible), else NULL */
    uint64_t id;            /* for hazard tracking */
} pf_vk_buf;

/* ---------------------------------------------------------------- pipelines */

typedef struct pf_vk_pipeline_key {
    pf_vk_shader shader;
    int n_spec;
    uint32_t spec[PF_VK_MAX_SPEC];
} pf_vk_pipeline_key;

typedef struct pf_vk_pipeline {
    pf_vk_pipeline_key key;
    VkPipeline pipe;
} pf_vk_pipeline;

/* ---------------------------------------------------------------- recording */

/* A span of bytes of one buffer touched by a dispatch (hazard tracking). */
typedef struct pf_vk_span {
    uint64_t buf;
    VkDeviceSize lo, hi;
} pf_vk_span;

typedef struct pf_vk_prof_entry {
    /* what ran, named when it was recorded: the timestamps may be read after the graph is
     * gone (a compute that failed after a partial submission, read at the next wait) */
    char key[PF_PROF_KEY_LEN];
    pf_op op;
    uint32_t q0, q1; /* timestamp query indices */
} pf_vk_prof_entry;

/* One command buffer in the ring, with what its submission holds on to. */
typedef struct pf_vk_frame {
    VkCommandBuffer cmd;
    VkFence fence;
    bool pending;   /* submitted, fence not yet waited */
    bool recording; /* between begin and submit */
    /* descriptor pools (when push descriptors are unavailable); reset on completion */
    VkDescriptorPool *pools;
    int n_pools, cur_pool;
    /* timestamps */
    VkQueryPool qpool;
    uint32_t n_queries, cap_queries;
    pf_vk_prof_entry *prof;
    int n_prof, cap_prof;
} pf_vk_frame;

/* ---------------------------------------------------------------- the context */

typedef struct pf_vk_ctx {
    pf_backend *be;
    VkInstance instance;
    VkPhysicalDevice phys;
    VkDevice dev;
    struct VolkDeviceTable vk;
    VkQueue queue;
    uint32_t qfam;
    int device_index, n_devices;

    VkPhysicalDeviceProperties props;
    VkPhysicalDeviceMemoryProperties memprops;
    uint32_t api_version;
    VkDeviceSize max_storage_range, max_alloc, max_buffer;
    uint32_t max_shared, max_wg_invocations, max_groups[3];
    uint32_t subgroup_size;
    bool subgroup_arith;   /* subgroupAdd & co. in compute shaders */
    bool push_descriptors; /* VK_KHR_push_descriptor */
    bool memory_budget;    /* VK_EXT_memory_budget */
    bool timestamps;
    double timestamp_period_ns;
    /* lavapipe (llvmpipe) ends every loop of a shader invocation after 65535 iterations in
     * total (Mesa's LP_MAX_TGSI_LOOP_ITERATIONS), silently: ops that would run more are
     * declined there. 0: no such limit. */
    long loop_limit;
    char desc[256];

    /* memory */
    bool uma;               /* device memory is host-visible: no staging copies */
    uint32_t type_device;   /* memory type for tensors */
    uint32_t type_staging;  /* host-visible type for staging (when !uma) */
    size_t max_buffer_size; /* reported: the smallest of the binding/allocation/buffer limits */
    size_t alignment;
    VkDeviceSize block_size;
    pf_vk_block *blocks;
    uint64_t next_buf_id;
    pf_vk_buf staging;
    VkCommandPool cmd_pool;
    VkCommandBuffer xfer_cmd;
    VkFence xfer_fence;

    /* pipelines */
    VkShaderModule modules[PF_VK_SH_COUNT];
    VkDescriptorSetLayout dsl;
    VkPipelineLayout layout;
    pf_vk_pipeline *pipes;
    int n_pipes, cap_pipes;
    double pipeline_ms; /* time spent creating pipelines */

    /* fixed buffers: a small one bound to unused slots, and the error status */
    pf_buffer *dummy;
    pf_buffer *status;

    /* recording */
    pf_vk_frame ring[PF_VK_RING];
    int cur;
    int nodes_in_batch;
    double flops_in_batch;
    pf_vk_span *written, *read; /* since the last barrier */
    int n_written, n_read, cap_written, cap_read;
    int n_barriers, n_dispatches, n_submits;
    const pf_tensor *cur_node; /* node being recorded (profile, messages) */
    bool node_has_ts;

    /* settings */
    int max_nodes_per_submit;
    double max_flops_per_submit;
    bool profile;
    bool validate;
    bool force_staging;

    /* profile of the computes since the last report */
    pf_prof prof;
} pf_vk_ctx;

/* ---------------------------------------------------------------- helpers */

const char *pf_vk_result_str(VkResult r);
/* Error for a failed Vulkan call: "vkFoo (what): VK_ERROR_X". */
pf_status pf_vk_fail(VkResult r, const char *call, const char *fmt, ...) PF_PRINTF(3, 4);
#define PF_VK_CHECK(call, ...)                                   \
    do {                                                         \
        VkResult pf_vk_r_ = (call);                              \
        if (pf_vk_r_ != VK_SUCCESS)                              \
            return pf_vk_fail(pf_vk_r_, #call, __VA_ARGS__);     \
    } while (0)

/* vk_device.c */
pf_status pf_vk_device_open(pf_vk_ctx *c, int device_index);
void pf_vk_device_close(pf_vk_ctx *c);
/* Validation messages at warning/error severity since start (0 without validation). */
int pf_vk_validation_error_count(void);

/* vk_memory.c */
pf_status pf_vk_memory_init(pf_vk_ctx *c);
void pf_vk_memory_shutdown(pf_vk_ctx *c);
pf_status pf_vk_buffer_alloc(pf_backend *be, size_t size, pf_buffer **out);
void pf_vk_buffer_free(pf_backend *be, pf_buffer *buf);
pf_status pf_vk_upload(pf_backend *be, pf_buffer *buf, size_t offset, const void *src, size_t size);
pf_status pf_vk_download(pf_backend *be, pf_buffer *buf, size_t offset, void *dst, size_t size);
/* Heap figures for messages: "heap 0: 2.00 GiB (budget 1.5 GiB, 300 MiB used)". */
void pf_vk_heap_str(pf_vk_ctx *c, uint32_t heap, char *buf, size_t n);
void pf_vk_mem_info(pf_vk_ctx *c, size_t *total, size_t *avail);

/* vk_pipeline.c */
pf_status pf_vk_pipelines_init(pf_vk_ctx *c);
void pf_vk_pipelines_shutdown(pf_vk_ctx *c);
pf_status pf_vk_get_pipeline(pf_vk_ctx *c, const pf_vk_pipeline_key *key, VkPipeline *out);
const char *pf_vk_shader_name(pf_vk_shader s);
bool pf_vk_have_shader(pf_vk_shader s); /* variants may be missing (glslc without subgroup support) */

/* vk_dispatch.c */
pf_status pf_vk_dispatch_init(pf_vk_ctx *c);
void pf_vk_dispatch_shutdown(pf_vk_ctx *c);
/* Begin / end one graph node (batching, profile boundaries). */
pf_status pf_vk_node_begin(pf_vk_ctx *c, const pf_tensor *node);
pf_status pf_vk_node_end(pf_vk_ctx *c, const pf_tensor *node);
/* Submit what is recorded (does not wait). */
pf_status pf_vk_flush(pf_vk_ctx *c);
/* Wait for every submission, collect timestamps, check the status buffer. */
pf_status pf_vk_wait_all(pf_vk_ctx *c);
/* Drop a partly recorded batch after an error. */
void pf_vk_abort(pf_vk_ctx *c);
/* Print and reset the profile of the computes since the last report. */
void pf_vk_profile_report(pf_vk_ctx *c);

/* One dispatch. bind[i] is the tensor of binding i (NULL: unused); `write_mask` marks
 * the bindings the shader writes. Bindings are whole buffers: shaders get element
 * offsets through push constants. */
typedef struct pf_vk_dispatch_desc {
    pf_vk_pipeline_key key;
    const pf_tensor *bind[PF_VK_N_BINDINGS];
    unsigned write_mask;
    const void *push;
    uint32_t push_size;
    uint32_t groups[3];
} pf_vk_dispatch_desc;
pf_status pf_vk_dispatch(pf_vk_ctx *c, const pf_vk_dispatch_desc *d);

/* Split a 1-D count of workgroups over x and y within the device limits. */
pf_status pf_vk_groups_1d(pf_vk_ctx *c, uint64_t groups, uint32_t out[3]);

/* Element offset of a tensor's first element in its root buffer. */
static inline uint32_t pf_vk_elem_off(const pf_tensor *t) {
    return (uint32_t)(pf_data_offset(t) / pf_dtype_size(t->dtype));
}

/* Environment integer with a default. */
long pf_vk_env_long(const char *name, long def);

#endif /* PF_VK_INTERNAL_H */
