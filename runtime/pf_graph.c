/* Graph builder: node creation with shape inference and validation. */
#include "pf_graph_impl.h"

#include <stdarg.h>

static const char *const pf_op_names[PF_OP_COUNT] = {
    [PF_OP_NONE] = "none",           [PF_OP_VIEW] = "view",
    [PF_OP_CPY] = "cpy",             [PF_OP_CONCAT] = "concat",
    [PF_OP_ADD] = "add",             [PF_OP_SUB] = "sub",
    [PF_OP_MUL] = "mul",             [PF_OP_SCALE] = "scale",
    [PF_OP_UNARY] = "unary",         [PF_OP_LINEAR] = "linear",
    [PF_OP_MATMUL] = "matmul",       [PF_OP_LAYER_NORM] = "layer_norm",
    [PF_OP_RMS_NORM] = "rms_norm",   [PF_OP_GROUP_NORM] = "group_norm",
    [PF_OP_SOFTMAX] = "softmax",     [PF_OP_ATTENTION] = "attention",
    [PF_OP_ROPE] = "rope",           [PF_OP_MODULATE] = "modulate",
    [PF_OP_GATED_ADD] = "gated_add", [PF_OP_CONV3D] = "conv3d",
    [PF_OP_DEPTH_TO_SPACE] = "depth_to_space", [PF_OP_UPSAMPLE2X] = "upsample2x",
    [PF_OP_DOWNSAMPLE2X] = "downsample2x",     [PF_OP_EMBEDDING] = "embedding",
};

static const char *const pf_unary_names[PF_UNARY_COUNT] = {
    [PF_UNARY_SILU] = "silu",
    [PF_UNARY_GELU_TANH] = "gelu_tanh",
    [PF_UNARY_GELU_ERF] = "gelu_erf",
    [PF_UNARY_QUICK_GELU] = "quick_gelu",
};

const char *pf_op_name(pf_op op) { return (unsigned)op < PF_OP_COUNT ? pf_op_names[op] : "?"; }
const char *pf_unary_name(pf_unary f) { return (unsigned)f < PF_UNARY_COUNT ? pf_unary_names[f] : "?"; }

/* ---------------------------------------------------------------- tensors */

int64_t pf_nelem(const pf_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->ne[i];
    return n;
}

size_t pf_nbytes(const pf_tensor *t) { return (size_t)pf_nelem(t) * pf_dtype_size(t->dtype); }

void pf_set_contiguous_strides(pf_tensor *t) {
    int64_t s = 1;
    for (int i = PF_MAX_DIMS - 1; i >= 0; i--) {
        if (i >= t->ndim) {
            t->ne[i] = 1;
            t->st[i] = 1;
            continue;
        }
        t->st[i] = s;
        s *= t->ne[i];
    }
}

bool pf_is_contiguous(const pf_tensor *t) {
    int64_t s = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->ne[i] != 1 && t->st[i] != s) return false;
        s *= t->ne[i];
    }
    return true;
}

bool pf_same_shape(const pf_tensor *a, const pf_tensor *b) {
    if (a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->ne[i] != b->ne[i]) return false;
    return true;
}

const char *pf_shape_str(const pf_tensor *t, char *buf, size_t n) {
    size_t o = 0;
    o += (size_t)snprintf(buf + o, n - o, "[");
    for (int i = 0; i < t->ndim && o < n; i++)
        o += (size_t)snprintf(buf + o, n - o, i ? ", %lld" : "%lld", (long long)t->ne[i]);
    if (o < n) snprintf(buf + o, n - o, "]");
    return buf;
}

pf_tensor *pf_root(pf_tensor *t) {
    while (t->view_src) t = t->view_src;
    return t;
}

size_t pf_data_offset(const pf_tensor *t) {
    /* a view's view_offs is relative to its root (view_src is always the root) */
    if (t->view_src) return t->view_src->offset + (size_t)t->view_offs * pf_dtype_size(t->dtype);
    return t->offset;
}

/* ---------------------------------------------------------------- graphs */

pf_graph *pf_graph_new(const char *name) {
    pf_graph *g = calloc(1, sizeof *g);
    if (!g) {
        pf_error(PF_ERR_OOM, "out of host memory creating graph");
        return NULL;
    }
    snprintf(g->name, sizeof g->name, "%s", name ? name : "graph");
    return g;
}

void pf_graph_free(pf_graph *g) {
    if (!g) return;
    for (int i = 0; i < g->n_nodes; i++) free(g->nodes[i]);
    free(g->nodes);
    free(g);
}

pf_status pf_graph_status(const pf_graph *g) { return g ? g->status : PF_ERR_INVALID_ARG; }
const char *pf_graph_error(const pf_graph *g) { return g ? g->err : "no graph"; }
const char *pf_graph_name(const pf_graph *g) { return g->name; }
int pf_graph_n_nodes(const pf_graph *g) { return g->n_nodes; }
pf_tensor *pf_graph_node(pf_graph *g, int i) { return (i >= 0 && i < g->n_nodes) ? g->nodes[i] : NULL; }

pf_tensor *pf_graph_fail(pf_graph *g, pf_status s, const char *fmt, ...) {
    if (g && g->status == PF_OK) {
        va_list ap;
        va_start(ap, fmt);
        int o = snprintf(g->err, sizeof g->err, "graph %s: ", g->name);
        vsnprintf(g->err + o, sizeof g->err - (size_t)o, fmt, ap);
        va_end(ap);
        g->status = s;
    }
    return NULL;
}

