/* Image input (dispatch by content), PNG output, scale-to-cover + crop. */
#include "pf_image.h"

#include "pf_ffmpeg.h"
#include "pf_jpeg_check.h"
#include "pf_outfile.h"
#include "pf_png.h"

#include <math.h>
#include <sys/stat.h>

/* Names the format for messages, from the first bytes. */
static const char *sniff(const uint8_t *d, size_t n) {
    if (pf_png_has_signature(d, n)) return "PNG";
    /* FF D8 (SOI) alone: a damaged header after it must still get the JPEG
     * structure check rather than FFmpeg's lenient marker search. */
    if (n >= 2 && d[0] == 0xFF && d[1] == 0xD8) return "JPEG";
    if (n >= 12 && !memcmp(d, "RIFF", 4) && !memcmp(d + 8, "WEBP", 4)) return "WebP";
    if (n >= 4 && !memcmp(d, "GIF8", 4)) return "GIF";
    if (n >= 2 && d[0] == 'B' && d[1] == 'M') return "BMP";
    if (n >= 4 && (!memcmp(d, "II*\0", 4) || !memcmp(d, "MM\0*", 4))) return "TIFF";
    return NULL;
}

#ifdef PF_HAVE_FFMPEG
static pf_status take_first(void *user, const uint8_t *rgb, int w, int h) {
    pf_image *img = user;
    size_t n = (size_t)w * (size_t)h * 3;
    img->rgb = pf_malloc(n, "image pixels");
    if (!img->rgb) return PF_ERR_OOM;
    memcpy(img->rgb, rgb, n);
    img->width = w;
    img->height = h;
    return PF_OK;
}
#endif

static pf_status decode(const char *path, const uint8_t *data, size_t len, pf_image *out) {
    const char *kind = sniff(data, len);
    if (kind && !strcmp(kind, "PNG")) {
#if defined(PF_HAVE_PNG)
        return pf_png_decode(path, data, len, out);
#elif defined(PF_HAVE_FFMPEG)
        /* no libpng in this build: FFmpeg's PNG decoder is the next best */
#else
        return pf_png_missing(path, "reading PNG images", NULL);
#endif
    }
#ifdef PF_HAVE_FFMPEG
    /* FFmpeg conceals a missing end of a JPEG (it "emulates" the EOI), so a
     * truncated file would decode into a picture with a grey bottom; PIL
     * refuses such files, and so do we. */
    if (kind && !strcmp(kind, "JPEG")) PF_TRY(pf_jpeg_check_complete(path, data, len));
    return pf_ff_decode(path, data, len, 1, true, take_first, out, NULL);
#else
    char what[64];
    snprintf(what, sizeof what, "reading %s images", kind ? kind : "this kind of image");
    return pf_ff_missing(path, what,
#ifdef PF_HAVE_PNG
                         "convert the image to PNG first (e.g. ffmpeg -i in.jpg in.png)"
#else
                         NULL
#endif
    );
#endif
}

pf_status pf_image_read(const char *path, pf_image *out) {
    if (!out) return pf_error(PF_ERR_INVALID_ARG, "pf_image_read: NULL output");
    memset(out, 0, sizeof *out);
    if (!path || !*path) return pf_error(PF_ERR_INVALID_ARG, "no image path given");
    if (pf_dir_exists(path)) return pf_error(PF_ERR_IO, "%s: is a directory, not an image", path);
    /* The whole file is read into memory: refuse sizes no still image has
     * before trying (a video passed by mistake, a device file). */
    struct stat st;
    if (stat(path, &st) == 0 && (long long)st.st_size > PF_IMAGE_MAX_FILE_BYTES)
        return pf_error(PF_ERR_FORMAT, "%s: %lld bytes is more than pflow reads as an image (%lld)", path,
                        (long long)st.st_size, (long long)PF_IMAGE_MAX_FILE_BYTES);
    char *data = NULL;
    size_t len = 0;
    PF_TRY(pf_read_file(path, &data, &len));
    pf_status s = len == 0 ? pf_error(PF_ERR_FORMAT, "%s: the file is empty", path)
                           : decode(path, (const uint8_t *)data, len, out);
    free(data);
    if (s != PF_OK) pf_image_free(out);
    return s;
}

