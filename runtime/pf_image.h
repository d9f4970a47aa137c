/*
 * Still images: read any common format to RGB24, write PNG, and the
 * scale-to-cover + centre-crop preparation image-to-video pipelines use,
 * with a resampler that reproduces Pillow's Image.resize(..., LANCZOS).
 *
 * Pixels are tightly packed RGB24, [H, W, 3] uint8, row 0 at the top.
 *
 * Reading follows what PIL's Image.open(path).convert("RGB") yields, since
 * that is how Python pipelines load their input: alpha is dropped (not
 * composited), grey is replicated to R=G=B, palettes are expanded, 16-bit
 * samples keep their high byte, gamma/ICC/EXIF orientation are ignored, and
 * animated files give their first frame. PNG is decoded with libpng (bit
 * exact); JPEG, WebP, GIF, BMP, TIFF and anything else FFmpeg knows go
 * through FFmpeg's decoders (JPEG through FFmpeg's IDCT and chroma upsampling
 * can differ from libjpeg's by a few levels). The format is recognised from
 * the file's content, not its name. Truncated and corrupt files are errors
 * (PIL refuses truncated files too), never crashes.
 *
 * Checked against Pillow 9.4.0 (Debian 12): PNG of every colour type (grey
 * 1/4/8-bit, grey+alpha, RGB 8/16-bit, RGBA, palette with tRNS, interlaced)
 * and lossless WebP read identically to Image.open(p).convert("RGB").
 * Lossy formats differ by FFmpeg's IDCT and chroma upsampling: JPEG 4:4:4 at
 * most 3 levels (mean 0.04), synthetic 4:2:0 at most 5 (mean 0.5), real
 * photos with sharp colour edges up to 26 at those edges (mean about 1);
 * lossy WebP at most 5 (mean 0.6). Use PNG inputs for bit-exact work.
 */
#ifndef PF_IMAGE_H
#define PF_IMAGE_H

#include "pf_common.h"

/* Largest image accepted on input, in pixels and per side: refuses
 * decompression bombs before allocating (PIL warns at 89 Mpixel). */
#define PF_IMAGE_MAX_PIXELS (1LL << 28)
#define PF_IMAGE_MAX_SIDE 65535
#define PF_IMAGE_MAX_FILE_BYTES (1LL << 30)

typedef struct pf_image {
    int width, height;
    uint8_t *rgb; /* [height, width, 3]; owned, free with pf_image_free */
} pf_image;

/* Reads an image file into *out (RGB24). Errors: PF_ERR_IO (missing,
 * unreadable), PF_ERR_FORMAT (corrupt, truncated, unknown format),
 * PF_ERR_UNSUPPORTED (this build lacks the library the format needs). */
pf_status pf_image_read(const char *path, pf_image *out);

/* Frees the pixels and zeroes the struct. NULL is fine. */
void pf_image_free(pf_image *img);

/* Writes rgb [height, width, 3] as an 8-bit RGB PNG. Like video output,
 * it goes through a temporary file renamed at the end. Needs libpng. */
pf_status pf_image_write_png(const char *path, const uint8_t *rgb, int width, int height);

/*
 * Resamples src [sh, sw, 3] to dst [dh, dw, 3] exactly as Pillow's
 * Image.resize((dw, dh), Image.LANCZOS) does for an RGB image: a separable
 * Lanczos-3 filter whose support widens by the downscale factor, taps
 * normalised to sum 1 and then rounded to 22-bit fixed point, the horizontal
 * pass first with its result rounded and clipped to 8 bits, then the
 * vertical pass. A pass whose size is unchanged is skipped, as in Pillow.
 * dst must not overlap src. Pure C, available in every build.
 * Checked against Pillow 9.4.0 on noise, smooth and hard-edged images from
 * 2x3 up to 4000x3000, shrinking and enlarging by up to 20x, one or both
 * axes, plus 120 random sizes (1..700 px to 1..900 px): identical output
 * bytes in every case (and through
 * pf_image_resize_cover_crop, identical to Pyramid Flow's resize_crop_image
 * for 33 size/target pairs).
 */
pf_status pf_image_resize_lanczos(const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh);

/*
 * Geometry of scale-to-cover + centre crop, as Python's
 *   scale = max(W / w, H / h)
 *   rw, rh = round(w * scale), round(h * scale)
 *   img.resize((rw, rh), LANCZOS).crop(((rw - W) / 2, (rh - H) / 2, ...))
 * computes it: rounding is half-to-even like Python's round(), and PIL's crop
 * rounds the float box the same way. For an odd target side and an odd
 * excess PIL's own box would come out one pixel off the requested size; here
 * the crop is always exactly W x H, starting at round((rw - W) / 2).
 */
void pf_image_cover_geometry(int w, int h, int W, int H, int *rw, int *rh, int *left, int *top);

/*
 * Scale-to-cover with pf_image_resize_lanczos, then centre crop to exactly
 * width x height: the preparation of an image-to-video input (Pyramid Flow's
 * resize_crop_image). *out receives a new image; in is left unchanged.
 */
pf_status pf_image_resize_cover_crop(const pf_image *in, int width, int height, pf_image *out);

#endif /* PF_IMAGE_H */
