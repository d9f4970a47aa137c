/*
 * pflow generate: a video (or an image) from a prompt, optionally with a first-frame
 * image. Every setting, the model folder, the input image and the output path are
 * checked before anything heavy starts; the output appears only once it is complete.
 */
#include "pflow_cli.h"

#include "pf_backend.h"
#include "pf_image.h"
#include "pf_model_inspect.h"
#include "pf_pipeline.h"
#include "pf_safetensors.h"
#include "pf_video.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CMD "generate"

static void generate_usage(FILE *f) {
    fprintf(
        f,
        "NAME\n"
        "    pflow generate - make a video (or an image) from a text prompt with a Pyramid Flow model\n"
        "\n"
        "SYNOPSIS\n"
        "    pflow generate -m MODEL_DIR -p PROMPT [OPTIONS]\n"
        "    pflow generate -m MODEL_DIR -p PROMPT --image IMAGE [OPTIONS]\n"
        "\n"
        "DESCRIPTION\n"
        "    Opens a model folder as downloaded from Hugging Face (rain1011/pyramid-flow-miniflux or\n"
        "    rain1011/pyramid-flow-sd3, unchanged) or written by 'pflow make-tiny-model', encodes the prompt\n"
        "    with the folder's text encoders, samples with the pyramidal flow-matching pipeline, decodes\n"
        "    with the causal video VAE and writes the result. Text to video by default; --image turns it\n"
        "    into image to video (the image is the first frame); --res image (miniFLUX's image checkpoint)\n"
        "    makes one picture.\n"
        "\n"
        "    Length is counted in latent frames (temp): temp T gives 1 + 8 (T - 1) frames at 24 fps, so\n"
        "    temp 16 = 121 frames = 5 s and temp 31 = 241 frames = 10 s. The 384p checkpoints were trained\n"
        "    for up to 5 s, the 768p ones for up to 10 s.\n"
        "\n"
        "    The options, the model folder (every component), the image and the output path are checked\n"
        "    before the model is loaded, so a mistake costs a second, not an hour. Defaults are those of\n"
        "    the official README for the mode and resolution.\n"
        "\n"
        "OPTIONS\n"
        "  Model and prompt\n"
        "    -m, --model DIR        the model folder (required)\n"
        "    -p, --prompt TEXT      what the video shows (required); \", hyper quality, Ultra HD, 8K\" is\n"
        "                           appended, as the official pipeline does\n"
        "    -n, --negative TEXT    what to steer away from (default: the official negative prompt,\n"
        "                           \"cartoon style, worst quality, low quality, blurry, ...\"; \"\" for none)\n"
        "    --image FILE           image to video: the first frame (PNG, JPEG, WebP, BMP, ...), scaled to\n"
        "                           cover the video size and centre-cropped (the official resize_crop_image)\n"
        "\n"
        "  Size and length\n"
        "    --res 384p|768p|image  the checkpoint, diffusion_transformer_<res>/ (default: the one the folder\n"
        "                           has; with several, 384p, then 768p, then image)\n"
        "    --width W, --height H  size in pixels, multiples of 64 (default: 640x384 at 384p, 1280x768 at\n"
        "                           768p, 1024x1024 for images; the checkpoints were trained at those sizes)\n"
        "    --duration SECONDS     length at 24 fps, rounded up to whole latent frames (default 5)\n"
        "    --temp T               length in latent frames, 1 + 8 (T - 1) video frames (default 16)\n"
        "    --force                allow longer videos than the checkpoint was trained for\n"
        "\n"
        "  Sampling\n"
        "    --steps A,B,C          denoising steps per pyramid stage for the first frame, and for every\n"
        "                           frame in image to video (default 20,20,20; image to video 10,10,10)\n"
        "    --video-steps A,B,C    steps per stage for the later frames (default 10,10,10)\n"
        "    --cfg X                classifier-free guidance scale of the first frame; 0 turns guidance off\n"
        "                           (default 7 at 384p, 9 at 768p and for images; image to video 7)\n"
        "    --video-cfg X          guidance scale of the later frames (default 5; image to video 4)\n"
        "    --linear-guidance      lower both scales by 0.5 per latent frame, down to 2\n"
        "    --seed N               seed of the random draws (default: a new one each run; the summary\n"
        "                           prints it so that the run can be repeated)\n"
        "    --noise FILE           replay every random draw from a safetensors file with the golden pack's\n"
        "                           names (in.noise_init, in.block_noise_000, ..., in.posterior_noise)\n"
        "\n"
        "  Compute\n"
        "    --backend B            cpu, cuda or vulkan (default: the best one of this build that finds a\n"
        "                           device; 'pflow devices' lists them)\n"
        "    --device N             device index (default: $PF_CUDA_DEVICE or $PF_VK_DEVICE, else the first)\n"
        "    --dtype f32|bf16       weights and latents (default: bf16 on GPUs, as the official run; f32 on\n"
        "                           the CPU)\n"
        "    --act auto|f32|bf16    the DiT's activations (default auto: bf16 with bf16 weights on a GPU,\n"
        "                           as the official bf16 autocast run and many times faster there; else f32)\n"
        "    --threads N            CPU threads (default: $PF_THREADS, else every core)\n"
        "    --vae-tiling, --no-vae-tiling\n"
        "                           decode in overlapping tiles, as the official pipeline (default: on; off\n"
        "                           needs more memory)\n"
        "    --vae-tile PX          tile size in pixels, a multiple of 32 (default 256; 128 saves memory)\n"
        "\n"
        "  Output\n"
        "    -o, --output FILE      .mp4 (H.264, the default), .webm (VP9), .gif, or numbered PNG frames\n"
        "                           with a pattern such as frames_%%04d.png; a one-frame result may also be a\n"
        "                           plain .png (default: pflow_DATE_TIME.mp4, .png for images)\n"
        "    --fps X                frames per second of the file (default 24, the model's frame rate)\n"
        "    -q, --quiet            no progress lines\n"
        "    --dry-run              check everything, print the plan (settings, DiT calls, planned memory)\n"
        "                           and stop before loading the model\n"
        "    -h, --help             this text\n"
        "\n"
        "PROGRESS AND INTERRUPTION\n"
        "    On stderr, one line per denoising step (latent frame, pyramid stage, step) and per VAE chunk\n"
        "    with the time elapsed and an estimate of the time left, redrawn in place on a terminal and\n"
        "    printed line by line otherwise. Ctrl-C stops after the current step and writes nothing; a\n"
        "    second Ctrl-C quits at once. The summary on stdout gives the time spent in text encoding,\n"
        "    the DiT and the VAE, the peak memory, and the file written (frames, size, fps).\n"
        "\n"
        "EXAMPLES\n"
        "    A tiny random-weight model (noise, in seconds), then a short clip:\n"
        "        pflow make-tiny-model tiny\n"
        "        pflow generate -m tiny -p \"a red fox running through snow\" --temp 2 -o fox.mp4\n"
        "    The released miniFLUX model, 5 s at 384p:\n"
        "        pflow generate -m pyramid-flow-miniflux -p \"A movie trailer featuring a space man\" -o trailer.mp4\n"
        "    10 s at 768p, frames as PNG files:\n"
        "        pflow generate -m pyramid-flow-miniflux --res 768p --duration 10 -p \"fireworks over a city\" \\\n"
        "            -o frames/f_%%04d.png\n"
        "    Image to video:\n"
        "        pflow generate -m pyramid-flow-miniflux --image cat.jpg -p \"a cat wakes up and yawns\" -o cat.mp4\n"
        "    One image with miniFLUX's image checkpoint:\n"
        "        pflow generate -m pyramid-flow-miniflux --res image -p \"a lighthouse at dawn\" -o lighthouse.png\n"
        "\n"
        "EXIT STATUS\n"
        "    0  the output was written\n"
        "    1  the generation could not be done (the message says why and what to do); nothing is written\n"
        "    2  bad command line (unknown option, malformed or out-of-range value)\n"
        "    130  interrupted (Ctrl-C); nothing is written\n"
        "\n"
        "ENVIRONMENT\n"
        "    PF_LOG=error|warn|info|debug   how much the library reports on stderr (default info)\n"
        "    PF_THREADS=N                   CPU threads when --threads is not given\n"
        "    PF_CPU_GEMM=auto|blas|portable the CPU's matrix multiplication (see README)\n"
        "    PF_CUDA_DEVICE=N               CUDA device when --device is not given\n"
        "    PF_VK_DEVICE=N                 Vulkan device when --device is not given\n");
}

