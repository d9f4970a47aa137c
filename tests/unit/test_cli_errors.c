/*
 * The mistakes users make with `pflow generate`, each refused with a message that says
 * what is wrong and what to do, with the right exit status, before the model is loaded
 * where that is possible, and with nothing left in the output folder (not even a hidden
 * temporary). Ctrl-C during the denoising stops the run the same way.
 */
#include "pf_backend.h"
#include "pf_test_cli.h"
#include "pf_video.h"

static char *g_dir, *g_model;

static bool setup(void) {
    if (g_model) return true;
    g_dir = pf_tm_mkdtemp("test_cli_errors");
    if (g_dir) g_model = pf_cli_tiny_model(g_dir, "tiny", NULL);
    return g_model != NULL;
}

/* A new empty output folder; the runs write their output there (or must not). */
static char *g_out;
static const char *out_path(const char *name) {
    static char p[4096];
    static int k;
    free(g_out);
    char tag[32];
    snprintf(tag, sizeof tag, "out%d", k++);
    g_out = pf_tm_join(g_dir, tag);
    if (mkdir(g_out, 0755) != 0) return NULL;
    snprintf(p, sizeof p, "%s/%s", g_out, name);
    return p;
}

/* An output name of a format this build writes (GIF, MP4 or a PNG pattern), in a new folder;
 * NULL when it writes none (a build without FFmpeg and libpng refuses every output). */
static const char *avail_out(const char *stem) {
    char name[128];
    if (pf_video_format_available(PF_VIDEO_GIF)) snprintf(name, sizeof name, "%s.gif", stem);
    else if (pf_video_format_available(PF_VIDEO_PNG)) snprintf(name, sizeof name, "%s_%%03d.png", stem);
    else return NULL;
    return out_path(name);
}

/* pflow generate -m MODEL -p PROMPT [fast settings] EXTRA... [--temp 2 unless EXTRA sets the
 * length] [-o OUT]. */
static void gen_to(pf_cli_run *r, const char *model, const char *out, const char *const *extra) {
    const char *args[64] = {"generate", "-m",      model, "-p",       "a fox", "--steps",   "1,1,1", "--video-steps",
                            "1,1,1",    "--width", "128", "--height", "128",   "--threads", "1"};
    int n = 15;
    bool len = false;
    for (int i = 0; extra[i] && n < 60; i++) {
        len |= !strcmp(extra[i], "--temp") || !strcmp(extra[i], "--duration");
        args[n++] = extra[i];
    }
    if (!len) {
        args[n++] = "--temp";
        args[n++] = "2";
    }
    if (out) {
        args[n++] = "-o";
        args[n++] = out;
    }
    args[n] = NULL;
    pf_cli_exec(r, g_dir, args);
}

/* Failed before loading anything, and left nothing behind. */
#define CHECK_EARLY_AND_CLEAN(r)                                                                                       \
    do {                                                                                                               \
        CHECK_MSG(!strstr((r)->err, "loading the model"), "failed late:\n%s", (r)->err);                               \
        CHECK_MSG(pf_cli_count_outputs(g_out) == 0, "%d files left in %s", pf_cli_count_outputs(g_out), g_out);        \
    } while (0)

