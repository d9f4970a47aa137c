/* pflow make-tiny-model DIR: a tiny random-weight model in the official folder layout. */
#include "pflow_cli.h"

#include "pf_tiny_model.h"

#include <stdio.h>
#include <string.h>

#define CMD "make-tiny-model"

static void tiny_usage(FILE *f) {
    fprintf(f, "NAME\n"
               "    pflow make-tiny-model - write a tiny random-weight Pyramid Flow model\n"
               "\n"
               "SYNOPSIS\n"
               "    pflow make-tiny-model DIR [--variant miniflux|sd3] [--res LIST] [--seed N] [--tokenizers DIR]\n"
               "\n"
               "DESCRIPTION\n"
               "    Writes a complete model folder in the layout of the released checkpoints:\n"
               "    diffusion_transformer_384p/ and causal_video_vae/ (config.json with the official keys and\n"
               "    diffusion_pytorch_model.safetensors with the official tensor names), the text encoders\n"
               "    (miniFLUX: text_encoder/ CLIP-L, text_encoder_2/ T5; SD3: text_encoder/, text_encoder_2/\n"
               "    CLIP-G, text_encoder_3/ T5) and their tokenizers with the real T5 and CLIP vocabularies.\n"
               "    The networks are tiny (a DiT of 2 heads, a VAE of 4 to 8 channels) and their weights are\n"
               "    random: 'pflow generate' runs every step of a real generation on it in seconds, and the video\n"
               "    it makes is noise. It is for trying pflow, testing and demos, not for judging quality.\n"
               "\n"
               "    DIR is created; an existing DIR must be empty or hold an earlier tiny model (nothing else is\n"
               "    overwritten). The same seed writes the same files (about 30 MB).\n"
               "\n"
               "OPTIONS\n"
               "    --variant V        miniflux (default: FLUX-style DiT, CLIP-L + T5) or sd3 (MMDiT, CLIP-L +\n"
               "                       CLIP-G + T5)\n"
               "    --res LIST         the checkpoints to write, comma-separated from 384p, 768p and image, each\n"
               "                       a diffusion_transformer_<res>/ folder (default 384p)\n"
               "    --seed N           seed of the random weights (default 0)\n"
               "    --tokenizers DIR   the tokenizer files (default: $PF_DATA_DIR/tokenizers, else the data/\n"
               "                       folder of the source tree pflow was built from, else ../share/pflow)\n"
               "    -h, --help         this text\n"
               "\n"
               "EXAMPLES\n"
               "    pflow make-tiny-model tiny\n"
               "    pflow generate -m tiny -p \"a red fox running through snow\" --temp 2 -o fox.mp4\n"
               "    pflow make-tiny-model tiny-sd3 --variant sd3 --seed 7 && pflow info tiny-sd3\n"
               "    pflow make-tiny-model tiny-all --res 384p,768p,image\n"
               "\n"
               "EXIT STATUS\n"
               "    0 written; 1 it could not be written (the message says why); 2 bad command line.\n");
}

int pf_cmd_make_tiny_model(int argc, char **argv) {
    const char *dir = NULL, *tok = NULL;
    pf_dit_variant variant = PF_DIT_FLUX;
    uint64_t seed = 0;
    bool bad = false, res[3] = {true, false, false};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            tiny_usage(stdout);
            return PF_EXIT_OK;
        } else if ((v = pf_cli_value(CMD, argc, argv, &i, "--variant", NULL, &bad))) {
            if (!strcmp(v, "miniflux")) variant = PF_DIT_FLUX;
            else if (!strcmp(v, "sd3")) variant = PF_DIT_MMDIT;
            else return pf_cli_error(PF_EXIT_USAGE, CMD, "--variant takes miniflux or sd3, not '%s'", v);
        } else if ((v = pf_cli_value(CMD, argc, argv, &i, "--seed", NULL, &bad))) {
            if (!pf_cli_u64(CMD, "--seed", v, &seed)) return PF_EXIT_USAGE;
        } else if ((v = pf_cli_value(CMD, argc, argv, &i, "--res", NULL, &bad))) {
            static const char *const names[3] = {"384p", "768p", "image"};
            memset(res, 0, sizeof res);
            for (const char *p = v; *p;) {
                size_t n = strcspn(p, ",");
                int k = -1;
                for (int r = 0; r < 3; r++)
                    if (strlen(names[r]) == n && !strncmp(p, names[r], n)) k = r;
                if (k < 0)
                    return pf_cli_error(PF_EXIT_USAGE, CMD,
                                        "--res takes a comma-separated list of 384p, 768p and image, not '%s'", v);
                res[k] = true;
                p += n + (p[n] == ',');
            }
            if (!res[0] && !res[1] && !res[2])
                return pf_cli_error(PF_EXIT_USAGE, CMD, "--res needs at least one of 384p, 768p and image");
        } else if ((v = pf_cli_value(CMD, argc, argv, &i, "--tokenizers", NULL, &bad))) {
            tok = v;
        } else if (bad) {
            return PF_EXIT_USAGE;
        } else if (a[0] == '-') {
            return pf_cli_error(PF_EXIT_USAGE, CMD, "unknown option '%s' ('pflow make-tiny-model --help' lists them)",
                                a);
        } else if (dir) {
            return pf_cli_error(PF_EXIT_USAGE, CMD, "one folder only ('%s' and '%s' given)", dir, a);
        } else {
            dir = a;
        }
        if (bad) return PF_EXIT_USAGE;
    }
    if (!dir || !*dir) return pf_cli_error(PF_EXIT_USAGE, CMD, "give the folder to write (pflow make-tiny-model DIR)");
    char tok_buf[4096];
    if (!tok) {
        const char *data = pf_cli_data_dir();
        if (!data)
            return pf_cli_error(PF_EXIT_FAIL, CMD,
                                "the tokenizer files were not found; pass --tokenizers DIR (the data/tokenizers folder "
                                "of the pflow source tree) or set PF_DATA_DIR to the data folder");
        snprintf(tok_buf, sizeof tok_buf, "%s/tokenizers", data);
        tok = tok_buf;
    }
    pf_tiny_model_spec spec;
    double t0 = pf_time_now();
    if (pf_tiny_model_spec_default(variant, &spec) != PF_OK)
        return pf_cli_error(PF_EXIT_FAIL, CMD, "%s", pf_last_error());
    memcpy(spec.resolutions, res, sizeof res);
    if (pf_tiny_model_write(dir, &spec, tok, seed) != PF_OK)
        return pf_cli_error(PF_EXIT_FAIL, CMD, "%s", pf_last_error());
    printf("wrote a tiny %s model with random weights (seed %llu) to %s in %.1f s\n",
           variant == PF_DIT_FLUX ? "miniFLUX" : "SD3", (unsigned long long)seed, dir, pf_time_now() - t0);
    printf(
        "  its videos are noise; try: pflow generate -m %s -p \"a red fox running through snow\" --temp 2 -o fox.mp4\n",
        dir);
    return PF_EXIT_OK;
}
