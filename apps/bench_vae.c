/*
 * pflow bench vae: the causal video VAE at the released size (random weights):
 * decode (and encode) time and memory at 384p or 768p, with the planner's
 * prediction next to what the call used. --dry-run plans on the meta backend
 * without allocating anything (768p predictions on a small machine).
 */
#include "bench_common.h"
#include "pf_vae.h"
#include "pflow_cli.h"
#ifdef PF_HAVE_CUDA
#include "pf_cuda.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char bench_vae_usage[] =
    "usage: pflow bench vae [--res 384p|768p] [--frames N] [--backend B] [--dtype f32|bf16]\n"
    "                       [--encode] [--no-tiling] [--no-chunks] [--window N] [--tile PX]\n"
    "                       [--threads N] [--reps N] [--seed S] [--dry-run] [--quick]\n"
    "\n"
    "Decodes N latent frames (default 2; 16 is a 5 s video) at 384p (640x384) or 768p (1280x768)\n"
    "with the released VAE size and random weights, the official way (chunks of 1 latent after a\n"
    "first chunk of 2, 256-px tiles with 1/4 overlap), and prints the time, the memory the call\n"
    "used and the planner's prediction.\n"
    "  --encode     also encode a video of 1 + 8 (N-1) frames (tiled, not chunked: the official encode)\n"
    "  --dry-run    only the predictions, planned on the meta backend (no memory, no weights)\n"
    "  --quick      smoke test: 1 latent frame of 4 x 4 (32 x 32 pixels) instead of --res\n"
    "  --reps N     timed calls after one warm-up call (default 1)\n";

typedef struct bench_vae_args {
    const char *res, *dtype;
    int frames, window, tile;
    bool encode, tiling, chunks, dry;
    uint64_t seed;
} bench_vae_args;

/* The options of this kind (pf_bench_parse handles --backend, --threads, --reps, --quick). */
static int bench_vae_extra(int argc, char **argv, int i, void *ctx) {
    bench_vae_args *a = ctx;
    const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(o, "--encode")) return a->encode = true, 1;
    if (!strcmp(o, "--no-tiling")) return a->tiling = false, 1;
    if (!strcmp(o, "--no-chunks")) return a->chunks = false, 1;
    if (!strcmp(o, "--dry-run")) return a->dry = true, 1;
    if (!strcmp(o, "--frames")) return pf_bench_int("vae", o, v, 1, 1000000, &a->frames) ? 2 : -1;
    if (!strcmp(o, "--window")) return pf_bench_int("vae", o, v, 1, 1000000, &a->window) ? 2 : -1;
    if (!strcmp(o, "--tile")) return pf_bench_int("vae", o, v, 1, 1000000, &a->tile) ? 2 : -1;
    if (!strcmp(o, "--seed")) return pf_bench_u64("vae", o, v, &a->seed) ? 2 : -1;
    if (!strcmp(o, "--res") || !strcmp(o, "--dtype")) {
        if (!v) {
            fprintf(stderr, "pflow bench vae: %s needs a value\n", o);
            return -1;
        }
        if (!strcmp(o, "--res")) a->res = v;
        else a->dtype = v;
        return 2;
    }
    return 0;
}

static const char *fmt_b(size_t b, char *buf, size_t n) { return pf_fmt_bytes((double)b, buf, n); }

static void print_plan(const char *what, const pf_vae_mem *m) {
    char a[32], c[32], s[32], h[32];
    printf("  %s predicted peak (planner): arena %s + caches %s = %s  (%d graphs; host buffers %s)\n", what,
           fmt_b(m->arena_bytes, a, sizeof a), fmt_b(m->cache_bytes, c, sizeof c),
           fmt_b(m->arena_bytes + m->cache_bytes, s, sizeof s), m->n_graphs, fmt_b(m->host_bytes, h, sizeof h));
    printf("  %s work: %d chunk runs, %.2f TFLOP\n", what, m->n_runs, m->flops / 1e12);
}

static void print_used(const char *what, double med, double mn, pf_backend *be, const pf_vae_mem *m) {
    char a[32], c[32], s[32], p[32], r[32];
    printf("  %s: median %.3f s, min %.3f s (%d chunk runs, %.3f s each; %.1f GFLOP/s)\n", what, med, mn, m->n_runs,
           m->n_runs ? med / m->n_runs : 0.0, med > 0 ? m->flops / med / 1e9 : 0.0);
    printf("  %s used: arena %s + caches %s = %s; backend peak (weights included) %s; process RSS peak %s\n", what,
           fmt_b(m->arena_bytes, a, sizeof a), fmt_b(m->cache_bytes, c, sizeof c),
           fmt_b(m->arena_bytes + m->cache_bytes, s, sizeof s), fmt_b(be->bytes_peak, p, sizeof p),
           fmt_b(pf_bench_peak_rss(), r, sizeof r));
}

