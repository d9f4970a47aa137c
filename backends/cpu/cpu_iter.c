/* Dim merging for the strided fast kernels (cpu_iter.h). */
#include "cpu_iter.h"

void pf_cpu_iter_init(pf_cpu_iter *it, int nops, int ndim, const int64_t *ne, const int64_t *const *st) {
    it->nops = nops;
    int n = 0;
    /* drop size-1 dims (their stride never matters) */
    for (int d = 0; d < ndim; d++) {
        if (ne[d] == 1) continue;
        it->ne[n] = ne[d];
        for (int k = 0; k < nops; k++) it->st[k][n] = st[k][d];
        n++;
    }
    if (n == 0) {
        it->ne[0] = 1;
        for (int k = 0; k < nops; k++) it->st[k][0] = 1;
        n = 1;
    }
    /* merge dim d into d+1 when, for every operand, stepping d equals stepping d+1 ne[d+1] times */
    int m = 0;
    for (int d = 1; d < n; d++) {
        bool ok = true;
        for (int k = 0; k < nops; k++)
            if (it->st[k][m] != it->st[k][d] * it->ne[d]) ok = false;
        if (ok) {
            it->ne[m] *= it->ne[d];
            for (int k = 0; k < nops; k++) it->st[k][m] = it->st[k][d];
        } else {
            m++;
            it->ne[m] = it->ne[d];
            for (int k = 0; k < nops; k++) it->st[k][m] = it->st[k][d];
        }
    }
    it->ndim = m + 1;
    it->rows = 1;
    for (int d = 0; d < it->ndim - 1; d++) it->rows *= it->ne[d];
}