typedef struct gen_opts {
    const char *model, *prompt, *negative, *image, *res, *noise, *backend, *output;
    int width, height, temp, threads, device, vae_tile;
    double duration, fps, cfg, video_cfg;
    int steps[3], video_steps[3];
    bool steps_set, video_steps_set, cfg_set, video_cfg_set, seed_set, linear, force, quiet, dry_run;
    int vae_tiling; /* -1 default, 0 off, 1 on */
    uint64_t seed;
    pf_precision dtype, act;
} gen_opts;

/* 0: parsed; 1: --help printed; 2: usage error (printed). */
static int generate_parse(int argc, char **argv, gen_opts *o) {
    memset(o, 0, sizeof *o);
    o->device = -1;
    o->vae_tiling = -1;
    o->duration = -1.0;
    bool bad = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            generate_usage(stdout);
            return 1;
        }
        if (!strcmp(a, "--force")) o->force = true;
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) o->quiet = true;
        else if (!strcmp(a, "--dry-run")) o->dry_run = true;
        else if (!strcmp(a, "--linear-guidance")) o->linear = true;
        else if (!strcmp(a, "--vae-tiling")) o->vae_tiling = 1;
        else if (!strcmp(a, "--no-vae-tiling")) o->vae_tiling = 0;
        else if ((v = pf_cli_value(CMD, argc, argv, &i, "--model", "-m", &bad))) o->model = v;
        else if ((v = pf_cli_value(CMD, argc, argv, &i, "--prompt", "-p", &bad))) o->prompt = v;
        else if ((v = pf_cli_value(CMD, argc, argv, &i, "--negative", "-n", &bad))) o->negative = v;
        else if ((v = pf_cli_value(CMD, argc, argv, &i, "--image", NULL, &bad))) o->image = v;
        else if ((v = pf_cli_value(CMD, argc, argv, &i, "--output", "-o", &bad))) o->output = v;
        else if ((v = pf_cli_value(CMD, argc, argv, &i, "--noise", NULL, &bad))) o->noise = v;
        else if ((v = pf_cli_value(CMD, argc, argv, &i, "--res", NULL, &bad))) {
            if (strcmp(v, "384p") && strcmp(v, "768p") && strcmp(v, "image"))
                return pf_cli_error(PF_EXIT_USAGE, CMD, "--res takes 384p, 768p or image, not '%s'", v);
            o->res = v;
        } else if ((v = pf_cli_value(CMD, argc, argv, &i, "--backend", NULL, &bad))) {
            if (strcmp(v, "cpu") && strcmp(v, "cuda") && strcmp(v, "vulkan"))
                return pf_cli_error(PF_EXIT_USAGE, CMD, "--backend takes cpu, cuda or vulkan, not '%s'", v);
            o->backend = v;
        } else if ((v = pf_cli_value(CMD, argc, argv, &i, "--dtype", NULL, &bad))) {
            if (!strcmp(v, "f32")) o->dtype = PF_PRECISION_F32;
            else if (!strcmp(v, "bf16")) o->dtype = PF_PRECISION_BF16;
            else return pf_cli_error(PF_EXIT_USAGE, CMD, "--dtype takes f32 or bf16, not '%s'", v);
        } else if ((v = pf_cli_value(CMD, argc, argv, &i, "--act", NULL, &bad))) {
            if (!strcmp(v, "auto")) o->act = PF_PRECISION_AUTO;
            else if (!strcmp(v, "f32")) o->act = PF_PRECISION_F32;
            else if (!strcmp(v, "bf16")) o->act = PF_PRECISION_BF16;
            else return pf_cli_error(PF_EXIT_USAGE, CMD, "--act takes auto, f32 or bf16, not '%s'", v);
        } else if ((v = pf_cli_value(CMD, argc, argv, &i, "--width", NULL, &bad))) {
            if (!pf_cli_int(CMD, "--width", v, 64, 16384, &o->width)) return PF_EXIT_USAGE;
        } else if ((v = pf_cli_value(CMD, argc, argv, &i, "--height", NULL, &bad))) {
            if (!pf_cli_int(CMD, "--height", v, 64, 16384, &o->height)) return PF_EXIT_USAGE;
        } else if ((v = pf_cli_value(CMD, argc, argv, &i, "--temp", NULL, &bad))) {
            if (!pf_cli_int(CMD, "--temp", v, 1, 1024, &o->temp)) return PF_EXIT_USAGE;
        } else if ((v = pf_cli_value(CMD, argc, argv, &i, "--duration", NULL, &bad))) {
            if (!pf_cli_double(CMD, "--duration", v, 0.001, 3600.0, &o->duration)) return PF_EXIT_USAGE;
        } else if ((v = pf_cli_value(CMD, argc, argv, &i, "--steps", NULL, &bad))) {
            if (!pf_cli_int3(CMD, "--steps", v, 1, 10000, o->steps)) return PF_EXIT_USAGE;
            o->steps_set = true;
        } else if ((v = pf_cli_value(CMD, argc, argv, &i, "--video-steps", NULL, &bad))) {
            if (!pf_cli_int3(CMD, "--video-steps", v, 1, 10000, o->video_steps)) return PF_EXIT_USAGE;
            o->video_steps_set = true;
        } else if ((v = pf_cli_value(CMD, argc, argv, &i, "--cfg", NULL, &bad))) {
            if (!pf_cli_double(CMD, "--cfg", v, 0.0, 100.0, &o->cfg)) return PF_EXIT_USAGE;
            o->cfg_set = true;
        } else if ((v = pf_cli_value(CMD, argc, argv, &i, "--video-cfg", NULL, &bad))) {
            if (!pf_cli_double(CMD, "--video-cfg", v, 0.0, 100.0, &o->video_cfg)) return PF_EXIT_USAGE;
            o->video_cfg_set = true;
        } else if ((v = pf_cli_value(CMD, argc, argv, &i, "--seed", NULL, &bad))) {
            if (!pf_cli_u64(CMD, "--seed", v, &o->seed)) return PF_EXIT_USAGE;
            o->seed_set = true;
        } else if ((v = pf_cli_value(CMD, argc, argv, &i, "--fps", NULL, &bad))) {
            if (!pf_cli_double(CMD, "--fps", v, 0.1, 1000.0, &o->fps)) return PF_EXIT_USAGE;
        } else if ((v = pf_cli_value(CMD, argc, argv, &i, "--threads", NULL, &bad))) {
            if (!pf_cli_int(CMD, "--threads", v, 0, 4096, &o->threads)) return PF_EXIT_USAGE;
        } else if ((v = pf_cli_value(CMD, argc, argv, &i, "--device", NULL, &bad))) {
            if (!pf_cli_int(CMD, "--device", v, 0, 255, &o->device)) return PF_EXIT_USAGE;
        } else if ((v = pf_cli_value(CMD, argc, argv, &i, "--vae-tile", NULL, &bad))) {
            if (!pf_cli_int(CMD, "--vae-tile", v, 32, 65536, &o->vae_tile)) return PF_EXIT_USAGE;
            if (o->vae_tile % 32)
                return pf_cli_error(PF_EXIT_USAGE, CMD, "--vae-tile needs a multiple of 32 pixels, not %d",
                                    o->vae_tile);
        } else if (bad) {
            return PF_EXIT_USAGE;
        } else if (a[0] == '-') {
            return pf_cli_error(PF_EXIT_USAGE, CMD, "unknown option '%s' ('pflow generate --help' lists them)", a);
        } else {
            return pf_cli_error(PF_EXIT_USAGE, CMD,
                                "unexpected argument '%s' (the prompt goes after -p, in quotes if it has spaces)", a);
        }
        if (bad) return PF_EXIT_USAGE;
    }
    if (!o->model || !o->prompt)
        return pf_cli_error(PF_EXIT_USAGE, CMD, "%s ('pflow generate --help' describes the options)",
                            !o->model && !o->prompt ? "give a model folder (-m DIR) and a prompt (-p TEXT)"
                            : !o->model             ? "give a model folder (-m DIR)"
                                                    : "give a prompt (-p TEXT)");
    if (o->temp && o->duration > 0) return pf_cli_error(PF_EXIT_USAGE, CMD, "give --temp or --duration, not both");
    if (!*o->model) return pf_cli_error(PF_EXIT_USAGE, CMD, "-m needs a folder, not an empty string");
    return 0;
}

