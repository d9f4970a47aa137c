/*
 * pflow bench vae: the causal video VAE at the released size (random weights):
 * decode (and encode) time and memory at 384p or 768p, with the planner's
 * prediction next to what the call used. --dry-run plans on the meta backend
 * without allocating anything (768p predictions on a small machine).
 */
#include "pf_vae.h"
#include "pflow_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static void bench_vae_usage(FILE *f) {
    fprintf(f,
            "usage: pflow bench vae [--res 384p|768p] [--frames N] [--backend B] [--dtype f32|bf16]\n"
            "                       [--encode] [--no-tiling] [--no-chunks] [--window N] [--tile PX]\n"
            "                       [--threads N] [--seed S] [--dry-run]\n"
            "\n"
            "Decodes N latent frames (default 2; 16 is a 5 s video) at 384p (640x384) or 768p (1280x768)\n"
            "with the released VAE size and random weights, the official way (chunks of 1 latent,\n"
            "256-px tiles), and prints the time, the memory the call used and the planner's\n"
            "prediction. --encode also encodes a video of 1 + 8 (N-1) frames (tiled, not chunked, as\n"
            "the official encode). --dry-run only prints the predictions, planned on the meta backend.\n");
}

static double bench_t0;

static const char *fmt_b(size_t b, char *buf, size_t n) { return pf_fmt_bytes((double)b, buf, n); }

static void print_plan(const char *what, const pf_vae_mem *m) {
    char a[32], c[32], s[32], h[32];
    printf("  %s predicted peak (planner): arena %s + caches %s = %s  (%d graphs; host buffers %s)\n", what,
           fmt_b(m->arena_bytes, a, sizeof a), fmt_b(m->cache_bytes, c, sizeof c),
           fmt_b(m->arena_bytes + m->cache_bytes, s, sizeof s), m->n_graphs, fmt_b(m->host_bytes, h, sizeof h));
    printf("  %s work: %d chunk runs, %.2f TFLOP\n", what, m->n_runs, m->flops / 1e12);
}

static void print_used(const char *what, double secs, pf_backend *be, const pf_vae_mem *m) {
    char a[32], c[32], s[32], p[32], r[32];
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("  %s: %.2f s (%d chunk runs, %.3f s each; %.1f GFLOP/s)\n", what, secs, m->n_runs,
           m->n_runs ? secs / m->n_runs : 0.0, secs > 0 ? m->flops / secs / 1e9 : 0.0);
    printf("  %s used: arena %s + caches %s = %s; backend peak (weights included) %s; process RSS peak %s\n", what,
           fmt_b(m->arena_bytes, a, sizeof a), fmt_b(m->cache_bytes, c, sizeof c),
           fmt_b(m->arena_bytes + m->cache_bytes, s, sizeof s), fmt_b(be->bytes_peak, p, sizeof p),
           fmt_b((size_t)ru.ru_maxrss * 1024, r, sizeof r));
}

/* PF_LOG=info: one line per chunk, so a long CPU run shows where it is */
static bool bench_progress(void *user, int done, int total) {
    PF_INFO("%s: chunk %d of %d (%.1f s)", (const char *)user, done, total, pf_time_now() - bench_t0);
    return true;
}

