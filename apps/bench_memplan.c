/*
 * pflow bench generate --dry: the device memory a generation with the released models
 * needs, from pf_estimate_memory (everything planned on the meta backend: nothing is
 * allocated or run), phase by phase as pflow generate runs them:
 *   text    each text encoder is loaded, run and freed before the next (text_cond.c);
 *   DiT     DiT + VAE weights resident, the pipeline's latents, the largest DiT call;
 *   decode  the same weights and latents, the VAE decode's arena and causal caches (the
 *           DiT's compute memory is given back before it).
 * The planned DiT calls are the last unit's (the longest history: the most tokens); their
 * token counts are checked against the dry run's call table, so a plan that drifted from
 * the pipeline's layout fails loudly instead of predicting the wrong call.
 */
#include "bench_common.h"
#include "pf_model_inspect.h"
#include "pf_text.h"

#include <stdio.h>

/* A caching allocator rounds blocks up (CUDA: at most 1/8 on blocks up to 32 MiB); the
 * prediction adds that much to the compute memory. */
#define MEMPLAN_ROUNDING 0.125

/* Largest text encoder's weights (they run one at a time), sized on the meta backend. */
static pf_status memplan_text(pf_dit_variant v, pf_dtype dt, size_t *t5_bytes, size_t *clip_bytes) {
    pf_backend *meta = NULL;
    PF_TRY(pf_backend_meta_create(&meta));
    pf_t5_config tc;
    pf_t5_config_xxl(&tc);
    pf_t5 *t5 = NULL;
    pf_text_stats ts = {0};
    pf_status rc = pf_t5_create_random(&tc, meta, dt, 1, &t5);
    if (rc == PF_OK) pf_t5_get_stats(t5, &ts);
    pf_t5_free(t5);
    *t5_bytes = ts.weight_bytes;
    *clip_bytes = 0;
    pf_clip_config cc[2];
    int n = 1;
    pf_clip_config_l(&cc[0], true);
    if (v == PF_DIT_MMDIT) pf_clip_config_bigg(&cc[n++]); /* SD3: CLIP-L and OpenCLIP bigG */
    for (int i = 0; i < n && rc == PF_OK; i++) {
        pf_clip *clip = NULL;
        rc = pf_clip_create_random(&cc[i], meta, dt, 2, &clip);
        if (rc == PF_OK) pf_clip_get_stats(clip, &ts);
        pf_clip_free(clip);
        if (rc == PF_OK && ts.weight_bytes > *clip_bytes) *clip_bytes = ts.weight_bytes;
    }
    pf_backend_free(meta);
    return rc;
}

/* The image tokens of the dry run's row for (unit, stage); -1 if absent. */
static int64_t memplan_row_tokens(const pf_pipe_stats *st, int unit, int stage) {
    for (int i = 0; i < st->n_rows; i++)
        if (st->rows[i].unit == unit && st->rows[i].stage == stage) return st->rows[i].image_tokens;
    return -1;
}

pf_status pf_bench_memplan(const pf_pipe_params *p, pf_dit_variant v, pf_dtype dtype, pf_dtype act,
                           const pf_pipe_stats *st, double budget) {
    size_t t5 = 0, clip = 0;
    PF_TRY(memplan_text(v, dtype, &t5, &clip));
    pf_dit_config dc;
    pf_vae_config vc;
    pf_dit_config_released(v, &dc);
    pf_vae_config_released(&vc);
    pf_mem_estimate e;
    PF_TRY(pf_estimate_memory(&dc, &vc, t5 > clip ? t5 : clip, dtype, act, p->width, p->height, p->temp, &e));
    const int unit = p->temp - 1;
    for (int s = 0; s < PF_PIPE_STAGES; s++)
        if (memplan_row_tokens(st, unit, s) != e.dit_stage_tokens[s])
            return pf_error(PF_ERR_INTERNAL, "memory plan: unit %d stage %d planned with %d image tokens, the "
                            "pipeline's call has %lld", unit, s, e.dit_stage_tokens[s],
                            (long long)memplan_row_tokens(st, unit, s));

    char b[4][32];
#define MB(x, i) pf_fmt_bytes((double)(x), b[i], sizeof b[i])
    const double k = 1.0 + MEMPLAN_ROUNDING;
    const double resident = (double)(e.dit_weights + e.vae_weights + e.latents);
    const double dit_phase = resident + k * (double)e.dit_compute;
    const double dec_phase = resident + k * (double)e.vae_compute;
    double peak = (double)e.text_weights;
    if (dit_phase > peak) peak = dit_phase;
    if (dec_phase > peak) peak = dec_phase;
    printf("memory plan (meta backend: planned, nothing allocated or run), weights %s, DiT activations %s:\n",
           pf_dtype_name(dtype), pf_dtype_name(act));
    printf("  text phase: T5-XXL weights %s, largest CLIP %s (one encoder at a time, then freed)\n", MB(t5, 0),
           MB(clip, 1));
    printf("  DiT calls of the last unit (the longest history):\n");
    for (int s = 0; s < PF_PIPE_STAGES; s++)
        printf("    unit %d stage %d: %d image tokens: history clips %s, compute %s\n", unit, s, e.dit_stage_tokens[s],
               MB(e.dit_stage_inputs[s], 0), MB(e.dit_stage_compute[s], 1));
    printf("  resident with the DiT: weights DiT %s + VAE %s, latents and history %s\n", MB(e.dit_weights, 0),
           MB(e.vae_weights, 1), MB(e.latents, 2));
    printf("  DiT phase:    resident + largest call %s x %.3f (allocator rounding) = %s\n", MB(e.dit_compute, 0), k,
           MB(dit_phase, 1));
    printf("  decode phase: resident + VAE arena %s + caches %s, x %.3f = %s (host: %s with the video)\n",
           MB(e.vae_arena, 0), MB(e.vae_caches, 1), k, MB(dec_phase, 2), MB(e.host_video, 3));
    printf("  predicted device peak %s: %s the budget of %s (the GPU runtime's own context comes on top)\n",
           MB(peak, 0), peak <= budget ? "fits" : "EXCEEDS", MB(budget, 1));
#undef MB
    return PF_OK;
}