/* The plan of one run, resolved from the options and the folder. */
typedef struct gen_plan {
    pf_model_inventory inv;
    const char *res;
    pf_generate_params p;
    int W, H, frames;
    char output[4096];
    bool single_png; /* a one-frame result written as a plain .png */
    pf_video_opts vo;
    pf_image image; /* i2v input at the video size */
} gen_plan;

static const char *gen_mode_name(pf_mode m) {
    return m == PF_MODE_I2V ? "image to video" : m == PF_MODE_T2I ? "text to image" : "text to video";
}

/* Output path checks. A plain .png is fine for one frame; otherwise pf_video_check_output. */
static int gen_check_output(const gen_opts *o, gen_plan *pl) {
    if (o->output) {
        if (!*o->output) return pf_cli_error(PF_EXIT_USAGE, CMD, "-o needs a file name, not an empty string");
        snprintf(pl->output, sizeof pl->output, "%s", o->output);
    } else {
        char stamp[64];
        time_t now = time(NULL);
        struct tm tmv;
        localtime_r(&now, &tmv);
        strftime(stamp, sizeof stamp, "%Y%m%d_%H%M%S", &tmv);
        snprintf(pl->output, sizeof pl->output, "pflow_%s.%s", stamp, pl->frames == 1 ? "png" : "mp4");
    }
    pl->vo.fps = o->fps > 0 ? o->fps : PF_VIDEO_DEFAULT_FPS;
    pf_video_format f = pf_video_format_from_path(pl->output);
    if (f == PF_VIDEO_PNG && !strchr(strrchr(pl->output, '/') ? strrchr(pl->output, '/') : pl->output, '%')) {
        if (pl->frames != 1)
            return pf_cli_error(PF_EXIT_FAIL, CMD,
                                "output %s is one picture but the video has %d frames: give a frame number pattern "
                                "such as frames_%%04d.png, or .mp4, .webm or .gif",
                                pl->output, pl->frames);
        if (!pf_video_format_available(PF_VIDEO_PNG))
            return pf_cli_error(PF_EXIT_FAIL, CMD,
                                "output %s: this build has no PNG support (libpng); rebuild with libpng-dev "
                                "installed (PF_PNG=ON), or write .mp4/.webm/.gif",
                                pl->output);
        /* the folder must exist and take a new file; checked as for videos, on a pattern beside it */
        char probe[4200];
        snprintf(probe, sizeof probe, "%s.%%d.png", pl->output);
        if (pf_video_check_output(probe, &pl->vo, pl->W, pl->H) != PF_OK)
            return pf_cli_error(PF_EXIT_FAIL, CMD, "output: %s", pf_last_error());
        struct stat st;
        if (stat(pl->output, &st) == 0 && S_ISDIR(st.st_mode))
            return pf_cli_error(PF_EXIT_FAIL, CMD, "output %s is a folder; give a file name", pl->output);
        pl->single_png = true;
        return 0;
    }
    if (pf_video_check_output(pl->output, &pl->vo, pl->W, pl->H) != PF_OK)
        return pf_cli_error(PF_EXIT_FAIL, CMD, "output: %s", pf_last_error());
    return 0;
}

