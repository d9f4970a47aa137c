/*
 * pflow bench generate: the whole t2v pipeline (initial noise, every unit and stage,
 * renoising, CFG + Euler, history, VAE decode, uint8 frames) on random weights at
 * the released size or a tiny configuration, with random prompt embeddings. Prints
 * the conditions, the time of each phase, the DiT calls with their tokens per call
 * (from the pipeline's own bookkeeping) and the memory. --dry counts the DiT calls
 * without weights or compute.
 */
#include "bench_common.h"
#include "pflow_cli.h"

#include "pf_backend.h"
#include "pf_pipeline.h"
#include "pf_rng.h"
#include "pf_tiny_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void bench_generate_usage(FILE *f) {
    fprintf(f,
            "usage: pflow bench generate [--variant miniflux|sd3] [--res 384p|768p] [--size WxH] [--temp T]\n"
            "                            [--backend B] [--dtype f32|bf16] [--act auto|f32|bf16] [--steps a,b,c]\n"
            "                            [--video-steps a,b,c] [--tiny] [--dry] [--threads N] [--seed S]\n"
            "                            [--tile PX] [--force] [--budget GB]\n\n"
            "Runs text-to-video with random weights and random prompt embeddings (B = 2 with guidance).\n"
            "  --variant V      miniflux (default) or sd3\n"
            "  --res R          384p (640x384, default) or 768p (1280x768); --size overrides\n"
            "  --temp T         latent frames (default 16: 121 frames, 5 s at 24 fps)\n"
            "  --steps a,b,c    first-frame steps per stage (default 20,20,20)\n"
            "  --video-steps    later-frame steps per stage (default 10,10,10)\n"
            "  --tiny           the sizes of pflow make-tiny-model (a DiT of 2 heads x 64, a VAE of 4 channels)\n"
            "  --dry            count DiT calls and tokens, and plan the device memory on the meta backend\n"
            "                   (released sizes, weights bf16 unless --dtype; no weights, no compute)\n"
            "  --budget GB      the device memory the --dry plan is checked against (default 24 GB)\n"
            "  --backend B      cpu (default: the first usable), cuda, vulkan\n"
            "  --dtype D        weights and latents (default: bf16 on GPUs, f32 on the CPU)\n"
            "  --act A          the DiT's activations (default auto: bf16 with bf16 weights on GPUs, else f32)\n"
            "  --tile PX        VAE decode tile size (default 256)\n"
            "  --force          run the released size even if it exceeds the free memory reported\n");
}

static void bench_print_table(const pf_pipe_stats *st) {
    printf("DiT calls (batch %d, as the pipeline issued them):\n", st->batch);
    printf("  %5s %5s %6s %12s %11s %6s\n", "unit", "stage", "clips", "image_tok", "text_tok", "calls");
    int64_t calls = 0;
    for (int i = 0; i < st->n_rows; i++) {
        const pf_pipe_call_row *r = &st->rows[i];
        printf("  %5d %5d %6d %12d %11d %6d\n", r->unit, r->stage, r->clips, r->image_tokens, r->text_tokens, r->calls);
        calls += r->calls;
    }
    printf("  total: %lld DiT calls, %lld image tokens per batch row summed over calls, %d block-noise draws\n",
           (long long)calls, (long long)st->image_tokens, st->n_block_draws);
}

/* Random embeddings: negative 40 valid tokens, positive 20 (the default negative prompt
 * is about 40 T5 tokens long). */
static pf_status bench_embeds(int L, int D, int P, uint64_t seed, pf_prompt_embeds *e) {
    e->batch = 2;
    e->tokens = L;
    e->text_dim = D;
    e->pooled_dim = P;
    e->hidden = malloc(sizeof(float) * 2 * (size_t)L * D);
    e->mask = malloc(sizeof(int32_t) * 2 * (size_t)L);
    e->pooled = malloc(sizeof(float) * 2 * (size_t)P);
    if (!e->hidden || !e->mask || !e->pooled) return pf_error(PF_ERR_OOM, "out of host memory (embeddings)");
    pf_rng r;
    pf_rng_init(&r, seed, 77);
    pf_rng_normal(&r, e->hidden, 2 * (size_t)L * D);
    pf_rng_normal(&r, e->pooled, 2 * (size_t)P);
    for (int b = 0; b < 2; b++)
        for (int i = 0; i < L; i++) e->mask[b * L + i] = i < PF_MIN(L, b ? 20 : 40);
    return PF_OK;
}

