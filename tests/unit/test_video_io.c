/* Video output: every format checked with ffprobe (when installed) and read
 * back; up-front checks; no output left behind by any failure. */
#include "pf_image.h"
#include "pf_test_media.h"
#include "pf_video.h"

#include <errno.h>
#include <signal.h>
#include <sys/resource.h>

#define CW 64
#define CH 48
#define CT 12

/* Frame t: left half L(t), right half R(t). All 24 colours differ by at
 * least 4 levels in some channel, so a 256-colour GIF palette holds each of
 * them exactly. */
static void colour_left(int t, uint8_t c[3]) {
    c[0] = (uint8_t)(20 + 18 * t), c[1] = (uint8_t)(200 - 12 * t), c[2] = 60;
}
static void colour_right(int t, uint8_t c[3]) {
    c[0] = (uint8_t)(230 - 15 * t), c[1] = (uint8_t)(30 + 16 * t), c[2] = (uint8_t)(180 - 10 * t);
}

static uint8_t *make_clip(int T, int H, int W) {
    uint8_t *f = malloc((size_t)T * H * W * 3);
    if (!f) return NULL;
    for (int t = 0; t < T; t++) {
        uint8_t l[3], r[3];
        colour_left(t, l);
        colour_right(t, r);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) memcpy(f + (((size_t)t * H + y) * W + x) * 3, x < W / 2 ? l : r, 3);
    }
    return f;
}

/* Mean of channel c over x in [x0, x1), y in [y0, y1) of frame rgb [H, W, 3]. */
PF_UNUSED static double region_mean(const uint8_t *rgb, int W, int x0, int x1, int y0, int y1, int c) {
    double s = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) s += rgb[((size_t)y * W + x) * 3 + c];
    return s / ((double)(x1 - x0) * (y1 - y0));
}

/* Lossy codecs: each half of each decoded frame has the colour it was given
 * (away from the edge between the halves, where chroma subsampling blurs). */
PF_UNUSED static pf_test_result check_lossy_readback(const char *path, int T, int H, int W) {
    uint8_t *got = NULL;
    int gt = 0, gh = 0, gw = 0;
    CHECK_OK(pf_video_read(path, 0, &got, &gt, &gh, &gw));
    CHECK(gt == T && gh == H && gw == W);
    for (int t = 0; t < T; t++) {
        const uint8_t *fr = got + (size_t)t * H * W * 3;
        uint8_t l[3], r[3];
        colour_left(t, l);
        colour_right(t, r);
        for (int c = 0; c < 3; c++) {
            CHECK_NEAR(region_mean(fr, W, 4, W / 2 - 4, 4, H - 4, c), l[c], 5.0);
            CHECK_NEAR(region_mean(fr, W, W / 2 + 4, W - 4, 4, H - 4, c), r[c], 5.0);
        }
    }
    free(got);
    return PF_T_PASS;
}

/* ffprobe's stream facts, counting the frames by decoding them. */
PF_UNUSED static pf_test_result probe_stream(const char *path, const char *codec, const char *pix_fmt, int W, int H,
                                   const char *rate, int T) {
    if (!pf_tm_have_ffprobe()) {
        fprintf(stderr, "  (ffprobe not installed: stream checks skipped for %s)\n", path);
        return PF_T_PASS;
    }
    char out[4096], v[128];
    CHECK(pf_tm_ffprobe(path,
                        "-count_frames -select_streams v:0 -show_entries "
                        "stream=codec_name,pix_fmt,width,height,r_frame_rate,nb_read_frames",
                        out, sizeof out));
    CHECK_MSG(!strcmp(pf_tm_field(out, "codec_name", v, sizeof v), codec), "codec %s", v);
    if (pix_fmt) CHECK_MSG(!strcmp(pf_tm_field(out, "pix_fmt", v, sizeof v), pix_fmt), "pix_fmt %s", v);
    CHECK(atoi(pf_tm_field(out, "width", v, sizeof v)) == W);
    CHECK(atoi(pf_tm_field(out, "height", v, sizeof v)) == H);
    if (rate) CHECK_MSG(!strcmp(pf_tm_field(out, "r_frame_rate", v, sizeof v), rate), "r_frame_rate %s", v);
    CHECK_MSG(atoi(pf_tm_field(out, "nb_read_frames", v, sizeof v)) == T, "nb_read_frames %s", v);
    return PF_T_PASS;
}

