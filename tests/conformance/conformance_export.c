/*
 * Cases exported from real graphs (the conformance_full method, after ggml's
 * test-backend-ops --test-file): every distinct node signature of a planned graph
 * (op, dtypes, shapes, operand strides, params) becomes a case with the same op,
 * shapes and params and fresh random inputs, so the sweep covers exactly what the
 * models run. Oversized cases get a reduced twin (token / spatial dims cut, channels,
 * heads widths and params kept) so every signature is exercised somewhere.
 */
#include "conformance.h"

#include <math.h>

/* ---------------------------------------------------------------- signatures */

static size_t sig_tensor(char *buf, size_t len, const pf_tensor *t) {
    size_t o = (size_t)snprintf(buf, len, " %s[", pf_dtype_name(t->dtype));
    for (int i = 0; i < t->ndim && o < len; i++) o += (size_t)snprintf(buf + o, len - o, i ? ",%lld" : "%lld", (long long)t->ne[i]);
    if (o < len) o += (size_t)snprintf(buf + o, len - o, "]");
    if (!pf_is_contiguous(t))
        for (int i = 0; i < t->ndim && o < len; i++)
            o += (size_t)snprintf(buf + o, len - o, i ? ",%lld" : "{%lld", (long long)t->st[i]);
    if (!pf_is_contiguous(t) && o < len) o += (size_t)snprintf(buf + o, len - o, "}");
    return o;
}

/* "linear f32[2,4096,1920] <- f32[2,4096,1920] bf16[1920,1920] bf16[1920]" + params */
static void node_sig(const pf_tensor *n, char *buf, size_t len) {
    size_t o = (size_t)snprintf(buf, len, "%s%s%s", pf_op_name(n->op), n->op == PF_OP_UNARY ? ":" : "",
                                n->op == PF_OP_UNARY ? pf_unary_name((pf_unary)n->ip[0]) : "");
    if (o < len) o += sig_tensor(buf + o, len - o, n);
    if (o < len) o += (size_t)snprintf(buf + o, len - o, " <-");
    for (int s = 0; s < PF_MAX_SRC && o < len; s++)
        if (n->src[s]) o += sig_tensor(buf + o, len - o, n->src[s]);
    int li = -1, lf = -1;
    for (int i = 0; i < PF_MAX_IPARAMS; i++)
        if (n->ip[i]) li = i;
    for (int i = 0; i < PF_MAX_FPARAMS; i++)
        if (n->fp[i] != 0.0f) lf = i;
    if (n->op == PF_OP_UNARY) li = -1; /* already in the name */
    for (int i = 0; i <= li && o < len; i++) o += (size_t)snprintf(buf + o, len - o, i ? ",%d" : " ip=%d", n->ip[i]);
    for (int i = 0; i <= lf && o < len; i++) o += (size_t)snprintf(buf + o, len - o, i ? ",%g" : " fp=%g", (double)n->fp[i]);
}

/* ---------------------------------------------------------------- node -> case */

static bool add_input(pf_conf_case *c, const pf_tensor *t, pf_conf_fill fill) {
    if (c->n_in == PF_MAX_SRC) return false;
    pf_conf_input *in = pf_conf_in(c, t->dtype, t->ndim, t->ne, fill);
    if (!pf_is_contiguous(t)) {
        for (int i = 0; i < t->ndim; i++) {
            if (t->st[i] < 0) return false;
            in->vst[i] = t->ne[i] == 1 ? 0 : t->st[i];
        }
        in->strided = 1;
    }
    return true;
}

/* The case builder must give back the node's own output: same dtype and shape. */
static bool case_matches(const pf_conf_case *c, const pf_tensor *n) {
    pf_graph *g = pf_graph_new("check");
    pf_tensor *ins[PF_MAX_SRC] = {0};
    pf_tensor *y = pf_conf_build(g, c, ins);
    bool ok = y && pf_graph_status(g) == PF_OK && y->op == n->op && y->dtype == n->dtype && pf_same_shape(y, n);
    pf_graph_free(g);
    return ok;
}

