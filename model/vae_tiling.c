/*
 * The official tiling (CausalVideoVAE.tiled_decode / tiled_encode, overlap factor
 * 1/4 since commit 0105b51) and the temporal chunk split (chunk_decode /
 * chunk_encode).
 *
 * Decode: tiles of tile/8 latents start every int(tile/8 * 3/4) latents; each
 * decoded tile is blended with the tile above and the tile to its left over
 * int(tile/4) pixels, then cropped to tile - int(tile/4) pixels.
 * Encode: tiles of `tile` pixels start every int(tile * 3/4) pixels; blends over
 * int(tile/8 / 4) latents and crops to tile/8 minus that.
 * Edge tiles are shorter; blend extents are clipped to the smaller tile.
 */
#include "vae_internal.h"

static void vae_axis_free(vae_axis *a) {
    free(a->start);
    free(a->len);
    free(a->out_len);
    free(a->crop);
    memset(a, 0, sizeof *a);
}

void vae_tiling_free(vae_tiling *t) {
    vae_axis_free(&t->rows);
    vae_axis_free(&t->cols);
}

/* Tiles of at most `tile` input units every `stride` over n; out(len) maps a tile's
 * input length to its output length. */
static pf_status vae_axis_make(vae_axis *a, int64_t n, int64_t tile, int64_t stride, int64_t limit,
                               int64_t (*out)(const pf_vae *, int64_t), const pf_vae *vae, int64_t scale) {
    memset(a, 0, sizeof *a);
    a->n = (int)((n + stride - 1) / stride);
    a->start = pf_calloc((size_t)a->n, sizeof(int64_t), "VAE tiles");
    a->len = pf_calloc((size_t)a->n, sizeof(int64_t), "VAE tiles");
    a->out_len = pf_calloc((size_t)a->n, sizeof(int64_t), "VAE tiles");
    a->crop = pf_calloc((size_t)a->n, sizeof(int64_t), "VAE tiles");
    if (!a->start || !a->len || !a->out_len || !a->crop) {
        vae_axis_free(a);
        return PF_ERR_OOM;
    }
    for (int i = 0; i < a->n; i++) {
        a->start[i] = (int64_t)i * stride;
        a->len[i] = PF_MIN(tile, n - a->start[i]);
        a->out_len[i] = out ? out(vae, a->len[i]) : a->len[i] * scale;
        a->crop[i] = PF_MIN(limit, a->out_len[i]);
        a->total += a->crop[i];
    }
    return PF_OK;
}

/* One tile covering the whole axis (tiling off or not needed). */
static pf_status vae_axis_single(vae_axis *a, int64_t n, int64_t (*out)(const pf_vae *, int64_t), const pf_vae *vae,
                                 int64_t scale) {
    PF_TRY(vae_axis_make(a, n, n, n, INT64_MAX, out, vae, scale));
    return PF_OK;
}

pf_status vae_tiling_decode(const pf_vae *vae, int64_t h, int64_t w, const pf_vae_opts *o, vae_tiling *t) {
    memset(t, 0, sizeof *t);
    int64_t ts = o->tile_sample_min_size;
    /* int(tile_sample_min_size / downsample_scale), as Python truncates */
    int64_t tl = ts / vae->downsample_scale;
    t->tiled = o->tiling && (w > tl || h > tl);
    if (!t->tiled) {
        pf_status rc = vae_axis_single(&t->rows, h, NULL, vae, vae->sf_dec);
        if (rc == PF_OK) rc = vae_axis_single(&t->cols, w, NULL, vae, vae->sf_dec);
        if (rc != PF_OK) vae_tiling_free(t);
        return rc;
    }
    int64_t stride = (int64_t)((double)tl * (1.0 - 0.25)); /* overlap_size */
    t->blend = (int64_t)((double)ts * 0.25);               /* blend_extent, pixels */
    t->limit = ts - t->blend;                              /* row_limit, pixels */
    if (tl < 1 || stride < 1)
        return pf_error(PF_ERR_INVALID_ARG,
                        "VAE decode: tile size %lld px is too small (tiles of %lld latents would not advance; "
                        "at least %d px)",
                        (long long)ts, (long long)tl, 2 * vae->downsample_scale);
    pf_status rc = vae_axis_make(&t->rows, h, tl, stride, t->limit, NULL, vae, vae->sf_dec);
    if (rc == PF_OK) rc = vae_axis_make(&t->cols, w, tl, stride, t->limit, NULL, vae, vae->sf_dec);
    if (rc != PF_OK) vae_tiling_free(t);
    return rc;
}

