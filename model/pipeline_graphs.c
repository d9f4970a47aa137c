/*
 * The pipeline's own device work, as small graphs on the denoiser's backend: the
 * initial-noise pyramid, a unit's start, the stage jump (nearest upsample + block
 * renoise), CFG mixing + the Euler step, the clean pyramid of a finished frame and the
 * history clips. Every graph reads and writes persistent pool tensors (pf_external /
 * pf_output_into); scalars come from a small pool tensor `scal` set before computing,
 * so the per-stage graphs are built once and replayed for every step and unit.
 */
#include "pipeline_impl.h"

/* scal[i] as a [1, 1, 1, 1, 1] view that broadcasts over a latent. */
static pf_tensor *pf_scal(pf_graph *g, pf_tensor *scal, int i) {
    int64_t ne[5] = {1, 1, 1, 1, 1}, st[5] = {0, 0, 0, 0, 0};
    return pf_view(g, pf_external(g, scal), 5, ne, st, i);
}

/* With CFG the DiT input is cat([x, x]) along the batch. */
static void pf_write_cfg_input(pf_pipe_run *r, pf_graph *g, pf_tensor *y, int s) {
    if (!r->cfg) return;
    pf_tensor *two[2] = {y, y};
    pf_output_into(g, pf_concat(g, two, 2, 0), r->xx[s]);
}

static pf_status pf_run_graph(pf_pipe_run *r, pf_graph *g, bool keep) {
    pf_status rc = pf_graph_status(g);
    if (rc != PF_OK) {
        rc = pf_error(rc, "pipeline graph '%s': %s", pf_graph_name(g), pf_graph_error(g));
    } else {
        rc = pf_graph_plan(g, r->arena, NULL);
        if (rc == PF_OK) rc = pf_graph_compute(g);
        if (rc != PF_OK) rc = pf_error_wrap(rc, "pipeline graph '%s'", pf_graph_name(g));
    }
    if (!keep || rc != PF_OK) pf_graph_free(g);
    return rc;
}

/* Replay a cached graph (planned on first use). */
static pf_status pf_replay(pf_pipe_run *r, pf_graph **slot, pf_graph *fresh) {
    if (!*slot) {
        pf_status rc = pf_run_graph(r, fresh, true);
        if (rc == PF_OK) *slot = fresh;
        return rc;
    }
    pf_status rc = pf_graph_compute(*slot);
    return rc == PF_OK ? PF_OK : pf_error_wrap(rc, "pipeline graph '%s'", pf_graph_name(*slot));
}

pf_status pf_pipe_set_scalars(pf_pipe_run *r) {
    return pf_tensor_set_as(r->scal, r->scal_host, PF_F32, PF_PIPE_NSCAL);
}

/* prepare_latents + "start from the block noise": per frame, twice
 * F.interpolate(x, (h/2, w/2), bilinear) * 2 (the 2x2 mean times 2 keeps unit variance). */
pf_status pf_pipe_noise_pyramid(pf_pipe_run *r, pf_tensor *noise_full) {
    pf_graph *g = pf_graph_new("noise_quarter");
    pf_tensor *q = pf_external(g, noise_full);
    for (int i = 0; i < r->S - 1; i++) q = pf_downsample2x(g, q, 2.0f);
    pf_output_into(g, q, r->noise_q);
    return pf_run_graph(r, g, false);
}

/* x = noise_q[:, :, frame] (the unit's slice of the downsampled initial noise). */
pf_status pf_pipe_unit_start(pf_pipe_run *r, int frame) {
    pf_graph *g = pf_graph_new("unit_start");
    pf_tensor *x = pf_copy(g, pf_slice(g, pf_external(g, r->noise_q), 2, frame, 1));
    pf_output_into(g, x, r->x[0]);
    pf_write_cfg_input(r, g, x, 0);
    return pf_run_graph(r, g, false);
}

/* generate_one_unit, i_s > 0: x = alpha * nearest_up2(x_prev) + beta * block_noise
 * (scal[ALPHA], scal[BETA]; bn[s] uploaded by the caller). */
pf_status pf_pipe_jump(pf_pipe_run *r, int s) {
    if (r->g_jump[s]) return pf_replay(r, &r->g_jump[s], NULL);
    pf_graph *g = pf_graph_new("stage_jump");
    pf_tensor *up = pf_upsample2x(g, pf_external(g, r->x[s - 1]));
    pf_tensor *a = pf_mul(g, up, pf_scal(g, r->scal, PF_SCAL_ALPHA));
    pf_tensor *b = pf_mul(g, pf_external(g, r->bn[s]), pf_scal(g, r->scal, PF_SCAL_BETA));
    pf_tensor *y = pf_add(g, a, b);
    pf_output_into(g, y, r->x[s]);
    pf_write_cfg_input(r, g, y, s);
    return pf_replay(r, &r->g_jump[s], g);
}

