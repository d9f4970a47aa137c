/*
 * The pflow binary end to end on a tiny model it writes itself: make-tiny-model, then
 * generate to every output kind (.mp4 checked with ffprobe, PNG frames, GIF), image to
 * video from a PNG, replay determinism (--noise, --seed), info, devices and the help
 * texts. Small sizes and one step per stage keep each run around a second.
 */
#include "pf_backend.h"
#include "pf_image.h"
#include "pf_safetensors.h"
#include "pf_test_cli.h"
#include "pf_video.h"

#include "pf_rng.h"

static char *g_dir;   /* scratch folder of this test program */
static char *g_model; /* the tiny miniFLUX model */

static bool setup(void) {
    if (g_model) return true;
    g_dir = pf_tm_mkdtemp("test_cli_generate");
    if (g_dir) g_model = pf_cli_tiny_model(g_dir, "tiny", "11");
    return g_model != NULL;
}

/* A fresh empty output folder under the scratch folder. */
static char *outdir(const char *tag) {
    char *d = pf_tm_join(g_dir, tag);
    if (d && mkdir(d, 0755) != 0) {
        free(d);
        return NULL;
    }
    return d;
}

/* generate with the fast settings (1 step per stage, 1 thread) plus extra args. */
static int gen(pf_cli_run *r, const char *const *extra) {
    const char *args[64] = {"generate", "-m",    g_model,         "-p",    "a red fox running through snow",
                            "--steps",  "1,1,1", "--video-steps", "1,1,1", "--threads",
                            "1"};
    int n = 11;
    for (int i = 0; extra[i] && n < 63; i++) args[n++] = extra[i];
    args[n] = NULL;
    return pf_cli_exec(r, g_dir, args);
}

/* 1 + 8 (temp - 1) frames of the requested size at 24 fps, by ffprobe. */
static pf_test_result test_mp4(void) {
    if (!setup()) return PF_T_FAIL;
    if (!pf_video_format_available(PF_VIDEO_MP4)) SKIP("no FFmpeg in this build");
    if (!pf_tm_have_ffprobe()) SKIP("no ffprobe");
    char *d = outdir("mp4");
    char *out = pf_tm_join(d, "fox.mp4");
    pf_cli_run r;
    const char *extra[] = {"--temp", "3", "--width", "256", "--height", "128", "--seed", "5", "-o", out, NULL};
    gen(&r, extra);
    CHECK_CLI_OK(&r);
    /* the summary: phases, memory, the file */
    CHECK(strstr(r.out, "text encoding") && strstr(r.out, "DiT") && strstr(r.out, "VAE decode"));
    CHECK(strstr(r.out, "memory: peak"));
    CHECK(strstr(r.out, "17 frames, 256x128, 24 fps"));
    CHECK(strstr(r.out, "seed: 5"));
    CHECK(strstr(r.out, " weights, ") && strstr(r.out, " activations on ")); /* what ran */
    CHECK(strstr(r.out, "random weights"));
    /* progress: plain lines (stderr is a file), one per DiT call and per VAE chunk */
    CHECK(strstr(r.err, "denoise  latent frame 3/3  stage 3/3  step 1/1  (DiT call 9/9)"));
    CHECK(strstr(r.err, "about") && strstr(r.err, "decode"));
    CHECK(!strchr(r.err, '\r'));
    pf_cli_run_free(&r);
    char probe[4096], v[64];
    CHECK(pf_tm_ffprobe(
        out,
        "-count_frames -select_streams v:0 -show_entries stream=codec_name,width,height,r_frame_rate,nb_read_frames",
        probe, sizeof probe));
    CHECK_MSG(!strcmp(pf_tm_field(probe, "codec_name", v, sizeof v), "h264"), "%s", probe);
    CHECK(!strcmp(pf_tm_field(probe, "width", v, sizeof v), "256"));
    CHECK(!strcmp(pf_tm_field(probe, "height", v, sizeof v), "128"));
    CHECK(!strcmp(pf_tm_field(probe, "r_frame_rate", v, sizeof v), "24/1"));
    CHECK_MSG(!strcmp(pf_tm_field(probe, "nb_read_frames", v, sizeof v), "17"), "%s", probe);
    CHECK(pf_tm_count_entries(d) == 1); /* no temporary left beside it */
    free(out);
    free(d);
    return PF_T_PASS;
}