static bool node_to_case(const pf_tensor *n, pf_conf_case *c) {
    const pf_tensor *const *s = (const pf_tensor *const *)n->src;
    memcpy(c->fp, n->fp, sizeof c->fp);
    switch (n->op) {
    case PF_OP_LAYER_NORM:
        if (!add_input(c, s[0], PF_FILL_RANDN)) return false;
        if (s[1] && !add_input(c, s[1], PF_FILL_RANDN)) return false;
        if (s[2] && !add_input(c, s[2], PF_FILL_RANDN)) return false;
        c->ip[1] = s[1] != NULL;
        c->ip[2] = s[2] != NULL;
        return true;
    case PF_OP_GROUP_NORM:
        if (!s[1] && s[2]) return false; /* the case format has no bias-only group norm */
        memcpy(c->ip, n->ip, sizeof c->ip);
        break;
    case PF_OP_ATTENTION: {
        int mode = n->ip[0];
        for (int i = 0; i < 3; i++)
            if (!add_input(c, s[i], PF_FILL_RANDN)) return false;
        if (mode == PF_MASK_FRAME) {
            for (int i = 3; i < 5; i++) {
                if (!s[i] || !add_input(c, s[i], PF_FILL_FRAME_META)) return false;
                c->in[c->n_in - 1].range = PF_MIN((int64_t)128, s[i]->ne[1] / 3);
                c->in[c->n_in - 1].frames = 3;
            }
        } else if (mode == PF_MASK_KEY) {
            if (!s[4] || !add_input(c, s[4], PF_FILL_KEY_META)) return false;
        }
        if (s[5] && !add_input(c, s[5], PF_FILL_BIAS)) return false;
        c->ip[0] = mode;
        c->ip[1] = s[5] != NULL;
        return true;
    }
    case PF_OP_CONV3D:
        memcpy(c->ip, n->ip, 6 * sizeof(int32_t));
        c->ip[6] = s[2] != NULL;
        c->ip[7] = s[3] != NULL;
        break;
    case PF_OP_CPY:
        c->out_dtype = n->dtype;
        break;
    default:
        memcpy(c->ip, n->ip, sizeof c->ip);
        break;
    }
    for (int i = 0; i < PF_MAX_SRC; i++) {
        if (!s[i]) continue;
        pf_conf_fill f = PF_FILL_RANDN;
        if (n->op == PF_OP_ROPE && i == 1) f = PF_FILL_ROPE;
        if (n->op == PF_OP_EMBEDDING && i == 1) f = PF_FILL_IDS;
        if (!add_input(c, s[i], f)) return false;
        if (f == PF_FILL_IDS) c->in[c->n_in - 1].range = s[0]->ne[0];
    }
    return true;
}

int pf_conf_add_node(pf_conf_list *l, const pf_tensor *n, const char *origin) {
    if (!pf_node_is_compute(n)) return 0;
    char sig[sizeof l->cases[0].name];
    node_sig(n, sig, sizeof sig);
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->cases[i].name, sig)) {
            l->cases[i].count++;
            return 0;
        }
    pf_conf_case *c = pf_conf_add(l, n->op, "%s", sig);
    if (!c) return -1;
    snprintf(c->origin, sizeof c->origin, "%s", origin ? origin : "");
    c->count = 1;
    if (!node_to_case(n, c) || !case_matches(c, n)) {
        l->n--; /* not expressible as a case: the caller counts it */
        return -1;
    }
    return 1;
}

int pf_conf_export_graph(pf_conf_list *l, pf_graph *g, const char *origin, int *n_failed) {
    int added = 0;
    for (int i = 0; i < pf_graph_n_nodes(g); i++) {
        int r = pf_conf_add_node(l, pf_graph_node(g, i), origin);
        if (r > 0) added++;
        if (r < 0 && n_failed) (*n_failed)++;
    }
    return added;
}

/* ---------------------------------------------------------------- reduced twins */

static void cap_dim(pf_conf_input *in, int d, int64_t cap) {
    if (d >= 0 && d < in->ndim && in->ne[d] > cap) in->ne[d] = cap;
}

/* Element-wise family: cut every output dim above `cap`, in every operand that has the
 * full size there (broadcast operands keep their 1s); concat keeps its axis. */
static void shrink_elementwise(pf_conf_case *c, int64_t cap, int keep_dim) {
    int nd = 0;
    for (int i = 0; i < c->n_in; i++) nd = PF_MAX(nd, c->in[i].ndim);
    for (int d = 0; d < nd; d++) {
        if (d == keep_dim) continue;
        int64_t full = 0;
        for (int i = 0; i < c->n_in; i++) {
            int k = d - (nd - c->in[i].ndim);
            if (k >= 0) full = PF_MAX(full, c->in[i].ne[k]);
        }
        if (full <= cap) continue;
        for (int i = 0; i < c->n_in; i++) {
            int k = d - (nd - c->in[i].ndim);
            if (k >= 0 && c->in[i].ne[k] == full) c->in[i].ne[k] = cap;
        }
    }
}

static void rows_2d(pf_conf_input *in, int64_t cap) {
    int64_t D = in->ne[in->ndim - 1], rows = 1;
    for (int i = 0; i < in->ndim - 1; i++) rows *= in->ne[i];
    in->ndim = 2;
    in->ne[0] = PF_MIN(rows, cap);
    in->ne[1] = D;
    in->strided = 0;
}

/* Video tensors [B, C, T, H, W]: batch 1, at most 2 frames, spatial <= 16 (even). */
static void shrink_video(pf_conf_input *in, int64_t tmin, int64_t hmin, int64_t wmin) {
    if (in->ndim != 5) return;
    in->ne[0] = 1;
    in->ne[2] = PF_MIN(in->ne[2], PF_MAX((int64_t)2, tmin));
    in->ne[3] = PF_MIN(in->ne[3], PF_MAX((int64_t)16, hmin));
    in->ne[4] = PF_MIN(in->ne[4], PF_MAX((int64_t)16, wmin));
}

