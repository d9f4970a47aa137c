/* Cross-backend op conformance: harness (see conformance.h). */
#include "conformance.h"

#include <math.h>
#include <stdarg.h>

/* ---------------------------------------------------------------- case lists */

pf_conf_case *pf_conf_add(pf_conf_list *l, pf_op op, const char *fmt, ...) {
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        pf_conf_case *c = realloc(l->cases, (size_t)cap * sizeof *c);
        if (!c) return NULL;
        l->cases = c;
        l->cap = cap;
    }
    pf_conf_case *c = &l->cases[l->n++];
    memset(c, 0, sizeof *c);
    c->op = op;
    c->out_dtype = PF_F32;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->name, sizeof c->name, fmt, ap);
    va_end(ap);
    return c;
}

pf_conf_input *pf_conf_in(pf_conf_case *c, pf_dtype dt, int ndim, const int64_t *ne, pf_conf_fill fill) {
    pf_conf_input *in = &c->in[c->n_in];
    c->n_in++;
    memset(in, 0, sizeof *in);
    in->dtype = dt;
    in->ndim = ndim;
    for (int i = 0; i < ndim; i++) in->ne[i] = ne[i];
    in->fill = fill;
    return in;
}

void pf_conf_list_free(pf_conf_list *l) {
    free(l->cases);
    memset(l, 0, sizeof *l);
}

/* ---------------------------------------------------------------- random inputs */

static uint64_t conf_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double conf_uniform(uint64_t *s) { return ((double)(conf_next(s) >> 11) + 0.5) * (1.0 / 9007199254740992.0); }

