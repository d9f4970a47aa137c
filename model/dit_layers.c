/*
 * Graph pieces shared by the DiT blocks of both variants: adaLN-Zero modulation,
 * per-head projections with qk RMSNorm, the masked rotary attention over
 * [text; image], the GELU-tanh feed-forward, and the final layer.
 */
#include "dit_internal.h"

#include <stdarg.h>

pf_tensor *dit_lin(dit_build *bd, pf_tensor *x, const dit_linear *l) { return pf_linear(bd->g, x, l->w, l->b); }

void dit_ada_chunks(dit_build *bd, const dit_linear *l, int n, pf_tensor **out) {
    const int64_t D = bd->dit->cfg.hidden;
    pf_tensor *emb = dit_lin(bd, bd->temb_silu, l); /* [B, n*D] */
    for (int i = 0; i < n; i++) {
        /* emb.chunk(n, dim=1)[i][:, None]: [B, 1, D], broadcast over the tokens */
        int64_t ne[3] = {bd->B, 1, D}, st[3] = {n * D, D, 1};
        out[i] = pf_view(bd->g, emb, 3, ne, st, i * D);
    }
}

pf_tensor *dit_norm_modulate(dit_build *bd, pf_tensor *x, pf_tensor *shift, pf_tensor *scale) {
    /* nn.LayerNorm(D, elementwise_affine=False, eps=1e-6)(x) * (1 + scale) + shift */
    return pf_modulate(bd->g, pf_layer_norm(bd->g, x, NULL, NULL, DIT_NORM_EPS), shift, scale);
}

pf_tensor *dit_heads(dit_build *bd, pf_tensor *x, const dit_linear *l, pf_tensor *norm_w, int64_t rope_first) {
    const pf_dit_config *c = &bd->dit->cfg;
    pf_tensor *y = dit_lin(bd, x, l);
    if (!y) return NULL;
    int64_t ne[4] = {y->ne[0], y->ne[1], c->heads, c->head_dim}; /* [B, n, heads, head_dim] */
    y = pf_reshape(bd->g, y, 4, ne);
    /* RMSNorm over the head dim: x * rsqrt(mean(x^2) + eps) * weight */
    if (norm_w) y = pf_rms_norm(bd->g, y, norm_w, bd->dit->qk_eps);
    if (rope_first < 0) return y;
    /* apply_rope with the table rows of these tokens: rotating each stream before the joint
     * concat equals rotating the concat (an op per token), and keeps the rotation next to
     * its norm (the CUDA backend fuses the pair) */
    const int64_t n = y->ne[1];
    pf_tensor *tab = rope_first == 0 && n == bd->rope->ne[0] ? bd->rope : pf_slice(bd->g, bd->rope, 0, rope_first, n);
    return pf_rope(bd->g, y, tab);
}

pf_tensor *dit_rows(dit_build *bd, pf_tensor *x, int64_t start, int64_t len) {
    if (x && start == 0 && len == x->ne[1]) return x;
    return pf_slice(bd->g, x, 1, start, len);
}

pf_tensor *dit_attention(dit_build *bd, pf_tensor *q, pf_tensor *k, pf_tensor *v) {
    pf_graph *g = bd->g;
    const pf_dit_config *c = &bd->dit->cfg;
    if (!q || !k || !v) return pf_graph_fail(g, PF_ERR_INVALID_ARG, "attention: NULL input");
    const int64_t nq = q->ne[1], first = bd->Ntot - nq; /* q rows are the sequence's last nq tokens */
    pf_tensor *mq = dit_rows(bd, bd->meta, first, nq);
    /* F.scaled_dot_product_attention with the boolean mask, default scale 1/sqrt(head_dim) */
    float scale = (float)(1.0 / sqrt((double)c->head_dim));
    pf_tensor *o = pf_attention(g, q, k, v, scale, PF_MASK_FRAME, mq, bd->meta, NULL); /* [B, nq, H, hd] */
    int64_t ne[3] = {bd->B, nq, c->hidden};
    return pf_reshape(g, o, 3, ne);
}

pf_tensor *dit_ff(dit_build *bd, pf_tensor *x, const dit_linear *l0, const dit_linear *l2) {
    /* FeedForward(activation_fn="gelu-approximate"): net.0 = GELU(dim, 4 dim, approximate="tanh") */
    return dit_lin(bd, pf_gelu_tanh(bd->g, dit_lin(bd, x, l0)), l2);
}

pf_tensor *dit_final_layer(dit_build *bd, pf_tensor *img) {
    pf_dit *dit = bd->dit;
    /* norm_out = AdaLayerNormContinuous(D, D, elementwise_affine=False, eps=1e-6): (scale, shift) */
    pf_tensor *ch[2];
    dit_ada_chunks(bd, &dit->norm_out, 2, ch);
    pf_tensor *y = dit_norm_modulate(bd, img, ch[1], ch[0]);
    dit_debug_mark(bd, y, "norm_out");
    /* split_output keeps the last t*h*w tokens: the current clip */
    if (y && y->ne[1] != bd->n_cur) y = dit_rows(bd, y, y->ne[1] - bd->n_cur, bd->n_cur);
    return dit_lin(bd, y, &dit->proj_out); /* [B, n_cur, p*p*C] */
}

void dit_debug_mark(dit_build *bd, pf_tensor *t, const char *fmt, ...) {
    if (!bd->dit->debug || !t) return;
    dit_layout *lay = bd->lay;
    t = pf_cont(bd->g, t);
    if (!t) return;
    char(*nn)[PF_NAME_LEN] = realloc(lay->dbg_name, (size_t)(lay->n_dbg + 1) * sizeof *nn);
    if (nn) lay->dbg_name = nn;
    pf_tensor **nt = realloc(lay->dbg_node, (size_t)(lay->n_dbg + 1) * sizeof *nt);
    if (nt) lay->dbg_node = nt;
    if (!nn || !nt) {
        pf_graph_fail(bd->g, PF_ERR_OOM, "out of host memory (debug outputs)");
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lay->dbg_name[lay->n_dbg], PF_NAME_LEN, fmt, ap);
    va_end(ap);
    lay->dbg_node[lay->n_dbg++] = t;
    pf_output(bd->g, t);
}
