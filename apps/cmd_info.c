/* pflow info MODEL_DIR: what a model folder holds and what a generation with it needs. */
#include "pflow_cli.h"

#include "pf_backend.h"
#include "pf_model_inspect.h"

#include <stdio.h>
#include <string.h>

#define CMD "info"

static void info_usage(FILE *f) {
    fprintf(f, "NAME\n"
               "    pflow info - what a model folder holds and how much memory a generation needs\n"
               "\n"
               "SYNOPSIS\n"
               "    pflow info MODEL_DIR [--width W --height H] [--temp T]\n"
               "\n"
               "DESCRIPTION\n"
               "    Reads the folder without loading it (configs and weight file headers only) and prints:\n"
               "    the variant (miniFLUX or SD3), the resolutions it has (diffusion_transformer_384p/,\n"
               "    _768p/, _image/), every component of the released layout found or missing, the dtypes\n"
               "    and parameter counts in the weight files, and an estimate of the memory a generation takes\n"
               "    on each backend of this build, at its default precision (f32 on the CPU, bf16 on GPUs).\n"
               "\n"
               "    The estimate plans the real graphs without allocating them (the meta backend). The peak is\n"
               "    the larger of two phases that never share the device: the biggest text encoder (they are\n"
               "    loaded one at a time, then freed), and the DiT and VAE weights with the DiT's largest\n"
               "    call, the latents and the VAE decode (tiled, as by default). It is for the README's default\n"
               "    generation of each resolution (temp 16: 5 s; one frame for images) unless\n"
               "    --width/--height/--temp say otherwise.\n"
               "\n"
               "OPTIONS\n"
               "    --width W, --height H   video size of the estimate (default: the resolution's)\n"
               "    --temp T                latent frames of the estimate (default 16)\n"
               "    -h, --help              this text\n"
               "\n"
               "EXAMPLES\n"
               "    pflow info pyramid-flow-miniflux\n"
               "    pflow info pyramid-flow-sd3 --temp 31\n"
               "\n"
               "EXIT STATUS\n"
               "    0 the folder has everything a generation needs; 1 something is missing or broken (listed,\n"
               "    with what to do) or the folder cannot be read; 2 bad command line.\n");
}

static const char *info_count(int64_t n, char *buf, size_t cap) {
    if (n >= 1000000000) snprintf(buf, cap, "%.2f G", n / 1e9);
    else if (n >= 1000000) snprintf(buf, cap, "%.2f M", n / 1e6);
    else if (n >= 1000) snprintf(buf, cap, "%.1f k", n / 1e3);
    else snprintf(buf, cap, "%lld", (long long)n);
    return buf;
}

static void info_dtypes(const pf_component *c, char *buf, size_t cap) {
    buf[0] = '\0';
    for (int d = 0; d < PF_DTYPE_COUNT; d++) {
        if (!c->dtype_params[d]) continue;
        size_t o = strlen(buf);
        if (c->dtype_params[d] == c->n_params) snprintf(buf + o, cap - o, "%s", pf_dtype_name((pf_dtype)d));
        else
            snprintf(buf + o, cap - o, "%s%s %.0f%%", o ? ", " : "", pf_dtype_name((pf_dtype)d),
                     100.0 * (double)c->dtype_params[d] / (double)c->n_params);
    }
}

/* The estimate of one resolution, one line per backend of this build. */
static void info_estimate(const pf_model_inventory *inv, const char *res, int W, int H, int T) {
    pf_mem_estimate e[2];
    pf_status rc[2];
    const pf_dtype dts[2] = {PF_F32, PF_BF16};
    /* f32 runs f32 activations (the CPU's default), bf16 bf16 ones (the GPUs') */
    for (int k = 0; k < 2; k++) rc[k] = pf_model_estimate_memory(inv, res, dts[k], dts[k], W, H, T, &e[k]);
    if (rc[0] != PF_OK) {
        printf("\nmemory (%s): no estimate: %s\n", res, pf_last_error());
        pf_clear_error();
        return;
    }
    const pf_mem_estimate *e0 = &e[0];
    printf("\nmemory of a %s generation at %s: %dx%d, temp %d (%d frames), guidance on (planned, not measured):\n",
           !strcmp(res, "image") ? "text-to-image" : "text-to-video", res, e0->width, e0->height, e0->temp,
           1 + 8 * (e0->temp - 1));
    printf("  %-8s %-5s %11s %11s %11s %11s %11s %11s   %s\n", "backend", "dtype", "DiT+VAE", "text enc.", "DiT call",
           "latents", "VAE decode", "peak", "device");
    for (int i = 0; i < pf_backend_count(); i++) {
        const char *name = pf_backend_name_at(i);
        int k = strcmp(name, "cpu") ? 1 : 0; /* the backend's default precision */
        char dev[320] = "";
        pf_backend *be = NULL;
        if (pf_backend_create(name, NULL, &be) == PF_OK) {
            pf_backend_info bi;
            pf_backend_get_info(be, &bi);
            char t[32];
            if (bi.mem_total && rc[k] == PF_OK)
                snprintf(dev, sizeof dev, "%s, %s: %s", bi.device, pf_fmt_bytes((double)bi.mem_total, t, sizeof t),
                         e[k].device_peak <= bi.mem_total ? "fits" : "does not fit");
            else snprintf(dev, sizeof dev, "%s", bi.device);
            pf_backend_free(be);
        } else {
            snprintf(dev, sizeof dev, "unavailable: %s", pf_last_error());
            pf_clear_error();
        }
        if (rc[k] != PF_OK) {
            printf("  %-8s %-5s no estimate: %s\n", name, pf_dtype_name(dts[k]), pf_last_error());
            continue;
        }
        char a[32], b[32], c[32], d[32], f[32], g[32];
        printf("  %-8s %-5s %11s %11s %11s %11s %11s %11s   %s\n", name, pf_dtype_name(dts[k]),
               pf_fmt_bytes((double)(e[k].dit_weights + e[k].vae_weights), a, sizeof a),
               pf_fmt_bytes((double)e[k].text_weights, b, sizeof b),
               pf_fmt_bytes((double)e[k].dit_compute, c, sizeof c), pf_fmt_bytes((double)e[k].latents, d, sizeof d),
               pf_fmt_bytes((double)e[k].vae_compute, f, sizeof f), pf_fmt_bytes((double)e[k].device_peak, g, sizeof g),
               dev);
    }
    if (rc[1] == PF_OK && strcmp(pf_backend_name_at(0), "cpu") == 0 && pf_backend_count() == 1) {
        char g[32];
        printf("  (a GPU backend in bf16 would need about %s)\n", pf_fmt_bytes((double)e[1].device_peak, g, sizeof g));
    }
    char h[32];
    printf("  plus host memory for the decoded video: %s\n", pf_fmt_bytes((double)e0->host_video, h, sizeof h));
}