static pf_test_result test_missing_components(void) {
    if (!setup()) return PF_T_FAIL;
    char *broken = pf_tm_join(g_dir, "broken");
    pf_cli_run r;
    const char *mk[] = {"make-tiny-model", broken, "--seed", "2", NULL};
    pf_cli_exec(&r, g_dir, mk);
    CHECK_CLI_OK(&r);
    pf_cli_run_free(&r);
    char p[4200];
    snprintf(p, sizeof p, "%s/causal_video_vae/config.json", broken);
    CHECK(remove(p) == 0);
    snprintf(p, sizeof p, "%s/tokenizer_2/spiece.model", broken);
    CHECK(remove(p) == 0);
    snprintf(p, sizeof p, "%s/tokenizer_2/tokenizer.json", broken);
    CHECK(remove(p) == 0);
    snprintf(p, sizeof p, "rm -rf '%s/text_encoder_2'", broken);
    CHECK(system(p) == 0);
    const char *none[] = {NULL};
    gen_to(&r, broken, out_path("x.mp4"), none);
    CHECK_CLI_FAILS(&r, 1, "is incomplete");
    /* everything missing is listed, with what to do */
    CHECK(strstr(r.err, "causal_video_vae/config.json"));
    CHECK(strstr(r.err, "text_encoder_2/ (T5-XXL text encoder)"));
    CHECK(strstr(r.err, "tokenizer_2/spiece.model or tokenizer.json"));
    CHECK(strstr(r.err, "pflow make-tiny-model"));
    CHECK_EARLY_AND_CLEAN(&r);
    pf_cli_run_free(&r);
    /* a checkpoint the folder does not have */
    const char *res[] = {"--res", "768p", NULL};
    gen_to(&r, g_model, out_path("x.mp4"), res);
    CHECK_CLI_FAILS(&r, 1, "diffusion_transformer_768p/ (DiT 768p; the folder has 384p)");
    CHECK_EARLY_AND_CLEAN(&r);
    pf_cli_run_free(&r);
    /* no folder at all */
    gen_to(&r, "/nonexistent/pflow-model", out_path("x.mp4"), none);
    CHECK_CLI_FAILS(&r, 1, "does not exist (download one with: huggingface-cli download");
    CHECK_EARLY_AND_CLEAN(&r);
    pf_cli_run_free(&r);
    free(broken);
    return PF_T_PASS;
}

static pf_test_result test_unsupported_size(void) {
    if (!setup()) return PF_T_FAIL;
    pf_cli_run r;
    const char *w[] = {"--width", "650", NULL};
    gen_to(&r, g_model, out_path("x.mp4"), w);
    CHECK_CLI_FAILS(&r, 2, "width 650 is not a multiple of 64 (nearest valid: 640 or 704)");
    CHECK(strstr(r.err, "trained at 640x384"));
    CHECK_EARLY_AND_CLEAN(&r);
    pf_cli_run_free(&r);
    const char *h[] = {"--height", "100", NULL};
    gen_to(&r, g_model, out_path("x.mp4"), h);
    CHECK_CLI_FAILS(&r, 2, "height 100 is not a multiple of 64 (nearest valid: 64 or 128)");
    CHECK_EARLY_AND_CLEAN(&r);
    pf_cli_run_free(&r);
    return PF_T_PASS;
}

static pf_test_result test_backend_unavailable(void) {
    if (!setup()) return PF_T_FAIL;
    const char *missing = NULL;
    static const char *const cands[] = {"cuda", "vulkan"};
    for (int i = 0; i < 2 && !missing; i++) {
        pf_backend *be = NULL;
        if (pf_backend_create(cands[i], NULL, &be) == PF_OK) pf_backend_free(be);
        else missing = cands[i];
    }
    pf_clear_error();
    if (!missing) SKIP("cuda and vulkan both work here");
    pf_cli_run r;
    const char *b[] = {"--backend", missing, NULL};
    const char *o = avail_out("x");
    if (!o) SKIP("this build writes no output format");
    gen_to(&r, g_model, o, b);
    CHECK_CLI_FAILS(&r, 1, "is not available");
    CHECK(strstr(r.err, "This build found: "));
    CHECK(strstr(r.err, "cpu (")); /* what works */
    CHECK(strstr(r.err, "pflow devices"));
    CHECK_EARLY_AND_CLEAN(&r);
    pf_cli_run_free(&r);
    const char *u[] = {"--backend", "metal", NULL};
    gen_to(&r, g_model, out_path("x.mp4"), u);
    CHECK_CLI_FAILS(&r, 2, "--backend takes cpu, cuda or vulkan");
    pf_cli_run_free(&r);
    return PF_T_PASS;
}