static double bench_t0;

/* PF_LOG=info: one line per chunk, so a long CPU run shows where it is */
static bool bench_progress(void *user, int done, int total) {
    PF_INFO("%s: chunk %d of %d (%.1f s)", (const char *)user, done, total, pf_time_now() - bench_t0);
    return true;
}

typedef struct bench_vae_call {
    pf_vae *vae;
    int frames, h, w, T, H, W;
    pf_vae_opts dec, enc;
    const float *z;
    float *video, *mean, *logvar;
} bench_vae_call;

static pf_status bench_decode(void *ctx) {
    bench_vae_call *c = ctx;
    bench_t0 = pf_time_now();
    return pf_vae_decode(c->vae, c->z, c->frames, c->h, c->w, &c->dec, c->video);
}

static pf_status bench_encode(void *ctx) {
    bench_vae_call *c = ctx;
    bench_t0 = pf_time_now();
    return pf_vae_encode(c->vae, c->video, c->T, c->H, c->W, &c->enc, c->mean, c->logvar);
}

/* On CUDA, the conv3d path: the mode among the conditions (after == false), and after a
 * timed call the conv nodes each path has computed so far (warm-up and repetitions). */
static void print_conv_path(pf_backend *be, bool after) {
#ifdef PF_HAVE_CUDA
    pf_cuda_conv_stats st;
    if (!pf_backend_is_cuda(be) || pf_cuda_conv_stats_get(be, &st) != PF_OK) return;
    if (!after)
        printf("  conv3d path: PF_CUDA_CONV=%s (%s)\n", st.mode,
               !strcmp(st.mode, "direct")     ? "the direct kernel everywhere"
               : !strcmp(st.mode, "gemm")     ? "im2col + cuBLASLt GEMM everywhere"
               : !strcmp(st.mode, "implicit") ? "the implicit-GEMM kernel for bf16 convs, else as auto"
                                              : "im2col + cuBLASLt GEMM, the direct kernel for narrow convs");
    else
        printf("  conv3d nodes so far: %llu as im2col + GEMM (%llu GEMMs), %llu on the direct kernel, %llu as an "
               "implicit GEMM\n",
               st.gemm_nodes, st.gemm_calls, st.direct_nodes, st.implicit_nodes);
#else
    (void)be;
    (void)after;
#endif
}

static pf_status bench_vae_run(pf_vae *vae, pf_backend *be, const pf_bench_opts *bo, bench_vae_call *c, bool encode,
                               unsigned long long seed) {
    size_t nz = (size_t)16 * c->frames * c->h * c->w, nv = (size_t)3 * c->T * c->H * c->W;
    float *z = malloc(nz * sizeof(float));
    c->video = malloc(nv * sizeof(float));
    c->mean = malloc(nz * sizeof(float));
    c->logvar = malloc(nz * sizeof(float));
    pf_status rc = PF_OK;
    if (!z || !c->video || !c->mean || !c->logvar)
        rc = pf_error(PF_ERR_OOM, "bench vae: out of host memory for the %zu-value video", nv);
    if (rc == PF_OK) {
        uint64_t s = seed * 2654435761u + 1;
        for (size_t i = 0; i < nz; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            z[i] = (float)((double)(s >> 11) * 0x1.0p-53 * 2.0 - 1.0);
        }
        c->z = z;
        double med = 0, mn = 0;
        pf_vae_mem m;
        rc = pf_bench_time(bench_decode, c, bo->reps, &med, &mn);
        if (rc == PF_OK) {
            pf_vae_last_mem(vae, &m);
            print_used("decode", med, mn, be, &m);
            print_conv_path(be, true);
            fflush(stdout);
        }
        /* the decoded video (about [-1, 1]) is a fair input */
        if (rc == PF_OK && encode) rc = pf_bench_time(bench_encode, c, bo->reps, &med, &mn);
        if (rc == PF_OK && encode) {
            pf_vae_last_mem(vae, &m);
            print_used("encode", med, mn, be, &m);
            print_conv_path(be, true);
        }
    }
    free(z);
    free(c->video);
    free(c->mean);
    free(c->logvar);
    return rc;
}

