/*
 * pflow bench dit: one DiT call at the released size (random weights, no files) in the
 * token layout the pipeline issues for unit K, stage S (facts §4.5: history clips, CFG
 * batch 2, 128 T5 tokens). Prints the conditions, time per call, FLOPs, FLOP/s and the
 * planner's peak compute memory.
 */
#include "bench_common.h"
#include "pf_dit.h"
#include "pflow_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef PF_HAVE_CUDA
#include "pf_cuda.h"
#endif

#define BENCH_TEXT_TOKENS 128 /* T5 max_length */
#define BENCH_BATCH 2         /* classifier-free guidance: [negative, positive] */

typedef struct {
    const char *variant, *res, *backend;
    int unit, stage, reps, threads;
    int gemm_peak;                    /* 0: skip; else the size of the square reference GEMM */
    int blocks_double, blocks_single; /* -1: the released counts */
    pf_dtype dtype, act;
    uint64_t seed;
} bench_dit_opts;

static void bench_dit_usage(FILE *f) {
    fprintf(f, "usage: pflow bench dit [--variant miniflux|sd3] [--res 384p|768p] [--unit K] [--stage S]\n"
               "                      [--backend B] [--dtype f32|bf16] [--act f32|bf16] [--reps N] [--threads N]\n"
               "                      [--blocks D[,S]] [--gemm-peak N]\n\n"
               "One DiT forward with random weights at the released size, in the layout of unit K (0 = first\n"
               "frame, K >= 1 with K history frames) and pyramid stage S (0 = quarter, 2 = full resolution),\n"
               "batch 2 (CFG) and 128 text tokens. --dtype is the weight dtype (default bf16), --act the\n"
               "activation dtype (default f32). The first call (graph build and planning) is timed apart.\n"
               "--backend meta plans the call without running it (FLOPs and memory only).\n"
               "--blocks keeps only D double (joint) and S single blocks at the released width: a per-block\n"
               "profile (e.g. PF_VK_PROFILE=1 ... --backend vulkan --blocks 1,0) without the whole model.\n"
               "PF_CUDA_PROFILE=1 with --backend cuda prints GPU time per node and fused pair after each\n"
               "call (CUDA graphs off, so calls run node by node).\n"
               "--gemm-peak N first times an N x N x N GEMM (x W^T) on the same backend in the weight dtype\n"
               "(e.g. 8192) and reports the call's throughput as a share of it.\n"
               "Per call: the median of --reps calls (default 1) after the first.\n");
}

