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
    PF_FILL_KEY_META,    /* [B, N] valid prefix of random length >= 1; with `range` > 0 instead
                            runs of `range` keys, every third run invalid (batch b shifted by
                            17 b): whole invalid key tiles between visible ones */
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
    /* feed the op a view with these element strides (0: broadcast) over a 1-D store
     * just large enough (cases exported from model graphs: permuted, sliced and
     * broadcast operands of the element-wise family) */
    int strided;
    int64_t vst[PF_MAX_DIMS];
} pf_conf_input;

/* Case parameters live in ip/fp; per op: layer_norm ip[1] has weight, ip[2] has bias;
 * attention ip[0] mask mode, ip[1] has bias; conv3d ip[0..5] pads/strides as pf_conv3d,
 * ip[6] has bias, ip[7] has front cache; others as the op's own params. */
typedef struct pf_conf_case {
    char name[320];
    char origin[48]; /* exported cases: the first graph the node was seen in */
    int count;       /* exported cases: nodes with this signature */
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

/* The case's op on a graph (inputs created with their stored shapes into ins). */
pf_tensor *pf_conf_build(pf_graph *g, const pf_conf_case *c, pf_tensor **ins);

/* ---- cases exported from real graphs (conformance_export.c) ---- */
/* Add node n as a case unless one with the same signature (op, dtypes, shapes, strides,
 * params; the case name) exists, whose count then grows. 1 added, 0 known, -1 the node
 * cannot be expressed as a case. */
int pf_conf_add_node(pf_conf_list *l, const pf_tensor *n, const char *origin);
/* Every compute node of a planned graph; returns the cases added, counts failures. */
int pf_conf_export_graph(pf_conf_list *l, pf_graph *g, const char *origin, int *n_failed);
/* A reduced twin of an oversized case: token / spatial / batch dims cut to about `cap`,
 * channels, head dims, dtypes and params kept. False when there is nothing to cut. */
bool pf_conf_shrink(const pf_conf_case *c, pf_conf_case *out, int64_t cap);

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
/* The same case on n runners with one reference run (their references are identical). */
pf_status pf_conf_run_case_multi(pf_conf_runner *const *rs, int n, const pf_conf_case *c, pf_conf_result *res);
/* The backend under test. */
pf_backend *pf_conf_runner_backend(pf_conf_runner *r);
/* Wall time of one run of the case on the reference or on the backend under test
 * (graph build, planning, upload, compute, download). */
pf_status pf_conf_time_case(pf_conf_runner *r, const pf_conf_case *c, bool reference, double *seconds);
/* NMSE threshold for a case (per op family and dtype). */
double pf_conf_threshold(const pf_conf_case *c);
/* Work and size of a case: the node's FLOPs (pf_node_flops), the bytes of its inputs
 * and output, and its largest single tensor. */
pf_status pf_conf_case_cost(const pf_conf_case *c, double *flops, double *bytes, double *largest);

/* Run a list on one backend, print one line per case and a support-matrix summary.
 * Returns the number of failures; *n_unsupported may be NULL. `op_filter` may be NULL. */
int pf_conf_run_list(const char *backend, const pf_conf_list *l, const char *op_filter, FILE *out, int *n_pass,
                     int *n_unsupported);

/* ---- sweeps over many backends with size budgets (conformance_sweep.c) ---- */
typedef struct pf_conf_sweep_opts {
    double seconds;     /* per case on each side, at the measured GFLOP/s (0: no limit) */
    double max_bytes;   /* inputs + output of one case (0: no limit) */
    int64_t reduce_cap; /* run a reduced twin of cases skipped for size (0: none) */
    const char *filter; /* substring of the case name or op name */
} pf_conf_sweep_opts;

/* Every case on every named backend (those unavailable here are reported and left out).
 * A case larger than a side's budget or buffer limit is "skipped-by-size", never a pass;
 * its reduced twin runs instead. Prints one line per case and backend, then the support
 * matrix (op x dtypes x backend). Returns the number of failures (-1: no backend). */
int pf_conf_sweep(const pf_conf_list *l, const char *const *backends, int n_backends, const pf_conf_sweep_opts *o,
                  FILE *out);

#endif /* PF_CONFORMANCE_H */
