/*
 * Every tensor of CausalVideoVAE, declared once with its official name and shape.
 * The same declarations load a checkpoint (pf_loader: all missing or mis-shaped
 * tensors reported together) or fill seeded random weights for benchmarks
 * (pf_random_fill; left unfilled on the meta backend, which has no memory).
 *
 * Names: a CausalConv3d NAME holds an nn.Conv3d as NAME.conv, so its keys are
 * NAME.conv.weight [co, ci, kt, kh, kw] and NAME.conv.bias [co].
 */
#include "vae_internal.h"
#include "pf_random_fill.h"

typedef enum { VAE_INIT_FANIN = 0, VAE_INIT_ONE, VAE_INIT_BIAS } vae_init;

typedef struct vae_wctx {
    pf_vae *vae;
    vae_w_mode mode;
    pf_loader *L;
    pf_random_fill rand;
    uint64_t n_random; /* tensors drawn so far: the stream of the next one */
    pf_status status;  /* random mode: the first failure */
} vae_wctx;

/* Copy a name, truncating to the destination (official names are < 64 characters). */
static void vae_copy_name(char *dst, size_t n, const char *src) {
    size_t l = strlen(src);
    if (l >= n) l = n - 1;
    memcpy(dst, src, l);
    dst[l] = 0;
}

/* ---------------------------------------------------------------- random fill */

static pf_tensor *vae_random_tensor(vae_wctx *W, vae_init init, int ndim, const int64_t *shape, const char *name) {
    pf_tensor *t = pf_pool_tensor(W->vae->pool, W->vae->dtype, ndim, shape, name);
    if (!t) return NULL;
    /* unit-variance activations: std 1 / sqrt(fan_in) for weights; norm weights near 1 and
     * biases near 0 with the spread of a uniform on +-0.1 and +-0.02 */
    double fan_in = 1.0;
    for (int i = 1; i < ndim; i++) fan_in *= (double)shape[i];
    const float inv_sqrt3 = 0.57735027f;
    float mean = init == VAE_INIT_ONE ? 1.0f : 0.0f;
    float std = init == VAE_INIT_FANIN ? (float)(1.0 / sqrt(fan_in))
                : init == VAE_INIT_ONE ? 0.1f * inv_sqrt3
                                       : 0.02f * inv_sqrt3;
    if (pf_random_fill_tensor(&W->rand, t, W->n_random++, mean, std) != PF_OK) return NULL;
    return t;
}

/* ---------------------------------------------------------------- declarations */

static pf_tensor *vae_wt(vae_wctx *W, vae_init init, int ndim, const int64_t *shape, const char *fmt, ...)
    PF_PRINTF(5, 6);