static int bench_dit_parse(int argc, char **argv, bench_dit_opts *o) {
    *o = (bench_dit_opts){.variant = "miniflux",
                          .res = "384p",
                          .backend = "cpu",
                          .unit = 0,
                          .stage = 2,
                          .reps = 1,
                          .threads = 0,
                          .dtype = PF_BF16,
                          .act = PF_F32,
                          .seed = 1234,
                          .blocks_double = -1,
                          .blocks_single = -1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            bench_dit_usage(stdout);
            return 1;
        }
        if (!v) {
            fprintf(stderr, "pflow bench dit: %s needs a value\n", a);
            return 2;
        }
        int rc = 0;
        if (!strcmp(a, "--variant"))
            o->variant = v;
        else if (!strcmp(a, "--res"))
            o->res = v;
        else if (!strcmp(a, "--backend"))
            o->backend = v;
        else if (!strcmp(a, "--unit"))
            rc = pf_bench_int("dit", a, v, 0, 63, &o->unit) ? 0 : 2;
        else if (!strcmp(a, "--stage"))
            rc = pf_bench_int("dit", a, v, 0, 2, &o->stage) ? 0 : 2;
        else if (!strcmp(a, "--reps"))
            rc = pf_bench_int("dit", a, v, 1, 1000, &o->reps) ? 0 : 2;
        else if (!strcmp(a, "--gemm-peak"))
            rc = pf_bench_int("dit", a, v, 0, 32768, &o->gemm_peak) ? 0 : 2;
        else if (!strcmp(a, "--threads"))
            rc = pf_bench_int("dit", a, v, 0, 1024, &o->threads) ? 0 : 2;
        else if (!strcmp(a, "--blocks")) {
            char d[16] = "", *comma = strchr(v, ',');
            snprintf(d, sizeof d, "%.*s", comma ? (int)(comma - v) : (int)strlen(v), v);
            rc = pf_bench_int("dit", "--blocks (double)", d, 0, 64, &o->blocks_double) ? 0 : 2;
            o->blocks_single = 0;
            if (!rc && comma) rc = pf_bench_int("dit", "--blocks (single)", comma + 1, 0, 64, &o->blocks_single) ? 0 : 2;
        }
        else if (!strcmp(a, "--dtype") || !strcmp(a, "--act")) {
            pf_dtype dt;
            if (pf_dtype_parse(v, &dt) != PF_OK || (dt != PF_F32 && dt != PF_BF16 && dt != PF_F16)) {
                fprintf(stderr, "pflow bench dit: %s must be f32, bf16 or f16 (got '%s')\n", a, v);
                return 2;
            }
            *(!strcmp(a, "--dtype") ? &o->dtype : &o->act) = dt;
        } else {
            fprintf(stderr, "pflow bench dit: unknown option '%s'\n\n", a);
            bench_dit_usage(stderr);
            return 2;
        }
        if (rc) return rc;
        i++;
    }
    if (strcmp(o->variant, "miniflux") && strcmp(o->variant, "sd3")) {
        fprintf(stderr, "pflow bench dit: --variant must be miniflux or sd3 (got '%s')\n", o->variant);
        return 2;
    }
    if (strcmp(o->res, "384p") && strcmp(o->res, "768p")) {
        fprintf(stderr, "pflow bench dit: --res must be 384p or 768p (got '%s')\n", o->res);
        return 2;
    }
    return 0;
}

/* The clip list generate() builds for unit k at stage s (chronological, current clip last):
 *   s = 2: [quarter: frames 0..k-3] [half: frame k-2] [full: frame k-1] [current, full]
 *   s = 1: [quarter: frames 0..k-2] [half: frame k-1] [current, half]
 *   s = 0: [quarter: frames 0..k-2] [quarter: frame k-1] [current, quarter]
 * (empty groups dropped). Latent sizes: full = H/8 x W/8, half and quarter below it. */
static int bench_dit_clips(int unit, int stage, int Hl, int Wl, int t[4], int h[4], int w[4]) {
    int n = 0;
    const int qh = Hl / 4, qw = Wl / 4, hh = Hl / 2, hw = Wl / 2;
    const int sh = stage == 0 ? qh : stage == 1 ? hh : Hl, sw = stage == 0 ? qw : stage == 1 ? hw : Wl;
    if (unit > 0) {
        int quarter_frames = stage == 2 ? unit - 2 : unit - 1;
        if (quarter_frames > 0) t[n] = quarter_frames, h[n] = qh, w[n] = qw, n++;
        if (stage == 2 && unit >= 2) t[n] = 1, h[n] = hh, w[n] = hw, n++;
        t[n] = 1, h[n] = sh, w[n] = sw, n++; /* frame k-1 at this stage's resolution */
    }
    t[n] = 1, h[n] = sh, w[n] = sw, n++; /* the current noisy latent */
    return n;
}

static pf_status bench_dit_fill(pf_tensor *x, uint32_t seed) {
    size_t n = (size_t)pf_nelem(x);
    float *v = pf_malloc(n * sizeof(float), "bench input");
    if (!v) return PF_ERR_OOM;
    uint32_t s = seed * 2654435761u + 12345u;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        v[i] = (float)(s >> 8) / 8388608.0f - 1.0f; /* U(-1, 1) */
    }
    pf_status rc = pf_tensor_set_as(x, v, PF_F32, n);
    free(v);
    return rc;
}

static int bench_dit_fail(const char *what) {
    fprintf(stderr, "pflow bench dit: %s: %s\n", what, pf_last_error());
    return 1;
}

