/* Damaged inputs never crash the readers: valid PNG, JPEG, GIF, MP4 and
 * WebM files made here are mutated (bit flips, overwritten runs, cuts,
 * insertions) with a fixed seed and read back. Any status is acceptable
 * except a crash, a sanitizer report (CI runs this under ASan/UBSan), or a
 * success that returns an inconsistent image. */
#include "pf_image.h"
#include "pf_test_media.h"
#include "pf_video.h"

enum { MUTATIONS = 150 };

static uint32_t rng_state = 20241126u;
static uint32_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* One mutated copy of d[0..n) into out (capacity n + 64); returns its size. */
static size_t mutate(const uint8_t *d, size_t n, uint8_t *out) {
    memcpy(out, d, n);
    size_t m = n;
    int kind = (int)(rnd() % 5);
    size_t at = n ? rnd() % n : 0;
    switch (kind) {
    case 0: /* flip a few bits */
        for (int i = 0; i < 1 + (int)(rnd() % 4); i++) out[rnd() % n] ^= (uint8_t)(1u << (rnd() % 8));
        break;
    case 1: /* overwrite a run with random bytes */
        for (size_t i = at; i < n && i < at + 1 + rnd() % 32; i++) out[i] = (uint8_t)rnd();
        break;
    case 2: /* cut the file short */
        m = at;
        break;
    case 3: { /* insert bytes */
        size_t k = 1 + rnd() % 32;
        memmove(out + at + k, d + at, n - at);
        for (size_t i = 0; i < k; i++) out[at + i] = (uint8_t)rnd();
        m = n + k;
        break;
    }
    default: /* poke a size-like field: 0x00 or 0xFF at a random spot */
        out[at] = rnd() & 1 ? 0xFF : 0x00;
        break;
    }
    return m;
}

PF_UNUSED static bool write_file(const char *path, const uint8_t *d, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return false;
    bool ok = fwrite(d, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

PF_UNUSED static pf_test_result mutate_image(const char *dir, const char *valid_path) {
    char *d = NULL;
    size_t n = 0;
    CHECK_OK(pf_read_file(valid_path, &d, &n));
    uint8_t *buf = malloc(n + 64);
    char *p = pf_tm_join(dir, "mutant");
    CHECK(buf && p);
    int ok = 0;
    for (int i = 0; i < MUTATIONS; i++) {
        size_t m = mutate((const uint8_t *)d, n, buf);
        CHECK(write_file(p, buf, m));
        pf_image im;
        pf_status s = pf_image_read(p, &im);
        if (s == PF_OK) {
            CHECK(im.rgb && im.width > 0 && im.height > 0 && im.width <= PF_IMAGE_MAX_SIDE);
            ok++;
        } else {
            CHECK(!im.rgb);
            CHECK(s == PF_ERR_FORMAT || s == PF_ERR_IO || s == PF_ERR_UNSUPPORTED);
            CHECK(pf_last_error()[0] != '\0');
        }
        pf_image_free(&im);
    }
    fprintf(stderr, "  %s: %d of %d mutants still decode\n", strrchr(valid_path, '/') + 1, ok, MUTATIONS);
    free(p);
    free(buf);
    free(d);
    return PF_T_PASS;
}

PF_UNUSED static pf_test_result mutate_video(const char *dir, const char *valid_path) {
    char *d = NULL;
    size_t n = 0;
    CHECK_OK(pf_read_file(valid_path, &d, &n));
    uint8_t *buf = malloc(n + 64);
    char *p = pf_tm_join(dir, "mutant_video");
    CHECK(buf && p);
    for (int i = 0; i < MUTATIONS / 3; i++) {
        size_t m = mutate((const uint8_t *)d, n, buf);
        CHECK(write_file(p, buf, m));
        uint8_t *frames = NULL;
        int T = 0, H = 0, W = 0;
        pf_status s = pf_video_read(p, 0, &frames, &T, &H, &W);
        if (s == PF_OK)
            CHECK(frames && T > 0 && H > 0 && W > 0);
        else
            CHECK(!frames);
        free(frames);
    }
    free(p);
    free(buf);
    free(d);
    return PF_T_PASS;
}

static uint8_t *test_frames(int T, int H, int W) {
    uint8_t *f = malloc((size_t)T * H * W * 3);
    for (int t = 0; t < T; t++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                uint8_t *p = f + (((size_t)t * H + y) * W + x) * 3;
                p[0] = (uint8_t)(x * 8 + t * 20), p[1] = (uint8_t)(y * 8), p[2] = (uint8_t)((x ^ y) * 4);
            }
    return f;
}

static pf_test_result test_mutated_images(void) {
    char *dir = pf_tm_mkdtemp("mutate_images");
    CHECK(dir);
    uint8_t *f = test_frames(2, 24, 32);
    CHECK(f);
    int tried = 0;
#ifdef PF_HAVE_PNG
    char *png = pf_tm_join(dir, "valid.png");
    CHECK_OK(pf_image_write_png(png, f, 32, 24));
    if (mutate_image(dir, png) != PF_T_PASS) return PF_T_FAIL;
    free(png);
    tried++;
#endif
#ifdef PF_HAVE_FFMPEG
    static const char *const still[][2] = {{"mjpeg", "valid.jpg"}, {"libwebp", "valid.webp"}};
    for (int i = 0; i < 2; i++) {
        uint8_t *d = NULL;
        size_t n = 0;
        if (!pf_tm_encode_still(still[i][0], i == 0 ? AV_PIX_FMT_YUVJ420P : AV_PIX_FMT_YUV420P, f, 32, 24, &d, &n))
            continue;
        char *p = pf_tm_join(dir, still[i][1]);
        CHECK(write_file(p, d, n));
        free(d);
        if (mutate_image(dir, p) != PF_T_PASS) return PF_T_FAIL;
        free(p);
        tried++;
    }
#endif
    free(f);
    pf_tm_rmtree(dir);
    if (!tried) SKIP("built without libpng and FFmpeg");
    return PF_T_PASS;
}

static pf_test_result test_mutated_videos(void) {
#ifndef PF_HAVE_FFMPEG
    SKIP("built without FFmpeg");
#else
    char *dir = pf_tm_mkdtemp("mutate_videos");
    CHECK(dir);
    uint8_t *f = test_frames(4, 24, 32);
    CHECK(f);
    static const char *const names[] = {"valid.mp4", "valid.webm", "valid.gif"};
    for (int i = 0; i < 3; i++) {
        char *p = pf_tm_join(dir, names[i]);
        CHECK_OK(pf_video_write(p, f, 4, 24, 32, NULL));
        if (mutate_video(dir, p) != PF_T_PASS) return PF_T_FAIL;
        /* a GIF is also an image (its first frame) */
        if (i == 2 && mutate_image(dir, p) != PF_T_PASS) return PF_T_FAIL;
        free(p);
    }
    free(f);
    pf_tm_rmtree(dir);
    return PF_T_PASS;
#endif
}

PF_TEST_MAIN(PF_TEST(test_mutated_images), PF_TEST(test_mutated_videos))
