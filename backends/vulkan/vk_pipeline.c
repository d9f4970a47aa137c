/*
 * Pipelines: SPIR-V compiled at build time (shaders/NAME.comp, embedded by the build in
 * pf_vk_spirv.c), one descriptor-set layout of PF_VK_N_BINDINGS storage buffers and
 * one pipeline layout with a 128-byte push-constant range shared by every pipeline.
 * A pipeline is a (shader, specialization constants) pair created the first time a
 * node needs it: dtypes, modes and tile sizes are specialization constants, so one
 * module serves every dtype combination and the unused branches fold away, and
 * start-up compiles nothing.
 */
#include "vk_internal.h"

static const char *const pf_vk_shader_names[PF_VK_SH_COUNT] = {
    [PF_VK_SH_ELEMENTWISE] = "elementwise", [PF_VK_SH_MATMUL] = "matmul",
    [PF_VK_SH_MATVEC] = "matvec",           [PF_VK_SH_MATVEC_SG] = "matvec_sg",
    [PF_VK_SH_ROWNORM] = "rownorm",         [PF_VK_SH_GROUP_NORM] = "group_norm",
    [PF_VK_SH_GROUP_NORM_SG] = "group_norm_sg", [PF_VK_SH_ATTENTION] = "attention",
    [PF_VK_SH_CONV3D] = "conv3d",           [PF_VK_SH_RESAMPLE] = "resample",
    [PF_VK_SH_EMBEDDING] = "embedding",     [PF_VK_SH_ROPE] = "rope",
};

const char *pf_vk_shader_name(pf_vk_shader s) { return (unsigned)s < PF_VK_SH_COUNT ? pf_vk_shader_names[s] : "?"; }

static const pf_vk_spirv *pf_vk_find_spirv(pf_vk_shader s) {
    for (int i = 0; i < pf_vk_spirv_count; i++)
        if (!strcmp(pf_vk_spirv_table[i].name, pf_vk_shader_names[s])) return &pf_vk_spirv_table[i];
    return NULL;
}

bool pf_vk_have_shader(pf_vk_shader s) { return pf_vk_find_spirv(s) != NULL; }

pf_status pf_vk_pipelines_init(pf_vk_ctx *c) {
    VkDescriptorSetLayoutBinding b[PF_VK_N_BINDINGS];
    for (uint32_t i = 0; i < PF_VK_N_BINDINGS; i++)
        b[i] = (VkDescriptorSetLayoutBinding){
            .binding = i,
            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .descriptorCount = 1,
            .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        };
    VkDescriptorSetLayoutCreateInfo dci = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .flags = c->push_descriptors ? VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR : 0,
        .bindingCount = PF_VK_N_BINDINGS,
        .pBindings = b,
    };
    PF_VK_CHECK(c->vk.vkCreateDescriptorSetLayout(c->dev, &dci, NULL, &c->dsl), "%d storage buffers", PF_VK_N_BINDINGS);
    VkPushConstantRange pr = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = PF_VK_PUSH_MAX};
    VkPipelineLayoutCreateInfo lci = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &c->dsl,
        .pushConstantRangeCount = 1,
        .pPushConstantRanges = &pr,
    };
    PF_VK_CHECK(c->vk.vkCreatePipelineLayout(c->dev, &lci, NULL, &c->layout), "%d-byte push constants", PF_VK_PUSH_MAX);
    return PF_OK;
}

void pf_vk_pipelines_shutdown(pf_vk_ctx *c) {
    if (!c->dev) return;
    for (int i = 0; i < c->n_pipes; i++) c->vk.vkDestroyPipeline(c->dev, c->pipes[i].pipe, NULL);
    free(c->pipes);
    c->pipes = NULL;
    c->n_pipes = c->cap_pipes = 0;
    for (int s = 0; s < PF_VK_SH_COUNT; s++)
        if (c->modules[s]) c->vk.vkDestroyShaderModule(c->dev, c->modules[s], NULL);
    if (c->layout) c->vk.vkDestroyPipelineLayout(c->dev, c->layout, NULL);
    if (c->dsl) c->vk.vkDestroyDescriptorSetLayout(c->dev, c->dsl, NULL);
    c->layout = VK_NULL_HANDLE;
    c->dsl = VK_NULL_HANDLE;
}

static bool pf_vk_key_eq(const pf_vk_pipeline_key *a, const pf_vk_pipeline_key *b) {
    if (a->shader != b->shader || a->n_spec != b->n_spec) return false;
    return !memcmp(a->spec, b->spec, (size_t)a->n_spec * sizeof a->spec[0]);
}

pf_status pf_vk_get_pipeline(pf_vk_ctx *c, const pf_vk_pipeline_key *key, VkPipeline *out) {
    /* a few dozen pipelines per process: a linear scan costs nothing next to a dispatch */
    for (int i = 0; i < c->n_pipes; i++)
        if (pf_vk_key_eq(&c->pipes[i].key, key)) {
            *out = c->pipes[i].pipe;
            return PF_OK;
        }
    pf_vk_shader s = key->shader;
    if ((unsigned)s >= PF_VK_SH_COUNT || key->n_spec > PF_VK_MAX_SPEC)
        return pf_error(PF_ERR_INTERNAL, "vulkan: bad pipeline key (shader %d, %d constants)", (int)s, key->n_spec);
    if (!c->modules[s]) {
        const pf_vk_spirv *sp = pf_vk_find_spirv(s);
        if (!sp)
            return pf_error(PF_ERR_UNSUPPORTED, "vulkan: shader '%s' is not in this build's SPIR-V", pf_vk_shader_names[s]);
        VkShaderModuleCreateInfo mi = {
            .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
            .codeSize = sp->size,
            .pCode = (const uint32_t *)(const void *)sp->code,
        };
        PF_VK_CHECK(c->vk.vkCreateShaderModule(c->dev, &mi, NULL, &c->modules[s]), "shader %s, %zu bytes", sp->name,
                    sp->size);
    }
    VkSpecializationMapEntry map[PF_VK_MAX_SPEC];
    for (int i = 0; i < key->n_spec; i++)
        map[i] = (VkSpecializationMapEntry){.constantID = (uint32_t)i, .offset = (uint32_t)(4 * i), .size = 4};
    VkSpecializationInfo si = {
        .mapEntryCount = (uint32_t)key->n_spec,
        .pMapEntries = map,
        .dataSize = (size_t)key->n_spec * 4,
        .pData = key->spec,
    };
    VkComputePipelineCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage =
            {
                .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                .module = c->modules[s],
                .pName = "main",
                .pSpecializationInfo = key->n_spec ? &si : NULL,
            },
        .layout = c->layout,
    };
    if (c->n_pipes == c->cap_pipes) {
        int cap = c->cap_pipes ? 2 * c->cap_pipes : 32;
        pf_vk_pipeline *np = realloc(c->pipes, (size_t)cap * sizeof *np);
        if (!np) return pf_error(PF_ERR_OOM, "out of host memory (pipelines)");
        c->pipes = np;
        c->cap_pipes = cap;
    }
    double t0 = pf_time_now();
    VkPipeline p;
    PF_VK_CHECK(c->vk.vkCreateComputePipelines(c->dev, VK_NULL_HANDLE, 1, &ci, NULL, &p), "shader %s, %d constants",
                pf_vk_shader_names[s], key->n_spec);
    c->pipeline_ms += 1e3 * (pf_time_now() - t0);
    c->pipes[c->n_pipes].key = *key;
    c->pipes[c->n_pipes].pipe = p;
    c->n_pipes++;
    *out = p;
    return PF_OK;
}