int pf_cmd_info(int argc, char **argv) {
    const char *dir = NULL;
    int W = 0, H = 0, T = 0;
    bool bad = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            info_usage(stdout);
            return PF_EXIT_OK;
        } else if ((v = pf_cli_value(CMD, argc, argv, &i, "--width", NULL, &bad))) {
            if (!pf_cli_int(CMD, "--width", v, 64, 16384, &W)) return PF_EXIT_USAGE;
        } else if ((v = pf_cli_value(CMD, argc, argv, &i, "--height", NULL, &bad))) {
            if (!pf_cli_int(CMD, "--height", v, 64, 16384, &H)) return PF_EXIT_USAGE;
        } else if ((v = pf_cli_value(CMD, argc, argv, &i, "--temp", NULL, &bad))) {
            if (!pf_cli_int(CMD, "--temp", v, 1, 1024, &T)) return PF_EXIT_USAGE;
        } else if (bad) {
            return PF_EXIT_USAGE;
        } else if (a[0] == '-') {
            return pf_cli_error(PF_EXIT_USAGE, CMD, "unknown option '%s' ('pflow info --help' lists them)", a);
        } else if (dir) {
            return pf_cli_error(PF_EXIT_USAGE, CMD, "one model folder only ('%s' and '%s' given)", dir, a);
        } else {
            dir = a;
        }
        if (bad) return PF_EXIT_USAGE;
    }
    if (!dir) return pf_cli_error(PF_EXIT_USAGE, CMD, "give a model folder (pflow info MODEL_DIR)");
    if ((W % 64) || (H % 64))
        return pf_cli_error(PF_EXIT_USAGE, CMD, "--width and --height need multiples of 64 (%dx%d given)", W, H);
    pf_model_inventory *inv = calloc(1, sizeof *inv);
    if (!inv) return pf_cli_error(PF_EXIT_FAIL, CMD, "out of memory");
    if (pf_model_inventory_read(dir, inv) != PF_OK) {
        free(inv);
        return pf_cli_error(PF_EXIT_FAIL, CMD, "%s", pf_last_error());
    }
    printf("model folder  %s\n", dir);
    printf("variant       %s%s\n",
           inv->variant == PF_DIT_MMDIT
               ? "SD3 (PyramidDiffusionMMDiT: joint blocks, CLIP-L + CLIP-G + T5-XXL)"
               : "miniFLUX (PyramidFluxTransformer: double and single blocks, CLIP-L + T5-XXL)",
           inv->variant_known ? "" : " - guessed from the text encoder folders (no readable DiT config)");
    if (inv->tiny)
        printf("              a tiny model with random weights (pflow make-tiny-model): its videos are noise\n");
    printf("resolutions  ");
    for (int r = 0; r < 3; r++) {
        int w, h;
        pf_model_default_size(pf_model_resolutions[r], &w, &h);
        int mt = pf_model_max_temp(pf_model_resolutions[r]);
        if (r == 2)
            printf(" %s %s (%dx%d, one frame)%s", pf_model_resolutions[r], inv->has_res[r] ? "yes" : "no", w, h, "");
        else
            printf(" %s %s (%dx%d, up to temp %d = %.0f s),", pf_model_resolutions[r], inv->has_res[r] ? "yes" : "no",
                   w, h, mt, (1 + 8 * (mt - 1)) / 24.0);
    }
    printf("\n\ncomponents:\n");
    printf("  %-28s %-21s %-8s %10s  %-14s %s\n", "folder", "what", "status", "params", "dtypes", "files");
    for (int i = 0; i < inv->n; i++) {
        const pf_component *c = &inv->comp[i];
        char n[32] = "-", dt[64] = "-";
        if (c->n_params) {
            info_count(c->n_params, n, sizeof n);
            info_dtypes(c, dt, sizeof dt);
        }
        const char *status = !c->found ? "MISSING" : c->complete ? "ok" : "BROKEN";
        printf("  %-28s %-21s %-8s %10s  %-14s %s\n", c->subdir, c->what, status, n, dt,
               c->source[0] ? c->source : (c->kind == PF_COMP_TOKENIZER && c->complete ? "tokenizer files" : ""));
    }
    int ret = PF_EXIT_OK;
    if (pf_model_inventory_check(inv, NULL, true) != PF_OK) {
        printf("\nincomplete: %s\n", pf_last_error());
        pf_clear_error();
        ret = PF_EXIT_FAIL;
    }
    for (int r = 0; r < 3; r++)
        if (inv->has_res[r]) info_estimate(inv, pf_model_resolutions[r], W, H, T);
    free(inv);
    return ret;
}
