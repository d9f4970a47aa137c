/*
 * The autoregressive pyramidal sampling loop: generate() / generate_i2v() /
 * generate_one_unit() of the official pipeline (golden/README.md §6 is the recipe).
 *
 *   noise  = randn [1, C, T, Hl, Wl]  ->  twice (bilinear 1/2) * 2  ->  noise_q
 *   unit k (t2v: k = 0..T-1 with noise frame k; i2v: frame 0 is the image latent and
 *   unit k = 1..T-1 uses noise frame k - 1):
 *     x = noise_q[:, :, frame]                                 stage 0 (quarter)
 *     for stage s: if s > 0: x = alpha_s up2(x) + beta_s block_noise       (jump)
 *                  for each timestep t_i: v = DiT(history_s + [cat(x, x)], t_i)
 *                                         v = v_neg + w (v_pos - v_neg)
 *                                         x = x + (sigma_{i+1} - sigma_i) v
 *     frame k = x; its clean pyramid (full, half, quarter) feeds later units' history
 *   decode: un-normalise, VAE decode (chunked, tiled), uint8 frames.
 */
#include "pipeline_impl.h"

#include <math.h>

void pf_pipe_stats_free(pf_pipe_stats *s) {
    if (!s) return;
    free(s->rows);
    s->rows = NULL;
    s->n_rows = 0;
}

static double pf_elapsed(const pf_pipe_run *r) { return pf_time_now() - r->t0; }

static const int *pf_unit_steps(const pf_pipe_run *r, int k) {
    if (r->p->mode == PF_PIPE_I2V) return r->p->steps;
    return k == 0 ? r->p->steps : r->p->video_steps;
}

/* The guidance scale of unit k (is_first_frame -> guidance_scale; linear guidance
 * replaces both scales by max(guidance - decay k, min)). */
static double pf_unit_guidance(const pf_pipe_params *p, int k) {
    if (p->linear_guidance) return fmax(p->guidance - p->guidance_decay * k, p->min_guidance);
    return p->mode != PF_PIPE_I2V && k == 0 ? p->guidance : p->video_guidance;
}

static pf_status pf_tap(pf_pipe_run *r, const char *name, const float *data, int ndim, const int64_t *shape) {
    if (!r->h->tap) return PF_OK;
    pf_status rc = r->h->tap(r->h->user, name, data, ndim, shape);
    return rc == PF_OK ? PF_OK : pf_error_wrap(rc, "pipeline tap '%s'", name);
}

/* Download a device latent and hand it to the tap. */
static pf_status pf_tap_tensor(pf_pipe_run *r, const char *name, pf_tensor *t) {
    if (!r->h->tap || r->dry) return PF_OK;
    size_t n = (size_t)pf_nelem(t);
    float *buf = pf_malloc(n * sizeof(float), "tap buffer");
    if (!buf) return PF_ERR_OOM;
    pf_status rc = pf_tensor_get_as(t, buf, PF_F32, n);
    if (rc == PF_OK) rc = pf_tap(r, name, buf, t->ndim, t->ne);
    free(buf);
    return rc;
}

static pf_status pf_report(pf_pipe_run *r, const char *phase, int unit, int stage, int step, int n_steps, int chunk,
                           int n_chunks) {
    if (!r->h->progress) return PF_OK;
    pf_pipe_progress pr = {.phase = phase,
                           .unit = unit,
                           .n_units = r->T,
                           .stage = stage,
                           .n_stages = r->S,
                           .step = step,
                           .n_steps = n_steps,
                           .call = r->call,
                           .n_calls = r->n_calls,
                           .chunk = chunk,
                           .n_chunks = n_chunks,
                           .elapsed_s = pf_elapsed(r)};
    if (r->h->progress(r->h->user, &pr)) return PF_OK;
    if (!strcmp(phase, "denoise"))
        return pf_error(PF_ERR_CANCELLED, "generation cancelled by the progress callback (unit %d, stage %d, step %d)",
                        unit, stage, step);
    return pf_error(PF_ERR_CANCELLED, "generation cancelled by the progress callback (%s, chunk %d of %d)", phase, chunk,
                    n_chunks);
}

/* VAE chunk progress -> the pipeline's callback. */
typedef struct {
    pf_pipe_run *r;
    const char *phase;
    bool cancelled;
} pf_vae_report;

