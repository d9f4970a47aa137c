/*
 * Graph builders of the VAE's building blocks (modeling_causal_conv.py,
 * modeling_resnet.py, modeling_block.py). Tensors are [1, C, T, H, W].
 *
 * Causal convolution and its chunk cache (CausalConv3d.forward):
 *  - whole clip, or first chunk (is_init_image): kt-1 zero frames in front;
 *  - a later chunk: the last 2 frames of the previous chunk's padded input go in
 *    front (only the last 1 for the temporal stride-2 convs), no zero padding;
 *  - with chunks, each conv then keeps the last 2 frames of its padded input.
 * Kernel-1 convs (shortcuts, quant convs) need no cache.
 *
 * The cache of conv k is a persistent tensor [1, ci, 2, H, W] (slot k of the
 * call's vae_caches). It is read as the conv's front frames and rewritten with
 * pf_output_into by a node created after the conv, so the conv reads the old
 * frames (the graph runs nodes in creation order).
 */
#include "vae_internal.h"

#define VAE_EPS 1e-6f

/* ---------------------------------------------------------------- storage-less caches */

pf_tensor *vae_virtual_tensor(pf_vae *vae, vae_tensor_list *list, pf_dtype dt, int ndim, const int64_t *ne,
                              const char *name) {
    if (list->n == list->cap) {
        int cap = list->cap ? 2 * list->cap : 256;
        pf_tensor **nt = pf_realloc(list->t, (size_t)cap * sizeof *nt, "VAE plan tensors");
        if (!nt) return NULL;
        list->t = nt;
        list->cap = cap;
    }
    pf_tensor *t = pf_calloc(1, sizeof *t, "VAE plan tensor");
    if (!t) return NULL;
    t->dtype = dt;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->ne[i] = ne[i];
    pf_set_contiguous_strides(t);
    t->op = PF_OP_NONE;
    t->flags = PF_TF_EXTERNAL;
    t->chunk = -1;
    t->graph_index = -1;
    /* never read or written: only dry plans see it */
    t->buffer = &vae->virtual_buffer;
    snprintf(t->name, sizeof t->name, "%.*s", (int)sizeof t->name - 1, name);
    list->t[list->n++] = t;
    return t;
}

void vae_tensor_list_free(vae_tensor_list *l) {
    for (int i = 0; i < l->n; i++) free(l->t[i]);
    free(l->t);
    memset(l, 0, sizeof *l);
}

void vae_caches_free(vae_caches *c) {
    vae_tensor_list_free(&c->virtuals);
    pf_pool_free(c->pool);
    free(c->slot);
    memset(c, 0, sizeof *c);
}

/* The slot of the next cached conv, viewed as [1, ci, 2, H, W]. Slots are created at
 * the first (largest) tile's size; smaller tiles use their leading elements. */
static pf_tensor *vae_cache_slot(vae_build *B, const vae_conv *c, const pf_tensor *x) {
    vae_caches *C = B->caches;
    int k = B->next_slot++;
    int64_t ne[5] = {1, x->ne[1], 2, x->ne[3], x->ne[4]};
    int64_t need = ne[1] * 2 * ne[3] * ne[4];
    if (k == C->n_slots) {
        if (C->n_slots == C->cap_slots) {
            int cap = C->cap_slots ? 2 * C->cap_slots : 64;
            pf_tensor **ns = pf_realloc(C->slot, (size_t)cap * sizeof *ns, "VAE caches");
            if (!ns) {
                B->status = PF_ERR_OOM;
                return NULL;
            }
            C->slot = ns;
            C->cap_slots = cap;
        }
        char name[VAE_NAME_LEN + 8];
        snprintf(name, sizeof name, "cache:%s", c->name);
        pf_tensor *t = C->pool ? pf_pool_tensor(C->pool, B->adt, 5, ne, name)
                               : vae_virtual_tensor(B->vae, &C->virtuals, B->adt, 5, ne, name);
        if (!t) {
            B->status = pf_error_wrap(PF_ERR_OOM, "VAE causal cache of %s", c->name);
            return NULL;
        }
        C->slot[C->n_slots++] = t;
        C->bytes += pf_nbytes(t);
    }
    pf_tensor *s = C->slot[k];
    if (pf_nelem(s) < need) {
        B->status = pf_error(PF_ERR_INTERNAL, "VAE cache of %s holds %lld values, %lld needed", c->name,
                             (long long)pf_nelem(s), (long long)need);
        return NULL;
    }
    if (pf_nelem(s) == need) return pf_external(B->g, s);
    pf_tensor v = {.ndim = 5};
    for (int i = 0; i < 5; i++) v.ne[i] = ne[i];
    pf_set_contiguous_strides(&v);
    return pf_view(B->g, pf_external(B->g, s), 5, ne, v.st, 0);
}

