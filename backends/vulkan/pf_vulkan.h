/*
 * Vulkan backend extras for tests and tools (declared only in builds with
 * PF_HAVE_VULKAN). Everything else goes through the generic pf_backend API.
 *
 * Environment:
 *   PF_VK_DEVICE=i                  device index (default: the first discrete GPU, then
 *                                   integrated, virtual, CPU)
 *   PF_VK_VALIDATE=0|1              validation layers (default: on in Debug builds when
 *                                   VK_LAYER_KHRONOS_validation is installed)
 *   PF_VK_PROFILE=1                 per-op GPU time table after each compute
 *   PF_VK_MAX_NODES_PER_SUBMIT=n    nodes per submission (default 100)
 *   PF_VK_MAX_GFLOPS_PER_SUBMIT=n   work per submission (default 100 GFLOP)
 *   PF_VK_MAX_BUFFER=bytes          lower the largest buffer (tests of chunked arenas)
 *   PF_VK_FORCE_STAGING=1           staging copies even on UMA devices (tests the dGPU path)
 *   PF_VK_NO_SUBGROUP=1             shared-memory reductions instead of subgroup ops
 *   PF_VK_NO_PUSH_DESCRIPTORS=1     pooled descriptor sets instead of push descriptors
 *   PF_VK_BLOCK_MB=n                size of the memory blocks buffers are carved from
 *   PF_VK_MAX_GROUPS_X=n            lower maxComputeWorkGroupCount[0] (tests of the x/y split)
 *   PF_VK_LOOP_LIMIT=n              loop iterations per invocation supports_op respects
 *                                   (default 65535 on llvmpipe, which stops loops there)
 */
#ifndef PF_VULKAN_H
#define PF_VULKAN_H

#include "pf_backend.h"

typedef struct pf_vulkan_stats {
    int submits, dispatches, barriers; /* since the backend was created */
    int pipelines;                     /* created so far */
    double pipeline_ms;                /* spent creating them */
    bool uma, push_descriptors, subgroup_arith, validation, timestamps;
    uint32_t subgroup_size;
    size_t max_shared;
} pf_vulkan_stats;

/* Counters of a vulkan backend (zeros for any other backend). */
void pf_vulkan_get_stats(pf_backend *be, pf_vulkan_stats *st);
/* Validation-layer warnings and errors reported in this process so far. */
int pf_vulkan_validation_messages(void);

#endif /* PF_VULKAN_H */