static bool pf_vae_progress(void *user, int done, int total) {
    pf_vae_report *vr = user;
    if (!vr->r->h->progress) return true;
    if (pf_report(vr->r, vr->phase, vr->r->T - 1, vr->r->S - 1, 0, 0, done, total) == PF_OK) return true;
    vr->cancelled = true;
    return false;
}

/* ---------------------------------------------------------------- setup */

static pf_status pf_pipe_check_inputs(const pf_pipe_run *r) {
    const pf_pipe_inputs *in = r->in;
    const pf_pipe_denoiser *dn = r->dn;
    if (!dn || !dn->forward || !dn->backend)
        return pf_error(PF_ERR_INVALID_ARG, "pipeline: no denoiser (DiT)");
    if (dn->dtype != PF_F32 && dn->dtype != PF_BF16)
        return pf_error(PF_ERR_UNSUPPORTED, "pipeline: latent dtype %s (f32 or bf16 supported)", pf_dtype_name(dn->dtype));
    if (dn->channels < 1 || dn->patch < 1)
        return pf_error(PF_ERR_INVALID_ARG, "pipeline: denoiser with %d channels, patch %d", dn->channels, dn->patch);
    if (!r->vae || !r->vae->decode) return pf_error(PF_ERR_INVALID_ARG, "pipeline: no VAE decoder");
    if (r->p->mode == PF_PIPE_I2V && !r->vae->encode) return pf_error(PF_ERR_INVALID_ARG, "pipeline: no VAE encoder for image-to-video");
    if (!in || !in->noise) return pf_error(PF_ERR_INVALID_ARG, "pipeline: no noise source");
    const pf_prompt_embeds *e = in->embeds;
    if (!e || !e->hidden || !e->mask || !e->pooled)
        return pf_error(PF_ERR_INVALID_ARG, "pipeline: no prompt embeddings");
    if (e->batch != 2)
        return pf_error(PF_ERR_INVALID_ARG, "pipeline: prompt embeddings need batch 2 ([negative, positive]), got %d", e->batch);
    if (e->tokens < 1 || e->text_dim < 1 || e->pooled_dim < 1)
        return pf_error(PF_ERR_INVALID_ARG, "pipeline: prompt embeddings with %d tokens, text dim %d, pooled dim %d",
                        e->tokens, e->text_dim, e->pooled_dim);
    if (r->p->mode == PF_PIPE_I2V && !in->image) return pf_error(PF_ERR_INVALID_ARG, "pipeline: image-to-video without an image");
    if (r->Hl % (4 * dn->patch) || r->Wl % (4 * dn->patch))
        return pf_error(PF_ERR_INVALID_ARG, "pipeline: %dx%d px does not split into %d-latent patches at quarter resolution",
                        r->p->width, r->p->height, dn->patch);
    return PF_OK;
}

static pf_tensor *pf_latent(pf_pipe_run *r, int b, int s, const char *name) {
    int64_t ne[5] = {b, r->C, 1, r->hs[s], r->ws[s]};
    return pf_pool_tensor(r->pool, r->dt, 5, ne, name);
}

