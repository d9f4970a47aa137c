/* Image input/output and the PIL-compatible resize + cover crop.
 *
 * PNG inputs are assembled here byte by byte (stored deflate blocks), so the
 * decoder is checked against the PNG definition, not against itself. The
 * resize checks are properties any correct Lanczos resampler has and values
 * derived by hand from the algorithm; nothing is copied from a PIL run. */
#include "pf_image.h"
#include "pf_test_media.h"


/* ---- a minimal PNG writer: stored (uncompressed) zlib blocks ---------- */

typedef struct {
    uint8_t *d;
    size_t n, cap;
} buf;

static void put(buf *b, const void *p, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->d = realloc(b->d, b->cap);
    }
    memcpy(b->d + b->n, p, n);
    b->n += n;
}
static void put32(buf *b, uint32_t v) {
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put(b, x, 4);
}

static uint32_t crc32_of(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return c ^ 0xFFFFFFFFu;
}

static void chunk(buf *b, const char *type, const uint8_t *data, size_t n) {
    put32(b, (uint32_t)n);
    buf t = {0};
    put(&t, type, 4);
    if (n) put(&t, data, n);
    put(b, t.d, t.n);
    put32(b, crc32_of(t.d, t.n));
    free(t.d);
}

/* raw: the filtered scanlines (each starting with its filter byte). */
static buf make_png(int w, int h, int depth, int ctype, const uint8_t *raw, size_t rawn, const uint8_t *plte,
                    int nplte, const uint8_t *trns, int ntrns) {
    buf b = {0};
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    put(&b, sig, 8);
    uint8_t ihdr[13] = {(uint8_t)(w >> 24), (uint8_t)(w >> 16), (uint8_t)(w >> 8), (uint8_t)w,
                        (uint8_t)(h >> 24), (uint8_t)(h >> 16), (uint8_t)(h >> 8), (uint8_t)h,
                        (uint8_t)depth,     (uint8_t)ctype,     0,                 0, 0};
    chunk(&b, "IHDR", ihdr, 13);
    if (plte) chunk(&b, "PLTE", plte, (size_t)nplte * 3);
    if (trns) chunk(&b, "tRNS", trns, (size_t)ntrns);
    buf z = {0};
    uint8_t zh[2] = {0x78, 0x01};
    put(&z, zh, 2);
    size_t pos = 0;
    do {
        size_t len = rawn - pos > 65535 ? 65535 : rawn - pos;
        uint8_t bh[5] = {(uint8_t)(pos + len == rawn), (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)~len,
                         (uint8_t)(~len >> 8)};
        put(&z, bh, 5);
        put(&z, raw + pos, len);
        pos += len;
    } while (pos < rawn);
    uint32_t a = 1, s = 0;
    for (size_t i = 0; i < rawn; i++) {
        a = (a + raw[i]) % 65521;
        s = (s + a) % 65521;
    }
    put32(&z, (s << 16) | a);
    chunk(&b, "IDAT", z.d, z.n);
    free(z.d);
    chunk(&b, "IEND", NULL, 0);
    return b;
}