static pf_tensor *pf_node_add(pf_graph *g, pf_tensor *t) {
    if (g->n_nodes == g->cap_nodes) {
        int cap = g->cap_nodes ? g->cap_nodes * 2 : 256;
        pf_tensor **n = realloc(g->nodes, (size_t)cap * sizeof *n);
        if (!n) {
            free(t);
            return pf_graph_fail(g, PF_ERR_OOM, "out of host memory (%d nodes)", g->n_nodes);
        }
        g->nodes = n;
        g->cap_nodes = cap;
    }
    t->graph_index = g->n_nodes;
    g->nodes[g->n_nodes++] = t;
    g->planned = false;
    return t;
}

/* A new contiguous node. */
static pf_tensor *pf_new(pf_graph *g, pf_op op, pf_dtype dt, int ndim, const int64_t *ne) {
    if (!g || g->status != PF_OK) return NULL;
    if (ndim < 0 || ndim > PF_MAX_DIMS)
        return pf_graph_fail(g, PF_ERR_SHAPE, "%s: %d dimensions (at most %d)", pf_op_name(op), ndim, PF_MAX_DIMS);
    for (int i = 0; i < ndim; i++)
        if (ne[i] < 0) return pf_graph_fail(g, PF_ERR_SHAPE, "%s: negative size in dim %d", pf_op_name(op), i);
    pf_tensor *t = calloc(1, sizeof *t);
    if (!t) return pf_graph_fail(g, PF_ERR_OOM, "out of host memory (tensor)");
    t->op = op;
    t->graph = g;
    t->dtype = dt;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->ne[i] = ne[i];
    pf_set_contiguous_strides(t);
    t->chunk = -1;
    return pf_node_add(g, t);
}

static bool pf_ok_srcs(pf_graph *g, int n, ...) {
    if (!g || g->status != PF_OK) return false;
    va_list ap;
    va_start(ap, n);
    bool ok = true;
    for (int i = 0; i < n; i++)
        if (!va_arg(ap, pf_tensor *)) ok = false;
    va_end(ap);
    if (!ok) pf_graph_fail(g, PF_ERR_INVALID_ARG, "NULL input tensor");
    return ok;
}

void pf_set_name(pf_tensor *t, const char *fmt, ...) {
    if (!t) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->name, sizeof t->name, fmt, ap);
    va_end(ap);
}

pf_tensor *pf_input(pf_graph *g, pf_dtype dt, int ndim, const int64_t *ne, const char *name) {
    pf_tensor *t = pf_new(g, PF_OP_NONE, dt, ndim, ne);
    if (!t) return NULL;
    t->flags |= PF_TF_INPUT;
    if (name) pf_set_name(t, "%s", name);
    return t;
}

pf_tensor *pf_external(pf_graph *g, pf_tensor *t) {
    if (!g || g->status != PF_OK) return NULL;
    if (!t) return pf_graph_fail(g, PF_ERR_INVALID_ARG, "NULL external tensor");
    if (!(pf_root(t)->flags & PF_TF_EXTERNAL) || !pf_root(t)->buffer)
        return pf_graph_fail(g, PF_ERR_INVALID_ARG, "tensor '%s' has no storage of its own", t->name);
    return t;
}

void pf_output(pf_graph *g, pf_tensor *t) {
    if (!g || !t) return;
    if (t->flags & PF_TF_EXTERNAL) {
        pf_graph_fail(g, PF_ERR_INVALID_ARG, "external tensor '%s' cannot be a graph output", t->name);
        return;
    }
    t->flags |= PF_TF_OUTPUT;
    pf_root(t)->flags |= PF_TF_OUTPUT;
    g->planned = false;
}

void pf_output_into(pf_graph *g, pf_tensor *t, pf_tensor *dst) {
    if (!g || g->status != PF_OK) return;
    if (!t || !dst) {
        pf_graph_fail(g, PF_ERR_INVALID_ARG, "pf_output_into: NULL tensor");
        return;
    }
    char b1[96], b2[96];
    if (t->op == PF_OP_NONE || t->op == PF_OP_VIEW || t->graph != g)
        pf_graph_fail(g, PF_ERR_INVALID_ARG, "pf_output_into: '%s' is not an op node of this graph", t->name);
    else if (!(pf_root(dst)->flags & PF_TF_EXTERNAL) || !pf_root(dst)->buffer || !pf_is_contiguous(dst))
        pf_graph_fail(g, PF_ERR_INVALID_ARG, "pf_output_into: target '%s' is not a contiguous external tensor", dst->name);
    else if (dst->dtype != t->dtype || pf_nelem(dst) != pf_nelem(t))
        pf_graph_fail(g, PF_ERR_SHAPE, "pf_output_into: '%s' %s %s into '%s' %s %s", t->name, pf_shape_str(t, b1, sizeof b1),
                      pf_dtype_name(t->dtype), dst->name, pf_shape_str(dst, b2, sizeof b2), pf_dtype_name(dst->dtype));
    else if (t->into)
        pf_graph_fail(g, PF_ERR_INVALID_ARG, "pf_output_into: '%s' already has a target", t->name);
    else {
        t->into = dst;
        t->flags |= PF_TF_OUTPUT;
        g->planned = false;
    }
}

/* ---------------------------------------------------------------- views */

