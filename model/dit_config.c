/*
 * DiT configuration: config.json of a diffusion_transformer_* folder, the variant
 * it describes, and the keyword overrides the official pipeline hard-codes in
 * build_pyramid_dit() (they are not in config.json):
 *   miniFLUX  use_flash_attn=False, use_temporal_causal=True, interp_condition_pos=True,
 *             axes_dims_rope=[16, 24, 24]; the class also hard-codes patch_size = 2
 *   SD3       use_t5_mask=True, add_temp_pos_embed=True, temp_pos_embed_type='rope',
 *             use_temporal_causal=True, interp_condition_pos=True, use_flash_attn=False
 * Keys absent from config.json take the class constructor defaults, as from_pretrained does.
 */
#include "dit_internal.h"
#include "pf_json.h"

static const int dit_flux_axes[3] = {16, 24, 24}; /* build_pyramid_dit: axes_dims_rope=[16, 24, 24] */

/* Integer key with the class default (pf_json_int_in); the first problem stays in *rc. */
static int dit_cfg_int(const pf_json *j, const char *key, int64_t def, pf_status *rc) {
    int v = (int)def;
    if (*rc == PF_OK) *rc = pf_json_int_in(j, key, false, def, 0, 1 << 24, &v);
    return v;
}

static bool dit_has_any(const pf_json *j, const char *const *keys, int n) {
    for (int i = 0; i < n; i++)
        if (pf_json_has(j, keys[i])) return true;
    return false;
}

/* Which class the config describes: the miniFLUX and SD3 keys, cross-checked with _class_name. */
static pf_status dit_detect_variant(const pf_json *j, pf_dit_variant *v) {
    static const char *const flux_keys[] = {"num_single_layers", "axes_dims_rope"};
    static const char *const mmdit_keys[] = {
        "pos_embed_type", "caption_projection_dim", "pos_embed_max_size", "sample_size", "qk_norm", "max_num_frames"};
    pf_status rc = PF_OK;
    const char *cls = pf_json_opt_str(j, "_class_name", NULL, &rc);
    if (rc != PF_OK) return rc;
    bool flux = dit_has_any(j, flux_keys, (int)PF_ARRAY_LEN(flux_keys));
    bool mmdit = dit_has_any(j, mmdit_keys, (int)PF_ARRAY_LEN(mmdit_keys));
    int by_class = -1;
    if (cls) {
        if (!strcmp(cls, "PyramidFluxTransformer"))
            by_class = PF_DIT_FLUX;
        else if (!strcmp(cls, "PyramidDiffusionMMDiT"))
            by_class = PF_DIT_MMDIT;
        else
            return pf_error(PF_ERR_UNSUPPORTED,
                            "%s: unknown DiT variant: _class_name \"%s\" (expected PyramidFluxTransformer "
                            "(miniFLUX) or PyramidDiffusionMMDiT (SD3))",
                            pf_json_label(j), cls);
    }
    if (flux && mmdit)
        return pf_error(PF_ERR_UNSUPPORTED,
                        "%s: unknown DiT variant: the config has both miniFLUX keys (num_single_layers / "
                        "axes_dims_rope) and SD3 keys (pos_embed_type / caption_projection_dim / pos_embed_max_size)",
                        pf_json_label(j));
    if (!flux && !mmdit && by_class < 0)
        return pf_error(PF_ERR_UNSUPPORTED,
                        "%s: unknown DiT variant: no _class_name and neither miniFLUX keys (num_single_layers, "
                        "axes_dims_rope) nor SD3 keys (pos_embed_type, caption_projection_dim, pos_embed_max_size)",
                        pf_json_label(j));
    int by_keys = flux ? PF_DIT_FLUX : mmdit ? PF_DIT_MMDIT : by_class;
    if (by_class >= 0 && by_class != by_keys)
        return pf_error(PF_ERR_UNSUPPORTED,
                        "%s: unknown DiT variant: _class_name \"%s\" but the keys of the %s variant", pf_json_label(j),
                        cls, by_keys == PF_DIT_FLUX ? "miniFLUX" : "SD3");
    *v = (pf_dit_variant)by_keys;
    return PF_OK;
}