/* Top-level MP4 boxes: +faststart puts moov before mdat. */
PF_UNUSED static pf_test_result check_moov_first(const char *path) {
    char *d = NULL;
    size_t n = 0;
    CHECK_OK(pf_read_file(path, &d, &n));
    long moov = -1, mdat = -1;
    for (size_t pos = 0; pos + 8 <= n;) {
        const uint8_t *b = (const uint8_t *)d + pos;
        size_t sz = ((size_t)b[0] << 24) | ((size_t)b[1] << 16) | ((size_t)b[2] << 8) | b[3];
        if (!memcmp(b + 4, "moov", 4)) moov = (long)pos;
        if (!memcmp(b + 4, "mdat", 4)) mdat = (long)pos;
        if (sz < 8) break;
        pos += sz;
    }
    free(d);
    CHECK_MSG(moov >= 0 && mdat >= 0 && moov < mdat, "moov at %ld, mdat at %ld", moov, mdat);
    return PF_T_PASS;
}

#define RUN(expr)                                  \
    do {                                           \
        pf_test_result r_ = (expr);                \
        if (r_ != PF_T_PASS) return r_;            \
    } while (0)

static pf_test_result test_mp4_streaming(void) {
#ifndef PF_HAVE_FFMPEG
    SKIP("built without FFmpeg");
#else
    char *dir = pf_tm_mkdtemp("video_mp4");
    CHECK(dir);
    char *path = pf_tm_join(dir, "clip.mp4");
    uint8_t *clip = make_clip(CT, CH, CW);
    pf_video_writer *w = NULL;
    CHECK_OK(pf_video_open(&w, path, CW, CH, NULL)); /* defaults: 24 fps */
    for (int t = 0; t < CT; t++) CHECK_OK(pf_video_write_frame(w, clip + (size_t)t * CH * CW * 3));
    CHECK(pf_video_frame_count(w) == CT);
    CHECK(!pf_file_exists(path)); /* nothing under the real name until close */
    CHECK(pf_tm_count_entries(dir) == 1); /* the hidden temporary */
    CHECK_OK(pf_video_close(w));
    CHECK(pf_file_exists(path));
    CHECK(pf_tm_count_entries(dir) == 1);
    RUN(probe_stream(path, "h264", "yuv420p", CW, CH, "24/1", CT));
    RUN(check_moov_first(path));
    RUN(check_lossy_readback(path, CT, CH, CW));
    free(clip);
    free(path);
    pf_tm_rmtree(dir);
    return PF_T_PASS;
#endif
}

static pf_test_result test_webm(void) {
#ifndef PF_HAVE_FFMPEG
    SKIP("built without FFmpeg");
#else
    char *dir = pf_tm_mkdtemp("video_webm");
    CHECK(dir);
    char *path = pf_tm_join(dir, "clip.webm");
    uint8_t *clip = make_clip(CT, CH, CW);
    pf_video_opts o = {.fps = 25};
    CHECK_OK(pf_video_write(path, clip, CT, CH, CW, &o));
    RUN(probe_stream(path, "vp9", "yuv420p", CW, CH, "25/1", CT));
    RUN(check_lossy_readback(path, CT, CH, CW));
    free(clip);
    free(path);
    pf_tm_rmtree(dir);
    return PF_T_PASS;
#endif
}

