/*
 * DiT embeddings (facts §3.2, §3.4):
 *  - the timestep sinusoid (get_timestep_embedding, flip_sin_to_cos, shift 0), host f32;
 *  - RoPE positions per token (running frame index; y/x in the current clip's grid,
 *    linearly interpolated for smaller history clips) and the rotary table, angles in
 *    double as the official rope();
 *  - SD3: the 2-D sin-cos table (get_2d_sincos_pos_embed), its centre crop for the
 *    current clip and the bilinear resize of that crop for smaller clips;
 *  - patch packing / unpacking and the image-token embedding of both variants.
 */
#include "dit_internal.h"

/* ------------------------------------------------------------------ host tables */

void dit_timestep_proj(const float *t, int batch, float *out) {
    const int half = DIT_TIME_PROJ_DIM / 2;
    /* exponent = -ln(10000) * arange(half) / (half - 0), all f32 as in torch */
    const float neg_log = (float)-9.210340371976184; /* -math.log(10000) */
    for (int b = 0; b < batch; b++) {
        for (int j = 0; j < half; j++) {
            float expo = neg_log * (float)j / (float)half;
            float freq = expf(expo);
            float arg = t[b] * freq;
            /* [sin | cos] flipped to [cos | sin] */
            out[b * DIT_TIME_PROJ_DIM + j] = (float)cos((double)arg);
            out[b * DIT_TIME_PROJ_DIM + half + j] = (float)sin((double)arg);
        }
    }
}

void dit_interp_arange(int n_in, int n_out, float *out) {
    /* torch upsample_linear1d, align_corners=False, on arange(n_in) (f32 arithmetic) */
    if (n_in == n_out) {
        for (int i = 0; i < n_out; i++) out[i] = (float)i;
        return;
    }
    float scale = (float)n_in / (float)n_out;
    for (int i = 0; i < n_out; i++) {
        float src = scale * ((float)i + 0.5f) - 0.5f;
        if (src < 0.0f) src = 0.0f;
        int i0 = (int)src;
        int i1 = i0 + (i0 < n_in - 1 ? 1 : 0);
        float l1 = src - (float)i0, l0 = 1.0f - l1;
        out[i] = l0 * (float)i0 + l1 * (float)i1;
    }
}

pf_status dit_rope_positions(const pf_dit *dit, const dit_layout_key *k, float *pos) {
    const int A = dit->n_axes, p = dit->cfg.patch;
    const int hc = k->h[k->n_clips - 1] / p, wc = k->w[k->n_clips - 1] / p;
    int maxh = 1, maxw = 1;
    for (int c = 0; c < k->n_clips; c++) {
        maxh = PF_MAX(maxh, k->h[c] / p);
        maxw = PF_MAX(maxw, k->w[c] / p);
    }
    float *ypos = pf_malloc((size_t)(maxh + maxw) * sizeof(float), "RoPE positions");
    if (!ypos) return PF_ERR_OOM;
    float *xpos = ypos + maxh;
    /* text ids are zeros */
    int64_t n = 0;
    for (; n < k->text_len; n++)
        for (int a = 0; a < A; a++) pos[n * A + a] = 0.0f;
    int frame = 0;
    for (int c = 0; c < k->n_clips; c++) {
        int h = k->h[c] / p, w = k->w[c] / p;
        /* y, x in the current clip's grid (train_height, train_width) */
        dit_interp_arange(hc, h, ypos);
        dit_interp_arange(wc, w, xpos);
        for (int t = 0; t < k->t[c]; t++, frame++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++, n++) {
                    pos[n * A] = (float)frame;
                    if (A == 3) {
                        pos[n * A + 1] = ypos[y];
                        pos[n * A + 2] = xpos[x];
                    }
                }
    }
    free(ypos);
    return PF_OK;
}

void dit_rope_table(const pf_dit *dit, const float *pos, int n_tokens, float *table) {
    const int A = dit->n_axes, P = dit->cfg.head_dim / 2;
    /* omega_j = 1 / theta^(2j / d) per axis, in double (rope(): arange(0, d, 2, float64) / d) */
    double omega[512];
    int axis_of[512];
    int p = 0;
    for (int a = 0; a < A; a++)
        for (int j = 0; j < dit->axes_dim[a] / 2 && p < 512; j++, p++) {
            omega[p] = 1.0 / pow(DIT_ROPE_THETA, (double)(2 * j) / (double)dit->axes_dim[a]);
            axis_of[p] = a;
        }
    for (int n = 0; n < n_tokens; n++)
        for (int j = 0; j < P; j++) {
            double ang = (double)pos[n * A + axis_of[j]] * omega[j];
            table[((int64_t)n * P + j) * 2] = (float)cos(ang);
            table[((int64_t)n * P + j) * 2 + 1] = (float)sin(ang);
        }
}

