/*
 * The sampling pipeline with a stand-in DiT and VAE: the device loop (noise pyramid,
 * jumps with block noise, CFG + Euler, history pyramid and clips, normalisation,
 * uint8 frames) against a plain host re-implementation of the recipe in
 * golden/README.md §6, plus the history layout, the DiT call table of the fact sheet
 * (§4.5), the argument checks and cancellation.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pf_backend.h"
#include "pf_pipeline.h"
#include "pf_test.h"

/* ------------------------------------------------------------------ helpers */

static float rnd(float v, pf_dtype dt) { return dt == PF_BF16 ? pf_round_bf16(v) : v; }

static pf_backend *cpu(void) {
    pf_backend *be = NULL;
    pf_backend_options o = {.device = -1, .threads = 1, .reference = true};
    if (pf_backend_create("cpu", &o, &be) != PF_OK) return NULL;
    return be;
}

/* ------------------------------------------------------------------ stand-in DiT */

/* v[b] = a_b cur[b] + 1e-4 t + 0.1 hist(row b) + 0.01 (valid tokens of row b)
 *        + 0.1 pooled[b][0], a = (-0.5, 0.8) with CFG, (0.8) without. */
typedef struct {
    pf_dtype dt;
    int calls;
    int n_clips_seen[64];
    float timesteps[64];
    int batch;
    int released, calls_at_release; /* release callbacks; forwards before the last one */
} fake_dit;

static void fake_release(void *ctx) {
    fake_dit *f = ctx;
    f->released++;
    f->calls_at_release = f->calls;
}

static double fake_velocity(int b, int B, float cur, float t, double hist, int valid, float pooled0) {
    double a = B == 2 ? (b == 0 ? -0.5 : 0.8) : 0.8;
    return a * cur + 1e-4 * t + 0.1 * hist + 0.01 * valid + 0.1 * pooled0;
}

static pf_status fake_forward(void *ctx, const pf_dit_inputs *in, pf_tensor *velocity) {
    fake_dit *f = ctx;
    int B = in->batch;
    if (f->calls < 64) {
        f->n_clips_seen[f->calls] = in->n_clips;
        f->timesteps[f->calls] = in->timestep[0];
    }
    f->calls++;
    f->batch = B;
    int64_t L = in->text->ne[1], P = in->pooled->ne[1];
    float *pooled = malloc(sizeof(float) * (size_t)(B * P));
    pf_tensor_get_as(in->pooled, pooled, PF_F32, (size_t)(B * P));
    pf_tensor *cur = in->clips[in->n_clips - 1];
    size_t n = (size_t)pf_nelem(cur), per = n / (size_t)B;
    float *x = malloc(n * sizeof(float)), *v = malloc(n * sizeof(float));
    pf_tensor_get_as(cur, x, PF_F32, n);
    for (int b = 0; b < B; b++) {
        /* history term: sum over clips of (c + 1) * (the clip's first value in row b) plus
         * 1e-6 * its element count: a few terms in a fixed order, so the host recipe can
         * reproduce it bit for bit */
        double hs = 0;
        for (int c = 0; c + 1 < in->n_clips; c++) {
            pf_tensor *h = in->clips[c];
            size_t m = (size_t)pf_nelem(h), hp = m / (size_t)B;
            float *hv = malloc(m * sizeof(float));
            pf_tensor_get_as(h, hv, PF_F32, m);
            hs += (c + 1) * (double)hv[(size_t)b * hp] + 1e-6 * (double)hp;
            free(hv);
        }
        int valid = 0;
        for (int64_t i = 0; i < L; i++) valid += in->text_mask[b * L + i];
        for (size_t i = 0; i < per; i++)
            v[(size_t)b * per + i] = (float)fake_velocity(b, B, x[(size_t)b * per + i], in->timestep[b], hs, valid,
                                                          pooled[b * P]);
    }
    pf_status rc = pf_tensor_set_as(velocity, v, PF_F32, n);
    free(x);
    free(v);
    free(pooled);
    return rc;
}

/* ------------------------------------------------------------------ stand-in VAE */

/* decode: pixel (c, f, y, x) = tanh(z[(5 c) % 16][(f + 7) / 8][y / 8][x / 8]);
 * encode: mean[c] = 8x8 block mean of channel c % 3, logvar = -2 + 0.1 c. */
