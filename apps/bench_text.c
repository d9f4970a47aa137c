/*
 * pflow bench text: one prompt encode at the released text-encoder sizes with
 * random weights (no download needed): B = 2 ([negative, positive]), T5 128
 * tokens, CLIP 77. Reports the conditions, the time of the first call (graph
 * build + plan + compute) and of a replay, and the memory: weights, the
 * planner's compute peak and the process's peak resident set.
 */
#include "bench_common.h"
#include "pflow_cli.h"

#include "pf_backend.h"
#include "pf_text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void bench_text_usage(FILE *f) {
    fprintf(f, "usage: pflow bench text [--backend B] [--dtype bf16|f32] [--model t5-xxl|clip-l|clip-g]\n"
               "                        [--threads N] [--layers N] [--runs N] [--seed S] [--force]\n\n"
               "Encodes one prompt pair (B=2: [negative, positive]) with random weights at the released\n"
               "sizes: t5-xxl (google/t5-v1_1-xxl encoder, 4.76 B weights, L=128), clip-l (CLIP ViT-L/14\n"
               "text tower with projection, L=77), clip-g (OpenCLIP bigG text tower, L=77).\n"
               "  --backend B   cpu (default), cuda, vulkan\n"
               "  --dtype D     weights: bf16 (default; f32 T5-XXL needs 19 GB) or f32; activations are f32\n"
               "  --threads N   CPU threads (default: all cores)\n"
               "  --layers N    override the depth (a smaller configuration when memory is short; printed)\n"
               "  --runs N      timed calls after the first (default 1)\n"
               "  --force       run even if the weights exceed the free memory the backend reports\n");
}

/* Token ids and masks shaped like a real prompt pair: EOS-terminated, then padding. */
static void bench_text_ids(int vocab, int L, bool t5, int32_t *ids, int32_t *mask) {
    static const int lens[2] = {42, 19}; /* the default negative prompt is ~40 T5 tokens */
    uint64_t s = 12345;
    for (int b = 0; b < 2; b++) {
        int n = PF_MIN(lens[b], L);
        for (int i = 0; i < L; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            int32_t id;
            if (t5)
                id = i < n - 1    ? (int32_t)(3 + (s >> 33) % (uint64_t)(vocab - 3))
                     : i == n - 1 ? 1
                                  : 0; /* EOS 1, pad 0 */
            else
                id = i == 0      ? vocab - 2
                     : i < n - 1 ? (int32_t)((s >> 33) % (uint64_t)(vocab - 2))
                                 : vocab - 1; /* BOS, EOS pad */
            ids[b * L + i] = id;
            mask[b * L + i] = i < n;
        }
    }
}

