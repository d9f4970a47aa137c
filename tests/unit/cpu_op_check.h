/*
 * Shared by the CPU op tests: build one small graph on the reference backend
 * and on the fast backend (every instruction-set variant, every GEMM the build
 * has), feed both the same inputs and compare the outputs (NMSE and max abs
 * against per-case thresholds).
 */
#ifndef PF_CPU_OP_CHECK_H
#define PF_CPU_OP_CHECK_H

#include "cpu_ops.h"
#include "cpu_simd.h"
#include "pf_backend.h"
#include "pf_test.h"

#define OC_MAX_IN 8

typedef struct {
    pf_dtype dt;
    int ndim;
    int64_t ne[PF_MAX_DIMS];
    const void *data; /* exact host data in dt (ids, mask metadata); NULL: random uniform */
    float lo, hi;     /* random range; lo == hi: [-1, 1] */
} oc_in;

/* Build the op under test from the inputs; params p. Returns the output node. */
typedef pf_tensor *(*oc_build)(pf_graph *g, pf_tensor **in, const void *p);

typedef struct {
    const char *name;
    int n_in; /* 0: the leading inputs with ndim > 0 */
    oc_in in[OC_MAX_IN];
    oc_build build;
    const void *p;
    double nmse, max_abs; /* thresholds of fast vs reference */
    bool inplace;         /* the planner must run the op in place (checked) */
    bool gemm;            /* run once per GEMM implementation */
    int64_t conv_col_floats; /* conv3d tile budget for the fast backend (0: default) */
} oc_case;

static uint64_t oc_rng_state = 0x9e3779b97f4a7c15ull;
static inline float oc_randf(void) {
    oc_rng_state ^= oc_rng_state << 13;
    oc_rng_state ^= oc_rng_state >> 7;
    oc_rng_state ^= oc_rng_state << 17;
    return (float)((oc_rng_state >> 40) * (1.0 / 16777216.0));
}

static inline pf_backend *oc_backend(bool reference, int threads) {
    pf_backend *be = NULL;
    pf_backend_options o = {.device = -1, .threads = threads, .reference = reference};
    if (pf_backend_create("cpu", &o, &be) != PF_OK) return NULL;
    return be;
}

static inline int64_t oc_nelem(const oc_in *in) {
    int64_t n = 1;
    for (int i = 0; i < in->ndim; i++) n *= in->ne[i];
    return n;
}

/* Run case c on backend be with host inputs hin (f32 or exact data); output as f32 in *out. */
static inline pf_status oc_run(pf_backend *be, const oc_case *c, float **hin, float **out, int64_t *n_out,
                               int *n_inplace) {
    pf_graph *g = pf_graph_new(c->name);
    pf_tensor *in[OC_MAX_IN] = {0};
    for (int i = 0; i < c->n_in; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "in%d", i);
        in[i] = pf_input(g, c->in[i].dt, c->in[i].ndim, c->in[i].ne, nm);
    }
    pf_tensor *y = c->build(g, in, c->p);
    pf_output(g, y);
    pf_status rc = pf_graph_status(g);
    if (rc != PF_OK) pf_error(rc, "%s: %s", c->name, pf_graph_error(g));
    pf_arena *a = NULL;
    if (rc == PF_OK) rc = pf_arena_create(be, &a);
    pf_plan_stats st;
    if (rc == PF_OK) rc = pf_graph_plan(g, a, &st);
    for (int i = 0; i < c->n_in && rc == PF_OK; i++) {
        int64_t n = oc_nelem(&c->in[i]);
        if (c->in[i].data)
            rc = pf_tensor_set(in[i], c->in[i].data, (size_t)n * pf_dtype_size(c->in[i].dt));
        else
            rc = pf_tensor_set_as(in[i], hin[i], PF_F32, (size_t)n);
    }
    if (rc == PF_OK) rc = pf_graph_compute(g);
    if (rc == PF_OK) {
        *n_out = pf_nelem(y);
        *out = malloc((size_t)PF_MAX(*n_out, 1) * sizeof(float));
        rc = *out ? pf_tensor_get_as(y, *out, PF_F32, (size_t)*n_out) : PF_ERR_OOM;
        *n_inplace = st.n_inplace;
    }
    pf_graph_free(g);
    pf_arena_free(a);
    return rc;
}

/* NMSE and max abs of got vs ref; NaN must match NaN, Inf must match Inf. */
static inline bool oc_compare(const char *what, const float *got, const float *ref, int64_t n, double tol_nmse,
                              double tol_abs) {
    double se = 0.0, sr = 0.0, mx = 0.0;
    int64_t worst = 0;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(ref[i]) || isnan(got[i]) || isinf(ref[i]) || isinf(got[i])) {
            if (!(isnan(ref[i]) && isnan(got[i])) && got[i] != ref[i]) {
                fprintf(stderr, "  %s: element %lld is %g, reference %g\n", what, (long long)i, got[i], ref[i]);
                return false;
            }
            continue;
        }
        double d = (double)got[i] - (double)ref[i];
        se += d * d;
        sr += (double)ref[i] * ref[i];
        if (fabs(d) > mx) {
            mx = fabs(d);
            worst = i;
        }
    }
    double nmse = sr > 0.0 ? se / sr : se;
    if (nmse > tol_nmse || mx > tol_abs) {
        fprintf(stderr, "  %s: nmse %.3g (max %.3g), max abs %.3g (max %.3g) at %lld: %.9g vs %.9g\n", what, nmse,
                tol_nmse, mx, tol_abs, (long long)worst, n ? got[worst] : 0.0f, n ? ref[worst] : 0.0f);
        return false;
    }
    return true;
}