static pf_status fake_decode(void *ctx, const float *z, int T, int h, int w, const pf_vae_opts *o, float *video) {
    (void)ctx;
    int F = 1 + 8 * (T - 1), H = 8 * h, W = 8 * w;
    for (int c = 0; c < 3; c++)
        for (int f = 0; f < F; f++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                    video[(((size_t)c * F + f) * H + y) * W + x] =
                        tanhf(z[(((size_t)((5 * c) % 16) * T + (f + 7) / 8) * h + y / 8) * w + x / 8]);
    if (o->progress && !o->progress(o->progress_user, 1, 1)) return PF_ERR_CANCELLED;
    return PF_OK;
}

static pf_status fake_encode(void *ctx, const float *video, int T, int H, int W, const pf_vae_opts *o, float *mean,
                             float *logvar) {
    (void)ctx;
    (void)T;
    (void)o;
    int h = H / 8, w = W / 8;
    for (int c = 0; c < 16; c++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                double s = 0;
                for (int dy = 0; dy < 8; dy++)
                    for (int dx = 0; dx < 8; dx++) s += video[((size_t)(c % 3) * H + 8 * y + dy) * W + 8 * x + dx];
                mean[((size_t)c * h + y) * w + x] = (float)(s / 64);
                logvar[((size_t)c * h + y) * w + x] = -2.0f + 0.1f * c;
            }
    return PF_OK;
}

/* ------------------------------------------------------------------ the host recipe */

typedef struct {
    int C, h, w; /* one frame [C, h, w] */
    float *d;
} frame_t;

static frame_t fr_new(int C, int h, int w) {
    frame_t f = {C, h, w, calloc((size_t)C * h * w, sizeof(float))};
    return f;
}

/* bilinear 1/2, align_corners=False: the 2x2 mean */
static frame_t fr_down(frame_t a, float mul, pf_dtype dt) {
    frame_t o = fr_new(a.C, a.h / 2, a.w / 2);
    for (int c = 0; c < a.C; c++)
        for (int y = 0; y < o.h; y++)
            for (int x = 0; x < o.w; x++) {
                const float *p = a.d + ((size_t)c * a.h + 2 * y) * a.w + 2 * x;
                float top = 0.5f * p[0] + 0.5f * p[1], bot = 0.5f * p[a.w] + 0.5f * p[a.w + 1];
                o.d[((size_t)c * o.h + y) * o.w + x] = rnd((0.5f * top + 0.5f * bot) * mul, dt);
            }
    return o;
}

typedef struct {
    pf_dtype dt;
    bool cfg;
    const pf_prompt_embeds *e;
} ref_ctx;

typedef struct {
    frame_t *first; /* the clip's first frame */
    int count;
} clip_t;

/* one velocity of the stand-in for the current frame x (both CFG rows identical) */
static void ref_velocity(const ref_ctx *rc, const clip_t *hist, int nh, frame_t x, float t, float *vout_row0,
                         float *vout_row1) {
    int B = rc->cfg ? 2 : 1;
    for (int b = 0; b < B; b++) {
        int row = rc->cfg ? b : 1;
        double hs = 0;
        for (int i = 0; i < nh; i++)
            hs += (i + 1) * (double)hist[i].first->d[0] +
                  1e-6 * (double)((size_t)hist[i].count * hist[i].first->C * hist[i].first->h * hist[i].first->w);
        int valid = 0;
        for (int i = 0; i < rc->e->tokens; i++) valid += rc->e->mask[row * rc->e->tokens + i];
        float *out = b == 0 ? vout_row0 : vout_row1;
        size_t n = (size_t)x.C * x.h * x.w;
        for (size_t j = 0; j < n; j++)
            out[j] = rnd((float)fake_velocity(b, B, x.d[j], t, hs, valid, rc->e->pooled[row * rc->e->pooled_dim]),
                         rc->dt);
    }
}

static int ref_clip(clip_t *out, frame_t *level, int f0, int n) {
    out->first = level + f0;
    out->count = n;
    return 1;
}

/* Runs the recipe; returns the final normalised latent [C, T, Hl, Wl] and the frames. */
static void ref_run(const pf_pipe_params *p, const pf_prompt_embeds *e, const uint8_t *image, pf_noise *noise,
                    pf_dtype dt, float *final_latent, uint8_t *rgb) {
    const int C = 16, T = p->temp, Hl = p->height / 8, Wl = p->width / 8;
    ref_ctx rc = {dt, p->guidance > 0, e};
    pf_latent_norm nrm;
    pf_latent_norm_get(PF_DIT_FLUX, &nrm);
    /* initial noise -> quarter, per frame */
    float *init = malloc(sizeof(float) * (size_t)C * T * Hl * Wl);
    int64_t shape[5] = {1, C, T, Hl, Wl};
    pf_noise_initial(noise, shape, init);
    frame_t *q = calloc((size_t)T, sizeof *q);
    for (int t = 0; t < T; t++) {
        frame_t f = fr_new(C, Hl, Wl);
        for (int c = 0; c < C; c++)
            for (int i = 0; i < Hl * Wl; i++) f.d[(size_t)c * Hl * Wl + i] = rnd(init[((size_t)c * T + t) * Hl * Wl + i], dt);
        frame_t a = fr_down(f, 2.0f, dt), b = fr_down(a, 2.0f, dt);
        q[t] = b;
        free(f.d);
        free(a.d);
    }
    free(init);
    frame_t *lev[3];
    for (int l = 0; l < 3; l++) lev[l] = calloc((size_t)T, sizeof(frame_t));
    int first = 0;
    if (p->mode == PF_PIPE_I2V) {
        size_t n = (size_t)C * Hl * Wl;
        float *video = malloc(sizeof(float) * 3 * (size_t)p->height * p->width), *mean = malloc(n * 4 * sizeof(float));
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < p->height * p->width; i++)
                video[(size_t)c * p->height * p->width + i] = ((float)image[(size_t)i * 3 + c] / 255.0f - 0.5f) / 0.5f;
        fake_encode(NULL, video, 1, p->height, p->width, NULL, mean, mean + n);
        int64_t ps[5] = {1, C, 1, Hl, Wl};
        pf_noise_posterior(noise, ps, mean + 2 * n);
        frame_t f = fr_new(C, Hl, Wl);
        for (size_t i = 0; i < n; i++) {
            float x = mean[i] + expf(0.5f * mean[n + i]) * mean[2 * n + i];
            f.d[i] = rnd((x - (float)nrm.image_shift) * (float)nrm.image_scale, dt);
        }
        lev[2][0] = f;
        lev[1][0] = fr_down(f, 1.0f, dt);
        lev[0][0] = fr_down(lev[1][0], 1.0f, dt);
        free(video);
        free(mean);
        first = 1;
    }
    pf_sched_config sc;
    pf_sched_config_default(&sc);
    pf_scheduler *sched;
    pf_scheduler_create(&sc, &sched);
    for (int k = first; k < T; k++) {
        const int *steps = p->mode == PF_PIPE_I2V || k > 0 ? (p->mode == PF_PIPE_I2V ? p->steps : p->video_steps) : p->steps;
        double w = p->linear_guidance ? fmax(p->guidance - p->guidance_decay * k, p->min_guidance)
                                      : (p->mode != PF_PIPE_I2V && k == 0 ? p->guidance : p->video_guidance);
        frame_t x = fr_new(C, Hl / 4, Wl / 4);
        memcpy(x.d, q[p->mode == PF_PIPE_I2V ? k - 1 : k].d, sizeof(float) * (size_t)C * x.h * x.w);
        for (int s = 0; s < 3; s++) {
            /* history per README: s=2 [q 0..k-3][h k-2][f k-1]; s=1 [q 0..k-2][h k-1]; s=0 [q 0..k-2][q k-1] */
            clip_t hist[4];
            int nh = 0;
            if (k > 0) {
                if (s == 2) {
                    if (k >= 3) nh += ref_clip(hist + nh, lev[0], 0, k - 2);
                    if (k >= 2) nh += ref_clip(hist + nh, lev[1], k - 2, 1);
                    nh += ref_clip(hist + nh, lev[2], k - 1, 1);
                } else {
                    if (k >= 2) nh += ref_clip(hist + nh, lev[0], 0, k - 1);
                    nh += ref_clip(hist + nh, lev[s], k - 1, 1);
                }
            }
            double ts[64], sg[65];
            pf_scheduler_set_timesteps(sched, s, steps[s], ts, sg);
            if (s > 0) {
                frame_t up = fr_new(C, x.h * 2, x.w * 2);
                for (int c = 0; c < C; c++)
                    for (int y = 0; y < up.h; y++)
                        for (int xx = 0; xx < up.w; xx++)
                            up.d[((size_t)c * up.h + y) * up.w + xx] = x.d[((size_t)c * x.h + y / 2) * x.w + xx / 2];
                float *bn = malloc(sizeof(float) * (size_t)C * up.h * up.w);
                int64_t bs[5] = {1, C, 1, up.h, up.w};
                pf_noise_block(noise, bs, bn);
                float a = pf_sched_round(sched->jump_alpha[s], dt), b = pf_sched_round(sched->jump_beta[s], dt);
                for (size_t i = 0; i < (size_t)C * up.h * up.w; i++)
                    up.d[i] = rnd(rnd(a * up.d[i], dt) + rnd(b * rnd(bn[i], dt), dt), dt);
                free(bn);
                free(x.d);
                x = up;
            }
            size_t n = (size_t)C * x.h * x.w;
            float *v0 = malloc(n * sizeof(float)), *v1 = malloc(n * sizeof(float));
            for (int i = 0; i < steps[s]; i++) {
                ref_velocity(&rc, hist, nh, x, pf_sched_round(ts[i], dt), v0, v1);
                float wf = pf_sched_round(w, dt), ds = pf_sched_round(sg[i + 1] - sg[i], dt);
                for (size_t j = 0; j < n; j++) {
                    float v = rc.cfg ? rnd(v0[j] + rnd(rnd(v1[j] - v0[j], dt) * wf, dt), dt) : v0[j];
                    x.d[j] = rnd(x.d[j] + rnd(v * ds, dt), dt);
                }
            }
            free(v0);
            free(v1);
        }
        lev[2][k] = x;
        lev[1][k] = fr_down(x, 1.0f, dt);
        lev[0][k] = fr_down(lev[1][k], 1.0f, dt);
    }
    size_t hw = (size_t)Hl * Wl;
    for (int t = 0; t < T; t++)
        for (int c = 0; c < C; c++) memcpy(final_latent + ((size_t)c * T + t) * hw, lev[2][t].d + c * hw, hw * sizeof(float));
    float *z = malloc(sizeof(float) * (size_t)C * T * hw);
    memcpy(z, final_latent, sizeof(float) * (size_t)C * T * hw);
    for (int c = 0; c < C; c++)
        for (int t = 0; t < T; t++) {
            float s = pf_sched_round(t == 0 ? nrm.image_scale : nrm.video_scale, dt);
            float sh = pf_sched_round(t == 0 ? nrm.image_shift : nrm.video_shift, dt);
            for (size_t i = 0; i < hw; i++) {
                float *pz = z + ((size_t)c * T + t) * hw + i;
                *pz = rnd(rnd(*pz / s, dt) + sh, dt);
            }
        }
    int F = 1 + 8 * (T - 1);
    float *video = malloc(sizeof(float) * 3 * (size_t)F * p->height * p->width);
    pf_vae_opts o = {0};
    fake_decode(NULL, z, T, Hl, Wl, &o, video);
    size_t plane = (size_t)p->height * p->width;
    for (int f = 0; f < F; f++)
        for (size_t i = 0; i < plane; i++)
            for (int c = 0; c < 3; c++) {
                float v = rnd(rnd(rnd(video[((size_t)c * F + f) * plane + i], dt) * 127.5f, dt) + 127.5f, dt);
                v = v < 0 ? 0 : v > 255 ? 255 : v;
                rgb[((size_t)f * plane + i) * 3 + c] = (uint8_t)v;
            }
    free(video);
    free(z);
    for (int t = 0; t < T; t++) {
        free(q[t].d);
        for (int l = 0; l < 3; l++) free(lev[l][t].d);
    }
    free(q);
    for (int l = 0; l < 3; l++) free(lev[l]);
    pf_scheduler_free(sched);
}

