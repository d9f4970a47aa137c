/*
 * Seeded random weights: the models' random constructors (benchmarks at the released
 * sizes, tiny models) draw every value through here.
 *
 * Counter-based: value i of stream s under seed k is a hash of (k, s, i) (splitmix64's
 * finaliser), so the values depend neither on the thread count nor on the order in
 * which tensors are filled. Approximately N(mean, std): the Irwin-Hall sum of four
 * 16-bit uniforms, rescaled (bounded at mean +- 2 sqrt(3) std; random weights only need a
 * sane scale, and this makes about 2 G values in seconds). Values are written straight
 * in the destination dtype (f32, bf16 or f16).
 */
#ifndef PF_RANDOM_FILL_H
#define PF_RANDOM_FILL_H

#include "pf_backend.h"
#include "pf_threads.h"

/* n values of (seed, stream) into a host array of dtype dt (f32, bf16 or f16), on
 * `threads` when given (NULL: the calling thread). */
pf_status pf_random_values(void *dst, pf_dtype dt, size_t n, uint64_t seed, uint64_t stream, float mean, float std,
                           pf_threadpool *threads);

/* Filling many pool tensors: one seed, one host staging buffer reused by every tensor
 * (a fresh buffer per tensor doubles the page faults of a 10 GB model) and a thread pool
 * made for the first large tensor. Zero-initialise, set the seed, free at the end. */
typedef struct pf_random_fill {
    uint64_t seed;
    pf_threadpool *threads; /* NULL until a tensor of 1 M values or more on a multi-core host */
    void *stage;            /* in the last tensor's dtype */
    size_t cap;
} pf_random_fill;

/* Fill a pool tensor with stream `stream` of f->seed. Tensors of the meta backend (sizes
 * only, no memory) are left as they are. */
pf_status pf_random_fill_tensor(pf_random_fill *f, pf_tensor *t, uint64_t stream, float mean, float std);
void pf_random_fill_free(pf_random_fill *f);

#endif /* PF_RANDOM_FILL_H */