void pf_image_free(pf_image *img) {
    if (!img) return;
    free(img->rgb);
    memset(img, 0, sizeof *img);
}

pf_status pf_image_write_png(const char *path, const uint8_t *rgb, int width, int height) {
    if (!path || !*path) return pf_error(PF_ERR_INVALID_ARG, "no output path given");
    if (!rgb || width <= 0 || height <= 0)
        return pf_error(PF_ERR_INVALID_ARG, "%s: cannot write a %dx%d image", path, width, height);
#ifdef PF_HAVE_PNG
    char *tmp = NULL;
    PF_TRY(pf_outfile_create_tmp(path, &tmp));
    pf_status s = pf_png_write_file(path, tmp, rgb, width, height);
    if (s == PF_OK)
        s = pf_outfile_commit(tmp, path);
    else
        pf_outfile_discard(tmp);
    free(tmp);
    return s;
#else
    return pf_png_missing(path, "writing PNG images", NULL);
#endif
}

/* Python's round(): half to even. nearbyint does that in the default
 * rounding mode, which pflow never changes. */
static double round_half_even(double x) { return nearbyint(x); }

void pf_image_cover_geometry(int w, int h, int W, int H, int *rw, int *rh, int *left, int *top) {
    double scale = fmax((double)W / (double)w, (double)H / (double)h);
    double fw = round_half_even((double)w * scale), fh = round_half_even((double)h * scale);
    /* Mathematically fw >= W and fh >= H; the guards only stop a rounding
     * surprise from turning into an out-of-bounds crop. */
    *rw = fw < W ? W : fw > 1e9 ? 1000000000 : (int)fw;
    *rh = fh < H ? H : fh > 1e9 ? 1000000000 : (int)fh;
    *left = (int)round_half_even((*rw - W) / 2.0);
    *top = (int)round_half_even((*rh - H) / 2.0);
}

pf_status pf_image_resize_cover_crop(const pf_image *in, int width, int height, pf_image *out) {
    if (!out) return pf_error(PF_ERR_INVALID_ARG, "resize: NULL output");
    memset(out, 0, sizeof *out);
    if (!in || !in->rgb || in->width <= 0 || in->height <= 0)
        return pf_error(PF_ERR_INVALID_ARG, "resize: empty input image");
    if (width <= 0 || height <= 0 || width > PF_IMAGE_MAX_SIDE || height > PF_IMAGE_MAX_SIDE)
        return pf_error(PF_ERR_INVALID_ARG, "resize: invalid target size %dx%d", width, height);
    int rw, rh, left, top;
    pf_image_cover_geometry(in->width, in->height, width, height, &rw, &rh, &left, &top);
    if (rw > PF_IMAGE_MAX_SIDE || rh > PF_IMAGE_MAX_SIDE || (long long)rw * rh > PF_IMAGE_MAX_PIXELS)
        return pf_error(PF_ERR_INVALID_ARG,
                        "a %dx%d image would have to be scaled to %dx%d to cover %dx%d; its aspect ratio is too far "
                        "from the target's: crop it closer to %d:%d first",
                        in->width, in->height, rw, rh, width, height, width, height);
    uint8_t *scaled = pf_malloc((size_t)rw * (size_t)rh * 3, "resized image");
    if (!scaled) return PF_ERR_OOM;
    pf_status s = pf_image_resize_lanczos(in->rgb, in->width, in->height, scaled, rw, rh);
    if (s != PF_OK) {
        free(scaled);
        return s;
    }
    if (rw == width && rh == height) {
        out->rgb = scaled;
    } else {
        out->rgb = pf_malloc((size_t)width * (size_t)height * 3, "cropped image");
        if (!out->rgb) {
            free(scaled);
            return PF_ERR_OOM;
        }
        for (int y = 0; y < height; y++)
            memcpy(out->rgb + (size_t)y * (size_t)width * 3,
                   scaled + ((size_t)(y + top) * (size_t)rw + (size_t)left) * 3, (size_t)width * 3);
        free(scaled);
    }
    out->width = width;
    out->height = height;
    return PF_OK;
}
