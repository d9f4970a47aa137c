/*
 * Latent normalisation of the pipeline (pyramid-flow-facts.md §5.4): the DiT works on
 * (z - shift) * scale, with one pair of constants for the first frame (an "image"
 * latent, per variant) and one for the later frames ("video" latents).
 */
#include "pf_pipeline.h"

#include <math.h>

void pf_latent_norm_get(pf_dit_variant v, pf_latent_norm *n) {
    if (v == PF_DIT_MMDIT) {
        n->image_shift = 0.1490;
        n->image_scale = 1 / 1.8415;
    } else {
        n->image_shift = -0.04;
        n->image_scale = 1 / 1.8726;
    }
    n->video_shift = -0.2343;
    n->video_scale = 1 / 3.0986;
}

static inline float pf_rnd(float v, pf_dtype dt) {
    return dt == PF_BF16 ? pf_round_bf16(v) : v;
}

/* decode_latent: z / self.vae_scale_factor + self.vae_shift_factor. The Python float
 * scale is converted to the tensor dtype and the latent DIVIDED by it (not multiplied
 * by 1.8726): float32(1/1.8726) is not 1/float32(1.8726). */
void pf_latent_denormalize(float *z, int C, int T, int64_t hw, const pf_latent_norm *n, pf_dtype dt) {
    float is = pf_sched_round(n->image_scale, dt), ish = pf_sched_round(n->image_shift, dt);
    float vs = pf_sched_round(n->video_scale, dt), vsh = pf_sched_round(n->video_shift, dt);
    for (int c = 0; c < C; c++)
        for (int t = 0; t < T; t++) {
            float s = t == 0 ? is : vs, sh = t == 0 ? ish : vsh;
            float *p = z + ((int64_t)c * T + t) * hw;
            for (int64_t i = 0; i < hw; i++) p[i] = pf_rnd(pf_rnd(p[i] / s, dt) + sh, dt);
        }
}

/* generate_i2v: (latent_dist.sample() - shift) * scale, sample = mean + exp(0.5 logvar) noise. */
void pf_latent_image_from_posterior(const float *mean, const float *logvar, const float *noise, size_t n,
                                    const pf_latent_norm *nrm, pf_dtype dt, float *z) {
    float sh = pf_sched_round(nrm->image_shift, dt), sc = pf_sched_round(nrm->image_scale, dt);
    for (size_t i = 0; i < n; i++) {
        float std = pf_rnd(expf(pf_rnd(0.5f * logvar[i], dt)), dt);
        float x = pf_rnd(mean[i] + pf_rnd(std * pf_rnd(noise[i], dt), dt), dt);
        z[i] = pf_rnd(pf_rnd(x - sh, dt) * sc, dt);
    }
}