/* Persistent device state: stage latents, velocities, the history pyramid, the text. */
static pf_status pf_pipe_alloc(pf_pipe_run *r) {
    r->be = r->dn->backend;
    PF_TRY(pf_pool_create(r->be, (size_t)8 << 20, &r->pool));
    PF_TRY(pf_arena_create(r->be, &r->arena));
    int S = r->S;
    int64_t qne[5] = {1, r->C, r->T, r->hs[0], r->ws[0]};
    r->noise_q = pf_pool_tensor(r->pool, r->dt, 5, qne, "noise_q");
    if (!r->noise_q) return PF_ERR_OOM;
    for (int s = 0; s < S; s++) {
        r->x[s] = pf_latent(r, 1, s, "latent");
        r->v[s] = pf_latent(r, r->B, s, "velocity");
        if (!r->x[s] || !r->v[s]) return PF_ERR_OOM;
        if (r->cfg && !(r->xx[s] = pf_latent(r, 2, s, "latent_cfg"))) return PF_ERR_OOM;
        if (s > 0 && !(r->bn[s] = pf_latent(r, 1, s, "block_noise"))) return PF_ERR_OOM;
        r->gen[s] = pf_calloc((size_t)r->T, sizeof(pf_tensor *), "history pyramid");
        if (!r->gen[s]) return PF_ERR_OOM;
        for (int k = 0; k < r->T; k++)
            if (!(r->gen[s][k] = pf_latent(r, 1, s, "clean_frame"))) return PF_ERR_OOM;
    }
    int64_t sne[1] = {PF_PIPE_NSCAL};
    if (!(r->scal = pf_pool_tensor(r->pool, r->dt, 1, sne, "scalars"))) return PF_ERR_OOM;

    /* Text conditioning: [negative, positive] with CFG, else the positive row alone. */
    const pf_prompt_embeds *e = r->in->embeds;
    int L = e->tokens, D = e->text_dim, P = e->pooled_dim, row0 = r->cfg ? 0 : 1;
    int64_t tne[3] = {r->B, L, D}, pne[2] = {r->B, P};
    r->text = pf_pool_tensor(r->pool, r->dt, 3, tne, "prompt_embeds");
    r->pooled = pf_pool_tensor(r->pool, r->dt, 2, pne, "pooled_prompt_embeds");
    r->mask = pf_malloc(sizeof(int32_t) * (size_t)r->B * (size_t)L, "prompt mask");
    if (!r->text || !r->pooled || !r->mask) return PF_ERR_OOM;
    PF_TRY(pf_tensor_set_as(r->text, e->hidden + (size_t)row0 * L * D, PF_F32, (size_t)r->B * L * D));
    PF_TRY(pf_tensor_set_as(r->pooled, e->pooled + (size_t)row0 * P, PF_F32, (size_t)r->B * P));
    memcpy(r->mask, e->mask + (size_t)row0 * L, sizeof(int32_t) * (size_t)r->B * L);
    r->st->latent_bytes = pf_pool_bytes(r->pool);
    return PF_OK;
}

static void pf_pipe_release(pf_pipe_run *r) {
    for (int s = 0; s < PF_PIPE_STAGES; s++) {
        pf_graph_free(r->g_euler[s]);
        pf_graph_free(r->g_jump[s]);
        free(r->gen[s]);
    }
    free(r->mask);
    pf_arena_free(r->arena);
    pf_pool_free(r->pool);
    pf_scheduler_free(r->sched);
}

/* ---------------------------------------------------------------- phases */

/* prepare_latents + the two bilinear halvings. */
static pf_status pf_pipe_initial_noise(pf_pipe_run *r) {
    double t = pf_time_now();
    int64_t shape[5] = {1, r->C, r->T, r->Hl, r->Wl};
    size_t n = (size_t)r->C * r->T * r->Hl * r->Wl;
    float *host = pf_malloc(n * sizeof(float), "initial noise");
    if (!host) return PF_ERR_OOM;
    pf_pool *tmp = NULL;
    pf_status rc = pf_noise_initial(r->in->noise, shape, host);
    if (rc == PF_OK) rc = pf_pool_create(r->be, (size_t)1 << 20, &tmp);
    pf_tensor *full = rc == PF_OK ? pf_pool_tensor(tmp, r->dt, 5, shape, "noise_init") : NULL;
    if (rc == PF_OK && !full) rc = PF_ERR_OOM;
    /* randn_tensor(dtype=the DiT's): the draw is rounded to the latent dtype */
    if (rc == PF_OK) rc = pf_tensor_set_as(full, host, PF_F32, n);
    free(host);
    if (rc == PF_OK) rc = pf_pipe_noise_pyramid(r, full);
    pf_pool_free(tmp);
    r->st->t_noise += pf_time_now() - t;
    if (rc == PF_OK) rc = pf_tap_tensor(r, "noise_init_quarter", r->noise_q);
    return rc;
}