/* A persistent zero frame [1, ci, 1, H, W] (first chunks of a single frame). */
static pf_tensor *vae_zero_frame(vae_build *B, const pf_tensor *x) {
    vae_caches *C = B->caches;
    int64_t ne[5] = {1, x->ne[1], 1, x->ne[3], x->ne[4]};
    int64_t need = ne[1] * ne[3] * ne[4];
    if (!C->zeros || pf_nelem(C->zeros) < need) {
        int64_t n1[1] = {need};
        pf_tensor *z;
        if (C->pool) {
            z = pf_pool_tensor(C->pool, B->adt, 1, n1, "cache:zeros");
            float *h = z ? pf_calloc((size_t)need, sizeof(float), "VAE zero frame") : NULL;
            if (h && pf_tensor_set_as(z, h, PF_F32, (size_t)need) != PF_OK) z = NULL;
            if (!h) z = NULL;
            free(h);
        } else {
            z = vae_virtual_tensor(B->vae, &C->virtuals, B->adt, 1, n1, "cache:zeros");
        }
        if (!z) {
            B->status = pf_error_wrap(PF_ERR_OOM, "VAE zero frame");
            return NULL;
        }
        C->zeros = z;
        C->bytes += pf_nbytes(z);
    }
    pf_tensor v = {.ndim = 5};
    for (int i = 0; i < 5; i++) v.ne[i] = ne[i];
    pf_set_contiguous_strides(&v);
    return pf_view(B->g, pf_external(B->g, C->zeros), 5, ne, v.st, 0);
}

pf_tensor *vae_conv_fwd(vae_build *B, const vae_conv *c, pf_tensor *x) {
    pf_graph *g = B->g;
    if (!x || B->status != PF_OK) return NULL;
    pf_tensor *y;
    int ph = c->kh / 2, pw = c->kw / 2, pt = c->kt - 1;
    if (c->kt == 1 || B->mode == VAE_T_FULL) {
        y = pf_conv3d(g, x, c->w, c->b, NULL, pt, ph, pw, c->st, c->sh, c->sw);
        pf_set_name(y, "%s", c->name);
        return y;
    }
    pf_tensor *cache = vae_cache_slot(B, c, x);
    if (!cache) return NULL;
    pf_tensor *last_front; /* the last frame in front of x, for a single-frame x */
    if (B->mode == VAE_T_FIRST) {
        y = pf_conv3d(g, x, c->w, c->b, NULL, pt, ph, pw, c->st, c->sh, c->sw);
        last_front = x->ne[2] == 1 ? vae_zero_frame(B, x) : NULL;
    } else {
        /* stride-2 convs take only the newest cached frame (the official code
         * prepends video_front_context[:, :, -1:]) */
        pf_tensor *front = c->st == 2 ? pf_slice(g, cache, 2, 1, 1) : cache;
        y = pf_conv3d(g, x, c->w, c->b, front, c->st == 2 ? 1 : 2, ph, pw, c->st, c->sh, c->sw);
        last_front = pf_slice(g, cache, 2, 1, 1);
    }
    pf_set_name(y, "%s", c->name);
    /* new cache: the last 2 frames of [front; x], written after the conv read it */
    pf_tensor *upd;
    if (x->ne[2] >= 2) {
        upd = pf_copy(g, pf_slice(g, x, 2, x->ne[2] - 2, 2));
    } else {
        pf_tensor *parts[2] = {last_front, x};
        upd = pf_concat(g, parts, 2, 2);
        /* a later chunk's concat reads the cache it replaces: go through a copy */
        if (B->mode == VAE_T_NEXT) upd = pf_copy(g, upd);
    }
    pf_set_name(upd, "%s.cache", c->name);
    if (upd) pf_output_into(g, upd, cache);
    return y;
}

pf_tensor *vae_norm_fwd(vae_build *B, const vae_norm *n, pf_tensor *x, bool silu) {
    pf_tensor *y = pf_group_norm(B->g, x, n->w, n->b, n->groups, VAE_EPS, silu);
    pf_set_name(y, "%s", n->name);
    return y;
}