/* ------------------------------------------------------------------ fixtures */

static void make_embeds(pf_prompt_embeds *e, float *hidden, int32_t *mask, float *pooled) {
    e->batch = 2;
    e->tokens = 6;
    e->text_dim = 4;
    e->pooled_dim = 3;
    for (int i = 0; i < 2 * 6 * 4; i++) hidden[i] = 0.01f * i;
    for (int b = 0; b < 2; b++)
        for (int i = 0; i < 6; i++) mask[b * 6 + i] = i < (b ? 5 : 2); /* negative 2 valid, positive 5 */
    for (int i = 0; i < 6; i++) pooled[i] = 0.25f * (i + 1); /* exact in bf16 too */
    e->hidden = hidden;
    e->mask = mask;
    e->pooled = pooled;
}

typedef struct {
    float *final_latent;
    int64_t final_n;
    int taps;
    int cancel_after;
    int progress_calls;
} tap_ctx;

static pf_status tap_fn(void *user, const char *name, const float *data, int ndim, const int64_t *shape) {
    tap_ctx *t = user;
    t->taps++;
    if (!strcmp(name, "final_latent")) {
        int64_t n = 1;
        for (int i = 0; i < ndim; i++) n *= shape[i];
        t->final_latent = malloc(sizeof(float) * (size_t)n);
        memcpy(t->final_latent, data, sizeof(float) * (size_t)n);
        t->final_n = n;
    }
    return PF_OK;
}