static pf_test_result test_output_not_writable(void) {
    if (!setup()) return PF_T_FAIL;
    pf_cli_run r;
    const char *none[] = {NULL};
    const char *ext = pf_video_format_available(PF_VIDEO_GIF)   ? "gif"
                      : pf_video_format_available(PF_VIDEO_PNG) ? "png"
                                                                : NULL;
    if (!ext) SKIP("this build writes no output format");
    char bad[256];
    snprintf(bad, sizeof bad, "/nonexistent/pflow/dir/x%s.%s", strcmp(ext, "png") ? "" : "_%03d", ext);
    out_path("unused");
    gen_to(&r, g_model, bad, none);
    CHECK_CLI_FAILS(&r, 1, "does not exist; create it first");
    CHECK_EARLY_AND_CLEAN(&r);
    pf_cli_run_free(&r);
    {
        snprintf(bad, sizeof bad, "/proc/pflow-test%s.%s", strcmp(ext, "png") ? "" : "_%03d", ext);
        gen_to(&r, g_model, bad, none); /* even root cannot create files there */
        CHECK_CLI_FAILS(&r, 1, "cannot create");
        CHECK_EARLY_AND_CLEAN(&r);
        pf_cli_run_free(&r);
    }
    gen_to(&r, g_model, out_path("x.avi"), none);
    CHECK_CLI_FAILS(&r, 1, "unknown video format '.avi'; name the output .mp4");
    CHECK_EARLY_AND_CLEAN(&r);
    pf_cli_run_free(&r);
    /* the folder itself */
    out_path("unused");
    gen_to(&r, g_model, g_out, none);
    CHECK(r.status == 1);
    CHECK_EARLY_AND_CLEAN(&r);
    pf_cli_run_free(&r);
    if (pf_video_format_available(PF_VIDEO_PNG)) {
        /* one .png for nine frames */
        gen_to(&r, g_model, out_path("x.png"), none);
        CHECK_CLI_FAILS(&r, 1, "is one picture but the video has 9 frames: give a frame number pattern");
        CHECK_EARLY_AND_CLEAN(&r);
        pf_cli_run_free(&r);
    }
    return PF_T_PASS;
}

/* A build without FFmpeg or libpng refuses those formats up front, naming the library. */
static pf_test_result test_format_unavailable(void) {
    if (!setup()) return PF_T_FAIL;
    bool mp4 = pf_video_format_available(PF_VIDEO_MP4), png = pf_video_format_available(PF_VIDEO_PNG);
    if (mp4 && png) SKIP("this build has FFmpeg and libpng");
    pf_cli_run r;
    const char *none[] = {NULL};
    if (!mp4) {
        gen_to(&r, g_model, out_path("x.mp4"), none);
        CHECK_CLI_FAILS(&r, 1, "FFmpeg");
        CHECK_EARLY_AND_CLEAN(&r);
        pf_cli_run_free(&r);
        gen_to(&r, g_model, out_path("x.gif"), none);
        CHECK_CLI_FAILS(&r, 1, "FFmpeg");
        CHECK_EARLY_AND_CLEAN(&r);
        pf_cli_run_free(&r);
    }
    if (!png) {
        gen_to(&r, g_model, out_path("f_%03d.png"), none);
        CHECK_CLI_FAILS(&r, 1, "libpng");
        CHECK_EARLY_AND_CLEAN(&r);
        pf_cli_run_free(&r);
    }
    return PF_T_PASS;
}

static pf_test_result test_image_unreadable(void) {
    if (!setup()) return PF_T_FAIL;
    pf_cli_run r;
    const char *missing[] = {"--image", "/nonexistent/cat.png", NULL};
    if (!avail_out("x")) SKIP("this build writes no output format");
    gen_to(&r, g_model, avail_out("x"), missing);
    CHECK_CLI_FAILS(&r, 1, "--image: /nonexistent/cat.png");
    CHECK(strstr(r.err, "give a PNG, JPEG, WebP or BMP file"));
    CHECK_EARLY_AND_CLEAN(&r);
    pf_cli_run_free(&r);
    char *junk = pf_tm_join(g_dir, "junk.png");
    FILE *f = fopen(junk, "wb");
    CHECK(f && fputs("this is not an image at all", f) >= 0 && fclose(f) == 0);
    const char *bad[] = {"--image", junk, NULL};
    gen_to(&r, g_model, avail_out("x"), bad);
    CHECK_CLI_FAILS(&r, 1, "--image: ");
    CHECK(strstr(r.err, junk));
    CHECK_EARLY_AND_CLEAN(&r);
    pf_cli_run_free(&r);
    /* image to video needs two latent frames */
    const char *t1[] = {"--image", junk, "--temp", "1", NULL};
    gen_to(&r, g_model, out_path("x.gif"), t1);
    CHECK_CLI_FAILS(&r, 2, "needs at least 2 latent frames");
    CHECK_EARLY_AND_CLEAN(&r);
    pf_cli_run_free(&r);
    free(junk);
    return PF_T_PASS;
}