static pf_test_result test_gif(void) {
#ifndef PF_HAVE_FFMPEG
    SKIP("built without FFmpeg");
#else
    char *dir = pf_tm_mkdtemp("video_gif");
    CHECK(dir);
    char *path = pf_tm_join(dir, "clip.GIF"); /* extensions are case-insensitive */
    uint8_t *clip = make_clip(CT, CH, CW);
    CHECK_OK(pf_video_write(path, clip, CT, CH, CW, NULL));
    RUN(probe_stream(path, "gif", NULL, CW, CH, NULL, CT));
    if (pf_tm_have_ffprobe()) {
        /* 24 fps in 1/100 s ticks: frame i starts at round(100 i / 24), the
         * clip lasts 12 / 24 = 0.5 s. */
        char out[4096], v[64];
        CHECK(pf_tm_ffprobe(path, "-show_entries format=duration", out, sizeof out));
        CHECK_NEAR(atof(pf_tm_field(out, "duration", v, sizeof v)), (double)CT / 24.0, 1e-6);
        CHECK(pf_tm_ffprobe(path, "-show_entries packet=pts", out, sizeof out));
        const char *l = out;
        for (int i = 0; i < CT; i++) {
            l = strstr(l, "pts=");
            CHECK(l);
            l += 4;
            CHECK_MSG(atoi(l) == (200 * i + 24) / 48, "frame %d at %d cs", i, atoi(l));
        }
    }
    /* Every colour is in the palette and the dither error is zero: exact. */
    uint8_t *got = NULL;
    int gt, gh, gw;
    CHECK_OK(pf_video_read(path, 0, &got, &gt, &gh, &gw));
    CHECK(gt == CT && gh == CH && gw == CW);
    CHECK(!memcmp(got, clip, (size_t)CT * CH * CW * 3));
    free(got);
    free(clip);
    free(path);
    pf_tm_rmtree(dir);
    return PF_T_PASS;
#endif
}

/* A smooth gradient needs more than 256 colours: the palette + dithering
 * keep every region's mean colour. */
static pf_test_result test_gif_dithered_gradient(void) {
#ifndef PF_HAVE_FFMPEG
    SKIP("built without FFmpeg");
#else
    enum { T = 3, H = 40, W = 96 };
    uint8_t *f = malloc((size_t)T * H * W * 3);
    CHECK(f);
    for (int t = 0; t < T; t++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                uint8_t *p = f + (((size_t)t * H + y) * W + x) * 3;
                p[0] = (uint8_t)(x * 255 / (W - 1));
                p[1] = (uint8_t)(y * 255 / (H - 1));
                p[2] = (uint8_t)(80 * t);
            }
    char *dir = pf_tm_mkdtemp("video_gifgrad");
    CHECK(dir);
    char *path = pf_tm_join(dir, "grad.gif");
    pf_video_opts o = {.fps = 10};
    CHECK_OK(pf_video_write(path, f, T, H, W, &o));
    uint8_t *got = NULL;
    int gt, gh, gw;
    CHECK_OK(pf_video_read(path, 0, &got, &gt, &gh, &gw));
    CHECK(gt == T && gh == H && gw == W);
    /* 256 colours cannot hold every shade: a block may be off by up to half
     * a palette step at the extremes (median cut averages them inward, as
     * FFmpeg's palettegen does), but on average the blocks keep their colour. */
    double sum = 0, worst = 0;
    int blocks = 0;
    for (int t = 0; t < T; t++)
        for (int by = 0; by < H; by += 8)
            for (int bx = 0; bx < W; bx += 8)
                for (int c = 0; c < 3; c++) {
                    const uint8_t *a = f + (size_t)t * H * W * 3, *b = got + (size_t)t * H * W * 3;
                    double e = fabs(region_mean(b, W, bx, bx + 8, by, by + 8, c) -
                                    region_mean(a, W, bx, bx + 8, by, by + 8, c));
                    sum += e;
                    worst = e > worst ? e : worst;
                    blocks++;
                }
    CHECK_MSG(sum / blocks <= 2.0 && worst <= 16.0, "block colour error: mean %.2f, worst %.1f", sum / blocks,
              worst);
    free(got);
    free(f);
    free(path);
    pf_tm_rmtree(dir);
    return PF_T_PASS;
#endif
}

