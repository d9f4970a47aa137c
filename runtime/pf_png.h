/* libpng encode/decode shared by pf_image (single images) and pf_video (PNG
 * sequences). Internal; available only when built with PF_HAVE_PNG. */
#ifndef PF_PNG_H
#define PF_PNG_H

#include "pf_image.h"

/* True when data starts with the 8-byte PNG signature. */
bool pf_png_has_signature(const uint8_t *data, size_t len);

#ifdef PF_HAVE_PNG
/* Decodes a whole PNG held in memory to RGB24 (see pf_image.h for how alpha,
 * grey, palettes and 16-bit samples are mapped). `path` only names the file
 * in messages. */
pf_status pf_png_decode(const char *path, const uint8_t *data, size_t len, pf_image *out);

/* Writes rgb [h, w, 3] as an 8-bit RGB PNG to `file`. `shown` names the
 * destination in messages (file is usually its temporary twin). */
pf_status pf_png_write_file(const char *shown, const char *file, const uint8_t *rgb, int w, int h);
#endif

/* The message for a build without libpng: what is missing and what to do
 * (`instead`, may be NULL, suggests a way around it). */
pf_status pf_png_missing(const char *path, const char *what, const char *instead);

#endif /* PF_PNG_H */
