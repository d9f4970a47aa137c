/* Internals shared by the noise sources (model/noise.c, model/noise_file.c). */
#ifndef PF_NOISE_IMPL_H
#define PF_NOISE_IMPL_H

#include "pf_noise.h"

/* A source is a small table of draw functions; the seeded source and the file source
 * each fill one. */
typedef enum { PF_DRAW_INITIAL = 0, PF_DRAW_POSTERIOR, PF_DRAW_BLOCK } pf_draw_kind;

struct pf_noise {
    /* Draw `kind` (for blocks: draw number `index`) of the given shape into out. */
    pf_status (*draw)(pf_noise *n, pf_draw_kind kind, int index, const int64_t shape[5], float *out);
    void (*destroy)(pf_noise *n);
    int block_draws;
    char desc[256];
    /* seeded */
    uint64_t seed;
    double gamma;
    /* file */
    pf_st_file *owned; /* closed by destroy; NULL when borrowed */
    const pf_st_file *file;
    int file_blocks;   /* in.block_noise_000 .. the first missing index */
};

#endif /* PF_NOISE_IMPL_H */