static double conf_randn(uint64_t *s) {
    double u = conf_uniform(s), v = conf_uniform(s);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

static int64_t conf_nelem(const pf_conf_input *in) {
    int64_t n = 1;
    for (int i = 0; i < in->ndim; i++) n *= in->ne[i];
    return n;
}

/* Host data for one input, in its dtype. */
static void *conf_fill(const pf_conf_input *in, uint64_t seed) {
    int64_t n = conf_nelem(in);
    void *p = calloc((size_t)PF_MAX(n, 1), pf_dtype_size(in->dtype));
    if (!p) return NULL;
    uint64_t s = seed;
    switch (in->fill) {
    case PF_FILL_RANDN:
    case PF_FILL_UNIFORM:
    case PF_FILL_BIAS:
        for (int64_t i = 0; i < n; i++) {
            double v = in->fill == PF_FILL_RANDN ? conf_randn(&s)
                       : in->fill == PF_FILL_BIAS ? 0.5 * conf_randn(&s)
                                                  : 2.0 * conf_uniform(&s) - 1.0;
            pf_store_elem(p, in->dtype, (size_t)i, v);
        }
        break;
    case PF_FILL_IDS:
        for (int64_t i = 0; i < n; i++)
            pf_store_elem(p, in->dtype, (size_t)i, (double)(conf_next(&s) % (uint64_t)PF_MAX(in->range, 1)));
        break;
    case PF_FILL_FRAME_META: {
        int64_t B = in->ne[0], N = in->ne[1], L = in->range, img = N - L;
        int frames = PF_MAX(in->frames, 1);
        for (int64_t b = 0; b < B; b++) {
            int64_t valid = L > 0 ? 1 + (int64_t)(conf_next(&s) % (uint64_t)L) : 0;
            for (int64_t i = 0; i < N; i++) {
                int32_t m;
                if (i < L) m = i < valid ? 1 : 0; /* text: frame 0 */
                else m = (int32_t)(((i - L) * frames / PF_MAX(img, 1)) * 2 + 1);
                ((int32_t *)p)[b * N + i] = m;
            }
        }
        break;
    }
    case PF_FILL_KEY_META: {
        int64_t B = in->ne[0], N = in->ne[1], run = in->range;
        for (int64_t b = 0; b < B; b++) {
            int64_t valid = 1 + (int64_t)(conf_next(&s) % (uint64_t)N);
            for (int64_t i = 0; i < N; i++)
                ((int32_t *)p)[b * N + i] = run > 0 ? ((i + 17 * b) / run) % 3 != 1 : i < valid;
        }
        break;
    }
    case PF_FILL_ROPE: {
        int64_t pairs = n / 2;
        for (int64_t i = 0; i < pairs; i++) {
            double a = 6.283185307179586 * conf_uniform(&s) * 3.0;
            ((float *)p)[2 * i] = (float)cos(a);
            ((float *)p)[2 * i + 1] = (float)sin(a);
        }
        break;
    }
    }
    return p;
}

/* ---------------------------------------------------------------- building */

/* Elements of the 1-D store behind a strided input. */
static int64_t conf_span(const pf_conf_input *in) {
    int64_t span = 1;
    for (int i = 0; i < in->ndim; i++) {
        if (in->ne[i] == 0) return 1;
        span += (in->ne[i] - 1) * in->vst[i];
    }
    return span;
}

/* The shape of an input as stored (transposed, or the 1-D store of a strided view). */
static pf_conf_input conf_stored(const pf_conf_input *in) {
    pf_conf_input s = *in;
    if (in->strided) {
        s.ndim = 1;
        s.ne[0] = conf_span(in);
    } else if (in->perm_last2) {
        s.ne[in->ndim - 1] = in->ne[in->ndim - 2];
        s.ne[in->ndim - 2] = in->ne[in->ndim - 1];
    }
    return s;
}

static pf_tensor *conf_src(pf_graph *g, pf_tensor *t, const pf_conf_input *in) {
    if (in->strided && t) return pf_view(g, t, in->ndim, in->ne, in->vst, 0);
    if (!in->perm_last2 || !t) return t;
    /* the input tensor holds the transposed layout; present the op with a strided view */
    int perm[PF_MAX_DIMS];
    for (int i = 0; i < in->ndim; i++) perm[i] = i;
    perm[in->ndim - 1] = in->ndim - 2;
    perm[in->ndim - 2] = in->ndim - 1;
    return pf_permute(g, t, perm);
}

/* Build the case's op on a graph. The inputs are created with their stored shapes. */
pf_tensor *pf_conf_build(pf_graph *g, const pf_conf_case *c, pf_tensor **ins) {
    pf_tensor *s[PF_MAX_SRC] = {0};
    for (int i = 0; i < c->n_in; i++) {
        pf_conf_input st = conf_stored(&c->in[i]);
        char name[16];
        snprintf(name, sizeof name, "in%d", i);
        ins[i] = pf_input(g, st.dtype, st.ndim, st.ne, name);
        s[i] = conf_src(g, ins[i], &c->in[i]);
    }
    const int32_t *ip = c->ip;
    const float *fp = c->fp;
    switch (c->op) {
    case PF_OP_CPY: return c->out_dtype == c->in[0].dtype ? pf_copy(g, s[0]) : pf_cast(g, s[0], c->out_dtype);
    case PF_OP_CONCAT: return pf_concat(g, s, c->n_in, ip[0]);
    case PF_OP_ADD: return pf_add(g, s[0], s[1]);
    case PF_OP_SUB: return pf_sub(g, s[0], s[1]);
    case PF_OP_MUL: return pf_mul(g, s[0], s[1]);
    case PF_OP_SCALE: return pf_scale(g, s[0], fp[0], fp[1]);
    case PF_OP_UNARY: return pf_unary_op(g, s[0], (pf_unary)ip[0]);
    case PF_OP_LINEAR: return pf_linear(g, s[0], s[1], c->n_in > 2 ? s[2] : NULL);
    case PF_OP_MATMUL: return pf_matmul(g, s[0], s[1], ip[0] != 0, fp[0]);
    case PF_OP_LAYER_NORM: return pf_layer_norm(g, s[0], ip[1] ? s[1] : NULL, ip[2] ? s[ip[1] ? 2 : 1] : NULL, fp[0]);
    case PF_OP_RMS_NORM: return pf_rms_norm(g, s[0], c->n_in > 1 ? s[1] : NULL, fp[0]);
    case PF_OP_GROUP_NORM:
        return pf_group_norm(g, s[0], c->n_in > 1 ? s[1] : NULL, c->n_in > 2 ? s[2] : NULL, ip[0], fp[0], ip[1] != 0);
    case PF_OP_SOFTMAX: return pf_softmax(g, s[0], fp[0]);
    case PF_OP_ATTENTION: {
        pf_mask_mode mode = (pf_mask_mode)ip[0];
        int k = 3;
        pf_tensor *qm = NULL, *km = NULL, *bias = NULL;
        if (mode == PF_MASK_FRAME) {
            qm = s[k++];
            km = s[k++];
        } else if (mode == PF_MASK_KEY) {
            km = s[k++];
        }
        if (ip[1]) bias = s[k++];
        return pf_attention(g, s[0], s[1], s[2], fp[0], mode, qm, km, bias);
    }
    case PF_OP_ROPE: return pf_rope(g, s[0], s[1]);
    case PF_OP_MODULATE: return pf_modulate(g, s[0], s[1], s[2]);
    case PF_OP_GATED_ADD: return pf_gated_add(g, s[0], s[1], s[2]);
    case PF_OP_CONV3D:
        return pf_conv3d(g, s[0], s[1], ip[6] ? s[2] : NULL, ip[7] ? s[ip[6] ? 3 : 2] : NULL, ip[0], ip[1], ip[2], ip[3],
                         ip[4], ip[5]);
    case PF_OP_DEPTH_TO_SPACE: return pf_depth_to_space(g, s[0], (pf_d2s_mode)ip[0], ip[1] != 0);
    case PF_OP_UPSAMPLE2X: return pf_upsample2x(g, s[0]);
    case PF_OP_DOWNSAMPLE2X: return pf_downsample2x(g, s[0], fp[0]);
    case PF_OP_EMBEDDING: return pf_embedding(g, s[0], s[1]);
    default: return pf_graph_fail(g, PF_ERR_UNSUPPORTED, "conformance: no builder for %s", pf_op_name(c->op));
    }
}

/* ---------------------------------------------------------------- running */

struct pf_conf_runner {
    pf_backend *ref;
    pf_backend *test;
    char backend[32];
    bool test_is_cpu;
};

pf_status pf_conf_runner_create(const char *backend, pf_conf_runner **out) {
    *out = NULL;
    pf_conf_runner *r = calloc(1, sizeof *r);
    if (!r) return pf_error(PF_ERR_OOM, "out of memory");
    pf_backend_options ro = {.device = -1, .threads = 1, .reference = true};
    pf_status rc = pf_backend_create("cpu", &ro, &r->ref);
    if (rc == PF_OK) rc = pf_backend_create(backend, NULL, &r->test);
    if (rc != PF_OK) {
        pf_conf_runner_free(r);
        return rc;
    }
    snprintf(r->backend, sizeof r->backend, "%s", backend);
    r->test_is_cpu = !strcmp(backend, "cpu");
    *out = r;
    return PF_OK;
}

pf_status pf_conf_runner_create_with(pf_backend *test, pf_conf_runner **out) {
    *out = NULL;
    pf_conf_runner *r = calloc(1, sizeof *r);
    if (!r) return pf_error(PF_ERR_OOM, "out of memory");
    pf_backend_options ro = {.device = -1, .threads = 1, .reference = true};
    pf_status rc = pf_backend_create("cpu", &ro, &r->ref);
    if (rc != PF_OK) {
        free(r);
        return rc;
    }
    r->test = test;
    snprintf(r->backend, sizeof r->backend, "%s", pf_backend_name(test));
    *out = r;
    return PF_OK;
}

void pf_conf_runner_free(pf_conf_runner *r) {
    if (!r) return;
    pf_backend_free(r->ref);
    pf_backend_free(r->test);
    free(r);
}

static bool conf_has_bf16(const pf_conf_case *c) {
    if (c->op == PF_OP_CPY && c->out_dtype != PF_F32) return true;
    for (int i = 0; i < c->n_in; i++)
        if (c->in[i].dtype == PF_BF16 || c->in[i].dtype == PF_F16) return true;
    return false;
}

double pf_conf_threshold(const pf_conf_case *c) {
    bool low = conf_has_bf16(c);
    switch (c->op) {
    case PF_OP_LINEAR:
    case PF_OP_MATMUL:
    case PF_OP_CONV3D: return low ? 5e-3 : 5e-4;
    case PF_OP_ATTENTION: {
        int64_t nk = c->in[1].ne[1];
        return (low ? 5e-3 : 5e-4) * PF_MAX(1.0, (double)nk / 20000.0);
    }
    case PF_OP_SOFTMAX: return low ? 1e-5 : 1e-6;
    default: return low ? 1e-5 : 1e-7;
    }
}

pf_status pf_conf_case_cost(const pf_conf_case *c, double *flops, double *bytes, double *largest) {
    *flops = *bytes = *largest = 0.0;
    pf_graph *g = pf_graph_new("cost");
    if (!g) return PF_ERR_OOM;
    pf_tensor *ins[PF_MAX_SRC] = {0};
    pf_tensor *y = pf_conf_build(g, c, ins);
    pf_status rc = pf_graph_status(g);
    if (!y || rc != PF_OK) {
        rc = pf_error(rc != PF_OK ? rc : PF_ERR_INVALID_ARG, "%s", pf_graph_error(g));
    } else {
        for (int i = 0; i < pf_graph_n_nodes(g); i++) {
            pf_tensor *t = pf_graph_node(g, i);
            if (t->op == PF_OP_VIEW) continue;
            double b = (double)pf_nbytes(t);
            if (t->op != PF_OP_NONE) *flops += pf_node_flops(t);
            *bytes += b;
            *largest = fmax(*largest, b);
        }
    }
    pf_graph_free(g);
    return rc;
}

#define CONF_GUARD 256
#define CONF_GUARD_BYTE 0xA5

/* Run one case on backend `be`; output f32 into *out (malloc'ed). With guards, the output
 * goes into a pool tensor between two guard tensors that are checked afterwards. */
static pf_status conf_exec(pf_backend *be, const pf_conf_case *c, void **host_in, bool guards, float **out, int64_t *n_out,
                           bool *supported, char *why, size_t why_n) {
    *out = NULL;
    *supported = true;
    pf_status rc = PF_OK;
    pf_graph *g = pf_graph_new(c->name);
    pf_arena *arena = NULL;
    pf_pool *pool = NULL;
    pf_tensor *ins[PF_MAX_SRC] = {0};
    pf_tensor *y = pf_conf_build(g, c, ins);
    if (!y) {
        rc = pf_error(pf_graph_status(g), "%s", pf_graph_error(g));
        goto done;
    }
    if (y->op == PF_OP_NONE || y->op == PF_OP_VIEW) y = pf_copy(g, y);
    /* With guards the output is the middle of one flat tensor [G | out | G]: a write
     * past either end of the output lands in a guard. */
    pf_tensor *guarded = NULL, *target = NULL;
    int64_t n_y = pf_nelem(y), G = CONF_GUARD;
    size_t es = pf_dtype_size(y->dtype);
    if (guards) {
        size_t bytes = (size_t)(n_y + 2 * G) * es;
        pf_backend_info info;
        pf_backend_get_info(be, &info);
        /* room for the guarded output, within the backend's largest buffer */
        rc = pf_pool_create(be, PF_MIN(4 * bytes + 4096, info.max_buffer_size), &pool);
        if (rc != PF_OK) goto done;
        int64_t gn[1] = {n_y + 2 * G};
        guarded = pf_pool_tensor(pool, y->dtype, 1, gn, "guarded_out");
        if (!guarded) {
            rc = PF_ERR_OOM;
            goto done;
        }
        uint8_t *pat = malloc(bytes);
        if (!pat) {
            rc = PF_ERR_OOM;
            goto done;
        }
        memset(pat, CONF_GUARD_BYTE, bytes);
        rc = pf_tensor_set(guarded, pat, bytes);
        free(pat);
        if (rc != PF_OK) goto done;
        target = pf_slice(g, pf_external(g, guarded), 0, G, n_y);
        pf_output_into(g, y, target);
    } else {
        pf_output(g, y);
    }
    if ((rc = pf_graph_status(g)) != PF_OK) {
        rc = pf_error(rc, "%s", pf_graph_error(g));
        goto done;
    }
    if ((rc = pf_arena_create(be, &arena)) != PF_OK) goto done;
    rc = pf_graph_plan(g, arena, NULL);
    if (rc == PF_ERR_UNSUPPORTED) {
        *supported = false;
        snprintf(why, why_n, "%s", pf_last_error());
        rc = PF_OK;
        goto done;
    }
    if (rc != PF_OK) goto done;
    for (int i = 0; i < c->n_in; i++)
        if ((rc = pf_tensor_set(ins[i], host_in[i], pf_nbytes(ins[i]))) != PF_OK) goto done;
    if ((rc = pf_graph_compute(g)) != PF_OK) goto done;
    *n_out = n_y;
    *out = malloc((size_t)PF_MAX(n_y, 1) * sizeof(float));
    if (!*out) {
        rc = PF_ERR_OOM;
        goto done;
    }
    if (!guards) {
        rc = pf_tensor_get_as(y, *out, PF_F32, (size_t)n_y);
        goto done;
    }
    size_t bytes = (size_t)(n_y + 2 * G) * es;
    uint8_t *all = malloc(bytes);
    float *conv = malloc((size_t)(n_y + 2 * G) * sizeof(float));
    if (!all || !conv) {
        free(all);
        free(conv);
        rc = PF_ERR_OOM;
        goto done;
    }
    rc = pf_tensor_get(guarded, all, bytes);
    if (rc == PF_OK) {
        for (size_t i = 0; i < (size_t)G * es; i++) {
            size_t j = bytes - 1 - i;
            if (all[i] != CONF_GUARD_BYTE || all[j] != CONF_GUARD_BYTE) {
                rc = pf_error(PF_ERR_INTERNAL, "write outside the output tensor (guard %s the output)",
                              all[i] != CONF_GUARD_BYTE ? "before" : "after");
                break;
            }
        }
    }
    if (rc == PF_OK) {
        pf_convert(conv, PF_F32, all, y->dtype, (size_t)(n_y + 2 * G));
        memcpy(*out, conv + G, (size_t)n_y * sizeof(float));
    }
    free(all);
    free(conv);
done:
    if (rc != PF_OK) {
        free(*out);
        *out = NULL;
    }
    pf_graph_free(g);
    pf_arena_free(arena);
    pf_pool_free(pool);
    return rc;
}

pf_backend *pf_conf_runner_backend(pf_conf_runner *r) { return r->test; }

pf_status pf_conf_time_case(pf_conf_runner *r, const pf_conf_case *c, bool reference, double *seconds) {
    *seconds = 0.0;
    void *host_in[PF_MAX_SRC] = {0};
    pf_status rc = PF_OK;
    for (int i = 0; i < c->n_in && rc == PF_OK; i++) {
        pf_conf_input stored = conf_stored(&c->in[i]);
        host_in[i] = conf_fill(&stored, 17u + (uint64_t)i);
        if (!host_in[i]) rc = pf_error(PF_ERR_OOM, "out of memory");
    }
    if (rc == PF_OK) {
        float *out = NULL;
        int64_t n = 0;
        bool sup = true;
        char why[256];
        double t0 = pf_time_now();
        rc = conf_exec(reference ? r->ref : r->test, c, host_in, false, &out, &n, &sup, why, sizeof why);
        *seconds = pf_time_now() - t0;
        free(out);
        if (rc == PF_OK && !sup) rc = pf_error(PF_ERR_UNSUPPORTED, "%s", why);
    }
    for (int i = 0; i < c->n_in; i++) free(host_in[i]);
    return rc;
}

/* Compare a backend's output with the reference's into res. */
static void conf_compare(const float *a, int64_t na, const float *b, int64_t nb, pf_conf_result *res) {
    if (na != nb) {
        snprintf(res->why, sizeof res->why, "element count %lld vs %lld", (long long)nb, (long long)na);
        return;
    }
    double err = 0.0, ref = 0.0, mx = 0.0;
    for (int64_t i = 0; i < na; i++) {
        if (isnan(b[i]) || isnan(a[i])) {
            snprintf(res->why, sizeof res->why, "NaN at %lld (%s)", (long long)i, isnan(a[i]) ? "reference" : "backend");
            return;
        }
        if (isinf(a[i]) || isinf(b[i])) {
            if (a[i] != b[i]) {
                snprintf(res->why, sizeof res->why, "Inf mismatch at %lld: %g vs %g", (long long)i, b[i], a[i]);
                return;
            }
            continue;
        }
        double d = (double)b[i] - (double)a[i];
        err += d * d;
        ref += (double)a[i] * (double)a[i];
        mx = fmax(mx, fabs(d));
    }
    res->nmse = ref > 0.0 ? err / ref : err;
    res->max_abs = mx;
    res->pass = res->nmse <= res->threshold;
    if (!res->pass) snprintf(res->why, sizeof res->why, "nmse %.3g > %.3g", res->nmse, res->threshold);
}

pf_status pf_conf_run_case_multi(pf_conf_runner *const *rs, int n, const pf_conf_case *c, pf_conf_result *res) {
    for (int k = 0; k < n; k++) {
        memset(&res[k], 0, sizeof res[k]);
        res[k].threshold = pf_conf_threshold(c);
    }
    if (n == 0) return PF_OK;
    void *host_in[PF_MAX_SRC] = {0};
    float *a = NULL;
    int64_t na = 0;
    pf_status rc = PF_OK;
    uint64_t seed = 0x5eed;
    for (const char *p = c->name; *p; p++) seed = seed * 131 + (uint64_t)(unsigned char)*p;
    for (int i = 0; i < c->n_in; i++) {
        pf_conf_input stored = conf_stored(&c->in[i]);
        host_in[i] = conf_fill(&stored, seed + 7919u * (uint64_t)i);
        if (!host_in[i]) {
            rc = pf_error(PF_ERR_OOM, "out of memory");
            goto done;
        }
    }
    /* the reference once (every runner's reference is the same CPU reference backend) */
    bool sup_ref;
    char why[256] = "";
    rc = conf_exec(rs[0]->ref, c, host_in, false, &a, &na, &sup_ref, why, sizeof why);
    if (rc != PF_OK || !sup_ref) {
        for (int k = 0; k < n; k++) {
            snprintf(res[k].why, sizeof res[k].why, "reference failed: %.200s", rc != PF_OK ? pf_last_error() : why);
            res[k].supported = true;
        }
        rc = PF_OK;
        goto done;
    }
    for (int k = 0; k < n; k++) {
        float *b = NULL;
        int64_t nb = 0;
        pf_status r2 = conf_exec(rs[k]->test, c, host_in, true, &b, &nb, &res[k].supported, res[k].why, sizeof res[k].why);
        if (r2 != PF_OK) snprintf(res[k].why, sizeof res[k].why, "%s", pf_last_error());
        else if (res[k].supported) conf_compare(a, na, b, nb, &res[k]);
        free(b);
    }
done:
    for (int i = 0; i < c->n_in; i++) free(host_in[i]);
    free(a);
    return rc;
}

pf_status pf_conf_run_case(pf_conf_runner *r, const pf_conf_case *c, pf_conf_result *res) {
    return pf_conf_run_case_multi(&r, 1, c, res);
}

int pf_conf_run_list(const char *backend, const pf_conf_list *l, const char *op_filter, FILE *out, int *n_pass,
                     int *n_unsupported) {
    pf_conf_runner *r;
    if (pf_conf_runner_create(backend, &r) != PF_OK) {
        fprintf(out, "backend %s: not available: %s\n", backend, pf_last_error());
        return -1;
    }
    int pass[PF_OP_COUNT] = {0}, fail[PF_OP_COUNT] = {0}, unsup[PF_OP_COUNT] = {0};
    int n_fail = 0, np = 0, nu = 0;
    for (int i = 0; i < l->n; i++) {
        const pf_conf_case *c = &l->cases[i];
        if (op_filter && !strstr(c->name, op_filter) && strcmp(pf_op_name(c->op), op_filter)) continue;
        pf_conf_result res;
        pf_conf_run_case(r, c, &res);
        if (!res.supported) {
            unsup[c->op]++;
            nu++;
            fprintf(out, "%-7s %-68s not supported (%s)\n", backend, c->name, res.why);
        } else if (res.pass) {
            pass[c->op]++;
            np++;
            fprintf(out, "%-7s %-68s ok    nmse=%.2e max_abs=%.2e\n", backend, c->name, res.nmse, res.max_abs);
        } else {
            fail[c->op]++;
            n_fail++;
            fprintf(out, "%-7s %-68s FAIL  %s\n", backend, c->name, res.why);
        }
    }
    fprintf(out, "\nsupport matrix, backend %s (pass/fail/unsupported):\n", backend);
    for (int op = 1; op < PF_OP_COUNT; op++) {
        if (!pass[op] && !fail[op] && !unsup[op]) continue;
        fprintf(out, "  %-16s %3d / %d / %d\n", pf_op_name((pf_op)op), pass[op], fail[op], unsup[op]);
    }
    fprintf(out, "backend %s: %d passed, %d failed, %d not supported\n", backend, np, n_fail, nu);
    pf_conf_runner_free(r);
    if (n_pass) *n_pass = np;
    if (n_unsupported) *n_unsupported = nu;
    return n_fail;
}