static pf_test_result test_png_sequence(void) {
#ifndef PF_HAVE_PNG
    SKIP("built without libpng");
#else
    char *dir = pf_tm_mkdtemp("video_png");
    CHECK(dir);
    char *pattern = pf_tm_join(dir, "frames_%04d.png");
    uint8_t *clip = make_clip(CT, CH, CW);
    pf_video_opts o = {.png_start_number = 1};
    CHECK_OK(pf_video_write(pattern, clip, CT, CH, CW, &o));
    CHECK(pf_tm_count_entries(dir) == CT);
    for (int t = 0; t <= CT + 1; t++) {
        char name[64];
        snprintf(name, sizeof name, "frames_%04d.png", t);
        char *p = pf_tm_join(dir, name);
        bool expected = t >= 1 && t <= CT;
        CHECK_MSG(pf_file_exists(p) == expected, "%s", name);
        if (expected) {
            pf_image im;
            CHECK_OK(pf_image_read(p, &im));
            CHECK(im.width == CW && im.height == CH);
            CHECK(!memcmp(im.rgb, clip + (size_t)(t - 1) * CH * CW * 3, (size_t)CH * CW * 3));
            pf_image_free(&im);
        }
        free(p);
    }
    /* Unpadded and %% forms. */
    char *pattern2 = pf_tm_join(dir, "100%%_%d.png");
    CHECK_OK(pf_video_write(pattern2, clip, 2, CH, CW, NULL));
    char *first = pf_tm_join(dir, "100%_0.png"), *second = pf_tm_join(dir, "100%_1.png");
    CHECK(pf_file_exists(first) && pf_file_exists(second));
    free(first);
    free(second);
    free(pattern2);
    free(clip);
    free(pattern);
    pf_tm_rmtree(dir);
    return PF_T_PASS;
#endif
}

static pf_test_result test_odd_sizes(void) {
    enum { W = 63, H = 47, T = 3 };
    char *dir = pf_tm_mkdtemp("video_odd");
    CHECK(dir);
    uint8_t *clip = make_clip(T, H, W);
    char *mp4 = pf_tm_join(dir, "odd.mp4");
#ifdef PF_HAVE_FFMPEG
    /* H.264 yuv420p cannot: refused up front and by open, nothing written. */
    CHECK_ERR(pf_video_check_output(mp4, NULL, W, H), PF_ERR_INVALID_ARG, "even");
    pf_video_writer *w = NULL;
    CHECK_ERR(pf_video_open(&w, mp4, W, H, NULL), PF_ERR_INVALID_ARG, "63x47");
    CHECK(!w);
    CHECK_OK(pf_video_check_output(mp4, NULL, W + 1, H + 1));
    CHECK_OK(pf_video_check_output(mp4, NULL, 0, 0)); /* size unknown yet */
    /* VP9 and GIF take odd sizes exactly. */
    char *webm = pf_tm_join(dir, "odd.webm"), *gif = pf_tm_join(dir, "odd.gif");
    CHECK_OK(pf_video_write(webm, clip, T, H, W, NULL));
    RUN(probe_stream(webm, "vp9", "yuv420p", W, H, "24/1", T));
    RUN(check_lossy_readback(webm, T, H, W));
    CHECK_OK(pf_video_write(gif, clip, T, H, W, NULL));
    RUN(probe_stream(gif, "gif", NULL, W, H, NULL, T));
    free(webm);
    free(gif);
#endif
#ifdef PF_HAVE_PNG
    char *png = pf_tm_join(dir, "odd_%d.png");
    CHECK_OK(pf_video_write(png, clip, T, H, W, NULL));
    free(png);
#endif
    free(mp4);
    free(clip);
    pf_tm_rmtree(dir);
    return PF_T_PASS;
}

