/*
 * Pillow-compatible Lanczos resampling (Image.resize(size, Image.LANCZOS) on
 * an RGB image), written from the description of Pillow's algorithm
 * (libImaging/Resample.c) so that image-to-video inputs prepared here match
 * the ones the Python pipelines feed their VAE.
 *
 * What has to match bit for bit:
 *  - the kernel: sinc(x) * sinc(x / 3) on the half-open window [-3, 3);
 *  - the support: 3 input pixels, times the scale factor when shrinking
 *    (filterscale = max(in / out, 1)), so a downscale also low-passes;
 *  - the window of output pixel o: centre c = (o + 0.5) * in / out, taps
 *    from (int)(c - support + 0.5) to (int)(c + support + 0.5) clamped to
 *    the image, tap i weighted kernel((i - c + 0.5) / filterscale);
 *  - the weights divided by their sum (in double), then rounded half away
 *    from zero to signed 22-bit fixed point;
 *  - each output: 2^21 (the rounding half) plus the sum of sample * weight,
 *    shifted right by 22 and clipped to 0..255;
 *  - the horizontal pass first, its 8-bit result feeding the vertical pass;
 *    a pass whose size does not change is skipped.
 */
#include "pf_image.h"

#include <math.h>

#define PF_RS_BITS 22 /* Pillow's PRECISION_BITS = 32 - 8 - 2 */

static double pf_sinc(double x) {
    if (x == 0.0) return 1.0;
    x *= M_PI;
    return sin(x) / x;
}

static double pf_lanczos3(double x) {
    if (x >= -3.0 && x < 3.0) return pf_sinc(x) * pf_sinc(x / 3.0);
    return 0.0;
}

/* Fixed-point taps of a 1-D resize from `in` to `out` samples. */
typedef struct {
    int ksize;     /* taps stored per output sample */
    int *first;    /* [out] first input sample */
    int *count;    /* [out] taps used */
    int32_t *w;    /* [out][ksize] weights, 22-bit fixed point */
} pf_taps;

static void taps_free(pf_taps *t) {
    free(t->first);
    free(t->count);
    free(t->w);
}

static pf_status taps_make(int in, int out, pf_taps *t) {
    memset(t, 0, sizeof *t);
    double scale = (double)in / (double)out;
    double fscale = scale < 1.0 ? 1.0 : scale;
    double support = 3.0 * fscale;
    t->ksize = (int)ceil(support) * 2 + 1;
    t->first = pf_malloc(sizeof(int) * (size_t)out, "resize taps");
    t->count = pf_malloc(sizeof(int) * (size_t)out, "resize taps");
    t->w = pf_calloc((size_t)out * (size_t)t->ksize, sizeof(int32_t), "resize taps");
    double *k = pf_malloc(sizeof(double) * (size_t)t->ksize, "resize taps");
    if (!t->first || !t->count || !t->w || !k) {
        free(k);
        taps_free(t);
        return PF_ERR_OOM;
    }
    double inv = 1.0 / fscale;
    for (int o = 0; o < out; o++) {
        double center = (o + 0.5) * scale;
        int lo = (int)(center - support + 0.5);
        if (lo < 0) lo = 0;
        int hi = (int)(center + support + 0.5);
        if (hi > in) hi = in;
        int n = hi - lo;
        if (n > t->ksize) n = t->ksize; /* cannot happen; keeps the writes in bounds */
        double sum = 0.0;
        for (int i = 0; i < n; i++) {
            /* Same operation order as Pillow: ((i + lo) - center + 0.5) * inv. */
            k[i] = pf_lanczos3(((double)(i + lo) - center + 0.5) * inv);
            sum += k[i];
        }
        int32_t *w = t->w + (size_t)o * (size_t)t->ksize;
        for (int i = 0; i < n; i++) {
            double v = sum != 0.0 ? k[i] / sum : k[i];
            /* Round half away from zero, as Pillow's normalize_coeffs_8bpc. */
            w[i] = v < 0 ? (int32_t)(-0.5 + v * (1 << PF_RS_BITS)) : (int32_t)(0.5 + v * (1 << PF_RS_BITS));
        }
        t->first[o] = lo;
        t->count[o] = n;
    }
    free(k);
    return PF_OK;
}