static pf_test_result test_too_long(void) {
    if (!setup()) return PF_T_FAIL;
    pf_cli_run r;
    const char *d[] = {"--duration", "6", NULL}; /* 6 s: temp 19 */
    gen_to(&r, g_model, out_path("x.gif"), d);
    CHECK_CLI_FAILS(&r, 1, "temp 19 (145 frames, 6.04 s) is longer than the 384p checkpoint was trained for");
    CHECK(strstr(r.err, "up to temp 16 (121 frames, 5.04 s)"));
    CHECK(strstr(r.err, "--force"));
    CHECK_EARLY_AND_CLEAN(&r);
    pf_cli_run_free(&r);
    const char *t[] = {"--temp", "17", NULL};
    gen_to(&r, g_model, out_path("x.gif"), t);
    CHECK_CLI_FAILS(&r, 1, "temp 17");
    CHECK_EARLY_AND_CLEAN(&r);
    pf_cli_run_free(&r);
    /* --force runs it (64x64 keeps it quick): 1 + 8 * 16 frames */
    if (avail_out("x")) {
        const char *f[] = {"--temp", "17", "--force", "--width", "64", "--height", "64", NULL};
        gen_to(&r, g_model, avail_out("x"), f);
        CHECK_CLI_OK(&r);
        CHECK(strstr(r.out, "129 frames, 64x64"));
        pf_cli_run_free(&r);
    }
    return PF_T_PASS;
}

static pf_test_result test_bad_options(void) {
    if (!setup()) return PF_T_FAIL;
    static const struct {
        const char *args[6];
        const char *msg;
    } cases[] = {
        {{"--bogus", NULL}, "unknown option '--bogus' ('pflow generate --help' lists them)"},
        {{"--steps", "20,20", NULL}, "--steps needs three whole numbers from 1 to 10000 separated by commas"},
        {{"--steps", "20,x,20", NULL}, "not '20,x,20'"},
        {{"--steps", "0,1,1", NULL}, "--steps needs three whole numbers from 1"},
        {{"--video-steps", "1,2,3,4", NULL}, "--video-steps needs three whole numbers"},
        {{"--seed", "-1", NULL}, "--seed needs a whole number from 0"},
        {{"--temp", "-2", NULL}, "--temp needs a whole number from 1 to 1024, not '-2'"},
        {{"--width", "-64", NULL}, "--width needs a whole number from 64 to 16384, not '-64'"},
        {{"--duration", "-1", NULL}, "--duration needs a number from"},
        {{"--cfg", "-1", NULL}, "--cfg needs a number from 0 to 100, not '-1'"},
        {{"--video-cfg", "nan", NULL}, "--video-cfg needs a number"},
        {{"--fps", "0", NULL}, "--fps needs a number from 0.1"},
        {{"--threads", "-1", NULL}, "--threads needs a whole number from 0 to 4096"},
        {{"--vae-tile", "100", NULL}, "--vae-tile needs a multiple of 32 pixels"},
        {{"--res", "1080p", NULL}, "--res takes 384p, 768p or image, not '1080p'"},
        {{"--dtype", "f16", NULL}, "--dtype takes f32 or bf16, not 'f16'"},
        {{"--act", "xyz", NULL}, "--act takes auto, f32 or bf16, not 'xyz'"},
        {{"--duration", "2", "--temp", "3", NULL}, "give --temp or --duration, not both"},
        {{"stray", NULL}, "unexpected argument 'stray'"},
        {{"--steps", NULL}, "--steps needs a value"},
    };
    for (size_t i = 0; i < PF_ARRAY_LEN(cases); i++) {
        pf_cli_run r;
        const char *o = out_path("x.gif");
        const char *extra[8];
        int n = 0;
        /* the value-less case must be last on the command line */
        if (cases[i].args[1] == NULL && !strcmp(cases[i].args[0], "--steps")) {
            extra[n++] = "-o";
            extra[n++] = o;
            extra[n++] = "--temp";
            extra[n++] = "2";
            o = NULL;
        }
        for (int k = 0; cases[i].args[k]; k++) extra[n++] = cases[i].args[k];
        extra[n] = NULL;
        gen_to(&r, g_model, o, extra);
        CHECK_CLI_FAILS(&r, 2, cases[i].msg);
        CHECK_EARLY_AND_CLEAN(&r);
        pf_cli_run_free(&r);
    }
    /* no model, no prompt */
    pf_cli_run r;
    const char *np[] = {"generate", "-m", g_model, NULL};
    pf_cli_exec(&r, g_dir, np);
    CHECK_CLI_FAILS(&r, 2, "give a prompt (-p TEXT)");
    pf_cli_run_free(&r);
    const char *unk[] = {"frobnicate", NULL};
    pf_cli_exec(&r, g_dir, unk);
    CHECK_CLI_FAILS(&r, 2, "unknown command 'frobnicate'");
    pf_cli_run_free(&r);
    const char *noise[] = {"--noise", "/nonexistent/noise.safetensors", NULL};
    if (!avail_out("x")) return PF_T_PASS; /* the output is refused first in such a build */
    gen_to(&r, g_model, avail_out("x"), noise);
    CHECK_CLI_FAILS(&r, 1, "--noise: ");
    CHECK_EARLY_AND_CLEAN(&r);
    pf_cli_run_free(&r);
    return PF_T_PASS;
}

