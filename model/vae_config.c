/*
 * causal_video_vae/config.json -> pf_vae_config.
 *
 * Keys and defaults are those of CausalVideoVAE.__init__ (modeling_causal_vae.py);
 * a key missing from the file takes the constructor's default, as diffusers'
 * from_pretrained does. `interpolate` is ignored: the pipeline forces it to False.
 */
#include "pf_json.h"
#include "vae_internal.h"

void pf_vae_config_released(pf_vae_config *cfg) {
    static const int ch[4] = {128, 256, 512, 512};
    memset(cfg, 0, sizeof *cfg);
    cfg->latent_channels = 16;
    cfg->in_channels = 3;
    cfg->out_channels = 3;
    cfg->norm_groups = 32;
    cfg->dec_norm_groups = 32;
    for (int i = 0; i < VAE_BLOCKS; i++) {
        cfg->enc_channels[i] = ch[i];
        cfg->dec_channels[i] = ch[i];
        cfg->enc_layers[i] = 2;
        cfg->dec_layers[i] = 3;
        cfg->enc_spatial_down[i] = cfg->enc_temporal_down[i] = i < 3;
        cfg->dec_spatial_up[i] = cfg->dec_temporal_up[i] = i < 3;
    }
    cfg->n_params = vae_config_params(cfg);
}

/* Parameters of one resnet: two norms, two 3x3x3 convs, maybe a 1x1x1 shortcut. */
static int64_t vae_resnet_params(int64_t ci, int64_t co) {
    int64_t n = 2 * ci + 2 * co;                    /* norm1, norm2 */
    n += co * ci * 27 + co + co * co * 27 + co;     /* conv1, conv2 */
    if (ci != co) n += co * ci + co;                /* conv_shortcut */
    return n;
}

static int64_t vae_mid_params(int64_t c) {
    return 2 * vae_resnet_params(c, c) + 2 * c + 4 * (c * c + c); /* group_norm, to_q/k/v/out.0 */
}

int64_t vae_config_params(const pf_vae_config *c) {
    int64_t L = c->latent_channels, n = 0;
    /* encoder */
    const int *e = c->enc_channels;
    n += (int64_t)e[0] * c->in_channels * 27 + e[0];
    for (int i = 0; i < VAE_BLOCKS; i++) {
        int64_t ci = i ? e[i - 1] : e[0], co = e[i];
        for (int r = 0; r < c->enc_layers[i]; r++) n += vae_resnet_params(r ? co : ci, co);
        if (c->enc_spatial_down[i]) n += co * co * 27 + co;
        if (c->enc_temporal_down[i]) n += co * co * 27 + co;
    }
    n += vae_mid_params(e[3]) + 2 * e[3];
    n += 2 * L * e[3] * 27 + 2 * L;
    n += 2 * L * 2 * L + 2 * L; /* quant_conv */
    /* decoder */
    const int *d = c->dec_channels;
    n += L * L + L;             /* post_quant_conv */
    n += (int64_t)d[3] * L * 27 + d[3];
    n += vae_mid_params(d[3]);
    int64_t prev = d[3];
    for (int i = 0; i < VAE_BLOCKS; i++) {
        int64_t co = d[VAE_BLOCKS - 1 - i];
        for (int r = 0; r < c->dec_layers[i]; r++) n += vae_resnet_params(r ? co : prev, co);
        if (c->dec_spatial_up[i]) n += 4 * co * co * 27 + 4 * co;
        if (c->dec_temporal_up[i]) n += 2 * co * co * 27 + 2 * co;
        prev = co;
    }
    n += 2 * d[0] + (int64_t)c->out_channels * d[0] * 27 + c->out_channels;
    return n;
}

int64_t vae_config_tensors(const pf_vae_config *c) {
    /* every conv and norm is a weight and a bias: a resnet has 4 (+ a shortcut conv), a mid
     * block 2 resnets, a group norm and 4 projections */
    const int64_t mid = 2 * 8 + 2 + 8;
    int64_t n = 2 + mid + 4 + 2 + 2 + 2 + mid + 4; /* conv_in, mid, norm + conv_out (both), quant convs */
    const int *e = c->enc_channels, *d = c->dec_channels;
    for (int i = 0; i < VAE_BLOCKS; i++) {
        n += 8 * c->enc_layers[i] + 2 * (i && e[i - 1] != e[i]) + 2 * c->enc_spatial_down[i] +
             2 * c->enc_temporal_down[i];
        int prev = i ? d[VAE_BLOCKS - i] : d[VAE_BLOCKS - 1], co = d[VAE_BLOCKS - 1 - i];
        n += 8 * c->dec_layers[i] + 2 * (prev != co) + 2 * c->dec_spatial_up[i] + 2 * c->dec_temporal_up[i];
    }
    return n;
}