/* CFG and scheduler.step: v = v_neg + w (v_pos - v_neg); x = x + dsigma v
 * (scal[W], scal[DSIGMA]). Each op rounds to the latent dtype, as the official ops do. */
pf_status pf_pipe_euler(pf_pipe_run *r, int s) {
    if (r->g_euler[s]) return pf_replay(r, &r->g_euler[s], NULL);
    pf_graph *g = pf_graph_new("cfg_euler");
    pf_tensor *v = pf_external(g, r->v[s]);
    if (r->cfg) {
        pf_tensor *vn = pf_slice(g, v, 0, 0, 1), *vp = pf_slice(g, v, 0, 1, 1);
        pf_tensor *d = pf_sub(g, vp, vn);
        v = pf_add(g, vn, pf_mul(g, d, pf_scal(g, r->scal, PF_SCAL_W)));
    }
    pf_tensor *y = pf_add(g, pf_external(g, r->x[s]), pf_mul(g, v, pf_scal(g, r->scal, PF_SCAL_DSIGMA)));
    pf_output_into(g, y, r->x[s]);
    pf_write_cfg_input(r, g, y, s);
    return pf_replay(r, &r->g_euler[s], g);
}

/* get_pyramid_latent for one frame: gen[S-1][k] = src (unless src is it), then
 * bilinear 1/2 (no x2) down to the lowest level. Per frame, as the official
 * interpolation over all frames is. */
pf_status pf_pipe_pyramid_frame(pf_pipe_run *r, pf_tensor *src, int k) {
    pf_graph *g = pf_graph_new("history_pyramid");
    pf_tensor *prev = pf_external(g, src);
    if (src != r->gen[r->S - 1][k]) pf_output_into(g, pf_copy(g, prev), r->gen[r->S - 1][k]);
    for (int l = r->S - 2; l >= 0; l--) {
        pf_tensor *d = pf_downsample2x(g, prev, 1.0f);
        pf_output_into(g, d, r->gen[l][k]);
        prev = d;
    }
    return pf_run_graph(r, g, false);
}

/* The history clips of unit k (k frames before it) for every stage: frames of the
 * pyramid concatenated in time and, with CFG, duplicated to batch 2. The clip tensors
 * live in the unit's pool. One frame without CFG is used in place. */
pf_status pf_pipe_history(pf_pipe_run *r, int k, pf_pool *unit_pool) {
    pf_graph *g = pf_graph_new("history_clips");
    pf_tensor **frames = pf_calloc((size_t)k + 1, sizeof *frames, "history frames");
    if (!frames) {
        pf_graph_free(g);
        return PF_ERR_OOM;
    }
    bool any = false;
    pf_status rc = PF_OK;
    for (int s = 0; s < r->S && rc == PF_OK; s++) {
        pf_hist_clip lay[PF_PIPE_STAGES];
        r->n_hist[s] = pf_history_layout(k, s, r->S, lay, PF_PIPE_STAGES);
        for (int c = 0; c < r->n_hist[s]; c++) {
            const pf_hist_clip *hc = &lay[c];
            if (!r->cfg && hc->count == 1) {
                r->hist[s][c] = r->gen[hc->level][hc->first];
                continue;
            }
            int64_t ne[5] = {r->B, r->C, hc->count, r->hs[hc->level], r->ws[hc->level]};
            pf_tensor *dst = pf_pool_tensor(unit_pool, r->dt, 5, ne, "history_clip");
            if (!dst) {
                rc = PF_ERR_OOM;
                break;
            }
            for (int f = 0; f < hc->count; f++) frames[f] = pf_external(g, r->gen[hc->level][hc->first + f]);
            pf_tensor *clip = pf_concat(g, frames, hc->count, 2);
            if (r->cfg) {
                pf_tensor *two[2] = {clip, clip};
                clip = pf_concat(g, two, 2, 0);
            }
            pf_output_into(g, clip, dst);
            r->hist[s][c] = dst;
            any = true;
        }
    }
    free(frames);
    if (rc != PF_OK || !any) {
        pf_graph_free(g);
        return rc;
    }
    return pf_run_graph(r, g, false);
}