/* The up-front checks name the problem and what to do, and leave nothing. */
static pf_test_result test_check_output_errors(void) {
    char *dir = pf_tm_mkdtemp("video_check");
    CHECK(dir);
    char *p;
    p = pf_tm_join(dir, "clip.avi");
    CHECK_ERR(pf_video_check_output(p, NULL, 64, 48), PF_ERR_INVALID_ARG, "unknown video format '.avi'");
    CHECK(strstr(pf_last_error(), ".mp4"));
    free(p);
    p = pf_tm_join(dir, "clip");
    CHECK_ERR(pf_video_check_output(p, NULL, 64, 48), PF_ERR_INVALID_ARG, "no file extension");
    free(p);
    CHECK_ERR(pf_video_check_output("", NULL, 64, 48), PF_ERR_INVALID_ARG, "no output path");
    CHECK_ERR(pf_video_check_output(NULL, NULL, 64, 48), PF_ERR_INVALID_ARG, "no output path");

    /* An explicit format wins over the extension. */
    pf_video_opts o = {.format = PF_VIDEO_MP4};
    p = pf_tm_join(dir, "clip.bin");
    if (pf_video_format_available(PF_VIDEO_MP4)) CHECK_OK(pf_video_check_output(p, &o, 64, 48));
    free(p);

    if (pf_video_format_available(PF_VIDEO_MP4)) {
        p = pf_tm_join(dir, "no/such/dir/clip.mp4");
        CHECK_ERR(pf_video_check_output(p, NULL, 64, 48), PF_ERR_IO, "does not exist");
        CHECK(strstr(pf_last_error(), "mkdir -p"));
        free(p);
        /* a regular file where a directory should be */
        p = pf_tm_join(dir, "file.txt");
        FILE *f = fopen(p, "w");
        CHECK(f);
        fclose(f);
        char *q = pf_tm_join(dir, "file.txt/clip.mp4");
        CHECK_ERR(pf_video_check_output(q, NULL, 64, 48), PF_ERR_IO, "not a directory");
        free(q);
        remove(p);
        free(p);
        /* the output path is a directory */
        p = pf_tm_join(dir, "sub.mp4");
        CHECK(mkdir(p, 0755) == 0);
        CHECK_ERR(pf_video_check_output(p, NULL, 64, 48), PF_ERR_INVALID_ARG, "is a directory");
        rmdir(p);
        free(p);
        /* directories that exist but take no new files: sysfs refuses even
         * root; a mode 0555 directory refuses everyone else */
        if (pf_dir_exists("/sys")) {
            CHECK_ERR(pf_video_check_output("/sys/pflow_test.mp4", NULL, 64, 48), PF_ERR_IO, "cannot create files");
            CHECK(strstr(pf_last_error(), "writable output directory"));
        }
        if (geteuid() != 0) {
            char *ro = pf_tm_join(dir, "ro");
            CHECK(mkdir(ro, 0555) == 0);
            q = pf_tm_join(ro, "clip.mp4");
            CHECK_ERR(pf_video_check_output(q, NULL, 64, 48), PF_ERR_IO, "writable");
            free(q);
            rmdir(ro);
            free(ro);
        }
        p = pf_tm_join(dir, "clip.mp4");
        pf_video_opts bad = {.fps = -1}; /* <= 0: default */
        CHECK_OK(pf_video_check_output(p, &bad, 64, 48));
        bad.fps = 5000;
        CHECK_ERR(pf_video_check_output(p, &bad, 64, 48), PF_ERR_INVALID_ARG, "frame rate");
        bad = (pf_video_opts){.preset = "turbo"};
        CHECK_ERR(pf_video_check_output(p, &bad, 64, 48), PF_ERR_INVALID_ARG, "preset 'turbo'");
        bad = (pf_video_opts){.crf = 70};
        CHECK_ERR(pf_video_check_output(p, &bad, 64, 48), PF_ERR_INVALID_ARG, "CRF 70");
        free(p);
        p = pf_tm_join(dir, "fast.gif");
        bad = (pf_video_opts){.fps = 60};
        CHECK_ERR(pf_video_check_output(p, &bad, 64, 48), PF_ERR_INVALID_ARG, "50 fps");
        free(p);
    }
    if (pf_video_format_available(PF_VIDEO_PNG)) {
        p = pf_tm_join(dir, "frame.png");
        CHECK_ERR(pf_video_check_output(p, NULL, 64, 48), PF_ERR_INVALID_ARG, "frames_%04d.png");
        free(p);
        p = pf_tm_join(dir, "frame_%s.png");
        CHECK_ERR(pf_video_check_output(p, NULL, 64, 48), PF_ERR_INVALID_ARG, "'%s'");
        free(p);
        p = pf_tm_join(dir, "f_%d_%03d.png");
        CHECK_ERR(pf_video_check_output(p, NULL, 64, 48), PF_ERR_INVALID_ARG, "more than one");
        free(p);
        p = pf_tm_join(dir, "run%d/f.png");
        CHECK_ERR(pf_video_check_output(p, NULL, 64, 48), PF_ERR_INVALID_ARG, "file name");
        free(p);
        p = pf_tm_join(dir, "f_%04d.png");
        pf_video_opts neg = {.png_start_number = -1};
        CHECK_ERR(pf_video_check_output(p, &neg, 64, 48), PF_ERR_INVALID_ARG, ">= 0");
        CHECK_OK(pf_video_check_output(p, NULL, 64, 48));
        free(p);
    }
    CHECK(pf_tm_count_entries(dir) == 0); /* the probe files are gone */
    pf_tm_rmtree(dir);
    return PF_T_PASS;
}