static bool progress_fn(void *user, const pf_pipe_progress *p) {
    tap_ctx *t = user;
    t->progress_calls++;
    (void)p;
    return t->cancel_after <= 0 || t->progress_calls < t->cancel_after;
}

static pf_test_result run_and_compare(pf_pipe_params *p, pf_dtype dt, const uint8_t *image, double tol, int max_frame_diff) {
    pf_backend *be = cpu();
    CHECK(be);
    float hidden[48], pooled[6];
    int32_t mask[12];
    pf_prompt_embeds e;
    make_embeds(&e, hidden, mask, pooled);
    fake_dit fd = {.dt = dt};
    pf_pipe_denoiser dn = {.backend = be, .dtype = dt, .variant = PF_DIT_FLUX, .channels = 16, .patch = 2,
                           .forward = fake_forward, .release = fake_release, .ctx = &fd};
    pf_pipe_vae vae = {.dtype = dt, .decode = fake_decode, .encode = fake_encode};
    pf_noise *noise, *noise_ref;
    CHECK_OK(pf_noise_create_seeded(2024, 1.0 / 3.0, &noise));
    CHECK_OK(pf_noise_create_seeded(2024, 1.0 / 3.0, &noise_ref));
    pf_pipe_inputs in = {.embeds = &e, .image = image, .noise = noise};
    tap_ctx tc = {0};
    pf_pipe_hooks h = {.user = &tc, .tap = tap_fn, .progress = progress_fn};
    pf_pipe_output out;
    pf_pipe_stats st;
    CHECK_OK(pf_pipeline_run(&dn, &vae, &in, p, &h, &out, &st));
    CHECK(fd.calls == st.dit_calls);
    /* the DiT's compute memory goes back once, after its last call (before the decode) */
    CHECK(fd.released == 1 && fd.calls_at_release == st.dit_calls);
    /* the latents as planned on the meta backend: the same tensors, aligned to 256 bytes
     * there and 64 on the CPU (about 4 T + 16 tensors) */
    size_t planned = 0;
    CHECK_OK(pf_pipeline_latent_bytes(p, 16, dt, e.tokens, e.text_dim, e.pooled_dim, &planned));
    CHECK_MSG(planned >= st.latent_bytes && planned <= st.latent_bytes + (size_t)(4 * p->temp + 16) * 192,
              "planned latents %zu, allocated %zu", planned, st.latent_bytes);
    CHECK(tc.progress_calls >= st.dit_calls);
    CHECK(fd.batch == (p->guidance > 0 ? 2 : 1));
    int F = 1 + 8 * (p->temp - 1);
    CHECK(out.frames == F && out.height == p->height && out.width == p->width);
    int64_t n = (int64_t)16 * p->temp * (p->height / 8) * (p->width / 8);
    CHECK(tc.final_n == n);
    float *ref = malloc(sizeof(float) * (size_t)n);
    uint8_t *rgb = malloc((size_t)F * p->height * p->width * 3);
    ref_run(p, &e, image, noise_ref, dt, ref, rgb);
    double md = 0;
    for (int64_t i = 0; i < n; i++) md = fmax(md, fabs((double)ref[i] - tc.final_latent[i]));
    fprintf(stderr, "  %s %s: max |latent - reference| = %.3g\n", p->mode == PF_PIPE_I2V ? "i2v" : "t2v",
            pf_dtype_name(dt), md);
    CHECK(md <= tol);
    int fdiff = 0;
    for (size_t i = 0; i < (size_t)F * p->height * p->width * 3; i++) fdiff = PF_MAX(fdiff, abs((int)rgb[i] - out.rgb[i]));
    CHECK(fdiff <= max_frame_diff);
    /* the block draws: one per jump */
    CHECK(st.n_block_draws == 2 * (p->temp - (p->mode == PF_PIPE_I2V)));
    CHECK(pf_noise_block_draws(noise) == st.n_block_draws);
    free(ref);
    free(rgb);
    free(tc.final_latent);
    free(out.rgb);
    pf_pipe_stats_free(&st);
    pf_noise_free(noise);
    pf_noise_free(noise_ref);
    pf_backend_free(be);
    return PF_T_PASS;
}