static pf_test_result test_png_frames(void) {
    if (!setup()) return PF_T_FAIL;
    if (!pf_video_format_available(PF_VIDEO_PNG)) SKIP("no libpng in this build");
    char *d = outdir("png");
    char *pattern = pf_tm_join(d, "f_%03d.png");
    pf_cli_run r;
    /* the DiT with bf16 activations (the GPU speed path) runs on the CPU as well */
    const char *extra[] = {"--temp",  "2", "--width", "192",   "--height", "128", "--seed",
                           "3",       "-o", pattern,  "--act", "bf16",     NULL};
    gen(&r, extra);
    CHECK_CLI_OK(&r);
    CHECK_MSG(strstr(r.out, " weights, bf16 activations on "), "%s", r.out);
    pf_cli_run_free(&r);
    CHECK(pf_tm_count_entries(d) == 9);
    for (int k = 0; k < 9; k++) {
        char name[64];
        snprintf(name, sizeof name, "f_%03d.png", k);
        char *p = pf_tm_join(d, name);
        pf_image im;
        CHECK_OK(pf_image_read(p, &im));
        CHECK(im.width == 192 && im.height == 128);
        /* a picture, not a constant fill (a NaN velocity would give one) */
        size_t n = (size_t)im.width * im.height * 3, n_diff = 0;
        for (size_t i = 1; i < n; i++) n_diff += im.rgb[i] != im.rgb[0];
        CHECK_MSG(n_diff > n / 2, "frame %d: %zu of %zu values differ from the first", k, n_diff, n);
        pf_image_free(&im);
        free(p);
    }
    free(pattern);
    free(d);
    return PF_T_PASS;
}

static pf_test_result test_gif_webm(void) {
    if (!setup()) return PF_T_FAIL;
    if (!pf_video_format_available(PF_VIDEO_GIF)) SKIP("no FFmpeg in this build");
    char *d = outdir("gif");
    char *out = pf_tm_join(d, "fox.gif");
    pf_cli_run r;
    const char *extra[] = {"--temp", "2", "--width", "128", "--height", "128", "--fps", "12", "-o", out, NULL};
    gen(&r, extra);
    CHECK_CLI_OK(&r);
    CHECK(strstr(r.out, "9 frames, 128x128, 12 fps"));
    CHECK(strstr(r.out, "pass --seed")); /* no --seed: a new one, printed */
    pf_cli_run_free(&r);
    uint8_t *frames = NULL;
    int T = 0, H = 0, W = 0;
    CHECK_OK(pf_video_read(out, 0, &frames, &T, &H, &W));
    CHECK(T == 9 && H == 128 && W == 128);
    free(frames);
    /* and WebM (VP9) */
    char *webm = pf_tm_join(d, "fox.webm");
    const char *extra2[] = {"--temp", "2", "--width", "192", "--height", "64", "--seed", "4", "-o", webm, NULL};
    gen(&r, extra2);
    CHECK_CLI_OK(&r);
    CHECK(strstr(r.out, "9 frames, 192x64, 24 fps"));
    pf_cli_run_free(&r);
    CHECK_OK(pf_video_read(webm, 0, &frames, &T, &H, &W));
    CHECK(T == 9 && H == 64 && W == 192);
    free(frames);
    free(webm);
    CHECK(pf_tm_count_entries(d) == 2);
    free(out);
    free(d);
    return PF_T_PASS;
}

/* A PNG of another size and aspect: scaled to cover and centre-cropped to the video size;
 * the first frame of the video follows the image. */