static inline uint8_t clip8(int64_t acc) {
    if (acc < 0) return 0;
    acc >>= PF_RS_BITS;
    return acc > 255 ? 255 : (uint8_t)acc;
}

/* src [h, sw, 3] -> dst [h, dw, 3] */
static void pass_horizontal(const uint8_t *src, int sw, int h, uint8_t *dst, int dw, const pf_taps *t) {
    for (int y = 0; y < h; y++) {
        const uint8_t *row = src + (size_t)y * (size_t)sw * 3;
        uint8_t *o = dst + (size_t)y * (size_t)dw * 3;
        for (int x = 0; x < dw; x++) {
            const int32_t *w = t->w + (size_t)x * (size_t)t->ksize;
            const uint8_t *p = row + (size_t)t->first[x] * 3;
            /* 64-bit sums: the result equals Pillow's 32-bit one, without the
             * overflow that extreme inputs could cause in 32 bits. */
            int64_t r = 1 << (PF_RS_BITS - 1), g = r, b = r;
            for (int i = 0; i < t->count[x]; i++) {
                r += (int64_t)p[3 * i + 0] * w[i];
                g += (int64_t)p[3 * i + 1] * w[i];
                b += (int64_t)p[3 * i + 2] * w[i];
            }
            o[3 * x + 0] = clip8(r);
            o[3 * x + 1] = clip8(g);
            o[3 * x + 2] = clip8(b);
        }
    }
}

/* src [sh, w, 3] -> dst [dh, w, 3] */
static void pass_vertical(const uint8_t *src, int w, uint8_t *dst, int dh, const pf_taps *t) {
    size_t stride = (size_t)w * 3;
    for (int y = 0; y < dh; y++) {
        const int32_t *k = t->w + (size_t)y * (size_t)t->ksize;
        const uint8_t *base = src + (size_t)t->first[y] * stride;
        uint8_t *o = dst + (size_t)y * stride;
        for (size_t x = 0; x < stride; x++) {
            int64_t acc = 1 << (PF_RS_BITS - 1);
            for (int i = 0; i < t->count[y]; i++) acc += (int64_t)base[(size_t)i * stride + x] * k[i];
            o[x] = clip8(acc);
        }
    }
}

pf_status pf_image_resize_lanczos(const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh) {
    if (!src || !dst) return pf_error(PF_ERR_INVALID_ARG, "resize: NULL image");
    if (sw <= 0 || sh <= 0 || dw <= 0 || dh <= 0 || sw > PF_IMAGE_MAX_SIDE || sh > PF_IMAGE_MAX_SIDE ||
        dw > PF_IMAGE_MAX_SIDE || dh > PF_IMAGE_MAX_SIDE)
        return pf_error(PF_ERR_INVALID_ARG, "resize: cannot resize %dx%d to %dx%d (sides must be 1..%d)", sw, sh, dw,
                        dh, PF_IMAGE_MAX_SIDE);
    bool horiz = dw != sw, vert = dh != sh;
    if (!horiz && !vert) {
        memcpy(dst, src, (size_t)sw * (size_t)sh * 3);
        return PF_OK;
    }
    pf_taps th = {0}, tv = {0};
    uint8_t *tmp = NULL;
    pf_status s = PF_OK;
    if (horiz && (s = taps_make(sw, dw, &th)) != PF_OK) goto done;
    if (vert && (s = taps_make(sh, dh, &tv)) != PF_OK) goto done;
    if (horiz && vert) {
        /* Pillow only resamples the rows the vertical pass reads; with the
         * whole image as the source box that is every row. */
        tmp = pf_malloc((size_t)dw * (size_t)sh * 3, "resize intermediate");
        if (!tmp) {
            s = PF_ERR_OOM;
            goto done;
        }
        pass_horizontal(src, sw, sh, tmp, dw, &th);
        pass_vertical(tmp, dw, dst, dh, &tv);
    } else if (horiz) {
        pass_horizontal(src, sw, sh, dst, dw, &th);
    } else {
        pass_vertical(src, sw, dst, dh, &tv);
    }
done:
    free(tmp);
    taps_free(&th);
    taps_free(&tv);
    return s;
}