static void small_params(pf_pipe_params *p, pf_pipe_mode mode) {
    pf_pipe_params_default(p, mode);
    p->width = 192;
    p->height = 128;
    p->temp = 4;
    p->steps[0] = 2, p->steps[1] = 1, p->steps[2] = 2;
    p->video_steps[0] = 1, p->video_steps[1] = 2, p->video_steps[2] = 1;
}

/* ------------------------------------------------------------------ tests */

static pf_test_result test_t2v_f32(void) {
    pf_pipe_params p;
    small_params(&p, PF_PIPE_T2V);
    return run_and_compare(&p, PF_F32, NULL, 0.0, 0);
}

static pf_test_result test_t2v_bf16(void) {
    pf_pipe_params p;
    small_params(&p, PF_PIPE_T2V);
    p.temp = 3;
    /* every op rounds to bf16 at the same points as the recipe: identical */
    return run_and_compare(&p, PF_BF16, NULL, 0.0, 0);
}

static pf_test_result test_t2v_no_cfg_linear(void) {
    pf_pipe_params p;
    small_params(&p, PF_PIPE_T2V);
    p.guidance = 0; /* CFG off: batch 1, positive row only */
    pf_test_result r = run_and_compare(&p, PF_F32, NULL, 0.0, 0);
    if (r != PF_T_PASS) return r;
    small_params(&p, PF_PIPE_T2V);
    p.linear_guidance = true;
    p.guidance = 3.0;
    return run_and_compare(&p, PF_F32, NULL, 0.0, 0);
}

