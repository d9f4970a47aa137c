/* The pipeline's view of the real DiT and VAE (pf_dit.h, pf_vae.h). */
#include "pf_pipeline.h"

static pf_status pf_dit_fwd(void *ctx, const pf_dit_inputs *in, pf_tensor *velocity) {
    return pf_dit_forward(ctx, in, velocity);
}

static void pf_dit_rel(void *ctx) { pf_dit_release_compute(ctx); }

void pf_pipe_denoiser_from_dit(pf_dit *dit, pf_dtype dtype, pf_pipe_denoiser *d) {
    const pf_dit_config *c = pf_dit_get_config(dit);
    memset(d, 0, sizeof *d);
    d->backend = pf_dit_backend(dit);
    d->dtype = dtype;
    d->variant = c->variant;
    d->channels = c->in_channels;
    d->patch = c->patch;
    d->forward = pf_dit_fwd;
    d->release = pf_dit_rel;
    d->ctx = dit;
}

static pf_status pf_vae_dec(void *ctx, const float *latent, int T, int h, int w, const pf_vae_opts *o, float *video) {
    return pf_vae_decode(ctx, latent, T, h, w, o, video);
}

static pf_status pf_vae_enc(void *ctx, const float *video, int T, int H, int W, const pf_vae_opts *o, float *mean,
                            float *logvar) {
    return pf_vae_encode(ctx, video, T, H, W, o, mean, logvar);
}

void pf_pipe_vae_from_vae(pf_vae *vae, pf_dtype dtype, pf_pipe_vae *v) {
    memset(v, 0, sizeof *v);
    v->dtype = dtype;
    v->decode = pf_vae_dec;
    v->encode = pf_vae_enc;
    v->ctx = vae;
}