static pf_test_result test_i2v(void) {
    if (!setup()) return PF_T_FAIL;
    if (!pf_video_format_available(PF_VIDEO_PNG)) SKIP("no libpng in this build");
    char *d = outdir("i2v");
    char *img = pf_tm_join(d, "in.png");
    int iw = 300, ih = 200;
    uint8_t *rgb = malloc((size_t)iw * ih * 3);
    CHECK(rgb);
    for (int y = 0; y < ih; y++)
        for (int x = 0; x < iw; x++) {
            uint8_t *p = rgb + ((size_t)y * iw + x) * 3;
            p[0] = (uint8_t)(x * 255 / iw);
            p[1] = (uint8_t)(y * 255 / ih);
            p[2] = 128;
        }
    CHECK_OK(pf_image_write_png(img, rgb, iw, ih));
    free(rgb);
    char *pattern = pf_tm_join(d, "v_%02d.png");
    pf_cli_run r;
    const char *extra[] = {"--image", img,      "--temp", "2",  "--width", "192", "--height",
                           "128",     "--seed", "1",      "-o", pattern,   NULL};
    gen(&r, extra);
    CHECK_CLI_OK(&r);
    CHECK(strstr(r.out, "image to video"));
    CHECK(strstr(r.out, "image encode"));
    CHECK(strstr(r.err, "encode"));
    pf_cli_run_free(&r);
    CHECK(pf_tm_count_entries(d) == 1 + 9);
    free(pattern);
    free(img);
    free(d);
    return PF_T_PASS;
}

/* Every frame of two PNG sequences, pixel for pixel. */
static bool same_frames(const char *d1, const char *d2, int n) {
    for (int k = 0; k < n; k++) {
        char name[64];
        snprintf(name, sizeof name, "f%d.png", k);
        char *a = pf_tm_join(d1, name), *b = pf_tm_join(d2, name);
        pf_image x = {0}, y = {0};
        bool same = pf_image_read(a, &x) == PF_OK && pf_image_read(b, &y) == PF_OK && x.width == y.width &&
                    x.height == y.height && !memcmp(x.rgb, y.rgb, (size_t)x.width * x.height * 3);
        pf_image_free(&x);
        pf_image_free(&y);
        free(a);
        free(b);
        if (!same) return false;
    }
    return true;
}

static pf_test_result run_to(const char *tag, const char *const *extra2, char **dir_out) {
    char *d = outdir(tag);
    CHECK(d);
    char *pattern = pf_tm_join(d, "f%d.png");
    const char *extra[24] = {"--temp", "2", "--width", "128", "--height", "128", "-o", pattern};
    int n = 8;
    for (int i = 0; extra2[i]; i++) extra[n++] = extra2[i];
    extra[n] = NULL;
    pf_cli_run r;
    gen(&r, extra);
    CHECK_CLI_OK(&r);
    pf_cli_run_free(&r);
    free(pattern);
    *dir_out = d;
    return PF_T_PASS;
}

static pf_test_result test_seed_determinism(void) {
    if (!setup()) return PF_T_FAIL;
    if (!pf_video_format_available(PF_VIDEO_PNG)) SKIP("no libpng in this build");
    char *a, *b, *c;
    const char *s7[] = {"--seed", "7", NULL}, *s8[] = {"--seed", "8", NULL};
    CHECK(run_to("seed_a", s7, &a) == PF_T_PASS);
    CHECK(run_to("seed_b", s7, &b) == PF_T_PASS);
    CHECK(run_to("seed_c", s8, &c) == PF_T_PASS);
    CHECK(same_frames(a, b, 9));
    CHECK(!same_frames(a, c, 9));
    free(a);
    free(b);
    free(c);
    return PF_T_PASS;
}

/* A noise file with the golden names for t2v temp 2 at 128x128 (latent 16x16): the initial
 * noise [1, 16, 2, 16, 16] and one block draw per stage jump (two per latent frame) at the
 * new stage's size. */
static bool write_noise(const char *path, uint64_t seed) {
    int64_t sh[5][5] = {{1, 16, 2, 16, 16}, {1, 16, 1, 8, 8}, {1, 16, 1, 16, 16}, {1, 16, 1, 8, 8}, {1, 16, 1, 16, 16}};
    const char *names[5] = {"in.noise_init", "in.block_noise_000", "in.block_noise_001", "in.block_noise_002",
                            "in.block_noise_003"};
    pf_st_write_tensor t[5];
    float *data[5];
    pf_rng rng;
    pf_rng_init(&rng, seed, 0);
    for (int i = 0; i < 5; i++) {
        size_t n = 1;
        for (int k = 0; k < 5; k++) n *= (size_t)sh[i][k];
        data[i] = malloc(n * sizeof(float));
        if (!data[i]) return false;
        pf_rng_normal(&rng, data[i], n);
        t[i] = (pf_st_write_tensor){.name = names[i], .dtype = PF_F32, .ndim = 5, .shape = sh[i], .data = data[i]};
    }
    bool ok = pf_st_write(path, t, 5, NULL, NULL, 0) == PF_OK;
    for (int i = 0; i < 5; i++) free(data[i]);
    return ok;
}

