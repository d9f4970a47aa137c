/*
 * The element-wise family on shaders/elementwise.comp: cpy (casts, strided gathers),
 * concat (one strided copy per piece into its slice of the output), add/sub/mul with
 * broadcasting, scale, unary, modulate, gated_add.
 *
 * Each node becomes an iteration shape plus (offset, strides) per operand. Unit dims
 * are dropped and neighbouring dims merged where every operand is contiguous across
 * them, which leaves at most 4 dims for all the model's shapes; anything still deeper
 * is split into one dispatch per outer index.
 */
#include "vk_ops.h"

bool pf_vk_is_float(pf_dtype t) { return t == PF_F32 || t == PF_BF16 || t == PF_F16; }

bool pf_vk_check_sizes(const pf_tensor *n, char *why, size_t len) {
    for (int s = -1; s < PF_MAX_SRC; s++) {
        const pf_tensor *t = s < 0 ? n : n->src[s];
        if (!t) continue;
        if (pf_nelem(t) > (int64_t)UINT32_MAX) {
            snprintf(why, len, "'%s' has %lld elements; the shaders index with 32 bits", t->name, (long long)pf_nelem(t));
            return false;
        }
    }
    return true;
}

bool pf_vk_check_loops(const pf_vk_ctx *c, double iterations, char *why, size_t len) {
    if (c->loop_limit <= 0 || 2.0 * iterations <= (double)c->loop_limit) return true;
    snprintf(why, len, "about %.0f loop iterations per shader invocation; this driver stops loops after %ld", iterations,
             c->loop_limit);
    return false;
}

bool pf_vk_check_float_srcs(const pf_tensor *n, int n_src, char *why, size_t len) {
    if (!pf_vk_is_float(n->dtype)) {
        snprintf(why, len, "output dtype %s (f32, bf16, f16 only)", pf_dtype_name(n->dtype));
        return false;
    }
    for (int s = 0; s < n_src; s++)
        if (n->src[s] && !pf_vk_is_float(n->src[s]->dtype)) {
            snprintf(why, len, "input %d '%s' has dtype %s (f32, bf16, f16 only)", s, n->src[s]->name,
                     pf_dtype_name(n->src[s]->dtype));
            return false;
        }
    return true;
}

/* ---------------------------------------------------------------- iteration */

#define EW_OPS 4

typedef struct pf_vk_ew {
    int ndim;
    int64_t ne[PF_MAX_DIMS];
    int n_ops;
    const pf_tensor *t[EW_OPS]; /* dst, a, b, c */
    int64_t off[EW_OPS];        /* element offsets */
    int64_t st[EW_OPS][PF_MAX_DIMS];
} pf_vk_ew;

static void ew_init(pf_vk_ew *e, const pf_tensor *shape) {
    memset(e, 0, sizeof *e);
    e->ndim = shape->ndim;
    for (int i = 0; i < shape->ndim; i++) e->ne[i] = shape->ne[i];
}

/* Operand with its own strides, broadcast (stride 0) where its size is 1; ranks align right. */
static void ew_operand(pf_vk_ew *e, const pf_tensor *t) {
    int k = e->n_ops++;
    e->t[k] = t;
    e->off[k] = pf_vk_elem_off(t);
    int shift = e->ndim - t->ndim;
    for (int i = 0; i < e->ndim; i++) {
        int j = i - shift;
        e->st[k][i] = (j < 0 || t->ne[j] == 1) ? 0 : t->st[j];
    }
}

static void ew_collapse(pf_vk_ew *e) {
    int64_t ne[PF_MAX_DIMS], st[EW_OPS][PF_MAX_DIMS];
    int m = 0; /* innermost first */
    for (int i = e->ndim - 1; i >= 0; i--) {
        if (e->ne[i] == 1) continue;
        if (m > 0) {
            bool merge = true;
            for (int o = 0; o < e->n_ops; o++)
                if (e->st[o][i] != st[o][m - 1] * ne[m - 1]) merge = false;
            if (merge) {
                ne[m - 1] *= e->ne[i];
                continue;
            }
        }
        ne[m] = e->ne[i];
        for (int o = 0; o < e->n_ops; o++) st[o][m] = e->st[o][i];
        m++;
    }
    if (m == 0) { /* a single element */
        ne[0] = 1;
        for (int o = 0; o < e->n_ops; o++) st[o][0] = 0;
        m = 1;
    }
    e->ndim = m;
    for (int i = 0; i < m; i++) {
        e->ne[i] = ne[m - 1 - i];
        for (int o = 0; o < e->n_ops; o++) e->st[o][i] = st[o][m - 1 - i];
    }
}

