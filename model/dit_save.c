/*
 * Writing a DiT as an official diffusion_transformer_* folder: config.json with the
 * keys of the released configs (facts §2.1: miniFLUX PyramidFluxTransformer, SD3
 * PyramidDiffusionMMDiT) and diffusion_pytorch_model.safetensors with the official
 * tensor names, in the weights' own dtype. pf_dit_load reads it back bit for bit.
 */
#include "dit_internal.h"
#include "pf_model_files.h"

pf_status pf_dit_config_read(const char *dir, pf_dit_config *cfg) {
    if (!dir || !cfg) return pf_error(PF_ERR_INVALID_ARG, "pf_dit_config_read: NULL argument");
    char *path = pf_path_join(dir, "config.json");
    if (!path) return PF_ERR_OOM;
    pf_status rc = dit_config_parse(path, cfg);
    free(path);
    if (rc != PF_OK) return rc;
    cfg->n_params = dit_count_params(cfg);
    if (cfg->n_params < 0) {
        pf_dit tmp;
        memset(&tmp, 0, sizeof tmp);
        tmp.cfg = *cfg;
        return dit_config_finish(&tmp, dir); /* says what is wrong */
    }
    return PF_OK;
}

/* config.json as the released folders spell it (keys sorted, diffusers style). */
static void dit_config_json(const pf_dit_config *c, char *buf, size_t n) {
    if (c->variant == PF_DIT_FLUX) {
        /* PyramidFluxTransformer packs 2x2 patches itself: patch_size 1, in_channels = 4 C */
        snprintf(buf, n,
                 "{\n"
                 "  \"_class_name\": \"PyramidFluxTransformer\",\n"
                 "  \"_diffusers_version\": \"0.30.3\",\n"
                 "  \"attention_head_dim\": %d,\n"
                 "  \"axes_dims_rope\": [\n    16,\n    24,\n    24\n  ],\n"
                 "  \"in_channels\": %d,\n"
                 "  \"interp_condition_pos\": true,\n"
                 "  \"joint_attention_dim\": %d,\n"
                 "  \"num_attention_heads\": %d,\n"
                 "  \"num_layers\": %d,\n"
                 "  \"num_single_layers\": %d,\n"
                 "  \"patch_size\": 1,\n"
                 "  \"pooled_projection_dim\": %d,\n"
                 "  \"use_flash_attn\": false,\n"
                 "  \"use_gradient_checkpointing\": false,\n"
                 "  \"use_temporal_causal\": true\n"
                 "}\n",
                 c->head_dim, c->in_channels * c->patch * c->patch, c->text_dim, c->heads, c->n_double, c->n_single,
                 c->pooled_dim);
    } else {
        snprintf(buf, n,
                 "{\n"
                 "  \"_class_name\": \"PyramidDiffusionMMDiT\",\n"
                 "  \"_diffusers_version\": \"0.30.0\",\n"
                 "  \"attention_head_dim\": %d,\n"
                 "  \"caption_projection_dim\": %d,\n"
                 "  \"in_channels\": %d,\n"
                 "  \"joint_attention_dim\": %d,\n"
                 "  \"max_num_frames\": 200,\n"
                 "  \"num_attention_heads\": %d,\n"
                 "  \"num_layers\": %d,\n"
                 "  \"patch_size\": %d,\n"
                 "  \"pooled_projection_dim\": %d,\n"
                 "  \"pos_embed_max_size\": %d,\n"
                 "  \"pos_embed_type\": \"sincos\",\n"
                 "  \"qk_norm\": \"rms_norm\",\n"
                 "  \"sample_size\": %d,\n"
                 "  \"use_flash_attn\": false,\n"
                 "  \"use_gradient_checkpointing\": false,\n"
                 "  \"use_temporal_causal\": true\n"
                 "}\n",
                 c->head_dim, c->hidden, c->in_channels, c->text_dim, c->heads, c->n_double, c->patch, c->pooled_dim,
                 c->pos_embed_max_size, c->base_size * c->patch);
    }
}

pf_status pf_dit_save(const pf_dit *dit, const char *dir) {
    if (!dit || !dir) return pf_error(PF_ERR_INVALID_ARG, "pf_dit_save: NULL argument");
    PF_TRY(pf_mkdir_p(dir));
    char cfg[2048];
    dit_config_json(&dit->cfg, cfg, sizeof cfg);
    pf_status rc = pf_save_pool_safetensors(dit->pool, dir, "diffusion_pytorch_model.safetensors");
    if (rc == PF_OK) rc = pf_write_text_file(dir, "config.json", cfg);
    return rc == PF_OK ? PF_OK : pf_error_wrap(rc, "saving the DiT to %s", dir);
}
