/*
 * Colour quantisation for GIF output: one palette for a whole clip, chosen by
 * median cut over a colour histogram of every frame, and error-diffusion
 * mapping of each frame onto it. This is what FFmpeg's palettegen (stats
 * over all frames) + paletteuse (sierra2_4a dithering) filter pair does, done
 * here because pflow links libavcodec/libavformat but not libavfilter.
 * Pure C, no dependency.
 */
#ifndef PF_PALETTE_H
#define PF_PALETTE_H

#include "pf_common.h"

#define PF_PALETTE_MAX 256

/* Colour statistics: 64 levels per channel (2^18 cells), each cell keeping its
 * pixel count and channel sums, so a palette entry is the exact mean of the
 * colours it stands for. About 8 MiB. */
typedef struct pf_palette_hist pf_palette_hist;

pf_status pf_palette_hist_new(pf_palette_hist **out);
void pf_palette_hist_free(pf_palette_hist *h);
/* Adds npix RGB24 pixels. */
void pf_palette_hist_add(pf_palette_hist *h, const uint8_t *rgb, size_t npix);

/* Median cut: repeatedly splits the box of colours with the largest
 * count-weighted squared error, along its channel of largest variance, at
 * the count-weighted median, until max_colors boxes (or every box holds a
 * single cell). pal[i] = mean colour of box i; *ncolors receives the number
 * of colours (>= 1; an empty histogram gives one black entry). */
pf_status pf_palette_build(const pf_palette_hist *h, int max_colors, uint8_t pal[][3], int *ncolors);

/* Maps frames onto a palette: nearest colour (Euclidean RGB), cached per
 * exact 24-bit colour (18 MiB, allocated lazily by the OS). */
typedef struct pf_palette_map pf_palette_map;

pf_status pf_palette_map_new(const uint8_t pal[][3], int n, pf_palette_map **out);
void pf_palette_map_free(pf_palette_map *m);

/* Palette index of the colour nearest to (r, g, b). */
uint8_t pf_palette_nearest(pf_palette_map *m, uint8_t r, uint8_t g, uint8_t b);

/* rgb [h, w, 3] -> indices (row stride `stride` bytes) with Sierra-2-4A error
 * diffusion: 2/4 of a pixel's error goes right, 1/4 down-left, 1/4 down.
 * Colours present in the palette come out exact. */
pf_status pf_palette_dither(pf_palette_map *m, const uint8_t *rgb, int w, int h, uint8_t *idx, int stride);

#endif /* PF_PALETTE_H */