static pf_test_result test_noise_replay(void) {
    if (!setup()) return PF_T_FAIL;
    if (!pf_video_format_available(PF_VIDEO_PNG)) SKIP("no libpng in this build");
    char *n1 = pf_tm_join(g_dir, "noise1.safetensors"), *n2 = pf_tm_join(g_dir, "noise2.safetensors");
    CHECK(write_noise(n1, 1) && write_noise(n2, 2));
    char *a, *b, *c;
    const char *x1[] = {"--noise", n1, NULL}, *x1s[] = {"--noise", n1, "--seed", "99", NULL},
               *x2[] = {"--noise", n2, NULL};
    CHECK(run_to("noise_a", x1, &a) == PF_T_PASS);
    CHECK(run_to("noise_b", x1s, &b) == PF_T_PASS); /* the seed does not matter with a file */
    CHECK(run_to("noise_c", x2, &c) == PF_T_PASS);
    CHECK(same_frames(a, b, 9));
    CHECK(!same_frames(a, c, 9));
    free(a);
    free(b);
    free(c);
    free(n1);
    free(n2);
    return PF_T_PASS;
}

/* The README's defaults per mode and resolution, read back from the summary's settings line;
 * miniFLUX's image checkpoint gives one picture, which a plain .png takes. */
static pf_test_result test_defaults(void) {
    if (!setup()) return PF_T_FAIL;
    if (!pf_video_format_available(PF_VIDEO_PNG)) SKIP("no libpng in this build");
    char *all = pf_tm_join(g_dir, "tiny_all");
    pf_cli_run r;
    const char *mk[] = {"make-tiny-model", all, "--res", "384p,768p,image", NULL};
    pf_cli_exec(&r, g_dir, mk);
    CHECK_CLI_OK(&r);
    pf_cli_run_free(&r);
    char *d = outdir("defaults");
    char *pat = pf_tm_join(d, "f%d.png"), *pic = pf_tm_join(d, "picture.png");
    static const struct {
        const char *res, *temp;
        bool i2v;
        const char *want;
    } cases[] = {
        {"384p", "2", false,
         "settings: steps 20,20,20, video steps 10,10,10, guidance 7, video guidance 5, VAE decode tiled 256 px"},
        {"768p", "2", false, "settings: steps 20,20,20, video steps 10,10,10, guidance 9, video guidance 5"},
        {"384p", "2", true, "settings: steps 10,10,10, guidance 7, video guidance 4"},
        {"image", NULL, false, "settings: steps 20,20,20, guidance 9, VAE decode"},
    };
    char *img = pf_tm_join(d, "in.png");
    uint8_t rgb[64 * 64 * 3];
    for (size_t i = 0; i < sizeof rgb; i++) rgb[i] = (uint8_t)(i * 7);
    CHECK_OK(pf_image_write_png(img, rgb, 64, 64));
    for (size_t i = 0; i < PF_ARRAY_LEN(cases); i++) {
        const char *args[32] = {"generate",
                                "-m",
                                all,
                                "-p",
                                "a lighthouse at dawn",
                                "--res",
                                cases[i].res,
                                "--width",
                                "128",
                                "--height",
                                "128",
                                "--threads",
                                "1",
                                "--dry-run",
                                "-o",
                                cases[i].temp ? pat : pic};
        int n = 16;
        if (cases[i].temp) args[n++] = "--temp", args[n++] = cases[i].temp;
        if (cases[i].i2v) args[n++] = "--image", args[n++] = img;
        args[n] = NULL;
        pf_cli_exec(&r, g_dir, args);
        CHECK_CLI_OK(&r);
        CHECK_MSG(strstr(r.out, cases[i].want), "%s: no '%s' in\n%s", cases[i].res, cases[i].want, r.out);
        CHECK(strstr(r.out, "dry run: ") && strstr(r.out, "nothing was loaded or written"));
        pf_cli_run_free(&r);
    }
    CHECK(pf_tm_count_entries(d) == 1); /* the dry runs wrote nothing (the input image is there) */
    /* the image checkpoint for real: one picture in a plain .png */
    const char *t2i[] = {"generate", "-m",      all,       "-p",        "a lighthouse at dawn",
                         "--res",    "image",   "--width", "128",       "--height",
                         "128",      "--steps", "1,1,1",   "--threads", "1",
                         "-o",       pic,       NULL};
    pf_cli_exec(&r, g_dir, t2i);
    CHECK_CLI_OK(&r);
    CHECK(strstr(r.out, "text to image") && strstr(r.out, "1 image, 128x128"));
    CHECK(strstr(r.out, "the image is noise"));
    pf_cli_run_free(&r);
    pf_image im;
    CHECK_OK(pf_image_read(pic, &im));
    CHECK(im.width == 128 && im.height == 128);
    pf_image_free(&im);
    /* a dry run of the README default: 640x384, 121 frames, 510 DiT calls (facts 4.5) */
    const char *def[] = {"generate", "-m", all, "-p", "waves", "--dry-run", "-o", pat, NULL};
    pf_cli_exec(&r, g_dir, def);
    CHECK_CLI_OK(&r);
    CHECK_MSG(strstr(r.out, "640x384, 121 frames (temp 16, 5.04 s at 24 fps), 510 DiT calls"), "%s", r.out);
    CHECK(strstr(r.out, "memory: about"));
    CHECK(strstr(r.out, "precision: ") && strstr(r.out, " activations on "));
    pf_cli_run_free(&r);
    /* the precisions --act auto resolves to on the CPU: f32 activations even with bf16 weights */
    const char *prec[] = {"generate", "-m", all, "-p", "waves", "--backend", "cpu", "--dtype", "bf16", "--act", "auto",
                          "--dry-run", "-o", pat, NULL};
    pf_cli_exec(&r, g_dir, prec);
    CHECK_CLI_OK(&r);
    CHECK_MSG(strstr(r.out, "precision: bf16 weights, f32 activations on cpu"), "%s", r.out);
    pf_cli_run_free(&r);
    /* --duration: whole latent frames at 24 fps, rounded up (1 s: temp 4, 25 frames) */
    const char *dur[] = {"generate", "-m", all,       "-p",    "waves",         "--duration", "1",  "--width", "64",
                         "--height", "64", "--steps", "1,1,1", "--video-steps", "1,1,1",      "-o", pat,       NULL};
    pf_cli_exec(&r, g_dir, dur);
    CHECK_CLI_OK(&r);
    CHECK(strstr(r.out, "25 frames, 64x64"));
    pf_cli_run_free(&r);
    free(img);
    free(pat);
    free(pic);
    free(d);
    free(all);
    return PF_T_PASS;
}

