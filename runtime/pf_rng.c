/* Philox4x32-10 and Box-Muller normals (the recipe is in pf_rng.h). */
#include "pf_rng.h"

#include <math.h>

#define PF_PHILOX_M0 0xD2511F53u
#define PF_PHILOX_M1 0xCD9E8D57u
#define PF_PHILOX_W0 0x9E3779B9u /* golden ratio */
#define PF_PHILOX_W1 0xBB67AE85u /* sqrt(3) - 1 */

void pf_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)PF_PHILOX_M0 * c0;
        uint64_t p1 = (uint64_t)PF_PHILOX_M1 * c2;
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += PF_PHILOX_W0;
        k1 += PF_PHILOX_W1;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

void pf_rng_init(pf_rng *r, uint64_t seed, uint64_t stream) {
    r->seed = seed;
    r->stream = stream;
    r->offset = 0;
}

static void pf_rng_block(const pf_rng *r, uint64_t block, uint32_t x[4]) {
    uint32_t key[2] = {(uint32_t)r->seed, (uint32_t)(r->seed >> 32)};
    uint32_t ctr[4] = {(uint32_t)block, (uint32_t)(block >> 32), (uint32_t)r->stream, (uint32_t)(r->stream >> 32)};
    pf_philox4x32_10(ctr, key, x);
}

static inline double pf_u32_to_unit(uint32_t x) { return ((double)x + 0.5) * (1.0 / 4294967296.0); }

void pf_rng_uniform(pf_rng *r, double *out, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint64_t block = r->offset / 4;
        unsigned lane = (unsigned)(r->offset % 4);
        uint32_t x[4];
        pf_rng_block(r, block, x);
        for (; lane < 4 && i < n; lane++, i++, r->offset++) out[i] = pf_u32_to_unit(x[lane]);
    }
}

void pf_rng_normal(pf_rng *r, float *out, size_t n) {
    const double two_pi = 6.283185307179586476925286766559;
    size_t i = 0;
    while (i < n) {
        uint64_t block = r->offset / 4;
        unsigned lane = (unsigned)(r->offset % 4);
        uint32_t x[4];
        pf_rng_block(r, block, x);
        double z[4];
        for (int p = 0; p < 2; p++) {
            double rad = sqrt(-2.0 * log(pf_u32_to_unit(x[2 * p])));
            double th = two_pi * pf_u32_to_unit(x[2 * p + 1]);
            z[2 * p] = rad * cos(th);
            z[2 * p + 1] = rad * sin(th);
        }
        for (; lane < 4 && i < n; lane++, i++, r->offset++) out[i] = (float)z[lane];
    }
}
