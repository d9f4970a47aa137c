/*
 * Strided iteration for the fast element-wise and copy kernels: several
 * operands over one shape, with the dims that are contiguous in every operand
 * merged and size-1 dims dropped, so that the innermost run is as long as the
 * layouts allow (a contiguous add becomes one run of n elements; a
 * [B, N, D] + [B, 1, D] add becomes B*N runs of D).
 */
#ifndef PF_CPU_ITER_H
#define PF_CPU_ITER_H

#include "cpu_ops.h"

#define PF_ITER_MAX_OPS 4

typedef struct pf_cpu_iter {
    int nops, ndim; /* ndim >= 1 after init */
    int64_t ne[PF_MAX_DIMS];
    int64_t st[PF_ITER_MAX_OPS][PF_MAX_DIMS]; /* strides in elements per operand */
    int64_t rows;                             /* product of ne[0 .. ndim-1) */
} pf_cpu_iter;

/* Operands share the shape ne[0..ndim); st[k] are operand k's strides (0 = broadcast). */
void pf_cpu_iter_init(pf_cpu_iter *it, int nops, int ndim, const int64_t *ne, const int64_t *const *st);

/* Element offset of the start of run `row` for every operand. */
static inline void pf_cpu_iter_row(const pf_cpu_iter *it, int64_t row, int64_t *offs) {
    for (int k = 0; k < it->nops; k++) offs[k] = 0;
    for (int d = it->ndim - 2; d >= 0; d--) {
        int64_t i = row % it->ne[d];
        row /= it->ne[d];
        for (int k = 0; k < it->nops; k++) offs[k] += i * it->st[k][d];
    }
}

/* cpy of node d between two float dtypes, any source strides (cpu_fast_elementwise.c). */
pf_status pf_cpu_ew_convert(pf_cpu_ctx *c, pf_tensor *d);

#endif /* PF_CPU_ITER_H */