pf_status vae_tiling_encode(const pf_vae *vae, int64_t H, int64_t W, const pf_vae_opts *o, vae_tiling *t) {
    memset(t, 0, sizeof *t);
    int64_t ts = o->tile_sample_min_size;
    t->tiled = o->tiling && (W > ts || H > ts);
    if (!t->tiled) {
        pf_status rc = vae_axis_single(&t->rows, H, vae_encoder_size, vae, 0);
        if (rc == PF_OK) rc = vae_axis_single(&t->cols, W, vae_encoder_size, vae, 0);
        if (rc != PF_OK) vae_tiling_free(t);
        return rc;
    }
    int64_t tl = ts / vae->downsample_scale;               /* tile_latent_min_size */
    int64_t stride = (int64_t)((double)ts * (1.0 - 0.25)); /* overlap_size, pixels */
    t->blend = (int64_t)((double)tl * 0.25);               /* blend_extent, latents */
    t->limit = tl - t->blend;                              /* row_limit, latents */
    if (tl < 1 || stride < 1)
        return pf_error(PF_ERR_INVALID_ARG, "VAE encode: tile size %lld px is too small (at least %d px)",
                        (long long)ts, vae->downsample_scale);
    pf_status rc = vae_axis_make(&t->rows, H, ts, stride, t->limit, vae_encoder_size, vae, 0);
    if (rc == PF_OK) rc = vae_axis_make(&t->cols, W, ts, stride, t->limit, vae_encoder_size, vae, 0);
    if (rc != PF_OK) vae_tiling_free(t);
    return rc;
}

/* ---------------------------------------------------------------- blending */

pf_status vae_blender_init(vae_blender *b, const vae_tiling *t, int64_t planes) {
    memset(b, 0, sizeof *b);
    b->t = t;
    b->planes = planes;
    if (!t->tiled || t->blend <= 0) return PF_OK;
    int nc = t->cols.n;
    int64_t max_h = 0, max_w = 0;
    for (int i = 0; i < t->rows.n; i++) max_h = PF_MAX(max_h, t->rows.out_len[i]);
    for (int j = 0; j < nc; j++) max_w = PF_MAX(max_w, t->cols.out_len[j]);
    int64_t sr = PF_MIN(t->blend, max_h), sc = PF_MIN(t->blend, max_w);
    b->bottom = pf_calloc((size_t)nc, sizeof *b->bottom, "VAE blend strips");
    b->bottom_rows = pf_calloc((size_t)nc, sizeof(int64_t), "VAE blend strips");
    b->bottom_w = pf_calloc((size_t)nc, sizeof(int64_t), "VAE blend strips");
    b->right = pf_malloc((size_t)(planes * max_h * sc) * sizeof(float), "VAE blend strip");
    if (!b->bottom || !b->bottom_rows || !b->bottom_w || !b->right) goto oom;
    for (int j = 0; j < nc; j++) {
        b->bottom[j] = pf_malloc((size_t)(planes * sr * t->cols.out_len[j]) * sizeof(float), "VAE blend strip");
        if (!b->bottom[j]) goto oom;
        b->host_bytes += (size_t)(planes * sr * t->cols.out_len[j]) * sizeof(float);
    }
    b->host_bytes += (size_t)(planes * max_h * sc) * sizeof(float);
    return PF_OK;
oom:
    vae_blender_free(b);
    return PF_ERR_OOM;
}

void vae_blender_free(vae_blender *b) {
    if (b->bottom)
        for (int j = 0; j < b->t->cols.n; j++) free(b->bottom[j]);
    free(b->bottom);
    free(b->bottom_rows);
    free(b->bottom_w);
    free(b->right);
    memset(b, 0, sizeof *b);
}

/* b = a * (1 - y/e) + b * (y/e): both weights rounded to f32 and each product
 * rounded, as PyTorch evaluates a float tensor times a Python float. */