int pf_bench_text(int argc, char **argv) {
    const char *backend = "cpu", *model = "t5-xxl";
    pf_dtype dtype = PF_BF16;
    int threads = 0, layers = 0, runs = 1;
    uint64_t seed = 1;
    bool force = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            bench_text_usage(stdout);
            return 0;
        } else if (!strcmp(a, "--backend") && has) {
            backend = argv[++i];
        } else if (!strcmp(a, "--model") && has) {
            model = argv[++i];
        } else if (!strcmp(a, "--dtype") && has) {
            if (pf_dtype_parse(argv[++i], &dtype) != PF_OK || (dtype != PF_BF16 && dtype != PF_F32)) {
                fprintf(stderr, "pflow bench text: --dtype must be bf16 or f32\n");
                return 2;
            }
        } else if (!strcmp(a, "--threads") && has) {
            if (!pf_bench_int("text", a, argv[++i], 0, 1024, &threads)) return 2;
        } else if (!strcmp(a, "--layers") && has) {
            if (!pf_bench_int("text", a, argv[++i], 0, 4096, &layers)) return 2;
        } else if (!strcmp(a, "--runs") && has) {
            if (!pf_bench_int("text", a, argv[++i], 0, 1000000, &runs)) return 2;
        } else if (!strcmp(a, "--seed") && has) {
            if (!pf_bench_u64("text", a, argv[++i], &seed)) return 2;
        } else if (!strcmp(a, "--force")) {
            force = true;
        } else {
            fprintf(stderr, "pflow bench text: unknown option '%s'\n\n", a);
            bench_text_usage(stderr);
            return 2;
        }
    }
    bool is_t5 = !strcmp(model, "t5-xxl");
    pf_t5_config t5c;
    pf_clip_config cc;
    if (is_t5)
        pf_t5_config_xxl(&t5c);
    else if (!strcmp(model, "clip-l"))
        pf_clip_config_l(&cc, true);
    else if (!strcmp(model, "clip-g"))
        pf_clip_config_bigg(&cc);
    else {
        fprintf(stderr, "pflow bench text: unknown model '%s' (t5-xxl, clip-l, clip-g)\n", model);
        return 2;
    }
    int full_layers = is_t5 ? t5c.num_layers : cc.layers;
    if (layers > 0) {
        if (is_t5)
            t5c.num_layers = layers;
        else
            cc.layers = layers;
    }
    /* the meta backend sizes the weights (and recounts them) without allocating */
    pf_backend *meta = NULL;
    pf_t5 *mt5 = NULL;
    pf_clip *mclip = NULL;
    pf_text_stats mst;
    if (pf_backend_meta_create(&meta) != PF_OK ||
        (is_t5 ? pf_t5_create_random(&t5c, meta, dtype, seed, &mt5)
               : pf_clip_create_random(&cc, meta, dtype, seed, &mclip)) != PF_OK) {
        fprintf(stderr, "pflow bench text: %s\n", pf_last_error());
        pf_backend_free(meta);
        return 1;
    }
    if (is_t5) {
        t5c = *pf_t5_get_config(mt5);
        pf_t5_get_stats(mt5, &mst);
    } else {
        cc = *pf_clip_get_config(mclip);
        pf_clip_get_stats(mclip, &mst);
    }
    pf_t5_free(mt5);
    pf_clip_free(mclip);
    pf_backend_free(meta);

    pf_backend_options bo = {.device = -1, .threads = threads, .reference = false};
    pf_backend *be = NULL;
    if (pf_backend_create(backend, &bo, &be) != PF_OK) {
        fprintf(stderr, "pflow bench text: backend %s: %s\n", backend, pf_last_error());
        return 1;
    }
    pf_backend_info info;
    pf_backend_get_info(be, &info);
    int64_t n_params = is_t5 ? t5c.n_params : cc.n_params;
    double est = (double)mst.weight_bytes;
    char b1[32], b2[32], b3[32], b4[32];
    int L = is_t5 ? PF_T5_MAX_TOKENS : PF_CLIP_MAX_TOKENS;

    printf("pflow bench text: %s encoder, random weights (seed %llu)\n",
           is_t5                      ? "T5 v1.1 XXL (T5EncoderModel)"
           : !strcmp(model, "clip-l") ? "CLIP-L/14 text (with projection)"
                                      : "OpenCLIP bigG text (with projection)",
           (unsigned long long)seed);
    printf("  backend    %s: %s\n", pf_backend_name(be), info.device);
    printf("  dtype      weights %s, activations f32\n", pf_dtype_name(dtype));
    if (is_t5)
        printf(
            "  config     d_model %d, %d heads x %d, d_ff %d, %d layers%s, vocab %d, gated gelu_new: %.3f B weights\n",
            t5c.d_model, t5c.num_heads, t5c.d_kv, t5c.d_ff, t5c.num_layers,
            layers > 0 && layers != full_layers ? " (reduced by --layers)" : "", t5c.vocab_size,
            (double)n_params / 1e9);
    else
        printf("  config     hidden %d, %d heads, intermediate %d, %d layers%s, vocab %d, %s, projection %d: %.3f B "
               "weights\n",
               cc.hidden, cc.heads, cc.intermediate, cc.layers,
               layers > 0 && layers != full_layers ? " (reduced by --layers)" : "", cc.vocab_size,
               cc.act == PF_UNARY_QUICK_GELU ? "quick_gelu" : "gelu", cc.projection_dim, (double)n_params / 1e9);
    printf("  input      B=2 [negative, positive], L=%d tokens%s\n", L,
           is_t5 ? " (masks: 42 and 19 valid)" : ", causal");
    printf("  memory     weights need %s; backend reports %s free of %s\n", pf_fmt_bytes(est, b1, sizeof b1),
           info.mem_free ? pf_fmt_bytes((double)info.mem_free, b2, sizeof b2) : "?",
           info.mem_total ? pf_fmt_bytes((double)info.mem_total, b3, sizeof b3) : "?");
    if (!force && info.mem_free && est > 0.9 * (double)info.mem_free) {
        fprintf(stderr,
                "pflow bench text: the weights (%s) do not fit the free memory (%s); use --layers N for a smaller "
                "configuration or --force\n",
                b1, b2);
        pf_backend_free(be);
        return 1;
    }
    fflush(stdout);

    int rc_exit = 1;
    pf_t5 *t5 = NULL;
    pf_clip *clip = NULL;
    double t0 = pf_time_now();
    pf_status rc =
        is_t5 ? pf_t5_create_random(&t5c, be, dtype, seed, &t5) : pf_clip_create_random(&cc, be, dtype, seed, &clip);
    double t_init = pf_time_now() - t0;
    int32_t ids[2 * PF_T5_MAX_TOKENS], mask[2 * PF_T5_MAX_TOKENS];
    int D = is_t5 ? t5c.d_model : cc.hidden;
    float *hidden = malloc(sizeof(float) * 2 * (size_t)L * (size_t)D);
    float *pooled = malloc(sizeof(float) * 2 * (size_t)PF_MAX(cc.projection_dim, D));
    if (rc == PF_OK && (!hidden || !pooled)) rc = pf_error(PF_ERR_OOM, "out of host memory");
    if (rc != PF_OK) {
        fprintf(stderr, "pflow bench text: %s\n", pf_last_error());
        goto done;
    }
    printf("  init       %.2f s (random weights on the backend)\n", t_init);
    bench_text_ids(is_t5 ? t5c.vocab_size : cc.vocab_size, L, is_t5, ids, mask);
    double t_first = 0.0, t_best = 0.0;
    for (int r = 0; r <= runs; r++) {
        t0 = pf_time_now();
        rc = is_t5 ? pf_t5_encode(t5, ids, mask, 2, L, hidden) : pf_clip_encode(clip, ids, 2, L, hidden, NULL, pooled);
        double t = pf_time_now() - t0;
        if (rc != PF_OK) {
            fprintf(stderr, "pflow bench text: %s\n", pf_last_error());
            goto done;
        }
        if (r == 0)
            t_first = t;
        else if (r == 1 || t < t_best)
            t_best = t;
    }
    pf_text_stats st;
    if (is_t5)
        pf_t5_get_stats(t5, &st);
    else
        pf_clip_get_stats(clip, &st);
    double sum = 0.0;
    size_t n_bad = 0, n = 2 * (size_t)L * (size_t)D;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(hidden[i]))
            n_bad++;
        else
            sum += fabs(hidden[i]);
    }
    printf("  first call %.3f s (graph build + plan + compute)\n", t_first);
    if (runs > 0)
        printf("  replay     %.3f s (best of %d): %.1f tokens/s, %.1f GFLOP/s (%.1f GFLOP per call)\n", t_best, runs,
               2.0 * L / t_best, st.flops / t_best / 1e9, st.flops / 1e9);
    printf("  memory     weights %s, planner peak %s (arena %s), process peak RSS %s\n",
           pf_fmt_bytes((double)st.weight_bytes, b1, sizeof b1),
           pf_fmt_bytes((double)st.graph_peak_bytes, b2, sizeof b2),
           pf_fmt_bytes((double)st.arena_bytes, b3, sizeof b3),
           pf_fmt_bytes((double)pf_bench_peak_rss(), b4, sizeof b4));
    printf("  output     last_hidden_state [2, %d, %d], mean |x| %.4f, %zu non-finite\n", L, D, sum / (double)n, n_bad);
    rc_exit = n_bad ? 1 : 0;
done:
    free(hidden);
    free(pooled);
    pf_t5_free(t5);
    pf_clip_free(clip);
    pf_backend_free(be);
    return rc_exit;
}
