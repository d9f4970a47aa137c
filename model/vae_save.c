/*
 * Writing the causal VAE as an official causal_video_vae folder: config.json with
 * the key set of the released config (CausalVideoVAE, facts §5.1) and
 * diffusion_pytorch_model.safetensors with the official tensor names, in the
 * weights' own dtype. pf_vae_load reads it back bit for bit.
 */
#include "pf_model_files.h"
#include "vae_internal.h"

pf_status pf_vae_config_read(const char *dir, pf_vae_config *cfg) {
    if (!dir || !cfg) return pf_error(PF_ERR_INVALID_ARG, "pf_vae_config_read: NULL argument");
    char *path = pf_path_join(dir, "config.json");
    if (!path) return PF_ERR_OOM;
    int ds = 8;
    pf_status rc = vae_config_load(path, cfg, &ds);
    free(path);
    return rc;
}

typedef struct {
    char *s;
    size_t len, cap;
} vae_sbuf;

static void vae_put(vae_sbuf *b, const char *fmt, ...) PF_PRINTF(2, 3);
static void vae_put(vae_sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n > 0) b->len = PF_MIN(b->len + (size_t)n, b->cap - 1);
}

static void vae_put_ints(vae_sbuf *b, const char *key, const int *v, bool last) {
    vae_put(b, "  \"%s\": [\n", key);
    for (int i = 0; i < VAE_BLOCKS; i++) vae_put(b, "    %d%s\n", v[i], i + 1 < VAE_BLOCKS ? "," : "");
    vae_put(b, "  ]%s\n", last ? "" : ",");
}

static void vae_put_bools(vae_sbuf *b, const char *key, const bool *v) {
    vae_put(b, "  \"%s\": [\n", key);
    for (int i = 0; i < VAE_BLOCKS; i++)
        vae_put(b, "    %s%s\n", v[i] ? "true" : "false", i + 1 < VAE_BLOCKS ? "," : "");
    vae_put(b, "  ],\n");
}

static void vae_put_strs(vae_sbuf *b, const char *key, const char *v) {
    vae_put(b, "  \"%s\": [\n", key);
    for (int i = 0; i < VAE_BLOCKS; i++) vae_put(b, "    \"%s\"%s\n", v, i + 1 < VAE_BLOCKS ? "," : "");
    vae_put(b, "  ],\n");
}

static void vae_put_dropout(vae_sbuf *b, const char *key) {
    vae_put(b, "  \"%s\": [\n", key);
    for (int i = 0; i < VAE_BLOCKS; i++) vae_put(b, "    0.0%s\n", i + 1 < VAE_BLOCKS ? "," : "");
    vae_put(b, "  ],\n");
}

/* config.json as the released folder spells it (keys sorted, diffusers style). */
static void vae_config_json(const pf_vae *v, vae_sbuf *b) {
    const pf_vae_config *c = &v->cfg;
    vae_put(b, "{\n  \"_class_name\": \"CausalVideoVAE\",\n  \"_diffusers_version\": \"0.29.2\",\n");
    vae_put(b, "  \"add_post_quant_conv\": true,\n  \"decoder_act_fn\": \"silu\",\n");
    vae_put_dropout(b, "decoder_block_dropout");
    vae_put_ints(b, "decoder_block_out_channels", c->dec_channels, false);
    vae_put(b, "  \"decoder_in_channels\": %d,\n", c->latent_channels);
    vae_put_ints(b, "decoder_layers_per_block", c->dec_layers, false);
    vae_put(b, "  \"decoder_norm_num_groups\": %d,\n  \"decoder_out_channels\": %d,\n", c->dec_norm_groups,
            c->out_channels);
    vae_put_bools(b, "decoder_spatial_up_sample", c->dec_spatial_up);
    vae_put_bools(b, "decoder_temporal_up_sample", c->dec_temporal_up);
    vae_put(b, "  \"decoder_type\": \"causal_vae_conv\",\n");
    vae_put_strs(b, "decoder_up_block_types", "UpDecoderBlockCausal3D");
    vae_put(b, "  \"downsample_scale\": %d,\n  \"encoder_act_fn\": \"silu\",\n", v->downsample_scale);
    vae_put_dropout(b, "encoder_block_dropout");
    vae_put_ints(b, "encoder_block_out_channels", c->enc_channels, false);
    vae_put(b, "  \"encoder_double_z\": true,\n");
    vae_put_strs(b, "encoder_down_block_types", "DownEncoderBlockCausal3D");
    vae_put(b, "  \"encoder_in_channels\": %d,\n", c->in_channels);
    vae_put_ints(b, "encoder_layers_per_block", c->enc_layers, false);
    vae_put(b, "  \"encoder_norm_num_groups\": %d,\n  \"encoder_out_channels\": %d,\n", c->norm_groups,
            c->latent_channels);
    vae_put_bools(b, "encoder_spatial_down_sample", c->enc_spatial_down);
    vae_put_bools(b, "encoder_temporal_down_sample", c->enc_temporal_down);
    vae_put(b, "  \"encoder_type\": \"causal_vae_conv\",\n  \"interpolate\": false,\n  \"sample_size\": 256,\n"
               "  \"scaling_factor\": 0.13025\n}\n");
}

pf_status pf_vae_save(const pf_vae *vae, const char *dir) {
    if (!vae || !dir) return pf_error(PF_ERR_INVALID_ARG, "pf_vae_save: NULL argument");
    PF_TRY(pf_mkdir_p(dir));
    char text[8192];
    vae_sbuf b = {.s = text, .cap = sizeof text};
    text[0] = '\0';
    vae_config_json(vae, &b);
    if (b.len + 1 >= b.cap) return pf_error(PF_ERR_INTERNAL, "VAE config.json longer than %zu bytes", sizeof text);
    pf_status rc = pf_save_pool_safetensors(vae->pool, dir, "diffusion_pytorch_model.safetensors");
    if (rc == PF_OK) rc = pf_write_text_file(dir, "config.json", text);
    return rc == PF_OK ? PF_OK : pf_error_wrap(rc, "saving the VAE to %s", dir);
}