static pf_tensor *pf_make_view(pf_graph *g, pf_tensor *x, int ndim, const int64_t *ne, const int64_t *st, int64_t offs) {
    pf_tensor *t = pf_new(g, PF_OP_VIEW, x->dtype, ndim, ne);
    if (!t) return NULL;
    for (int i = 0; i < ndim; i++) t->st[i] = st[i];
    t->src[0] = x;
    t->view_src = pf_root(x);
    t->view_offs = (x->view_src ? x->view_offs : 0) + offs;
    snprintf(t->name, sizeof t->name, "%s", x->name);
    /* bounds check against the root's storage */
    pf_tensor *r = t->view_src;
    int64_t lo = t->view_offs, hi = t->view_offs;
    for (int i = 0; i < ndim; i++) {
        if (ne[i] == 0) {
            hi = lo - 1;
            break;
        }
        if (st[i] >= 0) hi += (ne[i] - 1) * st[i];
        else lo += (ne[i] - 1) * st[i];
    }
    int64_t rmax = 0;
    for (int i = 0; i < r->ndim; i++) rmax += (r->ne[i] - 1) * r->st[i];
    if (lo < 0 || hi > rmax) {
        char b1[96], b2[96];
        return pf_graph_fail(g, PF_ERR_SHAPE, "view %s of '%s' %s is out of bounds", pf_shape_str(t, b1, sizeof b1),
                             x->name, pf_shape_str(r, b2, sizeof b2));
    }
    return t;
}

pf_tensor *pf_view(pf_graph *g, pf_tensor *x, int ndim, const int64_t *ne, const int64_t *st, int64_t offs_elems) {
    if (!pf_ok_srcs(g, 1, x)) return NULL;
    return pf_make_view(g, x, ndim, ne, st, offs_elems);
}

pf_tensor *pf_cont(pf_graph *g, pf_tensor *x) {
    if (!pf_ok_srcs(g, 1, x)) return NULL;
    if (pf_is_contiguous(x)) return x;
    return pf_copy(g, x);
}

pf_tensor *pf_reshape(pf_graph *g, pf_tensor *x, int ndim, const int64_t *ne) {
    if (!pf_ok_srcs(g, 1, x)) return NULL;
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= ne[i];
    if (n != pf_nelem(x)) {
        char b[96];
        return pf_graph_fail(g, PF_ERR_SHAPE, "reshape of '%s' %s to %lld elements", x->name, pf_shape_str(x, b, sizeof b),
                             (long long)n);
    }
    x = pf_cont(g, x);
    if (!x) return NULL;
    pf_tensor tmp = {.ndim = ndim};
    for (int i = 0; i < ndim; i++) tmp.ne[i] = ne[i];
    pf_set_contiguous_strides(&tmp);
    return pf_make_view(g, x, ndim, ne, tmp.st, 0);
}

pf_tensor *pf_slice(pf_graph *g, pf_tensor *x, int dim, int64_t start, int64_t len) {
    if (!pf_ok_srcs(g, 1, x)) return NULL;
    if (dim < 0) dim += x->ndim;
    if (dim < 0 || dim >= x->ndim || start < 0 || len < 0 || start + len > x->ne[dim]) {
        char b[96];
        return pf_graph_fail(g, PF_ERR_SHAPE, "slice dim %d [%lld, +%lld) of '%s' %s", dim, (long long)start,
                             (long long)len, x->name, pf_shape_str(x, b, sizeof b));
    }
    int64_t ne[PF_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) ne[i] = x->ne[i];
    ne[dim] = len;
    return pf_make_view(g, x, x->ndim, ne, x->st, start * x->st[dim]);
}

pf_tensor *pf_permute(pf_graph *g, pf_tensor *x, const int *perm) {
    if (!pf_ok_srcs(g, 1, x)) return NULL;
    int64_t ne[PF_MAX_DIMS], st[PF_MAX_DIMS];
    unsigned seen = 0;
    for (int i = 0; i < x->ndim; i++) {
        if (perm[i] < 0 || perm[i] >= x->ndim || (seen & (1u << perm[i])))
            return pf_graph_fail(g, PF_ERR_INVALID_ARG, "bad permutation of '%s'", x->name);
        seen |= 1u << perm[i];
        ne[i] = x->ne[perm[i]];
        st[i] = x->st[perm[i]];
    }
    return pf_make_view(g, x, x->ndim, ne, st, 0);
}

/* ---------------------------------------------------------------- ops */

static bool pf_is_fl(pf_dtype t) { return t == PF_F32 || t == PF_BF16 || t == PF_F16; }

static pf_tensor *pf_need_float(pf_graph *g, pf_tensor *x, const char *op) {
    if (!pf_is_fl(x->dtype))
        return pf_graph_fail(g, PF_ERR_SHAPE, "%s: '%s' has dtype %s, expected a float type", op, x->name,
                             pf_dtype_name(x->dtype));
    return x;
}

pf_tensor *pf_copy(pf_graph *g, pf_tensor *x) {
    if (!pf_ok_srcs(g, 1, x)) return NULL;
    pf_tensor *t = pf_new(g, PF_OP_CPY, x->dtype, x->ndim, x->ne);
    if (t) t->src[0] = x;
    return t;
}

pf_tensor *pf_cast(pf_graph *g, pf_tensor *x, pf_dtype dt) {
    if (!pf_ok_srcs(g, 1, x)) return NULL;
    if (x->dtype == dt) return x;
    pf_tensor *t = pf_new(g, PF_OP_CPY, dt, x->ndim, x->ne);
    if (t) t->src[0] = x;
    return t;
}