pf_status vae_config_check(const pf_vae_config *c, const char *label) {
    if (c->latent_channels <= 0 || c->in_channels <= 0 || c->out_channels <= 0)
        return pf_error(PF_ERR_FORMAT, "%s: channel counts must be positive (latent %d, in %d, out %d)", label,
                        c->latent_channels, c->in_channels, c->out_channels);
    if (c->norm_groups <= 0 || c->dec_norm_groups <= 0)
        return pf_error(PF_ERR_FORMAT, "%s: norm groups must be positive (encoder %d, decoder %d)", label,
                        c->norm_groups, c->dec_norm_groups);
    for (int i = 0; i < VAE_BLOCKS; i++) {
        if (c->enc_channels[i] <= 0 || c->enc_channels[i] % c->norm_groups)
            return pf_error(PF_ERR_FORMAT,
                            "%s: encoder_block_out_channels[%d] = %d must be positive and divide into %d groups",
                            label, i, c->enc_channels[i], c->norm_groups);
        if (c->dec_channels[i] <= 0 || c->dec_channels[i] % c->dec_norm_groups)
            return pf_error(PF_ERR_FORMAT,
                            "%s: decoder_block_out_channels[%d] = %d must be positive and divide into %d groups",
                            label, i, c->dec_channels[i], c->dec_norm_groups);
        if (c->enc_layers[i] <= 0 || c->dec_layers[i] <= 0 || c->enc_layers[i] > 64 || c->dec_layers[i] > 64)
            return pf_error(PF_ERR_FORMAT, "%s: layers_per_block[%d] must be in 1..64 (encoder %d, decoder %d)",
                            label, i, c->enc_layers[i], c->dec_layers[i]);
    }
    return PF_OK;
}

/* An integer array of exactly VAE_BLOCKS entries, or the default. */
static pf_status vae_json_ints(const pf_json *j, const char *key, int *out, const int *def) {
    if (!pf_json_has(j, key)) {
        for (int i = 0; i < VAE_BLOCKS; i++) out[i] = def[i];
        return PF_OK;
    }
    int64_t v[VAE_BLOCKS + 1];
    int n = 0;
    PF_TRY(pf_json_int_array(j, key, v, VAE_BLOCKS + 1, &n));
    if (n != VAE_BLOCKS)
        return pf_error(PF_ERR_FORMAT, "%s: \"%s\" has %d entries, the causal VAE has %d blocks", pf_json_label(j), key,
                        n, VAE_BLOCKS);
    for (int i = 0; i < VAE_BLOCKS; i++) {
        if (v[i] < INT32_MIN || v[i] > INT32_MAX)
            return pf_error(PF_ERR_FORMAT, "%s: \"%s\"[%d] is out of range", pf_json_label(j), key, i);
        out[i] = (int)v[i];
    }
    return PF_OK;
}

static pf_status vae_json_bools(const pf_json *j, const char *key, bool *out, const bool *def) {
    if (!pf_json_has(j, key)) {
        for (int i = 0; i < VAE_BLOCKS; i++) out[i] = def[i];
        return PF_OK;
    }
    bool v[VAE_BLOCKS + 1];
    int n = 0;
    PF_TRY(pf_json_bool_array(j, key, v, VAE_BLOCKS + 1, &n));
    if (n != VAE_BLOCKS)
        return pf_error(PF_ERR_FORMAT, "%s: \"%s\" has %d entries, the causal VAE has %d blocks", pf_json_label(j), key,
                        n, VAE_BLOCKS);
    for (int i = 0; i < VAE_BLOCKS; i++) out[i] = v[i];
    return PF_OK;
}

static pf_status vae_json_int(const pf_json *j, const char *key, int def, int *out) {
    return pf_json_int_in(j, key, false, def, INT32_MIN, INT32_MAX, out);
}