static inline float vae_blend1(float a, float bv, int64_t y, int64_t e) {
    float wa = (float)(1.0 - (double)y / (double)e), wb = (float)((double)y / (double)e);
    float pa = a * wa, pb = bv * wb;
    return pa + pb;
}

void vae_blender_put(vae_blender *b, int i, int j, float *tile, float *out) {
    const vae_tiling *t = b->t;
    int64_t th = t->rows.out_len[i], tw = t->cols.out_len[j], P = b->planes;
    if (t->tiled && t->blend > 0) {
        if (i > 0) { /* blend_v with the (blended) tile above: its last rows */
            int64_t sr = b->bottom_rows[j], e = PF_MIN(sr, th);
            for (int64_t p = 0; p < P; p++)
                for (int64_t y = 0; y < e; y++) {
                    const float *a = b->bottom[j] + (p * sr + sr - e + y) * tw;
                    float *r = tile + (p * th + y) * tw;
                    for (int64_t x = 0; x < tw; x++) r[x] = vae_blend1(a[x], r[x], y, e);
                }
        }
        if (j > 0) { /* blend_h with the (blended) tile to the left: its last columns */
            int64_t sc = b->right_cols, e = PF_MIN(sc, tw);
            for (int64_t p = 0; p < P; p++)
                for (int64_t y = 0; y < th; y++) {
                    const float *a = b->right + (p * th + y) * sc + sc - e;
                    float *r = tile + (p * th + y) * tw;
                    for (int64_t x = 0; x < e; x++) r[x] = vae_blend1(a[x], r[x], x, e);
                }
        }
        /* keep what the tiles below and to the right will blend with */
        int64_t sr = PF_MIN(t->blend, th), sc = PF_MIN(t->blend, tw);
        for (int64_t p = 0; p < P; p++) {
            memcpy(b->bottom[j] + p * sr * tw, tile + (p * th + th - sr) * tw, (size_t)(sr * tw) * sizeof(float));
            for (int64_t y = 0; y < th; y++)
                memcpy(b->right + (p * th + y) * sc, tile + (p * th + y) * tw + tw - sc, (size_t)sc * sizeof(float));
        }
        b->bottom_rows[j] = sr;
        b->bottom_w[j] = tw;
        b->right_cols = sc;
    }
    /* crop to row_limit and place: rows and columns of earlier tiles come first */
    int64_t oy = 0, ox = 0, OH = t->rows.total, OW = t->cols.total;
    for (int k = 0; k < i; k++) oy += t->rows.crop[k];
    for (int k = 0; k < j; k++) ox += t->cols.crop[k];
    int64_t ch = t->rows.crop[i], cw = t->cols.crop[j];
    for (int64_t p = 0; p < P; p++)
        for (int64_t y = 0; y < ch; y++)
            memcpy(out + (p * OH + oy + y) * OW + ox, tile + (p * th + y) * tw, (size_t)cw * sizeof(float));
}

/* ---------------------------------------------------------------- chunks */

pf_status vae_chunks_make(int64_t T, bool chunked, int window, vae_chunks *c) {
    memset(c, 0, sizeof *c);
    int64_t first = chunked ? PF_MIN((int64_t)window + 1, T) : T;
    int64_t full = chunked && T > first ? (T - first) / window : 0;
    int64_t rest = T - first - full * window;
    int64_t n = 1 + full + (rest > 0 ? 1 : 0);
    if (n > INT32_MAX) return pf_error(PF_ERR_INVALID_ARG, "VAE: %lld chunks", (long long)n);
    c->n = (int)n;
    c->start = pf_calloc((size_t)n, sizeof(int64_t), "VAE chunks");
    c->len = pf_calloc((size_t)n, sizeof(int64_t), "VAE chunks");
    if (!c->start || !c->len) {
        vae_chunks_free(c);
        return PF_ERR_OOM;
    }
    c->len[0] = first;
    for (int64_t k = 0; k < full; k++) {
        c->start[1 + k] = first + k * window;
        c->len[1 + k] = window;
    }
    if (rest > 0) {
        c->start[n - 1] = T - rest;
        c->len[n - 1] = rest;
    }
    return PF_OK;
}

void vae_chunks_free(vae_chunks *c) {
    free(c->start);
    free(c->len);
    memset(c, 0, sizeof *c);
}