int pf_bench_dit(int argc, char **argv) {
    bench_dit_opts o;
    int prc = bench_dit_parse(argc, argv, &o);
    if (prc) return prc == 1 ? 0 : prc;
    const bool flux = !strcmp(o.variant, "miniflux");
    const int Hl = !strcmp(o.res, "384p") ? 384 / 8 : 768 / 8, Wl = !strcmp(o.res, "384p") ? 640 / 8 : 1280 / 8;

    pf_backend *be = NULL;
    pf_backend_options bo = {.device = -1, .threads = o.threads, .reference = false};
    const bool meta = !strcmp(o.backend, "meta"); /* plan only: FLOPs and memory, no timing */
    if ((meta ? pf_backend_meta_create(&be) : pf_backend_create(o.backend, &bo, &be)) != PF_OK)
        return bench_dit_fail("backend");
    pf_backend_info info;
    pf_backend_get_info(be, &info);

    double gemm_flops = 0.0; /* FLOP/s of the reference GEMM, measured before the weights take memory */
    if (o.gemm_peak > 0 && !meta) {
        if (pf_bench_gemm_peak(be, o.dtype, o.gemm_peak, 5, &gemm_flops) != PF_OK) {
            pf_backend_free(be);
            return bench_dit_fail("reference GEMM");
        }
    }

    pf_dit_config cfg;
    pf_dit_config_released(flux ? PF_DIT_FLUX : PF_DIT_MMDIT, &cfg);
    if (o.blocks_double >= 0) { /* fewer blocks, same widths */
        cfg.n_double = o.blocks_double;
        cfg.n_single = o.blocks_single;
    }
    pf_dit *dit = NULL;
    pf_pool *pool = NULL;
    int ret = 1;
    double t0 = pf_time_now();
    if (pf_dit_create_random(&cfg, be, o.dtype, o.seed, &dit) != PF_OK) {
        ret = bench_dit_fail("random weights");
        goto done;
    }
    double t_init = pf_time_now() - t0;
    cfg = *pf_dit_get_config(dit); /* parameters counted as created (--blocks changes them) */
    if (pf_dit_set_act_dtype(dit, o.act) != PF_OK || pf_pool_create(be, 0, &pool) != PF_OK) {
        ret = bench_dit_fail("setup");
        goto done;
    }

    int t[4], h[4], w[4];
    int n_clips = bench_dit_clips(o.unit, o.stage, Hl, Wl, t, h, w);
    pf_dit_inputs in = {.batch = BENCH_BATCH, .n_clips = n_clips};
    float ts[BENCH_BATCH] = {500.0f, 500.0f};
    int32_t mask[BENCH_BATCH * BENCH_TEXT_TOKENS];
    for (int b = 0; b < BENCH_BATCH; b++)
        for (int j = 0; j < BENCH_TEXT_TOKENS; j++) mask[b * BENCH_TEXT_TOKENS + j] = j < (b ? 40 : 24);
    in.timestep = ts;
    in.text_mask = mask;
    int64_t img_tokens = 0;
    char clips_desc[256] = "";
    for (int i = 0; i < n_clips; i++) {
        int64_t ne[5] = {BENCH_BATCH, cfg.in_channels, t[i], h[i], w[i]};
        in.clips[i] = pf_pool_tensor(pool, PF_F32, 5, ne, "clip");
        if (!in.clips[i] || bench_dit_fill(in.clips[i], (uint32_t)i + 1) != PF_OK) {
            ret = bench_dit_fail("inputs");
            goto done;
        }
        img_tokens += (int64_t)t[i] * (h[i] / cfg.patch) * (w[i] / cfg.patch);
        size_t o2 = strlen(clips_desc);
        snprintf(clips_desc + o2, sizeof clips_desc - o2, "%s%dx%dx%d", i ? ", " : "", t[i], h[i], w[i]);
    }
    int64_t tne[3] = {BENCH_BATCH, BENCH_TEXT_TOKENS, cfg.text_dim}, pne[2] = {BENCH_BATCH, cfg.pooled_dim};
    int64_t vne[5] = {BENCH_BATCH, cfg.in_channels, t[n_clips - 1], h[n_clips - 1], w[n_clips - 1]};
    in.text = pf_pool_tensor(pool, PF_F32, 3, tne, "text");
    in.pooled = pf_pool_tensor(pool, PF_F32, 2, pne, "pooled");
    pf_tensor *vel = pf_pool_tensor(pool, PF_F32, 5, vne, "velocity");
    if (!in.text || !in.pooled || !vel || bench_dit_fill(in.text, 11) != PF_OK ||
        bench_dit_fill(in.pooled, 12) != PF_OK) {
        ret = bench_dit_fail("inputs");
        goto done;
    }

    char b1[32], b2[32];
    printf("pflow bench dit\n");
    printf("  backend     %s: %s\n", pf_backend_name(be), info.device);
    printf("  model       %s, released size, random weights (%.2f s to draw): %.3f G parameters\n",
           flux ? "miniFLUX (30 heads x 64)" : "SD3 MMDiT (24 heads x 64)", t_init, (double)cfg.n_params * 1e-9);
    printf("  blocks      %d %s + %d single%s\n", cfg.n_double, flux ? "double" : "joint", cfg.n_single,
           o.blocks_double >= 0 ? " (--blocks: fewer than released)" : "");
    printf("  dtypes      weights %s (%s), activations %s\n", pf_dtype_name(o.dtype),
           pf_fmt_bytes((double)cfg.n_params * (double)pf_dtype_size(o.dtype), b1, sizeof b1), pf_dtype_name(o.act));
    printf("  layout      %s unit %d stage %d: batch %d (CFG), %d text tokens, clips (t x h x w latents) [%s]\n", o.res,
           o.unit, o.stage, BENCH_BATCH, BENCH_TEXT_TOKENS, clips_desc);
    printf("              %lld image tokens (%lld in the current clip) + %d text = %lld per sample\n",
           (long long)img_tokens, (long long)t[n_clips - 1] * (h[n_clips - 1] / 2) * (w[n_clips - 1] / 2),
           BENCH_TEXT_TOKENS, (long long)img_tokens + BENCH_TEXT_TOKENS);
    if (gemm_flops > 0)
        printf("  GEMM peak   %d x %d x %d, %s, same backend: %.1f TFLOP/s (median of 5)\n", o.gemm_peak, o.gemm_peak,
               o.gemm_peak, pf_dtype_name(o.dtype), gemm_flops * 1e-12);
    fflush(stdout);

    /* the usual estimate: batch x (2 x weights x tokens + 4 x tokens^2 x hidden x layers) */
    double tok = (double)(img_tokens + BENCH_TEXT_TOKENS);
    double formula = BENCH_BATCH * (2.0 * (double)cfg.n_params * tok +
                                    4.0 * tok * tok * cfg.hidden * (double)(cfg.n_double + cfg.n_single));
    pf_dit_stats st;
    if (meta) {
        if (pf_dit_plan(dit, &in, vel, &st) != PF_OK) {
            ret = bench_dit_fail("planning");
            goto done;
        }
        printf("  (meta backend: planned, not run)\n");
        printf("  FLOPs       %.3f TFLOP per call counted over the graph's nodes (estimate %.3f TFLOP)\n",
               st.flops * 1e-12, formula * 1e-12);
        printf("  memory      planner peak %s for this layout, weights %s\n",
               pf_fmt_bytes((double)st.graph_peak_bytes, b1, sizeof b1),
               pf_fmt_bytes((double)st.weight_bytes, b2, sizeof b2));
        ret = 0;
        goto done;
    }
    /* the measured peak is of the calls: the weights and inputs are resident, the transients
     * of drawing random weights are not counted */
    be->bytes_peak = be->bytes_allocated;
    t0 = pf_time_now();
    if (pf_dit_forward(dit, &in, vel) != PF_OK) {
        ret = bench_dit_fail("forward");
        goto done;
    }
    double t_first = pf_time_now() - t0;
    double *times = pf_malloc(sizeof(double) * (size_t)o.reps, "bench times");
    if (!times) {
        ret = bench_dit_fail("timing");
        goto done;
    }
    for (int r = 0; r < o.reps; r++) {
        ts[0] = ts[1] = 900.0f - 37.0f * (float)r;
        t0 = pf_time_now();
        if (pf_dit_forward(dit, &in, vel) != PF_OK) {
            free(times);
            ret = bench_dit_fail("forward");
            goto done;
        }
        times[r] = pf_time_now() - t0;
    }
    const double t_med = pf_bench_median(times, o.reps), t_min = times[0]; /* sorted */
    free(times);
    pf_dit_get_stats(dit, &st);
    printf("  first call  %.3f s (graph build, planning and one run)\n", t_first);
    printf("  per call    %.4f s (median of %d, min %.4f s)\n", t_med, o.reps, t_min);
    printf("  FLOPs       %.3f TFLOP per call counted over the graph's nodes (estimate %.3f TFLOP)\n", st.flops * 1e-12,
           formula * 1e-12);
    printf("  throughput  %.1f GFLOP/s (graph count / median time)", st.flops / t_med * 1e-9);
    if (gemm_flops > 0)
        printf(", %.1f %% of the %d^3 GEMM's %.1f TFLOP/s; by the estimate %.1f %%", 100.0 * st.flops / t_med / gemm_flops,
               o.gemm_peak, gemm_flops * 1e-12, 100.0 * formula / t_med / gemm_flops);
    printf("\n");
    printf("  memory      planner peak %s for this layout, weights %s\n",
           pf_fmt_bytes((double)st.graph_peak_bytes, b1, sizeof b1),
           pf_fmt_bytes((double)st.weight_bytes, b2, sizeof b2));
    printf("  measured    backend peak %s over the calls (weights, inputs and compute memory)",
           pf_fmt_bytes((double)be->bytes_peak, b1, sizeof b1));
#ifdef PF_HAVE_CUDA
    pf_cuda_mem_stats ms; /* the caching allocator's view: size-class rounding and scratch included */
    if (pf_backend_is_cuda(be) && pf_cuda_memory_stats(be, &ms) == PF_OK)
        printf("; CUDA allocator peak %s in use since creation", pf_fmt_bytes((double)ms.peak_in_use, b2, sizeof b2));
#endif
    printf("\n");
#ifdef PF_HAVE_CUDA
    pf_cuda_fusion_stats fs; /* the pairs of the DiT graph's last node-by-node run (eager or captured) */
    if (pf_backend_is_cuda(be) && pf_cuda_fusion_stats_get(be, NULL, &fs) == PF_OK)
        printf("  fusion      %llu layer_norm+modulate, %llu rms_norm+rope, %llu linear+gelu pairs fused per call; "
               "%llu declined (PF_CUDA_FUSE=0 turns fusion off)\n",
               fs.norm_modulate, fs.norm_rope, fs.gemm_gelu, fs.declined);
    pf_cuda_graph_counters cg; /* the first call runs eagerly, the second is captured, the rest replay */
    if (pf_backend_is_cuda(be) && pf_cuda_graph_stats(be, &cg) == PF_OK)
        printf("  CUDA graphs %s: %llu captured, %llu replays, %llu eager calls, %llu failed; %s of scratch held\n",
               cg.enabled ? "on" : "off (PF_CUDA_GRAPHS=0, PF_CUDA_SYNC=1 or PF_CUDA_PROFILE=1)", cg.n_captures,
               cg.n_replays, cg.n_eager, cg.n_failed, pf_fmt_bytes((double)cg.scratch_bytes, b1, sizeof b1));
#endif
    ret = 0;
done:
    pf_pool_free(pool);
    pf_dit_free(dit);
    pf_backend_free(be);
    return ret;
}
