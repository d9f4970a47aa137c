/*
 * Cross-backend op conformance (the test-backend-ops method): every case is one
 * op with fixed shapes/params; it runs on the CPU backend in reference mode and
 * on each backend under test with the same inputs, and the outputs are compared
 * by normalised mean squared error with a per-op threshold. Any NaN fails, Inf
 * must match in position and sign, the output sits between guard regions that
 * must come back untouched, and a backend that does not support a case says so
 * (reported as unsupported, never as a pass).
 */
#ifndef PF_CONFORMANCE_H
#define PF_CONFORMANCE_H

#include "pf_backend.h"
#include "pf_graph_impl.h"

#include <stdio.h>

typedef enum pf_conf_fill {
    PF_FILL_RANDN = 0,   /* N(0, 1) */
    PF_FILL_UNIFORM,     /* U(-1, 1) */
    PF_FILL_IDS,         /* integers in [0, range) */
    PF_FILL_FRAME_META,  /* [B, N] frame*2+valid: `range` text tokens (a random valid prefix) then
                            image tokens split evenly over `frames` frames */
    PF_FILL_KEY_META,    /* [B, N] valid prefix of random length >= 1 */
    PF_FILL_ROPE,        /* [N, P, 2] cos/sin of random angles */
    PF_FILL_BIAS,        /* small additive attention bias */
} pf_conf_fill;

typedef struct pf_conf_input {
    pf_dtype dtype;
    int ndim;
    int64_t ne[PF_MAX_DIMS];
    pf_conf_fill fill;
    int64_t range;  /* ids range / text tokens for frame meta */
    int frames;     /* frame meta: number of frames of image tokens */
    int perm_last2; /* feed the op a transposed view (strided input) */
} pf_conf_input;

/* Case parameters live in ip/fp; per op: layer_norm ip[1] has weight, ip[2] has bias;
 * attention ip[0] mask mode, ip[1] has bias; conv3d ip[0..5] pads/strides as pf_conv3d,
 * ip[6] has bias, ip[7] has front cache; others as the op's own params. */
typedef struct pf_conf_case {
    char name[192];
    pf_op op;
    pf_dtype out_dtype; /* for cpy/cast; otherwise the op decides */
    int n_in;
    pf_conf_input in[PF_MAX_SRC];
    int32_t ip[PF_MAX_IPARAMS];
    float fp[PF_MAX_FPARAMS];
} pf_conf_case;

typedef struct pf_conf_list {
    pf_conf_case *cases;
    int n, cap;
} pf_conf_list;

/* ---- building case lists ---- */
pf_conf_case *pf_conf_add(pf_conf_list *l, pf_op op, const char *fmt, ...) PF_PRINTF(3, 4);
pf_conf_input *pf_conf_in(pf_conf_case *c, pf_dtype dt, int ndim, const int64_t *ne, pf_conf_fill fill);
void pf_conf_list_free(pf_conf_list *l);
/* The hand-written list of small cases covering every op, dtype and mask mode (CI). */
void pf_conf_cases_ci(pf_conf_list *l);

/* ---- running ---- */
typedef struct pf_conf_result {
    bool supported;
    bool pass;
    double nmse, max_abs, threshold;
    char why[256];
} pf_conf_result;

typedef struct pf_conf_runner pf_conf_runner;

/* Reference: the CPU backend in reference mode. Backend under test by name. */
pf_status pf_conf_runner_create(const char *backend, pf_conf_runner **out);
/* Same with a backend object under test (the runner takes ownership). */
pf_status pf_conf_runner_create_with(pf_backend *test, pf_conf_runner **out);
void pf_conf_runner_free(pf_conf_runner *r);
pf_status pf_conf_run_case(pf_conf_runner *r, const pf_conf_case *c, pf_conf_result *res);
/* NMSE threshold for a case (per op family and dtype). */
double pf_conf_threshold(const pf_conf_case *c);

/* Run a list on one backend, print one line per case and a support-matrix summary.
 * Returns the number of failures; *n_unsupported may be NULL. `op_filter` may be NULL. */
int pf_conf_run_list(const char *backend, const pf_conf_list *l, const char *op_filter, FILE *out, int *n_pass,
                     int *n_unsupported);

#endif /* PF_CONFORMANCE_H */