static pf_test_result test_info(void) {
    if (!setup()) return PF_T_FAIL;
    pf_cli_run r;
    const char *args[] = {"info", g_model, NULL};
    pf_cli_exec(&r, g_dir, args);
    CHECK_CLI_OK(&r);
    CHECK(strstr(r.out, "miniFLUX"));
    CHECK(strstr(r.out, "384p yes") && strstr(r.out, "768p no"));
    CHECK(strstr(r.out, "random weights"));
    static const char *const comps[] = {"diffusion_transformer_384p",
                                        "causal_video_vae",
                                        "text_encoder ",
                                        "text_encoder_2",
                                        "tokenizer ",
                                        "tokenizer_2"};
    for (size_t i = 0; i < PF_ARRAY_LEN(comps); i++)
        CHECK_MSG(strstr(r.out, comps[i]), "no %s in\n%s", comps[i], r.out);
    CHECK(strstr(r.out, "f32"));
    CHECK(strstr(r.out, "memory of a text-to-video generation at 384p: 640x384, temp 16 (121 frames)"));
    CHECK(strstr(r.out, "cpu      f32"));
    pf_cli_run_free(&r);

    /* an SD3 tiny model with a part missing: listed, exit 1 */
    char *sd3 = pf_tm_join(g_dir, "tiny_sd3");
    const char *mk[] = {"make-tiny-model", sd3, "--variant", "sd3", NULL};
    pf_cli_exec(&r, g_dir, mk);
    CHECK_CLI_OK(&r);
    pf_cli_run_free(&r);
    char *te3 = pf_tm_join(sd3, "text_encoder_3/model.safetensors");
    CHECK(remove(te3) == 0);
    const char *inf[] = {"info", sd3, NULL};
    pf_cli_exec(&r, g_dir, inf);
    CHECK(r.status == 1);
    CHECK(strstr(r.out, "SD3"));
    CHECK(strstr(r.out, "text_encoder_3") && strstr(r.out, "BROKEN") && strstr(r.out, "incomplete"));
    CHECK(strstr(r.out, "tokenizer_3"));
    pf_cli_run_free(&r);
    free(te3);
    free(sd3);
    return PF_T_PASS;
}

