/*
 * check-golden runner for kind "vae": the case metadata says what the official
 * call was (README §5.2 of a golden pack):
 *   op "decode": in.latent -> out.video, with temporal_chunk / window_size and
 *                tiling / tile_sample_min_size as given (official defaults
 *                otherwise: window 2, tile 256);
 *   op "encode": in.video -> out.posterior_mean, out.posterior_logvar and
 *                out.latent_sample = mean + exp(0.5 logvar) * in.noise
 *                (window 16, tile 256 by default).
 * Sizes come from the input tensors, never from this pack.
 */
#include "pf_golden.h"
#include "pf_vae.h"

static pf_status vae_meta_bool(const pf_golden_case *c, const char *key, bool def, bool *out) {
    pf_status rc = PF_OK;
    *out = pf_json_opt_bool(c->meta, key, def, &rc);
    return rc != PF_OK ? pf_error_wrap(rc, "case %s", c->name) : PF_OK;
}

static pf_status vae_meta_int(const pf_golden_case *c, const char *key, int def, int *out) {
    pf_status rc = pf_json_int_in(c->meta, key, false, def, INT32_MIN, INT32_MAX, out);
    return rc == PF_OK ? PF_OK : pf_error_wrap(rc, "case %s", c->name);
}

/* A [1, C, T, H, W] input with C as expected. */
static pf_status vae_in5(const pf_golden_case *c, const char *name, int channels, float **data, int64_t *shape) {
    int nd = 0;
    PF_TRY(pf_golden_in_f32(c, name, data, shape, &nd));
    if (nd != 5 || shape[0] != 1 || shape[1] != channels || shape[2] > INT32_MAX || shape[3] > INT32_MAX ||
        shape[4] > INT32_MAX) {
        free(*data);
        *data = NULL;
        return pf_error(PF_ERR_SHAPE, "case %s: %s must be [1, %d, T, H, W] (%d dims given)", c->name, name, channels,
                        nd);
    }
    return PF_OK;
}

static pf_status vae_golden_decode(pf_golden_case *c, pf_vae *vae, const pf_vae_opts *o) {
    const pf_vae_config *cfg = pf_vae_get_config(vae);
    float *z = NULL;
    int64_t s[5];
    PF_TRY(vae_in5(c, "in.latent", cfg->latent_channels, &z, s));
    int sf = 1, tf = 1;
    for (int i = 0; i < 4; i++) {
        sf *= cfg->dec_spatial_up[i] ? 2 : 1;
        tf *= cfg->dec_temporal_up[i] ? 2 : 1;
    }
    size_t n = (size_t)cfg->out_channels * (size_t)(1 + tf * (s[2] - 1)) * (size_t)(s[3] * sf) * (size_t)(s[4] * sf);
    float *video = pf_malloc(n * sizeof(float), "decoded video");
    pf_status rc = video ? PF_OK : PF_ERR_OOM;
    if (rc == PF_OK) rc = pf_vae_decode(vae, z, (int)s[2], (int)s[3], (int)s[4], o, video);
    if (rc == PF_OK) rc = pf_golden_put(c, "out.video", PF_F32, video, n);
    free(video);
    free(z);
    return rc;
}

static pf_status vae_golden_encode(pf_golden_case *c, pf_vae *vae, const pf_vae_opts *o) {
    const pf_vae_config *cfg = pf_vae_get_config(vae);
    float *x = NULL, *noise = NULL, *mean = NULL, *logvar = NULL, *sample = NULL;
    int64_t s[5], ns[5];
    PF_TRY(vae_in5(c, "in.video", cfg->in_channels, &x, s));
    int sf = 1, tf = 1;
    for (int i = 0; i < 4; i++) {
        sf *= cfg->enc_spatial_down[i] ? 2 : 1;
        tf *= cfg->enc_temporal_down[i] ? 2 : 1;
    }
    int64_t lt = 1 + (s[2] - 1) / tf, lh = s[3] / sf, lw = s[4] / sf;
    size_t n = (size_t)(cfg->latent_channels * lt * lh * lw);
    pf_status rc = vae_in5(c, "in.noise", cfg->latent_channels, &noise, ns);
    if (rc == PF_OK && (ns[2] != lt || ns[3] != lh || ns[4] != lw))
        rc = pf_error(PF_ERR_SHAPE,
                      "case %s: in.noise is [1, %lld, %lld, %lld, %lld], the latent [1, %d, %lld, %lld, %lld]", c->name,
                      (long long)ns[1], (long long)ns[2], (long long)ns[3], (long long)ns[4], cfg->latent_channels,
                      (long long)lt, (long long)lh, (long long)lw);
    if (rc == PF_OK) {
        mean = pf_malloc(n * sizeof(float), "posterior mean");
        logvar = pf_malloc(n * sizeof(float), "posterior logvar");
        sample = pf_malloc(n * sizeof(float), "latent sample");
        if (!mean || !logvar || !sample) rc = PF_ERR_OOM;
    }
    if (rc == PF_OK) rc = pf_vae_encode(vae, x, (int)s[2], (int)s[3], (int)s[4], o, mean, logvar);
    if (rc == PF_OK) {
        pf_vae_posterior_sample(mean, logvar, noise, n, sample);
        rc = pf_golden_put(c, "out.posterior_mean", PF_F32, mean, n);
    }
    if (rc == PF_OK) rc = pf_golden_put(c, "out.posterior_logvar", PF_F32, logvar, n);
    if (rc == PF_OK) rc = pf_golden_put(c, "out.latent_sample", PF_F32, sample, n);
    free(x);
    free(noise);
    free(mean);
    free(logvar);
    free(sample);
    return rc;
}

pf_status pf_golden_run_vae(pf_golden_case *c) {
    if (!c->meta || !c->model_dir) return pf_error(PF_ERR_FORMAT, "case %s: no metadata or model_dir", c->name);
    pf_status rc = PF_OK;
    const char *op = pf_json_opt_str(c->meta, "op", "decode", &rc);
    if (rc != PF_OK) return pf_error_wrap(rc, "case %s", c->name);
    bool encode = !strcmp(op, "encode");
    if (!encode && strcmp(op, "decode")) return pf_golden_skip(c, "VAE op \"%s\" is not implemented", op);
    bool init = true;
    PF_TRY(vae_meta_bool(c, "is_init_image", true, &init));
    if (!init) return pf_golden_skip(c, "VAE calls with is_init_image=false are not implemented");

    pf_vae_opts o;
    if (encode) pf_vae_encode_opts_default(&o);
    else pf_vae_opts_default(&o);
    /* the official signature defaults: decode(window_size=2), encode(window_size=16),
     * tile_sample_min_size=256; tiling only when the case enabled it */
    PF_TRY(vae_meta_bool(c, "temporal_chunk", false, &o.temporal_chunk));
    PF_TRY(vae_meta_bool(c, "tiling", false, &o.tiling));
    PF_TRY(vae_meta_int(c, "window_size", encode ? 16 : 2, &o.window));
    PF_TRY(vae_meta_int(c, "tile_sample_min_size", 256, &o.tile_sample_min_size));

    pf_vae *vae = NULL;
    PF_TRY(pf_vae_load(c->model_dir, c->backend, c->opts ? c->opts->dtype : PF_F32, &vae));
    rc = encode ? vae_golden_encode(c, vae, &o) : vae_golden_decode(c, vae, &o);
    pf_vae_free(vae);
    return rc;
}