static bool write_file(const char *path, const void *d, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return false;
    bool ok = fwrite(d, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

static bool png_readable(void) {
#if defined(PF_HAVE_PNG) || defined(PF_HAVE_FFMPEG)
    return true;
#else
    return false;
#endif
}

/* Decodes a hand-made PNG and compares with the RGB the definition gives. */
static pf_test_result expect_png(const char *dir, const char *name, buf png, const uint8_t *want, int w, int h,
                                 int tol) {
    char *p = pf_tm_join(dir, name);
    CHECK(write_file(p, png.d, png.n));
    free(png.d);
    pf_image im;
    CHECK_OK(pf_image_read(p, &im));
    CHECK_MSG(im.width == w && im.height == h, "%s: %dx%d", name, im.width, im.height);
    for (int i = 0; i < w * h * 3; i++)
        CHECK_MSG(abs(im.rgb[i] - want[i]) <= tol, "%s: byte %d is %d, want %d", name, i, im.rgb[i], want[i]);
    pf_image_free(&im);
    CHECK(!im.rgb && im.width == 0);
    free(p);
    return PF_T_PASS;
}

#define RUN(expr)                       \
    do {                                \
        pf_test_result r_ = (expr);     \
        if (r_ != PF_T_PASS) return r_; \
    } while (0)

/* Every PNG colour type maps to RGB as PIL's convert("RGB") does. */
static pf_test_result test_png_flavours(void) {
    if (!png_readable()) SKIP("built without libpng and FFmpeg");
    char *dir = pf_tm_mkdtemp("image_flavours");
    CHECK(dir);
    { /* 8-bit RGB, 3x2 */
        const uint8_t raw[] = {0, 1, 2, 3, 40, 50, 60, 250, 251, 252, 0, 9, 8, 7, 100, 0, 200, 0, 0, 255};
        const uint8_t want[] = {1, 2, 3, 40, 50, 60, 250, 251, 252, 9, 8, 7, 100, 0, 200, 0, 0, 255};
        RUN(expect_png(dir, "rgb8.png", make_png(3, 2, 8, 2, raw, sizeof raw, NULL, 0, NULL, 0), want, 3, 2, 0));
    }
    { /* 8-bit grey -> R = G = B */
        const uint8_t raw[] = {0, 0, 77, 255};
        const uint8_t want[] = {0, 0, 0, 77, 77, 77, 255, 255, 255};
        RUN(expect_png(dir, "grey8.png", make_png(3, 1, 8, 0, raw, sizeof raw, NULL, 0, NULL, 0), want, 3, 1, 0));
    }
    { /* 1-bit grey: bits 1,0,1 -> 255, 0, 255 */
        const uint8_t raw[] = {0, 0xA0};
        const uint8_t want[] = {255, 255, 255, 0, 0, 0, 255, 255, 255};
        RUN(expect_png(dir, "grey1.png", make_png(3, 1, 1, 0, raw, sizeof raw, NULL, 0, NULL, 0), want, 3, 1, 0));
    }
    { /* 4-bit grey: v -> v * 17 */
        const uint8_t raw[] = {0, 0x3F, 0x80};
        const uint8_t want[] = {51, 51, 51, 255, 255, 255, 136, 136, 136};
        RUN(expect_png(dir, "grey4.png", make_png(3, 1, 4, 0, raw, sizeof raw, NULL, 0, NULL, 0), want, 3, 1, 0));
    }
    { /* grey + alpha: alpha dropped, not composited */
        const uint8_t raw[] = {0, 90, 0, 200, 128};
        const uint8_t want[] = {90, 90, 90, 200, 200, 200};
        RUN(expect_png(dir, "greya.png", make_png(2, 1, 8, 4, raw, sizeof raw, NULL, 0, NULL, 0), want, 2, 1, 0));
    }
    { /* RGBA: alpha dropped */
        const uint8_t raw[] = {0, 10, 20, 30, 0, 40, 50, 60, 77};
        const uint8_t want[] = {10, 20, 30, 40, 50, 60};
        RUN(expect_png(dir, "rgba.png", make_png(2, 1, 8, 6, raw, sizeof raw, NULL, 0, NULL, 0), want, 2, 1, 0));
    }
    { /* 16-bit RGB: the high byte (PIL's "RGB;16B"); FFmpeg's decoder rounds */
        const uint8_t raw[] = {0, 0x12, 0x34, 0xAB, 0x00, 0x00, 0xFF, 0x80, 0xFF, 0xFF, 0xFF, 0x7F, 0x80};
        const uint8_t want6[] = {0x12, 0xAB, 0x00, 0x80, 0xFF, 0x7F};
#ifdef PF_HAVE_PNG
        int tol = 0;
#else
        int tol = 1;
#endif
        RUN(expect_png(dir, "rgb16.png", make_png(2, 1, 16, 2, raw, sizeof raw, NULL, 0, NULL, 0), want6, 2, 1, tol));
    }
    { /* palette with tRNS: the palette colours, transparency ignored */
        const uint8_t plte[] = {255, 0, 0, 0, 255, 0, 0, 0, 255};
        const uint8_t trns[] = {0, 128};
        const uint8_t raw[] = {0, 2, 1, 0, 0};
        const uint8_t want[] = {0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 0, 0};
        RUN(expect_png(dir, "pal8.png", make_png(4, 1, 8, 3, raw, sizeof raw, plte, 3, trns, 2), want, 4, 1, 0));
    }
    { /* 2-bit palette: indices 3,0,1 */
        const uint8_t plte[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
        const uint8_t raw[] = {0, 0xC4};
        const uint8_t want[] = {10, 11, 12, 1, 2, 3, 4, 5, 6};
        RUN(expect_png(dir, "pal2.png", make_png(3, 1, 2, 3, raw, sizeof raw, plte, 4, NULL, 0), want, 3, 1, 0));
    }
    pf_tm_rmtree(dir);
    return PF_T_PASS;
}

static pf_test_result test_png_round_trip(void) {
#ifndef PF_HAVE_PNG
    SKIP("built without libpng");
#else
    char *dir = pf_tm_mkdtemp("image_png");
    CHECK(dir);
    char *p = pf_tm_join(dir, "img.png");
    enum { W = 37, H = 23 };
    uint8_t img[W * H * 3];
    uint32_t x = 99;
    for (int i = 0; i < W * H * 3; i++) {
        x = x * 1103515245u + 12345u;
        img[i] = (uint8_t)(x >> 23);
    }
    for (int pass = 0; pass < 2; pass++) { /* the second pass overwrites */
        if (pass) img[5] ^= 0xFF;
        CHECK_OK(pf_image_write_png(p, img, W, H));
        pf_image im;
        CHECK_OK(pf_image_read(p, &im));
        CHECK(im.width == W && im.height == H);
        CHECK(!memcmp(im.rgb, img, sizeof img));
        pf_image_free(&im);
        CHECK(pf_tm_count_entries(dir) == 1);
    }
    CHECK_ERR(pf_image_write_png(p, NULL, W, H), PF_ERR_INVALID_ARG, "cannot write");
    CHECK_ERR(pf_image_write_png(p, img, 0, H), PF_ERR_INVALID_ARG, "0x23");
    char *bad = pf_tm_join(dir, "missing/img.png");
    CHECK_ERR(pf_image_write_png(bad, img, W, H), PF_ERR_IO, "does not exist");
    free(bad);
    CHECK(pf_tm_count_entries(dir) == 1);
    free(p);
    pf_tm_rmtree(dir);
    return PF_T_PASS;
#endif
}

/* Damaged PNGs are errors (never crashes, never a half image); a file that
 * ends right after its pixel data still reads, as in PIL. */
static pf_test_result test_png_corrupt(void) {
#ifndef PF_HAVE_PNG
    SKIP("built without libpng");
#else
    char *dir = pf_tm_mkdtemp("image_badpng");
    CHECK(dir);
    char *p = pf_tm_join(dir, "bad.png");
    enum { W = 20, H = 10 };
    uint8_t raw[H * (1 + W * 3)];
    for (size_t i = 0; i < sizeof raw; i++) raw[i] = (uint8_t)(i * 7);
    for (int y = 0; y < H; y++) raw[y * (1 + W * 3)] = 0; /* filter: none */
    buf png = make_png(W, H, 8, 2, raw, sizeof raw, NULL, 0, NULL, 0);
    pf_image im;
    CHECK(write_file(p, png.d, png.n));
    CHECK_OK(pf_image_read(p, &im));
    pf_image_free(&im);
    size_t iend = png.n - 12; /* the IEND chunk is the last 12 bytes */
    size_t cuts[] = {8, 20, 33, 50, iend / 2, iend - 5, iend - 1};
    for (size_t i = 0; i < PF_ARRAY_LEN(cuts); i++) {
        CHECK(write_file(p, png.d, cuts[i]));
        CHECK_ERR(pf_image_read(p, &im), PF_ERR_FORMAT, "truncated");
        CHECK(!im.rgb);
    }
    CHECK(write_file(p, png.d, iend)); /* IEND missing */
    CHECK_OK(pf_image_read(p, &im));
    pf_image_free(&im);
    /* a flipped bit in the image data: CRC mismatch */
    buf c = {0};
    put(&c, png.d, png.n);
    c.d[iend - 20] ^= 0x10;
    CHECK(write_file(p, c.d, c.n));
    CHECK_ERR(pf_image_read(p, &im), PF_ERR_FORMAT, "bad.png");
    free(c.d);
    /* a valid header claiming an absurd size: refused before allocating */
    uint8_t one[4] = {0, 1, 2, 3};
    buf big = make_png(70000, 1, 8, 2, one, 4, NULL, 0, NULL, 0);
    CHECK(write_file(p, big.d, big.n));
    CHECK_ERR(pf_image_read(p, &im), PF_ERR_FORMAT, "bad.png");
    free(big.d);
    buf zero = make_png(0, 5, 8, 2, one, 4, NULL, 0, NULL, 0);
    CHECK(write_file(p, zero.d, zero.n));
    CHECK_ERR(pf_image_read(p, &im), PF_ERR_FORMAT, "bad.png");
    free(zero.d);
    /* pixel data shorter than the header promises */
    buf shortd = make_png(W, H + 5, 8, 2, raw, sizeof raw, NULL, 0, NULL, 0);
    CHECK(write_file(p, shortd.d, shortd.n));
    CHECK_ERR(pf_image_read(p, &im), PF_ERR_FORMAT, "bad.png");
    free(shortd.d);
    free(png.d);
    free(p);
    pf_tm_rmtree(dir);
    return PF_T_PASS;
#endif
}

#ifdef PF_HAVE_FFMPEG
enum { QW = 64, QH = 48 };
static const uint8_t quad[4][3] = {{200, 30, 40}, {20, 180, 60}, {40, 60, 210}, {230, 220, 90}};

static void make_quadrants(uint8_t *img) {
    for (int y = 0; y < QH; y++)
        for (int x = 0; x < QW; x++) memcpy(img + ((size_t)y * QW + x) * 3, quad[(y >= QH / 2) * 2 + (x >= QW / 2)], 3);
}

/* Interior of each quadrant within tol of its colour. */
static pf_test_result check_quadrants(const pf_image *im, double tol) {
    CHECK(im->width == QW && im->height == QH);
    for (int q = 0; q < 4; q++) {
        int x0 = (q % 2) * QW / 2 + 6, y0 = (q / 2) * QH / 2 + 6;
        for (int c = 0; c < 3; c++) {
            double s = 0;
            for (int y = y0; y < y0 + QH / 2 - 12; y++)
                for (int x = x0; x < x0 + QW / 2 - 12; x++) s += im->rgb[((size_t)y * QW + x) * 3 + c];
            CHECK_NEAR(s / ((QH / 2 - 12) * (QW / 2 - 12)), quad[q][c], tol);
        }
    }
    return PF_T_PASS;
}
#endif

static pf_test_result test_jpeg_and_webp(void) {
#ifndef PF_HAVE_FFMPEG
    SKIP("built without FFmpeg");
#else
    char *dir = pf_tm_mkdtemp("image_jpeg");
    CHECK(dir);
    uint8_t img[QW * QH * 3];
    make_quadrants(img);
    buf jpg = {0};
    CHECK(pf_tm_encode_still("mjpeg", AV_PIX_FMT_YUVJ444P, img, QW, QH, &jpg.d, &jpg.n));
    char *p = pf_tm_join(dir, "in.jpg");
    CHECK(write_file(p, jpg.d, jpg.n));
    pf_image im;
    CHECK_OK(pf_image_read(p, &im));
    RUN(check_quadrants(&im, 6.0));
    pf_image_free(&im);
    /* The name does not matter, the content does. */
    char *q = pf_tm_join(dir, "actually_a_jpeg.png");
    CHECK(write_file(q, jpg.d, jpg.n));
    CHECK_OK(pf_image_read(q, &im));
    pf_image_free(&im);
    free(q);
    /* Bytes after the end-of-image marker (some cameras append data) are fine. */
    buf tail = {0};
    put(&tail, jpg.d, jpg.n);
    put(&tail, "trailing data", 13);
    CHECK(write_file(p, tail.d, tail.n));
    CHECK_OK(pf_image_read(p, &im));
    pf_image_free(&im);
    free(tail.d);
    /* Truncated anywhere: refused (FFmpeg alone would conceal it). */
    size_t cuts[] = {2, 3, 20, jpg.n / 3, jpg.n / 2, jpg.n - 2, jpg.n - 1};
    for (size_t i = 0; i < PF_ARRAY_LEN(cuts); i++) {
        CHECK(write_file(p, jpg.d, cuts[i]));
        CHECK_ERR(pf_image_read(p, &im), PF_ERR_FORMAT, "JPEG");
        CHECK(!im.rgb);
    }
    /* Damaged header right after the start marker. */
    buf bad = {0};
    put(&bad, jpg.d, jpg.n);
    memset(bad.d + 2, 0, 40);
    CHECK(write_file(p, bad.d, bad.n));
    CHECK_ERR(pf_image_read(p, &im), PF_ERR_FORMAT, "corrupt JPEG");
    /* Garbage in the middle of the scan: an error, not a smeared picture. */
    memcpy(bad.d, jpg.d, jpg.n);
    uint32_t x = 7;
    for (size_t i = jpg.n / 2; i < jpg.n / 2 + 200 && i < jpg.n - 2; i++) {
        x = x * 1664525u + 1013904223u;
        bad.d[i] = (uint8_t)(x >> 24);
    }
    CHECK(write_file(p, bad.d, bad.n));
    CHECK(pf_image_read(p, &im) == PF_ERR_FORMAT);
    CHECK(!im.rgb);
    free(bad.d);
    /* Not an image at all. */
    uint8_t junk[3000];
    for (size_t i = 0; i < sizeof junk; i++) {
        x = x * 1664525u + 1013904223u;
        junk[i] = (uint8_t)(x >> 24);
    }
    junk[0] = 'x';
    CHECK(write_file(p, junk, sizeof junk));
    CHECK_ERR(pf_image_read(p, &im), PF_ERR_FORMAT, "in.jpg");
    free(jpg.d);

    buf webp = {0};
    if (pf_tm_encode_still("libwebp", AV_PIX_FMT_YUV420P, img, QW, QH, &webp.d, &webp.n)) {
        char *w = pf_tm_join(dir, "in.webp");
        CHECK(write_file(w, webp.d, webp.n));
        CHECK_OK(pf_image_read(w, &im));
        RUN(check_quadrants(&im, 8.0));
        pf_image_free(&im);
        CHECK(write_file(w, webp.d, webp.n / 2));
        CHECK(pf_image_read(w, &im) == PF_ERR_FORMAT);
        free(w);
    } else {
        fprintf(stderr, "  (no libwebp encoder: WebP input not checked)\n");
    }
    free(webp.d);
    free(p);
    pf_tm_rmtree(dir);
    return PF_T_PASS;
#endif
}

static pf_test_result test_missing_and_odd_files(void) {
    char *dir = pf_tm_mkdtemp("image_missing");
    CHECK(dir);
    pf_image im;
    char *p = pf_tm_join(dir, "nope.png");
    CHECK_ERR(pf_image_read(p, &im), PF_ERR_IO, "cannot open");
    CHECK(strstr(pf_last_error(), "nope.png"));
    CHECK_ERR(pf_image_read(dir, &im), PF_ERR_IO, "directory");
    CHECK(write_file(p, "", 0));
    CHECK_ERR(pf_image_read(p, &im), PF_ERR_FORMAT, "empty");
    CHECK_ERR(pf_image_read(NULL, &im), PF_ERR_INVALID_ARG, "path");
    CHECK_ERR(pf_image_read(p, NULL), PF_ERR_INVALID_ARG, "NULL");
    free(p);
    pf_tm_rmtree(dir);
    pf_image_free(NULL);
    return PF_T_PASS;
}

/* What a build lacking a library says. */
static pf_test_result test_build_configuration(void) {
    char *dir = pf_tm_mkdtemp("image_build");
    CHECK(dir);
    char *p = pf_tm_join(dir, "x.jpg");
    const uint8_t jpeg_start[] = {0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0};
    CHECK(write_file(p, jpeg_start, sizeof jpeg_start));
    pf_image im;
#ifndef PF_HAVE_FFMPEG
    CHECK_ERR(pf_image_read(p, &im), PF_ERR_UNSUPPORTED, "reading JPEG images needs FFmpeg");
    CHECK(strstr(pf_last_error(), "PF_FFMPEG"));
#else
    CHECK_ERR(pf_image_read(p, &im), PF_ERR_FORMAT, "JPEG"); /* a real build: just a broken JPEG */
#endif
    char *q = pf_tm_join(dir, "y.png");
    uint8_t px[3] = {1, 2, 3};
#ifndef PF_HAVE_PNG
    CHECK_ERR(pf_image_write_png(q, px, 1, 1), PF_ERR_UNSUPPORTED, "libpng");
    CHECK(strstr(pf_last_error(), "libpng-dev"));
#else
    CHECK_OK(pf_image_write_png(q, px, 1, 1));
#endif
#if !defined(PF_HAVE_PNG) && !defined(PF_HAVE_FFMPEG)
    const uint8_t raw[] = {0, 1, 2, 3};
    buf png = make_png(1, 1, 8, 2, raw, 4, NULL, 0, NULL, 0);
    CHECK(write_file(q, png.d, png.n));
    free(png.d);
    CHECK_ERR(pf_image_read(q, &im), PF_ERR_UNSUPPORTED, "libpng");
#endif
    free(p);
    free(q);
    pf_tm_rmtree(dir);
    return PF_T_PASS;
}

/* ---- resize ---------------------------------------------------------- */

static pf_test_result test_resize_constant_stays_constant(void) {
    /* The taps of every output pixel sum to 1 (before fixed-point rounding,
     * which moves the sum by far less than half a level), so a flat image
     * stays flat, whatever the scale, including extreme ones. */
    const int sizes[][4] = {{17, 9, 3, 2},    {3, 2, 17, 9},   {100, 60, 64, 48}, {64, 48, 1280, 768},
                            {1, 1, 5, 7},     {300, 1, 7, 1},  {7, 300, 7, 2},    {1000, 3, 1, 1}};
    const uint8_t vals[] = {0, 1, 128, 254, 255};
    for (size_t s = 0; s < PF_ARRAY_LEN(sizes); s++)
        for (size_t v = 0; v < PF_ARRAY_LEN(vals); v++) {
            int sw = sizes[s][0], sh = sizes[s][1], dw = sizes[s][2], dh = sizes[s][3];
            uint8_t *src = malloc((size_t)sw * sh * 3), *dst = malloc((size_t)dw * dh * 3);
            CHECK(src && dst);
            memset(src, vals[v], (size_t)sw * sh * 3);
            CHECK_OK(pf_image_resize_lanczos(src, sw, sh, dst, dw, dh));
            for (int i = 0; i < dw * dh * 3; i++)
                CHECK_MSG(dst[i] == vals[v], "%dx%d -> %dx%d, value %d: got %d", sw, sh, dw, dh, vals[v], dst[i]);
            free(src);
            free(dst);
        }
    return PF_T_PASS;
}

static pf_test_result test_resize_gradient_stays_monotonic(void) {
    /* A linear ramp along x: every output row equals the others and rises
     * (non-strictly) from left to right; same along y. Lanczos rings only
     * at steps, and a ramp has none. */
    const int sizes[][4] = {{200, 3, 64, 5}, {64, 2, 200, 3}, {255, 4, 100, 4}, {97, 5, 1280, 2}};
    for (size_t s = 0; s < PF_ARRAY_LEN(sizes); s++) {
        int sw = sizes[s][0], sh = sizes[s][1], dw = sizes[s][2], dh = sizes[s][3];
        uint8_t *src = malloc((size_t)sw * sh * 3), *dst = malloc((size_t)dw * dh * 3);
        uint8_t *srcT = malloc((size_t)sw * sh * 3), *dstT = malloc((size_t)dw * dh * 3);
        CHECK(src && dst && srcT && dstT);
        for (int y = 0; y < sh; y++)
            for (int x = 0; x < sw; x++)
                for (int c = 0; c < 3; c++) {
                    uint8_t v = (uint8_t)(x * 255 / (sw - 1));
                    src[((size_t)y * sw + x) * 3 + c] = c == 1 ? (uint8_t)(255 - v) : v;
                    srcT[((size_t)x * sh + y) * 3 + c] = v; /* transposed: ramp along y */
                }
        CHECK_OK(pf_image_resize_lanczos(src, sw, sh, dst, dw, dh));
        CHECK_OK(pf_image_resize_lanczos(srcT, sh, sw, dstT, dh, dw));
        for (int y = 0; y < dh; y++)
            for (int x = 0; x < dw; x++) {
                const uint8_t *p = dst + ((size_t)y * dw + x) * 3;
                CHECK(p[0] == dst[(size_t)x * 3] && p[0] == p[2]); /* rows equal, R = B */
                if (x > 0) {
                    CHECK_MSG(p[0] >= p[-3], "%dx%d->%dx%d: R falls at x=%d", sw, sh, dw, dh, x);
                    CHECK_MSG(p[1] <= p[-2], "%dx%d->%dx%d: G rises at x=%d", sw, sh, dw, dh, x);
                }
                /* the transposed problem gives the transposed answer */
                CHECK(dstT[((size_t)x * dh + y) * 3] == p[0]);
            }
        CHECK(dst[0] <= 8 && dst[(size_t)(dw - 1) * 3] >= 247); /* the ends stay near the ends */
        free(src);
        free(dst);
        free(srcT);
        free(dstT);
    }
    return PF_T_PASS;
}

static pf_test_result test_resize_hand_values(void) {
    /* Two pixels -> one: the centre lies exactly between them, both taps are
     * kernel(+-0.25) and normalise to exactly 1/2 = 2^21 in 22-bit fixed
     * point, so the result is (a + b + 1) >> 1, rounding halves up. */
    const uint8_t pairs[][2] = {{0, 255}, {10, 11}, {100, 100}, {0, 1}, {254, 255}, {37, 200}};
    for (size_t i = 0; i < PF_ARRAY_LEN(pairs); i++) {
        uint8_t src[6] = {pairs[i][0], pairs[i][0], pairs[i][0], pairs[i][1], pairs[i][1], pairs[i][1]}, dst[3];
        CHECK_OK(pf_image_resize_lanczos(src, 2, 1, dst, 1, 1));
        int want = (pairs[i][0] + pairs[i][1] + 1) >> 1;
        CHECK_MSG(dst[0] == want && dst[1] == want && dst[2] == want, "(%d,%d) -> %d, want %d", pairs[i][0],
                  pairs[i][1], dst[0], want);
        CHECK_OK(pf_image_resize_lanczos(src, 1, 2, dst, 1, 1)); /* same column-wise */
        CHECK(dst[0] == want);
    }
    /* Same size: untouched. */
    uint8_t a[4 * 3 * 3], b[4 * 3 * 3];
    for (size_t i = 0; i < sizeof a; i++) a[i] = (uint8_t)(i * 29);
    CHECK_OK(pf_image_resize_lanczos(a, 4, 3, b, 4, 3));
    CHECK(!memcmp(a, b, sizeof a));
    /* An isolated white pixel upscaled 2x: the kernel is symmetric about its
     * centre, so the pair of output pixels covering it are equal and the
     * values mirror around it. */
    uint8_t dot[9 * 3] = {0}, up[18 * 3];
    memset(dot + 4 * 3, 255, 3);
    CHECK_OK(pf_image_resize_lanczos(dot, 9, 1, up, 18, 1));
    for (int x = 0; x < 9; x++) CHECK(up[x * 3] == up[(17 - x) * 3]);
    CHECK(up[8 * 3] == up[9 * 3] && up[8 * 3] > 200);
    CHECK_ERR(pf_image_resize_lanczos(a, 0, 3, b, 4, 3), PF_ERR_INVALID_ARG, "0x3");
    CHECK_ERR(pf_image_resize_lanczos(NULL, 4, 3, b, 4, 3), PF_ERR_INVALID_ARG, "NULL");
    return PF_T_PASS;
}

/* Lanczos-3 from its definition: sinc(x) sinc(x / 3) on [-3, 3). */
static double ref_lanczos3(double x) {
    if (x < -3.0 || x >= 3.0) return 0.0;
    double a = x == 0 ? 1.0 : sin(M_PI * x) / (M_PI * x);
    double b = x == 0 ? 1.0 : sin(M_PI * x / 3.0) / (M_PI * x / 3.0);
    return a * b;
}

/* Fixed-point weight that input sample `at` gets in output o of a 1-D
 * resize in -> out, from the definition (taps normalised to sum 1, then
 * rounded half away from zero to 22 bits). */
static long ref_weight(int in, int out, int o, int at) {
    double scale = (double)in / out, fs = scale > 1 ? scale : 1, support = 3 * fs;
    double centre = (o + 0.5) * scale, sum = 0, tap = 0;
    int lo = (int)(centre - support + 0.5), hi = (int)(centre + support + 0.5);
    lo = lo < 0 ? 0 : lo;
    hi = hi > in ? in : hi;
    for (int i = lo; i < hi; i++) {
        double k = ref_lanczos3((i - centre + 0.5) / fs);
        sum += k;
        if (i == at) tap = k;
    }
    double q = tap / sum * (1 << 22);
    return (long)(q < 0 ? q - 0.5 : q + 0.5);
}

static int ref_clip(long acc) { return acc < 0 ? 0 : (acc >> 22) > 255 ? 255 : (int)(acc >> 22); }

/* A single 255 among zeros comes out as the kernel itself: output o sees the
 * impulse with its normalised tap weight, stretched by the scale when
 * shrinking. This pins the kernel, its support and its window. In 2-D the
 * horizontal pass runs first and its result is rounded and clipped to 8 bits
 * before the vertical pass, which this pins too. */
static pf_test_result test_resize_impulse_is_the_kernel(void) {
    const int cases[][4] = {{9, 1, 18, 1}, {9, 1, 4, 1}, {11, 1, 5, 1}, {10, 1, 31, 1}, {9, 11, 18, 5}, {13, 7, 6, 20}};
    for (size_t c = 0; c < PF_ARRAY_LEN(cases); c++) {
        int sw = cases[c][0], sh = cases[c][1], dw = cases[c][2], dh = cases[c][3], ax = sw / 2, ay = sh / 2;
        uint8_t src[32 * 32 * 3] = {0}, dst[32 * 32 * 3];
        memset(src + ((size_t)ay * sw + ax) * 3, 255, 3);
        CHECK_OK(pf_image_resize_lanczos(src, sw, sh, dst, dw, dh));
        for (int y = 0; y < dh; y++)
            for (int x = 0; x < dw; x++) {
                int h = ref_clip((1L << 21) + 255 * ref_weight(sw, dw, x, ax)); /* horizontal pass, row ay */
                int want = sh == dh ? (y == ay ? h : 0) : ref_clip((1L << 21) + h * ref_weight(sh, dh, y, ay));
                const uint8_t *p = dst + ((size_t)y * dw + x) * 3;
                CHECK_MSG(p[0] == want && p[1] == want && p[2] == want, "%dx%d -> %dx%d at (%d, %d): %d, want %d", sw,
                          sh, dw, dh, x, y, p[0], want);
            }
    }
    return PF_T_PASS;
}

static pf_test_result test_cover_geometry(void) {
    /* Hand-computed with scale = max(W/w, H/h), sizes and offsets rounded
     * half to even as Python's round() does. */
    const struct {
        int w, h, W, H, rw, rh, left, top;
    } c[] = {
        {1000, 600, 640, 384, 640, 384, 0, 0},     /* same aspect */
        {1920, 1080, 640, 384, 683, 384, 22, 0},   /* 682.67 -> 683; (683 - 640) / 2 = 21.5 -> 22 */
        {600, 1000, 640, 384, 640, 1067, 0, 342},  /* 1066.67 -> 1067; 341.5 -> 342 */
        {1024, 1024, 1280, 768, 1280, 1280, 0, 256},
        {641, 385, 640, 384, 640, 384, 0, 0},      /* 384.4 -> 384 */
        {725, 384, 640, 384, 725, 384, 42, 0},     /* 42.5 -> 42 (half to even) */
        {727, 384, 640, 384, 727, 384, 44, 0},     /* 43.5 -> 44 */
        {333, 777, 384, 640, 384, 896, 0, 128},    /* 777 * 384 / 333 = 896 */
        {64, 48, 1280, 768, 1280, 960, 0, 96},     /* upscale x20 */
        {1, 1, 640, 384, 640, 640, 0, 128},
    };
    for (size_t i = 0; i < PF_ARRAY_LEN(c); i++) {
        int rw, rh, l, t;
        pf_image_cover_geometry(c[i].w, c[i].h, c[i].W, c[i].H, &rw, &rh, &l, &t);
        CHECK_MSG(rw == c[i].rw && rh == c[i].rh && l == c[i].left && t == c[i].top,
                  "%dx%d -> %dx%d: %dx%d at (%d, %d)", c[i].w, c[i].h, c[i].W, c[i].H, rw, rh, l, t);
    }
    return PF_T_PASS;
}

static pf_test_result test_cover_crop_content(void) {
    /* Three vertical bands, red | green | blue, 1800x600 -> 640x384: scaled
     * by 0.64 to 1152x384 and cropped from x = 256, the band edges (600 and
     * 1200 in the source, 384 and 768 scaled) land at x = 128 and 512. */
    enum { SW = 1800, SH = 600, W = 640, H = 384 };
    pf_image in = {SW, SH, malloc((size_t)SW * SH * 3)}, out;
    CHECK(in.rgb);
    for (int y = 0; y < SH; y++)
        for (int x = 0; x < SW; x++) {
            uint8_t *p = in.rgb + ((size_t)y * SW + x) * 3;
            p[0] = x < 600 ? 255 : 0;
            p[1] = x >= 600 && x < 1200 ? 255 : 0;
            p[2] = x >= 1200 ? 255 : 0;
        }
    CHECK_OK(pf_image_resize_cover_crop(&in, W, H, &out));
    CHECK(out.width == W && out.height == H);
    for (int y = 0; y < H; y += 50) {
        const uint8_t *row = out.rgb + (size_t)y * W * 3;
        /* the filter reaches about 3 px (5 source px) either side of an edge */
        for (int x = 0; x < W; x++) {
            int band = x < 128 ? 0 : x < 512 ? 1 : 2;
            int dist = abs(x - (band == 0 ? 128 : band == 1 ? (x < 320 ? 128 : 512) : 512));
            if (dist < 4) continue;
            CHECK_MSG(row[x * 3 + band] == 255 && row[x * 3 + (band + 1) % 3] == 0 &&
                          row[x * 3 + (band + 2) % 3] == 0,
                      "x=%d: %d %d %d", x, row[x * 3], row[x * 3 + 1], row[x * 3 + 2]);
        }
        /* across each edge the colours cross over at the edge */
        CHECK(row[127 * 3] > row[127 * 3 + 1] && row[128 * 3 + 1] > row[128 * 3]);
        CHECK(row[511 * 3 + 1] > row[511 * 3 + 2] && row[512 * 3 + 2] > row[512 * 3 + 1]);
    }
    pf_image_free(&out);
    /* exact size already: a plain copy */
    pf_image same;
    pf_image small = {8, 6, malloc(8 * 6 * 3)};
    for (int i = 0; i < 8 * 6 * 3; i++) small.rgb[i] = (uint8_t)i;
    CHECK_OK(pf_image_resize_cover_crop(&small, 8, 6, &same));
    CHECK(!memcmp(same.rgb, small.rgb, 8 * 6 * 3));
    pf_image_free(&same);
    /* errors */
    pf_image thin = {1, 4000, malloc(4000 * 3)};
    memset(thin.rgb, 9, 4000 * 3);
    CHECK_ERR(pf_image_resize_cover_crop(&thin, 1280, 768, &out), PF_ERR_INVALID_ARG, "aspect ratio");
    CHECK_ERR(pf_image_resize_cover_crop(&small, 0, 768, &out), PF_ERR_INVALID_ARG, "target size");
    CHECK_ERR(pf_image_resize_cover_crop(NULL, 64, 48, &out), PF_ERR_INVALID_ARG, "empty");
    pf_image_free(&thin);
    pf_image_free(&small);
    pf_image_free(&in);
    return PF_T_PASS;
}

PF_TEST_MAIN(PF_TEST(test_png_flavours), PF_TEST(test_png_round_trip), PF_TEST(test_png_corrupt),
             PF_TEST(test_jpeg_and_webp), PF_TEST(test_missing_and_odd_files), PF_TEST(test_build_configuration),
             PF_TEST(test_resize_constant_stays_constant), PF_TEST(test_resize_gradient_stays_monotonic),
             PF_TEST(test_resize_hand_values), PF_TEST(test_resize_impulse_is_the_kernel),
             PF_TEST(test_cover_geometry), PF_TEST(test_cover_crop_content))