/* Formats this build can write, each with an output name in dir. */
static int writable_formats(const char *dir, char *names[4]) {
    static const char *const files[] = {"c.mp4", "c.webm", "c.gif", "c_%03d.png"};
    static const pf_video_format fmts[] = {PF_VIDEO_MP4, PF_VIDEO_WEBM, PF_VIDEO_GIF, PF_VIDEO_PNG};
    int n = 0;
    for (int i = 0; i < 4; i++)
        if (pf_video_format_available(fmts[i])) names[n++] = pf_tm_join(dir, files[i]);
    return n;
}

static pf_test_result test_no_frames_no_file(void) {
    char *dir = pf_tm_mkdtemp("video_empty");
    CHECK(dir);
    char *names[4];
    int n = writable_formats(dir, names);
    if (n == 0) {
        pf_tm_rmtree(dir);
        SKIP("no video format in this build");
    }
    uint8_t *clip = make_clip(2, CH, CW);
    for (int i = 0; i < n; i++) {
        CHECK_ERR(pf_video_write(names[i], clip, 0, CH, CW, NULL), PF_ERR_INVALID_ARG, "no frames");
        pf_video_writer *w = NULL;
        CHECK_OK(pf_video_open(&w, names[i], CW, CH, NULL));
        CHECK_ERR(pf_video_close(w), PF_ERR_INVALID_ARG, "no frames");
        CHECK(pf_tm_count_entries(dir) == 0);
        /* discarding a writer with frames leaves nothing either */
        CHECK_OK(pf_video_open(&w, names[i], CW, CH, NULL));
        CHECK_OK(pf_video_write_frames(w, clip, 2));
        CHECK(pf_tm_count_entries(dir) >= 1);
        pf_video_discard(w);
        CHECK_MSG(pf_tm_count_entries(dir) == 0, "%s", names[i]);
        CHECK_ERR(pf_video_write(names[i], NULL, 2, CH, CW, NULL), PF_ERR_INVALID_ARG, "NULL");
        CHECK_ERR(pf_video_open(&w, names[i], 0, CH, NULL), PF_ERR_INVALID_ARG, "frame size");
        free(names[i]);
    }
    pf_video_discard(NULL);
    CHECK_ERR(pf_video_write_frames(NULL, clip, 1), PF_ERR_INVALID_ARG, "NULL writer");
    CHECK_ERR(pf_video_write_frame(NULL, clip), PF_ERR_INVALID_ARG, "NULL writer");
    CHECK_ERR(pf_video_close(NULL), PF_ERR_INVALID_ARG, "NULL writer");
    CHECK(pf_video_frame_count(NULL) == 0);
    free(clip);
    pf_tm_rmtree(dir);
    return PF_T_PASS;
}

/* The encoder finished but the result cannot be moved into place (a
 * directory appeared under the output name): an error, and the temporaries
 * are gone; for a PNG sequence the frames already moved are taken back. */