pf_tensor *pf_concat(pf_graph *g, pf_tensor **xs, int n, int dim) {
    if (!g || g->status != PF_OK) return NULL;
    if (n < 1) return pf_graph_fail(g, PF_ERR_INVALID_ARG, "concat of %d tensors", n);
    for (int i = 0; i < n; i++)
        if (!xs[i]) return pf_graph_fail(g, PF_ERR_INVALID_ARG, "concat: NULL input %d", i);
    if (n == 1) return xs[0];
    if (n > PF_MAX_SRC) { /* chain */
        pf_tensor *head = pf_concat(g, xs, PF_MAX_SRC, dim);
        pf_tensor *rest[PF_MAX_SRC];
        rest[0] = head;
        int done = PF_MAX_SRC;
        while (done < n && head) {
            int k = PF_MIN(PF_MAX_SRC - 1, n - done);
            for (int i = 0; i < k; i++) rest[1 + i] = xs[done + i];
            head = pf_concat(g, rest, 1 + k, dim);
            rest[0] = head;
            done += k;
        }
        return head;
    }
    pf_tensor *x0 = xs[0];
    if (dim < 0) dim += x0->ndim;
    if (dim < 0 || dim >= x0->ndim) return pf_graph_fail(g, PF_ERR_INVALID_ARG, "concat: bad dim %d", dim);
    int64_t ne[PF_MAX_DIMS];
    for (int i = 0; i < x0->ndim; i++) ne[i] = x0->ne[i];
    ne[dim] = 0;
    for (int k = 0; k < n; k++) {
        pf_tensor *x = xs[k];
        if (x->ndim != x0->ndim || x->dtype != x0->dtype)
            return pf_graph_fail(g, PF_ERR_SHAPE, "concat: '%s' and '%s' differ in rank or dtype", x0->name, x->name);
        for (int i = 0; i < x0->ndim; i++)
            if (i != dim && x->ne[i] != x0->ne[i]) {
                char b1[96], b2[96];
                return pf_graph_fail(g, PF_ERR_SHAPE, "concat along %d: '%s' %s vs '%s' %s", dim, x0->name,
                                     pf_shape_str(x0, b1, sizeof b1), x->name, pf_shape_str(x, b2, sizeof b2));
            }
        ne[dim] += x->ne[dim];
    }
    pf_tensor *t = pf_new(g, PF_OP_CONCAT, x0->dtype, x0->ndim, ne);
    if (!t) return NULL;
    for (int k = 0; k < n; k++) t->src[k] = xs[k];
    t->ip[0] = dim;
    t->ip[1] = n;
    return t;
}

/* Broadcast b to a's rank (prepending 1s) and check compatibility. */
static pf_tensor *pf_broadcast_src(pf_graph *g, pf_tensor *a, pf_tensor *b, const char *op) {
    if (b->ndim > a->ndim) goto bad;
    int off = a->ndim - b->ndim;
    for (int i = 0; i < b->ndim; i++)
        if (b->ne[i] != 1 && b->ne[i] != a->ne[off + i]) goto bad;
    if (off == 0) return b;
    int64_t ne[PF_MAX_DIMS], st[PF_MAX_DIMS];
    for (int i = 0; i < a->ndim; i++) {
        ne[i] = i < off ? 1 : b->ne[i - off];
        st[i] = i < off ? 0 : b->st[i - off];
    }
    return pf_make_view(g, b, a->ndim, ne, st, 0);
bad:;
    char b1[96], b2[96];
    return pf_graph_fail(g, PF_ERR_SHAPE, "%s: '%s' %s does not broadcast to '%s' %s", op, b->name,
                         pf_shape_str(b, b1, sizeof b1), a->name, pf_shape_str(a, b2, sizeof b2));
}

static pf_tensor *pf_binary(pf_graph *g, pf_op op, pf_tensor *a, pf_tensor *b) {
    if (!pf_ok_srcs(g, 2, a, b)) return NULL;
    if (!pf_need_float(g, a, pf_op_name(op)) || !pf_need_float(g, b, pf_op_name(op))) return NULL;
    b = pf_broadcast_src(g, a, b, pf_op_name(op));
    if (!b) return NULL;
    pf_tensor *t = pf_new(g, op, a->dtype, a->ndim, a->ne);
    if (!t) return NULL;
    t->src[0] = a;
    t->src[1] = b;
    return t;
}

pf_tensor *pf_add(pf_graph *g, pf_tensor *a, pf_tensor *b) { return pf_binary(g, PF_OP_ADD, a, b); }
pf_tensor *pf_sub(pf_graph *g, pf_tensor *a, pf_tensor *b) { return pf_binary(g, PF_OP_SUB, a, b); }
pf_tensor *pf_mul(pf_graph *g, pf_tensor *a, pf_tensor *b) { return pf_binary(g, PF_OP_MUL, a, b); }

pf_tensor *pf_scale(pf_graph *g, pf_tensor *x, float mul, float add) {
    if (!pf_ok_srcs(g, 1, x) || !pf_need_float(g, x, "scale")) return NULL;
    x = pf_cont(g, x);
    pf_tensor *t = pf_new(g, PF_OP_SCALE, x ? x->dtype : PF_F32, x ? x->ndim : 0, x ? x->ne : NULL);
    if (!t) return NULL;
    t->src[0] = x;
    t->fp[0] = mul;
    t->fp[1] = add;
    return t;
}

pf_tensor *pf_unary_op(pf_graph *g, pf_tensor *x, pf_unary f) {
    if (!pf_ok_srcs(g, 1, x) || !pf_need_float(g, x, "unary")) return NULL;
    if ((unsigned)f >= PF_UNARY_COUNT) return pf_graph_fail(g, PF_ERR_INVALID_ARG, "unknown unary function %d", f);
    x = pf_cont(g, x);
    if (!x) return NULL;
    pf_tensor *t = pf_new(g, PF_OP_UNARY, x->dtype, x->ndim, x->ne);
    if (!t) return NULL;
    t->src[0] = x;
    t->ip[0] = f;
    return t;
}

pf_tensor *pf_silu(pf_graph *g, pf_tensor *x) { return pf_unary_op(g, x, PF_UNARY_SILU); }
pf_tensor *pf_gelu_tanh(pf_graph *g, pf_tensor *x) { return pf_unary_op(g, x, PF_UNARY_GELU_TANH); }

