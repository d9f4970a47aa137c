/*
 * Noise sources of the pipeline. Every random draw of a generation comes from one
 * of these, in the official order (pyramid-flow-facts.md §4.8):
 *   1. the initial noise [B, C, T, H/8, W/8], drawn once for the whole video;
 *   2. (i2v) the VAE posterior sample's noise [B, C, 1, H/8, W/8];
 *   3. one block-noise draw per stage jump, [B, C, t, h, w] at the new stage's size.
 *
 * Two kinds:
 *  - seeded: the Philox generator of runtime/pf_rng.h. The initial noise is stream 0,
 *    the posterior noise stream 1, block-noise draw j (0-based, in call order) stream
 *    2 + j; each draw starts at offset 0 of its stream, so draws do not shift each
 *    other. Block noise: per 2x2 block (row-major p, q inside the block) four normals e,
 *    n = sqrt(1 + g) (e - c mean(e)), c = 1 - sqrt((1 - 3g) / (1 + g)), which has the
 *    official covariance (1 + g) I - g 11^T (diagonal 1, off-diagonal -1/3 at g = 1/3,
 *    where c = 1 and every block sums to zero). Not the official sample values (those
 *    come from PyTorch's MT19937 through a per-block Cholesky), the same distribution.
 *  - file: tensors of a safetensors file with the golden pack's names: in.noise_init,
 *    in.posterior_noise, in.block_noise_000, 001, ... consumed in that order. Shapes
 *    must match what the pipeline asks for; running out of block draws is an error.
 */
#ifndef PF_NOISE_H
#define PF_NOISE_H

#include "pf_safetensors.h"

typedef struct pf_noise pf_noise;

/* Seeded source; gamma is the scheduler's (1/3); gamma above 1/3 has no real block
 * noise with that covariance and is refused. */
pf_status pf_noise_create_seeded(uint64_t seed, double gamma, pf_noise **out);
/* File source; the file stays open (mapped) until pf_noise_free. */
pf_status pf_noise_open_file(const char *path, pf_noise **out);
/* File source over an already open file the caller keeps open (golden case files). */
pf_status pf_noise_from_st(const pf_st_file *f, pf_noise **out);
void pf_noise_free(pf_noise *n);

/* Draws, as f32 into out (n = product of shape). Shapes are [B, C, T, H, W]. */
pf_status pf_noise_initial(pf_noise *n, const int64_t shape[5], float *out);
pf_status pf_noise_posterior(pf_noise *n, const int64_t shape[5], float *out);
/* H and W must be even. */
pf_status pf_noise_block(pf_noise *n, const int64_t shape[5], float *out);

/* Block draws taken so far. */
int pf_noise_block_draws(const pf_noise *n);
/* "seed 42" / "file noise.safetensors" (for logs and errors). */
const char *pf_noise_describe(const pf_noise *n);

/* The seeded block-noise transform on its own: for each 2x2 block of e [.., H, W] (in
 * place) apply n = sqrt(1 + g) (e - c mean(e)). Exposed for tests. */
pf_status pf_block_noise_transform(float *e, int64_t planes, int64_t H, int64_t W, double gamma);

#endif /* PF_NOISE_H */