static pf_test_result test_failed_publish_leaves_nothing(void) {
    char *dir = pf_tm_mkdtemp("video_publish");
    CHECK(dir);
    char *names[4];
    int n = writable_formats(dir, names);
    if (n == 0) {
        pf_tm_rmtree(dir);
        SKIP("no video format in this build");
    }
    uint8_t *clip = make_clip(3, CH, CW);
    for (int i = 0; i < n; i++) {
        pf_video_writer *w = NULL;
        CHECK_OK(pf_video_open(&w, names[i], CW, CH, NULL));
        CHECK_OK(pf_video_write_frames(w, clip, 3));
        /* block the destination (for PNG: the second frame's) */
        char *blocked = strstr(names[i], "%03d") ? pf_tm_join(dir, "c_001.png") : pf_strdup(names[i]);
        CHECK(mkdir(blocked, 0755) == 0);
        char *inside = pf_tm_join(blocked, "keep");
        FILE *f = fopen(inside, "w");
        CHECK(f);
        fclose(f);
        CHECK_ERR(pf_video_close(w), PF_ERR_IO, "cannot move the finished file into place");
        CHECK_MSG(pf_tm_count_entries(dir) == 1, "%s: %d entries left", names[i], pf_tm_count_entries(dir));
        remove(inside);
        rmdir(blocked);
        free(inside);
        free(blocked);
        CHECK(pf_tm_count_entries(dir) == 0);
        free(names[i]);
    }
    free(clip);
    pf_tm_rmtree(dir);
    return PF_T_PASS;
}

/* A full disk (simulated with RLIMIT_FSIZE, which makes writes fail with
 * EFBIG once SIGXFSZ is ignored) fails the write and leaves no file. */
static pf_test_result test_disk_full_leaves_nothing(void) {
    char *dir = pf_tm_mkdtemp("video_full");
    CHECK(dir);
    char *names[4];
    int n = writable_formats(dir, names);
    if (n == 0) {
        pf_tm_rmtree(dir);
        SKIP("no video format in this build");
    }
    enum { T = 6, H = 96, W = 128 };
    uint8_t *noise = malloc((size_t)T * H * W * 3);
    CHECK(noise);
    uint32_t x = 12345;
    for (size_t i = 0; i < (size_t)T * H * W * 3; i++) {
        x = x * 1664525u + 1013904223u; /* incompressible: every format needs > 4 KiB */
        noise[i] = (uint8_t)(x >> 24);
    }
    struct rlimit old;
    CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    for (int i = 0; i < n; i++) {
        struct rlimit lim = old;
        lim.rlim_cur = 4096;
        CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
        pf_status s = pf_video_write(names[i], noise, T, H, W, NULL);
        setrlimit(RLIMIT_FSIZE, &old);
        CHECK_MSG(s == PF_ERR_IO, "%s: %s: %s", names[i], pf_status_str(s), pf_last_error());
        CHECK_MSG(pf_tm_count_entries(dir) == 0, "%s: %d entries left", names[i], pf_tm_count_entries(dir));
        /* Streaming: the failure shows at a frame or at close; after a failed
         * frame the writer refuses more and close repeats the error. */
        pf_video_writer *w = NULL;
        CHECK_OK(pf_video_open(&w, names[i], W, H, NULL));
        CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
        pf_status first = PF_OK;
        for (int t = 0; t < T && first == PF_OK; t++) first = pf_video_write_frame(w, noise + (size_t)t * H * W * 3);
        if (first != PF_OK) {
            CHECK(first == PF_ERR_IO);
            CHECK(pf_video_write_frame(w, noise) == first);
        }
        s = pf_video_close(w);
        setrlimit(RLIMIT_FSIZE, &old);
        CHECK_MSG(s == PF_ERR_IO, "%s (streaming): %s: %s", names[i], pf_status_str(s), pf_last_error());
        CHECK_MSG(pf_tm_count_entries(dir) == 0, "%s: %d entries left", names[i], pf_tm_count_entries(dir));
        free(names[i]);
    }
    signal(SIGXFSZ, prev);
    free(noise);
    pf_tm_rmtree(dir);
    return PF_T_PASS;
}