static pf_status ew_run(pf_vk_ctx *c, pf_vk_ew *e, int op, int fn, uint32_t td, float p0, float p1) {
    ew_collapse(e);
    int outer = e->ndim > 4 ? e->ndim - 4 : 0;
    int64_t n_outer = 1;
    for (int i = 0; i < outer; i++) n_outer *= e->ne[i];
    pf_vk_dispatch_desc d = {.key = {.shader = PF_VK_SH_ELEMENTWISE, .n_spec = 6}, .write_mask = 1u};
    d.key.spec[0] = (uint32_t)op;
    d.key.spec[1] = (uint32_t)fn;
    d.key.spec[2] = td;
    for (int o = 1; o < e->n_ops; o++) d.key.spec[2 + o] = (uint32_t)e->t[o]->dtype;
    for (int o = 0; o < e->n_ops; o++) d.bind[o] = e->t[o];
    pf_vk_pc_elementwise pc = {.p0 = p0, .p1 = p1};
    uint64_t n = 1;
    for (int i = 0; i < 4; i++) {
        int dim = e->ndim - 4 + i; /* pad on the left with unit dims */
        pc.ne[i] = dim >= outer ? (uint32_t)e->ne[dim] : 1u;
        /* modulo 2^32: the shader's uint arithmetic wraps, so negative strides work */
        for (int o = 0; o < e->n_ops; o++) pc.st[o][i] = dim >= outer ? (uint32_t)e->st[o][dim] : 0u;
        if (dim >= outer) n *= (uint64_t)e->ne[dim];
    }
    pc.n = (uint32_t)n;
    PF_TRY(pf_vk_groups_1d(c, (n + 255) / 256, d.groups));
    d.push = &pc;
    d.push_size = sizeof pc;
    int64_t idx[PF_MAX_DIMS] = {0};
    for (int64_t k = 0; k < n_outer; k++) {
        for (int o = 0; o < e->n_ops; o++) {
            int64_t off = e->off[o];
            for (int i = 0; i < outer; i++) off += idx[i] * e->st[o][i];
            pc.off[o] = (uint32_t)off;
        }
        PF_TRY(pf_vk_dispatch(c, &d));
        for (int i = outer - 1; i >= 0; i--) {
            if (++idx[i] < e->ne[i]) break;
            idx[i] = 0;
        }
    }
    return PF_OK;
}

/* ---------------------------------------------------------------- cpy / concat */

static bool pf_vk_convertible(pf_dtype t) { return pf_vk_is_float(t) || t == PF_I32; }

static bool cpy_check(pf_vk_ctx *c, const pf_tensor *n, char *why, size_t len) {
    (void)c;
    pf_dtype s = n->src[0]->dtype, d = n->dtype;
    size_t es = pf_dtype_size(d);
    if (s == d && (es == 2 || es == 4 || es == 8)) return pf_vk_check_sizes(n, why, len);
    if (pf_vk_convertible(s) && pf_vk_convertible(d)) return pf_vk_check_sizes(n, why, len);
    snprintf(why, len, "cast %s -> %s (conversions among f32, bf16, f16, i32; same-dtype copies of 2/4/8-byte types)",
             pf_dtype_name(s), pf_dtype_name(d));
    return false;
}

static pf_status cpy_record(pf_vk_ctx *c, const pf_tensor *n) {
    pf_vk_ew e;
    ew_init(&e, n);
    ew_operand(&e, n);
    ew_operand(&e, n->src[0]);
    if (n->src[0]->dtype == n->dtype) return ew_run(c, &e, PF_VK_EW_BITCOPY, 0, (uint32_t)pf_dtype_size(n->dtype), 0, 0);
    return ew_run(c, &e, PF_VK_EW_CONVERT, 0, (uint32_t)n->dtype, 0, 0);
}