pf_tensor *pf_linear(pf_graph *g, pf_tensor *x, pf_tensor *w, pf_tensor *bias) {
    if (!pf_ok_srcs(g, 2, x, w)) return NULL;
    if (!pf_need_float(g, x, "linear") || !pf_need_float(g, w, "linear")) return NULL;
    char b1[96], b2[96];
    if (w->ndim != 2 || x->ndim < 1 || x->ne[x->ndim - 1] != w->ne[1])
        return pf_graph_fail(g, PF_ERR_SHAPE, "linear: input '%s' %s does not match weight '%s' %s", x->name,
                             pf_shape_str(x, b1, sizeof b1), w->name, pf_shape_str(w, b2, sizeof b2));
    if (bias && (bias->ndim != 1 || bias->ne[0] != w->ne[0]))
        return pf_graph_fail(g, PF_ERR_SHAPE, "linear: bias '%s' %s does not match weight '%s' %s", bias->name,
                             pf_shape_str(bias, b1, sizeof b1), w->name, pf_shape_str(w, b2, sizeof b2));
    x = pf_cont(g, x);
    w = pf_cont(g, w);
    if (!x || !w) return NULL;
    int64_t ne[PF_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) ne[i] = x->ne[i];
    ne[x->ndim - 1] = w->ne[0];
    pf_tensor *t = pf_new(g, PF_OP_LINEAR, x->dtype, x->ndim, ne);
    if (!t) return NULL;
    t->src[0] = x;
    t->src[1] = w;
    t->src[2] = bias;
    return t;
}

pf_tensor *pf_matmul(pf_graph *g, pf_tensor *a, pf_tensor *b, bool trans_b, float alpha) {
    if (!pf_ok_srcs(g, 2, a, b)) return NULL;
    if (!pf_need_float(g, a, "matmul") || !pf_need_float(g, b, "matmul")) return NULL;
    char b1[96], b2[96];
    if (a->ndim < 2 || a->ndim > 3 || b->ndim < 2 || b->ndim > 3) goto bad;
    int64_t Ba = a->ndim == 3 ? a->ne[0] : 1, M = a->ne[a->ndim - 2], K = a->ne[a->ndim - 1];
    int64_t Bb = b->ndim == 3 ? b->ne[0] : 1;
    int64_t bK = trans_b ? b->ne[b->ndim - 1] : b->ne[b->ndim - 2];
    int64_t N = trans_b ? b->ne[b->ndim - 2] : b->ne[b->ndim - 1];
    if (bK != K || (Bb != Ba && Bb != 1)) goto bad;
    a = pf_cont(g, a);
    b = pf_cont(g, b);
    if (!a || !b) return NULL;
    int64_t ne[3] = {Ba, M, N};
    pf_tensor *t = a->ndim == 3 ? pf_new(g, PF_OP_MATMUL, a->dtype, 3, ne) : pf_new(g, PF_OP_MATMUL, a->dtype, 2, ne + 1);
    if (!t) return NULL;
    t->src[0] = a;
    t->src[1] = b;
    t->ip[0] = trans_b;
    t->fp[0] = alpha;
    return t;
bad:
    return pf_graph_fail(g, PF_ERR_SHAPE, "matmul%s: '%s' %s x '%s' %s", trans_b ? " (B transposed)" : "", a->name,
                         pf_shape_str(a, b1, sizeof b1), b->name, pf_shape_str(b, b2, sizeof b2));
}

static pf_tensor *pf_check_vec(pf_graph *g, pf_tensor *v, int64_t n, const char *op, const char *what) {
    if (!v) return NULL;
    if (v->ndim != 1 || v->ne[0] != n) {
        char b[96];
        return pf_graph_fail(g, PF_ERR_SHAPE, "%s: %s '%s' %s, expected [%lld]", op, what, v->name,
                             pf_shape_str(v, b, sizeof b), (long long)n);
    }
    return v;
}

static pf_tensor *pf_row_norm(pf_graph *g, pf_op op, pf_tensor *x, pf_tensor *w, pf_tensor *b, float eps) {
    if (!pf_ok_srcs(g, 1, x) || !pf_need_float(g, x, pf_op_name(op))) return NULL;
    int64_t D = x->ne[x->ndim - 1];
    if ((w && !pf_check_vec(g, w, D, pf_op_name(op), "weight")) || (b && !pf_check_vec(g, b, D, pf_op_name(op), "bias")))
        return NULL;
    x = pf_cont(g, x);
    if (!x) return NULL;
    pf_tensor *t = pf_new(g, op, x->dtype, x->ndim, x->ne);
    if (!t) return NULL;
    t->src[0] = x;
    t->src[1] = w;
    t->src[2] = b;
    t->fp[0] = eps;
    return t;
}

pf_tensor *pf_layer_norm(pf_graph *g, pf_tensor *x, pf_tensor *w, pf_tensor *b, float eps) {
    return pf_row_norm(g, PF_OP_LAYER_NORM, x, w, b, eps);
}

pf_tensor *pf_rms_norm(pf_graph *g, pf_tensor *x, pf_tensor *w, float eps) {
    return pf_row_norm(g, PF_OP_RMS_NORM, x, w, NULL, eps);
}

