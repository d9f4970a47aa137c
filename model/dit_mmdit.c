/*
 * SD3 MMDiT (PyramidDiffusionMMDiT, mmdit_modules/modeling_pyramid_mmdit.py and
 * modeling_mmdit_block.py): n_double JointTransformerBlocks, the last one
 * context_pre_only (its text stream only feeds keys and values), then norm_out /
 * proj_out. Spatial positions come from the sin-cos table added at patch embedding
 * (dit_embed.c); the rotary table rotates by frame index only. Facts §3.4, §3.7.
 */
#include "dit_internal.h"

/* JointTransformerBlock.forward. For context_pre_only blocks *txt is left as it is (the
 * official block returns None); `trim` computes only the current clip's image rows. */
static void dit_joint_transformer_block(dit_build *bd, const dit_double_block *b, pf_tensor **txt, pf_tensor **img,
                                        bool trim) {
    pf_graph *g = bd->g;
    const int64_t nq = trim ? bd->n_cur : bd->N; /* image query rows: the last nq image tokens */
    pf_tensor *m[6], *cm[6] = {NULL};
    dit_ada_chunks(bd, &b->norm1, 6, m); /* shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp */
    pf_tensor *xn = dit_norm_modulate(bd, *img, m[0], m[1]), *cn;
    if (b->context_pre_only) {
        /* norm1_context = AdaLayerNormContinuous: (scale, shift) */
        dit_ada_chunks(bd, &b->norm1_context, 2, cm);
        cn = dit_norm_modulate(bd, *txt, cm[1], cm[0]);
    } else {
        dit_ada_chunks(bd, &b->norm1_context, 6, cm);
        cn = dit_norm_modulate(bd, *txt, cm[0], cm[1]);
    }
    pf_tensor *xq = dit_rows(bd, xn, bd->N - nq, nq);

    /* JointAttention (VarlenSelfAttentionWithT5Mask): [text; image] joint attention. The text
     * queries of a context_pre_only block are computed and discarded by the official code;
     * they are skipped here (attention rows are independent). */
    pf_tensor *q = dit_heads(bd, xq, &b->to_q, b->norm_q, bd->Ntot - nq);
    pf_tensor *k = dit_heads(bd, xn, &b->to_k, b->norm_k, bd->L);
    pf_tensor *v = dit_heads(bd, xn, &b->to_v, NULL, -1);
    pf_tensor *kc = dit_heads(bd, cn, &b->add_k_proj, b->norm_added_k, 0);
    pf_tensor *vc = dit_heads(bd, cn, &b->add_v_proj, NULL, -1);
    pf_tensor *ks[2] = {kc, k}, *vs[2] = {vc, v};
    pf_tensor *kk = pf_concat(g, ks, 2, 1), *vv = pf_concat(g, vs, 2, 1);
    pf_tensor *o_txt = NULL, *o_img;
    if (b->context_pre_only) {
        o_img = dit_attention(bd, q, kk, vv); /* [B, nq, D] */
    } else {
        pf_tensor *qc = dit_heads(bd, cn, &b->add_q_proj, b->norm_added_q, 0);
        pf_tensor *qs[2] = {qc, q};
        pf_tensor *o = dit_attention(bd, pf_concat(g, qs, 2, 1), kk, vv); /* [B, L + nq, D] */
        o_txt = dit_rows(bd, o, 0, bd->L);
        o_img = dit_rows(bd, o, bd->L, nq);
    }

    /* image stream */
    pf_tensor *res = dit_rows(bd, *img, bd->N - nq, nq);
    pf_tensor *x = pf_gated_add(g, res, m[2], dit_lin(bd, o_img, &b->to_out));
    x = pf_gated_add(g, x, m[5], dit_ff(bd, dit_norm_modulate(bd, x, m[3], m[4]), &b->ff_0, &b->ff_2));
    *img = x;
    if (b->context_pre_only) return;
    /* text stream */
    pf_tensor *c = pf_gated_add(g, *txt, cm[2], dit_lin(bd, o_txt, &b->to_add_out));
    c = pf_gated_add(g, c, cm[5],
                     dit_ff(bd, dit_norm_modulate(bd, c, cm[3], cm[4]), &b->ff_context_0, &b->ff_context_2));
    *txt = c;
}

pf_tensor *dit_mmdit_forward(dit_build *bd, pf_tensor *txt, pf_tensor *img) {
    pf_dit *dit = bd->dit;
    const int n = dit->cfg.n_double;
    for (int i = 0; i < n; i++) {
        const dit_double_block *b = &dit->blocks[i];
        /* only the last block may drop rows: earlier blocks feed every image token onwards */
        bool trim = bd->trim_last && i == n - 1 && b->context_pre_only;
        dit_joint_transformer_block(bd, b, &txt, &img, trim);
        dit_debug_mark(bd, img, "block_%d.hidden_states", i);
        if (!b->context_pre_only) dit_debug_mark(bd, txt, "block_%d.encoder_hidden_states", i);
    }
    return dit_final_layer(bd, img);
}