/* generate_i2v: the input image becomes latent frame 0. */
static pf_status pf_pipe_image_latent(pf_pipe_run *r) {
    int H = r->p->height, W = r->p->width;
    size_t npix = (size_t)H * W, nlat = (size_t)r->C * r->Hl * r->Wl;
    float *video = pf_malloc(3 * npix * sizeof(float), "i2v image");
    float *buf = pf_malloc(4 * nlat * sizeof(float), "i2v latents");
    if (!video || !buf) {
        free(video);
        free(buf);
        return PF_ERR_OOM;
    }
    float *mean = buf, *logvar = buf + nlat, *noise = buf + 2 * nlat, *z = buf + 3 * nlat;
    pf_image_to_video(r->in->image, H, W, r->vae->dtype, video);
    pf_vae_opts o = r->p->encode;
    pf_vae_report vr = {r, "encode", false};
    o.progress = pf_vae_progress;
    o.progress_user = &vr;
    double t = pf_time_now();
    pf_status rc = r->vae->encode(r->vae->ctx, video, 1, H, W, &o, mean, logvar);
    r->st->t_vae_encode += pf_time_now() - t;
    free(video);
    if (rc != PF_OK) {
        free(buf);
        if (vr.cancelled) return pf_error(PF_ERR_CANCELLED, "generation cancelled by the progress callback (encode)");
        return pf_error_wrap(rc, "i2v: VAE encode");
    }
    int64_t shape[5] = {1, r->C, 1, r->Hl, r->Wl};
    rc = pf_noise_posterior(r->in->noise, shape, noise);
    if (rc == PF_OK) {
        pf_latent_image_from_posterior(mean, logvar, noise, nlat, &r->norm, r->vae->dtype, z);
        rc = pf_tap(r, "image_posterior_mean", mean, 5, shape);
    }
    if (rc == PF_OK) rc = pf_tap(r, "image_posterior_logvar", logvar, 5, shape);
    if (rc == PF_OK) rc = pf_tap(r, "image_latent", z, 5, shape);
    if (rc == PF_OK) rc = pf_tensor_set_as(r->gen[r->S - 1][0], z, PF_F32, nlat);
    free(buf);
    t = pf_time_now();
    if (rc == PF_OK) rc = pf_pipe_pyramid_frame(r, r->gen[r->S - 1][0], 0);
    r->st->t_history += pf_time_now() - t;
    return rc;
}

/* Image tokens of one DiT call at stage s of a unit with k frames before it. */
static int pf_call_tokens(const pf_pipe_run *r, int k, int s, int *clips) {
    pf_hist_clip lay[PF_PIPE_STAGES];
    int n = pf_history_layout(k, s, r->S, lay, PF_PIPE_STAGES), tok = 0, pp = r->patch * r->patch;
    for (int c = 0; c < n; c++) tok += lay[c].count * r->hs[lay[c].level] * r->ws[lay[c].level] / pp;
    *clips = n + 1;
    return tok + r->hs[s] * r->ws[s] / pp;
}