int pf_bench_generate(int argc, char **argv) {
    const char *backend = NULL, *res = "384p", *variant = "miniflux";
    pf_pipe_params p;
    pf_pipe_params_default(&p, PF_PIPE_T2V);
    bool tiny = false, dry = false, force = false, dtype_set = false;
    pf_dtype dtype = PF_F32;
    pf_precision act = PF_PRECISION_AUTO;
    int threads = 0, W = 0, H = 0;
    uint64_t seed = 42;
    double budget_gb = 24.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            bench_generate_usage(stdout);
            return 0;
        } else if (!strcmp(a, "--variant") && has) {
            variant = argv[++i];
        } else if (!strcmp(a, "--res") && has) {
            res = argv[++i];
        } else if (!strcmp(a, "--size") && has) {
            if (sscanf(argv[++i], "%dx%d", &W, &H) != 2) {
                fprintf(stderr, "pflow bench generate: --size takes WxH\n");
                return 2;
            }
        } else if (!strcmp(a, "--temp") && has) {
            if (!pf_bench_int("generate", a, argv[++i], 1, 1000000, &p.temp)) return 2;
        } else if ((!strcmp(a, "--steps") || !strcmp(a, "--video-steps")) && has) {
            if (!pf_cli_int3("bench generate", a, argv[++i], 1, 1000000, a[2] == 's' ? p.steps : p.video_steps))
                return 2;
        } else if (!strcmp(a, "--backend") && has) {
            backend = argv[++i];
        } else if (!strcmp(a, "--dtype") && has) {
            if (pf_dtype_parse(argv[++i], &dtype) != PF_OK || (dtype != PF_F32 && dtype != PF_BF16)) {
                fprintf(stderr, "pflow bench generate: --dtype takes f32 or bf16\n");
                return 2;
            }
            dtype_set = true;
        } else if (!strcmp(a, "--act") && has) {
            const char *v = argv[++i];
            if (!strcmp(v, "auto")) act = PF_PRECISION_AUTO;
            else if (!strcmp(v, "f32")) act = PF_PRECISION_F32;
            else if (!strcmp(v, "bf16")) act = PF_PRECISION_BF16;
            else {
                fprintf(stderr, "pflow bench generate: --act takes auto, f32 or bf16\n");
                return 2;
            }
        } else if (!strcmp(a, "--threads") && has) {
            if (!pf_bench_int("generate", a, argv[++i], 0, 1024, &threads)) return 2;
        } else if (!strcmp(a, "--seed") && has) {
            if (!pf_bench_u64("generate", a, argv[++i], &seed)) return 2;
        } else if (!strcmp(a, "--tile") && has) {
            if (!pf_bench_int("generate", a, argv[++i], 1, 1000000, &p.decode.tile_sample_min_size)) return 2;
        } else if (!strcmp(a, "--budget") && has) {
            char *end = NULL;
            budget_gb = strtod(argv[++i], &end);
            if (!end || *end || !(budget_gb > 0.0) || budget_gb > 1e6) {
                fprintf(stderr, "pflow bench generate: --budget takes a positive number of GB (got '%s')\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--tiny")) {
            tiny = true;
        } else if (!strcmp(a, "--dry")) {
            dry = true;
        } else if (!strcmp(a, "--force")) {
            force = true;
        } else {
            fprintf(stderr, "pflow bench generate: unknown option '%s'\n\n", a);
            bench_generate_usage(stderr);
            return 2;
        }
    }
    pf_dit_variant v;
    if (!strcmp(variant, "miniflux")) v = PF_DIT_FLUX;
    else if (!strcmp(variant, "sd3")) v = PF_DIT_MMDIT;
    else {
        fprintf(stderr, "pflow bench generate: --variant takes miniflux or sd3\n");
        return 2;
    }
    if (!strcmp(res, "384p")) p.width = 640, p.height = 384;
    else if (!strcmp(res, "768p")) p.width = 1280, p.height = 768;
    else {
        fprintf(stderr, "pflow bench generate: --res takes 384p or 768p\n");
        return 2;
    }
    if (W) p.width = W, p.height = H;
    if (pf_pipe_params_check(&p) != PF_OK) {
        fprintf(stderr, "pflow bench generate: %s\n", pf_last_error());
        return 2;
    }
    int L = tiny ? 16 : PF_T5_MAX_TOKENS;
    printf("pflow bench generate: t2v %s, %dx%d px, temp %d (%d frames), steps [%d,%d,%d], video steps [%d,%d,%d], "
           "guidance %g / %g\n",
           v == PF_DIT_FLUX ? "miniFLUX" : "SD3", p.width, p.height, p.temp, 1 + 8 * (p.temp - 1), p.steps[0],
           p.steps[1], p.steps[2], p.video_steps[0], p.video_steps[1], p.video_steps[2], p.guidance, p.video_guidance);

    if (dry) {
        pf_pipe_stats st;
        if (pf_pipeline_count_calls(&p, L, 2, &st) != PF_OK) {
            fprintf(stderr, "pflow bench generate: %s\n", pf_last_error());
            return 1;
        }
        st.batch = p.guidance > 0 ? 2 : 1;
        printf("  dry run: no weights, no compute; %d text tokens per call\n", L);
        bench_print_table(&st);
        pf_status mrc = PF_OK;
        if (!tiny) { /* the plan is of the released sizes, as a GPU would hold them */
            pf_dtype wdt = dtype_set ? dtype : PF_BF16;
            pf_dtype adt = act == PF_PRECISION_F32 ? PF_F32 : act == PF_PRECISION_BF16 ? PF_BF16 : wdt;
            mrc = pf_bench_memplan(&p, v, wdt, adt, &st, budget_gb * 1e9);
            if (mrc != PF_OK) fprintf(stderr, "pflow bench generate: %s\n", pf_last_error());
        }
        pf_pipe_stats_free(&st);
        return mrc == PF_OK ? 0 : 1;
    }

    pf_backend_options bo = {.device = -1, .threads = threads, .reference = false};
    pf_backend *be = NULL;
    pf_status rc = PF_OK;
    if (backend) {
        rc = pf_backend_create(backend, &bo, &be);
    } else {
        rc = PF_ERR_UNSUPPORTED;
        for (int i = 0; i < pf_backend_count() && rc != PF_OK; i++) rc = pf_backend_create(pf_backend_name_at(i), &bo, &be);
    }
    if (rc != PF_OK) {
        fprintf(stderr, "pflow bench generate: backend: %s\n", pf_last_error());
        return 1;
    }
    pf_backend_info bi;
    pf_backend_get_info(be, &bi);
    if (!dtype_set) dtype = pf_api_weight_dtype(PF_PRECISION_AUTO, &bi);
    pf_dtype act_dt = pf_api_act_dtype(act, dtype, &bi);

    pf_dit_config dc;
    pf_vae_config vc;
    if (tiny) { /* the sizes of pflow make-tiny-model */
        pf_tiny_model_spec spec;
        if (pf_tiny_model_spec_default(v, &spec) != PF_OK) {
            fprintf(stderr, "pflow bench generate: %s\n", pf_last_error());
            pf_backend_free(be);
            return 1;
        }
        dc = spec.dit;
        vc = spec.vae;
    } else {
        pf_dit_config_released(v, &dc);
        pf_vae_config_released(&vc);
    }
    double wbytes = (double)(dc.n_params + vc.n_params) * (double)pf_dtype_size(dtype);
    char b1[32], b2[32], b3[32], b4[32], b5[32], b6[32], b7[32], b8[32];
    printf("  backend %s (%s), dtype %s, activations %s, %s weights (random): DiT %d heads x %d, %d + %d blocks, VAE channels "
           "[%d,%d,%d,%d]\n",
           bi.name, bi.device, pf_dtype_name(dtype), pf_dtype_name(act_dt), tiny ? "tiny" : "released-size", dc.heads, dc.head_dim, dc.n_double,
           dc.n_single, vc.dec_channels[0], vc.dec_channels[1], vc.dec_channels[2], vc.dec_channels[3]);
    printf("  random prompt embeddings: %d T5 tokens x %d, pooled %d; VAE decode chunked (window %d), tiles %d px\n",
           L, dc.text_dim, dc.pooled_dim, p.decode.window, p.decode.tile_sample_min_size);
    if (!tiny && !force && bi.mem_free && wbytes > 0.9 * (double)bi.mem_free) {
        fprintf(stderr, "pflow bench generate: the weights need %s but %s reports %s free (--tiny, or --force)\n",
                pf_fmt_bytes(wbytes, b1, sizeof b1), bi.name, pf_fmt_bytes((double)bi.mem_free, b2, sizeof b2));
        pf_backend_free(be);
        return 1;
    }

    pf_dit *dit = NULL;
    pf_vae *vae = NULL;
    pf_noise *noise = NULL;
    pf_prompt_embeds e = {0};
    double t0 = pf_time_now();
    rc = pf_dit_create_random(&dc, be, dtype, seed, &dit);
    if (rc == PF_OK) rc = pf_dit_set_act_dtype(dit, act_dt);
    if (rc == PF_OK) rc = pf_vae_create_random(&vc, be, dtype, seed + 1, &vae);
    double t_weights = pf_time_now() - t0;
    if (rc == PF_OK) rc = bench_embeds(L, dc.text_dim, dc.pooled_dim, seed, &e);
    if (rc == PF_OK) rc = pf_noise_create_seeded(seed, p.sched.gamma, &noise);
    pf_pipe_stats st = {0};
    pf_pipe_output out = {0};
    if (rc == PF_OK) {
        pf_pipe_denoiser dn;
        pf_pipe_vae pv;
        pf_pipe_denoiser_from_dit(dit, dtype, &dn);
        pf_pipe_vae_from_vae(vae, dtype, &pv);
        pf_pipe_inputs in = {.embeds = &e, .noise = noise};
        rc = pf_pipeline_run(&dn, &pv, &in, &p, NULL, &out, &st);
    }
    if (rc != PF_OK) {
        fprintf(stderr, "pflow bench generate: %s\n", pf_last_error());
    } else {
        double dit_total = st.t_dit[0] + st.t_dit[1] + st.t_dit[2];
        int calls_s[3] = {0, 0, 0};
        for (int i = 0; i < st.n_rows; i++) calls_s[st.rows[i].stage] += st.rows[i].calls;
        printf("times (random weights created in %.2f s, not counted):\n", t_weights);
        for (int s = 0; s < 3; s++)
            printf("  DiT stage %d        %9.3f s  (%d calls, %.1f ms per call)\n", s, st.t_dit[s], calls_s[s],
                   calls_s[s] ? 1e3 * st.t_dit[s] / calls_s[s] : 0.0);
        printf("  CFG + Euler steps  %9.3f s  (%d steps)\n", st.t_guidance_euler, st.dit_calls);
        printf("  renoising (jumps)  %9.3f s  (%d block-noise draws: draw, upload, upsample, mix)\n", st.t_renoise,
               st.n_block_draws);
        printf("  history pyramid    %9.3f s\n", st.t_history);
        printf("  initial noise      %9.3f s\n", st.t_noise);
        printf("  VAE decode         %9.3f s  (%d frames %dx%d)\n", st.t_vae_decode, out.frames, out.width, out.height);
        printf("  uint8 frames       %9.3f s\n", st.t_frames);
        printf("  total              %9.3f s  (DiT %.1f %%, renoising %.3f %%)\n", st.t_total,
               100.0 * dit_total / st.t_total, 100.0 * st.t_renoise / st.t_total);
        bench_print_table(&st);
        pf_dit_stats ds;
        pf_dit_get_stats(dit, &ds);
        pf_vae_mem vm;
        pf_vae_last_mem(vae, &vm);
        printf("memory: weights %s (DiT %s), pipeline latents %s, DiT graph (last call) %s, VAE arena %s + caches "
               "%s,\n        backend peak %s, host peak RSS %s\n",
               pf_fmt_bytes((double)(ds.weight_bytes + vm.weight_bytes), b1, sizeof b1),
               pf_fmt_bytes((double)ds.weight_bytes, b2, sizeof b2),
               pf_fmt_bytes((double)st.latent_bytes, b3, sizeof b3),
               pf_fmt_bytes((double)ds.graph_peak_bytes, b4, sizeof b4),
               pf_fmt_bytes((double)vm.arena_bytes, b5, sizeof b5), pf_fmt_bytes((double)vm.cache_bytes, b6, sizeof b6),
               pf_fmt_bytes((double)st.backend_peak_bytes, b7, sizeof b7),
               pf_fmt_bytes((double)pf_bench_peak_rss(), b8, sizeof b8));
    }
    free(out.rgb);
    pf_pipe_stats_free(&st);
    free(e.hidden);
    free(e.mask);
    free(e.pooled);
    pf_noise_free(noise);
    pf_vae_free(vae);
    pf_dit_free(dit);
    pf_backend_free(be);
    return rc == PF_OK ? 0 : 1;
}