static pf_tensor *vae_wt(vae_wctx *W, vae_init init, int ndim, const int64_t *shape, const char *fmt, ...) {
    char name[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    if (W->mode == VAE_W_LOAD) return pf_loadf(W->L, ndim, shape, "%s", name);
    if (W->status != PF_OK) return NULL;
    pf_tensor *t = vae_random_tensor(W, init, ndim, shape, name);
    if (!t) W->status = pf_error_wrap(PF_ERR_OOM, "VAE weight %s", name);
    return t;
}

static void vae_conv_decl(vae_wctx *W, vae_conv *c, const char *name, int ci, int co, int k, int st, int sh, int sw) {
    vae_copy_name(c->name, sizeof c->name, name);
    c->ci = ci;
    c->co = co;
    c->kt = c->kh = c->kw = k;
    c->st = st;
    c->sh = sh;
    c->sw = sw;
    int64_t ws[5] = {co, ci, k, k, k}, bs[1] = {co};
    c->w = vae_wt(W, VAE_INIT_FANIN, 5, ws, "%s.conv.weight", name);
    c->b = vae_wt(W, VAE_INIT_BIAS, 1, bs, "%s.conv.bias", name);
}

static void vae_norm_decl(vae_wctx *W, vae_norm *n, const char *name, int c, int groups) {
    vae_copy_name(n->name, sizeof n->name, name);
    n->c = c;
    n->groups = groups;
    int64_t s[1] = {c};
    n->w = vae_wt(W, VAE_INIT_ONE, 1, s, "%s.weight", name);
    n->b = vae_wt(W, VAE_INIT_BIAS, 1, s, "%s.bias", name);
}

static void vae_resnet_decl(vae_wctx *W, vae_resnet *r, const char *prefix, int ci, int co, int groups) {
    char n[VAE_NAME_LEN + 32];
    snprintf(n, sizeof n, "%s.norm1", prefix);
    vae_norm_decl(W, &r->norm1, n, ci, groups);
    snprintf(n, sizeof n, "%s.conv1", prefix);
    vae_conv_decl(W, &r->conv1, n, ci, co, 3, 1, 1, 1);
    snprintf(n, sizeof n, "%s.norm2", prefix);
    vae_norm_decl(W, &r->norm2, n, co, groups);
    snprintf(n, sizeof n, "%s.conv2", prefix);
    vae_conv_decl(W, &r->conv2, n, co, co, 3, 1, 1, 1);
    r->has_shortcut = ci != co;
    if (r->has_shortcut) {
        snprintf(n, sizeof n, "%s.conv_shortcut", prefix);
        vae_conv_decl(W, &r->conv_shortcut, n, ci, co, 1, 1, 1, 1);
    }
}

static void vae_attn_decl(vae_wctx *W, vae_attn *a, const char *prefix, int c, int groups) {
    char n[VAE_NAME_LEN + 32];
    vae_copy_name(a->name, sizeof a->name, prefix);
    a->c = c;
    snprintf(n, sizeof n, "%s.group_norm", prefix);
    vae_norm_decl(W, &a->group_norm, n, c, groups);
    int64_t ws[2] = {c, c}, bs[1] = {c};
    a->q_w = vae_wt(W, VAE_INIT_FANIN, 2, ws, "%s.to_q.weight", prefix);
    a->q_b = vae_wt(W, VAE_INIT_BIAS, 1, bs, "%s.to_q.bias", prefix);
    a->k_w = vae_wt(W, VAE_INIT_FANIN, 2, ws, "%s.to_k.weight", prefix);
    a->k_b = vae_wt(W, VAE_INIT_BIAS, 1, bs, "%s.to_k.bias", prefix);
    a->v_w = vae_wt(W, VAE_INIT_FANIN, 2, ws, "%s.to_v.weight", prefix);
    a->v_b = vae_wt(W, VAE_INIT_BIAS, 1, bs, "%s.to_v.bias", prefix);
    a->o_w = vae_wt(W, VAE_INIT_FANIN, 2, ws, "%s.to_out.0.weight", prefix);
    a->o_b = vae_wt(W, VAE_INIT_BIAS, 1, bs, "%s.to_out.0.bias", prefix);
}

static void vae_mid_decl(vae_wctx *W, vae_mid *m, const char *prefix, int c, int groups) {
    char n[VAE_NAME_LEN];
    for (int i = 0; i < 2; i++) {
        snprintf(n, sizeof n, "%s.resnets.%d", prefix, i);
        vae_resnet_decl(W, &m->resnets[i], n, c, c, groups);
    }
    snprintf(n, sizeof n, "%s.attentions.0", prefix);
    vae_attn_decl(W, &m->attn, n, c, groups);
}

static pf_status vae_block_resnets(vae_block *b, int n) {
    b->n_resnets = n;
    b->resnets = pf_calloc((size_t)n, sizeof *b->resnets, "VAE resnets");
    return b->resnets ? PF_OK : PF_ERR_OOM;
}

static pf_status vae_encoder_decl(vae_wctx *W, vae_encoder *e, const pf_vae_config *c) {
    char n[VAE_NAME_LEN];
    int G = c->norm_groups;
    vae_conv_decl(W, &e->conv_in, "encoder.conv_in", c->in_channels, c->enc_channels[0], 3, 1, 1, 1);
    for (int i = 0; i < VAE_BLOCKS; i++) {
        vae_block *b = &e->down[i];
        int ci = i ? c->enc_channels[i - 1] : c->enc_channels[0], co = c->enc_channels[i];
        PF_TRY(vae_block_resnets(b, c->enc_layers[i]));
        for (int r = 0; r < b->n_resnets; r++) {
            snprintf(n, sizeof n, "encoder.down_blocks.%d.resnets.%d", i, r);
            vae_resnet_decl(W, &b->resnets[r], n, r ? co : ci, co, G);
        }
        b->spatial = c->enc_spatial_down[i];
        b->temporal = c->enc_temporal_down[i];
        if (b->spatial) { /* CausalDownsample2x: stride (1, 2, 2) */
            snprintf(n, sizeof n, "encoder.down_blocks.%d.downsamplers.0.conv", i);
            vae_conv_decl(W, &b->sampler, n, co, co, 3, 1, 2, 2);
        }
        if (b->temporal) { /* CausalTemporalDownsample2x: stride (2, 1, 1) */
            snprintf(n, sizeof n, "encoder.down_blocks.%d.temporal_downsamplers.0.conv", i);
            vae_conv_decl(W, &b->temporal_sampler, n, co, co, 3, 2, 1, 1);
        }
    }
    int top = c->enc_channels[VAE_BLOCKS - 1];
    vae_mid_decl(W, &e->mid, "encoder.mid_block", top, G);
    vae_norm_decl(W, &e->conv_norm_out, "encoder.conv_norm_out", top, G);
    vae_conv_decl(W, &e->conv_out, "encoder.conv_out", top, 2 * c->latent_channels, 3, 1, 1, 1);
    return PF_OK;
}

static pf_status vae_decoder_decl(vae_wctx *W, vae_decoder *d, const pf_vae_config *c) {
    char n[VAE_NAME_LEN];
    int G = c->dec_norm_groups, top = c->dec_channels[VAE_BLOCKS - 1];
    vae_conv_decl(W, &d->conv_in, "decoder.conv_in", c->latent_channels, top, 3, 1, 1, 1);
    vae_mid_decl(W, &d->mid, "decoder.mid_block", top, G);
    int prev = top;
    for (int i = 0; i < VAE_BLOCKS; i++) {
        vae_block *b = &d->up[i];
        int co = c->dec_channels[VAE_BLOCKS - 1 - i]; /* reversed block_out_channels */
        PF_TRY(vae_block_resnets(b, c->dec_layers[i]));
        for (int r = 0; r < b->n_resnets; r++) {
            snprintf(n, sizeof n, "decoder.up_blocks.%d.resnets.%d", i, r);
            vae_resnet_decl(W, &b->resnets[r], n, r ? co : prev, co, G);
        }
        b->spatial = c->dec_spatial_up[i];
        b->temporal = c->dec_temporal_up[i];
        if (b->spatial) { /* CausalUpsample2x: conv to 4 co, then depth-to-space (c p1 p2) */
            snprintf(n, sizeof n, "decoder.up_blocks.%d.upsamplers.0.conv", i);
            vae_conv_decl(W, &b->sampler, n, co, 4 * co, 3, 1, 1, 1);
        }
        if (b->temporal) { /* CausalTemporalUpsample2x: conv to 2 co, then (c p) -> frames */
            snprintf(n, sizeof n, "decoder.up_blocks.%d.temporal_upsamplers.0.conv", i);
            vae_conv_decl(W, &b->temporal_sampler, n, co, 2 * co, 3, 1, 1, 1);
        }
        prev = co;
    }
    vae_norm_decl(W, &d->conv_norm_out, "decoder.conv_norm_out", c->dec_channels[0], G);
    vae_conv_decl(W, &d->conv_out, "decoder.conv_out", c->dec_channels[0], c->out_channels, 3, 1, 1, 1);
    return PF_OK;
}

pf_status vae_weights_build(pf_vae *vae, vae_w_mode mode, pf_loader *L, uint64_t seed) {
    vae_wctx W = {.vae = vae, .mode = mode, .L = L, .rand = {.seed = seed ^ 0x5641452d77656967ull}};
    const pf_vae_config *c = &vae->cfg;
    int lat = c->latent_channels;
    pf_status rc = vae_encoder_decl(&W, &vae->enc, c);
    if (rc == PF_OK) rc = vae_decoder_decl(&W, &vae->dec, c);
    if (rc == PF_OK) {
        vae_conv_decl(&W, &vae->quant_conv, "quant_conv", 2 * lat, 2 * lat, 1, 1, 1, 1);
        vae_conv_decl(&W, &vae->post_quant_conv, "post_quant_conv", lat, lat, 1, 1, 1, 1);
    }
    pf_random_fill_free(&W.rand);
    if (rc != PF_OK) return pf_error(rc, "VAE: out of host memory declaring the model");
    return W.status;
}
