/*
 * The per-node GPU time table shared by the backends' profiles (pf_profile.h).
 * Rows are found by a linear search of the keys: a DiT call has a few dozen
 * distinct keys, so the search costs less than the timestamps it files.
 */
#include "pf_profile.h"

#include <stdlib.h>
#include <string.h>

static const char *pf_prof_op_name(const pf_tensor *n) {
    return n->op == PF_OP_UNARY ? pf_unary_name((pf_unary)n->ip[0]) : pf_op_name(n->op);
}

void pf_prof_key(const pf_tensor *p, const pf_tensor *q, char *buf, size_t len) {
    char sh[96], name[64];
    const pf_tensor *out = q ? q : p;
    const pf_tensor *in[2] = {p->src[0], q && q->src[1] ? q->src[1] : p->src[1]};
    if (q)
        snprintf(name, sizeof name, "%s+%s", pf_prof_op_name(p), pf_prof_op_name(q));
    else
        snprintf(name, sizeof name, "%s", pf_prof_op_name(p));
    size_t o = (size_t)snprintf(buf, len, "%-14s %-4s %s", name, pf_dtype_name(out->dtype),
                                pf_shape_str(out, sh, sizeof sh));
    for (int s = 0; s < 2 && o < len; s++) {
        if (!in[s]) break;
        o += (size_t)snprintf(buf + o, len - o, "%s%s", s ? " " : " <- ", pf_shape_str(in[s], sh, sizeof sh));
    }
}

pf_status pf_prof_add(pf_prof *pr, const char *key, pf_op op, pf_op op2, double ms) {
    int k = 0;
    while (k < pr->n_rows && strcmp(pr->rows[k].key, key)) k++;
    if (k == pr->n_rows) {
        if (pr->n_rows == pr->cap_rows) {
            int cap = pr->cap_rows ? 2 * pr->cap_rows : 64;
            pf_prof_row *nr = realloc(pr->rows, (size_t)cap * sizeof *nr);
            if (!nr) return pf_error(PF_ERR_OOM, "out of host memory (profile of %d rows)", cap);
            pr->rows = nr;
            pr->cap_rows = cap;
        }
        pf_prof_row *r = &pr->rows[k];
        memset(r, 0, sizeof *r);
        snprintf(r->key, sizeof r->key, "%s", key);
        r->op = op;
        r->op2 = op2;
        pr->n_rows++;
    }
    pr->rows[k].ms += ms;
    pr->rows[k].count++;
    pr->total_ms += ms;
    return PF_OK;
}

pf_status pf_prof_add_nodes(pf_prof *pr, const pf_tensor *p, const pf_tensor *q, double ms) {
    char key[PF_PROF_KEY_LEN];
    pf_prof_key(p, q, key, sizeof key);
    return pf_prof_add(pr, key, p->op, q ? q->op : PF_OP_NONE, ms);
}

static int pf_prof_row_cmp(const void *a, const void *b) {
    double x = ((const pf_prof_row *)a)->ms, y = ((const pf_prof_row *)b)->ms;
    return x < y ? 1 : x > y ? -1 : 0;
}

void pf_prof_sort(pf_prof *pr) {
    if (pr->n_rows > 1) qsort(pr->rows, (size_t)pr->n_rows, sizeof *pr->rows, pf_prof_row_cmp);
}

void pf_prof_print(pf_prof *pr, const char *backend, const char *device, FILE *out) {
    if (!pr->n_rows) return;
    pf_prof_sort(pr);
    double total = pr->total_ms > 0 ? pr->total_ms : 1e-30;
    fprintf(out, "%s profile (%s): %.3f ms of GPU time in %d distinct nodes\n", backend, device, pr->total_ms,
            pr->n_rows);
    fprintf(out, "  %9s %6s %9s %6s  %s\n", "ms", "count", "ms/call", "share", "op dtype shape <- inputs");
    for (int i = 0; i < pr->n_rows; i++) {
        const pf_prof_row *r = &pr->rows[i];
        fprintf(out, "  %9.3f %6d %9.3f %5.1f%%  %s\n", r->ms, r->count, r->ms / r->count, 100.0 * r->ms / total,
                r->key);
    }
    /* shares per op, a fused pair on its own: [producer][consumer], PF_OP_NONE for one node */
    double per_op[PF_OP_COUNT][PF_OP_COUNT] = {{0}}; /* 5 KB on the stack: reports may run on several threads */
    for (int i = 0; i < pr->n_rows; i++) per_op[pr->rows[i].op][pr->rows[i].op2] += pr->rows[i].ms;
    fprintf(out, "  by op:");
    for (int op = 0; op < PF_OP_COUNT; op++)
        for (int op2 = 0; op2 < PF_OP_COUNT; op2++) {
            if (!(per_op[op][op2] > 0)) continue;
            fprintf(out, " %s%s%s %.1f%%", pf_op_name((pf_op)op), op2 ? "+" : "", op2 ? pf_op_name((pf_op)op2) : "",
                    100.0 * per_op[op][op2] / total);
        }
    fprintf(out, "\n");
}

void pf_prof_reset(pf_prof *pr) {
    pr->n_rows = 0;
    pr->total_ms = 0.0;
}

void pf_prof_free(pf_prof *pr) {
    free(pr->rows);
    *pr = (pf_prof){0};
}