/* Everything that needs no model: returns 0 or an exit code (message printed). */
static int generate_plan(const gen_opts *o, gen_plan *pl) {
    if (pf_model_inventory_read(o->model, &pl->inv) != PF_OK)
        return pf_cli_error(PF_EXIT_FAIL, CMD, "%s", pf_last_error());
    if (pf_model_inventory_check(&pl->inv, o->res, true) != PF_OK)
        return pf_cli_error(PF_EXIT_FAIL, CMD, "%s", pf_last_error());
    pl->res = o->res; /* else the first complete one: 384p, 768p, image */
    for (int i = 0; i < pl->inv.n && !pl->res; i++) {
        const pf_component *c = &pl->inv.comp[i];
        if (c->kind == PF_COMP_DIT && c->complete) pl->res = c->subdir + strlen("diffusion_transformer_");
    }
    const bool image_ckpt = !strcmp(pl->res, "image");
    if (image_ckpt && o->image)
        return pf_cli_error(PF_EXIT_USAGE, CMD,
                            "--image makes a video, but --res image selects the image checkpoint; use --res 384p or "
                            "768p for image to video");
    pf_mode mode = image_ckpt ? PF_MODE_T2I : o->image ? PF_MODE_I2V : PF_MODE_T2V;
    pf_generate_params *p = &pl->p;
    pf_generate_params_default(p, mode);
    /* the README's settings: guidance 9 at 768p ("set it to 7 for 384p"), 9 for images */
    if (mode == PF_MODE_T2V && !strcmp(pl->res, "768p")) p->guidance = 9.0f;

    /* size */
    int dw, dh;
    pf_model_default_size(pl->res, &dw, &dh);
    pl->W = o->width ? o->width : dw;
    pl->H = o->height ? o->height : dh;
    p->width = pl->W;
    p->height = pl->H;

    /* length */
    int max_temp = pf_model_max_temp(pl->res);
    if (o->temp) p->temp = o->temp;
    else if (o->duration > 0) p->temp = 1 + (int)ceil((o->duration * 24.0 - 1.0) / 8.0 - 1e-9);
    if (p->temp < 1) p->temp = 1;
    if (mode == PF_MODE_T2I && (o->temp > 1 || o->duration > 0))
        return pf_cli_error(PF_EXIT_USAGE, CMD,
                            "the image checkpoint (--res image) makes one picture: drop --temp/--duration, or use "
                            "--res 384p or 768p for a video");
    if (mode == PF_MODE_T2I) p->temp = 1;
    if (mode == PF_MODE_I2V && p->temp < 2)
        return pf_cli_error(PF_EXIT_USAGE, CMD,
                            "image to video needs at least 2 latent frames (the image is the first): use --temp 2 "
                            "or more, or --duration 0.4 or more");
    if (p->temp > max_temp && !o->force) {
        int frames = 1 + 8 * (p->temp - 1), max_frames = 1 + 8 * (max_temp - 1);
        return pf_cli_error(PF_EXIT_FAIL, CMD,
                            "temp %d (%d frames, %.2f s) is longer than the %s checkpoint was trained for: up to "
                            "temp %d (%d frames, %.2f s). Use --temp %d or less%s, or --force to try anyway",
                            p->temp, frames, frames / 24.0, pl->res, max_temp, max_frames, max_frames / 24.0, max_temp,
                            !strcmp(pl->res, "384p") && pl->inv.has_res[1] ? " (or --res 768p for up to 10 s)" : "");
    }
    pl->frames = 1 + 8 * (p->temp - 1);

    /* sampling */
    if (o->steps_set) memcpy(p->steps, o->steps, sizeof p->steps);
    if (o->video_steps_set) memcpy(p->video_steps, o->video_steps, sizeof p->video_steps);
    if (o->cfg_set) p->guidance = (float)o->cfg;
    if (o->video_cfg_set) p->video_guidance = (float)o->video_cfg;
    p->linear_guidance = o->linear;
    if (mode != PF_MODE_T2V && o->video_steps_set)
        fprintf(stderr, "pflow generate: note: --video-steps is not used by %s (--steps serves every frame)\n",
                gen_mode_name(mode));
    if (o->vae_tiling >= 0) p->vae_tiling = o->vae_tiling != 0;
    if (o->vae_tile) p->vae_tile_size = o->vae_tile;
    if (o->noise) {
        pf_st_file *f = NULL;
        if (pf_st_open(o->noise, &f) != PF_OK) return pf_cli_error(PF_EXIT_FAIL, CMD, "--noise: %s", pf_last_error());
        pf_st_close(f);
        p->noise_file = o->noise;
        if (o->seed_set)
            fprintf(stderr, "pflow generate: note: --seed is not used with --noise (the file has every draw)\n");
    }
    p->seed = o->seed;
    if (!o->seed_set && !o->noise) p->seed = (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid();
    if (pf_generate_params_check(p) != PF_OK) {
        /* sizes: add what the checkpoint was trained at */
        return pf_cli_error(PF_EXIT_USAGE, CMD, "%s (the %s checkpoint was trained at %dx%d)", pf_last_error(), pl->res,
                            dw, dh);
    }
    if (pl->W != dw || pl->H != dh)
        fprintf(stderr,
                "pflow generate: note: the %s checkpoint was trained at %dx%d; other sizes rely on position "
                "extrapolation and may look worse\n",
                pl->res, dw, dh);

    int rc = gen_check_output(o, pl);
    if (rc) return rc;

    if (o->image) {
        pf_image in;
        if (pf_image_read(o->image, &in) != PF_OK)
            return pf_cli_error(PF_EXIT_FAIL, CMD, "--image: %s (give a PNG, JPEG, WebP or BMP file)", pf_last_error());
        pf_status st = pf_image_resize_cover_crop(&in, pl->W, pl->H, &pl->image);
        pf_image_free(&in);
        if (st != PF_OK) return pf_cli_error(PF_EXIT_FAIL, CMD, "--image %s: %s", o->image, pf_last_error());
    }
    return 0;
}

/* One line per compiled backend: what it found. */
static void gen_backends_found(char *buf, size_t n) {
    buf[0] = '\0';
    for (int i = 0; i < pf_backend_count(); i++) {
        const char *name = pf_backend_name_at(i);
        pf_backend *be = NULL;
        size_t o = strlen(buf);
        if (pf_backend_create(name, NULL, &be) == PF_OK) {
            pf_backend_info bi;
            pf_backend_get_info(be, &bi);
            snprintf(buf + o, n - o, "%s%s (%s)", o ? "; " : "", name, bi.device);
            pf_backend_free(be);
        } else {
            snprintf(buf + o, n - o, "%s%s: %s", o ? "; " : "", name, pf_last_error());
        }
    }
    pf_clear_error();
}

static int gen_check_backend(const gen_opts *o) {
    if (!o->backend) return 0;
    pf_backend_options bo = {.device = o->device, .threads = 1, .reference = false};
    pf_backend *be = NULL;
    if (pf_backend_create(o->backend, &bo, &be) == PF_OK) {
        pf_backend_free(be);
        return 0;
    }
    char why[1024], found[2048];
    snprintf(why, sizeof why, "%s", pf_last_error());
    gen_backends_found(found, sizeof found);
    return pf_cli_error(PF_EXIT_FAIL, CMD,
                        "backend %s is not available: %s. This build found: %s. Leave --backend out to use the best "
                        "available one ('pflow devices' lists them)",
                        o->backend, why, found[0] ? found : "nothing");
}

static int gen_interrupted(pf_cli_progress *pg) {
    pf_cli_progress_end(pg);
    return pf_cli_error(PF_EXIT_INTERRUPTED, CMD, "interrupted; nothing was written");
}

/* Write the frames; the output appears only when complete. */
static pf_status gen_write(const gen_plan *pl, const pf_video *v) {
    if (pl->single_png) return pf_image_write_png(pl->output, v->rgb, v->width, v->height);
    pf_video_writer *w = NULL;
    PF_TRY(pf_video_open(&w, pl->output, v->width, v->height, &pl->vo));
    size_t frame = (size_t)v->width * v->height * 3;
    for (int k = 0; k < v->frames; k++) {
        if (pf_cli_interrupted()) {
            pf_video_discard(w);
            return pf_error(PF_ERR_CANCELLED, "interrupted while writing %s", pl->output);
        }
        pf_status rc = pf_video_write_frame(w, v->rgb + frame * (size_t)k);
        if (rc != PF_OK) {
            pf_video_discard(w);
            return rc;
        }
    }
    return pf_video_close(w);
}

/* "settings: steps ..., guidance ..." */
static void gen_print_settings(const gen_plan *pl) {
    const pf_generate_params *p = &pl->p;
    char vsteps[64] = "";
    if (p->mode == PF_MODE_T2V && p->temp > 1)
        snprintf(vsteps, sizeof vsteps, ", video steps %d,%d,%d", p->video_steps[0], p->video_steps[1],
                 p->video_steps[2]);
    char vcfg[48] = "";
    if (p->mode != PF_MODE_T2I && p->temp > 1) snprintf(vcfg, sizeof vcfg, ", video guidance %g", p->video_guidance);
    char tiles[48];
    if (p->vae_tiling) snprintf(tiles, sizeof tiles, "tiled %d px", p->vae_tile_size);
    else snprintf(tiles, sizeof tiles, "not tiled");
    printf("settings: steps %d,%d,%d%s, guidance %g%s%s, VAE decode %s\n", p->steps[0], p->steps[1], p->steps[2],
           vsteps, p->guidance, vcfg, p->linear_guidance ? " (linear)" : "", tiles);
}

static void gen_summary(const gen_opts *o, const gen_plan *pl, const pf_model_info *mi, const pf_generate_stats *st,
                        const pf_video *v, double t_load, double t_text, double t_write, double t_all) {
    char a[32], b[32], c[32], d[32], e[32], f[32], g[32], h[32];
    double dit = st->dit_s[0] + st->dit_s[1] + st->dit_s[2];
    double other = st->total_s - dit - st->vae_decode_s - st->vae_encode_s;
    printf("%s, %s %s, %s weights, %s activations on %s (%s)\n", gen_mode_name(pl->p.mode),
           mi->variant == PF_VARIANT_SD3 ? "SD3" : "miniFLUX", pl->res, mi->precision == PF_PRECISION_BF16 ? "bf16" : "f32",
           mi->activations == PF_PRECISION_BF16 ? "bf16" : "f32", mi->backend, mi->device);
    char vae[80];
    if (st->vae_encode_s > 0)
        snprintf(vae, sizeof vae, "VAE %s (decode) + %s (image encode)", pf_cli_duration(st->vae_decode_s, e, sizeof e),
                 pf_cli_duration(st->vae_encode_s, f, sizeof f));
    else snprintf(vae, sizeof vae, "VAE decode %s", pf_cli_duration(st->vae_decode_s, e, sizeof e));
    printf("time: %s in all: loading %s, text encoding %s, DiT %s (%d calls), %s, other %s, writing %s\n",
           pf_cli_duration(t_all, a, sizeof a), pf_cli_duration(t_load, b, sizeof b),
           pf_cli_duration(t_text, c, sizeof c), pf_cli_duration(dit, d, sizeof d), st->dit_calls, vae,
           pf_cli_duration(other > 0 ? other : 0, g, sizeof g), pf_cli_duration(t_write, h, sizeof h));
    char m1[32], m2[32], m3[32];
    printf("memory: peak %s on %s (weights %s), host peak %s\n",
           pf_fmt_bytes((double)st->device_peak_bytes, m1, sizeof m1), mi->backend,
           pf_fmt_bytes((double)st->weight_bytes, m2, sizeof m2),
           pf_fmt_bytes((double)st->host_peak_bytes, m3, sizeof m3));
    struct stat fs;
    char size[32] = "";
    if (!pl->single_png && pf_video_format_from_path(pl->output) != PF_VIDEO_PNG && stat(pl->output, &fs) == 0)
        snprintf(size, sizeof size, ", %s", pf_fmt_bytes((double)fs.st_size, m1, sizeof m1));
    else if (pl->single_png && stat(pl->output, &fs) == 0)
        snprintf(size, sizeof size, ", %s", pf_fmt_bytes((double)fs.st_size, m1, sizeof m1));
    if (pl->single_png) printf("wrote %s: 1 image, %dx%d%s\n", pl->output, v->width, v->height, size);
    else
        printf("wrote %s: %d frames, %dx%d, %g fps (%.2f s)%s\n", pl->output, v->frames, v->width, v->height,
               pl->vo.fps, v->frames / pl->vo.fps, size);
    gen_print_settings(pl);
    if (pl->p.noise_file) printf("noise: replayed from %s\n", pl->p.noise_file);
    else
        printf("seed: %llu%s\n", (unsigned long long)pl->p.seed,
               o->seed_set ? "" : " (pass --seed to repeat this run)");
    if (pl->inv.tiny)
        printf("note: %s has random weights (pflow make-tiny-model): the %s is noise by design\n", o->model,
               pl->frames == 1 ? "image" : "video");
}

/* --dry-run: the plan, without loading anything. */
static void gen_dry_run(const gen_opts *o, const gen_plan *pl, const pf_cli_progress *pg) {
    const pf_generate_params *p = &pl->p;
    printf("dry run: %s with %s (%s %s), %dx%d", gen_mode_name(p->mode), o->model,
           pl->inv.variant == PF_DIT_MMDIT ? "SD3" : "miniFLUX", pl->res, pl->W, pl->H);
    if (pl->frames > 1) printf(", %d frames (temp %d, %.2f s at 24 fps)", pl->frames, p->temp, pl->frames / 24.0);
    if (pg->n_calls) printf(", %d DiT calls", pg->n_calls);
    printf("\n");
    gen_print_settings(pl);
    /* the precisions pf_model_open would pick: bf16 on GPUs, f32 on the CPU */
    const char *be = o->backend ? o->backend : pf_backend_name_at(0);
    pf_backend_info bi = {0};
    snprintf(bi.name, sizeof bi.name, "%s", be);
    pf_dtype dt = pf_api_weight_dtype(o->dtype, &bi), act = pf_api_act_dtype(o->act, dt, &bi);
    printf("precision: %s weights, %s activations on %s\n", pf_dtype_name(dt), pf_dtype_name(act), be);
    pf_mem_estimate e;
    char b1[32], b2[32];
    if (p->mode != PF_MODE_I2V && pf_model_estimate_memory(&pl->inv, pl->res, dt, act, pl->W, pl->H, p->temp, &e) == PF_OK)
        printf("memory: about %s on %s in %s (planned; host %s for the decoded video)\n",
               pf_fmt_bytes((double)e.device_peak, b1, sizeof b1), be, pf_dtype_name(dt),
               pf_fmt_bytes((double)e.host_video, b2, sizeof b2));
    pf_clear_error();
    printf("output: %s\n", pl->output);
    printf("nothing was loaded or written; drop --dry-run to generate\n");
}

int pf_cmd_generate(int argc, char **argv) {
    gen_opts o;
    int rc = generate_parse(argc, argv, &o);
    if (rc) return rc == 1 ? PF_EXIT_OK : rc;
    gen_plan *pl = calloc(1, sizeof *pl);
    if (!pl) return pf_cli_error(PF_EXIT_FAIL, CMD, "out of memory");
    rc = generate_plan(&o, pl);
    if (!rc) rc = gen_check_backend(&o);
    if (rc) {
        pf_image_free(&pl->image);
        free(pl);
        return rc;
    }
    pf_generate_params *p = &pl->p;
    pf_cli_progress pg;
    pf_cli_progress_init(&pg, p, pl->W, pl->H, o.quiet);
    if (o.dry_run) {
        gen_dry_run(&o, pl, &pg);
        pf_cli_progress_free(&pg);
        pf_image_free(&pl->image);
        free(pl);
        return PF_EXIT_OK;
    }
    pf_cli_signals_install();
    double t_start = pf_time_now();
    pf_model *m = NULL;
    pf_prompt *pr = NULL;
    pf_video v = {0};
    pf_model_info mi;
    double t_load = 0, t_text = 0, t_write = 0;

    pf_model_options mo;
    pf_model_options_default(&mo);
    mo.backend = o.backend;
    mo.device = o.device;
    mo.threads = o.threads;
    mo.precision = o.dtype;
    mo.activations = o.act;
    mo.resolution = pl->res;
    if (pl->frames == 1)
        pf_cli_status(&pg, "%s with %s (%s), %dx%d; loading the model", gen_mode_name(p->mode), o.model, pl->res, pl->W,
                      pl->H);
    else
        pf_cli_status(&pg, "%s with %s (%s), %dx%d, %d frames (temp %d); loading the model", gen_mode_name(p->mode),
                      o.model, pl->res, pl->W, pl->H, pl->frames, p->temp);
    if (pf_model_open(o.model, &mo, &m) != PF_OK) {
        rc = pf_cli_error(PF_EXIT_FAIL, CMD, "%s", pf_last_error());
        goto done;
    }
    t_load = pf_time_now() - t_start;
    pf_model_get_info(m, &mi);
    if (pf_cli_interrupted()) {
        rc = gen_interrupted(&pg);
        goto done;
    }
    pf_cli_status(&pg, "%s on %s (%s), %s weights, %s activations; encoding the prompt",
                  mi.variant == PF_VARIANT_SD3 ? "SD3" : "miniFLUX", mi.backend, mi.device,
                  mi.precision == PF_PRECISION_BF16 ? "bf16" : "f32", mi.activations == PF_PRECISION_BF16 ? "bf16" : "f32");
    double t0 = pf_time_now();
    if (pf_prompt_encode(m, o.prompt, o.negative, &pr) != PF_OK) {
        rc = pf_cli_error(PF_EXIT_FAIL, CMD, "encoding the prompt: %s", pf_last_error());
        goto done;
    }
    t_text = pf_time_now() - t0;
    if (pf_cli_interrupted()) {
        rc = gen_interrupted(&pg);
        goto done;
    }
    p->progress = pf_cli_progress_cb;
    p->progress_user = &pg;
    pf_rgb_image img = {.width = pl->image.width, .height = pl->image.height, .rgb = pl->image.rgb};
    pf_cli_status(&pg, "text encoders freed; loading the DiT and the VAE");
    pf_status st = pf_generate(m, pr, p->mode == PF_MODE_I2V ? &img : NULL, p, &v);
    pf_cli_progress_end(&pg);
    if (st == PF_ERR_CANCELLED || (st == PF_OK && pf_cli_interrupted())) {
        rc = gen_interrupted(&pg);
        goto done;
    }
    if (st != PF_OK) {
        rc = pf_cli_error(PF_EXIT_FAIL, CMD, "%s", pf_last_error());
        goto done;
    }
    t0 = pf_time_now();
    st = gen_write(pl, &v);
    t_write = pf_time_now() - t0;
    if (st == PF_ERR_CANCELLED) {
        rc = gen_interrupted(&pg);
        goto done;
    }
    if (st != PF_OK) {
        rc = pf_cli_error(PF_EXIT_FAIL, CMD, "writing %s: %s", pl->output, pf_last_error());
        goto done;
    }
    pf_generate_stats gs;
    pf_model_last_stats(m, &gs);
    pf_model_get_info(m, &mi); /* the weight size measured by the load */
    /* loading: the folder's checks in pf_model_open and the DiT + VAE load in pf_generate (the
     * text encoders load inside the text encoding time) */
    gen_summary(&o, pl, &mi, &gs, &v, t_load + gs.load_s, t_text, t_write, pf_time_now() - t_start);
    rc = PF_EXIT_OK;
done:
    pf_cli_signals_restore();
    pf_video_free(&v);
    pf_prompt_free(pr);
    pf_model_free(m);
    pf_cli_progress_free(&pg);
    pf_image_free(&pl->image);
    free(pl);
    return rc;
}