/* PyramidFluxTransformer.__init__ defaults. */
static pf_status dit_parse_flux(const pf_json *j, pf_dit_config *c) {
    pf_status rc = PF_OK;
    int patch_cfg = dit_cfg_int(j, "patch_size", 1, &rc);
    int in_ch = dit_cfg_int(j, "in_channels", 64, &rc);
    c->n_double = dit_cfg_int(j, "num_layers", 19, &rc);
    c->n_single = dit_cfg_int(j, "num_single_layers", 38, &rc);
    c->head_dim = dit_cfg_int(j, "attention_head_dim", 64, &rc);
    c->heads = dit_cfg_int(j, "num_attention_heads", 24, &rc);
    c->text_dim = dit_cfg_int(j, "joint_attention_dim", 4096, &rc);
    c->pooled_dim = dit_cfg_int(j, "pooled_projection_dim", 768, &rc);
    if (rc != PF_OK) return rc;
    /* x_embedder takes in_channels features = 2x2 patches of the latent (patch_size hard-coded to 2),
     * proj_out gives patch_size^2 * in_channels, unpacked as (2, 2, in_channels / 4). */
    if (patch_cfg != 1 || in_ch % 4 != 0 || in_ch == 0)
        return pf_error(PF_ERR_UNSUPPORTED,
                        "%s: miniFLUX needs patch_size 1 and in_channels divisible by 4 (2x2 patches, hard-coded "
                        "in PyramidFluxTransformer); got patch_size %d, in_channels %d",
                        pf_json_label(j), patch_cfg, in_ch);
    c->variant = PF_DIT_FLUX;
    c->patch = 2;
    c->in_channels = in_ch / 4;
    c->pos_embed_max_size = 0;
    c->base_size = 0;
    return PF_OK;
}

/* PyramidDiffusionMMDiT.__init__ defaults. */
static pf_status dit_parse_mmdit(const pf_json *j, pf_dit_config *c) {
    pf_status rc = PF_OK;
    int sample_size = dit_cfg_int(j, "sample_size", 128, &rc);
    c->patch = dit_cfg_int(j, "patch_size", 2, &rc);
    c->in_channels = dit_cfg_int(j, "in_channels", 16, &rc);
    c->n_double = dit_cfg_int(j, "num_layers", 24, &rc);
    c->head_dim = dit_cfg_int(j, "attention_head_dim", 64, &rc);
    c->heads = dit_cfg_int(j, "num_attention_heads", 24, &rc);
    int caption_dim = dit_cfg_int(j, "caption_projection_dim", 1152, &rc);
    c->pooled_dim = dit_cfg_int(j, "pooled_projection_dim", 2048, &rc);
    c->pos_embed_max_size = dit_cfg_int(j, "pos_embed_max_size", 192, &rc);
    c->text_dim = dit_cfg_int(j, "joint_attention_dim", 4096, &rc);
    const char *qk_norm = pf_json_opt_str(j, "qk_norm", "rms_norm", &rc);
    const char *pos_type = pf_json_opt_str(j, "pos_embed_type", "rope", &rc);
    if (rc != PF_OK) return rc;
    if (!pos_type || strcmp(pos_type, "sincos"))
        return pf_error(PF_ERR_UNSUPPORTED,
                        "%s: SD3 DiT with pos_embed_type \"%s\": only \"sincos\" works for video (the official "
                        "merge_input raises NotImplementedError for \"rope\")",
                        pf_json_label(j), pos_type ? pos_type : "null");
    if (!qk_norm || strcmp(qk_norm, "rms_norm"))
        return pf_error(PF_ERR_UNSUPPORTED,
                        "%s: SD3 DiT with qk_norm \"%s\": only \"rms_norm\" (the released one) is supported",
                        pf_json_label(j), qk_norm ? qk_norm : "null");
    if (c->pos_embed_max_size <= 0)
        return pf_error(
            PF_ERR_UNSUPPORTED,
            "%s: SD3 DiT without pos_embed_max_size (the official code has no sin-cos path without the crop)",
            pf_json_label(j));
    if (caption_dim != c->heads * c->head_dim)
        return pf_error(PF_ERR_FORMAT,
                        "%s: caption_projection_dim %d differs from num_attention_heads * attention_head_dim = %d "
                        "(the joint blocks need them equal)",
                        pf_json_label(j), caption_dim, c->heads * c->head_dim);
    if (c->patch <= 0 || sample_size < c->patch)
        return pf_error(PF_ERR_FORMAT, "%s: patch_size %d with sample_size %d", pf_json_label(j), c->patch,
                        sample_size);
    c->variant = PF_DIT_MMDIT;
    c->n_single = 0;
    c->base_size = sample_size / c->patch; /* PatchEmbed3D: base_size = height // patch_size */
    return PF_OK;
}

pf_status dit_config_parse(const char *path, pf_dit_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    pf_json *j = NULL;
    pf_status rc = pf_json_load(path, &j);
    if (rc != PF_OK) return pf_error_wrap(rc, "DiT config");
    pf_dit_variant v = PF_DIT_FLUX;
    rc = dit_detect_variant(j, &v);
    if (rc == PF_OK) rc = v == PF_DIT_FLUX ? dit_parse_flux(j, cfg) : dit_parse_mmdit(j, cfg);
    if (rc == PF_OK) cfg->hidden = cfg->heads * cfg->head_dim;
    pf_json_free(j);
    return rc;
}