pf_tensor *vae_resnet_fwd(vae_build *B, const vae_resnet *r, pf_tensor *x) {
    /* The shortcut goes first (the official code runs it last; same values): x then
     * dies at norm1, which takes its memory, instead of living through both convs. */
    pf_tensor *s = r->has_shortcut ? vae_conv_fwd(B, &r->conv_shortcut, x) : x;
    pf_tensor *h = vae_norm_fwd(B, &r->norm1, x, true);
    h = vae_conv_fwd(B, &r->conv1, h);
    h = vae_norm_fwd(B, &r->norm2, h, true);
    h = vae_conv_fwd(B, &r->conv2, h);
    /* (input + hidden) / output_scale_factor, the factor being 1 */
    return pf_add(B->g, s, h);
}

/* diffusers Attention (AttnProcessor2_0) on each frame's h*w tokens: group_norm,
 * q/k/v, one head of c channels scaled by 1/sqrt(c), to_out.0, + residual. */
static pf_tensor *vae_attn_fwd(vae_build *B, const vae_attn *a, pf_tensor *x) {
    pf_graph *g = B->g;
    if (!x) return NULL;
    int64_t C = x->ne[1], T = x->ne[2], H = x->ne[3], W = x->ne[4], N = H * W;
    pf_tensor *h = vae_norm_fwd(B, &a->group_norm, x, false);
    /* [1, C, T, H, W] -> [T, N, C]: tokens of each frame, channels last */
    int64_t ctn[3] = {C, T, N};
    static const int to_tnc[3] = {1, 2, 0};
    h = pf_cont(g, pf_permute(g, pf_reshape(g, h, 3, ctn), to_tnc));
    int64_t qs[4] = {T, N, 1, C};
    pf_tensor *q = pf_reshape(g, pf_linear(g, h, a->q_w, a->q_b), 4, qs);
    pf_tensor *k = pf_reshape(g, pf_linear(g, h, a->k_w, a->k_b), 4, qs);
    pf_tensor *v = pf_reshape(g, pf_linear(g, h, a->v_w, a->v_b), 4, qs);
    pf_tensor *o = pf_attention(g, q, k, v, (float)(1.0 / sqrt((double)C)), PF_MASK_NONE, NULL, NULL, NULL);
    pf_set_name(o, "%s", a->name);
    int64_t tnc[3] = {T, N, C};
    o = pf_linear(g, pf_reshape(g, o, 3, tnc), a->o_w, a->o_b); /* [T, N, C] */
    /* view back as [1, C, T, H, W] and add the residual */
    int64_t ne[5] = {1, C, T, H, W}, st[5] = {T * N * C, 1, N * C, W * C, C};
    return pf_add(g, x, pf_view(g, o, 5, ne, st, 0));
}

pf_tensor *vae_mid_fwd(vae_build *B, const vae_mid *m, pf_tensor *x) {
    x = vae_resnet_fwd(B, &m->resnets[0], x);
    x = vae_attn_fwd(B, &m->attn, x);
    return vae_resnet_fwd(B, &m->resnets[1], x);
}

pf_tensor *vae_up_block_fwd(vae_build *B, const vae_block *blk, pf_tensor *x) {
    for (int r = 0; r < blk->n_resnets; r++) x = vae_resnet_fwd(B, &blk->resnets[r], x);
    if (blk->spatial) {
        /* 'b (c p1 p2) t h w -> b c t (h p1) (w p2)': channel c*4 + p1*2 + p2, as PF_D2S_SPACE */
        x = vae_conv_fwd(B, &blk->sampler, x);
        x = pf_depth_to_space(B->g, x, PF_D2S_SPACE, false);
    }
    if (blk->temporal) {
        /* 'b (c p) t h w -> b c (t p) h w': channel c*2 + p, frame 2t + p, as PF_D2S_TIME;
         * is_init_image (whole clip or first chunk) drops frame 0 */
        x = vae_conv_fwd(B, &blk->temporal_sampler, x);
        x = pf_depth_to_space(B->g, x, PF_D2S_TIME, B->mode != VAE_T_NEXT);
    }
    return x;
}

pf_tensor *vae_down_block_fwd(vae_build *B, const vae_block *blk, pf_tensor *x) {
    for (int r = 0; r < blk->n_resnets; r++) x = vae_resnet_fwd(B, &blk->resnets[r], x);
    if (blk->spatial) x = vae_conv_fwd(B, &blk->sampler, x);
    if (blk->temporal) x = vae_conv_fwd(B, &blk->temporal_sampler, x);
    return x;
}
