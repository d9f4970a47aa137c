/*
 * The per-node GPU time table behind PF_VK_PROFILE and PF_CUDA_PROFILE.
 *
 * A backend times each computed node (or fused node pair) with its own device
 * timestamps and adds the milliseconds here under a key that names what ran:
 *   "linear         f32  [2, 77, 768] <- [2, 77, 768] [768, 768]"
 *   "layer_norm+modulate bf16 [2, 4096, 1536] <- [2, 4096, 1536] [2, 1, 1536]"
 * Equal keys are summed (the 24 blocks of a DiT fold into one row per shape), so
 * the report shows where a call's time goes, largest rows first, then the share
 * of each op (or op pair) of the total.
 */
#ifndef PF_PROFILE_H
#define PF_PROFILE_H

#include "pf_graph.h"

#include <stdio.h>

#define PF_PROF_KEY_LEN 200

/* One key's totals. op2: the consumer's op of a fused pair, PF_OP_NONE for one node. */
typedef struct pf_prof_row {
    char key[PF_PROF_KEY_LEN];
    pf_op op, op2;
    double ms;
    int count;
} pf_prof_row;

/* The table since the last reset; zero-initialised is empty. */
typedef struct pf_prof {
    pf_prof_row *rows;
    int n_rows, cap_rows;
    double total_ms;
} pf_prof;

/* Key of node p, or of the fused pair p -> q (q consumes p; NULL: p alone): op name(s),
 * output dtype and shape, and two input shapes (a pair's: p's first input and q's
 * second, or p's second where q has one input). */
void pf_prof_key(const pf_tensor *p, const pf_tensor *q, char *buf, size_t len);
/* Add ms under key (a new row for a new key). PF_ERR_OOM leaves the table as it was. */
pf_status pf_prof_add(pf_prof *pr, const char *key, pf_op op, pf_op op2, double ms);
/* pf_prof_add under pf_prof_key(p, q). */
pf_status pf_prof_add_nodes(pf_prof *pr, const pf_tensor *p, const pf_tensor *q, double ms);
/* Rows by decreasing time. */
void pf_prof_sort(pf_prof *pr);
/* Sort and print the table to out, titled "<backend> profile (<device>): X ms of GPU
 * time in N distinct nodes"; nothing when empty. */
void pf_prof_print(pf_prof *pr, const char *backend, const char *device, FILE *out);
/* Empty the table (keeps its memory). */
void pf_prof_reset(pf_prof *pr);
void pf_prof_free(pf_prof *pr);

#endif /* PF_PROFILE_H */