/* What each build configuration promises: the formats it has work, the ones
 * it lacks fail with PF_ERR_UNSUPPORTED naming the library and the fix. */
static pf_test_result test_build_configuration(void) {
    char *dir = pf_tm_mkdtemp("video_build");
    CHECK(dir);
    char *mp4 = pf_tm_join(dir, "c.mp4"), *png = pf_tm_join(dir, "c_%d.png");
#ifdef PF_HAVE_FFMPEG
    CHECK(pf_video_format_available(PF_VIDEO_MP4) && pf_video_format_available(PF_VIDEO_WEBM) &&
          pf_video_format_available(PF_VIDEO_GIF));
    CHECK_OK(pf_video_check_output(mp4, NULL, 64, 48));
#else
    CHECK(!pf_video_format_available(PF_VIDEO_MP4) && !pf_video_format_available(PF_VIDEO_GIF));
    CHECK_ERR(pf_video_check_output(mp4, NULL, 64, 48), PF_ERR_UNSUPPORTED, "needs FFmpeg");
    CHECK(strstr(pf_last_error(), "PF_FFMPEG") && strstr(pf_last_error(), "libavcodec-dev"));
    pf_video_writer *w = NULL;
    CHECK_ERR(pf_video_open(&w, mp4, 64, 48, NULL), PF_ERR_UNSUPPORTED, "FFmpeg");
    uint8_t *f = NULL;
    int t, h, wd;
    CHECK_ERR(pf_video_read(mp4, 0, &f, &t, &h, &wd), PF_ERR_UNSUPPORTED, "FFmpeg");
#endif
#ifdef PF_HAVE_PNG
    CHECK(pf_video_format_available(PF_VIDEO_PNG));
    CHECK_OK(pf_video_check_output(png, NULL, 64, 48));
#else
    CHECK(!pf_video_format_available(PF_VIDEO_PNG));
    CHECK_ERR(pf_video_check_output(png, NULL, 64, 48), PF_ERR_UNSUPPORTED, "needs libpng");
    CHECK(strstr(pf_last_error(), "libpng-dev"));
#endif
    CHECK(pf_tm_count_entries(dir) == 0);
    free(mp4);
    free(png);
    pf_tm_rmtree(dir);
    return PF_T_PASS;
}

static pf_test_result test_format_from_path(void) {
    CHECK(pf_video_format_from_path("a/b.mp4") == PF_VIDEO_MP4);
    CHECK(pf_video_format_from_path("B.MP4") == PF_VIDEO_MP4);
    CHECK(pf_video_format_from_path("x.webm") == PF_VIDEO_WEBM);
    CHECK(pf_video_format_from_path("x.Gif") == PF_VIDEO_GIF);
    CHECK(pf_video_format_from_path("f_%04d.png") == PF_VIDEO_PNG);
    CHECK(pf_video_format_from_path("x.mp4.tmp") == PF_VIDEO_AUTO);
    CHECK(pf_video_format_from_path("dir.mp4/x") == PF_VIDEO_AUTO);
    CHECK(pf_video_format_from_path(".mp4") == PF_VIDEO_AUTO); /* a hidden file, no extension */
    CHECK(pf_video_format_from_path(NULL) == PF_VIDEO_AUTO);
    CHECK(!strcmp(pf_video_format_name(PF_VIDEO_WEBM), "webm"));
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_format_from_path), PF_TEST(test_build_configuration), PF_TEST(test_mp4_streaming),
             PF_TEST(test_webm), PF_TEST(test_gif), PF_TEST(test_gif_dithered_gradient), PF_TEST(test_png_sequence),
             PF_TEST(test_odd_sizes), PF_TEST(test_check_output_errors), PF_TEST(test_no_frames_no_file),
             PF_TEST(test_failed_publish_leaves_nothing), PF_TEST(test_disk_full_leaves_nothing))