pf_tensor *pf_group_norm(pf_graph *g, pf_tensor *x, pf_tensor *w, pf_tensor *b, int groups, float eps, bool fuse_silu) {
    if (!pf_ok_srcs(g, 1, x) || !pf_need_float(g, x, "group_norm")) return NULL;
    if (x->ndim != 5 || groups <= 0 || x->ne[1] % groups != 0) {
        char b1[96];
        return pf_graph_fail(g, PF_ERR_SHAPE, "group_norm: '%s' %s with %d groups (need [B, C, T, H, W], C %% groups == 0)",
                             x->name, pf_shape_str(x, b1, sizeof b1), groups);
    }
    if ((w && !pf_check_vec(g, w, x->ne[1], "group_norm", "weight")) ||
        (b && !pf_check_vec(g, b, x->ne[1], "group_norm", "bias")))
        return NULL;
    x = pf_cont(g, x);
    if (!x) return NULL;
    pf_tensor *t = pf_new(g, PF_OP_GROUP_NORM, x->dtype, x->ndim, x->ne);
    if (!t) return NULL;
    t->src[0] = x;
    t->src[1] = w;
    t->src[2] = b;
    t->ip[0] = groups;
    t->ip[1] = fuse_silu;
    t->fp[0] = eps;
    return t;
}

pf_tensor *pf_softmax(pf_graph *g, pf_tensor *x, float scale) {
    if (!pf_ok_srcs(g, 1, x) || !pf_need_float(g, x, "softmax")) return NULL;
    x = pf_cont(g, x);
    if (!x) return NULL;
    pf_tensor *t = pf_new(g, PF_OP_SOFTMAX, x->dtype, x->ndim, x->ne);
    if (!t) return NULL;
    t->src[0] = x;
    t->fp[0] = scale;
    return t;
}

pf_tensor *pf_attention(pf_graph *g, pf_tensor *q, pf_tensor *k, pf_tensor *v, float scale, pf_mask_mode mode,
                        pf_tensor *q_meta, pf_tensor *k_meta, pf_tensor *bias) {
    if (!pf_ok_srcs(g, 3, q, k, v)) return NULL;
    char b1[96], b2[96], b3[96];
    if (q->ndim != 4 || k->ndim != 4 || v->ndim != 4 || k->ne[0] != q->ne[0] || v->ne[0] != q->ne[0] ||
        k->ne[2] != q->ne[2] || v->ne[2] != q->ne[2] || k->ne[3] != q->ne[3] || v->ne[1] != k->ne[1])
        return pf_graph_fail(g, PF_ERR_SHAPE, "attention: q %s, k %s, v %s (need [B, N, H, D])",
                             pf_shape_str(q, b1, sizeof b1), pf_shape_str(k, b2, sizeof b2),
                             pf_shape_str(v, b3, sizeof b3));
    if (!pf_need_float(g, q, "attention") || !pf_need_float(g, k, "attention") || !pf_need_float(g, v, "attention"))
        return NULL;
    int64_t B = q->ne[0], Nq = q->ne[1], H = q->ne[2], Nk = k->ne[1];
    if (mode == PF_MASK_CAUSAL && Nq != Nk)
        return pf_graph_fail(g, PF_ERR_SHAPE, "attention: causal mask needs Nq == Nk (%lld, %lld)", (long long)Nq,
                             (long long)Nk);
    if (mode == PF_MASK_FRAME &&
        (!q_meta || q_meta->dtype != PF_I32 || q_meta->ndim != 2 || q_meta->ne[0] != B || q_meta->ne[1] != Nq))
        return pf_graph_fail(g, PF_ERR_SHAPE, "attention: frame mask needs q_meta i32 [%lld, %lld]", (long long)B,
                             (long long)Nq);
    if ((mode == PF_MASK_FRAME || mode == PF_MASK_KEY) &&
        (!k_meta || k_meta->dtype != PF_I32 || k_meta->ndim != 2 || k_meta->ne[0] != B || k_meta->ne[1] != Nk))
        return pf_graph_fail(g, PF_ERR_SHAPE, "attention: mask needs k_meta i32 [%lld, %lld]", (long long)B,
                             (long long)Nk);
    if (bias && (bias->dtype != PF_F32 || bias->ndim != 3 || bias->ne[0] != H || bias->ne[1] != Nq || bias->ne[2] != Nk))
        return pf_graph_fail(g, PF_ERR_SHAPE, "attention: bias %s, expected f32 [%lld, %lld, %lld]",
                             pf_shape_str(bias, b1, sizeof b1), (long long)H, (long long)Nq, (long long)Nk);
    q = pf_cont(g, q);
    k = pf_cont(g, k);
    v = pf_cont(g, v);
    if (q_meta) q_meta = pf_cont(g, q_meta);
    if (k_meta) k_meta = pf_cont(g, k_meta);
    if (bias) bias = pf_cont(g, bias);
    if (!q || !k || !v) return NULL;
    int64_t ne[4] = {B, Nq, H, v->ne[3]};
    pf_tensor *t = pf_new(g, PF_OP_ATTENTION, q->dtype, 4, ne);
    if (!t) return NULL;
    t->src[0] = q;
    t->src[1] = k;
    t->src[2] = v;
    t->src[3] = mode == PF_MASK_FRAME ? q_meta : NULL;
    t->src[4] = (mode == PF_MASK_FRAME || mode == PF_MASK_KEY) ? k_meta : NULL;
    t->src[5] = bias;
    t->ip[0] = mode;
    t->fp[0] = scale;
    return t;
}

pf_tensor *pf_rope(pf_graph *g, pf_tensor *x, pf_tensor *table) {
    if (!pf_ok_srcs(g, 2, x, table) || !pf_need_float(g, x, "rope")) return NULL;
    char b1[96], b2[96];
    if (x->ndim != 4 || x->ne[3] % 2 || table->dtype != PF_F32 || table->ndim != 3 || table->ne[0] != x->ne[1] ||
        table->ne[1] != x->ne[3] / 2 || table->ne[2] != 2)
        return pf_graph_fail(g, PF_ERR_SHAPE, "rope: x %s with table %s (need [B, N, H, D] and f32 [N, D/2, 2])",
                             pf_shape_str(x, b1, sizeof b1), pf_shape_str(table, b2, sizeof b2));
    x = pf_cont(g, x);
    table = pf_cont(g, table);
    if (!x || !table) return NULL;
    pf_tensor *t = pf_new(g, PF_OP_ROPE, x->dtype, x->ndim, x->ne);
    if (!t) return NULL;
    t->src[0] = x;
    t->src[1] = table;
    return t;
}