static pf_test_result test_i2v_f32(void) {
    pf_pipe_params p;
    small_params(&p, PF_PIPE_I2V);
    p.temp = 3;
    uint8_t *img = malloc((size_t)p.width * p.height * 3);
    for (int i = 0; i < p.width * p.height * 3; i++) img[i] = (uint8_t)((i * 7) % 251);
    pf_test_result r = run_and_compare(&p, PF_F32, img, 0.0, 0);
    free(img);
    return r;
}

/* The fact sheet's layout rule for every unit and stage. */
static pf_test_result test_history_layout(void) {
    pf_hist_clip c[3];
    CHECK(pf_history_layout(0, 2, 3, c, 3) == 0);
    for (int k = 1; k <= 6; k++) {
        /* s = 2: [q 0..k-3] [h k-2] [f k-1] */
        int n = pf_history_layout(k, 2, 3, c, 3), i = 0;
        CHECK(n == 1 + (k >= 2) + (k >= 3));
        if (k >= 3) {
            CHECK(c[i].level == 0 && c[i].first == 0 && c[i].count == k - 2);
            i++;
        }
        if (k >= 2) {
            CHECK(c[i].level == 1 && c[i].first == k - 2 && c[i].count == 1);
            i++;
        }
        CHECK(c[i].level == 2 && c[i].first == k - 1 && c[i].count == 1);
        for (int s = 0; s < 2; s++) {
            /* s = 1: [q 0..k-2] [h k-1]; s = 0: [q 0..k-2] [q k-1] */
            n = pf_history_layout(k, s, 3, c, 3);
            CHECK(n == 1 + (k >= 2));
            if (k >= 2) CHECK(c[0].level == 0 && c[0].first == 0 && c[0].count == k - 1);
            CHECK(c[n - 1].level == s && c[n - 1].first == k - 1 && c[n - 1].count == 1);
        }
    }
    return PF_T_PASS;
}

/* DiT calls and image tokens per call of a 5 s 384p and a 10 s 768p video, from the
 * pipeline's own bookkeeping (dry run), against the fact sheet's formulas (§4.5). */