static bool concat_check(pf_vk_ctx *c, const pf_tensor *n, char *why, size_t len) {
    (void)c;
    size_t es = pf_dtype_size(n->dtype);
    if (es != 2 && es != 4 && es != 8) {
        snprintf(why, len, "concat of %s (2/4/8-byte dtypes only)", pf_dtype_name(n->dtype));
        return false;
    }
    return pf_vk_check_sizes(n, why, len);
}

static pf_status concat_record(pf_vk_ctx *c, const pf_tensor *n) {
    int dim = n->ip[0], cnt = n->ip[1];
    int64_t base = 0;
    for (int k = 0; k < cnt; k++) {
        const pf_tensor *s = n->src[k];
        if (pf_nelem(s) > 0) {
            /* iterate over the piece; the output operand is the slice it lands in */
            pf_vk_ew e;
            ew_init(&e, s);
            e.t[0] = n;
            e.off[0] = pf_vk_elem_off(n) + base * n->st[dim];
            for (int i = 0; i < e.ndim; i++) e.st[0][i] = s->ne[i] == 1 ? 0 : n->st[i];
            e.n_ops = 1;
            ew_operand(&e, s);
            PF_TRY(ew_run(c, &e, PF_VK_EW_BITCOPY, 0, (uint32_t)pf_dtype_size(n->dtype), 0, 0));
        }
        base += s->ne[dim];
    }
    return PF_OK;
}

/* ---------------------------------------------------------------- arithmetic */

static bool float_check(pf_vk_ctx *c, const pf_tensor *n, char *why, size_t len) {
    (void)c;
    return pf_vk_check_float_srcs(n, PF_MAX_SRC, why, len) && pf_vk_check_sizes(n, why, len);
}

static pf_status binary_record(pf_vk_ctx *c, const pf_tensor *n) {
    pf_vk_ew e;
    ew_init(&e, n);
    ew_operand(&e, n);
    ew_operand(&e, n->src[0]);
    ew_operand(&e, n->src[1]);
    int op = n->op == PF_OP_ADD ? PF_VK_EW_ADD : n->op == PF_OP_SUB ? PF_VK_EW_SUB : PF_VK_EW_MUL;
    return ew_run(c, &e, op, 0, (uint32_t)n->dtype, 0, 0);
}

static pf_status scale_record(pf_vk_ctx *c, const pf_tensor *n) {
    pf_vk_ew e;
    ew_init(&e, n);
    ew_operand(&e, n);
    ew_operand(&e, n->src[0]);
    return ew_run(c, &e, PF_VK_EW_SCALE, 0, (uint32_t)n->dtype, n->fp[0], n->fp[1]);
}

static bool unary_check(pf_vk_ctx *c, const pf_tensor *n, char *why, size_t len) {
    if ((unsigned)n->ip[0] >= PF_UNARY_COUNT) {
        snprintf(why, len, "unknown unary function %d", n->ip[0]);
        return false;
    }
    return float_check(c, n, why, len);
}

static pf_status unary_record(pf_vk_ctx *c, const pf_tensor *n) {
    pf_vk_ew e;
    ew_init(&e, n);
    ew_operand(&e, n);
    ew_operand(&e, n->src[0]);
    return ew_run(c, &e, PF_VK_EW_UNARY, n->ip[0], (uint32_t)n->dtype, 0, 0);
}

static pf_status ternary_record(pf_vk_ctx *c, const pf_tensor *n) {
    pf_vk_ew e;
    ew_init(&e, n);
    ew_operand(&e, n);
    for (int s = 0; s < 3; s++) ew_operand(&e, n->src[s]);
    return ew_run(c, &e, n->op == PF_OP_MODULATE ? PF_VK_EW_MODULATE : PF_VK_EW_GATED_ADD, 0, (uint32_t)n->dtype, 0, 0);
}

const pf_vk_op pf_vk_op_cpy = {cpy_check, cpy_record};
const pf_vk_op pf_vk_op_concat = {concat_check, concat_record};
const pf_vk_op pf_vk_op_binary = {float_check, binary_record};
const pf_vk_op pf_vk_op_scale = {float_check, scale_record};
const pf_vk_op pf_vk_op_unary = {unary_check, unary_record};
const pf_vk_op pf_vk_op_modulate = {float_check, ternary_record};
const pf_vk_op pf_vk_op_gated_add = {float_check, ternary_record};