/* Every instruction set this CPU has, and every GEMM of this build, against the reference. */
static inline pf_test_result oc_check(const oc_case *cin) {
    oc_case cc = *cin, *c = &cc;
    if (c->n_in == 0)
        while (c->n_in < OC_MAX_IN && c->in[c->n_in].ndim > 0) c->n_in++;
    float *hin[OC_MAX_IN] = {0};
    for (int i = 0; i < c->n_in; i++) {
        if (c->in[i].data) continue;
        int64_t n = oc_nelem(&c->in[i]);
        hin[i] = malloc((size_t)PF_MAX(n, 1) * sizeof(float));
        CHECK(hin[i]);
        float lo = c->in[i].lo, hi = c->in[i].hi;
        if (lo == hi) lo = -1.0f, hi = 1.0f;
        for (int64_t j = 0; j < n; j++) hin[i][j] = lo + (hi - lo) * oc_randf();
    }
    pf_backend *ref = oc_backend(true, 1), *fast = oc_backend(false, 3);
    CHECK(ref && fast);
    ((pf_cpu_ctx *)fast->ctx)->conv_col_floats = c->conv_col_floats;
    float *r = NULL;
    int64_t nr = 0;
    int ip_ref = 0;
    CHECK_OK(oc_run(ref, c, hin, &r, &nr, &ip_ref));
    bool ok = true;
    const char *gemms[2] = {"portable", "blas"};
    for (int isa = 0; isa <= (int)pf_cpu_isa_detect() && ok; isa++) {
        pf_cpu_isa_override(isa);
        for (int gm = 0; gm < (c->gemm ? 2 : 1) && ok; gm++) {
            if (pf_cpu_set_gemm(fast, c->gemm ? gemms[gm] : "auto") != PF_OK) continue; /* no OpenBLAS */
            float *f = NULL;
            int64_t nf = 0;
            int ip = 0;
            pf_status rc = oc_run(fast, c, hin, &f, &nf, &ip);
            char what[160];
            snprintf(what, sizeof what, "%s [%s%s%s]", c->name, pf_cpu_isa_name((pf_cpu_isa)isa), c->gemm ? ", " : "",
                     c->gemm ? gemms[gm] : "");
            if (rc != PF_OK) {
                fprintf(stderr, "  %s: %s\n", what, pf_last_error());
                ok = false;
            } else if (nf != nr) {
                fprintf(stderr, "  %s: %lld elements, reference %lld\n", what, (long long)nf, (long long)nr);
                ok = false;
            } else {
                ok = oc_compare(what, f, r, nr, c->nmse, c->max_abs);
                if (ok && c->inplace && ip < 1) {
                    fprintf(stderr, "  %s: the planner did not run it in place\n", what);
                    ok = false;
                }
            }
            free(f);
        }
    }
    pf_cpu_isa_override(-1);
    free(r);
    for (int i = 0; i < c->n_in; i++) free(hin[i]);
    pf_backend_free(ref);
    pf_backend_free(fast);
    return ok ? PF_T_PASS : PF_T_FAIL;
}

/* Case table entries: OC(name, build, params, tolerance, inputs...); OCF adds one more field
 * (.inplace = true, .gemm = true, ...). Tolerances: TOL(nmse, max_abs) or the names below. */
#define TOL(n_, a_) .nmse = (n_), .max_abs = (a_)
#define OC(name_, build_, p_, tol_, ...) {.name = (name_), .build = (build_), .p = (p_), tol_, .in = {__VA_ARGS__}}
#define OCF(flag_, name_, build_, p_, tol_, ...) \
    {.name = (name_), .build = (build_), .p = (p_), tol_, flag_, .in = {__VA_ARGS__}}
#define IN(dt_, nd_, ...) {.dt = (dt_), .ndim = (nd_), .ne = {__VA_ARGS__}}
#define INR(dt_, lo_, hi_, nd_, ...) {.dt = (dt_), .ndim = (nd_), .ne = {__VA_ARGS__}, .lo = (lo_), .hi = (hi_)}
#define IND(dt_, data_, nd_, ...) {.dt = (dt_), .ndim = (nd_), .ne = {__VA_ARGS__}, .data = (data_)}

/* Run a list of cases; fails if any fails. */
static inline pf_test_result oc_check_all(const oc_case *cs, int n) {
    bool ok = true;
    for (int i = 0; i < n; i++)
        if (oc_check(&cs[i]) != PF_T_PASS) ok = false;
    return ok ? PF_T_PASS : PF_T_FAIL;
}

#endif /* PF_CPU_OP_CHECK_H */
