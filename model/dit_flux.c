/*
 * miniFLUX (PyramidFluxTransformer, flux_modules/modeling_pyramid_flux.py and
 * modeling_flux_block.py): n_double FluxTransformerBlocks with separate text and image
 * streams joined inside attention, then n_single FluxSingleTransformerBlocks over the
 * concatenated stream [text; image], then norm_out / proj_out. Facts §3.5, §3.7.
 */
#include "dit_internal.h"

/* FluxTransformerBlock.forward: txt [B, L, D], img [B, N, D] updated in place. */
static void dit_flux_transformer_block(dit_build *bd, const dit_double_block *b, pf_tensor **txt, pf_tensor **img) {
    pf_graph *g = bd->g;
    /* norm1 / norm1_context = AdaLayerNormZero: shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp */
    pf_tensor *m[6], *cm[6];
    dit_ada_chunks(bd, &b->norm1, 6, m);
    dit_ada_chunks(bd, &b->norm1_context, 6, cm);
    pf_tensor *xn = dit_norm_modulate(bd, *img, m[0], m[1]);
    pf_tensor *cn = dit_norm_modulate(bd, *txt, cm[0], cm[1]);

    /* FluxAttnProcessor2_0: per-stream projections and qk RMSNorm, joint attention over [text; image] */
    pf_tensor *q = dit_heads(bd, xn, &b->to_q, b->norm_q, bd->L), *k = dit_heads(bd, xn, &b->to_k, b->norm_k, bd->L);
    pf_tensor *v = dit_heads(bd, xn, &b->to_v, NULL, -1);
    pf_tensor *qc = dit_heads(bd, cn, &b->add_q_proj, b->norm_added_q, 0);
    pf_tensor *kc = dit_heads(bd, cn, &b->add_k_proj, b->norm_added_k, 0);
    pf_tensor *vc = dit_heads(bd, cn, &b->add_v_proj, NULL, -1);
    pf_tensor *qs[2] = {qc, q}, *ks[2] = {kc, k}, *vs[2] = {vc, v};
    pf_tensor *o = dit_attention(bd, pf_concat(g, qs, 2, 1), pf_concat(g, ks, 2, 1), pf_concat(g, vs, 2, 1));
    pf_tensor *o_txt = dit_rows(bd, o, 0, bd->L), *o_img = dit_rows(bd, o, bd->L, bd->N);

    /* image stream: x += gate_msa * to_out(attn); x += gate_mlp * ff(norm2(x) * (1 + scale_mlp) + shift_mlp) */
    pf_tensor *x = pf_gated_add(g, *img, m[2], dit_lin(bd, o_img, &b->to_out));
    x = pf_gated_add(g, x, m[5], dit_ff(bd, dit_norm_modulate(bd, x, m[3], m[4]), &b->ff_0, &b->ff_2));
    /* text stream, the same with the _context modules */
    pf_tensor *c = pf_gated_add(g, *txt, cm[2], dit_lin(bd, o_txt, &b->to_add_out));
    c = pf_gated_add(g, c, cm[5],
                     dit_ff(bd, dit_norm_modulate(bd, c, cm[3], cm[4]), &b->ff_context_0, &b->ff_context_2));
    *img = x;
    *txt = c;
}

/* FluxSingleTransformerBlock.forward on x = [text; image] [B, L + N, D]. With `trim` only the
 * current clip's rows are computed (the last block: nothing else is read afterwards). */
static pf_tensor *dit_flux_single_block(dit_build *bd, const dit_single_block *b, pf_tensor *x, bool trim) {
    pf_graph *g = bd->g;
    pf_tensor *m[3]; /* AdaLayerNormZeroSingle: shift, scale, gate */
    dit_ada_chunks(bd, &b->norm, 3, m);
    pf_tensor *xn = dit_norm_modulate(bd, x, m[0], m[1]);
    pf_tensor *xq = trim ? dit_rows(bd, xn, bd->Ntot - bd->n_cur, bd->n_cur) : xn;
    pf_tensor *mlp = pf_gelu_tanh(g, dit_lin(bd, xq, &b->proj_mlp)); /* act_mlp(proj_mlp(norm_x)) */
    /* FluxSingleAttnProcessor2_0: no output projection (pre_only) */
    pf_tensor *q = dit_heads(bd, xq, &b->to_q, b->norm_q, bd->Ntot - xq->ne[1]);
    pf_tensor *k = dit_heads(bd, xn, &b->to_k, b->norm_k, 0);
    pf_tensor *a = dit_attention(bd, q, k, dit_heads(bd, xn, &b->to_v, NULL, -1));
    pf_tensor *cat[2] = {a, mlp};
    pf_tensor *y = dit_lin(bd, pf_concat(g, cat, 2, 2), &b->proj_out); /* proj_out(cat([attn, mlp], dim=2)) */
    pf_tensor *res = trim ? dit_rows(bd, x, bd->Ntot - bd->n_cur, bd->n_cur) : x;
    return pf_gated_add(g, res, m[2], y); /* residual + gate * proj_out(...) */
}

pf_tensor *dit_flux_forward(dit_build *bd, pf_tensor *txt, pf_tensor *img) {
    pf_dit *dit = bd->dit;
    const pf_dit_config *c = &dit->cfg;
    for (int i = 0; i < c->n_double; i++) {
        dit_flux_transformer_block(bd, &dit->blocks[i], &txt, &img);
        dit_debug_mark(bd, txt, "double_%d.encoder_hidden_states", i);
        dit_debug_mark(bd, img, "double_%d.hidden_states", i);
    }
    /* re-merge for the single blocks: [text; image] */
    pf_tensor *cat[2] = {txt, img};
    pf_tensor *x = pf_concat(bd->g, cat, 2, 1);
    bool trimmed = false;
    for (int i = 0; i < c->n_single; i++) {
        trimmed = bd->trim_last && i == c->n_single - 1;
        x = dit_flux_single_block(bd, &dit->single_blocks[i], x, trimmed);
        dit_debug_mark(bd, x, "single_%d.hidden_states", i);
    }
    /* strip the text tokens before norm_out */
    pf_tensor *out = trimmed ? x : dit_rows(bd, x, bd->L, bd->N);
    return dit_final_layer(bd, out);
}