/* Every entry of a string array must be `want` (the only block type this port knows). */
static pf_status vae_json_types(const pf_json *j, const char *key, const char *want) {
    if (!pf_json_has(j, key)) return PF_OK;
    const char *v[VAE_BLOCKS + 1];
    int n = 0;
    PF_TRY(pf_json_str_array(j, key, v, VAE_BLOCKS + 1, &n));
    if (n != VAE_BLOCKS)
        return pf_error(PF_ERR_FORMAT, "%s: \"%s\" has %d entries, the causal VAE has %d blocks", pf_json_label(j), key,
                        n, VAE_BLOCKS);
    for (int i = 0; i < n; i++)
        if (strcmp(v[i], want))
            return pf_error(PF_ERR_UNSUPPORTED, "%s: \"%s\"[%d] is \"%s\"; only \"%s\" is supported", pf_json_label(j),
                            key, i, v[i], want);
    return PF_OK;
}

static pf_status vae_json_act(const pf_json *j, const char *key) {
    pf_status rc = PF_OK;
    const char *a = pf_json_opt_str(j, key, "silu", &rc);
    if (rc != PF_OK) return rc;
    /* diffusers' get_activation maps both names to SiLU */
    if (strcmp(a, "silu") && strcmp(a, "swish"))
        return pf_error(PF_ERR_UNSUPPORTED, "%s: \"%s\" is \"%s\"; only \"silu\" is supported", pf_json_label(j), key,
                        a);
    return PF_OK;
}

static pf_status vae_config_parse(const pf_json *j, pf_vae_config *c, int *downsample_scale) {
    static const int def_ch[4] = {128, 256, 512, 512}, def_enc_l[4] = {2, 2, 2, 2}, def_dec_l[4] = {3, 3, 3, 3};
    static const bool def_flags[4] = {true, true, true, false};
    memset(c, 0, sizeof *c);
    int dec_in = 0;
    PF_TRY(vae_json_int(j, "encoder_in_channels", 3, &c->in_channels));
    PF_TRY(vae_json_int(j, "encoder_out_channels", 4, &c->latent_channels));
    PF_TRY(vae_json_int(j, "decoder_in_channels", 4, &dec_in));
    PF_TRY(vae_json_int(j, "decoder_out_channels", 3, &c->out_channels));
    PF_TRY(vae_json_int(j, "encoder_norm_num_groups", 32, &c->norm_groups));
    PF_TRY(vae_json_int(j, "decoder_norm_num_groups", 32, &c->dec_norm_groups));
    PF_TRY(vae_json_int(j, "downsample_scale", 8, downsample_scale));
    PF_TRY(vae_json_ints(j, "encoder_block_out_channels", c->enc_channels, def_ch));
    PF_TRY(vae_json_ints(j, "decoder_block_out_channels", c->dec_channels, def_ch));
    PF_TRY(vae_json_ints(j, "encoder_layers_per_block", c->enc_layers, def_enc_l));
    PF_TRY(vae_json_ints(j, "decoder_layers_per_block", c->dec_layers, def_dec_l));
    PF_TRY(vae_json_bools(j, "encoder_spatial_down_sample", c->enc_spatial_down, def_flags));
    PF_TRY(vae_json_bools(j, "encoder_temporal_down_sample", c->enc_temporal_down, def_flags));
    PF_TRY(vae_json_bools(j, "decoder_spatial_up_sample", c->dec_spatial_up, def_flags));
    PF_TRY(vae_json_bools(j, "decoder_temporal_up_sample", c->dec_temporal_up, def_flags));
    PF_TRY(vae_json_types(j, "encoder_down_block_types", "DownEncoderBlockCausal3D"));
    PF_TRY(vae_json_types(j, "decoder_up_block_types", "UpDecoderBlockCausal3D"));
    PF_TRY(vae_json_act(j, "encoder_act_fn"));
    PF_TRY(vae_json_act(j, "decoder_act_fn"));
    /* post_quant_conv maps encoder_out_channels to itself and feeds the decoder */
    if (dec_in != c->latent_channels)
        return pf_error(PF_ERR_FORMAT, "%s: decoder_in_channels (%d) differs from encoder_out_channels (%d)",
                        pf_json_label(j), dec_in, c->latent_channels);
    if (*downsample_scale <= 0)
        return pf_error(PF_ERR_FORMAT, "%s: downsample_scale must be positive (%d)", pf_json_label(j),
                        *downsample_scale);
    PF_TRY(vae_config_check(c, pf_json_label(j)));
    c->n_params = vae_config_params(c);
    return PF_OK;
}

pf_status vae_config_load(const char *path, pf_vae_config *cfg, int *downsample_scale) {
    pf_json *j = NULL;
    PF_TRY(pf_json_load(path, &j));
    pf_status rc = vae_config_parse(j, cfg, downsample_scale);
    pf_json_free(j);
    return rc;
}