pf_status dit_config_finish(pf_dit *dit, const char *what) {
    pf_dit_config *c = &dit->cfg;
    if (c->variant != PF_DIT_FLUX && c->variant != PF_DIT_MMDIT)
        return pf_error(PF_ERR_UNSUPPORTED, "%s: unknown DiT variant %d", what, (int)c->variant);
    if (c->heads <= 0 || c->head_dim <= 0 || c->head_dim % 2 || c->n_double < 0 || c->n_single < 0 ||
        c->n_double + c->n_single == 0 || c->in_channels <= 0 || c->patch <= 0 || c->text_dim <= 0 ||
        c->pooled_dim <= 0)
        return pf_error(PF_ERR_FORMAT,
                        "%s: invalid DiT config (heads %d, head_dim %d (must be even), layers %d + %d, channels %d, "
                        "patch %d, text dim %d, pooled dim %d)",
                        what, c->heads, c->head_dim, c->n_double, c->n_single, c->in_channels, c->patch, c->text_dim,
                        c->pooled_dim);
    if (c->head_dim > 1024 || c->heads > 4096)
        return pf_error(PF_ERR_FORMAT, "%s: %d heads of %d dims is out of range", what, c->heads, c->head_dim);
    if (c->hidden != c->heads * c->head_dim)
        return pf_error(PF_ERR_FORMAT, "%s: hidden %d != heads %d * head_dim %d", what, c->hidden, c->heads,
                        c->head_dim);
    if (c->variant == PF_DIT_FLUX) {
        if (c->patch != 2)
            return pf_error(PF_ERR_FORMAT, "%s: miniFLUX packs 2x2 patches (patch %d given)", what, c->patch);
        if (c->n_double < 1)
            return pf_error(PF_ERR_FORMAT, "%s: miniFLUX needs at least one double-stream block", what);
        int sum = 0;
        for (int i = 0; i < 3; i++) sum += dit_flux_axes[i];
        if (sum != c->head_dim)
            return pf_error(
                PF_ERR_UNSUPPORTED,
                "%s: the pipeline forces axes_dims_rope [16, 24, 24] (64 dims) but attention_head_dim is %d", what,
                c->head_dim);
        dit->n_axes = 3;
        for (int i = 0; i < 3; i++) dit->axes_dim[i] = dit_flux_axes[i];
        dit->qk_eps = DIT_FLUX_QK_EPS;
    } else {
        if (c->n_single != 0) return pf_error(PF_ERR_FORMAT, "%s: SD3 DiT has no single-stream blocks", what);
        if (c->pos_embed_max_size <= 0 || c->base_size <= 0)
            return pf_error(PF_ERR_FORMAT, "%s: SD3 DiT needs pos_embed_max_size and base_size", what);
        if (c->hidden % 4)
            return pf_error(PF_ERR_FORMAT, "%s: the 2-D sin-cos table needs a hidden size divisible by 4 (%d)", what,
                            c->hidden);
        /* temp_rope_embed = EmbedNDRoPE(axes_dim=[attention_head_dim]) over the frame index */
        dit->n_axes = 1;
        dit->axes_dim[0] = c->head_dim;
        dit->qk_eps = DIT_MMDIT_QK_EPS;
    }
    dit->proj_out_dim = c->patch * c->patch * c->in_channels;
    return PF_OK;
}

void pf_dit_config_released(pf_dit_variant v, pf_dit_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->variant = v;
    cfg->head_dim = 64;
    cfg->in_channels = 16;
    cfg->patch = 2;
    cfg->text_dim = 4096;
    if (v == PF_DIT_FLUX) {
        /* rain1011/pyramid-flow-miniflux diffusion_transformer_{384p,768p}/config.json */
        cfg->heads = 30;
        cfg->n_double = 8;
        cfg->n_single = 16;
        cfg->pooled_dim = 768;
    } else {
        /* rain1011/pyramid-flow-sd3 diffusion_transformer_{384p,768p}/config.json */
        cfg->heads = 24;
        cfg->n_double = 24;
        cfg->n_single = 0;
        cfg->pooled_dim = 2048;
        cfg->pos_embed_max_size = 192;
        cfg->base_size = 128 / 2; /* sample_size / patch_size */
    }
    cfg->hidden = cfg->heads * cfg->head_dim;
    cfg->n_params = dit_count_params(cfg);
}