void dit_sincos_table(int dim, int grid, int base_size, float *out) {
    /* get_2d_sincos_pos_embed(dim, grid, base_size=base_size, interpolation_scale=1):
     * grid coordinate = arange(grid, f32) / f32(grid / base_size); the first dim/2 channels
     * encode the column (meshgrid(w, h) puts w first), the last dim/2 the row; each half is
     * [sin(p * omega) | cos(p * omega)] with omega_j = 1 / 10000^(j / (dim / 4)), in double. */
    const int q = dim / 4;
    const float step = (float)((double)grid / (double)base_size);
    double *omega = pf_malloc((size_t)q * sizeof(double), "sin-cos table");
    if (!omega) return;
    for (int j = 0; j < q; j++) omega[j] = 1.0 / pow(10000.0, (double)j / ((double)dim / 4.0));
    for (int r = 0; r < grid; r++) {
        double gh = (double)((float)r / step);
        for (int c = 0; c < grid; c++) {
            double gw = (double)((float)c / step);
            float *row = out + ((int64_t)r * grid + c) * dim;
            for (int j = 0; j < q; j++) {
                row[j] = (float)sin(gw * omega[j]);
                row[q + j] = (float)cos(gw * omega[j]);
                row[2 * q + j] = (float)sin(gh * omega[j]);
                row[3 * q + j] = (float)cos(gh * omega[j]);
            }
        }
    }
    free(omega);
}

/* One axis of torch's bilinear interpolation (compute_source_index_and_lambda, f32). */
static void dit_bilinear_axis(int n_in, int n_out, int i, int *i0, int *i1, float *l0, float *l1) {
    if (n_in == n_out) {
        *i0 = *i1 = i;
        *l0 = 1.0f;
        *l1 = 0.0f;
        return;
    }
    float scale = (float)n_in / (float)n_out;
    float src = scale * ((float)i + 0.5f) - 0.5f;
    if (src < 0.0f) src = 0.0f;
    int a = (int)src;
    if (a > n_in - 1) a = n_in - 1;
    *i0 = a;
    *i1 = a + (a < n_in - 1 ? 1 : 0);
    float l = src - (float)a;
    *l1 = l < 0.0f ? 0.0f : l > 1.0f ? 1.0f : l;
    *l0 = 1.0f - *l1;
}

void dit_resize_bilinear(const float *in, int hi, int wi, int C, int ho, int wo, float *out) {
    /* F.interpolate(mode='bilinear', align_corners=False) on the permuted crop, which is
     * channels-last in memory: out = w00 x00 + w01 x01 + w10 x10 + w11 x11 per channel */
    for (int oy = 0; oy < ho; oy++) {
        int y0, y1;
        float hy0, hy1;
        dit_bilinear_axis(hi, ho, oy, &y0, &y1, &hy0, &hy1);
        for (int ox = 0; ox < wo; ox++) {
            int x0, x1;
            float wx0, wx1;
            dit_bilinear_axis(wi, wo, ox, &x0, &x1, &wx0, &wx1);
            float w00 = hy0 * wx0, w01 = hy0 * wx1, w10 = hy1 * wx0, w11 = hy1 * wx1;
            const float *p00 = in + ((int64_t)y0 * wi + x0) * C, *p01 = in + ((int64_t)y0 * wi + x1) * C;
            const float *p10 = in + ((int64_t)y1 * wi + x0) * C, *p11 = in + ((int64_t)y1 * wi + x1) * C;
            float *o = out + ((int64_t)oy * wo + ox) * C;
            for (int c = 0; c < C; c++) o[c] = w00 * p00[c] + w01 * p01[c] + w10 * p10[c] + w11 * p11[c];
        }
    }
}

/* ------------------------------------------------------------------ SD3 position tables */