/* Every compiled backend has a line. */
static pf_test_result test_devices(void) {
    if (!setup()) return PF_T_FAIL;
    pf_cli_run r;
    const char *args[] = {"devices", NULL};
    pf_cli_exec(&r, g_dir, args);
    CHECK_CLI_OK(&r);
    for (int i = 0; i < pf_backend_count(); i++) {
        char head[64];
        snprintf(head, sizeof head, "%s ", pf_backend_name_at(i));
        CHECK_MSG(strstr(r.out, head), "no line for %s in\n%s", head, r.out);
    }
    pf_cli_run_free(&r);
    return PF_T_PASS;
}

static pf_test_result test_help(void) {
    if (!setup()) return PF_T_FAIL;
    pf_cli_run r;
    const char *top[] = {"--help", NULL};
    pf_cli_exec(&r, g_dir, top);
    CHECK_CLI_OK(&r);
    static const char *const sections[] = {"SYNOPSIS",     "COMMANDS",     "EXAMPLES",   "EXIT STATUS",
                                           "ENVIRONMENT",  "PF_LOG",       "PF_THREADS", "PF_CUDA_DEVICE",
                                           "PF_VK_DEVICE", "generate",     "info",       "make-tiny-model",
                                           "devices",      "check-golden", "bench"};
    for (size_t i = 0; i < PF_ARRAY_LEN(sections); i++)
        CHECK_MSG(strstr(r.out, sections[i]), "pflow --help lacks %s", sections[i]);
    pf_cli_run_free(&r);
    const char *g[] = {"generate", "--help", NULL};
    pf_cli_exec(&r, g_dir, g);
    CHECK_CLI_OK(&r);
    /* every option, with its default */
    static const char *const opts[] = {
        "--model",          "--prompt",         "--negative",     "--image",      "--res",         "--width",
        "--height",         "--duration",       "--temp",         "--steps",      "--video-steps", "--cfg",
        "--video-cfg",      "--seed",           "--noise",        "--backend",    "--dtype",       "--vae-tiling",
        "--act",            "--no-vae-tiling",  "--output",         "--fps",          "--threads",    "--force",       "--dry-run",
        "default 20,20,20", "default 10,10,10", "default 24",     "EXIT STATUS",  "130",           "ENVIRONMENT",
        "PF_LOG",           "PF_THREADS",       "PF_CUDA_DEVICE", "PF_VK_DEVICE", "EXAMPLES",      "frames_%04d.png"};
    for (size_t i = 0; i < PF_ARRAY_LEN(opts); i++)
        CHECK_MSG(strstr(r.out, opts[i]), "pflow generate --help lacks %s", opts[i]);
    pf_cli_run_free(&r);
    const char *sub[][3] = {{"info", "--help", NULL}, {"make-tiny-model", "--help", NULL}, {"help", "info", NULL}};
    for (int i = 0; i < 3; i++) {
        pf_cli_exec(&r, g_dir, sub[i]);
        CHECK_CLI_OK(&r);
        CHECK(strstr(r.out, "SYNOPSIS") && strstr(r.out, "EXIT STATUS"));
        pf_cli_run_free(&r);
    }
    return PF_T_PASS;
}

static pf_test_result test_cleanup(void) {
    pf_tm_rmtree(g_dir);
    free(g_model);
    g_dir = g_model = NULL;
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_mp4), PF_TEST(test_png_frames), PF_TEST(test_gif_webm), PF_TEST(test_i2v),
             PF_TEST(test_seed_determinism), PF_TEST(test_noise_replay), PF_TEST(test_defaults), PF_TEST(test_info),
             PF_TEST(test_devices), PF_TEST(test_help), PF_TEST(test_cleanup))