static pf_status pf_pipe_unit(pf_pipe_run *r, int k, double *ts, double *sg) {
    const int *steps = pf_unit_steps(r, k);
    double w = pf_unit_guidance(r->p, k);
    int frame = r->p->mode == PF_PIPE_I2V ? k - 1 : k;
    pf_pool *unit_pool = NULL;
    pf_status rc = PF_OK;
    char name[64];
    if (!r->dry) {
        double t = pf_time_now();
        rc = pf_pool_create(r->be, (size_t)4 << 20, &unit_pool);
        if (rc == PF_OK && k > 0) rc = pf_pipe_history(r, k, unit_pool);
        if (rc == PF_OK) rc = pf_pipe_unit_start(r, frame);
        r->st->t_history += pf_time_now() - t;
    }
    for (int s = 0; s < r->S && rc == PF_OK; s++) {
        int n = steps[s];
        rc = pf_scheduler_set_timesteps(r->sched, s, n, ts, sg);
        if (rc != PF_OK) break;
        pf_pipe_call_row *row = &r->st->rows[(k - r->first_unit) * r->S + s];
        row->unit = k;
        row->stage = s;
        row->image_tokens = pf_call_tokens(r, k, s, &row->clips);
        row->text_tokens = r->L;
        row->calls = n;
        if (s > 0) {
            r->st->n_block_draws++;
            if (!r->dry) {
                double t = pf_time_now();
                int64_t shape[5] = {1, r->C, 1, r->hs[s], r->ws[s]};
                size_t nel = (size_t)r->C * r->hs[s] * r->ws[s];
                float *host = pf_malloc(nel * sizeof(float), "block noise");
                rc = host ? pf_noise_block(r->in->noise, shape, host) : PF_ERR_OOM;
                /* noise.to(dtype), then alpha * up(x) + beta * noise with both scalars in that dtype */
                if (rc == PF_OK) rc = pf_tensor_set_as(r->bn[s], host, PF_F32, nel);
                free(host);
                r->scal_host[PF_SCAL_ALPHA] = pf_sched_round(r->sched->jump_alpha[s], r->dt);
                r->scal_host[PF_SCAL_BETA] = pf_sched_round(r->sched->jump_beta[s], r->dt);
                if (rc == PF_OK) rc = pf_pipe_set_scalars(r);
                if (rc == PF_OK) rc = pf_pipe_jump(r, s);
                r->st->t_renoise += pf_time_now() - t;
                if (rc != PF_OK) break;
            }
        }
        for (int i = 0; i < n && rc == PF_OK; i++) {
            if (!r->dry) {
                pf_dit_inputs di = {.batch = r->B, .n_clips = r->n_hist[s] + 1, .text = r->text, .text_mask = r->mask,
                                    .pooled = r->pooled};
                for (int c = 0; c < r->n_hist[s]; c++) di.clips[c] = r->hist[s][c];
                di.clips[r->n_hist[s]] = r->cfg ? r->xx[s] : r->x[s];
                /* t.expand(B).to(dtype): the float64 timestep in the latent dtype */
                float tstep[2] = {pf_sched_round(ts[i], r->dt), pf_sched_round(ts[i], r->dt)};
                di.timestep = tstep;
                double t = pf_time_now();
                rc = r->dn->forward(r->dn->ctx, &di, r->v[s]);
                r->st->t_dit[s] += pf_time_now() - t;
                if (rc != PF_OK) {
                    rc = pf_error_wrap(rc, "DiT call (unit %d, stage %d, step %d)", k, s, i);
                    break;
                }
                t = pf_time_now();
                r->scal_host[PF_SCAL_W] = pf_sched_round(w, r->dt);
                /* (sigma_next - sigma) is a float64 tensor combined with the latent dtype */
                r->scal_host[PF_SCAL_DSIGMA] = pf_sched_round(sg[i + 1] - sg[i], r->dt);
                rc = pf_pipe_set_scalars(r);
                if (rc == PF_OK) rc = pf_pipe_euler(r, s);
                r->st->t_guidance_euler += pf_time_now() - t;
                if (rc != PF_OK) break;
            }
            r->call++;
            r->st->dit_calls++;
            r->st->image_tokens += row->image_tokens;
            rc = pf_report(r, "denoise", k, s, i, n, 0, 0);
        }
        if (rc == PF_OK && s < r->S - 1 && r->h->tap && !r->dry) {
            snprintf(name, sizeof name, "unit%d_stage%d_latent", k, s);
            rc = pf_tap_tensor(r, name, r->x[s]);
        }
    }
    if (rc == PF_OK && !r->dry) {
        double t = pf_time_now();
        rc = pf_pipe_pyramid_frame(r, r->x[r->S - 1], k);
        r->st->t_history += pf_time_now() - t;
        snprintf(name, sizeof name, "unit_latent_%d", k);
        if (rc == PF_OK) rc = pf_tap_tensor(r, name, r->x[r->S - 1]);
    }
    /* the clips of this unit are no longer referenced */
    for (int s = 0; s < PF_PIPE_STAGES; s++) r->n_hist[s] = 0;
    pf_pool_free(unit_pool);
    return rc;
}

/* decode_latent: un-normalise, VAE decode, uint8 frames. */
static pf_status pf_pipe_decode(pf_pipe_run *r, pf_pipe_output *out) {
    /* the DiT's and the step graphs' compute memory is not needed again: the decode's
     * arena and causal caches take its place instead of adding to it */
    if (r->dn->release) r->dn->release(r->dn->ctx);
    pf_arena_release(r->arena);
    size_t hw = (size_t)r->Hl * r->Wl, n = (size_t)r->C * r->T * hw;
    float *z = pf_malloc(n * sizeof(float), "final latent");
    float *frame = pf_malloc((size_t)r->C * hw * sizeof(float), "final latent");
    pf_status rc = z && frame ? PF_OK : PF_ERR_OOM;
    /* cat(generated, dim=2): [1, C, T, Hl, Wl] from T frames [1, C, 1, Hl, Wl] */
    for (int t = 0; t < r->T && rc == PF_OK; t++) {
        rc = pf_tensor_get_as(r->gen[r->S - 1][t], frame, PF_F32, (size_t)r->C * hw);
        for (int c = 0; c < r->C && rc == PF_OK; c++)
            memcpy(z + ((size_t)c * r->T + t) * hw, frame + (size_t)c * hw, hw * sizeof(float));
    }
    free(frame);
    int64_t shape[5] = {1, r->C, r->T, r->Hl, r->Wl};
    if (rc == PF_OK) rc = pf_tap(r, "final_latent", z, 5, shape);
    if (rc != PF_OK) {
        free(z);
        return rc;
    }
    pf_latent_denormalize(z, r->C, r->T, (int64_t)hw, &r->norm, r->dt);

    int F = 1 + 8 * (r->T - 1), H = r->p->height, W = r->p->width;
    size_t npix = (size_t)F * H * W;
    float *video = pf_malloc(3 * npix * sizeof(float), "decoded video");
    if (!video) {
        free(z);
        return PF_ERR_OOM;
    }
    pf_vae_opts o = r->p->decode;
    pf_vae_report vr = {r, "decode", false};
    o.progress = pf_vae_progress;
    o.progress_user = &vr;
    double t = pf_time_now();
    rc = r->vae->decode(r->vae->ctx, z, r->T, r->Hl, r->Wl, &o, video);
    r->st->t_vae_decode += pf_time_now() - t;
    free(z);
    if (rc != PF_OK) {
        free(video);
        if (vr.cancelled) return pf_error(PF_ERR_CANCELLED, "generation cancelled by the progress callback (decode)");
        return pf_error_wrap(rc, "VAE decode");
    }
    t = pf_time_now();
    uint8_t *rgb = pf_malloc(npix * 3, "frames");
    if (rgb) pf_frames_from_video(video, F, H, W, r->vae->dtype, rgb);
    free(video);
    r->st->t_frames += pf_time_now() - t;
    if (!rgb) return PF_ERR_OOM;
    if (out) {
        out->frames = F;
        out->height = H;
        out->width = W;
        out->rgb = rgb;
    } else {
        free(rgb);
    }
    return PF_OK;
}

