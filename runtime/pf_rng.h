/*
 * The seeded random generator: Philox4x32-10 (Salmon et al., "Parallel random
 * numbers: as easy as 1, 2, 3", SC'11) with Box-Muller normals.
 *
 * Counter-based: value i of stream s under seed k is a pure function of (k, s, i),
 * so any draw can be produced in any order, on any thread, and re-produced by any
 * implementation of the same recipe:
 *   key     = (seed & 0xffffffff, seed >> 32)
 *   counter = (block & 0xffffffff, block >> 32, stream & 0xffffffff, stream >> 32)
 *   Philox4x32-10(counter, key) = (x0, x1, x2, x3), block = i / 4
 *   u_j     = (x_j + 0.5) / 2^32                         (in (0, 1), never 0)
 *   normals i = 4 block + (0, 1) = r0 (cos, sin)(2 pi u1), r0 = sqrt(-2 ln u0)
 *           i = 4 block + (2, 3) = r2 (cos, sin)(2 pi u3), r2 = sqrt(-2 ln u2)
 * evaluated in double and rounded once to float. The pipeline draws all its noise
 * on the host and uploads it, so every backend sees the same values for a seed.
 */
#ifndef PF_RNG_H
#define PF_RNG_H

#include "pf_common.h"

#include <stdint.h>

/* One Philox4x32-10 block. */
void pf_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

typedef struct pf_rng {
    uint64_t seed;
    uint64_t stream;
    uint64_t offset; /* index of the next value */
} pf_rng;

void pf_rng_init(pf_rng *r, uint64_t seed, uint64_t stream);
/* Standard normals: values offset .. offset + n - 1 of the stream; advances offset. */
void pf_rng_normal(pf_rng *r, float *out, size_t n);
/* Uniforms in (0, 1) from the same stream positions (u_j above); advances offset. */
void pf_rng_uniform(pf_rng *r, double *out, size_t n);

#endif /* PF_RNG_H */
