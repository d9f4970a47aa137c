#include "pf_png.h"

#include <errno.h>

bool pf_png_has_signature(const uint8_t *data, size_t len) {
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    return len >= 8 && memcmp(data, sig, 8) == 0;
}

pf_status pf_png_missing(const char *path, const char *what, const char *instead) {
    return pf_error(PF_ERR_UNSUPPORTED,
                    "%s: %s needs libpng, and this pflow build has none (configured with PF_PNG=OFF or without "
                    "libpng-dev); %s%srebuild pflow with it (apt-get install libpng-dev; cmake -DPF_PNG=ON)",
                    path, what, instead ? instead : "", instead ? ", or " : "");
}

#ifdef PF_HAVE_PNG
#include <png.h>

/* libpng reports errors by calling a handler that must not return; ours keeps
 * the message and longjmps back to the setjmp in the calling function. */
typedef struct {
    char msg[256];
} png_err;

static void on_png_error(png_structp png, png_const_charp msg) {
    png_err *e = png_get_error_ptr(png);
    snprintf(e->msg, sizeof e->msg, "%s", msg ? msg : "unknown libpng error");
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg) {
    (void)png;
    PF_DEBUG("libpng: %s", msg ? msg : "");
}

typedef struct {
    const uint8_t *data;
    size_t len, pos;
} png_mem;

static void mem_read(png_structp png, png_bytep out, size_t n) {
    png_mem *m = png_get_io_ptr(png);
    if (n > m->len - m->pos) png_error(png, "the file ends early (truncated)");
    memcpy(out, m->data + m->pos, n);
    m->pos += n;
}

/* Everything set after setjmp lives here, in memory reached through a pointer
 * that does not change, so a longjmp cannot leave it indeterminate. */
typedef struct {
    png_structp png;
    png_infop info;
    png_err err;
    png_mem mem;
    uint8_t *pix;
    png_bytep *rows;
} png_read_ctx;

pf_status pf_png_decode(const char *path, const uint8_t *data, size_t len, pf_image *out) {
    memset(out, 0, sizeof *out);
    if (!pf_png_has_signature(data, len)) return pf_error(PF_ERR_FORMAT, "%s: not a PNG file", path);
    png_read_ctx *c = pf_calloc(1, sizeof *c, "PNG decoder");
    if (!c) return PF_ERR_OOM;
    pf_status s = PF_OK;
    c->mem = (png_mem){data, len, 0};
    c->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &c->err, on_png_error, on_png_warning);
    if (c->png) c->info = png_create_info_struct(c->png);
    if (!c->png || !c->info) {
        s = pf_error(PF_ERR_OOM, "%s: out of memory creating the PNG decoder", path);
        goto done;
    }
    if (setjmp(png_jmpbuf(c->png))) {
        s = pf_error(PF_ERR_FORMAT, "%s: corrupt or truncated PNG: %s", path, c->err.msg);
        goto done;
    }
    png_set_read_fn(c->png, &c->mem, mem_read);
    png_set_user_limits(c->png, PF_IMAGE_MAX_SIDE, PF_IMAGE_MAX_SIDE);
    png_read_info(c->png, c->info);

    png_uint_32 w = 0, h = 0;
    int depth = 0, ctype = 0;
    png_get_IHDR(c->png, c->info, &w, &h, &depth, &ctype, NULL, NULL, NULL);
    if ((long long)w * (long long)h > PF_IMAGE_MAX_PIXELS) {
        s = pf_error(PF_ERR_FORMAT, "%s: %ux%u pixels is larger than pflow accepts (%lld pixels)", path, (unsigned)w,
                     (unsigned)h, (long long)PF_IMAGE_MAX_PIXELS);
        goto done;
    }
    /* Map every PNG flavour to 8-bit RGB the way PIL's convert("RGB") does. */
    if (depth == 16) png_set_strip_16(c->png); /* high byte, as PIL's "RGB;16B" unpacker */
    if (ctype == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(c->png);
    if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(c->png);
    if (ctype == PNG_COLOR_TYPE_GRAY || ctype == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(c->png);
    /* Drops an alpha channel, including the one palette expansion makes from
     * tRNS: convert("RGB") discards alpha without compositing. */
    png_set_strip_alpha(c->png);
    png_set_interlace_handling(c->png);
    png_read_update_info(c->png, c->info);
    if (png_get_channels(c->png, c->info) != 3 || png_get_bit_depth(c->png, c->info) != 8 ||
        png_get_rowbytes(c->png, c->info) != (size_t)w * 3) {
        s = pf_error(PF_ERR_INTERNAL, "%s: libpng did not convert the image to 8-bit RGB (%d channels)", path,
                     (int)png_get_channels(c->png, c->info));
        goto done;
    }
    c->pix = pf_malloc((size_t)w * h * 3, "PNG pixels");
    c->rows = pf_malloc(sizeof(png_bytep) * h, "PNG row pointers");
    if (!c->pix || !c->rows) {
        s = PF_ERR_OOM;
        goto done;
    }
    for (png_uint_32 y = 0; y < h; y++) c->rows[y] = c->pix + (size_t)y * w * 3;
    png_read_image(c->png, c->rows);
    /* The trailing chunks (IEND) are not read: like PIL, the image counts as
     * complete once all its pixel data has been decoded. */
    out->width = (int)w;
    out->height = (int)h;
    out->rgb = c->pix;
    c->pix = NULL;
done:
    png_destroy_read_struct(c->png ? &c->png : NULL, c->info ? &c->info : NULL, NULL);
    free(c->pix);
    free(c->rows);
    free(c);
    return s;
}

typedef struct {
    png_structp png;
    png_infop info;
    png_err err;
} png_write_ctx;

pf_status pf_png_write_file(const char *shown, const char *file, const uint8_t *rgb, int w, int h) {
    if (w <= 0 || h <= 0 || w > PF_IMAGE_MAX_SIDE || h > PF_IMAGE_MAX_SIDE)
        return pf_error(PF_ERR_INVALID_ARG, "%s: cannot write a %dx%d PNG", shown, w, h);
    FILE *f = fopen(file, "wb");
    if (!f) return pf_error(PF_ERR_IO, "%s: cannot open for writing: %s", shown, strerror(errno));
    png_write_ctx *c = pf_calloc(1, sizeof *c, "PNG encoder");
    if (!c) {
        fclose(f);
        return PF_ERR_OOM;
    }
    pf_status s = PF_OK;
    c->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &c->err, on_png_error, on_png_warning);
    if (c->png) c->info = png_create_info_struct(c->png);
    if (!c->png || !c->info) {
        s = pf_error(PF_ERR_OOM, "%s: out of memory creating the PNG encoder", shown);
        goto done;
    }
    if (setjmp(png_jmpbuf(c->png))) {
        s = pf_error(PF_ERR_IO, "%s: writing the PNG failed: %s", shown, c->err.msg);
        goto done;
    }
    png_init_io(c->png, f);
    png_set_IHDR(c->png, c->info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(c->png, c->info);
    for (int y = 0; y < h; y++) png_write_row(c->png, (png_const_bytep)(rgb + (size_t)y * (size_t)w * 3));
    png_write_end(c->png, NULL);
done:
    png_destroy_write_struct(c->png ? &c->png : NULL, c->info ? &c->info : NULL);
    free(c);
    /* fclose flushes: a full disk shows up here, not in png_write_row. */
    if (fclose(f) != 0 && s == PF_OK) s = pf_error(PF_ERR_IO, "%s: writing failed: %s", shown, strerror(errno));
    return s;
}
#endif /* PF_HAVE_PNG */