/* Ctrl-C while denoising: exit 130, a message, no output and no temporary file. */
static pf_test_result test_interrupt(void) {
    if (!setup()) return PF_T_FAIL;
    const char *out = out_path("long.mp4");
    if (!pf_video_format_available(PF_VIDEO_MP4)) out = out_path("long_%03d.png");
    if (!pf_video_format_available(PF_VIDEO_PNG) && !pf_video_format_available(PF_VIDEO_MP4)) SKIP("no output format");
    int pipefd[2];
    CHECK(pipe(pipefd) == 0);
    /* the README-size run: minutes, so it is surely still denoising when the signal comes */
    char *argv[] = {
        (char *)pf_cli_binary(), "generate", "-m", g_model, "-p", "a fox", "--threads", "1", "-o", (char *)out, NULL};
    pid_t pid = fork();
    if (pid == 0) {
        close(pipefd[0]);
        dup2(pipefd[1], 2);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) dup2(devnull, 1);
        execv(argv[0], argv);
        _exit(127);
    }
    close(pipefd[1]);
    CHECK(pid > 0);
    char buf[1 << 16];
    size_t len = 0;
    bool sent = false;
    for (;;) {
        ssize_t k = read(pipefd[0], buf + len, sizeof buf - 1 - len);
        if (k <= 0) break;
        len += (size_t)k;
        buf[len] = '\0';
        if (!sent && strstr(buf, "denoise")) {
            kill(pid, SIGINT);
            sent = true;
        }
        if (len > sizeof buf / 2) { /* keep the tail */
            memmove(buf, buf + len - 1024, 1024);
            len = 1024;
        }
    }
    close(pipefd[0]);
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK_MSG(sent, "no progress line came: %s", buf);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 130, "status %d: %s", st, buf);
    CHECK_MSG(strstr(buf, "interrupted; nothing was written"), "%s", buf);
    CHECK(pf_cli_count_outputs(g_out) == 0);
    return PF_T_PASS;
}

static pf_test_result test_cleanup(void) {
    pf_tm_rmtree(g_dir);
    free(g_model);
    free(g_out);
    g_dir = g_model = g_out = NULL;
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_missing_components), PF_TEST(test_unsupported_size), PF_TEST(test_backend_unavailable),
             PF_TEST(test_output_not_writable), PF_TEST(test_format_unavailable), PF_TEST(test_image_unreadable),
             PF_TEST(test_too_long), PF_TEST(test_bad_options), PF_TEST(test_interrupt), PF_TEST(test_cleanup))