static pf_tensor *pf_ternary(pf_graph *g, pf_op op, pf_tensor *x, pf_tensor *a, pf_tensor *b) {
    if (!pf_ok_srcs(g, 3, x, a, b)) return NULL;
    if (!pf_need_float(g, x, pf_op_name(op)) || !pf_need_float(g, a, pf_op_name(op)) ||
        !pf_need_float(g, b, pf_op_name(op)))
        return NULL;
    a = pf_broadcast_src(g, x, a, pf_op_name(op));
    b = pf_broadcast_src(g, x, b, pf_op_name(op));
    if (!a || !b) return NULL;
    pf_tensor *t = pf_new(g, op, x->dtype, x->ndim, x->ne);
    if (!t) return NULL;
    t->src[0] = x;
    t->src[1] = a;
    t->src[2] = b;
    return t;
}

pf_tensor *pf_modulate(pf_graph *g, pf_tensor *x, pf_tensor *shift, pf_tensor *scale) {
    return pf_ternary(g, PF_OP_MODULATE, x, shift, scale);
}

pf_tensor *pf_gated_add(pf_graph *g, pf_tensor *x, pf_tensor *gate, pf_tensor *y) {
    if (!pf_ok_srcs(g, 3, x, gate, y)) return NULL;
    if (!pf_same_shape(x, y)) {
        char b1[96], b2[96];
        return pf_graph_fail(g, PF_ERR_SHAPE, "gated_add: x %s and y %s differ", pf_shape_str(x, b1, sizeof b1),
                             pf_shape_str(y, b2, sizeof b2));
    }
    return pf_ternary(g, PF_OP_GATED_ADD, x, gate, y);
}

pf_tensor *pf_conv3d(pf_graph *g, pf_tensor *x, pf_tensor *w, pf_tensor *bias, pf_tensor *front, int pad_t, int pad_h,
                     int pad_w, int st, int sh, int sw) {
    if (!pf_ok_srcs(g, 2, x, w)) return NULL;
    char b1[96], b2[96];
    if (!pf_need_float(g, x, "conv3d") || !pf_need_float(g, w, "conv3d")) return NULL;
    if (x->ndim != 5 || w->ndim != 5 || w->ne[1] != x->ne[1] || st < 1 || sh < 1 || sw < 1 || pad_t < 0 || pad_h < 0 ||
        pad_w < 0)
        return pf_graph_fail(g, PF_ERR_SHAPE, "conv3d: input '%s' %s does not match weight '%s' %s", x->name,
                             pf_shape_str(x, b1, sizeof b1), w->name, pf_shape_str(w, b2, sizeof b2));
    if (bias && !pf_check_vec(g, bias, w->ne[0], "conv3d", "bias")) return NULL;
    if (front && (front->ndim != 5 || front->ne[0] != x->ne[0] || front->ne[1] != x->ne[1] || front->ne[2] != pad_t ||
                  front->ne[3] != x->ne[3] || front->ne[4] != x->ne[4] || front->dtype != x->dtype))
        return pf_graph_fail(g, PF_ERR_SHAPE, "conv3d: cache '%s' %s does not match input %s with %d front frames",
                             front->name, pf_shape_str(front, b1, sizeof b1), pf_shape_str(x, b2, sizeof b2), pad_t);
    int64_t To = (x->ne[2] + pad_t - w->ne[2]), Ho = (x->ne[3] + 2 * pad_h - w->ne[3]), Wo = (x->ne[4] + 2 * pad_w - w->ne[4]);
    if (To < 0 || Ho < 0 || Wo < 0)
        return pf_graph_fail(g, PF_ERR_SHAPE, "conv3d: input %s too small for kernel %s", pf_shape_str(x, b1, sizeof b1),
                             pf_shape_str(w, b2, sizeof b2));
    x = pf_cont(g, x);
    w = pf_cont(g, w);
    if (front) front = pf_cont(g, front);
    if (!x || !w) return NULL;
    int64_t ne[5] = {x->ne[0], w->ne[0], To / st + 1, Ho / sh + 1, Wo / sw + 1};
    pf_tensor *t = pf_new(g, PF_OP_CONV3D, x->dtype, 5, ne);
    if (!t) return NULL;
    t->src[0] = x;
    t->src[1] = w;
    t->src[2] = bias;
    t->src[3] = front;
    t->ip[0] = pad_t;
    t->ip[1] = pad_h;
    t->ip[2] = pad_w;
    t->ip[3] = st;
    t->ip[4] = sh;
    t->ip[5] = sw;
    return t;
}

pf_tensor *pf_depth_to_space(pf_graph *g, pf_tensor *x, pf_d2s_mode mode, bool drop_first) {
    if (!pf_ok_srcs(g, 1, x)) return NULL;
    char b1[96];
    int f = mode == PF_D2S_SPACE ? 4 : 2;
    if (x->ndim != 5 || x->ne[1] % f || (mode == PF_D2S_SPACE && drop_first))
        return pf_graph_fail(g, PF_ERR_SHAPE, "depth_to_space: '%s' %s (channels must divide by %d)", x->name,
                             pf_shape_str(x, b1, sizeof b1), f);
    x = pf_cont(g, x);
    if (!x) return NULL;
    int64_t ne[5] = {x->ne[0], x->ne[1] / f, x->ne[2], x->ne[3], x->ne[4]};
    if (mode == PF_D2S_SPACE) {
        ne[3] *= 2;
        ne[4] *= 2;
    } else {
        ne[2] = 2 * ne[2] - (drop_first ? 1 : 0);
    }
    pf_tensor *t = pf_new(g, PF_OP_DEPTH_TO_SPACE, x->dtype, 5, ne);
    if (!t) return NULL;
    t->src[0] = x;
    t->ip[0] = mode;
    t->ip[1] = drop_first;
    return t;
}