static pf_test_result check_table(int W, int H, int T, int *calls_out) {
    pf_pipe_params p;
    pf_pipe_params_default(&p, PF_PIPE_T2V);
    p.width = W;
    p.height = H;
    p.temp = T;
    pf_pipe_stats st;
    CHECK_OK(pf_pipeline_count_calls(&p, 128, 2, &st));
    CHECK(st.dit_calls == 60 + 30 * (T - 1));
    CHECK(st.n_rows == 3 * T);
    int q = (H / 64) * (W / 64), h = 4 * q, f = 16 * q; /* tokens per frame at quarter, half, full */
    for (int k = 0; k < T; k++) {
        int expect[3];
        if (k == 0) expect[0] = q, expect[1] = h, expect[2] = f;
        else if (k == 1) expect[0] = 2 * q, expect[1] = 2 * h, expect[2] = 2 * f;
        else if (k == 2) expect[0] = 3 * q, expect[1] = q + 2 * h, expect[2] = h + 2 * f;
        else expect[0] = q * (k + 1), expect[1] = q * (k - 1) + 2 * h, expect[2] = q * (k - 2) + h + 2 * f;
        for (int s = 0; s < 3; s++) {
            const pf_pipe_call_row *r = &st.rows[k * 3 + s];
            CHECK(r->unit == k && r->stage == s);
            CHECK_MSG(r->image_tokens == expect[s], "unit %d stage %d: %d tokens, expected %d", k, s, r->image_tokens,
                      expect[s]);
            CHECK(r->text_tokens == 128);
            CHECK(r->calls == (k == 0 ? 20 : 10));
        }
    }
    *calls_out = st.dit_calls;
    pf_pipe_stats_free(&st);
    return PF_T_PASS;
}

static pf_test_result test_call_table(void) {
    int calls = 0;
    pf_test_result r = check_table(640, 384, 16, &calls);
    if (r != PF_T_PASS) return r;
    CHECK(calls == 510);
    r = check_table(1280, 768, 31, &calls);
    if (r != PF_T_PASS) return r;
    CHECK(calls == 960);
    /* the fact sheet's rows: unit 15 at 384p, unit 30 at 768p */
    pf_pipe_params p;
    pf_pipe_params_default(&p, PF_PIPE_T2V);
    pf_pipe_stats st;
    CHECK_OK(pf_pipeline_count_calls(&p, 128, 2, &st));
    CHECK(st.rows[45].image_tokens == 960 && st.rows[46].image_tokens == 1320 && st.rows[47].image_tokens == 2940);
    pf_pipe_stats_free(&st);
    p.width = 1280, p.height = 768, p.temp = 31;
    CHECK_OK(pf_pipeline_count_calls(&p, 128, 2, &st));
    CHECK(st.rows[90].image_tokens == 7440 && st.rows[91].image_tokens == 8880 && st.rows[92].image_tokens == 15360);
    pf_pipe_stats_free(&st);
    return PF_T_PASS;
}

static pf_test_result test_bad_params(void) {
    pf_pipe_params p;
    pf_pipe_params_default(&p, PF_PIPE_T2V);
    p.width = 650;
    CHECK_ERR(pf_pipe_params_check(&p), PF_ERR_INVALID_ARG, "nearest valid: 640 or 704");
    p.width = 640;
    p.height = 40;
    CHECK_ERR(pf_pipe_params_check(&p), PF_ERR_INVALID_ARG, "nearest valid: 64");
    size_t lb = 1;
    CHECK_ERR(pf_pipeline_latent_bytes(&p, 16, PF_F32, 128, 4096, 768, &lb), PF_ERR_INVALID_ARG, "nearest valid");
    CHECK(lb == 0);
    p.height = 384;
    CHECK_ERR(pf_pipeline_latent_bytes(NULL, 16, PF_F32, 128, 4096, 768, &lb), PF_ERR_INVALID_ARG, "no parameters");
    CHECK_ERR(pf_pipeline_latent_bytes(&p, 0, PF_F32, 128, 4096, 768, &lb), PF_ERR_INVALID_ARG, "0 channels");
    CHECK_ERR(pf_pipeline_latent_bytes(&p, 16, PF_F16, 128, 4096, 768, &lb), PF_ERR_INVALID_ARG, "dtype f16");
    CHECK_OK(pf_pipeline_latent_bytes(&p, 16, PF_BF16, 128, 4096, 768, &lb));
    CHECK(lb > (size_t)16 * 16 * 48 * 80 * 2); /* at least the 16 clean full-resolution frames */
    p.temp = 0;
    CHECK_ERR(pf_pipe_params_check(&p), PF_ERR_INVALID_ARG, "temp 0");
    p.temp = 2;
    p.video_steps[1] = 0;
    CHECK_ERR(pf_pipe_params_check(&p), PF_ERR_INVALID_ARG, "video_steps[1]");
    pf_pipe_params_default(&p, PF_PIPE_I2V);
    p.temp = 1;
    CHECK_ERR(pf_pipe_params_check(&p), PF_ERR_INVALID_ARG, "image-to-video");
    pf_pipe_params_default(&p, PF_PIPE_T2I);
    CHECK_OK(pf_pipe_params_check(&p));
    p.temp = 2;
    CHECK_ERR(pf_pipe_params_check(&p), PF_ERR_INVALID_ARG, "text-to-image");
    /* a run with bad params fails before touching anything */
    pf_pipe_params_default(&p, PF_PIPE_T2V);
    p.width = 100;
    CHECK_ERR(pf_pipeline_run(NULL, NULL, NULL, &p, NULL, NULL, NULL), PF_ERR_INVALID_ARG, "width 100");
    pf_pipe_params_default(&p, PF_PIPE_T2V);
    CHECK_ERR(pf_pipeline_run(NULL, NULL, NULL, &p, NULL, NULL, NULL), PF_ERR_INVALID_ARG, "denoiser");
    return PF_T_PASS;
}