int pf_bench_vae(int argc, char **argv) {
    pf_bench_opts bo = {.backend = NULL, .threads = 0, .reps = 1, .quick = false};
    bench_vae_args a = {.res = "384p", .dtype = "f32", .frames = 2, .window = 1, .tile = 256, .tiling = true,
                        .chunks = true, .seed = 1};
    int pr = pf_bench_parse(argc, argv, &bo, bench_vae_usage, bench_vae_extra, &a);
    if (pr) return pr == 1 ? 0 : 2;
    bench_vae_call c = {.frames = a.frames};
    if (!strcmp(a.res, "384p")) {
        c.W = 640;
        c.H = 384;
    } else if (!strcmp(a.res, "768p")) {
        c.W = 1280;
        c.H = 768;
    } else {
        fprintf(stderr, "pflow bench vae: --res must be 384p or 768p\n");
        return 2;
    }
    if (bo.quick) {
        c.frames = 1;
        c.W = c.H = 32;
    }
    pf_dtype dt;
    if (pf_dtype_parse(a.dtype, &dt) != PF_OK || (dt != PF_F32 && dt != PF_BF16)) {
        fprintf(stderr, "pflow bench vae: --dtype must be f32 or bf16\n");
        return 2;
    }
    c.h = c.H / 8;
    c.w = c.W / 8;
    c.T = 1 + 8 * (c.frames - 1);

    pf_backend *be = NULL;
    pf_status rc = a.dry ? pf_backend_meta_create(&be) : pf_bench_backend(&bo, &be);
    if (rc != PF_OK) {
        fprintf(stderr, "pflow bench vae: %s\n", pf_last_error());
        return 1;
    }
    pf_vae_config cfg;
    pf_vae_config_released(&cfg);
    pf_vae *vae = NULL;
    double t0 = pf_time_now();
    rc = pf_vae_create_random(&cfg, be, dt, a.seed, &vae);
    double t_init = pf_time_now() - t0;
    if (rc != PF_OK) {
        fprintf(stderr, "pflow bench vae: %s\n", pf_last_error());
        pf_backend_free(be);
        return 1;
    }
    c.vae = vae;
    pf_vae_opts_default(&c.dec);
    c.dec.temporal_chunk = a.chunks;
    c.dec.window = a.window;
    c.dec.tiling = a.tiling;
    c.dec.tile_sample_min_size = a.tile;
    c.dec.progress = bench_progress;
    c.dec.progress_user = "decode";
    pf_vae_encode_opts_default(&c.enc);
    c.enc.tiling = a.tiling;
    c.enc.tile_sample_min_size = a.tile;
    c.enc.progress = bench_progress;
    c.enc.progress_user = "encode";

    pf_bench_print_conditions(stdout, be, &bo, pf_dtype_name(dt));
    print_conv_path(be, false);
    char wb[32];
    printf("pflow bench vae: decode %d latent frames of %dx%d -> %d frames of %dx%d%s%s\n", c.frames, c.w, c.h, c.T,
           c.W, c.H, a.encode ? ", and encode them back" : "", bo.quick ? " (--quick)" : "");
    printf("  model: released CausalVideoVAE config, %.1f M parameters, random weights (seed %llu, %.1f s to make), "
           "weights %s\n",
           (double)cfg.n_params / 1e6, (unsigned long long)a.seed, t_init, fmt_b((size_t)cfg.n_params * pf_dtype_size(dt), wb, sizeof wb));
    printf("  options: %s, %s\n", a.chunks ? "temporal chunks" : "whole clip", a.tiling ? "tiled" : "not tiled");
    if (a.chunks) printf("    window %d latent frame(s) after a first chunk of %d\n", a.window, a.window + 1);
    if (a.tiling) printf("    tiles of %d px, overlap 1/4\n", a.tile);

    pf_vae_mem m;
    rc = pf_vae_decode_predict_mem(vae, c.frames, c.h, c.w, &c.dec, &m);
    if (rc == PF_OK) print_plan("decode", &m);
    if (rc == PF_OK && a.encode) {
        rc = pf_vae_encode_predict_mem(vae, c.T, c.H, c.W, &c.enc, &m);
        if (rc == PF_OK) print_plan("encode", &m);
    }
    fflush(stdout); /* the plan before a long run */
    if (rc == PF_OK && !a.dry) rc = bench_vae_run(vae, be, &bo, &c, a.encode, a.seed);
    int status = 0;
    if (rc != PF_OK) {
        fprintf(stderr, "pflow bench vae: %s\n", pf_last_error());
        status = 1;
    }
    pf_vae_free(vae);
    pf_backend_free(be);
    return status;
}