bool pf_conf_shrink(const pf_conf_case *c, pf_conf_case *out, int64_t cap) {
    *out = *c;
    pf_conf_case *r = out;
    switch (c->op) {
    case PF_OP_LINEAR: /* 16 rows: past the GPU matrix-vector path (<= 8), cheap at 4096 x 10240 */
        rows_2d(&r->in[0], PF_MIN(cap, (int64_t)16));
        break;
    case PF_OP_MATMUL: {
        pf_conf_input *a = &r->in[0], *b = &r->in[1];
        bool batched = a->ndim == 3, b_full = b->ndim == 3 && b->ne[0] == a->ne[0] && a->ne[0] > 1;
        if (batched) a->ne[0] = PF_MIN(a->ne[0], (int64_t)2);
        if (b_full) b->ne[0] = a->ne[0];
        cap_dim(a, a->ndim - 2, PF_MIN(cap, (int64_t)16));
        break;
    }
    case PF_OP_ATTENTION: {
        int64_t nq = PF_MIN(c->in[0].ne[1], cap), nk = PF_MIN(c->in[1].ne[1], cap);
        if (c->ip[0] == PF_MASK_CAUSAL) nq = nk = PF_MIN(nq, nk);
        int64_t B = PF_MIN(c->in[0].ne[0], (int64_t)2), H = PF_MIN(c->in[0].ne[2], (int64_t)2);
        for (int i = 0; i < 3; i++) {
            r->in[i].ne[0] = B;
            r->in[i].ne[1] = i == 0 ? nq : nk;
            r->in[i].ne[2] = H;
        }
        int k = 3;
        if (c->ip[0] == PF_MASK_FRAME) {
            r->in[k].ne[0] = B, r->in[k].ne[1] = nq, r->in[k].range = PF_MIN(r->in[k].range, nq / 3), k++;
            r->in[k].ne[0] = B, r->in[k].ne[1] = nk, r->in[k].range = PF_MIN(r->in[k].range, nk / 3), k++;
        } else if (c->ip[0] == PF_MASK_KEY) {
            r->in[k].ne[0] = B, r->in[k].ne[1] = nk, k++;
        }
        if (c->ip[1]) r->in[k].ne[0] = H, r->in[k].ne[1] = nq, r->in[k].ne[2] = nk;
        break;
    }
    case PF_OP_CONV3D: {
        /* batch 1, the fewest frames giving one output frame, about 8 x 8 pixels */
        const pf_conf_input *w = &c->in[1];
        pf_conf_input *x = &r->in[0];
        x->ne[0] = 1;
        x->ne[2] = PF_MIN(c->in[0].ne[2], PF_MAX((int64_t)1, w->ne[2] - c->ip[0]));
        x->ne[3] = PF_MIN(c->in[0].ne[3], PF_MAX((int64_t)8, w->ne[3]));
        x->ne[4] = PF_MIN(c->in[0].ne[4], PF_MAX((int64_t)8, w->ne[4]));
        if (c->ip[7]) { /* the causal cache follows the input's batch and spatial size */
            pf_conf_input *f = &r->in[c->ip[6] ? 3 : 2];
            f->ne[0] = 1;
            f->ne[3] = x->ne[3];
            f->ne[4] = x->ne[4];
        }
        break;
    }
    case PF_OP_GROUP_NORM:
    case PF_OP_UPSAMPLE2X:
    case PF_OP_DOWNSAMPLE2X:
    case PF_OP_DEPTH_TO_SPACE:
        if (r->in[0].ndim == 5) shrink_video(&r->in[0], 1, 2, 2);
        else shrink_elementwise(r, cap, -1);
        if (c->op == PF_OP_DOWNSAMPLE2X) {
            int nd = r->in[0].ndim;
            r->in[0].ne[nd - 1] &= ~(int64_t)1;
            r->in[0].ne[nd - 2] &= ~(int64_t)1;
        }
        r->in[0].strided = 0;
        break;
    case PF_OP_LAYER_NORM:
    case PF_OP_RMS_NORM:
    case PF_OP_SOFTMAX:
        rows_2d(&r->in[0], cap);
        break;
    case PF_OP_ROPE:
        r->in[0].ne[0] = 1;
        cap_dim(&r->in[0], 1, cap);
        r->in[0].ne[2] = PF_MIN(r->in[0].ne[2], (int64_t)2);
        r->in[1].ne[0] = r->in[0].ne[1];
        break;
    case PF_OP_EMBEDDING:
        for (int d = 0; d < r->in[1].ndim; d++) cap_dim(&r->in[1], d, cap);
        break;
    case PF_OP_CONCAT:
        shrink_elementwise(r, cap, c->ip[0] + 0);
        break;
    default:
        shrink_elementwise(r, cap, -1);
        break;
    }
    if (!memcmp(r->in, c->in, sizeof r->in)) return false; /* nothing to cut */
    snprintf(r->name, sizeof r->name, "%.300s @reduced", c->name);
    double fl, by, lg;
    return pf_conf_case_cost(r, &fl, &by, &lg) == PF_OK;
}
