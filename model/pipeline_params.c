/* Generation settings: the released defaults and their validation. */
#include "pf_pipeline.h"

#include <math.h>

void pf_pipe_params_default(pf_pipe_params *p, pf_pipe_mode mode) {
    memset(p, 0, sizeof *p);
    p->mode = mode;
    p->width = 640;
    p->height = 384;
    p->temp = 16;
    for (int s = 0; s < PF_PIPE_STAGES; s++) {
        p->steps[s] = 20;
        p->video_steps[s] = 10;
    }
    p->guidance = 7.0;
    p->video_guidance = 5.0;
    p->guidance_decay = 0.5;
    p->min_guidance = 2.0;
    if (mode == PF_PIPE_I2V) {
        for (int s = 0; s < PF_PIPE_STAGES; s++) p->steps[s] = 10;
        p->video_guidance = 4.0;
    } else if (mode == PF_PIPE_T2I) {
        p->width = p->height = 1024;
        p->temp = 1;
        p->guidance = 9.0;
    }
    /* decode_latent(save_memory=True): chunked, window 1, tiled with 256 px tiles */
    p->decode.temporal_chunk = true;
    p->decode.window = 1;
    p->decode.tiling = true;
    p->decode.tile_sample_min_size = 256;
    /* vae.encode() defaults with tiling enabled (the app enables it) */
    p->encode.temporal_chunk = false;
    p->encode.window = 1;
    p->encode.tiling = true;
    p->encode.tile_sample_min_size = 256;
    pf_sched_config_default(&p->sched);
}

static pf_status pf_check_size(const char *what, int v) {
    if (v > 0 && v % 64 == 0 && v <= 16384) return PF_OK;
    if (v <= 0 || v > 16384) return pf_error(PF_ERR_INVALID_ARG, "%s %d: must be a positive multiple of 64 (at most 16384)", what, v);
    int lo = v / 64 * 64, hi = lo + 64;
    if (lo == 0) return pf_error(PF_ERR_INVALID_ARG, "%s %d is not a multiple of 64 (nearest valid: 64)", what, v);
    return pf_error(PF_ERR_INVALID_ARG, "%s %d is not a multiple of 64 (nearest valid: %d or %d)", what, v, lo, hi);
}

pf_status pf_pipe_params_check(const pf_pipe_params *p) {
    if (p->mode != PF_PIPE_T2V && p->mode != PF_PIPE_I2V && p->mode != PF_PIPE_T2I)
        return pf_error(PF_ERR_INVALID_ARG, "unknown generation mode %d", (int)p->mode);
    PF_TRY(pf_check_size("width", p->width));
    PF_TRY(pf_check_size("height", p->height));
    if (p->temp < 1 || p->temp > 1024)
        return pf_error(PF_ERR_INVALID_ARG, "temp %d: the number of latent frames must be at least 1 (video frames = 1 + 8 (temp - 1))", p->temp);
    if (p->mode == PF_PIPE_T2I && p->temp != 1)
        return pf_error(PF_ERR_INVALID_ARG, "temp %d: text-to-image generates one latent frame (temp 1)", p->temp);
    if (p->mode == PF_PIPE_I2V && p->temp < 2)
        return pf_error(PF_ERR_INVALID_ARG, "temp %d: image-to-video needs at least 2 latent frames (the image is the first)", p->temp);
    if (p->sched.stages != PF_PIPE_STAGES)
        return pf_error(PF_ERR_INVALID_ARG, "the pipeline runs %d stages, the scheduler config has %d", PF_PIPE_STAGES, p->sched.stages);
    /* steps serve the first unit (t2v, t2i) or every unit (i2v); video_steps the later t2v units */
    for (int s = 0; s < PF_PIPE_STAGES; s++) {
        if (p->steps[s] < 1 || p->steps[s] > 10000)
            return pf_error(PF_ERR_INVALID_ARG, "steps[%d] = %d: need 1..10000 steps per stage", s, p->steps[s]);
        if (p->mode == PF_PIPE_T2V && p->temp > 1 && (p->video_steps[s] < 1 || p->video_steps[s] > 10000))
            return pf_error(PF_ERR_INVALID_ARG, "video_steps[%d] = %d: need 1..10000 steps per stage", s, p->video_steps[s]);
    }
    if (!isfinite(p->guidance) || !isfinite(p->video_guidance))
        return pf_error(PF_ERR_INVALID_ARG, "guidance scales must be finite");
    if (p->linear_guidance) {
        if (!(p->min_guidance > 0.0) || !isfinite(p->min_guidance) || !(p->guidance_decay >= 0.0) ||
            !isfinite(p->guidance_decay))
            return pf_error(PF_ERR_INVALID_ARG, "linear guidance needs min_guidance > 0 and guidance_decay >= 0 (got %g, %g)",
                            p->min_guidance, p->guidance_decay);
        if (!(p->guidance > 0.0))
            return pf_error(PF_ERR_INVALID_ARG, "linear guidance needs guidance > 0 (got %g)", p->guidance);
    }
    if (p->decode.tiling && (p->decode.tile_sample_min_size < 8 || p->decode.tile_sample_min_size % 8))
        return pf_error(PF_ERR_INVALID_ARG, "decode tile size %d: must be a positive multiple of 8 pixels", p->decode.tile_sample_min_size);
    if (p->decode.temporal_chunk && p->decode.window < 1)
        return pf_error(PF_ERR_INVALID_ARG, "decode window %d: must be at least 1", p->decode.window);
    if (p->mode == PF_PIPE_I2V && p->encode.tiling &&
        (p->encode.tile_sample_min_size < 8 || p->encode.tile_sample_min_size % 8))
        return pf_error(PF_ERR_INVALID_ARG, "encode tile size %d: must be a positive multiple of 8 pixels", p->encode.tile_sample_min_size);
    return PF_OK;
}