/* ---------------------------------------------------------------- run */

/* Stage sizes and batch of the run's parameters. */
static void pf_pipe_geometry(pf_pipe_run *r) {
    const pf_pipe_params *p = r->p;
    r->S = PF_PIPE_STAGES;
    r->T = p->temp;
    r->Hl = p->height / 8;
    r->Wl = p->width / 8;
    for (int s = 0; s < r->S; s++) {
        r->hs[s] = r->Hl >> (r->S - 1 - s);
        r->ws[s] = r->Wl >> (r->S - 1 - s);
    }
    r->cfg = p->guidance > 0; /* do_classifier_free_guidance */
    r->B = r->cfg ? 2 : 1;
    r->st->batch = r->B;
}

static pf_status pf_pipe_execute(pf_pipe_run *r, pf_pipe_output *out) {
    const pf_pipe_params *p = r->p;
    pf_pipe_geometry(r);
    r->first_unit = p->mode == PF_PIPE_I2V ? 1 : 0;
    r->n_units = r->T - r->first_unit;
    r->n_calls = 0;
    for (int k = r->first_unit; k < r->T; k++)
        for (int s = 0; s < r->S; s++) r->n_calls += pf_unit_steps(r, k)[s];
    r->st->n_rows = r->n_units * r->S;
    r->st->rows = pf_calloc((size_t)r->st->n_rows, sizeof *r->st->rows, "DiT call table");
    if (!r->st->rows) return PF_ERR_OOM;
    PF_TRY(pf_scheduler_create(&p->sched, &r->sched));
    int max_steps = 1;
    for (int k = r->first_unit; k < r->T; k++)
        for (int s = 0; s < r->S; s++) max_steps = PF_MAX(max_steps, pf_unit_steps(r, k)[s]);
    double *ts = pf_malloc(sizeof(double) * (size_t)(2 * max_steps + 1), "timesteps");
    if (!ts) return PF_ERR_OOM;
    double *sg = ts + max_steps;

    pf_status rc = PF_OK;
    if (!r->dry) {
        r->C = r->dn->channels;
        r->dt = r->dn->dtype;
        pf_latent_norm_get(r->dn->variant, &r->norm);
        rc = pf_pipe_alloc(r);
        if (rc == PF_OK) rc = pf_pipe_initial_noise(r);
        if (rc == PF_OK && p->mode == PF_PIPE_I2V) rc = pf_pipe_image_latent(r);
    }
    for (int k = r->first_unit; k < r->T && rc == PF_OK; k++) rc = pf_pipe_unit(r, k, ts, sg);
    free(ts);
    if (rc == PF_OK && !r->dry) rc = pf_pipe_decode(r, out);
    if (r->be) r->st->backend_peak_bytes = r->be->bytes_peak;
    return rc;
}