/* Fill t [hi, wi, D] with the centre crop for the current grid (hc, wc), resized. */
static pf_status dit_pos_fill(pf_dit *dit, int hc, int wc, int hi, int wi, pf_tensor *t) {
    const int S = dit->cfg.pos_embed_max_size, D = dit->cfg.hidden;
    if (!dit->pos_host) { /* the file's table, downloaded once */
        size_t n = (size_t)S * S * D;
        dit->pos_host = pf_malloc(n * sizeof(float), "SD3 pos_embed host copy");
        if (!dit->pos_host) return PF_ERR_OOM;
        pf_status rc = pf_tensor_get(dit->pos_embed, dit->pos_host, n * sizeof(float));
        if (rc != PF_OK) {
            free(dit->pos_host);
            dit->pos_host = NULL;
            return rc;
        }
    }
    int top = (S - hc) / 2, left = (S - wc) / 2;
    float *crop = pf_malloc(((size_t)hc * wc + (size_t)hi * wi) * D * sizeof(float), "SD3 position crop");
    if (!crop) return PF_ERR_OOM;
    float *res = crop + (size_t)hc * wc * D;
    for (int y = 0; y < hc; y++)
        memcpy(crop + (size_t)y * wc * D, dit->pos_host + ((size_t)(top + y) * S + left) * D,
               (size_t)wc * D * sizeof(float));
    dit_resize_bilinear(crop, hc, wc, D, hi, wi, res);
    pf_status rc = pf_tensor_set(t, res, (size_t)hi * wi * D * sizeof(float));
    free(crop);
    return rc;
}

pf_status dit_pos_table(pf_dit *dit, int hc, int wc, int hi, int wi, pf_tensor **out) {
    *out = NULL;
    for (int i = 0; i < dit->n_pos_cache; i++) {
        dit_pos_entry *e = &dit->pos_cache[i];
        if (e->hc == hc && e->wc == wc && e->hi == hi && e->wi == wi) {
            *out = e->table;
            return PF_OK;
        }
    }
    if (!dit->table_pool) PF_TRY(pf_pool_create(dit->be, (size_t)16 << 20, &dit->table_pool));
    int64_t ne[3] = {hi, wi, dit->cfg.hidden};
    char name[PF_NAME_LEN];
    snprintf(name, sizeof name, "pos_embed %dx%d->%dx%d", hc, wc, hi, wi);
    pf_tensor *t = pf_pool_tensor(dit->table_pool, PF_F32, 3, ne, name);
    if (!t) return PF_ERR_OOM;
    /* the meta backend holds sizes only */
    if (!pf_backend_is_meta(dit->be)) PF_TRY(dit_pos_fill(dit, hc, wc, hi, wi, t));
    dit_pos_entry *ne2 = realloc(dit->pos_cache, (size_t)(dit->n_pos_cache + 1) * sizeof *ne2);
    if (!ne2) return pf_error(PF_ERR_OOM, "out of host memory (position tables)");
    dit->pos_cache = ne2;
    dit->pos_cache[dit->n_pos_cache++] = (dit_pos_entry){hc, wc, hi, wi, t};
    *out = t;
    return PF_OK;
}

/* ------------------------------------------------------------------ graph: patches */

static pf_tensor *dit_copy_as(pf_graph *g, pf_tensor *x, pf_dtype dt) {
    return x && x->dtype != dt ? pf_cast(g, x, dt) : pf_copy(g, x);
}

pf_tensor *dit_patchify(pf_graph *g, pf_tensor *x, int p, bool c_last, pf_dtype dt) {
    if (!x) return pf_graph_fail(g, PF_ERR_INVALID_ARG, "patchify: NULL clip");
    int64_t B = x->ne[0], C = x->ne[1], T = x->ne[2], H = x->ne[3], W = x->ne[4], h = H / p, w = W / p;
    /* [B, C, T, H, W] as [B, C, T*h, p1, W]: a frame's rows split into (h, p1) */
    int64_t vne[5] = {B, C, T * h, p, W}, vst[5] = {C * T * H * W, T * H * W, p * W, W, 1};
    pf_tensor *v = pf_view(g, x, 5, vne, vst, 0);
    pf_tensor *t;
    if (c_last) {
        /* miniFLUX 'b c t (h p1) (w p2) -> b (t h w) (p1 p2 c)' */
        static const int perm1[5] = {0, 2, 3, 4, 1};
        pf_tensor *a = dit_copy_as(g, pf_permute(g, v, perm1), dt); /* [B, T*h, p1, W, C] */
        int64_t ane[4] = {B * T * h, p, w, p * C};                  /* W*C = (w, p2, c) */
        static const int perm2[4] = {0, 2, 1, 3};
        t = pf_copy(g, pf_permute(g, pf_reshape(g, a, 4, ane), perm2)); /* [B*T*h, w, p1, p2*C] */
    } else {
        /* SD3 Conv2d patches in the weight's (c, p1, p2) order */
        static const int perm1[5] = {0, 2, 1, 3, 4};
        pf_tensor *a = dit_copy_as(g, pf_permute(g, v, perm1), dt); /* [B, T*h, C, p1, W] */
        int64_t ane[5] = {B * T * h, C, p, w, p};
        static const int perm2[5] = {0, 3, 1, 2, 4};
        t = pf_copy(g, pf_permute(g, pf_reshape(g, a, 5, ane), perm2)); /* [B*T*h, w, C, p1, p2] */
    }
    int64_t one[3] = {B, T * h * w, (int64_t)p * p * C};
    return pf_reshape(g, t, 3, one);
}