pf_tensor *pf_upsample2x(pf_graph *g, pf_tensor *x) {
    if (!pf_ok_srcs(g, 1, x)) return NULL;
    if (x->ndim < 2) return pf_graph_fail(g, PF_ERR_SHAPE, "upsample2x: '%s' needs 2+ dims", x->name);
    x = pf_cont(g, x);
    if (!x) return NULL;
    int64_t ne[PF_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) ne[i] = x->ne[i];
    ne[x->ndim - 1] *= 2;
    ne[x->ndim - 2] *= 2;
    pf_tensor *t = pf_new(g, PF_OP_UPSAMPLE2X, x->dtype, x->ndim, ne);
    if (t) t->src[0] = x;
    return t;
}

pf_tensor *pf_downsample2x(pf_graph *g, pf_tensor *x, float mul) {
    if (!pf_ok_srcs(g, 1, x)) return NULL;
    char b1[96];
    if (x->ndim < 2 || x->ne[x->ndim - 1] % 2 || x->ne[x->ndim - 2] % 2)
        return pf_graph_fail(g, PF_ERR_SHAPE, "downsample2x: '%s' %s needs even height and width", x->name,
                             pf_shape_str(x, b1, sizeof b1));
    x = pf_cont(g, x);
    if (!x) return NULL;
    int64_t ne[PF_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) ne[i] = x->ne[i];
    ne[x->ndim - 1] /= 2;
    ne[x->ndim - 2] /= 2;
    pf_tensor *t = pf_new(g, PF_OP_DOWNSAMPLE2X, x->dtype, x->ndim, ne);
    if (!t) return NULL;
    t->src[0] = x;
    t->fp[0] = mul;
    return t;
}

pf_tensor *pf_embedding(pf_graph *g, pf_tensor *table, pf_tensor *ids) {
    if (!pf_ok_srcs(g, 2, table, ids)) return NULL;
    char b1[96], b2[96];
    if (table->ndim != 2 || (ids->dtype != PF_I32 && ids->dtype != PF_I64) || ids->ndim >= PF_MAX_DIMS)
        return pf_graph_fail(g, PF_ERR_SHAPE, "embedding: table '%s' %s with ids '%s' %s %s", table->name,
                             pf_shape_str(table, b1, sizeof b1), ids->name, pf_shape_str(ids, b2, sizeof b2),
                             pf_dtype_name(ids->dtype));
    table = pf_cont(g, table);
    ids = pf_cont(g, ids);
    if (!table || !ids) return NULL;
    int64_t ne[PF_MAX_DIMS];
    for (int i = 0; i < ids->ndim; i++) ne[i] = ids->ne[i];
    ne[ids->ndim] = table->ne[1];
    pf_tensor *t = pf_new(g, PF_OP_EMBEDDING, table->dtype, ids->ndim + 1, ne);
    if (!t) return NULL;
    t->src[0] = table;
    t->src[1] = ids;
    return t;
}

/* ---------------------------------------------------------------- metadata */

bool pf_op_can_inplace(const pf_tensor *n) {
    const pf_tensor *s = n->src[0];
    if (!s || s->dtype != n->dtype || !pf_is_contiguous(s) || pf_nelem(s) != pf_nelem(n)) return false;
    switch (n->op) {
    case PF_OP_ADD:
    case PF_OP_SUB:
    case PF_OP_MUL:
    case PF_OP_SCALE:
    case PF_OP_UNARY:
    case PF_OP_LAYER_NORM:
    case PF_OP_RMS_NORM:
    case PF_OP_GROUP_NORM:
    case PF_OP_SOFTMAX:
    case PF_OP_ROPE:
    case PF_OP_MODULATE:
    case PF_OP_GATED_ADD:
        return true;
    default:
        return false;
    }
}

double pf_node_flops(const pf_tensor *n) {
    switch (n->op) {
    case PF_OP_LINEAR: {
        double rows = (double)pf_nelem(n) / (double)n->ne[n->ndim - 1];
        return 2.0 * rows * (double)n->src[1]->ne[0] * (double)n->src[1]->ne[1];
    }
    case PF_OP_MATMUL: {
        const pf_tensor *a = n->src[0];
        return 2.0 * (double)pf_nelem(n) * (double)a->ne[a->ndim - 1];
    }
    case PF_OP_ATTENTION: {
        const pf_tensor *q = n->src[0], *k = n->src[1], *v = n->src[2];
        return 2.0 * (double)q->ne[0] * (double)q->ne[2] * (double)q->ne[1] * (double)k->ne[1] *
               (double)(q->ne[3] + v->ne[3]);
    }
    case PF_OP_CONV3D: {
        const pf_tensor *w = n->src[1];
        return 2.0 * (double)pf_nelem(n) * (double)(w->ne[1] * w->ne[2] * w->ne[3] * w->ne[4]);
    }
    case PF_OP_NONE:
    case PF_OP_VIEW:
        return 0.0;
    default:
        return (double)pf_nelem(n);
    }
}

double pf_graph_flops(const pf_graph *g) {
    double f = 0.0;
    for (int i = 0; g && i < g->n_nodes; i++) f += pf_node_flops(g->nodes[i]);
    return f;
}