pf_status pf_pipeline_run(const pf_pipe_denoiser *dn, const pf_pipe_vae *vae, const pf_pipe_inputs *in,
                          const pf_pipe_params *p, const pf_pipe_hooks *hooks, pf_pipe_output *out,
                          pf_pipe_stats *stats) {
    static const pf_pipe_hooks no_hooks;
    pf_pipe_stats local;
    pf_pipe_stats *st = stats ? stats : &local;
    memset(st, 0, sizeof *st);
    if (out) memset(out, 0, sizeof *out);
    if (!p) return pf_error(PF_ERR_INVALID_ARG, "pipeline: no parameters");
    PF_TRY(pf_pipe_params_check(p));
    pf_pipe_run r = {.dn = dn, .vae = vae, .in = in, .p = p, .h = hooks ? hooks : &no_hooks, .st = st};
    r.dry = r.h->dry_run;
    r.t0 = pf_time_now();
    r.Hl = p->height / 8;
    r.Wl = p->width / 8;
    r.C = dn ? dn->channels : 16;
    r.patch = dn ? dn->patch : 2;
    r.L = in && in->embeds ? in->embeds->tokens : 0;
    pf_status rc = r.dry ? PF_OK : pf_pipe_check_inputs(&r);
    if (rc == PF_OK) rc = pf_pipe_execute(&r, out);
    st->t_total = pf_elapsed(&r);
    pf_pipe_release(&r);
    if (!stats) pf_pipe_stats_free(&local);
    return rc;
}

pf_status pf_pipeline_latent_bytes(const pf_pipe_params *p, int channels, pf_dtype dt, int text_tokens, int text_dim,
                                   int pooled_dim, size_t *bytes) {
    *bytes = 0;
    if (!p) return pf_error(PF_ERR_INVALID_ARG, "latent bytes: no parameters");
    PF_TRY(pf_pipe_params_check(p));
    if (channels < 1 || text_tokens < 1 || text_dim < 1 || pooled_dim < 1 || (dt != PF_F32 && dt != PF_BF16))
        return pf_error(PF_ERR_INVALID_ARG, "latent bytes: %d channels, %d text tokens x %d, pooled %d, dtype %s",
                        channels, text_tokens, text_dim, pooled_dim, pf_dtype_name(dt));
    /* pf_pipe_alloc itself, on the meta backend: the sizes of a real run, nothing allocated
     * (the embeddings it uploads are dropped; zeros stand in for them) */
    pf_backend *meta = NULL;
    PF_TRY(pf_backend_meta_create(&meta));
    size_t nh = (size_t)2 * text_tokens * text_dim, np = (size_t)2 * pooled_dim;
    float *buf = pf_calloc(nh + np, sizeof(float), "latent plan embeddings");
    int32_t *mask = pf_calloc((size_t)2 * text_tokens, sizeof(int32_t), "latent plan mask");
    pf_status rc = buf && mask ? PF_OK : PF_ERR_OOM;
    pf_prompt_embeds e = {.batch = 2, .tokens = text_tokens, .text_dim = text_dim, .pooled_dim = pooled_dim,
                          .hidden = buf, .mask = mask, .pooled = buf + nh};
    pf_pipe_denoiser dn = {.backend = meta, .channels = channels, .dtype = dt, .patch = 2};
    pf_pipe_inputs in = {.embeds = &e};
    pf_pipe_stats st = {0};
    pf_pipe_run r = {.dn = &dn, .in = &in, .p = p, .st = &st};
    if (rc == PF_OK) {
        pf_pipe_geometry(&r);
        r.C = channels;
        r.dt = dt;
        rc = pf_pipe_alloc(&r);
        *bytes = st.latent_bytes;
    }
    pf_pipe_release(&r);
    free(buf);
    free(mask);
    pf_backend_free(meta);
    return rc;
}

pf_status pf_pipeline_count_calls(const pf_pipe_params *p, int text_tokens, int patch, pf_pipe_stats *stats) {
    if (patch < 1 || text_tokens < 0)
        return pf_error(PF_ERR_INVALID_ARG, "count_calls: patch %d, text tokens %d", patch, text_tokens);
    pf_pipe_denoiser dn = {.channels = 16, .patch = patch, .dtype = PF_F32};
    pf_prompt_embeds e = {.batch = 2, .tokens = text_tokens};
    pf_pipe_inputs in = {.embeds = &e};
    pf_pipe_hooks h = {.dry_run = true};
    return pf_pipeline_run(&dn, NULL, &in, p, &h, NULL, stats);
}