pf_tensor *dit_unpatchify(pf_graph *g, pf_tensor *tok, int C, int T, int h, int w, int p, pf_dtype dt) {
    if (!tok) return NULL;
    int64_t B = tok->ne[0];
    /* 'b (t h w) (p1 p2 c) -> b c t (h p1) (w p2)' in two transposes */
    int64_t une[4] = {B * T * h, w, p, (int64_t)p * C};
    static const int perm1[4] = {0, 2, 1, 3};
    pf_tensor *a = pf_copy(g, pf_permute(g, pf_reshape(g, tok, 4, une), perm1)); /* [B, T, H, W, C] */
    int64_t ane[4] = {B, T, (int64_t)h * p * w * p, C};
    static const int perm2[4] = {0, 3, 1, 2};
    return dit_copy_as(g, pf_permute(g, pf_reshape(g, a, 4, ane), perm2), dt); /* [B, C, T, H*W] */
}

/* ------------------------------------------------------------------ graph: image tokens */

pf_tensor *dit_embed_image(dit_build *bd) {
    pf_dit *dit = bd->dit;
    pf_graph *g = bd->g;
    const dit_layout_key *k = &bd->lay->key;
    const pf_dit_config *c = &dit->cfg;
    const int p = c->patch, nc = k->n_clips;
    pf_tensor *parts[PF_DIT_MAX_CLIPS];
    if (c->variant == PF_DIT_FLUX) {
        /* merge_input: pack every clip, concatenate, then one x_embedder */
        for (int i = 0; i < nc; i++) parts[i] = dit_patchify(g, bd->lay->clip_slot[i], p, true, dit->act);
        return dit_lin(bd, pf_concat(g, parts, nc, 1), &dit->x_embedder);
    }
    /* PatchEmbed3D: Conv2d(kernel p, stride p) per frame == linear over (c, p1, p2) patches,
     * plus the sin-cos table cropped around the centre to the current clip's grid */
    const int S = c->pos_embed_max_size, D = c->hidden;
    const int hc = k->h[nc - 1] / p, wc = k->w[nc - 1] / p;
    int64_t wne[2] = {D, (int64_t)c->in_channels * p * p};
    pf_tensor *wv = pf_reshape(g, dit->patch_proj.w, 2, wne);
    for (int i = 0; i < nc; i++) {
        int h = k->h[i] / p, w = k->w[i] / p, T = k->t[i];
        pf_tensor *e = pf_linear(g, dit_patchify(g, bd->lay->clip_slot[i], p, false, dit->act), wv, dit->patch_proj.b);
        int64_t e4[4] = {(int64_t)bd->B * T, h, w, D};
        pf_tensor *pos;
        if (h == hc && w == wc) {
            int64_t pne[3] = {hc, wc, D}, pst[3] = {(int64_t)S * D, D, 1};
            pos = pf_view(g, dit->pos_embed, 3, pne, pst, ((int64_t)((S - hc) / 2) * S + (S - wc) / 2) * D);
        } else {
            pf_status rc = dit_pos_table(dit, hc, wc, h, w, &pos);
            if (rc != PF_OK)
                return pf_graph_fail(g, rc, "SD3 position table %dx%d -> %dx%d: %s", hc, wc, h, w, pf_last_error());
        }
        int64_t e3[3] = {bd->B, (int64_t)T * h * w, D};
        parts[i] = pf_reshape(g, pf_add(g, pf_reshape(g, e, 4, e4), pos), 3, e3);
    }
    return pf_concat(g, parts, nc, 1);
}