int pf_bench_vae(int argc, char **argv) {
    const char *res = "384p", *backend = NULL, *dtype_s = "f32";
    int frames = 2, threads = 0, window = 1, tile = 256;
    bool encode = false, tiling = true, chunks = true, dry = false;
    unsigned long long seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            bench_vae_usage(stdout);
            return 0;
        } else if (!strcmp(a, "--res") && v) res = argv[++i];
        else if (!strcmp(a, "--frames") && v) frames = atoi(argv[++i]);
        else if (!strcmp(a, "--backend") && v) backend = argv[++i];
        else if (!strcmp(a, "--dtype") && v) dtype_s = argv[++i];
        else if (!strcmp(a, "--threads") && v) threads = atoi(argv[++i]);
        else if (!strcmp(a, "--window") && v) window = atoi(argv[++i]);
        else if (!strcmp(a, "--tile") && v) tile = atoi(argv[++i]);
        else if (!strcmp(a, "--seed") && v) seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--encode")) encode = true;
        else if (!strcmp(a, "--no-tiling")) tiling = false;
        else if (!strcmp(a, "--no-chunks")) chunks = false;
        else if (!strcmp(a, "--dry-run")) dry = true;
        else {
            fprintf(stderr, "pflow bench vae: unknown or incomplete option '%s'\n\n", a);
            bench_vae_usage(stderr);
            return 2;
        }
    }
    int W, H;
    if (!strcmp(res, "384p")) {
        W = 640;
        H = 384;
    } else if (!strcmp(res, "768p")) {
        W = 1280;
        H = 768;
    } else {
        fprintf(stderr, "pflow bench vae: --res must be 384p or 768p\n");
        return 2;
    }
    pf_dtype dt;
    if (pf_dtype_parse(dtype_s, &dt) != PF_OK || (dt != PF_F32 && dt != PF_BF16)) {
        fprintf(stderr, "pflow bench vae: --dtype must be f32 or bf16\n");
        return 2;
    }
    if (frames < 1) {
        fprintf(stderr, "pflow bench vae: --frames must be >= 1\n");
        return 2;
    }
    int h = H / 8, w = W / 8, T = 1 + 8 * (frames - 1);

    pf_backend *be = NULL;
    pf_status rc;
    if (dry) {
        rc = pf_backend_meta_create(&be);
    } else {
        if (!backend) backend = pf_backend_name_at(0);
        pf_backend_options bo = {.device = -1, .threads = threads, .reference = false};
        rc = pf_backend_create(backend, &bo, &be);
    }
    if (rc != PF_OK) {
        fprintf(stderr, "pflow bench vae: %s\n", pf_last_error());
        return 1;
    }
    pf_backend_info info;
    pf_backend_get_info(be, &info);
    pf_vae_config cfg;
    pf_vae_config_released(&cfg);
    pf_vae *vae = NULL;
    double t0 = pf_time_now();
    rc = pf_vae_create_random(&cfg, be, dt, seed, &vae);
    double t_init = pf_time_now() - t0;
    if (rc != PF_OK) {
        fprintf(stderr, "pflow bench vae: %s\n", pf_last_error());
        pf_backend_free(be);
        return 1;
    }
    pf_vae_opts o;
    pf_vae_opts_default(&o);
    o.temporal_chunk = chunks;
    o.window = window;
    o.tiling = tiling;
    o.tile_sample_min_size = tile;

    char wb[32];
    printf("pflow bench vae: decode %d latent frames of %dx%d -> %d frames of %dx%d%s\n", frames, w, h, T, W, H,
           encode ? ", and encode them back" : "");
    printf("  backend %s: %s; dtype %s\n", pf_backend_name(be), info.device, pf_dtype_name(dt));
    printf("  model: released CausalVideoVAE config, %.1f M parameters, random weights (seed %llu, %.1f s to make), "
           "weights %s\n",
           (double)cfg.n_params / 1e6, seed, t_init, fmt_b((size_t)cfg.n_params * pf_dtype_size(dt), wb, sizeof wb));
    printf("  options: %s, %s\n", chunks ? "temporal chunks" : "whole clip", tiling ? "tiled" : "not tiled");
    if (chunks) printf("    window %d latent frame(s) after a first chunk of %d\n", window, window + 1);
    if (tiling) printf("    tiles of %d px, overlap 1/4\n", tile);

    int status = 0;
    pf_vae_mem m;
    rc = pf_vae_decode_predict_mem(vae, frames, h, w, &o, &m);
    if (rc == PF_OK) print_plan("decode", &m);
    pf_vae_opts eo;
    pf_vae_encode_opts_default(&eo);
    eo.tiling = tiling;
    eo.tile_sample_min_size = tile;
    if (rc == PF_OK && encode) {
        rc = pf_vae_encode_predict_mem(vae, T, H, W, &eo, &m);
        if (rc == PF_OK) print_plan("encode", &m);
    }
    fflush(stdout); /* the plan before a long run */
    if (rc == PF_OK && !dry) {
        size_t nz = (size_t)16 * frames * h * w, nv = (size_t)3 * T * H * W;
        float *z = malloc(nz * sizeof(float)), *video = malloc(nv * sizeof(float));
        if (!z || !video) {
            rc = pf_error(PF_ERR_OOM, "bench vae: out of host memory for the %zu-value video", nv);
        } else {
            uint64_t s = seed * 2654435761u + 1;
            for (size_t i = 0; i < nz; i++) {
                s = s * 6364136223846793005ull + 1442695040888963407ull;
                z[i] = (float)((double)(s >> 11) * 0x1.0p-53 * 2.0 - 1.0);
            }
            o.progress = bench_progress;
            o.progress_user = "decode";
            t0 = bench_t0 = pf_time_now();
            rc = pf_vae_decode(vae, z, frames, h, w, &o, video);
            double secs = pf_time_now() - t0;
            if (rc == PF_OK) {
                pf_vae_last_mem(vae, &m);
                print_used("decode", secs, be, &m);
            }
            if (rc == PF_OK && encode) {
                size_t nl = (size_t)16 * frames * h * w;
                float *mean = malloc(nl * sizeof(float)), *logvar = malloc(nl * sizeof(float));
                if (!mean || !logvar) rc = pf_error(PF_ERR_OOM, "bench vae: out of host memory");
                eo.progress = bench_progress;
                eo.progress_user = "encode";
                /* the decoded video (about [-1, 1]) is a fair input */
                t0 = bench_t0 = pf_time_now();
                if (rc == PF_OK) rc = pf_vae_encode(vae, video, T, H, W, &eo, mean, logvar);
                secs = pf_time_now() - t0;
                if (rc == PF_OK) {
                    pf_vae_last_mem(vae, &m);
                    print_used("encode", secs, be, &m);
                }
                free(mean);
                free(logvar);
            }
        }
        free(z);
        free(video);
    }
    if (rc != PF_OK) {
        fprintf(stderr, "pflow bench vae: %s\n", pf_last_error());
        status = 1;
    }
    pf_vae_free(vae);
    pf_backend_free(be);
    return status;
}