/* The progress callback cancels: the run stops at once with PF_ERR_CANCELLED. */
static pf_test_result test_cancel(void) {
    pf_backend *be = cpu();
    CHECK(be);
    float hidden[48], pooled[6];
    int32_t mask[12];
    pf_prompt_embeds e;
    make_embeds(&e, hidden, mask, pooled);
    fake_dit fd = {.dt = PF_F32};
    pf_pipe_denoiser dn = {.backend = be, .dtype = PF_F32, .variant = PF_DIT_MMDIT, .channels = 16, .patch = 2,
                           .forward = fake_forward, .ctx = &fd};
    pf_pipe_vae vae = {.dtype = PF_F32, .decode = fake_decode, .encode = fake_encode};
    pf_noise *noise;
    CHECK_OK(pf_noise_create_seeded(1, 1.0 / 3.0, &noise));
    pf_pipe_inputs in = {.embeds = &e, .noise = noise};
    pf_pipe_params p;
    small_params(&p, PF_PIPE_T2V);
    tap_ctx tc = {.cancel_after = 4};
    pf_pipe_hooks h = {.user = &tc, .progress = progress_fn};
    pf_pipe_output out;
    CHECK_ERR(pf_pipeline_run(&dn, &vae, &in, &p, &h, &out, NULL), PF_ERR_CANCELLED, "cancelled");
    CHECK(fd.calls == 4);
    CHECK(out.rgb == NULL);
    pf_noise_free(noise);
    pf_backend_free(be);
    return PF_T_PASS;
}

/* The uint8 conversion of a video large enough to be split over threads (3 frames of
 * 1000 x 700: 6.3 M values) equals converting each frame on its own (one frame is never
 * split), for f32 and bf16, with values outside [-1, 1] and NaNs among them. */
static pf_test_result test_frames_threaded(void) {
    enum { F = 3, H = 700, W = 1000, PL = H * W };
    float *video = malloc((size_t)3 * F * PL * sizeof(float)), *one = malloc((size_t)3 * PL * sizeof(float));
    uint8_t *all = malloc((size_t)F * PL * 3), *each = malloc((size_t)PL * 3);
    CHECK(video && one && all && each);
    uint32_t st = 7u;
    for (size_t i = 0; i < (size_t)3 * F * PL; i++) {
        st = st * 1664525u + 1013904223u;
        video[i] = (float)((st >> 8) & 0xffff) / 16384.0f - 2.0f; /* [-2, 2) */
        if (i % 9973 == 0) video[i] = NAN;
    }
    const pf_dtype dts[2] = {PF_F32, PF_BF16};
    for (int d = 0; d < 2; d++) {
        pf_frames_from_video(video, F, H, W, dts[d], all);
        for (int f = 0; f < F; f++) {
            for (int c = 0; c < 3; c++)
                memcpy(one + (size_t)c * PL, video + ((size_t)c * F + f) * PL, PL * sizeof(float));
            pf_frames_from_video(one, 1, H, W, dts[d], each);
            CHECK_MSG(!memcmp(all + (size_t)f * PL * 3, each, (size_t)PL * 3), "%s: frame %d differs",
                      pf_dtype_name(dts[d]), f);
        }
    }
    free(video);
    free(one);
    free(all);
    free(each);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_history_layout), PF_TEST(test_call_table), PF_TEST(test_bad_params), PF_TEST(test_t2v_f32),
             PF_TEST(test_t2v_bf16), PF_TEST(test_t2v_no_cfg_linear), PF_TEST(test_i2v_f32), PF_TEST(test_cancel),
             PF_TEST(test_frames_threaded))
